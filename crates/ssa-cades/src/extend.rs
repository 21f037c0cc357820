//! Extending an existing signature (time-stamps, validation data, co-signers)
//! without disturbing what is signed.

use cms::content_info::ContentInfo;
use cms::signed_data::SignerInfo;
use der::asn1::{Any, ObjectIdentifier, SetOfVec};
use der::{Decode, Encode};
use x509_cert::attr::Attribute;

use crate::asn1::SignedData;
use crate::{CadesError, oid, raw};

fn not(reason: &'static str) -> CadesError {
    CadesError::NotExtendable { reason }
}

/// The SignedData of a DER `ContentInfo`.
pub(crate) fn parse(signature: &[u8]) -> Result<SignedData, CadesError> {
    let info = ContentInfo::from_der(signature).map_err(|_| not("not a DER ContentInfo"))?;
    if info.content_type != oid::ID_SIGNED_DATA {
        return Err(not("not a SignedData"));
    }
    info.content
        .decode_as()
        .map_err(|_| not("malformed SignedData"))
}

/// Encodes `signed` as a `ContentInfo`, and refuses if the signed
/// attributes of any SignerInfo of `original` would not survive byte for
/// byte (decoding re-sorts a SET OF; a non-DER original would change).
pub(crate) fn reencode(original: &[u8], signed: &SignedData) -> Result<Vec<u8>, CadesError> {
    let out = ContentInfo {
        content_type: oid::ID_SIGNED_DATA,
        content: Any::encode_from(signed)?,
    }
    .to_der()?;
    let dtbs = |bytes: &[u8]| -> Result<Vec<Vec<u8>>, CadesError> {
        Ok(raw::signer_infos(bytes)?
            .iter()
            .filter_map(|r| raw::signed_attrs_dtbs(r).ok().flatten())
            .collect())
    };
    let after = dtbs(&out)?;
    if !dtbs(original)?.iter().all(|b| after.contains(b)) {
        return Err(not(
            "re-encoding would change what an existing signature signs",
        ));
    }
    Ok(out)
}

/// Whether `info` has an unsigned attribute `oid`.
pub(crate) fn has_unsigned(info: &SignerInfo, oid: ObjectIdentifier) -> bool {
    info.unsigned_attrs
        .iter()
        .flat_map(|attrs| attrs.iter())
        .any(|a| a.oid == oid)
}

/// Adds the unsigned attribute `oid` with the one value `value` (DER) to
/// `info`, the attributes already there kept as they are.
pub(crate) fn push_unsigned(
    info: &mut SignerInfo,
    oid: ObjectIdentifier,
    value: &[u8],
) -> Result<(), CadesError> {
    let mut attributes: Vec<Attribute> = info
        .unsigned_attrs
        .iter()
        .flat_map(|a| a.iter().cloned())
        .collect();
    attributes.push(Attribute {
        oid,
        values: SetOfVec::try_from(vec![Any::from_der(value)?])?,
    });
    info.unsigned_attrs = Some(SetOfVec::try_from(attributes)?);
    Ok(())
}
