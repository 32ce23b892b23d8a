//! Routed calls: `tools/call`, `prompts/get`, `resources/*` and `completion/complete` resolve
//! their backend by table, pass the guard chain, and go upstream through the client's link.
//!
//! Every refusal made here (an unknown name, a URI that routes nowhere or is not in normal form,
//! arguments of a shape policy cannot decide, a quarantined template) is an audit record like
//! the guard's own, so the trail holds every decision.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::mrtr::Resumed;
use super::{Context, ListKind, Reply, RouteError, Router};
use crate::audit::{Decision, Kind};
use crate::catalog::Route;
use crate::guard::Ask;
use crate::policy::{Action, ResourceRef};
use crate::protocol;
use crate::protocol::template_matches;
use crate::telemetry::Outcome;
use crate::upstream::UpstreamError;

/// At most one re-listing per view and kind this often because a caller named something the
/// lists do not have (a client may hold a name from before a backend reconnected; a flood of
/// made-up names must not become a flood of `tools/list` upstream).
const UNKNOWN_NAME_REFETCH_EVERY: Duration = Duration::from_secs(10);

/// Longest name or URI copied into an audit record of a refusal (the client chose it).
const MAX_RECORDED_NAME: usize = 256;

impl Router {
    /// The guard chain for one call; `Err` is the reply to send instead.
    pub(super) async fn admit(&self, cx: &Context, ask: Ask<'_>) -> Result<(), Reply> {
        let id = ask.request_id.clone();
        self.guard
            .admit(cx.caller(), ask)
            .await
            .map_err(|refusal| Reply::Json(protocol::fault_response(id, &refusal)))
    }

    /// Refuse a request before the guard, with its audit record: what was asked (`subject`,
    /// clipped) and why.
    pub(super) fn refuse(
        &self,
        cx: &Context,
        id: Value,
        method: &str,
        subject: &str,
        backend: Option<&str>,
        error: RouteError,
    ) -> Reply {
        let (kind, decision) = match error {
            RouteError::QuarantinedTemplate { .. } => {
                self.guard.metrics.record_decision(Outcome::Quarantined);
                (Kind::Quarantined, Decision::Deny)
            }
            _ => {
                self.guard.metrics.record_decision(Outcome::Deny);
                (Kind::Call, Decision::Deny)
            }
        };
        let mut rec = cx.caller().record(kind, decision);
        rec.request_id = Some(id.to_string());
        rec.method = Some(method.to_owned());
        rec.tool = Some(clip(subject));
        rec.backend = backend.map(str::to_owned);
        rec.reason = Some(error.to_string());
        self.guard.event(rec);
        error.reply(id)
    }

    async fn route_name(&self, cx: &Context, kind: ListKind, name: &str) -> Option<Route> {
        if let Some(r) = self.merged(cx, kind).await.routes.get(name) {
            return Some(r.clone());
        }
        if !cx.view.lists.may_refetch(kind, UNKNOWN_NAME_REFETCH_EVERY) {
            return None;
        }
        // The client may hold a name from before a backend reconnected: list again, at most
        // once per interval.
        self.refetch(cx, kind).await.routes.get(name).cloned()
    }

