//! Signing fixtures: a soft SCDev holding the test PKI's signer keys.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

use std::time::{Duration, SystemTime};

use der::Decode;
use ssa_cades::{CadesError, DtbsSigner, FnSigner, SignatureParameters, SignedAttributeOptions};
use ssa_scdev::soft::SoftScdev;
use ssa_scdev::{
    BackupKey, HashAlgorithm, KeyAlgorithm, KeyEncryptionKey, KeyId, KeySpec, Scdev,
    SignatureAlgorithm,
};
use ssa_testkit::pki::{Identity, pki};
use x509_cert::Certificate;
use zeroize::Zeroizing;

pub const ECDSA: SignatureAlgorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);

pub struct Signer {
    pub scdev: SoftScdev,
    pub key: KeyId,
    pub certificate: Certificate,
}

pub fn signer_for(identity: &Identity) -> Signer {
    let backup = BackupKey::generate().unwrap();
    let scdev =
        SoftScdev::in_memory(KeyEncryptionKey::generate().unwrap()).with_backup_key(backup.clone());
    let key = KeyId::new(b"signer".to_vec()).unwrap();
    let wrapped = SoftScdev::seal_for_import(
        &backup,
        &key,
        "signer",
        KeySpec::new(KeyAlgorithm::EcP256),
        Zeroizing::new(identity.key_pkcs8.clone()),
    )
    .unwrap();
    scdev.import_wrapped(&key, &wrapped).unwrap();
    Signer {
        scdev,
        key,
        certificate: Certificate::from_der(&identity.cert_der).unwrap(),
    }
}

pub fn signer() -> Signer {
    signer_for(&pki().signer)
}

/// The time used for signing in tests: now, so OpenSSL (which checks
/// certificates at the current time) agrees.
pub fn now() -> SystemTime {
    SystemTime::now() - Duration::from_secs(5)
}

impl Signer {
    pub fn params<'a>(
        &'a self,
        digest: &'a [u8],
        content: Option<&'a [u8]>,
    ) -> SignatureParameters<'a> {
        SignatureParameters {
            certificate: &self.certificate,
            chain: &[],
            algorithm: ECDSA,
            hash: HashAlgorithm::Sha256,
            digest,
            signing_time: now(),
            content,
            options: SignedAttributeOptions::default(),
        }
    }

    /// The SCDev key as the builder's signer (the facade has its own
    /// `ScdevSigner`; this crate knows no SCDev).
    pub fn scdev_signer(&self) -> impl DtbsSigner + '_ {
        FnSigner::new(ECDSA, move |dtbs: &[u8]| {
            ssa_scdev::Scdev::sign(
                &self.scdev,
                &self.key,
                ECDSA,
                ssa_scdev::SignInput::Message(dtbs),
            )
            .map_err(|e| CadesError::Signer(Box::new(e)))
        })
    }

    pub fn sign(&self, document: &[u8]) -> Vec<u8> {
        let digest = HashAlgorithm::Sha256.digest(document);
        ssa_cades::sign(&self.params(&digest, None), &self.scdev_signer()).unwrap()
    }
}
