//! CAdES B-LT (ETSI EN 319 122-1 §5.5 / baseline B-LT): the certificates and
//! revocation data needed to validate the signature later, embedded in
//! `SignedData.certificates` and `SignedData.crls` (CRLs, and OCSP responses
//! as `id-ri-ocsp-response`, RFC 5940).

use std::time::SystemTime;

use der::asn1::{Any, SetOfVec};
use der::{Decode, Encode};
use x509_cert::Certificate;

use crate::asn1::{
    CertificateChoices, OtherRevocationInfoFormat, RevocationInfoChoice, SignedData,
};
use crate::builder::with_certificates;
use crate::chain::{self, RevocationValues};
use crate::revocation::RevocationSource;
use crate::{CadesError, extend, oid, verify};

fn certificates(signed: &SignedData) -> Vec<Certificate> {
    signed
        .certificates
        .iter()
        .flat_map(|s| s.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// Adds the validation data of every signer (and of the TSA of every
/// signature and archive time-stamp) to `signature`: each path to `anchors` (judged at
/// `at`), and revocation data from `source` for every certificate on it
/// except the anchor. Fails, changing nothing, if a path or revocation
/// data cannot be had.
pub fn add_validation_data(
    signature: &[u8],
    anchors: &[Certificate],
    source: &dyn RevocationSource,
    at: SystemTime,
) -> Result<Vec<u8>, CadesError> {
    let mut signed = extend::parse(signature)?;
    let pool = certificates(&signed);
    let mut paths: Vec<Vec<Certificate>> = Vec::new();
    for info in signed.signer_infos.0.iter() {
        let leaf = verify::find_signer(&info.sid, &pool).ok_or(CadesError::NotExtendable {
            reason: "a signer's certificate is not in the signature",
        })?;
        let (path, _) = chain::validate(leaf, &pool, anchors, RevocationValues::default(), at)
            .map_err(|_| CadesError::NotExtendable {
                reason: "no path from a signer to the trust anchors",
            })?;
        paths.push(path);
        for attr in info.unsigned_attrs.iter().flat_map(|a| a.iter()) {
            if attr.oid != oid::ID_AA_TIME_STAMP_TOKEN
                && attr.oid != oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3
            {
                continue;
            }
            for value in attr.values.iter() {
                let token = extend::parse(&value.to_der()?)?;
                let token_pool: Vec<Certificate> = certificates(&token)
                    .into_iter()
                    .chain(pool.iter().cloned())
                    .collect();
                let tsa_info =
                    token
                        .signer_infos
                        .0
                        .iter()
                        .next()
                        .ok_or(CadesError::NotExtendable {
                            reason: "a time-stamp token has no signer",
                        })?;
                let tsa = verify::find_signer(&tsa_info.sid, &token_pool).ok_or(
                    CadesError::NotExtendable {
                        reason: "a TSA certificate is missing",
                    },
                )?;
                let (path, _) =
                    chain::validate(tsa, &token_pool, anchors, RevocationValues::default(), at)
                        .map_err(|_| CadesError::NotExtendable {
                            reason: "no path from a TSA to the trust anchors",
                        })?;
                paths.push(path);
            }
        }
    }
    let mut all_certs = pool.clone();
    let mut revocation: Vec<RevocationInfoChoice> =
        signed.crls.iter().flat_map(|s| s.iter().cloned()).collect();
    for path in &paths {
        all_certs.extend(path.iter().cloned());
        for pair in path.windows(2) {
            let data = source.revocation_data(&pair[0], &pair[1])?;
            revocation.extend(
                data.crls
                    .into_iter()
                    .map(|crl| RevocationInfoChoice::Crl(crate::asn1::Crl(crl))),
            );
            for response in data.ocsp_responses {
                revocation.push(RevocationInfoChoice::Other(OtherRevocationInfoFormat {
                    other_rev_info_format: oid::ID_RI_OCSP_RESPONSE,
                    other_rev_info: Any::from_der(&response)?,
                }));
            }
        }
    }
    let mut set = SetOfVec::new();
    for choice in revocation {
        if !set.iter().any(|c| *c == choice) {
            set.insert(choice)?;
        }
    }
    signed.certificates = Some(with_certificates(signed.certificates.as_ref(), all_certs)?);
    signed.crls = (!set.is_empty()).then_some(set);
    extend::reencode(signature, &signed)
}
