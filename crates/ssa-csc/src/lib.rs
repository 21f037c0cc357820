#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod account;
pub mod bearer;
pub mod codec;
pub mod error;
mod handler;
pub mod metrics;
pub mod oauth;
pub mod provider;
mod routes;
pub mod service;
mod v1;
mod v2;

pub use account::{AccountError, Accounts};
pub use bearer::{BearerToken, BearerTokens};
pub use error::{Cause, CscError};
pub use handler::RequestId;
pub use metrics::Metrics;
pub use oauth::{OAuthClient, OAuthSettings};
pub use routes::router;
pub use service::{Authorize, CscService, CscSettings, Limits};
