-- The platform's state: tenants, their keys, functions with immutable
-- versions, env (secrets encrypted), fetch allow-lists and the audit log.
-- Times are milliseconds since the Unix epoch.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    quotas      TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('manage', 'invoke')),
    prefix        TEXT NOT NULL,
    token_sha256  BLOB NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id);

CREATE TABLE functions (
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    run_order         INTEGER NOT NULL DEFAULT 0,
    latest_version    INTEGER NOT NULL,
    deployed_version  INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE function_versions (
    tenant_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    source      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    settings    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name, version),
    FOREIGN KEY (tenant_id, name) REFERENCES functions (tenant_id, name) ON DELETE CASCADE
);

CREATE TABLE env_vars (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    secret      INTEGER NOT NULL,
    value       BLOB NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE fetch_allow (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    allow       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    version    INTEGER
);
CREATE INDEX audit_by_tenant ON audit (tenant_id, id);
