#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod checkpoint;
mod error;
mod log;
mod record;
mod verify;

pub use checkpoint::{CheckpointSigner, CheckpointVerifier, PublicKeyVerifier, checkpoint_message};
pub use error::AuditError;
pub use log::{AuditLog, AuditOptions, Durability, Receipt, Unsynced};
pub use record::{Entry, Event, Outcome, Record};
/// The sinks the log writes to, re-exported from `ssa-store`.
pub use ssa_store::{Appended, AuditSink, FileAuditSink, MemoryAuditSink};
pub use verify::{LogReport, Problem, scan, scan_with};
