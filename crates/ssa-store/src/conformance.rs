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

use crate::{AuthState, ChallengeStore, LockoutStore, PendingChallenge};

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
