//! Comparing distinguished names as RFC 5280 §7.1 says: attribute by
//! attribute, the values of DirectoryString type after preparation (here:
//! Unicode text, lower-cased, leading and trailing white space removed and
//! inner runs of it collapsed), whatever string type encoded them; other
//! values by their encoding.

use der::Tag;
use x509_cert::name::Name;

/// Whether `a` and `b` name the same entity: the same number of RDNs, each
/// with the same attributes (types equal, values matching).
pub(crate) fn same_name(a: &Name, b: &Name) -> bool {
    if a == b {
        return true;
    }
    a.as_ref().len() == b.as_ref().len()
        && a.iter_rdn().zip(b.iter_rdn()).all(|(x, y)| {
            x.len() == y.len()
                && x.iter().all(|atv| {
                    y.iter()
                        .any(|other| atv.oid == other.oid && same_value(&atv.value, &other.value))
                })
        })
}

fn same_value(a: &der::asn1::Any, b: &der::asn1::Any) -> bool {
    match (prepared(a), prepared(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// The prepared text of a DirectoryString-typed value, `None` otherwise.
fn prepared(value: &der::asn1::Any) -> Option<String> {
    let bytes = value.value();
    let tag = der::Tagged::tag(value);
    let text = match tag {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString => {
            // TeletexString is read as Latin-1 here, as most products do.
            if tag == Tag::TeletexString {
                bytes.iter().map(|&b| char::from(b)).collect()
            } else {
                String::from_utf8(bytes.to_vec()).ok()?
            }
        }
        Tag::BmpString => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()?
        }
        _ => return None,
    };
    let folded = text.to_lowercase();
    Some(folded.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn with(tag: Tag, text: &str) -> Name {
        use der::Encode;
        let value = der::asn1::Any::new(tag, text.as_bytes()).unwrap();
        let mut der = Vec::new();
        for oid in ["2.5.4.3", "2.5.4.10"] {
            let atv = x509_cert::attr::AttributeTypeAndValue {
                oid: der::asn1::ObjectIdentifier::new_unwrap(oid),
                value: value.clone(),
            };
            let rdn = der::asn1::SetOfVec::try_from(vec![atv]).unwrap();
            der.extend(rdn.to_der().unwrap());
        }
        let mut sequence =
            der::Header::new(Tag::Sequence, der::Length::try_from(der.len()).unwrap())
                .to_der()
                .unwrap();
        sequence.extend(der);
        der::Decode::from_der(&sequence).unwrap()
    }

    #[test]
    fn string_types_case_and_spaces_do_not_matter() {
        let utf8 = with(Tag::Utf8String, "Example  Org");
        assert!(same_name(&utf8, &with(Tag::PrintableString, "example org")));
        assert!(same_name(&utf8, &with(Tag::Utf8String, " EXAMPLE ORG ")));
        assert!(!same_name(
            &utf8,
            &with(Tag::PrintableString, "example orgs")
        ));
        assert!(!same_name(&utf8, &with(Tag::OctetString, "Example  Org")));
    }
}
