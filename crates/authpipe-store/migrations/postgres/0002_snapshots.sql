-- Compiled function snapshots, shared by every tenant and version with the
-- same source: keyed by the engine that made them, the file name the
-- source was compiled under and the source's SHA-256.

CREATE TABLE snapshots (
    key         TEXT COLLATE "C" PRIMARY KEY,
    snapshot    BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
