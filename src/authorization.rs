//! Authorization: the signer proves intent with their factors and gets a
//! SAD for exactly the digests they approve.

use std::time::SystemTime;

use ssa_audit::{Entry, Event, Outcome};
use ssa_sad::{AuthorizationRequest, Authorized, DeviceChallenge, SadError, SigningMode};
use ssa_types::{HashAlgorithm, UnixTime};

use crate::service::secs;
use crate::{ServiceError, SigningService};

impl SigningService {
    /// Authenticates the signer with the built-in issuer and mints a SAD.
    /// A failure that locks the credential is followed by a lockout record.
    pub fn authorize(
        &self,
        request: &AuthorizationRequest<'_>,
        now: SystemTime,
    ) -> Result<Authorized, ServiceError> {
        self.authorize_in(request, None, now)
    }

    /// [`SigningService::authorize`], its records naming the server
    /// request `id` ([`RequestScope`](crate::RequestScope)).
    pub(crate) fn authorize_in(
        &self,
        request: &AuthorizationRequest<'_>,
        id: Option<&str>,
        now: SystemTime,
    ) -> Result<Authorized, ServiceError> {
        let methods: Vec<String> = [
            request.factors.pin.as_ref().map(|_| "pin"),
            request.factors.otp.as_ref().map(|_| "otp"),
            request.factors.device.as_ref().map(|_| "pop"),
        ]
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .collect();
        let result = self
            .inner
            .issuer
            .as_ref()
            .ok_or(ServiceError::NoIssuer)
            .and_then(|issuer| {
                issuer
                    .authorize(request, UnixTime::from(now))
                    .map_err(ServiceError::from)
            });
        if let Err(ServiceError::Sad(SadError::AuthenticationFailed { locked: true, .. })) = &result
        {
            self.inner.audit.append(
                Entry::new(Event::Lockout, "authenticator", Outcome::Success)
                    .credential(request.credential)
                    .request(id),
                secs(now),
            )?;
        }
        let sad_id = result
            .as_ref()
            .map(|a| a.sad_id.clone())
            .unwrap_or_default();
        let entry = Entry::new(
            Event::Authorization { sad_id, methods },
            request.credential,
            Outcome::Success,
        )
        .credential(request.credential)
        .digests(request.digests.iter().map(Vec::as_slice))
        .request(id);
        self.audited(entry, now, result)
    }

    /// A challenge for the signer's device key, naming the credential, the
    /// mode and exactly these digests; the signer's device signs
    /// `challenge.message` and the answer goes into
    /// [`PresentedFactors::device`](ssa_sad::PresentedFactors::device).
    pub fn device_challenge(
        &self,
        credential: &str,
        mode: SigningMode,
        hash: HashAlgorithm,
        digests: &[Vec<u8>],
        now: SystemTime,
    ) -> Result<DeviceChallenge, ServiceError> {
        let issuer = self.inner.issuer.as_ref().ok_or(ServiceError::NoIssuer)?;
        self.credential(credential)?;
        Ok(issuer.device_challenge(credential, mode, hash, digests, UnixTime::from(now))?)
    }
}
