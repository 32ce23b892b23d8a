//! JSON-RPC dispatch for one session: which backend each client message goes to, and how lists
//! from many backends become one.

use std::sync::Arc;

use base64::Engine;
use serde_json::{Map, Value, json};

use super::call::Call;
use super::{Session, lock};
use crate::catalog::{Merged, Route, template_matches};
use crate::policy::{Action, ResourceRef};
use crate::protocol::{self, code, id_key};
use crate::upstream::UpstreamError;

/// How the edge should answer a client request.
pub enum Reply {
    /// One JSON response.
    Json(Value),
    /// A forwarded call still running: its related messages, then its response.
    Call(Call),
}

/// Most pages we follow when listing one backend (guards against a cursor loop).
const MAX_UPSTREAM_PAGES: usize = 100;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum ListKind {
    Tools,
    Prompts,
    Resources,
    Templates,
}

impl ListKind {
    fn method(self) -> &'static str {
        match self {
            ListKind::Tools => "tools/list",
            ListKind::Prompts => "prompts/list",
            ListKind::Resources => "resources/list",
            ListKind::Templates => "resources/templates/list",
        }
    }
    fn field(self) -> &'static str {
        match self {
            ListKind::Tools => "tools",
            ListKind::Prompts => "prompts",
            ListKind::Resources => "resources",
            ListKind::Templates => "resourceTemplates",
        }
    }
    fn capability(self) -> &'static str {
        match self {
            ListKind::Tools => "tools",
            ListKind::Prompts => "prompts",
            ListKind::Resources | ListKind::Templates => "resources",
        }
    }
    /// What the integrity stage pins of this list (resources are data, not definitions).
    fn integrity_kind(self) -> Option<crate::integrity::Kind> {
        match self {
            ListKind::Tools => Some(crate::integrity::Kind::Tool),
            ListKind::Prompts => Some(crate::integrity::Kind::Prompt),
            ListKind::Templates => Some(crate::integrity::Kind::ResourceTemplate),
            ListKind::Resources => None,
        }
    }
    fn tag(self) -> &'static str {
        match self {
            ListKind::Tools => "t",
            ListKind::Prompts => "p",
            ListKind::Resources => "r",
            ListKind::Templates => "rt",
        }
    }
}

impl Session {
    /// Handle one client request (not `initialize`, which the edge handles by creating the
    /// session).
    pub async fn handle_request(self: &Arc<Self>, msg: Value) -> Reply {
        self.touch();
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let method = protocol::method(&msg).unwrap_or("").to_owned();
        match method.as_str() {
            "ping" => Reply::Json(protocol::result_response(id, json!({}))),
            "initialize" => Reply::Json(protocol::error_response(
                id,
                code::INVALID_REQUEST,
                "this session is already initialized; start a new session without `Mcp-Session-Id`",
                None,
            )),
            // Meta mode and workflows (session::meta) decide what a tool list shows.
            "tools/list" => Reply::Json(self.tools_list(&msg).await),
            "prompts/list" => Reply::Json(self.list(ListKind::Prompts, &msg).await),
            "resources/list" => Reply::Json(self.list(ListKind::Resources, &msg).await),
            "resources/templates/list" => Reply::Json(self.list(ListKind::Templates, &msg).await),
            "tools/call" if self.owns_call(&msg) => self.meta_call(msg).await,
            "tools/call" => self.named_call(ListKind::Tools, msg).await,
            "prompts/get" => self.named_call(ListKind::Prompts, msg).await,
            "resources/read" => self.uri_call(msg, true).await,
            "resources/subscribe" | "resources/unsubscribe" => self.uri_call(msg, false).await,
            "completion/complete" => self.complete(msg).await,
            "logging/setLevel" => Reply::Json(self.set_level(msg).await),
            _ => Reply::Json(protocol::error_response(
                id,
                code::METHOD_NOT_FOUND,
                format!("method `{method}` is not supported by this gateway"),
                None,
            )),
        }
    }

    /// Handle a client notification.
    pub async fn handle_notification(self: &Arc<Self>, msg: Value) {
        self.touch();
        match protocol::method(&msg).unwrap_or("") {
            "notifications/initialized" => {}
            "notifications/cancelled" => self.cancel_request(protocol::params(&msg)).await,
            "notifications/roots/list_changed" => {
                for (_, conn) in self.up_links() {
                    let _ = conn.send(msg.clone()).await;
                }
            }
            other => {
                tracing::debug!(session = %self.id, method = other, "client notification not forwarded")
            }
        }
    }

