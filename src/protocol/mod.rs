//! JSON-RPC envelopes and MCP protocol facts the gateway needs to route messages.
//!
//! Messages stay `serde_json::Value` end to end so that fields the gateway does not read pass
//! through untouched; this module only classifies them and reads the few fields routing needs.
//! It also owns the decoder for untrusted bytes (size and nesting limits) and the SSE codec.

pub mod meta;
pub mod sse;

use serde_json::{Map, Value, json};

/// Protocol versions a client may speak to us, newest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26"];
/// The version we answer with when a client asks for one we do not know.
pub const LATEST_VERSION: &str = "2025-11-25";
/// The version assumed when a client sends no `MCP-Protocol-Version` header (transport spec).
pub const DEFAULT_HEADER_VERSION: &str = "2025-03-26";

/// The revision without sessions: every request carries its version and capabilities.
pub use meta::MODERN_VERSION;

/// Reserved `_meta` keys of MCP 2026-07-28 (declared once, in [`meta::key`]).
pub use meta::key as meta_keys;

/// JSON-RPC and MCP error codes.
pub mod code {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
    /// MCP: resource not found.
    pub const RESOURCE_NOT_FOUND: i64 = -32002;
    /// Gateway-specific: the backend that owns this name is unavailable.
    pub const BACKEND_UNAVAILABLE: i64 = -32010;
    /// Gateway-specific: the backend answered with something that is not MCP.
    pub const BACKEND_PROTOCOL: i64 = -32011;
    /// Gateway-specific: the backend did not answer in time.
    pub const BACKEND_TIMEOUT: i64 = -32012;
    /// Gateway-specific: no credential could be obtained for the backend (e.g. token exchange).
    pub const BACKEND_CREDENTIALS: i64 = -32013;
    /// The client cancelled the request (`notifications/cancelled`) and the gateway stopped it
    /// (the code LSP uses for the same thing, in JSON-RPC's reserved range).
    pub const REQUEST_CANCELLED: i64 = -32800;
    /// 2026-07-28: HTTP headers missing, malformed, or not matching the body.
    pub const HEADER_MISMATCH: i64 = -32020;
    /// 2026-07-28: the request needs a client capability it did not declare.
    pub const MISSING_CAPABILITY: i64 = -32021;
    /// 2026-07-28: the request's protocol version is not served.
    pub const UNSUPPORTED_VERSION: i64 = -32022;
}

/// What a decoded JSON-RPC message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Notification,
    Response,
}

/// Why bytes from a peer are not a JSON-RPC message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("body is not valid JSON: {0}")]
    Json(String),
    #[error("JSON nesting exceeds the limit of {0} levels")]
    TooDeep(usize),
    #[error("JSON-RPC batches (arrays) are not supported; send one message per request")]
    Batch,
    #[error("message is not a JSON-RPC 2.0 object: {0}")]
    NotJsonRpc(&'static str),
}

/// Classify a JSON-RPC 2.0 message. Only the envelope is checked; params are the peer's business.
pub fn classify(msg: &Value) -> Result<Kind, DecodeError> {
    let obj = msg
        .as_object()
        .ok_or(DecodeError::NotJsonRpc("not an object"))?;
    if get(obj, "jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(DecodeError::NotJsonRpc("`jsonrpc` must be \"2.0\""));
    }
    let id = get(obj, "id");
    if let Some(id) = id {
        if !(id.is_string() || id.is_number() || id.is_null()) {
            return Err(DecodeError::NotJsonRpc("`id` must be a string or a number"));
        }
    }
    match get(obj, "method") {
        Some(Value::String(_)) => {
            if get(obj, "params").is_some_and(|p| !(p.is_object() || p.is_array())) {
                return Err(DecodeError::NotJsonRpc("`params` must be an object"));
            }
            match id {
                Some(Value::Null) => Err(DecodeError::NotJsonRpc("request `id` must not be null")),
                Some(_) => Ok(Kind::Request),
                None => Ok(Kind::Notification),
            }
        }
        Some(_) => Err(DecodeError::NotJsonRpc("`method` must be a string")),
        None => {
            if id.is_none() {
                return Err(DecodeError::NotJsonRpc("missing `method` or `id`"));
            }
            let has_result = get(obj, "result").is_some();
            let has_error = get(obj, "error").is_some();
            if has_result == has_error {
                return Err(DecodeError::NotJsonRpc(
                    "a response needs exactly one of `result` or `error`",
                ));
            }
            Ok(Kind::Response)
        }
    }
}

