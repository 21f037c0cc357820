//! The consumption ledger under load and across restarts, and the lockout
//! store across restarts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use ssa_sad::*;

/// 2 threads × 10 000 attempts on one SAD allowing `num` signatures: exactly
/// `num` succeed, whatever the interleaving.
fn race(ledger: Arc<dyn ConsumptionLedger>) {
    const NUM: u32 = 40;
    let w = world_with(
        SadAlgorithm::EdDsa,
        Arc::new(MemoryLockoutStore::new()),
        ledger,
    );
    let sad = w
        .authorize_with("cred-1", &[], NUM, Some(Pin::new(PIN)), None, NOW)
        .unwrap();
    let successes = AtomicUsize::new(0);
    let exhausted = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for thread in 0..2u8 {
            let (w, sad, successes, exhausted) = (&w, &sad, &successes, &exhausted);
            s.spawn(move || {
                for attempt in 0..10_000u32 {
                    let digest = [vec![thread ^ attempt as u8; 32]];
                    match w
                        .sam
                        .activate(sad, &w.request("cred-1", Scal::Scal1, &digest), NOW)
                    {
                        Ok(activation) => {
                            // Some signatures "fail" and are released: they must not count.
                            if attempt % 7 == 3 {
                                activation.release().unwrap();
                            } else {
                                activation.commit().unwrap();
                                successes.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(SadError::SadExhausted { .. }) => {
                            exhausted.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => panic!("{e:?}"),
                    }
                }
            });
        }
    });
    assert_eq!(successes.into_inner(), NUM as usize);
    assert!(exhausted.into_inner() > 19_000);
}

#[test]
fn memory_ledger_two_threads_ten_thousand_attempts_exactly_num() {
    race(Arc::new(MemoryLedger::new()));
}

#[test]
fn file_ledger_two_threads_ten_thousand_attempts_exactly_num() {
    let dir = tempfile::tempdir().unwrap();
    race(Arc::new(
        FileLedger::open(dir.path().join("ledger.journal"), NOW.0).unwrap(),
    ));
}

#[test]
fn bound_sad_race_signs_each_digest_once() {
    let w = world();
    let digests = digests(8);
    let sad = w.authorize("cred-2", &digests, 8).unwrap();
    let successes = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            let (w, sad, digests, successes) = (&w, &sad, &digests, &successes);
            s.spawn(move || {
                for attempt in 0..2_000usize {
                    let one = [digests[attempt % digests.len()].clone()];
                    if let Ok(a) = w
                        .sam
                        .activate(sad, &w.request("cred-2", Scal::Scal2, &one), NOW)
                    {
                        a.commit().unwrap();
                        successes.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(successes.into_inner(), 8);
}

#[test]
fn dropped_activation_gives_its_digests_back() {
    let w = world();
    let digests = digests(1);
    let sad = w.authorize("cred-2", &digests, 1).unwrap();
    let request = w.request("cred-2", Scal::Scal2, &digests);
    {
        let _held = w.sam.activate(&sad, &request, NOW).unwrap();
        // While it is held, the digest is reserved.
        assert!(w.sam.activate(&sad, &request, NOW).is_err());
    }
    w.sam
        .activate(&sad, &request, NOW)
        .unwrap()
        .commit()
        .unwrap();
    assert!(matches!(
        w.sam.activate(&sad, &request, NOW).unwrap_err(),
        SadError::SadExhausted { .. }
    ));
}

#[test]
fn file_ledger_restart_keeps_a_consumed_sad_consumed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.journal");
    let lockout: Arc<dyn LockoutStore> = Arc::new(MemoryLockoutStore::new());
    let digests = digests(3);
    let sad;
    {
        let ledger: Arc<dyn ConsumptionLedger> = Arc::new(FileLedger::open(&path, NOW.0).unwrap());
        let w = world_with(SadAlgorithm::Es256, Arc::clone(&lockout), ledger);
        sad = w.authorize("cred-2", &digests, 3).unwrap();
        let two = &digests[..2];
        w.sam
            .activate(&sad, &w.request("cred-2", Scal::Scal2, two), NOW)
            .unwrap()
            .commit()
            .unwrap();
        // The SAM of the restarted process trusts the same issuer key.
        std::fs::write(
            dir.path().join("issuer.pk"),
            w.issuer.verifying_key().public_key,
        )
        .unwrap();
        std::fs::write(dir.path().join("issuer.kid"), w.issuer.verifying_key().kid).unwrap();
    }
    let trusted = SadVerifyingKey {
        algorithm: SadAlgorithm::Es256,
        kid: std::fs::read_to_string(dir.path().join("issuer.kid")).unwrap(),
        public_key: std::fs::read(dir.path().join("issuer.pk")).unwrap(),
    };
    let reopened: Arc<dyn ConsumptionLedger> = Arc::new(FileLedger::open(&path, NOW.0).unwrap());
    let sam = SadVerifier::new(SamConfig::new(AUD), reopened).trust(ISS, trusted);
    fn request(d: &[Vec<u8>]) -> ActivationRequest<'_> {
        ActivationRequest {
            credential: "cred-2",
            signer: "signer-2",
            mode: SigningMode::Document,
            credential_scal: Scal::Scal2,
            hash_alg: HashAlgorithm::Sha256,
            digests: d,
        }
    }
    let first = [digests[0].clone()];
    assert!(matches!(
        sam.activate(&sad, &request(&first), NOW).unwrap_err(),
        SadError::DigestAlreadyUsed { .. }
    ));
    let two_more = [digests[2].clone(), vec![9; 32]];
    assert!(sam.activate(&sad, &request(&two_more), NOW).is_err());
    let last = [digests[2].clone()];
    sam.activate(&sad, &request(&last), NOW)
        .unwrap()
        .commit()
        .unwrap();
    assert!(matches!(
        sam.activate(&sad, &request(&last), NOW).unwrap_err(),
        SadError::SadExhausted { .. }
    ));
}

#[test]
fn file_ledger_cuts_a_torn_last_record_and_refuses_damage_in_the_middle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.journal");
    let w = world_with(
        SadAlgorithm::Es256,
        Arc::new(MemoryLockoutStore::new()),
        Arc::new(FileLedger::open(&path, NOW.0).unwrap()),
    );
    let digests = digests(2);
    let sad = w.authorize("cred-2", &digests, 2).unwrap();
    for d in &digests {
        let one = [d.clone()];
        w.sam
            .activate(&sad, &w.request("cred-2", Scal::Scal2, &one), NOW)
            .unwrap()
            .commit()
            .unwrap();
    }
    drop(w);
    let journal = std::fs::read(&path).unwrap();
    // A reservation and a commit per signature.
    assert_eq!(journal.iter().filter(|b| **b == b'\n').count(), 4);

    // A crash in the middle of a third append.
    let mut torn = journal.clone();
    torn.extend_from_slice(b"{\"jti\":\"x\",\"num\":1,\"ex");
    std::fs::write(&path, &torn).unwrap();
    FileLedger::open(&path, NOW.0).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        journal,
        "the torn tail was not cut"
    );

    // Damage to the first record: refused, never silently dropped.
    let mut damaged = journal.clone();
    damaged[5] ^= 0x01;
    std::fs::write(&path, &damaged).unwrap();
    assert!(matches!(
        FileLedger::open(&path, NOW.0).unwrap_err(),
        StoreError::Corrupt { .. }
    ));
}

/// The expiry in the journal's first record.
fn w_exp(journal: &[u8]) -> u64 {
    let text = std::str::from_utf8(journal).unwrap();
    let json = text.lines().next().unwrap().split('\t').next().unwrap();
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    value["exp"].as_u64().unwrap()
}

#[test]
fn file_ledger_compacts_expired_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.journal");
    let w = world_with(
        SadAlgorithm::Es256,
        Arc::new(MemoryLockoutStore::new()),
        Arc::new(FileLedger::open(&path, NOW.0).unwrap()),
    );
    let digests = digests(1);
    let sad = w.authorize("cred-2", &digests, 1).unwrap();
    w.sam
        .activate(&sad, &w.request("cred-2", Scal::Scal2, &digests), NOW)
        .unwrap()
        .commit()
        .unwrap();
    let jti = w.sam.verify_token(&sad, NOW).unwrap().jti;
    drop(w);
    assert!(!std::fs::read(&path).unwrap().is_empty());
    // Opened before expiry, and at it: kept, and nothing forgotten.
    let before = std::fs::read(&path).unwrap();
    let exp = w_exp(&before);
    for cut in [exp - 1, exp] {
        FileLedger::open(&path, cut).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "compacted at {cut}, expiry {exp}"
        );
    }
    // Opened after: gone.
    // Opened far later (a clock ahead): the horizon is one past the latest
    // expiry forgotten, not the opener's time.
    FileLedger::open(&path, NOW.0 + 100_000).unwrap();
    let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(text.lines().count(), 1, "only the horizon is left: {text}");
    assert!(text.contains("\"horizon\""), "{text}");

    // The clock steps back to NOW: the verifier alone would accept the SAD
    // again, and its use is no longer in the journal. The horizon the
    // compaction wrote refuses it, in this process and the next.
    for _ in 0..2 {
        let ledger = FileLedger::open(&path, NOW.0).unwrap();
        let error = ledger
            .reserve(&UseRequest {
                jti: &jti,
                num: 1,
                exp: NOW.0 + 300,
                iat: NOW.0,
                now: NOW.0,
                forget_before: NOW.0 - 60,
                digests: &digests,
                bound: true,
            })
            .unwrap_err();
        assert!(
            matches!(error, LedgerError::Forgotten { horizon, .. } if horizon == NOW.0 + 301),
            "{error:?}"
        );
    }
}

