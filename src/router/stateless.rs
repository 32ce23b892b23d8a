//! Callers without a session (MCP 2026-07-28): every request brings its own context — its
//! token, its version, its declared capabilities — and the router serves it with no session
//! object at all.
//!
//! What such a caller sees of the backends is still a [`View`]: one per principal and client
//! profile (version and capabilities), shared by that principal's requests and kept while it is
//! used, so lists are merged once and a 2025-era backend's upstream session (or stdio child) is
//! reused across requests — the same rule, and the same links, as for 2025-era sessions of that
//! principal (`upstream::Pool`). A stateless caller has no standalone stream: what a backend
//! sends on no call reaches it only through `subscriptions/listen` streams (`listen.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Context, Router, View, lock};
use crate::guard::Client;
use crate::identity::Principal;
use crate::protocol;
use crate::upstream::{BackendState, ListChange, Owner, profile_of};

/// Distinct client profiles remembered at most; past it the memory starts over (a client
/// that declares new capabilities on every request costs what it did before the cache).
const PROFILES_MAX: usize = 64;

/// A stateless caller's key: its principal (`iss|sub`) and its client profile.
type CallerKey = (String, Arc<str>);

/// The views of stateless callers, by principal and profile.
#[derive(Default)]
pub struct Stateless {
    callers: Mutex<HashMap<CallerKey, Arc<Caller>>>,
    /// Declared capabilities → their profile ([`profile_of`]: keys sorted, serialised). Every
    /// request declares its capabilities, and nearly all declare the same few: the profile is
    /// found by comparing values instead of cloning, sorting and serialising them each time.
    profiles: Mutex<Vec<(Value, Arc<str>)>>,
}

/// One principal with one client profile, as the backends see it.
pub struct Caller {
    pub view: Arc<View>,
    router: Weak<Router>,
    last_used: Mutex<Instant>,
}

impl Stateless {
    /// Drop the callers idle for longer than `max_idle` with no listen stream open, closing their
    /// links (a shared one lingers for the next client).
    pub async fn expire(&self, max_idle: Duration) {
        let gone: Vec<Arc<Caller>> = {
            let mut callers = lock(&self.callers);
            let old: Vec<CallerKey> = callers
                .iter()
                .filter(|(_, c)| c.idle_for() > max_idle && !c.view.listening())
                .map(|(k, _)| k.clone())
                .collect();
            old.iter().filter_map(|k| callers.remove(k)).collect()
        };
        for c in gone {
            c.view.links.close().await;
        }
    }

    /// Close every caller's links (shutdown).
    pub async fn close_all(&self) {
        let all: Vec<Arc<Caller>> = lock(&self.callers).drain().map(|(_, c)| c).collect();
        for c in all {
            c.view.end_listens();
            c.view.links.close().await;
        }
    }

    pub fn len(&self) -> usize {
        lock(&self.callers).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The profile of a caller declaring `capabilities` (an object; anything else declares
    /// nothing).
    fn profile(&self, capabilities: &Value) -> Arc<str> {
        let empty;
        let caps = if capabilities.is_object() {
            capabilities
        } else {
            empty = json!({});
            &empty
        };
        let mut profiles = lock(&self.profiles);
        // INVARIANT: `Value` equality ignores the order of object keys, as `profile_of` does.
        if let Some((_, p)) = profiles.iter().find(|(c, _)| c == caps) {
            return p.clone();
        }
        let profile: Arc<str> = profile_of(&init_params(caps)).into();
        if profiles.len() >= PROFILES_MAX {
            profiles.clear();
        }
        profiles.push((caps.clone(), profile.clone()));
        profile
    }
}

/// What an upstream 2025-era session opened for a stateless caller is initialised with: our
/// newest 2025 revision with the caller's capabilities; `initialize` carries nothing else of
/// the client.
fn init_params(capabilities: &Value) -> Value {
    json!({
        "protocolVersion": protocol::LATEST_VERSION,
        "capabilities": capabilities,
        "clientInfo": { "name": "portcullis", "version": env!("CARGO_PKG_VERSION") },
    })
}

impl Caller {
    fn idle_for(&self) -> Duration {
        lock(&self.last_used).elapsed()
    }
}

impl Router {
    /// The context of a stateless request by `principal` (its own token's), from a client that
    /// describes itself as `client`.
    pub async fn stateless_context(
        self: &Arc<Self>,
        principal: Principal,
        token: Option<String>,
        client: Client,
    ) -> Context {
        let key = (
            principal.key(),
            self.stateless.profile(&client.capabilities),
        );
        let existing = lock(&self.stateless.callers).get(&key).cloned();
        let caller = match existing {
            Some(c) => c,
            None => {
                let empty = json!({});
                let init_params = init_params(if client.capabilities.is_object() {
                    &client.capabilities
                } else {
                    &empty
                });
                let router = Arc::downgrade(self);
                let caller = Arc::new_cyclic(|me: &Weak<Caller>| {
                    let owner: Weak<dyn Owner> = me.clone();
                    let links = self.pool.attach(
                        &self.backends,
                        crate::upstream::Client {
                            owner,
                            principal: principal.key(),
                            label: format!("stateless {}", principal.key()),
                            profile: key.1.to_string(),
                            init_params,
                            token: token.clone(),
                            modern: true,
                        },
                    );
                    Caller {
                        view: Arc::new(View::new(links)),
                        router,
                        last_used: Mutex::new(Instant::now()),
                    }
                });
                // Two first requests may race: the first one stored wins, the other's links go.
                let (kept, spare) = {
                    let mut callers = lock(&self.stateless.callers);
                    match callers.get(&key) {
                        Some(c) => (c.clone(), Some(caller)),
                        None => {
                            callers.insert(key, caller.clone());
                            (caller, None)
                        }
                    }
                };
                if let Some(spare) = spare {
                    spare.view.links.close().await;
                }
                kept
            }
        };
        *lock(&caller.last_used) = Instant::now();
        caller.view.links.set_token(token);
        caller.view.links.ready().await;
        Context {
            principal: Arc::new(principal),
            client: Arc::new(client),
            view: caller.view.clone(),
        }
    }
}

impl Owner for Caller {
    fn send_standalone(&self, msg: Value) -> Result<(), Value> {
        // No standalone stream: listen streams take what they asked for.
        if self.view.to_listens(&msg) {
            Ok(())
        } else {
            Err(msg)
        }
    }

    fn queue(&self, msg: Value) {
        tracing::debug!(
            method = protocol::method(&msg).unwrap_or("-"),
            "a backend message for a stateless caller with no listen stream wanting it; dropped"
        );
    }

    fn list_changed(&self, _backend: &str, list: ListChange) {
        self.view.list_changed(list);
    }

    fn backend_state(&self, backend: &str, state: BackendState<'_>) {
        let Some(router) = self.router.upgrade() else {
            return;
        };
        router
            .guard
            .metrics
            .set_backend_up(backend, matches!(state, BackendState::Up));
        self.view.lists.clear();
        for n in router.list_notifications(Some(backend)) {
            self.view.to_listens(&n);
        }
    }
}
