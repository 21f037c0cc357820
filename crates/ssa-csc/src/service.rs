//! The CSC operations over a [`SigningService`], synchronous and
//! transport-free: the v1 and v2 handlers parse JSON, call these on the
//! blocking pool, and write JSON. Every operation on a credential first
//! checks that it is the bearer's: another signer's credential is
//! answered as one that does not exist.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ssa::Level;
use ssa::sad::{AuthorizationRequest, Otp, PresentedFactors, Sad, SigningMode};
use ssa::{
    CredentialInfo, HashAlgorithm, Pin, RequestScope, SignOptions, SignatureAlgorithm,
    SigningService,
};
use zeroize::Zeroizing;

use crate::account::{AccountError, Accounts};
use crate::bearer::{BearerToken, BearerTokens};
use crate::error::CscError;
use crate::metrics::Metrics;

/// The bounds every request is held to, set in one place and applied as
/// `tower` layers by [`router`](crate::router) (and by the handlers for
/// the count of hashes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, bytes (above: 413).
    pub body_bytes: usize,
    /// Most hashes (or document digests) in one request (above: 400).
    pub hashes_per_request: usize,
    /// Longest a request may take (above: 503).
    pub request_time: Duration,
    /// Most requests in progress at once (above: 503 at once).
    pub in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 1 << 20,
            hashes_per_request: 1000,
            request_time: Duration::from_secs(30),
            in_flight: 512,
        }
    }
}

/// What the server says about itself and how long what it issues lasts.
#[derive(Clone, Debug)]
pub struct CscSettings {
    /// The service's name (`info`).
    pub name: String,
    /// Its description (`info`).
    pub description: String,
    /// Seconds a SAD from `credentials/authorize` is valid (capped by the
    /// SAD issuer's maximum).
    pub sad_lifetime: u64,
    /// The bounds on requests.
    pub limits: Limits,
    /// Recover the audit log by itself once it stopped on a failure
    /// ([`SigningService::recover_audit`], tried before each authorization
    /// or signature and by the readiness probe). For a database-backed log,
    /// where a stop means the database was unreachable and nothing is left
    /// unconfirmed; off for files, where an operator fixes the disk first
    /// (docs/operations.md). The provider turns it on with a database.
    pub recover_audit: bool,
    /// The OAuth2 flow (`oauth2/authorize`, the consent page).
    pub oauth: crate::oauth::OAuthSettings,
}

impl Default for CscSettings {
    fn default() -> Self {
        Self {
            name: "ssa remote signing service".into(),
            description: "CSC API over the ssa remote signing core".into(),
            sad_lifetime: 300,
            limits: Limits::default(),
            recover_audit: false,
            oauth: crate::oauth::OAuthSettings::default(),
        }
    }
}

/// An authorization request as both API versions carry it.
#[derive(Debug)]
pub struct Authorize {
    /// The credential.
    pub credential: String,
    /// Signatures to allow.
    pub num: u32,
    /// The hash of `hashes`.
    pub hash: HashAlgorithm,
    /// The hashes the signer approves (SCAL2: required).
    pub hashes: Vec<Vec<u8>>,
    /// What the hashes are: DTBS/R (`signHash`) or document digests (`signDoc`).
    pub mode: SigningMode,
    /// The PIN, if given.
    pub pin: Option<Pin>,
    /// The OTP, if given.
    pub otp: Option<Otp>,
    /// The server request's id, written into the audit records.
    pub request_id: Option<String>,
}

/// The CSC service: the signing service, accounts, bearer tokens, settings.
#[derive(Debug)]
pub struct CscService {
    signing: Arc<SigningService>,
    accounts: Accounts,
    tokens: BearerTokens,
    settings: CscSettings,
    metrics: Metrics,
    grants: crate::oauth::Grants,
}

