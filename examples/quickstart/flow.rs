//! The quickstart's story, on any SCDev (shared by `quickstart` and `softhsm`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ssa::audit::{AuditLog, AuditOptions, scan};
use ssa::cades::{Document, HttpTsa, Indication};
use ssa::policy::Level;
use ssa::sad::*;
use ssa::scdev::{KeyId, KeySpec};
use ssa::{
    EnrolmentRequest, FileCredentialStore, HashAlgorithm, KeyAlgorithm, Scdev,
    ScdevCheckpointSigner, SignOptions, SignatureAlgorithm, SigningServiceBuilder,
};

/// The quickstart: the whole remote-signing story on one SCDev.
#[derive(clap::Parser, Debug)]
struct Cli {
    /// Where the documents, their signatures, the CA certificate and the
    /// audit log are written.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// An RFC 3161 TSA: the signatures are made at CAdES B-T (B-B without).
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    /// The certificate (PEM or DER) the TSA's certificate chains to,
    /// trusted for time-stamps only. Without it the time-stamps are judged
    /// against the quickstart's own CA, which does not issue TSAs: they are
    /// reported as unusable and the signatures count as B-B.
    #[arg(long, value_name = "FILE", requires = "tsa")]
    tsa_ca: Option<PathBuf>,
}

/// What the command line asked for.
pub(crate) struct Args {
    /// `--out DIR`.
    pub(crate) out: PathBuf,
    /// `--tsa URL`.
    pub(crate) tsa: Option<String>,
    /// `--tsa-ca FILE`.
    pub(crate) tsa_ca: Option<PathBuf>,
}

/// `--out DIR` (default `default_out`), `--tsa URL` and `--tsa-ca FILE`,
/// for `program`.
pub(crate) fn parse_args(program: &'static str, default_out: &'static str) -> Args {
    use clap::{CommandFactory, FromArgMatches};
    let command = Cli::command()
        .name(program)
        .mut_arg("out", |arg| arg.default_value(default_out));
    let matches = command.get_matches();
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => Args {
            out: cli.out,
            tsa: cli.tsa,
            tsa_ca: cli.tsa_ca,
        },
        Err(error) => error.exit(),
    }
}

