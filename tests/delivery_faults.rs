//! Issue 11, item 2: a fault at every step of delivering a signature —
//! the audit unit's write, its fsync, the ledger's commit, and the record
//! of a withheld signature — leaves either a delivered signature with its
//! record and a spent SAD, or no signature, a record saying so, and a SAD
//! the signer can use again. Both signing modes, table-driven.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use common::{PIN, cheap_pin_config, enrol_with_certificate, scal1_policy};
use der::Decode;
use ssa::audit::{AuditError, AuditLog, AuditOptions, Event, Outcome, Record};
use ssa::sad::*;
use ssa::scdev::KeyEncryptionKey;
use ssa::scdev::soft::SoftScdev;
use ssa::store::AuditSink;
use ssa::{
    HashAlgorithm, MemoryCredentialStore, PendingSignatures, ServiceError, SignOptions,
    SigningService, SigningServiceBuilder,
};
use ssa_testkit::faults::{FaultyLedger, FaultySink};
use x509_cert::Certificate;

struct World {
    service: SigningService,
    sink: Arc<FaultySink>,
    ledger: Arc<FaultyLedger>,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    world_with(|builder| builder)
}

fn world_with(finish: impl FnOnce(SigningServiceBuilder) -> SigningServiceBuilder) -> World {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = SadSigningKey::generate(SadAlgorithm::Es256).unwrap();
    let issuer = SadIssuer::new(
        cheap_pin_config(),
        key,
        SeedKey::generate().unwrap(),
        Arc::new(MemoryLockoutStore::new()),
    );
    let ledger = Arc::new(FaultyLedger::new(Arc::new(
        FileLedger::open(dir.path().join("ledger.journal"), 0).unwrap(),
    )));
    let sam = SadVerifier::new(SamConfig::new("sam"), ledger.clone())
        .trust("iss", issuer.verifying_key());
    let sink = Arc::new(FaultySink::default());
    let audit = Arc::new(AuditLog::over(sink.clone(), AuditOptions::default()).unwrap());
    let builder = SigningServiceBuilder::new(
        Arc::new(SoftScdev::in_memory(KeyEncryptionKey::from_bytes([7; 32]))),
        sam,
        Arc::new(MemoryCredentialStore::new()),
        audit,
    )
    .issuer(issuer)
    .requests(scal1_policy())
    .anchors(vec![
        Certificate::from_der(&ssa_testkit::pki::pki().ca.cert_der).unwrap(),
    ]);
    let service = finish(builder).build().unwrap();
    enrol_with_certificate(&service, "c/1", "CN=Delivery Test");
    World {
        service,
        sink,
        ledger,
        _dir: dir,
    }
}

/// The digests one SAD binds.
type Digests = Vec<Vec<u8>>;

/// A SAD and its id.
type Authorized = (Sad, String);

#[derive(Clone, Copy, Debug)]
enum Mode {
    Documents,
    Hashes,
    /// `sign_documents_pending`, then `wait`.
    DocumentsPending,
    /// `sign_hashes_pending`, then `wait`.
    HashesPending,
}

const MODES: [Mode; 4] = [
    Mode::Documents,
    Mode::Hashes,
    Mode::DocumentsPending,
    Mode::HashesPending,
];

impl World {
    /// A SAD for `digests`, and its id.
    fn authorize(&self, mode: Mode, digests: &[Vec<u8>]) -> (Sad, String) {
        let request = AuthorizationRequest {
            mode: match mode {
                Mode::Documents | Mode::DocumentsPending => SigningMode::Document,
                Mode::Hashes | Mode::HashesPending => SigningMode::Dtbsr,
            },
            credential: "c/1",
            hash_alg: HashAlgorithm::Sha256,
            digests,
            num: 1,
            lifetime: 300,
            factors: PresentedFactors {
                pin: Some(Pin::new(PIN)),
                ..PresentedFactors::default()
            },
        };
        let authorized = self.service.authorize(&request, SystemTime::now()).unwrap();
        (authorized.sad, authorized.sad_id)
    }

