//! Workflow definitions as written (`[[workflows]]` in the config, or one workflow per
//! `*.toml` file in `workflows_dir`), and their validation into [`Workflow`]s: unique names
//! and step ids, known dependencies, no cycles, templates that compile and read only the
//! workflow's inputs and the outputs of steps upstream of them. Errors name the file, the line
//! and the key, like the rest of the config.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use toml::Spanned;

use super::plan;
use super::template;
use super::{Step, Workflow, Workflows};
use crate::config::ConfigError;
use crate::config::workflow::WorkflowFile;
pub use crate::config::workflow::{OnError, StepDef, WorkflowDef};

/// Names a workflow may not take: the meta-tools'.
const RESERVED: &[&str] = &[crate::meta::FIND_TOOL, crate::meta::CALL_TOOL];

const MAX_PARALLEL: usize = 64;
const MAX_RETRIES: u32 = 10;
const MAX_BACKOFF_MS: u64 = 60_000;
const DEFAULT_RETRIES: u32 = 2;
const DEFAULT_BACKOFF_MS: u64 = 250;

/// Where a definition came from, for errors.
struct Source<'a> {
    file: &'a str,
    text: &'a str,
    /// Key prefix: `workflows[2].` in the config, empty in a workflow file.
    prefix: String,
}

impl Source<'_> {
    fn err(&self, offset: usize, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.to_owned(),
            line: line_of(self.text, offset),
            key: format!("{}{key}", self.prefix),
            message: message.into(),
        }
    }
    fn line(&self, offset: usize) -> usize {
        line_of(self.text, offset)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |t| t.bytes().filter(|b| *b == b'\n').count() + 1)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What [`Workflows::load`] reads: a config's `[[workflows]]`, with the config's name and text
/// (for the file and line of errors), and the files of its `workflows_dir`.
#[derive(Debug, Clone, Copy)]
pub struct Definitions<'a> {
    /// `[[workflows]]`.
    pub inline: &'a [Spanned<WorkflowDef>],
    /// Where the config came from (a path, or `<quickstart>`).
    pub source_name: &'a str,
    /// The config's text.
    pub text: &'a str,
    /// The files of `workflows_dir`, in name order, read and parsed with the config.
    pub files: &'a [WorkflowFile],
}

impl Workflows {
    /// Every workflow of a config: `[[workflows]]` and the files of `workflows_dir` (read with
    /// the config, in name order), validated. Pure: the same definitions give the same
    /// workflows.
    pub fn load(defs: Definitions<'_>) -> Result<Workflows, ConfigError> {
        let mut list: Vec<Arc<Workflow>> = Vec::new();
        for (i, def) in defs.inline.iter().enumerate() {
            let src = Source {
                file: defs.source_name,
                text: defs.text,
                prefix: format!("workflows[{i}]."),
            };
            list.push(Arc::new(compile(def.get_ref(), def.span().start, &src)?));
        }
        for f in defs.files {
            let src = Source {
                file: &f.path,
                text: &f.text,
                prefix: String::new(),
            };
            list.push(Arc::new(compile(&f.def, 0, &src)?));
        }
        let mut by_name = HashMap::new();
        for (i, w) in list.iter().enumerate() {
            if let Some(first) = by_name.insert(w.name.clone(), i) {
                let first = list
                    .get(first)
                    .map(|f| f.origin.clone())
                    .unwrap_or_default();
                return Err(ConfigError::Invalid {
                    file: w.origin.file.clone(),
                    line: w.origin.line,
                    key: "name".into(),
                    message: format!(
                        "workflow `{}` is defined twice (first at {}:{}); names must be unique",
                        w.name, first.file, first.line
                    ),
                });
            }
        }
        Ok(Workflows::new(list))
    }
}

