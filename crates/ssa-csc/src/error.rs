//! CSC error responses: `{error, error_description}` with the
//! specification's codes and HTTP statuses. Bad input is a 4xx, never a
//! 500; a 503 says "try again" (a store or the audit log unavailable).
//! Descriptions come from the typed errors, which carry no secrets.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ssa::ServiceError;
use ssa::sad::SadError;

/// One CSC error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CscError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The CSC `error` code.
    pub code: &'static str,
    /// The `error_description`.
    pub description: String,
    /// Where it came from (for metrics and logs).
    pub cause: Cause,
}

/// Where a refusal came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// The request itself.
    Request,
    /// Refused factors or login; `locked` if this attempt locked.
    Authentication {
        /// This failure locked the credential or account.
        locked: bool,
    },
    /// The SCDev failed.
    Scdev,
    /// A store, the audit log or a TSA failed; or a bound was reached.
    Unavailable,
    /// Something else in the server.
    Internal,
}

/// What a response was refused for, kept in its extensions for the
/// middleware that counts and logs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refused {
    pub(crate) code: &'static str,
    pub(crate) cause: Cause,
}

impl CscError {
    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        let cause = match status.as_u16() {
            503 => Cause::Unavailable,
            500..=599 => Cause::Internal,
            _ => Cause::Request,
        };
        Self {
            status,
            code,
            description: description.into(),
            cause,
        }
    }

    fn because(mut self, cause: Cause) -> Self {
        self.cause = cause;
        self
    }

    /// 400 `invalid_request`: a parameter is missing, malformed or refused.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// 401 `invalid_token`: no bearer token, or one that is unknown,
    /// expired or revoked.
    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_token", description)
    }

    /// 401 `authentication_error`: a login refused (`locked`: this
    /// failure locked the account).
    pub fn authentication_error(description: impl Into<String>, locked: bool) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            description,
        )
        .because(Cause::Authentication { locked })
    }

    /// 503 `temporarily_unavailable`: try again later; nothing changed.
    pub fn unavailable(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            description,
        )
    }

    /// An OAuth2 error (RFC 6749 §5.2) with its status.
    pub(crate) fn oauth(status: u16, code: &'static str, description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            description,
        )
    }

    /// 413: the request body is over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("the request body is over the limit of {limit} bytes"),
        )
    }

    /// 500 `server_error`: something failed that is not the client's doing
    /// and will not pass by waiting.
    pub fn server_error(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            description,
        )
    }

    /// A short reason for metrics and logs (the CSC code).
    pub fn reason(&self) -> &'static str {
        self.code
    }
}

impl core::fmt::Display for CscError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.as_u16(),
            self.description
        )
    }
}

impl std::error::Error for CscError {}

impl IntoResponse for CscError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": self.code,
            "error_description": self.description,
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        response.extensions_mut().insert(Refused {
            code: self.code,
            cause: self.cause,
        });
        if self.status == StatusCode::UNAUTHORIZED && self.code == "invalid_token" {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

impl From<ServiceError> for CscError {
    fn from(error: ServiceError) -> Self {
        let text = error.to_string();
        match error {
            ServiceError::UnknownCredential { .. } | ServiceError::InvalidCredentialId { .. } => {
                Self::invalid_request("Invalid parameter credentialID")
            }
            ServiceError::CredentialDisabled { .. }
            | ServiceError::NoCertificate { .. }
            | ServiceError::AlgorithmNotOffered { .. }
            | ServiceError::UnsupportedKey { .. }
            | ServiceError::Policy(_)
            | ServiceError::Chain(_)
            | ServiceError::Delegation(_) => Self::invalid_request(text),
            ServiceError::Sad(sad) => Self::from(sad),
            // The level asked for needs what this server was not given (a
            // TSA, a revocation source): the request cannot succeed here.
            ServiceError::Cades(
                ssa::cades::CadesError::LevelUnavailable { .. }
                | ssa::cades::CadesError::DigestAlgorithm { .. }
                | ssa::cades::CadesError::DigestLength { .. },
            ) => Self::invalid_request(text),
            ServiceError::Audit(_) | ServiceError::Withheld { .. } | ServiceError::Store(_) => {
                Self::unavailable(text)
            }
            ServiceError::Scdev(_) => Self::unavailable(text).because(Cause::Scdev),
            ServiceError::Cades(_) | ServiceError::Io { .. } => Self::unavailable(text),
            _ => Self::server_error(text),
        }
    }
}

impl From<SadError> for CscError {
    fn from(error: SadError) -> Self {
        let text = error.to_string();
        match error {
            SadError::AuthenticationFailed { locked, .. } => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_pin", text)
                    .because(Cause::Authentication { locked })
            }
            SadError::Locked { .. } => Self::new(StatusCode::FORBIDDEN, "access_denied", text)
                .because(Cause::Authentication { locked: false }),
            SadError::Store(_) | SadError::CorruptStore { .. } | SadError::Crypto { .. } => {
                Self::unavailable(text)
            }
            // Everything else is about the request or its SAD.
            _ => Self::invalid_request(text),
        }
    }
}
