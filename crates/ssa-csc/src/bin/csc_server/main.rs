//! The CSC API server over the embedded default provider (one data
//! directory: soft SCDev or a PKCS#11 token, file stores, audit log, a
//! throw-away CA).
//!
//! ```text
//! cargo run -p ssa-csc -- --data ./csc-data --demo
//! cargo run -p ssa-csc -- --data ./csc-data enrol --signer bob --credential bob/1
//! ```

mod enrol;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use ssa::Pin;
use ssa_csc::provider::{KeyBackend, ProviderOptions};

/// The CSC API (v2 under /csc/v2, v1.0.4 under /csc/v1) over the ssa
/// remote signing core.
#[derive(Parser, Debug)]
#[command(name = "csc_server", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(flatten)]
    provider: ProviderArgs,
    #[command(flatten)]
    serve: serve::ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Enrol a signer (account, key, PIN, TOTP, certificate) and print
    /// their secrets once; the server may be running.
    Enrol {
        #[command(flatten)]
        provider: ProviderArgs,
        #[command(flatten)]
        signer: enrol::EnrolArgs,
    },
    /// Unlock a signer's account (after failed logins) and, with
    /// --credential, a credential (after failed authorizations); recorded
    /// in the audit log. The server may be running.
    Unlock {
        #[command(flatten)]
        provider: ProviderArgs,
        /// The signer whose account to unlock.
        #[arg(long)]
        signer: String,
        /// A credential of theirs to unlock too.
        #[arg(long)]
        credential: Option<String>,
        /// Who unlocks (written into the audit record).
        #[arg(long, default_value = "administrator")]
        admin: String,
    },
}

/// Where the provider keeps its state and keys.
#[derive(Args, Debug, Clone)]
struct ProviderArgs {
    /// The data directory (created on first start; its key-encryption key,
    /// SAD issuer key and seed key are made there with mode 0600).
    #[arg(long, default_value = "./csc-data")]
    data: PathBuf,
    /// A PKCS#11 module: keys on a token instead of the soft SCDev.
    #[arg(long, requires = "token")]
    module: Option<PathBuf>,
    /// The label of the PKCS#11 token.
    #[arg(long, requires = "module")]
    token: Option<String>,
    /// The environment variable holding the token's user PIN.
    #[arg(long, default_value = "SSA_TOKEN_PIN")]
    pin_env: String,
    /// An RFC 3161 TSA URL, for Ades-B-T and above.
    #[arg(long)]
    tsa: Option<String>,
    /// Fetch CRLs and OCSP responses where the certificates say (HTTP), for
    /// Ades-B-LT and Ades-B-LTA (with --tsa); the demo CA's certificates name no such place.
    #[arg(long)]
    revocation: bool,
    /// Seconds a bearer token is valid.
    #[arg(long, default_value_t = 3600)]
    token_lifetime: u64,
    /// Failed logins or authorizations before an account or credential locks.
    #[arg(long, default_value_t = 5)]
    max_failures: u32,
    /// The lowest SCAL a credential may sign at: 2 (PIN and a second
    /// factor, the SAD binds the hashes) or 1 (one factor; e.g. for seals).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=2))]
    min_scal: u8,
    /// A PostgreSQL database holding every store (ledger, lockout,
    /// challenges, credentials, accounts, bearer tokens, audit trail), to
    /// share with other nodes: postgres://USER@HOST/DB, or over a Unix
    /// socket postgres://USER@/DB?host=/run/postgresql. Without it the
    /// stores are files in --data. Keys and the issuer's key stay in --data
    /// (or the HSM) either way.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

impl ProviderArgs {
    fn options(&self) -> Result<ProviderOptions, String> {
        let mut options = ProviderOptions::new(&self.data);
        if let (Some(module), Some(token)) = (&self.module, &self.token) {
            let pin = std::env::var(&self.pin_env).map_err(|_| {
                format!(
                    "the token's user PIN is read from the environment variable {}, which is not set",
                    self.pin_env
                )
            })?;
            options.keys = KeyBackend::Pkcs11 {
                module: module.clone(),
                token: token.clone(),
                pin: Pin::new(pin),
            };
        }
        options.tsa = self.tsa.clone();
        options.revocation = self.revocation;
        options.token_lifetime = self.token_lifetime;
        options.max_failures = self.max_failures;
        options.database = self.database_url.clone();
        options.requests.default_scal = if self.min_scal == 1 {
            ssa::Scal::Scal1
        } else {
            ssa::Scal::Scal2
        };
        Ok(options)
    }
}

/// An error and its causes, as sentences.
fn report(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Enrol { provider, signer }) => provider
            .options()
            .map_err(Into::into)
            .and_then(|options| enrol::run(options, &signer)),
        Some(Command::Unlock {
            provider,
            signer,
            credential,
            admin,
        }) => provider
            .options()
            .map_err(Into::into)
            .and_then(|options| enrol::unlock(options, &signer, credential.as_deref(), &admin)),
        None => cli
            .provider
            .options()
            .map_err(Into::into)
            .and_then(|options| serve::run(options, &cli.serve)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("csc_server: {}", report(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}