/// Decode one untrusted JSON-RPC message with a nesting limit checked *before* parsing, so a
/// deeply nested body cannot exhaust the stack of the recursive parser.
pub fn decode(bytes: &[u8], max_depth: usize) -> Result<(Value, Kind), DecodeError> {
    check_depth(bytes, max_depth)?;
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))?;
    if value.is_array() {
        return Err(DecodeError::Batch);
    }
    let kind = classify(&value)?;
    Ok((value, kind))
}

/// Scan raw JSON text for bracket nesting deeper than `max`, skipping string contents.
/// Linear, allocation-free, and safe on invalid input (the parser reports that afterwards).
/// Most of a message is inside strings, which are skipped with `memchr` to their next quote or
/// backslash instead of byte by byte.
pub fn check_depth(bytes: &[u8], max: usize) -> Result<(), DecodeError> {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b'"' => loop {
                let rest = bytes.get(i..).unwrap_or_default();
                let Some(at) = memchr::memchr2(b'"', b'\\', rest) else {
                    // An unterminated string: nothing more to count.
                    return Ok(());
                };
                // A backslash escapes the byte after it (a quote or anything else).
                let escape = rest.get(at) == Some(&b'\\');
                i += at + if escape { 2 } else { 1 };
                if !escape {
                    break;
                }
            },
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(DecodeError::TooDeep(max));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

pub fn method(msg: &Value) -> Option<&str> {
    field(msg, "method").and_then(Value::as_str)
}

pub fn id(msg: &Value) -> Option<&Value> {
    field(msg, "id")
}

pub fn params(msg: &Value) -> Option<&Map<String, Value>> {
    field(msg, "params").and_then(Value::as_object)
}

pub fn params_mut(msg: &mut Value) -> Option<&mut Map<String, Value>> {
    field_mut(msg, "params").and_then(Value::as_object_mut)
}

/// Objects with at most this many keys are searched by comparing keys.
const SCAN_MAX: usize = 8;

/// `v[key]` when `v` is an object holding `key`: what `Value::get` answers, found without
/// hashing in a small object. `serde_json`'s map (an `IndexMap`, for `preserve_order`) hashes
/// the key with SipHash on every lookup, which costs more than comparing it with the few keys
/// a JSON-RPC envelope, its `params` or a `_meta` has; the request path reads such fields
/// dozens of times per message.
pub fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    get(v.as_object()?, key)
}

/// [`field`] for a map.
pub fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() > SCAN_MAX {
        return map.get(key);
    }
    map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
}

/// [`field`], mutable.
pub fn field_mut<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    get_mut(v.as_object_mut()?, key)
}

/// `map[key] = value`, in place when the key is there (no hashing in a small object).
pub fn set(map: &mut Map<String, Value>, key: &str, value: Value) {
    match get_mut(map, key) {
        Some(slot) => *slot = value,
        None => {
            map.insert(key.to_owned(), value);
        }
    }
}

/// [`get`], mutable.
pub fn get_mut<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Value> {
    if map.len() > SCAN_MAX {
        return map.get_mut(key);
    }
    map.iter_mut()
        .find(|(k, _)| k.as_str() == key)
        .map(|(_, v)| v)
}

