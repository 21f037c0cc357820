#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod checkpoint;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod error;
mod log;
mod record;
mod verify;

pub use checkpoint::{CheckpointSigner, CheckpointVerifier, PublicKeyVerifier, checkpoint_message};
pub use error::AuditError;
pub use log::{AuditLog, AuditOptions, AuditSink, Durability, Receipt};
pub use record::{Entry, Event, Outcome, Record};
pub use verify::{LogReport, Problem, scan, scan_with};
