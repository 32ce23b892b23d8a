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

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt,
};
use tokio::sync::{mpsc, oneshot};

/// Protocol versions this server speaks, newest first.
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
/// Answered when the client asks for a version we do not speak.
pub const LATEST_PROTOCOL_VERSION: &str = "2025-11-25";

/// A line longer than this is answered with a parse error and skipped, so a runaway client cannot
/// make the demo buffer without bound.
const MAX_LINE_BYTES: u64 = 4 * 1024 * 1024;
/// Upper bound on `slow`'s `ms`, so a test cannot park a task for hours.
const MAX_SLOW_MS: u64 = 300_000;
/// How many progress notifications `slow` sends over its sleep.
const SLOW_STEPS: u64 = 10;

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
/// MCP's code for "resource not found".
const RESOURCE_NOT_FOUND: i64 = -32002;

const README_TEXT: &str = "Portcullis demo server\n\
\n\
This is a tiny MCP server built into Portcullis so the quickstart has something to talk to.\n\
Tools: echo, add, get_time, slow, whoami, fail. Prompt: greeting. \
Resources: demo://readme, demo://config, demo://items/{id}.\n";

const GREETING_NAMES: [&str; 8] = [
    "Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Mallory",
];

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
                tool_error(&msg),
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

fn reply(response: Value) -> Outcome {
    Outcome {
        reply: Some(response),
        ..Outcome::default()
    }
}

fn success_response(id: Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

fn error_response(id: Value, code: i64, message: &str, data: Option<Value>) -> Value {
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

fn tool_definitions() -> Value {
    json!([
        {
            "name": "echo",
            "title": "Echo",
            "description": "Returns the message it was given, unchanged.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "message": { "type": "string", "description": "Text to send back." }
                },
                "required": ["message"],
                "additionalProperties": false,
            },
            "annotations": {
                "title": "Echo",
                "readOnlyHint": true,
                "destructiveHint": false,
                "idempotentHint": true,
                "openWorldHint": false,
            },
        },
        {
            "name": "add",
            "title": "Add two numbers",
            "description": "Adds `a` and `b` and returns the sum.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "a": { "type": "number", "description": "First addend." },
                    "b": { "type": "number", "description": "Second addend." }
                },
                "required": ["a", "b"],
                "additionalProperties": false,
            },
            "outputSchema": {
                "type": "object",
                "properties": { "sum": { "type": "number" } },
                "required": ["sum"],
            },
            "annotations": {
                "title": "Add two numbers",
                "readOnlyHint": true,
                "destructiveHint": false,
                "idempotentHint": true,
                "openWorldHint": false,
            },
        },
        {
            "name": "get_time",
            "title": "Current time",
            "description": "Returns the current UTC time as an RFC 3339 timestamp.",
            "inputSchema": {
                "type": "object",
                "properties": {},
                "additionalProperties": false,
            },
            "outputSchema": {
                "type": "object",
                "properties": {
                    "utc": { "type": "string", "description": "RFC 3339 timestamp in UTC." },
                    "unix_seconds": { "type": "integer" },
                },
                "required": ["utc", "unix_seconds"],
            },
            "annotations": {
                "title": "Current time",
                "readOnlyHint": true,
                "destructiveHint": false,
                "idempotentHint": false,
                "openWorldHint": false,
            },
        },
        {
            "name": "slow",
            "title": "Sleep",
            "description": "Sleeps for `ms` milliseconds (at most 300000), sending progress \
                            notifications when the request carries a progress token. \
                            Honours cancellation.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "ms": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": MAX_SLOW_MS,
                        "description": "How long to sleep, in milliseconds.",
                    }
                },
                "required": ["ms"],
                "additionalProperties": false,
            },
            "annotations": {
                "title": "Sleep",
                "readOnlyHint": true,
                "destructiveHint": false,
                "idempotentHint": true,
                "openWorldHint": false,
            },
        },
        {
            "name": "whoami",
            "title": "Visible environment",
            "description": "Lists the names (never the values) of the environment variables \
                            this server process can see, sorted.",
            "inputSchema": {
                "type": "object",
                "properties": {},
                "additionalProperties": false,
            },
            "outputSchema": {
                "type": "object",
                "properties": {
                    "env_names": { "type": "array", "items": { "type": "string" } },
                },
                "required": ["env_names"],
            },
            "annotations": {
                "title": "Visible environment",
                "readOnlyHint": true,
                "destructiveHint": false,
                "idempotentHint": true,
                "openWorldHint": false,
            },
        },
        {
            "name": "fail",
            "title": "Always fail",
            "description": "Always returns a tool result with isError set, for testing error \
                            handling.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "message": { "type": "string", "description": "Text to put in the error." }
                },
                "additionalProperties": false,
            },
            "annotations": {
                "title": "Always fail",
                "readOnlyHint": false,
                "destructiveHint": true,
                "idempotentHint": false,
                "openWorldHint": false,
            },
        },
    ])
}

