//! The OAuth2 flow, transport-free: what an authorize request opens, what
//! the signer's answer on the page does, what a code and a token are
//! exchanged for. The HTTP handlers (`http.rs`) read and write; every
//! decision is here.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use ssa::sad::{Otp, Sad, SigningMode};
use ssa::{HashAlgorithm, Pin};
use zeroize::Zeroizing;

use super::OAuthClient;
use super::page::{Lang, Message, View};
use super::seal::Secret;
use crate::codec;
use crate::error::{Cause, CscError};
use crate::service::{Authorize, CscService, secs};

/// Longest `state`, label, description a request may carry (characters).
const MAX_STATE: usize = 512;
const MAX_LABEL: usize = 256;
const MAX_DESCRIPTION: usize = 512;

/// What the flow is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Scope {
    /// A signature: the consent page, a credential token.
    Credential,
    /// Sign-in: a bearer token and a refresh token.
    Service,
}

/// A consent page waiting for the signer's answer (sealed in its grant).
#[derive(Serialize, Deserialize)]
pub(crate) struct Pending {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) state: Option<String>,
    pub(crate) challenge: String,
    pub(crate) scope: Scope,
    pub(crate) signer: Option<String>,
    pub(crate) credential: Option<String>,
    pub(crate) document: bool,
    pub(crate) hash: Option<String>,
    pub(crate) hashes: Vec<Vec<u8>>,
    pub(crate) labels: Vec<Option<String>>,
    pub(crate) num: u32,
    pub(crate) description: Option<String>,
    pub(crate) lang: Lang,
    pub(crate) csrf: Zeroizing<String>,
}

/// An authorization code's grant.
#[derive(Serialize, Deserialize)]
struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: Scope,
    signer: String,
    credential: Option<String>,
    hash: Option<String>,
    hashes: Vec<Vec<u8>>,
    sad: Option<Zeroizing<String>>,
    expires: u64,
}

/// A credential token's grant: the SAD it carries.
#[derive(Serialize, Deserialize)]
pub(crate) struct CredentialToken {
    pub(crate) client_id: String,
    pub(crate) signer: String,
    pub(crate) credential: String,
    pub(crate) sad: Zeroizing<String>,
}

/// A refresh token's grant.
#[derive(Serialize, Deserialize)]
struct Refresh {
    client_id: String,
    signer: String,
}

const PAGE: &str = "page";
const CODE: &str = "code";
const TOKEN: &str = "credential-token";
const REFRESH: &str = "refresh";

/// `oauth2/authorize` as both versions carry it (query parameters).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    state: Option<String>,
    lang: Option<String>,
    #[serde(rename = "credentialID")]
    credential: Option<String>,
    #[serde(rename = "numSignatures")]
    num: Option<String>,
    hashes: Option<String>,
    /// v1's name of `hashes`.
    hash: Option<String>,
    #[serde(rename = "hashAlgorithmOID")]
    hash_algorithm: Option<String>,
    description: Option<String>,
    authorization_details: Option<String>,
    /// ssa's extension, as in `credentials/authorize`.
    #[serde(rename = "signingMode")]
    signing_mode: Option<String>,
}

/// What an authorize request gets.
pub(crate) enum Opened {
    /// The page, and the secret of its session (the cookie).
    Page(Box<View>, Secret),
    /// The client or its redirect URI is not known: an error page, never
    /// a redirect (RFC 6749 §4.1.2.1).
    Refused(Lang, String),
    /// Anything else wrong: back to the client with an error.
    Redirect(String),
}

/// What the signer's answer on the page gets.
pub(crate) enum Answered {
    /// Back to the client (a code, or `access_denied`).
    Redirect(String),
    /// The page again, with a message (wrong factors, locked).
    Page(Box<View>, u16),
    /// No page session, or a bad CSRF token: nothing happens.
    Refused(Lang, u16, String),
}

