//! Workflows run as one tool call: the executor (`workflow::exec`) calls each step's tool through
//! `named_call` — the full guard chain, as the calling principal — under a gateway-made request
//! id; what steps' backends send the client (progress, logging, elicitation) goes to the
//! workflow's own stream, and the response comes last. A client's `notifications/cancelled` for
//! the workflow's id stops it and cancels its running steps at their backends.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::meta::text_result;
use super::{CALL_STREAM_CAPACITY, Call, Context, ListKind, Next, Reply, RouteError, Router, lock};
use crate::audit::{Decision, Kind};
use crate::protocol::{self, code, id_key};
use crate::workflow::exec::{self, Called, Status, StepReport};
use crate::workflow::{Step, Workflow};

/// Ids of the gateway's own `tools/call`s for workflow steps; distinct from any client id in
/// form (`portcullis-wf-N`) and unique in the process.
static NEXT_STEP_ID: AtomicU64 = AtomicU64::new(1);

impl Router {
    /// Run a workflow on an SSE stream: what steps' backends send the client (progress,
    /// logging, elicitation) reaches it during the run; the response comes last.
    pub(super) fn run_workflow(
        self: &Arc<Self>,
        cx: &Context,
        id: Value,
        w: Arc<Workflow>,
        args: Value,
    ) -> Reply {
        if let Err(e) = w.check_inputs(&args) {
            return RouteError::InvalidArguments(format!("workflow `{}`: {e}", w.name)).reply(id);
        }
        let inputs = w.with_defaults(&args);
        let key = id_key(&id);
        let (tx, rx) = mpsc::channel(CALL_STREAM_CAPACITY);
        let cancel = tokio_util::sync::CancellationToken::new();
        lock(&cx.view.workflows).insert(key.clone(), cancel.clone());
        let router = self.clone();
        let cx = cx.clone();
        Reply::Call(Call::new(
            async move {
                let running = std::sync::Mutex::new(HashSet::new());
                // `notifications/cancelled` for the workflow's id stops it: the run is dropped
                // (no further step starts) and the steps still running are cancelled below.
                let done = tokio::select! {
                    biased;
                    () = cancel.cancelled() => None,
                    resp = router.execute(&cx, &id, &tx, &w, &inputs, &running) => Some(resp),
                };
                let resp = match done {
                    Some(resp) => resp,
                    None => router.workflow_cancelled(&cx, &id, &w, &running).await,
                };
                lock(&cx.view.workflows).remove(&key);
                // The workflow's stream ends with the run.
                drop(tx);
                resp
            },
            rx,
        ))
    }

    /// A workflow the client cancelled: its running steps are cancelled at their backends, the
    /// end is recorded, and the client gets an error it will ignore (the spec lets a cancelled
    /// request go unanswered; an HTTP response must still end).
    async fn workflow_cancelled(
        &self,
        cx: &Context,
        id: &Value,
        w: &Workflow,
        running: &std::sync::Mutex<HashSet<String>>,
    ) -> Value {
        let steps: Vec<String> = lock(running).drain().collect();
        for sid in &steps {
            let mut p = Map::new();
            p.insert("requestId".into(), Value::String(sid.clone()));
            p.insert(
                "reason".into(),
                Value::String(format!("workflow `{}` was cancelled by the client", w.name)),
            );
            self.cancel(cx, &id_key(&Value::String(sid.clone())), Some(&p))
                .await;
        }
        let mut rec = cx.caller().record(Kind::Workflow, Decision::Info);
        rec.request_id = Some(id.to_string());
        rec.method = Some("tools/call".into());
        rec.tool = Some(w.name.clone());
        rec.reason = Some("cancelled by the client".into());
        rec.extra = Some(json!({ "phase": "end", "cancelled": true, "running": steps }));
        self.guard.event(rec);
        protocol::error_response(
            id.clone(),
            code::REQUEST_CANCELLED,
            format!("workflow `{}` was cancelled by the client", w.name),
            Some(json!({ "workflow": w.name, "cancelled_steps": steps })),
        )
    }

