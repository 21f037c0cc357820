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

/// A key in an SCDev as a [`DtbsSigner`]. It hands the SCDev the DTBS as a
/// message: the SCDev hashes it (the PKCS#11 backend hashes in process and
/// sends the token only the digest; the soft backend signs with ring in
/// one pass). Raw-hash mode, where only a digest exists, calls the SCDev
/// with [`SignInput::Digest`] itself.
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
        Ok(self
            .scdev
            .sign(self.key, self.algorithm, SignInput::Message(dtbs))?)
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