/// The signer's answer (the page's form).
#[derive(Default, Deserialize)]
pub(crate) struct AnswerForm {
    /// The page's id (names its session cookie).
    pub(crate) page: Option<String>,
    pub(crate) csrf: Option<String>,
    pub(crate) action: Option<String>,
    pub(crate) pin: Option<codec::SecretText>,
    pub(crate) otp: Option<codec::SecretText>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<codec::SecretText>,
}

/// `oauth2/token` (form or JSON).
#[derive(Default, Deserialize)]
pub(crate) struct TokenRequest {
    pub(crate) grant_type: Option<String>,
    pub(crate) code: Option<codec::SecretText>,
    pub(crate) refresh_token: Option<codec::SecretText>,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<codec::SecretText>,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) code_verifier: Option<codec::SecretText>,
    /// If sent, the hashes must be those the signer approved.
    pub(crate) hashes: Option<String>,
    pub(crate) authorization_details: Option<String>,
}

/// `oauth2/revoke`.
#[derive(Default, Deserialize)]
pub(crate) struct RevokeRequest {
    pub(crate) token: Option<codec::SecretText>,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<codec::SecretText>,
}

/// An OAuth2 error answer (RFC 6749 §5.2).
pub(crate) fn oauth_error(code: &'static str, description: impl Into<String>) -> CscError {
    let status = if code == "invalid_client" { 401 } else { 400 };
    CscError::oauth(status, code, description)
}

fn redirect(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (name, value) in params {
        out.push(sep);
        out.push_str(name);
        out.push('=');
        out.push_str(&percent(value));
        sep = '&';
    }
    out
}

/// Percent-encoding of everything but RFC 3986's unreserved characters.
fn percent(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn error_redirect(uri: &str, state: Option<&str>, error: &str, description: &str) -> String {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect(uri, &params)
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub(crate) fn s256(verifier: &str) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(&HashAlgorithm::Sha256.digest(verifier.as_bytes()))
}

fn same(a: &str, b: &str) -> bool {
    // Compared through their hashes: no early exit on the secret's bytes.
    HashAlgorithm::Sha256.digest(a.as_bytes()) == HashAlgorithm::Sha256.digest(b.as_bytes())
}

fn hash_named(name: &str) -> Option<HashAlgorithm> {
    HashAlgorithm::ALL
        .into_iter()
        .find(|h| h.to_string() == name)
}

/// The hashes of a comma-separated list (base64 or base64url).
fn hash_list(text: &str) -> Result<Vec<Vec<u8>>, CscError> {
    text.split(',')
        .filter(|h| !h.trim().is_empty())
        .map(|h| codec::base64(h.trim(), "hashes"))
        .collect()
}

/// CSC v2 `authorization_details` of type `credential`.
#[derive(Deserialize)]
struct Detail {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "credentialID")]
    credential: Option<String>,
    #[serde(rename = "documentDigests", default)]
    digests: Vec<DetailDigest>,
    #[serde(rename = "hashAlgorithmOID")]
    hash_algorithm: Option<String>,
}

#[derive(Deserialize)]
struct DetailDigest {
    hash: String,
    label: Option<String>,
}

struct Requested {
    credential: Option<String>,
    hashes: Vec<Vec<u8>>,
    labels: Vec<Option<String>>,
    hash_oid: Option<String>,
}

fn details(text: &str) -> Result<Requested, String> {
    let details: Vec<Detail> = serde_json::from_str(text)
        .map_err(|_| "authorization_details is not a JSON array of details".to_owned())?;
    let [detail] = details.as_slice() else {
        return Err("authorization_details must hold one detail".into());
    };
    if detail.kind != "credential" {
        return Err("authorization_details: only type credential is offered".into());
    }
    let mut hashes = Vec::new();
    let mut labels = Vec::new();
    for digest in &detail.digests {
        hashes.push(codec::base64(&digest.hash, "documentDigests").map_err(|e| e.description)?);
        labels.push(digest.label.clone());
    }
    Ok(Requested {
        credential: detail.credential.clone(),
        hashes,
        labels,
        hash_oid: detail.hash_algorithm.clone(),
    })
}

