//! Lists: each backend's list fetched, reviewed by integrity, merged under the naming rules,
//! cached per view, and filtered to what the calling principal may see.

use std::sync::Arc;

use base64::Engine;
use serde_json::{Map, Value, json};

use super::{Context, ListKind, RouteError, Router};
use crate::audit::{Decision, Kind};
use crate::catalog::{Merged, Route};
use crate::integrity::Listing;
use crate::policy::{Action, ResourceRef};
use crate::protocol;
use crate::protocol::meta::ParamHeaders;
use crate::upstream::probe;

/// Most pages we follow when listing one backend (guards against a cursor loop).
const MAX_UPSTREAM_PAGES: usize = 100;

impl Router {
    /// The merged list of `kind` for this view: cached until a backend goes up or down or
    /// announces a change, or approvals change.
    pub(super) async fn merged(&self, cx: &Context, kind: ListKind) -> Arc<Merged> {
        if let Some(m) = cx.view.lists.get(kind, self.integrity.generation()) {
            return m;
        }
        // Callers that miss together wait for one fetch instead of each listing every backend.
        let _flight = cx.view.lists.flight(kind).await;
        if let Some(m) = cx.view.lists.get(kind, self.integrity.generation()) {
            return m;
        }
        self.fetch_merged(cx, kind).await
    }

    /// List `kind` from the backends again now, whatever is cached (the cached list stays
    /// until the new one replaces it). Callers bound how often (`ListCache::may_refetch`).
    pub(super) async fn refetch(&self, cx: &Context, kind: ListKind) -> Arc<Merged> {
        let _flight = cx.view.lists.flight(kind).await;
        self.fetch_merged(cx, kind).await
    }

