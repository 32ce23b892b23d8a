//! Routed calls: `tools/call`, `prompts/get`, `resources/*` and `completion/complete` resolve
//! their backend by table, pass the guard chain, and go upstream through the client's link.

use serde_json::Value;

use super::{Context, ListKind, Reply, RouteError, Router};
use crate::catalog::{Route, template_matches};
use crate::guard::Ask;
use crate::policy::{Action, ResourceRef};
use crate::protocol;
use crate::upstream::UpstreamError;

impl Router {
    /// The guard chain for one call; `Err` is the reply to send instead.
    async fn admit(&self, cx: &Context, ask: Ask<'_>) -> Result<(), Reply> {
        let id = ask.request_id.clone();
        self.guard
            .admit(cx.caller(), ask)
            .await
            .map_err(|refusal| Reply::Json(protocol::fault_response(id, &refusal)))
    }

    async fn route_name(&self, cx: &Context, kind: ListKind, name: &str) -> Option<Route> {
        if let Some(r) = self.merged(cx, kind).await.routes.get(name) {
            return Some(r.clone());
        }
        // The client may hold a name from before a backend reconnected: refresh once.
        cx.view.lists.take(kind);
        self.merged(cx, kind).await.routes.get(name).cloned()
    }

    pub(super) async fn named_call(&self, cx: &Context, kind: ListKind, mut msg: Value) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let Some(name) = protocol::params(&msg)
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return RouteError::Missing("name").reply(id);
        };
        let what = if kind == ListKind::Tools {
            "tool"
        } else {
            "prompt"
        };
        let Some(route) = self.route_name(cx, kind, &name).await else {
            if let Some(e) = self.down_backend_offering(cx, kind, &name) {
                return Reply::Json(protocol::fault_response(id, &e));
            }
            // The name may belong to a backend that never came up for this client: say which
            // backends are missing and why, instead of a bare "unknown".
            let unavailable = cx
                .view
                .links
                .links()
                .iter()
                .filter_map(|l| l.conn().err().map(|e| e.to_string()))
                .collect();
            return RouteError::Unknown {
                what,
                name,
                unavailable,
            }
            .reply(id);
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
        if let Some(p) = protocol::params_mut(&mut msg) {
            p.insert("name".into(), Value::String(route.original.clone()));
        }
        self.stream_forward(cx, route.backend, msg)
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
                if offers { l.conn().err() } else { None }
            })
    }

    async fn route_uri(&self, cx: &Context, uri: &str) -> Option<String> {
        if let Some(r) = self.merged(cx, ListKind::Resources).await.routes.get(uri) {
            return Some(r.backend.clone());
        }
        let templates = self.merged(cx, ListKind::Templates).await;
        for t in &templates.items {
            if let Some(tpl) = t.get("uriTemplate").and_then(Value::as_str) {
                if template_matches(tpl, uri) {
                    if let Some(r) = templates.routes.get(tpl) {
                        return Some(r.backend.clone());
                    }
                }
            }
        }
        // A resource neither listed nor templated: only unambiguous with one resource backend.
        let with_resources: Vec<String> = cx
            .view
            .links
            .up()
            .into_iter()
            .filter(|(l, _)| l.offers("resources"))
            .map(|(l, _)| l.name().to_owned())
            .collect();
        match with_resources.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        }
    }

    pub(super) async fn uri_call(&self, cx: &Context, msg: Value, stream: bool) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let Some(uri) = protocol::params(&msg)
            .and_then(|p| p.get("uri"))
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return RouteError::Missing("uri").reply(id);
        };
        let method = protocol::method(&msg).unwrap_or("").to_owned();
        let Some(backend) = self.route_uri(cx, &uri).await else {
            return RouteError::ResourceNotFound(uri).reply(id);
        };
        let action = match method.as_str() {
            "resources/read" => Some(Action::ReadResource),
            "resources/subscribe" => Some(Action::SubscribeResource),
            // Unsubscribing only ever reduces what a client receives.
            _ => None,
        };
        if let Some(action) = action {
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
        }
        if stream {
            return self.stream_forward(cx, backend, msg);
        }
        Reply::Json(self.forward_json(cx, &backend, msg).await)
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
                    return RouteError::Unknown {
                        what: "prompt",
                        name: name.to_owned(),
                        unavailable: Vec::new(),
                    }
                    .reply(id);
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
                let Some(backend) = self.route_uri(cx, uri).await else {
                    return RouteError::Unknown {
                        what: "resource",
                        name: uri.to_owned(),
                        unavailable: Vec::new(),
                    }
                    .reply(id);
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
            _ => return RouteError::BadReference.reply(id),
        };
        Reply::Json(self.forward_json(cx, &backend, msg).await)
    }
}