fn requested(query: &AuthorizeQuery) -> Result<Requested, String> {
    if let Some(text) = &query.authorization_details {
        if query.hashes.is_some() || query.hash.is_some() {
            return Err("hashes and authorization_details both given".into());
        }
        return details(text);
    }
    let list = query.hashes.as_deref().or(query.hash.as_deref());
    let hashes = list
        .map(hash_list)
        .transpose()
        .map_err(|e| e.description)?
        .unwrap_or_default();
    Ok(Requested {
        credential: query.credential.clone(),
        labels: vec![None; hashes.len()],
        hashes,
        hash_oid: query.hash_algorithm.clone(),
    })
}

fn too_long(value: Option<&str>, max: usize) -> bool {
    value.is_some_and(|v| v.chars().count() > max)
}

impl CscService {
    /// The client `id`, if registered.
    fn client(&self, id: Option<&str>) -> Option<&OAuthClient> {
        self.settings().oauth.client(id?)
    }

    /// `oauth2/authorize`: checks the request and opens the page.
    pub(crate) fn open_page(
        &self,
        query: &AuthorizeQuery,
        accept_language: Option<&str>,
        now: SystemTime,
    ) -> Result<Opened, CscError> {
        let lang = Lang::choose(query.lang.as_deref(), accept_language);
        let Some(client) = self.client(query.client_id.as_deref()) else {
            return Ok(Opened::Refused(lang, "unknown client_id".into()));
        };
        let Some(redirect_uri) = query
            .redirect_uri
            .as_deref()
            .filter(|uri| client.redirect_uris.iter().any(|r| r == uri))
        else {
            return Ok(Opened::Refused(
                lang,
                "redirect_uri is missing or not registered for this client".into(),
            ));
        };
        if too_long(query.state.as_deref(), MAX_STATE) {
            return Ok(Opened::Refused(lang, "state is too long".into()));
        }
        let state = query.state.as_deref();
        let back = |error: &str, description: &str| {
            Ok(Opened::Redirect(error_redirect(
                redirect_uri,
                state,
                error,
                description,
            )))
        };
        if query.response_type.as_deref() != Some("code") {
            return back("unsupported_response_type", "response_type must be code");
        }
        let Some(challenge) = query
            .code_challenge
            .as_deref()
            .filter(|c| (43..=128).contains(&c.len()))
        else {
            return back(
                "invalid_request",
                "PKCE is required: code_challenge (43 to 128 characters)",
            );
        };
        if query.code_challenge_method.as_deref() != Some("S256") {
            return back("invalid_request", "code_challenge_method must be S256");
        }
        let scope = match (
            query.scope.as_deref(),
            query.authorization_details.is_some(),
        ) {
            (Some("credential") | None, true) | (Some("credential"), false) => Scope::Credential,
            (Some("service"), false) => Scope::Service,
            _ => return back("invalid_scope", "scope must be credential or service"),
        };
        if too_long(query.description.as_deref(), MAX_DESCRIPTION) {
            return back("invalid_request", "description is too long");
        }
        let mut pending = Pending {
            client_id: client.id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            state: query.state.clone(),
            challenge: challenge.to_owned(),
            scope,
            signer: None,
            credential: None,
            document: false,
            hash: None,
            hashes: Vec::new(),
            labels: Vec::new(),
            num: 0,
            description: query.description.clone(),
            lang,
            csrf: Zeroizing::new(Secret::new().map_err(store)?.expose().to_owned()),
        };
        if scope == Scope::Credential {
            let asked = match requested(query) {
                Ok(asked) => asked,
                Err(e) => return back("invalid_request", &e),
            };
            if asked
                .labels
                .iter()
                .any(|l| too_long(l.as_deref(), MAX_LABEL))
            {
                return back("invalid_request", "a document label is too long");
            }
            let Some(credential) = asked.credential else {
                return back("invalid_request", "credentialID is required");
            };
            if asked.hashes.is_empty() {
                return back(
                    "invalid_request",
                    "the hashes to sign are required: the signer approves what is shown",
                );
            }
            let limit = self.settings().limits.hashes_per_request;
            if asked.hashes.len() > limit {
                return back("invalid_request", "more hashes than the server takes");
            }
            let hash = match asked.hash_oid.as_deref() {
                Some(oid) => codec::hash_algorithm(oid, "hashAlgorithmOID"),
                None => crate::v1::hash_by_length(&asked.hashes),
            };
            let hash = match hash {
                Ok(hash) => hash,
                Err(e) => return back("invalid_request", &e.description),
            };
            if asked.hashes.iter().any(|h| h.len() != hash.digest_len()) {
                return back("invalid_request", "a hash does not fit hashAlgorithmOID");
            }
            let num = match query.num.as_deref().map(str::parse::<u32>) {
                None => u32::try_from(asked.hashes.len()).unwrap_or(u32::MAX),
                Some(Ok(n)) if n >= 1 => n,
                Some(_) => return back("invalid_request", "numSignatures must be at least 1"),
            };
            pending.document = match query.signing_mode.as_deref() {
                None | Some("dtbsr") => false,
                Some("document") => true,
                Some(_) => return back("invalid_request", "signingMode is dtbsr or document"),
            };
            let signer = match self.signing().owner_of(&credential) {
                Ok(signer) => signer,
                Err(ssa::ServiceError::UnknownCredential { .. }) => {
                    return back("invalid_request", "unknown credentialID");
                }
                Err(e) => return Err(e.into()),
            };
            pending.signer = Some(signer);
            pending.credential = Some(credential);
            pending.hash = Some(hash.to_string());
            pending.hashes = asked.hashes;
            pending.labels = asked.labels;
            pending.num = num;
        }
        let view = self.view(&pending, None, now)?;
        let oauth = &self.settings().oauth;
        let expires = secs(now).saturating_add(oauth.page_lifetime);
        let secret = self
            .grants()
            .put(PAGE, &pending, expires, secs(now))
            .map_err(store)?;
        Ok(Opened::Page(Box::new(view), secret))
    }

