//! Running a workflow: steps start as soon as their dependencies have finished, in definition
//! order, at most `max_parallel` at once; conditions and argument templates are evaluated just
//! before a step starts, against the workflow's inputs and the outputs of its upstream steps
//! only. Given the same inputs and the same tool results, the same steps run with the same
//! arguments: the path is deterministic even though timing is not.
//!
//! The executor does not call tools itself: a [`Runner`] does (the session, through the full
//! guard chain), so this module cannot reach a backend by any other way.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use minijinja::Environment;
use serde_json::{Map, Value, json};

use super::template;
use super::{OnError, Step, Workflow};
use crate::guard::code as guard_code;

/// Longest wait between two retries.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What one `tools/call` of a step came back with.
#[derive(Debug, Clone)]
pub enum Called {
    /// A `tools/call` result; a failure when `isError` is true.
    Result(Value),
    /// A JSON-RPC error (a refusal by the guard chain, an unknown or quarantined tool, an
    /// unavailable backend).
    Error {
        code: i64,
        message: String,
        data: Option<Value>,
    },
    /// No answer within the step's `timeout_secs`.
    TimedOut,
}

/// Calls tools for the executor and hears about finished steps (for the audit trail).
pub trait Runner: Sync {
    /// Call `step.tool` with `arguments`; must give up after `step.timeout`.
    fn call<'a>(
        &'a self,
        step: &'a Step,
        arguments: &'a Value,
        attempt: u32,
    ) -> BoxFuture<'a, Called>;
    /// A step reached its final state (including skipped and not run).
    fn finished(&self, workflow: &Workflow, report: &StepReport);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Failed after every attempt (tool error, unknown or quarantined tool, timeout, backend).
    Failed,
    /// Refused by the guard chain's policy or audit stage: always stops the workflow.
    Denied,
    /// Its `when` condition was false.
    Skipped,
    /// The workflow stopped before it could start.
    NotRun,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "error",
            Status::Denied => "denied",
            Status::Skipped => "skipped",
            Status::NotRun => "not_run",
        }
    }
}

#[derive(Debug, Clone)]
pub struct StepReport {
    pub index: usize,
    pub id: String,
    pub tool: String,
    pub status: Status,
    pub attempts: u32,
    /// The rendered arguments (absent when the step never started).
    pub arguments: Option<Value>,
    /// The tool's result (also for `isError` results).
    pub result: Option<Value>,
    pub error: Option<String>,
    /// The JSON-RPC error of the last attempt, when it was one.
    pub refusal: Option<(i64, String, Option<Value>)>,
    pub elapsed: Duration,
}

impl StepReport {
    fn new(index: usize, step: &Step, status: Status) -> Self {
        StepReport {
            index,
            id: step.id.clone(),
            tool: step.tool.clone(),
            status,
            attempts: 0,
            arguments: None,
            result: None,
            error: None,
            refusal: None,
            elapsed: Duration::ZERO,
        }
    }

    /// What templates of downstream steps and the output see as `steps.<id>`.
    pub fn view(&self) -> Value {
        let text = self.result.as_ref().map(result_text).unwrap_or_default();
        let json = self
            .result
            .as_ref()
            .map(|r| result_json(r, &text))
            .unwrap_or(Value::Null);
        let mut m = Map::new();
        m.insert("status".into(), Value::String(self.status.as_str().into()));
        m.insert("text".into(), Value::String(text));
        m.insert("json".into(), json);
        m.insert("result".into(), self.result.clone().unwrap_or(Value::Null));
        m.insert(
            "error".into(),
            self.error.clone().map(Value::String).unwrap_or(Value::Null),
        );
        m.insert("attempts".into(), Value::from(self.attempts));
        Value::Object(m)
    }
}

/// Why a workflow stopped.
#[derive(Debug, Clone)]
pub struct Failure {
    pub step: Option<String>,
    pub message: String,
    /// The guard's JSON-RPC error, when a step was refused (the workflow answers with it).
    pub refusal: Option<(i64, String, Option<Value>)>,
}

#[derive(Debug, Clone)]
pub struct Run {
    pub steps: Vec<StepReport>,
    pub failure: Option<Failure>,
    /// The rendered output: text, and the JSON value when the template was one expression
    /// giving an object.
    pub output: Option<(String, Option<Value>)>,
}