fn text_result(text: String) -> Value {
    json!({ "content": [{ "type": "text", "text": text }], "isError": false })
}

/// A result with structured content and, as the spec asks for older clients, the same JSON as text.
fn structured_result(structured: Value) -> Value {
    json!({
        "content": [{ "type": "text", "text": structured.to_string() }],
        "structuredContent": structured,
        "isError": false,
    })
}

fn tool_error(message: &str) -> Value {
    json!({ "content": [{ "type": "text", "text": message }], "isError": true })
}

/// Rejects arguments that the tool's schema does not list, as `additionalProperties: false` says.
fn check_known_args(args: &Map<String, Value>, known: &[&str]) -> Result<(), String> {
    match args.keys().find(|k| !known.contains(&k.as_str())) {
        Some(extra) => Err(format!("unexpected argument `{extra}`")),
        None => Ok(()),
    }
}

fn tool_echo(args: &Map<String, Value>) -> Result<Value, String> {
    check_known_args(args, &["message"])?;
    match args.get("message") {
        Some(Value::String(message)) => Ok(text_result(message.clone())),
        Some(other) => Err(format!("`message` must be a string, got {other}")),
        None => Err("missing required argument `message`".into()),
    }
}

fn number_arg<'a>(args: &'a Map<String, Value>, name: &str) -> Result<&'a Value, String> {
    match args.get(name) {
        Some(v) if v.is_number() => Ok(v),
        Some(other) => Err(format!("`{name}` must be a number, got {other}")),
        None => Err(format!("missing required argument `{name}`")),
    }
}

fn tool_add(args: &Map<String, Value>) -> Result<Value, String> {
    check_known_args(args, &["a", "b"])?;
    let a = number_arg(args, "a")?;
    let b = number_arg(args, "b")?;
    // Keep integers exact; fall back to floating point for fractions or overflow.
    let sum = match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) if x.checked_add(y).is_some() => json!(x.saturating_add(y)),
        _ => {
            let total = a.as_f64().unwrap_or(f64::NAN) + b.as_f64().unwrap_or(f64::NAN);
            if !total.is_finite() {
                return Err("the sum is not a finite number".into());
            }
            json!(total)
        }
    };
    Ok(structured_result(json!({ "sum": sum })))
}

fn tool_get_time() -> Value {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let secs = since_epoch.as_secs();
    structured_result(json!({
        "utc": rfc3339_utc(secs, since_epoch.subsec_millis()),
        "unix_seconds": secs,
    }))
}

/// Formats seconds since the Unix epoch as RFC 3339 in UTC. Hand-written because pulling in a
/// date crate for one timestamp in a demo is not worth it; the calendar maths is Howard
/// Hinnant's `civil_from_days`.
fn rfc3339_utc(secs: u64, millis: u32) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (hour, minute, second) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a 400-year era.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
}

fn tool_whoami() -> Value {
    let names: BTreeSet<String> = std::env::vars_os()
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    structured_result(json!({ "env_names": names }))
}

fn tool_fail(args: &Map<String, Value>) -> Value {
    let detail = args
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no reason given");
    tool_error(&format!("the `fail` tool always fails: {detail}"))
}

fn slow_ms(args: &Map<String, Value>) -> Result<u64, String> {
    check_known_args(args, &["ms"])?;
    match args.get("ms") {
        Some(v) => match v.as_u64() {
            Some(ms) if ms <= MAX_SLOW_MS => Ok(ms),
            _ => Err(format!(
                "`ms` must be an integer from 0 to {MAX_SLOW_MS}, got {v}"
            )),
        },
        None => Err("missing required argument `ms`".into()),
    }
}