    /// What the page shows for `pending`, with `message` if any.
    fn view(
        &self,
        pending: &Pending,
        message: Option<Message>,
        now: SystemTime,
    ) -> Result<View, CscError> {
        let client = self
            .client(Some(&pending.client_id))
            .map_or_else(|| pending.client_id.clone(), |c| c.name.clone());
        let credential = match (&pending.signer, &pending.credential) {
            (Some(signer), Some(credential)) => Some(self.info(signer, credential, now)?),
            _ => None,
        };
        Ok(View::new(
            self.settings().name.clone(),
            client,
            pending,
            credential.as_ref(),
            message,
        ))
    }

    /// The signer's answer on the page whose session is `session`.
    pub(crate) fn answer_page(
        &self,
        session: Option<&str>,
        form: &AnswerForm,
        now: SystemTime,
    ) -> Result<Answered, CscError> {
        let lang = Lang::En;
        let Some(session) = session else {
            return Ok(Answered::Refused(lang, 400, "no consent session".into()));
        };
        let Some(pending) = self
            .grants()
            .get::<Pending>(PAGE, session, secs(now))
            .map_err(store)?
        else {
            return Ok(Answered::Refused(
                lang,
                400,
                "the consent session is unknown or has expired".into(),
            ));
        };
        let lang = pending.lang;
        if !form
            .csrf
            .as_deref()
            .is_some_and(|csrf| same(csrf, &pending.csrf))
        {
            return Ok(Answered::Refused(
                lang,
                403,
                "the form's CSRF token is missing or wrong".into(),
            ));
        }
        let state = pending.state.as_deref();
        match form.action.as_deref() {
            Some("deny") => {
                // Spent whoever gets here first; either way the client
                // hears no.
                self.grants()
                    .take::<Pending>(PAGE, session, secs(now))
                    .map_err(store)?;
                return Ok(Answered::Redirect(error_redirect(
                    &pending.redirect_uri,
                    state,
                    "access_denied",
                    "the signer denied the request",
                )));
            }
            Some("approve") => {}
            _ => return Ok(Answered::Refused(lang, 400, "no action".into())),
        }
        let approved = match pending.scope {
            Scope::Credential => self.approve_signature(&pending, form, now),
            Scope::Service => self.approve_sign_in(form),
        };
        let (signer, sad, expires) = match approved {
            Ok(approved) => approved,
            Err(e) => {
                let (message, status) = told(&e);
                let mut view = self.view(&pending, Some(message), now)?;
                view.set_request_error(e.cause == Cause::Request, &e.description);
                return Ok(Answered::Page(Box::new(view), status));
            }
        };
        // The page is spent now: of two answers racing, one gets a code.
        if self
            .grants()
            .take::<Pending>(PAGE, session, secs(now))
            .map_err(store)?
            .is_none()
        {
            return Ok(Answered::Refused(
                lang,
                400,
                "the consent session was already answered".into(),
            ));
        }
        let code = Code {
            client_id: pending.client_id.clone(),
            redirect_uri: pending.redirect_uri.clone(),
            challenge: pending.challenge.clone(),
            scope: pending.scope,
            signer,
            credential: pending.credential.clone(),
            hash: pending.hash.clone(),
            hashes: pending.hashes.clone(),
            sad,
            expires,
        };
        let lifetime = self.settings().oauth.code_lifetime;
        let secret = self
            .grants()
            .put(CODE, &code, secs(now).saturating_add(lifetime), secs(now))
            .map_err(store)?;
        let mut params = vec![("code", secret.expose())];
        if let Some(state) = state {
            params.push(("state", state));
        }
        Ok(Answered::Redirect(redirect(&pending.redirect_uri, &params)))
    }