/// The memory ledger forgets SADs the verifier refuses anyway, and then
/// refuses them itself: a clock stepping back replays nothing.
#[test]
fn memory_ledger_forgets_expired_sads_and_refuses_them_after() {
    let ledger = MemoryLedger::new();
    let digest = digests(1);
    let request = |jti: &'static str, exp: u64, forget_before: u64| UseRequest {
        jti,
        num: 1,
        exp,
        iat: exp.saturating_sub(300),
        now: forget_before,
        forget_before,
        digests: &digest,
        bound: true,
    };
    let r = ledger.reserve(&request("old", 100, 0)).unwrap();
    ledger.commit(&r).unwrap();
    // Many later SADs at time 1 000: a sweep runs among them and forgets "old".
    let jtis: Vec<String> = (0..10_000).map(|i| format!("new-{i}")).collect();
    for jti in &jtis {
        let r = ledger
            .reserve(&UseRequest {
                jti,
                num: 1,
                exp: 2_000,
                iat: 1_700,
                now: 1_000,
                forget_before: 1_000,
                digests: &digest,
                bound: true,
            })
            .unwrap();
        ledger.commit(&r).unwrap();
    }
    // The clock steps back to 50: "old" is not exhausted any more as far as
    // the entries go, but it is behind the horizon.
    assert!(matches!(
        ledger.reserve(&request("old", 100, 0)),
        Err(LedgerError::Forgotten {
            horizon: 101,
            exp: 100,
            ..
        })
    ));
    // What is still tracked stays spent.
    assert!(matches!(
        ledger.reserve(&request("new-0", 2_000, 0)),
        Err(LedgerError::Exhausted { .. })
    ));
    // A new SAD is fine, down to one issued right after "old" expired; one
    // valid while "old" was is refused (it might be "old").
    assert!(ledger.reserve(&request("fresh", 1_500, 1_000)).is_ok());
    let after = UseRequest {
        iat: 101,
        ..request("right-after", 401, 1_000)
    };
    assert!(ledger.reserve(&after).is_ok());
    let during = UseRequest {
        iat: 100,
        ..request("during", 401, 1_000)
    };
    assert!(matches!(
        ledger.reserve(&during),
        Err(LedgerError::Forgotten { horizon: 101, .. })
    ));
}

