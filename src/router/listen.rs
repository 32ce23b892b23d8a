//! `subscriptions/listen` (MCP 2026-07-28): one long-lived stream per listen request that
//! carries the change notifications its filter opted into — list changes of the merged catalog
//! and updates of the resources it names — each tagged with the listen's id.
//!
//! A listen belongs to a [`View`]; the view's links deliver what backends send on no call to it.
//! Resource subscriptions go through the guard (`subscribe_resource`) and, for a 2025-era
//! backend, become `resources/subscribe` on the upstream session, shared and reference-counted
//! with the other clients of that session. The acknowledgment names what is honoured. A client
//! closing the stream ends the listen (and its subscriptions); a gateway shutting down ends it
//! gracefully with the listen's result.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Call, Context, Reply, RouteError, Router, View, lock};
use crate::guard::Ask;
use crate::policy::{Action, ResourceRef};
use crate::protocol::{self, meta_keys};

/// Listens open at once per view (one principal and client profile), at most.
pub const MAX_LISTENS: usize = 16;
/// Resource URIs one listen may name, at most.
pub const MAX_SUBSCRIPTIONS: usize = 256;
/// Capacity of a listen stream's channel; a listener that does not read loses the overflow.
const LISTEN_CAPACITY: usize = 256;

/// What one listen asked for (and was granted).
#[derive(Debug, Clone, Default)]
pub(super) struct Filter {
    tools: bool,
    prompts: bool,
    resources: bool,
    /// (backend, URI) of each honoured resource subscription.
    uris: Vec<(String, String)>,
}

impl Filter {
    fn wants(&self, msg: &Value) -> bool {
        match protocol::method(msg).unwrap_or("") {
            "notifications/tools/list_changed" => self.tools,
            "notifications/prompts/list_changed" => self.prompts,
            "notifications/resources/list_changed" => self.resources,
            "notifications/resources/updated" => {
                let uri = protocol::params(msg)
                    .and_then(|p| p.get("uri"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                self.uris.iter().any(|(_, u)| {
                    uri == u
                        || uri
                            .strip_prefix(u.as_str())
                            .is_some_and(|rest| rest.starts_with(['/', '#', '?']))
                })
            }
            _ => false,
        }
    }
}

pub(super) struct Listener {
    key: u64,
    id: Value,
    filter: Filter,
    tx: mpsc::Sender<Value>,
    /// Fired to end the listen gracefully (shutdown).
    end: CancellationToken,
}

static NEXT_LISTEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl View {
    /// Whether any listen is open.
    pub fn listening(&self) -> bool {
        !lock(&self.listens).is_empty()
    }

    /// End every listen gracefully.
    pub fn end_listens(&self) {
        for l in lock(&self.listens).iter() {
            l.end.cancel();
        }
    }

    /// Deliver `msg` to every listen that asked for it, tagged with its id. `false`: none did.
    pub fn to_listens(&self, msg: &Value) -> bool {
        let listens = lock(&self.listens);
        let mut any = false;
        for l in listens.iter().filter(|l| l.filter.wants(msg)) {
            let mut m = msg.clone();
            tag(&mut m, &l.id);
            if l.tx.try_send(m).is_ok() {
                any = true;
            } else {
                tracing::warn!(listen = %l.id, "listen stream full or closed; notification dropped");
            }
        }
        any
    }
}

/// Put `_meta["io.modelcontextprotocol/subscriptionId"] = id` into a notification's params.
fn tag(msg: &mut Value, id: &Value) {
    let Some(o) = msg.as_object_mut() else { return };
    let params = o
        .entry("params")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(p) = params.as_object_mut() {
        let meta = p
            .entry("_meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(m) = meta.as_object_mut() {
            m.insert(meta_keys::SUBSCRIPTION_ID.into(), id.clone());
        }
    }
}

/// Removes its listen from the view (and its subscriptions upstream) when the stream goes.
struct Registration {
    view: Arc<View>,
    key: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let removed = {
            let mut listens = lock(&self.view.listens);
            let at = listens.iter().position(|l| l.key == self.key);
            at.map(|i| listens.swap_remove(i))
        };
        let Some(listener) = removed else { return };
        let view = self.view.clone();
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            for (backend, uri) in listener.filter.uris {
                if view.links.unsubscribe(&backend, &uri) {
                    unsubscribe_upstream(&view, &backend, &uri).await;
                }
            }
        });
    }
}

async fn unsubscribe_upstream(view: &View, backend: &str, uri: &str) {
    if let Some(link) = view.links.link(backend) {
        link.unsubscribe_upstream(uri).await;
    }
}

