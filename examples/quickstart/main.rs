//! The main job: the whole remote-signing story on a soft SCDev.
//!
//! A throw-away CA; signer "alice" enrolled with a P-256 key generated in
//! the SCDev, a PIN and a TOTP authenticator (SCAL2); her certificate issued
//! from the CSR her key signed; two documents approved with PIN + TOTP in
//! one SAD and signed as CAdES (B-B, or B-T with `--tsa URL`); everything
//! verified here, and the OpenSSL command that checks it independently.
//!
//! ```text
//! cargo run --example quickstart [-- --out DIR] [--tsa http://tsa.example/ [--tsa-ca tsa-ca.pem]]
//! ```

#[path = "../support/certificate.rs"]
mod certificate;
mod flow;
#[path = "../support/exit.rs"]
mod support;

use std::sync::Arc;

use ssa::scdev::KeyEncryptionKey;
use ssa::scdev::soft::SoftScdev;

fn main() -> std::process::ExitCode {
    let args = flow::parse_args("quickstart", "quickstart-out");
    support::exit("quickstart", run(&args))
}

fn run(args: &flow::Args) -> Result<(), Box<dyn std::error::Error>> {
    // The provider's key-encryption key would come from a KMS or an HSM.
    let scdev = Arc::new(SoftScdev::in_memory(KeyEncryptionKey::generate()?));
    flow::run(scdev, args)
}
