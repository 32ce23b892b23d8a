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
//! view* ([`pinned`]), so key order and whitespace never matter and every semantic change does.
//! The pinned view is **everything the backend sent** for the item — `_meta`, `execution` and
//! keys no protocol revision names included — less a short list of volatile keys
//! ([`VOLATILE`]: `annotations.lastModified`, a timestamp that would make every pin of a live
//! resource template drift). Clients are given exactly the pinned view ([`client_view`] strips
//! the same volatile keys), so what a client's model can read is what an operator approved:
//! there is no field where text can be added after approval without a drift alert. (Until issue
//! 15 a tool's pin held seven fields only, and clients received `_meta`, `execution` and unknown
//! keys verbatim; a lockfile written then still loads, and a tool that carries such a key shows
//! as `changed` with the key named, to be approved once with `portcullis pins approve`.)
//!
//! The kinds ([`Kind`]): a **tool**, a **prompt** and a **resource template**, each named by
//! `name` (tools, prompts) or `uriTemplate` (resource templates: the catalog routes them by URI,
//! so that is their identity); and a backend's **server instructions** (the `instructions` of
//! its `initialize` result or `server/discover`), one item per backend named `instructions`,
//! whose definition is `{"instructions": "…"}`. Static resources (`resources/list`) are data
//! that servers change at will, so they are not pinned; each is scanned, and one with a finding
//! at the quarantine severity is not listed ([`Monitor::screen_resources`]).
//!
//! The **catalog hash** of a backend is the SHA-256 of the JCS form of the sorted list of
//! `[kind, name, pin]` triples, so a renamed, removed or added item changes it even when every
//! remaining pin matches.

pub mod config;
pub mod exec;
pub mod findings;
pub mod lockfile;
mod monitor;
pub mod review;
mod seen;

pub use monitor::{Claim, Events, ExecutableRefused, Listing, Monitor, Reviewed};
pub use review::{Quarantine, Verdict};
pub use seen::{SeenCatalog, load_seen, seen_path};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::protocol::type_name;

/// Keys of a definition that are neither pinned nor given to clients, as JSON pointers: values
/// a server may change on every list (a timestamp) without changing what the item is.
pub const VOLATILE: [&str; 1] = ["/annotations/lastModified"];

/// The name of a backend's one server-instructions item.
pub const INSTRUCTIONS: &str = "instructions";

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
    /// A backend's server `instructions` (one item per backend, named [`INSTRUCTIONS`]).
    Instructions,
    Prompt,
    ResourceTemplate,
    Tool,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Instructions,
        Kind::Prompt,
        Kind::ResourceTemplate,
        Kind::Tool,
    ];

    /// The kind as written in the lockfile and in catalog-hash triples.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Instructions => "instructions",
            Kind::Prompt => "prompt",
            Kind::ResourceTemplate => "resource_template",
            Kind::Tool => "tool",
        }
    }

    /// The key that names an item of this kind (server instructions: the key that holds the
    /// text; the item's name is always [`INSTRUCTIONS`]).
    pub fn name_key(self) -> &'static str {
        match self {
            Kind::Instructions => "instructions",
            Kind::Prompt | Kind::Tool => "name",
            Kind::ResourceTemplate => "uriTemplate",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Instructions => "server instructions",
            Kind::Prompt => "prompt",
            Kind::ResourceTemplate => "resource template",
            Kind::Tool => "tool",
        })
    }
}

/// The name of an item (`name`, or `uriTemplate` for a resource template), if it has one.
pub fn item_name(kind: Kind, def: &Value) -> Option<&str> {
    let found = def.get(kind.name_key()).and_then(Value::as_str);
    match kind {
        Kind::Instructions => found.map(|_| INSTRUCTIONS),
        _ => found,
    }
}

/// A backend's server instructions as a list of [`Kind::Instructions`] items, from its
/// `initialize` result (or `server/discover` in that shape): empty when it gives none.
pub fn instructions_list(init: &Value) -> Vec<Value> {
    instructions_items(init.get("instructions").and_then(Value::as_str))
}

/// Server instructions (a probe's, say) as the list [`instructions_list`] gives.
pub fn instructions_items(text: Option<&str>) -> Vec<Value> {
    text.map(|t| vec![serde_json::json!({ "instructions": t })])
        .unwrap_or_default()
}

/// The pinned view of a definition (see the module documentation): all of it but the
/// [`VOLATILE`] keys. Object keys are sorted, so the result also prints stably.
pub fn pinned(kind: Kind, def: &Value) -> Result<Value, IntegrityError> {
    if !def.is_object() {
        return Err(IntegrityError::NotAnObject {
            kind,
            found: type_name(def),
        });
    }
    Ok(sorted_keys(client_view(def)))
}

/// What clients are given of a definition: all of it but the [`VOLATILE`] keys, in the order
/// the backend sent. Equal to the pinned view ([`pinned`]) up to key order.
pub fn client_view(def: &Value) -> Value {
    let mut out = def.clone();
    for pointer in VOLATILE {
        let Some((parent, key)) = pointer.rsplit_once('/') else {
            continue;
        };
        if let Some(Value::Object(o)) = out.pointer_mut(parent) {
            o.remove(key);
        }
    }
    out
}

/// `value` with every object's keys in byte order, so that a pretty-printed definition is the
/// same text whatever order the backend sent its keys in (the protocol's canonical form).
pub use crate::protocol::sorted_keys;

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

/// The pin of a value that already is a pinned view (as kept in the lockfile).
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
mod scan_tests;
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
