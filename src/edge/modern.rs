//! The edge for MCP 2026-07-28 clients: requests without a session, each carrying its
//! version, capabilities and client info in `params._meta` and mirrored in headers.
//!
//! Checked in the order the revision sets (`basic/versioning.mdx`, and the conformance suite
//! depends on it): the `_meta` envelope (`-32602`), then the headers against the body
//! (`-32020`), then the version (`-32022`) — each HTTP 400 answered under the request's id. The
//! request is then served by the router from a context of its own: the token's principal, the
//! envelope's client, and that principal's stateless view of the backends.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::Value;
use tracing::Instrument;

use super::rescue::{ModernError, Rejection};
use super::{Body, Caller, Edge, accepted, full, sse};
use crate::guard::Client;
use crate::protocol::meta::header::MCP_PROTOCOL_VERSION;
use crate::protocol::meta::{
    Envelope, ParamHeaders, validate_param_headers, validate_request_headers,
};
use crate::protocol::{self, Kind, code, meta_keys};
use crate::router::modern::{finish, supported_versions, wants_log};
use crate::router::{Call, Next, Reply};

/// Comment lines on long streams (listen), so both sides notice a dead peer.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// Whether a POST is a 2026-07-28 request: its body carries the revision's envelope, or its
/// version header names the revision.
pub(super) fn is_modern(msg: &Value, headers: &HeaderMap) -> bool {
    let enveloped = protocol::params(msg)
        .and_then(|p| protocol::get(p, "_meta"))
        .and_then(|m| protocol::field(m, meta_keys::PROTOCOL_VERSION))
        .is_some();
    enveloped
        || headers
            .get(MCP_PROTOCOL_VERSION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == protocol::MODERN_VERSION)
}

/// The envelope a request carries in `params._meta` (`protocol::meta`), its log level checked.
fn envelope(msg: &Value) -> Result<Envelope, ModernError> {
    let env = Envelope::from_message(msg).map_err(|e| ModernError::Meta(e.to_string()))?;
    env.check_log_level()
        .map_err(|e| ModernError::Meta(e.to_string()))?;
    Ok(env)
}

/// The headers a request's body decides (`protocol::meta::validate_request_headers`): version,
/// method, the name it acts on, and for a `tools/call` the `Mcp-Param-*` headers the tool's
/// `x-mcp-header` annotations (`params`, from the schema the gateway exposes) ask for.
fn check_headers(
    headers: &HeaderMap,
    msg: &Value,
    params: Option<&ParamHeaders>,
) -> Result<(), ModernError> {
    validate_request_headers(headers, msg, params).map_err(|e| ModernError::Header(e.to_string()))
}

