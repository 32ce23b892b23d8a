//! Workflow definitions as written: `[[workflows]]` in the config, or one workflow per `*.toml`
//! file in `workflows_dir`. Data and defaults only; `crate::workflow` validates them into
//! workflows (names, step ids, dependencies, templates) in the check pass.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use super::{ConfigError, line_of};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowDef {
    /// The tool name clients call.
    pub name: Spanned<String>,
    /// The tool description clients (and models) see.
    pub description: String,
    pub title: Option<String>,
    /// JSON Schema of the workflow's arguments (`type = "object"`); default: no arguments.
    pub input_schema: Option<Spanned<Value>>,
    /// Template of the result text; default: every step's status and output as JSON.
    pub output: Option<Spanned<String>>,
    /// Steps running at once, at most.
    #[serde(default = "default_parallel")]
    pub max_parallel: usize,
    /// The whole workflow's time limit, seconds.
    #[serde(default = "default_workflow_timeout")]
    pub timeout_secs: u64,
    pub steps: Vec<Spanned<StepDef>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// Identifier (`[A-Za-z_][A-Za-z0-9_]*`): templates read `steps.<id>`.
    pub id: Spanned<String>,
    /// The tool's exposed name (as in `tools/list`).
    pub tool: Spanned<String>,
    /// Arguments; strings are templates over `inputs` and upstream `steps`.
    pub arguments: Option<Spanned<Value>>,
    pub depends_on: Option<Spanned<Vec<String>>>,
    /// Expression; the step runs only when it is true (else it is `skipped`).
    pub when: Option<Spanned<String>>,
    #[serde(default = "default_step_timeout")]
    pub timeout_secs: u64,
    #[serde(default)]
    pub on_error: OnError,
    /// With `on_error = "retry"`: attempts after the first (default 2).
    pub retries: Option<u32>,
    /// With `on_error = "retry"`: wait before the first retry, doubled for each next one.
    pub backoff_ms: Option<u64>,
}

/// What a failed step does to its workflow. A step denied by policy (or refused because the
/// audit trail is down) always stops the workflow: `continue` and `retry` cannot route around
/// a decision.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Stop: start no further step, fail the workflow.
    #[default]
    Abort,
    /// Record the failure; dependents run and see `status == "error"`.
    Continue,
    /// Try again (`retries`, `backoff_ms`); abort when every attempt failed.
    Retry,
}

fn default_parallel() -> usize {
    4
}
fn default_workflow_timeout() -> u64 {
    300
}
fn default_step_timeout() -> u64 {
    60
}

/// One file of `workflows_dir`: where it is, its text (for the line numbers of later errors),
/// and the workflow it defines.
#[derive(Debug, Clone)]
pub struct WorkflowFile {
    pub path: String,
    pub text: String,
    pub def: WorkflowDef,
}

/// The `*.toml` files of `dir`, in name order, read and parsed. `config` and `text` are the
/// config file's name and text, for an error about the directory itself.
pub(super) fn read_dir(
    dir: &Path,
    config: &str,
    text: &str,
) -> Result<Vec<WorkflowFile>, ConfigError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ConfigError::Invalid {
        file: config.to_owned(),
        line: text.find("workflows_dir").map_or(1, |o| line_of(text, o)),
        key: "workflows_dir".into(),
        message: format!("cannot read directory `{}`: {e}", dir.display()),
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let file = path.display().to_string();
        let body = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: file.clone(),
            source,
        })?;
        let def: WorkflowDef = toml::from_str(&body).map_err(|e| ConfigError::Parse {
            file: file.clone(),
            line: e.span().map_or(1, |s| line_of(&body, s.start)),
            message: e.message().trim().to_owned(),
        })?;
        files.push(WorkflowFile {
            path: file,
            text: body,
            def,
        });
    }
    Ok(files)
}
