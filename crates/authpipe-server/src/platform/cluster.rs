//! Several nodes on one Postgres store.
//!
//! Every change a node makes is committed with a notification
//! (`pg_notify`, delivered on commit, so atomically with the change); each
//! node listens and rebuilds the tenant named in it, so a change made
//! through any node is served by all of them within a second. A
//! notification sent while a node's listener reconnects is lost, so every
//! node also rebuilds all tenants every [`RESYNC`]. Nodes heartbeat into the
//! store every [`HEARTBEAT`]; the nodes seen within [`NODE_TIMEOUT`] share
//! each tenant's `max_rps` (see `admission`).

use super::Platform;
use authpipe_store::{Store, now_ms};
use std::sync::Arc;
use std::time::Duration;

/// How often a node writes its heartbeat and counts the live nodes.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A node not seen for this long no longer counts as live.
pub const NODE_TIMEOUT: Duration = Duration::from_secs(6);
/// How often every tenant is rebuilt from the store regardless of
/// notifications.
pub const RESYNC: Duration = Duration::from_secs(10);

/// Starts following the other nodes when the store is shared (Postgres);
/// does nothing for SQLite (one node).
pub fn follow(platform: &Arc<Platform>) {
    if !platform.store.is_postgres() {
        return;
    }
    tokio::spawn(listen(platform.clone()));
    tokio::spawn(heartbeat(platform.clone()));
    tokio::spawn(resync(platform.clone()));
}

/// Applies each notified change; after a lost connection, resubscribes and
/// rebuilds everything (changes may have been missed meanwhile).
async fn listen(platform: Arc<Platform>) {
    loop {
        match platform.store.changes().await {
            Ok(None) => return,
            Ok(Some(mut feed)) => {
                // Subscribed: whatever changed before is picked up here.
                platform.resync_all().await;
                loop {
                    match feed.next().await {
                        Ok(tenant) => {
                            if let Err(e) = platform.sync_tenant(&tenant).await {
                                tracing::warn!(tenant, error = %format!("{e:#}"), "cannot apply a change made on another node; the next resync retries");
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "lost the store's change notifications; resubscribing");
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot subscribe to the store's change notifications; retrying");
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn heartbeat(platform: Arc<Platform>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    loop {
        tick.tick().await;
        let now = now_ms();
        let node = &platform.settings.node_id;
        if let Err(e) = platform.store.heartbeat(node, now).await {
            tracing::warn!(error = %e, "cannot write this node's heartbeat");
            continue;
        }
        match platform
            .store
            .live_nodes(now - NODE_TIMEOUT.as_millis() as i64)
            .await
        {
            Ok(nodes) => platform.admission.set_live_nodes(nodes),
            Err(e) => tracing::warn!(error = %e, "cannot count the live nodes"),
        }
    }
}

async fn resync(platform: Arc<Platform>) {
    let mut tick = tokio::time::interval(RESYNC);
    tick.tick().await;
    loop {
        tick.tick().await;
        platform.resync_all().await;
    }
}
