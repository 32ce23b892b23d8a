//! The record model (one line of the trail, its kinds and decisions), the helpers that fill
//! it (time, digests, redaction) and its encoding: [`Encoded`] serialises a record before its
//! place in the chain is known, so the writer's lock covers only `seq`, `prev` and the hash.
//! Every line is written by [`to_line`], which escapes what a line-splitting reader could take
//! for a line end.

use std::io;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::AuditError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    AuthFailure,
    SessionStart,
    SessionEnd,
    List,
    Call,
    RateLimited,
    Quarantined,
    DriftAlert,
    PinApproval,
    PolicyReload,
    ConfigReload,
    BackendUp,
    BackendDown,
    Workflow,
    WorkflowStep,
    /// The cluster's shared state (Redis) became unavailable, or available again.
    Cluster,
    /// The trail's own events (see the module docs).
    Audit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Deny,
    Error,
    Info,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The MCP revision the request spoke: a 2025-era session's negotiated version, or a
    /// stateless request's `_meta` version (`2026-07-28`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// One line of the trail. Build with [`AuditRecord::new`] and set the fields that apply; `seq`
/// and `prev` are assigned by the writer, `args_sha256` and `args` by [`Audit`](super::Audit) from `args`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub time: String,
    pub seq: u64,
    /// The replica that wrote it (`[cluster]`); set by [`Audit`] from [`AuditConfig::replica`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<String>,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_sha256: Option<String>,
    /// Raw arguments as given by the caller; [`Audit`](super::Audit) redacts them, hashes them into
    /// `args_sha256`, and keeps them only with `include_args = true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
    #[serde(default)]
    pub prev: String,
}

impl AuditRecord {
    /// A record stamped with the current time.
    pub fn new(kind: Kind, decision: Decision) -> Self {
        Self {
            time: now_rfc3339(),
            seq: 0,
            replica: None,
            kind,
            request_id: None,
            session_id: None,
            principal: None,
            client: None,
            method: None,
            backend: None,
            tool: None,
            original: None,
            decision,
            reason: None,
            policies: Vec::new(),
            latency_ms: None,
            args_sha256: None,
            args: None,
            extra: None,
            prev: String::new(),
        }
    }

    pub(super) fn notice(event: &str, reason: String, mut extra: Value) -> Self {
        if let Some(m) = extra.as_object_mut() {
            m.insert("event".into(), Value::String(event.to_owned()));
        }
        let mut r = Self::new(Kind::Audit, Decision::Info);
        r.reason = Some(reason);
        r.extra = Some(extra);
        r
    }
}

/// Current UTC time as RFC 3339 with milliseconds, e.g. `2026-05-01T12:34:56.789Z`.
pub fn now_rfc3339() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Replaces the value of every object key equal (ASCII case-insensitively) to one of `keys`, at
/// any depth, with `"[redacted]"`. Iterative, so hostile nesting cannot overflow the stack.
pub fn redact(value: &mut Value, keys: &[String]) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    if keys.iter().any(|r| r.eq_ignore_ascii_case(k)) {
                        *child = Value::String("[redacted]".into());
                    } else {
                        stack.push(child);
                    }
                }
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
}

/// Lowercase hex SHA-256 of the RFC 8785 (JCS) form of `value`.
pub fn canonical_sha256(value: &Value) -> Result<String, AuditError> {
    serde_json_canonicalizer::to_vec(value)
        .map(|b| sha256_hex(&b))
        .map_err(|e| AuditError::Encode(e.to_string()))
}

/// Records of one batch, encoded against a running chain state.
/// A record serialised before its place in the chain is known: `seq` and `prev` are filled in
/// under the writer's lock, giving exactly the bytes serialising the finished record gives.
pub(super) struct Encoded {
    /// The record with `seq` = 0 and `prev` = "".
    bytes: Vec<u8>,
    /// Where the `0` of `seq` is.
    seq_at: usize,
    /// Where the closing quote of the empty `prev` is.
    prev_at: usize,
}

impl Encoded {
    /// `None` if the record does not serialise, or not in the expected layout (the caller then
    /// encodes under the lock as usual).
    pub(super) fn new(rec: &AuditRecord) -> Option<Encoded> {
        const SEQ: &[u8] = b",\"seq\":0,";
        const PREV_END: &[u8] = b",\"prev\":\"\"}";
        if rec.seq != 0 || !rec.prev.is_empty() {
            return None;
        }
        let bytes = to_line(rec).ok()?;
        // `time` comes first and is RFC 3339 (no quote in it), so the first `,"seq":0,` is the
        // `seq` field; `prev` is the last field.
        let seq_at = bytes
            .windows(SEQ.len())
            .position(|w| w == SEQ)?
            .checked_add(SEQ.len() - 2)?;
        if !bytes.starts_with(b"{\"time\":\"") || !bytes.ends_with(PREV_END) {
            return None;
        }
        let prev_at = bytes.len().checked_sub(2)?;
        Some(Encoded {
            bytes,
            seq_at,
            prev_at,
        })
    }

    pub(super) fn line(&self, seq: u64, prev: &str) -> Vec<u8> {
        let (head, rest) = self.bytes.split_at(self.seq_at);
        let (_zero, rest) = rest.split_at(1);
        let (mid, tail) = rest.split_at(self.prev_at - self.seq_at - 1);
        let seq = seq.to_string();
        let mut out = Vec::with_capacity(self.bytes.len() + seq.len() + prev.len());
        out.extend_from_slice(head);
        out.extend_from_slice(seq.as_bytes());
        out.extend_from_slice(mid);
        out.extend_from_slice(prev.as_bytes());
        out.extend_from_slice(tail);
        out
    }
}

/// A record as one trail line (without its `\n`): compact JSON in which every control
/// character (U+0000–U+001F, U+007F–U+009F, so NEL U+0085 too), the line and paragraph
/// separators U+2028 and U+2029, and the bidirectional controls are `\uXXXX` escapes. A reader
/// that splits on any Unicode line break sees exactly one line per record, and a terminal
/// showing a line shows it as written. The escapes are plain JSON: parsing gives the same text.
pub(super) fn to_line(rec: &AuditRecord) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(512);
    rec.serialize(&mut serde_json::Serializer::with_formatter(
        &mut out,
        LineFormatter,
    ))?;
    Ok(out)
}

/// Characters written escaped beyond what JSON requires (see [`to_line`]).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// serde_json's compact output, with the escapes of [`to_line`]. serde_json already escapes
/// U+0000–U+001F, `"` and `\` before a fragment gets here; the rest is done per fragment.
struct LineFormatter;

impl serde_json::ser::Formatter for LineFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Below DEL nothing is left to escape: the common case is one scan and one write.
        if fragment.bytes().all(|b| b < 0x7f) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut from = 0;
        for (at, c) in fragment.char_indices() {
            if needs_escape(c) {
                writer.write_all(fragment.get(from..at).unwrap_or_default().as_bytes())?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                from = at + c.len_utf8();
            }
        }
        writer.write_all(fragment.get(from..).unwrap_or_default().as_bytes())
    }
}
