//! An SCDev key as the CAdES builder's signer: the one adapter between
//! the two, kept in the facade so `ssa-cades` knows no SCDev.

use ssa_cades::{CadesError, DtbsSigner};
use ssa_scdev::{KeyId, Scdev, SignInput, SignatureAlgorithm};

/// A key in an SCDev as a [`DtbsSigner`]. It hands the SCDev the DTBS as a
/// message: the SCDev hashes it (the PKCS#11 backend hashes in process and
/// sends the token only the digest; the soft backend signs with ring in
/// one pass). The SCDev's own error rides along as the source of
/// [`CadesError::Signer`].
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
        self.scdev
            .sign(self.key, self.algorithm, SignInput::Message(dtbs))
            .map_err(|e| CadesError::Signer(Box::new(e)))
    }
}
