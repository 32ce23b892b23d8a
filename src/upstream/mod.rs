//! Connections from the gateway to backends: Streamable HTTP and stdio children.
//!
//! A [`Conn`] is one MCP session with one backend. It assigns its own request ids (so ids from
//! different clients never collide upstream), matches responses to pending requests, and hands
//! every other message the backend sends (server-to-client requests and notifications) to the
//! `inbound` channel given at connect time, tagged with the upstream request whose response
//! stream carried it when the transport tells us (HTTP SSE), so the session can send it on the
//! right client stream. When the connection dies, pending requests fail and the inbound channel
//! closes: that is how the owner learns the backend went down.

pub mod http;
mod links;
pub mod modern;
pub mod probe;
pub mod stdio;

pub use links::{
    BackendState, Client, Eras, Forwarded, Hooks, Link, LinkSet, ListChange, Owner, Pool,
    probe_eras, profile_of,
};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::config::{self, ConfigError};
use crate::protocol;

/// A message the backend sent us that is not a response to one of our requests.
#[derive(Debug)]
pub struct Inbound {
    pub msg: Value,
    /// Upstream request id whose response stream carried this message, if known.
    pub related: Option<u64>,
    /// A flush marker (`msg` is null): the owner answers it once every message queued before it
    /// has been handled. See [`Conn::flush_inbound`].
    pub flushed: Option<oneshot::Sender<()>>,
}

/// How many of a connection's inbound messages were queued and how many its owner handled:
/// when the two agree there is nothing to flush, and [`Conn::flush_inbound`] returns at once
/// instead of a round trip through the owner's task on every call.
#[derive(Debug, Default)]
pub struct InboundCount {
    queued: AtomicU64,
    handled: AtomicU64,
}

/// The sending side of a connection's inbound queue, counting what it queues.
#[derive(Clone)]
pub(crate) struct InboundTx {
    tx: mpsc::Sender<Inbound>,
    count: Arc<InboundCount>,
}

impl InboundTx {
    pub(crate) async fn send(&self, msg: Inbound) -> Result<(), mpsc::error::SendError<Inbound>> {
        // Counted before it is queued, so a flush that starts after this send sees it pending.
        self.count.queued.fetch_add(1, Ordering::SeqCst);
        self.tx.send(msg).await
    }

    pub(crate) fn raw(&self) -> &mpsc::Sender<Inbound> {
        &self.tx
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    #[error("backend `{backend}` is unavailable: {reason}")]
    Unavailable { backend: String, reason: String },
    #[error("backend `{backend}` did not answer within {secs} s")]
    Timeout { backend: String, secs: u64 },
    #[error("backend `{backend}` sent an invalid response: {reason}")]
    Protocol { backend: String, reason: String },
    #[error("backend `{backend}` ended the upstream session")]
    SessionExpired { backend: String },
    #[error("no credential for backend `{backend}`: {reason}; nothing was sent to it")]
    Credentials { backend: String, reason: String },
    #[error("the request to backend `{backend}` was cancelled by the client")]
    Cancelled { backend: String },
}

impl From<&UpstreamError> for crate::telemetry::UpstreamErrorKind {
    fn from(e: &UpstreamError) -> Self {
        match e {
            UpstreamError::Unavailable { .. } => crate::telemetry::UpstreamErrorKind::Unavailable,
            UpstreamError::Timeout { .. } => crate::telemetry::UpstreamErrorKind::Timeout,
            UpstreamError::Protocol { .. } => crate::telemetry::UpstreamErrorKind::Protocol,
            UpstreamError::SessionExpired { .. } => {
                crate::telemetry::UpstreamErrorKind::SessionExpired
            }
            UpstreamError::Credentials { .. } => crate::telemetry::UpstreamErrorKind::Credentials,
            UpstreamError::Cancelled { .. } => crate::telemetry::UpstreamErrorKind::Cancelled,
        }
    }
}

impl protocol::Fault for UpstreamError {
    fn code(&self) -> i64 {
        UpstreamError::code(self)
    }
    fn data(&self) -> Option<Value> {
        Some(json!({ "backend": self.backend() }))
    }
}

impl UpstreamError {
    pub fn code(&self) -> i64 {
        match self {
            UpstreamError::Unavailable { .. } | UpstreamError::SessionExpired { .. } => {
                protocol::code::BACKEND_UNAVAILABLE
            }
            UpstreamError::Credentials { .. } => protocol::code::BACKEND_CREDENTIALS,
            UpstreamError::Timeout { .. } => protocol::code::BACKEND_TIMEOUT,
            UpstreamError::Protocol { .. } => protocol::code::BACKEND_PROTOCOL,
            UpstreamError::Cancelled { .. } => protocol::code::REQUEST_CANCELLED,
        }
    }
    /// Whether the error says something about the backend itself, rather than about one
    /// caller: a credential that could not be had for this caller (nothing was sent to the
    /// backend) or a cancelled request says nothing about the backend's health.
    pub fn is_about_backend(&self) -> bool {
        !matches!(
            self,
            UpstreamError::Credentials { .. } | UpstreamError::Cancelled { .. }
        )
    }

