-- ssa schema version 1: every store of ssa-store.
-- Times are seconds since the Unix epoch (bigint); ids and keys are text of
-- at most 120 bytes (checked by the crate, as the file stores do).

-- Failure counting and lockout, one row per credential (or login key).
CREATE TABLE ssa_lockout (
    credential    text PRIMARY KEY,
    failures      bigint  NOT NULL DEFAULT 0,
    locked        boolean NOT NULL DEFAULT false,
    last_otp_step bigint
);

-- Device challenges waiting for their answer.
CREATE TABLE ssa_challenge (
    id         text PRIMARY KEY,
    credential text   NOT NULL,
    nonce      bytea  NOT NULL,
    expires    bigint NOT NULL
);
CREATE INDEX ssa_challenge_expires ON ssa_challenge (expires);

-- Enrolled factors (sealed by the issuer before they get here).
CREATE TABLE ssa_enrolment (
    credential text PRIMARY KEY,
    enrolment  bytea NOT NULL
);

-- Credentials: id, owner, the service's record.
CREATE TABLE ssa_credential (
    id     text PRIMARY KEY,
    signer text  NOT NULL,
    record bytea NOT NULL
);
CREATE INDEX ssa_credential_signer ON ssa_credential (signer);

-- Bearer sessions, under the hash of their token.
CREATE TABLE ssa_bearer_session (
    key     text PRIMARY KEY,
    signer  text   NOT NULL,
    issued  bigint NOT NULL,
    expires bigint NOT NULL
);
CREATE INDEX ssa_bearer_session_expires ON ssa_bearer_session (expires);

-- Server accounts (password verifiers), one opaque record per signer.
CREATE TABLE ssa_account (
    signer text PRIMARY KEY,
    record bytea NOT NULL
);

-- The audit trail: one global sequence, numbered from 0 without gaps.
-- Records are UTF-8 lines kept as bytes (text cannot hold a NUL).
CREATE TABLE ssa_audit_record (
    seq    bigint PRIMARY KEY CHECK (seq >= 0),
    record bytea NOT NULL
);
-- What AuditSink::cut took away, kept apart.
CREATE TABLE ssa_audit_cut (
    cut_id bigserial PRIMARY KEY,
    cut_at timestamptz NOT NULL DEFAULT now(),
    seq    bigint NOT NULL,
    record bytea  NOT NULL
);

-- The consumption ledger. One row per SAD seen: every change to a SAD's
-- use locks this row first (SELECT ... FOR UPDATE), so reservations of one
-- SAD are serialised across nodes; `reserved` is the digests in flight and
-- `used` the bound digests signed (emptied once the SAD is used up).
CREATE TABLE ssa_ledger_sad (
    jti       text PRIMARY KEY,
    num       bigint  NOT NULL,
    iat       bigint  NOT NULL,
    exp       bigint  NOT NULL,
    committed bigint  NOT NULL DEFAULT 0,
    reserved  bigint  NOT NULL DEFAULT 0,
    used      bytea[] NOT NULL DEFAULT '{}'
);
CREATE INDEX ssa_ledger_sad_exp ON ssa_ledger_sad (exp);
-- Reservations in flight, with their bound digests (NULL when the SAD
-- binds none).
CREATE TABLE ssa_ledger_reservation (
    id      bigserial PRIMARY KEY,
    jti     text   NOT NULL REFERENCES ssa_ledger_sad (jti) ON DELETE CASCADE,
    at      bigint NOT NULL,
    count   bigint NOT NULL,
    digests bytea[]
);
CREATE INDEX ssa_ledger_reservation_jti ON ssa_ledger_reservation (jti);
CREATE INDEX ssa_ledger_reservation_at ON ssa_ledger_reservation (at);
-- The times of the SADs the ledger forgot (ssa_store::Forgotten's spans).
CREATE TABLE ssa_ledger_forgotten (
    lo bigint NOT NULL,
    hi bigint NOT NULL
);
