//! Many detached B-B signatures by one signer at one signing time: the
//! batch one activation authorizes.
//!
//! Every part of such a signature but the message-digest attribute and the
//! signature value is the same across the batch: the other signed
//! attributes, the certificates, the signer identifier, the algorithm
//! identifiers. [`SignatureTemplate`] encodes them once, with the same
//! builder as [`crate::prepare`], and then makes each signature from its
//! digest with one small encoding, one sorted insert and a concatenation.
//! Its output is byte for byte what [`crate::prepare`] and
//! [`crate::PreparedSignature::complete`] give for the same parameters.

use std::cmp::Ordering;
use std::time::SystemTime;

use der::Encode;
use ssa_types::{HashAlgorithm, SignatureAlgorithm};
use x509_cert::Certificate;

use crate::CadesError;
use crate::algorithm::signer_digest;
use crate::builder::{SignatureParameters, SignedAttributeOptions, prepare};
use crate::oid;

const SET: u8 = 0x31;
const SEQUENCE: u8 = 0x30;
const OCTET_STRING: u8 = 0x04;
const CONTEXT_0: u8 = 0xA0;

/// The fixed parts of the detached B-B signatures of one batch.
#[derive(Clone, Debug)]
pub struct SignatureTemplate {
    algorithm: SignatureAlgorithm,
    hash: HashAlgorithm,
    /// Every signed attribute but message-digest, each DER-encoded, sorted.
    fixed_attributes: Vec<Vec<u8>>,
    /// `SignedData` up to its `signerInfos`: version, digest algorithms,
    /// encapsulated content info, certificates.
    signed_data_head: Vec<u8>,
    /// `SignerInfo` up to its signed attributes: version, sid, digest algorithm.
    signer_info_head: Vec<u8>,
    /// `SignerInfo.signatureAlgorithm`.
    signature_algorithm: Vec<u8>,
    /// DER of id-messageDigest and of id-signedData, encoded once.
    message_digest_oid: Vec<u8>,
    signed_data_oid: Vec<u8>,
}

/// The data to be signed for one digest of a batch: the DER `SET OF
/// Attribute` of its signed attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateDtbs(Vec<u8>);

impl AsRef<[u8]> for TemplateDtbs {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl SignatureTemplate {
    /// Fixes what the signatures of a batch share. `options` are the
    /// optional signed attributes; the content is detached.
    pub fn new(
        certificate: &Certificate,
        chain: &[Certificate],
        algorithm: SignatureAlgorithm,
        signing_time: SystemTime,
        options: SignedAttributeOptions,
    ) -> Result<Self, CadesError> {
        let hash = signer_digest(algorithm);
        let placeholder = vec![0u8; hash.digest_len()];
        // The builder itself makes every part, so the two can never differ
        // in what they sign; only the message digest is cut out here.
        let prepared = prepare(&SignatureParameters {
            certificate,
            chain,
            algorithm,
            hash,
            digest: &placeholder,
            signing_time,
            content: None,
            options,
        })?;
        let parts = prepared.parts()?;
        let mut fixed_attributes = Vec::with_capacity(parts.attributes.len());
        for attribute in &parts.attributes {
            if attribute.oid != oid::ID_MESSAGE_DIGEST {
                fixed_attributes.push(attribute.to_der()?);
            }
        }
        fixed_attributes.sort_by(|a, b| der_set_order(a, b));
        let signed_data = parts.signed_data_without_signers;
        let head = content_of(&signed_data).ok_or(CadesError::NotExtendable {
            reason: "unexpected SignedData encoding",
        })?;
        // An empty SET OF SignerInfo closes it: cut it off.
        let signed_data_head = head
            .strip_suffix(&[SET, 0x00])
            .ok_or(CadesError::NotExtendable {
                reason: "unexpected SignedData encoding",
            })?
            .to_vec();
        Ok(Self {
            algorithm,
            hash,
            fixed_attributes,
            signed_data_head,
            signer_info_head: parts.signer_info_head,
            signature_algorithm: parts.signature_algorithm,
            message_digest_oid: oid::ID_MESSAGE_DIGEST.to_der()?,
            signed_data_oid: oid::ID_SIGNED_DATA.to_der()?,
        })
    }

    /// The signature algorithm.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The signed attributes for `digest` (the document's digest under the
    /// signature's hash): what the signer signs.
    pub fn dtbs(&self, digest: &[u8]) -> Result<TemplateDtbs, CadesError> {
        if digest.len() != self.hash.digest_len() {
            return Err(CadesError::DigestLength {
                hash: self.hash,
                expected: self.hash.digest_len(),
                actual: digest.len(),
            });
        }
        // Attribute ::= SEQUENCE { id-messageDigest, SET { OCTET STRING } }
        let value = tlv(OCTET_STRING, &[digest]);
        let values = tlv(SET, &[&value]);
        let message_digest = tlv(SEQUENCE, &[&self.message_digest_oid, &values]);
        let at = self
            .fixed_attributes
            .partition_point(|a| der_set_order(a, &message_digest) != Ordering::Greater);
        let mut parts: Vec<&[u8]> = self.fixed_attributes.iter().map(Vec::as_slice).collect();
        parts.insert(at, &message_digest);
        Ok(TemplateDtbs(tlv(SET, &parts)))
    }

