//! The HTTP headers of a 2026-07-28 POST that mirror its body (`streamable-http.mdx` §Request
//! Metadata): `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `Mcp-Param-{Name}`.
//!
//! - the value codec (§Value Encoding): plain visible ASCII as is, anything else as
//!   `=?base64?…?=`; decoding trims optional whitespace (RFC 9110 §5.5) and is strict (canonical
//!   padding, standard alphabet, UTF-8), because the conformance suite requires rejecting what a
//!   lenient decoder would accept;
//! - `x-mcp-header` annotations of a tool's `inputSchema` (§Schema Extension): which argument
//!   paths map to which `Mcp-Param-*` header, or why the annotations are invalid (a client on
//!   HTTP must then drop the tool);
//! - building the headers for a request, and validating received headers against the body
//!   (integers compared numerically, `42` = `42.0`).
//!
//! Hand-written: rmcp has the same logic but only inside its transports, not as a library API.

use std::borrow::Cow;

use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::key;
use crate::protocol::field;

pub const MCP_PROTOCOL_VERSION: &str = "mcp-protocol-version";
pub const MCP_METHOD: &str = "mcp-method";
pub const MCP_NAME: &str = "mcp-name";
/// Followed by the annotation's name: `Mcp-Param-Region`.
pub const MCP_PARAM_PREFIX: &str = "mcp-param-";

const B64_PREFIX: &str = "=?base64?";
const B64_SUFFIX: &str = "?=";
/// Offending values echoed in error messages are cut to this many characters.
const ECHO_MAX: usize = 120;

/// Why a received header value cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderValueError {
    #[error("it contains a byte outside visible ASCII, space and tab (0x{0:02x})")]
    InvalidCharacter(u8),
    #[error("its `=?base64?…?=` payload is not canonical padded base64 ({0})")]
    Base64(String),
    #[error("its `=?base64?…?=` payload is not UTF-8")]
    NotUtf8,
}

/// Encode a value for a header: as is when it is plain visible ASCII (inner spaces allowed)
/// and does not look like the sentinel, else `=?base64?{base64(UTF-8)}?=`.
pub fn encode_header_value(value: &str) -> String {
    if is_plain(value) {
        value.to_owned()
    } else {
        let mut out = String::with_capacity(value.len() * 4 / 3 + 16);
        out.push_str(B64_PREFIX);
        base64::engine::general_purpose::STANDARD.encode_string(value, &mut out);
        out.push_str(B64_SUFFIX);
        out
    }
}

fn is_plain(value: &str) -> bool {
    let bytes = value.as_bytes();
    let edge_ws = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    !edge_ws(bytes.first())
        && !edge_ws(bytes.last())
        && bytes.iter().all(|b| (0x20..=0x7e).contains(b))
        && !is_sentinel(value)
}

fn is_sentinel(value: &str) -> bool {
    value.len() >= B64_PREFIX.len() + B64_SUFFIX.len()
        && value.starts_with(B64_PREFIX)
        && value.ends_with(B64_SUFFIX)
}

/// Decode a received header value: trim optional whitespace, refuse bytes outside visible
/// ASCII/space/tab, and decode a `=?base64?…?=` value strictly. A value without both markers
/// is literal.
pub fn decode_header_value(raw: &[u8]) -> Result<String, HeaderValueError> {
    decode_borrowed(raw).map(Cow::into_owned)
}

/// [`decode_header_value`] without a copy of a literal value (nearly every value is one: the
/// checks of every request compare it with the body and keep nothing).
fn decode_borrowed(raw: &[u8]) -> Result<Cow<'_, str>, HeaderValueError> {
    let trimmed = trim_ows(raw);
    if let Some(bad) = trimmed
        .iter()
        .find(|b| !((0x20..=0x7e).contains(*b) || **b == b'\t'))
    {
        return Err(HeaderValueError::InvalidCharacter(*bad));
    }
    // INVARIANT: all bytes are ASCII (checked above), so this is valid UTF-8.
    let text = std::str::from_utf8(trimmed).map_err(|_| HeaderValueError::NotUtf8)?;
    if !is_sentinel(text) {
        return Ok(Cow::Borrowed(text));
    }
    let inner = text
        .get(B64_PREFIX.len()..text.len() - B64_SUFFIX.len())
        .unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(inner)
        .map_err(|e| HeaderValueError::Base64(e.to_string()))?;
    String::from_utf8(bytes)
        .map(Cow::Owned)
        .map_err(|_| HeaderValueError::NotUtf8)
}