    fn sign(&self, mode: Mode, sad: &Sad, digests: &[Vec<u8>]) -> Result<(), ServiceError> {
        let now = SystemTime::now();
        match mode {
            Mode::DocumentsPending | Mode::HashesPending => {
                self.pending(mode, sad, digests)?.wait().map(|_| ())
            }
            Mode::Documents => self
                .service
                .sign_documents("c/1", sad, digests, &SignOptions::default(), now)
                .map(|_| ()),
            Mode::Hashes => self
                .service
                .sign_hashes("c/1", sad, digests, None, now)
                .map(|_| ()),
        }
    }

    /// `n` one-digest SADs, the digests named after `tag`.
    fn authorize_several(
        &self,
        mode: Mode,
        tag: &str,
        n: usize,
    ) -> (Vec<Digests>, Vec<Authorized>) {
        let digests: Vec<Digests> = (0..n)
            .map(|i| vec![HashAlgorithm::Sha256.digest(format!("{tag} {i}").as_bytes())])
            .collect();
        let sads = digests.iter().map(|d| self.authorize(mode, d)).collect();
        (digests, sads)
    }

    /// Each SAD's digests signed up to the disk.
    fn pending_each(
        &self,
        mode: Mode,
        digests: &[Digests],
        sads: &[Authorized],
    ) -> Vec<PendingSignatures<'_>> {
        sads.iter()
            .zip(digests)
            .map(|((sad, _), d)| self.pending(mode, sad, d).unwrap())
            .collect()
    }

    /// Signs up to the disk: the signatures, held until `wait`.
    fn pending(
        &self,
        mode: Mode,
        sad: &Sad,
        digests: &[Vec<u8>],
    ) -> Result<PendingSignatures<'_>, ServiceError> {
        let now = SystemTime::now();
        match mode {
            Mode::Documents | Mode::DocumentsPending => self.service.sign_documents_pending(
                "c/1",
                sad,
                digests,
                &SignOptions::default(),
                now,
            ),
            Mode::Hashes | Mode::HashesPending => self
                .service
                .sign_hashes_pending("c/1", sad, digests, None, now),
        }
    }

    fn records(&self) -> Vec<Record> {
        self.sink
            .read_from(0)
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l.split_once(' ').unwrap().1).unwrap())
            .collect()
    }

    /// Signature records for `sad_id` not followed by a `Withheld` one:
    /// signatures the log says were delivered.
    fn delivered(&self, sad_id: &str) -> usize {
        let mut delivered = 0usize;
        for record in self.records() {
            match &record.entry.event {
                Event::Signature { sad_id: s, .. }
                    if s == sad_id && record.entry.outcome == Outcome::Success =>
                {
                    delivered += 1;
                }
                Event::Withheld { sad_id: s } if s == sad_id => delivered -= 1,
                _ => {}
            }
        }
        delivered
    }
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// The audit unit (activation + signature) cannot be written.
    AuditWrite,
    /// It is written, but its fsync fails.
    AuditSync,
    /// The ledger cannot record the SAD as spent.
    LedgerCommit,
    /// That, and then the `Withheld` record cannot be written either.
    LedgerCommitThenAuditWrite,
}

