//! Client sessions and the upstream sessions each one owns.
//!
//! A client session owns one upstream connection per backend (a child process for stdio, an MCP
//! session for HTTP), opened with the client's own `initialize` params. That keeps per-client
//! state where MCP puts it — log level, roots, subscriptions, sampling and elicitation go to the
//! one client they belong to — and makes a backend's view of "the client" exactly one client.
//!
//! The session keeps the maps that routing needs and nothing else: client request id → upstream
//! id (for cancellation), server request id → client-facing id (for sampling, elicitation,
//! roots), progress token → client token, and the open client streams messages can go to.
//! A backend whose connection drops is marked down, its items vanish from lists (the client gets
//! `list_changed`), and a supervisor reconnects it with backoff.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::catalog::{Merged, Namer};
use crate::credentials::Binding;
use crate::identity::Principal;
use crate::protocol::{self, id_key};
use crate::upstream::{BackendSpec, Conn, Inbound, UpstreamError};

mod call;
mod meta;
mod router;
pub use call::{Call, Next};
pub use router::Reply;

/// Messages queued for a client that has no stream open, at most.
const MAX_QUEUED: usize = 1024;
/// Capacity of each client stream's channel.
const STREAM_CAPACITY: usize = 1024;

/// What every session shares: backend specs, naming, limits.
pub struct Shared {
    pub guard: Arc<crate::guard::Guard>,
    /// Pins, drift and poisoning review of every catalog a backend lists.
    pub integrity: Arc<crate::integrity::Monitor>,
    pub backends: Vec<Arc<BackendSpec>>,
    pub namer: Namer,
    pub page_size: usize,
    /// Meta-tools (`find_tool`, `call_tool`): config, analyzer, optional embedder.
    pub meta: Arc<crate::meta::Runtime>,
    /// Workflows exposed as tools.
    pub workflows: crate::workflow::Workflows,
    /// Last capabilities each backend announced, used while it is down.
    pub known_caps: Mutex<HashMap<String, Value>>,
}

pub struct Session {
    pub id: String,
    pub protocol_version: String,
    /// Who created the session; every later request must be by the same principal.
    pub principal: Arc<Principal>,
    /// The principal's latest token, for token exchange.
    subject: Arc<Mutex<Option<String>>>,
    /// Client facts for policy context and audit: from `clientInfo` and the connection.
    pub client_name: String,
    pub client_version: String,
    pub client_address: String,
    init_params: Value,
    shared: Arc<Shared>,
    links: Vec<Arc<Link>>,
    cache: Mutex<Cache>,
    out: Mutex<ClientOut>,
    /// Client-facing id of a server-to-client request → (backend, upstream id).
    server_reqs: Mutex<HashMap<String, (String, Value)>>,
    next_server_req: AtomicU64,
    /// Client request id → (backend, upstream id), for cancellation.
    inflight: Mutex<HashMap<String, (String, u64)>>,
    /// Client request id of a running workflow → what cancels it.
    workflows: Mutex<HashMap<String, CancellationToken>>,
    /// (backend, upstream id) → client request id key, to send related messages on its stream.
    by_upstream: Mutex<HashMap<(String, u64), String>>,
    /// Gateway progress token → (client token, client request id key).
    progress: Mutex<HashMap<String, (Value, String)>>,
    next_token: AtomicU64,
    last_seen: Mutex<Instant>,
    cancel: CancellationToken,
    /// The `find_tool` index of this session's catalog (see `meta.rs`).
    meta_index: Mutex<Option<meta::Cached>>,
}

#[derive(Default)]
struct Cache {
    /// The integrity generation (approvals) the cached lists were reviewed under.
    generation: u64,
    tools: Option<Arc<Merged>>,
    prompts: Option<Arc<Merged>>,
    resources: Option<Arc<Merged>>,
    templates: Option<Arc<Merged>>,
}