/// The text content of a `tools/call` result, text parts joined by newlines.
pub fn result_text(result: &Value) -> String {
    result
        .get("content")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// `structuredContent`, else the text parsed as JSON, else null.
fn result_json(result: &Value, text: &str) -> Value {
    if let Some(s) = result.get("structuredContent") {
        return s.clone();
    }
    serde_json::from_str(text.trim()).unwrap_or(Value::Null)
}

enum State {
    Pending,
    Running,
    Done(Box<StepReport>),
}

/// Run `w` with `inputs` (already checked against its input schema).
pub async fn run(w: &Workflow, env: &Environment<'_>, inputs: &Value, runner: &dyn Runner) -> Run {
    let deadline = tokio::time::Instant::now() + w.timeout;
    let mut state: Vec<State> = w.steps.iter().map(|_| State::Pending).collect();
    let mut running: FuturesUnordered<BoxFuture<'_, StepReport>> = FuturesUnordered::new();
    let mut failure: Option<Failure> = None;
    loop {
        // Start (or skip) every ready step, in definition order, within the parallelism bound.
        // Skipping a step can make others ready, so repeat until nothing changes.
        let mut changed = true;
        while changed && failure.is_none() {
            changed = false;
            for (i, step) in w.steps.iter().enumerate() {
                if running.len() >= w.max_parallel {
                    break;
                }
                if !matches!(state.get(i), Some(State::Pending)) {
                    continue;
                }
                let ready = step
                    .depends_on
                    .iter()
                    .all(|j| matches!(state.get(*j), Some(State::Done(_))));
                if !ready {
                    continue;
                }
                let ctx = context(inputs, &step.upstream, &state, w);
                let mut report = StepReport::new(i, step, Status::Skipped);
                changed = true;
                match start(env, step, &ctx) {
                    Start::Run(arguments) => {
                        set(&mut state, i, State::Running);
                        running.push(Box::pin(attempts(i, step, arguments, runner)));
                    }
                    Start::Skip => {
                        runner.finished(w, &report);
                        set(&mut state, i, State::Done(Box::new(report)));
                    }
                    Start::Fail(error) => {
                        report.status = Status::Failed;
                        report.error = Some(error);
                        failure = finish_failed(w, step, &mut report, runner);
                        set(&mut state, i, State::Done(Box::new(report)));
                        if failure.is_some() {
                            break;
                        }
                    }
                }
            }
        }
        if running.is_empty() {
            break;
        }
        let next = match tokio::time::timeout_at(deadline, running.next()).await {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(_) => {
                let message = format!(
                    "workflow `{}` did not finish within its time limit of {} s",
                    w.name,
                    w.timeout.as_secs()
                );
                for (i, st) in state.iter_mut().enumerate() {
                    if matches!(st, State::Running) {
                        if let Some(step) = w.steps.get(i) {
                            let mut r = StepReport::new(i, step, Status::Failed);
                            r.error = Some("stopped: the workflow's time limit ran out".into());
                            runner.finished(w, &r);
                            *st = State::Done(Box::new(r));
                        }
                    }
                }
                failure.get_or_insert(Failure {
                    step: None,
                    message,
                    refusal: None,
                });
                break;
            }
        };
        let i = next.index;
        let mut report = next;
        if let Some(step) = w.steps.get(i) {
            match report.status {
                Status::Denied => {
                    runner.finished(w, &report);
                    let reason = report.error.clone().unwrap_or_default();
                    failure.get_or_insert(Failure {
                        step: Some(step.id.clone()),
                        message: format!(
                            "workflow `{}` stopped at step `{}` (tool `{}`): {reason}",
                            w.name, step.id, step.tool
                        ),
                        refusal: report.refusal.clone(),
                    });
                }
                Status::Failed => {
                    let f = finish_failed(w, step, &mut report, runner);
                    if failure.is_none() {
                        failure = f;
                    }
                }
                _ => runner.finished(w, &report),
            }
        }
        set(&mut state, i, State::Done(Box::new(report)));
    }
    // Steps that never started.
    let mut steps = Vec::with_capacity(state.len());
    for (i, st) in state.into_iter().enumerate() {
        match st {
            State::Done(r) => steps.push(*r),
            State::Pending | State::Running => {
                if let Some(step) = w.steps.get(i) {
                    let r = StepReport::new(i, step, Status::NotRun);
                    runner.finished(w, &r);
                    steps.push(r);
                }
            }
        }
    }
    let output = if failure.is_none() {
        match render_output(w, env, inputs, &steps) {
            Ok(o) => Some(o),
            Err(e) => {
                failure = Some(Failure {
                    step: None,
                    message: format!("workflow `{}`: output template: {e}", w.name),
                    refusal: None,
                });
                None
            }
        }
    } else {
        None
    };
    Run {
        steps,
        failure,
        output,
    }
}

/// What a ready step does: run with its rendered arguments, be skipped (its condition is
/// false), or fail before it runs (its condition or arguments do not evaluate).
enum Start {
    Run(Value),
    Skip,
    Fail(String),
}

/// The step's condition, then its arguments, evaluated against `ctx`.
fn start(env: &Environment<'_>, step: &Step, ctx: &Value) -> Start {
    if let Some(cond) = &step.when {
        match template::condition(env, cond, ctx) {
            Ok(true) => {}
            Ok(false) => return Start::Skip,
            Err(e) => return Start::Fail(format!("condition `{cond}`: {e}")),
        }
    }
    match template::render_value(env, &step.arguments, ctx) {
        Ok(a) => Start::Run(a),
        Err(e) => Start::Fail(format!("arguments: {e}")),
    }
}

fn set(state: &mut [State], i: usize, s: State) {
    if let Some(slot) = state.get_mut(i) {
        *slot = s;
    }
}

/// Record a failed step; the workflow's failure unless the step says `continue`.
fn finish_failed(
    w: &Workflow,
    step: &Step,
    report: &mut StepReport,
    runner: &dyn Runner,
) -> Option<Failure> {
    runner.finished(w, report);
    if step.on_error == OnError::Continue {
        return None;
    }
    let tries = if report.attempts > 1 {
        format!(" after {} attempts", report.attempts)
    } else {
        String::new()
    };
    Some(Failure {
        step: Some(step.id.clone()),
        message: format!(
            "workflow `{}` stopped at step `{}` (tool `{}`){tries}: {}",
            w.name,
            step.id,
            step.tool,
            report.error.clone().unwrap_or_else(|| "failed".into())
        ),
        refusal: None,
    })
}

/// The template context of a step: the inputs and the views of its upstream steps.
fn context(inputs: &Value, upstream: &BTreeSet<usize>, state: &[State], w: &Workflow) -> Value {
    let mut steps = Map::new();
    for j in upstream {
        if let (Some(State::Done(r)), Some(s)) = (state.get(*j), w.steps.get(*j)) {
            steps.insert(s.id.clone(), r.view());
        }
    }
    json!({ "inputs": inputs, "steps": steps })
}

fn render_output(
    w: &Workflow,
    env: &Environment<'_>,
    inputs: &Value,
    steps: &[StepReport],
) -> Result<(String, Option<Value>), template::TemplateError> {
    let mut views = Map::new();
    for r in steps {
        views.insert(r.id.clone(), r.view());
    }
    let ctx = json!({ "inputs": inputs, "steps": views });
    let Some(tpl) = &w.output else {
        // Default: each step's status and output.
        let summary: Map<String, Value> = steps
            .iter()
            .map(|r| {
                let v = r.view();
                let out = match v.get("json") {
                    Some(j) if !j.is_null() => j.clone(),
                    _ => v.get("text").cloned().unwrap_or(Value::Null),
                };
                (
                    r.id.clone(),
                    json!({ "status": r.status.as_str(), "output": out }),
                )
            })
            .collect();
        let value = json!({ "workflow": w.name, "steps": summary });
        return Ok((value.to_string(), Some(value)));
    };
    let v = template::render_string(env, tpl, &ctx)?;
    Ok(match v {
        Value::String(s) => (s, None),
        Value::Object(_) => (v.to_string(), Some(v)),
        other => (other.to_string(), None),
    })
}

/// One step with its retries.
async fn attempts(i: usize, step: &Step, arguments: Value, runner: &dyn Runner) -> StepReport {
    let started = Instant::now();
    let mut report = StepReport::new(i, step, Status::Failed);
    let mut delay = step.backoff;
    loop {
        report.attempts += 1;
        let called = runner.call(step, &arguments, report.attempts).await;
        let retryable = match called {
            Called::Result(r) => {
                let is_error = r.get("isError").and_then(Value::as_bool) == Some(true);
                if is_error {
                    let text = result_text(&r);
                    report.error = Some(if text.is_empty() {
                        "the tool reported an error".into()
                    } else {
                        format!("the tool reported an error: {text}")
                    });
                    report.status = Status::Failed;
                } else {
                    report.status = Status::Ok;
                    report.error = None;
                }
                report.refusal = None;
                report.result = Some(r);
                !matches!(report.status, Status::Ok)
            }
            Called::Error {
                code,
                message,
                data,
            } => {
                report.result = None;
                report.error = Some(message.clone());
                report.refusal = Some((code, message, data));
                // A decision is not a transient failure: retrying cannot change it.
                if code == guard_code::DENIED || code == guard_code::AUDIT_UNAVAILABLE {
                    report.status = Status::Denied;
                    false
                } else {
                    report.status = Status::Failed;
                    true
                }
            }
            Called::TimedOut => {
                report.status = Status::Failed;
                report.result = None;
                report.refusal = None;
                report.error = Some(format!(
                    "no answer within the step's timeout of {} s",
                    step.timeout.as_secs()
                ));
                true
            }
        };
        if report.status == Status::Ok
            || !retryable
            || step.on_error != OnError::Retry
            || report.attempts > step.retries
        {
            break;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_BACKOFF);
    }
    report.arguments = Some(arguments);
    report.elapsed = started.elapsed();
    report
}