impl Router {
    /// `subscriptions/listen`: acknowledge what is honoured, then stream what was asked for
    /// until the client closes the stream.
    pub(super) async fn listen(self: &Arc<Self>, cx: &Context, msg: Value) -> Reply {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let asked = protocol::params(&msg)
            .and_then(|p| p.get("notifications"))
            .cloned()
            .unwrap_or(Value::Null);
        let Some(asked) = asked.as_object() else {
            return RouteError::InvalidArguments(
                "`subscriptions/listen` needs `notifications`: the kinds of notification to receive"
                    .into(),
            )
            .reply(id);
        };
        let flag = |k: &str| asked.get(k).and_then(Value::as_bool) == Some(true);
        let uris: Vec<String> = match asked.get("resourceSubscriptions") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                if a.len() > MAX_SUBSCRIPTIONS {
                    return RouteError::InvalidArguments(format!(
                        "`resourceSubscriptions` names {} resources; at most {MAX_SUBSCRIPTIONS}",
                        a.len()
                    ))
                    .reply(id);
                }
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            }
            Some(_) => {
                return RouteError::InvalidArguments(
                    "`resourceSubscriptions` must be an array of URIs".into(),
                )
                .reply(id);
            }
        };
        if lock(&cx.view.listens).len() >= MAX_LISTENS {
            return RouteError::InvalidArguments(format!(
                "too many open listens ({MAX_LISTENS}) for this caller; close one first"
            ))
            .reply(id);
        }
        let mut filter = Filter {
            tools: flag("toolsListChanged"),
            prompts: flag("promptsListChanged"),
            resources: flag("resourcesListChanged"),
            uris: Vec::new(),
        };
        // Each resource subscription passes the guard; a refused or unroutable one is not
        // honoured (the acknowledgment says which are).
        let mut seen = HashSet::new();
        for uri in uris {
            if !seen.insert(uri.clone()) {
                continue;
            }
            let Some(backend) = self.route_uri(cx, &uri).await else {
                continue;
            };
            let subscribable = cx.view.links.link(&backend).is_some_and(|l| {
                l.init()
                    .and_then(|i| i.pointer("/capabilities/resources/subscribe").cloned())
                    == Some(Value::Bool(true))
            });
            if !subscribable {
                continue;
            }
            let ask = Ask {
                request_id: &id,
                method: "subscriptions/listen",
                action: Action::SubscribeResource,
                resource: ResourceRef::Resource {
                    uri: &uri,
                    backend: &backend,
                },
                arguments: None,
                verdict: None,
            };
            if self.guard.admit(cx.caller(), ask).await.is_err() {
                continue;
            }
            if cx.view.links.subscribe(&backend, &uri) {
                let ok = match cx.view.links.link(&backend) {
                    Some(link) => link.subscribe_upstream(&uri).await.is_ok(),
                    None => false,
                };
                if !ok {
                    cx.view.links.unsubscribe(&backend, &uri);
                    continue;
                }
            }
            filter.uris.push((backend, uri));
        }
        let mut honoured = Map::new();
        for (k, on) in [
            ("toolsListChanged", filter.tools),
            ("promptsListChanged", filter.prompts),
            ("resourcesListChanged", filter.resources),
        ] {
            if on {
                honoured.insert(k.into(), Value::Bool(true));
            }
        }
        if asked.contains_key("resourceSubscriptions") {
            honoured.insert(
                "resourceSubscriptions".into(),
                Value::Array(
                    filter
                        .uris
                        .iter()
                        .map(|(_, u)| Value::String(u.clone()))
                        .collect(),
                ),
            );
        }
        let (tx, rx) = mpsc::channel(LISTEN_CAPACITY);
        let mut ack = protocol::notification(
            "notifications/subscriptions/acknowledged",
            Some(json!({ "notifications": honoured })),
        );
        tag(&mut ack, &id);
        let _ = tx.try_send(ack);
        let key = NEXT_LISTEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let end = CancellationToken::new();
        lock(&cx.view.listens).push(Listener {
            key,
            id: id.clone(),
            filter,
            tx,
            end: end.clone(),
        });
        let registration = Registration {
            view: cx.view.clone(),
            key,
        };
        Reply::Call(Call::until_dropped(
            async move {
                let _registration = registration;
                end.cancelled().await;
                // Ended by the gateway: the listen's result closes the stream gracefully.
                protocol::result_response(
                    id.clone(),
                    json!({
                        "resultType": "complete",
                        "_meta": { meta_keys::SUBSCRIPTION_ID: id },
                    }),
                )
            },
            rx,
        ))
    }
}
