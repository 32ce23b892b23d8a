//! A small, self-contained MCP server speaking newline-delimited JSON-RPC 2.0 over stdio: the
//! backend that `portcullis demo-server` runs for the quickstart and that tests point the gateway
//! at. It owns nothing of the gateway; it only has to be a well-behaved, predictable MCP server.
//!
//! Written by hand on `serde_json::Value` rather than with an SDK so the gateway does not pull a
//! whole MCP framework into its dependency tree for a demo, and so every byte it sends is visible
//! here. Tools: `echo`, `add`, `get_time`, `slow` (progress + cancellation), `whoami` (environment
//! variable *names*, to prove the gateway does not leak its own environment to a backend) and
//! `fail`. One prompt (`greeting`), two resources, one resource template, completions, logging
//! and resource subscriptions.
//!
//! stdout carries protocol messages only; diagnostics go through `tracing`, whose subscriber the
//! binary must point at stderr.
//!
//! `mod.rs` holds the message dispatch ([`Server`], pure: no I/O); `tools.rs` the tools,
//! `content.rs` the prompt, resources and completions, `transport.rs` the stdio loop. It
//! imports nothing of the gateway: it is a backend, off the request path.

mod content;
mod tools;
mod transport;

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use content::{
    complete, get_prompt, greeting_prompt_definition, item_template, read_resource,
    resource_contents, resource_definitions, resource_uri,
};
use tools::{
    slow_ms, tool_add, tool_definitions, tool_echo, tool_error, tool_fail, tool_get_time,
    tool_whoami,
};

pub use tools::ArgError;
pub use transport::{run_stdio, serve};

/// Protocol versions this server speaks, newest first.
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
/// Answered when the client asks for a version we do not speak.
pub const LATEST_PROTOCOL_VERSION: &str = "2025-11-25";

pub(super) const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
/// MCP's code for "resource not found".
const RESOURCE_NOT_FOUND: i64 = -32002;

const LOG_LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// Why a request got a JSON-RPC error instead of a result. The one place these become wire
/// errors is [`DemoError::into_response`].
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("method not found: `{0}`")]
    MethodNotFound(String),
    #[error("invalid params: {0}")]
    InvalidParams(String),
    #[error("resource not found: `{0}`")]
    ResourceNotFound(String),
}

impl DemoError {
    fn code(&self) -> i64 {
        match self {
            DemoError::InvalidRequest(_) => INVALID_REQUEST,
            DemoError::MethodNotFound(_) => METHOD_NOT_FOUND,
            DemoError::InvalidParams(_) => INVALID_PARAMS,
            DemoError::ResourceNotFound(_) => RESOURCE_NOT_FOUND,
        }
    }

    fn into_response(self, id: Value) -> Value {
        let data = match &self {
            DemoError::ResourceNotFound(uri) => Some(json!({ "uri": uri })),
            _ => None,
        };
        error_response(id, self.code(), &self.to_string(), data)
    }
}

/// A `slow` call that the transport loop must run on its own task, because it outlives the
/// message that started it and can be cancelled by a later one.
#[derive(Debug, Clone, PartialEq)]
pub struct SlowJob {
    pub id: Value,
    pub ms: u64,
    pub progress_token: Option<Value>,
}

/// What one incoming message produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The response to a request, if it is answered at once.
    pub reply: Option<Value>,
    /// Notifications to send before the reply (log messages).
    pub notifications: Vec<Value>,
    /// A request to run in the background; its response is sent when it finishes.
    pub job: Option<SlowJob>,
    /// The id of an in-flight request the client cancelled.
    pub cancel: Option<Value>,
}

/// Per-connection state. Everything here is pure: no I/O, so tests drive it with plain values.
#[derive(Debug, Default)]
pub struct Server {
    /// Minimum level for `notifications/message`; `None` until the client asks for logs.
    log_level: Option<usize>,
    subscriptions: BTreeSet<String>,
}

impl Server {
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one message and returns only the immediate reply: the convenient form for tests.
    pub fn handle(&mut self, msg: &Value) -> Option<Value> {
        self.handle_message(msg).reply
    }

