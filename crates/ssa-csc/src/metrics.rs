//! What the server counts, in the Prometheus text format (`/metrics`):
//! requests and refusals by endpoint and reason, signatures returned,
//! latency, SCDev errors, lockouts, requests in progress. One registry per
//! [`CscService`](crate::CscService), passed in, never global: two servers
//! in one process count apart.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The server's metrics.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    pub(crate) requests: IntCounterVec,
    pub(crate) refusals: IntCounterVec,
    pub(crate) signatures: IntCounterVec,
    pub(crate) latency: HistogramVec,
    pub(crate) scdev_errors: IntCounter,
    pub(crate) lockouts: IntCounter,
    pub(crate) in_flight: IntGauge,
}

/// The endpoints a label may name; anything else is `other` (a client
/// cannot grow the label set).
pub(crate) const ENDPOINTS: [&str; 23] = [
    "/csc/v1/info",
    "/csc/v1/auth/login",
    "/csc/v1/auth/revoke",
    "/csc/v1/credentials/list",
    "/csc/v1/credentials/info",
    "/csc/v1/credentials/authorize",
    "/csc/v1/signatures/signHash",
    "/csc/v1/oauth2/authorize",
    "/csc/v1/oauth2/token",
    "/csc/v1/oauth2/revoke",
    "/csc/v2/info",
    "/csc/v2/auth/login",
    "/csc/v2/auth/revoke",
    "/csc/v2/credentials/list",
    "/csc/v2/credentials/info",
    "/csc/v2/credentials/authorize",
    "/csc/v2/signatures/signHash",
    "/csc/v2/signatures/signDoc",
    "/csc/v2/oauth2/authorize",
    "/csc/v2/oauth2/token",
    "/csc/v2/oauth2/revoke",
    "/healthz",
    "/readyz",
];

/// The endpoint label of a request path.
pub(crate) fn endpoint(path: &str) -> &'static str {
    ENDPOINTS
        .iter()
        .find(|e| **e == path)
        .copied()
        .unwrap_or("other")
}

impl Metrics {
    /// Fresh metrics in their own registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "csc_requests_total",
                "Requests answered, by endpoint and HTTP status.",
            ),
            &["endpoint", "status"],
        )?;
        let refusals = IntCounterVec::new(
            Opts::new(
                "csc_refusals_total",
                "Requests refused, by endpoint and CSC error code.",
            ),
            &["endpoint", "reason"],
        )?;
        let signatures = IntCounterVec::new(
            Opts::new(
                "csc_signatures_total",
                "Signature values (signHash) and CMS signatures (signDoc) returned.",
            ),
            &["endpoint"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("csc_request_seconds", "Time to answer a request.").buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["endpoint"],
        )?;
        let scdev_errors = IntCounter::new(
            "csc_scdev_errors_total",
            "Requests that failed in the SCDev (HSM or soft key store).",
        )?;
        let lockouts = IntCounter::new(
            "csc_lockouts_total",
            "Credentials and accounts locked by failed authentications.",
        )?;
        let in_flight = IntGauge::new("csc_requests_in_flight", "Requests in progress.")?;
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(refusals.clone()),
            Box::new(signatures.clone()),
            Box::new(latency.clone()),
            Box::new(scdev_errors.clone()),
            Box::new(lockouts.clone()),
            Box::new(in_flight.clone()),
        ] {
            registry.register(collector)?;
        }
        Ok(Self {
            registry,
            requests,
            refusals,
            signatures,
            latency,
            scdev_errors,
            lockouts,
            in_flight,
        })
    }

    /// Everything, in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metrics.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Signatures returned so far, over every endpoint.
    pub fn signatures_returned(&self) -> u64 {
        ENDPOINTS
            .iter()
            .map(|e| self.signatures.with_label_values(&[e]).get())
            .sum()
    }
}
