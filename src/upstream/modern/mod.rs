//! The south side of MCP 2026-07-28: a stateless client to one backend that speaks it.
//!
//! There is no session and no handshake. Every request the gateway forwards gets a fresh
//! per-request envelope in `params._meta` (the caller's [`Envelope`]), and on HTTP the headers
//! that mirror the body (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*` from
//! the *backend's* `x-mcp-header` annotations). One [`ModernBackend`] serves every client of
//! the gateway: HTTP requests share one pooled `reqwest::Client` (built through `egress`), and a
//! stdio child is shared with requests matched by id.
//!
//! What a request answers is a [`Reply`]: the notifications the backend sends for that request
//! (progress, `notifications/message`), in order, then its response. Dropping a `Reply` before
//! the response cancels the request, as 2026-07-28 defines it per transport: on HTTP the POST
//! is aborted (closing the response stream *is* the cancellation), on stdio a
//! `notifications/cancelled` names it. A `subscriptions/listen` is a [`ListenStream`]: the
//! acknowledgement, then tagged notifications, then either the listen's result (a graceful end)
//! or a drop. [`ModernBackend::probe`] tells a modern backend from a legacy one (`server/discover`,
//! digest §6.6).
//!
//! The backend's own JSON-RPC errors (`-32601`, `-32021`, `-32022`, …) are responses, handed
//! to the caller unchanged except for the id; [`UpstreamError`] is for what is not an answer:
//! unreachable, timed out, not MCP.

mod http;
mod stdio;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{BackendSpec, SpecKind, UpstreamError};
use crate::protocol::meta::{self, Envelope, ParamHeaders};

/// A header that authenticates the gateway to the backend for one caller (what
/// `credentials::Source::header` gives).
pub type Credential = (::http::HeaderName, ::http::HeaderValue);

/// W3C trace context to propagate (SEP-414): sent as headers on HTTP and as `_meta` keys on
/// every transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub traceparent: String,
    pub tracestate: Option<String>,
}

impl Trace {
    /// The current span's context (see `telemetry::trace::outgoing`), if any.
    pub fn current() -> Option<Trace> {
        crate::telemetry::trace::outgoing().map(|(traceparent, tracestate)| Trace {
            traceparent,
            tracestate,
        })
    }
}

/// What one request needs besides its message and envelope.
#[derive(Debug, Clone, Default)]
pub struct Call<'a> {
    /// HTTP only; ignored on stdio.
    pub credential: Option<Credential>,
    /// `None`: the context of the `upstream` span this client opens for the request.
    pub trace: Option<Trace>,
    /// The `x-mcp-header` annotations of the called tool's `inputSchema` *as the backend
    /// listed it* (HTTP `tools/call` only). `None` sends no `Mcp-Param-*` header.
    pub params: Option<&'a ParamHeaders>,
}

/// What `server/discover` said.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoverInfo {
    pub supported_versions: Vec<String>,
    pub capabilities: Value,
    /// `_meta["io.modelcontextprotocol/serverInfo"]`, or a body `serverInfo` (before spec
    /// PR #3002).
    pub server_info: Option<Value>,
    pub instructions: Option<String>,
    pub ttl_ms: Option<u64>,
    pub cache_scope: Option<String>,
    /// The whole result, for fields this struct does not name.
    pub raw: Value,
}

impl DiscoverInfo {
    fn from_result(result: &Value) -> Option<DiscoverInfo> {
        let versions = result.get("supportedVersions")?.as_array()?;
        Some(DiscoverInfo {
            supported_versions: versions
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            capabilities: result
                .get("capabilities")
                .filter(|c| c.is_object())
                .cloned()
                .unwrap_or_else(|| json!({})),
            server_info: result
                .get("_meta")
                .and_then(|m| m.get(meta::key::SERVER_INFO))
                .or_else(|| result.get("serverInfo"))
                .cloned(),
            instructions: result
                .get("instructions")
                .and_then(Value::as_str)
                .map(str::to_owned),
            ttl_ms: result.get("ttlMs").and_then(Value::as_u64),
            cache_scope: result
                .get("cacheScope")
                .and_then(Value::as_str)
                .map(str::to_owned),
            raw: result.clone(),
        })
    }

    /// The newest modern version both sides speak.
    pub fn modern_version(&self) -> Option<&'static str> {
        meta::MODERN_VERSIONS
            .iter()
            .copied()
            .find(|v| self.supported_versions.iter().any(|s| s == v))
    }
}

