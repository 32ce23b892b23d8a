//! The tasks extension (`io.modelcontextprotocol/tasks`, 2026-07-28 clients) through the
//! gateway: a backend's `CreateTaskResult` binds its `taskId` to the principal whose call
//! created it, the backend that holds it, and the tool (and arguments) it runs; `tasks/get`,
//! `tasks/update` and `tasks/cancel` find the binding, pass the guard chain as a call of that
//! tool with those arguments (same Cedar action, same limits, an audit record naming the
//! method), and go to that backend only.
//!
//! A task id is the backend's own (it is also the `Mcp-Name` header a client sends); the gateway
//! rewrites nothing in a task. An id bound to another principal answers exactly like an unknown
//! id (`-32602`), so a task's existence is not revealed; the audit record says which it was.
//! Bindings live as long as the task's `ttlMs` (capped) and are bounded per principal and in
//! total. They live in the replica that relayed the call (its upstream connection carries the
//! task); with `[cluster]` the task id is also registered to that replica in Redis
//! (`cluster::peers`), and a `tasks/*` that lands on another replica is handed to it
//! (`edge::forward`). A task id another replica registered first is refused like a local clash.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Context, ListKind, Reply, RouteError, Router, lock};
use crate::audit::{Decision, Kind};
use crate::guard::Ask;
use crate::policy::{Action, ResourceRef};
use crate::protocol;

/// The extension's id, in capabilities (`extensions`) on both sides.
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// How long a binding lives when the backend gave no `ttlMs`, and the most it may ask for.
const DEFAULT_TTL: Duration = Duration::from_secs(3600);
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
/// A `tasks/get` just before the task's own expiry must still find its backend.
const TTL_SLACK: Duration = Duration::from_secs(60);
/// Live bindings per principal (its oldest goes first) and in total (new ones are refused).
const MAX_PER_PRINCIPAL: usize = 1_000;
const MAX_TOTAL: usize = 100_000;
/// Longest task id the gateway keeps (a backend chose it; a client echoes it in a header).
const MAX_TASK_ID: usize = 256;

/// Where a task lives and whose it is.
#[derive(Debug, Clone)]
struct Binding {
    principal: String,
    backend: String,
    /// The exposed tool name the task runs, as the creating call named it.
    tool: String,
    arguments: Option<Value>,
    /// Order of binding (set by [`Tasks::bind`]): a principal over its cap loses its first.
    seq: u64,
    expires: Instant,
}

/// Every live task binding of this replica, by task id.
#[derive(Default)]
pub struct Tasks {
    bound: Mutex<HashMap<String, Binding>>,
    next: AtomicU64,
}

/// Why a task could not be bound (the call's result then becomes an error north).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error(
        "backend `{backend}` returned task id `{task}`, which is already bound to another call"
    )]
    Taken { task: String, backend: String },
    #[error("backend `{backend}` returned a task id of more than {MAX_TASK_ID} characters")]
    TooLong { backend: String },
    #[error("the gateway holds {MAX_TOTAL} live tasks; try again when some have expired")]
    Full,
}

impl Tasks {
    /// Bind `task` to its creator, unless another live binding holds the id.
    fn bind(&self, task: &str, mut b: Binding) -> Result<(), BindError> {
        b.seq = self.next.fetch_add(1, Ordering::Relaxed);
        if task.chars().count() > MAX_TASK_ID {
            return Err(BindError::TooLong { backend: b.backend });
        }
        let now = Instant::now();
        let mut bound = lock(&self.bound);
        if let Some(old) = bound.get(task) {
            if old.expires > now && (old.principal != b.principal || old.backend != b.backend) {
                return Err(BindError::Taken {
                    task: task.to_owned(),
                    backend: b.backend,
                });
            }
        }
        if bound.len() >= MAX_TOTAL {
            bound.retain(|_, v| v.expires > now);
            if bound.len() >= MAX_TOTAL {
                return Err(BindError::Full);
            }
        }
        let mine: Vec<(&String, &Binding)> = bound
            .iter()
            .filter(|(_, v)| v.principal == b.principal)
            .collect();
        if mine.len() >= MAX_PER_PRINCIPAL {
            let oldest = mine
                .iter()
                .min_by_key(|(_, v)| v.seq)
                .map(|(k, _)| (*k).clone());
            if let Some(k) = oldest {
                bound.remove(&k);
            }
        }
        bound.insert(task.to_owned(), b);
        Ok(())
    }

    /// The live binding of `task`, whoever holds it.
    fn get(&self, task: &str) -> Option<Binding> {
        let mut bound = lock(&self.bound);
        match bound.get(task) {
            Some(b) if b.expires > Instant::now() => Some(b.clone()),
            Some(_) => {
                bound.remove(task);
                None
            }
            None => None,
        }
    }