    /// The SAD for the page's hashes, with the factors given.
    #[allow(clippy::type_complexity)]
    fn approve_signature(
        &self,
        pending: &Pending,
        form: &AnswerForm,
        now: SystemTime,
    ) -> Result<(String, Option<Zeroizing<String>>, u64), CscError> {
        let (Some(signer), Some(credential), Some(hash)) = (
            &pending.signer,
            &pending.credential,
            pending.hash.as_deref().and_then(hash_named),
        ) else {
            return Err(CscError::server_error("the consent session is incomplete"));
        };
        let (sad, expires_in) = self.authorize(
            signer,
            Authorize {
                credential: credential.clone(),
                num: pending.num,
                hash,
                hashes: pending.hashes.clone(),
                mode: if pending.document {
                    SigningMode::Document
                } else {
                    SigningMode::Dtbsr
                },
                pin: form
                    .pin
                    .as_ref()
                    .filter(|p| !p.expose().is_empty())
                    .map(|p| Pin::new(p.expose())),
                otp: form
                    .otp
                    .as_ref()
                    .filter(|o| !o.expose().is_empty())
                    .map(|o| Otp::new(o.expose())),
                request_id: None,
            },
            now,
        )?;
        Ok((
            signer.clone(),
            Some(Zeroizing::new(sad.as_str().to_owned())),
            secs(now).saturating_add(expires_in),
        ))
    }

    /// The account's sign-in for `scope=service`.
    fn approve_sign_in(
        &self,
        form: &AnswerForm,
    ) -> Result<(String, Option<Zeroizing<String>>, u64), CscError> {
        let (Some(user), Some(password)) = (form.username.as_deref(), form.password.as_ref())
        else {
            return Err(CscError::authentication_error(
                "the account and its password are required",
                false,
            ));
        };
        self.sign_in(user, &Pin::new(password.expose()))?;
        Ok((user.to_owned(), None, 0))
    }