/// Runs the whole story with `scdev` holding every key, writing into
/// `args.out`.
pub(crate) fn run(scdev: Arc<dyn Scdev>, args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&args.out)?;
    let work = tempfile::tempdir()?; // the provider's state: registry, audit log
    let now = SystemTime::now();
    let unix = UnixTime(now.duration_since(UNIX_EPOCH)?.as_secs());

    // The provider: a soft SCDev (its key-encryption key would come from a
    // KMS or an HSM), an audit key in it, the SAD issuer and the SAM.
    let audit_key = KeyId::new(b"audit-key".to_vec())?;
    let audit_info = scdev.generate_key(
        &audit_key,
        "audit checkpoints",
        KeySpec::new(KeyAlgorithm::EcP256),
    )?;
    let checkpoints = ScdevCheckpointSigner::new(
        Arc::clone(&scdev),
        audit_key,
        SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
    );
    let audit_path = args.out.join("audit.log");
    let _ = std::fs::remove_file(&audit_path);
    let audit = Arc::new(AuditLog::open(
        &audit_path,
        AuditOptions {
            checkpoint_signer: Some(Arc::new(checkpoints)),
            checkpoint_every: Some(4),
            ..AuditOptions::default()
        },
    )?);
    let (issuer_key, _pkcs8) = SadSigningKey::generate(SadAlgorithm::Es256)?;
    let issuer = SadIssuer::new(
        IssuerConfig::new("https://idp.quickstart.invalid", "sam-quickstart"),
        issuer_key,
        SeedKey::generate()?,
        Arc::new(MemoryLockoutStore::new()),
    );
    let sam = SadVerifier::new(
        SamConfig::new("sam-quickstart"),
        Arc::new(MemoryLedger::new()),
    )
    .trust("https://idp.quickstart.invalid", issuer.verifying_key());
    // A throw-away CA, its key in the same SCDev.
    let ca = ssa::DemoCa::create(
        Arc::clone(&scdev),
        KeyId::new(b"quickstart-ca".to_vec())?,
        "CN=ssa quickstart CA,O=throw-away",
        now,
    )?;
    std::fs::write(
        args.out.join("ca.pem"),
        ssa::demo_ca::certificate_pem(&der::Encode::to_der(ca.certificate())?),
    )?;
    let mut builder = SigningServiceBuilder::new(
        Arc::clone(&scdev),
        sam,
        Arc::new(FileCredentialStore::open(work.path().join("registry"))?),
        Arc::clone(&audit),
    )
    .issuer(issuer)
    .anchors(vec![ca.certificate().clone()]);
    if let Some(url) = &args.tsa {
        builder = builder.tsa(Box::new(HttpTsa::new(url)?));
    }
    if let Some(path) = &args.tsa_ca {
        builder = builder.tsa_anchors(vec![crate::certificate::read(path)?]);
    }
    let service = builder.build()?;

    // Enrolment: alice's key is generated inside the SCDev; she sets a PIN
    // and scans the TOTP seed into her authenticator app.
    let mut seed = [0u8; 20];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed)
        .map_err(|_| "no randomness")?;
    let seed = TotpSeed::new(seed.to_vec())?;
    let csr = service.enroll(
        EnrolmentRequest {
            credential: "alice/1".into(),
            signer: "alice".into(),
            evidence: "identity proofed in person, case 2026-0042".into(),
            key: KeySpec::new(KeyAlgorithm::EcP256),
            scal: Scal::Scal2,
            subject: "CN=Alice Example,O=Quickstart".parse()?,
            pin: Some(Pin::new("482916")),
            totp: Some((seed.clone(), TotpConfig::default())),
            device_key: None,
        },
        now,
    )?;
    let certificate = ca.issue(&csr, now)?;
    service.install_certificate("alice/1", std::slice::from_ref(&certificate), now)?;
    println!(
        "enrolled alice/1 (P-256 in the SCDev, SCAL2: PIN + TOTP); certificate issued from her CSR"
    );

    // Two documents; only their digests go to the service.
    let documents = [
        (
            "document-1.txt",
            "Contract 1: Alice agrees to the terms of the lease.\n",
        ),
        (
            "document-2.txt",
            "Contract 2: Alice approves the invoice of 1 000 EUR.\n",
        ),
    ];
    let digests: Vec<Vec<u8>> = documents
        .iter()
        .map(|(_, text)| HashAlgorithm::Sha256.digest(text.as_bytes()))
        .collect();

    // Authorization: alice approves both digests with her PIN and the code
    // her authenticator shows now; one SAD for both.
    let sad = service
        .authorize(
            &AuthorizationRequest {
                mode: SigningMode::Document,
                credential: "alice/1",
                hash_alg: HashAlgorithm::Sha256,
                digests: &digests,
                num: 2,
                lifetime: 120,
                factors: PresentedFactors {
                    pin: Some(Pin::new("482916")),
                    otp: Some(factor::totp::code_at(&seed, &TotpConfig::default(), unix)),
                    device: None,
                },
            },
            now,
        )?
        .sad;
    println!("authorized two documents with PIN + TOTP in one SAD");

    // Signing: the SAM checks the SAD; only then does alice's key sign.
    let level = if args.tsa.is_some() {
        Level::BT
    } else {
        Level::BB
    };
    let options = SignOptions {
        level,
        ..SignOptions::default()
    };
    let signatures = service.sign_documents("alice/1", &sad, &digests, &options, now)?;
    for ((name, text), signature) in documents.iter().zip(&signatures) {
        std::fs::write(args.out.join(name), text)?;
        std::fs::write(args.out.join(format!("{name}.p7s")), signature)?;
        let report = service.verify(
            signature,
            Document::Bytes(text.as_bytes()),
            SystemTime::now(),
        );
        println!(
            "{name}.p7s: CAdES {}, verified here: {}",
            report
                .signers
                .first()
                .and_then(|s| s.level)
                .map_or_else(|| "level not recognised".to_owned(), |l| l.to_string()),
            match report.indication() {
                Indication::TotalPassed => "TOTAL-PASSED".to_owned(),
                other => format!("{other:?}"),
            }
        );
        for unusable in report.signers.iter().flat_map(|s| &s.unusable_time_stamps) {
            println!("  a time-stamp was set aside: {unusable:?} (is --tsa-ca the TSA's CA?)");
        }
        if report.indication() != Indication::TotalPassed {
            return Err("a signature did not verify".into());
        }
    }
    // Replaying the SAD is refused.
    if service
        .sign_documents("alice/1", &sad, &digests, &options, now)
        .is_ok()
    {
        return Err("a replayed SAD was accepted".into());
    }
    println!("replaying the SAD: refused");

    let out = args.out.display();
    println!("\ncheck them with OpenSSL:");
    for (name, _) in &documents {
        println!(
            "  openssl cms -verify -cades -binary -inform DER -in {out}/{name}.p7s -content {out}/{name} -CAfile {out}/ca.pem -out /dev/null"
        );
    }

    audit.checkpoint(unix.0)?;
    let report = scan(&std::fs::read(&audit_path)?, None);
    println!(
        "\naudit log {out}/audit.log: {} records, {} signed checkpoints, chain {} (audit key {})",
        report.records,
        report.checkpoints,
        if report.is_intact() {
            "intact"
        } else {
            "BROKEN"
        },
        audit_info.id
    );
    Ok(())
}