    async fn execute(
        self: &Arc<Self>,
        cx: &Context,
        id: &Value,
        outer: &mpsc::Sender<Value>,
        w: &Workflow,
        inputs: &Value,
        running: &std::sync::Mutex<HashSet<String>>,
    ) -> Value {
        let started = Instant::now();
        let record = |decision: Decision| {
            let mut rec = cx.caller().record(Kind::Workflow, decision);
            rec.request_id = Some(id.to_string());
            rec.method = Some("tools/call".into());
            rec.tool = Some(w.name.clone());
            rec.args = Some(inputs.clone());
            rec
        };
        let mut rec = record(Decision::Info);
        rec.reason = Some("started".into());
        rec.extra = Some(json!({ "phase": "start", "steps": w.steps.len() }));
        self.guard.event(rec);

        let runner = StepRunner {
            router: self,
            cx,
            running,
            outer,
            workflow_request: id.to_string(),
            last_ids: std::sync::Mutex::new(Default::default()),
        };
        let env = crate::workflow::template::environment();
        let run = exec::run(w, &env, inputs, &runner).await;
        let summary = crate::workflow::run_summary(w, &run);

        let (decision, reason) = match &run.failure {
            None => (Decision::Allow, "completed".to_owned()),
            Some(f) if f.refusal.is_some() => (Decision::Deny, f.message.clone()),
            Some(f) => (Decision::Error, f.message.clone()),
        };
        let mut rec = record(decision);
        rec.reason = Some(reason);
        rec.latency_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        let path: Vec<Value> = run
            .steps
            .iter()
            .map(|r| json!({ "step": r.id, "status": r.status.as_str(), "attempts": r.attempts }))
            .collect();
        rec.extra = Some(json!({ "phase": "end", "path": path }));
        self.guard.event(rec);

        match (run.failure, run.output) {
            (None, Some((text, structured))) => {
                protocol::result_response(id.clone(), text_result(text, structured, false))
            }
            (Some(f), _) => match f.refusal {
                // A refusal by the guard chain reaches the client as that refusal (same code),
                // naming the workflow and step.
                Some((code, message, data)) => {
                    let mut d = data
                        .and_then(|d| d.as_object().cloned())
                        .unwrap_or_default();
                    d.insert("workflow".into(), Value::String(w.name.clone()));
                    if let Some(s) = &f.step {
                        d.insert("step".into(), Value::String(s.clone()));
                    }
                    d.insert(
                        "steps".into(),
                        summary.get("steps").cloned().unwrap_or_default(),
                    );
                    protocol::error_response(
                        id.clone(),
                        code,
                        format!("{}; cause: {message}", f.message),
                        Some(Value::Object(d)),
                    )
                }
                None => protocol::result_response(
                    id.clone(),
                    text_result(f.message, Some(summary), true),
                ),
            },
            (None, None) => protocol::result_response(
                id.clone(),
                text_result(summary.to_string(), Some(summary), false),
            ),
        }
    }

    /// One `tools/call` of a workflow step through `named_call` (the guard chain), under a
    /// gateway-made request id; messages the backend sends during it go to the workflow's
    /// stream. Gives up (and tells the backend) after the step's timeout.
    async fn call_step(
        self: &Arc<Self>,
        cx: &Context,
        outer: &mpsc::Sender<Value>,
        step: &Step,
        arguments: &Value,
        running: &std::sync::Mutex<HashSet<String>>,
    ) -> (Called, String) {
        let sid = format!(
            "portcullis-wf-{}",
            NEXT_STEP_ID.fetch_add(1, Ordering::Relaxed)
        );
        // Left in the set if the workflow is cancelled while this runs (the future is then
        // dropped): the cancellation finds it there.
        lock(running).insert(sid.clone());
        let called = self.call_step_as(cx, &sid, outer, step, arguments).await;
        lock(running).remove(&sid);
        (called, sid)
    }

