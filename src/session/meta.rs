//! Session glue for meta-tools and workflows: what `tools/list` shows in meta mode, the
//! `find_tool` index of this session's catalog, and calls of `find_tool`, `call_tool` and
//! workflows.
//!
//! Nothing here decides who may call what, and nothing reaches a backend directly:
//! - the index is filtered by the same `visible_items` decisions as `tools/list` (policy, and
//!   integrity once it hides quarantined tools there), so `find_tool` never returns a tool the
//!   list would hide;
//! - `call_tool` and every workflow step become a `tools/call` of the real tool under its
//!   exposed name, sent down `named_call`: the full guard chain (pins, Cedar, limits,
//!   credentials, audit) as the calling principal. There is no side door.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::call::{Call, Next};
use super::router::{ListKind, Reply};
use super::{Session, lock};
use crate::audit::{Decision, Kind};
use crate::catalog::Merged;
use crate::meta::index::{DocInput, Index};
use crate::meta::{CALL_TOOL, FIND_TOOL};
use crate::protocol::{self, code, id_key};
use crate::workflow::exec::{self, Called, Status, StepReport};
use crate::workflow::{Step, Workflow};

/// Longest `find_tool` query accepted, in bytes.
const MAX_QUERY_BYTES: usize = 2048;

/// Ids of the gateway's own `tools/call`s for workflow steps; distinct from any client id in
/// form (`portcullis-wf-N`) and unique in the process.
static NEXT_STEP_ID: AtomicU64 = AtomicU64::new(1);

/// The `find_tool` index of one version of this session's tool catalog.
#[derive(Clone)]
pub(super) struct Cached {
    merged: Arc<Merged>,
    index: Arc<Index>,
    /// Definitions in index order: the catalog's tools, then the workflows.
    defs: Arc<Vec<Value>>,
}

fn tool_name(msg: &Value) -> Option<&str> {
    protocol::params(msg)
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
}

fn text_result(text: String, structured: Option<Value>, is_error: bool) -> Value {
    let mut r = Map::new();
    r.insert("content".into(), json!([{ "type": "text", "text": text }]));
    if let Some(s) = structured {
        r.insert("structuredContent".into(), s);
    }
    if is_error {
        r.insert("isError".into(), Value::Bool(true));
    }
    Value::Object(r)
}

impl Session {
    /// Whether this session lists the meta-tools instead of the catalog.
    fn meta_mode(&self) -> bool {
        self.shared.meta.applies_to(&self.principal)
    }

    /// Whether a `tools/call` is for a meta-tool or a workflow (handled here) rather than a
    /// backend tool.
    pub(super) fn owns_call(&self, msg: &Value) -> bool {
        let Some(name) = tool_name(msg) else {
            return false;
        };
        self.shared.workflows.get(name).is_some()
            || ((name == FIND_TOOL || name == CALL_TOOL) && self.meta_mode())
    }

    /// The catalog, and the exposed names of the tools this principal may see.
    async fn visible_tools(self: &Arc<Self>) -> (Arc<Merged>, HashSet<String>) {
        let merged = self.merged(ListKind::Tools).await;
        let names = self
            .visible_items(ListKind::Tools, &merged)
            .into_iter()
            .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect();
        (merged, names)
    }

    /// Workflows whose every step calls a tool this principal may see: like a tool the policy
    /// can never allow, a workflow that could never complete is not listed.
    fn visible_workflows(&self, visible: &HashSet<String>) -> Vec<Arc<Workflow>> {
        self.shared
            .workflows
            .iter()
            .filter(|w| w.tools().iter().all(|t| visible.contains(*t)))
            .cloned()
            .collect()
    }

