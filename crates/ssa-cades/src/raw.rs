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