    /// Handle a client response (to a request a backend sent the client).
    pub async fn handle_response(self: &Arc<Self>, msg: Value) {
        self.touch();
        self.answer_server_request(msg).await;
    }

    // ----- lists -----

    pub(super) async fn merged(self: &Arc<Self>, kind: ListKind) -> Arc<Merged> {
        let generation = self.shared.integrity.generation();
        let cached = {
            let c = lock(&self.cache);
            if c.generation != generation {
                None
            } else {
                match kind {
                    ListKind::Tools => c.tools.clone(),
                    ListKind::Prompts => c.prompts.clone(),
                    ListKind::Resources => c.resources.clone(),
                    ListKind::Templates => c.templates.clone(),
                }
            }
        };
        if let Some(m) = cached {
            return m;
        }
        let fetches = self.up_links().into_iter().filter(|(l, _)| {
            l.init().and_then(|i| i.get("capabilities").and_then(|c| c.get(kind.capability())).cloned()).is_some()
        }).map(|(link, conn)| async move {
            let mut items = Vec::new();
            let mut cursor: Option<Value> = None;
            for _ in 0..MAX_UPSTREAM_PAGES {
                let params = cursor.take().map(|c| json!({ "cursor": c }));
                match conn.call(kind.method(), params).await {
                    Ok(resp) => {
                        let Some(result) = resp.get("result") else {
                            let error = resp.get("error").cloned().unwrap_or(Value::Null);
                            tracing::warn!(backend = %link.spec.name, method = kind.method(), %error, "list failed");
                            break;
                        };
                        if let Some(arr) = result.get(kind.field()).and_then(Value::as_array) {
                            items.extend(arr.iter().cloned());
                        }
                        match result.get("nextCursor") {
                            Some(c) if !c.is_null() => cursor = Some(c.clone()),
                            _ => break,
                        }
                    }
                    Err(e) => {
                        tracing::warn!(backend = %link.spec.name, error = %e, "list failed");
                        if !conn.is_alive() {
                            return (link, None);
                        }
                        break;
                    }
                }
            }
            (link, Some(Arc::new(items)))
        });
        let results = futures::future::join_all(fetches).await;
        let mut lists = Vec::new();
        let mut verdicts = std::collections::HashMap::new();
        for (link, items) in results {
            match items {
                Some(items) => {
                    lock(&link.offered).insert(kind.field(), items.clone());
                    // Every list a backend gives is reviewed against its pins before a client
                    // sees any of it.
                    let items = match kind.integrity_kind() {
                        None => items,
                        Some(ik) => {
                            let server_info = link
                                .init()
                                .and_then(|i| i.get("serverInfo").cloned())
                                .unwrap_or(Value::Null);
                            let mut r = self.shared.integrity.review(
                                &link.spec.name,
                                ik,
                                &items,
                                &server_info,
                            );
                            if kind == ListKind::Templates {
                                // Templates route reads by URI: a quarantined one must not.
                                r.items.retain(|t| {
                                    crate::integrity::item_name(ik, t)
                                        .and_then(|n| r.verdicts.get(n))
                                        .is_none_or(|v| v.quarantine.is_none())
                                });
                            }
                            verdicts.insert(link.spec.name.clone(), r.verdicts);
                            Arc::new(r.items)
                        }
                    };
                    lists.push((link.spec.name.clone(), items));
                }
                None => self.backend_down(&link, "it failed while listing".into()),
            }
        }
        let mut merged = match kind {
            ListKind::Tools | ListKind::Prompts => {
                let (m, collisions) = self.shared.namer.merge(&lists);
                for c in collisions {
                    tracing::error!(session = %self.id, "unresolved name collision: {c}; add a rename rule");
                }
                m
            }
            ListKind::Resources => self.shared.namer.merge_resources(&lists, "uri"),
            ListKind::Templates => self.shared.namer.merge_resources(&lists, "uriTemplate"),
        };
        for h in &merged.hidden {
            tracing::info!(session = %self.id, backend = %h.backend, name = %h.original, exposed = %h.exposed, winner = %h.winner, "hidden by a name collision");
        }
        merged.verdicts = merged
            .routes
            .iter()
            .filter_map(|(exposed, r)| {
                let v = verdicts.get(&r.backend)?.get(&r.original)?;
                Some((exposed.clone(), v.clone()))
            })
            .collect();
        let merged = Arc::new(merged);
        let mut c = lock(&self.cache);
        if c.generation != generation {
            *c = super::Cache {
                generation,
                ..Default::default()
            };
        }
        let slot = match kind {
            ListKind::Tools => &mut c.tools,
            ListKind::Prompts => &mut c.prompts,
            ListKind::Resources => &mut c.resources,
            ListKind::Templates => &mut c.templates,
        };
        *slot = Some(merged.clone());
        merged
    }