#[test]
fn file_lockout_restart_keeps_a_lock_locked() {
    let dir = tempfile::tempdir().unwrap();
    let digests = digests(1);
    let enrolled;
    {
        let lockout: Arc<dyn LockoutStore> = Arc::new(FileLockoutStore::open(dir.path()).unwrap());
        let w = world_with(SadAlgorithm::Es256, lockout, Arc::new(MemoryLedger::new()));
        for _ in 0..5 {
            w.authorize_with(
                "cred-2",
                &digests,
                1,
                Some(Pin::new("0000")),
                Some(w.otp(NOW)),
                NOW,
            )
            .unwrap_err();
        }
        assert!(w.issuer.state("cred-2").unwrap().locked);
        // A TOTP step spent on another credential stays spent too.
        w.authorize_with("cred-1", &[], 1, None, Some(w.otp(NOW)), NOW)
            .unwrap();
        enrolled = w.issuer.state("cred-1").unwrap();
    }
    let reopened = FileLockoutStore::open(dir.path()).unwrap();
    let state = reopened.load("cred-2").unwrap();
    assert!(state.locked);
    assert_eq!(state.failures, 5);
    assert_eq!(reopened.load("cred-1").unwrap(), enrolled);
    assert!(enrolled.last_otp_step.is_some());

    // A whole new issuer over the reopened store refuses the right factors.
    let w = world_with(
        SadAlgorithm::Es256,
        Arc::new(reopened),
        Arc::new(MemoryLedger::new()),
    );
    let later = UnixTime(NOW.0 + 60);
    let error = w
        .authorize_with(
            "cred-2",
            &digests,
            1,
            Some(Pin::new(PIN)),
            Some(w.otp(later)),
            later,
        )
        .unwrap_err();
    assert!(matches!(error, SadError::Locked { .. }));
}

