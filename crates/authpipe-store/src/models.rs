//! What the store keeps.

use serde::{Deserialize, Serialize};

/// Per-tenant limits; `None` means the server's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    /// Functions the tenant may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_functions: Option<u64>,
    /// Invocations of the tenant running at once (429 beyond).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u64>,
    /// Invocations per second (429 beyond).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rps: Option<u64>,
    /// Ceiling of a function's `timeout_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_timeout_ms: Option<u64>,
    /// Ceiling of a function's `fuel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fuel: Option<u64>,
    /// Ceiling of a function's `memory_mb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memory_mb: Option<u64>,
}

impl Quotas {
    /// These quotas, each unset one taken from `defaults`.
    pub fn or(&self, defaults: &Quotas) -> Quotas {
        Quotas {
            max_functions: self.max_functions.or(defaults.max_functions),
            max_concurrent: self.max_concurrent.or(defaults.max_concurrent),
            max_rps: self.max_rps.or(defaults.max_rps),
            max_timeout_ms: self.max_timeout_ms.or(defaults.max_timeout_ms),
            max_fuel: self.max_fuel.or(defaults.max_fuel),
            max_memory_mb: self.max_memory_mb.or(defaults.max_memory_mb),
        }
    }

    /// Every quota with its name.
    pub fn fields(&self) -> [(&'static str, Option<u64>); 6] {
        [
            ("max_functions", self.max_functions),
            ("max_concurrent", self.max_concurrent),
            ("max_rps", self.max_rps),
            ("max_timeout_ms", self.max_timeout_ms),
            ("max_fuel", self.max_fuel),
            ("max_memory_mb", self.max_memory_mb),
        ]
    }
}

/// A tenant (a user pool): the unit of isolation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// `[a-z0-9][a-z0-9-]{0,62}`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its limits.
    pub quotas: Quotas,
    /// Creation time (ms since the epoch).
    pub created_at: i64,
    /// Last change (ms since the epoch).
    pub updated_at: i64,
}

impl Tenant {
    /// True when `id` is a valid tenant id.
    pub fn valid_id(id: &str) -> bool {
        let bytes = id.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= 63
            && bytes[0].is_ascii_alphanumeric()
            && !bytes[0].is_ascii_uppercase()
            && bytes
                .iter()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || *b == b'-')
    }
}

/// What a tenant key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything within its tenant.
    Manage,
    /// Only invoke pipelines and functions.
    Invoke,
}

impl Role {
    /// `manage` or `invoke`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manage => "manage",
            Role::Invoke => "invoke",
        }
    }

    /// Parses `manage` or `invoke`.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "manage" => Some(Role::Manage),
            "invoke" => Some(Role::Invoke),
            _ => None,
        }
    }
}

/// A tenant API key as listed (never with its token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The key's id.
    pub id: String,
    /// Its tenant.
    pub tenant: String,
    /// A name for people.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The token's first characters, to recognise it.
    pub prefix: String,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last use (ms), if any.
    pub last_used_at: Option<i64>,
}

/// A key just created: the only time its token is known.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The key.
    pub key: ApiKey,
    /// The bearer token (shown once).
    pub token: String,
}

/// The settings of one function version (everything but the source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionSettings {
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Triggers (canonical names).
    #[serde(default)]
    pub triggers: Vec<String>,
    /// Skipped by pipelines when false.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Runs after the response.
    #[serde(default, rename = "async")]
    pub is_async: bool,
    /// Wall-clock limit.
    pub timeout_ms: u64,
    /// Fuel limit.
    pub fuel: u64,
    /// Memory limit.
    pub memory_mb: u32,
    /// `deny` or `skip`.
    pub on_error: String,
    /// `javascript` or `typescript` (types are removed when it compiles).
    #[serde(default = "javascript")]
    pub language: String,
    /// `authing`, `auth0-rule` or `auth0-action`; `None`: detected from
    /// the source when it compiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<String>,
}

fn yes() -> bool {
    true
}

fn javascript() -> String {
    "javascript".into()
}

impl FunctionSettings {
    /// The file name a function called `name` compiles under: `name.ts`
    /// for TypeScript, `name.js` otherwise (stack traces show it).
    pub fn file_name(&self, name: &str) -> String {
        match self.language.as_str() {
            "typescript" => format!("{name}.ts"),
            _ => format!("{name}.js"),
        }
    }
}

/// One immutable version of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionVersion {
    /// 1, 2, 3… (0 before it is stored).
    pub version: i64,
    /// The JavaScript source.
    pub source: String,
    /// SHA-256 of the source, hex.
    pub sha256: String,
    /// Its settings.
    pub settings: FunctionSettings,
    /// Creation time (ms).
    pub created_at: i64,
    /// Who created it (`admin` or a key id).
    pub created_by: String,
}

/// A function: its newest and deployed versions and its place in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRecord {
    /// Its tenant.
    pub tenant: String,
    /// Unique within the tenant.
    pub name: String,
    /// Position within its triggers (ascending).
    pub run_order: i64,
    /// The newest version.
    pub latest: FunctionVersion,
    /// The version pipelines run, if any.
    pub deployed_version: Option<i64>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

impl FunctionRecord {
    /// An ETag that changes whenever the function does.
    pub fn etag(&self) -> String {
        format!(
            "\"{}-{}-{}-{}\"",
            self.latest.version,
            self.deployed_version.unwrap_or(0),
            self.run_order,
            self.updated_at
        )
    }
}

/// One env value of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvValue {
    /// The name.
    pub key: String,
    /// The value (for secrets: only for running functions).
    pub value: String,
    /// Never shown to clients when true.
    pub secret: bool,
    /// Last change (ms).
    pub updated_at: i64,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When (ms).
    pub at: i64,
    /// `admin` or a key id.
    pub actor: String,
    /// What was done (`function.create`, `key.revoke`, …).
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// The version it created or deployed, if any.
    pub version: Option<i64>,
}

/// One production invocation, as the execution history keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionRecord {
    /// Unique; sorts by time (`{at:012x}{random}`).
    pub id: String,
    /// Its tenant.
    pub tenant: String,
    /// When it started (ms).
    pub at: i64,
    /// The trigger, for pipeline invocations.
    pub trigger: Option<String>,
    /// The functions its stages ran, in order.
    pub functions: Vec<String>,
    /// `allow`, `deny` or `error`.
    pub outcome: String,
    /// The whole record as JSON (what the API returns).
    pub json: String,
}

/// Which execution records to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionQuery {
    /// Only this trigger's.
    pub trigger: Option<String>,
    /// Only those with a stage of this function.
    pub function: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// Only those older than this id (the cursor).
    pub before: Option<String>,
    /// At most this many.
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids() {
        for good in ["a", "acme", "acme-2", "0x", &"a".repeat(63)] {
            assert!(Tenant::valid_id(good), "{good}");
        }
        for bad in ["", "-a", "Acme", "a_b", "a.b", &"a".repeat(64), "ä"] {
            assert!(!Tenant::valid_id(bad), "{bad}");
        }
    }
}