fn greeting_prompt_definition() -> Value {
    json!({
        "name": "greeting",
        "title": "Greeting",
        "description": "Asks the model to greet someone by name.",
        "arguments": [
            { "name": "name", "description": "Who to greet.", "required": true }
        ],
    })
}

fn get_prompt(params: &Value) -> Result<Value, DemoError> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| DemoError::InvalidParams("`name` must be a string".into()))?;
    if name != "greeting" {
        return Err(DemoError::InvalidParams(format!("unknown prompt `{name}`")));
    }
    let who = params
        .get("arguments")
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            DemoError::InvalidParams("prompt `greeting` needs the argument `name`".into())
        })?;
    Ok(json!({
        "description": "A friendly greeting",
        "messages": [{
            "role": "user",
            "content": { "type": "text", "text": format!("Please greet {who} warmly, in one sentence.") },
        }],
    }))
}

fn config_json() -> Value {
    json!({ "name": "portcullis-demo", "features": ["tools", "prompts", "resources"], "max_slow_ms": MAX_SLOW_MS })
}

fn resource_definitions() -> Value {
    json!([
        {
            "uri": "demo://readme",
            "name": "readme",
            "title": "Demo README",
            "description": "What this demo server offers.",
            "mimeType": "text/plain",
            "size": README_TEXT.len(),
        },
        {
            "uri": "demo://config",
            "name": "config",
            "title": "Demo configuration",
            "description": "The demo server's (fixed) configuration, as JSON.",
            "mimeType": "application/json",
        },
    ])
}

fn item_template() -> Value {
    json!({
        "uriTemplate": "demo://items/{id}",
        "name": "item",
        "title": "Demo item",
        "description": "A generated item; `id` is 1 to 64 letters, digits, `-` or `_`.",
        "mimeType": "application/json",
    })
}

fn resource_uri(params: &Value) -> Result<&str, DemoError> {
    params
        .get("uri")
        .and_then(Value::as_str)
        .ok_or_else(|| DemoError::InvalidParams("`uri` must be a string".into()))
}

fn valid_item_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `(mimeType, text)` of a resource, or not found.
fn resource_contents(uri: &str) -> Result<(&'static str, String), DemoError> {
    match uri {
        "demo://readme" => Ok(("text/plain", README_TEXT.to_string())),
        "demo://config" => Ok(("application/json", config_json().to_string())),
        _ => match uri.strip_prefix("demo://items/") {
            Some(id) if valid_item_id(id) => Ok((
                "application/json",
                json!({ "id": id, "name": format!("Item {id}") }).to_string(),
            )),
            _ => Err(DemoError::ResourceNotFound(uri.to_string())),
        },
    }
}

fn read_resource(params: &Value) -> Result<Value, DemoError> {
    let uri = resource_uri(params)?;
    let (mime, text) = resource_contents(uri)?;
    Ok(json!({ "contents": [{ "uri": uri, "mimeType": mime, "text": text }] }))
}

fn complete(params: &Value) -> Result<Value, DemoError> {
    let reference = params
        .get("ref")
        .ok_or_else(|| DemoError::InvalidParams("missing `ref`".into()))?;
    let arg_name = params
        .get("argument")
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| DemoError::InvalidParams("`argument.name` must be a string".into()))?;
    let prefix = params
        .get("argument")
        .and_then(|a| a.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let kind = reference.get("type").and_then(Value::as_str);
    let candidates: Vec<String> = match (kind, arg_name) {
        (Some("ref/prompt"), "name")
            if reference.get("name").and_then(Value::as_str) == Some("greeting") =>
        {
            GREETING_NAMES.iter().map(|s| s.to_string()).collect()
        }
        (Some("ref/resource"), "id")
            if reference.get("uri").and_then(Value::as_str) == Some("demo://items/{id}") =>
        {
            (1..=20).map(|n| n.to_string()).collect()
        }
        _ => {
            return Err(DemoError::InvalidParams(format!(
                "nothing to complete for argument `{arg_name}` of {reference}"
            )));
        }
    };
    let values: Vec<String> = candidates
        .into_iter()
        .filter(|c| c.to_lowercase().starts_with(&prefix))
        .collect();
    Ok(json!({
        "completion": { "values": values, "total": values.len(), "hasMore": false }
    }))
}

