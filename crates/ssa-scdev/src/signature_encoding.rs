//! Signature values in the encodings CMS wants.

use der::Encode;
use der::Sequence;
use der::asn1::UintRef;

use crate::HashAlgorithm;

/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 5480 §2.2 / RFC 5758 §3.2).
#[derive(Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// Turns a PKCS#11 `CKM_ECDSA` result (`r || s`, each as long as the curve
/// order) into DER `Ecdsa-Sig-Value`. `None` if the halves are not of
/// `scalar_len` bytes or either is zero.
pub(crate) fn ecdsa_raw_to_der(raw: &[u8], scalar_len: usize) -> Option<Vec<u8>> {
    if raw.len() != 2 * scalar_len {
        return None;
    }
    let (r, s) = raw.split_at(scalar_len);
    if r.iter().all(|b| *b == 0) || s.iter().all(|b| *b == 0) {
        return None;
    }
    EcdsaSigValue {
        r: UintRef::new(r).ok()?,
        s: UintRef::new(s).ok()?,
    }
    .to_der()
    .ok()
}

/// The DER prefix of `DigestInfo` for `hash` (RFC 8017 §9.2, note 1):
/// `CKM_RSA_PKCS` signs `prefix || digest` as given, so the caller adds it.
pub(crate) fn digest_info_prefix(hash: HashAlgorithm) -> Option<&'static [u8]> {
    Some(match hash {
        HashAlgorithm::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlgorithm::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        HashAlgorithm::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;
    use der::asn1::ObjectIdentifier;

    /// `DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }`
    #[derive(Sequence)]
    struct DigestInfo {
        algorithm: spki::AlgorithmIdentifierOwned,
        digest: der::asn1::OctetString,
    }

    #[test]
    fn digest_info_prefixes_decode_as_digest_info() {
        let oids = [
            ("2.16.840.1.101.3.4.2.1", HashAlgorithm::Sha256),
            ("2.16.840.1.101.3.4.2.2", HashAlgorithm::Sha384),
            ("2.16.840.1.101.3.4.2.3", HashAlgorithm::Sha512),
        ];
        for (oid, hash) in oids {
            let mut bytes = digest_info_prefix(hash).unwrap_or_default().to_vec();
            bytes.extend(vec![0xAB; hash.digest_len()]);
            let info = DigestInfo::from_der(&bytes).ok();
            let info = info.as_ref();
            assert_eq!(
                info.map(|i| i.algorithm.oid),
                ObjectIdentifier::new(oid).ok()
            );
            assert_eq!(
                info.map(|i| i.digest.as_bytes().len()),
                Some(hash.digest_len())
            );
        }
    }

    #[test]
    fn ecdsa_der_strips_and_pads_integers() {
        let mut raw = vec![0u8; 64];
        raw[1] = 0x80; // r has a leading zero byte and then a high bit
        raw[32] = 0x01;
        let der = ecdsa_raw_to_der(&raw, 32).unwrap_or_default();
        let decoded = EcdsaSigValue::from_der(&der).ok();
        assert_eq!(decoded.as_ref().map(|v| v.r.as_bytes().len()), Some(31));
        assert_eq!(decoded.as_ref().map(|v| v.s.as_bytes().len()), Some(32));
        assert_eq!(ecdsa_raw_to_der(&raw[..63], 32), None);
        assert_eq!(ecdsa_raw_to_der(&[0u8; 64], 32), None);
    }
}