#[derive(Default)]
struct ClientOut {
    get_stream: Option<mpsc::Sender<Value>>,
    req_streams: HashMap<String, mpsc::Sender<Value>>,
    queue: VecDeque<Value>,
}

/// One backend within one session.
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
    fn conn(&self) -> Result<Arc<Conn>, UpstreamError> {
        match self.state.read().map(|s| s.clone()) {
            Ok(LinkState::Up { conn, .. }) => Ok(conn),
            Ok(LinkState::Down { reason }) => Err(UpstreamError::Unavailable {
                backend: self.spec.name.clone(),
                reason,
            }),
            Ok(LinkState::Connecting) => Err(UpstreamError::Unavailable {
                backend: self.spec.name.clone(),
                reason: "it is still connecting".into(),
            }),
            Ok(LinkState::Closed) | Err(_) => Err(UpstreamError::Unavailable {
                backend: self.spec.name.clone(),
                reason: "the session is closed".into(),
            }),
        }
    }

    fn init(&self) -> Option<Value> {
        match self.state.read().ok()?.clone() {
            LinkState::Up { init, .. } => Some(init),
            _ => None,
        }
    }

    fn set(&self, s: LinkState) {
        if let Ok(mut g) = self.state.write() {
            if !matches!(*g, LinkState::Closed) {
                *g = s;
            }
        }
    }

    fn is_up(&self) -> bool {
        matches!(
            self.state.read().map(|s| s.clone()),
            Ok(LinkState::Up { .. })
        )
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another task panicked while holding it; the maps stay usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Session {
    /// Create a session and connect every backend in parallel with the client's `initialize`
    /// params. Backends that fail stay down and are retried in the background.
    pub async fn start(
        shared: Arc<Shared>,
        id: String,
        init_params: Value,
        principal: Principal,
        token: Option<String>,
        client_address: String,
    ) -> Arc<Session> {
        let info = init_params.get("clientInfo");
        let text = |k: &str| {
            info.and_then(|i| i.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let (client_name, client_version) = (text("name"), text("version"));
        let requested = init_params.get("protocolVersion").and_then(Value::as_str);
        let protocol_version = protocol::negotiate_version(requested).to_owned();
        let links = shared
            .backends
            .iter()
            .map(|spec| {
                Arc::new(Link {
                    spec: spec.clone(),
                    state: RwLock::new(LinkState::Connecting),
                    offered: Mutex::new(HashMap::new()),
                })
            })
            .collect();
        let session = Arc::new(Session {
            id,
            protocol_version,
            principal: Arc::new(principal),
            subject: Arc::new(Mutex::new(token)),
            client_name,
            client_version,
            client_address,
            init_params,
            shared,
            links,
            cache: Mutex::new(Cache::default()),
            out: Mutex::new(ClientOut::default()),
            server_reqs: Mutex::new(HashMap::new()),
            next_server_req: AtomicU64::new(1),
            inflight: Mutex::new(HashMap::new()),
            workflows: Mutex::new(HashMap::new()),
            by_upstream: Mutex::new(HashMap::new()),
            progress: Mutex::new(HashMap::new()),
            next_token: AtomicU64::new(1),
            last_seen: Mutex::new(Instant::now()),
            cancel: CancellationToken::new(),
            meta_index: Mutex::new(None),
        });
        let connects = session.links.iter().map(|link| {
            let s = session.clone();
            let link = link.clone();
            async move {
                if let Err(e) = s.connect_link(&link).await {
                    tracing::warn!(session = %s.id, error = %e, "backend not connected; will retry");
                    link.set(LinkState::Down { reason: e.to_string() });
                    s.spawn_recovery(link);
                }
            }
        });
        futures::future::join_all(connects).await;
        session.spawn_refresher();
        session
    }

    /// Re-read and re-review the catalogs every `integrity.refresh_secs`, so drift a backend
    /// does not announce is still caught; the client hears `list_changed` when what it may use
    /// changed.
    fn spawn_refresher(self: &Arc<Self>) {
        let every = self.shared.integrity.refresh_every();
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
                s.refresh_catalogs().await;
            }
        });
    }

    /// Approvals changed (the lockfile was reloaded): review again and tell the client.
    pub fn approvals_changed(&self) {
        *lock(&self.cache) = Cache::default();
        self.notify_all_lists();
    }

    fn notify_all_lists(&self) {
        let caps: Vec<Value> = lock(&self.shared.known_caps).values().cloned().collect();
        for (cap, method) in [
            ("tools", "notifications/tools/list_changed"),
            ("prompts", "notifications/prompts/list_changed"),
            ("resources", "notifications/resources/list_changed"),
        ] {
            if caps.iter().any(|c| c.get(cap).is_some()) {
                self.deliver(protocol::notification(method, None), None);
            }
        }
    }

    async fn connect_link(self: &Arc<Self>, link: &Arc<Link>) -> Result<(), UpstreamError> {
        // What a stdio backend runs is checked against its pins before it starts.
        if let crate::upstream::SpecKind::Stdio { argv, env, cwd } = &link.spec.kind {
            self.shared
                .integrity
                .check_executables(&link.spec.name, argv, env, cwd.as_deref())
                .map_err(|reason| UpstreamError::Unavailable {
                    backend: link.spec.name.clone(),
                    reason,
                })?;
        }
        let (tx, rx) = mpsc::channel(256);
        let binding = Binding {
            source: link.spec.credentials.clone(),
            caller: self.principal.key(),
            subject: self.subject.clone(),
        };
        let (conn, init) = Conn::connect(
            link.spec.clone(),
            self.init_params.clone(),
            tx,
            Some(binding),
        )
        .await?;
        if let Some(caps) = init.get("capabilities") {
            lock(&self.shared.known_caps).insert(link.spec.name.clone(), caps.clone());
        }
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

    /// Route the backend's own messages to the client while the connection lives; when it dies,
    /// mark the backend down, tell the client its lists changed, and start recovery.
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
                            let Some(s) = weak.upgrade() else { return };
                            s.on_backend_message(&link.spec.name, inb).await;
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
            let Some(s) = weak.upgrade() else { return };
            s.backend_down(&link, reason);
        });
    }

    fn backend_down(self: &Arc<Self>, link: &Arc<Link>, reason: String) {
        if !link.is_up() {
            return;
        }
        tracing::warn!(session = %self.id, backend = %link.spec.name, %reason, "backend down");
        self.shared
            .guard
            .metrics
            .set_backend_up(&link.spec.name, false);
        let mut rec = crate::guard::Guard::caller_record(
            &self.caller(),
            crate::audit::Kind::BackendDown,
            crate::audit::Decision::Info,
        );
        rec.backend = Some(link.spec.name.clone());
        rec.reason = Some(reason.clone());
        self.shared.guard.event(rec);
        link.set(LinkState::Down {
            reason: format!("{reason}; reconnecting"),
        });
        self.lists_changed(&link.spec.name);
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
                let Some(s) = weak.upgrade() else { return };
                match s.connect_link(&link).await {
                    Ok(()) => {
                        tracing::info!(session = %s.id, backend = %link.spec.name, "backend back up");
                        s.shared.guard.metrics.set_backend_up(&link.spec.name, true);
                        let mut rec = crate::guard::Guard::caller_record(
                            &s.caller(),
                            crate::audit::Kind::BackendUp,
                            crate::audit::Decision::Info,
                        );
                        rec.backend = Some(link.spec.name.clone());
                        s.shared.guard.event(rec);
                        s.lists_changed(&link.spec.name);
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

    /// A backend's lists may have changed (it went up or down): drop caches and tell the client.
    fn lists_changed(&self, backend: &str) {
        *lock(&self.cache) = Cache::default();
        let caps = lock(&self.shared.known_caps)
            .get(backend)
            .cloned()
            .unwrap_or(Value::Null);
        for (cap, method) in [
            ("tools", "notifications/tools/list_changed"),
            ("prompts", "notifications/prompts/list_changed"),
            ("resources", "notifications/resources/list_changed"),
        ] {
            if caps.get(cap).is_some() || caps.is_null() {
                self.deliver(protocol::notification(method, None), None);
            }
        }
    }

    pub fn touch(&self) {
        *lock(&self.last_seen) = Instant::now();
    }

    /// Remember the caller's latest (validated) token: exchanges use the freshest one.
    pub fn set_token(&self, token: Option<String>) {
        if token.is_some() {
            *lock(&self.subject) = token;
        }
    }

    pub fn idle_for(&self) -> Duration {
        lock(&self.last_seen).elapsed()
    }

    /// End the session: close every upstream session and client stream.
    pub async fn close(&self) {
        self.cancel.cancel();
        let conns: Vec<Arc<Conn>> = self.links.iter().filter_map(|l| l.conn().ok()).collect();
        for l in &self.links {
            l.set(LinkState::Closed);
        }
        futures::future::join_all(conns.iter().map(|c| c.close())).await;
        let mut out = lock(&self.out);
        out.get_stream = None;
        out.req_streams.clear();
        out.queue.clear();
    }

    /// The merged `initialize` result for the client.
    pub fn initialize_result(&self) -> Value {
        let mut caps_seen = Vec::new();
        let mut instructions = Vec::new();
        for link in &self.links {
            let init = link.init();
            let caps = init
                .as_ref()
                .and_then(|i| i.get("capabilities").cloned())
                .or_else(|| lock(&self.shared.known_caps).get(&link.spec.name).cloned());
            if let Some(c) = caps {
                caps_seen.push(c);
            }
            if let Some(text) = init
                .as_ref()
                .and_then(|i| i.get("instructions"))
                .and_then(Value::as_str)
            {
                instructions.push(format!("[{}] {}", link.spec.name, text));
            }
        }
        let mut result = json!({
            "protocolVersion": self.protocol_version,
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

    fn link(&self, backend: &str) -> Option<&Arc<Link>> {
        self.links.iter().find(|l| l.spec.name == backend)
    }

    // ----- client streams -----

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

    fn open_request_stream(&self, key: &str) -> mpsc::Receiver<Value> {
        let (tx, rx) = mpsc::channel(STREAM_CAPACITY);
        lock(&self.out).req_streams.insert(key.to_owned(), tx);
        rx
    }

    fn close_request_stream(&self, key: &str) -> Option<mpsc::Sender<Value>> {
        lock(&self.out).req_streams.remove(key)
    }

    /// Send a message to the client: on the stream of the request it relates to if that is
    /// open, else on the GET stream, else (requests and progress only, which the client must see
    /// for its call to progress) on any open request stream, else queue it for the next GET.
    fn deliver(&self, msg: Value, related: Option<&str>) {
        let mut out = lock(&self.out);
        let mut msg = msg;
        if let Some(tx) = related.and_then(|k| out.req_streams.get(k)) {
            match tx.try_send(msg) {
                Ok(()) => return,
                Err(e) => msg = e.into_inner(),
            }
        }
        if let Some(tx) = &out.get_stream {
            match tx.try_send(msg) {
                Ok(()) => return,
                Err(e) => {
                    msg = e.into_inner();
                    out.get_stream = None;
                }
            }
        }
        let urgent = protocol::method(&msg).is_some_and(|m| m == "notifications/progress")
            || msg.get("id").is_some();
        if urgent {
            for tx in out.req_streams.values() {
                match tx.try_send(msg) {
                    Ok(()) => return,
                    Err(e) => msg = e.into_inner(),
                }
            }
        }
        if out.queue.len() >= MAX_QUEUED {
            tracing::warn!(session = %self.id, "client queue full; dropping oldest message");
            out.queue.pop_front();
        }
        out.queue.push_back(msg);
    }

    // ----- messages from backends -----

    async fn on_backend_message(self: &Arc<Self>, backend: &str, inb: Inbound) {
        let Inbound {
            mut msg, related, ..
        } = inb;
        let related_key = related.and_then(|u| {
            lock(&self.by_upstream)
                .get(&(backend.to_owned(), u))
                .cloned()
        });
        match protocol::classify(&msg) {
            Ok(protocol::Kind::Request) => {
                if protocol::method(&msg) == Some("ping") {
                    if let (Some(id), Some(link)) = (msg.get("id").cloned(), self.link(backend)) {
                        if let Ok(conn) = link.conn() {
                            let _ = conn.send(protocol::result_response(id, json!({}))).await;
                        }
                    }
                    return;
                }
                let upstream_id = msg.get("id").cloned().unwrap_or(Value::Null);
                let client_id = Value::from(self.next_server_req.fetch_add(1, Ordering::Relaxed));
                lock(&self.server_reqs)
                    .insert(id_key(&client_id), (backend.to_owned(), upstream_id));
                if let Some(o) = msg.as_object_mut() {
                    o.insert("id".into(), client_id);
                }
                // stdio gives no relation; the backend's newest in-flight call is the best guess.
                let hint = related_key.or_else(|| self.latest_inflight(backend));
                self.deliver(msg, hint.as_deref());
            }
            Ok(protocol::Kind::Notification) => {
                let method = protocol::method(&msg).unwrap_or("").to_owned();
                let mut hint = related_key;
                match method.as_str() {
                    "notifications/progress" => {
                        let token = protocol::params(&msg)
                            .and_then(|p| p.get("progressToken"))
                            .cloned();
                        let mapped =
                            token.and_then(|t| lock(&self.progress).get(&token_key(&t)).cloned());
                        if let Some((client_token, key)) = mapped {
                            if let Some(p) = protocol::params_mut(&mut msg) {
                                p.insert("progressToken".into(), client_token);
                            }
                            hint = Some(key);
                        }
                    }
                    "notifications/cancelled" => {
                        // The backend gave up on a request it sent the client: use the client's id.
                        let up = protocol::params(&msg)
                            .and_then(|p| p.get("requestId"))
                            .cloned();
                        if let Some(up) = up {
                            let found = lock(&self.server_reqs)
                                .iter()
                                .find(|(_, (b, u))| b == backend && *u == up)
                                .map(|(k, _)| k.clone());
                            if let Some(k) = found {
                                lock(&self.server_reqs).remove(&k);
                                if let Some(p) = protocol::params_mut(&mut msg) {
                                    p.insert("requestId".into(), key_to_id(&k));
                                }
                            }
                        }
                    }
                    "notifications/tools/list_changed" => lock(&self.cache).tools = None,
                    "notifications/prompts/list_changed" => lock(&self.cache).prompts = None,
                    "notifications/resources/list_changed" => {
                        let mut c = lock(&self.cache);
                        c.resources = None;
                        c.templates = None;
                    }
                    _ => {}
                }
                if hint.is_none() && method == "notifications/message" {
                    hint = self.latest_inflight(backend);
                }
                self.deliver(msg, hint.as_deref());
            }
            Ok(protocol::Kind::Response) => {
                tracing::debug!(backend, "dropping a response nobody waits for");
            }
            Err(e) => tracing::warn!(backend, error = %e, "dropping invalid message from backend"),
        }
    }

    fn latest_inflight(&self, backend: &str) -> Option<String> {
        lock(&self.by_upstream)
            .iter()
            .filter(|((b, _), _)| b == backend)
            .max_by_key(|((_, u), _)| *u)
            .map(|(_, k)| k.clone())
    }

    // ----- forwarding client requests -----

    /// Forward one client request to `backend` and return the response for the client (its own
    /// id restored). Errors become JSON-RPC errors naming the backend.
    async fn forward(self: &Arc<Self>, backend: &str, mut msg: Value) -> Value {
        let client_id = msg.get("id").cloned().unwrap_or(Value::Null);
        let key = id_key(&client_id);
        let Some(link) = self.link(backend).cloned() else {
            return protocol::error_response(
                client_id,
                protocol::code::INTERNAL_ERROR,
                format!("no backend `{backend}`"),
                None,
            );
        };
        let conn = match link.conn() {
            Ok(c) => c,
            Err(e) => return upstream_error(client_id, &e),
        };
        let uid = conn.next_id();
        let mut gateway_token = None;
        if let Some(meta) = protocol::params_mut(&mut msg)
            .and_then(|p| p.get_mut("_meta"))
            .and_then(Value::as_object_mut)
        {
            if let Some(t) = meta.get("progressToken").cloned() {
                let g = format!("pc-{}", self.next_token.fetch_add(1, Ordering::Relaxed));
                meta.insert("progressToken".into(), Value::String(g.clone()));
                lock(&self.progress).insert(token_key(&Value::String(g.clone())), (t, key.clone()));
                gateway_token = Some(g);
            }
        }
        lock(&self.inflight).insert(key.clone(), (backend.to_owned(), uid));
        lock(&self.by_upstream).insert((backend.to_owned(), uid), key.clone());
        let called = protocol::params(&msg)
            .and_then(|p| p.get("name").or_else(|| p.get("uri")))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let started = Instant::now();
        let result = conn.request_with_id(uid, msg).await;
        if let Some(name) = &called {
            self.shared
                .guard
                .metrics
                .observe_call(backend, name, started.elapsed());
        }
        // The backend's messages sent before its response (progress, logging) may still be
        // queued for the supervisor: deliver them while the mappings and the client's stream
        // they need are still in place.
        conn.flush_inbound().await;
        lock(&self.inflight).remove(&key);
        lock(&self.by_upstream).remove(&(backend.to_owned(), uid));
        if let Some(g) = gateway_token {
            lock(&self.progress).remove(&token_key(&Value::String(g)));
        }
        match result {
            Ok(mut resp) => {
                if let Some(o) = resp.as_object_mut() {
                    o.insert("id".into(), client_id);
                }
                resp
            }
            Err(e) => {
                self.shared.guard.metrics.record_upstream(&e);
                if matches!(
                    e,
                    UpstreamError::Unavailable { .. } | UpstreamError::SessionExpired { .. }
                ) && !conn.is_alive()
                {
                    self.backend_down(&link, e.to_string());
                }
                upstream_error(client_id, &e)
            }
        }
    }

    /// A client cancelled one of its requests: tell the backend handling it, under its id.
    async fn cancel_request(&self, params: Option<&serde_json::Map<String, Value>>) {
        let Some(req_id) = params.and_then(|p| p.get("requestId")) else {
            return;
        };
        // A workflow is the gateway's own request: it stops it, and cancels its running steps
        // at their backends.
        if let Some(w) = lock(&self.workflows).get(&id_key(req_id)) {
            w.cancel();
            return;
        }
        let found = lock(&self.inflight).get(&id_key(req_id)).cloned();
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
    async fn answer_server_request(&self, mut msg: Value) {
        let Some(id) = msg.get("id").cloned() else {
            return;
        };
        let found = lock(&self.server_reqs).remove(&id_key(&id));
        let Some((backend, upstream_id)) = found else {
            tracing::debug!(session = %self.id, "response to an unknown server request; dropped");
            return;
        };
        if let Some(o) = msg.as_object_mut() {
            o.insert("id".into(), upstream_id);
        }
        if let Some(conn) = self.link(&backend).and_then(|l| l.conn().ok()) {
            if let Err(e) = conn.send(msg).await {
                tracing::warn!(session = %self.id, error = %e, "could not deliver a response to the backend");
            }
        }
    }

    pub(crate) fn caller(&self) -> crate::guard::Caller<'_> {
        crate::guard::Caller {
            principal: &self.principal,
            session_id: &self.id,
            client_name: &self.client_name,
            client_version: &self.client_version,
            client_address: &self.client_address,
            protocol_version: &self.protocol_version,
        }
    }

    /// Links that are up, in config order.
    fn up_links(&self) -> Vec<(Arc<Link>, Arc<Conn>)> {
        self.links
            .iter()
            .filter_map(|l| l.conn().ok().map(|c| (l.clone(), c)))
            .collect()
    }
}

fn token_key(t: &Value) -> String {
    id_key(t)
}

fn key_to_id(k: &str) -> Value {
    if let Some(s) = k.strip_prefix("s:") {
        return Value::String(s.to_owned());
    }
    let n = k.strip_prefix("n:").unwrap_or(k);
    serde_json::from_str(n).unwrap_or(Value::Null)
}

fn upstream_error(id: Value, e: &UpstreamError) -> Value {
    protocol::error_response(
        id,
        e.code(),
        e.to_string(),
        Some(json!({ "backend": e.backend() })),
    )
}

/// Union of backends' capabilities, as the gateway offers them. `listChanged` is always on for
/// lists: backends come and go, and the gateway tells the client when they do.
pub fn merge_capabilities(all: &[Value]) -> Value {
    let has = |k: &str| all.iter().any(|c| c.get(k).is_some());
    let mut caps = serde_json::Map::new();
    if has("tools") {
        caps.insert("tools".into(), json!({ "listChanged": true }));
    }
    if has("prompts") {
        caps.insert("prompts".into(), json!({ "listChanged": true }));
    }
    if has("resources") {
        let subscribe = all.iter().any(|c| {
            c.get("resources")
                .and_then(|r| r.get("subscribe"))
                .and_then(Value::as_bool)
                == Some(true)
        });
        let mut r = json!({ "listChanged": true });
        if subscribe {
            if let Some(o) = r.as_object_mut() {
                o.insert("subscribe".into(), Value::Bool(true));
            }
        }
        caps.insert("resources".into(), r);
    }
    if has("logging") {
        caps.insert("logging".into(), json!({}));
    }
    if has("completions") {
        caps.insert("completions".into(), json!({}));
    }
    Value::Object(caps)
}

/// All live sessions, with expiry.
#[derive(Default)]
pub struct Store {
    map: RwLock<HashMap<String, Arc<Session>>>,
}

impl Store {
    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.map.read().ok()?.get(id).cloned()
    }
    pub fn insert(&self, s: Arc<Session>) {
        if let Ok(mut m) = self.map.write() {
            m.insert(s.id.clone(), s);
        }
    }
    pub fn remove(&self, id: &str) -> Option<Arc<Session>> {
        self.map.write().ok()?.remove(id)
    }
    pub fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }
    /// Every live session.
    pub fn all(&self) -> Vec<Arc<Session>> {
        self.map
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
    /// Live sessions of one principal (`iss|sub`).
    pub fn count_for(&self, principal_key: &str) -> usize {
        self.map
            .read()
            .map(|m| {
                m.values()
                    .filter(|s| s.principal.key() == principal_key)
                    .count()
            })
            .unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Remove and return sessions idle longer than `max_idle`.
    pub fn expire(&self, max_idle: Duration) -> Vec<Arc<Session>> {
        let Ok(mut m) = self.map.write() else {
            return Vec::new();
        };
        let old: Vec<String> = m
            .iter()
            .filter(|(_, s)| s.idle_for() > max_idle)
            .map(|(k, _)| k.clone())
            .collect();
        old.iter().filter_map(|k| m.remove(k)).collect()
    }
    pub fn drain(&self) -> Vec<Arc<Session>> {
        self.map
            .write()
            .map(|mut m| m.drain().map(|(_, s)| s).collect())
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
