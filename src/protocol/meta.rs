//! MCP 2026-07-28 per-request metadata: the reserved `_meta` keys, the envelope every modern
//! request carries in `params._meta` (version, client capabilities, client info, log level), and
//! (in [`header`]) the HTTP headers that mirror the body: the value codec of the transport's
//! "Value Encoding", `x-mcp-header` annotations of tool schemas, and header/body validation.
//!
//! Pure functions over `serde_json::Value` and `http` types, no I/O: both sides use them. The
//! north side validates what clients send; the south side (`upstream::modern`) builds what
//! backends get. Everything here reads untrusted input and is fuzzed (`fuzz/fuzz_targets/
//! modern_meta.rs`).

pub mod header;

use serde_json::{Map, Value};

use super::type_name;

pub use header::{
    HeaderError, HeaderValueError, ParamHeader, ParamHeaders, Primitive, SchemaError,
    decode_header_value, encode_header_value, header_matches_body, mcp_name, request_headers,
    scalar_to_header, validate_param_headers, validate_request_headers,
};

/// The modern revision this gateway speaks.
pub const MODERN_VERSION: &str = "2026-07-28";
/// Every modern (per-request metadata) revision we speak, newest first.
pub const MODERN_VERSIONS: &[&str] = &[MODERN_VERSION];

/// Whether `v` is a modern revision we speak.
pub fn is_modern_version(v: &str) -> bool {
    MODERN_VERSIONS.contains(&v)
}

/// Reserved `_meta` keys (`basic/index.mdx` §`_meta`).
pub mod key {
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
    pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
    /// On every notification of a `subscriptions/listen` stream (and its graceful result).
    pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
    /// On results: who answered.
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
    pub const PROGRESS_TOKEN: &str = "progressToken";
    /// W3C trace context (SEP-414): the only unprefixed reserved keys.
    pub const TRACEPARENT: &str = "traceparent";
    pub const TRACESTATE: &str = "tracestate";
    pub const BAGGAGE: &str = "baggage";
}

/// The error codes 2026-07-28 adds (`basic/index.mdx` §Error Codes).
pub mod code {
    /// Headers missing, not matching the body, or malformed. HTTP 400.
    pub const HEADER_MISMATCH: i64 = -32020;
    /// Processing needs a capability the request did not declare. HTTP 400.
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i64 = -32021;
    /// The request's protocol version is not served. HTTP 400, `data.supported`/`data.requested`.
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
}

/// `LoggingLevel` (RFC 5424 severities), least severe first.
pub const LOG_LEVELS: &[&str] = &[
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// Why a request's `_meta` is not a valid 2026-07-28 envelope. All are JSON-RPC `-32602`
/// (HTTP 400): the first check of the spec's ladder, before headers and version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error(
        "the request has no `params._meta`; a 2026-07-28 request carries `{}` and `{}` there",
        key::PROTOCOL_VERSION,
        key::CLIENT_CAPABILITIES
    )]
    NoMeta,
    #[error("`params` must be an object, got {0}")]
    ParamsNotObject(&'static str),
    #[error("`params._meta` must be an object, got {0}")]
    MetaNotObject(&'static str),
    #[error("`params._meta` lacks the required key `{0}`")]
    Missing(&'static str),
    #[error("`params._meta` key `{key}` must be {expected}, got {got}")]
    Malformed {
        key: &'static str,
        expected: &'static str,
        got: &'static str,
    },
    #[error(
        "unknown log level `{0}` in `params._meta`; one of debug, info, notice, warning, error, critical, alert, emergency"
    )]
    UnknownLogLevel(String),
}

impl crate::protocol::Fault for EnvelopeError {
    fn code(&self) -> i64 {
        crate::protocol::code::INVALID_PARAMS
    }
}