    /// `oauth2/token`.
    pub(crate) fn exchange(
        &self,
        request: &TokenRequest,
        basic: Option<(String, Zeroizing<String>)>,
        now: SystemTime,
    ) -> Result<serde_json::Value, CscError> {
        let (client_id, secret) = match basic {
            Some((id, secret)) => (Some(id), Some(secret)),
            None => (
                request.client_id.clone(),
                request
                    .client_secret
                    .as_ref()
                    .map(|s| Zeroizing::new(s.expose().to_owned())),
            ),
        };
        let client =
            self.authenticate_client(client_id.as_deref(), secret.as_ref().map(|s| s.as_str()))?;
        match request.grant_type.as_deref() {
            Some("authorization_code") => self.exchange_code(client, request, now),
            Some("refresh_token") => self.refresh(client, request, now),
            _ => Err(oauth_error(
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            )),
        }
    }

    fn authenticate_client(
        &self,
        id: Option<&str>,
        secret: Option<&str>,
    ) -> Result<&OAuthClient, CscError> {
        let client = self
            .client(id)
            .ok_or_else(|| oauth_error("invalid_client", "unknown client"))?;
        if let Some(expected) = &client.secret_sha256 {
            let given = secret
                .map(|s| ssa::store::durable::hex(&HashAlgorithm::Sha256.digest(s.as_bytes())));
            if !given.is_some_and(|g| same(&g, &expected.to_ascii_lowercase())) {
                return Err(oauth_error(
                    "invalid_client",
                    "the client's secret is missing or wrong",
                ));
            }
        }
        Ok(client)
    }

    fn exchange_code(
        &self,
        client: &OAuthClient,
        request: &TokenRequest,
        now: SystemTime,
    ) -> Result<serde_json::Value, CscError> {
        let given = request
            .code
            .as_ref()
            .ok_or_else(|| oauth_error("invalid_request", "code is required"))?;
        // Taken before anything is checked: a code is tried once, whatever
        // the outcome.
        let code: Code = self
            .grants()
            .take(CODE, given.expose(), secs(now))
            .map_err(store)?
            .ok_or_else(|| oauth_error("invalid_grant", "the code is unknown, used or expired"))?;
        if code.client_id != client.id {
            return Err(oauth_error("invalid_grant", "the code is another client's"));
        }
        if request.redirect_uri.as_deref() != Some(code.redirect_uri.as_str()) {
            return Err(oauth_error(
                "invalid_grant",
                "redirect_uri differs from the authorization request's",
            ));
        }
        let verifier = request
            .code_verifier
            .as_ref()
            .map(codec::SecretText::expose)
            .filter(|v| (43..=128).contains(&v.len()))
            .ok_or_else(|| {
                oauth_error(
                    "invalid_grant",
                    "code_verifier (43 to 128 characters) is required",
                )
            })?;
        if !same(&s256(verifier), &code.challenge) {
            return Err(oauth_error(
                "invalid_grant",
                "the PKCE verifier does not match",
            ));
        }
        if let Some(text) = &request.hashes
            && hash_list(text)? != code.hashes
        {
            return Err(oauth_error(
                "invalid_grant",
                "the hashes differ from those the signer approved",
            ));
        }
        if let Some(text) = &request.authorization_details {
            let asked = details(text).map_err(|e| oauth_error("invalid_request", e))?;
            if asked.hashes != code.hashes || asked.credential != code.credential {
                return Err(oauth_error(
                    "invalid_grant",
                    "authorization_details differ from those the signer approved",
                ));
            }
        }
        match code.scope {
            Scope::Credential => {
                let (Some(credential), Some(sad)) = (code.credential, code.sad) else {
                    return Err(CscError::server_error("the code carries no SAD"));
                };
                let token = CredentialToken {
                    client_id: code.client_id,
                    signer: code.signer,
                    credential: credential.clone(),
                    sad,
                };
                let secret = self
                    .grants()
                    .put(TOKEN, &token, code.expires, secs(now))
                    .map_err(store)?;
                Ok(serde_json::json!({
                    "access_token": secret.expose(),
                    "token_type": "Bearer",
                    "expires_in": code.expires.saturating_sub(secs(now)),
                    "scope": "credential",
                    "credentialID": credential,
                }))
            }
            Scope::Service => self.service_tokens(&client.id, &code.signer, now),
        }
    }