/// RFC 9110 OWS is space and tab only (`trim_ascii` would also take CR, LF and FF).
fn trim_ows(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

/// The header form of a body value: strings as is, integers in decimal, booleans
/// `true`/`false`. `None` for null, objects and arrays (no header for those). An integral
/// float (`42.0`) is written as the integer it equals.
pub fn scalar_to_header(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                return Some(n.to_string());
            }
            match n.as_f64() {
                // 2^53: beyond it an f64 no longer holds every integer.
                Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => {
                    Some(format!("{}", f as i64))
                }
                _ => Some(n.to_string()),
            }
        }
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Whether a decoded header value equals a body value: strings exactly (case-sensitive),
/// booleans as `true`/`false`, numbers numerically (`42` = `42.0`, `4.2e1` = `42`).
pub fn header_matches_body(decoded: &str, body: &Value) -> bool {
    match body {
        Value::String(s) => decoded == s,
        Value::Bool(b) => decoded == if *b { "true" } else { "false" },
        Value::Number(n) => {
            // JSON number grammar only: no `+1`, ` 1`, `inf` or `0x1` (serde_json alone would
            // accept surrounding whitespace).
            if !decoded
                .bytes()
                .all(|b| b.is_ascii_digit() || b"-.eE+".contains(&b))
            {
                return false;
            }
            let Ok(h) = serde_json::from_str::<serde_json::Number>(decoded) else {
                return false;
            };
            if let (Some(a), Some(b)) = (h.as_i64(), n.as_i64()) {
                return a == b;
            }
            if let (Some(a), Some(b)) = (h.as_u64(), n.as_u64()) {
                return a == b;
            }
            match (h.as_f64(), n.as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            }
        }
        Value::Null | Value::Array(_) | Value::Object(_) => false,
    }
}

/// The body value `Mcp-Name` mirrors: `params.name` (`tools/call`, `prompts/get`),
/// `params.uri` (`resources/read`), `params.taskId` (the tasks extension's `tasks/get`,
/// `tasks/update`, `tasks/cancel`). `None` for other methods or when the field is absent.
pub fn mcp_name<'a>(method: &str, params: Option<&'a Value>) -> Option<&'a str> {
    let field = mcp_name_field(method)?;
    crate::protocol::field(params?, field)?.as_str()
}

fn mcp_name_field(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        "tasks/get" | "tasks/update" | "tasks/cancel" => Some("taskId"),
        _ => None,
    }
}

/// The JSON types `x-mcp-header` may annotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primitive {
    String,
    Integer,
    Boolean,
}

/// One valid `x-mcp-header` annotation: the header `Mcp-Param-{name}` mirrors the argument at
/// `path` (a chain of property names from the root of `arguments`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHeader {
    /// As annotated (case kept; header names compare case-insensitively).
    pub name: String,
    pub path: Vec<String>,
    pub kind: Primitive,
    /// `mcp-param-{name}`, lower-cased, valid.
    pub header: HeaderName,
}

impl ParamHeader {
    /// The argument this header mirrors; `None` when absent or `null` (then no header).
    pub fn value_in<'a>(&self, arguments: Option<&'a Value>) -> Option<&'a Value> {
        let v = self
            .path
            .iter()
            .try_fold(arguments?, |v, k| v.as_object()?.get(k))?;
        (!v.is_null()).then_some(v)
    }
}

/// Every valid annotation of one tool's `inputSchema`. Computed once per tool definition, so
/// the catalog can keep it beside the schema instead of walking the schema on every call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParamHeaders(pub Vec<ParamHeader>);

