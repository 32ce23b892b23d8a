//! 2025-era sessions across replicas (`[cluster]`): any replica serves any session.
//!
//! The choice is **rebuild from Redis**, not forward to the owner. A session is created on one
//! replica and written to the cluster's directory (`cluster::sessions`: owner, the client's
//! `initialize` params, expiry; the caps `session.max_sessions` and
//! `limits.max_sessions_per_principal` are checked there, across all replicas). A request for
//! a session a replica does not hold is served by a local copy it rebuilds from that record
//! ([`Directory::adopt`]): the same id and owner, upstream sessions opened with the same
//! `initialize` params. Forwarding to the creating replica would keep one upstream session per
//! client session, but it cannot survive that replica's death, which is the point.
//!
//! The cost: the first request of a session on each replica that serves it waits for that
//! replica's upstream sessions (none when the backend's upstream sessions are shared per
//! principal and one is already open; a connect and `initialize` per backend otherwise), and
//! each replica keeps its own copy until it idles out. What lived only in the creating
//! replica is not carried over: requests in flight there, server→client requests it was waiting
//! on, a `logging/setLevel` and `resources/subscribe` made through it, and its GET stream (a
//! client that reopens the stream elsewhere gets the notifications of that replica's copy). The
//! client sees at most its in-flight calls fail.
//!
//! Touches: each request pushes the record's expiry, at most once per quarter idle timeout per
//! copy (so not a Redis round trip per request); a touch that finds the record gone (ended or
//! expired elsewhere) ends the local copy. A DELETE ends the record and tells every replica
//! (pub/sub), which close their copies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{CapExceeded, Session, Store};
use crate::audit::{Decision, Kind};
use crate::cluster::sessions::{Opened, Record};
use crate::cluster::{Cluster, ClusterError};
use crate::config::cluster::OnRedisUnavailable;
use crate::identity::Principal;
use crate::limits::LimitExceeded;
use crate::router::Router;

/// Why the directory refused (or could not decide) a session.
#[derive(Debug, Clone)]
pub enum Refused {
    /// `session.max_sessions` across the cluster, or this replica's own total.
    Total(usize),
    /// `limits.max_sessions_per_principal` across the cluster.
    Principal(LimitExceeded),
    /// Redis is unavailable and `on_redis_unavailable = "fail_closed"`.
    Unavailable(String),
}

