//! One client's upstream sessions: a [`Link`] per backend, kept up (reconnected with backoff when
//! it drops), and the maps that route each backend's own messages back to the right place.
//!
//! A [`LinkSet`] is what a client is connected to. It forwards the client's calls (upstream ids
//! are each connection's own counter, so client ids never collide upstream; progress tokens are
//! rewritten to gateway tokens), and it routes what a backend sends on its own:
//! - a message related to a call in flight (HTTP tells us which; progress names its token) goes
//!   to that call's stream;
//! - a server-to-client request (sampling, elicitation, roots) gets a client-facing id and goes to
//!   its call's stream, or for stdio (no relation) to the backend's newest call in flight;
//! - everything else goes to the set's [`Owner`]: the client's standalone stream, or a queue.
//!
//! The set knows nothing of sessions or the router: its owner and the gateway-wide [`Hooks`]
//! are traits, so the same set serves a 2025-era session or callers without one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{BackendSpec, Conn, Inbound, UpstreamError};
use crate::credentials::Binding;
use crate::protocol::{self, id_key};

/// What a set tells whoever owns it (a client session).
pub trait Owner: Send + Sync {
    /// A message that rides on no call (a list change, an unrelated log message). `Err` gives it
    /// back when the client has no standalone stream open.
    fn send_standalone(&self, msg: Value) -> Result<(), Value>;
    /// Keep `msg` for the client's next standalone stream (bounded; oldest dropped first).
    fn queue(&self, msg: Value);
    /// A backend announced that one of its lists changed (the notification itself follows).
    fn list_changed(&self, backend: &str, list: ListChange);
    /// A backend of this set came up (again) or went down.
    fn backend_state(&self, backend: &str, state: BackendState<'_>);
}

/// Gateway-wide callbacks, the same for every set.
pub trait Hooks: Send + Sync {
    /// Checked before a backend is started (the pins of what a stdio backend runs).
    fn before_start(&self, spec: &BackendSpec) -> Result<(), UpstreamError>;
    /// A backend answered `initialize` (its capabilities are worth remembering while it is down).
    fn connected(&self, backend: &str, init: &Value);
    /// A forwarded call ended (`name`: the tool, prompt or URI it was for).
    fn call_done(
        &self,
        backend: &str,
        name: Option<&str>,
        elapsed: Duration,
        error: Option<&UpstreamError>,
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListChange {
    Tools,
    Prompts,
    Resources,
}

#[derive(Debug, Clone, Copy)]
pub enum BackendState<'a> {
    Up,
    Down { reason: &'a str },
}

/// One backend within one set.
pub struct Link {
    pub spec: Arc<BackendSpec>,
    state: RwLock<LinkState>,
    /// What the backend last listed, by list field (`tools`, `prompts`): while it is down, a call
    /// to one of its names gets its error (naming it) instead of "unknown tool".
    offered: Mutex<HashMap<&'static str, Arc<Vec<Value>>>>,
}

#[derive(Clone)]
enum LinkState {
    Connecting,
    Up { conn: Arc<Conn>, init: Value },
    Down { reason: String },
    Closed,
}

impl Link {
    fn new(spec: Arc<BackendSpec>) -> Link {
        Link {
            spec,
            state: RwLock::new(LinkState::Connecting),
            offered: Mutex::new(HashMap::new()),
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The connection, or why there is none.
    pub fn conn(&self) -> Result<Arc<Conn>, UpstreamError> {
        let unavailable = |reason: String| UpstreamError::Unavailable {
            backend: self.spec.name.clone(),
            reason,
        };
        match self.state.read().map(|s| s.clone()) {
            Ok(LinkState::Up { conn, .. }) => Ok(conn),
            Ok(LinkState::Down { reason }) => Err(unavailable(reason)),
            Ok(LinkState::Connecting) => Err(unavailable("it is still connecting".into())),
            Ok(LinkState::Closed) | Err(_) => Err(unavailable("the session is closed".into())),
        }
    }

    /// The backend's `initialize` result while it is up.
    pub fn init(&self) -> Option<Value> {
        match self.state.read().ok()?.clone() {
            LinkState::Up { init, .. } => Some(init),
            _ => None,
        }
    }

    /// Whether the backend announced capability `cap` (`tools`, `resources`, `logging`, …).
    pub fn offers(&self, cap: &str) -> bool {
        self.init()
            .is_some_and(|i| i.get("capabilities").and_then(|c| c.get(cap)).is_some())
    }

    fn set(&self, s: LinkState) {
        if let Ok(mut g) = self.state.write() {
            if !matches!(*g, LinkState::Closed) {
                *g = s;
            }
        }
    }

    pub fn is_up(&self) -> bool {
        matches!(
            self.state.read().map(|s| s.clone()),
            Ok(LinkState::Up { .. })
        )
    }

    /// Remember what the backend listed under `field`.
    pub fn set_offered(&self, field: &'static str, items: Arc<Vec<Value>>) {
        lock(&self.offered).insert(field, items);
    }

    /// What the backend last listed under `field`.
    pub fn offered(&self, field: &str) -> Option<Arc<Vec<Value>>> {
        lock(&self.offered).get(field).cloned()
    }
}

/// A call in flight, by (backend, upstream id).
struct InFlight {
    /// The call's stream: messages the backend relates to the call go there.
    sink: mpsc::Sender<Value>,
}

#[derive(Default)]
struct Routes {
    calls: HashMap<(String, u64), InFlight>,
    /// Client key of a call → (backend, upstream id), for cancellation.
    by_client: HashMap<String, (String, u64)>,
    /// Gateway progress token → (client token, backend, upstream id).
    progress: HashMap<String, (Value, String, u64)>,
    /// Client-facing id of a server-to-client request → (backend, upstream id).
    server_reqs: HashMap<String, (String, Value)>,
}

pub struct LinkSet {
    links: Vec<Arc<Link>>,
    /// The client's `initialize` params, forwarded untouched to each backend.
    init_params: Value,
    /// Who the set acts for (credentials are per caller), and the caller's latest token.
    caller: String,
    subject: Arc<Mutex<Option<String>>>,
    owner: Weak<dyn Owner>,
    hooks: Arc<dyn Hooks>,
    routes: Mutex<Routes>,
    next_server_req: AtomicU64,
    next_token: AtomicU64,
    cancel: CancellationToken,
    /// For logs: whose set this is (a session id).
    label: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another task panicked while holding it; the maps stay usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What the caller of [`LinkSet::forward`] gets when the backend cannot be reached or fails.
pub type Forwarded = Result<Value, UpstreamError>;

impl LinkSet {
    /// A set of links (not yet connected: see [`LinkSet::connect_all`]).
    pub fn new(
        backends: &[Arc<BackendSpec>],
        init_params: Value,
        caller: String,
        token: Option<String>,
        owner: Weak<dyn Owner>,
        hooks: Arc<dyn Hooks>,
        label: String,
    ) -> Arc<LinkSet> {
        Arc::new(LinkSet {
            links: backends
                .iter()
                .map(|s| Arc::new(Link::new(s.clone())))
                .collect(),
            init_params,
            caller,
            subject: Arc::new(Mutex::new(token)),
            owner,
            hooks,
            routes: Mutex::new(Routes::default()),
            next_server_req: AtomicU64::new(1),
            next_token: AtomicU64::new(1),
            cancel: CancellationToken::new(),
            label,
        })
    }

    /// Connect every backend in parallel. A backend that fails is marked down and retried in
    /// the background with backoff.
    pub async fn connect_all(self: &Arc<Self>) {
        let connects = self.links.iter().map(|link| {
            let set = self.clone();
            let link = link.clone();
            async move {
                if let Err(e) = set.connect(&link).await {
                    tracing::warn!(session = %set.label, error = %e, "backend not connected; will retry");
                    link.set(LinkState::Down {
                        reason: e.to_string(),
                    });
                    set.spawn_recovery(link);
                }
            }
        });
        futures::future::join_all(connects).await;
    }

    /// Every link, in config order.
    pub fn links(&self) -> &[Arc<Link>] {
        &self.links
    }

    pub fn link(&self, backend: &str) -> Option<&Arc<Link>> {
        self.links.iter().find(|l| l.spec.name == backend)
    }

    /// Links that are up, in config order, with their connections.
    pub fn up(&self) -> Vec<(Arc<Link>, Arc<Conn>)> {
        self.links
            .iter()
            .filter_map(|l| l.conn().ok().map(|c| (l.clone(), c)))
            .collect()
    }

    /// Remember the caller's latest (validated) token: exchanges use the freshest one.
    pub fn set_token(&self, token: Option<String>) {
        if token.is_some() {
            *lock(&self.subject) = token;
        }
    }

    async fn connect(self: &Arc<Self>, link: &Arc<Link>) -> Result<(), UpstreamError> {
        self.hooks.before_start(&link.spec)?;
        let (tx, rx) = mpsc::channel(256);
        let binding = Binding {
            source: link.spec.credentials.clone(),
            caller: self.caller.clone(),
            subject: self.subject.clone(),
        };
        let (conn, init) = Conn::connect(
            link.spec.clone(),
            self.init_params.clone(),
            tx,
            Some(binding),
        )
        .await?;
        self.hooks.connected(&link.spec.name, &init);
        link.set(LinkState::Up {
            conn: conn.clone(),
            init,
        });
        if self.cancel.is_cancelled() {
            conn.close().await;
            return Ok(());
        }
        self.spawn_supervisor(link.clone(), conn, rx);
        Ok(())
    }

    /// Route the backend's own messages while the connection lives; when it dies, mark the
    /// backend down, tell the owner, and start recovery.
    fn spawn_supervisor(
        self: &Arc<Self>,
        link: Arc<Link>,
        conn: Arc<Conn>,
        mut rx: mpsc::Receiver<Inbound>,
    ) {
        let weak = Arc::downgrade(self);
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            let reason = loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    m = rx.recv() => match m {
                        Some(Inbound { flushed: Some(done), .. }) => {
                            let _ = done.send(());
                        }
                        Some(inb) => {
                            let Some(set) = weak.upgrade() else { return };
                            set.on_backend_message(&link, inb).await;
                            conn.inbound_handled();
                        }
                        None => break "the connection closed".to_owned(),
                    },
                    _ = tick.tick() => {
                        if !conn.is_alive() {
                            break "the connection was lost".to_owned();
                        }
                    }
                }
            };
            conn.close().await;
            let Some(set) = weak.upgrade() else { return };
            set.backend_down(&link, reason);
        });
    }

    /// Mark `link` down (once), tell the owner, and reconnect in the background.
    pub fn backend_down(self: &Arc<Self>, link: &Arc<Link>, reason: String) {
        if !link.is_up() {
            return;
        }
        tracing::warn!(session = %self.label, backend = %link.spec.name, %reason, "backend down");
        link.set(LinkState::Down {
            reason: format!("{reason}; reconnecting"),
        });
        if let Some(owner) = self.owner.upgrade() {
            owner.backend_state(&link.spec.name, BackendState::Down { reason: &reason });
        }
        self.spawn_recovery(link.clone());
    }

    fn spawn_recovery(self: &Arc<Self>, link: Arc<Link>) {
        let weak = Arc::downgrade(self);
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(250);
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
                let Some(set) = weak.upgrade() else { return };
                match set.connect(&link).await {
                    Ok(()) => {
                        tracing::info!(session = %set.label, backend = %link.spec.name, "backend back up");
                        if let Some(owner) = set.owner.upgrade() {
                            owner.backend_state(&link.spec.name, BackendState::Up);
                        }
                        return;
                    }
                    Err(e) => {
                        link.set(LinkState::Down {
                            reason: e.to_string(),
                        });
                        delay = (delay * 2).min(Duration::from_secs(30));
                    }
                }
            }
        });
    }

    /// Close every upstream session (HTTP DELETE, stdio children stopped).
    pub async fn close(&self) {
        self.cancel.cancel();
        let conns: Vec<Arc<Conn>> = self.links.iter().filter_map(|l| l.conn().ok()).collect();
        for l in &self.links {
            l.set(LinkState::Closed);
        }
        futures::future::join_all(conns.iter().map(|c| c.close())).await;
    }

    // ----- messages from backends -----

    async fn on_backend_message(self: &Arc<Self>, link: &Arc<Link>, inb: Inbound) {
        let backend = link.spec.name.as_str();
        let Inbound {
            mut msg, related, ..
        } = inb;
        let mut call = related.map(|u| (backend.to_owned(), u));
        match protocol::classify(&msg) {
            Ok(protocol::Kind::Request) => {
                if protocol::method(&msg) == Some("ping") {
                    if let (Some(id), Ok(conn)) = (msg.get("id").cloned(), link.conn()) {
                        let _ = conn.send(protocol::result_response(id, json!({}))).await;
                    }
                    return;
                }
                let upstream_id = msg.get("id").cloned().unwrap_or(Value::Null);
                let client_id = Value::from(self.next_server_req.fetch_add(1, Ordering::Relaxed));
                if let Some(o) = msg.as_object_mut() {
                    o.insert("id".into(), client_id.clone());
                }
                let mut routes = lock(&self.routes);
                routes
                    .server_reqs
                    .insert(id_key(&client_id), (backend.to_owned(), upstream_id));
                // stdio gives no relation; the backend's newest call in flight is the best guess.
                if call.as_ref().is_none_or(|c| !routes.calls.contains_key(c)) {
                    call = latest_call(&routes, backend);
                }
                self.deliver(routes, msg, call.as_ref(), true);
            }
            Ok(protocol::Kind::Notification) => {
                let method = protocol::method(&msg).unwrap_or("").to_owned();
                let mut urgent = false;
                let mut routes = lock(&self.routes);
                match method.as_str() {
                    "notifications/progress" => {
                        urgent = true;
                        let token = protocol::params(&msg)
                            .and_then(|p| p.get("progressToken"))
                            .map(id_key);
                        let mapped = token.and_then(|t| routes.progress.get(&t).cloned());
                        if let Some((client_token, b, u)) = mapped {
                            if let Some(p) = protocol::params_mut(&mut msg) {
                                p.insert("progressToken".into(), client_token);
                            }
                            call = Some((b, u));
                        }
                    }
                    "notifications/cancelled" => {
                        // The backend gave up on a request it sent the client: use the client's id.
                        let up = protocol::params(&msg)
                            .and_then(|p| p.get("requestId"))
                            .cloned();
                        if let Some(up) = up {
                            let found = routes
                                .server_reqs
                                .iter()
                                .find(|(_, (b, u))| b == backend && *u == up)
                                .map(|(k, _)| k.clone());
                            if let Some(k) = found {
                                routes.server_reqs.remove(&k);
                                if let Some(p) = protocol::params_mut(&mut msg) {
                                    p.insert("requestId".into(), key_to_id(&k));
                                }
                            }
                        }
                    }
                    "notifications/message" if call.is_none() => {
                        call = latest_call(&routes, backend);
                    }
                    _ => {}
                }
                let change = match method.as_str() {
                    "notifications/tools/list_changed" => Some(ListChange::Tools),
                    "notifications/prompts/list_changed" => Some(ListChange::Prompts),
                    "notifications/resources/list_changed" => Some(ListChange::Resources),
                    _ => None,
                };
                if let (Some(change), Some(owner)) = (change, self.owner.upgrade()) {
                    drop(routes);
                    owner.list_changed(backend, change);
                    routes = lock(&self.routes);
                }
                self.deliver(routes, msg, call.as_ref(), urgent);
            }
            Ok(protocol::Kind::Response) => {
                tracing::debug!(backend, "dropping a response nobody waits for");
            }
            Err(e) => tracing::warn!(backend, error = %e, "dropping invalid message from backend"),
        }
    }

    /// Send a backend's message to the client: on the stream of the call it relates to if that
    /// is open, else on the standalone stream, else (requests and progress only, which the
    /// client must see for its call to progress) on any open call stream, else queue it.
    fn deliver(
        &self,
        routes: std::sync::MutexGuard<'_, Routes>,
        msg: Value,
        call: Option<&(String, u64)>,
        urgent: bool,
    ) {
        let mut msg = msg;
        if let Some(c) = call.and_then(|c| routes.calls.get(c)) {
            match c.sink.try_send(msg) {
                Ok(()) => return,
                Err(e) => msg = e.into_inner(),
            }
        }
        let Some(owner) = self.owner.upgrade() else {
            return;
        };
        match owner.send_standalone(msg) {
            Ok(()) => return,
            Err(m) => msg = m,
        }
        if urgent || msg.get("id").is_some() {
            for c in routes.calls.values() {
                match c.sink.try_send(msg) {
                    Ok(()) => return,
                    Err(e) => msg = e.into_inner(),
                }
            }
        }
        drop(routes);
        owner.queue(msg);
    }

    /// Deliver a message to a client stream the caller owns (a workflow's), as a backend's
    /// message would be.
    pub fn to_owner(&self, msg: Value) {
        if let Some(owner) = self.owner.upgrade() {
            if let Err(m) = owner.send_standalone(msg) {
                owner.queue(m);
            }
        }
    }

    // ----- forwarding client requests -----

    /// Forward one client request to `backend`, with `client_key` naming it for cancellation and
    /// `sink` the stream its related messages go to, and return the backend's response (the
    /// client's own id restored). The sink is released when this returns.
    pub async fn forward(
        self: &Arc<Self>,
        backend: &str,
        client_key: &str,
        mut msg: Value,
        sink: mpsc::Sender<Value>,
    ) -> Forwarded {
        let client_id = msg.get("id").cloned().unwrap_or(Value::Null);
        let link = self
            .link(backend)
            .cloned()
            .ok_or_else(|| UpstreamError::Unavailable {
                backend: backend.to_owned(),
                reason: "no such backend".into(),
            })?;
        let conn = link.conn()?;
        let uid = conn.next_id();
        let call = (backend.to_owned(), uid);
        let mut gateway_token = None;
        {
            let mut routes = lock(&self.routes);
            if let Some(meta) = protocol::params_mut(&mut msg)
                .and_then(|p| p.get_mut("_meta"))
                .and_then(Value::as_object_mut)
            {
                if let Some(t) = meta.get("progressToken").cloned() {
                    let g = format!("pc-{}", self.next_token.fetch_add(1, Ordering::Relaxed));
                    meta.insert("progressToken".into(), Value::String(g.clone()));
                    let g = Value::String(g);
                    routes
                        .progress
                        .insert(id_key(&g), (t, backend.to_owned(), uid));
                    gateway_token = Some(g);
                }
            }
            routes.calls.insert(call.clone(), InFlight { sink });
            routes.by_client.insert(client_key.to_owned(), call.clone());
        }
        let called = protocol::params(&msg)
            .and_then(|p| p.get("name").or_else(|| p.get("uri")))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let started = Instant::now();
        let result = conn.request_with_id(uid, msg).await;
        self.hooks.call_done(
            backend,
            called.as_deref(),
            started.elapsed(),
            result.as_ref().err(),
        );
        // The backend's messages sent before its response (progress, logging) may still be
        // queued for the supervisor: deliver them while the routes they need are in place.
        conn.flush_inbound().await;
        {
            let mut routes = lock(&self.routes);
            routes.calls.remove(&call);
            if routes.by_client.get(client_key) == Some(&call) {
                routes.by_client.remove(client_key);
            }
            if let Some(g) = gateway_token {
                routes.progress.remove(&id_key(&g));
            }
        }
        match result {
            Ok(mut resp) => {
                if let Some(o) = resp.as_object_mut() {
                    o.insert("id".into(), client_id);
                }
                Ok(resp)
            }
            Err(e) => {
                if matches!(
                    e,
                    UpstreamError::Unavailable { .. } | UpstreamError::SessionExpired { .. }
                ) && !conn.is_alive()
                {
                    self.backend_down(&link, e.to_string());
                }
                Err(e)
            }
        }
    }

    /// The client cancelled the call it named `client_key`: tell the backend handling it, under
    /// its own id. `params` are the client's `notifications/cancelled` params.
    pub async fn cancel(&self, client_key: &str, params: Option<&Map<String, Value>>) {
        let found = lock(&self.routes).by_client.get(client_key).cloned();
        let Some((backend, uid)) = found else { return };
        let Some(conn) = self.link(&backend).and_then(|l| l.conn().ok()) else {
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
    }

    /// The client answered a server-to-client request: send it to the backend that asked.
    pub async fn answer(&self, mut msg: Value) {
        let Some(id) = msg.get("id").cloned() else {
            return;
        };
        let found = lock(&self.routes).server_reqs.remove(&id_key(&id));
        let Some((backend, upstream_id)) = found else {
            tracing::debug!(session = %self.label, "response to an unknown server request; dropped");
            return;
        };
        if let Some(o) = msg.as_object_mut() {
            o.insert("id".into(), upstream_id);
        }
        if let Some(conn) = self.link(&backend).and_then(|l| l.conn().ok()) {
            if let Err(e) = conn.send(msg).await {
                tracing::warn!(session = %self.label, error = %e, "could not deliver a response to the backend");
            }
        }
    }

    /// Send a notification to every backend that is up (e.g. the client's roots changed).
    pub async fn broadcast(&self, msg: &Value) {
        for (_, conn) in self.up() {
            let _ = conn.send(msg.clone()).await;
        }
    }
}

/// The newest call in flight to `backend`.
fn latest_call(routes: &Routes, backend: &str) -> Option<(String, u64)> {
    routes
        .calls
        .keys()
        .filter(|(b, _)| b == backend)
        .max_by_key(|(_, u)| *u)
        .cloned()
}

fn key_to_id(k: &str) -> Value {
    if let Some(s) = k.strip_prefix("s:") {
        return Value::String(s.to_owned());
    }
    let n = k.strip_prefix("n:").unwrap_or(k);
    serde_json::from_str(n).unwrap_or(Value::Null)
}
