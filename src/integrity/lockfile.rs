//! The lockfile (`portcullis.lock` by default): the approved definitions of every backend, meant
//! to be committed and code-reviewed like `Cargo.lock`.
//!
//! # Format
//!
//! Pretty-printed JSON (two-space indent, `\n` line ends, a final newline). JSON rather than
//! TOML because a definition must round-trip exactly (TOML has no `null`, and a schema's
//! `"default": null` is meaningful) and because a definition kept as nested JSON diffs line by
//! line, where a definition kept as one TOML string would diff as escaped text. The file's own
//! keys come in the fixed order shown below, the keys inside `server_info` and each definition
//! are sorted, and every map is keyed by name, so the same approvals always give the same bytes
//! and a review diff shows only what changed:
//!
//! ```json
//! {
//!   "version": 1,
//!   "backends": {
//!     "everything": {
//!       "server_info": { "name": "mcp-servers/everything", "version": "2.0.0" },
//!       "catalog_sha256": "…",
//!       "instructions": { "instructions": { "sha256": "…", "definition": { "instructions": "…" } } },
//!       "prompts": { "simple-prompt": { "sha256": "…", "definition": { … } } },
//!       "resource_templates": { "demo://resource/dynamic/text/{resourceId}": { … } },
//!       "tools": { "echo": { "sha256": "…", "definition": { "description": "…", … } } }
//!     }
//!   }
//! }
//! ```
//!
//! Backends are ordered by name; items by kind (`instructions`, `prompts`, `resource_templates`,
//! `tools`), then by name. A `definition` is the pinned view ([`super::pinned`]), so its hash is reproducible
//! from the file alone; [`load`] checks every `sha256` and `catalog_sha256`, so a hand edit that
//! does not go through approval is refused. A backend may also carry `executables`: pins of the
//! stdio program it runs (`path`, `sha256`, optional `package` and `version`; see
//! [`super::exec`]) and `rejected` definitions (`kind`, `name`, `sha256`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use similar::TextDiff;

use super::{IntegrityError, Kind, catalog_hash, hash_pinned, item_name, pinned, sorted_keys};

/// The lockfile format version this gateway reads and writes.
pub const VERSION: u32 = 1;

/// The default file name, relative to the config file's directory.
pub const DEFAULT_FILE: &str = crate::config::integrity::DEFAULT_LOCKFILE;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockfile {
    pub version: u32,
    /// Backend name → its approved catalog.
    #[serde(default)]
    pub backends: BTreeMap<String, BackendPins>,
}

impl Default for Lockfile {
    fn default() -> Self {
        Self {
            version: VERSION,
            backends: BTreeMap::new(),
        }
    }
}

/// What was approved for one backend.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendPins {
    /// The backend's `serverInfo` from `initialize` (kept with sorted keys).
    #[serde(default)]
    pub server_info: Value,
    /// [`catalog_hash`] over every item below.
    pub catalog_sha256: String,
    /// Pins of what the stdio backend runs ([`super::exec::pins`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub executables: Vec<ExecutablePin>,
    /// Definitions an operator refused (`portcullis pins reject`): quarantined in every mode
    /// but `off`, and never pinned on first use. Not part of `catalog_sha256`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<Rejected>,
    /// The approved server instructions: at most one item, named [`super::INSTRUCTIONS`]
    /// (left out of the file when none are approved, so lockfiles of backends without
    /// instructions read as before).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub instructions: BTreeMap<String, Pin>,
    #[serde(default)]
    pub prompts: BTreeMap<String, Pin>,
    #[serde(default)]
    pub resource_templates: BTreeMap<String, Pin>,
    #[serde(default)]
    pub tools: BTreeMap<String, Pin>,
}

/// One approved definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    pub sha256: String,
    /// The pinned view of the approved definition, keys sorted.
    pub definition: Value,
}

/// A definition an operator refused.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejected {
    pub kind: Kind,
    pub name: String,
    pub sha256: String,
}

/// The pin of a stdio backend's executable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutablePin {
    pub path: String,
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl ExecutablePin {
    /// One line for an operator: path, short hash and package (`/usr/bin/node sha256:0123456789ab
    /// (package x@1.2.3)`).
    pub fn label(&self) -> String {
        let package = match (&self.package, &self.version) {
            (Some(n), Some(v)) => format!(" (package {n}@{v})"),
            (Some(n), None) => format!(" (package {n}, version not pinned)"),
            _ => String::new(),
        };
        format!(
            "{} sha256:{}{package}",
            self.path,
            self.sha256.get(..12).unwrap_or(&self.sha256)
        )
    }
}

