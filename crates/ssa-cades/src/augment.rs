//! Climbing the levels: a B-B signature made into B-T or B-LT in one call.

use std::time::SystemTime;

use ssa_types::{HashAlgorithm, Level};
use x509_cert::Certificate;

use crate::CadesError;
use crate::long_term::add_validation_data;
use crate::revocation::RevocationSource;
use crate::tsa::{TimeStampAuthority, TsaFailure, add_signature_time_stamp};

/// What raising a signature to a level may use.
#[derive(Clone, Copy)]
pub struct Augmentation<'a> {
    /// The TSA, for B-T and above.
    pub tsa: Option<&'a dyn TimeStampAuthority>,
    /// Where revocation data comes from, for B-LT.
    pub revocation: Option<&'a dyn RevocationSource>,
    /// Trust anchors the embedded paths lead to, for B-LT.
    pub anchors: &'a [Certificate],
    /// The time the paths are judged at, for B-LT.
    pub at: SystemTime,
}

impl core::fmt::Debug for Augmentation<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Augmentation")
            .field("tsa", &self.tsa.is_some())
            .field("revocation", &self.revocation.is_some())
            .field("anchors", &self.anchors.len())
            .field("at", &self.at)
            .finish()
    }
}

impl Augmentation<'_> {
    /// Whether everything `level` needs is at hand; a caller checks this
    /// before it spends anything (a SAD, a signature) on a request.
    pub fn can_make(&self, level: Level) -> Result<(), CadesError> {
        if level >= Level::BT && self.tsa.is_none() {
            return Err(CadesError::LevelUnavailable {
                level,
                missing: "a TSA",
            });
        }
        if level >= Level::BLt && self.revocation.is_none() {
            return Err(CadesError::LevelUnavailable {
                level,
                missing: "a revocation source",
            });
        }
        if level > Level::BLta {
            return Err(CadesError::LevelUnavailable {
                level,
                missing: "support for this level",
            });
        }
        Ok(())
    }
}

/// Raises `signature` to `level`: a signature time-stamp (SHA-256
/// imprint) for B-T on every signer without one, then the validation data
/// of the signers and their TSAs for B-LT, then an archive time-stamp for
/// B-LTA (over each signer's message-digest, so the document need not be
/// at hand; on a B-LTA, a further one: renewal). At B-B it comes back as
/// it is. Signatures made by other products are raised the same way. A TSA failure fails the call (a caller that wants to
/// downgrade uses [`add_signature_time_stamp`] with
/// [`TsaFailure::DowngradeToBB`]).
pub fn augment(
    signature: Vec<u8>,
    level: Level,
    with: &Augmentation<'_>,
) -> Result<Vec<u8>, CadesError> {
    with.can_make(level)?;
    let mut out = signature;
    if level >= Level::BT
        && let Some(tsa) = with.tsa
    {
        out =
            add_signature_time_stamp(&out, tsa, HashAlgorithm::Sha256, TsaFailure::Fail)?.signature;
    }
    if level >= Level::BLt
        && let Some(source) = with.revocation
    {
        out = add_validation_data(&out, with.anchors, source, with.at)?;
    }
    if level >= Level::BLta
        && let Some(tsa) = with.tsa
    {
        out = crate::archive::add_archive_time_stamp(
            &out,
            crate::archive::SignedContent::SignersDigest,
            tsa,
            HashAlgorithm::Sha256,
        )?;
    }
    Ok(out)
}

/// [`augment`] for every signature of a batch, up to `concurrency` at a
/// time: the time-stamps (and the revocation data) of a batch are fetched
/// concurrently, so a batch against a slow TSA costs about one request's
/// time, not one per signature. The signatures come back in their order;
/// if any fails, the first failure (in that order) is returned.
pub fn augment_all(
    signatures: Vec<Vec<u8>>,
    level: Level,
    with: &Augmentation<'_>,
    concurrency: usize,
) -> Result<Vec<Vec<u8>>, CadesError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Mutex, PoisonError};

    with.can_make(level)?;
    let n = signatures.len();
    if level < Level::BT || n <= 1 || concurrency <= 1 {
        return signatures
            .into_iter()
            .map(|s| augment(s, level, with))
            .collect();
    }
    let inputs: Vec<Mutex<Option<Vec<u8>>>> = signatures
        .into_iter()
        .map(|s| Mutex::new(Some(s)))
        .collect();
    /// Where a worker leaves one signature's outcome.
    type Slot = Mutex<Option<Result<Vec<u8>, CadesError>>>;
    let outputs: Vec<Slot> = (0..n).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..concurrency.min(n) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(i) else {
                        break;
                    };
                    let signature = input.lock().unwrap_or_else(PoisonError::into_inner).take();
                    let result = signature.map(|s| augment(s, level, with));
                    *outputs[i].lock().unwrap_or_else(PoisonError::into_inner) = result;
                }
            });
        }
    });
    outputs
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .unwrap_or_else(|| {
                    Err(CadesError::Tsa {
                        reason: "a signature of the batch was not augmented".into(),
                    })
                })
        })
        .collect()
}
