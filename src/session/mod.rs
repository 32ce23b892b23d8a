//! 2025-era client sessions: what the `initialize` handshake creates and `Mcp-Session-Id` names.
//!
//! A session is an id, the principal that created it (every later request must be by the same
//! principal; what it may do is decided with the claims of the request at hand, never those of
//! the token that opened the session), the client's `initialize` params, its view of the
//! backends (upstream sessions opened with the client's own params, see `upstream::LinkSet`),
//! and the client's standalone stream (GET) with a bounded queue for when none is open.
//!
//! Routing is not here: the router serves a session's requests from the [`Context`] the session
//! caches, exactly as it serves a request without a session.

pub mod shared;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::audit::{Decision, Kind};
use crate::guard::{Caller, Client};
use crate::identity::Principal;
use crate::protocol;
use crate::router::{Context, Router, View, merge_capabilities};
use crate::upstream::{BackendState, ListChange, Owner, profile_of};

/// Messages queued for a client that has no stream open, at most.
const MAX_QUEUED: usize = 1024;
/// Capacity of the standalone stream's channel.
const STREAM_CAPACITY: usize = 1024;

pub struct Session {
    pub id: String,
    /// Who created the session; every later request must be by the same principal.
    pub owner: Arc<Principal>,
    /// What the client said about itself in `initialize`.
    pub client: Arc<Client>,
    pub view: Arc<View>,
    router: Arc<Router>,
    out: Mutex<ClientOut>,
    last_seen: Mutex<Instant>,
    cancel: CancellationToken,
}

#[derive(Default)]
struct ClientOut {
    get_stream: Option<mpsc::Sender<Value>>,
    queue: VecDeque<Value>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another task panicked while holding it; the state stays usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Session {
    /// Create a session and connect every backend in parallel with the client's `initialize`
    /// params. Backends that fail stay down and are retried in the background.
    pub async fn start(
        router: Arc<Router>,
        id: String,
        init_params: Value,
        principal: Principal,
        token: Option<String>,
        client_address: String,
    ) -> Arc<Session> {
        let requested = init_params.get("protocolVersion").and_then(Value::as_str);
        let protocol_version = protocol::negotiate_version(requested).to_owned();
        let mut client = Client::from_params(&init_params, client_address, protocol_version);
        client.session_id = Some(id.clone());
        let session = Arc::new_cyclic(|me: &Weak<Session>| {
            let owner: Weak<dyn Owner> = me.clone();
            let links = router.pool.attach(
                &router.backends,
                crate::upstream::Client {
                    owner,
                    principal: principal.key(),
                    label: id.clone(),
                    profile: profile_of(&init_params),
                    init_params,
                    token,
                    modern: false,
                },
            );
            Session {
                id,
                owner: Arc::new(principal),
                client: Arc::new(client),
                view: Arc::new(View::new(links)),
                router,
                out: Mutex::new(ClientOut::default()),
                last_seen: Mutex::new(Instant::now()),
                cancel: CancellationToken::new(),
            }
        });
        // Backends believed up get their `init_timeout` to connect; one known to be down does
        // not delay the session: it joins later, and the client hears `list_changed` then.
        session.view.links.ready().await;
        session.spawn_refresher();
        session
    }

    /// The context of a request in this session made by `principal` (the request's own,
    /// already checked to be the owner).
    pub fn context(&self, principal: Arc<Principal>) -> Context {
        Context {
            principal,
            client: self.client.clone(),
            view: self.view.clone(),
        }
    }

    /// Audit records about the session itself are by its owner.
    pub fn caller(&self) -> Caller<'_> {
        Caller {
            principal: &self.owner,
            client: &self.client,
        }
    }

