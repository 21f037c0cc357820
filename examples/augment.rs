//! Raises a CAdES signature (`.p7s`, DER or BER; ours or another
//! product's) to a higher level: B-T, B-LT or B-LTA, or renews a B-LTA
//! with a further archive time-stamp. The certificates' CRL and OCSP
//! locations are fetched over HTTP for B-LT and above.
//!
//! ```text
//! cargo run --example augment -- SIGNATURE.p7s --document FILE --to b-lta \
//!     --tsa http://tsa.example/ --anchor ca.pem [--tsa-ca tsa-ca.pem] --out OUT.p7s
//! ```
//!
//! The result is verified over `--document` (detached) before it is
//! written; without `--document` the content must be in the signature.

#[path = "support/certificate.rs"]
mod certificate;
#[path = "support/exit.rs"]
mod support;

use std::path::PathBuf;
use std::time::SystemTime;

use ssa::Level;
use ssa::cades::{
    Augmentation, Document, HttpRevocationSource, HttpTsa, Indication, VerifyOptions, augment,
    verify,
};

/// Raise a CAdES signature to a higher level.
#[derive(clap::Parser, Debug)]
#[command(name = "augment")]
struct Cli {
    /// The signature to raise.
    signature: PathBuf,
    /// The signed document (a detached signature's content).
    #[arg(long, value_name = "FILE")]
    document: Option<PathBuf>,
    /// The level to reach: b-t, b-lt or b-lta.
    #[arg(long, value_name = "LEVEL")]
    to: String,
    /// The RFC 3161 TSA.
    #[arg(long, value_name = "URL")]
    tsa: String,
    /// A trust anchor for the signers (PEM or DER), repeatable.
    #[arg(long, value_name = "FILE", required = true)]
    anchor: Vec<PathBuf>,
    /// A trust anchor for TSAs only (PEM or DER), repeatable; by default
    /// the TSAs chain to `--anchor`.
    #[arg(long, value_name = "FILE")]
    tsa_ca: Vec<PathBuf>,
    /// Where to write the raised signature.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

fn main() -> std::process::ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    support::exit("augment", run(&cli))
}

fn level(name: &str) -> Result<Level, Box<dyn std::error::Error>> {
    match name.to_ascii_lowercase().as_str() {
        "b-t" => Ok(Level::BT),
        "b-lt" => Ok(Level::BLt),
        "b-lta" => Ok(Level::BLta),
        other => Err(format!("--to {other}: not b-t, b-lt or b-lta").into()),
    }
}

fn run(cli: &Cli) -> Result<(), Box<dyn std::error::Error>> {
    let target = level(&cli.to)?;
    let signature = std::fs::read(&cli.signature)?;
    let document = cli.document.as_ref().map(std::fs::read).transpose()?;
    let anchors = cli
        .anchor
        .iter()
        .map(|p| certificate::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let tsa_anchors = cli
        .tsa_ca
        .iter()
        .map(|p| certificate::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    // The paths the validation data is gathered for end at either kind of
    // anchor.
    let all_anchors: Vec<_> = anchors.iter().chain(&tsa_anchors).cloned().collect();
    let tsa = HttpTsa::new(&cli.tsa)?;
    let revocation = HttpRevocationSource::default();
    let now = SystemTime::now();
    let with = Augmentation {
        tsa: Some(&tsa),
        revocation: Some(&revocation),
        anchors: &all_anchors,
        at: now,
    };
    // augment works on DER; a BER signature (OpenSSL's -stream) is read as
    // DER first.
    let der = ssa::cades::ber::to_der(&signature).unwrap_or(signature);
    let raised = augment(der, target, &with)?;

    let mut options = VerifyOptions::new(&anchors, now);
    if !tsa_anchors.is_empty() {
        options = options.with_tsa_anchors(&tsa_anchors);
    }
    let report = match &document {
        Some(bytes) => verify(&raised, Document::Bytes(bytes), &options),
        None => verify(&raised, Document::Enveloped, &options),
    };
    for (n, signer) in report.signers.iter().enumerate() {
        println!(
            "signer {n}: {}, CAdES {}",
            signer.signer.as_deref().unwrap_or("(unknown)"),
            signer
                .level
                .map_or_else(|| "?".to_owned(), |l| l.to_string())
        );
    }
    if report.indication() != Indication::TotalPassed {
        return Err(format!(
            "the raised signature does not verify: {:?}",
            report.indication()
        )
        .into());
    }
    if report.signers.iter().any(|s| s.level < Some(target)) {
        return Err(format!("a signer did not reach {target}").into());
    }
    std::fs::write(&cli.out, &raised)?;
    println!("wrote {} (TOTAL-PASSED)", cli.out.display());
    Ok(())
}
