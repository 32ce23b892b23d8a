//! Definition integrity: canonical hashes ("pins") of what each backend offers, the lockfile that
//! keeps the approved definitions for review, and the poisoning / shadowing scan that runs over a
//! definition when it is first seen and whenever it changes.
//!
//! This module only computes: it never talks to a backend and is not on the request path. The
//! caller feeds it the lists a backend returned (`tools/list`, `prompts/list`,
//! `resources/templates/list`) and decides what to do with a change or a finding.
//!
//! # What is pinned
//!
//! A pin is the lowercase hex SHA-256 of the RFC 8785 (JCS) form of a definition's *pinned
//! subset* ([`pinned`]), so key order and whitespace never matter and every semantic change does:
//!
//! * a **tool**: `name`, `title`, `description`, `inputSchema`, `outputSchema`, `annotations`,
//!   `icons` (absent fields are omitted, never `null`). Everything else — `_meta`, `execution` and
//!   fields later protocol versions add — is not pinned: it is protocol plumbing, not text the
//!   model reads as the tool's contract. The poisoning scan still reads the whole definition.
//! * a **prompt** and a **resource template**: the whole definition less `_meta` (reserved for
//!   protocol metadata, which servers may vary per response) and less `annotations.lastModified`
//!   (a timestamp, which would make every pin of a live resource template drift).
//!
//! An item is named by `name` (tools, prompts) or `uriTemplate` (resource templates: the
//! catalog routes them by URI, so that is their identity). The **catalog hash** of a backend is
//! the SHA-256 of the JCS form of the sorted list of `[kind, name, pin]` triples, so a renamed,
//! removed or added item changes it even when every remaining pin matches.

pub mod cli;
pub mod config;
pub mod exec;
pub mod findings;
pub mod lockfile;
mod monitor;

pub use monitor::{Monitor, Quarantine, Reviewed, SeenCatalog, Verdict, load_seen, seen_path};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The fields of a tool that are pinned, in the order the MCP schema lists them.
pub const TOOL_PINNED_FIELDS: [&str; 7] = [
    "name",
    "title",
    "description",
    "inputSchema",
    "outputSchema",
    "annotations",
    "icons",
];

#[derive(Debug, thiserror::Error)]
pub enum IntegrityError {
    #[error("cannot pin a {kind} definition that is not a JSON object (found {found})")]
    NotAnObject { kind: Kind, found: &'static str },
    #[error("cannot canonicalize a {kind} definition: {message}")]
    Canonicalize { kind: Kind, message: String },
    #[error("cannot read lockfile `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write lockfile `{path}`: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("`integrity.webhook.url`: {message}")]
    Webhook { message: String },
    #[error("cannot encode lockfile `{path}`: {message}")]
    Encode { path: String, message: String },
    #[error(
        "lockfile `{path}` is not valid at line {line}, column {column}: {message}; restore it \
         from version control or delete it to pin the current definitions again"
    )]
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "lockfile `{path}` has version `{found}`, this gateway reads version `{expected}`; \
         upgrade the gateway or re-create the lockfile"
    )]
    Version {
        path: String,
        found: u32,
        expected: u32,
    },
    #[error(
        "lockfile `{path}`: {kind} `{name}` of backend `{backend}` does not match its `sha256` \
         (was the definition edited by hand?); approve the definition again instead of editing it"
    )]
    ItemHashMismatch {
        path: String,
        backend: String,
        kind: Kind,
        name: String,
    },
    #[error(
        "lockfile `{path}`: the `catalog_sha256` of backend `{backend}` does not match its items \
         (was an item added or removed by hand?); approve the backend again instead of editing it"
    )]
    CatalogHashMismatch { path: String, backend: String },
    #[error(
        "lockfile `{path}`: {kind} `{name}` of backend `{backend}` is filed under the name \
         `{key}`; approve the backend again instead of editing it"
    )]
    NameMismatch {
        path: String,
        backend: String,
        kind: Kind,
        name: String,
        key: String,
    },
}

/// What a definition is: the three kinds of named, model-visible things a backend lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    // INVARIANT: declared in the order of `as_str`, so the derived `Ord` equals the order of
    // the kind strings that `catalog_hash` sorts by.
    Prompt,
    ResourceTemplate,
    Tool,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Prompt, Kind::ResourceTemplate, Kind::Tool];

    /// The kind as written in the lockfile and in catalog-hash triples.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Prompt => "prompt",
            Kind::ResourceTemplate => "resource_template",
            Kind::Tool => "tool",
        }
    }

    /// The key that names an item of this kind.
    pub fn name_key(self) -> &'static str {
        match self {
            Kind::Prompt | Kind::Tool => "name",
            Kind::ResourceTemplate => "uriTemplate",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Prompt => "prompt",
            Kind::ResourceTemplate => "resource template",
            Kind::Tool => "tool",
        })
    }
}