    async fn call_step_as(
        self: &Arc<Self>,
        cx: &Context,
        sid: &str,
        outer: &mpsc::Sender<Value>,
        step: &Step,
        arguments: &Value,
    ) -> Called {
        let sid = sid.to_owned();
        let sid_value = Value::String(sid.clone());
        let msg = json!({
            "jsonrpc": "2.0",
            "id": sid_value,
            "method": "tools/call",
            "params": { "name": step.tool, "arguments": arguments },
        });
        let deadline = tokio::time::Instant::now() + step.timeout;
        let reply = match tokio::time::timeout_at(
            deadline,
            self.named_call(cx, ListKind::Tools, msg),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => return Called::TimedOut,
        };
        let response = match reply {
            Reply::Json(v) => v,
            Reply::Call(mut call) => loop {
                match tokio::time::timeout_at(deadline, call.next()).await {
                    Ok(Some(Next::Response(m))) => break m,
                    Ok(Some(Next::Related(m))) => {
                        if let Err(e) = outer.try_send(m) {
                            cx.view.links.to_owner(e.into_inner());
                        }
                    }
                    Ok(None) => {
                        break RouteError::Internal("the step's call ended without a response")
                            .response(sid_value.clone());
                    }
                    Err(_) => {
                        let mut p = Map::new();
                        p.insert("requestId".into(), sid_value.clone());
                        p.insert(
                            "reason".into(),
                            Value::String("workflow step timed out".into()),
                        );
                        self.cancel(cx, &id_key(&sid_value), Some(&p)).await;
                        return Called::TimedOut;
                    }
                }
            },
        };
        if let Some(result) = response.get("result") {
            Called::Result(result.clone())
        } else {
            let e = response.get("error");
            Called::Error {
                code: e
                    .and_then(|e| e.get("code"))
                    .and_then(Value::as_i64)
                    .unwrap_or(code::INTERNAL_ERROR),
                message: e
                    .and_then(|e| e.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or("the call failed")
                    .to_owned(),
                data: e.and_then(|e| e.get("data")).cloned(),
            }
        }
    }
}

/// The executor's way to call tools: through the caller's guard chain.
struct StepRunner<'s> {
    router: &'s Arc<Router>,
    cx: &'s Context,
    /// Request ids of the steps in flight, for cancelling the workflow.
    running: &'s std::sync::Mutex<HashSet<String>>,
    /// The workflow's own stream.
    outer: &'s mpsc::Sender<Value>,
    workflow_request: String,
    /// Step index → request id of its latest attempt (ties step records to call records).
    last_ids: std::sync::Mutex<std::collections::HashMap<usize, Vec<String>>>,
}

impl exec::Runner for StepRunner<'_> {
    fn call<'a>(
        &'a self,
        step: &'a Step,
        arguments: &'a Value,
        _attempt: u32,
    ) -> BoxFuture<'a, Called> {
        Box::pin(async move {
            let (called, sid) = self
                .router
                .call_step(self.cx, self.outer, step, arguments, self.running)
                .await;
            lock(&self.last_ids)
                .entry(step.index)
                .or_default()
                .push(sid);
            called
        })
    }

    fn finished(&self, w: &Workflow, report: &StepReport) {
        let decision = match report.status {
            Status::Ok => Decision::Allow,
            Status::Denied => Decision::Deny,
            Status::Failed => Decision::Error,
            Status::Skipped | Status::NotRun => Decision::Info,
        };
        let mut rec = self.cx.caller().record(Kind::WorkflowStep, decision);
        rec.request_id = Some(self.workflow_request.clone());
        rec.method = Some("tools/call".into());
        rec.tool = Some(report.tool.clone());
        // Digested into `args_sha256` (kept only with `include_args`): the step's inputs.
        rec.args = report.arguments.clone();
        rec.latency_ms = Some(report.elapsed.as_secs_f64() * 1000.0);
        rec.reason = Some(match (&report.status, &report.error) {
            (Status::Ok, _) => "ok".into(),
            (Status::Skipped, _) => "skipped: its condition was false".into(),
            (Status::NotRun, _) => "not run: the workflow stopped first".into(),
            (_, Some(e)) => e.clone(),
            (_, None) => report.status.as_str().into(),
        });
        let calls = lock(&self.last_ids)
            .get(&report.index)
            .cloned()
            .unwrap_or_default();
        rec.extra = Some(json!({
            "workflow": w.name,
            "step": report.id,
            "status": report.status.as_str(),
            "attempts": report.attempts,
            "calls": calls,
        }));
        self.router.guard.event(rec);
    }
}
