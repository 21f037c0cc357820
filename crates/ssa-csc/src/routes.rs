//! The router: every endpoint, and the bounds on every request as `tower`
//! layers, in one place.

use std::sync::Arc;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceBuilder;

use crate::error::{Cause, CscError, Refused};
use crate::handler::{RequestId, Signed};
use crate::service::CscService;
use crate::{oauth, v1, v2};

/// The CSC API over `csc`: v1.0.4 under `/csc/v1`, v2 under `/csc/v2`
/// (each with `oauth2/authorize`, `oauth2/token`, `oauth2/revoke`),
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
        .route("/signatures/signHash", post(v1::sign_hash))
        .route(
            "/oauth2/authorize",
            get(oauth::http::authorize).post(oauth::http::answer),
        )
        .route("/oauth2/token", post(oauth::http::token))
        .route("/oauth2/revoke", post(oauth::http::revoke));
    let v2 = Router::new()
        .route("/info", post(v2::info).get(v2::info))
        .route("/auth/login", post(v1::login))
        .route("/auth/revoke", post(v1::revoke))
        .route("/credentials/list", post(v2::list))
        .route("/credentials/info", post(v2::credential_info))
        .route("/credentials/authorize", post(v2::authorize))
        .route("/signatures/signHash", post(v2::sign_hash))
        .route("/signatures/signDoc", post(v2::sign_doc))
        .route(
            "/oauth2/authorize",
            get(oauth::http::authorize).post(oauth::http::answer),
        )
        .route("/oauth2/token", post(oauth::http::token))
        .route("/oauth2/revoke", post(oauth::http::revoke));
    Router::new()
        .nest("/csc/v1", v1)
        .nest("/csc/v2", v2)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(overloaded))
                .load_shed()
                // One semaphore for every route (`Router::layer` gives each
                // route its own copy of a layer: a per-route limit would
                // let every endpoint have `in_flight` requests).
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                    limits.in_flight,
                ))
                .timeout(limits.request_time),
        )
        // Outermost: it also sees what the bounds refused.
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&csc),
            observe,
        ))
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

/// Ready: the audit log runs, the SCDev and the credential registry
/// answer, the stores take a write (`CscService::ready`, on the blocking
/// pool).
async fn readyz(axum::extract::State(csc): axum::extract::State<Arc<CscService>>) -> Response {
    let ready = crate::handler::blocking(&csc, CscService::ready).await;
    match ready {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(error) => error.into_response(),
    }
}

/// Counts and logs every request: endpoint, status, latency, the refusal's
/// code, the signatures returned, under a request id the server makes.
/// Never a header or a body: tokens, PINs, OTPs and SADs stay out of logs.
async fn observe(
    axum::extract::State(csc): axum::extract::State<Arc<CscService>>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use tracing::Instrument;
    let endpoint = crate::metrics::endpoint(request.uri().path());
    let id = request_id();
    request.extensions_mut().insert(RequestId(id.clone()));
    let metrics = csc.metrics();
    let in_flight = InFlight::enter(&metrics.in_flight);
    let started = std::time::Instant::now();
    let span = tracing::info_span!("request", id = %id, endpoint);
    let mut response = next.run(request).instrument(span.clone()).await;
    drop(in_flight);
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status();
    metrics
        .latency
        .with_label_values(&[endpoint])
        .observe(seconds);
    metrics
        .requests
        .with_label_values(&[endpoint, status.as_str()])
        .inc();
    let _entered = span.enter();
    if let Some(refused) = response.extensions().get::<Refused>().copied() {
        metrics
            .refusals
            .with_label_values(&[endpoint, refused.code])
            .inc();
        match refused.cause {
            Cause::Scdev => metrics.scdev_errors.inc(),
            Cause::Authentication { locked: true } => metrics.lockouts.inc(),
            _ => {}
        }
        tracing::info!(
            status = status.as_u16(),
            ms = seconds * 1e3,
            refused = refused.code,
            "answered"
        );
    } else {
        let signatures = response.extensions().get::<Signed>().map_or(0, |s| s.0);
        if signatures > 0 {
            metrics
                .signatures
                .with_label_values(&[endpoint])
                .inc_by(signatures);
        }
        tracing::info!(
            status = status.as_u16(),
            ms = seconds * 1e3,
            signatures,
            "answered"
        );
    }
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// A request in progress, counted until dropped (also when the client
/// goes away and the request's future is dropped).
struct InFlight<'a>(&'a prometheus::IntGauge);

impl<'a> InFlight<'a> {
    fn enter(gauge: &'a prometheus::IntGauge) -> Self {
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// 16 random bytes, hex.
fn request_id() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        return "unknown".to_owned();
    }
    ssa::store::durable::hex(&bytes)
}

/// `/metrics`, the Prometheus text format.
async fn metrics(axum::extract::State(csc): axum::extract::State<Arc<CscService>>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        csc.metrics().render(),
    )
        .into_response()
}