/// A 2026-07-28 POST, its body decoded.
pub(super) async fn post(
    gw: &Arc<Edge>,
    headers: &HeaderMap,
    msg: Value,
    body: &Bytes,
    kind: Kind,
    caller: Caller,
    peer: SocketAddr,
) -> Result<Response<Body>, Rejection> {
    let id = protocol::id(&msg).cloned().unwrap_or(Value::Null);
    if kind != Kind::Request {
        // The revision defines no client notification or response on HTTP.
        return Ok(accepted());
    }
    let reject = |e: ModernError| Rejection::Modern(id.clone(), e);
    // The spec's order: envelope, headers, version. The `Mcp-Param-*` headers need the
    // caller's catalog, so they are checked once the request has a context (below).
    let env = envelope(&msg).map_err(reject)?;
    check_headers(headers, &msg, None).map_err(reject)?;
    if env.protocol_version != protocol::MODERN_VERSION {
        return Err(reject(ModernError::Version {
            requested: env.protocol_version,
            supported: supported_versions(),
        }));
    }
    let method = protocol::method(&msg).unwrap_or("").to_owned();
    gw.guard().metrics.record_request(&method);
    let info = env.client_info.as_ref();
    let text = |k: &str| {
        info.and_then(|i| i.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let log_level = env.log_level.clone();
    // The envelope was read once: its parts move into the client.
    let client = Client {
        session_id: None,
        name: text("name"),
        version: text("version"),
        address: peer.to_string(),
        protocol_version: env.protocol_version,
        capabilities: env.client_capabilities,
        log_level: env.log_level,
    };
    let (principal, token) = caller;
    // A retry or task request for a call another replica holds goes to that replica.
    if let Some(resp) = super::cluster::hand_over(gw, headers, &msg, body, &principal, peer).await {
        return Ok(resp);
    }
    let rpc = tracing::info_span!(
        "rpc",
        protocol = protocol::MODERN_VERSION,
        rpc_method = %method,
        rpc_id = %id,
    );
    async move {
        let router = &gw.router;
        let cx = router.stateless_context(principal, token, client).await;
        if method == "tools/call" {
            // The tool's `x-mcp-header` annotations, as the gateway lists it to this caller: the
            // `Mcp-Param-*` headers, the one part of the header check left (above).
            if let Some(params) = router.param_headers(&cx, &msg).await {
                if let Err(e) = validate_param_headers(headers, &msg, &params) {
                    let id = msg.get("id").cloned().unwrap_or(Value::Null);
                    return Err(Rejection::Modern(id, ModernError::Header(e.to_string())));
                }
            }
        }
        let listen = method == "subscriptions/listen";
        Ok(match router.handle_modern(&cx, msg).await {
            Reply::Json(mut v) => {
                finish(&mut v, &method);
                json(&v)
            }
            Reply::Call(mut call) => match next_for_client(&mut call, log_level.as_deref()).await {
                Some(Next::Response(mut v)) => {
                    finish(&mut v, &method);
                    json(&v)
                }
                Some(Next::Related(first)) => stream(first, call, method, log_level, listen),
                None => json(&protocol::error_response(
                    id,
                    code::INTERNAL_ERROR,
                    "the call ended without a response",
                    None,
                )),
            },
        })
    }
    .instrument(rpc)
    .await
}

/// The next message of a call a 2026-07-28 client may see: log messages only at or above the
/// level its request asked for (none without one).
async fn next_for_client(call: &mut Call, log_level: Option<&str>) -> Option<Next> {
    loop {
        let next = call.next().await?;
        if let Next::Related(m) = &next {
            if protocol::method(m) == Some("notifications/message") {
                let level = protocol::params(m)
                    .and_then(|p| p.get("level"))
                    .and_then(Value::as_str);
                if !wants_log(log_level, level) {
                    continue;
                }
            }
        }
        return Some(next);
    }
}

/// A whole answer: errors the gateway gives for unknown or removed methods are 404 and header,
/// capability and version errors 400, with a JSON body, as the revision says; everything else is
/// 200 with its JSON-RPC message as one SSE event.
fn json(v: &Value) -> Response<Body> {
    // Not `Value::pointer`: it splits and unescapes its path on every call.
    let code = protocol::field(v, "error").and_then(|e| protocol::field(e, "code"));
    let status = match code.and_then(Value::as_i64) {
        Some(code::METHOD_NOT_FOUND) => StatusCode::NOT_FOUND,
        Some(code::HEADER_MISMATCH | code::MISSING_CAPABILITY | code::UNSUPPORTED_VERSION) => {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::OK,
    };
    if status == StatusCode::OK {
        // One SSE event, as for 2025-era clients and as the backends we front answer: a client
        // must accept both, and the conformance suite runs more checks on a stream.
        return super::sse_single(v);
    }
    let mut resp = Response::new(full(Bytes::from(v.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// The SSE stream of a call whose backend sent `first` before answering (or of a listen:
/// kept alive with comment lines until the client closes it).
fn stream(
    first: Value,
    call: Call,
    method: String,
    log_level: Option<String>,
    keepalive: bool,
) -> Response<Body> {
    struct State {
        first: Option<Value>,
        call: Option<Call>,
        method: String,
        log_level: Option<String>,
        tick: Option<tokio::time::Interval>,
    }
    let tick = keepalive
        .then(|| tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE));
    let state = State {
        first: Some(first),
        call: Some(call),
        method,
        log_level,
        tick,
    };
    let frames = futures::stream::unfold(state, |mut st| async move {
        if let Some(m) = st.first.take() {
            return Some((frame(&m), st));
        }
        let mut call = st.call.take()?;
        let span = call.span().clone();
        let next = match st.tick.as_mut() {
            Some(tick) => tokio::select! {
                n = next_for_client(&mut call, st.log_level.as_deref()) => n,
                _ = tick.tick() => {
                    st.call = Some(call);
                    return Some((Ok(Frame::data(Bytes::from_static(b": keepalive\n\n"))), st));
                }
            },
            None => {
                next_for_client(&mut call, st.log_level.as_deref())
                    .instrument(span)
                    .await
            }
        };
        match next? {
            Next::Related(m) => {
                st.call = Some(call);
                Some((frame(&m), st))
            }
            Next::Response(mut m) => {
                finish(&mut m, &st.method);
                Some((frame(&m), st))
            }
        }
    });
    let mut resp = sse(BodyExt::boxed_unsync(StreamBody::new(frames)));
    // Proxies must not buffer what a client waits for message by message.
    resp.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

fn frame(m: &Value) -> Result<Frame<Bytes>, Infallible> {
    Ok(Frame::data(Bytes::from(protocol::sse::encode_value(m))))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_envelope_is_checked_before_the_headers_and_the_version_last() {
        let msg = json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {}});
        assert!(matches!(envelope(&msg), Err(ModernError::Meta(_))));
        let msg = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "t", "_meta": {
            meta_keys::PROTOCOL_VERSION: "v999.0.0",
            meta_keys::CLIENT_CAPABILITIES: {},
        }}});
        envelope(&msg).unwrap();
        let h = headers(&[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "t"),
        ]);
        assert!(matches!(
            check_headers(&h, &msg, None),
            Err(ModernError::Header(_))
        ));
        let h = headers(&[
            ("mcp-protocol-version", "v999.0.0"),
            ("mcp-method", "tools/call"),
        ]);
        assert!(
            matches!(check_headers(&h, &msg, None), Err(ModernError::Header(m)) if m.contains("mcp-name")),
            "a named method needs `Mcp-Name`"
        );
        let bad_level = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {
        "_meta": {
            meta_keys::PROTOCOL_VERSION: "2026-07-28",
            meta_keys::CLIENT_CAPABILITIES: {},
            meta_keys::LOG_LEVEL: "loud",
        }}});
        assert!(matches!(envelope(&bad_level), Err(ModernError::Meta(_))));
    }

    #[test]
    fn an_annotated_argument_needs_its_param_header() {
        let schema = json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"}}});
        let params = ParamHeaders::from_schema(&schema).unwrap();
        let msg = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "t", "arguments": {"region": "eu-west"}, "_meta": {
            meta_keys::PROTOCOL_VERSION: "2026-07-28",
            meta_keys::CLIENT_CAPABILITIES: {},
        }}});
        let base = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "t"),
        ];
        let missing = check_headers(&headers(&base), &msg, Some(&params));
        assert!(
            matches!(&missing, Err(ModernError::Header(m)) if m.contains("Mcp-Param-Region")),
            "{missing:?}"
        );
        let mut wrong = base.to_vec();
        wrong.push(("mcp-param-region", "us-east"));
        assert!(check_headers(&headers(&wrong), &msg, Some(&params)).is_err());
        let mut right = base.to_vec();
        right.push(("mcp-param-region", "eu-west"));
        check_headers(&headers(&right), &msg, Some(&params)).unwrap();
    }
}
