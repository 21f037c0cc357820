//! CSC OAuth2 (`oauth2/authorize`, `oauth2/token`, `oauth2/revoke`): the
//! signer's own browser is sent to the service, which shows them what is
//! about to be signed and asks for their factors; the client application
//! gets a code it exchanges (with its PKCE verifier) for a token that
//! works like a SAD.
//!
//! - `scope=credential` (or `authorization_details` of type
//!   `credential`): the consent page names the service, the client, the
//!   signer, the credential's certificate, every document's label and
//!   digest; PIN and OTP go to the same SAD issuer as
//!   `credentials/authorize`, which counts failures toward the lockout.
//!   Approving mints a SAD for exactly those digests; the code carries it
//!   (sealed), and the credential token it yields carries it to
//!   `signatures/signHash` / `signDoc`, where the SAM and its ledger judge
//!   it as any SAD: only those digests, only that credential, at most
//!   `numSignatures` times.
//! - `scope=service`: a sign-in page (account name and password); the
//!   code yields a bearer token as `auth/login` does, and a refresh token.
//!
//! Page sessions, codes and tokens are [`GrantStore`](ssa::store::GrantStore)
//! grants (files or PostgreSQL): a flow begun on one node completes on
//! another, and a code is exchanged once.

mod flow;
pub(crate) mod http;
mod page;
mod seal;

pub(crate) use seal::Grants;

/// A client application allowed to send signers to the consent page.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
pub struct OAuthClient {
    /// Its `client_id`.
    pub id: String,
    /// Its name, shown to the signer.
    pub name: String,
    /// SHA-256 (hex) of its secret, for a confidential client; `None` for
    /// a public client, which proves itself with PKCE only. The secret
    /// must be high-entropy (at least 128 random bits).
    #[serde(default)]
    pub secret_sha256: Option<String>,
    /// The redirect URIs it may use, compared exactly.
    pub redirect_uris: Vec<String>,
}

impl core::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("confidential", &self.secret_sha256.is_some())
            .field("redirect_uris", &self.redirect_uris)
            .finish()
    }
}

/// The OAuth2 flow's settings.
#[derive(Clone, Debug)]
pub struct OAuthSettings {
    /// The registered client applications (none: the flow is refused).
    pub clients: Vec<OAuthClient>,
    /// Seconds a consent page stays usable.
    pub page_lifetime: u64,
    /// Seconds a code may wait for its exchange.
    pub code_lifetime: u64,
    /// Seconds a refresh token (`scope=service`) is valid.
    pub refresh_lifetime: u64,
    /// Mark the page session's cookie `Secure` (the server is reached over
    /// HTTPS).
    pub secure_cookies: bool,
    /// The service's public base URL (`https://sign.example`), which
    /// `info` gives clients as the OAuth2 server's; by default it is made
    /// from the request's `Host` (https with `secure_cookies`).
    pub public_url: Option<String>,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self {
            clients: Vec::new(),
            page_lifetime: 600,
            code_lifetime: 60,
            refresh_lifetime: 86_400,
            secure_cookies: false,
            public_url: None,
        }
    }
}

impl OAuthSettings {
    /// The clients of a JSON file: an array of
    /// `{"id", "name", "secret_sha256"?, "redirect_uris"}`.
    pub fn clients_from_json(bytes: &[u8]) -> Result<Vec<OAuthClient>, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    pub(crate) fn client(&self, id: &str) -> Option<&OAuthClient> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// What `info` adds when the flow has clients: `oauth2code` in
    /// `authType`, the OAuth2 endpoints in `methods`, and `oauth2`, the
    /// OAuth2 server's base URI (for API `version`).
    pub(crate) fn advertise(
        &self,
        info: &mut serde_json::Value,
        host: Option<&str>,
        version: &str,
    ) {
        if self.clients.is_empty() {
            return;
        }
        let base = match (&self.public_url, host) {
            (Some(url), _) => Some(url.trim_end_matches('/').to_owned()),
            (None, Some(host)) => Some(format!(
                "{}://{host}",
                if self.secure_cookies { "https" } else { "http" }
            )),
            (None, None) => None,
        };
        if let Some(types) = info["authType"].as_array_mut() {
            types.push("oauth2code".into());
        }
        if let Some(methods) = info["methods"].as_array_mut() {
            for method in ["oauth2/authorize", "oauth2/token", "oauth2/revoke"] {
                methods.push(method.into());
            }
        }
        if let Some(base) = base {
            info["oauth2"] = format!("{base}/csc/{version}").into();
        }
    }
}
