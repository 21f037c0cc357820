//! The client application's side of the OAuth2 flow, over plain HTTP
//! (redirects not followed, cookies by hand): what a browser test does
//! with Chromium, done without one for the many refusal cases.
#![allow(clippy::panic)]

use std::collections::BTreeMap;

use serde_json::Value;
use ssa::HashAlgorithm;
use ssa_csc::OAuthClient;

/// The registered client application.
pub const CLIENT: &str = "test-app";
/// Its secret (throw-away).
pub const SECRET: &str = "test-app-secret-3b1f0c6e9d2a4f8e";
/// Its redirect URI (nothing listens there: the tests read `Location`).
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// The client as the server registers it, redirecting to `redirect`.
pub fn client_at(redirect: &str) -> OAuthClient {
    let hash = HashAlgorithm::Sha256.digest(SECRET.as_bytes());
    serde_json::from_value(serde_json::json!({
        "id": CLIENT,
        "name": "Test <Signing> App",
        "secret_sha256": hash.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "redirect_uris": [redirect],
    }))
    .unwrap()
}

/// The client registered with [`REDIRECT`].
pub fn client() -> OAuthClient {
    client_at(REDIRECT)
}

/// RFC 3986 percent-encoding of a query value.
pub fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Decodes a percent-encoded query value.
pub fn unpercent(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&value[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// A PKCE verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

/// A fresh PKCE pair.
pub fn pkce() -> Pkce {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut bytes).unwrap();
    let verifier = Base64UrlUnpadded::encode_string(&bytes);
    let challenge =
        Base64UrlUnpadded::encode_string(&HashAlgorithm::Sha256.digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

/// What an authorization request asks.
pub struct Ask<'a> {
    pub version: &'a str,
    pub credential: &'a str,
    pub hashes: &'a [Vec<u8>],
    /// Labels: sent in `authorization_details` (else plain `hashes`).
    pub labels: Option<&'a [&'a str]>,
    pub redirect: &'a str,
    pub state: &'a str,
    pub challenge: &'a str,
    pub lang: Option<&'a str>,
    pub num: Option<usize>,
    /// ssa's `signingMode` (`document` for `signDoc`).
    pub mode: Option<&'a str>,
}

impl<'a> Ask<'a> {
    /// Defaults: v2, [`REDIRECT`], state `xyz`, no labels.
    pub fn new(credential: &'a str, hashes: &'a [Vec<u8>], challenge: &'a str) -> Self {
        Self {
            version: "v2",
            credential,
            hashes,
            labels: None,
            redirect: REDIRECT,
            state: "xyz",
            challenge,
            lang: None,
            num: None,
            mode: None,
        }
    }

    /// The authorize URL on the server at `base`.
    pub fn url(&self, base: &str) -> String {
        let mut params = vec![
            ("response_type", "code".to_owned()),
            ("client_id", CLIENT.to_owned()),
            ("redirect_uri", self.redirect.to_owned()),
            ("code_challenge", self.challenge.to_owned()),
            ("code_challenge_method", "S256".to_owned()),
            ("state", self.state.to_owned()),
            ("description", "Contracts of the month".to_owned()),
        ];
        let b64 = |h: &Vec<u8>| {
            use base64ct::{Base64UrlUnpadded, Encoding};
            Base64UrlUnpadded::encode_string(h)
        };
        match self.labels {
            Some(labels) => {
                let digests: Vec<Value> = self
                    .hashes
                    .iter()
                    .zip(labels)
                    .map(|(h, l)| serde_json::json!({ "hash": b64(h), "label": l }))
                    .collect();
                let details = serde_json::json!([{
                    "type": "credential",
                    "credentialID": self.credential,
                    "documentDigests": digests,
                    "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                }]);
                params.push(("authorization_details", details.to_string()));
            }
            None => {
                params.push(("scope", "credential".into()));
                params.push(("credentialID", self.credential.to_owned()));
                let list: Vec<String> = self.hashes.iter().map(b64).collect();
                params.push(("hashes", list.join(",")));
                params.push(("hashAlgorithmOID", "2.16.840.1.101.3.4.2.1".into()));
            }
        }
        if let Some(num) = self.num {
            params.push(("numSignatures", num.to_string()));
        }
        if let Some(mode) = self.mode {
            params.push(("signingMode", mode.to_owned()));
        }
        if let Some(lang) = self.lang {
            params.push(("lang", lang.to_owned()));
        }
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", percent(v)))
            .collect();
        format!(
            "{base}/csc/{}/oauth2/authorize?{}",
            self.version,
            query.join("&")
        )
    }
}

/// One HTTP answer.
pub struct Answer {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The page session's cookie (`name=value`).
    pub fn cookie(&self) -> String {
        self.header("set-cookie")
            .and_then(|c| c.split(';').next())
            .unwrap_or_else(|| panic!("no cookie: {}", self.status))
            .to_owned()
    }

    /// The CSRF token of the page's form.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no form: {}", self.body))
            + "name=\"csrf\" value=\"".len();
        self.body[at..].split('"').next().unwrap().to_owned()
    }

    /// The page id of the page's form.
    pub fn page(&self) -> String {
        let at = self
            .body
            .find("name=\"page\" value=\"")
            .unwrap_or_else(|| panic!("no form: {}", self.body))
            + "name=\"page\" value=\"".len();
        self.body[at..].split('"').next().unwrap().to_owned()
    }

    /// The parameters of the `Location` it redirects to.
    pub fn redirected(&self) -> BTreeMap<String, String> {
        assert_eq!(self.status, 303, "{}", self.body);
        let location = self.header("location").unwrap();
        location
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), unpercent(v)))
            .collect()
    }
}

