//! The consumption ledger: how much of each SAD is spent.
//!
//! A signature first *reserves* its digests under the SAD's `jti`; once the
//! signature is made it is *committed* (for good), and if signing failed it
//! is *released* (the SAD is not burnt by a failure). A committed digest can
//! never be signed again under that SAD, and no SAD yields more than `num`
//! signatures, however many threads (or, with a shared ledger, nodes) try.

use core::fmt;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::error::StoreError;
use crate::lock;

/// What a signature asks of the ledger.
#[derive(Clone, Copy, Debug)]
pub struct UseRequest<'a> {
    /// The SAD id.
    pub jti: &'a str,
    /// The signatures the SAD allows.
    pub num: u32,
    /// When the SAD was issued: with `exp`, the time it is valid, which the
    /// ledger keeps refusing once it forgot the SAD.
    pub iat: u64,
    /// When the SAD expires (its entry may be dropped after that).
    pub exp: u64,
    /// The time now (the caller's clock): when the reservation was made,
    /// for [`ConsumptionLedger::release_stale`].
    pub now: u64,
    /// SADs that expired before this time are refused by the verifier now
    /// (its time less its clock skew): the ledger may forget them, and from
    /// then on refuses itself any SAD expiring no later than the latest one
    /// refuses itself any SAD whose time of validity (`iat` to `exp`) meets
    /// that of one it forgot, so a clock stepping back cannot replay a
    /// forgotten SAD ([`LedgerError::Forgotten`]).
    pub forget_before: u64,
    /// The digests to sign: one signature each.
    pub digests: &'a [Vec<u8>],
    /// Whether the SAD binds its digests (then each can be signed once).
    pub bound: bool,
}

/// A reservation handed out by [`ConsumptionLedger::reserve`]: the SAD id
/// and an id of the ledger's choosing, unique among every reservation any
/// handle on the same ledger makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    jti: String,
    id: String,
}

impl Reservation {
    /// A reservation of SAD `jti`, named `id` by the ledger that made it.
    pub fn new(jti: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            jti: jti.into(),
            id: id.into(),
        }
    }

    /// The SAD id.
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// The ledger's id for this reservation.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Why a ledger refused a use, or could not record it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// Every signature the SAD allows was made or is being made: a replay.
    #[error("SAD {jti:?} is used up")]
    Exhausted {
        /// The SAD id.
        jti: String,
    },
    /// The request asks for more signatures than the SAD has left.
    #[error("SAD {jti:?} has {left} signatures left, {requested} requested")]
    CountExceeded {
        /// The SAD id.
        jti: String,
        /// Signatures left (reservations in flight count as spent).
        left: u32,
        /// Signatures requested.
        requested: usize,
    },
    /// A bound digest was signed, or is being signed, under this SAD.
    #[error("a digest of the request was already signed under SAD {jti:?}")]
    DigestAlreadyUsed {
        /// The SAD id.
        jti: String,
    },
    /// The SAD expired before the ledger's horizon: its uses are no longer
    /// tracked, so it cannot be used. Also a SAD whose time of validity
    /// meets that of SADs the ledger forgot (the clock stepped back): it
    /// might be one of them.
    #[error(
        "SAD {jti:?} (expiry {exp}) falls in a time the ledger forgot SADs of, up to {horizon}"
    )]
    Forgotten {
        /// The SAD id.
        jti: String,
        /// Its expiry.
        exp: u64,
        /// One past the end of the forgotten time it falls in.
        horizon: u64,
    },
    /// The reservation is not held (committed or released already, or
    /// never made by this ledger).
    #[error("unknown ledger reservation")]
    UnknownReservation,
    /// The store failed; nothing was spent.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where SAD consumption is recorded. `reserve` must be atomic across
