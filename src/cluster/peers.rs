//! Where replicas reach each other, and which replica holds what only it can continue.
//!
//! Some calls live in one process: a 2025-era backend's call parked while a 2026-07-28 client
//! answers its `input_required` (the upstream request waits in that replica's memory), and a
//! task relayed through one replica's upstream connection. A request that continues one of them
//! and lands on another replica is handed to the holder (`edge::forward`). For that each
//! replica publishes its address here, refreshed with every health ping and expiring soon after
//! a replica dies, and each task id is registered to the replica that relayed its creation.
//!
//! The address is stored sealed (`router::seal`, with the cluster's shared `request_state_key`
//! and its own purpose): whoever can write to Redis but lacks the key cannot send a replica's
//! requests (which carry the caller's bearer token) elsewhere. A task's owner is only a replica
//! id: the holder decides on the request as usual, so a wrong owner only fails a request.

use std::time::Duration;

use super::{Cluster, ClusterError, digest};

/// How long a published address lives without a refresh (the health task refreshes it every
/// few seconds while Redis is up).
const ADDRESS_TTL: Duration = Duration::from_secs(20);

impl Cluster {
    /// Publish `sealed` (this replica's address, sealed by the caller) from now on.
    pub fn advertise(&self, sealed: String) {
        let _ = self.advertised.set(sealed);
    }

    /// Write this replica's address (when it has one) with a fresh expiry.
    pub(super) async fn publish_address(&self) {
        let Some(sealed) = self.advertised.get().cloned() else {
            return;
        };
        let k = self.key(&["replica", &self.replica]);
        let ms = u64::try_from(ADDRESS_TTL.as_millis()).unwrap_or(u64::MAX);
        let mut c = self.conn();
        let r: Result<(), ClusterError> = self
            .exchange(true, async move {
                redis::cmd("SET")
                    .arg(&k)
                    .arg(sealed)
                    .arg("PX")
                    .arg(ms)
                    .query_async(&mut c)
                    .await
            })
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "this replica's address was not published");
        }
    }

    /// The sealed address `replica` last published, if it is live.
    pub async fn peer_address(&self, replica: &str) -> Result<Option<String>, ClusterError> {
        let k = self.key(&["replica", replica]);
        let mut c = self.conn();
        self.exchange(false, async move {
            redis::cmd("GET").arg(&k).query_async(&mut c).await
        })
        .await
    }

    /// Register `task` to this replica for `ttl`. `Ok(None)`: it is this replica's;
    /// `Ok(Some(other))`: another replica registered the same id first (a live binding).
    pub async fn claim_task(
        &self,
        task: &str,
        ttl: Duration,
    ) -> Result<Option<String>, ClusterError> {
        let k = self.key(&["task", &digest(task)]);
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let replica = self.replica.clone();
        let mut c = self.conn();
        // SET NX GET: the previous owner when the id is taken, in one round trip.
        let previous: Option<String> = self
            .exchange(false, async move {
                redis::cmd("SET")
                    .arg(&k)
                    .arg(replica)
                    .arg("NX")
                    .arg("GET")
                    .arg("PX")
                    .arg(ms)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(previous.filter(|owner| owner != &self.replica))
    }

    /// The replica that registered `task`, if the registration is live.
    pub async fn task_owner(&self, task: &str) -> Result<Option<String>, ClusterError> {
        let k = self.key(&["task", &digest(task)]);
        let mut c = self.conn();
        self.exchange(false, async move {
            redis::cmd("GET").arg(&k).query_async(&mut c).await
        })
        .await
    }
}