    /// `tools/list`: the meta-tools in meta mode; otherwise the catalog, with the workflows
    /// this principal may run after the last page.
    pub(super) async fn tools_list(self: &Arc<Self>, msg: &Value) -> Value {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        if !self.meta_mode() {
            let mut resp = self.list(ListKind::Tools, msg).await;
            if self.shared.workflows.is_empty() {
                return resp;
            }
            let last_page = resp
                .get("result")
                .is_some_and(|r| r.get("nextCursor").is_none());
            if last_page {
                let (_, visible) = self.visible_tools().await;
                let extra: Vec<Value> = self
                    .visible_workflows(&visible)
                    .iter()
                    .map(|w| w.tool_definition())
                    .collect();
                if let Some(tools) = resp
                    .get_mut("result")
                    .and_then(|r| r.get_mut("tools"))
                    .and_then(Value::as_array_mut)
                {
                    tools.extend(extra);
                }
            }
            return resp;
        }
        // Meta mode: one short page; a cursor cannot be one we issued.
        if protocol::params(msg)
            .and_then(|p| p.get("cursor"))
            .is_some_and(|c| !c.is_null())
        {
            return protocol::error_response(
                id,
                code::INVALID_PARAMS,
                "invalid or expired `cursor`",
                None,
            );
        }
        let (merged, visible) = self.visible_tools().await;
        let mut tools = self.shared.meta.meta_tools();
        let workflows = self.visible_workflows(&visible);
        for name in self.shared.meta.always_visible() {
            if visible.contains(name) {
                if let Some(t) = merged
                    .items
                    .iter()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
                {
                    tools.push(t.clone());
                }
            } else if let Some(w) = workflows.iter().find(|w| &w.name == name) {
                tools.push(w.tool_definition());
            }
        }
        let mut rec =
            crate::guard::Guard::caller_record(&self.caller(), Kind::List, Decision::Allow);
        rec.request_id = Some(id.to_string());
        rec.method = Some("tools/list".into());
        rec.extra = Some(json!({
            "meta": true,
            "listed": tools.len(),
            "searchable": visible.len() + workflows.len(),
        }));
        self.shared.guard.event(rec);
        protocol::result_response(id, json!({ "tools": tools }))
    }