/// Which era a backend speaks (`probe`).
#[derive(Debug, Clone, PartialEq)]
pub enum Era {
    /// It answered `server/discover` listing a modern version we speak.
    Modern(Box<DiscoverInfo>),
    /// Anything else: use `initialize`. `versions` are the legacy versions we speak that the
    /// backend named (in `-32022` `data.supported` or a `DiscoverResult`), newest first, when
    /// it named any; `evidence` says what decided it, for logs.
    Legacy {
        versions: Vec<String>,
        evidence: String,
    },
}

/// The backend's answer to one request, read in order.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyEvent {
    /// A notification for this request (`notifications/progress`, `notifications/message`).
    Notification(Value),
    /// The JSON-RPC response (a result or the backend's error), with the id the caller sent.
    Response(Value),
}

/// The answer to one request. Read it with [`Reply::next`] until the
/// [`ReplyEvent::Response`]; dropping it earlier cancels the request upstream.
pub struct Reply {
    backend: String,
    /// Bound on the whole answer (the backend's `timeout`); none for a listen after its ack.
    deadline: Option<Instant>,
    timeout: Duration,
    status: Option<u16>,
    body: Body,
}

enum Body {
    /// An `application/json` answer (or a JSON-RPC error body on a 4xx/5xx).
    Ready(Value),
    Sse(Box<http::SseBody>),
    Stdio(stdio::Pending),
    Done,
}

impl Reply {
    /// The next notification, or the response. After the response (or an error) the reply is
    /// finished and further calls fail. Cancel-safe: a `select!` may drop this future.
    pub async fn next(&mut self) -> Result<ReplyEvent, UpstreamError> {
        let fut = async {
            match &mut self.body {
                Body::Ready(_) => match std::mem::replace(&mut self.body, Body::Done) {
                    Body::Ready(v) => Ok(ReplyEvent::Response(v)),
                    _ => Err(finished(&self.backend)),
                },
                Body::Sse(s) => s.next().await,
                Body::Stdio(p) => p.next().await,
                Body::Done => Err(finished(&self.backend)),
            }
        };
        let result = match self.deadline {
            Some(at) => match tokio::time::timeout_at(at, fut).await {
                Ok(r) => r,
                Err(_) => Err(UpstreamError::Timeout {
                    backend: self.backend.clone(),
                    secs: self.timeout.as_secs(),
                }),
            },
            None => fut.await,
        };
        match &result {
            Ok(ReplyEvent::Notification(_)) => {}
            Ok(ReplyEvent::Response(_)) => self.finish(true),
            Err(_) => self.finish(false),
        }
        result
    }

    /// Skip the notifications and return the response.
    pub async fn response(mut self) -> Result<Value, UpstreamError> {
        loop {
            if let ReplyEvent::Response(v) = self.next().await? {
                return Ok(v);
            }
        }
    }

    /// The HTTP status of the answer (`None` on stdio).
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// Whether the backend answered with a stream (`text/event-stream` or stdio) rather than
    /// one JSON body: then notifications may precede the response.
    pub fn is_stream(&self) -> bool {
        matches!(self.body, Body::Sse(_) | Body::Stdio(_))
    }

    fn finish(&mut self, answered: bool) {
        match std::mem::replace(&mut self.body, Body::Done) {
            // After a failure the stream is just dropped: that closes it.
            Body::Sse(s) if answered => s.finish(),
            Body::Stdio(p) => p.finish(answered),
            Body::Sse(_) | Body::Ready(_) | Body::Done => {}
        }
    }
}

fn finished(backend: &str) -> UpstreamError {
    UpstreamError::Protocol {
        backend: backend.to_owned(),
        reason: "this reply was already read to its end".into(),
    }
}

/// What a `subscriptions/listen` stream carries.
#[derive(Debug, Clone)]
pub enum ListenEvent {
    /// `notifications/subscriptions/acknowledged`: `params.notifications` is the subset of the
    /// filter the backend honours. Always the first event of a stream that was accepted.
    Ack(Value),
    /// A change notification carrying this listen's `subscriptionId`.
    Notification(Value),
    /// The listen's JSON-RPC response: a result is a graceful end (the backend closed the
    /// subscription, e.g. on shutdown); an error is a refusal (`-32601`, `-32021`, …).
    /// The stream is over.
    Response(Value),
    /// The stream broke without a response: the backend went away. Re-listen and refetch
    /// (2026-07-28 has no replay). The stream is over.
    Dropped(UpstreamError),
}

/// A `subscriptions/listen` in progress. Dropping it ends the subscription upstream.
pub struct ListenStream {
    backend: String,
    id: Value,
    reply: Option<Reply>,
    acked: bool,
}

