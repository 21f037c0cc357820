//! The bytes of a CMS signature exactly as received.
//!
//! Decoding a SET OF with `der` re-sorts it, so re-encoding a received
//! SignerInfo can give other bytes than were signed. Signature checks and
//! co-signing therefore read the received TLVs here.

use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, Encode, Header, Length, Reader, SliceReader, Tag, TagNumber, Tagged};

fn elements(value: &[u8]) -> der::Result<Vec<AnyRef<'_>>> {
    let mut reader = SliceReader::new(value)?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        out.push(AnyRef::decode(&mut reader)?);
    }
    Ok(out)
}

fn malformed() -> der::Error {
    der::Error::from(der::ErrorKind::Failed)
}

/// The SignedData TLV inside a ContentInfo.
fn signed_data(content_info: &[u8]) -> der::Result<AnyRef<'_>> {
    let outer = AnyRef::from_der(content_info)?;
    let parts = elements(outer.value())?;
    let [oid, explicit] = parts.as_slice() else {
        return Err(malformed());
    };
    let _oid: ObjectIdentifier = oid.decode_as()?;
    AnyRef::from_der(explicit.value())
}

/// Every SignerInfo as its DER TLV, as received.
pub(crate) fn signer_infos(content_info: &[u8]) -> der::Result<Vec<Vec<u8>>> {
    let signed = signed_data(content_info)?;
    let fields = elements(signed.value())?;
    let set = fields
        .last()
        .filter(|f| f.tag() == Tag::Set)
        .ok_or_else(malformed)?;
    elements(set.value())?.iter().map(|e| e.to_der()).collect()
}

/// The DTBS of a SignerInfo: the contents of its `[0]` signed attributes,
/// as received, under a SET tag (RFC 5652 §5.4).
pub(crate) fn signed_attrs_dtbs(signer_info: &[u8]) -> der::Result<Option<Vec<u8>>> {
    let outer = AnyRef::from_der(signer_info)?;
    let implicit_zero = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(0),
    };
    for field in elements(outer.value())? {
        if field.tag() == implicit_zero {
            let value = field.value();
            let mut dtbs = Header::new(Tag::Set, Length::try_from(value.len())?).to_der()?;
            dtbs.extend_from_slice(value);
            return Ok(Some(dtbs));
        }
    }
    Ok(None)
}

/// A DER SET (tag, length, contents) with its elements in DER order
/// (ascending encodings, X.690 §11.6); `None` if it is not a SET.
pub(crate) fn sorted_set(set: &[u8]) -> Option<Vec<u8>> {
    let any = AnyRef::from_der(set).ok()?;
    if any.tag() != Tag::Set {
        return None;
    }
    let mut children: Vec<Vec<u8>> = elements(any.value())
        .ok()?
        .iter()
        .map(|e| e.to_der())
        .collect::<der::Result<_>>()
        .ok()?;
    children.sort();
    let mut out = Header::new(Tag::Set, Length::try_from(any.value().len()).ok()?)
        .to_der()
        .ok()?;
    for child in children {
        out.extend(child);
    }
    Some(out)
}

/// What an archive time-stamp covers in a SignedData, as received: the
/// `eContentType` TLV, and each `CertificateChoices` and
/// `RevocationInfoChoice` TLV.
#[derive(Clone, Debug, Default)]
pub(crate) struct ArchiveParts {
    pub(crate) e_content_type: Vec<u8>,
    pub(crate) certificates: Vec<Vec<u8>>,
    pub(crate) crls: Vec<Vec<u8>>,
}

/// [`ArchiveParts`] of a ContentInfo holding a SignedData.
pub(crate) fn archive_parts(content_info: &[u8]) -> der::Result<ArchiveParts> {
    let signed = signed_data(content_info)?;
    let fields = elements(signed.value())?;
    let encap = fields.get(2).ok_or_else(malformed)?;
    let e_content_type = elements(encap.value())?
        .first()
        .ok_or_else(malformed)?
        .to_der()?;
    let context = |n: u32| Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(n),
    };
    let mut parts = ArchiveParts {
        e_content_type,
        ..ArchiveParts::default()
    };
    for field in fields.iter().skip(3) {
        let children = || -> der::Result<Vec<Vec<u8>>> {
            elements(field.value())?
                .iter()
                .map(|e| e.to_der())
                .collect()
        };
        if field.tag() == context(0) {
            parts.certificates = children()?;
        } else if field.tag() == context(1) {
            parts.crls = children()?;
        }
    }
    Ok(parts)
}

/// A SignerInfo as received: its fields before the unsigned attributes
/// (version, sid, digestAlgorithm, signedAttrs, signatureAlgorithm,
/// signature), concatenated; and each unsigned attribute as its `attrType`
/// TLV with each of its `AttributeValue` TLVs.
pub(crate) type UnsignedParts = Vec<(Vec<u8>, Vec<Vec<u8>>)>;

/// See [`UnsignedParts`].
pub(crate) fn signer_parts(signer_info: &[u8]) -> der::Result<(Vec<u8>, UnsignedParts)> {
    let outer = AnyRef::from_der(signer_info)?;
    let unsigned_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(1),
    };
    let mut signed_fields = Vec::new();
    let mut unsigned = Vec::new();
    for field in elements(outer.value())? {
        if field.tag() == unsigned_tag {
            for attribute in elements(field.value())? {
                let parts = elements(attribute.value())?;
                let [attr_type, values] = parts.as_slice() else {
                    return Err(malformed());
                };
                let values = elements(values.value())?
                    .iter()
                    .map(|v| v.to_der())
                    .collect::<der::Result<Vec<_>>>()?;
                unsigned.push((attr_type.to_der()?, values));
            }
        } else {
            signed_fields.extend(field.to_der()?);
        }
    }
    Ok((signed_fields, unsigned))
}
