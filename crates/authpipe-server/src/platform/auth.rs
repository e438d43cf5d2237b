//! Who is calling: the platform admin or a tenant key.
//!
//! Keys are looked up by the SHA-256 of their token (the store keeps only
//! that). Lookups are cached for [`KEY_CACHE_TTL`] so an invocation does
//! not cost a store query; a key revoked through this node is forgotten at
//! once, and a key's last use is written at most once a minute.

use crate::error::ApiError;
use crate::http::constant_time_eq;
use authpipe_store::{ApiKey, Role, Store};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a key lookup (found or not) is reused.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(2);
/// Lookups kept at most; the cache is cleared when full (a flood of random
/// tokens cannot grow it).
const KEY_CACHE_ENTRIES: usize = 10_000;
/// How often a key's `last_used_at` is written.
const NOTE_USE_EVERY: Duration = Duration::from_secs(60);

/// The caller of a `/v1/tenants` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `AUTHPIPE_ADMIN_TOKEN`: everything.
    Admin,
    /// A tenant key.
    Key(ApiKey),
}

impl Principal {
    /// `admin` or `key:<id>`, for the audit log and versions.
    pub fn actor(&self) -> String {
        match self {
            Principal::Admin => "admin".into(),
            Principal::Key(key) => format!("key:{}", key.id),
        }
    }

    /// Checks that this principal may act on `tenant`: the admin may, a
    /// key of that tenant may (a `manage` key, or any key when `invoke` is
    /// enough). Another tenant's key gets the same 404 as a tenant that
    /// does not exist.
    pub fn require(&self, tenant: &str, need: Need) -> Result<(), ApiError> {
        match self {
            Principal::Admin => Ok(()),
            Principal::Key(key) if key.tenant != tenant => Err(tenant_not_found(tenant)),
            Principal::Key(key) => match (need, key.role) {
                (Need::Admin, _) => Err(ApiError::forbidden("only the platform admin may do this")),
                (Need::Manage, Role::Invoke) => Err(ApiError::forbidden(
                    "this key has the invoke role; managing the tenant needs a manage key",
                )),
                _ => Ok(()),
            },
        }
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The platform admin.
    Admin,
    /// The admin or a `manage` key of the tenant.
    Manage,
    /// Any key of the tenant (or the admin).
    Invoke,
}

/// The 404 for a tenant that does not exist or is not the caller's.
pub fn tenant_not_found(tenant: &str) -> ApiError {
    ApiError::not_found(format!("no tenant {tenant:?}"))
}

/// Resolves bearer tokens to principals.
pub struct Authenticator {
    admin_token_hash: [u8; 32],
    cache: Mutex<HashMap<TokenHash, (Option<ApiKey>, Instant)>>,
    noted: Mutex<HashMap<String, Instant>>,
}

/// SHA-256 of a bearer token.
type TokenHash = [u8; 32];

fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

impl Authenticator {
    /// An authenticator with `admin_token` as the platform admin's token.
    pub fn new(admin_token: &str) -> Self {
        Self {
            admin_token_hash: hash(admin_token),
            cache: Mutex::new(HashMap::new()),
            noted: Mutex::new(HashMap::new()),
        }
    }

    /// The principal `token` belongs to; 401 for none (or a store
    /// failure: fail closed).
    pub async fn principal<S: Store>(
        &self,
        store: &S,
        token: Option<&str>,
    ) -> Result<Principal, ApiError> {
        let token = token.ok_or_else(ApiError::unauthorized)?;
        let digest = hash(token);
        // Comparing hashes keeps the comparison's time independent of the
        // admin token's prefix.
        if constant_time_eq(&digest, &self.admin_token_hash) {
            return Ok(Principal::Admin);
        }
        let cached = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache
                .get(&digest)
                .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
                .map(|(key, _)| key.clone())
        };
        let key = match cached {
            Some(key) => key,
            None => {
                let key = store.key_for_token(token).await.map_err(|e| {
                    tracing::error!(error = %e, "cannot look up an API key");
                    ApiError::unavailable("the store is not available; retry shortly")
                })?;
                let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
                if cache.len() >= KEY_CACHE_ENTRIES {
                    cache.clear();
                }
                cache.insert(digest, (key.clone(), Instant::now()));
                key
            }
        };
        let key = key.ok_or_else(ApiError::unauthorized)?;
        Ok(Principal::Key(key))
    }

    /// True when `key`'s use should be written now (at most once a minute).
    pub fn should_note_use(&self, key: &ApiKey) -> bool {
        let mut noted = self.noted.lock().unwrap_or_else(|e| e.into_inner());
        match noted.get(&key.id) {
            Some(at) if at.elapsed() < NOTE_USE_EVERY => false,
            _ => {
                if noted.len() >= KEY_CACHE_ENTRIES {
                    noted.clear();
                }
                noted.insert(key.id.clone(), Instant::now());
                true
            }
        }
    }

    /// Forgets cached lookups of the keys `matches` selects (a revoked key,
    /// a deleted tenant's keys): they are refused from now on.
    pub fn forget(&self, matches: impl Fn(&ApiKey) -> bool) {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (key, _)| !key.as_ref().is_some_and(&matches));
    }

    /// Forgets the cached keys of `tenant` and every cached miss, after a
    /// change on another node (a key revoked or created there).
    pub fn forget_tenant(&self, tenant: &str) {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (key, _)| key.as_ref().is_some_and(|k| k.tenant != tenant));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(tenant: &str, role: Role) -> Principal {
        Principal::Key(ApiKey {
            id: "k1".into(),
            tenant: tenant.into(),
            name: "ci".into(),
            role,
            prefix: "ap_".into(),
            created_at: 0,
            last_used_at: None,
        })
    }

    #[test]
    fn roles_and_tenants() {
        let status = |p: &Principal, need| p.require("acme", need).err().map(|e| e.status.as_u16());
        assert_eq!(status(&Principal::Admin, Need::Admin), None);
        assert_eq!(status(&key("acme", Role::Manage), Need::Manage), None);
        assert_eq!(status(&key("acme", Role::Invoke), Need::Invoke), None);
        assert_eq!(status(&key("acme", Role::Invoke), Need::Manage), Some(403));
        assert_eq!(status(&key("acme", Role::Manage), Need::Admin), Some(403));
        for need in [Need::Admin, Need::Manage, Need::Invoke] {
            assert_eq!(status(&key("globex", Role::Manage), need), Some(404));
        }
    }
}