    pub fn backend(&self) -> &str {
        match self {
            UpstreamError::Unavailable { backend, .. }
            | UpstreamError::Timeout { backend, .. }
            | UpstreamError::Protocol { backend, .. }
            | UpstreamError::SessionExpired { backend }
            | UpstreamError::Credentials { backend, .. }
            | UpstreamError::Cancelled { backend } => backend,
        }
    }
}

/// Everything needed to open a connection to one backend; built once from config.
#[derive(Debug, Clone)]
pub struct BackendSpec {
    pub name: String,
    pub kind: SpecKind,
    pub timeout: Duration,
    pub init_timeout: Duration,
    pub max_message_bytes: usize,
    pub max_json_depth: usize,
    /// What this backend is given to authenticate each request (HTTP only).
    pub credentials: Arc<crate::credentials::Source>,
    /// stdio: rlimits applied when the child starts. `SpecKind::Stdio::argv` stays the
    /// backend's own program (what integrity pins); the `prlimit` prefix is added at spawn.
    pub resource_limits: Option<stdio::ResourceLimits>,
    /// Which clients share one upstream session.
    pub sharing: config::UpstreamSharing,
    /// Which era to speak to it (`auto`: what the start-up probe found).
    pub protocol: config::BackendProtocol,
    /// `dangerous_unlisted_resources`: reads of URIs no catalog lists may go here.
    pub dangerous_unlisted_resources: bool,
}

#[derive(Debug, Clone)]
pub enum SpecKind {
    Http {
        url: String,
        client: reqwest::Client,
    },
    Stdio {
        argv: Vec<String>,
        env: Vec<(String, String)>,
        cwd: Option<PathBuf>,
    },
}

/// What [`BackendSpec::from_config`] needs besides the backend's own section.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// `[http]`: the size and depth bounds of what backends send.
    pub http: &'a config::HttpLimits,
    /// The config's directory: relative paths (`cwd`, `ca`) and secret files resolve against
    /// it.
    pub base_dir: &'a Path,
    /// The SSRF guard HTTP backends and token endpoints are reached through.
    pub egress: &'a Arc<crate::egress::Egress>,
}

impl BackendSpec {
    pub fn from_config(b: &config::Backend, setup: Setup<'_>) -> Result<Self, ConfigError> {
        let limits = setup.http;
        let kind = match (&b.url, &b.command) {
            (Some(url), _) => SpecKind::Http {
                url: url.clone(),
                client: http::build_client(b, setup.base_dir, setup.egress)?,
            },
            (None, Some(argv)) => {
                let mut argv = argv.clone();
                if let Some(first) = argv.first_mut() {
                    if first == "$PORTCULLIS" {
                        *first = std::env::current_exe()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|_| "portcullis".into());
                    }
                }
                let mut env = Vec::new();
                for (k, v) in &b.env {
                    env.push((k.clone(), v.resolve(setup.base_dir)?));
                }
                SpecKind::Stdio {
                    argv,
                    env,
                    cwd: b.cwd.as_ref().map(|c| setup.base_dir.join(c)),
                }
            }
            (None, None) => {
                return Err(ConfigError::Secret {
                    what: format!("backend `{}`", b.name),
                    message: "needs `url` or `command`".into(),
                });
            }
        };
        Ok(Self {
            name: b.name.clone(),
            kind,
            timeout: Duration::from_secs(b.timeout_secs),
            init_timeout: Duration::from_secs(b.init_timeout_secs),
            max_message_bytes: limits.max_upstream_message_bytes,
            max_json_depth: limits.max_json_depth.max(128),
            credentials: Arc::new(crate::credentials::Source::from_config(
                b,
                setup.base_dir,
                setup.egress,
            )?),
            resource_limits: b.resource_limits.clone(),
            sharing: b.upstream_sessions,
            protocol: b.protocol,
            dangerous_unlisted_resources: b.dangerous_unlisted_resources,
        })
    }

    pub fn is_stdio(&self) -> bool {
        matches!(self.kind, SpecKind::Stdio { .. })
    }
}

/// Responses we are waiting for, by upstream id.
#[derive(Default)]
pub(crate) struct Pending {
    map: std::sync::Mutex<HashMap<u64, oneshot::Sender<Result<Value, UpstreamError>>>>,
}