impl BackendPins {
    /// Pins what a backend lists now. Items without a name (or `uriTemplate`) are skipped, as the
    /// catalog never exposes them; of two items with the same name the first is kept, as the
    /// catalog routes to the first.
    pub fn from_lists(
        server_info: &Value,
        tools: &[Value],
        prompts: &[Value],
        resource_templates: &[Value],
    ) -> Result<Self, IntegrityError> {
        let mut pins = BackendPins {
            server_info: sorted_keys(server_info.clone()),
            ..Default::default()
        };
        for (kind, list) in [
            (Kind::Tool, tools),
            (Kind::Prompt, prompts),
            (Kind::ResourceTemplate, resource_templates),
        ] {
            for def in list {
                let Some(name) = item_name(kind, def) else {
                    continue;
                };
                if pins.items(kind).contains_key(name) {
                    continue;
                }
                let definition = pinned(kind, def)?;
                let sha256 = hash_pinned(kind, &definition)?;
                pins.items_mut(kind)
                    .insert(name.to_owned(), Pin { sha256, definition });
            }
        }
        pins.catalog_sha256 = pins.compute_catalog_hash();
        Ok(pins)
    }

    pub fn items(&self, kind: Kind) -> &BTreeMap<String, Pin> {
        match kind {
            Kind::Instructions => &self.instructions,
            Kind::Prompt => &self.prompts,
            Kind::ResourceTemplate => &self.resource_templates,
            Kind::Tool => &self.tools,
        }
    }

    pub fn items_mut(&mut self, kind: Kind) -> &mut BTreeMap<String, Pin> {
        match kind {
            Kind::Instructions => &mut self.instructions,
            Kind::Prompt => &mut self.prompts,
            Kind::ResourceTemplate => &mut self.resource_templates,
            Kind::Tool => &mut self.tools,
        }
    }

    /// The `(kind, name, sha256)` triples of every item, sorted.
    pub fn triples(&self) -> Vec<(Kind, String, String)> {
        Kind::ALL
            .iter()
            .flat_map(|&k| {
                self.items(k)
                    .iter()
                    .map(move |(n, p)| (k, n.clone(), p.sha256.clone()))
            })
            .collect()
    }

    /// [`catalog_hash`] of the items as they are now.
    pub fn compute_catalog_hash(&self) -> String {
        catalog_hash(&self.triples())
    }
}

impl Lockfile {
    /// Checks that every stored hash matches what it covers. `path` is only for messages.
    pub fn verify(&self, path: &str) -> Result<(), IntegrityError> {
        if self.version != VERSION {
            return Err(IntegrityError::Version {
                path: path.to_owned(),
                found: self.version,
                expected: VERSION,
            });
        }
        for (backend, pins) in &self.backends {
            for kind in Kind::ALL {
                for (key, pin) in pins.items(kind) {
                    if item_name(kind, &pin.definition) != Some(key.as_str()) {
                        return Err(IntegrityError::NameMismatch {
                            path: path.to_owned(),
                            backend: backend.clone(),
                            kind,
                            name: item_name(kind, &pin.definition)
                                .unwrap_or_default()
                                .to_owned(),
                            key: key.clone(),
                        });
                    }
                    // Re-deriving the subset (not only hashing what is stored) also refuses a
                    // stored definition with a field that is not pinned.
                    let stored = hash_pinned(kind, &pin.definition)?;
                    let subset = hash_pinned(kind, &pinned(kind, &pin.definition)?)?;
                    if stored != pin.sha256 || subset != pin.sha256 {
                        return Err(IntegrityError::ItemHashMismatch {
                            path: path.to_owned(),
                            backend: backend.clone(),
                            kind,
                            name: key.clone(),
                        });
                    }
                }
            }
            if pins.compute_catalog_hash() != pins.catalog_sha256 {
                return Err(IntegrityError::CatalogHashMismatch {
                    path: path.to_owned(),
                    backend: backend.clone(),
                });
            }
        }
        Ok(())
    }

    /// The file's exact text: pretty JSON with sorted keys and a final newline.
    pub fn to_text(&self) -> Result<String, serde_json::Error> {
        // The lockfile's own keys keep their declared order (`version` first, `sha256` before
        // `definition`); server-provided values are re-sorted here, so a `Lockfile` built by
        // hand prints the same as one built by `from_lists`.
        let mut lock = self.clone();
        for pins in lock.backends.values_mut() {
            pins.server_info = sorted_keys(std::mem::take(&mut pins.server_info));
            for kind in Kind::ALL {
                for pin in pins.items_mut(kind).values_mut() {
                    pin.definition = sorted_keys(std::mem::take(&mut pin.definition));
                }
            }
        }
        let mut text = serde_json::to_string_pretty(&lock)?;
        text.push('\n');
        Ok(text)
    }

