//! Streamable HTTP backends.
//!
//! Each request is a POST whose answer is either one JSON message or an SSE stream that may carry
//! server-to-client requests and notifications before the response. After the handshake a GET
//! stream carries what the backend sends outside any request. Sizes are bounded: a response body
//! or SSE event larger than `max_message_bytes` is refused.
//!
//! Each POST runs in an `upstream` span and carries a W3C `traceparent` naming it (see
//! [`crate::telemetry::trace`]): in the client's trace for a client's call, a fresh trace for
//! a POST the gateway makes on its own. The GET stream and the closing DELETE carry none.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tracing::Instrument;

use super::{BackendSpec, Conn, Pending, SpecKind, UpstreamError, parse_message};
use crate::config::{self, ConfigError};
use crate::protocol::sse;

/// The HTTP client of backend `b`, connecting through `egress`; a relative `ca` resolves
/// against `base_dir` (the config's directory).
pub(crate) fn build_client(
    b: &config::Backend,
    base_dir: &std::path::Path,
    egress: &Arc<crate::egress::Egress>,
) -> Result<reqwest::Client, ConfigError> {
    // The guard: connections only to allowed addresses, no proxy, no redirects (a backend
    // that answers 3xx gets an error naming the target; see `request_inner`).
    if let Some(url) = &b.url {
        // INVARIANT: config validation checked this already; kept for configs built in code.
        egress.check_url(url).map_err(|e| ConfigError::Secret {
            what: format!("URL of backend `{}`", b.name),
            message: e.to_string(),
        })?;
    }
    let mut builder = egress
        .client_builder()
        .connect_timeout(Duration::from_secs(b.init_timeout_secs.min(30)))
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &b.ca {
        let path = base_dir.join(ca);
        let pem = std::fs::read(&path).map_err(|e| ConfigError::Secret {
            what: format!("CA bundle `{}` of backend `{}`", path.display(), b.name),
            message: e.to_string(),
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ConfigError::Secret {
                what: format!("CA bundle `{}` of backend `{}`", path.display(), b.name),
                message: e.to_string(),
            })?;
        for c in certs {
            builder = builder.add_root_certificate(c);
        }
    }
    builder.build().map_err(|e| ConfigError::Secret {
        what: format!("HTTP client of backend `{}`", b.name),
        message: e.to_string(),
    })
}

/// Why an HTTP backend cannot be reached at its URL, or its answer's body cannot be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// The backend's `url` does not parse.
    #[error("invalid URL `{url}`: {source}")]
    Url {
        url: String,
        source: url::ParseError,
    },
    /// The body stopped arriving (connection reset, timeout); the message has the causes.
    #[error("{}", describe(.0))]
    Read(reqwest::Error),
    /// The body is larger than `max_message_bytes`.
    #[error("response larger than {max} bytes")]
    TooLarge { max: usize },
}

pub(crate) struct HttpConn {
    name: String,
    /// Parsed once: reqwest would parse a `&str` again on every request.
    url: Result<reqwest::Url, HttpError>,
    client: reqwest::Client,
    pub(crate) pending: Arc<Pending>,
    pub(crate) inbound: super::InboundTx,
    session_id: Mutex<Option<String>>,
    protocol_version: Mutex<Option<String>>,
    alive: Arc<AtomicBool>,
    max: usize,
    depth: usize,
    binding: Option<crate::credentials::Binding>,
}

impl HttpConn {
    pub(crate) fn new(
        spec: &BackendSpec,
        inbound: super::InboundTx,
        binding: Option<crate::credentials::Binding>,
    ) -> Self {
        let (url, client) = match &spec.kind {
            SpecKind::Http { url, client } => (url.clone(), client.clone()),
            // Never used: a stdio spec has no URL. Guarded all the same.
            SpecKind::Stdio { .. } => (
                String::new(),
                Arc::new(crate::egress::Egress::default())
                    .client_builder()
                    .build()
                    .unwrap_or_default(),
            ),
        };
        let url = reqwest::Url::parse(&url).map_err(|source| HttpError::Url {
            url: url.clone(),
            source,
        });
        Self {
            name: spec.name.clone(),
            url,
            client,
            pending: Arc::new(Pending::default()),
            inbound,
            session_id: Mutex::new(None),
            protocol_version: Mutex::new(None),
            alive: Arc::new(AtomicBool::new(true)),
            max: spec.max_message_bytes,
            depth: spec.max_json_depth,
            binding,
        }
    }

    pub(crate) fn set_protocol_version(&self, v: &str) {
        if let Ok(mut g) = self.protocol_version.lock() {
            *g = Some(v.to_owned());
        }
    }

