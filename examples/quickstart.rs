//! The main job, as far as the workspace goes today: a soft SCDev generates
//! a signer's key inside itself, signs a message and a prehashed digest
//! (DTBS/R), and anyone verifies the signatures with the public key.
//!
//! Run it with `cargo run --example quickstart`. Later issues grow it into
//! the whole remote-signing flow (enrolment, SAD, CAdES, audit).

use ssa::scdev::KeyEncryptionKey;
use ssa::scdev::soft::SoftScdev;
use ssa::{
    HashAlgorithm, KeyAlgorithm, KeyId, KeySpec, PublicKey, Scdev, SignInput, SignatureAlgorithm,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The provider's key-encryption key: in production it comes from a KMS
    // or an HSM; here a throw-away one.
    let scdev = SoftScdev::in_memory(KeyEncryptionKey::generate()?);
    println!("SCDev: {scdev:?}");

    let id = KeyId::new(b"signer-0001/key-1".to_vec())?;
    let info = scdev.generate_key(&id, "Hanako Yamada", KeySpec::new(KeyAlgorithm::EcP256))?;
    println!(
        "generated {} key {} ({}), SubjectPublicKeyInfo {} bytes",
        info.algorithm,
        info.id,
        info.label,
        info.public_key.len()
    );

    let algorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
    let message = "契約書 v1: the signer approves these terms".as_bytes();
    let signature = scdev.sign(&id, algorithm, SignInput::Message(message))?;

    // The client hashes its document and sends only the digest (DTBS/R).
    let digest = HashAlgorithm::Sha256.digest(message);
    let over_digest = scdev.sign(
        &id,
        algorithm,
        SignInput::Digest {
            hash: HashAlgorithm::Sha256,
            value: &digest,
        },
    )?;

    // Anyone holding the public key verifies both.
    let public = PublicKey::from_spki_der(&info.public_key).ok_or("unusable public key")?;
    public.verify(algorithm, message, &signature)?;
    public.verify(algorithm, message, &over_digest)?;
    println!(
        "{algorithm} signature over the message: verified ({} bytes DER)",
        signature.len()
    );
    println!(
        "{algorithm} signature over the digest:  verified ({} bytes DER)",
        over_digest.len()
    );

    // And a changed message does not verify.
    let forged = public.verify(algorithm, b"other terms", &signature);
    println!(
        "signature over other terms: {}",
        if forged.is_err() {
            "rejected"
        } else {
            "ACCEPTED"
        }
    );
    if forged.is_ok() {
        return Err("a signature verified over a message it was not made for".into());
    }
    Ok(())
}