/// Two ledgers on one journal stand for two processes (each has its own
/// state and file handles; the file lock excludes them from each other).
#[test]
fn file_ledger_shared_by_two_handles_spends_each_use_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.journal");
    let one: Arc<dyn ConsumptionLedger> = Arc::new(FileLedger::open(&path, NOW.0).unwrap());
    let two: Arc<dyn ConsumptionLedger> = Arc::new(FileLedger::open(&path, NOW.0).unwrap());
    let digests = digests(1);
    let request = UseRequest {
        jti: "shared-1",
        num: 1,
        exp: NOW.0 + 300,
        iat: NOW.0,
        now: NOW.0,
        forget_before: 0,
        digests: &digests,
        bound: true,
    };
    let reservation = one.reserve(&request).unwrap();
    // While one holds it, the other cannot take it.
    assert!(two.reserve(&request).is_err());
    one.commit(&reservation).unwrap();
    assert!(matches!(
        two.reserve(&request).unwrap_err(),
        LedgerError::Exhausted { .. }
    ));

    // A race across the two handles: exactly `num` successes.
    const NUM: u32 = 25;
    let successes = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for ledger in [&one, &two] {
            let successes = &successes;
            s.spawn(move || {
                for i in 0..2_000u32 {
                    let digest = [i.to_be_bytes().to_vec()];
                    let request = UseRequest {
                        jti: "shared-2",
                        num: NUM,
                        exp: NOW.0 + 300,
                        iat: NOW.0,
                        now: NOW.0,
                        forget_before: 0,
                        digests: &digest,
                        bound: false,
                    };
                    if let Ok(r) = ledger.reserve(&request) {
                        ledger.commit(&r).unwrap();
                        successes.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(successes.into_inner(), NUM as usize);

    // A third opener compacts (drops nothing here) and the others keep working.
    drop(FileLedger::open(&path, NOW.0 + 301).unwrap());
    let fresh = UseRequest {
        jti: "shared-3",
        num: 1,
        exp: NOW.0 + 900,
        iat: NOW.0 + 600,
        now: NOW.0,
        forget_before: 0,
        digests: &digests,
        bound: true,
    };
    let r = two.reserve(&fresh).unwrap();
    two.commit(&r).unwrap();
    assert!(matches!(
        one.reserve(&fresh).unwrap_err(),
        LedgerError::Exhausted { .. }
    ));
}

/// A clock that jumps far ahead for a moment makes the ledger forget what
/// expired before that time, but the horizon follows what was forgotten:
/// once the clock is right again, new SADs are accepted.
#[test]
fn a_clock_jump_ahead_does_not_shut_out_later_sads() {
    let ledger = MemoryLedger::new();
    let digest = digests(1);
    let use_sad = |jti: &str, exp: u64, forget_before: u64| {
        let r = ledger.reserve(&UseRequest {
            jti,
            num: 1,
            exp,
            iat: exp.saturating_sub(300),
            now: forget_before,
            forget_before,
            digests: &digest,
            bound: true,
        })?;
        ledger.commit(&r)
    };
    use_sad("seen", 1_300, 0).unwrap();
    // Ten thousand requests while the clock reads year 2100.
    for i in 0..10_000 {
        use_sad(&format!("glitch-{i}"), 4_102_444_800 + 300, 4_102_444_800).unwrap();
    }
    // Back at time 1 350: a SAD issued then is fine, one valid at a time
    // the forgotten "seen" SAD was (issued at 900) is refused (fail
    // closed: it might be "seen"), and "seen" itself stays refused.
    use_sad("after", 1_650, 1_290).unwrap();
    assert!(matches!(
        use_sad("short", 1_200, 1_290),
        Err(LedgerError::Forgotten { horizon: 1_301, .. })
    ));
    assert!(matches!(
        use_sad("seen", 1_300, 1_290),
        Err(LedgerError::Forgotten { .. })
    ));
}

fn unbound<'a>(jti: &'a str, num: u32, digests: &'a [Vec<u8>]) -> UseRequest<'a> {
    UseRequest {
        jti,
        num,
        exp: NOW.0 + 300,
        iat: NOW.0,
        now: NOW.0,
        forget_before: 0,
        digests,
        bound: false,
    }
}

/// Another process replays the journal: the SAD's `num` and `exp` come
/// with it, so the second process neither grants more than `num` nor
/// forgets the SAD before it expires.
#[test]
fn a_replayed_entry_keeps_its_num_and_its_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.journal");
    let first = FileLedger::open(&path, NOW.0).unwrap();
    let all = digests(3);
    let r = first.reserve(&unbound("sad", 2, &all[0..1])).unwrap();
    first.commit(&r).unwrap();
    // A second process, opened later but before the SAD expires: it must
    // know one use is left, not two, and not forget the SAD.
    let later = NOW.0 + 299;
    let second = FileLedger::open(&path, later).unwrap();
    assert!(
        matches!(
            second.reserve(&UseRequest {
                num: 1_000,
                ..unbound("sad", 2, &all[1..3])
            }),
            Err(LedgerError::CountExceeded { left: 1, .. })
        ),
        "the replayed entry lost its num, or was forgotten before its expiry"
    );
    let r = second.reserve(&unbound("sad", 2, &all[1..2])).unwrap();
    second.commit(&r).unwrap();
    assert!(matches!(
        first.reserve(&unbound("sad", 2, &all[2..3])),
        Err(LedgerError::Exhausted { .. })
    ));
}

/// Enough reservations of fresh SADs, at `forget_before`, to pass a sweep
/// of the memory ledger (it sweeps every 4096 reservations or more).
fn push_through_a_sweep(ledger: &MemoryLedger, forget_before: u64) {
    let one = digests(1);
    for i in 0..4_200 {
        let jti = format!("filler-{i}");
        let r = ledger
            .reserve(&UseRequest {
                jti: &jti,
                num: 1,
                exp: forget_before + 1_000,
                iat: forget_before,
                now: forget_before,
                forget_before,
                digests: &one,
                bound: false,
            })
            .unwrap();
        ledger.commit(&r).unwrap();
    }
}

#[test]
fn a_sweep_keeps_a_sad_with_a_reservation_in_flight() {
    let ledger = MemoryLedger::new();
    let one = digests(1);
    let held = ledger
        .reserve(&UseRequest {
            iat: 0,
            exp: 100,
            ..unbound("slow", 1, &one)
        })
        .unwrap();
    push_through_a_sweep(&ledger, 1_000);
    // Expired meanwhile, but its signature is being made: it commits.
    ledger.commit(&held).unwrap();
}

#[test]
fn a_sweep_forgets_an_expired_sad_that_had_uses_left() {
    let ledger = MemoryLedger::new();
    let all = digests(2);
    let half = |d| UseRequest {
        iat: 0,
        exp: 100,
        ..unbound("half", 2, d)
    };
    let r = ledger.reserve(&half(&all[0..1])).unwrap();
    ledger.commit(&r).unwrap();
    push_through_a_sweep(&ledger, 1_000);
    // Forgotten, so refused for good (not granted its last use).
    assert!(matches!(
        ledger.reserve(&half(&all[1..2])),
        Err(LedgerError::Forgotten {
            exp: 100,
            horizon: 101,
            ..
        })
    ));
}

/// A sweep costs a pass over every entry, so it runs once per many
/// reservations: right after a later `forget_before`, a spent SAD is still
/// known as spent (not yet forgotten).
#[test]
fn forgetting_is_amortized_over_reservations() {
    let ledger = MemoryLedger::new();
    let one = digests(1);
    let spent = UseRequest {
        iat: 0,
        exp: 100,
        ..unbound("spent", 1, &one)
    };
    let r = ledger.reserve(&spent).unwrap();
    ledger.commit(&r).unwrap();
    let later = ledger
        .reserve(&UseRequest {
            forget_before: 200,
            ..unbound("later", 1, &one)
        })
        .unwrap();
    ledger.commit(&later).unwrap();
    assert!(matches!(
        ledger.reserve(&spent),
        Err(LedgerError::Exhausted { .. })
    ));
}

/// A handle that learns of a SAD from another's reservation record keeps
/// the SAD's expiry: a sweep does not forget the used-up SAD before it
/// expires, and compaction keeps its uses until then.
#[test]
fn a_use_committed_after_another_handles_reservation_survives_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.journal");
    let first = FileLedger::open(&path, NOW.0).unwrap();
    let second = FileLedger::open(&path, NOW.0).unwrap();
    let all = digests(3);
    // The first handle's use is in flight when the second learns of the SAD.
    let held = first.reserve(&unbound("sad", 2, &all[0..1])).unwrap();
    let r = second.reserve(&unbound("sad", 2, &all[1..2])).unwrap();
    second.commit(&r).unwrap();
    first.commit(&held).unwrap();
    // The second handle sweeps (it does every few thousand reservations)
    // at a time before the SAD expires: the used-up SAD stays refused.
    let one = digests(1);
    for i in 0..4_200 {
        let jti = format!("filler-{i}");
        let filler = second
            .reserve(&UseRequest {
                jti: &jti,
                num: 1,
                exp: NOW.0 + 1_000,
                iat: NOW.0,
                now: NOW.0,
                forget_before: NOW.0,
                digests: &one,
                bound: false,
            })
            .unwrap();
        second.release(&filler).unwrap();
    }
    assert!(
        matches!(
            second.reserve(&unbound("sad", 2, &all[2..3])),
            Err(LedgerError::Exhausted { .. })
        ),
        "a used-up SAD was forgotten before it expired"
    );
    // Reopened later, before the SAD expires: both uses are still there.
    let later = FileLedger::open(&path, NOW.0 + 299).unwrap();
    assert!(
        matches!(
            later.reserve(&unbound("sad", 2, &all[2..3])),
            Err(LedgerError::Exhausted { .. })
        ),
        "a use of the SAD was compacted away before the SAD expired"
    );
}

/// Damage that still parses (a digit changed in the middle of the
/// journal, or in its last line) is found by the line's checksum and
/// refused, not let through or cut off.
#[test]
fn a_journal_line_changed_in_the_middle_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.journal");
    let ledger = FileLedger::open(&path, NOW.0).unwrap();
    let all = digests(2);
    for d in [&all[0..1], &all[1..2]] {
        let r = ledger.reserve(&unbound("sad", 5, d)).unwrap();
        ledger.commit(&r).unwrap();
    }
    drop(ledger);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.lines().count() >= 4);
    let changed = text.replacen("\"num\":5", "\"num\":9", 1);
    assert_ne!(changed, text);
    std::fs::write(&path, changed).unwrap();
    assert!(matches!(
        FileLedger::open(&path, NOW.0).unwrap_err(),
        StoreError::Corrupt { .. }
    ));
    // The last whole line too: a crash leaves a line without its line
    // break, never a whole line that is wrong, so this is damage, and a
    // commit dropped would give a use back.
    let at = text.rfind("\"num\":5").unwrap();
    let mut changed = text.clone();
    changed.replace_range(at..at + 7, "\"num\":9");
    std::fs::write(&path, changed).unwrap();
    assert!(matches!(
        FileLedger::open(&path, NOW.0).unwrap_err(),
        StoreError::Corrupt { .. }
    ));
}

