//! The calls one server request makes: every audit record they append
//! names the request's id, so an operator finds a request's records from
//! its log line, and the other way round; and, for a server that has
//! authenticated its caller, the signer whose credentials alone they may
//! use.

use std::time::SystemTime;

use ssa_sad::{AuthorizationRequest, Authorized, Sad};
use ssa_types::SignatureAlgorithm;

use crate::{ServiceError, SignOptions, SigningService};

/// Who makes a call: the server request (named in its audit records) and
/// the signer it was authenticated as (whose credentials alone it may use).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Caller<'a> {
    pub(crate) request: Option<&'a str>,
    pub(crate) signer: Option<&'a str>,
}

/// [`SigningService`]'s request calls for one server request
/// ([`SigningService::in_request`]) or one authenticated signer
/// ([`SigningService::for_signer`]), or both: every audit record they
/// append names the request's id; a signing call for a signer refuses
/// another signer's credential exactly as one that does not exist
/// ([`ServiceError::UnknownCredential`]), in the same read of the
/// credential that the signing checks use.
///
/// ```
/// # fn demo(service: &ssa::SigningService, sad: &ssa::sad::Sad, digests: &[Vec<u8>]) {
/// let scope = service.for_signer("alice").in_request("req-42");
/// let refused = scope.sign_documents(
///     "bob/1",
///     sad,
///     digests,
///     &ssa::SignOptions::default(),
///     std::time::SystemTime::now(),
/// );
/// assert!(matches!(refused, Err(ssa::ServiceError::UnknownCredential { .. })));
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RequestScope<'a> {
    service: &'a SigningService,
    caller: Caller<'a>,
}

impl SigningService {
    /// The calls of the server request `id`.
    pub fn in_request<'a>(&'a self, id: &'a str) -> RequestScope<'a> {
        RequestScope {
            service: self,
            caller: Caller::default(),
        }
        .in_request(id)
    }

    /// The calls of `signer`, authenticated by the server: its signing
    /// calls use `signer`'s credentials and no one else's.
    pub fn for_signer<'a>(&'a self, signer: &'a str) -> RequestScope<'a> {
        RequestScope {
            service: self,
            caller: Caller::default(),
        }
        .for_signer(signer)
    }
}

impl<'a> RequestScope<'a> {
    /// These calls, their records naming the server request `id`.
    pub fn in_request(mut self, id: &'a str) -> Self {
        self.caller.request = Some(id);
        self
    }

    /// These calls, for `signer` only.
    pub fn for_signer(mut self, signer: &'a str) -> Self {
        self.caller.signer = Some(signer);
        self
    }

    /// [`SigningService::authorize`]. The scope's signer is not checked
    /// here: a SAD is issued on the credential's own factors (a server
    /// checks the owner before it asks, as `ssa-csc` does).
    pub fn authorize(
        &self,
        request: &AuthorizationRequest<'_>,
        now: SystemTime,
    ) -> Result<Authorized, ServiceError> {
        self.service.authorize_in(request, self.caller.request, now)
    }

    /// [`SigningService::sign_documents`].
    pub fn sign_documents(
        &self,
        credential: &str,
        sad: &Sad,
        digests: &[Vec<u8>],
        options: &SignOptions,
        now: SystemTime,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        self.service
            .sign_documents_in(credential, sad, digests, options, self.caller, now)
    }

    /// [`SigningService::sign_hashes`].
    pub fn sign_hashes(
        &self,
        credential: &str,
        sad: &Sad,
        hashes: &[Vec<u8>],
        algorithm: Option<SignatureAlgorithm>,
        now: SystemTime,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        self.service
            .sign_hashes_in(credential, sad, hashes, algorithm, self.caller, now)
    }
}