    /// A `tools/call` of `find_tool`, `call_tool` or a workflow.
    pub(super) async fn meta_call(self: &Arc<Self>, msg: Value) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let name = tool_name(&msg).unwrap_or("").to_owned();
        let arguments = protocol::params(&msg)
            .and_then(|p| p.get("arguments"))
            .cloned()
            .unwrap_or_else(|| json!({}));
        if let Some(w) = self.shared.workflows.get(&name).cloned() {
            return self.run_workflow(id, w, arguments);
        }
        match name.as_str() {
            FIND_TOOL => Reply::Json(self.find_tool(id, &arguments).await),
            _ => self.call_tool(id, &msg, &arguments).await,
        }
    }

    /// This session's index, rebuilt when its catalog changed.
    fn index_for(&self, merged: &Arc<Merged>) -> Cached {
        if let Some(c) = lock(&self.meta_index).as_ref() {
            if Arc::ptr_eq(&c.merged, merged) {
                return c.clone();
            }
        }
        let mut defs: Vec<Value> = merged.items.clone();
        defs.extend(self.shared.workflows.iter().map(|w| w.tool_definition()));
        let docs = defs.iter().filter_map(|d| {
            let name = d.get("name").and_then(Value::as_str)?;
            Some(DocInput {
                name,
                backend: merged.routes.get(name).map(|r| r.backend.as_str()),
                definition: d,
            })
        });
        let index = Arc::new(Index::build(self.shared.meta.lexicon(), docs));
        let cached = Cached {
            merged: merged.clone(),
            index,
            defs: Arc::new(defs),
        };
        *lock(&self.meta_index) = Some(cached.clone());
        cached
    }

    async fn find_tool(self: &Arc<Self>, id: Value, args: &Value) -> Value {
        let Some(query) = args.get("query").and_then(Value::as_str) else {
            return protocol::error_response(
                id,
                code::INVALID_PARAMS,
                "`find_tool` needs `query`: the task in plain words",
                None,
            );
        };
        if query.trim().is_empty() || query.len() > MAX_QUERY_BYTES {
            return protocol::error_response(
                id,
                code::INVALID_PARAMS,
                format!("`query` must be 1 to {MAX_QUERY_BYTES} bytes of text"),
                None,
            );
        }
        let top_k = match args.get("top_k") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(k) if k >= 1 => Some(k),
                _ => {
                    return protocol::error_response(
                        id,
                        code::INVALID_PARAMS,
                        "`top_k` must be a positive integer",
                        None,
                    );
                }
            },
        };
        let started = Instant::now();
        let (merged, visible) = self.visible_tools().await;
        let workflows: HashSet<String> = self
            .visible_workflows(&visible)
            .iter()
            .map(|w| w.name.clone())
            .collect();
        let cached = self.index_for(&merged);
        // INVARIANT: only what `tools/list` would show this principal is admitted.
        let allowed: Vec<bool> = (0..cached.index.len())
            .map(|d| {
                u32::try_from(d)
                    .ok()
                    .and_then(|d| cached.index.name(d))
                    .is_some_and(|n| visible.contains(n) || workflows.contains(n))
            })
            .collect();
        let k = self.shared.meta.top_k(top_k);
        let hits = self
            .shared
            .meta
            .rank(&cached.index, &cached.defs, query, k, &allowed)
            .await;
        let tools: Vec<Value> = hits
            .iter()
            .filter_map(|h| cached.defs.get(h.doc as usize).cloned())
            .collect();
        let names: Vec<String> = tools
            .iter()
            .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let mut rec =
            crate::guard::Guard::caller_record(&self.caller(), Kind::List, Decision::Allow);
        rec.request_id = Some(id.to_string());
        rec.method = Some("tools/call".into());
        rec.tool = Some(FIND_TOOL.into());
        rec.args = Some(args.clone());
        rec.latency_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        rec.extra =
            Some(json!({ "found": names, "searched": allowed.iter().filter(|a| **a).count() }));
        self.shared.guard.event(rec);
        let text = if tools.is_empty() {
            format!("No tool matches `{query}`. Try other words for the task, or fewer of them.")
        } else {
            json!({ "tools": tools }).to_string()
        };
        protocol::result_response(
            id,
            text_result(text, Some(json!({ "tools": tools })), false),
        )
    }

    async fn call_tool(self: &Arc<Self>, id: Value, msg: &Value, args: &Value) -> Reply {
        let Some(name) = args.get("name").and_then(Value::as_str) else {
            return Reply::Json(protocol::error_response(
                id,
                code::INVALID_PARAMS,
                "`call_tool` needs `name`: a tool name from `find_tool`",
                None,
            ));
        };
        if name == FIND_TOOL || name == CALL_TOOL {
            return Reply::Json(protocol::error_response(
                id,
                code::INVALID_PARAMS,
                format!("call `{name}` directly, not through `call_tool`"),
                None,
            ));
        }
        let arguments = match args.get("arguments") {
            None | Some(Value::Null) => json!({}),
            Some(a @ Value::Object(_)) => a.clone(),
            Some(_) => {
                return Reply::Json(protocol::error_response(
                    id,
                    code::INVALID_PARAMS,
                    "`arguments` must be an object",
                    None,
                ));
            }
        };
        if let Some(w) = self.shared.workflows.get(name).cloned() {
            return self.run_workflow(id, w, arguments);
        }
        // The real call, under the client's own request id (so cancellation and progress work
        // as for a direct call) and the real tool's exposed name.
        let mut params = Map::new();
        params.insert("name".into(), Value::String(name.to_owned()));
        params.insert("arguments".into(), arguments);
        if let Some(meta) = protocol::params(msg).and_then(|p| p.get("_meta")) {
            params.insert("_meta".into(), meta.clone());
        }
        let inner = json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params });
        self.named_call(ListKind::Tools, inner).await
    }

    /// Run a workflow on an SSE stream: what steps' backends send the client (progress,
    /// logging, elicitation) reaches it during the run; the response comes last.
    fn run_workflow(self: &Arc<Self>, id: Value, w: Arc<Workflow>, args: Value) -> Reply {
        if let Err(e) = w.check_inputs(&args) {
            return Reply::Json(protocol::error_response(
                id,
                code::INVALID_PARAMS,
                format!("workflow `{}`: {e}", w.name),
                None,
            ));
        }
        let inputs = w.with_defaults(&args);
        let key = id_key(&id);
        let rx = self.open_request_stream(&key);
        let cancel = tokio_util::sync::CancellationToken::new();
        lock(&self.workflows).insert(key.clone(), cancel.clone());
        let session = self.clone();
        Reply::Call(Call::new(
            async move {
                let running = std::sync::Mutex::new(HashSet::new());
                // `notifications/cancelled` for the workflow's id stops it: the run is dropped
                // (no further step starts) and the steps still running are cancelled below.
                let done = tokio::select! {
                    biased;
                    () = cancel.cancelled() => None,
                    resp = session.execute(&id, &key, &w, &inputs, &running) => Some(resp),
                };
                let resp = match done {
                    Some(resp) => resp,
                    None => session.workflow_cancelled(&id, &w, &running).await,
                };
                lock(&session.workflows).remove(&key);
                session.close_request_stream(&key);
                resp
            },
            rx,
        ))
    }

    /// A workflow the client cancelled: its running steps are cancelled at their backends, the
    /// end is recorded, and the client gets an error it will ignore (the spec lets a cancelled
    /// request go unanswered; an HTTP response must still end).
    async fn workflow_cancelled(
        self: &Arc<Self>,
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
            self.cancel_request(Some(&p)).await;
        }
        let mut rec =
            crate::guard::Guard::caller_record(&self.caller(), Kind::Workflow, Decision::Info);
        rec.request_id = Some(id.to_string());
        rec.method = Some("tools/call".into());
        rec.tool = Some(w.name.clone());
        rec.reason = Some("cancelled by the client".into());
        rec.extra = Some(json!({ "phase": "end", "cancelled": true, "running": steps }));
        self.shared.guard.event(rec);
        protocol::error_response(
            id.clone(),
            code::REQUEST_CANCELLED,
            format!("workflow `{}` was cancelled by the client", w.name),
            Some(json!({ "workflow": w.name, "cancelled_steps": steps })),
        )
    }

    async fn execute(
        self: &Arc<Self>,
        id: &Value,
        key: &str,
        w: &Workflow,
        inputs: &Value,
        running: &std::sync::Mutex<HashSet<String>>,
    ) -> Value {
        let started = Instant::now();
        let record = |decision: Decision| {
            let mut rec =
                crate::guard::Guard::caller_record(&self.caller(), Kind::Workflow, decision);
            rec.request_id = Some(id.to_string());
            rec.method = Some("tools/call".into());
            rec.tool = Some(w.name.clone());
            rec.args = Some(inputs.clone());
            rec
        };
        let mut rec = record(Decision::Info);
        rec.reason = Some("started".into());
        rec.extra = Some(json!({ "phase": "start", "steps": w.steps.len() }));
        self.shared.guard.event(rec);

        let runner = StepRunner {
            session: self,
            running,
            outer_key: key.to_owned(),
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
        self.shared.guard.event(rec);

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
        outer_key: &str,
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
        let called = self.call_step_as(&sid, outer_key, step, arguments).await;
        lock(running).remove(&sid);
        (called, sid)
    }

    async fn call_step_as(
        self: &Arc<Self>,
        sid: &str,
        outer_key: &str,
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
        let reply =
            match tokio::time::timeout_at(deadline, self.named_call(ListKind::Tools, msg)).await {
                Ok(r) => r,
                Err(_) => return Called::TimedOut,
            };
        let response = match reply {
            Reply::Json(v) => v,
            Reply::Call(mut call) => loop {
                match tokio::time::timeout_at(deadline, call.next()).await {
                    Ok(Some(Next::Response(m))) => break m,
                    Ok(Some(Next::Related(m))) => self.deliver(m, Some(outer_key)),
                    Ok(None) => {
                        break protocol::error_response(
                            sid_value.clone(),
                            code::INTERNAL_ERROR,
                            "the step's call ended without a response",
                            None,
                        );
                    }
                    Err(_) => {
                        let mut p = Map::new();
                        p.insert("requestId".into(), sid_value.clone());
                        p.insert(
                            "reason".into(),
                            Value::String("workflow step timed out".into()),
                        );
                        self.cancel_request(Some(&p)).await;
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

/// The executor's way to call tools: through this session's guard chain.
struct StepRunner<'s> {
    session: &'s Arc<Session>,
    /// Request ids of the steps in flight, for cancelling the workflow.
    running: &'s std::sync::Mutex<HashSet<String>>,
    outer_key: String,
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
                .session
                .call_step(&self.outer_key, step, arguments, self.running)
                .await;
            lock(&self.last_ids)
                .entry(step.index)
                .or_default()
                .push(sid);
            called
        })
    }

    fn finished(&self, w: &Workflow, report: &StepReport) {
        let s = self.session;
        let decision = match report.status {
            Status::Ok => Decision::Allow,
            Status::Denied => Decision::Deny,
            Status::Failed => Decision::Error,
            Status::Skipped | Status::NotRun => Decision::Info,
        };
        let mut rec = crate::guard::Guard::caller_record(&s.caller(), Kind::WorkflowStep, decision);
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
        s.shared.guard.event(rec);
    }
}
