//! Workflows (composite tools): a DAG of tool calls, defined in config and exposed as one tool
//! with its own input schema and description.
//!
//! This module owns definitions and their validation (`def`), the DAG (`plan`), templates
//! (`template`) and the executor (`exec`). It never reaches a backend: every step is a
//! `tools/call` that the session sends through the full guard chain (integrity, policy, limits,
//! credentials, audit) as the calling principal, under the tool's exposed name
//! (`session::meta`). A workflow can therefore never do what its caller could not do step by
//! step, and a step's denial stops the workflow.

mod def;
pub mod exec;
pub mod plan;
pub mod template;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

pub use def::{Definitions, OnError, StepDef, WorkflowDef};

use crate::catalog::Merged;
use crate::config::ConfigError;

/// Why a workflow's arguments do not fit its `input_schema` (the shallow check of
/// [`Workflow::check_inputs`]); each message names the argument to add, remove or fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    /// The arguments are not a JSON object.
    #[error("`arguments` must be an object")]
    NotObject,
    /// A property the schema lists as `required` is absent.
    #[error("missing required argument `{0}`")]
    Missing(String),
    /// A property the schema does not list, with `additionalProperties = false`.
    #[error("unknown argument `{0}`")]
    Unknown(String),
    /// A property whose JSON type is not the one the schema names.
    #[error("argument `{argument}` must be of type {expected}")]
    Type {
        /// The argument's name.
        argument: String,
        /// The schema's `type` (as JSON: `"string"`).
        expected: Value,
    },
}

/// Where a workflow was defined.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

/// A validated workflow.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub name: String,
    pub description: String,
    pub title: Option<String>,
    pub input_schema: Value,
    pub output: Option<String>,
    pub max_parallel: usize,
    pub timeout: Duration,
    /// In definition order.
    pub steps: Vec<Step>,
    /// Step indices by the earliest wave they can run in (see [`plan::waves`]).
    pub waves: Vec<Vec<usize>>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Step {
    /// Position in the workflow's `steps`.
    pub index: usize,
    pub id: String,
    /// Exposed tool name.
    pub tool: String,
    /// Argument templates.
    pub arguments: Value,
    /// Direct dependencies (step indices).
    pub depends_on: Vec<usize>,
    /// Transitive dependencies: the steps whose outputs this step's templates may read.
    pub upstream: BTreeSet<usize>,
    pub when: Option<String>,
    pub timeout: Duration,
    pub on_error: OnError,
    /// Attempts after the first (only with `on_error = "retry"`).
    pub retries: u32,
    /// Wait before the first retry; doubles for each next one.
    pub backoff: Duration,
    /// Line of the step's `tool` key, and the key itself, for catalog errors.
    pub line: usize,
    pub key: String,
}

/// Every workflow of a config, by name.
#[derive(Debug, Clone, Default)]
pub struct Workflows {
    list: Arc<Vec<Arc<Workflow>>>,
    by_name: Arc<HashMap<String, usize>>,
}