#[test]
fn a_fault_at_every_step_of_delivery_leaves_all_or_nothing() {
    for mode in MODES {
        for fault in [
            Fault::AuditWrite,
            Fault::AuditSync,
            Fault::LedgerCommit,
            Fault::LedgerCommitThenAuditWrite,
        ] {
            let case = format!("{mode:?} / {fault:?}");
            let w = world();
            let digests = vec![HashAlgorithm::Sha256.digest(case.as_bytes())];
            let (sad, sad_id) = w.authorize(mode, &digests);
            match fault {
                Fault::AuditWrite => w.sink.fail_append(0),
                Fault::AuditSync => w.sink.fail_sync.store(true, Ordering::SeqCst),
                Fault::LedgerCommit => w.ledger.fail_commit.store(true, Ordering::SeqCst),
                Fault::LedgerCommitThenAuditWrite => {
                    w.ledger.fail_commit.store(true, Ordering::SeqCst);
                    // The unit goes through; the `Withheld` record does not.
                    w.sink.fail_append(1);
                }
            }
            let error = w.sign(mode, &sad, &digests).unwrap_err();
            match fault {
                Fault::AuditWrite | Fault::AuditSync => assert!(
                    matches!(error, ServiceError::Audit(AuditError::Sink(_))),
                    "{case}: {error:?}"
                ),
                Fault::LedgerCommit | Fault::LedgerCommitThenAuditWrite => assert!(
                    matches!(error, ServiceError::Withheld { .. }),
                    "{case}: {error:?}"
                ),
            }
            // Nothing is delivered on top of a log that stopped.
            let stopped = matches!(
                fault,
                Fault::AuditWrite | Fault::AuditSync | Fault::LedgerCommitThenAuditWrite
            );
            assert_eq!(w.service.audit().stopped().is_some(), stopped, "{case}");
            if stopped {
                let again = w.sign(mode, &sad, &digests).unwrap_err();
                assert!(
                    matches!(again, ServiceError::Audit(AuditError::Stopped { .. })),
                    "{case}: {again:?}"
                );
                w.service.recover_audit(SystemTime::now()).unwrap();
            }
            // The log says no signature was delivered under the SAD ...
            assert_eq!(w.delivered(&sad_id), 0, "{case}: {:#?}", w.records());
            let report = ssa::audit::scan(&w.service.audit().export().unwrap(), None);
            assert!(report.is_intact(), "{case}: {:?}", report.problems);
            // ... and the signer can use it again, once.
            w.sign(mode, &sad, &digests)
                .unwrap_or_else(|e| panic!("{case}: the SAD was not given back: {e:?}"));
            assert_eq!(w.delivered(&sad_id), 1, "{case}");
            let spent = w.sign(mode, &sad, &digests).unwrap_err();
            assert!(
                matches!(spent, ServiceError::Sad(SadError::SadExhausted { .. })),
                "{case}: {spent:?}"
            );
        }
    }
}