    /// Handles one parsed JSON message (request, notification or a stray response).
    pub fn handle_message(&mut self, msg: &Value) -> Outcome {
        let Some(obj) = msg.as_object() else {
            let reason = if msg.is_array() {
                "batches are not supported"
            } else {
                "message is not a JSON object"
            };
            return reply(DemoError::InvalidRequest(reason.into()).into_response(Value::Null));
        };
        let id = obj.get("id").cloned();
        let method = obj.get("method");
        match (method, id) {
            (Some(Value::String(method)), None) => self.handle_notification(method, obj),
            (Some(Value::String(method)), Some(id)) => {
                if !(id.is_string() || id.is_i64() || id.is_u64()) {
                    return reply(
                        DemoError::InvalidRequest("`id` must be a string or an integer".into())
                            .into_response(Value::Null),
                    );
                }
                if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
                    return reply(
                        DemoError::InvalidRequest("`jsonrpc` must be \"2.0\"".into())
                            .into_response(id),
                    );
                }
                let params = obj.get("params").cloned().unwrap_or(Value::Null);
                if !(params.is_null() || params.is_object()) {
                    return reply(
                        DemoError::InvalidParams("`params` must be an object".into())
                            .into_response(id),
                    );
                }
                self.handle_request(method, id, &params)
            }
            (Some(_), id) => reply(
                DemoError::InvalidRequest("`method` must be a string".into())
                    .into_response(id.unwrap_or(Value::Null)),
            ),
            // A response to a request we never sent: there is nobody to tell, so drop it.
            (None, Some(_)) if obj.contains_key("result") || obj.contains_key("error") => {
                tracing::debug!("ignoring response from client");
                Outcome::default()
            }
            (None, id) => reply(
                DemoError::InvalidRequest("missing `method`".into())
                    .into_response(id.unwrap_or(Value::Null)),
            ),
        }
    }

    fn handle_notification(&mut self, method: &str, obj: &Map<String, Value>) -> Outcome {
        match method {
            "notifications/cancelled" => {
                let request_id = obj.get("params").and_then(|p| p.get("requestId")).cloned();
                tracing::debug!(?request_id, "client cancelled a request");
                Outcome {
                    cancel: request_id,
                    ..Outcome::default()
                }
            }
            other => {
                tracing::debug!(method = other, "notification ignored");
                Outcome::default()
            }
        }
    }

    fn handle_request(&mut self, method: &str, id: Value, params: &Value) -> Outcome {
        tracing::debug!(method, %id, "request");
        let result = match method {
            "initialize" => Ok(initialize(params)),
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({ "tools": tool_definitions() })),
            "tools/call" => return self.call_tool(id, params),
            "prompts/list" => Ok(json!({ "prompts": [greeting_prompt_definition()] })),
            "prompts/get" => get_prompt(params),
            "resources/list" => Ok(json!({ "resources": resource_definitions() })),
            "resources/templates/list" => Ok(json!({ "resourceTemplates": [item_template()] })),
            "resources/read" => read_resource(params),
            "resources/subscribe" => self.subscribe(params),
            "resources/unsubscribe" => self.unsubscribe(params),
            "completion/complete" => complete(params),
            "logging/setLevel" => self.set_level(params),
            other => Err(DemoError::MethodNotFound(other.to_string())),
        };
        match result {
            Ok(result) => reply(success_response(id, result)),
            Err(err) => reply(err.into_response(id)),
        }
    }

    fn call_tool(&mut self, id: Value, params: &Value) -> Outcome {
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return reply(
                DemoError::InvalidParams("`name` must be a string".into()).into_response(id),
            );
        };
        let empty = Map::new();
        let args = match params.get("arguments") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(args)) => args,
            Some(_) => {
                return reply(
                    DemoError::InvalidParams("`arguments` must be an object".into())
                        .into_response(id),
                );
            }
        };
        let result = match name {
            "echo" => tool_echo(args),
            "add" => tool_add(args),
            "get_time" => Ok(tool_get_time()),
            "whoami" => Ok(tool_whoami()),
            "fail" => Ok(tool_fail(args)),
            "slow" => match slow_ms(args) {
                Ok(ms) => {
                    let progress_token = params
                        .get("_meta")
                        .and_then(|m| m.get("progressToken"))
                        .filter(|t| t.is_string() || t.is_number())
                        .cloned();
                    let mut outcome = self.log("info", format!("tool `slow` started ({ms} ms)"));
                    outcome.job = Some(SlowJob {
                        id,
                        ms,
                        progress_token,
                    });
                    return outcome;
                }
                Err(msg) => Err(msg),
            },
            other => {
                return reply(
                    DemoError::InvalidParams(format!("unknown tool `{other}`")).into_response(id),
                );
            }
        };
        // Per MCP 2025-11-25, bad arguments are a tool execution error the model can read and
        // correct, not a protocol error.
        let (result, level, message) = match result {
            Ok(result) if result.get("isError") == Some(&Value::Bool(true)) => (
                result,
                "warning",
                format!("tool `{name}` reported an error"),
            ),
            Ok(result) => (result, "info", format!("tool `{name}` called")),
            Err(msg) => (
                tool_error(&msg.to_string()),
                "warning",
                format!("tool `{name}` rejected its arguments"),
            ),
        };
        let mut outcome = self.log(level, message);
        outcome.reply = Some(success_response(id, result));
        outcome
    }

    /// An outcome carrying one `notifications/message` if the client asked for this level.
    fn log(&self, level: &str, message: String) -> Outcome {
        let mut outcome = Outcome::default();
        let wanted = LOG_LEVELS.iter().position(|l| *l == level);
        // Plain matches rather than let-chains: the crate's MSRV (1.85) predates them.
        if matches!((self.log_level, wanted), (Some(min), Some(wanted)) if wanted >= min) {
            outcome.notifications.push(json!({
                "jsonrpc": "2.0",
                "method": "notifications/message",
                "params": { "level": level, "logger": "demo", "data": message },
            }));
        }
        outcome
    }

    fn set_level(&mut self, params: &Value) -> Result<Value, DemoError> {
        let level = params
            .get("level")
            .and_then(Value::as_str)
            .ok_or_else(|| DemoError::InvalidParams("`level` must be a string".into()))?;
        let index = LOG_LEVELS.iter().position(|l| *l == level).ok_or_else(|| {
            DemoError::InvalidParams(format!(
                "unknown log level `{level}`, expected one of {}",
                LOG_LEVELS.join(", ")
            ))
        })?;
        self.log_level = Some(index);
        Ok(json!({}))
    }

    fn subscribe(&mut self, params: &Value) -> Result<Value, DemoError> {
        let uri = resource_uri(params)?;
        // Reading validates the URI; we never change a resource, so no update ever follows.
        resource_contents(uri)?;
        self.subscriptions.insert(uri.to_string());
        Ok(json!({}))
    }

    fn unsubscribe(&mut self, params: &Value) -> Result<Value, DemoError> {
        let uri = resource_uri(params)?;
        self.subscriptions.remove(uri);
        Ok(json!({}))
    }

    /// URIs the client is subscribed to, for tests.
    pub fn subscriptions(&self) -> impl Iterator<Item = &str> {
        self.subscriptions.iter().map(String::as_str)
    }
}