/// Runs one `slow` call: sleeps in [`SLOW_STEPS`] slices, reporting progress after each, and
/// sends the response unless cancelled first (MCP says a cancelled request gets no response).
async fn run_slow(
    job: SlowJob,
    out: mpsc::UnboundedSender<Value>,
    mut cancel: oneshot::Receiver<()>,
) {
    let steps = if job.ms == 0 { 0 } else { SLOW_STEPS };
    for step in 1..=steps {
        let slice =
            Duration::from_millis(job.ms / SLOW_STEPS + u64::from(step <= job.ms % SLOW_STEPS));
        tokio::select! {
            // Either an explicit cancel or the transport shutting down (sender dropped).
            _ = &mut cancel => {
                tracing::debug!(id = %job.id, "slow call cancelled");
                return;
            }
            () = tokio::time::sleep(slice) => {}
        }
        if let Some(token) = &job.progress_token {
            let note = json!({
                "jsonrpc": "2.0",
                "method": "notifications/progress",
                "params": {
                    "progressToken": token,
                    "progress": step,
                    "total": SLOW_STEPS,
                    "message": format!("slept {step}/{SLOW_STEPS} of {} ms", job.ms),
                },
            });
            if out.send(note).is_err() {
                return;
            }
        }
    }
    let result = text_result(format!("slept {} ms", job.ms));
    // The receiver is gone only when the transport is shutting down; nothing left to do then.
    let _ = out.send(success_response(job.id, result));
}

/// Reads one line of at most [`MAX_LINE_BYTES`], without the newline. `Ok(None)` at end of
/// input; `Ok(Some(Err(())))` for a line that was too long (already skipped).
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Result<(), ()>>> {
    buf.clear();
    let n = (&mut *reader)
        .take(MAX_LINE_BYTES + 1)
        .read_until(b'\n', buf)
        .await?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        return Ok(Some(Ok(())));
    }
    if (n as u64) <= MAX_LINE_BYTES {
        // Last line without a trailing newline.
        return Ok(Some(Ok(())));
    }
    // Too long: discard up to and including the next newline.
    let mut skip = Vec::new();
    loop {
        skip.clear();
        let m = (&mut *reader)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut skip)
            .await?;
        if m == 0 || skip.last() == Some(&b'\n') {
            break;
        }
    }
    buf.clear();
    Ok(Some(Err(())))
}

async fn write_loop<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut rx: mpsc::UnboundedReceiver<Value>,
) -> std::io::Result<()> {
    while let Some(msg) = rx.recv().await {
        let mut line = serde_json::to_vec(&msg).map_err(std::io::Error::other)?;
        line.push(b'\n');
        writer.write_all(&line).await?;
        writer.flush().await?;
    }
    Ok(())
}

