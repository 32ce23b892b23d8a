//! MCP 2026-07-28 for clients: the methods only that revision has (`server/discover`,
//! `subscriptions/listen`), the ones it removed, and what every result north carries
//! (`resultType`, the gateway's `serverInfo`, cache hints).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{Context, Reply, RouteError, Router, merge_capabilities, tasks};
use crate::catalog::ListKind;
use crate::protocol::meta::{LOG_LEVELS, ParamHeaders};
use crate::protocol::{self, code, meta_keys};

/// Methods a 2026-07-28 client must not use (removed by the revision, or replaced).
const REMOVED: &[&str] = &[
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
    "tasks/result",
    "tasks/list",
];

/// Every protocol version the gateway serves north, newest first.
pub fn supported_versions() -> Vec<&'static str> {
    let mut v = vec![protocol::MODERN_VERSION];
    v.extend_from_slice(protocol::SUPPORTED_VERSIONS);
    v
}

/// The gateway as it names itself in results.
pub fn server_info() -> Value {
    SERVER_INFO.clone()
}

/// Built once: every result a 2026-07-28 client gets carries it.
static SERVER_INFO: std::sync::LazyLock<Value> = std::sync::LazyLock::new(
    || json!({ "name": "portcullis", "version": env!("CARGO_PKG_VERSION") }),
);

impl Router {
    /// Handle one request of a 2026-07-28 client (its envelope and headers already checked).
    pub async fn handle_modern(self: &Arc<Self>, cx: &Context, msg: Value) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let method = protocol::method(&msg).unwrap_or("").to_owned();
        if REMOVED.contains(&method.as_str()) || method.starts_with("notifications/") {
            return RouteError::MethodNotFound(method).reply(id);
        }
        match method.as_str() {
            "server/discover" => Reply::Json(self.discover(cx, id)),
            "subscriptions/listen" => self.listen(cx, msg).await,
            "tasks/get" | "tasks/update" | "tasks/cancel" => self.task_call(cx, msg).await,
            _ => self.handle_request(cx, msg).await,
        }
    }

    /// The `x-mcp-header` annotations of the tool a `tools/call` names, as this caller's merged
    /// catalog exposes it: the `Mcp-Param-*` headers the request must carry. `None` for a name
    /// the catalog does not have (routing refuses it) or a schema whose annotations are invalid
    /// (no client can mirror them; the backend judges its own).
    pub async fn param_headers(
        self: &Arc<Self>,
        cx: &Context,
        msg: &Value,
    ) -> Option<ParamHeaders> {
        let name = protocol::params(msg)?.get("name")?.as_str()?;
        let merged = self.merged(cx, ListKind::Tools).await;
        // Worked out when the list was merged (`ParamHeaders::of_tools`).
        merged.param_headers.get(name).cloned()
    }

    /// `server/discover`: the versions the gateway serves, the capabilities of its backends
    /// merged, and its own identity.
    fn discover(&self, cx: &Context, id: Value) -> Value {
        let mut caps_seen = Vec::new();
        for link in cx.view.links.links() {
            let caps = link
                .init()
                .and_then(|i| i.get("capabilities").cloned())
                .or_else(|| self.known_capabilities(link.name()));
            if let Some(c) = caps {
                caps_seen.push(c);
            }
        }
        let mut capabilities = merge_capabilities(&caps_seen);
        // Of the extensions, only the one the gateway carries (`tasks.rs`), and only to
        // 2026-07-28 clients: any other would promise what the gateway cannot relay.
        if caps_seen.iter().any(tasks::declares_tasks) {
            if let Some(c) = capabilities.as_object_mut() {
                c.insert("extensions".into(), json!({ tasks::TASKS_EXTENSION: {} }));
            }
        }
        let mut result = json!({
            "resultType": "complete",
            "supportedVersions": supported_versions(),
            "capabilities": capabilities,
            "ttlMs": 0,
            "cacheScope": "private",
        });
        set_server_info(&mut result);
        protocol::result_response(id, result)
    }
}

