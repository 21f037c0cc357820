//! A SEQUENCE kept as bytes, for structures carried but not interpreted here.

use der::{DecodeValue, EncodeValue, FixedTag, Header, Length, Reader, Tag, Tagged, Writer};

/// A DER SEQUENCE whose contents are kept as they are: used for the
/// attribute certificates of a CMS certificate set (`[1]`/`[2] IMPLICIT`),
/// which this crate carries and hands on but does not interpret. Works
/// under IMPLICIT tags, unlike `Any`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OpaqueSequence {
    /// The contents octets of the SEQUENCE (without tag and length).
    pub contents: Vec<u8>,
}

impl OpaqueSequence {
    /// Wraps a whole DER SEQUENCE (tag, length and contents).
    pub fn from_der_sequence(der: &[u8]) -> der::Result<Self> {
        let any = der::asn1::AnyRef::try_from(der)?;
        if any.tag() != Tag::Sequence {
            return Err(der::Error::from(der::ErrorKind::TagUnexpected {
                expected: Some(Tag::Sequence),
                actual: any.tag(),
            }));
        }
        Ok(Self {
            contents: any.value().to_vec(),
        })
    }
}

impl FixedTag for OpaqueSequence {
    const TAG: Tag = Tag::Sequence;
}

impl<'a> DecodeValue<'a> for OpaqueSequence {
    type Error = der::Error;
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        Ok(Self {
            contents: reader.read_vec(header.length())?,
        })
    }
}

impl EncodeValue for OpaqueSequence {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.contents.len())
    }
    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.contents)
    }
}