    pub(super) async fn list(self: &Arc<Self>, kind: ListKind, msg: &Value) -> Value {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let offset = match protocol::params(msg).and_then(|p| p.get("cursor")) {
            None | Some(Value::Null) => 0,
            Some(c) => match decode_cursor(c, kind) {
                Some(o) => o,
                None => {
                    return protocol::error_response(
                        id,
                        code::INVALID_PARAMS,
                        "invalid or expired `cursor`",
                        None,
                    );
                }
            },
        };
        let merged = self.merged(kind).await;
        let visible = self.visible_items(kind, &merged);
        if offset == 0 {
            let mut rec = crate::guard::Guard::caller_record(
                &self.caller(),
                crate::audit::Kind::List,
                crate::audit::Decision::Allow,
            );
            rec.request_id = Some(id.to_string());
            rec.method = Some(kind.method().to_owned());
            rec.extra = Some(
                json!({ "listed": visible.len(), "hidden": merged.items.len() - visible.len() }),
            );
            self.shared.guard.event(rec);
        }
        let page = self.shared.page_size.max(1);
        let items: Vec<Value> = visible
            .iter()
            .skip(offset)
            .take(page)
            .map(|v| (*v).clone())
            .collect();
        let mut result = Map::new();
        result.insert(kind.field().into(), Value::Array(items));
        if offset.saturating_add(page) < visible.len() {
            result.insert(
                "nextCursor".into(),
                Value::String(encode_cursor(kind, offset + page)),
            );
        }
        protocol::result_response(id, Value::Object(result))
    }