    fn service_tokens(
        &self,
        client_id: &str,
        signer: &str,
        now: SystemTime,
    ) -> Result<serde_json::Value, CscError> {
        let access = self.issue_bearer(signer, now)?;
        let lifetime = self.settings().oauth.refresh_lifetime;
        let refresh = self
            .grants()
            .put(
                REFRESH,
                &Refresh {
                    client_id: client_id.to_owned(),
                    signer: signer.to_owned(),
                },
                secs(now).saturating_add(lifetime),
                secs(now),
            )
            .map_err(store)?;
        Ok(serde_json::json!({
            "access_token": access.expose(),
            "refresh_token": refresh.expose(),
            "token_type": "Bearer",
            "expires_in": self.token_lifetime(),
            "scope": "service",
        }))
    }

    fn refresh(
        &self,
        client: &OAuthClient,
        request: &TokenRequest,
        now: SystemTime,
    ) -> Result<serde_json::Value, CscError> {
        let given = request
            .refresh_token
            .as_ref()
            .ok_or_else(|| oauth_error("invalid_request", "refresh_token is required"))?;
        // Rotated: the old one is spent by its first use.
        let refresh: Refresh = self
            .grants()
            .take(REFRESH, given.expose(), secs(now))
            .map_err(store)?
            .ok_or_else(|| oauth_error("invalid_grant", "the refresh token is not valid"))?;
        if refresh.client_id != client.id {
            return Err(oauth_error(
                "invalid_grant",
                "the refresh token is another client's",
            ));
        }
        self.service_tokens(&client.id, &refresh.signer, now)
    }

    /// `oauth2/revoke`: a credential or refresh token of the client, or a
    /// bearer token. Unknown tokens are not an error (RFC 7009 §2.2).
    pub(crate) fn revoke_grant(
        &self,
        request: &RevokeRequest,
        basic: Option<(String, Zeroizing<String>)>,
        now: SystemTime,
    ) -> Result<(), CscError> {
        let (client_id, secret) = match basic {
            Some((id, secret)) => (Some(id), Some(secret)),
            None => (
                request.client_id.clone(),
                request
                    .client_secret
                    .as_ref()
                    .map(|s| Zeroizing::new(s.expose().to_owned())),
            ),
        };
        let client =
            self.authenticate_client(client_id.as_deref(), secret.as_ref().map(|s| s.as_str()))?;
        let token = request
            .token
            .as_ref()
            .ok_or_else(|| oauth_error("invalid_request", "token is required"))?;
        let grants = self.grants();
        let at = secs(now);
        if let Some(grant) = grants
            .get::<CredentialToken>(TOKEN, token.expose(), at)
            .map_err(store)?
        {
            if grant.client_id == client.id {
                grants
                    .take::<CredentialToken>(TOKEN, token.expose(), at)
                    .map_err(store)?;
            }
        } else if let Some(grant) = grants
            .get::<Refresh>(REFRESH, token.expose(), at)
            .map_err(store)?
        {
            if grant.client_id == client.id {
                grants
                    .take::<Refresh>(REFRESH, token.expose(), at)
                    .map_err(store)?;
            }
        } else {
            self.revoke_bearer(token.expose())?;
        }
        Ok(())
    }

    /// The credential token `token`, if it is one and valid now.
    pub(crate) fn credential_token(
        &self,
        token: &str,
        now: SystemTime,
    ) -> Result<Option<CredentialToken>, CscError> {
        self.grants().get(TOKEN, token, secs(now)).map_err(store)
    }

