//! The calls one server request makes: every audit record they append
//! names the request's id, so an operator finds a request's records from
//! its log line, and the other way round.

use std::time::SystemTime;

use ssa_sad::{AuthorizationRequest, Authorized, Sad};
use ssa_types::SignatureAlgorithm;

use crate::{ServiceError, SignOptions, SigningService};

/// [`SigningService`]'s request calls for one server request: every audit
/// record they append names the request's id
/// ([`SigningService::in_request`]).
#[derive(Debug, Clone, Copy)]
pub struct RequestScope<'a> {
    service: &'a SigningService,
    id: &'a str,
}

impl SigningService {
    /// The calls of the server request `id`.
    pub fn in_request<'a>(&'a self, id: &'a str) -> RequestScope<'a> {
        RequestScope { service: self, id }
    }
}

impl RequestScope<'_> {
    /// [`SigningService::authorize`].
    pub fn authorize(
        &self,
        request: &AuthorizationRequest<'_>,
        now: SystemTime,
    ) -> Result<Authorized, ServiceError> {
        self.service.authorize_in(request, Some(self.id), now)
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
            .sign_documents_in(credential, sad, digests, options, Some(self.id), now)
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
            .sign_hashes_in(credential, sad, hashes, algorithm, Some(self.id), now)
    }
}