    /// The items this principal may see: a quarantined item, or one the policy can never allow,
    /// is not listed.
    pub(super) fn visible_items<'m>(&self, kind: ListKind, merged: &'m Merged) -> Vec<&'m Value> {
        let guard = &self.shared.guard;
        let quarantined = |name: &str| {
            merged
                .verdicts
                .get(name)
                .is_some_and(|v| v.quarantine.is_some())
        };
        match kind {
            ListKind::Tools => {}
            ListKind::Prompts => {
                return merged
                    .items
                    .iter()
                    .filter(|item| {
                        let Some(name) = item.get("name").and_then(Value::as_str) else {
                            return false;
                        };
                        if quarantined(name) {
                            return false;
                        }
                        let Some(route) = merged.routes.get(name) else {
                            return false;
                        };
                        let r = ResourceRef::Prompt {
                            exposed: name,
                            original: &route.original,
                            backend: &route.backend,
                        };
                        guard.may_ever(&self.principal, Action::GetPrompt, r)
                    })
                    .collect();
            }
            ListKind::Resources => {
                return merged
                    .items
                    .iter()
                    .filter(|item| {
                        let Some(uri) = item.get("uri").and_then(Value::as_str) else {
                            return false;
                        };
                        let Some(route) = merged.routes.get(uri) else {
                            return false;
                        };
                        let r = ResourceRef::Resource {
                            uri,
                            backend: &route.backend,
                        };
                        guard.may_ever(&self.principal, Action::ReadResource, r)
                    })
                    .collect();
            }
            // A template is not a resource a policy can name; reads of its URIs are decided.
            ListKind::Templates => return merged.items.iter().collect(),
        }
        let mut refs = Vec::with_capacity(merged.items.len());
        let mut kept = Vec::with_capacity(merged.items.len());
        for item in &merged.items {
            let Some(name) = item.get("name").and_then(Value::as_str) else {
                continue;
            };
            let Some(route) = merged.routes.get(name) else {
                continue;
            };
            let verdict = merged.verdicts.get(name);
            if verdict.is_some_and(|v| v.quarantine.is_some()) {
                continue;
            }
            refs.push(ResourceRef::Tool {
                exposed: name,
                original: &route.original,
                backend: &route.backend,
                definition: item,
                // INVARIANT: `pinned` only when the backend's definition is the approved one
                // (an operator override on top is reviewed config), so policy may trust the
                // annotations clients see.
                pinned: verdict.is_some_and(|v| v.pinned),
                findings: verdict.map_or(&[], |v| v.findings.as_slice()),
            });
            kept.push(item);
        }
        let flags = self.shared.guard.visible(&self.principal, &refs);
        kept.into_iter()
            .zip(flags)
            .filter_map(|(item, show)| show.then_some(item))
            .collect()
    }

    /// The guard chain for one call of this session; `Err` is the reply to send instead.
    async fn admit(
        &self,
        id: &Value,
        method: &str,
        action: Action,
        resource: ResourceRef<'_>,
        arguments: Option<&Value>,
    ) -> Result<(), Reply> {
        let guard = self.shared.guard.clone();
        guard
            .admit(&self.caller(), id, method, action, resource, arguments)
            .await
            .map_err(Reply::Json)
    }

    // ----- routed calls -----

    async fn route_name(self: &Arc<Self>, kind: ListKind, name: &str) -> Option<Route> {
        if let Some(r) = self.merged(kind).await.routes.get(name) {
            return Some(r.clone());
        }
        // The client may hold a name from before a backend reconnected: refresh once.
        {
            let mut c = lock(&self.cache);
            match kind {
                ListKind::Tools => c.tools = None,
                _ => c.prompts = None,
            }
        }
        self.merged(kind).await.routes.get(name).cloned()
    }

    pub(super) async fn named_call(self: &Arc<Self>, kind: ListKind, mut msg: Value) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let Some(name) = protocol::params(&msg)
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Reply::Json(protocol::error_response(
                id,
                code::INVALID_PARAMS,
                "missing `name`",
                None,
            ));
        };
        let what = if kind == ListKind::Tools {
            "tool"
        } else {
            "prompt"
        };
        let Some(route) = self.route_name(kind, &name).await else {
            if let Some(e) = self.down_backend_offering(kind, &name) {
                return Reply::Json(super::upstream_error(id, &e));
            }
            // The name may belong to a backend that never came up in this session: say which
            // backends are missing and why, instead of a bare "unknown".
            let down: Vec<String> = self
                .links
                .iter()
                .filter_map(|l| l.conn().err().map(|e| e.to_string()))
                .collect();
            let (message, data) = if down.is_empty() {
                (format!("unknown {what} `{name}`"), None)
            } else {
                (
                    format!(
                        "unknown {what} `{name}`; unavailable in this session: {}",
                        down.join("; ")
                    ),
                    Some(json!({ "unavailable": down })),
                )
            };
            return Reply::Json(protocol::error_response(
                id,
                code::INVALID_PARAMS,
                message,
                data,
            ));
        };
        // The guard chain decides before anything goes upstream: integrity first (nobody may
        // call a quarantined definition), then policy, limits and audit.
        let merged = self.merged(kind).await;
        // Borrowed from the merged catalog: a tool's definition (its whole input schema) is
        // not copied on every call.
        let definition = merged
            .items
            .iter()
            .find(|i| i.get("name").and_then(Value::as_str) == Some(name.as_str()))
            .unwrap_or(&Value::Null);
        let verdict = merged.verdicts.get(&name).cloned().unwrap_or_default();
        if let Some(q) = &verdict.quarantine {
            let method = if kind == ListKind::Tools {
                "tools/call"
            } else {
                "prompts/get"
            };
            return Reply::Json(
                self.shared
                    .guard
                    .refuse_quarantined(
                        &self.caller(),
                        &id,
                        method,
                        what,
                        &name,
                        &route.backend,
                        &route.original,
                        q,
                    )
                    .await,
            );
        }
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
        if let Err(refusal) = self
            .admit(&id, method, action, resource, arguments.as_ref())
            .await
        {
            return refusal;
        }
        if let Some(p) = protocol::params_mut(&mut msg) {
            p.insert("name".into(), Value::String(route.original.clone()));
        }
        self.stream_forward(route.backend, msg)
    }

    /// The error of a backend that is down and last offered `name`: a client may still hold
    /// that name, and must learn which backend failed rather than that the name does not exist.
    fn down_backend_offering(&self, kind: ListKind, name: &str) -> Option<UpstreamError> {
        self.links.iter().filter(|l| !l.is_up()).find_map(|l| {
            let offered = lock(&l.offered).get(kind.field()).cloned()?;
            let offers = offered.iter().any(|item| {
                item.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|o| self.shared.namer.exposed_name(&l.spec.name, o) == name)
            });
            if offers { l.conn().err() } else { None }
        })
    }

    /// Forward with a request stream open, so the backend's related requests (sampling,
    /// elicitation) and notifications (progress, logging) reach the client while the call runs.
    fn stream_forward(self: &Arc<Self>, backend: String, msg: Value) -> Reply {
        let key = id_key(msg.get("id").unwrap_or(&Value::Null));
        let rx = self.open_request_stream(&key);
        let session = self.clone();
        Reply::Call(Call::new(
            async move {
                let resp = session.forward(&backend, msg).await;
                session.close_request_stream(&key);
                resp
            },
            rx,
        ))
    }

    async fn route_uri(self: &Arc<Self>, uri: &str) -> Result<String, UpstreamError> {
        if let Some(r) = self.merged(ListKind::Resources).await.routes.get(uri) {
            return Ok(r.backend.clone());
        }
        let templates = self.merged(ListKind::Templates).await;
        for t in &templates.items {
            if let Some(tpl) = t.get("uriTemplate").and_then(Value::as_str) {
                if template_matches(tpl, uri) {
                    if let Some(r) = templates.routes.get(tpl) {
                        return Ok(r.backend.clone());
                    }
                }
            }
        }
        // A resource neither listed nor templated: only unambiguous with one resource backend.
        let with_resources: Vec<String> = self
            .up_links()
            .into_iter()
            .filter(|(l, _)| {
                l.init().is_some_and(|i| {
                    i.get("capabilities")
                        .and_then(|c| c.get("resources"))
                        .is_some()
                })
            })
            .map(|(l, _)| l.spec.name.clone())
            .collect();
        match with_resources.as_slice() {
            [only] => Ok(only.clone()),
            _ => Err(UpstreamError::Unavailable {
                backend: String::new(),
                reason: format!("no backend offers resource `{uri}`"),
            }),
        }
    }

    async fn uri_call(self: &Arc<Self>, msg: Value, stream: bool) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let Some(uri) = protocol::params(&msg)
            .and_then(|p| p.get("uri"))
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Reply::Json(protocol::error_response(
                id,
                code::INVALID_PARAMS,
                "missing `uri`",
                None,
            ));
        };
        let method = protocol::method(&msg).unwrap_or("").to_owned();
        let routed = self.route_uri(&uri).await;
        if let Ok(backend) = &routed {
            let action = match method.as_str() {
                "resources/read" => Some(Action::ReadResource),
                "resources/subscribe" => Some(Action::SubscribeResource),
                // Unsubscribing only ever reduces what a client receives.
                _ => None,
            };
            if let Some(action) = action {
                let resource = ResourceRef::Resource { uri: &uri, backend };
                if let Err(refusal) = self.admit(&id, &method, action, resource, None).await {
                    return refusal;
                }
            }
        }
        match routed {
            Ok(backend) if stream => self.stream_forward(backend, msg),
            Ok(backend) => Reply::Json(self.forward(&backend, msg).await),
            Err(_) => Reply::Json(protocol::error_response(
                id,
                code::RESOURCE_NOT_FOUND,
                format!("resource not found: `{uri}`"),
                Some(json!({ "uri": uri })),
            )),
        }
    }

    async fn complete(self: &Arc<Self>, mut msg: Value) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let reference = protocol::params(&msg)
            .and_then(|p| p.get("ref"))
            .cloned()
            .unwrap_or(Value::Null);
        let rtype = reference.get("type").and_then(Value::as_str).unwrap_or("");
        let backend = match rtype {
            "ref/prompt" => {
                let name = reference.get("name").and_then(Value::as_str).unwrap_or("");
                match self.route_name(ListKind::Prompts, name).await {
                    Some(route) => {
                        let verdict = self
                            .merged(ListKind::Prompts)
                            .await
                            .verdicts
                            .get(name)
                            .cloned();
                        if let Some(q) = verdict.and_then(|v| v.quarantine) {
                            return Reply::Json(
                                self.shared
                                    .guard
                                    .refuse_quarantined(
                                        &self.caller(),
                                        &id,
                                        "completion/complete",
                                        "prompt",
                                        name,
                                        &route.backend,
                                        &route.original,
                                        &q,
                                    )
                                    .await,
                            );
                        }
                        let resource = ResourceRef::Prompt {
                            exposed: name,
                            original: &route.original,
                            backend: &route.backend,
                        };
                        if let Err(refusal) = self
                            .admit(&id, "completion/complete", Action::Complete, resource, None)
                            .await
                        {
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
                    None => {
                        return Reply::Json(protocol::error_response(
                            id,
                            code::INVALID_PARAMS,
                            format!("unknown prompt `{name}`"),
                            None,
                        ));
                    }
                }
            }
            "ref/resource" => {
                let uri = reference
                    .get("uri")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                match self.route_uri(&uri).await {
                    Ok(b) => {
                        let resource = ResourceRef::Resource {
                            uri: &uri,
                            backend: &b,
                        };
                        if let Err(refusal) = self
                            .admit(&id, "completion/complete", Action::Complete, resource, None)
                            .await
                        {
                            return refusal;
                        }
                        b
                    }
                    Err(_) => {
                        return Reply::Json(protocol::error_response(
                            id,
                            code::INVALID_PARAMS,
                            format!("unknown resource `{uri}`"),
                            None,
                        ));
                    }
                }
            }
            _ => {
                return Reply::Json(protocol::error_response(
                    id,
                    code::INVALID_PARAMS,
                    "`ref.type` must be `ref/prompt` or `ref/resource`",
                    None,
                ));
            }
        };
        Reply::Json(self.forward(&backend, msg).await)
    }

    /// Re-read every catalog now (the periodic refresh): drift a backend did not announce is
    /// reviewed, and the client hears `list_changed` for each list whose offer changed.
    pub(super) async fn refresh_catalogs(self: &Arc<Self>) {
        for kind in [ListKind::Tools, ListKind::Prompts, ListKind::Templates] {
            let before = {
                let mut c = lock(&self.cache);
                let slot = match kind {
                    ListKind::Tools => &mut c.tools,
                    ListKind::Prompts => &mut c.prompts,
                    _ => &mut c.templates,
                };
                slot.take()
            };
            let after = self.merged(kind).await;
            // A list the client has not read since it was last invalidated needs no notice.
            let changed =
                before.is_some_and(|b| b.items != after.items || b.verdicts != after.verdicts);
            if changed {
                let method = match kind {
                    ListKind::Tools => "notifications/tools/list_changed",
                    ListKind::Prompts => "notifications/prompts/list_changed",
                    _ => "notifications/resources/list_changed",
                };
                self.deliver(protocol::notification(method, None), None);
            }
        }
    }

    async fn set_level(self: &Arc<Self>, msg: Value) -> Value {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let targets: Vec<_> = self
            .up_links()
            .into_iter()
            .filter(|(l, _)| {
                l.init().is_some_and(|i| {
                    i.get("capabilities")
                        .and_then(|c| c.get("logging"))
                        .is_some()
                })
            })
            .collect();
        let params = msg.get("params").cloned();
        let calls = targets
            .iter()
            .map(|(_, conn)| conn.call("logging/setLevel", params.clone()));
        for (r, (l, _)) in futures::future::join_all(calls)
            .await
            .into_iter()
            .zip(targets.iter())
        {
            if let Err(e) = r {
                tracing::warn!(backend = %l.spec.name, error = %e, "logging/setLevel failed");
            }
        }
        protocol::result_response(id, json!({}))
    }
}

fn encode_cursor(kind: ListKind, offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}:{offset}", kind.tag()))
}

fn decode_cursor(c: &Value, kind: ListKind) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.as_str()?)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (tag, off) = text.split_once(':')?;
    (tag == kind.tag()).then(|| off.parse().ok()).flatten()
}