    pub(super) async fn named_call(
        self: &Arc<Self>,
        cx: &Context,
        kind: ListKind,
        mut msg: Value,
    ) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let Some(name) = protocol::params(&msg)
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return self.refuse(
                cx,
                id,
                call_method(kind),
                "",
                None,
                RouteError::Missing("name"),
            );
        };
        let what = if kind == ListKind::Tools {
            "tool"
        } else {
            "prompt"
        };
        let Some(route) = self.route_name(cx, kind, &name).await else {
            if let Some(e) = self.down_backend_offering(cx, kind, &name) {
                self.guard.metrics.record_decision(Outcome::Error);
                let mut rec = cx.caller().record(Kind::Call, Decision::Error);
                rec.request_id = Some(id.to_string());
                rec.method = Some(call_method(kind).to_owned());
                rec.tool = Some(clip(&name));
                rec.backend = Some(e.backend().to_owned());
                rec.reason = Some(e.to_string());
                self.guard.event(rec);
                return Reply::Json(protocol::fault_response(id, &e));
            }
            // The name may belong to a backend that never came up for this client: say which
            // backends are missing and why, instead of a bare "unknown".
            let unavailable = cx
                .view
                .links
                .links()
                .iter()
                .filter_map(|l| l.unavailable().map(|e| e.to_string()))
                .collect();
            let error = RouteError::Unknown {
                what,
                name: clip(&name),
                unavailable,
            };
            return self.refuse(cx, id, call_method(kind), &name, None, error);
        };
        let merged = self.merged(cx, kind).await;
        // Borrowed from the merged catalog: a tool's definition (its whole input schema) is
        // not copied on every call.
        let definition = merged
            .items
            .iter()
            .find(|i| i.get("name").and_then(Value::as_str) == Some(name.as_str()))
            .unwrap_or(&Value::Null);
        let verdict = merged.verdicts.get(&name).cloned().unwrap_or_default();
        let arguments = protocol::params(&msg)
            .and_then(|p| p.get("arguments"))
            .cloned();
        // Policy reads arguments as string tags: refuse shapes that would give a forbid nothing
        // to hold on to (a bare string, an array where the schema says a string).
        let shape = match kind {
            ListKind::Tools => crate::policy::args::check_tool(definition, arguments.as_ref()),
            _ => crate::policy::args::check_prompt(arguments.as_ref()),
        };
        if let Err(e) = shape {
            let error = RouteError::InvalidArguments(format!("{what} `{name}`: {e}"));
            return self.refuse(
                cx,
                id,
                call_method(kind),
                &name,
                Some(&route.backend),
                error,
            );
        }
        let (action, method, resource) = match kind {
            ListKind::Tools => (
                Action::CallTool,
                "tools/call",
                ResourceRef::Tool {
                    exposed: &name,
                    original: &route.original,
                    backend: &route.backend,
                    definition,
                    pinned: verdict.pinned,
                    findings: &verdict.findings,
                },
            ),
            _ => (
                Action::GetPrompt,
                "prompts/get",
                ResourceRef::Prompt {
                    exposed: &name,
                    original: &route.original,
                    backend: &route.backend,
                },
            ),
        };
        let ask = Ask {
            request_id: &id,
            method,
            action,
            resource,
            arguments: arguments.as_ref(),
            verdict: Some(&verdict),
        };
        if let Err(refusal) = self.admit(cx, ask).await {
            return refusal;
        }
        if cx.is_modern() {
            // A retry names the call it continues (held here, or the backend's own state).
            if protocol::params(&msg).is_some_and(|p| p.contains_key("requestState")) {
                match self.resume(cx, &msg, &route.backend, method, &name).await {
                    Resumed::Call(call) => return Reply::Call(call),
                    Resumed::Reply(reply) => return Reply::Json(reply),
                    Resumed::Forward(m) => msg = m,
                }
            }
            if let Some(p) = protocol::params_mut(&mut msg) {
                p.insert("name".into(), Value::String(route.original.clone()));
            }
            let backend = route.backend.clone();
            return match self.stream_forward(cx, route.backend, msg) {
                Reply::Call(call) => Reply::Call(
                    self.mrtr_drive(cx, id, call, &backend, method, &name, arguments, 0),
                ),
                json => json,
            };
        }
        if let Some(p) = protocol::params_mut(&mut msg) {
            p.insert("name".into(), Value::String(route.original.clone()));
        }
        self.forward_bridged(cx, route.backend, msg)
    }

    /// The error of a backend that is down and last offered `name`: a client may still hold
    /// that name, and must learn which backend failed rather than that the name does not exist.
    fn down_backend_offering(
        &self,
        cx: &Context,
        kind: ListKind,
        name: &str,
    ) -> Option<UpstreamError> {
        cx.view
            .links
            .links()
            .iter()
            .filter(|l| !l.is_up())
            .find_map(|l| {
                let offered = l.offered(kind.field())?;
                let offers = offered.iter().any(|item| {
                    item.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|o| self.namer.exposed_name(l.name(), o) == name)
                });
                if offers { l.unavailable() } else { None }
            })
    }

    /// The backend of `uri`, or `None` (see [`Router::resolve_uri`]).
    pub(super) async fn route_uri(&self, cx: &Context, uri: &str) -> Option<String> {
        self.resolve_uri(cx, uri).await.ok()
    }

    /// Where a resource URI goes: the backend that listed it, or the one whose template it
    /// matches. A URI not in normal form (`policy::uri`) is refused before any matching, so
    /// policy decides one spelling per resource; a URI matching a quarantined template is
    /// refused even when a clean template also matches. A URI neither listed nor templated
    /// goes nowhere, unless exactly one backend offers resources and its config says
    /// `dangerous_unlisted_resources = true`.
    pub(super) async fn resolve_uri(&self, cx: &Context, uri: &str) -> Result<String, RouteError> {
        if let Some(r) = self.merged(cx, ListKind::Resources).await.routes.get(uri) {
            return Ok(r.backend.clone());
        }
        let templates = self.merged(cx, ListKind::Templates).await;
        let quarantine_of = |tpl: &str| {
            templates
                .verdicts
                .get(tpl)
                .and_then(|v| v.quarantine.as_ref())
        };
        let refuse_quarantined = |tpl: &str, backend: &str| {
            quarantine_of(tpl).map(|q| RouteError::QuarantinedTemplate {
                uri: clip(uri),
                template: tpl.to_owned(),
                backend: backend.to_owned(),
                code: q.code(),
                because: q.because(),
            })
        };
        // A template itself (`completion/complete` names one in `ref/resource`).
        if let Some(r) = templates.routes.get(uri) {
            return match refuse_quarantined(uri, &r.backend) {
                Some(e) => Err(e),
                None => Ok(r.backend.clone()),
            };
        }
        crate::policy::uri::check(uri).map_err(|reason| RouteError::BadUri {
            uri: clip(uri),
            reason,
        })?;
        let mut routed = None;
        for t in &templates.items {
            let Some(tpl) = t.get("uriTemplate").and_then(Value::as_str) else {
                continue;
            };
            if !template_matches(tpl, uri) {
                continue;
            }
            let Some(r) = templates.routes.get(tpl) else {
                continue;
            };
            if let Some(e) = refuse_quarantined(tpl, &r.backend) {
                return Err(e);
            }
            routed.get_or_insert_with(|| r.backend.clone());
        }
        if let Some(backend) = routed {
            return Ok(backend);
        }
        // Neither listed nor templated: only where the operator asked for it, and only
        // unambiguous with one resource backend.
        let with_resources: Vec<String> = cx
            .view
            .links
            .up()
            .into_iter()
            .filter(|l| l.offers("resources"))
            .map(|l| l.name().to_owned())
            .collect();
        match with_resources.as_slice() {
            [only] if self.unlisted_resources_allowed(only) => Ok(only.clone()),
            _ => Err(RouteError::ResourceNotFound(clip(uri))),
        }
    }

    /// Whether backend `name` takes reads of URIs it neither lists nor templates.
    fn unlisted_resources_allowed(&self, name: &str) -> bool {
        self.backends
            .iter()
            .any(|b| b.name == name && b.dangerous_unlisted_resources)
    }

    pub(super) async fn uri_call(
        self: &Arc<Self>,
        cx: &Context,
        msg: Value,
        stream: bool,
    ) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let Some(uri) = protocol::params(&msg)
            .and_then(|p| p.get("uri"))
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            let method = protocol::method(&msg).unwrap_or("").to_owned();
            return self.refuse(cx, id, &method, "", None, RouteError::Missing("uri"));
        };
        let method = protocol::method(&msg).unwrap_or("").to_owned();
        let backend = match self.resolve_uri(cx, &uri).await {
            Ok(b) => b,
            Err(e) => return self.refuse(cx, id, &method, &uri, None, e),
        };
        // Every method passes policy. Unsubscribing is decided as `subscribe_resource`: it
        // changes a subscription, which only a principal who may subscribe can have made.
        let action = match method.as_str() {
            "resources/read" => Action::ReadResource,
            _ => Action::SubscribeResource,
        };
        let ask = Ask {
            request_id: &id,
            method: &method,
            action,
            resource: ResourceRef::Resource {
                uri: &uri,
                backend: &backend,
            },
            arguments: None,
            verdict: None,
        };
        if let Err(refusal) = self.admit(cx, ask).await {
            return refusal;
        }
        if stream && cx.is_modern() {
            let mut msg = msg;
            if protocol::params(&msg).is_some_and(|p| p.contains_key("requestState")) {
                match self.resume(cx, &msg, &backend, &method, &uri).await {
                    Resumed::Call(call) => return Reply::Call(call),
                    Resumed::Reply(reply) => return Reply::Json(reply),
                    Resumed::Forward(m) => msg = m,
                }
            }
            let target = backend.clone();
            return match self.stream_forward(cx, backend, msg) {
                Reply::Call(call) => {
                    Reply::Call(self.mrtr_drive(cx, id, call, &target, &method, &uri, None, 0))
                }
                json => json,
            };
        }
        if stream {
            return self.forward_bridged(cx, backend, msg);
        }
        // Clients sharing an upstream session share its subscriptions: the first subscriber's
        // goes upstream, the last one's unsubscription too; the others are answered here.
        let links = &cx.view.links;
        let upstream = match method.as_str() {
            "resources/subscribe" => links.subscribe(&backend, &uri),
            _ => links.unsubscribe(&backend, &uri),
        };
        if !upstream {
            return Reply::Json(protocol::result_response(id, serde_json::json!({})));
        }
        // A 2026-07-28 backend has no `resources/subscribe`: the link's listen carries it.
        if let Some(link) = links.link(&backend).filter(|l| l.is_stateless()) {
            if method == "resources/subscribe" {
                if let Err(e) = link.subscribe_upstream(&uri).await {
                    links.unsubscribe(&backend, &uri);
                    return Reply::Json(protocol::fault_response(id, &e));
                }
            } else {
                link.unsubscribe_upstream(&uri).await;
            }
            return Reply::Json(protocol::result_response(id, serde_json::json!({})));
        }
        let resp = self.forward_json(cx, &backend, msg).await;
        if method == "resources/subscribe" && resp.get("error").is_some() {
            links.unsubscribe(&backend, &uri);
        }
        Reply::Json(resp)
    }

    pub(super) async fn complete(&self, cx: &Context, mut msg: Value) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let reference = protocol::params(&msg)
            .and_then(|p| p.get("ref"))
            .cloned()
            .unwrap_or(Value::Null);
        let backend = match reference.get("type").and_then(Value::as_str).unwrap_or("") {
            "ref/prompt" => {
                let name = reference.get("name").and_then(Value::as_str).unwrap_or("");
                let Some(route) = self.route_name(cx, ListKind::Prompts, name).await else {
                    let error = RouteError::Unknown {
                        what: "prompt",
                        name: clip(name),
                        unavailable: Vec::new(),
                    };
                    return self.refuse(cx, id, "completion/complete", name, None, error);
                };
                let merged = self.merged(cx, ListKind::Prompts).await;
                let ask = Ask {
                    request_id: &id,
                    method: "completion/complete",
                    action: Action::Complete,
                    resource: ResourceRef::Prompt {
                        exposed: name,
                        original: &route.original,
                        backend: &route.backend,
                    },
                    arguments: None,
                    verdict: merged.verdicts.get(name),
                };
                if let Err(refusal) = self.admit(cx, ask).await {
                    return refusal;
                }
                if let Some(r) = protocol::params_mut(&mut msg)
                    .and_then(|p| p.get_mut("ref"))
                    .and_then(Value::as_object_mut)
                {
                    r.insert("name".into(), Value::String(route.original.clone()));
                }
                route.backend
            }
            "ref/resource" => {
                let uri = reference.get("uri").and_then(Value::as_str).unwrap_or("");
                let backend = match self.resolve_uri(cx, uri).await {
                    Ok(b) => b,
                    Err(e) => return self.refuse(cx, id, "completion/complete", uri, None, e),
                };
                let ask = Ask {
                    request_id: &id,
                    method: "completion/complete",
                    action: Action::Complete,
                    resource: ResourceRef::Resource {
                        uri,
                        backend: &backend,
                    },
                    arguments: None,
                    verdict: None,
                };
                if let Err(refusal) = self.admit(cx, ask).await {
                    return refusal;
                }
                backend
            }
            _ => {
                return self.refuse(
                    cx,
                    id,
                    "completion/complete",
                    "",
                    None,
                    RouteError::BadReference,
                );
            }
        };
        Reply::Json(self.forward_json(cx, &backend, msg).await)
    }
}

/// `s` cut to [`MAX_RECORDED_NAME`] characters (with `…` when cut).
fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_RECORDED_NAME) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or("")),
        None => s.to_owned(),
    }
}

/// The method of a call by name of `kind`.
fn call_method(kind: ListKind) -> &'static str {
    match kind {
        ListKind::Tools => "tools/call",
        _ => "prompts/get",
    }
}