/// every handle on the same ledger (threads, processes, nodes): concurrent
/// reservations never together exceed `num`, and a bound digest is held by
/// one reservation at a time. A failed call changes nothing.
pub trait ConsumptionLedger: Send + Sync + fmt::Debug {
    /// Reserves the request's digests, or refuses with why.
    fn reserve(&self, request: &UseRequest<'_>) -> Result<Reservation, LedgerError>;
    /// Spends a reservation for good (durably, for a durable ledger).
    fn commit(&self, reservation: &Reservation) -> Result<(), LedgerError>;
    /// Spends several reservations, each as [`ConsumptionLedger::commit`]
    /// would, and answers for each in order. A durable ledger may make
    /// them durable together (one fsync for all); each answer is `Ok` only
    /// once its spend is durable. The default commits one by one.
    fn commit_all(&self, reservations: &[&Reservation]) -> Vec<Result<(), LedgerError>> {
        reservations.iter().map(|r| self.commit(r)).collect()
    }
    /// Gives a reservation back.
    fn release(&self, reservation: &Reservation) -> Result<(), LedgerError>;
    /// Gives back every reservation made before `reserved_before` (the
    /// caller's clock, as [`UseRequest::now`]) and returns them: for an
    /// administrator after a crash left reservations no process will end.
    /// A process still signing under one of them finds it gone and its
    /// commit refused ([`LedgerError::UnknownReservation`]), so no SAD
    /// yields more than it allows.
    fn release_stale(&self, reserved_before: u64) -> Result<Vec<Reservation>, LedgerError>;
}

#[derive(Debug, Default)]
pub(crate) struct Entry {
    pub(crate) num: u32,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    pub(crate) committed: u32,
    pub(crate) used: HashSet<Vec<u8>>,
    reserved: HashMap<String, Held>,
}

/// What one reservation holds: when it was made, and its digests.
#[derive(Debug, Default)]
pub(crate) struct Held {
    pub(crate) at: u64,
    pub(crate) digests: Vec<Vec<u8>>,
}

impl Entry {
    fn reserved_count(&self) -> usize {
        self.reserved.values().map(|h| h.digests.len()).sum()
    }
}

/// At most this many spans of forgotten time are kept ([`Forgotten`]).
const MAX_SPANS: usize = 32;

/// The times of validity (`iat` to `exp`, inclusive) of the SADs a ledger
/// forgot, as at most 32 disjoint spans, sorted. A SAD whose
/// time meets a span is refused: a forgotten SAD shown again carries its
/// own `iat` and `exp`, so it always is. A SAD issued later, once a clock
/// that ran ahead is right again, has a time of its own between the spans
/// and is not: a wrong clock at one moment shuts out only the times it
/// claimed. Beyond the bound the two spans closest together merge (more is
/// refused, never less), so a long gap a clock jump left stays open.
///
/// Public for ledger backends in other crates (a database keeps the spans
/// as rows and merges them here).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Forgotten {
    spans: Vec<(u64, u64)>,
}

impl Forgotten {
    /// Adds the time `from..=to`.
    pub fn add(&mut self, from: u64, to: u64) {
        let (mut from, mut to) = (from.min(to), from.max(to));
        // Absorb every span that meets or touches it (sorted and disjoint,
        // so what it absorbs can only reach spans still to come).
        self.spans.retain(|&(a, b)| {
            let meets = a <= to.saturating_add(1) && from <= b.saturating_add(1);
            if meets {
                from = from.min(a);
                to = to.max(b);
            }
            !meets
        });
        let at = self.spans.partition_point(|&(a, _)| a < from);
        self.spans.insert(at, (from, to));
        while self.spans.len() > MAX_SPANS {
            let closest =
                (0..self.spans.len() - 1).min_by_key(|&i| self.spans[i + 1].0 - self.spans[i].1);
            if let Some(i) = closest {
                let next = self.spans.remove(i + 1);
                self.spans[i].1 = next.1;
            }
        }
    }