/// The cluster's side of the session store.
pub struct Directory {
    cluster: Arc<Cluster>,
    ttl: Duration,
    /// When each local copy last pushed its record's expiry.
    touched: Mutex<HashMap<String, Instant>>,
    /// Sessions opened while Redis was unavailable (`local`): known to this replica only, so
    /// their missing record does not mean they ended.
    local_only: Mutex<std::collections::HashSet<String>>,
    /// Adoptions in progress, so concurrent first requests build one copy.
    adopting: tokio::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Directory {
    /// `ttl`: `session.idle_timeout_secs`.
    pub fn new(cluster: Arc<Cluster>, ttl: Duration) -> Directory {
        Directory {
            cluster,
            ttl,
            touched: Mutex::new(HashMap::new()),
            local_only: Mutex::new(std::collections::HashSet::new()),
            adopting: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    /// Write a new session to the directory, if the cluster-wide caps allow it. With
    /// `on_redis_unavailable = "local"` an unreachable Redis leaves the decision to the local
    /// caps already checked (the session is then known to this replica only).
    pub async fn open(
        &self,
        id: &str,
        owner: &Principal,
        init: &Value,
        address: &str,
        max_total: usize,
        max_per: Option<usize>,
    ) -> Result<(), Refused> {
        let record = Record {
            owner: owner.key(),
            init: init.clone(),
            address: address.to_owned(),
            replica: self.cluster.replica().to_owned(),
        };
        match self
            .cluster
            .session_open(id, &record, self.ttl, max_total, max_per)
            .await
        {
            Ok(Opened::Yes) => {
                lock(&self.touched).insert(id.to_owned(), Instant::now());
                Ok(())
            }
            Ok(Opened::TotalCap) => Err(Refused::Total(max_total)),
            Ok(Opened::PrincipalCap { retry_after }) => Err(Refused::Principal(LimitExceeded {
                limit: crate::limits::names::MAX_SESSIONS_PER_PRINCIPAL.to_owned(),
                key: record.owner,
                retry_after,
                rule: format!(
                    "limits.max_sessions_per_principal = {} (across the cluster)",
                    max_per.unwrap_or(0)
                ),
            })),
            Err(e) => self.degrade(id, e.to_string()),
        }
    }

    fn degrade(&self, id: &str, reason: String) -> Result<(), Refused> {
        match self.cluster.mode() {
            OnRedisUnavailable::FailClosed => Err(Refused::Unavailable(reason)),
            OnRedisUnavailable::Local => {
                tracing::warn!(session = %id, %reason, "session opened by this replica alone (redis unavailable); other replicas cannot serve it");
                lock(&self.local_only).insert(id.to_owned());
                Ok(())
            }
        }
    }

    /// The local copy of session `id`, rebuilt from the directory if this replica has none
    /// (see the module docs). `Ok(None)`: no such live session, or not `principal`'s (the
    /// caller answers as for an unknown session, so ids of others are not confirmed).
    #[allow(clippy::too_many_arguments)]
    pub async fn adopt(
        &self,
        store: &Store,
        router: &Arc<Router>,
        max_total: usize,
        id: &str,
        principal: &Principal,
        token: Option<String>,
    ) -> Result<Option<Arc<Session>>, Refused> {
        let gate = {
            let mut a = self.adopting.lock().await;
            a.entry(id.to_owned()).or_default().clone()
        };
        let _one = gate.lock().await;
        let result = self
            .adopt_once(store, router, max_total, id, principal, token)
            .await;
        let mut a = self.adopting.lock().await;
        if Arc::strong_count(&gate) <= 2 {
            a.remove(id);
        }
        result
    }

    async fn adopt_once(
        &self,
        store: &Store,
        router: &Arc<Router>,
        max_total: usize,
        id: &str,
        principal: &Principal,
        token: Option<String>,
    ) -> Result<Option<Arc<Session>>, Refused> {
        // Another request adopted it while this one waited.
        if let Some(s) = store.get(id) {
            return Ok(Some(s));
        }
        let record = match self.cluster.session_get(id).await {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(None),
            Err(e) => {
                return Err(Refused::Unavailable(e.to_string()));
            }
        };
        if record.owner != principal.key() {
            tracing::warn!(session = %id, owner = %record.owner, caller = %principal.key(), "session of another principal named");
            return Ok(None);
        }
        // Counted in the directory already: only this replica's total applies here.
        let reservation = match store.reserve(&record.owner, max_total, |_| Ok(())) {
            Ok(r) => r,
            Err(CapExceeded::Total(n)) => return Err(Refused::Total(n)),
            Err(CapExceeded::Principal(e)) => return Err(Refused::Principal(e)),
        };
        let session = Session::start(
            router.clone(),
            id.to_owned(),
            record.init,
            principal.clone(),
            token,
            record.address,
        )
        .await;
        let mut rec = session.caller().record(Kind::SessionStart, Decision::Info);
        rec.reason = Some(format!(
            "session rebuilt from the cluster's directory (created on replica `{}`)",
            record.replica
        ));
        router.guard.event(rec);
        router.guard.metrics.session_opened();
        tracing::info!(session = %id, created_on = %record.replica, "session adopted from the directory");
        reservation.fill(session.clone());
        lock(&self.touched).insert(id.to_owned(), Instant::now());
        Ok(Some(session))
    }

    /// Push `session`'s expiry in the directory, at most once per quarter idle timeout.
    /// `false`: the directory no longer has it (ended or expired elsewhere): end the copy.
    /// While Redis is unavailable the copy goes on.
    pub async fn touch(&self, session: &Session) -> bool {
        if lock(&self.local_only).contains(&session.id) {
            return true;
        }
        let every = (self.ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(30));
        {
            let mut t = lock(&self.touched);
            let due = t.get(&session.id).is_none_or(|at| at.elapsed() >= every);
            if !due {
                return true;
            }
            t.insert(session.id.clone(), Instant::now());
        }
        self.cluster
            .session_touch(&session.id, &session.owner.key(), self.ttl)
            .await
            .unwrap_or(true)
    }

    /// End session `id` of `owner` across the cluster (every replica closes its copy).
    pub async fn end(&self, id: &str, owner: &str) -> Result<bool, ClusterError> {
        self.forget(id);
        self.cluster.session_end(id, owner).await
    }

    /// Whether the directory has session `id` of `principal` (a DELETE on a replica that holds
    /// no copy).
    pub async fn owns(&self, id: &str, principal: &Principal) -> Result<bool, ClusterError> {
        Ok(self
            .cluster
            .session_get(id)
            .await?
            .is_some_and(|r| r.owner == principal.key()))
    }

    /// Forget a local copy (closed here).
    pub fn forget(&self, id: &str) {
        lock(&self.touched).remove(id);
        lock(&self.local_only).remove(id);
    }
}
