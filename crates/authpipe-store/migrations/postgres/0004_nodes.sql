-- Server nodes sharing this store: each upserts its row every few seconds,
-- so a cluster-wide limit can be split among the nodes seen lately.

CREATE TABLE nodes (
    id          TEXT COLLATE "C" PRIMARY KEY,
    started_at  BIGINT NOT NULL,
    seen_at     BIGINT NOT NULL
);
