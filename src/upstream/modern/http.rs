//! 2026-07-28 over Streamable HTTP: one POST per request, answered by one JSON body or an SSE
//! stream for that request alone. No session id, no GET stream, no `Last-Event-ID`.

use std::collections::VecDeque;
use std::pin::Pin;

use bytes::Bytes;
use futures::{FutureExt, Stream, StreamExt};
use serde_json::Value;
use tracing::Instrument;

use super::{Body, Call, NOT_JSON_RPC, ReplyEvent, clip};
use crate::protocol::meta;
use crate::protocol::sse;
use crate::telemetry::trace::{TRACEPARENT, TRACESTATE};
use crate::upstream::http::{content_type, describe, read_body, read_capped};
use crate::upstream::{BackendSpec, SpecKind, UpstreamError, parse_message};

/// Bytes of an error body read to look for a JSON-RPC error (a `-32022` with its `data` is a
/// few hundred bytes; anything longer than this is not what we are looking for).
const ERROR_BODY_MAX: usize = 64 * 1024;

pub(super) struct HttpBackend {
    name: String,
    url: reqwest::Url,
    client: reqwest::Client,
    max: usize,
    depth: usize,
}

impl HttpBackend {
    pub(super) fn new(spec: &BackendSpec) -> Result<HttpBackend, UpstreamError> {
        let SpecKind::Http { url, client } = &spec.kind else {
            return Err(unavailable(&spec.name, "not an HTTP backend".into()));
        };
        let url = reqwest::Url::parse(url)
            .map_err(|e| unavailable(&spec.name, format!("invalid URL `{url}`: {e}")))?;
        Ok(HttpBackend {
            name: spec.name.clone(),
            url,
            // INVARIANT: built by `upstream::http::build_client` through `egress` (allowed
            // addresses only, no proxy, no redirects); cloning shares its connection pool.
            client: client.clone(),
            max: spec.max_message_bytes,
            depth: spec.max_json_depth,
        })
    }

    /// POST `msg` and return how the backend answers it (without waiting for the response when
    /// it streams).
    pub(super) async fn send(
        &self,
        msg: Value,
        call: &Call<'_>,
    ) -> Result<(Body, Option<u16>), UpstreamError> {
        let method = crate::protocol::method(&msg).unwrap_or("-");
        let span = tracing::info_span!(
            "upstream",
            backend = %self.name,
            rpc_method = %method,
            protocol = meta::MODERN_VERSION,
        );
        self.send_inner(msg, call).instrument(span).await
    }