    pub fn len(&self) -> usize {
        lock(&self.bound).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether capabilities (a server's or a client's) carry the tasks extension.
pub fn declares_tasks(caps: &Value) -> bool {
    caps.get("extensions")
        .and_then(|e| e.get(TASKS_EXTENSION))
        .is_some_and(|v| !v.is_null())
}

impl Router {
    /// A `tools/call` result from `backend` for the exposed `tool`: a `CreateTaskResult` binds
    /// its task to this caller. A result the gateway cannot bind becomes an error (the client
    /// would hold a handle it could never use); the backend's task is left to its TTL.
    pub(super) async fn bind_task(
        &self,
        cx: &Context,
        resp: Value,
        backend: &str,
        tool: &str,
        arguments: Option<&Value>,
    ) -> Value {
        let Some(result) = crate::protocol::field(&resp, "result") else {
            return resp;
        };
        if crate::protocol::field(result, "resultType").and_then(Value::as_str) != Some("task") {
            return resp;
        }
        let id = resp.get("id").cloned().unwrap_or(Value::Null);
        let Some(task) = result.get("taskId").and_then(Value::as_str) else {
            return RouteError::Internal("the backend returned a task without a `taskId`")
                .response(id);
        };
        let ttl = result
            .get("ttlMs")
            .and_then(Value::as_u64)
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_TTL)
            .min(MAX_TTL);
        let now = Instant::now();
        let binding = Binding {
            principal: cx.principal.key(),
            backend: backend.to_owned(),
            tool: tool.to_owned(),
            arguments: arguments.cloned(),
            seq: 0,
            expires: now + ttl + TTL_SLACK,
        };
        let bound = match self.tasks.bind(task, binding) {
            Ok(()) => self.register_task(task, backend, ttl + TTL_SLACK).await,
            Err(e) => Err(e),
        };
        match bound {
            Ok(()) => resp,
            Err(e) => {
                tracing::warn!(backend, error = %e, "a task the gateway cannot bind");
                let mut rec = cx.caller().record(Kind::Call, Decision::Error);
                rec.request_id = Some(id.to_string());
                rec.method = Some("tools/call".into());
                rec.tool = Some(tool.to_owned());
                rec.backend = Some(backend.to_owned());
                rec.reason = Some(e.to_string());
                self.guard.event(rec);
                RouteError::TaskUnbound(e.to_string()).response(id)
            }
        }
    }

    /// With `[cluster]`, register `task` to this replica so the others hand its `tasks/*` here.
    /// Redis unavailable: the task works through this replica only (logged); another replica's
    /// live registration of the same id: refused, and the local binding undone.
    async fn register_task(
        &self,
        task: &str,
        backend: &str,
        ttl: Duration,
    ) -> Result<(), BindError> {
        let Some(cluster) = self.sealer.cluster() else {
            return Ok(());
        };
        match cluster.claim_task(task, ttl).await {
            Ok(None) => Ok(()),
            Ok(Some(owner)) => {
                lock(&self.tasks.bound).remove(task);
                tracing::warn!(backend, replica = %owner, "a task id another replica registered first");
                Err(BindError::Taken {
                    task: clip_task(task),
                    backend: backend.to_owned(),
                })
            }
            Err(e) => {
                tracing::warn!(backend, error = %e, "task not registered in the cluster: only this replica can serve its tasks/*");
                Ok(())
            }
        }
    }

    /// The replica a request must be handed to because only it can continue what the request
    /// names: a parked call's `requestState` sealed there, or a task registered there and not
    /// bound here. `None`: serve it here (including when the holder is this replica).
    pub async fn held_elsewhere(&self, msg: &Value) -> Option<String> {
        let params = protocol::params(msg)?;
        if let Some(token) = params.get("requestState").and_then(Value::as_str) {
            return self.sealer.parked_elsewhere(token);
        }
        let method = protocol::method(msg)?;
        if !matches!(method, "tasks/get" | "tasks/update" | "tasks/cancel") {
            return None;
        }
        let cluster = self.sealer.cluster()?;
        let task = params.get("taskId").and_then(Value::as_str)?;
        if self.tasks.get(task).is_some() {
            return None;
        }
        match cluster.task_owner(task).await {
            Ok(Some(owner)) if owner != cluster.replica() => Some(owner),
            _ => None,
        }
    }

    /// `tasks/get`, `tasks/update`, `tasks/cancel` of a 2026-07-28 client.
    pub(super) async fn task_call(self: &Arc<Self>, cx: &Context, msg: Value) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let method = protocol::method(&msg).unwrap_or("").to_owned();
        let offered = cx.view.links.links().iter().any(|l| {
            l.init()
                .and_then(|i| i.get("capabilities").cloned())
                .or_else(|| self.known_capabilities(l.name()))
                .is_some_and(|c| declares_tasks(&c))
        });
        if !offered {
            return RouteError::MethodNotFound(method).reply(id);
        }
        if !declares_tasks(&cx.client.capabilities) {
            return self.refuse(
                cx,
                id,
                &method,
                "",
                None,
                RouteError::MissingExtension(TASKS_EXTENSION),
            );
        }
        let Some(task) = protocol::params(&msg)
            .and_then(|p| p.get("taskId"))
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return self.refuse(cx, id, &method, "", None, RouteError::Missing("taskId"));
        };
        let binding = match self.tasks.get(&task) {
            Some(b) if b.principal == cx.principal.key() => b,
            other => {
                // The same answer either way; the record says which it was.
                let why = if other.is_some() {
                    "bound to another principal"
                } else {
                    "not bound (never created through this gateway, or expired)"
                };
                let mut rec = cx.caller().record(Kind::Call, Decision::Deny);
                rec.request_id = Some(id.to_string());
                rec.method = Some(method.clone());
                rec.backend = other.as_ref().map(|b| b.backend.clone());
                rec.tool = other.as_ref().map(|b| b.tool.clone());
                rec.reason = Some(format!("task `{}`: {why}", clip_task(&task)));
                rec.extra = Some(serde_json::json!({ "task_id": clip_task(&task) }));
                self.guard.event(rec);
                self.guard
                    .metrics
                    .record_decision(crate::telemetry::Outcome::Deny);
                return RouteError::UnknownTask(clip_task(&task)).reply(id);
            }
        };
        // Decided as a call of the task's tool with the arguments that created it: whoever may
        // no longer call the tool may no longer read, answer or stop its task.
        let merged = self.merged(cx, ListKind::Tools).await;
        let original = merged
            .routes
            .get(&binding.tool)
            .filter(|r| r.backend == binding.backend)
            .map(|r| r.original.clone());
        let Some(original) = original else {
            let error = RouteError::Unknown {
                what: "tool",
                name: binding.tool.clone(),
                unavailable: Vec::new(),
            };
            return self.refuse(
                cx,
                id,
                &method,
                &binding.tool,
                Some(&binding.backend),
                error,
            );
        };
        let definition = merged
            .items
            .iter()
            .find(|i| i.get("name").and_then(Value::as_str) == Some(binding.tool.as_str()))
            .unwrap_or(&Value::Null);
        let verdict = merged
            .verdicts
            .get(&binding.tool)
            .cloned()
            .unwrap_or_default();
        let ask = Ask {
            request_id: &id,
            method: &method,
            action: Action::CallTool,
            resource: ResourceRef::Tool {
                exposed: &binding.tool,
                original: &original,
                backend: &binding.backend,
                definition,
                pinned: verdict.pinned,
                findings: &verdict.findings,
            },
            arguments: binding.arguments.as_ref(),
            verdict: Some(&verdict),
        };
        if let Err(refusal) = self.admit(cx, ask).await {
            return refusal;
        }
        self.stream_forward(cx, binding.backend, msg)
    }
}