impl Pending {
    pub(crate) fn insert(&self, id: u64) -> oneshot::Receiver<Result<Value, UpstreamError>> {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut m) = self.map.lock() {
            m.insert(id, tx);
        }
        rx
    }
    pub(crate) fn remove(&self, id: u64) {
        if let Ok(mut m) = self.map.lock() {
            m.remove(&id);
        }
    }
    /// Deliver a response; returns it back if nobody waits for that id.
    pub(crate) fn complete(&self, msg: Value) -> Option<Value> {
        let Some(id) = msg.get("id").and_then(Value::as_u64) else {
            return Some(msg);
        };
        let tx = self.map.lock().ok().and_then(|mut m| m.remove(&id));
        match tx {
            Some(tx) => {
                let _ = tx.send(Ok(msg));
                None
            }
            None => Some(msg),
        }
    }
    /// A message from the backend to where it goes: the waiting request if it is a response
    /// to one, else the owner's inbound queue (`related`: the request whose response stream
    /// carried it). False when that queue is closed.
    pub(crate) async fn deliver(
        &self,
        msg: Value,
        inbound: &InboundTx,
        related: Option<u64>,
    ) -> bool {
        let Some(other) = self.complete(msg) else {
            return true;
        };
        inbound
            .send(Inbound {
                msg: other,
                related,
                flushed: None,
            })
            .await
            .is_ok()
    }
    pub(crate) fn fail_all(&self, err: &UpstreamError) {
        let drained: Vec<_> = self
            .map
            .lock()
            .map(|mut m| m.drain().collect())
            .unwrap_or_default();
        for (_, tx) in drained {
            let _ = tx.send(Err(err.clone()));
        }
    }
}

/// One MCP session with one backend.
pub struct Conn {
    pub spec: Arc<BackendSpec>,
    next_id: AtomicU64,
    inner: Inner,
    inbound_count: Arc<InboundCount>,
}

enum Inner {
    Stdio(stdio::StdioConn),
    Http(Box<http::HttpConn>),
}

impl Conn {
    /// Open the transport and run the MCP handshake with the client's own `initialize` params
    /// (forwarded untouched). Returns the connection and the backend's `initialize` result.
    pub async fn connect(
        spec: Arc<BackendSpec>,
        init_params: Value,
        inbound: mpsc::Sender<Inbound>,
        binding: Option<crate::credentials::Binding>,
    ) -> Result<(Arc<Conn>, Value), UpstreamError> {
        let secs = spec.init_timeout.as_secs();
        let name = spec.name.clone();
        let fut = Self::connect_inner(spec, init_params, inbound, binding);
        match tokio::time::timeout(spec_timeout(secs), fut).await {
            Ok(r) => r,
            Err(_) => Err(UpstreamError::Timeout {
                backend: name,
                secs,
            }),
        }
    }