fn compile(def: &WorkflowDef, at: usize, src: &Source<'_>) -> Result<Workflow, ConfigError> {
    let name = def.name.get_ref();
    let name_at = def.name.span().start;
    if name.is_empty()
        || name.len() > 128
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        return Err(src.err(
            name_at,
            "name",
            format!("`{name}` must be 1–128 ASCII letters, digits, `_`, `-` or `.`"),
        ));
    }
    if RESERVED.contains(&name.as_str()) {
        return Err(src.err(
            name_at,
            "name",
            format!("`{name}` is the name of a meta-tool; choose another name"),
        ));
    }
    if def.description.trim().is_empty() {
        return Err(src.err(
            at.max(name_at),
            "description",
            "a workflow needs a description: it is what clients and models read",
        ));
    }
    if def.max_parallel == 0 || def.max_parallel > MAX_PARALLEL {
        return Err(src.err(
            name_at,
            "max_parallel",
            format!("must be between 1 and {MAX_PARALLEL}"),
        ));
    }
    if def.timeout_secs == 0 {
        return Err(src.err(name_at, "timeout_secs", "must be at least 1 second"));
    }
    let input_schema = match &def.input_schema {
        None => json!({ "type": "object", "properties": {} }),
        Some(s) => {
            let v = s.get_ref();
            if v.get("type").and_then(Value::as_str) != Some("object") {
                return Err(src.err(
                    s.span().start,
                    "input_schema",
                    "must be a JSON Schema with `type = \"object\"`",
                ));
            }
            v.clone()
        }
    };
    let inputs: Option<BTreeSet<String>> = input_schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect());
    if def.steps.is_empty() {
        return Err(src.err(
            name_at,
            "steps",
            "a workflow needs at least one `[[steps]]`",
        ));
    }
    // Ids first: dependencies may point forward.
    let mut ids: HashMap<String, usize> = HashMap::new();
    for (i, s) in def.steps.iter().enumerate() {
        let id = s.get_ref().id.get_ref();
        let key = format!("steps[{i}].id");
        if !is_identifier(id) {
            return Err(src.err(
                s.get_ref().id.span().start,
                &key,
                format!("`{id}` must be an identifier (letters, digits, `_`; not starting with a digit): templates read it as `steps.{id}`"),
            ));
        }
        if ids.insert(id.clone(), i).is_some() {
            return Err(src.err(
                s.get_ref().id.span().start,
                &key,
                format!("duplicate step id `{id}`"),
            ));
        }
    }
    let mut deps: Vec<Vec<usize>> = Vec::new();
    for (i, s) in def.steps.iter().enumerate() {
        let st = s.get_ref();
        let mut d = Vec::new();
        let deps_at = st
            .depends_on
            .as_ref()
            .map_or(st.id.span().start, |d| d.span().start);
        let listed = st
            .depends_on
            .as_ref()
            .map(|d| d.get_ref().as_slice())
            .unwrap_or(&[]);
        for dep in listed {
            match ids.get(dep) {
                Some(j) if *j == i => {
                    return Err(src.err(
                        deps_at,
                        &format!("steps[{i}].depends_on"),
                        format!("step `{}` depends on itself", st.id.get_ref()),
                    ));
                }
                Some(j) => {
                    if !d.contains(j) {
                        d.push(*j);
                    }
                }
                None => {
                    return Err(src.err(
                        deps_at,
                        &format!("steps[{i}].depends_on"),
                        format!(
                            "unknown step `{dep}`; steps are: {}",
                            def.steps
                                .iter()
                                .map(|s| format!("`{}`", s.get_ref().id.get_ref()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        }
        deps.push(d);
    }
    let step_ids: Vec<&str> = def
        .steps
        .iter()
        .map(|s| s.get_ref().id.get_ref().as_str())
        .collect();
    let waves = plan::waves(&deps).map_err(|cycle| {
        let first = cycle.first().copied().unwrap_or(0);
        let path: Vec<&str> = cycle
            .iter()
            .chain(cycle.first())
            .filter_map(|i| step_ids.get(*i).copied())
            .collect();
        let at = def.steps.get(first).map_or(name_at, |s| {
            let st = s.get_ref();
            st.depends_on
                .as_ref()
                .map_or(st.id.span().start, |d| d.span().start)
        });
        src.err(
            at,
            &format!("steps[{first}].depends_on"),
            format!(
                "dependency cycle: {}; a workflow must be a DAG",
                path.join(" → ")
            ),
        )
    })?;
    let upstream = plan::upstream(&deps);
    let env = template::environment();
    let mut steps = Vec::new();
    for (i, s) in def.steps.iter().enumerate() {
        let st = s.get_ref();
        let key = |k: &str| format!("steps[{i}].{k}");
        let id = st.id.get_ref();
        if st.tool.get_ref().is_empty() {
            return Err(src.err(st.tool.span().start, &key("tool"), "must name a tool"));
        }
        if st.timeout_secs == 0 {
            return Err(src.err(
                st.id.span().start,
                &key("timeout_secs"),
                "must be at least 1 second",
            ));
        }
        if st.on_error != OnError::Retry && (st.retries.is_some() || st.backoff_ms.is_some()) {
            return Err(src.err(
                st.id.span().start,
                &key("retries"),
                "`retries` and `backoff_ms` need `on_error = \"retry\"`",
            ));
        }
        let retries = st.retries.unwrap_or(DEFAULT_RETRIES);
        if st.on_error == OnError::Retry && !(1..=MAX_RETRIES).contains(&retries) {
            return Err(src.err(
                st.id.span().start,
                &key("retries"),
                format!("must be between 1 and {MAX_RETRIES}"),
            ));
        }
        let backoff = st.backoff_ms.unwrap_or(DEFAULT_BACKOFF_MS);
        if backoff > MAX_BACKOFF_MS {
            return Err(src.err(
                st.id.span().start,
                &key("backoff_ms"),
                format!("must be at most {MAX_BACKOFF_MS}"),
            ));
        }
        let up = upstream.get(i).cloned().unwrap_or_default();
        let arguments = match &st.arguments {
            None => json!({}),
            Some(a) => {
                if !a.get_ref().is_object() {
                    return Err(src.err(
                        a.span().start,
                        &key("arguments"),
                        "must be a table of the tool's arguments",
                    ));
                }
                let mut texts = Vec::new();
                template::strings(a.get_ref(), &mut texts);
                for t in &texts {
                    let refs = template::references(&env, t).map_err(|e| {
                        src.err(
                            a.span().start,
                            &key("arguments"),
                            format!("template `{t}` does not compile: {e}"),
                        )
                    })?;
                    check_refs(&refs, &up, &step_ids, inputs.as_ref(), id).map_err(|m| {
                        src.err(a.span().start, &key("arguments"), format!("in `{t}`: {m}"))
                    })?;
                }
                a.get_ref().clone()
            }
        };
        if let Some(w) = &st.when {
            let refs = template::condition_references(&env, w.get_ref()).map_err(|e| {
                src.err(
                    w.span().start,
                    &key("when"),
                    format!("condition `{}` does not compile: {e}", w.get_ref()),
                )
            })?;
            check_refs(&refs, &up, &step_ids, inputs.as_ref(), id).map_err(|m| {
                src.err(
                    w.span().start,
                    &key("when"),
                    format!("in `{}`: {m}", w.get_ref()),
                )
            })?;
        }
        steps.push(Step {
            index: i,
            id: id.clone(),
            tool: st.tool.get_ref().clone(),
            arguments,
            depends_on: deps.get(i).cloned().unwrap_or_default(),
            upstream: up,
            when: st.when.as_ref().map(|w| w.get_ref().clone()),
            timeout: Duration::from_secs(st.timeout_secs),
            on_error: st.on_error,
            retries: if st.on_error == OnError::Retry {
                retries
            } else {
                0
            },
            backoff: Duration::from_millis(backoff),
            line: src.line(st.tool.span().start),
            key: format!("{}steps[{i}].tool", src.prefix),
        });
    }
    if let Some(out) = &def.output {
        let all: BTreeSet<usize> = (0..steps.len()).collect();
        let refs = template::references(&env, out.get_ref()).map_err(|e| {
            src.err(
                out.span().start,
                "output",
                format!("template does not compile: {e}"),
            )
        })?;
        check_refs(&refs, &all, &step_ids, inputs.as_ref(), "")
            .map_err(|m| src.err(out.span().start, "output", m.to_string()))?;
    }
    Ok(Workflow {
        name: name.clone(),
        description: def.description.clone(),
        title: def.title.clone(),
        input_schema,
        output: def.output.as_ref().map(|o| o.get_ref().clone()),
        max_parallel: def.max_parallel,
        timeout: Duration::from_secs(def.timeout_secs),
        steps,
        waves,
        origin: super::Origin {
            file: src.file.to_owned(),
            line: src.line(name_at),
        },
    })
}

/// Why a template reads a variable it may not: each message names the variable and what to
/// write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum RefError {
    /// `inputs.<name>` where the input schema lists properties and not this one.
    #[error("`inputs.{name}` is not in the workflow's `input_schema` properties ({})", list(.known))]
    UnknownInput { name: String, known: Vec<String> },
    /// `steps` alone, without a step id.
    #[error("refer to a step's output as `steps.<id>` (e.g. `steps.fetch.text`)")]
    BareSteps,
    /// `steps.<id>` naming no step.
    #[error("`steps.{0}`: there is no step `{0}`")]
    NoStep(String),
    /// The output template reads a step outside the ones it may read.
    #[error("`steps.{0}` is not a step of this workflow")]
    NotInWorkflow(String),
    /// A step's template reads a step that does not run before it.
    #[error(
        "`steps.{id}` is not upstream of step `{step}`: add `{id}` to its `depends_on` (directly or through another step)"
    )]
    NotUpstream { id: String, step: String },
    /// A variable that is neither `inputs` nor `steps`.
    #[error("unknown variable `{0}`: templates read `inputs.<name>` and `steps.<id>`")]
    UnknownVariable(String),
}

/// `a, b` as "`a`, `b`".
fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Template variables may be `inputs.<name>` (a declared input when the schema lists
/// properties) or `steps.<id>…` for a step upstream of the one being templated.
fn check_refs(
    refs: &BTreeSet<String>,
    upstream: &BTreeSet<usize>,
    ids: &[&str],
    inputs: Option<&BTreeSet<String>>,
    step: &str,
) -> Result<(), RefError> {
    for r in refs {
        let mut parts = r.split('.');
        match (parts.next(), parts.next()) {
            (Some("inputs"), None) => {}
            (Some("inputs"), Some(name)) => {
                if let Some(known) = inputs {
                    if !known.is_empty() && !known.contains(name) {
                        return Err(RefError::UnknownInput {
                            name: name.to_owned(),
                            known: known.iter().cloned().collect(),
                        });
                    }
                }
            }
            (Some("steps"), None) => {
                return Err(RefError::BareSteps);
            }
            (Some("steps"), Some(id)) => match ids.iter().position(|s| *s == id) {
                None => return Err(RefError::NoStep(id.to_owned())),
                Some(j) if !upstream.contains(&j) => {
                    return Err(if step.is_empty() {
                        RefError::NotInWorkflow(id.to_owned())
                    } else {
                        RefError::NotUpstream {
                            id: id.to_owned(),
                            step: step.to_owned(),
                        }
                    });
                }
                Some(_) => {}
            },
            // minijinja's global functions.
            (Some("range" | "dict" | "namespace"), _) => {}
            (Some(other), _) => {
                return Err(RefError::UnknownVariable(other.to_owned()));
            }
            (None, _) => {}
        }
    }
    Ok(())
}