fn set_server_info(result: &mut Value) {
    let Some(o) = result.as_object_mut() else {
        return;
    };
    if protocol::get(o, "_meta").is_none() {
        o.insert("_meta".into(), Value::Object(Map::new()));
    }
    if let Some(m) = protocol::get_mut(o, "_meta").and_then(Value::as_object_mut) {
        // The gateway is the server a client talks to; backends' identities stay behind it.
        protocol::set(m, meta_keys::SERVER_INFO, server_info());
    }
}

/// What a 2026-07-28 client gets for a response to `method`: every result has `resultType` and
/// the gateway's `serverInfo`; lists and reads carry cache hints (`private`: what a caller may
/// see is decided per principal, so no intermediary may serve it to another); a legacy
/// backend's `-32002` (resource not found) becomes the revision's `-32602`.
pub fn finish(resp: &mut Value, method: &str) {
    if let Some(e) = protocol::field_mut(resp, "error").and_then(Value::as_object_mut) {
        if protocol::get(e, "code").and_then(Value::as_i64) == Some(code::RESOURCE_NOT_FOUND) {
            e.insert("code".into(), Value::from(code::INVALID_PARAMS));
        }
        return;
    }
    let Some(result) = protocol::field_mut(resp, "result") else {
        return;
    };
    if !result.is_object() {
        return;
    }
    set_server_info(result);
    let Some(o) = result.as_object_mut() else {
        return;
    };
    let complete = match protocol::get(o, "resultType") {
        Some(t) => t.as_str() == Some("complete"),
        None => {
            o.insert("resultType".into(), Value::String("complete".into()));
            true
        }
    };
    let cacheable = matches!(
        method,
        "tools/list"
            | "prompts/list"
            | "resources/list"
            | "resources/templates/list"
            | "resources/read"
    );
    if complete && cacheable {
        if !o.get("ttlMs").is_some_and(Value::is_u64) {
            o.insert("ttlMs".into(), Value::from(0));
        }
        o.insert("cacheScope".into(), Value::String("private".into()));
    }
}

/// Whether a 2026-07-28 client asked for log messages at `level`: only with a `logLevel` in its
/// request, at or above it.
pub fn wants_log(asked: Option<&str>, level: Option<&str>) -> bool {
    let rank = |l: &str| LOG_LEVELS.iter().position(|x| *x == l);
    match (asked.and_then(rank), level.and_then(rank)) {
        (Some(a), Some(l)) => l >= a,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Whether `level` names a log level of the protocol.
pub fn is_log_level(level: &str) -> bool {
    LOG_LEVELS.contains(&level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_get_result_type_server_info_and_hints() {
        let mut r = json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": [], "_meta": {"x": 1}}});
        finish(&mut r, "tools/list");
        assert_eq!(r["result"]["resultType"], "complete");
        assert_eq!(r["result"]["ttlMs"], 0);
        assert_eq!(r["result"]["cacheScope"], "private");
        assert_eq!(r["result"]["_meta"]["x"], 1);
        assert_eq!(
            r["result"]["_meta"][meta_keys::SERVER_INFO]["name"],
            "portcullis"
        );
        let mut r =
            json!({"id": 1, "result": {"resultType": "input_required", "inputRequests": {}}});
        finish(&mut r, "tools/call");
        assert_eq!(r["result"]["resultType"], "input_required");
        assert!(r["result"].get("ttlMs").is_none());
        let mut r = json!({"id": 1, "error": {"code": -32002, "message": "nope"}});
        finish(&mut r, "resources/read");
        assert_eq!(r["error"]["code"], -32602);
    }

    #[test]
    fn log_levels_order() {
        assert!(wants_log(Some("info"), Some("error")));
        assert!(!wants_log(Some("error"), Some("info")));
        assert!(!wants_log(None, Some("emergency")));
        assert!(is_log_level("notice"));
        assert!(!is_log_level("loud"));
    }
}
