//! Issue 11, item 5: a TSA (or CRL/OCSP server) that stalls holds a
//! signing request — and its SAD — no longer than the overall deadline,
//! and the time-stamps of one batch are fetched concurrently.
//!
//! The bounds below are generous (the deadline plus two seconds): they
//! check that a request ends, not how fast. Before the deadline existed a
//! TSA sending a byte a second held a request for over 60 s, a silent one
//! for 30 s. Throughput figures are in BENCHMARKS.md
//! (`examples/tsa_batch.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use common::*;
use der::Decode;
use ssa_cades::{
    Augmentation, CadesError, Document, HttpTsa, Indication, Level, TimeStampAuthority,
    VerifyOptions, augment_all, verify,
};
use ssa_scdev::HashAlgorithm;
use ssa_testkit::loopback::{Stall, StallingServer};
use ssa_testkit::pki::pki;
use ssa_testkit::tsa::OpensslTsa;
use x509_cert::Certificate;

const DEADLINE: Duration = Duration::from_secs(2);
const SLACK: Duration = Duration::from_secs(2);

fn stalled_tsa(how: Stall) -> (StallingServer, HttpTsa) {
    let server = StallingServer::start(how);
    let mut tsa = HttpTsa::new(&format!("{}/tsa", server.base_url())).unwrap();
    tsa.settings.deadline = DEADLINE;
    (server, tsa)
}

#[test]
fn a_stalling_tsa_is_given_up_at_the_deadline() {
    for how in [Stall::Silent, Stall::Trickle] {
        let (server, tsa) = stalled_tsa(how);
        let started = Instant::now();
        let result = tsa.time_stamp(HashAlgorithm::Sha256, &[7u8; 32]);
        let took = started.elapsed();
        assert!(
            matches!(result, Err(CadesError::Tsa { .. })),
            "{how:?}: {result:?}"
        );
        assert!(server.accepted() >= 1, "{how:?}: the TSA was never asked");
        assert!(
            took < DEADLINE + SLACK,
            "{how:?}: held the request for {took:?}, deadline {DEADLINE:?}"
        );
    }
}

#[test]
fn the_default_deadline_is_a_few_seconds() {
    let tsa = HttpTsa::new("http://127.0.0.1:9/tsa").unwrap();
    assert!(tsa.settings.deadline <= Duration::from_secs(10));
    assert!(tsa.settings.deadline >= Duration::from_secs(1));
}

/// A TSA that counts the requests in flight at once.
struct Counting<'a> {
    inner: &'a HttpTsa,
    in_flight: AtomicUsize,
    most: AtomicUsize,
}

impl TimeStampAuthority for Counting<'_> {
    fn time_stamp(&self, hash: HashAlgorithm, digest: &[u8]) -> Result<Vec<u8>, CadesError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        let token = self.inner.time_stamp(hash, digest);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        token
    }
}

/// Six signatures against a TSA that takes 300 ms an answer: the requests
/// overlap, and every signature comes back time-stamped, in its place.
#[test]
fn a_batch_is_time_stamped_concurrently_and_in_order() {
    let server = OpensslTsa::start_slow(&pki().tsa, Duration::from_millis(300));
    let http = HttpTsa::new(&server.url()).unwrap();
    let tsa = Counting {
        inner: &http,
        in_flight: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
    };
    let signer = signer();
    let documents: Vec<Vec<u8>> = (0..6u8).map(|i| vec![i; 100]).collect();
    let signatures: Vec<Vec<u8>> = documents.iter().map(|d| signer.sign(d)).collect();
    let anchors = vec![Certificate::from_der(&pki().ca.cert_der).unwrap()];
    let with = Augmentation {
        tsa: Some(&tsa),
        revocation: None,
        anchors: &anchors,
        at: SystemTime::now(),
    };
    let stamped = augment_all(signatures, Level::BT, &with, 8).unwrap();
    assert!(
        tsa.most.load(Ordering::SeqCst) >= 2,
        "the time-stamps were fetched one after another"
    );
    assert_eq!(server.served(), 6);
    for (document, signature) in documents.iter().zip(&stamped) {
        let report = verify(
            signature,
            Document::Bytes(document),
            &VerifyOptions::new(&anchors, SystemTime::now()),
        );
        assert_eq!(report.indication(), Indication::TotalPassed, "{report:?}");
        assert_eq!(report.signers[0].level, Some(Level::BT), "{report:?}");
    }
    // One at a time when asked.
    tsa.most.store(0, Ordering::SeqCst);
    let one = augment_all(
        documents.iter().map(|d| signer.sign(d)).collect(),
        Level::BT,
        &with,
        1,
    )
    .unwrap();
    assert_eq!(one.len(), 6);
    assert_eq!(tsa.most.load(Ordering::SeqCst), 1);
}

/// If one time-stamp of a batch fails, the batch fails (nothing partly
/// augmented comes back).
#[test]
fn one_failed_time_stamp_fails_the_batch() {
    let (_server, stalled) = stalled_tsa(Stall::Silent);
    let signer = signer();
    let anchors = vec![Certificate::from_der(&pki().ca.cert_der).unwrap()];
    let with = Augmentation {
        tsa: Some(&stalled),
        revocation: None,
        anchors: &anchors,
        at: SystemTime::now(),
    };
    let signatures = vec![signer.sign(b"a"), signer.sign(b"b")];
    assert!(matches!(
        augment_all(signatures, Level::BT, &with, 8),
        Err(CadesError::Tsa { .. })
    ));
}