    /// What the bearer token of a signing request is: the service's
    /// bearer token, or a credential token. Anything else is
    /// `invalid_token`.
    pub(crate) fn signing_bearer(
        &self,
        bearer: Option<&str>,
        now: SystemTime,
    ) -> Result<SigningBearer, CscError> {
        let token = bearer.ok_or_else(|| CscError::invalid_token("an access token is required"))?;
        match self.signer(Some(token), now) {
            Ok(signer) => return Ok(SigningBearer::Service(signer)),
            Err(e) if e.code != "invalid_token" => return Err(e),
            Err(_) => {}
        }
        self.credential_token(token, now)?
            .map(SigningBearer::Credential)
            .ok_or_else(|| CscError::invalid_token("the access token is not valid"))
    }
}

/// The bearer of a signing request.
pub(crate) enum SigningBearer {
    /// A signer's bearer token: the request carries the SAD.
    Service(String),
    /// A credential token: it carries the SAD, for its credential only.
    Credential(CredentialToken),
}

impl SigningBearer {
    /// Who signs on `credential`, and with what SAD: the request's, with a
    /// service token; the token's, with a credential token (a SAD sent
    /// with it, or another credential, is refused).
    pub(crate) fn authority(
        self,
        sad: Option<&codec::SecretText>,
        credential: &str,
    ) -> Result<(String, Sad), CscError> {
        match self {
            Self::Service(signer) => {
                let sad = sad.ok_or_else(|| CscError::invalid_request("Missing parameter SAD"))?;
                Ok((signer, Sad::new(sad.expose())))
            }
            Self::Credential(grant) => {
                if sad.is_some() {
                    return Err(CscError::invalid_request(
                        "Invalid parameter SAD: the credential token carries the authorization",
                    ));
                }
                if grant.credential != credential {
                    return Err(CscError::invalid_request(
                        "Invalid parameter credentialID: the access token is for another credential",
                    ));
                }
                Ok((grant.signer, Sad::new(grant.sad.as_str())))
            }
        }
    }
}

/// What the page tells after a refused approval, and its status: locked
/// (the locking attempt or a later one), try later (the service failed:
/// 503), or not accepted (anything else; generic on purpose).
fn told(e: &CscError) -> (Message, u16) {
    match e.cause {
        Cause::Authentication { locked: true } => (Message::Locked, 401),
        Cause::Authentication { .. } if e.code == "access_denied" => (Message::Locked, 401),
        Cause::Unavailable | Cause::Scdev | Cause::Internal => (Message::Unavailable, 503),
        _ => (Message::Refused, 401),
    }
}

fn store(e: ssa::store::StoreError) -> CscError {
    CscError::unavailable(format!("grant store: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_tells_locked_unavailable_or_a_generic_refusal() {
        use ssa::sad::SadError;
        let locking = CscError::authentication_error("refused", true);
        let refused = CscError::authentication_error("refused", false);
        let locked = CscError::from(SadError::Locked {
            credential: "c".into(),
        });
        assert_eq!(told(&locking), (Message::Locked, 401));
        assert_eq!(told(&locked), (Message::Locked, 401));
        assert_eq!(told(&refused), (Message::Refused, 401));
        assert_eq!(
            told(&CscError::invalid_request("bad")),
            (Message::Refused, 401)
        );
        for failed in [
            CscError::unavailable("store"),
            CscError::server_error("bug"),
            CscError::from(ssa::ServiceError::Scdev(ssa::ScdevError::SignatureInvalid)),
        ] {
            assert_eq!(told(&failed), (Message::Unavailable, 503), "{failed}");
        }
    }

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn redirect_parameters_are_percent_encoded() {
        assert_eq!(
            redirect("https://c.example/cb?x=1", &[("state", "a b&c=d/é")]),
            "https://c.example/cb?x=1&state=a%20b%26c%3Dd%2F%C3%A9"
        );
        assert_eq!(
            error_redirect("https://c.example/cb", Some("s"), "access_denied", "no"),
            "https://c.example/cb?error=access_denied&error_description=no&state=s"
        );
    }
}
