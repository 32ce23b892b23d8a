//! [`LinkSet`]: one client's links, one per backend.

use super::*;

/// One client's links, one per backend.
pub struct LinkSet {
    pub(super) owner_id: u64,
    pub(super) owner: Weak<dyn Owner>,
    pub(super) principal: String,
    pub(super) links: Vec<Arc<Link>>,
    pub(super) pool: Weak<Pool>,
}

impl LinkSet {
    /// Every link, in config order.
    pub fn links(&self) -> &[Arc<Link>] {
        &self.links
    }

    pub fn link(&self, backend: &str) -> Option<&Arc<Link>> {
        self.links.iter().find(|l| l.spec.name == backend)
    }

    /// Links that are up, in config order.
    pub fn up(&self) -> Vec<Arc<Link>> {
        self.links.iter().filter(|l| l.is_up()).cloned().collect()
    }

    /// Wait until every link whose backend is believed up has settled (connected or failed),
    /// each within its `init_timeout`. A backend known to be down is not waited for: it joins
    /// later, and its clients hear `list_changed` then.
    pub async fn ready(&self) {
        // Every request of a stateless caller after its first lands here with every link
        // settled: nothing to wait for, so no pool lookup and no futures to join.
        if !self.links.iter().any(|l| l.is_connecting()) {
            return;
        }
        let pool = self.pool.upgrade();
        let waits = self.links.iter().filter_map(|l| {
            if !l.is_connecting() {
                return None;
            }
            if pool.as_ref().is_some_and(|p| p.known_down(&l.spec.name)) {
                return None;
            }
            let mut settled = l.settled.subscribe();
            let limit = l.spec.init_timeout;
            Some(async move {
                let _ = tokio::time::timeout(limit, settled.wait_for(|s| *s)).await;
            })
        });
        futures::future::join_all(waits).await;
    }

    /// Remember the caller's latest (validated) token: exchanges use the freshest one.
    pub fn set_token(&self, token: Option<String>) {
        if token.is_none() {
            return;
        }
        for l in &self.links {
            // INVARIANT: a link that acts for a caller is never shared across principals
            // (`upstream_sessions = "shared"` is refused with per-caller credentials).
            if l.caller == self.principal {
                *lock(&l.subject) = token.clone();
            }
        }
    }

    /// Forward one client request to `backend`, with `client_key` naming it for cancellation and
    /// `sink` the stream its related messages go to, and return the backend's response (the
    /// client's own id restored). The sink is released when this returns.
    pub async fn forward(
        &self,
        backend: &str,
        client_key: &str,
        msg: Value,
        sink: mpsc::Sender<Value>,
        env: &Envelope,
    ) -> Forwarded {
        let link = self
            .link(backend)
            .cloned()
            .ok_or_else(|| UpstreamError::Unavailable {
                backend: backend.to_owned(),
                reason: "no such backend".into(),
            })?;
        link.forward(self.owner_id, client_key, msg, sink, env)
            .await
    }

    /// Mark `link` down: it failed in a way its connection did not notice.
    pub fn backend_down(&self, link: &Arc<Link>, reason: String) {
        link.down(reason);
    }

    /// The client cancelled the call it named `client_key`: tell the backend handling it, under
    /// its own id. `params` are the client's `notifications/cancelled` params.
    pub async fn cancel(&self, client_key: &str, params: Option<&Map<String, Value>>) {
        let key = (self.owner_id, client_key.to_owned());
        for link in &self.links {
            let (uid, abort) = {
                let routes = lock(&link.routes);
                let Some(uid) = routes.by_client.get(&key).copied() else {
                    continue;
                };
                (uid, routes.calls.get(&uid).and_then(|c| c.abort.clone()))
            };
            if let Some(abort) = abort {
                abort.cancel();
                return;
            }
            let Ok(Via::Session(conn)) = link.via() else {
                return;
            };
            let mut p = params.cloned().unwrap_or_default();
            p.insert("requestId".into(), Value::from(uid));
            let _ = conn
                .send(protocol::notification(
                    "notifications/cancelled",
                    Some(Value::Object(p)),
                ))
                .await;
            return;
        }
    }

    /// The client answered a server-to-client request: send it to the backend that asked.
    pub async fn answer(&self, mut msg: Value) {
        let Some(id) = msg.get("id").map(id_key) else {
            return;
        };
        for link in &self.links {
            let found = lock(&link.routes).server_reqs.remove(&id);
            let Some(upstream_id) = found else { continue };
            if let Some(o) = msg.as_object_mut() {
                o.insert("id".into(), upstream_id);
            }
            if let Ok(Via::Session(conn)) = link.via() {
                if let Err(e) = conn.send(msg).await {
                    tracing::warn!(link = %link.label, error = %e, "could not deliver a response to the backend");
                }
            }
            return;
        }
        tracing::debug!("response to an unknown server request; dropped");
    }

    /// Send a notification to every backend that is up (e.g. the client's roots changed).
    pub async fn broadcast(&self, msg: &Value) {
        for link in &self.links {
            if let Ok(Via::Session(conn)) = link.via() {
                let _ = conn.send(msg.clone()).await;
            }
        }
    }

    /// This client subscribes to `uri` at `backend`. `true`: nobody sharing the link had, so
    /// the subscription must go upstream.
    pub fn subscribe(&self, backend: &str, uri: &str) -> bool {
        let Some(link) = self.link(backend) else {
            return true;
        };
        let mut routes = lock(&link.routes);
        let subs = routes.subs.entry(uri.to_owned()).or_default();
        let first = subs.is_empty();
        subs.insert(self.owner_id);
        first
    }

    /// This client unsubscribes from `uri` at `backend`. `true`: it was the last one, so the
    /// unsubscription must go upstream.
    pub fn unsubscribe(&self, backend: &str, uri: &str) -> bool {
        let Some(link) = self.link(backend) else {
            return true;
        };
        let mut routes = lock(&link.routes);
        let Some(subs) = routes.subs.get_mut(uri) else {
            return true;
        };
        subs.remove(&self.owner_id);
        let last = subs.is_empty();
        if last {
            routes.subs.remove(uri);
        }
        last
    }

    /// Deliver a message to this client on no call, as a backend's message would be.
    pub fn to_owner(&self, msg: Value) {
        if let Some(owner) = self.owner.upgrade() {
            if let Err(m) = owner.send_standalone(msg) {
                owner.queue(m);
            }
        }
    }

    /// The client is gone: leave every link (a link nobody else uses is closed, at once when it
    /// was this client's own, after `upstream_idle_secs` when it could be shared).
    pub async fn close(&self) {
        let mut closing = Vec::new();
        for link in &self.links {
            // One lock at a time: the supervisor takes `routes` then `owners`.
            let nobody_left = {
                let mut owners = lock(&link.owners);
                owners.retain(|a| a.id != self.owner_id);
                owners.is_empty()
            };
            {
                let mut routes = lock(&link.routes);
                routes.by_client.retain(|(o, _), _| *o != self.owner_id);
                for subs in routes.subs.values_mut() {
                    subs.remove(&self.owner_id);
                }
                routes.subs.retain(|_, s| !s.is_empty());
            }
            if !nobody_left {
                continue;
            }
            closing.push(link.clone());
        }
        let pool = self.pool.upgrade();
        let mut now = Vec::new();
        for link in closing {
            match (&link.scope, &pool) {
                (Scope::Session(_), _) | (_, None) => now.push(link),
                (_, Some(pool)) => pool.linger(link),
            }
        }
        futures::future::join_all(now.iter().map(|l| l.close())).await;
    }
}