/// A handle opened before another process compacted the journal (replaced
/// the file) notices the new file: what it commits afterwards reaches a
/// handle opened after the compaction.
#[test]
fn a_handle_follows_a_journal_compacted_by_another() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.journal");
    let old = FileLedger::open(&path, NOW.0).unwrap();
    let one = digests(1);
    let short = UseRequest {
        exp: NOW.0 + 10,
        ..unbound("short", 1, &one)
    };
    let r = old.reserve(&short).unwrap();
    old.commit(&r).unwrap();
    // Another process opens later and compacts "short" away: a new file.
    let compacting = FileLedger::open(&path, NOW.0 + 100).unwrap();
    // Issued after "short" expired: valid at no time "short" was.
    let after = UseRequest {
        iat: NOW.0 + 11,
        ..unbound("after", 1, &one)
    };
    let r = old.reserve(&after).unwrap();
    old.commit(&r).unwrap();
    for handle in [&compacting, &FileLedger::open(&path, NOW.0 + 100).unwrap()] {
        assert!(
            matches!(handle.reserve(&after), Err(LedgerError::Exhausted { .. })),
            "a use committed by a handle opened before the compaction was lost"
        );
    }
}

#[test]
fn a_journal_that_cannot_be_read_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the journal should be: reading it fails, and that
    // is not the same as a journal that does not exist yet.
    let path = dir.path().join("ledger.journal");
    std::fs::create_dir(&path).unwrap();
    let error = FileLedger::open(&path, NOW.0).unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Io {
                what: "read ledger",
                ..
            }
        ),
        "{error:?}"
    );
}

