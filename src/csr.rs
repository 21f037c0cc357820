//! PKCS#10 certification requests (RFC 2986) signed by the SCDev key.

use der::asn1::{BitString, SetOfVec};
use der::{Decode, Encode};
use ssa_scdev::{KeyId, Scdev, SignInput, SignatureAlgorithm};
use x509_cert::name::Name;
use x509_cert::request::{CertReq, CertReqInfo, Version};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use crate::ServiceError;

/// A DER CSR for `subject` and the key `key` (whose SPKI is `public_key`),
/// signed inside the SCDev: proof that the requester holds the key.
pub fn certification_request(
    scdev: &dyn Scdev,
    key: &KeyId,
    public_key: &[u8],
    algorithm: SignatureAlgorithm,
    subject: Name,
) -> Result<Vec<u8>, ServiceError> {
    let bad = |_| ServiceError::Corrupt {
        what: "certification request",
    };
    let info = CertReqInfo {
        version: Version::V1,
        subject,
        public_key: SubjectPublicKeyInfoOwned::from_der(public_key).map_err(bad)?,
        attributes: SetOfVec::new(),
    };
    let signature = scdev.sign(
        key,
        algorithm,
        SignInput::Message(&info.to_der().map_err(bad)?),
    )?;
    CertReq {
        info,
        algorithm: ssa_cades::algorithm::signature_algorithm(algorithm).map_err(bad)?,
        signature: BitString::from_bytes(&signature).map_err(bad)?,
    }
    .to_der()
    .map_err(bad)
}