    /// Session headers plus this backend's credential. A credential that cannot be obtained
    /// fails the request before anything is sent.
    async fn headers(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, UpstreamError> {
        let mut b = builder;
        if let Some(binding) = &self.binding {
            match binding.header().await {
                Ok(Some((name, value))) => b = b.header(name, value),
                Ok(None) => {}
                Err(e) => {
                    return Err(UpstreamError::Credentials {
                        backend: self.name.clone(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        if let Some(sid) = self.session_id.lock().ok().and_then(|g| g.clone()) {
            b = b.header("mcp-session-id", sid);
        }
        if let Some(v) = self.protocol_version.lock().ok().and_then(|g| g.clone()) {
            b = b.header("mcp-protocol-version", v);
        }
        Ok(b)
    }

    fn url(&self) -> Result<reqwest::Url, UpstreamError> {
        match &self.url {
            Ok(u) => Ok(u.clone()),
            Err(e) => Err(self.unavailable(e.to_string())),
        }
    }

    fn unavailable(&self, reason: String) -> UpstreamError {
        UpstreamError::Unavailable {
            backend: self.name.clone(),
            reason,
        }
    }

    fn protocol_err(&self, reason: String) -> UpstreamError {
        UpstreamError::Protocol {
            backend: self.name.clone(),
            reason,
        }
    }

    async fn post(&self, msg: &Value) -> Result<reqwest::Response, UpstreamError> {
        let body = serde_json::to_vec(msg)
            .map_err(|e| self.unavailable(format!("cannot encode message: {e}")))?;
        let req = self
            .headers(self.client.post(self.url()?))
            .await?
            .header(
                http::header::ACCEPT,
                http::HeaderValue::from_static("application/json, text/event-stream"),
            )
            .header(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            )
            .body(body);
        // INVARIANT: `request` and `send` run this inside their `upstream` span, so the parent
        // id the backend sees is that span's id, in the client's trace when it sent one.
        let req = match crate::telemetry::trace::outgoing() {
            Some((parent, state)) => {
                let req = req.header(crate::telemetry::trace::TRACEPARENT, parent);
                match state {
                    Some(s) => req.header(crate::telemetry::trace::TRACESTATE, s),
                    None => req,
                }
            }
            None => req,
        };
        let resp = req.send().await.map_err(|e| {
            self.alive.store(false, Ordering::SeqCst);
            self.unavailable(describe(&e))
        })?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND
            && self
                .session_id
                .lock()
                .ok()
                .and_then(|g| g.clone())
                .is_some()
        {
            self.alive.store(false, Ordering::SeqCst);
            return Err(UpstreamError::SessionExpired {
                backend: self.name.clone(),
            });
        }
        Ok(resp)
    }

    pub(crate) async fn request(&self, id: u64, msg: Value) -> Result<Value, UpstreamError> {
        let is_init = msg.get("method").and_then(Value::as_str) == Some("initialize");
        let rx = self.pending.insert(id);
        let span = tracing::info_span!(
            "upstream",
            backend = %self.name,
            upstream_id = id,
            rpc_method = msg.get("method").and_then(serde_json::Value::as_str).unwrap_or("-"),
        );
        let result = self.request_inner(id, &msg, is_init).instrument(span).await;
        match result {
            Ok(Some(v)) => {
                self.pending.remove(id);
                Ok(v)
            }
            Ok(None) => {
                // The response may still arrive on the GET stream.
                rx.await
                    .unwrap_or_else(|_| Err(self.unavailable("connection closed".into())))
            }
            Err(e) => {
                self.pending.remove(id);
                Err(e)
            }
        }
    }

    async fn request_inner(
        &self,
        id: u64,
        msg: &Value,
        is_init: bool,
    ) -> Result<Option<Value>, UpstreamError> {
        let resp = self.post(msg).await?;
        let status = resp.status();
        if is_init {
            if let Some(sid) = resp
                .headers()
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok())
            {
                if let Ok(mut g) = self.session_id.lock() {
                    *g = Some(sid.to_owned());
                }
            }
        }
        if status.is_redirection() {
            let to = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>();
            return Err(self.protocol_err(format!(
                "HTTP {status} redirect to `{to}` not followed: the gateway follows no redirects \
                 from backends; set `url` to the final address"
            )));
        }
        if !status.is_success() {
            let text = read_capped(resp, 2048).await.unwrap_or_default();
            // A JSON-RPC error body is a legitimate answer (e.g. 400 with an error object).
            if let Ok(v) = parse_message(&self.name, text.as_bytes(), self.depth) {
                if v.get("error").is_some() {
                    let mut v = v;
                    if let Some(o) = v.as_object_mut() {
                        o.insert("id".into(), Value::from(id));
                    }
                    return Ok(Some(v));
                }
            }
            return Err(self.protocol_err(format!(
                "HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            )));
        }
        let ctype = content_type(&resp);
        if ctype.starts_with("text/event-stream") {
            return self.read_sse(id, resp).await;
        }
        if ctype.starts_with("application/json") {
            let body = read_body(resp, self.max)
                .await
                .map_err(|e| self.protocol_err(e.to_string()))?;
            let v = parse_message(&self.name, &body, self.depth)?;
            if v.get("id").and_then(Value::as_u64) == Some(id) {
                return Ok(Some(v));
            }
            return Err(self.protocol_err("the JSON response does not answer our request".into()));
        }
        if status == reqwest::StatusCode::ACCEPTED {
            return Err(self.protocol_err("HTTP 202 to a request that needs a response".into()));
        }
        Err(self.protocol_err(format!("unexpected content type `{ctype}`")))
    }

    async fn read_sse(
        &self,
        id: u64,
        resp: reqwest::Response,
    ) -> Result<Option<Value>, UpstreamError> {
        let mut parser = sse::Parser::new(self.max);
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| self.unavailable(format!("stream broke: {}", describe(&e))))?;
            let events = parser
                .feed(&chunk)
                .map_err(|e| self.protocol_err(e.to_string()))?;
            for ev in events {
                if ev.data.is_empty() {
                    continue; // priming event for resumability
                }
                let msg = parse_message(&self.name, ev.data.as_bytes(), self.depth)?;
                let is_ours = msg.get("id").and_then(Value::as_u64) == Some(id)
                    && msg.get("method").is_none();
                if is_ours {
                    return Ok(Some(msg));
                }
                let _ = self.pending.deliver(msg, &self.inbound, Some(id)).await;
            }
        }
        Err(self.protocol_err("the response stream ended without a response".into()))
    }

    pub(crate) async fn send(&self, msg: Value) -> Result<(), UpstreamError> {
        let span = tracing::info_span!(
            "upstream",
            backend = %self.name,
            rpc_method = msg.get("method").and_then(serde_json::Value::as_str).unwrap_or("-"),
        );
        let resp = self.post(&msg).instrument(span).await?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        Err(self.protocol_err(format!("HTTP {status} to a notification")))
    }

    pub(crate) fn start_get_stream(&self, conn: Weak<Conn>) {
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(250);
            loop {
                let Some(c) = conn.upgrade() else { return };
                let super::Inner::Http(h) = &c.inner else {
                    return;
                };
                match h.get_stream_once().await {
                    GetOutcome::NotSupported => return,
                    GetOutcome::Ended => backoff = Duration::from_millis(250),
                    GetOutcome::Failed => {
                        if !h.alive.load(Ordering::SeqCst) {
                            return;
                        }
                    }
                }
                drop(c);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        });
    }

    async fn get_stream_once(&self) -> GetOutcome {
        let Ok(url) = self.url() else {
            return GetOutcome::Failed;
        };
        let Ok(req) = self.headers(self.client.get(url)).await else {
            return GetOutcome::Failed;
        };
        let req = req.header("accept", "text/event-stream");
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) => {
                // Nothing listens any more: the backend is gone, and our upstream session with
                // it. Marking the connection dead lets the session's supervisor report the
                // backend down (clients get `list_changed`) and reconnect, instead of this loop
                // retrying quietly while clients still see the dead backend's tools.
                if e.is_connect() {
                    self.alive.store(false, Ordering::SeqCst);
                }
                return GetOutcome::Failed;
            }
        };
        let status = resp.status();
        if status == reqwest::StatusCode::METHOD_NOT_ALLOWED {
            return GetOutcome::NotSupported;
        }
        if status == reqwest::StatusCode::NOT_FOUND {
            self.alive.store(false, Ordering::SeqCst);
            return GetOutcome::Failed;
        }
        if !status.is_success() || !content_type(&resp).starts_with("text/event-stream") {
            return GetOutcome::NotSupported;
        }
        let mut parser = sse::Parser::new(self.max);
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let Ok(chunk) = chunk else {
                return GetOutcome::Failed;
            };
            let Ok(events) = parser.feed(&chunk) else {
                tracing::warn!(backend = %self.name, "oversized SSE event on GET stream; reconnecting");
                return GetOutcome::Failed;
            };
            for ev in events {
                if ev.data.is_empty() {
                    continue;
                }
                match parse_message(&self.name, ev.data.as_bytes(), self.depth) {
                    Ok(msg) => {
                        if !self.pending.deliver(msg, &self.inbound, None).await {
                            return GetOutcome::NotSupported;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(backend = %self.name, error = %e, "invalid message on GET stream")
                    }
                }
            }
        }
        GetOutcome::Ended
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    pub(crate) async fn close(&self) {
        self.alive.store(false, Ordering::SeqCst);
        if self
            .session_id
            .lock()
            .ok()
            .and_then(|g| g.clone())
            .is_some()
            && let Ok(url) = self.url()
            && let Ok(req) = self.headers(self.client.delete(url)).await
        {
            let _ = tokio::time::timeout(Duration::from_secs(2), req.send()).await;
        }
        self.pending
            .fail_all(&self.unavailable("session closed".into()));
    }
}

enum GetOutcome {
    NotSupported,
    Ended,
    Failed,
}

pub(crate) fn content_type(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

pub(crate) fn describe(e: &reqwest::Error) -> String {
    crate::egress::error_chain(e)
}

pub(crate) async fn read_body(resp: reqwest::Response, max: usize) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(HttpError::Read)?;
        if out.len() + chunk.len() > max {
            return Err(HttpError::TooLarge { max });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

pub(crate) async fn read_capped(resp: reqwest::Response, max: usize) -> Result<String, HttpError> {
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(HttpError::Read)?;
        out.extend_from_slice(&chunk);
        if out.len() >= max {
            out.truncate(max);
            break;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}