/// The per-request envelope of a 2026-07-28 request. Unknown `_meta` keys are not part of it and
/// are left alone by [`Envelope::write_into`].
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub protocol_version: String,
    /// `ClientCapabilities` of this request (`{}` = none). Kept as JSON: unknown capabilities
    /// and extensions pass through.
    pub client_capabilities: Value,
    /// `Implementation` (`name`, `version`, …); display only, never a security input.
    pub client_info: Option<Value>,
    /// Opt-in to `notifications/message` at or above this level, for this request only.
    pub log_level: Option<String>,
}

impl Envelope {
    /// An envelope for [`MODERN_VERSION`] with these capabilities and nothing else.
    pub fn new(client_capabilities: Value) -> Envelope {
        Envelope {
            protocol_version: MODERN_VERSION.to_owned(),
            client_capabilities,
            client_info: None,
            log_level: None,
        }
    }

    /// Read the envelope from a request's `params` (the whole `params` value, not `_meta`).
    /// Checks presence and JSON types only: whether the version is served and whether the log
    /// level is known are later steps of the spec's ladder ([`is_modern_version`],
    /// [`Envelope::check_log_level`]).
    pub fn from_params(params: Option<&Value>) -> Result<Envelope, EnvelopeError> {
        let params = match params {
            None => return Err(EnvelopeError::NoMeta),
            Some(Value::Object(p)) => p,
            Some(other) => return Err(EnvelopeError::ParamsNotObject(type_name(other))),
        };
        let meta = match super::get(params, "_meta") {
            None => return Err(EnvelopeError::NoMeta),
            Some(Value::Object(m)) => m,
            Some(other) => return Err(EnvelopeError::MetaNotObject(type_name(other))),
        };
        Envelope::from_meta(meta)
    }

    /// Read the envelope from a whole JSON-RPC request.
    pub fn from_message(msg: &Value) -> Result<Envelope, EnvelopeError> {
        Envelope::from_params(super::field(msg, "params"))
    }

    /// Read the envelope from a `_meta` object.
    pub fn from_meta(meta: &Map<String, Value>) -> Result<Envelope, EnvelopeError> {
        let protocol_version = match super::get(meta, key::PROTOCOL_VERSION) {
            None => return Err(EnvelopeError::Missing(key::PROTOCOL_VERSION)),
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(other) => {
                return Err(EnvelopeError::Malformed {
                    key: key::PROTOCOL_VERSION,
                    expected: "a non-empty string",
                    got: type_name(other),
                });
            }
        };
        let client_capabilities = match super::get(meta, key::CLIENT_CAPABILITIES) {
            None => return Err(EnvelopeError::Missing(key::CLIENT_CAPABILITIES)),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(other) => {
                return Err(EnvelopeError::Malformed {
                    key: key::CLIENT_CAPABILITIES,
                    expected: "an object",
                    got: type_name(other),
                });
            }
        };
        let client_info = match super::get(meta, key::CLIENT_INFO) {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(v.clone()),
            Some(other) => {
                return Err(EnvelopeError::Malformed {
                    key: key::CLIENT_INFO,
                    expected: "an object",
                    got: type_name(other),
                });
            }
        };
        let log_level = match super::get(meta, key::LOG_LEVEL) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(EnvelopeError::Malformed {
                    key: key::LOG_LEVEL,
                    expected: "a string",
                    got: type_name(other),
                });
            }
        };
        Ok(Envelope {
            protocol_version,
            client_capabilities,
            client_info,
            log_level,
        })
    }

    /// The log level, if any, must be one of [`LOG_LEVELS`] (`-32602` otherwise, SHOULD).
    pub fn check_log_level(&self) -> Result<(), EnvelopeError> {
        match &self.log_level {
            Some(l) if !LOG_LEVELS.contains(&l.as_str()) => {
                Err(EnvelopeError::UnknownLogLevel(l.clone()))
            }
            _ => Ok(()),
        }
    }

    /// Whether this request declared a capability (`"sampling"`, `"elicitation"`, `"roots"`), or
    /// an extension when `name` is an extension id (`io.modelcontextprotocol/tasks`).
    pub fn declares(&self, name: &str) -> bool {
        let caps = &self.client_capabilities;
        caps.get(name).is_some_and(|v| !v.is_null())
            || caps
                .get("extensions")
                .and_then(|e| e.get(name))
                .is_some_and(|v| !v.is_null())
    }

    /// Write this envelope into a request's `params._meta`, replacing whatever envelope keys were
    /// there (a forwarded request gets the gateway's envelope, never a stale copy of the client's)
    /// and keeping every other `_meta` key (`progressToken`, trace context, vendor keys). A
    /// `_meta` that is not an object is replaced.
    pub fn write_into(&self, params: &mut Map<String, Value>) {
        if super::get(params, "_meta").is_none() {
            params.insert("_meta".into(), Value::Object(Map::new()));
        }
        let Some(meta) = super::get_mut(params, "_meta") else {
            return;
        };
        if !meta.is_object() {
            *meta = Value::Object(Map::new());
        }
        if let Value::Object(meta) = meta {
            // A forwarded request usually still carries the client's envelope, most often the
            // same as ours: a key that already holds our value is left as it is (no copy).
            set_or_keep(
                meta,
                key::PROTOCOL_VERSION,
                Some(&self.protocol_version),
                |v| Value::String(v.clone()),
            );
            set_or_keep(
                meta,
                key::CLIENT_CAPABILITIES,
                Some(&self.client_capabilities),
                Value::clone,
            );
            set_or_keep(
                meta,
                key::CLIENT_INFO,
                self.client_info.as_ref(),
                Value::clone,
            );
            set_or_keep(meta, key::LOG_LEVEL, self.log_level.as_ref(), |v| {
                Value::String(v.clone())
            });
        }
    }

    /// [`Envelope::write_into`] on a whole request, creating `params` when it has none. A request
    /// whose `params` is not an object is left as it is and `false` is returned.
    pub fn apply(&self, msg: &mut Value) -> bool {
        let Some(obj) = msg.as_object_mut() else {
            return false;
        };
        if super::get(obj, "params").is_none() {
            obj.insert("params".into(), Value::Object(Map::new()));
        }
        match super::get_mut(obj, "params") {
            Some(Value::Object(p)) => {
                self.write_into(p);
                true
            }
            _ => false,
        }
    }
}