/// Why a tool's `x-mcp-header` annotations are invalid (the tool must then be dropped from
/// `tools/list` by an HTTP client). `at` is a JSON pointer into the `inputSchema`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("`x-mcp-header` at `{at}` annotates the schema root, not a property")]
    OnRoot { at: String },
    #[error(
        "`x-mcp-header` at `{at}` is not reachable from the root through `properties` keys alone \
         (not through `items`, `oneOf`/`anyOf`/`allOf`/`not`, `if`/`then`/`else`, `$ref` or `$defs`)"
    )]
    OffChain { at: String },
    #[error("`x-mcp-header` at `{at}` must be a string")]
    NotString { at: String },
    #[error("`x-mcp-header` at `{at}` is empty")]
    Empty { at: String },
    #[error("`x-mcp-header` `{name}` at `{at}` is not an HTTP token (RFC 9110 tchar only)")]
    NotToken { at: String, name: String },
    #[error("`x-mcp-header` `{name}` at `{at}` repeats another annotation (case-insensitively)")]
    Duplicate { at: String, name: String },
    #[error(
        "`x-mcp-header` at `{at}` is on a property of type {ty}; only `string`, `integer` and \
         `boolean` may be mirrored"
    )]
    NotPrimitive { at: String, ty: String },
}

impl ParamHeaders {
    /// Read and check the annotations of `input_schema`. A schema that is not an object has
    /// none.
    pub fn from_schema(input_schema: &Value) -> Result<ParamHeaders, SchemaError> {
        let Some(root) = input_schema.as_object() else {
            return Ok(ParamHeaders::default());
        };
        let mut out = Vec::new();
        walk(root, &mut Vec::new(), true, &mut String::new(), &mut out)?;
        let mut seen = std::collections::HashSet::new();
        for h in &out {
            if !seen.insert(h.name.to_ascii_lowercase()) {
                return Err(SchemaError::Duplicate {
                    at: pointer(&h.path),
                    name: h.name.clone(),
                });
            }
        }
        Ok(ParamHeaders(out))
    }

