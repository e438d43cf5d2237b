-- Server nodes sharing this store: each upserts its row every few seconds,
-- so a cluster-wide limit can be split among the nodes seen lately.

CREATE TABLE nodes (
    id          TEXT PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    seen_at     INTEGER NOT NULL
);
