//! What signs the DTBS: an SCDev key, or anything else that can.

use ssa_scdev::{KeyId, Scdev, SignInput, SignatureAlgorithm};

use crate::CadesError;

/// Signs the DTBS (the DER of the signed attributes) and names its
/// algorithm. Signatures come in CMS encoding (ECDSA as DER).
pub trait DtbsSigner {
    /// The signature algorithm.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// Signs `dtbs`.
    fn sign_dtbs(&self, dtbs: &[u8]) -> Result<Vec<u8>, CadesError>;
}

/// A key in an SCDev as a [`DtbsSigner`]: it signs the digest of the DTBS
/// where the SCDev can (so an HSM sees only a digest), else the DTBS itself.
#[derive(Debug)]
pub struct ScdevSigner<'a> {
    scdev: &'a dyn Scdev,
    key: &'a KeyId,
    algorithm: SignatureAlgorithm,
}

impl<'a> ScdevSigner<'a> {
    /// Signs with `key` in `scdev` using `algorithm`.
    pub fn new(scdev: &'a dyn Scdev, key: &'a KeyId, algorithm: SignatureAlgorithm) -> Self {
        Self {
            scdev,
            key,
            algorithm,
        }
    }
}

impl DtbsSigner for ScdevSigner<'_> {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn sign_dtbs(&self, dtbs: &[u8]) -> Result<Vec<u8>, CadesError> {
        let digest;
        let input = match self.algorithm.hash() {
            Some(hash) if self.scdev.capabilities().can_sign_digest(self.algorithm) => {
                digest = hash.digest(dtbs);
                SignInput::Digest {
                    hash,
                    value: &digest,
                }
            }
            _ => SignInput::Message(dtbs),
        };
        Ok(self.scdev.sign(self.key, self.algorithm, input)?)
    }
}

/// A closure as a [`DtbsSigner`] (for a remote signer, a test, a benchmark).
pub struct FnSigner<F> {
    algorithm: SignatureAlgorithm,
    sign: F,
}

impl<F: Fn(&[u8]) -> Result<Vec<u8>, CadesError>> FnSigner<F> {
    /// Signs with `sign`, which makes `algorithm` signatures.
    pub fn new(algorithm: SignatureAlgorithm, sign: F) -> Self {
        Self { algorithm, sign }
    }
}

impl<F: Fn(&[u8]) -> Result<Vec<u8>, CadesError>> DtbsSigner for FnSigner<F> {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn sign_dtbs(&self, dtbs: &[u8]) -> Result<Vec<u8>, CadesError> {
        (self.sign)(dtbs)
    }
}
