//! Serving: listen (TLS, or plain HTTP on loopback), log, shut down
//! gracefully on SIGTERM/SIGINT and seal the audit log.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::Args;
use ssa_csc::provider::{Provider, ProviderOptions};
use ssa_csc::service::Limits;

/// How the server listens and what it bounds.
#[derive(Args, Debug, Clone)]
pub(crate) struct ServeArgs {
    /// The address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The TLS certificate chain (PEM); with --tls-key, serve HTTPS.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve plain HTTP on an address that is not loopback (never do this
    /// outside a closed network: bearer tokens, PINs and OTPs travel in it).
    #[arg(long)]
    insecure_http: bool,
    /// Enrol a demo signer ("demo", P-256, SCAL2) on first start and print
    /// their password, PIN and TOTP URI once.
    #[arg(long)]
    demo: bool,
    /// Log as JSON lines.
    #[arg(long)]
    log_json: bool,
    /// Seconds in-flight requests may take to finish after SIGTERM/SIGINT.
    #[arg(long, default_value_t = 10)]
    shutdown_grace: u64,
    /// Largest request body in bytes (above: 413).
    #[arg(long, default_value_t = Limits::default().body_bytes)]
    max_body: usize,
    /// Most hashes in one request (above: 400).
    #[arg(long, default_value_t = Limits::default().hashes_per_request)]
    max_hashes: usize,
    /// Seconds a request may take (above: 503).
    #[arg(long, default_value_t = Limits::default().request_time.as_secs())]
    request_timeout: u64,
    /// Most requests in progress at once (above: 503).
    #[arg(long, default_value_t = Limits::default().in_flight)]
    max_in_flight: usize,
    /// The client applications allowed to use the OAuth2 flow (the consent
    /// page): a JSON array of {"id", "name", "secret_sha256"?,
    /// "redirect_uris"}. Without it, `oauth2/authorize` knows no client.
    #[arg(long, value_name = "FILE")]
    oauth_clients: Option<PathBuf>,
    /// The service's public base URL (e.g. `https://sign.example`), which
    /// `info` gives as the OAuth2 server's; by default made from the
    /// request's Host.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // A log reader that went away must not stop the server: the
        // default reports a failed write with eprintln!, which panics on a
        // closed stderr.
        .log_internal_errors(false);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub(crate) fn run(
    mut options: ProviderOptions,
    args: &ServeArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    init_logs(args.log_json);
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        _ => None,
    };
    if tls.is_none() && !args.listen.ip().is_loopback() && !args.insecure_http {
        return Err(format!(
            "refusing plain HTTP on {}, which is not a loopback address: give --tls-cert and --tls-key, or --insecure-http",
            args.listen
        )
        .into());
    }
    options.settings.limits = Limits {
        body_bytes: args.max_body,
        hashes_per_request: args.max_hashes,
        request_time: Duration::from_secs(args.request_timeout),
        in_flight: args.max_in_flight.max(1),
    };
    if let Some(path) = &args.oauth_clients {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("reading the OAuth2 clients {}: {e}", path.display()))?;
        options.settings.oauth.clients = ssa_csc::OAuthSettings::clients_from_json(&bytes)
            .map_err(|e| format!("the OAuth2 clients {}: {e}", path.display()))?;
    }
    // The page session's cookie is Secure when the server speaks HTTPS.
    options.settings.oauth.secure_cookies = tls.is_some();
    options.settings.oauth.public_url = args.public_url.clone();
    let provider = Provider::open(options)?;
    let csc = provider.csc();
    if args.demo {
        demo_signer(&provider)?;
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        // Before anything is announced: a SIGTERM from then on shuts down
        // gracefully.
        let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let handle = axum_server::Handle::new();
        let app = ssa_csc::router(csc.clone()).into_make_service();
        let grace = Duration::from_secs(args.shutdown_grace);
        let served = {
            let handle = handle.clone();
            match tls {
                Some((cert, key)) => {
                    let _ = rustls::crypto::ring::default_provider().install_default();
                    let config =
                        axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await?;
                    tokio::spawn(
                        axum_server::bind_rustls(args.listen, config)
                            .handle(handle)
                            .serve(app),
                    )
                }
                None => tokio::spawn(axum_server::bind(args.listen).handle(handle).serve(app)),
            }
        };
        let scheme = if args.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        let Some(address) = handle.listening().await else {
            return match served.await {
                Ok(Err(e)) => Err(format!("cannot listen on {}: {e}", args.listen).into()),
                _ => Err(format!("cannot listen on {}", args.listen).into()),
            };
        };
        println!(
            "CA certificate (trust anchor): {}",
            provider.ca_pem().display()
        );
        println!("listening on {scheme}://{address}");
        tracing::info!(%address, "listening");
        shutdown_signal(terminate).await;
        tracing::info!("shutting down: refusing new connections, finishing requests in progress");
        handle.graceful_shutdown(Some(grace));
        served.await??;
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    // Every answered signature's record is durable already; a checkpoint
    // seals the tail of the log.
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    csc.signing().audit().checkpoint(now)?;
    tracing::info!("stopped; audit log sealed");
    Ok(())
}

fn demo_signer(provider: &Provider) -> Result<(), Box<dyn std::error::Error>> {
    let args = crate::enrol::EnrolArgs {
        signer: "demo".into(),
        credential: None,
        key: crate::enrol::KeyKind::P256,
        scal1: false,
        name: Some("Demo Signer".into()),
    };
    let spec = args.spec();
    if !provider.csc().list(&spec.signer)?.is_empty() {
        println!(
            "demo signer \"demo\" exists already (its secrets were printed when it was enrolled)"
        );
        return Ok(());
    }
    let enrolled = provider.enrol(&spec, SystemTime::now())?;
    crate::enrol::print(&enrolled, spec.scal);
    Ok(())
}

async fn shutdown_signal(mut terminate: tokio::signal::unix::Signal) {
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
