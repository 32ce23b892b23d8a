//! Router glue for meta-tools: what `tools/list` shows in meta mode, the `find_tool` index of a
//! view's catalog, and calls of `find_tool` and `call_tool` (workflows: `workflows.rs`).
//!
//! Nothing here decides who may call what, and nothing reaches a backend directly:
//! - the index is filtered by the same `visible_items` decisions as `tools/list` (policy and
//!   integrity), so `find_tool` never returns a tool the list would hide;
//! - `call_tool` and every workflow step become a `tools/call` of the real tool under its
//!   exposed name, sent down `named_call`: the full guard chain (pins, Cedar, limits,
//!   credentials, audit) as the calling principal. There is no side door.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::{Context, ListKind, Reply, RouteError, Router};
use crate::audit::{Decision, Kind};
use crate::catalog::Merged;
use crate::meta::cache::{IndexKey, ToolDoc, find_tool_result};
use crate::meta::{CALL_TOOL, FIND_TOOL};
use crate::protocol;
use crate::workflow::Workflow;

/// Longest `find_tool` query accepted, in bytes.
const MAX_QUERY_BYTES: usize = 2048;

fn tool_name(msg: &Value) -> Option<&str> {
    protocol::params(msg)
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
}

pub(super) fn text_result(text: String, structured: Option<Value>, is_error: bool) -> Value {
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

impl Router {
    /// Whether this caller lists the meta-tools instead of the catalog.
    fn meta_mode(&self, cx: &Context) -> bool {
        self.meta.applies_to(&cx.principal)
    }

    /// Whether a `tools/call` is for a meta-tool or a workflow (handled here) rather than a
    /// backend tool.
    pub(super) fn owns_call(&self, cx: &Context, msg: &Value) -> bool {
        let Some(name) = tool_name(msg) else {
            return false;
        };
        self.workflows.get(name).is_some()
            || ((name == FIND_TOOL || name == CALL_TOOL) && self.meta_mode(cx))
    }

    /// The catalog, and the exposed names of the tools this principal may see.
    pub(super) async fn visible_tools(&self, cx: &Context) -> (Arc<Merged>, HashSet<String>) {
        let merged = self.merged(cx, ListKind::Tools).await;
        let names = self
            .visible_items(cx, ListKind::Tools, &merged)
            .into_iter()
            .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect();
        (merged, names)
    }

    /// Workflows whose every step calls a tool this principal may see: like a tool the policy
    /// can never allow, a workflow that could never complete is not listed.
    fn visible_workflows(&self, visible: &HashSet<String>) -> Vec<Arc<Workflow>> {
        self.workflows
            .iter()
            .filter(|w| w.tools().iter().all(|t| visible.contains(*t)))
            .cloned()
            .collect()
    }

    /// `tools/list`: the meta-tools in meta mode; otherwise the catalog, with the workflows
    /// this principal may run after the last page.
    pub(super) async fn tools_list(&self, cx: &Context, msg: &Value) -> Value {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        if !self.meta_mode(cx) {
            let mut resp = self.list(cx, ListKind::Tools, msg).await;
            if self.workflows.is_empty() {
                return resp;
            }
            let last_page = resp
                .get("result")
                .is_some_and(|r| r.get("nextCursor").is_none());
            if last_page {
                let (_, visible) = self.visible_tools(cx).await;
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
            return RouteError::InvalidCursor.response(id);
        }
        let (merged, visible) = self.visible_tools(cx).await;
        let mut tools = self.meta.meta_tools();
        let workflows = self.visible_workflows(&visible);
        for name in self.meta.always_visible() {
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
        let mut rec = cx.caller().record(Kind::List, Decision::Allow);
        rec.request_id = Some(id.to_string());
        rec.method = Some("tools/list".into());
        rec.extra = Some(json!({
            "meta": true,
            "listed": tools.len(),
            "searchable": visible.len() + workflows.len(),
        }));
        self.guard.event(rec);
        protocol::result_response(id, json!({ "tools": tools }))
    }

    /// A `tools/call` of `find_tool`, `call_tool` or a workflow.
    pub(super) async fn meta_call(self: &Arc<Self>, cx: &Context, msg: Value) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let name = tool_name(&msg).unwrap_or("").to_owned();
        let arguments = protocol::params(&msg)
            .and_then(|p| p.get("arguments"))
            .cloned()
            .unwrap_or_else(|| json!({}));
        if let Some(w) = self.workflows.get(&name).cloned() {
            return self.run_workflow(cx, id, w, arguments);
        }
        match name.as_str() {
            FIND_TOOL => Reply::Json(self.find_tool(cx, id, &arguments).await),
            _ => self.call_tool(cx, id, &msg, &arguments).await,
        }
    }

    async fn find_tool(&self, cx: &Context, id: Value, args: &Value) -> Value {
        let Some(query) = args.get("query").and_then(Value::as_str) else {
            return RouteError::InvalidArguments(
                "`find_tool` needs `query`: the task in plain words".into(),
            )
            .response(id);
        };
        if query.trim().is_empty() || query.len() > MAX_QUERY_BYTES {
            return RouteError::InvalidArguments(format!(
                "`query` must be 1 to {MAX_QUERY_BYTES} bytes of text"
            ))
            .response(id);
        }
        let top_k = match args.get("top_k") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(k) if k >= 1 => Some(k),
                _ => {
                    return RouteError::InvalidArguments(
                        "`top_k` must be a positive integer".into(),
                    )
                    .response(id);
                }
            },
        };
        let started = Instant::now();
        let (merged, visible) = self.visible_tools(cx).await;
        let workflows: HashSet<String> = self
            .visible_workflows(&visible)
            .iter()
            .map(|w| w.name.clone())
            .collect();
        let mut names: Vec<&str> = visible.iter().map(String::as_str).collect();
        names.extend(workflows.iter().map(String::as_str));
        // One index per catalog version and visible slice, shared by every caller who sees
        // exactly that slice; built once, from exactly the tools the key names.
        // INVARIANT: only what `tools/list` would show this principal is indexed.
        let key = IndexKey::new(merged.version, names.iter().copied());
        let index = self.meta_cache.get_or_build(key, || {
            let mut docs: Vec<ToolDoc> = merged
                .items
                .iter()
                .filter_map(|d| {
                    let name = d.get("name").and_then(Value::as_str)?;
                    visible.contains(name).then(|| ToolDoc {
                        name: name.to_owned(),
                        backend: merged.routes.get(name).map(|r| r.backend.clone()),
                        definition: d.clone(),
                    })
                })
                .collect();
            docs.extend(
                self.workflows
                    .iter()
                    .filter(|w| workflows.contains(&w.name))
                    .map(|w| ToolDoc {
                        name: w.name.clone(),
                        backend: None,
                        definition: w.tool_definition(),
                    }),
            );
            docs
        });
        let k = self.meta.top_k(top_k);
        let everything = vec![true; index.len()];
        let hits = self
            .meta
            .rank(index.index(), index.definitions(), query, k, &everything)
            .await;
        let found = index.found(&hits);
        let names: Vec<&str> = found.iter().map(|f| f.name).collect();
        let mut rec = cx.caller().record(Kind::List, Decision::Allow);
        rec.request_id = Some(id.to_string());
        rec.method = Some("tools/call".into());
        rec.tool = Some(FIND_TOOL.into());
        rec.args = Some(args.clone());
        rec.latency_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        rec.extra = Some(json!({ "found": names, "searched": index.len() }));
        self.guard.event(rec);
        if found.is_empty() {
            // Ranking is best effort over every visible tool: empty only when none is.
            return protocol::result_response(
                id,
                text_result(
                    "No tool is available to you through this gateway.".into(),
                    Some(json!({ "tools": [], "matches": [] })),
                    false,
                ),
            );
        }
        protocol::result_response(id, find_tool_result(&found))
    }

    async fn call_tool(
        self: &Arc<Self>,
        cx: &Context,
        id: Value,
        msg: &Value,
        args: &Value,
    ) -> Reply {
        let Some(name) = args.get("name").and_then(Value::as_str) else {
            return RouteError::InvalidArguments(
                "`call_tool` needs `name`: a tool name from `find_tool`".into(),
            )
            .reply(id);
        };
        if name == FIND_TOOL || name == CALL_TOOL {
            return RouteError::InvalidArguments(format!(
                "call `{name}` directly, not through `call_tool`"
            ))
            .reply(id);
        }
        let arguments = match args.get("arguments") {
            None | Some(Value::Null) => json!({}),
            Some(a @ Value::Object(_)) => a.clone(),
            Some(_) => {
                return RouteError::InvalidArguments("`arguments` must be an object".into())
                    .reply(id);
            }
        };
        if let Some(w) = self.workflows.get(name).cloned() {
            return self.run_workflow(cx, id, w, arguments);
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
        self.named_call(cx, ListKind::Tools, inner).await
    }
}
