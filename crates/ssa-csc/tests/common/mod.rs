//! A CSC server on a free loopback port over a fresh data directory, and
//! a small blocking client for it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

pub mod oauth;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use ssa::sad::PinPolicy;
use ssa::sad::factor::totp::{TotpConfig, code_at};
use ssa::{KeyAlgorithm, Scal, UnixTime};
use ssa_csc::provider::{EnrolledSigner, KeyBackend, Provider, ProviderOptions, SignerSpec};

/// Argon2id costs of microseconds, for tests.
pub const CHEAP: PinPolicy = PinPolicy {
    m_cost: 64,
    t_cost: 1,
    p_cost: 1,
    min_len: 4,
};

/// A running server and what it was built from.
pub struct Server {
    pub provider: Arc<Provider>,
    pub url: String,
    pub data: tempfile::TempDir,
    runtime: Option<tokio::runtime::Runtime>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// A server over a fresh soft-key data directory; `adjust` changes the
    /// options first.
    pub fn start(adjust: impl FnOnce(&mut ProviderOptions)) -> Self {
        let data = tempfile::tempdir().unwrap();
        let mut options = ProviderOptions::new(data.path());
        options.pin_policy = CHEAP;
        adjust(&mut options);
        let provider = Arc::new(Provider::open(options).unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let app = ssa_csc::router(provider.csc());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = runtime.spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Self {
            provider,
            url: format!("http://{address}"),
            data,
            runtime: Some(runtime),
            shutdown: Some(tx),
            served: Some(served),
        }
    }

    /// A server whose keys are on a fresh SoftHSM2 token.
    pub fn start_pkcs11(adjust: impl FnOnce(&mut ProviderOptions)) -> Self {
        let token = ssa_testkit::softhsm().create_token("csc", false);
        let config = token.config();
        Self::start(|options| {
            options.keys = KeyBackend::Pkcs11 {
                module: config.module.clone(),
                token: config.token_label.clone(),
                pin: config.user_pin.clone(),
            };
            adjust(options);
        })
    }

    /// Enrols `signer` with credential `SIGNER/1`.
    pub fn enrol(&self, signer: &str, key: KeyAlgorithm, scal: Scal) -> EnrolledSigner {
        self.provider
            .enrol(
                &SignerSpec {
                    signer: signer.into(),
                    credential: format!("{signer}/1"),
                    key,
                    scal,
                    subject: format!("CN={signer},O=csc test"),
                },
                SystemTime::now(),
            )
            .unwrap()
    }

    pub fn ca_pem(&self) -> PathBuf {
        self.provider.ca_pem()
    }

    pub fn client(&self, version: &str) -> Client {
        client_at(&self.url, version)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let (Some(runtime), Some(served)) = (self.runtime.take(), self.served.take()) {
            let _ = runtime.block_on(served);
            runtime.shutdown_background();
        }
    }
}

/// A client of the server at `url`.
pub fn client_at(url: &str, version: &str) -> Client {
    Client {
        base: format!("{url}/csc/{version}"),
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build()
            .into(),
        token: None,
    }
}

/// The TOTP code of `enrolled` now.
pub fn otp(enrolled: &EnrolledSigner) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    code_at(&enrolled.totp, &TotpConfig::default(), UnixTime(now))
        .as_str()
        .to_owned()
}

/// A CSC client: JSON POSTs with the bearer token once logged in.
pub struct Client {
    pub base: String,
    agent: ureq::Agent,
    pub token: Option<String>,
}

impl Client {
    /// POSTs `body` to `endpoint`: the status and the JSON answer (`Null`
    /// for an empty one).
    pub fn post(&self, endpoint: &str, body: &Value) -> (u16, Value) {
        self.post_raw(endpoint, &serde_json::to_vec(body).unwrap())
    }

    /// POSTs `body`; `None` if the request did not reach an answer (the
    /// connection was refused or cut).
    pub fn try_post(&self, endpoint: &str, body: &Value) -> Option<(u16, Value)> {
        let mut request = self
            .agent
            .post(format!("{}/{endpoint}", self.base))
            .header("Content-Type", "application/json");
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = request.send(&serde_json::to_vec(body).unwrap()[..]).ok()?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().ok()?;
        Some((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// POSTs `body`: the status, the JSON answer and the `x-request-id`.
    pub fn post_with_id(&self, endpoint: &str, body: &Value) -> (u16, Value, String) {
        let mut request = self
            .agent
            .post(format!("{}/{endpoint}", self.base))
            .header("Content-Type", "application/json")
            // A client's own id is not what the server logs or records.
            .header("x-request-id", "client-chosen");
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = request
            .send(&serde_json::to_vec(body).unwrap()[..])
            .unwrap();
        let status = response.status().as_u16();
        let id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.body_mut().read_to_string().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
            id,
        )
    }

    /// POSTs raw bytes.
    pub fn post_raw(&self, endpoint: &str, body: &[u8]) -> (u16, Value) {
        let mut request = self
            .agent
            .post(format!("{}/{endpoint}", self.base))
            .header("Content-Type", "application/json");
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = request.send(body).unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// Logs in with HTTP Basic; keeps the token.
    pub fn login(&mut self, user: &str, password: &str) -> (u16, Value) {
        use base64ct::{Base64, Encoding};
        let basic = Base64::encode_string(format!("{user}:{password}").as_bytes());
        let mut response = self
            .agent
            .post(format!("{}/auth/login", self.base))
            .header("Authorization", format!("Basic {basic}"))
            .send(&b""[..])
            .unwrap();
        let status = response.status().as_u16();
        let value: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        if status == 200 {
            self.token = Some(value["access_token"].as_str().unwrap().to_owned());
        }
        (status, value)
    }

    /// Logs in as `enrolled`.
    pub fn login_as(&mut self, enrolled: &EnrolledSigner) {
        let (status, body) = self.login(&enrolled.signer, &enrolled.password);
        assert_eq!(status, 200, "{body}");
    }
}

/// Standard base64.
pub fn b64(bytes: &[u8]) -> String {
    use base64ct::{Base64, Encoding};
    Base64::encode_string(bytes)
}

/// Decodes standard base64.
pub fn unb64(text: &str) -> Vec<u8> {
    use base64ct::{Base64, Encoding};
    Base64::decode_vec(text).unwrap()
}

/// The v2 authorization body for `enrolled` over `hashes` (SHA-256).
pub fn authorize_v2(enrolled: &EnrolledSigner, hashes: &[Vec<u8>], mode: &str) -> Value {
    json!({
        "credentialID": enrolled.credential,
        "numSignatures": hashes.len(),
        "hashes": hashes.iter().map(|h| b64(h)).collect::<Vec<_>>(),
        "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
        "signingMode": mode,
        "authData": [
            { "id": "PIN", "value": enrolled.pin.as_str() },
            { "id": "OTP", "value": otp(enrolled) },
        ],
    })
}
