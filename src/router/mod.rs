//! JSON-RPC dispatch: which backend each client message goes to, and how lists from many
//! backends become one.
//!
//! The router serves one request from a [`Context`]: the principal of the request at hand, what
//! the client says about itself, and the client's [`View`] of the backends (its upstream
//! sessions and the merged lists they give). It has no notion of a session: a 2025-era session
//! only caches a context (`session`), and a stateless request brings its own.
//!
//! A `tools/call` reads top to bottom: [`Router::handle_request`] → `calls::named_call` (route by
//! table) → [`Guard::admit`] (integrity → policy → limits → audit) → `View::forward` through the
//! client's link to the backend (credentials are the link's). Meta-tools and workflow steps go
//! down the same `named_call`: there is no side door.

mod call;
mod calls;
mod errors;
mod listen;
mod lists;
mod meta;
pub mod modern;
mod mrtr;
pub mod seal;
pub mod stateless;
pub mod tasks;
mod workflows;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use call::{Call, Next};
pub use errors::RouteError;

use crate::catalog::{ListCache, Namer};
use crate::guard::{Caller, Client, Guard};
use crate::identity::Principal;
use crate::protocol::{self, id_key};
use crate::upstream::{BackendSpec, Hooks, LinkSet, ListChange, Pool, UpstreamError};

/// Keys of stateless callers' forwarded calls (their JSON-RPC ids are not unique in a view).
static NEXT_MODERN_CALL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Capacity of each call's stream of related messages.
const CALL_STREAM_CAPACITY: usize = 1024;

/// How the edge should answer a client request.
pub enum Reply {
    /// One JSON response.
    Json(Value),
    /// A forwarded call still running: its related messages, then its response.
    Call(Call),
}

/// What every request shares: the guard chain, integrity review, backends, naming, meta-tools
/// and workflows.
pub struct Router {
    pub guard: Arc<Guard>,
    /// Pins, drift and poisoning review of every catalog a backend lists.
    pub integrity: Arc<crate::integrity::Monitor>,
    pub backends: Vec<Arc<BackendSpec>>,
    pub namer: Namer,
    pub page_size: usize,
    /// Meta-tools (`find_tool`, `call_tool`): config, analyzer, optional embedder.
    pub meta: Arc<crate::meta::Runtime>,
    /// `find_tool` indexes, one per catalog version and visible slice, shared by callers.
    meta_cache: crate::meta::cache::IndexCache,
    /// Workflows exposed as tools.
    pub workflows: crate::workflow::Workflows,
    /// Every upstream session, shared by the clients that may share one.
    pub pool: Arc<Pool>,
    /// Views of callers without a session (2026-07-28).
    pub stateless: stateless::Stateless,
    /// Seals and opens the `requestState` of multi round-trip requests.
    sealer: seal::Sealer,
    /// Calls held open upstream while their 2026-07-28 client answers.
    parked: mrtr::ParkedCalls,
    /// Requests sent to 2025-era clients for 2026-07-28 backends, awaiting the answer.
    bridged: mrtr::Bridged,
    /// Tasks (the tasks extension) created through the gateway: whose, and on which backend.
    tasks: tasks::Tasks,
    /// Last capabilities each backend announced, used while it is down.
    known_caps: Mutex<HashMap<String, Value>>,
}

/// One request's context: who calls (this request's own principal), with which client, through
/// which view of the backends.
#[derive(Clone)]
pub struct Context {
    pub principal: Arc<Principal>,
    pub client: Arc<Client>,
    pub view: Arc<View>,
}

impl Context {
    /// Whether the request speaks MCP 2026-07-28 (no session, MRTR instead of mid-call
    /// requests).
    pub fn is_modern(&self) -> bool {
        self.client.protocol_version == protocol::MODERN_VERSION
    }

    pub fn caller(&self) -> Caller<'_> {
        Caller {
            principal: &self.principal,
            client: &self.client,
        }
    }
}

/// What one client sees of the backends: its upstream sessions, the merged lists they give, and
/// the workflows it is running.
pub struct View {
    pub links: LinkSet,
    pub lists: ListCache,
    /// Client key of a running workflow → what cancels it.
    workflows: Mutex<HashMap<String, CancellationToken>>,
    /// Open `subscriptions/listen` streams (stateless callers).
    listens: Mutex<Vec<listen::Listener>>,
    /// The level a 2025-era client set with `logging/setLevel` (2026-07-28 backends get it
    /// with each request).
    log_level: Mutex<Option<String>>,
}

