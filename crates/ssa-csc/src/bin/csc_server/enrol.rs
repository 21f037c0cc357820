//! `csc_server enrol`: one more signer, their secrets printed once.

use std::time::SystemTime;

use clap::{Args, ValueEnum};
use ssa::{KeyAlgorithm, Scal};
use ssa_csc::provider::{EnrolledSigner, Provider, ProviderOptions, SignerSpec};

/// The key a credential gets.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum KeyKind {
    /// ECDSA P-256.
    P256,
    /// ECDSA P-384.
    P384,
    /// RSA 2048 (PKCS#11 tokens only: the soft SCDev cannot generate RSA).
    Rsa2048,
    /// RSA 3072 (PKCS#11 tokens only).
    Rsa3072,
}

impl KeyKind {
    fn algorithm(self) -> KeyAlgorithm {
        match self {
            Self::P256 => KeyAlgorithm::EcP256,
            Self::P384 => KeyAlgorithm::EcP384,
            Self::Rsa2048 => KeyAlgorithm::Rsa2048,
            Self::Rsa3072 => KeyAlgorithm::Rsa3072,
        }
    }
}

/// The signer to enrol.
#[derive(Args, Debug, Clone)]
pub(crate) struct EnrolArgs {
    /// The signer's login name.
    #[arg(long)]
    pub(crate) signer: String,
    /// The credential id (default: SIGNER/1).
    #[arg(long)]
    pub(crate) credential: Option<String>,
    /// The key generated in the SCDev.
    #[arg(long, value_enum, default_value_t = KeyKind::P256)]
    pub(crate) key: KeyKind,
    /// SCAL1 (PIN only) instead of SCAL2 (PIN and TOTP).
    #[arg(long)]
    pub(crate) scal1: bool,
    /// The certificate's common name (default: the signer's name).
    #[arg(long)]
    pub(crate) name: Option<String>,
}

impl EnrolArgs {
    pub(crate) fn spec(&self) -> SignerSpec {
        SignerSpec {
            signer: self.signer.clone(),
            credential: self
                .credential
                .clone()
                .unwrap_or_else(|| format!("{}/1", self.signer)),
            key: self.key.algorithm(),
            scal: if self.scal1 { Scal::Scal1 } else { Scal::Scal2 },
            subject: format!(
                "CN={},O=ssa demo",
                self.name.as_deref().unwrap_or(&self.signer)
            ),
        }
    }
}

/// Prints what the signer needs, once.
pub(crate) fn print(enrolled: &EnrolledSigner, scal: Scal) {
    println!("signer      {}", enrolled.signer);
    if enrolled.password.is_empty() {
        println!("password    (unchanged: the signer had an account)");
    } else {
        println!("password    {}", enrolled.password.as_str());
    }
    println!("credential  {}", enrolled.credential);
    println!("PIN         {}", enrolled.pin.as_str());
    if scal == Scal::Scal2 {
        println!("TOTP        {}", enrolled.otpauth.as_str());
    }
    println!("(these secrets are shown once and stored only hashed or sealed)");
}

pub(crate) fn run(
    options: ProviderOptions,
    args: &EnrolArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    let provider = Provider::open(options)?;
    let spec = args.spec();
    let enrolled = provider.enrol(&spec, SystemTime::now())?;
    print(&enrolled, spec.scal);
    Ok(())
}

pub(crate) fn unlock(
    options: ProviderOptions,
    signer: &str,
    credential: Option<&str>,
    admin: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let provider = Provider::open(options)?;
    let csc = provider.csc();
    csc.accounts().unlock(signer)?;
    println!("account {signer}: unlocked");
    if let Some(credential) = credential {
        // Only the signer's own credential.
        csc.info(signer, credential, SystemTime::now())?;
        csc.signing().unlock(credential, admin, SystemTime::now())?;
        println!("credential {credential}: unlocked");
    }
    Ok(())
}
