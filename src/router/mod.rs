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
mod lists;
mod meta;
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
use crate::upstream::{BackendSpec, Hooks, LinkSet, UpstreamError};

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
    /// Workflows exposed as tools.
    pub workflows: crate::workflow::Workflows,
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
    pub links: Arc<LinkSet>,
    pub lists: ListCache,
    /// Client key of a running workflow → what cancels it.
    workflows: Mutex<HashMap<String, CancellationToken>>,
    /// The `find_tool` index of this view's catalog (see `meta.rs`).
    meta_index: Mutex<Option<meta::Cached>>,
}

impl View {
    pub fn new(links: Arc<LinkSet>) -> View {
        View {
            links,
            lists: ListCache::default(),
            workflows: Mutex::new(HashMap::new()),
            meta_index: Mutex::new(None),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another task panicked while holding it; the maps stay usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Router {
    pub fn new(
        guard: Arc<Guard>,
        integrity: Arc<crate::integrity::Monitor>,
        backends: Vec<Arc<BackendSpec>>,
        namer: Namer,
        page_size: usize,
        meta: Arc<crate::meta::Runtime>,
        workflows: crate::workflow::Workflows,
    ) -> Router {
        Router {
            guard,
            integrity,
            backends,
            namer,
            page_size,
            meta,
            workflows,
            known_caps: Mutex::new(HashMap::new()),
        }
    }

    /// Remember what a backend announced (the start-up probe and every upstream session).
    pub fn note_capabilities(&self, backend: &str, caps: &Value) {
        lock(&self.known_caps).insert(backend.to_owned(), caps.clone());
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
        let key = id_key(msg.get("id").unwrap_or(&Value::Null));
        let (tx, rx) = mpsc::channel(CALL_STREAM_CAPACITY);
        let links = cx.view.links.clone();
        Reply::Call(Call::new(
            async move {
                let id = msg.get("id").cloned().unwrap_or(Value::Null);
                match links.forward(&backend, &key, msg, tx).await {
                    Ok(resp) => resp,
                    Err(e) => protocol::fault_response(id, &e),
                }
            },
            rx,
        ))
    }

    /// Forward without a call stream: what the backend relates to the call goes to the client's
    /// standalone stream.
    async fn forward_json(&self, cx: &Context, backend: &str, msg: Value) -> Value {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let key = id_key(&id);
        // A sink nobody reads: related messages fall through to the standalone stream.
        let (tx, _) = mpsc::channel(1);
        match cx.view.links.forward(backend, &key, msg, tx).await {
            Ok(resp) => resp,
            Err(e) => protocol::fault_response(id, &e),
        }
    }

    async fn set_level(&self, cx: &Context, msg: Value) -> Value {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let targets: Vec<_> = cx
            .view
            .links
            .up()
            .into_iter()
            .filter(|(l, _)| l.offers("logging"))
            .collect();
        let params = msg.get("params").cloned();
        let calls = targets
            .iter()
            .map(|(_, conn)| conn.call("logging/setLevel", params.clone()));
        for (r, (l, _)) in futures::future::join_all(calls)
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
