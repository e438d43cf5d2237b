-- The platform's state: tenants, their keys, functions with immutable
-- versions, env (secrets encrypted), fetch allow-lists and the audit log.
-- Times are milliseconds since the Unix epoch. The same tables as the
-- SQLite migrations; ids, names and keys compare bytewise (COLLATE "C"), as
-- in SQLite, so listings sort the same whatever the database's locale.

CREATE TABLE tenants (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    quotas      TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id            TEXT COLLATE "C" PRIMARY KEY,
    tenant_id     TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('manage', 'invoke')),
    prefix        TEXT NOT NULL,
    token_sha256  BYTEA NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id);

CREATE TABLE functions (
    tenant_id         TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name              TEXT COLLATE "C" NOT NULL,
    run_order         BIGINT NOT NULL DEFAULT 0,
    latest_version    BIGINT NOT NULL,
    deployed_version  BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE function_versions (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    version     BIGINT NOT NULL,
    source      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    settings    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name, version),
    FOREIGN KEY (tenant_id, name) REFERENCES functions (tenant_id, name) ON DELETE CASCADE
);

CREATE TABLE env_vars (
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key         TEXT COLLATE "C" NOT NULL,
    secret      BOOLEAN NOT NULL,
    value       BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE fetch_allow (
    tenant_id   TEXT COLLATE "C" PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    allow       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE audit (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  TEXT COLLATE "C" NOT NULL,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    version    BIGINT
);
CREATE INDEX audit_by_tenant ON audit (tenant_id, id);