/// An agent that follows no redirect and keeps no cookie.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into()
}

fn answer(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    Answer {
        status: response.status().as_u16(),
        headers,
        body: response.body_mut().read_to_string().unwrap(),
    }
}

/// GET `url`.
pub fn get(url: &str, accept_language: Option<&str>) -> Answer {
    let mut request = agent().get(url);
    if let Some(lang) = accept_language {
        request = request.header("Accept-Language", lang);
    }
    answer(request.call().unwrap())
}

/// POSTs the page's form to `url` with `cookie` (if any).
pub fn post_form(url: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Answer {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", percent(v)))
        .collect();
    let mut request = agent()
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    answer(request.send(body.join("&").as_bytes()).unwrap())
}

/// The authorize endpoint (where the page posts).
pub fn authorize_endpoint(base: &str, version: &str) -> String {
    format!("{base}/csc/{version}/oauth2/authorize")
}

/// Opens the page for `ask` and approves it with `pin` and `otp`: the
/// redirect's parameters.
pub fn approve(base: &str, ask: &Ask<'_>, pin: &str, otp: &str) -> BTreeMap<String, String> {
    let page = get(&ask.url(base), None);
    assert_eq!(page.status, 200, "{}", page.body);
    let answered = post_form(
        &authorize_endpoint(base, ask.version),
        Some(&page.cookie()),
        &[
            ("page", &page.page()),
            ("csrf", &page.csrf()),
            ("pin", pin),
            ("otp", otp),
            ("action", "approve"),
        ],
    );
    answered.redirected()
}

/// POSTs a token request (a form) with the client's credentials added.
pub fn token(base: &str, version: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let mut all: Vec<(&str, &str)> = vec![("client_id", CLIENT), ("client_secret", SECRET)];
    all.extend_from_slice(fields);
    let answered = post_form(&format!("{base}/csc/{version}/oauth2/token"), None, &all);
    (
        answered.status,
        serde_json::from_str(&answered.body).unwrap_or(Value::String(answered.body)),
    )
}

/// Exchanges `code` with `verifier`: the status and answer.
pub fn exchange(base: &str, code: &str, verifier: &str) -> (u16, Value) {
    token(
        base,
        "v2",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
}
