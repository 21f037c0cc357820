-- ssa schema version 3: a server's OAuth2 grants (consent-page sessions,
-- authorization codes, credential-scoped and refresh tokens), kept under
-- the hash of their secret, their content sealed by the server.
CREATE TABLE ssa_grant (
    key     text PRIMARY KEY,
    kind    text   NOT NULL,
    expires bigint NOT NULL,
    sealed  bytea  NOT NULL
);
CREATE INDEX ssa_grant_expires ON ssa_grant (expires);