/// Seconds since the Unix epoch.
pub(crate) fn secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl CscService {
    /// The CSC service over `signing`, with its own metrics registry.
    pub fn new(
        signing: Arc<SigningService>,
        accounts: Accounts,
        tokens: BearerTokens,
        settings: CscSettings,
    ) -> Result<Self, prometheus::Error> {
        Ok(Self {
            signing,
            accounts,
            tokens,
            settings,
            metrics: Metrics::new()?,
            grants: crate::oauth::Grants::new(Arc::new(ssa::store::MemoryGrantStore::new())),
        })
    }

    /// Keeps the OAuth2 flow's grants (consent sessions, codes, tokens) in
    /// `store` (by default in memory: one process only). Nodes that share
    /// a database share it, so a flow begun on one completes on another.
    #[must_use]
    pub fn with_grants(mut self, store: Arc<dyn ssa::store::GrantStore>) -> Self {
        self.grants = crate::oauth::Grants::new(store);
        self
    }

    pub(crate) fn grants(&self) -> &crate::oauth::Grants {
        &self.grants
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The signing service.
    pub fn signing(&self) -> &SigningService {
        &self.signing
    }

    /// The accounts.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The settings.
    pub fn settings(&self) -> &CscSettings {
        &self.settings
    }

    /// Whether the server can serve now: the signing service is ready
    /// ([`SigningService::readiness`]) and the stores take a write.
    pub fn ready(&self) -> Result<(), CscError> {
        self.heal(SystemTime::now());
        self.signing
            .readiness()
            .map_err(|e| CscError::unavailable(format!("not ready: {e}")))?;
        self.accounts
            .probe_write()
            .map_err(|e| CscError::unavailable(format!("not ready: the stores take no write: {e}")))
    }

    /// With [`CscSettings::recover_audit`]: recovers a stopped audit log
    /// (a failure is left for the request to meet as a 503).
    fn heal(&self, now: SystemTime) {
        if self.settings.recover_audit && self.signing.audit().stopped().is_some() {
            match self.signing.recover_audit(now) {
                Ok(()) => tracing::info!("the audit log recovered after a failure"),
                Err(e) => tracing::warn!(error = %e, "the audit log could not recover yet"),
            }
        }
    }

    /// Seconds a bearer token is valid.
    pub fn token_lifetime(&self) -> u64 {
        self.tokens.lifetime()
    }

    /// `auth/login` with HTTP Basic: a new bearer token for the signer.
    pub fn login(&self, basic: Option<&str>, now: SystemTime) -> Result<BearerToken, CscError> {
        let (signer, password) = basic.and_then(parse_basic).ok_or_else(|| {
            CscError::authentication_error("HTTP Basic credentials are required", false)
        })?;
        self.sign_in(&signer, &Pin::new(password.as_str()))?;
        self.issue_bearer(&signer, now)
    }

    /// A new bearer token for `signer`.
    pub(crate) fn issue_bearer(
        &self,
        signer: &str,
        now: SystemTime,
    ) -> Result<BearerToken, CscError> {
        self.tokens
            .issue(signer, secs(now))
            .map_err(|e| CscError::unavailable(format!("bearer token store: {e}")))
    }

    /// Revokes a bearer token (unknown: nothing happens).
    pub(crate) fn revoke_bearer(&self, token: &str) -> Result<(), CscError> {
        self.tokens
            .revoke(token)
            .map(|_| ())
            .map_err(|e| CscError::unavailable(format!("bearer token store: {e}")))
    }

    /// Checks an account's password (failures count toward its lockout).
    pub(crate) fn sign_in(&self, signer: &str, password: &Pin) -> Result<(), CscError> {
        match self.accounts.login(signer, password) {
            Ok(()) => {}
            Err(e @ AccountError::Refused { locked, .. }) => {
                return Err(CscError::authentication_error(e.to_string(), locked));
            }
            Err(e @ AccountError::Locked) => {
                return Err(CscError::authentication_error(e.to_string(), false));
            }
            Err(e) => return Err(CscError::unavailable(e.to_string())),
        }
        Ok(())
    }

    /// `auth/revoke`: the bearer's own token (or, with `token` given,
    /// another token of the same signer).
    pub fn revoke(
        &self,
        bearer: Option<&str>,
        token: Option<&str>,
        now: SystemTime,
    ) -> Result<(), CscError> {
        let own = bearer.ok_or_else(|| CscError::invalid_token("an access token is required"))?;
        let signer = self.tokens.signer(own, secs(now))?;
        let target = token.unwrap_or(own);
        if target != own && self.tokens.signer(target, secs(now)).ok().as_deref() != Some(&signer) {
            return Err(CscError::invalid_request("Invalid parameter token"));
        }
        self.tokens
            .revoke(target)
            .map_err(|e| CscError::unavailable(format!("bearer token store: {e}")))?;
        Ok(())
    }

    /// The signer the bearer token stands for.
    pub fn signer(&self, bearer: Option<&str>, now: SystemTime) -> Result<String, CscError> {
        let token = bearer.ok_or_else(|| CscError::invalid_token("an access token is required"))?;
        self.tokens.signer(token, secs(now))
    }

    /// `credentials/list`: the signer's credentials, and no one else's.
    pub fn list(&self, signer: &str) -> Result<Vec<String>, CscError> {
        Ok(self.signing.credentials_of(signer)?)
    }

    /// `credentials/info`: one of the signer's credentials.
    pub fn info(
        &self,
        signer: &str,
        credential: &str,
        now: SystemTime,
    ) -> Result<CredentialInfo, CscError> {
        Ok(self.signing.credential_info(signer, credential, now)?)
    }

    fn check_count(&self, count: usize) -> Result<(), CscError> {
        let limit = self.settings.limits.hashes_per_request;
        if count > limit {
            return Err(CscError::invalid_request(format!(
                "{count} hashes in one request, over the limit of {limit}"
            )));
        }
        Ok(())
    }

    /// `credentials/authorize`: a SAD for the hashes, and its lifetime.
    pub fn authorize(
        &self,
        signer: &str,
        request: Authorize,
        now: SystemTime,
    ) -> Result<(Sad, u64), CscError> {
        self.check_count(request.hashes.len())?;
        self.heal(now);
        self.info(signer, &request.credential, now)?;
        let num = if request.num == 0 {
            u32::try_from(request.hashes.len()).unwrap_or(u32::MAX)
        } else {
            request.num
        };
        let asked = AuthorizationRequest {
            credential: &request.credential,
            mode: request.mode,
            hash_alg: request.hash,
            digests: &request.hashes,
            num,
            lifetime: self.settings.sad_lifetime,
            factors: PresentedFactors {
                pin: request.pin,
                otp: request.otp,
                device: None,
            },
        };
        let authorized = match request.request_id.as_deref() {
            Some(id) => self.signing.in_request(id).authorize(&asked, now),
            None => self.signing.authorize(&asked, now),
        }?;
        let expires_in = authorized.expires_at.0.saturating_sub(secs(now));
        Ok((authorized.sad, expires_in))
    }

    /// `signatures/signHash`: one raw signature per DTBS/R, in order.
    /// `request_id`, if given, goes into the audit records.
    #[allow(clippy::too_many_arguments)]
    pub fn sign_hash(
        &self,
        signer: &str,
        credential: &str,
        sad: &Sad,
        hashes: &[Vec<u8>],
        algorithm: SignatureAlgorithm,
        request_id: Option<&str>,
        now: SystemTime,
    ) -> Result<Vec<Vec<u8>>, CscError> {
        self.check_count(hashes.len())?;
        self.heal(now);
        // The owner is checked in the same read of the credential as the
        // signing checks: another signer's is refused as an unknown one.
        Ok(self.scope(signer, request_id).sign_hashes(
            credential,
            sad,
            hashes,
            Some(algorithm),
            now,
        )?)
    }

    /// `signatures/signDoc` with document digests: one CAdES signature
    /// (DER CMS) per digest, at `level`. `request_id`, if given, goes into
    /// the audit records.
    #[allow(clippy::too_many_arguments)]
    pub fn sign_documents(
        &self,
        signer: &str,
        credential: &str,
        sad: &Sad,
        digests: &[Vec<u8>],
        algorithm: Option<SignatureAlgorithm>,
        level: Level,
        request_id: Option<&str>,
        now: SystemTime,
    ) -> Result<Vec<Vec<u8>>, CscError> {
        self.check_count(digests.len())?;
        self.heal(now);
        let options = SignOptions {
            level,
            algorithm,
            ..SignOptions::default()
        };
        Ok(self
            .scope(signer, request_id)
            .sign_documents(credential, sad, digests, &options, now)?)
    }

    /// The facade's calls for `signer`, naming `request_id` if given.
    fn scope<'a>(&'a self, signer: &'a str, request_id: Option<&'a str>) -> RequestScope<'a> {
        let scope = self.signing.for_signer(signer);
        match request_id {
            Some(id) => scope.in_request(id),
            None => scope,
        }
    }
}

/// The user name and password of an `Authorization: Basic …` value.
pub(crate) fn parse_basic(value: &str) -> Option<(String, Zeroizing<String>)> {
    use base64ct::{Base64, Encoding};
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = Zeroizing::new(Base64::decode_vec(encoded.trim()).ok()?);
    let text = std::str::from_utf8(&decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    (!user.is_empty()).then(|| (user.to_owned(), Zeroizing::new(password.to_owned())))
}