/// The name of an item (`name`, or `uriTemplate` for a resource template), if it has one.
pub fn item_name(kind: Kind, def: &Value) -> Option<&str> {
    def.get(kind.name_key()).and_then(Value::as_str)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The pinned subset of a definition (see the module documentation). Object keys are sorted, so
/// the result also prints stably.
pub fn pinned(kind: Kind, def: &Value) -> Result<Value, IntegrityError> {
    let Value::Object(obj) = def else {
        return Err(IntegrityError::NotAnObject {
            kind,
            found: type_name(def),
        });
    };
    let mut out = Map::new();
    match kind {
        Kind::Tool => {
            for field in TOOL_PINNED_FIELDS {
                if let Some(v) = obj.get(field) {
                    out.insert(field.to_owned(), v.clone());
                }
            }
        }
        Kind::Prompt | Kind::ResourceTemplate => {
            for (k, v) in obj {
                if k == "_meta" {
                    continue;
                }
                let mut v = v.clone();
                if k == "annotations"
                    && let Value::Object(a) = &mut v
                {
                    a.remove("lastModified");
                }
                out.insert(k.clone(), v);
            }
        }
    }
    Ok(sorted_keys(Value::Object(out)))
}

/// `value` with every object's keys in byte order, so that a pretty-printed definition is the
/// same text whatever order the backend sent its keys in.
pub fn sorted_keys(value: Value) -> Value {
    // Recursion depth is bounded by the input's nesting, which `serde_json` limits to 128 when
    // parsing untrusted text.
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> = map.into_iter().collect();
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

/// Lowercase hex SHA-256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The pin of a definition: lowercase hex SHA-256 of the RFC 8785 (JCS) form of its pinned
/// subset.
pub fn hash_definition(kind: Kind, def: &Value) -> Result<String, IntegrityError> {
    let subset = pinned(kind, def)?;
    hash_pinned(kind, &subset)
}

/// The pin of a value that already is a pinned subset (as kept in the lockfile).
pub(crate) fn hash_pinned(kind: Kind, subset: &Value) -> Result<String, IntegrityError> {
    serde_json_canonicalizer::to_vec(subset)
        .map(|b| sha256_hex(&b))
        .map_err(|e| IntegrityError::Canonicalize {
            kind,
            message: e.to_string(),
        })
}

/// The catalog hash of a backend: SHA-256 of the JCS form of the list of `[kind, name, pin]`
/// triples sorted by kind, then name, then pin.
pub fn catalog_hash(items: &[(Kind, String, String)]) -> String {
    let mut triples: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|(k, n, h)| (k.as_str(), n.as_str(), h.as_str()))
        .collect();
    triples.sort_unstable();
    let list = Value::Array(
        triples
            .into_iter()
            .map(|(k, n, h)| {
                Value::Array(vec![
                    Value::String(k.to_owned()),
                    Value::String(n.to_owned()),
                    Value::String(h.to_owned()),
                ])
            })
            .collect(),
    );
    // An array of arrays of strings has no object keys to order and no numbers to format, so
    // serde_json's compact form is already its JCS form (a test checks this against the JCS
    // crate); `Display` cannot fail, which keeps this function infallible.
    sha256_hex(list.to_string().as_bytes())
}

#[cfg(test)]
mod tests;

/// `portcullis check` warnings about integrity choices weaker than the default, and about stdio
/// backends whose package version floats (what runs can change without the command changing).
pub fn config_warnings(cfg: &crate::config::Config) -> Vec<String> {
    use config::{Mode, NewItems};
    let mut w = Vec::new();
    let i = &cfg.integrity;
    if i.new_items == NewItems::TrustOnFirstUse {
        w.push(
            "integrity.new_items = \"trust_on_first_use\": new tools are pinned and offered \
             without review"
                .into(),
        );
    }
    match i.mode {
        Mode::Warn => w.push(
            "integrity.mode = \"warn\": drifted and poisoned definitions stay callable".into(),
        ),
        Mode::Off => {
            w.push("integrity.mode = \"off\": definitions are not pinned or scanned".into())
        }
        Mode::Enforce => {}
    }
    for b in &cfg.backends {
        let b = b.get_ref();
        match b.integrity.mode {
            Some(Mode::Warn) => w.push(format!(
                "backend `{}` has integrity mode \"warn\": its drifted definitions stay callable",
                b.name
            )),
            Some(Mode::Off) => w.push(format!(
                "backend `{}` has integrity mode \"off\": its definitions are not pinned or scanned",
                b.name
            )),
            _ => {}
        }
        if b.integrity.new_items == Some(NewItems::TrustOnFirstUse) {
            w.push(format!(
                "backend `{}` trusts new tools on first use: they are offered without review",
                b.name
            ));
        }
        if let Some(argv) = &b.command {
            if let Some((package, None)) = exec::package_of(argv) {
                w.push(format!(
                    "backend `{}` runs package `{package}` without an exact version: what runs can \
                     change while the command stays the same; write `{package}@1.2.3` (npm) or \
                     `{package}==1.2.3` (Python)",
                    b.name
                ));
            }
        }
    }
    w
}
