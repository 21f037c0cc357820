//! What signs the DTBS: an SCDev key (the facade's `ScdevSigner`), or
//! anything else that can. This crate knows no SCDev: it signs through
//! this trait, so a user who only verifies links no PKCS#11.

use ssa_types::SignatureAlgorithm;

use crate::CadesError;

/// Signs the DTBS (the DER of the signed attributes) and names its
/// algorithm. Signatures come in CMS encoding (ECDSA as DER).
pub trait DtbsSigner {
    /// The signature algorithm.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// Signs `dtbs`.
    fn sign_dtbs(&self, dtbs: &[u8]) -> Result<Vec<u8>, CadesError>;
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