impl ListenStream {
    /// The subscription id: the listen request's JSON-RPC id, which tags its notifications.
    pub fn subscription_id(&self) -> &Value {
        &self.id
    }

    /// The next event. After [`ListenEvent::Response`] or [`ListenEvent::Dropped`] every call
    /// returns `Dropped`. Notifications not tagged with this subscription id, and progress or
    /// log messages (which never belong on a listen stream), are skipped and logged.
    pub async fn next(&mut self) -> ListenEvent {
        loop {
            let Some(reply) = self.reply.as_mut() else {
                return ListenEvent::Dropped(UpstreamError::Unavailable {
                    backend: self.backend.clone(),
                    reason: "the listen stream is over".into(),
                });
            };
            let event = reply.next().await;
            match event {
                Ok(ReplyEvent::Response(v)) => {
                    self.reply = None;
                    return ListenEvent::Response(v);
                }
                Err(e) => {
                    self.reply = None;
                    return ListenEvent::Dropped(e);
                }
                Ok(ReplyEvent::Notification(n)) => {
                    let method = n.get("method").and_then(Value::as_str).unwrap_or("");
                    let tagged = meta::subscription_id(&n) == Some(&self.id);
                    if method == "notifications/subscriptions/acknowledged" && tagged {
                        // The ack ends the bound on waiting: the stream may now stay quiet.
                        reply.deadline = None;
                        self.acked = true;
                        let honoured = n
                            .get("params")
                            .and_then(|p| p.get("notifications"))
                            .cloned()
                            .unwrap_or_else(|| json!({}));
                        return ListenEvent::Ack(honoured);
                    }
                    if tagged && self.acked {
                        return ListenEvent::Notification(n);
                    }
                    tracing::warn!(
                        backend = %reply.backend,
                        method,
                        "notification on a listen stream without this listen's subscription id, \
                         or before its acknowledgement; skipped"
                    );
                }
            }
        }
    }
}

/// A 2026-07-28 client to one backend, shared by every caller.
pub struct ModernBackend {
    spec: Arc<BackendSpec>,
    transport: Transport,
}

enum Transport {
    Http(http::HttpBackend),
    Stdio(stdio::StdioBackend),
}