pub(super) fn reply(response: Value) -> Outcome {
    Outcome {
        reply: Some(response),
        ..Outcome::default()
    }
}

pub(super) fn success_response(id: Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

pub(super) fn error_response(id: Value, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut error = json!({ "code": code, "message": message });
    if let (Some(data), Some(obj)) = (data, error.as_object_mut()) {
        obj.insert("data".into(), data);
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": error })
}

fn initialize(params: &Value) -> Value {
    let requested = params.get("protocolVersion").and_then(Value::as_str);
    let version = requested
        .filter(|v| SUPPORTED_PROTOCOL_VERSIONS.contains(v))
        .unwrap_or(LATEST_PROTOCOL_VERSION);
    json!({
        "protocolVersion": version,
        "capabilities": {
            "tools": { "listChanged": false },
            "prompts": { "listChanged": false },
            "resources": { "subscribe": true, "listChanged": false },
            "logging": {},
            "completions": {},
        },
        "serverInfo": {
            "name": "portcullis-demo",
            "title": "Portcullis demo server",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "instructions": "A demo server for trying Portcullis. Call `echo` or `add` to see a \
                         round trip, `slow` for progress and cancellation, `whoami` to see which \
                         environment variables reached the backend.",
    })
}

#[cfg(test)]
mod tests;
