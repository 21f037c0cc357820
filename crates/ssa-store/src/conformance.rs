//! One conformance suite per store trait, for any backend: a backend crate
//! runs them from its tests (feature `conformance`). A suite fails by
//! panicking, as a test does.
//!
//! Each suite gets a fresh store as a [`Pair`]: two handles on the same
//! store (for a file backend, two opens of one directory; for a database,
//! two connections), so what must hold between processes or nodes is
//! tested too.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::any::Any;
use std::sync::Arc;

use crate::{
    AccountStore, Appended, AuditSink, AuthState, BearerSession, BearerTokenStore, ChallengeStore,
    ConsumptionLedger, CredentialStore, EnrolmentStore, Grant, GrantStore, Inserted, LedgerError,
    LockoutStore, PendingChallenge, StoreError, StoredCredential, UseRequest,
};

/// Two handles on one fresh, empty store, and whatever must live as long
/// as they do (a temporary directory, a database).
pub struct Pair<S: ?Sized> {
    /// The first handle.
    pub a: Arc<S>,
    /// The second handle, on the same store.
    pub b: Arc<S>,
    /// Dropped after both handles.
    pub guard: Box<dyn Any>,
}

/// Runs every lockout-store case on stores from `fresh`.
pub fn lockout_store(fresh: &dyn Fn() -> Pair<dyn LockoutStore>) {
    unknown_credential_has_the_default_state(&fresh());
    an_update_is_seen_by_every_handle(&fresh());
    credentials_are_independent(&fresh());
    concurrent_updates_through_two_handles_are_all_kept(&fresh());
}

fn unknown_credential_has_the_default_state(pair: &Pair<dyn LockoutStore>) {
    assert_eq!(pair.a.load("nobody").unwrap(), AuthState::default());
}

fn an_update_is_seen_by_every_handle(pair: &Pair<dyn LockoutStore>) {
    let change = pair
        .a
        .update("cred", &|s| AuthState {
            failures: s.failures + 3,
            locked: true,
            last_otp_step: Some(42),
        })
        .unwrap();
    assert_eq!(change.before, AuthState::default());
    let expected = AuthState {
        failures: 3,
        locked: true,
        last_otp_step: Some(42),
    };
    assert_eq!(change.after, expected);
    assert_eq!(pair.a.load("cred").unwrap(), expected);
    assert_eq!(pair.b.load("cred").unwrap(), expected);
    // The next update starts from what the other handle stored.
    let change = pair
        .b
        .update("cred", &|s| AuthState::default().clone_from_ref(s))
        .unwrap();
    assert_eq!(change.before, expected);
}

fn credentials_are_independent(pair: &Pair<dyn LockoutStore>) {
    pair.a
        .update("one", &|s| AuthState {
            failures: s.failures + 1,
            ..s.clone()
        })
        .unwrap();
    assert_eq!(pair.b.load("two").unwrap(), AuthState::default());
    assert_eq!(pair.b.load("one").unwrap().failures, 1);
}