impl ModernBackend {
    /// HTTP: no I/O (connections open on demand, pooled). stdio: starts the child.
    pub fn connect(spec: Arc<BackendSpec>) -> Result<ModernBackend, UpstreamError> {
        let transport = match &spec.kind {
            SpecKind::Http { .. } => Transport::Http(http::HttpBackend::new(&spec)?),
            SpecKind::Stdio { .. } => Transport::Stdio(stdio::StdioBackend::spawn(&spec)?),
        };
        Ok(ModernBackend { spec, transport })
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn spec(&self) -> &Arc<BackendSpec> {
        &self.spec
    }

    /// Send one JSON-RPC request (already carrying the backend's own tool name or URI and the
    /// gateway's upstream id) with `env` written into its `params._meta`; other `_meta` keys
    /// (`progressToken`, vendor keys) are kept. Returns once the backend has started to
    /// answer; read the answer from the [`Reply`]. The response carries the id of `msg`.
    pub async fn request(
        &self,
        env: &Envelope,
        msg: Value,
        call: Call<'_>,
    ) -> Result<Reply, UpstreamError> {
        let msg = self.prepare(env, msg, &call)?;
        let timeout = self.spec.timeout;
        let deadline = Instant::now() + timeout;
        self.send(msg, call, timeout, Some(deadline)).await
    }

    /// `server/discover`. A JSON-RPC error is an [`UpstreamError::Protocol`] naming it.
    pub async fn discover(
        &self,
        env: &Envelope,
        call: Call<'_>,
    ) -> Result<DiscoverInfo, UpstreamError> {
        let resp = self.discover_raw(env, call).await?;
        if let Some(info) = resp.get("result").and_then(DiscoverInfo::from_result) {
            return Ok(info);
        }
        Err(self.protocol(format!(
            "`server/discover` did not return a DiscoverResult: {}",
            clip(&resp.to_string())
        )))
    }

    async fn discover_raw(&self, env: &Envelope, call: Call<'_>) -> Result<Value, UpstreamError> {
        let id = json!(format!("discover-{}", next_probe_id()));
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": "server/discover", "params": {}});
        let msg = self.prepare(env, msg, &call)?;
        let timeout = self.spec.init_timeout;
        let deadline = Instant::now() + timeout;
        self.send(msg, call, timeout, Some(deadline))
            .await?
            .response()
            .await
    }

    /// Tell a modern backend from a legacy one (digest §6.6, `stdio.mdx` §Backward
    /// Compatibility): `server/discover` with the modern envelope. A `DiscoverResult` listing a
    /// modern version we speak → [`Era::Modern`]; `-32022` or a `DiscoverResult` naming only
    /// legacy versions we speak → [`Era::Legacy`] with them; any other JSON-RPC error, an HTTP
    /// 4xx without a JSON-RPC body, or no answer within `init_timeout` → [`Era::Legacy`].
    /// Transport failures and 5xx are errors (a verdict is cached; a flaky moment should not
    /// decide it), and so is a modern backend that speaks none of our versions.
    pub async fn probe(&self, env: &Envelope, call: Call<'_>) -> Result<Era, UpstreamError> {
        match self.discover_raw(env, call).await {
            Ok(resp) => self.verdict(&resp),
            Err(UpstreamError::Timeout { secs, .. }) => Ok(Era::Legacy {
                versions: Vec::new(),
                evidence: format!("no answer to `server/discover` within {secs} s"),
            }),
            Err(UpstreamError::Protocol { reason, .. }) if reason.starts_with(NOT_JSON_RPC) => {
                Ok(Era::Legacy {
                    versions: Vec::new(),
                    evidence: reason,
                })
            }
            // Any other answer that is not a 2026-07-28 one (a 202, an HTML page, a broken
            // body) says nothing of the 2025 era: `initialize` decides, and a backend broken
            // for both gets that era's specific error there.
            Err(UpstreamError::Protocol { reason, .. }) => Ok(Era::Legacy {
                versions: Vec::new(),
                evidence: format!("no 2026-07-28 answer to `server/discover`: {reason}"),
            }),
            Err(e) => Err(e),
        }
    }

    fn verdict(&self, resp: &Value) -> Result<Era, UpstreamError> {
        if let Some(result) = resp.get("result") {
            let Some(info) = DiscoverInfo::from_result(result) else {
                return Ok(Era::Legacy {
                    versions: Vec::new(),
                    evidence: "`server/discover` result without `supportedVersions`".into(),
                });
            };
            if info.modern_version().is_some() {
                return Ok(Era::Modern(Box::new(info)));
            }
            let versions = legacy_versions(&info.supported_versions);
            if versions.is_empty() {
                return Err(self.incompatible(&info.supported_versions));
            }
            return Ok(Era::Legacy {
                versions,
                evidence: "`server/discover` lists only legacy versions".into(),
            });
        }
        let err = resp.get("error").cloned().unwrap_or(Value::Null);
        let code = err.get("code").and_then(Value::as_i64).unwrap_or(0);
        match code {
            meta::code::UNSUPPORTED_PROTOCOL_VERSION => {
                let supported: Vec<String> = err
                    .get("data")
                    .and_then(|d| d.get("supported"))
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                let versions = legacy_versions(&supported);
                if versions.is_empty() {
                    return Err(self.incompatible(&supported));
                }
                Ok(Era::Legacy {
                    versions,
                    evidence: "`server/discover` answered -32022 naming legacy versions".into(),
                })
            }
            meta::code::HEADER_MISMATCH => Err(self.protocol(format!(
                "the backend refused the gateway's `server/discover` headers (-32020): {}",
                clip(&err.to_string())
            ))),
            _ => Ok(Era::Legacy {
                versions: Vec::new(),
                evidence: format!("`server/discover` answered {}", clip(&err.to_string())),
            }),
        }
    }

    /// Open a `subscriptions/listen` with this `filter` (its `params.notifications`) under
    /// JSON-RPC id `id`, which the backend echoes as the subscription id. Returns once the
    /// backend has started to answer; the first event is then the acknowledgement (within the
    /// backend's `timeout`) or the backend's error response.
    pub async fn listen(
        &self,
        env: &Envelope,
        id: Value,
        filter: Value,
        call: Call<'_>,
    ) -> Result<ListenStream, UpstreamError> {
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": "subscriptions/listen",
            "params": {"notifications": filter}});
        let msg = self.prepare(env, msg, &call)?;
        let timeout = self.spec.timeout;
        let reply = self
            .send(msg, call, timeout, Some(Instant::now() + timeout))
            .await?;
        Ok(ListenStream {
            backend: self.spec.name.clone(),
            id,
            reply: Some(reply),
            acked: false,
        })
    }

    /// Whether the backend can take requests (a stdio child that exited cannot).
    pub fn is_alive(&self) -> bool {
        match &self.transport {
            Transport::Http(_) => true,
            Transport::Stdio(s) => s.is_alive(),
        }
    }

    /// stdio: close the child's stdin, then end it. HTTP: nothing to close.
    pub async fn close(&self) {
        if let Transport::Stdio(s) = &self.transport {
            s.close().await;
        }
    }

    fn prepare(
        &self,
        env: &Envelope,
        mut msg: Value,
        call: &Call<'_>,
    ) -> Result<Value, UpstreamError> {
        if crate::protocol::classify(&msg).ok() != Some(crate::protocol::Kind::Request) {
            return Err(self.protocol(
                "the gateway tried to send something that is not a JSON-RPC request".into(),
            ));
        }
        if !env.apply(&mut msg) {
            return Err(self.protocol("the request's `params` is not an object".into()));
        }
        if let Some(t) = &call.trace {
            set_trace(&mut msg, t);
        }
        Ok(msg)
    }

    async fn send(
        &self,
        msg: Value,
        call: Call<'_>,
        timeout: Duration,
        deadline: Option<Instant>,
    ) -> Result<Reply, UpstreamError> {
        let fut = async {
            match &self.transport {
                Transport::Http(h) => h.send(msg, &call).await,
                Transport::Stdio(s) => s.send(msg).await,
            }
        };
        let body =
            match deadline {
                Some(at) => tokio::time::timeout_at(at, fut).await.map_err(|_| {
                    UpstreamError::Timeout {
                        backend: self.spec.name.clone(),
                        secs: timeout.as_secs(),
                    }
                })??,
                None => fut.await?,
            };
        Ok(Reply {
            backend: self.spec.name.clone(),
            deadline,
            timeout,
            status: body.1,
            body: body.0,
        })
    }

    fn protocol(&self, reason: String) -> UpstreamError {
        UpstreamError::Protocol {
            backend: self.spec.name.clone(),
            reason,
        }
    }

    fn incompatible(&self, supported: &[String]) -> UpstreamError {
        UpstreamError::Unavailable {
            backend: self.spec.name.clone(),
            reason: format!(
                "it speaks none of the protocol versions the gateway speaks (it supports `{}`)",
                clip(&supported.join(", "))
            ),
        }
    }
}

