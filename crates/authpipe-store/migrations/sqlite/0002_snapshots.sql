-- Compiled function snapshots, shared by every tenant and version with the
-- same source: keyed by the engine that made them, the file name the
-- source was compiled under and the source's SHA-256.

CREATE TABLE snapshots (
    key         TEXT PRIMARY KEY,
    snapshot    BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);