/// Serves MCP over any byte streams: stdio in production, in-memory pipes in tests. Returns when
/// the input ends (the client closed it) or the output breaks.
pub async fn serve<R, W>(reader: R, writer: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out, rx) = mpsc::unbounded_channel::<Value>();
    let writer_task = tokio::spawn(write_loop(writer, rx));
    let mut reader = tokio::io::BufReader::new(reader);
    let mut server = Server::new();
    // Keyed by the request id's JSON text, so `1` and `"1"` stay distinct.
    let mut in_flight: HashMap<String, oneshot::Sender<()>> = HashMap::new();
    let mut buf = Vec::new();

    let read_result = loop {
        let line = match read_line(&mut reader, &mut buf).await {
            Ok(Some(line)) => line,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        let outcome = match line {
            Err(()) => {
                tracing::warn!("input line longer than {MAX_LINE_BYTES} bytes skipped");
                reply(error_response(
                    Value::Null,
                    PARSE_ERROR,
                    "parse error: line too long",
                    None,
                ))
            }
            Ok(()) if buf.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(()) => match serde_json::from_slice::<Value>(&buf) {
                Ok(msg) => server.handle_message(&msg),
                Err(e) => {
                    tracing::warn!(error = %e, "malformed JSON on input");
                    reply(error_response(
                        Value::Null,
                        PARSE_ERROR,
                        &format!("parse error: {e}"),
                        None,
                    ))
                }
            },
        };
        if let Some(tx) = outcome
            .cancel
            .and_then(|id| in_flight.remove(&id.to_string()))
        {
            let _ = tx.send(());
        }
        let mut sent = outcome
            .notifications
            .into_iter()
            .all(|n| out.send(n).is_ok());
        if let Some(response) = outcome.reply {
            sent &= out.send(response).is_ok();
        }
        if let Some(job) = outcome.job {
            in_flight.retain(|_, tx| !tx.is_closed());
            match in_flight.entry(job.id.to_string()) {
                Entry::Occupied(entry) => {
                    let err = DemoError::InvalidRequest(format!(
                        "request id {} is already in flight",
                        entry.key()
                    ));
                    sent &= out.send(err.into_response(job.id)).is_ok();
                }
                Entry::Vacant(entry) => {
                    let (tx, rx) = oneshot::channel();
                    entry.insert(tx);
                    tokio::spawn(run_slow(job, out.clone(), rx));
                }
            }
        }
        if !sent {
            // The writer stopped, so stdout is gone; its own error is reported below.
            break Ok(());
        }
    };

    // Input closed: abandon running jobs (dropping their senders cancels them) and let the
    // writer drain what is queued.
    in_flight.clear();
    drop(out);
    let write_result = match writer_task.await {
        Ok(result) => result,
        Err(e) => Err(std::io::Error::other(e)),
    };
    read_result.and(write_result)
}