    async fn send_inner(
        &self,
        mut msg: Value,
        call: &Call<'_>,
    ) -> Result<(Body, Option<u16>), UpstreamError> {
        let id = crate::protocol::id(&msg).cloned().unwrap_or(Value::Null);
        // INVARIANT: runs inside the `upstream` span opened by `send`, so a default trace names
        // that span as the parent the backend sees.
        let trace = call.trace.clone().or_else(super::Trace::current);
        if call.trace.is_none()
            && let Some(t) = &trace
        {
            super::set_trace(&mut msg, t);
        }
        let mut headers = meta::request_headers(&msg, call.params);
        headers.insert(
            ::http::header::ACCEPT,
            ::http::HeaderValue::from_static("application/json, text/event-stream"),
        );
        headers.insert(
            ::http::header::CONTENT_TYPE,
            ::http::HeaderValue::from_static("application/json"),
        );
        if let Some(t) = &trace {
            if let Ok(v) = ::http::HeaderValue::from_str(&t.traceparent) {
                headers.insert(TRACEPARENT, v);
            }
            if let Some(s) = &t.tracestate
                && let Ok(v) = ::http::HeaderValue::from_str(s)
            {
                headers.insert(TRACESTATE, v);
            }
        }
        if let Some((name, value)) = &call.credential {
            headers.insert(name.clone(), value.clone());
        }
        // Sized for a typical request with its envelope: no regrowth while writing.
        let mut body = Vec::with_capacity(1024);
        serde_json::to_writer(&mut body, &msg)
            .map_err(|e| unavailable(&self.name, format!("cannot encode the request: {e}")))?;
        // The request built whole: `RequestBuilder::headers` would copy the map once more.
        let mut req = reqwest::Request::new(reqwest::Method::POST, self.url.clone());
        *req.headers_mut() = headers;
        *req.body_mut() = Some(body.into());
        let resp = self
            .client
            .execute(req)
            .await
            .map_err(|e| unavailable(&self.name, describe(&e)))?;
        let status = resp.status();
        let code = Some(status.as_u16());
        if status.is_redirection() {
            let to: String = resp
                .headers()
                .get(::http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .chars()
                .take(200)
                .collect();
            return Err(self.protocol(format!(
                "HTTP {status} redirect to `{to}` not followed: the gateway follows no redirects \
                 from backends; set `url` to the final address"
            )));
        }
        if !status.is_success() {
            let text = read_capped(resp, ERROR_BODY_MAX.min(self.max))
                .await
                .unwrap_or_default();
            // A JSON-RPC error body is the backend's answer (400 with -32022, 404 with -32601,
            // …): it goes to the caller as the response, under the request's id.
            if let Ok(mut v) = parse_message(&self.name, text.as_bytes(), self.depth)
                && v.get("error").is_some()
                && v.get("method").is_none()
            {
                if let Some(o) = v.as_object_mut() {
                    o.insert("id".into(), id);
                }
                return Ok((Body::Ready(v), code));
            }
            if status.is_server_error() {
                return Err(unavailable(
                    &self.name,
                    format!("HTTP {status}: {}", clip(&text)),
                ));
            }
            // 400, 404 and 405 without a JSON-RPC body are what legacy servers answer a modern
            // request (streamable-http.mdx §Backward Compatibility): evidence for a probe. Any
            // other refusal (401, 403, 429, …) says nothing about the era.
            let legacy = matches!(status.as_u16(), 400 | 404 | 405);
            let prefix = if legacy { NOT_JSON_RPC } else { "refused" };
            return Err(self.protocol(format!("{prefix}: HTTP {status}: {}", clip(&text))));
        }
        let ctype = content_type(&resp);
        if ctype.starts_with("text/event-stream") {
            let stream = SseBody {
                backend: self.name.clone(),
                id,
                stream: Box::pin(resp.bytes_stream()),
                parser: sse::Parser::new(self.max),
                queue: VecDeque::new(),
                depth: self.depth,
            };
            return Ok((Body::Sse(Box::new(stream)), code));
        }
        if ctype.starts_with("application/json") {
            let bytes = read_body(resp, self.max)
                .await
                .map_err(|e| self.protocol(e.to_string()))?;
            let v = parse_message(&self.name, &bytes, self.depth)?;
            return match super::classify_for(&self.name, v, &id)? {
                ReplyEvent::Response(v) => Ok((Body::Ready(v), code)),
                ReplyEvent::Notification(_) => {
                    Err(self.protocol("its JSON answer is a notification, not the response".into()))
                }
            };
        }
        if status == reqwest::StatusCode::ACCEPTED {
            return Err(self.protocol("HTTP 202 to a request that needs a response".into()));
        }
        Err(self.protocol(format!("unexpected content type `{}`", clip(&ctype))))
    }

    fn protocol(&self, reason: String) -> UpstreamError {
        UpstreamError::Protocol {
            backend: self.name.clone(),
            reason,
        }
    }
}

fn unavailable(backend: &str, reason: String) -> UpstreamError {
    UpstreamError::Unavailable {
        backend: backend.to_owned(),
        reason,
    }
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// An SSE answer being read. Dropping it drops the response body, which closes the stream
/// (HTTP/1.1: the connection; HTTP/2: the stream): the backend's cancellation signal.
pub(super) struct SseBody {
    backend: String,
    id: Value,
    stream: ByteStream,
    parser: sse::Parser,
    /// Messages parsed from chunks already read and not yet returned (one chunk may hold
    /// several events): this is what makes `next` cancel-safe.
    queue: VecDeque<Value>,
    depth: usize,
}

impl SseBody {
    pub(super) async fn next(&mut self) -> Result<ReplyEvent, UpstreamError> {
        loop {
            if let Some(msg) = self.queue.pop_front() {
                return super::classify_for(&self.backend, msg, &self.id);
            }
            let Some(chunk) = self.stream.next().await else {
                return Err(unavailable(
                    &self.backend,
                    "the response stream ended before the response; the request is lost \
                     (2026-07-28 has no resumption)"
                        .into(),
                ));
            };
            let chunk = chunk.map_err(|e| {
                unavailable(&self.backend, format!("the stream broke: {}", describe(&e)))
            })?;
            let events = self
                .parser
                .feed(&chunk)
                .map_err(|e| UpstreamError::Protocol {
                    backend: self.backend.clone(),
                    reason: e.to_string(),
                })?;
            for ev in events {
                if ev.data.is_empty() {
                    continue;
                }
                self.queue.push_back(parse_message(
                    &self.backend,
                    ev.data.as_bytes(),
                    self.depth,
                )?);
            }
        }
    }

    /// After the response: the backend SHOULD end the stream now. Take its end if it is
    /// already here, so the connection goes back to the pool; otherwise drop it (closing it).
    pub(super) fn finish(mut self: Box<Self>) {
        for _ in 0..4 {
            match self.stream.next().now_or_never() {
                Some(Some(Ok(_))) => continue,
                _ => return,
            }
        }
    }
}
