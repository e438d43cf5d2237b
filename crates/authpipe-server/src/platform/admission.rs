//! Per-tenant admission: invocations running at once and invocations per
//! second, each tenant against its own quota, so one tenant at its limits
//! is refused (429) without touching another's.
//!
//! On a cluster (several nodes on one Postgres store) `max_concurrent`
//! holds per node, and each node admits its share of `max_rps`: the quota
//! divided by the live nodes ([`TenantAdmission::set_live_nodes`], from the
//! nodes' heartbeats), so the cluster as a whole admits the quota when the
//! load balancer spreads requests evenly.

use crate::error::ApiError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The invocation quotas of one tenant, resolved against the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvocationQuota {
    /// Invocations running at once.
    pub max_concurrent: u64,
    /// Invocations started per second (`None`: unlimited).
    pub max_rps: Option<u64>,
}

struct Gate {
    quota: InvocationQuota,
    running: Arc<Semaphore>,
    bucket: Mutex<Bucket>,
}

/// A token bucket holding at most one second of the rate.
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl Gate {
    fn new(quota: InvocationQuota) -> Self {
        Self {
            quota,
            running: Arc::new(Semaphore::new(quota.max_concurrent as usize)),
            bucket: Mutex::new(Bucket {
                tokens: quota.max_rps.unwrap_or(0) as f64,
                refilled: Instant::now(),
            }),
        }
    }

    /// Takes one token of this node's share (`max_rps / nodes`).
    fn take_rate_token(&self, nodes: u32) -> bool {
        let Some(rps) = self.quota.max_rps else {
            return true;
        };
        let rate = rps as f64 / f64::from(nodes.max(1));
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate.max(1.0));
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Admission gates by tenant.
pub struct TenantAdmission {
    gates: Mutex<HashMap<String, Arc<Gate>>>,
    /// Nodes sharing the `max_rps` quotas (1 alone).
    live_nodes: AtomicU32,
}

impl Default for TenantAdmission {
    fn default() -> Self {
        Self {
            gates: Mutex::default(),
            live_nodes: AtomicU32::new(1),
        }
    }
}

impl TenantAdmission {
    /// Sets how many nodes share each tenant's `max_rps` (at least 1).
    pub fn set_live_nodes(&self, nodes: u32) {
        self.live_nodes.store(nodes.max(1), Ordering::Relaxed);
    }

    /// The nodes sharing each tenant's `max_rps`.
    pub fn live_nodes(&self) -> u32 {
        self.live_nodes.load(Ordering::Relaxed)
    }

    /// Sets (or changes) `tenant`'s quota. Invocations admitted under an
    /// old quota finish; new ones count against the new one.
    pub fn set_quota(&self, tenant: &str, quota: InvocationQuota) {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        if gates.get(tenant).is_some_and(|gate| gate.quota == quota) {
            return;
        }
        gates.insert(tenant.to_string(), Arc::new(Gate::new(quota)));
    }

    /// Forgets a deleted tenant.
    pub fn remove(&self, tenant: &str) {
        self.gates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(tenant);
    }

    /// A slot for one invocation of `tenant`, held until its sandbox has
    /// stopped; 429 with `Retry-After` when the tenant is at a quota.
    pub fn admit(&self, tenant: &str) -> Result<OwnedSemaphorePermit, ApiError> {
        let gate = self
            .gates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(tenant)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("no tenant {tenant:?}")))?;
        let permit = gate.running.clone().try_acquire_owned().map_err(|_| {
            ApiError::too_many(format!(
                "tenant {tenant:?} has {} invocations running, its max_concurrent quota",
                gate.quota.max_concurrent
            ))
        })?;
        let nodes = self.live_nodes();
        if !gate.take_rate_token(nodes) {
            let share = if nodes > 1 {
                format!(" ({nodes} nodes share it)")
            } else {
                String::new()
            };
            return Err(ApiError::too_many(format!(
                "tenant {tenant:?} is over its max_rps quota of {} invocations per second{share}",
                gate.quota.max_rps.unwrap_or(0)
            )));
        }
        Ok(permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tenant_against_its_own_quota() {
        let admission = TenantAdmission::default();
        let quota = |max_concurrent, max_rps| InvocationQuota {
            max_concurrent,
            max_rps,
        };
        admission.set_quota("busy", quota(2, None));
        admission.set_quota("calm", quota(2, None));
        let first = admission.admit("busy").unwrap();
        let _second = admission.admit("busy").unwrap();
        let refused = admission.admit("busy").unwrap_err();
        assert_eq!(refused.status.as_u16(), 429);
        assert!(
            admission.admit("calm").is_ok(),
            "another tenant is not affected"
        );
        drop(first);
        assert!(admission.admit("busy").is_ok());

        admission.set_quota("limited", quota(100, Some(3)));
        let admitted = (0..10)
            .filter(|_| admission.admit("limited").is_ok())
            .count();
        assert_eq!(admitted, 3);
        assert_eq!(admission.admit("nobody").unwrap_err().status.as_u16(), 404);
    }

    #[test]
    fn live_nodes_share_the_rate() {
        let admission = TenantAdmission::default();
        admission.set_live_nodes(3);
        admission.set_quota(
            "t",
            InvocationQuota {
                max_concurrent: 1000,
                max_rps: Some(30),
            },
        );
        let admitted = (0..100).filter(|_| admission.admit("t").is_ok()).count();
        assert_eq!(admitted, 10, "a third of 30 per second");
        let refused = admission.admit("t").unwrap_err();
        assert!(
            refused.message.contains("3 nodes share it"),
            "{}",
            refused.message
        );
        admission.set_live_nodes(0);
        assert_eq!(admission.live_nodes(), 1, "never fewer than this node");
    }
}