    /// The annotations of every tool of a `tools/list` that has valid, non-empty ones, by
    /// name; for a name listed twice, its first definition's (as a search of the list by name
    /// finds). A tool missing here needs no `Mcp-Param-*` header.
    pub fn of_tools(tools: &[Value]) -> std::collections::HashMap<String, ParamHeaders> {
        let mut seen = std::collections::HashSet::new();
        let mut out = std::collections::HashMap::new();
        for tool in tools {
            let Some(name) = tool.get("name").and_then(Value::as_str) else {
                continue;
            };
            if !seen.insert(name) {
                continue;
            }
            let params = tool
                .get("inputSchema")
                .and_then(|s| ParamHeaders::from_schema(s).ok())
                .filter(|p| !p.is_empty());
            if let Some(p) = params {
                out.insert(name.to_owned(), p);
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ParamHeader> {
        self.0.iter()
    }

    /// The `Mcp-Param-*` headers for a call with these `arguments`, encoded.
    pub fn headers_for(&self, arguments: Option<&Value>) -> Vec<(HeaderName, HeaderValue)> {
        let mut out = Vec::new();
        for h in &self.0 {
            let Some(text) = h.value_in(arguments).and_then(scalar_to_header) else {
                continue;
            };
            // INVARIANT: `encode_header_value` yields visible ASCII only, which
            // `HeaderValue::from_str` accepts; a failure would drop the header, and the
            // backend's validation would then refuse the call with -32020.
            if let Ok(v) = HeaderValue::from_str(&encode_header_value(&text)) {
                out.push((h.header.clone(), v));
            }
        }
        out
    }
}

fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|p| format!("/properties/{}", p.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Keywords whose values are instance data or names, never subschemas: an `x-mcp-header` key
/// inside them is data, not an annotation.
const DATA_KEYWORDS: &[&str] = &[
    "default",
    "const",
    "enum",
    "examples",
    "required",
    "dependentRequired",
];
/// Keywords whose values map names to subschemas.
const SCHEMA_MAPS: &[&str] = &[
    "$defs",
    "definitions",
    "dependentSchemas",
    "patternProperties",
    "dependencies",
];

/// Walk one schema object. `chain` is the property path when the schema is reached from the
/// root through `properties` alone (`on_chain`); `at` is its JSON pointer, for errors.
fn walk(
    schema: &Map<String, Value>,
    chain: &mut Vec<String>,
    on_chain: bool,
    at: &mut String,
    out: &mut Vec<ParamHeader>,
) -> Result<(), SchemaError> {
    for (k, v) in schema {
        let len = at.len();
        at.push('/');
        at.push_str(&k.replace('~', "~0").replace('/', "~1"));
        match k.as_str() {
            "x-mcp-header" => {
                if !on_chain {
                    return Err(SchemaError::OffChain { at: at.clone() });
                }
                if chain.is_empty() {
                    return Err(SchemaError::OnRoot { at: at.clone() });
                }
                out.push(annotation(schema, v, chain, at)?);
            }
            "properties" => {
                if let Value::Object(props) = v {
                    for (name, sub) in props {
                        let l = at.len();
                        at.push('/');
                        at.push_str(&name.replace('~', "~0").replace('/', "~1"));
                        if let Value::Object(sub) = sub {
                            chain.push(name.clone());
                            let r = walk(sub, chain, on_chain, at, out);
                            chain.pop();
                            r?;
                        }
                        at.truncate(l);
                    }
                }
            }
            k if DATA_KEYWORDS.contains(&k) => {}
            k if SCHEMA_MAPS.contains(&k) => {
                if let Value::Object(map) = v {
                    for (name, sub) in map {
                        let l = at.len();
                        at.push('/');
                        at.push_str(&name.replace('~', "~0").replace('/', "~1"));
                        off_chain(sub, at, out)?;
                        at.truncate(l);
                    }
                }
            }
            _ => off_chain(v, at, out)?,
        }
        at.truncate(len);
    }
    Ok(())
}

/// Any subschema (or array of subschemas) off the `properties` chain: an annotation in it makes
/// the tool invalid.
fn off_chain(v: &Value, at: &mut String, out: &mut Vec<ParamHeader>) -> Result<(), SchemaError> {
    match v {
        Value::Object(sub) => walk(sub, &mut Vec::new(), false, at, out),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let l = at.len();
                at.push_str(&format!("/{i}"));
                off_chain(item, at, out)?;
                at.truncate(l);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn annotation(
    schema: &Map<String, Value>,
    v: &Value,
    chain: &[String],
    at: &str,
) -> Result<ParamHeader, SchemaError> {
    let Value::String(name) = v else {
        return Err(SchemaError::NotString { at: at.to_owned() });
    };
    if name.is_empty() {
        return Err(SchemaError::Empty { at: at.to_owned() });
    }
    if !name.bytes().all(is_tchar) {
        return Err(SchemaError::NotToken {
            at: at.to_owned(),
            name: echo(name),
        });
    }
    let kind = primitive(schema.get("type")).ok_or_else(|| SchemaError::NotPrimitive {
        at: at.to_owned(),
        ty: schema
            .get("type")
            .map(|t| format!("`{}`", echo(&t.to_string())))
            .unwrap_or_else(|| "(none)".into()),
    })?;
    let header =
        HeaderName::from_bytes(format!("{MCP_PARAM_PREFIX}{name}").as_bytes()).map_err(|_| {
            SchemaError::NotToken {
                at: at.to_owned(),
                name: echo(name),
            }
        })?;
    Ok(ParamHeader {
        name: name.clone(),
        path: chain.to_vec(),
        kind,
        header,
    })
}

/// `"string"`, `"integer"`, `"boolean"`, or a type array of exactly one of them plus
/// optionally `"null"` (a nullable argument: null means no header).
fn primitive(ty: Option<&Value>) -> Option<Primitive> {
    let one = |s: &str| match s {
        "string" => Some(Primitive::String),
        "integer" => Some(Primitive::Integer),
        "boolean" => Some(Primitive::Boolean),
        _ => None,
    };
    match ty? {
        Value::String(s) => one(s),
        Value::Array(items) => {
            let mut found = None;
            for t in items {
                match t.as_str()? {
                    "null" => {}
                    s => {
                        if found.is_some() {
                            return None;
                        }
                        found = Some(one(s)?);
                    }
                }
            }
            found
        }
        _ => None,
    }
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn echo(s: &str) -> String {
    if s.chars().count() <= ECHO_MAX {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(ECHO_MAX).collect();
    out.push('…');
    out
}

/// Why a request's headers do not mirror its body: JSON-RPC `-32020` HeaderMismatch, HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("missing required `{header}` header")]
    Missing { header: String },
    #[error("the `{header}` header appears more than once")]
    Duplicate { header: String },
    #[error("the `{header}` header is invalid: {source}")]
    Invalid {
        header: String,
        source: HeaderValueError,
    },
    #[error("the `{header}` header `{header_value}` does not match the body value `{body_value}`")]
    Mismatch {
        header: String,
        header_value: String,
        body_value: String,
    },
    #[error("the `{header}` header is present but the argument `{path}` is absent or null")]
    Unexpected { header: String, path: String },
}

impl crate::protocol::Fault for HeaderError {
    fn code(&self) -> i64 {
        super::code::HEADER_MISMATCH
    }
}

const PROTOCOL_VERSION_NAME: HeaderName = HeaderName::from_static(MCP_PROTOCOL_VERSION);
const METHOD_NAME: HeaderName = HeaderName::from_static(MCP_METHOD);
const NAME_NAME: HeaderName = HeaderName::from_static(MCP_NAME);

/// Header values most requests send: the version and the methods a gateway forwards most.
const STATIC_VALUES: &[&str] = &[
    super::MODERN_VERSION,
    "tools/call",
    "tools/list",
    "resources/read",
    "resources/list",
    "prompts/get",
    "prompts/list",
];

/// The mirror headers of a request, computed from its body alone: `MCP-Protocol-Version` (from
/// `_meta`, when present), `Mcp-Method`, `Mcp-Name` (encoded), and for `tools/call` the
/// `Mcp-Param-*` of `params` (the annotations of the *receiving* server's schema).
pub fn request_headers(msg: &Value, params: Option<&ParamHeaders>) -> HeaderMap {
    // Room for these and the few the transport adds (accept, content type, trace, credential).
    let mut out = HeaderMap::with_capacity(8);
    let Some(method) = crate::protocol::method(msg) else {
        return out;
    };
    let body = field(msg, "params");
    let version = body
        .and_then(|p| field(p, "_meta"))
        .and_then(|m| field(m, key::PROTOCOL_VERSION))
        .and_then(Value::as_str);
    let mut put = |name: HeaderName, value: &str| {
        // The version and the common methods are static values (no copy); a plain value is
        // its own encoding.
        let v = match STATIC_VALUES.iter().find(|s| **s == value) {
            Some(s) => Ok(HeaderValue::from_static(s)),
            None if is_plain(value) => HeaderValue::from_str(value),
            None => HeaderValue::from_str(&encode_header_value(value)),
        };
        if let Ok(v) = v {
            out.insert(name, v);
        }
    };
    if let Some(v) = version {
        put(PROTOCOL_VERSION_NAME, v);
    }
    put(METHOD_NAME, method);
    if let Some(name) = mcp_name(method, body) {
        put(NAME_NAME, name);
    }
    if method == "tools/call"
        && let Some(params) = params
    {
        for (name, value) in params.headers_for(body.and_then(|p| field(p, "arguments"))) {
            out.insert(name, value);
        }
    }
    out
}

/// Check received headers against the body, in the spec's order: `MCP-Protocol-Version` equals
/// `_meta`'s version, `Mcp-Method` equals `method`, `Mcp-Name` equals the name/uri/taskId, and
/// for `tools/call` each `Mcp-Param-*` of `params` (the annotations of the schema the *client*
/// saw) equals its argument, present exactly when the argument is present and not null.
/// `Mcp-Param-*` headers no annotation names are not checked (an intermediary forwards them).
pub fn validate_request_headers(
    headers: &HeaderMap,
    msg: &Value,
    params: Option<&ParamHeaders>,
) -> Result<(), HeaderError> {
    let method = crate::protocol::method(msg).unwrap_or("");
    let body = field(msg, "params");
    let version = body
        .and_then(|p| field(p, "_meta"))
        .and_then(|m| field(m, key::PROTOCOL_VERSION));
    match (single(headers, &PROTOCOL_VERSION_NAME)?, version) {
        (None, _) => return Err(missing(MCP_PROTOCOL_VERSION)),
        (Some(h), Some(v)) => compare(MCP_PROTOCOL_VERSION, h, v)?,
        (Some(h), None) => {
            decode(MCP_PROTOCOL_VERSION, h)?;
        }
    }
    match single(headers, &METHOD_NAME)? {
        None => return Err(missing(MCP_METHOD)),
        Some(h) => compare_str(MCP_METHOD, h, method)?,
    }
    // A name that is not a string is the body's problem (invalid params), not the headers'.
    if let Some(expected) = mcp_name(method, body) {
        match single(headers, &NAME_NAME)? {
            None => return Err(missing(MCP_NAME)),
            Some(h) => compare_str(MCP_NAME, h, expected)?,
        }
    }
    match params {
        Some(params) => validate_param_headers(headers, msg, params),
        None => Ok(()),
    }
}

/// The `Mcp-Param-*` part of [`validate_request_headers`] alone, for a caller that checked the
/// rest before it knew the tool's annotations: each header of `params` equals its argument of
/// a `tools/call`, present exactly when the argument is present and not null.
pub fn validate_param_headers(
    headers: &HeaderMap,
    msg: &Value,
    params: &ParamHeaders,
) -> Result<(), HeaderError> {
    if crate::protocol::method(msg) == Some("tools/call") {
        let arguments = field(msg, "params").and_then(|p| field(p, "arguments"));
        for p in params.iter() {
            // The name as the client wrote it, for an error only.
            let header = || display_param(&p.name);
            let body_value = p
                .value_in(arguments)
                .filter(|v| scalar_to_header(v).is_some());
            match (single(headers, p.header.as_str())?, body_value) {
                (None, None) => {}
                (Some(_), None) => {
                    return Err(HeaderError::Unexpected {
                        header: header(),
                        path: p.path.join("."),
                    });
                }
                (None, Some(_)) => return Err(HeaderError::Missing { header: header() }),
                (Some(h), Some(v)) => {
                    let decoded =
                        decode_borrowed(h.as_bytes()).map_err(|source| HeaderError::Invalid {
                            header: header(),
                            source,
                        })?;
                    if !header_matches_body(&decoded, v) {
                        return Err(mismatch(header(), &decoded, v));
                    }
                }
            }
        }
    }
    Ok(())
}

fn display_param(name: &str) -> String {
    format!("Mcp-Param-{}", echo(name))
}

fn missing(header: &str) -> HeaderError {
    HeaderError::Missing {
        header: header.to_owned(),
    }
}

/// The one value of header `name` (a `HeaderName` constant, or a name as text), if any.
fn single<K>(headers: &HeaderMap, name: K) -> Result<Option<&HeaderValue>, HeaderError>
where
    K: http::header::AsHeaderName + AsRef<str> + Copy,
{
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(HeaderError::Duplicate {
            header: name.as_ref().to_owned(),
        });
    }
    Ok(first)
}

fn decode<'h>(header: &str, h: &'h HeaderValue) -> Result<Cow<'h, str>, HeaderError> {
    decode_borrowed(h.as_bytes()).map_err(|source| HeaderError::Invalid {
        header: header.to_owned(),
        source,
    })
}

fn compare(header: &str, h: &HeaderValue, body: &Value) -> Result<(), HeaderError> {
    let decoded = decode(header, h)?;
    if header_matches_body(&decoded, body) {
        return Ok(());
    }
    Err(mismatch(header.to_owned(), &decoded, body))
}

/// [`compare`] with a string the body holds (a method, a name): no `Value` built for it.
fn compare_str(header: &str, h: &HeaderValue, body: &str) -> Result<(), HeaderError> {
    let decoded = decode(header, h)?;
    if decoded == body {
        return Ok(());
    }
    Err(HeaderError::Mismatch {
        header: header.to_owned(),
        header_value: echo(&decoded),
        body_value: echo(body),
    })
}

fn mismatch(header: String, decoded: &str, body: &Value) -> HeaderError {
    let body_value = match body {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    HeaderError::Mismatch {
        header,
        header_value: echo(decoded),
        body_value: echo(&body_value),
    }
}