fn clip_task(task: &str) -> String {
    match task.char_indices().nth(MAX_TASK_ID) {
        Some((i, _)) => format!("{}…", task.get(..i).unwrap_or("")),
        None => task.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn binding(principal: &str, backend: &str, secs: u64) -> Binding {
        let now = Instant::now();
        Binding {
            principal: principal.into(),
            backend: backend.into(),
            tool: "t".into(),
            arguments: None,
            seq: 0,
            expires: now + Duration::from_secs(secs),
        }
    }

    #[test]
    fn an_id_bound_by_one_principal_is_not_taken_by_another() {
        let t = Tasks::default();
        t.bind("x", binding("a", "b1", 60)).unwrap();
        assert!(matches!(
            t.bind("x", binding("z", "b1", 60)),
            Err(BindError::Taken { .. })
        ));
        assert!(matches!(
            t.bind("x", binding("a", "b2", 60)),
            Err(BindError::Taken { .. })
        ));
        assert_eq!(t.get("x").unwrap().principal, "a");
        // The same creator may bind it again (a retried call).
        t.bind("x", binding("a", "b1", 60)).unwrap();
        // An expired binding is gone, and its id free.
        t.bind("y", binding("a", "b1", 0)).unwrap();
        assert!(t.get("y").is_none());
        t.bind("y", binding("z", "b1", 60)).unwrap();
        assert!(
            t.bind(&"q".repeat(MAX_TASK_ID + 1), binding("a", "b1", 60))
                .is_err()
        );
    }

    #[test]
    fn a_principal_over_its_cap_loses_its_oldest_task_only() {
        let t = Tasks::default();
        t.bind("other", binding("z", "b", 60)).unwrap();
        for i in 0..MAX_PER_PRINCIPAL {
            t.bind(&format!("a{i}"), binding("a", "b", 60)).unwrap();
        }
        t.bind("last", binding("a", "b", 60)).unwrap();
        assert!(t.get("a0").is_none());
        assert!(t.get("last").is_some());
        assert!(t.get("other").is_some());
        assert_eq!(t.len(), MAX_PER_PRINCIPAL + 1);
    }

    #[test]
    fn extension_declarations_are_read_from_extensions() {
        assert!(declares_tasks(
            &serde_json::json!({"extensions": {TASKS_EXTENSION: {}}})
        ));
        assert!(!declares_tasks(&serde_json::json!({TASKS_EXTENSION: {}})));
        assert!(!declares_tasks(&serde_json::json!({"extensions": {}})));
    }
}