    /// The span `from..=to` meets, if any.
    pub fn meets(&self, from: u64, to: u64) -> Option<(u64, u64)> {
        self.spans
            .iter()
            .copied()
            .find(|&(a, b)| a <= to && from <= b)
    }

    /// The spans, sorted.
    pub fn spans(&self) -> &[(u64, u64)] {
        &self.spans
    }
}

/// Entries are swept when this many reservations were made since the last
/// sweep, or as many as the sweep kept, whichever is more: a sweep costs
/// what it kept plus what came since, so O(1) per reservation amortized,
/// and the tables stay within twice what is live plus this.
const SWEEP_EVERY: usize = 4096;

/// Gives a table's memory back once it is mostly empty (a quarter full).
fn give_back_memory<K: Eq + std::hash::Hash, V>(table: &mut HashMap<K, V>) {
    if table.len() < table.capacity() / 4 {
        table.shrink_to_fit();
    }
}

/// The ledger logic shared by the memory and file ledgers.
#[derive(Debug, Default)]
pub(crate) struct LedgerState {
    pub(crate) entries: HashMap<String, Entry>,
    /// Used-up SADs and their `iat` and `exp`: all a used-up SAD needs is
    /// to stay refused until it expires, so it costs its id and two numbers.
    pub(crate) spent: HashMap<Box<str>, (u64, u64)>,
    /// The times of the SADs forgotten: SADs valid then are refused.
    pub(crate) forgotten: Forgotten,
    reserves_since_sweep: usize,
    /// Entries and spent SADs the last sweep kept.
    kept_by_sweep: usize,
    next_id: u64,
    /// Makes reservation ids unique across processes sharing a ledger.
    prefix: String,
}

/// What a reservation held, taken out of the state for commit or release.
pub(crate) struct Taken {
    pub(crate) num: u32,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    pub(crate) at: u64,
    pub(crate) digests: Vec<Vec<u8>>,
}

impl LedgerState {
    pub(crate) fn reserve(&mut self, request: &UseRequest<'_>) -> Result<Reservation, LedgerError> {
        self.reserves_since_sweep += 1;
        if self.reserves_since_sweep >= SWEEP_EVERY.max(self.kept_by_sweep) {
            self.sweep(request.forget_before);
        }
        if let Some((_, end)) = self.forgotten.meets(request.iat, request.exp) {
            return Err(LedgerError::Forgotten {
                jti: request.jti.to_owned(),
                exp: request.exp,
                horizon: end.saturating_add(1),
            });
        }
        if self.spent.contains_key(request.jti) {
            return Err(LedgerError::Exhausted {
                jti: request.jti.to_owned(),
            });
        }
        let entry = self
            .entries
            .entry(request.jti.to_owned())
            .or_insert_with(|| Entry {
                num: request.num,
                iat: request.iat,
                exp: request.exp,
                ..Entry::default()
            });
        let spent = entry.committed as usize + entry.reserved_count();
        let left = (entry.num as usize).saturating_sub(spent);
        if left == 0 {
            return Err(LedgerError::Exhausted {
                jti: request.jti.to_owned(),
            });
        }
        if request.digests.len() > left {
            return Err(LedgerError::CountExceeded {
                jti: request.jti.to_owned(),
                left: u32::try_from(left).unwrap_or(u32::MAX),
                requested: request.digests.len(),
            });
        }
        if request.bound {
            let in_flight = entry.reserved.values().flat_map(|h| &h.digests);
            let in_flight: HashSet<&Vec<u8>> = in_flight.collect();
            if request
                .digests
                .iter()
                .any(|d| entry.used.contains(d) || in_flight.contains(d))
            {
                return Err(LedgerError::DigestAlreadyUsed {
                    jti: request.jti.to_owned(),
                });
            }
        }
        self.next_id += 1;
        let id = format!("{}{}", self.prefix, self.next_id);
        let digests = if request.bound {
            request.digests.to_vec()
        } else {
            vec![Vec::new(); request.digests.len()]
        };
        entry.reserved.insert(
            id.clone(),
            Held {
                at: request.now,
                digests,
            },
        );
        Ok(Reservation {
            jti: request.jti.to_owned(),
            id,
        })
    }