/// `meta[key]` made to hold `want` (built by `to_value` only when it differs), or removed when
/// `want` is `None`.
fn set_or_keep<T>(
    meta: &mut Map<String, Value>,
    key: &str,
    want: Option<&T>,
    to_value: impl Fn(&T) -> Value,
) where
    Value: PartialEq<T>,
{
    match (super::get_mut(meta, key), want) {
        (Some(have), Some(want)) => {
            if *have != *want {
                *have = to_value(want);
            }
        }
        (None, Some(want)) => {
            meta.insert(key.to_owned(), to_value(want));
        }
        (Some(_), None) => {
            meta.remove(key);
        }
        (None, None) => {}
    }
}

/// Remove the envelope keys (version, capabilities, client info, log level) from a `_meta`
/// object, keeping the rest: what a request bound for a 2025 session must lose.
pub fn strip_envelope(meta: &mut Map<String, Value>) {
    for k in [
        key::PROTOCOL_VERSION,
        key::CLIENT_CAPABILITIES,
        key::CLIENT_INFO,
        key::LOG_LEVEL,
    ] {
        meta.remove(k);
    }
}

/// The `io.modelcontextprotocol/subscriptionId` of a notification, if it carries one.
pub fn subscription_id(msg: &Value) -> Option<&Value> {
    msg.get("params")?.get("_meta")?.get(key::SUBSCRIPTION_ID)
}

/// The `progressToken` of a request or a `notifications/progress`: in `params._meta` for a
/// request, in `params` for the notification.
pub fn progress_token(msg: &Value) -> Option<&Value> {
    let params = msg.get("params")?;
    if msg.get("method").and_then(Value::as_str) == Some("notifications/progress") {
        return params.get(key::PROGRESS_TOKEN);
    }
    params.get("_meta")?.get(key::PROGRESS_TOKEN)
}

#[cfg(test)]
mod tests;
