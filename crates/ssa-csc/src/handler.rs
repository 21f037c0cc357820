//! What every handler shares: reading the body within its bound, the
//! bearer token, running the operation on the blocking pool.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};

use crate::bearer;
use crate::error::CscError;
use crate::service::CscService;

/// The request body, at most `limit` bytes (above: 413, nothing read further).
pub(crate) async fn body(body: Body, limit: usize) -> Result<Bytes, CscError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| CscError::too_large(limit))
}

/// The request body of a POST, read within its bound (over it: the outer
/// error, at once), then parsed as `T` (the inner result: a handler checks
/// the bearer token first, so a client without one learns nothing about
/// its body). An empty body is `{}` (CSC clients post `info` without one).
pub(crate) async fn request<T: serde::de::DeserializeOwned>(
    csc: &CscService,
    raw: Body,
) -> Result<Result<T, CscError>, CscError> {
    let bytes = body(raw, csc.settings().limits.body_bytes).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(crate::codec::json(b"{}"));
    }
    Ok(crate::codec::json(&bytes))
}

/// The bearer token of the request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer::from_header)
        .map(str::to_owned)
}

/// The `Authorization` header's text, if any.
pub(crate) fn authorization(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Runs `work` on the blocking pool (PKCS#11, Argon2, fsync and TSA HTTP
/// never run on the async workers).
pub(crate) async fn blocking<T, F>(csc: &Arc<CscService>, work: F) -> Result<T, CscError>
where
    T: Send + 'static,
    F: FnOnce(&CscService) -> Result<T, CscError> + Send + 'static,
{
    let csc = Arc::clone(csc);
    tokio::task::spawn_blocking(move || work(&csc))
        .await
        .map_err(|_| CscError::server_error("the request's work stopped unexpectedly"))?
}

/// How many signatures a response carries, for the middleware that counts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Signed(pub(crate) u64);

/// A JSON answer carrying `count` signatures.
pub(crate) fn signed(body: serde_json::Value, count: usize) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = axum::Json(body).into_response();
    response
        .extensions_mut()
        .insert(Signed(u64::try_from(count).unwrap_or(u64::MAX)));
    response
}

/// The id of a request: made by the server (a client's `x-request-id` is
/// not trusted into logs), answered in `x-request-id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);