    /// Forgets the SADs that expired before `cut` (those without a
    /// reservation in flight) and refuses from now on every SAD valid at a
    /// time one of them was ([`Forgotten`]). What is refused follows the
    /// SADs forgotten, not `cut`, so a clock that jumped far ahead shuts
    /// out only the times of SADs already seen.
    pub(crate) fn sweep(&mut self, cut: u64) {
        self.reserves_since_sweep = 0;
        let forgotten = &mut self.forgotten;
        self.entries.retain(|_, entry| {
            let keep = entry.exp >= cut || !entry.reserved.is_empty();
            if !keep {
                forgotten.add(entry.iat, entry.exp);
            }
            keep
        });
        self.spent.retain(|_, &mut (iat, exp)| {
            let keep = exp >= cut;
            if !keep {
                forgotten.add(iat, exp);
            }
            keep
        });
        give_back_memory(&mut self.entries);
        give_back_memory(&mut self.spent);
        self.kept_by_sweep = self.entries.len() + self.spent.len();
    }

    /// Refuses from now on every SAD valid at a time in `from..=to`.
    pub(crate) fn forget_span(&mut self, from: u64, to: u64) {
        self.forgotten.add(from, to);
    }

    /// A state whose reservation ids start with `prefix`.
    pub(crate) fn with_prefix(prefix: String) -> Self {
        Self {
            prefix,
            ..Self::default()
        }
    }

    /// Records a reservation made elsewhere (another process's journal entry).
    pub(crate) fn apply_reserve(&mut self, jti: &str, id: &str, taken: Taken) {
        let entry = self.entries.entry(jti.to_owned()).or_insert_with(|| Entry {
            num: taken.num,
            iat: taken.iat,
            exp: taken.exp,
            ..Entry::default()
        });
        entry.reserved.insert(
            id.to_owned(),
            Held {
                at: taken.at,
                digests: taken.digests,
            },
        );
    }

    /// Drops a reservation made elsewhere, if it is known.
    pub(crate) fn apply_release(&mut self, jti: &str, id: &str) {
        if let Some(entry) = self.entries.get_mut(jti) {
            entry.reserved.remove(id);
        }
    }

    pub(crate) fn take(&mut self, reservation: &Reservation) -> Result<Taken, LedgerError> {
        let entry = self
            .entries
            .get_mut(&reservation.jti)
            .ok_or(LedgerError::UnknownReservation)?;
        let held = entry
            .reserved
            .remove(&reservation.id)
            .ok_or(LedgerError::UnknownReservation)?;
        if entry.reserved.is_empty() {
            // Most SADs see one reservation: give its table's memory back.
            entry.reserved.shrink_to_fit();
        }
        Ok(Taken {
            num: entry.num,
            iat: entry.iat,
            exp: entry.exp,
            at: held.at,
            digests: held.digests,
        })
    }

    /// Puts a taken reservation back (a durable commit that failed to write).
    pub(crate) fn put_back(&mut self, reservation: &Reservation, taken: Taken) {
        self.apply_reserve(&reservation.jti, &reservation.id, taken);
    }

    /// The reservations made before `before`, oldest first.
    pub(crate) fn stale(&self, before: u64) -> Vec<Reservation> {
        let mut stale: Vec<(u64, Reservation)> = self
            .entries
            .iter()
            .flat_map(|(jti, entry)| {
                entry
                    .reserved
                    .iter()
                    .filter(|(_, held)| held.at < before)
                    .map(|(id, held)| (held.at, Reservation::new(jti.clone(), id.clone())))
            })
            .collect();
        stale.sort_by(|a, b| (a.0, a.1.id()).cmp(&(b.0, b.1.id())));
        stale.into_iter().map(|(_, r)| r).collect()
    }

