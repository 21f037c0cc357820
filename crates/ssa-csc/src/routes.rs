//! The router: every endpoint, and the bounds on every request as `tower`
//! layers, in one place.

use std::sync::Arc;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceBuilder;

use crate::error::CscError;
use crate::service::CscService;
use crate::{v1, v2};

/// The CSC API over `csc`: v1.0.4 under `/csc/v1`, v2 under `/csc/v2`,
/// `/healthz` and `/readyz`. Mount it in an application's own router, or
/// serve it as it is. Requests beyond the in-flight bound are refused at
/// once (503) and those over the time bound fail (503); bodies over the
/// size bound are refused (413) before they are read whole.
pub fn router(csc: Arc<CscService>) -> Router {
    let limits = csc.settings().limits;
    let v1 = Router::new()
        .route("/info", post(v1::info).get(v1::info))
        .route("/auth/login", post(v1::login))
        .route("/auth/revoke", post(v1::revoke))
        .route("/credentials/list", post(v1::list))
        .route("/credentials/info", post(v1::credential_info))
        .route("/credentials/authorize", post(v1::authorize))
        .route("/signatures/signHash", post(v1::sign_hash));
    let v2 = Router::new()
        .route("/info", post(v2::info).get(v2::info))
        .route("/auth/login", post(v1::login))
        .route("/auth/revoke", post(v1::revoke))
        .route("/credentials/list", post(v2::list))
        .route("/credentials/info", post(v2::credential_info))
        .route("/credentials/authorize", post(v2::authorize))
        .route("/signatures/signHash", post(v2::sign_hash))
        .route("/signatures/signDoc", post(v2::sign_doc));
    Router::new()
        .nest("/csc/v1", v1)
        .nest("/csc/v2", v2)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(overloaded))
                .load_shed()
                .concurrency_limit(limits.in_flight)
                .timeout(limits.request_time),
        )
        .with_state(csc)
}

async fn overloaded(error: tower::BoxError) -> Response {
    if error.is::<tower::timeout::error::Elapsed>() {
        CscError::unavailable("the request took longer than the server allows").into_response()
    } else if error.is::<tower::load_shed::error::Overloaded>() {
        CscError::unavailable("the server is at its limit of requests in progress").into_response()
    } else {
        CscError::server_error("the request failed").into_response()
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({
            "error": "invalid_request",
            "error_description": "no such endpoint",
        })),
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the audit log is open and has not stopped on a failure.
async fn readyz(axum::extract::State(csc): axum::extract::State<Arc<CscService>>) -> Response {
    match csc.signing().audit().stopped() {
        None => (StatusCode::OK, "ready\n").into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: the audit log stopped ({reason})\n"),
        )
            .into_response(),
    }
}