/// A JSON-RPC error response.
pub fn error_response(
    id: Value,
    code: i64,
    message: impl Into<String>,
    data: Option<Value>,
) -> Value {
    let mut err = json!({ "code": code, "message": message.into() });
    if let (Some(data), Some(obj)) = (data, err.as_object_mut()) {
        obj.insert("data".into(), data);
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": err })
}

/// An error that reaches a client as a JSON-RPC error: each error type of the chain says its code,
/// message and data in one place, beside its definition.
pub trait Fault: std::fmt::Display {
    fn code(&self) -> i64;
    fn data(&self) -> Option<Value> {
        None
    }
}

/// The JSON-RPC error response for `fault`.
pub fn fault_response(id: Value, fault: &dyn Fault) -> Value {
    error_response(id, fault.code(), fault.to_string(), fault.data())
}

pub fn result_response(id: Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

pub fn notification(method: &str, params: Option<Value>) -> Value {
    match params {
        Some(p) => json!({ "jsonrpc": "2.0", "method": method, "params": p }),
        None => json!({ "jsonrpc": "2.0", "method": method }),
    }
}

/// The version we answer an `initialize` with: the client's if we speak it, else our latest.
pub fn negotiate_version(requested: Option<&str>) -> &'static str {
    requested
        .and_then(|r| SUPPORTED_VERSIONS.iter().find(|v| **v == r))
        .copied()
        .unwrap_or(LATEST_VERSION)
}

pub fn is_supported_version(v: &str) -> bool {
    SUPPORTED_VERSIONS.contains(&v)
}

/// What the JSON type of `v` is called in messages ("a string", "an object", ...).
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `value` with every object's keys in sorted order (a canonical form to compare or hash).
pub fn sorted_keys(value: Value) -> Value {
    // Recursion depth is bounded by the input's nesting, which `serde_json` limits to 128 when
    // parsing untrusted text.
    match value {
        Value::Object(map) => {
            let sorted: std::collections::BTreeMap<String, Value> = map.into_iter().collect();
            Value::Object(
                sorted
                    .into_iter()
                    .map(|(k, v)| (k, sorted_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted_keys).collect()),
        other => other,
    }
}

/// A key usable in maps for a JSON-RPC id (ids are strings or numbers).
pub fn id_key(id: &Value) -> String {
    match id {
        Value::String(s) => format!("s:{s}"),
        other => format!("n:{other}"),
    }
}

/// Does `uri` match an RFC 6570 level-1 template such as `demo://items/{id}`? Literal parts must
/// match exactly; each `{var}` matches one or more characters other than `/` (or anything for
/// `{+var}` / the last variable).
pub fn template_matches(template: &str, uri: &str) -> bool {
    let mut rest = uri;
    let mut t = template;
    loop {
        match t.find('{') {
            None => return rest == t,
            Some(open) => {
                let (lit, after) = t.split_at(open);
                let Some(stripped) = rest.strip_prefix(lit) else {
                    return false;
                };
                rest = stripped;
                let Some(close) = after.find('}') else {
                    return false;
                };
                let var = after.get(1..close).unwrap_or("");
                t = after.get(close + 1..).unwrap_or("");
                let reserved = var.starts_with('+') || var.starts_with('#');
                // The variable extends to the next literal (or the end).
                let next_lit_end = t.find('{').unwrap_or(t.len());
                let next_lit = t.get(..next_lit_end).unwrap_or("");
                let end = if next_lit.is_empty() {
                    if t.is_empty() {
                        rest.len()
                    } else {
                        return false;
                    }
                } else {
                    match rest.find(next_lit) {
                        Some(i) => i,
                        None => return false,
                    }
                };
                let value = rest.get(..end).unwrap_or("");
                if value.is_empty() || (!reserved && !t.is_empty() && value.contains('/')) {
                    return false;
                }
                rest = rest.get(end..).unwrap_or("");
            }
        }
    }
}

#[cfg(test)]
mod tests;