    pub(crate) fn apply_commit(&mut self, jti: &str, taken: Taken) {
        let Taken {
            num,
            iat,
            exp,
            digests,
            ..
        } = taken;
        if self.spent.contains_key(jti) {
            return;
        }
        let entry = self.entries.entry(jti.to_owned()).or_insert_with(|| Entry {
            num,
            iat,
            exp,
            ..Entry::default()
        });
        entry.committed = entry
            .committed
            .saturating_add(u32::try_from(digests.len()).unwrap_or(u32::MAX));
        if entry.committed >= entry.num && entry.reserved.is_empty() {
            // An exhausted SAD is refused before its digests are looked at
            // (`SadExhausted`), so they need not be kept: it moves to the
            // spent table, where it costs its id and its expiry.
            let time = (entry.iat, entry.exp);
            self.entries.remove(jti);
            self.spent.insert(jti.into(), time);
        } else if entry.committed >= entry.num {
            entry.used = HashSet::new();
        } else {
            entry
                .used
                .extend(digests.into_iter().filter(|d| !d.is_empty()));
        }
    }
}

/// A ledger in process memory: for one node, lost on restart. It forgets
/// the SADs the verifier already refuses as expired, amortized over the
/// reservations, and refuses them itself from then on.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    state: Mutex<LedgerState>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }
}

impl ConsumptionLedger for MemoryLedger {
    fn reserve(&self, request: &UseRequest<'_>) -> Result<Reservation, LedgerError> {
        lock(&self.state).reserve(request)
    }

    fn commit(&self, reservation: &Reservation) -> Result<(), LedgerError> {
        let mut state = lock(&self.state);
        let taken = state.take(reservation)?;
        state.apply_commit(&reservation.jti, taken);
        Ok(())
    }

    fn release(&self, reservation: &Reservation) -> Result<(), LedgerError> {
        lock(&self.state).take(reservation).map(|_| ())
    }