/// Issue 16: signatures held for a later `wait` are delivered only on top
/// of durable records, which `wait` writes. Dropped before the wait, they
/// are withheld (their unit, then a `Withheld` record) and the SAD,
/// reserved until then, is given back; a wait while the log is stopped
/// refuses them and gives the SAD back; a wait after the log stopped and
/// recovered writes their unit after the recovery's record and delivers.
#[test]
fn pending_signatures_dropped_or_outlived_by_a_recovery_are_withheld() {
    for mode in [Mode::DocumentsPending, Mode::HashesPending] {
        let case = format!("{mode:?}");
        let w = world();
        let digests = vec![HashAlgorithm::Sha256.digest(b"dropped")];
        let (sad, sad_id) = w.authorize(mode, &digests);
        let pending = w.pending(mode, &sad, &digests).unwrap();
        // Reserved while pending: the SAD does not sign twice meanwhile.
        assert!(w.sign(mode, &sad, &digests).is_err(), "{case}");
        drop(pending);
        let events: Vec<Event> = w.records().into_iter().map(|r| r.entry.event).collect();
        assert!(
            matches!(
                events.as_slice(),
                [
                    ..,
                    Event::Activation { sad_id: Some(a) },
                    Event::Signature { sad_id: s, .. },
                    Event::Withheld { sad_id: h }
                ] if *a == sad_id && *s == sad_id && *h == sad_id
            ),
            "{case}: {events:#?}"
        );
        assert_eq!(w.delivered(&sad_id), 0, "{case}");
        w.sign(mode, &sad, &digests)
            .unwrap_or_else(|e| panic!("{case}: the SAD was not given back: {e:?}"));
        assert_eq!(w.delivered(&sad_id), 1, "{case}");

        let w = world();
        let (first, other, late) = (
            vec![HashAlgorithm::Sha256.digest(b"pending")],
            vec![HashAlgorithm::Sha256.digest(b"other")],
            vec![HashAlgorithm::Sha256.digest(b"late")],
        );
        let (sad, sad_id) = w.authorize(mode, &first);
        let (other_sad, _) = w.authorize(mode, &other);
        let (late_sad, late_id) = w.authorize(mode, &late);
        let pending = w.pending(mode, &sad, &first).unwrap();
        // Another request's fsync fails: the log stops. A new request is
        // refused at once, the pending one by its wait; neither SAD is
        // spent, and nothing of theirs is in the log.
        w.sink.fail_sync.store(true, Ordering::SeqCst);
        assert!(w.sign(mode, &other_sad, &other).is_err(), "{case}");
        let refused = w.pending(mode, &late_sad, &late).unwrap_err();
        assert!(
            matches!(refused, ServiceError::Audit(AuditError::Stopped { .. })),
            "{case}: {refused:?}"
        );
        let error = pending.wait().unwrap_err();
        assert!(
            matches!(error, ServiceError::Audit(AuditError::Stopped { .. })),
            "{case}: {error:?}"
        );
        w.service.recover_audit(SystemTime::now()).unwrap();
        assert_eq!(w.delivered(&sad_id), 0, "{case}: {:#?}", w.records());
        assert_eq!(w.delivered(&late_id), 0, "{case}: {:#?}", w.records());
        let report = ssa::audit::scan(&w.service.audit().export().unwrap(), None);
        assert!(report.is_intact(), "{case}: {:?}", report.problems);
        for (sad, digests, id) in [(&sad, &first, &sad_id), (&late_sad, &late, &late_id)] {
            w.sign(mode, sad, digests)
                .unwrap_or_else(|e| panic!("{case}: the SAD was not given back: {e:?}"));
            assert_eq!(w.delivered(id), 1, "{case}");
        }

        // Pending across a stop and a recovery: the wait writes the unit
        // after the recovery's record and delivers; the SAD is spent.
        let w = world();
        let (kept, failing) = (
            vec![HashAlgorithm::Sha256.digest(b"kept")],
            vec![HashAlgorithm::Sha256.digest(b"failing")],
        );
        let (sad, sad_id) = w.authorize(mode, &kept);
        let (failing_sad, _) = w.authorize(mode, &failing);
        let pending = w.pending(mode, &sad, &kept).unwrap();
        w.sink.fail_sync.store(true, Ordering::SeqCst);
        assert!(w.sign(mode, &failing_sad, &failing).is_err(), "{case}");
        w.service.recover_audit(SystemTime::now()).unwrap();
        let signatures = pending
            .wait()
            .unwrap_or_else(|e| panic!("{case}: refused after the recovery: {e:?}"));
        assert_eq!(signatures.len(), 1, "{case}");
        assert_eq!(w.delivered(&sad_id), 1, "{case}");
        let events: Vec<Event> = w.records().into_iter().map(|r| r.entry.event).collect();
        let recovered = events
            .iter()
            .position(|e| matches!(e, Event::Recovered { .. }));
        let activated = events
            .iter()
            .position(|e| matches!(e, Event::Activation { sad_id: Some(a) } if *a == sad_id));
        assert!(
            recovered.is_some() && activated > recovered,
            "{case}: {events:#?}"
        );
        assert!(
            w.sign(mode, &sad, &kept).is_err(),
            "{case}: the SAD signed twice"
        );
    }
}

/// Requests delivered together (`PendingSignatures::wait_all`: one fsync
/// of the audit log, one of the ledger's journal) answer each for itself:
/// a spend the ledger refuses withholds that request alone (its SAD given
/// back), the others are delivered and their SADs spent.
#[test]
fn requests_delivered_together_answer_each_for_itself() {
    for mode in [Mode::DocumentsPending, Mode::HashesPending] {
        let case = format!("{mode:?}");
        let w = world();
        let (digests, sads) = w.authorize_several(mode, &case, 3);
        let pending = w.pending_each(mode, &digests, &sads);
        w.ledger.fail_commit.store(true, Ordering::SeqCst);
        let answers = PendingSignatures::wait_all(pending);
        assert!(
            matches!(answers[0], Err(ServiceError::Withheld { .. })),
            "{case}: {:?}",
            answers[0]
        );
        for answer in &answers[1..] {
            assert_eq!(answer.as_ref().map(Vec::len).ok(), Some(1), "{case}");
        }
        assert_eq!(w.delivered(&sads[0].1), 0, "{case}");
        assert_eq!(w.delivered(&sads[1].1), 1, "{case}");
        assert_eq!(w.delivered(&sads[2].1), 1, "{case}");
        // The withheld one's SAD signs again, once; the others are spent.
        w.sign(mode, &sads[0].0, &digests[0])
            .unwrap_or_else(|e| panic!("{case}: the SAD was not given back: {e:?}"));
        for i in 1..3 {
            assert!(
                w.sign(mode, &sads[i].0, &digests[i]).is_err(),
                "{case}: SAD {i} signed twice"
            );
        }
    }
}

