//! [`Pool`]: every link of the gateway, handed out by backend and scope.

use super::*;

/// Every link of the gateway, by backend and scope.
pub struct Pool {
    pub(super) hooks: Weak<dyn Hooks>,
    /// By backend, scope, and whether the clients speak 2026-07-28.
    pub(super) links: Mutex<HashMap<(String, Scope, bool), Weak<Link>>>,
    /// Links no client uses, kept until they expire.
    pub(super) idle: Mutex<Vec<(Instant, Arc<Link>)>>,
    pub(super) linger_for: Duration,
    /// Each backend's last connection outcome (`false`: down).
    pub(super) health: Mutex<HashMap<String, bool>>,
    /// What each backend was found to speak.
    pub(super) eras: Mutex<HashMap<String, Eras>>,
}

impl Pool {
    pub fn new(hooks: Weak<dyn Hooks>, linger_for: Duration) -> Arc<Pool> {
        Arc::new(Pool {
            hooks,
            links: Mutex::new(HashMap::new()),
            idle: Mutex::new(Vec::new()),
            linger_for,
            health: Mutex::new(HashMap::new()),
            eras: Mutex::new(HashMap::new()),
        })
    }

    /// Record which eras a backend speaks (the start-up probe, or a link's own).
    pub fn note_eras(&self, backend: &str, eras: Eras) {
        lock(&self.eras).insert(backend.to_owned(), eras);
    }

    pub(super) fn eras(&self, backend: &str) -> Option<Eras> {
        lock(&self.eras).get(backend).copied()
    }

    /// Record a backend's latest connection outcome (the start-up probe, every link).
    pub fn note_health(&self, backend: &str, up: bool) {
        lock(&self.health).insert(backend.to_owned(), up);
    }

    pub(super) fn known_down(&self, backend: &str) -> bool {
        lock(&self.health).get(backend) == Some(&false)
    }

    /// The links of `client` to `backends`: each shared link the client may use, or a new one
    /// (connecting in the background; see [`LinkSet::ready`]).
    pub fn attach(self: &Arc<Self>, backends: &[Arc<BackendSpec>], client: Client) -> LinkSet {
        let owner_id = NEXT_OWNER.fetch_add(1, Ordering::Relaxed);
        let mut links = Vec::with_capacity(backends.len());
        for spec in backends {
            let scope = match spec.sharing {
                UpstreamSharing::PerSession => Scope::Session(client.label.clone()),
                UpstreamSharing::PerPrincipal => Scope::Principal {
                    principal: client.principal.clone(),
                    profile: client.profile.clone(),
                },
                UpstreamSharing::Shared => Scope::Shared {
                    profile: client.profile.clone(),
                },
            };
            let key = (spec.name.clone(), scope.clone(), client.modern);
            let mut map = lock(&self.links);
            let link = match map.get(&key).and_then(Weak::upgrade) {
                Some(l) if !matches!(l.state.read().as_deref(), Ok(LinkState::Closed)) => l,
                _ => {
                    let label = match &scope {
                        Scope::Session(s) => format!("{} for session {s}", spec.name),
                        Scope::Principal { principal, .. } => {
                            format!("{} for {principal}", spec.name)
                        }
                        Scope::Shared { .. } => format!("{} (shared)", spec.name),
                    };
                    let (settled, _) = watch::channel(false);
                    let l = Arc::new(Link {
                        spec: spec.clone(),
                        scope,
                        client_modern: client.modern,
                        caps: client
                            .init_params
                            .get("capabilities")
                            .cloned()
                            .unwrap_or_else(|| json!({})),
                        next_uid: AtomicU64::new(1),
                        listen_changed: Arc::new(tokio::sync::Notify::new()),
                        listen_wanted: AtomicU64::new(0),
                        listen_acked: watch::channel(0).0,
                        state: RwLock::new(LinkState::Connecting),
                        settled,
                        offered: Mutex::new(HashMap::new()),
                        tool_params: Mutex::new(HashMap::new()),
                        routes: Mutex::new(Routes::default()),
                        owners: Mutex::new(Vec::new()),
                        init_params: client.init_params.clone(),
                        caller: client.principal.clone(),
                        subject: Arc::new(Mutex::new(client.token.clone())),
                        hooks: self.hooks.clone(),
                        pool: Arc::downgrade(self),
                        next_token: AtomicU64::new(1),
                        cancel: CancellationToken::new(),
                        label,
                    });
                    map.insert(key, Arc::downgrade(&l));
                    l.spawn_first_connect();
                    l
                }
            };
            drop(map);
            lock(&link.owners).push(Attached {
                id: owner_id,
                owner: client.owner.clone(),
                principal: client.principal.clone(),
            });
            links.push(link);
        }
        // Links nobody held any more.
        lock(&self.links).retain(|_, w| w.strong_count() > 0);
        LinkSet {
            owner_id,
            owner: client.owner,
            principal: client.principal,
            links,
            pool: Arc::downgrade(self),
        }
    }

    /// Keep an unused shared link for the next client, then close it if none came.
    pub(super) fn linger(self: &Arc<Self>, link: Arc<Link>) {
        let expires = Instant::now() + self.linger_for;
        {
            // The latest departure counts: an earlier entry of the same link goes.
            let mut idle = lock(&self.idle);
            idle.retain(|(_, l)| !Arc::ptr_eq(l, &link));
            idle.push((expires, link));
        }
        let pool = Arc::downgrade(self);
        let wait = self.linger_for;
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            if let Some(pool) = pool.upgrade() {
                pool.expire_idle().await;
            }
        });
    }

    /// Close the idle links whose time is up and that no client took back.
    pub(super) async fn expire_idle(&self) {
        let now = Instant::now();
        let expired: Vec<Arc<Link>> = {
            let mut idle = lock(&self.idle);
            let (gone, keep): (Vec<_>, Vec<_>) = idle.drain(..).partition(|(at, l)| {
                *at <= now && lock(&l.owners).iter().all(|a| a.owner.strong_count() == 0)
            });
            // A link taken back by a client leaves the idle list.
            *idle = keep
                .into_iter()
                .filter(|(_, l)| lock(&l.owners).iter().all(|a| a.owner.strong_count() == 0))
                .collect();
            gone.into_iter().map(|(_, l)| l).collect()
        };
        for l in &expired {
            tracing::debug!(link = %l.label, "closing an upstream session no client used");
        }
        futures::future::join_all(expired.iter().map(|l| l.close())).await;
    }

    /// Close every link (shutdown).
    pub async fn close_all(&self) {
        let links: Vec<Arc<Link>> = lock(&self.links)
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        lock(&self.idle).clear();
        futures::future::join_all(links.iter().map(|l| l.close())).await;
    }

    /// How many links are open (for figures and tests).
    pub fn open_links(&self) -> usize {
        lock(&self.links)
            .values()
            .filter(|w| w.strong_count() > 0)
            .count()
    }
}
