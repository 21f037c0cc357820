//! Why a SAD was refused, or an authorization failed.

/// Which part of a compact JWS was malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenPart {
    /// The `header.payload.signature` structure itself.
    Structure,
    /// The protected header.
    Header,
    /// The claims.
    Payload,
    /// The signature.
    Signature,
}

/// Every refusal of the SAD layer, one variant per check. None carries a
/// secret: no PIN, OTP, seed or SAD string.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SadError {
    // --- the token's form ---
    /// The token is longer than the configured limit.
    #[error("SAD is {len} bytes, over the limit of {limit}")]
    TokenTooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A part is not canonical base64url without padding.
    #[error("SAD {part:?} is not base64url without padding")]
    Base64 {
        /// Which part.
        part: TokenPart,
    },
    /// A part is not the JSON it must be.
    #[error("SAD {part:?} is not valid: {reason}")]
    Json {
        /// Which part.
        part: TokenPart,
        /// What is wrong.
        reason: String,
    },
    /// A JSON object names a member twice.
    #[error("SAD {part:?} names a member twice")]
    DuplicateKey {
        /// Which part.
        part: TokenPart,
    },
    /// The structure is not `header.payload.signature`.
    #[error("SAD is not a compact JWS")]
    NotCompactJws,
    /// `alg` is `none`: an unsigned token.
    #[error("SAD is unsigned (alg none)")]
    AlgorithmNone,
    /// `alg` is an HMAC: a shared-secret algorithm is never accepted.
    #[error("SAD uses {alg}, a shared-secret algorithm, which is never accepted")]
    SymmetricAlgorithm {
        /// The algorithm named.
        alg: String,
    },
    /// `alg` is neither ES256 nor EdDSA.
    #[error("SAD algorithm {alg} is not supported")]
    UnsupportedAlgorithm {
        /// The algorithm named.
        alg: String,
    },
    /// `typ` is not `sad+jwt`.
    #[error("SAD type is {typ:?}, not sad+jwt")]
    WrongType {
        /// The type named.
        typ: Option<String>,
    },
    /// `crit` names extensions this implementation does not understand.
    #[error("SAD header marks unknown extensions critical")]
    UnknownCritical,
    // --- the signature ---
    /// No trusted issuer key has this `kid`.
    #[error("no trusted SAD issuer key {kid:?}")]
    UnknownKeyId {
        /// The key id named.
        kid: String,
    },
    /// The header's `alg` is not the algorithm of the key its `kid` names.
    #[error("SAD alg {alg} is not the algorithm of key {kid:?}")]
    AlgorithmMismatch {
        /// The algorithm named.
        alg: String,
        /// The key id.
        kid: String,
    },
    /// The signature does not verify.
    #[error("SAD signature does not verify")]
    BadSignature,
    // --- the claims ---
    /// `iss` is not the issuer that owns the signing key.
    #[error("SAD issuer {iss:?} does not own key {kid:?}")]
    WrongIssuer {
        /// The issuer named.
        iss: String,
        /// The key id.
        kid: String,
    },
    /// `aud` is not this SAM.
    #[error("SAD audience {aud:?} is not this SAM")]
    WrongAudience {
        /// The audience named.
        aud: String,
    },
    /// The SAD has expired.
    #[error("SAD expired at {exp}")]
    Expired {
        /// Its expiry, seconds since the Unix epoch.
        exp: u64,
    },
    /// The SAD was issued in the future.
    #[error("SAD is not valid before {iat}")]
    NotYetValid {
        /// Its issue time, seconds since the Unix epoch.
        iat: u64,
    },
    /// The SAD lives longer than the SAM allows, or its times are inconsistent.
    #[error("SAD lifetime {lifetime} s is over the limit of {limit} s")]
    LifetimeTooLong {
        /// `exp - iat` (saturating).
        lifetime: u64,
        /// The limit.
        limit: u64,
    },
    /// The SAD authorizes another credential.
    #[error("SAD is for credential {sad:?}, not {requested:?}")]
    WrongCredential {
        /// The credential the SAD names.
        sad: String,
        /// The credential of the request.
        requested: String,
    },
    /// The SAD's `sub` is not the signer who owns the credential.
    #[error("SAD is for signer {sad:?}, the credential belongs to {owner:?}")]
    WrongSigner {
        /// The signer the SAD names.
        sad: String,
        /// The credential's owner.
        owner: String,
    },
    /// The SAD was approved for another signing mode.
    #[error("SAD is for {} signing, the request is {}", sad.as_str(), requested.as_str())]
    WrongMode {
        /// The mode the SAD names.
        sad: ssa_types::SigningMode,
        /// The mode of the request.
        requested: ssa_types::SigningMode,
    },
    /// The credential requires SCAL2 and the SAD is SCAL1.
    #[error("credential requires {required}, SAD is {sad}")]
    ScalTooLow {
        /// The SCAL the credential requires.
        required: ssa_types::Scal,
        /// The SCAL of the SAD.
        sad: ssa_types::Scal,
    },
    /// A SCAL2 SAD without both a knowledge and a possession factor.
    #[error("SCAL2 needs a knowledge and a possession factor")]
    InsufficientFactors,
    /// A SCAL2 SAD (or request) without bound digests.
    #[error("SCAL2 needs the digests bound in the SAD")]
    HashesNotBound,
    /// The request's digests are of another hash than the SAD's `hashAlg`.
    #[error("the request's hash algorithm is not the SAD's")]
    HashAlgorithmMismatch,
    /// A digest is not as long as its hash algorithm makes them.
    #[error("a digest is {actual} bytes, {expected} expected")]
    DigestLength {
        /// Expected length.
        expected: usize,
        /// Actual length.
        actual: usize,
    },
    /// A digest presented is not among those the SAD binds.
    #[error("digest {index} of the request is not bound in the SAD")]
    DigestNotBound {
        /// Its index in the request.
        index: usize,
    },
    /// The request names no digest, or one twice.
    #[error("the request must name at least one digest, each once")]
    BadDigestList,
    /// `num` is zero, over the limit, or below the number of bound digests' uses.
    #[error("SAD count {num} is not allowed")]
    BadCount {
        /// The count.
        num: u32,
    },
    // --- the ledger ---
    /// Every signature the SAD allowed has been made: a replay.
    #[error("SAD {jti:?} is used up")]
    SadExhausted {
        /// The SAD id.
        jti: String,
    },
    /// The request asks for more signatures than the SAD has left.
    #[error("SAD {jti:?} has {left} signatures left, {requested} requested")]
    CountExceeded {
        /// The SAD id.
        jti: String,
        /// Signatures left (not counting reservations in flight).
        left: u32,
        /// Signatures requested.
        requested: usize,
    },
    /// A digest has been signed (or is being signed) under this SAD already.
    #[error("a digest of the request was already signed under SAD {jti:?}")]
    DigestAlreadyUsed {
        /// The SAD id.
        jti: String,
    },
    /// The SAD expired before the ledger's horizon: the ledger no longer
    /// tracks its uses, so it cannot be used (the verifier's clock may have
    /// stepped back).
    #[error("SAD {jti:?} expired at {exp}, before the ledger forgot SADs up to {horizon}")]
    ForgottenSad {
        /// The SAD id.
        jti: String,
        /// Its expiry.
        exp: u64,
        /// The ledger's horizon.
        horizon: u64,
    },
    /// A reservation is unknown to the ledger (committed or released already).
    #[error("unknown ledger reservation")]
    UnknownReservation,
    // --- the authenticator ---
    /// No credential with this id is enrolled.
    #[error("credential {credential:?} is not enrolled")]
    UnknownCredential {
        /// The credential id.
        credential: String,
    },
    /// A credential with this id is enrolled already.
    #[error("credential {credential:?} is enrolled already")]
    AlreadyEnrolled {
        /// The credential id.
        credential: String,
    },
    /// The credential is locked after too many failures; only an admin unlocks it.
    #[error("credential {credential:?} is locked")]
    Locked {
        /// The credential id.
        credential: String,
    },
    /// A presented factor was wrong (a PIN, a one-time password, a reused
    /// one-time password, a device-key response). Which one is not said,
    /// to the caller or in the log: whoever lacks one factor must not be
    /// able to test the other.
    #[error(
        "authentication failed for credential {credential:?} ({failures} consecutive failures)"
    )]
    AuthenticationFailed {
        /// The credential id.
        credential: String,
        /// Consecutive failures so far, this one included.
        failures: u32,
        /// This attempt locked the credential.
        locked: bool,
    },
    /// The device challenge is unknown, spent, expired or for another credential.
    #[error("device challenge unknown, spent or expired")]
    UnknownChallenge,
    /// A factor was presented that the credential has not enrolled.
    #[error("factor {factor} is not enrolled for credential {credential:?}")]
    FactorNotEnrolled {
        /// The credential id.
        credential: String,
        /// Which factor.
        factor: &'static str,
    },
    /// No factor was presented.
    #[error("no authentication factor was presented")]
    NoFactor,
    /// An enrolment value is unusable (PIN too short, seed too short, bad key).
    #[error("invalid enrolment: {reason}")]
    InvalidEnrolment {
        /// What is wrong.
        reason: &'static str,
    },
    /// A stored value (PIN hash, sealed seed, journal) is corrupt.
    #[error("stored {what} is corrupt")]
    CorruptStore {
        /// What.
        what: &'static str,
    },
    /// A store (ledger, lockout, challenges) could not do its job.
    #[error("store: {0}")]
    Store(#[from] ssa_store::StoreError),
    /// A cryptographic primitive failed (random source, key parsing).
    #[error("cryptographic operation failed: {operation}")]
    Crypto {
        /// Which operation.
        operation: &'static str,
    },
}

/// A ledger's refusal is the SAM's refusal; a ledger's store failure stays
/// a store failure.
impl From<ssa_store::LedgerError> for SadError {
    fn from(error: ssa_store::LedgerError) -> Self {
        use ssa_store::LedgerError as L;
        match error {
            L::Exhausted { jti } => Self::SadExhausted { jti },
            L::CountExceeded {
                jti,
                left,
                requested,
            } => Self::CountExceeded {
                jti,
                left,
                requested,
            },
            L::DigestAlreadyUsed { jti } => Self::DigestAlreadyUsed { jti },
            L::Forgotten { jti, exp, horizon } => Self::ForgottenSad { jti, exp, horizon },
            L::UnknownReservation => Self::UnknownReservation,
            L::Store(e) => Self::Store(e),
            // A refusal this crate does not know yet: refuse, as a store fault.
            other => Self::Store(ssa_store::StoreError::Backend {
                what: "ledger",
                source: Box::new(other),
            }),
        }
    }
}