    async fn connect_inner(
        spec: Arc<BackendSpec>,
        init_params: Value,
        inbound: mpsc::Sender<Inbound>,
        binding: Option<crate::credentials::Binding>,
    ) -> Result<(Arc<Conn>, Value), UpstreamError> {
        let inbound_count = Arc::new(InboundCount::default());
        let inbound = InboundTx {
            tx: inbound,
            count: inbound_count.clone(),
        };
        let inner = match &spec.kind {
            SpecKind::Stdio { .. } => Inner::Stdio(stdio::StdioConn::spawn(&spec, inbound)?),
            SpecKind::Http { .. } => {
                Inner::Http(Box::new(http::HttpConn::new(&spec, inbound, binding)))
            }
        };
        let conn = Arc::new(Conn {
            spec: spec.clone(),
            next_id: AtomicU64::new(1),
            inner,
            inbound_count,
        });
        let req = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init_params});
        let resp = conn.request_raw(req, spec.init_timeout).await?;
        let result = match (resp.get("result"), resp.get("error")) {
            (Some(r), _) if r.is_object() => r.clone(),
            (_, Some(e)) => {
                return Err(UpstreamError::Unavailable {
                    backend: spec.name.clone(),
                    reason: format!("initialize was refused: {e}"),
                });
            }
            _ => {
                return Err(UpstreamError::Protocol {
                    backend: spec.name.clone(),
                    reason: "initialize result is not an object".into(),
                });
            }
        };
        if let Inner::Http(h) = &conn.inner {
            let version = result
                .get("protocolVersion")
                .and_then(Value::as_str)
                .unwrap_or(protocol::LATEST_VERSION);
            h.set_protocol_version(version);
        }
        conn.send(protocol::notification("notifications/initialized", None))
            .await?;
        if let Inner::Http(h) = &conn.inner {
            h.start_get_stream(Arc::downgrade(&conn));
        }
        Ok((conn, result))
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Reserve an upstream request id (so the caller can map cancellations before sending).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Send a request under upstream id `id`, replacing whatever id `msg` carries, and wait for
    /// the response (whose `id` is our upstream id: the caller restores the client's id).
    pub async fn request_with_id(&self, id: u64, mut msg: Value) -> Result<Value, UpstreamError> {
        if let Some(obj) = msg.as_object_mut() {
            obj.insert("id".into(), Value::from(id));
        }
        self.request_raw(msg, self.spec.timeout).await
    }

    /// Convenience: a gateway-originated request.
    pub async fn call(&self, method: &str, params: Option<Value>) -> Result<Value, UpstreamError> {
        let mut msg = json!({"jsonrpc": "2.0", "id": 0, "method": method});
        if let (Some(p), Some(obj)) = (params, msg.as_object_mut()) {
            obj.insert("params".into(), p);
        }
        let id = self.next_id();
        self.request_with_id(id, msg).await
    }

    async fn request_raw(&self, msg: Value, timeout: Duration) -> Result<Value, UpstreamError> {
        let id = msg.get("id").and_then(Value::as_u64).unwrap_or(0);
        let fut = async {
            match &self.inner {
                Inner::Stdio(s) => s.request(id, msg).await,
                Inner::Http(h) => h.request(id, msg).await,
            }
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => {
                self.pending().remove(id);
                Err(UpstreamError::Timeout {
                    backend: self.spec.name.clone(),
                    secs: timeout.as_secs(),
                })
            }
        }
    }

    /// Wait until the owner has handled every inbound message queued so far. A response comes
    /// back to the caller directly while the backend's earlier messages for the same request
    /// (progress, logging) wait in the inbound queue: without this, the caller could answer the
    /// client and close its stream before they are delivered, and they would be lost.
    /// The owner handled one inbound message (not a flush marker).
    pub fn inbound_handled(&self) {
        self.inbound_count.handled.fetch_add(1, Ordering::SeqCst);
    }

    pub async fn flush_inbound(&self) {
        let count = &self.inbound_count;
        if count.handled.load(Ordering::SeqCst) == count.queued.load(Ordering::SeqCst) {
            return;
        }
        let tx = match &self.inner {
            Inner::Stdio(s) => s.inbound.upgrade(),
            Inner::Http(h) => Some(h.inbound.raw().clone()),
        };
        let Some(tx) = tx else { return };
        let (done, flushed) = oneshot::channel();
        let marker = Inbound {
            msg: Value::Null,
            related: None,
            flushed: Some(done),
        };
        if tx.send(marker).await.is_ok() {
            // An owner that is gone drops the marker, which ends this wait too.
            let _ = flushed.await;
        }
    }

    /// Send a notification or a response (to a server-to-client request) to the backend.
    pub async fn send(&self, msg: Value) -> Result<(), UpstreamError> {
        match &self.inner {
            Inner::Stdio(s) => s.send(msg).await,
            Inner::Http(h) => h.send(msg).await,
        }
    }

    fn pending(&self) -> &Pending {
        match &self.inner {
            Inner::Stdio(s) => &s.pending,
            Inner::Http(h) => &h.pending,
        }
    }

    /// Whether the transport is still up (a stdio child that exited is not).
    pub fn is_alive(&self) -> bool {
        match &self.inner {
            Inner::Stdio(s) => s.is_alive(),
            Inner::Http(h) => h.is_alive(),
        }
    }

    /// End the upstream session: DELETE for HTTP, terminate the child for stdio.
    pub async fn close(&self) {
        match &self.inner {
            Inner::Stdio(s) => s.close().await,
            Inner::Http(h) => h.close().await,
        }
    }
}

fn spec_timeout(secs: u64) -> Duration {
    // The per-phase timeouts inside are authoritative; this outer bound only guards against
    // a transport that never resolves at all.
    Duration::from_secs(secs.saturating_add(1))
}

/// Parse one message from a backend, enforcing the depth limit.
pub(crate) fn parse_message(
    backend: &str,
    bytes: &[u8],
    max_depth: usize,
) -> Result<Value, UpstreamError> {
    protocol::check_depth(bytes, max_depth).map_err(|e| UpstreamError::Protocol {
        backend: backend.to_owned(),
        reason: e.to_string(),
    })?;
    let v: Value = serde_json::from_slice(bytes).map_err(|e| UpstreamError::Protocol {
        backend: backend.to_owned(),
        reason: format!("not JSON ({e})"),
    })?;
    protocol::classify(&v).map_err(|e| UpstreamError::Protocol {
        backend: backend.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(v)
}