    /// Fetch, review, merge and cache `kind` (the caller holds the kind's flight).
    async fn fetch_merged(&self, cx: &Context, kind: ListKind) -> Arc<Merged> {
        let generation = self.integrity.generation();
        let links = &cx.view.links;
        let fetches = links
            .up()
            .into_iter()
            .filter(|l| l.offers(kind.capability()))
            .map(|link| async move {
                let mut items = Vec::new();
                let mut cursor: Option<Value> = None;
                for _ in 0..MAX_UPSTREAM_PAGES {
                    let params = cursor.take().map(|c| json!({ "cursor": c }));
                    match link.call(kind.method(), params).await {
                        Ok(resp) => {
                            let Some(result) = resp.get("result") else {
                                let error = resp.get("error").cloned().unwrap_or(Value::Null);
                                tracing::warn!(backend = %link.name(), method = kind.method(), %error, "list failed");
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
                            tracing::warn!(backend = %link.name(), error = %e, "list failed");
                            if !link.is_alive() {
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
            let Some(items) = items else {
                links.backend_down(&link, "it failed while listing".into());
                continue;
            };
            link.set_offered(kind.field(), items.clone());
            // Every list a backend gives is reviewed against its pins before a client sees any
            // of it.
            let items = match kind.integrity_kind() {
                // Not pinned (data a server changes at will), but scanned: a resource with a
                // quarantining finding is not listed (`visible_items`).
                None => {
                    let r = self.integrity.screen_resources(link.name(), &items);
                    verdicts.insert(link.name().to_owned(), r.verdicts);
                    Arc::new(r.items)
                }
                Some(ik) => {
                    let server_info = link
                        .init()
                        .and_then(|i| i.get("serverInfo").cloned())
                        .unwrap_or(Value::Null);
                    // A backend may list less to a client that declared less than the probe,
                    // or to one caller: what such a list lacks is not drift.
                    let listing = if probe::needs_caller(&link.spec)
                        || !probe::declares_all(&cx.client.capabilities)
                    {
                        Listing::Partial
                    } else {
                        Listing::Whole
                    };
                    // A quarantined template stays in the merged list with its verdict: it is
                    // not listed (`visible_items`), and a URI it matches is refused rather
                    // than routed (`calls::resolve_uri`).
                    let r = self
                        .integrity
                        .review(link.name(), ik, &items, &server_info, listing);
                    verdicts.insert(link.name().to_owned(), r.verdicts);
                    Arc::new(r.items)
                }
            };
            // Metric labels come only from what backends list (telemetry::labels).
            let metrics = &self.guard.metrics;
            let key = match kind {
                ListKind::Tools | ListKind::Prompts => "name",
                ListKind::Resources => "uri",
                ListKind::Templates => "uriTemplate",
            };
            let named = items
                .iter()
                .filter_map(|i| i.get(key).and_then(Value::as_str));
            if kind == ListKind::Templates {
                metrics.note_templates(link.name(), named);
            } else {
                metrics.note_catalog(link.name(), named);
            }
            lists.push((link.name().to_owned(), items));
        }
        let mut merged = match kind {
            ListKind::Tools | ListKind::Prompts => {
                let (m, collisions) = self.namer.merge(&lists);
                for c in collisions {
                    tracing::error!("unresolved name collision: {c}; add a rename rule");
                }
                m
            }
            ListKind::Resources => self.namer.merge_resources(&lists, "uri"),
            ListKind::Templates => self.namer.merge_resources(&lists, "uriTemplate"),
        };
        for h in &merged.hidden {
            tracing::info!(backend = %h.backend, name = %h.original, exposed = %h.exposed, winner = %h.winner, "hidden by a name collision");
        }
        merged.verdicts = merged
            .routes
            .iter()
            .filter_map(|(exposed, r)| {
                let v = verdicts.get(&r.backend)?.get(&r.original)?;
                Some((exposed.clone(), v.clone()))
            })
            .collect();
        if kind == ListKind::Tools {
            merged.version = crate::meta::cache::catalog_version(&merged.items);
            merged.param_headers = ParamHeaders::of_tools(&merged.items);
        }
        let merged = Arc::new(merged);
        cx.view.lists.put(kind, generation, merged.clone());
        merged
    }

    pub(super) async fn list(&self, cx: &Context, kind: ListKind, msg: &Value) -> Value {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let offset = match protocol::params(msg).and_then(|p| p.get("cursor")) {
            None | Some(Value::Null) => 0,
            Some(c) => match decode_cursor(c, kind) {
                Some(o) => o,
                None => return RouteError::InvalidCursor.response(id),
            },
        };
        let merged = self.merged(cx, kind).await;
        let visible = self.visible_items(cx, kind, &merged);
        if offset == 0 {
            let mut rec = cx.caller().record(Kind::List, Decision::Allow);
            rec.request_id = Some(id.to_string());
            rec.method = Some(kind.method().to_owned());
            rec.extra = Some(
                json!({ "listed": visible.len(), "hidden": merged.items.len() - visible.len() }),
            );
            self.guard.event(rec);
        }
        let page = self.page_size.max(1);
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

    /// The items the calling principal may see: a quarantined item, or one the policy can never
    /// allow, is not listed.
    pub(super) fn visible_items<'m>(
        &self,
        cx: &Context,
        kind: ListKind,
        merged: &'m Merged,
    ) -> Vec<&'m Value> {
        let guard = &self.guard;
        let principal = &cx.principal;
        let quarantined = |name: &str| {
            merged
                .verdicts
                .get(name)
                .is_some_and(|v| v.quarantine.is_some())
        };
        // Prompts and resources are decided one by one: named by `field`, not quarantined,
        // routed, and `action` on the `target` allowed by some context.
        let one_by_one = |field: &str,
                          action: Action,
                          target: for<'a> fn(&'a str, &'a Route) -> ResourceRef<'a>|
         -> Vec<&'m Value> {
            merged
                .items
                .iter()
                .filter(|item| {
                    let Some(key) = item.get(field).and_then(Value::as_str) else {
                        return false;
                    };
                    if quarantined(key) {
                        return false;
                    }
                    let Some(route) = merged.routes.get(key) else {
                        return false;
                    };
                    guard.may_ever(principal, action, target(key, route))
                })
                .collect()
        };
        match kind {
            ListKind::Tools => {}
            ListKind::Prompts => {
                return one_by_one("name", Action::GetPrompt, |name, route| {
                    ResourceRef::Prompt {
                        exposed: name,
                        original: &route.original,
                        backend: &route.backend,
                    }
                });
            }
            ListKind::Resources => {
                return one_by_one("uri", Action::ReadResource, |uri, route| {
                    ResourceRef::Resource {
                        uri,
                        backend: &route.backend,
                    }
                });
            }
            // A template is not a resource a policy can name; reads of its URIs are decided.
            // A quarantined one is not offered.
            ListKind::Templates => {
                return merged
                    .items
                    .iter()
                    .filter(|t| {
                        t.get("uriTemplate")
                            .and_then(Value::as_str)
                            .is_some_and(|name| !quarantined(name))
                    })
                    .collect();
            }
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
        let flags = guard.visible(principal, &refs);
        kept.into_iter()
            .zip(flags)
            .filter_map(|(item, show)| show.then_some(item))
            .collect()
    }

    /// Re-read every catalog now (the periodic refresh): drift a backend did not announce is
    /// reviewed. Returns the notifications for each list whose offer changed.
    pub async fn refresh_catalogs(&self, cx: &Context) -> Vec<Value> {
        let mut changed = Vec::new();
        for kind in [ListKind::Tools, ListKind::Prompts, ListKind::Templates] {
            let before = cx.view.lists.take(kind);
            let after = self.merged(cx, kind).await;
            // A list the client has not read since it was last invalidated needs no notice.
            if before.is_some_and(|b| b.items != after.items || b.verdicts != after.verdicts) {
                changed.push(protocol::notification(kind.changed_notification(), None));
            }
        }
        changed
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
