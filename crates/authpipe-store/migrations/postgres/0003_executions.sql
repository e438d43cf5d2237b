-- Execution history: one row per production invocation, newest first by id
-- (ids start with the time, so they sort by it). `functions` is
-- "|a|b|" (the stages' functions) for the function filter; `record` is the
-- whole record as the API returns it.

CREATE TABLE executions (
    tenant_id     TEXT COLLATE "C" NOT NULL,
    id            TEXT COLLATE "C" NOT NULL,
    at            BIGINT NOT NULL,
    trigger_name  TEXT,
    functions     TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    record        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