/// Serves MCP on this process's stdin and stdout until stdin closes.
pub async fn run_stdio() -> std::io::Result<()> {
    tracing::info!("demo MCP server running on stdio");
    serve(tokio::io::stdin(), tokio::io::stdout()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(id: i64, method: &str, params: Value) -> Value {
        json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
    }

    fn result_of(server: &mut Server, method: &str, params: Value) -> Value {
        let response = server.handle(&request(1, method, params)).unwrap();
        assert_eq!(response["id"], 1);
        assert!(
            response.get("error").is_none(),
            "unexpected error: {response}"
        );
        response["result"].clone()
    }

    fn error_of(server: &mut Server, method: &str, params: Value) -> Value {
        let response = server.handle(&request(7, method, params)).unwrap();
        assert_eq!(response["id"], 7);
        response["error"].clone()
    }

    fn call(server: &mut Server, name: &str, args: Value) -> Value {
        result_of(
            server,
            "tools/call",
            json!({ "name": name, "arguments": args }),
        )
    }

    #[test]
    fn initialize_negotiates_version() {
        let mut s = Server::new();
        for v in SUPPORTED_PROTOCOL_VERSIONS {
            let r = result_of(
                &mut s,
                "initialize",
                json!({ "protocolVersion": v, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"} }),
            );
            assert_eq!(r["protocolVersion"], v);
        }
        let r = result_of(
            &mut s,
            "initialize",
            json!({ "protocolVersion": "2024-11-05" }),
        );
        assert_eq!(r["protocolVersion"], LATEST_PROTOCOL_VERSION);
        assert_eq!(r["serverInfo"]["name"], "portcullis-demo");
        assert_eq!(r["capabilities"]["resources"]["subscribe"], true);
    }

    #[test]
    fn lists_tools_with_schemas_and_annotations() {
        let mut s = Server::new();
        let r = result_of(&mut s, "tools/list", json!({}));
        let tools = r["tools"].as_array().unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["echo", "add", "get_time", "slow", "whoami", "fail"]);
        for t in tools {
            assert_eq!(t["inputSchema"]["type"], "object");
            assert!(t["title"].is_string());
            assert!(t["annotations"]["readOnlyHint"].is_boolean());
        }
    }

    #[test]
    fn echo_add_fail() {
        let mut s = Server::new();
        let r = call(&mut s, "echo", json!({ "message": "hi there" }));
        assert_eq!(r["content"][0]["text"], "hi there");
        assert_eq!(r["isError"], false);

        let r = call(&mut s, "add", json!({ "a": 2, "b": 40 }));
        assert_eq!(r["structuredContent"]["sum"], 42);
        assert_eq!(r["content"][0]["text"], "{\"sum\":42}");
        let r = call(&mut s, "add", json!({ "a": 0.5, "b": 0.25 }));
        assert_eq!(r["structuredContent"]["sum"], 0.75);
        let r = call(&mut s, "add", json!({ "a": i64::MAX, "b": 1 }));
        assert!(r["structuredContent"]["sum"].is_f64());

        let r = call(&mut s, "fail", json!({ "message": "boom" }));
        assert_eq!(r["isError"], true);
        assert!(r["content"][0]["text"].as_str().unwrap().contains("boom"));
    }

    #[test]
    fn bad_tool_arguments_are_tool_errors() {
        let mut s = Server::new();
        for (name, args) in [
            ("echo", json!({})),
            ("echo", json!({ "message": 3 })),
            ("add", json!({ "a": "1", "b": 2 })),
            ("add", json!({ "a": 1 })),
            ("add", json!({ "a": 1, "b": 2, "c": 3 })),
            ("slow", json!({ "ms": -1 })),
            ("slow", json!({ "ms": MAX_SLOW_MS + 1 })),
        ] {
            let r = call(&mut s, name, args);
            assert_eq!(r["isError"], true, "{name}: {r}");
        }
        let e = error_of(&mut s, "tools/call", json!({ "name": "nope" }));
        assert_eq!(e["code"], INVALID_PARAMS);
        let e = error_of(
            &mut s,
            "tools/call",
            json!({ "name": "echo", "arguments": [1] }),
        );
        assert_eq!(e["code"], INVALID_PARAMS);
    }

    #[test]
    fn get_time_is_rfc3339() {
        let mut s = Server::new();
        let r = call(&mut s, "get_time", json!({}));
        let utc = r["structuredContent"]["utc"].as_str().unwrap();
        assert_eq!(utc.len(), "2025-01-01T00:00:00.000Z".len());
        assert!(utc.ends_with('Z') && utc.as_bytes()[10] == b'T');
        assert!(utc.starts_with("20"));
    }

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339_utc(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(rfc3339_utc(1_709_251_199, 999), "2024-02-29T23:59:59.999Z");
        assert_eq!(rfc3339_utc(1_735_689_600, 0), "2025-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
    }

    #[test]
    fn whoami_lists_sorted_names_only() {
        let mut s = Server::new();
        let r = call(&mut s, "whoami", json!({}));
        let names: Vec<String> =
            serde_json::from_value(r["structuredContent"]["env_names"].clone()).unwrap();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        // PATH is set under cargo test; its value must not appear.
        if let Ok(path) = std::env::var("PATH") {
            assert!(names.iter().any(|n| n == "PATH"));
            assert!(!r.to_string().contains(&path));
        }
    }

    #[test]
    fn slow_becomes_a_job() {
        let mut s = Server::new();
        let msg = request(
            3,
            "tools/call",
            json!({ "name": "slow", "arguments": { "ms": 50 }, "_meta": { "progressToken": "p1" } }),
        );
        let outcome = s.handle_message(&msg);
        assert!(outcome.reply.is_none());
        assert_eq!(
            outcome.job,
            Some(SlowJob {
                id: json!(3),
                ms: 50,
                progress_token: Some(json!("p1"))
            })
        );
    }

    #[test]
    fn prompts() {
        let mut s = Server::new();
        let r = result_of(&mut s, "prompts/list", json!({}));
        assert_eq!(r["prompts"][0]["name"], "greeting");
        let r = result_of(
            &mut s,
            "prompts/get",
            json!({ "name": "greeting", "arguments": { "name": "Ada" } }),
        );
        assert!(
            r["messages"][0]["content"]["text"]
                .as_str()
                .unwrap()
                .contains("Ada")
        );
        let e = error_of(&mut s, "prompts/get", json!({ "name": "greeting" }));
        assert_eq!(e["code"], INVALID_PARAMS);
        let e = error_of(
            &mut s,
            "prompts/get",
            json!({ "name": "other", "arguments": {} }),
        );
        assert_eq!(e["code"], INVALID_PARAMS);
    }

    #[test]
    fn resources_and_templates() {
        let mut s = Server::new();
        let r = result_of(&mut s, "resources/list", json!({}));
        assert_eq!(r["resources"].as_array().unwrap().len(), 2);
        let r = result_of(&mut s, "resources/templates/list", json!({}));
        assert_eq!(
            r["resourceTemplates"][0]["uriTemplate"],
            "demo://items/{id}"
        );
        let r = result_of(&mut s, "resources/read", json!({ "uri": "demo://readme" }));
        assert!(
            r["contents"][0]["text"]
                .as_str()
                .unwrap()
                .contains("demo server")
        );
        let r = result_of(&mut s, "resources/read", json!({ "uri": "demo://config" }));
        let config: Value =
            serde_json::from_str(r["contents"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(config["name"], "portcullis-demo");
        let r = result_of(
            &mut s,
            "resources/read",
            json!({ "uri": "demo://items/42" }),
        );
        assert_eq!(r["contents"][0]["uri"], "demo://items/42");
        for bad in [
            "demo://items/",
            "demo://items/a/b",
            "demo://nope",
            "file:///etc/passwd",
        ] {
            let e = error_of(&mut s, "resources/read", json!({ "uri": bad }));
            assert_eq!(e["code"], RESOURCE_NOT_FOUND, "{bad}");
        }
    }

    #[test]
    fn subscriptions() {
        let mut s = Server::new();
        result_of(
            &mut s,
            "resources/subscribe",
            json!({ "uri": "demo://readme" }),
        );
        assert_eq!(s.subscriptions().collect::<Vec<_>>(), ["demo://readme"]);
        let e = error_of(
            &mut s,
            "resources/subscribe",
            json!({ "uri": "demo://nope" }),
        );
        assert_eq!(e["code"], RESOURCE_NOT_FOUND);
        result_of(
            &mut s,
            "resources/unsubscribe",
            json!({ "uri": "demo://readme" }),
        );
        assert_eq!(s.subscriptions().count(), 0);
    }

    #[test]
    fn completion() {
        let mut s = Server::new();
        let r = result_of(
            &mut s,
            "completion/complete",
            json!({ "ref": { "type": "ref/prompt", "name": "greeting" }, "argument": { "name": "name", "value": "a" } }),
        );
        assert_eq!(r["completion"]["values"], json!(["Alice"]));
        let r = result_of(
            &mut s,
            "completion/complete",
            json!({ "ref": { "type": "ref/resource", "uri": "demo://items/{id}" }, "argument": { "name": "id", "value": "1" } }),
        );
        assert_eq!(r["completion"]["total"], 11);
        let e = error_of(
            &mut s,
            "completion/complete",
            json!({ "ref": { "type": "ref/prompt", "name": "x" }, "argument": { "name": "name", "value": "" } }),
        );
        assert_eq!(e["code"], INVALID_PARAMS);
    }

    #[test]
    fn logging_level_controls_notifications() {
        let mut s = Server::new();
        let msg = request(
            1,
            "tools/call",
            json!({ "name": "echo", "arguments": { "message": "x" } }),
        );
        assert!(s.handle_message(&msg).notifications.is_empty());
        result_of(&mut s, "logging/setLevel", json!({ "level": "info" }));
        let out = s.handle_message(&msg);
        assert_eq!(out.notifications.len(), 1);
        assert_eq!(out.notifications[0]["method"], "notifications/message");
        result_of(&mut s, "logging/setLevel", json!({ "level": "error" }));
        assert!(s.handle_message(&msg).notifications.is_empty());
        let e = error_of(&mut s, "logging/setLevel", json!({ "level": "loud" }));
        assert_eq!(e["code"], INVALID_PARAMS);
    }

    #[test]
    fn protocol_errors() {
        let mut s = Server::new();
        assert_eq!(
            error_of(&mut s, "nope/nope", json!({}))["code"],
            METHOD_NOT_FOUND
        );
        assert_eq!(result_of(&mut s, "ping", Value::Null), json!({}));
        let r = s.handle(&json!([1, 2])).unwrap();
        assert_eq!(r["error"]["code"], INVALID_REQUEST);
        assert_eq!(r["id"], Value::Null);
        let r = s
            .handle(&json!({ "jsonrpc": "2.0", "id": 1, "method": 5 }))
            .unwrap();
        assert_eq!(r["error"]["code"], INVALID_REQUEST);
        let r = s
            .handle(&json!({ "jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1] }))
            .unwrap();
        assert_eq!(r["error"]["code"], INVALID_PARAMS);
        let r = s
            .handle(&json!({ "jsonrpc": "2.0", "id": null, "method": "ping" }))
            .unwrap();
        assert_eq!(r["error"]["code"], INVALID_REQUEST);
        // Notifications and stray responses get no reply.
        assert!(
            s.handle(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
                .is_none()
        );
        assert!(
            s.handle(&json!({ "jsonrpc": "2.0", "id": 9, "result": {} }))
                .is_none()
        );
    }

    /// Drives `serve` over in-memory pipes and collects every line it writes until input closes.
    async fn run_session(input: &[u8]) -> Vec<Value> {
        let (mut client_w, server_r) = tokio::io::duplex(1 << 16);
        let (server_w, mut client_r) = tokio::io::duplex(1 << 16);
        let task = tokio::spawn(serve(server_r, server_w));
        client_w.write_all(input).await.unwrap();
        drop(client_w);
        let mut out = String::new();
        client_r.read_to_string(&mut out).await.unwrap();
        task.await.unwrap().unwrap();
        out.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn parse_error_then_keeps_serving() {
        let out =
            run_session(b"{not json\n\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n")
                .await;
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["error"]["code"], PARSE_ERROR);
        assert_eq!(out[0]["id"], Value::Null);
        assert_eq!(out[1], json!({ "jsonrpc": "2.0", "id": 1, "result": {} }));
    }

    #[tokio::test]
    async fn slow_sends_progress_then_result() {
        let (mut client_w, server_r) = tokio::io::duplex(1 << 16);
        let (server_w, client_r) = tokio::io::duplex(1 << 16);
        let task = tokio::spawn(serve(server_r, server_w));
        let req = json!({ "jsonrpc": "2.0", "id": "s1", "method": "tools/call",
            "params": { "name": "slow", "arguments": { "ms": 30 }, "_meta": { "progressToken": 7 } } });
        client_w
            .write_all(format!("{req}\n").as_bytes())
            .await
            .unwrap();
        let mut lines = tokio::io::BufReader::new(client_r).lines();
        let mut progress = 0;
        loop {
            let line = lines.next_line().await.unwrap().unwrap();
            let msg: Value = serde_json::from_str(&line).unwrap();
            if msg["method"] == "notifications/progress" {
                assert_eq!(msg["params"]["progressToken"], 7);
                progress += 1;
            } else {
                assert_eq!(msg["id"], "s1");
                assert_eq!(msg["result"]["content"][0]["text"], "slept 30 ms");
                break;
            }
        }
        assert_eq!(progress, SLOW_STEPS);
        drop(client_w);
        task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn cancelled_slow_gets_no_response() {
        let (mut client_w, server_r) = tokio::io::duplex(1 << 16);
        let (server_w, client_r) = tokio::io::duplex(1 << 16);
        let task = tokio::spawn(serve(server_r, server_w));
        let slow = json!({ "jsonrpc": "2.0", "id": 5, "method": "tools/call",
            "params": { "name": "slow", "arguments": { "ms": 60000 } } });
        let cancel = json!({ "jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": { "requestId": 5, "reason": "test" } });
        let ping = json!({ "jsonrpc": "2.0", "id": 6, "method": "ping" });
        client_w
            .write_all(format!("{slow}\n{cancel}\n{ping}\n").as_bytes())
            .await
            .unwrap();
        let mut lines = tokio::io::BufReader::new(client_r).lines();
        let line = lines.next_line().await.unwrap().unwrap();
        let msg: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(msg["id"], 6);
        // Closing input ends the session promptly even though the sleep had a minute left.
        drop(client_w);
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(lines.next_line().await.unwrap().is_none());
    }
}
