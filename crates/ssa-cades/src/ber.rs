//! BER to DER, for the encodings real signers emit.
//!
//! OpenSSL (`cms -sign -stream`) and others write CMS with indefinite
//! lengths and constructed OCTET STRINGs. This rewrites lengths to their
//! definite, minimal form and joins constructed OCTET STRINGs, and leaves
//! everything else as it is: in particular a SET OF keeps its order, so
//! signed attributes (which CMS requires in DER) keep their exact bytes.
//!
//! The input is untrusted: nesting is bounded ([`MAX_DEPTH`]) on every
//! recursive path, so a hostile `30 80 30 80 …` gives an error, never a
//! stack overflow.
//!
//! ```
//! use ssa_cades::ber::{BerError, to_der};
//! // SEQUENCE (indefinite) { INTEGER 5 }
//! assert_eq!(to_der(&[0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00])?, [0x30, 0x03, 0x02, 0x01, 0x05]);
//! let deep: Vec<u8> = [[0x30, 0x80]; 1000].concat();
//! assert_eq!(to_der(&deep), Err(BerError::TooDeep { limit: 64 }));
//! # Ok::<(), BerError>(())
//! ```

/// How deep constructed values may nest. CMS as real signers write it
/// nests about a dozen levels; 64 leaves room and keeps the stack small.
pub const MAX_DEPTH: usize = 64;

/// Why a BER encoding was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BerError {
    /// The bytes are not one whole BER value (truncated, trailing bytes, a
    /// bad length, an indefinite length on a primitive value, …).
    #[error("not one whole BER value")]
    Malformed,
    /// Constructed values nest deeper than the limit.
    #[error("BER nesting deeper than {limit}")]
    TooDeep {
        /// The limit ([`MAX_DEPTH`]).
        limit: usize,
    },
}

const MALFORMED: BerError = BerError::Malformed;

struct Tlv<'a> {
    /// The identifier octets.
    tag: &'a [u8],
    constructed: bool,
    /// The contents (for an indefinite length: up to the end-of-contents).
    contents: &'a [u8],
    indefinite: bool,
    /// Total bytes consumed, end-of-contents included.
    consumed: usize,
}

/// Reads one TLV at `depth`. An indefinite length is resolved by walking
/// the children, one level deeper each.
fn read_tlv(input: &[u8], depth: usize) -> Result<Tlv<'_>, BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep { limit: MAX_DEPTH });
    }
    let first = *input.first().ok_or(MALFORMED)?;
    let mut at = 1;
    if first & 0x1f == 0x1f {
        // High tag number: base-128 octets, the last without the top bit.
        loop {
            let b = *input.get(at).ok_or(MALFORMED)?;
            at += 1;
            if b & 0x80 == 0 {
                break;
            }
            if at > 6 {
                return Err(MALFORMED);
            }
        }
    }
    let tag = &input[..at];
    let constructed = first & 0x20 != 0;
    let length_byte = *input.get(at).ok_or(MALFORMED)?;
    at += 1;
    if length_byte == 0x80 {
        if !constructed {
            return Err(MALFORMED);
        }
        // Find the matching end-of-contents by walking the children.
        let start = at;
        let mut pos = at;
        loop {
            if input.get(pos..pos + 2).ok_or(MALFORMED)? == [0, 0] {
                return Ok(Tlv {
                    tag,
                    constructed,
                    contents: &input[start..pos],
                    indefinite: true,
                    consumed: pos + 2,
                });
            }
            pos += read_tlv(&input[pos..], depth + 1)?.consumed;
        }
    }
    let length = if length_byte & 0x80 == 0 {
        usize::from(length_byte)
    } else {
        let count = usize::from(length_byte & 0x7f);
        if count == 0 || count > 4 {
            return Err(MALFORMED);
        }
        let mut length = 0usize;
        for _ in 0..count {
            length = (length << 8) | usize::from(*input.get(at).ok_or(MALFORMED)?);
            at += 1;
        }
        length
    };
    let end = at.checked_add(length).ok_or(MALFORMED)?;
    Ok(Tlv {
        tag,
        constructed,
        contents: input.get(at..end).ok_or(MALFORMED)?,
        indefinite: false,
        consumed: end,
    })
}

fn push_length(out: &mut Vec<u8>, length: usize) {
    if length < 0x80 {
        out.push(length as u8);
        return;
    }
    let bytes = length.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// Writes the DER form of `tlv`, read at `depth`.
fn normalize(tlv: &Tlv<'_>, depth: usize, out: &mut Vec<u8>) -> Result<(), BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep { limit: MAX_DEPTH });
    }
    if !tlv.constructed {
        out.extend_from_slice(tlv.tag);
        push_length(out, tlv.contents.len());
        out.extend_from_slice(tlv.contents);
        return Ok(());
    }
    let mut contents = Vec::with_capacity(tlv.contents.len());
    let mut rest = tlv.contents;
    let octet_string = tlv.tag == [0x24];
    while !rest.is_empty() {
        let child = read_tlv(rest, depth + 1)?;
        if octet_string {
            // A constructed OCTET STRING is the concatenation of its parts.
            let mut part = Vec::new();
            normalize(&child, depth + 1, &mut part)?;
            // `part` is a primitive value just written: no nesting to read.
            let inner = read_tlv(&part, depth + 1)?;
            if inner.tag != [0x04] {
                return Err(MALFORMED);
            }
            contents.extend_from_slice(inner.contents);
        } else {
            normalize(&child, depth + 1, &mut contents)?;
        }
        rest = &rest[child.consumed..];
    }
    if octet_string {
        out.push(0x04);
    } else {
        out.extend_from_slice(tlv.tag);
    }
    push_length(out, contents.len());
    out.extend_from_slice(&contents);
    Ok(())
}

/// The DER form of one whole BER value (see the module notes).
pub fn to_der(input: &[u8]) -> Result<Vec<u8>, BerError> {
    let tlv = read_tlv(input, 0)?;
    if tlv.consumed != input.len() {
        return Err(MALFORMED);
    }
    let _ = tlv.indefinite;
    let mut out = Vec::with_capacity(input.len());
    normalize(&tlv, 0, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{BerError, to_der};

    #[test]
    fn indefinite_lengths_and_chunked_octet_strings() {
        // SEQUENCE (indefinite) { OCTET STRING constructed (indefinite) { "ab", "c" }, INTEGER 5 }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00, 0x02,
            0x01, 0x05, 0x00, 0x00,
        ];
        assert_eq!(
            to_der(&ber),
            Ok(vec![
                0x30, 0x08, 0x04, 0x03, b'a', b'b', b'c', 0x02, 0x01, 0x05
            ])
        );
    }

    #[test]
    fn long_form_lengths_become_minimal_and_sets_keep_their_order() {
        let ber = [0x31, 0x81, 0x06, 0x02, 0x01, 0x09, 0x02, 0x01, 0x01];
        assert_eq!(
            to_der(&ber),
            Ok(vec![0x31, 0x06, 0x02, 0x01, 0x09, 0x02, 0x01, 0x01])
        );
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x80],
            &[0x04, 0x80, 0x00, 0x00],
            &[0x30, 0x02, 0x01],
            &[0x30, 0x00, 0x00],
        ] {
            assert_eq!(to_der(bad), Err(BerError::Malformed), "{bad:?}");
        }
    }
}
