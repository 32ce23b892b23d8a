//! Where an engine comes from: the `[policy]` section's files (the main schema, extra schema
//! fragments and `*.cedar` files of one directory), read in a fixed order, and the helpers
//! that turn Cedar's byte offsets into `file:line` diagnostics.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::PolicyConfig;

use super::{PolicyEngine, PolicyError};

/// Files a policy engine is loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySources {
    /// The main schema file.
    pub schema: PathBuf,
    /// Directory of `*.cedar` policy files and extra `*.cedarschema` fragments (not recursive).
    pub policies: PathBuf,
}

impl PolicySources {
    /// The `[policy]` section of a config, paths resolved against `base_dir` (the config's
    /// directory), and the reload poll interval (`None` when polling is off). `None` when there
    /// is no `[policy]` section: the policy stage is then off.
    pub fn from_config(
        policy: Option<&PolicyConfig>,
        base_dir: &Path,
    ) -> Option<(PolicySources, Option<Duration>)> {
        let p = policy?;
        Some((
            PolicySources {
                schema: base_dir.join(&p.schema),
                policies: base_dir.join(&p.policies),
            },
            (p.reload_secs > 0).then(|| Duration::from_secs(p.reload_secs)),
        ))
    }

    /// Schema files in load order: the main schema, then other `*.cedarschema` files of the
    /// policy directory by name.
    fn schema_files(&self) -> Result<Vec<PathBuf>, PolicyError> {
        let mut files = vec![self.schema.clone()];
        let main = std::fs::canonicalize(&self.schema).ok();
        for f in list_dir(&self.policies, "cedarschema")? {
            if std::fs::canonicalize(&f).ok() != main || main.is_none() {
                files.push(f);
            }
        }
        Ok(files)
    }
}

fn list_dir(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, PolicyError> {
    let rd = std::fs::read_dir(dir).map_err(|source| PolicyError::Read {
        path: dir.display().to_string(),
        source,
    })?;
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|source| PolicyError::Read {
            path: dir.display().to_string(),
            source,
        })?;
        let p = e.path();
        if p.is_file() && p.extension().and_then(|x| x.to_str()) == Some(ext) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

fn read(path: &Path) -> Result<String, PolicyError> {
    std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn display_name(p: &Path) -> String {
    p.display().to_string()
}

/// 1-based line of a byte offset.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |t| t.bytes().filter(|b| *b == b'\n').count() + 1)
}

/// The first labelled offset of a Cedar diagnostic.
pub(super) fn first_offset(d: &dyn miette::Diagnostic) -> Option<usize> {
    d.labels()?.next().map(|l| l.offset())
}

pub(super) fn message_of(d: &dyn miette::Diagnostic, display: String) -> String {
    match d.help() {
        Some(h) => format!("{display} (help: {h})"),
        None => display,
    }
}

impl PolicyEngine {
    /// Load and validate (strict mode) the schema and every `*.cedar` file of the directory.
    pub fn load(sources: &PolicySources) -> Result<PolicyEngine, PolicyError> {
        let mut schemas = Vec::new();
        for f in sources.schema_files()? {
            schemas.push((display_name(&f), read(&f)?));
        }
        let mut policies = Vec::new();
        for f in list_dir(&sources.policies, "cedar")? {
            let name = f
                .file_name()
                .map_or_else(|| display_name(&f), |n| n.to_string_lossy().into_owned());
            policies.push((name, read(&f)?));
        }
        Self::from_sources(&schemas, &policies)
    }
}
