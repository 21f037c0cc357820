//! What one audit record says. References and digests only: a record never
//! holds a PIN, an OTP, a SAD string or key material, and the types here
//! have no field that could.

use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A credential was enrolled; `evidence` references the identity
    /// proofing record kept elsewhere (e.g. a case number), never the
    /// evidence itself.
    Enrolment {
        /// Reference to the identity-proofing evidence.
        evidence: String,
    },
    /// A certificate was installed for a credential.
    CertificateInstall {
        /// SHA-256 of the certificate, hex.
        certificate_sha256: String,
    },
    /// A signer authenticated and a SAD was issued.
    Authorization {
        /// The SAD's id (`jti`), not the SAD.
        sad_id: String,
        /// Factor methods used (RFC 8176 names).
        methods: Vec<String>,
    },
    /// A credential was locked after failures.
    Lockout,
    /// An administrator unlocked a credential.
    Unlock,
    /// The SAM checked a SAD for a signing request.
    Activation {
        /// The SAD's id, when it could be read.
        sad_id: Option<String>,
    },
    /// A signature was made.
    Signature {
        /// The SAD's id.
        sad_id: String,
        /// Signature level reached (B-B, B-T, …).
        level: String,
    },
    /// Delegation attribute certificates were set for a credential.
    Delegation {
        /// How many attribute certificates.
        count: u64,
        /// SHA-256 of each, hex.
        certificates_sha256: Vec<String>,
    },
    /// A key was exported wrapped for backup.
    KeyBackup,
    /// A key was restored from a backup.
    KeyRestore,
    /// A credential was disabled.
    CredentialDisabled,
    /// A signed checkpoint over the records before it.
    Checkpoint {
        /// Records sealed (all records before this one).
        count: u64,
        /// Hash of the last sealed record, hex.
        head: String,
        /// Id of the key that signed.
        key_id: String,
        /// The signature, hex.
        signature: String,
    },
    /// The log went on after a failure: the records from `from` on were
    /// never confirmed durable (a write or an fsync failed, or a crash
    /// left a unit of records unfinished), so none of the requests they
    /// describe was answered with success; they were cut (and kept apart,
    /// see `kept`).
    Recovered {
        /// The number of the first record cut: this record takes its place.
        from: u64,
        /// Whole records cut.
        cut: u64,
        /// SHA-256 of the bytes cut, hex.
        cut_sha256: String,
        /// Where the sink kept the bytes cut, if it did.
        kept: Option<String>,
        /// The failure that stopped the log.
        reason: String,
    },
    /// A signature recorded before (its `Signature` record) was not
    /// delivered: spending its SAD failed afterwards, so the SAD was given
    /// back and the signature value thrown away.
    Withheld {
        /// The SAD's id.
        sad_id: String,
    },
    /// An administrator gave back a reservation a crash left: the SAD's
    /// digests may be signed again.
    ReservationReleased {
        /// The SAD's id.
        sad_id: String,
        /// The ledger's id of the reservation.
        reservation: String,
    },
}

/// Success, or failure with the reason (a typed error's message, which
/// never carries secrets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", content = "reason", rename_all = "snake_case")]
pub enum Outcome {
    /// It worked.
    Success,
    /// It was refused or failed.
    Failure(String),
}

/// One entry to append: everything but the chaining.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// What happened.
    pub event: Event,
    /// Who did it (signer, administrator, service).
    pub actor: String,
    /// The credential concerned, if any.
    pub credential: Option<String>,
    /// The digests concerned (DTBS/R), hex.
    pub digests: Vec<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// The id of the server request that caused it, if a server gave one
    /// (absent from records written without: their bytes do not change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

impl Entry {
    /// An entry with no credential and no digests.
    pub fn new(event: Event, actor: impl Into<String>, outcome: Outcome) -> Self {
        Self {
            event,
            actor: actor.into(),
            credential: None,
            digests: Vec::new(),
            outcome,
            request: None,
        }
    }

    /// The same entry caused by the server request `request`, if any.
    pub fn request(mut self, request: Option<&str>) -> Self {
        self.request = request.map(str::to_owned);
        self
    }

    /// The same entry about `credential`.
    pub fn credential(mut self, credential: impl Into<String>) -> Self {
        self.credential = Some(credential.into());
        self
    }

    /// The same entry about `digests` (raw bytes, stored as hex).
    pub fn digests<'a>(mut self, digests: impl IntoIterator<Item = &'a [u8]>) -> Self {
        self.digests = digests.into_iter().map(hex).collect();
        self
    }
}

/// A record as stored: the entry, its place and time, and the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// 0, 1, 2, … with no gap.
    pub seq: u64,
    /// Seconds since the Unix epoch, as given by the caller.
    pub time: u64,
    /// The entry.
    #[serde(flatten)]
    pub entry: Entry,
    /// Hash of the previous record (64 zeros for the first), hex.
    pub prev: String,
    /// Records that follow in the same unit (written and made durable
    /// together): a unit that ends early was never confirmed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub more: u32,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn is_zero(value: &u32) -> bool {
    *value == 0
}

/// Lower-case hex. A table, not `format!` per byte: a batch of 100
/// digests is 6 400 characters per record.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The hash that chains a record: SHA-256 of its body line, hex.
pub(crate) fn body_hash(body: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, body).as_ref())
}

/// The genesis `prev`.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    #[test]
    fn hex_is_lower_case_two_digits_per_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let expected: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(super::hex(&all), expected);
        assert_eq!(super::hex(&[]), "");
    }
}