    /// Re-read and re-review the catalogs every `integrity.refresh_secs`, so drift a backend
    /// does not announce is still caught; the client hears `list_changed` when what it may use
    /// changed.
    fn spawn_refresher(self: &Arc<Self>) {
        let every = self.router.integrity.refresh_every();
        if every.is_zero() {
            return;
        }
        let weak = Arc::downgrade(self);
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
                let Some(s) = weak.upgrade() else { return };
                let cx = s.context(s.owner.clone());
                for n in s.router.refresh_catalogs(&cx).await {
                    s.notify(n);
                }
            }
        });
    }

    /// Approvals changed (the lockfile was reloaded): review again and tell the client.
    pub fn approvals_changed(&self) {
        self.view.lists.clear();
        for n in self.router.list_notifications(None) {
            self.notify(n);
        }
    }

    pub fn touch(&self) {
        *lock(&self.last_seen) = Instant::now();
    }

    pub fn idle_for(&self) -> Duration {
        lock(&self.last_seen).elapsed()
    }

    /// End the session: close every upstream session and the client's stream.
    pub async fn close(&self) {
        self.cancel.cancel();
        self.view.links.close().await;
        let mut out = lock(&self.out);
        out.get_stream = None;
        out.queue.clear();
    }

    /// The merged `initialize` result for the client.
    pub fn initialize_result(&self) -> Value {
        let mut caps_seen = Vec::new();
        let mut instructions = Vec::new();
        for link in self.view.links.links() {
            let init = link.init();
            let caps = init
                .as_ref()
                .and_then(|i| i.get("capabilities").cloned())
                .or_else(|| self.router.known_capabilities(link.name()));
            if let Some(c) = caps {
                caps_seen.push(c);
            }
            // Only instructions that pass integrity review (pinned, scanned) reach the client.
            if let Some(text) = init
                .as_ref()
                .and_then(|i| self.router.instructions_of(link.name(), i))
            {
                instructions.push(format!("[{}] {}", link.name(), text));
            }
        }
        let mut result = json!({
            "protocolVersion": self.client.protocol_version,
            "capabilities": merge_capabilities(&caps_seen),
            "serverInfo": { "name": "portcullis", "version": env!("CARGO_PKG_VERSION") },
        });
        if !instructions.is_empty() {
            if let Some(o) = result.as_object_mut() {
                o.insert(
                    "instructions".into(),
                    Value::String(instructions.join("\n\n")),
                );
            }
        }
        result
    }

    /// Open the standalone (GET) stream; replaces an earlier one and flushes queued messages.
    pub fn open_get_stream(&self) -> mpsc::Receiver<Value> {
        let (tx, rx) = mpsc::channel(STREAM_CAPACITY);
        let mut out = lock(&self.out);
        while let Some(m) = out.queue.pop_front() {
            if tx.try_send(m).is_err() {
                break;
            }
        }
        out.get_stream = Some(tx);
        rx
    }

    /// A message for the client on no call: the standalone stream, else the queue.
    fn notify(&self, msg: Value) {
        if let Err(m) = self.send_standalone(msg) {
            self.queue(m);
        }
    }
}

impl Owner for Session {
    fn send_standalone(&self, msg: Value) -> Result<(), Value> {
        let mut out = lock(&self.out);
        let Some(tx) = &out.get_stream else {
            return Err(msg);
        };
        match tx.try_send(msg) {
            Ok(()) => Ok(()),
            Err(e) => {
                out.get_stream = None;
                Err(e.into_inner())
            }
        }
    }

    fn queue(&self, msg: Value) {
        let mut out = lock(&self.out);
        if out.queue.len() >= MAX_QUEUED {
            tracing::warn!(session = %self.id, "client queue full; dropping oldest message");
            out.queue.pop_front();
        }
        out.queue.push_back(msg);
    }

    fn list_changed(&self, _backend: &str, list: ListChange) {
        self.view.list_changed(list);
    }

    fn backend_state(&self, backend: &str, state: BackendState<'_>) {
        let metrics = &self.router.guard.metrics;
        let mut rec = match state {
            BackendState::Up => {
                metrics.set_backend_up(backend, true);
                self.caller().record(Kind::BackendUp, Decision::Info)
            }
            BackendState::Down { reason } => {
                metrics.set_backend_up(backend, false);
                let mut rec = self.caller().record(Kind::BackendDown, Decision::Info);
                rec.reason = Some(reason.to_owned());
                rec
            }
        };
        rec.backend = Some(backend.to_owned());
        self.router.guard.event(rec);
        // Its lists may have changed: drop what is cached and tell the client.
        self.view.lists.clear();
        for n in self.router.list_notifications(Some(backend)) {
            self.notify(n);
        }
    }
}