    /// Parses and verifies lockfile text. `path` is only for messages.
    pub fn from_text(text: &str, path: &str) -> Result<Self, IntegrityError> {
        let lock: Lockfile = serde_json::from_str(text).map_err(|e| IntegrityError::Parse {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        lock.verify(path)?;
        Ok(lock)
    }
}

/// Reads and verifies a lockfile.
pub fn load(path: &Path) -> Result<Lockfile, IntegrityError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| IntegrityError::Read {
        path: shown.clone(),
        source,
    })?;
    Lockfile::from_text(&text, &shown)
}

/// Reads and verifies a lockfile; `None` when there is none yet.
pub fn load_optional(path: &Path) -> Result<Option<Lockfile>, IntegrityError> {
    match load(path) {
        Ok(l) => Ok(Some(l)),
        Err(IntegrityError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// One decision about a lockfile (an approval, a rejection), applied to the file as it is when
/// written ([`update`]), so a first-use pin the gateway wrote meanwhile is kept.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    SetPin {
        backend: String,
        kind: Kind,
        name: String,
        pin: Pin,
    },
    RemovePin {
        backend: String,
        kind: Kind,
        name: String,
    },
    Reject {
        backend: String,
        rejected: Rejected,
    },
    Unreject {
        backend: String,
        rejected: Rejected,
    },
    SetExecutables {
        backend: String,
        pins: Vec<ExecutablePin>,
    },
    SetServerInfo {
        backend: String,
        info: Value,
        /// Only when the lockfile has none yet (an item approval records it; approving a whole
        /// backend replaces it).
        only_if_missing: bool,
    },
}

impl Op {
    pub fn backend(&self) -> &str {
        match self {
            Op::SetPin { backend, .. }
            | Op::RemovePin { backend, .. }
            | Op::Reject { backend, .. }
            | Op::Unreject { backend, .. }
            | Op::SetExecutables { backend, .. }
            | Op::SetServerInfo { backend, .. } => backend,
        }
    }
}

impl Lockfile {
    /// Applies `ops`; every backend they touch gets its catalog hash recomputed, the others are
    /// left byte for byte as they were.
    pub fn apply(&mut self, ops: &[Op]) {
        let mut touched = std::collections::BTreeSet::new();
        for op in ops {
            touched.insert(op.backend().to_owned());
            let pins = self.backends.entry(op.backend().to_owned()).or_default();
            match op {
                Op::SetPin {
                    kind, name, pin, ..
                } => {
                    pins.items_mut(*kind).insert(name.clone(), pin.clone());
                }
                Op::RemovePin { kind, name, .. } => {
                    pins.items_mut(*kind).remove(name);
                }
                Op::Reject { rejected, .. } => {
                    if !pins.rejected.contains(rejected) {
                        pins.rejected.push(rejected.clone());
                    }
                }
                Op::Unreject { rejected, .. } => pins.rejected.retain(|r| r != rejected),
                Op::SetExecutables { pins: exec, .. } => pins.executables = exec.clone(),
                Op::SetServerInfo {
                    info,
                    only_if_missing,
                    ..
                } => {
                    if !only_if_missing || pins.server_info.is_null() {
                        pins.server_info = sorted_keys(info.clone());
                    }
                }
            }
        }
        for name in touched {
            if let Some(p) = self.backends.get_mut(&name) {
                p.rejected.sort();
                p.catalog_sha256 = p.compute_catalog_hash();
            }
        }
    }
}

/// Applies `ops` to the lockfile at `path` as it is now (an empty one if there is none) and
/// saves it atomically.
pub fn update(path: &Path, ops: &[Op]) -> Result<(), IntegrityError> {
    let mut lock = load_optional(path)?.unwrap_or_default();
    lock.apply(ops);
    save(&lock, path)
}

/// Writes a lockfile atomically: a temporary file in the same directory, synced, then renamed
/// over `path`, so a reader sees the old file or the new one and never a torn one.
pub fn save(lock: &Lockfile, path: &Path) -> Result<(), IntegrityError> {
    let shown = path.display().to_string();
    let text = lock.to_text().map_err(|e| IntegrityError::Encode {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    let write_err = |source| IntegrityError::Write {
        path: shown.clone(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| DEFAULT_FILE.to_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.{}.{nanos}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable; not every platform can open a directory, and the
        // file's content is already synced, so a failure here is not an error.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(write_err)
}

/// One difference between an approved lockfile and what the backends offer now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    BackendAdded {
        backend: String,
    },
    BackendRemoved {
        backend: String,
    },
    /// `serverInfo` differs (a new server version, typically).
    ServerInfoChanged {
        backend: String,
    },
    Added {
        backend: String,
        kind: Kind,
        name: String,
        sha256: String,
    },
    Removed {
        backend: String,
        kind: Kind,
        name: String,
        sha256: String,
    },
    Changed {
        backend: String,
        kind: Kind,
        name: String,
        approved_sha256: String,
        current_sha256: String,
        /// Top-level fields of the pinned view that were added, removed or changed, sorted.
        fields: Vec<String>,
    },
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::BackendAdded { backend } => write!(f, "backend `{backend}` is new"),
            Change::BackendRemoved { backend } => write!(f, "backend `{backend}` is gone"),
            Change::ServerInfoChanged { backend } => {
                write!(f, "backend `{backend}` reports a different `serverInfo`")
            }
            Change::Added {
                backend,
                kind,
                name,
                ..
            } => write!(f, "{kind} `{name}` of backend `{backend}` is new"),
            Change::Removed {
                backend,
                kind,
                name,
                ..
            } => write!(f, "{kind} `{name}` of backend `{backend}` is gone"),
            Change::Changed {
                backend,
                kind,
                name,
                fields,
                ..
            } => write!(
                f,
                "{kind} `{name}` of backend `{backend}` changed ({})",
                fields.join(", ")
            ),
        }
    }
}

/// The differences from `approved` to `current`, ordered by backend, then kind, then name. A
/// backend only in one of them is reported as added or removed, followed by each of its items.
pub fn diff(approved: &Lockfile, current: &Lockfile) -> Vec<Change> {
    let empty = BackendPins::default();
    let mut names: Vec<&String> = approved
        .backends
        .keys()
        .chain(current.backends.keys())
        .collect();
    names.sort();
    names.dedup();
    let mut changes = Vec::new();
    for name in names {
        let (a, c) = (approved.backends.get(name), current.backends.get(name));
        match (a, c) {
            (None, Some(_)) => changes.push(Change::BackendAdded {
                backend: name.clone(),
            }),
            (Some(_), None) => changes.push(Change::BackendRemoved {
                backend: name.clone(),
            }),
            _ => {}
        }
        changes.extend(diff_backend(name, a.unwrap_or(&empty), c.unwrap_or(&empty)));
        if let (Some(a), Some(c)) = (a, c)
            && a.server_info != c.server_info
        {
            // After the items: a server upgrade is context for them, not a change to approve.
            changes.push(Change::ServerInfoChanged {
                backend: name.clone(),
            });
        }
    }
    changes
}

/// The item differences of one backend, ordered by kind, then name.
pub fn diff_backend(backend: &str, approved: &BackendPins, current: &BackendPins) -> Vec<Change> {
    let mut changes = Vec::new();
    for kind in Kind::ALL {
        let (a, c) = (approved.items(kind), current.items(kind));
        let mut names: Vec<&String> = a.keys().chain(c.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            match (a.get(name), c.get(name)) {
                (Some(old), None) => changes.push(Change::Removed {
                    backend: backend.to_owned(),
                    kind,
                    name: name.clone(),
                    sha256: old.sha256.clone(),
                }),
                (None, Some(new)) => changes.push(Change::Added {
                    backend: backend.to_owned(),
                    kind,
                    name: name.clone(),
                    sha256: new.sha256.clone(),
                }),
                (Some(old), Some(new)) if old.sha256 != new.sha256 => {
                    changes.push(Change::Changed {
                        backend: backend.to_owned(),
                        kind,
                        name: name.clone(),
                        approved_sha256: old.sha256.clone(),
                        current_sha256: new.sha256.clone(),
                        fields: changed_fields(&old.definition, &new.definition),
                    })
                }
                _ => {}
            }
        }
    }
    changes
}

/// Top-level keys whose values differ between two definitions (present in one only, or
/// different), sorted.
pub fn changed_fields(approved: &Value, current: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let a = approved.as_object().unwrap_or(&empty);
    let c = current.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = a.keys().chain(c.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != c.get(*k))
        .cloned()
        .collect()
}

/// A unified diff (3 lines of context) from the approved definition to the current one, both
/// pretty-printed with sorted keys; empty when they print the same.
pub fn unified_diff(approved_def: &Value, current_def: &Value) -> String {
    let old = pretty(approved_def);
    let new = pretty(current_def);
    TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header("approved", "current")
        .to_string()
}

fn pretty(v: &Value) -> String {
    // `{:#}` is serde_json's pretty printer through `Display`, which cannot fail.
    let mut s = format!("{:#}", sorted_keys(v.clone()));
    s.push('\n');
    s
}