    fn release_stale(&self, reserved_before: u64) -> Result<Vec<Reservation>, LedgerError> {
        let mut state = lock(&self.state);
        let stale = state.stale(reserved_before);
        for reservation in &stale {
            state.take(reservation)?;
        }
        Ok(stale)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn request<'a>(jti: &'a str, num: u32, digests: &'a [Vec<u8>]) -> UseRequest<'a> {
        UseRequest {
            jti,
            num,
            iat: 0,
            exp: 1,
            now: 0,
            forget_before: 0,
            digests,
            bound: true,
        }
    }

    #[test]
    fn an_exhausted_sad_keeps_no_digests_and_stays_refused() {
        let mut state = LedgerState::default();
        let (a, b) = (vec![1u8; 32], vec![2u8; 32]);
        let first = [a.clone()];
        let r = state.reserve(&request("j", 2, &first)).unwrap();
        let taken = state.take(&r).unwrap();
        state.apply_commit("j", taken);
        // Not exhausted yet: the digest is remembered and refused again.
        assert_eq!(state.entries["j"].used.len(), 1);
        assert!(matches!(
            state.reserve(&request("j", 2, &first)),
            Err(LedgerError::DigestAlreadyUsed { .. })
        ));
        let second = [b];
        let r = state.reserve(&request("j", 2, &second)).unwrap();
        let taken = state.take(&r).unwrap();
        state.apply_commit("j", taken);
        // Used up: only its id and expiry are left.
        assert!(!state.entries.contains_key("j"));
        assert_eq!(state.spent.get("j"), Some(&(0, 1)));
        for digests in [&first[..], &second[..]] {
            assert!(matches!(
                state.reserve(&request("j", 2, digests)),
                Err(LedgerError::Exhausted { .. })
            ));
        }
    }

    /// A steady stream of SADs, each used once and expiring 300 s after
    /// it is used, one per second: the tables stay bounded by what is live
    /// and the sweep schedule, however long the stream runs.
    #[test]
    fn a_steady_stream_of_sads_keeps_the_tables_bounded() {
        let mut state = LedgerState::default();
        let digest = [vec![0u8; 32]];
        // Fifty SADs with a use left and a long life stay tracked throughout.
        for i in 0..50 {
            let jti = format!("open-{i}");
            let r = state
                .reserve(&UseRequest {
                    jti: &jti,
                    num: 2,
                    iat: 0,
                    exp: u64::MAX,
                    now: 0,
                    forget_before: 0,
                    digests: &digest,
                    bound: false,
                })
                .unwrap();
            let taken = state.take(&r).unwrap();
            state.apply_commit(&jti, taken);
        }
        let mut most = 0;
        for t in 0..30_000u64 {
            let jti = format!("sad-{t}");
            let r = state
                .reserve(&UseRequest {
                    jti: &jti,
                    num: 1,
                    iat: t,
                    exp: t + 300,
                    now: t,
                    forget_before: t.saturating_sub(60),
                    digests: &digest,
                    bound: false,
                })
                .unwrap();
            let taken = state.take(&r).unwrap();
            state.apply_commit(&jti, taken);
            most = most.max(state.entries.len() + state.spent.len());
        }
        // Live: 50 and about 360 SADs; swept every 4096 reservations.
        assert!(most <= 2 * SWEEP_EVERY, "the tables grew to {most}");
    }

    #[test]
    fn forgotten_times_merge_when_they_meet_and_stay_apart_otherwise() {
        let mut f = Forgotten::default();
        f.add(10, 20);
        f.add(30, 40);
        assert_eq!(f.spans(), &[(10, 20), (30, 40)]);
        // Touching merges; a gap of one second does not.
        f.add(21, 25);
        f.add(42, 50);
        assert_eq!(f.spans(), &[(10, 25), (30, 40), (42, 50)]);
        // One that meets several absorbs them all; given backwards too.
        f.add(41, 24);
        assert_eq!(f.spans(), &[(10, 50)]);
        f.add(1, 2);
        assert_eq!(f.spans(), &[(1, 2), (10, 50)]);
        assert_eq!(f.meets(3, 9), None);
        assert_eq!(f.meets(51, 60), None);
        for (from, to) in [(0, 1), (2, 3), (9, 10), (50, 51), (20, 30), (0, 100)] {
            assert!(f.meets(from, to).is_some(), "{from}..={to}");
        }
        assert_eq!(f.meets(45, 70), Some((10, 50)));
    }

    #[test]
    fn beyond_the_bound_the_closest_forgotten_times_merge() {
        let mut f = Forgotten::default();
        // Spans 100 apart, one pair only 5 apart, and one far away.
        for i in 0..MAX_SPANS as u64 {
            f.add(i * 100, i * 100 + 10);
        }
        f.add(1_015, 1_016);
        assert_eq!(f.spans().len(), MAX_SPANS);
        assert!(f.spans().contains(&(1_000, 1_016)), "{:?}", f.spans());
        f.add(1_000_000, 1_000_010);
        assert_eq!(f.spans().len(), MAX_SPANS);
        // Nothing was dropped: every time added is still refused, and the
        // far one kept its gap.
        for i in 0..MAX_SPANS as u64 {
            assert!(f.meets(i * 100 + 10, i * 100 + 10).is_some());
        }
        assert!(f.meets(1_000_000, 1_000_000).is_some());
        assert_eq!(f.meets(500_000, 500_000), None);
    }

    /// SADs used while the clock ran far ahead are forgotten (a sweep at
    /// that time): once the clock is right, a SAD issued then is accepted,
    /// and the forgotten ones, shown again, are not.
    #[test]
    fn a_clock_that_was_ahead_refuses_only_the_times_it_claimed() {
        let mut state = LedgerState::default();
        let digest = [vec![1u8; 32]];
        let ahead = 1_000 + 5 * 86_400;
        let at = |jti, iat: u64, now: u64| UseRequest {
            jti,
            num: 1,
            iat,
            exp: iat + 300,
            now,
            forget_before: now - 60,
            digests: &digest,
            bound: false,
        };
        for (jti, iat) in [("before", 900), ("ahead", ahead)] {
            let r = state.reserve(&at(jti, iat, iat)).unwrap();
            let taken = state.take(&r).unwrap();
            state.apply_commit(jti, taken);
        }
        state.sweep(ahead + 1_000);
        assert!(state.spent.is_empty());
        // The clock is right again, at 1 500.
        let r = state.reserve(&at("new", 1_500, 1_500)).unwrap();
        let taken = state.take(&r).unwrap();
        state.apply_commit("new", taken);
        for (jti, iat) in [("before", 900), ("ahead", ahead)] {
            assert!(matches!(
                state.reserve(&at(jti, iat, 1_500)),
                Err(LedgerError::Forgotten { .. })
            ));
        }
    }

    #[test]
    fn memory_is_given_back_when_a_table_is_a_quarter_full_and_not_before() {
        let table_of = |len: usize| {
            let mut t: HashMap<usize, ()> = HashMap::with_capacity(3_000);
            let capacity = t.capacity();
            t.extend((0..len.min(capacity / 4 + 1_000)).map(|i| (i, ())));
            (t, capacity)
        };
        let (_, capacity) = table_of(0);
        // Exactly a quarter full, and fuller: kept as it is.
        for len in [capacity / 4, capacity / 4 + 1_000] {
            let (mut t, capacity) = table_of(len);
            give_back_memory(&mut t);
            assert_eq!(t.capacity(), capacity, "shrunk with {len} of {capacity}");
        }
        // Below a quarter: given back.
        let (mut t, capacity) = table_of(10);
        give_back_memory(&mut t);
        assert!(
            t.capacity() < capacity / 4,
            "{} of {capacity}",
            t.capacity()
        );
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Try to use SAD `jti` at a clock that lets the ledger forget what
        /// expired before `forget_before`; release instead of commit if asked.
        Use {
            jti: usize,
            forget_before: u64,
            release: bool,
        },
        /// A sweep at an arbitrary time (clocks step back and forth).
        Sweep { cut: u64 },
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (0..12usize, 0..150u64, any::<bool>())
                .prop_map(|(jti, forget_before, release)| Op::Use { jti, forget_before, release }),
            1 => (0..150u64).prop_map(|cut| Op::Sweep { cut }),
        ]
    }