/// Why a new session was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapExceeded {
    /// `session.max_sessions` live sessions (or being started) already.
    Total(usize),
    /// The principal's own cap (`limits.max_sessions_per_principal`).
    Principal(crate::limits::LimitExceeded),
}

#[derive(Default)]
struct Sessions {
    map: HashMap<String, Arc<Session>>,
    /// Sessions being started, per principal: counted against the caps until they are in `map`.
    starting: HashMap<String, usize>,
}

impl Sessions {
    fn count_for(&self, principal_key: &str) -> usize {
        self.map
            .values()
            .filter(|s| s.owner.key() == principal_key)
            .count()
            + self.starting.get(principal_key).copied().unwrap_or(0)
    }

    fn total(&self) -> usize {
        self.map.len() + self.starting.values().sum::<usize>()
    }

    fn release(&mut self, principal_key: &str) {
        if let Some(n) = self.starting.get_mut(principal_key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.starting.remove(principal_key);
            }
        }
    }
}

/// All live sessions, with expiry.
#[derive(Default)]
pub struct Store {
    inner: RwLock<Sessions>,
}

/// A place for one session, held while it starts: the caps count it from [`Store::reserve`] on,
/// so concurrent `initialize` requests cannot all pass a check made before any of them lands.
pub struct Reservation<'a> {
    store: &'a Store,
    principal_key: String,
    filled: bool,
}

impl Reservation<'_> {
    /// The session started: it takes the reserved place.
    pub fn fill(mut self, session: Arc<Session>) {
        if let Ok(mut s) = self.store.inner.write() {
            s.release(&self.principal_key);
            s.map.insert(session.id.clone(), session);
        }
        self.filled = true;
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.filled {
            if let Ok(mut s) = self.store.inner.write() {
                s.release(&self.principal_key);
            }
        }
    }
}

impl Store {
    /// Reserve a place for a new session of `principal_key`, atomically with the caps: at most
    /// `max_total` sessions in all, and what `per_principal` allows given how many the principal
    /// has (live or starting).
    pub fn reserve(
        &self,
        principal_key: &str,
        max_total: usize,
        per_principal: impl FnOnce(usize) -> Result<(), crate::limits::LimitExceeded>,
    ) -> Result<Reservation<'_>, CapExceeded> {
        let Ok(mut s) = self.inner.write() else {
            return Err(CapExceeded::Total(max_total));
        };
        if s.total() >= max_total {
            return Err(CapExceeded::Total(max_total));
        }
        per_principal(s.count_for(principal_key)).map_err(CapExceeded::Principal)?;
        *s.starting.entry(principal_key.to_owned()).or_insert(0) += 1;
        Ok(Reservation {
            store: self,
            principal_key: principal_key.to_owned(),
            filled: false,
        })
    }

    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.inner.read().ok()?.map.get(id).cloned()
    }

    pub fn remove(&self, id: &str) -> Option<Arc<Session>> {
        self.inner.write().ok()?.map.remove(id)
    }

    pub fn len(&self) -> usize {
        self.inner.read().map(|s| s.map.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every live session.
    pub fn all(&self) -> Vec<Arc<Session>> {
        self.inner
            .read()
            .map(|s| s.map.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Remove and return sessions idle longer than `max_idle`.
    pub fn expire(&self, max_idle: Duration) -> Vec<Arc<Session>> {
        let Ok(mut s) = self.inner.write() else {
            return Vec::new();
        };
        let old: Vec<String> = s
            .map
            .iter()
            .filter(|(_, s)| s.idle_for() > max_idle)
            .map(|(k, _)| k.clone())
            .collect();
        old.iter().filter_map(|k| s.map.remove(k)).collect()
    }

    pub fn drain(&self) -> Vec<Arc<Session>> {
        self.inner
            .write()
            .map(|mut s| s.map.drain().map(|(_, s)| s).collect())
            .unwrap_or_default()
    }
}

/// A fresh, unguessable session id: 128 random bits from the OS CSPRNG, hex-encoded. It encodes
/// nothing about backends or upstream sessions.
pub fn new_session_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    // ThreadRng is a CSPRNG (ChaCha12) seeded and periodically reseeded from the OS.
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