/// Issue 16: `wait_all` writes the units of the requests it delivers with
/// one append to each service's log. If that append fails nothing is
/// delivered: the first request gets the write's error, the others that of
/// their own try on the log that stopped, and every SAD is given back.
/// Requests of two services waited for together land each in its own log.
#[test]
fn units_delivered_together_fail_together_and_land_in_their_own_log() {
    for mode in [Mode::DocumentsPending, Mode::HashesPending] {
        let case = format!("{mode:?}");
        let w = world();
        let (digests, sads) = w.authorize_several(mode, &format!("{case} write"), 3);
        let pending = w.pending_each(mode, &digests, &sads);
        w.sink.fail_append(0);
        let answers = PendingSignatures::wait_all(pending);
        assert!(
            matches!(answers[0], Err(ServiceError::Audit(AuditError::Sink(_)))),
            "{case}: {:?}",
            answers[0]
        );
        for answer in &answers[1..] {
            assert!(
                matches!(answer, Err(ServiceError::Audit(AuditError::Stopped { .. }))),
                "{case}: {answer:?}"
            );
        }
        w.service.recover_audit(SystemTime::now()).unwrap();
        for ((sad, id), d) in sads.iter().zip(&digests) {
            assert_eq!(w.delivered(id), 0, "{case}");
            w.sign(mode, sad, d)
                .unwrap_or_else(|e| panic!("{case}: the SAD was not given back: {e:?}"));
            assert_eq!(w.delivered(id), 1, "{case}");
        }

        let (a, b) = (world(), world());
        let requests: Vec<(&World, Vec<Vec<u8>>)> = [&a, &b, &a]
            .into_iter()
            .enumerate()
            .map(|(i, w)| {
                let d = vec![HashAlgorithm::Sha256.digest(format!("{case} two {i}").as_bytes())];
                (w, d)
            })
            .collect();
        let sads: Vec<(Sad, String)> = requests.iter().map(|(w, d)| w.authorize(mode, d)).collect();
        let pending: Vec<_> = requests
            .iter()
            .zip(&sads)
            .map(|((w, d), (sad, _))| w.pending(mode, sad, d).unwrap())
            .collect();
        for answer in PendingSignatures::wait_all(pending) {
            assert_eq!(answer.map(|s| s.len()).ok(), Some(1), "{case}");
        }
        for ((w, _), (_, id)) in requests.iter().zip(&sads) {
            assert_eq!(w.delivered(id), 1, "{case}");
            let other = if std::ptr::eq(*w, &a) { &b } else { &a };
            assert!(
                other.records().iter().all(|r| !matches!(
                    &r.entry.event,
                    Event::Activation { sad_id: Some(s) } if s == id
                )),
                "{case}: a request's records in another service's log"
            );
        }
    }
}

/// Item 5: a TSA that sends a byte a second fails a B-T request within the
/// TSA's deadline (generous bound: it ends, not how fast), and the SAD is
/// given back: it signs at B-B right after.
#[test]
fn a_stalling_tsa_fails_the_request_by_its_deadline_and_gives_the_sad_back() {
    use ssa_testkit::loopback::{Stall, StallingServer};
    let server = StallingServer::start(Stall::Trickle);
    let mut tsa = ssa::cades::HttpTsa::new(&format!("{}/tsa", server.base_url())).unwrap();
    tsa.settings.deadline = std::time::Duration::from_secs(2);
    let w = world_with(|b| b.tsa(Box::new(tsa)));
    let digests = vec![HashAlgorithm::Sha256.digest(b"trickled")];
    let (sad, sad_id) = w.authorize(Mode::Documents, &digests);
    let options = SignOptions {
        level: ssa::Level::BT,
        ..SignOptions::default()
    };
    let started = std::time::Instant::now();
    let error = w
        .service
        .sign_documents("c/1", &sad, &digests, &options, SystemTime::now())
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(error, ServiceError::Cades(_)), "{error:?}");
    assert!(
        took < std::time::Duration::from_secs(4),
        "held for {took:?}"
    );
    assert_eq!(w.delivered(&sad_id), 0);
    w.sign(Mode::Documents, &sad, &digests).unwrap();
    assert_eq!(w.delivered(&sad_id), 1);
}