    proptest::proptest! {
        /// Whatever the clocks and sweeps do, no SAD yields more signatures
        /// than its `num`: a forgotten SAD never comes back.
        #[test]
        fn forgetting_never_lets_a_sad_be_used_again(
            exps in proptest::collection::vec(0..120u64, 12),
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            let mut state = LedgerState::default();
            let mut committed = [0u32; 12];
            let digest = [vec![0u8; 32]];
            for op in ops {
                match op {
                    Op::Sweep { cut } => state.sweep(cut),
                    Op::Use { jti, forget_before, release } => {
                        let name = format!("sad-{jti}");
                        let num = 1 + (jti % 3) as u32;
                        let request = UseRequest {
                            jti: &name,
                            num,
                            iat: exps[jti].saturating_sub(30),
                            exp: exps[jti],
                            now: forget_before,
                            forget_before,
                            digests: &digest,
                            bound: false,
                        };
                        if let Ok(reservation) = state.reserve(&request) {
                            let taken = state.take(&reservation).unwrap();
                            if !release {
                                state.apply_commit(&name, taken);
                                committed[jti] += 1;
                            }
                        }
                        proptest::prop_assert!(committed[jti] <= num, "SAD {jti} used {} times, num {num}", committed[jti]);
                    }
                }
            }
        }
    }
}
