//! The one check pass over a parsed config, run from the composition root: `config` parses and
//! checks what it can see alone (it imports nothing from the rest of the crate); each module
//! then checks its own section here, with the knowledge only it has. `Config::load`,
//! `Config::parse` and `Config::quickstart` are defined here, so a `Config` that reaches a
//! module has passed both.
//!
//! The order is the order of the sections in a typical config; each check stops at its first
//! problem, and the first problem found is the one reported, with its file, line and key.

use std::path::Path;

use crate::config::{Config, ConfigError};
use crate::workflow::Workflows;

/// A module's check: `Err((key, byte offset in the config text, message))`.
type Check = fn(&Config) -> Result<(), (String, usize, String)>;

/// Every module check that needs only the config, in order.
const CHECKS: &[Check] = &[
    crate::identity::check_config,
    crate::egress::check_config,
    crate::upstream::stdio::check_config,
    crate::limits::check_config,
    crate::telemetry::check_config,
    meta,
    audit,
];

fn meta(cfg: &Config) -> Result<(), (String, usize, String)> {
    match &cfg.meta {
        Some(m) => m
            .get_ref()
            .check()
            .map_err(|(key, message)| (format!("meta.{key}"), m.span().start, message)),
        None => Ok(()),
    }
}

fn audit(cfg: &Config) -> Result<(), (String, usize, String)> {
    match &cfg.audit {
        Some(a) => a
            .get_ref()
            .check()
            .map_err(|(key, message)| (format!("audit.{key}"), a.span().start, message)),
        None => Ok(()),
    }
}

/// Runs every module's check on `cfg`, then compiles its workflows (which also checks them).
pub fn check(cfg: &Config) -> Result<(), ConfigError> {
    for check in CHECKS {
        check(cfg).map_err(|(key, at, message)| cfg.invalid_at(at, &key, message))?;
    }
    workflows(cfg)?;
    Ok(())
}

/// The workflows of `cfg` (`[[workflows]]` and the files of `workflows_dir`), compiled: what
/// the check pass compiles, and what the gateway serves.
pub fn workflows(cfg: &Config) -> Result<Workflows, ConfigError> {
    Workflows::load(crate::workflow::Definitions {
        inline: &cfg.workflows,
        source_name: &cfg.source_name,
        text: &cfg.text,
        files: &cfg.workflow_files,
    })
}

impl Config {
    /// Reads, parses and checks the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let cfg = Config::read_file(path)?;
        check(&cfg)?;
        Ok(cfg)
    }

    /// The embedded quickstart config (`config::QUICKSTART`), checked; its policy files are written
    /// under the current directory.
    pub fn quickstart() -> Result<Config, ConfigError> {
        let cfg = Config::read_quickstart()?;
        check(&cfg)?;
        Ok(cfg)
    }

    /// Parses and checks `text`, named `source_name` in errors, with relative paths resolved
    /// against `base`.
    pub fn parse(text: &str, source_name: &str, base: &Path) -> Result<Config, ConfigError> {
        let cfg = Config::read(text, source_name, base)?;
        check(&cfg)?;
        Ok(cfg)
    }

    /// Every weaker-than-default choice in this config, one line each, for `portcullis check`:
    /// the config's own and each module's.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = self.own_warnings();
        if let Some(a) = &self.audit {
            w.extend(a.get_ref().warnings());
        }
        w.extend(crate::egress::warnings(self));
        w.extend(crate::integrity::config_warnings(self));
        w
    }
}