fn concurrent_updates_through_two_handles_are_all_kept(pair: &Pair<dyn LockoutStore>) {
    const THREADS: usize = 4;
    const EACH: u32 = 25;
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let store = if t % 2 == 0 { &pair.a } else { &pair.b };
            scope.spawn(move || {
                for _ in 0..EACH {
                    store
                        .update("contended", &|s| AuthState {
                            failures: s.failures + 1,
                            ..s.clone()
                        })
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(
        pair.a.load("contended").unwrap().failures,
        THREADS as u32 * EACH,
        "an update was lost"
    );
}

trait CloneFromRef {
    fn clone_from_ref(self, other: &AuthState) -> AuthState;
}

impl CloneFromRef for AuthState {
    fn clone_from_ref(self, other: &AuthState) -> AuthState {
        other.clone()
    }
}

/// Runs every challenge-store case on stores from `fresh`.
pub fn challenge_store(fresh: &dyn Fn() -> Pair<dyn ChallengeStore>) {
    a_challenge_is_taken_once(&fresh());
    an_unknown_challenge_is_none(&fresh());
    a_challenge_put_through_one_handle_is_taken_through_the_other(&fresh());
    racing_takers_get_a_challenge_once(&fresh());
    expired_challenges_are_forgotten_on_put(&fresh());
}

fn challenge(credential: &str, expires: u64) -> PendingChallenge {
    PendingChallenge {
        credential: credential.into(),
        nonce: vec![7; 16],
        expires,
    }
}

fn a_challenge_is_taken_once(pair: &Pair<dyn ChallengeStore>) {
    let c = challenge("cred", 1_000);
    pair.a.put("id-1", &c, 10).unwrap();
    assert_eq!(pair.a.take("id-1").unwrap(), Some(c));
    assert_eq!(pair.a.take("id-1").unwrap(), None);
    assert_eq!(pair.b.take("id-1").unwrap(), None);
}

fn an_unknown_challenge_is_none(pair: &Pair<dyn ChallengeStore>) {
    assert_eq!(pair.a.take("never-issued").unwrap(), None);
    // Ids a client may send that no store could have issued.
    assert_eq!(pair.a.take("").unwrap(), None);
    assert_eq!(pair.a.take(&"x".repeat(4096)).unwrap(), None);
}

fn a_challenge_put_through_one_handle_is_taken_through_the_other(pair: &Pair<dyn ChallengeStore>) {
    let c = challenge("cred", 1_000);
    pair.a.put("id-2", &c, 10).unwrap();
    assert_eq!(pair.b.take("id-2").unwrap(), Some(c));
    assert_eq!(pair.a.take("id-2").unwrap(), None);
}

fn racing_takers_get_a_challenge_once(pair: &Pair<dyn ChallengeStore>) {
    const IDS: usize = 100;
    const TAKERS: usize = 4;
    for i in 0..IDS {
        pair.a
            .put(&format!("race-{i}"), &challenge("cred", 1_000), 10)
            .unwrap();
    }
    let won = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..TAKERS {
            let store = if t % 2 == 0 { &pair.a } else { &pair.b };
            let won = &won;
            scope.spawn(move || {
                for i in 0..IDS {
                    if store.take(&format!("race-{i}")).unwrap().is_some() {
                        won.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(
        won.into_inner(),
        IDS,
        "a challenge was taken twice, or lost"
    );
}

fn expired_challenges_are_forgotten_on_put(pair: &Pair<dyn ChallengeStore>) {
    pair.a.put("old", &challenge("cred", 100), 50).unwrap();
    pair.a.put("new", &challenge("cred", 1_000), 200).unwrap();
    assert_eq!(pair.b.take("old").unwrap(), None);
    assert!(pair.b.take("new").unwrap().is_some());
}

/// Runs every consumption-ledger case on ledgers from `fresh`.
pub fn consumption_ledger(fresh: &dyn Fn() -> Pair<dyn ConsumptionLedger>) {
    no_sad_yields_more_than_num(&fresh());
    reservations_in_flight_count_against_num(&fresh());
    each_reservation_is_its_own(&fresh());
    a_bound_digest_is_signed_once_and_held_while_in_flight(&fresh());
    an_unbound_sad_may_sign_a_digest_again(&fresh());
    reservations_through_two_handles_do_not_collide(&fresh());
    the_other_handle_keeps_the_first_num(&fresh());
    racing_handles_spend_exactly_num(&fresh());
    a_spent_sad_stays_spent_whatever_the_clock(&fresh());
    stale_reservations_are_released_for_every_handle(&fresh());
}

/// An administrator releases what was reserved before a time: every
/// handle can use those digests again, a commit under a released
/// reservation is refused, and later reservations stay held.
fn stale_reservations_are_released_for_every_handle(pair: &Pair<dyn ConsumptionLedger>) {
    let all = digests(9, 3);
    let at = |now, d| UseRequest {
        now,
        ..bound("crashed", 3, d)
    };
    let old = pair.a.reserve(&at(100, &all[0..1])).unwrap();
    let older = pair.b.reserve(&at(50, &all[1..2])).unwrap();
    let young = pair.a.reserve(&at(200, &all[2..3])).unwrap();
    assert!(pair.a.release_stale(50).unwrap().is_empty());
    let released = pair.b.release_stale(200).unwrap();
    assert_eq!(released, vec![older.clone(), old.clone()], "oldest first");
    for (handle, r) in [(&pair.a, &old), (&pair.b, &older)] {
        assert!(matches!(
            handle.commit(r),
            Err(LedgerError::UnknownReservation)
        ));
    }
    // Free again, through either handle; the young one is still held.
    let again = pair.a.reserve(&at(300, &all[0..2])).unwrap();
    assert!(matches!(
        pair.b.reserve(&at(300, &all[2..3])),
        Err(LedgerError::CountExceeded { .. } | LedgerError::Exhausted { .. })
    ));
    pair.a.commit(&young).unwrap();
    pair.b.commit(&again).unwrap();
}

/// A SAD's use expiring far ahead, `n` digests of its own (distinct per `seed`).
fn digests(seed: u8, n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| vec![seed, i as u8, 0xd1, 0x9e]).collect()
}

const EXP: u64 = 4_000_000_000;
/// When the requests are made, unless a case says otherwise.
const NOW: u64 = 1_000;

fn unbound<'a>(jti: &'a str, num: u32, digests: &'a [Vec<u8>]) -> UseRequest<'a> {
    UseRequest {
        jti,
        num,
        iat: EXP - 300,
        exp: EXP,
        now: NOW,
        forget_before: 0,
        digests,
        bound: false,
    }
}

fn bound<'a>(jti: &'a str, num: u32, digests: &'a [Vec<u8>]) -> UseRequest<'a> {
    UseRequest {
        bound: true,
        ..unbound(jti, num, digests)
    }
}

fn no_sad_yields_more_than_num(pair: &Pair<dyn ConsumptionLedger>) {
    let all = digests(1, 4);
    let r = pair.a.reserve(&unbound("sad", 3, &all[0..2])).unwrap();
    assert_eq!(r.jti(), "sad");
    pair.a.commit(&r).unwrap();
    // One left: two asked for is refused, and says how many are left.
    match pair.a.reserve(&unbound("sad", 3, &all[2..4])) {
        Err(LedgerError::CountExceeded {
            jti,
            left: 1,
            requested: 2,
        }) => assert_eq!(jti, "sad"),
        other => panic!("two uses of a SAD with one left: {other:?}"),
    }
    let r = pair.a.reserve(&unbound("sad", 3, &all[2..3])).unwrap();
    pair.a.commit(&r).unwrap();
    for handle in [&pair.a, &pair.b] {
        assert!(
            matches!(
                handle.reserve(&unbound("sad", 3, &all[3..4])),
                Err(LedgerError::Exhausted { .. })
            ),
            "a fourth use of a SAD of three"
        );
    }
    // Another SAD is not touched.
    pair.b.reserve(&unbound("other", 1, &all[0..1])).unwrap();
}

fn reservations_in_flight_count_against_num(pair: &Pair<dyn ConsumptionLedger>) {
    let one = digests(2, 1);
    let held = pair.a.reserve(&unbound("sad", 1, &one)).unwrap();
    // Not committed yet, but held: the SAD has nothing left, for either handle.
    for handle in [&pair.a, &pair.b] {
        assert!(
            matches!(
                handle.reserve(&unbound("sad", 1, &one)),
                Err(LedgerError::Exhausted { .. })
            ),
            "a second reservation beside one in flight"
        );
    }
    pair.a.release(&held).unwrap();
    let again = pair.b.reserve(&unbound("sad", 1, &one)).unwrap();
    pair.b.commit(&again).unwrap();
    assert!(pair.a.reserve(&unbound("sad", 1, &one)).is_err());
}

fn each_reservation_is_its_own(pair: &Pair<dyn ConsumptionLedger>) {
    let all = digests(3, 3);
    let (d1, d2, d3) = (&all[0..1], &all[1..2], &all[2..3]);
    let a = pair.a.reserve(&unbound("sad", 2, d1)).unwrap();
    let b = pair.a.reserve(&unbound("sad", 2, d2)).unwrap();
    assert_ne!(a, b, "two reservations share an id");
    for handle in [&pair.a, &pair.b] {
        assert!(
            handle.reserve(&unbound("sad", 2, d3)).is_err(),
            "a third reservation on a SAD of two, beside two in flight"
        );
    }
    // Commit one, release the other: exactly one use is left.
    pair.a.commit(&a).unwrap();
    pair.a.release(&b).unwrap();
    for (what, result) in [
        ("committed twice", pair.a.commit(&a)),
        ("released after its commit", pair.a.release(&a)),
        ("committed after its release", pair.b.commit(&b)),
        ("released twice", pair.b.release(&b)),
    ] {
        assert!(
            matches!(result, Err(LedgerError::UnknownReservation)),
            "a reservation {what}: {result:?}"
        );
    }
    // A reservation no ledger made.
    let forged = crate::Reservation::new("sad", "forged-id");
    assert!(matches!(
        pair.a.commit(&forged),
        Err(LedgerError::UnknownReservation)
    ));
    let c = pair.b.reserve(&unbound("sad", 2, d3)).unwrap();
    pair.b.commit(&c).unwrap();
    assert!(
        matches!(
            pair.a.reserve(&unbound("sad", 2, d2)),
            Err(LedgerError::Exhausted { .. })
        ),
        "a third use of a SAD of two"
    );
}

fn a_bound_digest_is_signed_once_and_held_while_in_flight(pair: &Pair<dyn ConsumptionLedger>) {
    let all = digests(4, 3);
    let (first, second) = (&all[0..1], &all[1..2]);
    let held = pair.a.reserve(&bound("bound", 3, first)).unwrap();
    for handle in [&pair.a, &pair.b] {
        assert!(
            matches!(
                handle.reserve(&bound("bound", 3, first)),
                Err(LedgerError::DigestAlreadyUsed { .. })
            ),
            "a digest in flight reserved again"
        );
    }
    pair.a.commit(&held).unwrap();
    for handle in [&pair.a, &pair.b] {
        assert!(
            matches!(
                handle.reserve(&bound("bound", 3, first)),
                Err(LedgerError::DigestAlreadyUsed { .. })
            ),
            "a committed digest reserved again"
        );
    }
    // A request naming a used digest among new ones is refused whole.
    assert!(matches!(
        pair.b.reserve(&bound("bound", 3, &all[0..2])),
        Err(LedgerError::DigestAlreadyUsed { .. })
    ));
    // A released digest can be reserved again.
    let r = pair.b.reserve(&bound("bound", 3, second)).unwrap();
    pair.b.release(&r).unwrap();
    let r = pair.a.reserve(&bound("bound", 3, second)).unwrap();
    pair.a.commit(&r).unwrap();
}

fn an_unbound_sad_may_sign_a_digest_again(pair: &Pair<dyn ConsumptionLedger>) {
    let same = digests(5, 1);
    for handle in [&pair.a, &pair.b] {
        let r = handle.reserve(&unbound("free", 2, &same)).unwrap();
        handle.commit(&r).unwrap();
    }
    assert!(matches!(
        pair.a.reserve(&unbound("free", 2, &same)),
        Err(LedgerError::Exhausted { .. })
    ));
}

fn reservations_through_two_handles_do_not_collide(pair: &Pair<dyn ConsumptionLedger>) {
    let all = digests(6, 3);
    let a = pair.a.reserve(&unbound("sad", 2, &all[0..1])).unwrap();
    let b = pair.b.reserve(&unbound("sad", 2, &all[1..2])).unwrap();
    assert_ne!(a, b, "two handles made the same reservation id");
    assert!(pair.a.reserve(&unbound("sad", 2, &all[2..3])).is_err());
    assert!(pair.b.reserve(&unbound("sad", 2, &all[2..3])).is_err());
    // One handle's release leaves the other's reservation in place.
    pair.a.release(&a).unwrap();
    pair.b.commit(&b).unwrap();
    let c = pair.a.reserve(&unbound("sad", 2, &all[2..3])).unwrap();
    pair.a.commit(&c).unwrap();
    assert!(matches!(
        pair.b.reserve(&unbound("sad", 2, &all[0..1])),
        Err(LedgerError::Exhausted { .. })
    ));
}

/// What one handle recorded reaches the other with its `num` and `exp`: a
/// later request naming another `num` for the same SAD changes nothing.
fn the_other_handle_keeps_the_first_num(pair: &Pair<dyn ConsumptionLedger>) {
    let all = digests(7, 3);
    let r = pair.a.reserve(&unbound("sad", 2, &all[0..1])).unwrap();
    pair.a.commit(&r).unwrap();
    let more = UseRequest {
        num: 1_000,
        forget_before: EXP - 1,
        ..unbound("sad", 2, &all[1..3])
    };
    assert!(
        matches!(
            pair.b.reserve(&more),
            Err(LedgerError::CountExceeded { left: 1, .. })
        ),
        "the other handle lost the SAD's num, or forgot it before its expiry"
    );
    let r = pair.b.reserve(&unbound("sad", 2, &all[1..2])).unwrap();
    pair.b.commit(&r).unwrap();
    assert!(matches!(
        pair.a.reserve(&unbound("sad", 2, &all[2..3])),
        Err(LedgerError::Exhausted { .. })
    ));
}

fn racing_handles_spend_exactly_num(pair: &Pair<dyn ConsumptionLedger>) {
    const NUM: u32 = 25;
    const THREADS: usize = 4;
    let won = std::sync::atomic::AtomicU32::new(0);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let ledger = if t % 2 == 0 { &pair.a } else { &pair.b };
            let won = &won;
            scope.spawn(move || {
                for i in 0..200u32 {
                    let digest = [i.to_be_bytes().to_vec()];
                    match ledger.reserve(&unbound("raced", NUM, &digest)) {
                        Ok(r) if i % 5 == 0 => ledger.release(&r).unwrap(),
                        Ok(r) => {
                            ledger.commit(&r).unwrap();
                            won.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(LedgerError::Exhausted { .. }) => {}
                        Err(e) => panic!("{e:?}"),
                    }
                }
            });
        }
    });
    assert_eq!(won.into_inner(), NUM, "a SAD gave more or fewer than num");
}

/// Whatever `forget_before` a request carries (clocks step back and
/// forth), a SAD that was used up is never granted again.
fn a_spent_sad_stays_spent_whatever_the_clock(pair: &Pair<dyn ConsumptionLedger>) {
    let one = digests(8, 1);
    let spent = UseRequest {
        iat: 700,
        exp: 1_000,
        ..bound("spent", 1, &one)
    };
    let r = pair.a.reserve(&spent).unwrap();
    pair.a.commit(&r).unwrap();
    for forget_before in [0, 999, 1_000, 1_001, EXP, 0] {
        for handle in [&pair.a, &pair.b] {
            let later = unbound("filler", u32::MAX, &one);
            let _ = handle.reserve(&UseRequest {
                forget_before,
                ..later
            });
            let again = handle.reserve(&UseRequest {
                forget_before,
                ..spent
            });
            assert!(
                matches!(
                    again,
                    Err(LedgerError::Exhausted { .. } | LedgerError::Forgotten { .. })
                ),
                "a spent SAD was granted again at forget_before {forget_before}: {again:?}"
            );
        }
    }
}

/// Runs every enrolment-store case on stores from `fresh`.
pub fn enrolment_store(fresh: &dyn Fn() -> Pair<dyn EnrolmentStore>) {
    an_enrolment_is_seen_by_every_handle(&fresh());
    a_second_enrolment_changes_nothing(&fresh());
    a_removed_enrolment_is_gone_for_every_handle(&fresh());
    racing_enrolments_store_one(&fresh());
    ids_a_store_cannot_hold_are_refused(&fresh());
}

fn an_enrolment_is_seen_by_every_handle(pair: &Pair<dyn EnrolmentStore>) {
    assert_eq!(pair.a.get("cred").unwrap(), None);
    assert_eq!(
        pair.a.insert("cred", b"sealed-1").unwrap(),
        Inserted::Stored
    );
    for handle in [&pair.a, &pair.b] {
        assert_eq!(
            handle.get("cred").unwrap().as_deref(),
            Some(&b"sealed-1"[..])
        );
    }
    assert_eq!(pair.b.get("other").unwrap(), None);
    // Ids of every length the store takes, and bytes of any value.
    let long = "c".repeat(120);
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(pair.b.insert(&long, &all).unwrap(), Inserted::Stored);
    assert_eq!(pair.a.get(&long).unwrap(), Some(all));
    assert_eq!(pair.a.insert("empty-body", b"").unwrap(), Inserted::Stored);
    assert_eq!(pair.b.get("empty-body").unwrap(), Some(Vec::new()));
}

fn a_second_enrolment_changes_nothing(pair: &Pair<dyn EnrolmentStore>) {
    assert_eq!(pair.a.insert("cred", b"first").unwrap(), Inserted::Stored);
    for handle in [&pair.a, &pair.b] {
        assert_eq!(handle.insert("cred", b"second").unwrap(), Inserted::Exists);
    }
    assert_eq!(pair.b.get("cred").unwrap().as_deref(), Some(&b"first"[..]));
}

fn a_removed_enrolment_is_gone_for_every_handle(pair: &Pair<dyn EnrolmentStore>) {
    assert_eq!(pair.a.insert("cred", b"x").unwrap(), Inserted::Stored);
    assert!(pair.b.remove("cred").unwrap());
    assert_eq!(pair.a.get("cred").unwrap(), None);
    assert!(!pair.a.remove("cred").unwrap());
    assert!(!pair.a.remove("never").unwrap());
    // The id can be enrolled again.
    assert_eq!(pair.a.insert("cred", b"y").unwrap(), Inserted::Stored);
    assert_eq!(pair.b.get("cred").unwrap().as_deref(), Some(&b"y"[..]));
}

fn racing_enrolments_store_one(pair: &Pair<dyn EnrolmentStore>) {
    const IDS: usize = 50;
    const WRITERS: u8 = 4;
    let stored = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..WRITERS {
            let store = if t % 2 == 0 { &pair.a } else { &pair.b };
            let stored = &stored;
            scope.spawn(move || {
                for i in 0..IDS {
                    let body = [t; 64];
                    if store.insert(&format!("race-{i}"), &body).unwrap() == Inserted::Stored {
                        stored.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(
        stored.into_inner(),
        IDS,
        "an id was enrolled twice, or lost"
    );
    for i in 0..IDS {
        let body = pair.a.get(&format!("race-{i}")).unwrap().unwrap();
        // Whole, from one writer.
        assert_eq!(body.len(), 64);
        assert!(body.iter().all(|b| *b == body[0]), "a torn enrolment");
    }
}

fn ids_a_store_cannot_hold_are_refused(pair: &Pair<dyn EnrolmentStore>) {
    for id in [String::new(), "x".repeat(121)] {
        assert!(
            matches!(pair.a.insert(&id, b"x"), Err(StoreError::InvalidKey { .. })),
            "id of {} bytes",
            id.len()
        );
        assert_eq!(pair.b.get(&id).unwrap(), None);
        assert!(!pair.b.remove(&id).unwrap());
    }
}

/// Runs every credential-store case on stores from `fresh`.
pub fn credential_store(fresh: &dyn Fn() -> Pair<dyn CredentialStore>) {
    a_credential_is_seen_by_every_handle(&fresh());
    a_second_create_changes_nothing(&fresh());
    an_update_is_seen_by_every_handle_and_keeps_the_index(&fresh());
    a_failed_change_leaves_the_record(&fresh());
    concurrent_record_updates_are_all_kept(&fresh());
    credentials_are_listed_in_id_order_and_by_signer(&fresh());
    credential_ids_a_store_cannot_hold_are_refused(&fresh());
}

fn stored(id: &str, signer: &str, record: &[u8]) -> StoredCredential {
    StoredCredential {
        id: id.into(),
        signer: signer.into(),
        record: record.to_vec(),
    }
}

fn a_credential_is_seen_by_every_handle(pair: &Pair<dyn CredentialStore>) {
    assert_eq!(pair.a.get("alice/1").unwrap(), None);
    let alice = stored("alice/1", "alice", b"{\"v\":1}\n\x00\xff");
    assert_eq!(pair.a.create(&alice).unwrap(), Inserted::Stored);
    for handle in [&pair.a, &pair.b] {
        assert_eq!(handle.get("alice/1").unwrap(), Some(alice.clone()));
    }
    // Ids and signers with spaces, line breaks and non-ASCII text.
    let odd = stored("a b\nc/é", "sign er\n", b"");
    assert_eq!(pair.b.create(&odd).unwrap(), Inserted::Stored);
    assert_eq!(pair.a.get(&odd.id).unwrap(), Some(odd));
    let long = stored(&"c".repeat(crate::MAX_ID_LEN), "s", b"x");
    assert_eq!(pair.a.create(&long).unwrap(), Inserted::Stored);
    assert_eq!(pair.b.get(&long.id).unwrap(), Some(long));
}

fn a_second_create_changes_nothing(pair: &Pair<dyn CredentialStore>) {
    let first = stored("cred", "alice", b"first");
    assert_eq!(pair.a.create(&first).unwrap(), Inserted::Stored);
    for handle in [&pair.a, &pair.b] {
        assert_eq!(
            handle
                .create(&stored("cred", "mallory", b"second"))
                .unwrap(),
            Inserted::Exists
        );
    }
    assert_eq!(pair.b.get("cred").unwrap(), Some(first));
}

fn an_update_is_seen_by_every_handle_and_keeps_the_index(pair: &Pair<dyn CredentialStore>) {
    assert_eq!(
        pair.a.create(&stored("cred", "alice", b"1")).unwrap(),
        Inserted::Stored
    );
    let updated = pair
        .b
        .update("cred", &|old| Ok([old, b"2"].concat()))
        .unwrap();
    assert_eq!(updated.as_deref(), Some(&b"12"[..]));
    assert_eq!(
        pair.a.get("cred").unwrap(),
        Some(stored("cred", "alice", b"12"))
    );
    assert_eq!(pair.a.list(Some("alice")).unwrap().len(), 1);
    assert_eq!(
        pair.a.update("nobody", &|old| Ok(old.to_vec())).unwrap(),
        None
    );
    assert_eq!(
        pair.a.get("nobody").unwrap(),
        None,
        "an update created a credential"
    );
}

fn a_failed_change_leaves_the_record(pair: &Pair<dyn CredentialStore>) {
    assert_eq!(
        pair.a.create(&stored("cred", "alice", b"kept")).unwrap(),
        Inserted::Stored
    );
    let result = pair
        .a
        .update("cred", &|_| Err(StoreError::Corrupt { what: "test" }));
    assert!(
        matches!(result, Err(StoreError::Corrupt { what: "test" })),
        "{result:?}"
    );
    assert_eq!(pair.b.get("cred").unwrap().unwrap().record, b"kept");
}

fn concurrent_record_updates_are_all_kept(pair: &Pair<dyn CredentialStore>) {
    const THREADS: usize = 4;
    const EACH: usize = 20;
    assert_eq!(
        pair.a.create(&stored("count", "alice", b"")).unwrap(),
        Inserted::Stored
    );
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let store = if t % 2 == 0 { &pair.a } else { &pair.b };
            scope.spawn(move || {
                for _ in 0..EACH {
                    store
                        .update("count", &|old| Ok([old, b"+"].concat()))
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(
        pair.a.get("count").unwrap().unwrap().record.len(),
        THREADS * EACH,
        "an update was lost"
    );
}

fn credentials_are_listed_in_id_order_and_by_signer(pair: &Pair<dyn CredentialStore>) {
    assert!(pair.a.list(None).unwrap().is_empty());
    for (id, signer) in [
        ("b/1", "bob"),
        ("a/2", "alice"),
        ("a/1", "alice"),
        ("alice", "bob"),
    ] {
        assert_eq!(
            pair.a.create(&stored(id, signer, id.as_bytes())).unwrap(),
            Inserted::Stored
        );
    }
    let ids = |list: Vec<StoredCredential>| list.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(
        ids(pair.b.list(None).unwrap()),
        ["a/1", "a/2", "alice", "b/1"]
    );
    assert_eq!(ids(pair.b.list(Some("alice")).unwrap()), ["a/1", "a/2"]);
    assert_eq!(ids(pair.a.list(Some("bob")).unwrap()), ["alice", "b/1"]);
    assert!(pair.a.list(Some("carol")).unwrap().is_empty());
    assert!(pair.a.list(Some("")).unwrap().is_empty());
}

fn credential_ids_a_store_cannot_hold_are_refused(pair: &Pair<dyn CredentialStore>) {
    for id in [String::new(), "x".repeat(crate::MAX_ID_LEN + 1)] {
        let result = pair.a.create(&stored(&id, "alice", b"x"));
        assert!(
            matches!(result, Err(StoreError::InvalidKey { .. })),
            "id of {} bytes: {result:?}",
            id.len()
        );
        assert_eq!(pair.b.get(&id).unwrap(), None);
        assert_eq!(pair.b.update(&id, &|old| Ok(old.to_vec())).unwrap(), None);
    }
    // What is listed is exactly what was stored.
    assert!(pair.a.list(None).unwrap().is_empty());
}

/// Runs every audit-sink case on sinks from `fresh`.
pub fn audit_sink(fresh: &dyn Fn() -> Pair<dyn AuditSink>) {
    records_come_back_in_order(&fresh());
    an_append_at_a_stale_number_writes_nothing(&fresh());
    records_are_kept_exactly(&fresh());
    writers_through_two_handles_extend_one_sequence(&fresh());
    a_cut_keeps_the_records_before_it(&fresh());
}

/// `cut` takes the records from a number on, says what it took, and the
/// sequence goes on from there; the other handle never appends at a number
/// the cut took away.
fn a_cut_keeps_the_records_before_it(pair: &Pair<dyn AuditSink>) {
    assert_eq!(
        pair.a.append(0, &lines(&["r0", "r1", "r2"])).unwrap(),
        Appended::Done
    );
    pair.a.sync().unwrap();
    assert_eq!(pair.a.unconfirmed_from().unwrap(), None);
    assert!(pair.b.read_from(0).unwrap().len() == 3);
    let cut = pair.a.cut(1).unwrap();
    assert_eq!((cut.from, cut.records), (1, 2));
    assert_eq!(cut.bytes, b"r1\nr2\n");
    assert_eq!(pair.a.read_from(0).unwrap(), lines(&["r0"]));
    assert!(
        !matches!(pair.b.append(3, &lines(&["late"])), Ok(Appended::Done)),
        "the other handle appended after records that were cut"
    );
    assert_eq!(pair.a.append(1, &lines(&["r1b"])).unwrap(), Appended::Done);
    pair.a.sync().unwrap();
    assert_eq!(pair.a.read_from(0).unwrap(), lines(&["r0", "r1b"]));
    // Past the end: nothing to cut.
    let none = pair.a.cut(5).unwrap();
    assert_eq!((none.from, none.records), (2, 0));
    assert!(none.bytes.is_empty() && none.kept.is_none());
    assert_eq!(pair.a.unconfirmed_from().unwrap(), None);
}

fn lines(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| (*t).to_owned()).collect()
}

fn records_come_back_in_order(pair: &Pair<dyn AuditSink>) {
    assert!(pair.a.read_from(0).unwrap().is_empty());
    assert_eq!(
        pair.a.append(0, &lines(&["r0", "r1"])).unwrap(),
        Appended::Done
    );
    assert_eq!(pair.b.append(2, &lines(&["r2"])).unwrap(), Appended::Done);
    // An empty batch at the right number changes nothing.
    assert_eq!(pair.b.append(3, &[]).unwrap(), Appended::Done);
    pair.a.sync().unwrap();
    pair.b.sync().unwrap();
    for handle in [&pair.a, &pair.b] {
        assert_eq!(handle.read_from(0).unwrap(), lines(&["r0", "r1", "r2"]));
        assert_eq!(handle.read_from(2).unwrap(), lines(&["r2"]));
        assert!(handle.read_from(3).unwrap().is_empty());
        assert!(handle.read_from(u64::MAX).unwrap().is_empty());
    }
}

fn an_append_at_a_stale_number_writes_nothing(pair: &Pair<dyn AuditSink>) {
    assert_eq!(
        pair.a.append(1, &lines(&["early"])).unwrap(),
        Appended::Behind { count: 0 }
    );
    assert_eq!(
        pair.a.append(0, &lines(&["r0", "r1"])).unwrap(),
        Appended::Done
    );
    for at in [0, 1, 3] {
        assert_eq!(
            pair.b.append(at, &lines(&["stale", "stale"])).unwrap(),
            Appended::Behind { count: 2 },
            "an append at {at} over 2 records"
        );
    }
    assert_eq!(pair.a.read_from(0).unwrap(), lines(&["r0", "r1"]));
}

fn records_are_kept_exactly(pair: &Pair<dyn AuditSink>) {
    let odd = lines(&[
        "",
        "carriage\r",
        " spaces ",
        "\u{2028}é\u{0}",
        "{\"seq\":1}",
    ]);
    assert_eq!(pair.a.append(0, &odd).unwrap(), Appended::Done);
    // A line break would split a record in two: refused, nothing written.
    let broken = lines(&["fine", "two\nlines"]);
    assert!(matches!(
        pair.a.append(5, &broken),
        Err(StoreError::InvalidValue { .. })
    ));
    assert_eq!(pair.b.read_from(0).unwrap(), odd);
}

fn writers_through_two_handles_extend_one_sequence(pair: &Pair<dyn AuditSink>) {
    const WRITERS: usize = 4;
    const BATCHES: usize = 15;
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let sink = if w % 2 == 0 { &pair.a } else { &pair.b };
            scope.spawn(move || {
                let mut at = 0;
                for b in 0..BATCHES {
                    let batch: Vec<String> = (0..3).map(|i| format!("w{w}-b{b}-{i}")).collect();
                    loop {
                        match sink.append(at, &batch).unwrap() {
                            Appended::Done => {
                                sink.sync().unwrap();
                                at += 3;
                                break;
                            }
                            Appended::Behind { count } => {
                                assert!(count > at, "behind, but not ahead: {count} <= {at}");
                                at = count;
                            }
                        }
                    }
                }
            });
        }
    });
    let all = pair.a.read_from(0).unwrap();
    assert_eq!(
        all.len(),
        WRITERS * BATCHES * 3,
        "a record was lost or doubled"
    );
    for chunk in all.chunks(3) {
        let prefix = chunk[0].trim_end_matches("-0");
        assert!(chunk[0].ends_with("-0"), "a batch was split: {chunk:?}");
        assert_eq!(chunk[1], format!("{prefix}-1"), "{chunk:?}");
        assert_eq!(chunk[2], format!("{prefix}-2"), "{chunk:?}");
    }
}

/// Runs every bearer-token-store case on stores from `fresh`.
pub fn bearer_token_store(fresh: &dyn Fn() -> Pair<dyn BearerTokenStore>) {
    a_session_is_seen_through_both_handles_until_revoked(&fresh());
    keys_no_store_could_hold_are_unknown(&fresh());
    expired_sessions_are_forgotten_on_put(&fresh());
}

fn session(signer: &str, expires: u64) -> BearerSession {
    BearerSession {
        signer: signer.into(),
        issued: 10,
        expires,
    }
}

fn a_session_is_seen_through_both_handles_until_revoked(pair: &Pair<dyn BearerTokenStore>) {
    let s = session("alice", 1_000);
    pair.a.put("k1", &s, 10).unwrap();
    pair.a.put("k2", &session("bob", 1_000), 10).unwrap();
    assert_eq!(pair.b.get("k1").unwrap(), Some(s));
    assert!(pair.b.revoke("k1").unwrap());
    assert_eq!(pair.a.get("k1").unwrap(), None);
    assert!(!pair.a.revoke("k1").unwrap(), "revoked twice");
    assert_eq!(pair.a.get("k2").unwrap().unwrap().signer, "bob");
}

fn keys_no_store_could_hold_are_unknown(pair: &Pair<dyn BearerTokenStore>) {
    assert_eq!(pair.a.get("").unwrap(), None);
    assert_eq!(pair.a.get(&"x".repeat(4096)).unwrap(), None);
    assert!(!pair.a.revoke(&"x".repeat(4096)).unwrap());
    assert!(matches!(
        pair.a.put("", &session("alice", 1_000), 10),
        Err(StoreError::InvalidKey { .. })
    ));
}

fn expired_sessions_are_forgotten_on_put(pair: &Pair<dyn BearerTokenStore>) {
    pair.a.put("old", &session("alice", 100), 50).unwrap();
    pair.a.put("new", &session("alice", 1_000), 200).unwrap();
    assert_eq!(pair.b.get("old").unwrap(), None);
    assert!(pair.b.get("new").unwrap().is_some());
}

/// Runs every grant-store case on stores from `fresh`.
pub fn grant_store(fresh: &dyn Fn() -> Pair<dyn GrantStore>) {
    a_grant_is_read_until_taken_once(&fresh());
    racing_takers_get_a_grant_once(&fresh());
    grant_keys_no_store_could_hold_are_unknown(&fresh());
    expired_grants_are_forgotten_on_put(&fresh());
}

fn grant(kind: &str, expires: u64) -> Grant {
    Grant {
        kind: kind.into(),
        expires,
        sealed: format!("{kind}-{expires}").into_bytes(),
    }
}

fn a_grant_is_read_until_taken_once(pair: &Pair<dyn GrantStore>) {
    let g = grant("code", 1_000);
    pair.a.put("k1", &g, 10).unwrap();
    pair.a.put("k2", &grant("page", 1_000), 10).unwrap();
    assert_eq!(pair.b.get("k1").unwrap(), Some(g.clone()));
    assert_eq!(
        pair.b.get("k1").unwrap(),
        Some(g.clone()),
        "get takes nothing"
    );
    assert_eq!(pair.b.take("k1").unwrap(), Some(g));
    assert_eq!(pair.a.take("k1").unwrap(), None, "taken twice");
    assert_eq!(pair.a.get("k1").unwrap(), None);
    assert_eq!(pair.a.get("k2").unwrap().unwrap().kind, "page");
}

fn racing_takers_get_a_grant_once(pair: &Pair<dyn GrantStore>) {
    const KEYS: usize = 100;
    const TAKERS: usize = 4;
    for i in 0..KEYS {
        pair.a
            .put(&format!("race-{i}"), &grant("code", 1_000), 10)
            .unwrap();
    }
    let won = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..TAKERS {
            let store = if t % 2 == 0 { &pair.a } else { &pair.b };
            let won = &won;
            scope.spawn(move || {
                for i in 0..KEYS {
                    if store.take(&format!("race-{i}")).unwrap().is_some() {
                        won.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(won.into_inner(), KEYS, "a grant was taken twice, or lost");
}

fn grant_keys_no_store_could_hold_are_unknown(pair: &Pair<dyn GrantStore>) {
    assert_eq!(pair.a.get("").unwrap(), None);
    assert_eq!(pair.a.get(&"x".repeat(4096)).unwrap(), None);
    assert_eq!(pair.a.take(&"x".repeat(4096)).unwrap(), None);
    assert!(matches!(
        pair.a.put("", &grant("code", 1_000), 10),
        Err(StoreError::InvalidKey { .. })
    ));
}

fn expired_grants_are_forgotten_on_put(pair: &Pair<dyn GrantStore>) {
    pair.a.put("old", &grant("code", 100), 50).unwrap();
    pair.a.put("new", &grant("code", 1_000), 200).unwrap();
    assert_eq!(pair.b.get("old").unwrap(), None);
    assert!(pair.b.get("new").unwrap().is_some());
}

/// Runs every account-store case on stores from `fresh`.
pub fn account_store(fresh: &dyn Fn() -> Pair<dyn AccountStore>) {
    let pair = fresh();
    assert_eq!(pair.a.get("alice").unwrap(), None);
    pair.a.put("alice", b"first").unwrap();
    pair.a.put("bob", b"other").unwrap();
    assert_eq!(pair.b.get("alice").unwrap().as_deref(), Some(&b"first"[..]));
    pair.b.put("alice", b"second").unwrap();
    assert_eq!(
        pair.a.get("alice").unwrap().as_deref(),
        Some(&b"second"[..])
    );
    assert_eq!(pair.a.get("bob").unwrap().as_deref(), Some(&b"other"[..]));
    assert_eq!(pair.a.get("").unwrap(), None);
    assert_eq!(pair.a.get(&"x".repeat(4096)).unwrap(), None);
    assert!(matches!(
        pair.a.put("", b"x"),
        Err(StoreError::InvalidKey { .. })
    ));
}