impl Workflows {
    pub fn new(list: Vec<Arc<Workflow>>) -> Self {
        let by_name = list
            .iter()
            .enumerate()
            .map(|(i, w)| (w.name.clone(), i))
            .collect();
        Workflows {
            list: Arc::new(list),
            by_name: Arc::new(by_name),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Workflow>> {
        self.by_name.get(name).and_then(|i| self.list.get(*i))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Workflow>> {
        self.list.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Check every step's tool against a catalog the start-up probe read. A tool that is not
    /// there is an error when every backend answered the probe; when some did not, it may be
    /// theirs, so it is only returned as a warning. A workflow named like a tool is an error.
    pub fn check_catalog(
        &self,
        tools: &Merged,
        unprobed: &[String],
    ) -> Result<Vec<String>, ConfigError> {
        let mut warnings = Vec::new();
        for w in self.iter() {
            if tools.routes.contains_key(&w.name) {
                return Err(ConfigError::Invalid {
                    file: w.origin.file.clone(),
                    line: w.origin.line,
                    key: "name".into(),
                    message: format!(
                        "workflow `{}` has the name of a backend tool; choose another name",
                        w.name
                    ),
                });
            }
            for st in &w.steps {
                if tools.routes.contains_key(&st.tool) || self.get(&st.tool).is_some() {
                    if self.get(&st.tool).is_some() {
                        return Err(ConfigError::Invalid {
                            file: w.origin.file.clone(),
                            line: st.line,
                            key: st.key.clone(),
                            message: format!(
                                "`{}` is a workflow; a step calls a backend tool (inline the steps instead)",
                                st.tool
                            ),
                        });
                    }
                    continue;
                }
                if unprobed.is_empty() {
                    let mut near: Vec<&String> = tools
                        .routes
                        .keys()
                        .filter(|k| similar_name(k, &st.tool))
                        .collect();
                    near.sort();
                    let hint = match near.first() {
                        Some(n) => format!("; did you mean `{n}`?"),
                        None => "; `portcullis check` lists each backend's tools".into(),
                    };
                    return Err(ConfigError::Invalid {
                        file: w.origin.file.clone(),
                        line: st.line,
                        key: st.key.clone(),
                        message: format!(
                            "unknown tool `{}` in step `{}` of workflow `{}`: no backend offers it{hint}",
                            st.tool, st.id, w.name
                        ),
                    });
                }
                warnings.push(format!(
                    "{}:{}: workflow `{}` step `{}`: tool `{}` was not found; backends not probed: {}",
                    w.origin.file,
                    st.line,
                    w.name,
                    st.id,
                    st.tool,
                    unprobed.join(", ")
                ));
            }
        }
        Ok(warnings)
    }
}

/// Names that differ only by the backend prefix or case: `echo` for `demo__echo`.
fn similar_name(candidate: &str, wanted: &str) -> bool {
    candidate.eq_ignore_ascii_case(wanted)
        || candidate.ends_with(&format!("__{wanted}"))
        || wanted.ends_with(&format!("__{candidate}"))
}

impl Workflow {
    /// The workflow as a tool in `tools/list`.
    pub fn tool_definition(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), Value::String(self.name.clone()));
        if let Some(t) = &self.title {
            m.insert("title".into(), Value::String(t.clone()));
        }
        m.insert(
            "description".into(),
            Value::String(self.description.clone()),
        );
        m.insert("inputSchema".into(), self.input_schema.clone());
        Value::Object(m)
    }

    /// The distinct tools its steps call.
    pub fn tools(&self) -> BTreeSet<&str> {
        self.steps.iter().map(|s| s.tool.as_str()).collect()
    }

    /// A shallow check of the arguments against the input schema: an object, with every
    /// `required` property, and each property of the JSON type the schema names. (A full JSON
    /// Schema validator is the backends' job for their own tools; the workflow's inputs are
    /// only ever rendered into those tools' arguments, which the backends validate.)
    pub fn check_inputs(&self, args: &Value) -> Result<(), InputError> {
        let Some(obj) = args.as_object() else {
            return Err(InputError::NotObject);
        };
        let schema = &self.input_schema;
        if let Some(req) = schema.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    return Err(InputError::Missing(r.to_owned()));
                }
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, v) in obj {
            let Some(p) = props.and_then(|p| p.get(k)) else {
                if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
                    return Err(InputError::Unknown(k.clone()));
                }
                continue;
            };
            let ok = match p.get("type").and_then(Value::as_str) {
                Some("string") => v.is_string(),
                Some("integer") => v.is_i64() || v.is_u64(),
                Some("number") => v.is_number(),
                Some("boolean") => v.is_boolean(),
                Some("array") => v.is_array(),
                Some("object") => v.is_object(),
                Some("null") => v.is_null(),
                _ => true,
            };
            if !ok {
                return Err(InputError::Type {
                    argument: k.clone(),
                    expected: p.get("type").cloned().unwrap_or(Value::Null),
                });
            }
        }
        Ok(())
    }

    /// Inputs with schema defaults filled in for absent properties.
    pub fn with_defaults(&self, args: &Value) -> Value {
        let mut out = args.as_object().cloned().unwrap_or_default();
        if let Some(props) = self
            .input_schema
            .get("properties")
            .and_then(Value::as_object)
        {
            for (k, p) in props {
                if !out.contains_key(k) {
                    if let Some(d) = p.get("default") {
                        out.insert(k.clone(), d.clone());
                    }
                }
            }
        }
        Value::Object(out)
    }
}

/// The JSON summary of a run (for `structuredContent` and errors' `data`).
pub fn run_summary(w: &Workflow, run: &exec::Run) -> Value {
    let steps: Vec<Value> = run
        .steps
        .iter()
        .map(|r| {
            let mut s = json!({ "id": r.id, "tool": r.tool, "status": r.status.as_str(), "attempts": r.attempts });
            if let (Some(e), Some(o)) = (&r.error, s.as_object_mut()) {
                o.insert("error".into(), Value::String(e.clone()));
            }
            s
        })
        .collect();
    json!({ "workflow": w.name, "steps": steps })
}

impl Workflows {
    /// [`Workflows::check_catalog`] against what each backend listed (every tool it lists,
    /// quarantined ones included: a quarantined tool is known, and fails its step at run
    /// time); `None` for a backend that could not be listed. Returns warnings.
    pub fn check_listed<'a>(
        &self,
        namer: &crate::catalog::Namer,
        lists: impl IntoIterator<Item = (&'a str, Option<&'a [Value]>)>,
    ) -> Result<Vec<String>, ConfigError> {
        if self.is_empty() {
            return Ok(Vec::new());
        }
        let mut listed = Vec::new();
        let mut unprobed = Vec::new();
        for (backend, tools) in lists {
            match tools {
                Some(t) => listed.push((backend.to_owned(), Arc::new(t.to_vec()))),
                None => unprobed.push(backend.to_owned()),
            }
        }
        let (merged, _) = namer.merge(&listed);
        self.check_catalog(&merged, &unprobed)
    }
}
