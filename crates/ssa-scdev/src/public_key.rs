//! PKCS#11 names for curves: `CKA_EC_PARAMS` to and from a key algorithm.

use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5912, rfc8410};
use der::{Decode, Encode};

use crate::KeyAlgorithm;

/// The OID of the named curve of an EC key, for PKCS#11 `CKA_EC_PARAMS`.
pub(crate) fn ec_params_der(algorithm: KeyAlgorithm) -> Option<Vec<u8>> {
    let oid = match algorithm {
        KeyAlgorithm::EcP256 => rfc5912::SECP_256_R_1,
        KeyAlgorithm::EcP384 => rfc5912::SECP_384_R_1,
        KeyAlgorithm::Ed25519 => rfc8410::ID_ED_25519,
        _ => return None,
    };
    oid.to_der().ok()
}

/// The key algorithm named by a PKCS#11 `CKA_EC_PARAMS` value. Edwards
/// curves may be named by OID or, as PKCS#11 v3.0 §2.3.10 also allows and
/// SoftHSM2 2.6 stores, by the PrintableString `edwards25519`.
pub(crate) fn algorithm_from_ec_params(params: &[u8]) -> Option<KeyAlgorithm> {
    if let Ok(name) = der::asn1::PrintableStringRef::from_der(params) {
        return (name.as_str() == "edwards25519").then_some(KeyAlgorithm::Ed25519);
    }
    match ObjectIdentifier::from_der(params).ok()? {
        rfc5912::SECP_256_R_1 => Some(KeyAlgorithm::EcP256),
        rfc5912::SECP_384_R_1 => Some(KeyAlgorithm::EcP384),
        rfc8410::ID_ED_25519 => Some(KeyAlgorithm::Ed25519),
        _ => None,
    }
}