/// Issue 11 item 3: signing while the clock runs five days ahead, a
/// restart (still ahead, so the journal forgets what it signed then), then
/// the clock set right. Before, every new SAD was refused as forgotten for
/// five days; now a SAD issued at the right time is accepted, and the SADs
/// used while the clock was ahead, shown again, stay refused.
#[test]
fn a_clock_that_ran_ahead_does_not_shut_out_sads_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.journal");
    let ahead = UnixTime(NOW.0 + 5 * 86_400);
    let w = world_with(
        SadAlgorithm::Es256,
        Arc::new(MemoryLockoutStore::new()),
        Arc::new(FileLedger::open(&path, NOW.0).unwrap()),
    );
    let sign = |sam: &SadVerifier, sad: &Sad, digests: &[Vec<u8>], now| {
        sam.activate(sad, &w.request("cred-1", Scal::Scal1, digests), now)
            .and_then(|activation| activation.commit())
    };
    let authorize = |digests: &[Vec<u8>], now: UnixTime| {
        // PIN only: a TOTP step spent while the clock was ahead refuses
        // the earlier ones (RFC 6238 replay rule); docs/operations.md.
        w.authorize_with("cred-1", digests, 1, Some(Pin::new(PIN)), None, now)
            .unwrap()
    };
    let early = digests(3);
    let before = authorize(&early[0..1], NOW);
    sign(&w.sam, &before, &early[0..1], NOW).unwrap();
    let glitch = authorize(&early[1..2], ahead);
    sign(&w.sam, &glitch, &early[1..2], ahead).unwrap();

    // A restart while the clock is still ahead, past the glitch SAD's
    // expiry: the journal forgets both SADs.
    let restarted = Arc::new(FileLedger::open(&path, ahead.0 + 1_000).unwrap());
    let sam = SadVerifier::new(SamConfig::new(AUD), restarted).trust(ISS, w.issuer.verifying_key());

    // The clock is set right, ten minutes after NOW.
    let fixed = UnixTime(NOW.0 + 600);
    let later = digests(4);
    let fresh = authorize(&later[3..4], fixed);
    sign(&sam, &fresh, &later[3..4], fixed)
        .expect("a SAD issued once the clock is right is refused");
    // The forgotten SADs are refused at any time they would be valid.
    for (sad, digest, at) in [(&glitch, &early[1..2], ahead), (&before, &early[0..1], NOW)] {
        let error = sign(&sam, sad, digest, at).unwrap_err();
        assert!(
            matches!(error, SadError::ForgottenSad { .. }),
            "a forgotten SAD: {error:?}"
        );
    }
}