    /// The DER `ContentInfo` of the signature whose signed attributes are
    /// `dtbs` and whose value (over `dtbs`, in CMS encoding) is `signature`.
    /// The value is not checked here; [`crate::verify`] does that.
    pub fn complete(&self, dtbs: &TemplateDtbs, signature: &[u8]) -> Result<Vec<u8>, CadesError> {
        // signedAttrs is [0] IMPLICIT SET OF Attribute: the same content
        // under another tag.
        let attributes = content_of(&dtbs.0).ok_or(CadesError::NotExtendable {
            reason: "signed attributes not from this template",
        })?;
        let signed_attrs = tlv(CONTEXT_0, &[attributes]);
        let value = tlv(OCTET_STRING, &[signature]);
        let signer_info = tlv(
            SEQUENCE,
            &[
                &self.signer_info_head,
                &signed_attrs,
                &self.signature_algorithm,
                &value,
            ],
        );
        let signer_infos = tlv(SET, &[&signer_info]);
        let signed_data = tlv(SEQUENCE, &[&self.signed_data_head, &signer_infos]);
        let content = tlv(CONTEXT_0, &[&signed_data]);
        Ok(tlv(SEQUENCE, &[&self.signed_data_oid, &content]))
    }

    /// Signs every digest with `sign`, which gets all the DTBS at once (one
    /// SCDev call for the batch) and returns one value per DTBS, in order.
    /// The signer's own error type `E` comes back as it is (an SCDev's
    /// error stays an SCDev error).
    pub fn sign_all<E: From<CadesError>>(
        &self,
        digests: &[impl AsRef<[u8]>],
        sign: impl FnOnce(&[TemplateDtbs]) -> Result<Vec<Vec<u8>>, E>,
    ) -> Result<Vec<Vec<u8>>, E> {
        let dtbs = digests
            .iter()
            .map(|digest| self.dtbs(digest.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let values = sign(&dtbs)?;
        if values.len() != dtbs.len() {
            return Err(CadesError::NotExtendable {
                reason: "the signer returned another number of signatures",
            }
            .into());
        }
        Ok(dtbs
            .iter()
            .zip(&values)
            .map(|(dtbs, value)| self.complete(dtbs, value))
            .collect::<Result<_, _>>()?)
    }
}

/// X.690 §11.6: SET OF components in ascending order of their encodings
/// compared as octet strings, the shorter padded with trailing zero octets.
fn der_set_order(a: &[u8], b: &[u8]) -> Ordering {
    let common = a.len().min(b.len());
    match a[..common].cmp(&b[..common]) {
        Ordering::Equal => {
            let (rest, longer_is_a) = if a.len() > b.len() {
                (&a[common..], true)
            } else {
                (&b[common..], false)
            };
            match (rest.iter().all(|&x| x == 0), longer_is_a) {
                (true, _) => Ordering::Equal,
                (false, true) => Ordering::Greater,
                (false, false) => Ordering::Less,
            }
        }
        order => order,
    }
}

/// A definite-length DER TLV with a one-octet tag around `parts`.
fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(len + 6);
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    for part in parts {
        out.extend_from_slice(part);
    }
    out
}

/// The contents of a DER TLV with a one-octet tag, if `tlv` is exactly one.
fn content_of(tlv: &[u8]) -> Option<&[u8]> {
    let first = *tlv.get(1)?;
    let (start, len) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let n = usize::from(first & 0x7f);
        let bytes = tlv.get(2..2 + n)?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (2 + n, len)
    };
    let content = tlv.get(start..)?;
    (content.len() == len).then_some(content)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_through_the_tlv_helpers() {
        for len in [0usize, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000] {
            let body = vec![7u8; len];
            let encoded = tlv(SEQUENCE, &[&body]);
            assert_eq!(content_of(&encoded), Some(body.as_slice()), "{len}");
            let der_len = der::Length::try_from(len).unwrap();
            let header = der::Header::new(der::Tag::Sequence, der_len);
            let mut expected = header.to_der().unwrap();
            expected.extend_from_slice(&body);
            assert_eq!(encoded, expected, "{len}");
        }
        assert_eq!(content_of(&[SEQUENCE, 3, 1, 2]), None);
        assert_eq!(content_of(&[SEQUENCE]), None);
        assert_eq!(content_of(&[SEQUENCE, 0x82, 1]), None);
    }

    #[test]
    fn set_order_pads_the_shorter_with_zeros() {
        assert_eq!(der_set_order(&[1, 2], &[1, 2, 0]), Ordering::Equal);
        assert_eq!(der_set_order(&[1, 2], &[1, 2, 1]), Ordering::Less);
        assert_eq!(der_set_order(&[1, 2, 1], &[1, 2]), Ordering::Greater);
        assert_eq!(der_set_order(&[2], &[1, 9]), Ordering::Greater);
    }
}
