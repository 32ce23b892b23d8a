//! The demo's tools: their definitions (with schemas and annotations) and what each does.
//! Arguments are checked as each tool's schema says (`additionalProperties: false`); a bad
//! argument is an [`ArgError`], which the server turns into a tool execution error the model
//! can read and correct.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// Upper bound on `slow`'s `ms`, so a test cannot park a task for hours.
pub(super) const MAX_SLOW_MS: u64 = 300_000;

/// Why a tool refused its arguments.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArgError {
    #[error("unexpected argument `{0}`")]
    Unexpected(String),
    #[error("missing required argument `{0}`")]
    Missing(String),
    #[error("`{name}` must be a string, got {got}")]
    NotString { name: String, got: Value },
    #[error("`{name}` must be a number, got {got}")]
    NotNumber { name: String, got: Value },
    #[error("the sum is not a finite number")]
    NotFinite,
    #[error("`ms` must be an integer from 0 to {MAX_SLOW_MS}, got {0}")]
    SlowMs(Value),
}

pub(super) fn tool_definitions() -> Value {
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

pub(super) fn text_result(text: String) -> Value {
    json!({ "content": [{ "type": "text", "text": text }], "isError": false })
}

/// A result with structured content and, as the spec asks for older clients, the same JSON as text.
pub(super) fn structured_result(structured: Value) -> Value {
    json!({
        "content": [{ "type": "text", "text": structured.to_string() }],
        "structuredContent": structured,
        "isError": false,
    })
}

pub(super) fn tool_error(message: &str) -> Value {
    json!({ "content": [{ "type": "text", "text": message }], "isError": true })
}

/// Rejects arguments that the tool's schema does not list, as `additionalProperties: false` says.
fn check_known_args(args: &Map<String, Value>, known: &[&str]) -> Result<(), ArgError> {
    match args.keys().find(|k| !known.contains(&k.as_str())) {
        Some(extra) => Err(ArgError::Unexpected(extra.clone())),
        None => Ok(()),
    }
}

pub(super) fn tool_echo(args: &Map<String, Value>) -> Result<Value, ArgError> {
    check_known_args(args, &["message"])?;
    match args.get("message") {
        Some(Value::String(message)) => Ok(text_result(message.clone())),
        Some(other) => Err(ArgError::NotString {
            name: "message".into(),
            got: other.clone(),
        }),
        None => Err(ArgError::Missing("message".into())),
    }
}

fn number_arg<'a>(args: &'a Map<String, Value>, name: &str) -> Result<&'a Value, ArgError> {
    match args.get(name) {
        Some(v) if v.is_number() => Ok(v),
        Some(other) => Err(ArgError::NotNumber {
            name: name.into(),
            got: other.clone(),
        }),
        None => Err(ArgError::Missing(name.into())),
    }
}

pub(super) fn tool_add(args: &Map<String, Value>) -> Result<Value, ArgError> {
    check_known_args(args, &["a", "b"])?;
    let a = number_arg(args, "a")?;
    let b = number_arg(args, "b")?;
    // Keep integers exact; fall back to floating point for fractions or overflow.
    let sum = match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) if x.checked_add(y).is_some() => json!(x.saturating_add(y)),
        _ => {
            let total = a.as_f64().unwrap_or(f64::NAN) + b.as_f64().unwrap_or(f64::NAN);
            if !total.is_finite() {
                return Err(ArgError::NotFinite);
            }
            json!(total)
        }
    };
    Ok(structured_result(json!({ "sum": sum })))
}

pub(super) fn tool_get_time() -> Value {
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
pub(super) fn rfc3339_utc(secs: u64, millis: u32) -> String {
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

pub(super) fn tool_whoami() -> Value {
    let names: BTreeSet<String> = std::env::vars_os()
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    structured_result(json!({ "env_names": names }))
}

pub(super) fn tool_fail(args: &Map<String, Value>) -> Value {
    let detail = args
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no reason given");
    tool_error(&format!("the `fail` tool always fails: {detail}"))
}

pub(super) fn slow_ms(args: &Map<String, Value>) -> Result<u64, ArgError> {
    check_known_args(args, &["ms"])?;
    match args.get("ms") {
        Some(v) => match v.as_u64() {
            Some(ms) if ms <= MAX_SLOW_MS => Ok(ms),
            _ => Err(ArgError::SlowMs(v.clone())),
        },
        None => Err(ArgError::Missing("ms".into())),
    }
}