impl View {
    pub fn new(links: LinkSet) -> View {
        View {
            links,
            lists: ListCache::default(),
            workflows: Mutex::new(HashMap::new()),
            listens: Mutex::new(Vec::new()),
            log_level: Mutex::new(None),
        }
    }

    /// A backend said one of its lists changed: drop the merged lists it feeds (resources
    /// feed both the resource and the template list).
    pub fn list_changed(&self, list: ListChange) {
        match list {
            ListChange::Tools => {
                self.lists.take(ListKind::Tools);
            }
            ListChange::Prompts => {
                self.lists.take(ListKind::Prompts);
            }
            ListChange::Resources => {
                self.lists.take(ListKind::Resources);
                self.lists.take(ListKind::Templates);
            }
        }
    }
}

/// What a 2026-07-28 backend is told of the caller with each request: its capabilities, its
/// client, and the log level it asked for (its own, or its session's `logging/setLevel`).
fn envelope(cx: &Context) -> crate::protocol::meta::Envelope {
    let caps = if cx.client.capabilities.is_object() {
        cx.client.capabilities.clone()
    } else {
        json!({})
    };
    let mut env = crate::protocol::meta::Envelope::new(caps);
    if !cx.client.name.is_empty() {
        env.client_info = Some(json!({ "name": cx.client.name, "version": cx.client.version }));
    }
    env.log_level = cx
        .client
        .log_level
        .clone()
        .or_else(|| lock(&cx.view.log_level).clone());
    env
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another task panicked while holding it; the maps stay usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a [`Router`] is built from.
pub struct Parts {
    pub guard: Arc<Guard>,
    pub integrity: Arc<crate::integrity::Monitor>,
    pub backends: Vec<Arc<BackendSpec>>,
    pub namer: Namer,
    pub page_size: usize,
    pub meta: Arc<crate::meta::Runtime>,
    pub workflows: crate::workflow::Workflows,
    /// How long an upstream session no client uses is kept for the next one.
    pub upstream_idle: Duration,
    pub sealer: seal::Sealer,
}

impl Router {
    pub fn new(p: Parts) -> Arc<Router> {
        Arc::new_cyclic(|me: &std::sync::Weak<Router>| {
            let hooks: std::sync::Weak<dyn Hooks> = me.clone();
            Router {
                guard: p.guard,
                integrity: p.integrity,
                backends: p.backends,
                namer: p.namer,
                page_size: p.page_size,
                meta_cache: crate::meta::cache::IndexCache::new(
                    p.meta.lexicon_source(),
                    crate::meta::cache::CacheLimits::default(),
                ),
                meta: p.meta,
                workflows: p.workflows,
                pool: Pool::new(hooks, p.upstream_idle),
                stateless: stateless::Stateless::default(),
                sealer: p.sealer,
                parked: Mutex::new(HashMap::new()),
                bridged: Mutex::new(HashMap::new()),
                tasks: tasks::Tasks::default(),
                known_caps: Mutex::new(HashMap::new()),
            }
        })
    }

    /// Remember what a backend announced (the start-up probe and every upstream session).
    pub fn note_capabilities(&self, backend: &str, caps: &Value) {
        lock(&self.known_caps).insert(backend.to_owned(), caps.clone());
    }

    /// What seals `requestState` and replicas' addresses, and the cluster it shares marks with.
    pub fn sealer(&self) -> &seal::Sealer {
        &self.sealer
    }

    /// The capabilities `backend` last announced.
    pub fn known_capabilities(&self, backend: &str) -> Option<Value> {
        lock(&self.known_caps).get(backend).cloned()
    }

    /// The `list_changed` notifications a client of `backend` needs when its lists may have
    /// changed (all three when the backend never announced anything).
    pub fn list_notifications(&self, backend: Option<&str>) -> Vec<Value> {
        let caps: Vec<Value> = match backend {
            Some(b) => vec![self.known_capabilities(b).unwrap_or(Value::Null)],
            None => lock(&self.known_caps).values().cloned().collect(),
        };
        [
            ("tools", "notifications/tools/list_changed"),
            ("prompts", "notifications/prompts/list_changed"),
            ("resources", "notifications/resources/list_changed"),
        ]
        .into_iter()
        .filter(|(cap, _)| {
            caps.iter()
                .any(|c| c.get(*cap).is_some() || (backend.is_some() && c.is_null()))
        })
        .map(|(_, method)| protocol::notification(method, None))
        .collect()
    }

    /// Handle one client request (not `initialize`, which opens a session at the edge).
    pub async fn handle_request(self: &Arc<Self>, cx: &Context, msg: Value) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let method = protocol::method(&msg).unwrap_or("").to_owned();
        match method.as_str() {
            "ping" => Reply::Json(protocol::result_response(id, json!({}))),
            "initialize" => RouteError::AlreadyInitialized.reply(id),
            // Meta mode and workflows (meta.rs) decide what a tool list shows.
            "tools/list" => Reply::Json(self.tools_list(cx, &msg).await),
            "prompts/list" => Reply::Json(self.list(cx, ListKind::Prompts, &msg).await),
            "resources/list" => Reply::Json(self.list(cx, ListKind::Resources, &msg).await),
            "resources/templates/list" => {
                Reply::Json(self.list(cx, ListKind::Templates, &msg).await)
            }
            "tools/call" if self.owns_call(cx, &msg) => self.meta_call(cx, msg).await,
            "tools/call" => self.named_call(cx, ListKind::Tools, msg).await,
            "prompts/get" => self.named_call(cx, ListKind::Prompts, msg).await,
            "resources/read" => self.uri_call(cx, msg, true).await,
            "resources/subscribe" | "resources/unsubscribe" => self.uri_call(cx, msg, false).await,
            "completion/complete" => self.complete(cx, msg).await,
            "logging/setLevel" => Reply::Json(self.set_level(cx, msg).await),
            _ => RouteError::MethodNotFound(method).reply(id),
        }
    }

    /// Handle a client notification.
    pub async fn handle_notification(&self, cx: &Context, msg: Value) {
        match protocol::method(&msg).unwrap_or("") {
            "notifications/initialized" => {}
            "notifications/cancelled" => {
                let params = protocol::params(&msg);
                let Some(req_id) = params.and_then(|p| p.get("requestId")) else {
                    return;
                };
                self.cancel(cx, &id_key(req_id), params).await;
            }
            "notifications/roots/list_changed" => cx.view.links.broadcast(&msg).await,
            other => {
                tracing::debug!(method = other, "client notification not forwarded")
            }
        }
    }

    /// Handle a client response (to a request a backend sent the client).
    pub async fn handle_response(&self, cx: &Context, msg: Value) {
        if self.answer_bridged(&msg) {
            return;
        }
        cx.view.links.answer(msg).await;
    }

    /// A client cancelled its request `key`: a workflow is the gateway's own request, which it
    /// stops (cancelling its running steps at their backends); any other goes to its backend.
    async fn cancel(
        &self,
        cx: &Context,
        key: &str,
        params: Option<&serde_json::Map<String, Value>>,
    ) {
        if let Some(w) = lock(&cx.view.workflows).get(key) {
            w.cancel();
            return;
        }
        cx.view.links.cancel(key, params).await;
    }

    /// Forward with a call stream open, so the backend's related requests (sampling,
    /// elicitation) and notifications (progress, logging) reach the client while the call runs.
    fn stream_forward(&self, cx: &Context, backend: String, msg: Value) -> Reply {
        let (tx, rx) = mpsc::channel(CALL_STREAM_CAPACITY);
        let view = cx.view.clone();
        let env = envelope(cx);
        let modern = cx.is_modern();
        // Stateless requests share a view, and their ids are theirs alone: the key of the call
        // is the gateway's. Closing the stream is how such a client cancels: the backend hears
        // `notifications/cancelled`.
        let key = if modern {
            format!(
                "m{}",
                NEXT_MODERN_CALL.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            )
        } else {
            id_key(msg.get("id").unwrap_or(&Value::Null))
        };
        let cancel = (view.clone(), key.clone());
        let call = Call::new(
            async move {
                let id = msg.get("id").cloned().unwrap_or(Value::Null);
                match view.links.forward(&backend, &key, msg, tx, &env).await {
                    Ok(resp) => resp,
                    Err(e) => protocol::fault_response(id, &e),
                }
            },
            rx,
        );
        if !modern {
            return Reply::Call(call);
        }
        let call = call.on_abandon(move || {
            let (view, key) = cancel;
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let mut p = serde_json::Map::new();
                    p.insert(
                        "reason".into(),
                        Value::String("the client closed the request's stream".into()),
                    );
                    view.links.cancel(&key, Some(&p)).await;
                });
            }
        });
        Reply::Call(call)
    }

    /// Forward without a call stream: what the backend relates to the call goes to the client's
    /// standalone stream.
    async fn forward_json(&self, cx: &Context, backend: &str, msg: Value) -> Value {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let key = id_key(&id);
        // A sink nobody reads: related messages fall through to the standalone stream.
        let (tx, _) = mpsc::channel(1);
        match cx
            .view
            .links
            .forward(backend, &key, msg, tx, &envelope(cx))
            .await
        {
            Ok(resp) => resp,
            Err(e) => protocol::fault_response(id, &e),
        }
    }

    /// `logging/setLevel` goes to every backend of the caller's view that offers logging. It
    /// is not a Cedar action (it names no tool, prompt or resource, and changes only how much
    /// the caller's own upstream sessions tell it), but it is a decision: recorded.
    async fn set_level(&self, cx: &Context, msg: Value) -> Value {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        // A 2026-07-28 backend takes the level with each request instead.
        *lock(&cx.view.log_level) = protocol::params(&msg)
            .and_then(|p| p.get("level"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut rec = cx
            .caller()
            .record(crate::audit::Kind::Call, crate::audit::Decision::Allow);
        rec.request_id = Some(id.to_string());
        rec.method = Some("logging/setLevel".into());
        rec.reason = Some("not subject to policy: sets the caller's own log level".into());
        // The client chose it: at most a short string goes into the trail.
        rec.extra = protocol::params(&msg)
            .and_then(|p| p.get("level"))
            .and_then(Value::as_str)
            .map(|level| json!({ "level": level.chars().take(32).collect::<String>() }));
        self.guard.event(rec);
        let targets: Vec<_> = cx
            .view
            .links
            .up()
            .into_iter()
            .filter(|l| l.offers("logging") && !l.is_stateless())
            .collect();
        let params = msg.get("params").cloned();
        let calls = targets
            .iter()
            .map(|l| l.call("logging/setLevel", params.clone()));
        for (r, l) in futures::future::join_all(calls)
            .await
            .into_iter()
            .zip(targets.iter())
        {
            if let Err(e) = r {
                tracing::warn!(backend = %l.name(), error = %e, "logging/setLevel failed");
            }
        }
        protocol::result_response(id, json!({}))
    }
}

pub use crate::catalog::ListKind;

impl Router {
    /// What clients may read of `backend`'s server instructions (`init`: its `initialize`
    /// result, or `server/discover` in that shape). They are reviewed against their pin as any
    /// definition is, raising the same alerts; quarantined instructions (new and not approved,
    /// changed, with findings, rejected) are dropped.
    pub fn instructions_of(&self, backend: &str, init: &Value) -> Option<String> {
        let list = crate::integrity::instructions_list(init);
        let server_info = init.get("serverInfo").cloned().unwrap_or(Value::Null);
        let reviewed = self.integrity.review(
            backend,
            crate::integrity::Kind::Instructions,
            &list,
            &server_info,
            crate::integrity::Listing::Whole,
        );
        let text = reviewed.items.first()?.get("instructions")?.as_str()?;
        let held = reviewed
            .verdicts
            .get(crate::integrity::INSTRUCTIONS)
            .is_none_or(|v| v.quarantine.is_some());
        if held {
            tracing::debug!(
                backend,
                "server instructions quarantined; not given to clients"
            );
            return None;
        }
        Some(text.to_owned())
    }
}

impl Hooks for Router {
    fn before_start(&self, spec: &BackendSpec) -> Result<(), UpstreamError> {
        // What a stdio backend runs is checked against its pins before it starts.
        if let crate::upstream::SpecKind::Stdio { argv, env, cwd } = &spec.kind {
            self.integrity
                .check_executables(&spec.name, argv, env, cwd.as_deref())
                .map_err(|reason| UpstreamError::Unavailable {
                    backend: spec.name.clone(),
                    reason: reason.to_string(),
                })?;
        }
        Ok(())
    }

    fn connected(&self, backend: &str, init: &Value) {
        if let Some(caps) = init.get("capabilities") {
            self.note_capabilities(backend, caps);
        }
        // Reviewed on every connect, so drifted instructions raise their alert at once.
        let _ = self.instructions_of(backend, init);
    }

    fn call_done(
        &self,
        backend: &str,
        name: Option<&str>,
        elapsed: Duration,
        error: Option<&UpstreamError>,
    ) {
        if let Some(name) = name {
            self.guard.metrics.observe_call(backend, name, elapsed);
        }
        if let Some(e) = error {
            self.guard
                .metrics
                .record_upstream_error(e.backend(), e.into());
        }
    }
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