/// Prefix of the `Protocol` reason for an HTTP 400, 404 or 405 without a JSON-RPC body (legacy
/// evidence for a probe).
const NOT_JSON_RPC: &str = "HTTP error without a JSON-RPC body";

/// The legacy versions we speak among `named`, in our order (newest first).
fn legacy_versions(named: &[String]) -> Vec<String> {
    crate::protocol::SUPPORTED_VERSIONS
        .iter()
        .filter(|v| named.iter().any(|n| n == *v))
        .map(|v| (*v).to_owned())
        .collect()
}

fn set_trace(msg: &mut Value, t: &Trace) {
    use crate::protocol::{field_mut, get};
    if let Some(meta) = field_mut(msg, "params")
        .and_then(|p| field_mut(p, "_meta"))
        .and_then(Value::as_object_mut)
    {
        crate::protocol::set(meta, meta::key::TRACEPARENT, json!(t.traceparent));
        match &t.tracestate {
            Some(s) => crate::protocol::set(meta, meta::key::TRACESTATE, json!(s)),
            None => {
                if get(meta, meta::key::TRACESTATE).is_some() {
                    meta.remove(meta::key::TRACESTATE);
                }
            }
        }
    }
}

fn next_probe_id() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// At most 200 characters of an untrusted text, for an error message.
fn clip(s: &str) -> String {
    s.chars().take(200).collect()
}

/// What a backend sent on a request's stream, classified against the request's id.
fn classify_for(backend: &str, msg: Value, id: &Value) -> Result<ReplyEvent, UpstreamError> {
    let protocol = |reason: String| UpstreamError::Protocol {
        backend: backend.to_owned(),
        reason,
    };
    match (
        crate::protocol::field(&msg, "method"),
        crate::protocol::field(&msg, "id"),
    ) {
        (Some(_), None) => Ok(ReplyEvent::Notification(msg)),
        (Some(m), Some(_)) => Err(protocol(format!(
            "it sent a JSON-RPC request (`{}`) on a response stream, which 2026-07-28 forbids",
            clip(m.as_str().unwrap_or("?"))
        ))),
        (None, Some(got)) if got == id => Ok(ReplyEvent::Response(msg)),
        (None, got) => Err(protocol(format!(
            "it answered id `{}` on the stream of request `{id}`",
            clip(&got.map(Value::to_string).unwrap_or_default())
        ))),
    }
}

#[cfg(test)]
mod tests;
