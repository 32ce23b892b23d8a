//! What each backend last listed to the running gateway, kept in `<lockfile>.seen.json` so that
//! `portcullis pins` can review backends it cannot list itself (those that only accept per-caller
//! tokens). Written by the gateway ([`super::Monitor`]), never read by it: approvals only ever
//! come from the lockfile.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::Kind;

/// What one backend last listed to the gateway.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeenCatalog {
    pub server_info: Value,
    /// RFC 3339 time of the last change.
    pub updated: String,
    /// Its server instructions as a list of at most one item (see [`super::instructions_list`]).
    #[serde(default)]
    pub instructions: Vec<Value>,
    #[serde(default)]
    pub tools: Vec<Value>,
    #[serde(default)]
    pub prompts: Vec<Value>,
    #[serde(default)]
    pub resource_templates: Vec<Value>,
}

impl SeenCatalog {
    pub fn list_mut(&mut self, kind: Kind) -> &mut Vec<Value> {
        match kind {
            Kind::Instructions => &mut self.instructions,
            Kind::Tool => &mut self.tools,
            Kind::Prompt => &mut self.prompts,
            Kind::ResourceTemplate => &mut self.resource_templates,
        }
    }
}

/// The file beside the lockfile where the gateway keeps what backends last listed.
pub fn seen_path(lockfile: &Path) -> PathBuf {
    let mut name = lockfile
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".seen.json");
    lockfile.with_file_name(name)
}

/// Reads the seen catalogs; a missing or unreadable file is empty (it is only a convenience for
/// review, never a source of approvals).
pub fn load_seen(path: &Path) -> BTreeMap<String, SeenCatalog> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}
