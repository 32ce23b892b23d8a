//! Upstream sessions and who they serve: a [`Link`] is one backend's upstream session (for
//! stdio, one child process), kept up (reconnected with backoff when it drops), attached to one
//! or more clients; a [`LinkSet`] is one client's links, one per backend; the [`Pool`] hands out
//! links by backend and scope, so clients that may share one do (`[[backend]]
//! upstream_sessions`).
//!
//! A link forwards its clients' calls (upstream ids are the connection's own counter, so client
//! ids never collide upstream; progress tokens become gateway tokens) and routes what the
//! backend sends on its own:
//! - a message related to a call in flight (HTTP tells us which; progress names its token) goes
//!   to that call's stream;
//! - a server-to-client request (sampling, elicitation, roots) gets a gateway id and goes to its
//!   call's stream, or for stdio (no relation) to the backend's newest call in flight;
//! - list changes go to every attached client; resource updates to the clients that subscribed;
//!   anything else to the attached clients' standalone streams — never across principals.
//!
//! The links know nothing of sessions or the router: clients are [`Owner`]s, and the
//! gateway-wide callbacks are [`Hooks`].

mod lifecycle;
mod pool;
mod routing;
mod set;

pub use lifecycle::probe_eras;
pub use pool::Pool;
pub use set::LinkSet;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::modern::{self, ModernBackend};
use super::{BackendSpec, Conn, Inbound, UpstreamError};
use crate::config::{BackendProtocol, UpstreamSharing};
use crate::credentials::Binding;
use crate::protocol::meta::{Envelope, ParamHeaders};
use crate::protocol::{self, id_key};

/// What a link tells the clients attached to it.
pub trait Owner: Send + Sync {
    /// A message that rides on no call (a list change, an unrelated log message). `Err` gives it
    /// back when the client has no standalone stream open.
    fn send_standalone(&self, msg: Value) -> Result<(), Value>;
    /// Keep `msg` for the client's next standalone stream (bounded; oldest dropped first).
    fn queue(&self, msg: Value);
    /// A backend announced that one of its lists changed (the notification itself follows).
    fn list_changed(&self, backend: &str, list: ListChange);
    /// A backend of this client came up (again) or went down.
    fn backend_state(&self, backend: &str, state: BackendState<'_>);
}

/// Gateway-wide callbacks, the same for every link.
pub trait Hooks: Send + Sync {
    /// Checked before a backend is started (the pins of what a stdio backend runs).
    fn before_start(&self, spec: &BackendSpec) -> Result<(), UpstreamError>;
    /// A backend answered `initialize` (its capabilities are worth remembering while it is down).
    fn connected(&self, backend: &str, init: &Value);
    /// A forwarded call ended (`name`: the tool, prompt or URI it was for).
    fn call_done(
        &self,
        backend: &str,
        name: Option<&str>,
        elapsed: Duration,
        error: Option<&UpstreamError>,
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListChange {
    Tools,
    Prompts,
    Resources,
}

#[derive(Debug, Clone, Copy)]
pub enum BackendState<'a> {
    Up,
    Down { reason: &'a str },
}

/// Ids of server-to-client requests as clients see them: unique in the process, so a client's
/// answer finds its link whichever links it shares.
static NEXT_SERVER_REQUEST: AtomicU64 = AtomicU64::new(1);
/// Owner ids (one per client attached to links).
static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

/// What the start-up probe (or a link's own probe) learned of a backend's eras.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Eras {
    /// It answers 2026-07-28 requests.
    pub modern: bool,
    /// It takes `initialize` (a 2025-era session).
    pub legacy: bool,
}

/// Which clients one link serves: the scope part of its pool key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Scope {
    Session(String),
    Principal { principal: String, profile: String },
    Shared { profile: String },
}

/// A client asking for links.
pub struct Client {
    pub owner: Weak<dyn Owner>,
    /// `iss|sub` of the principal.
    pub principal: String,
    /// The client session (or request) it is, for logs and per-session links.
    pub label: String,
    /// What must stay apart between clients sharing a link: protocol version and declared
    /// capabilities, canonical (see [`profile_of`]).
    pub profile: String,
    /// The client's `initialize` params, forwarded untouched when a new link connects.
    pub init_params: Value,
    pub token: Option<String>,
    /// The client speaks 2026-07-28 (a backend that speaks both eras is spoken to in the
    /// client's own).
    pub modern: bool,
}

/// The profile of `initialize` params: what a backend may tailor its offer to (protocol
/// version and client capabilities), so clients that differ in it never share a link.
pub fn profile_of(init_params: &Value) -> String {
    let version = init_params
        .get("protocolVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let caps = init_params
        .get("capabilities")
        .map(|c| protocol::sorted_keys(c.clone()).to_string())
        .unwrap_or_default();
    format!("{version}|{caps}")
}

struct Attached {
    id: u64,
    owner: Weak<dyn Owner>,
    principal: String,
}

/// A call in flight, by upstream id.
struct InFlight {
    /// The call's stream: messages the backend relates to the call go there.
    sink: mpsc::Sender<Value>,
    /// A stateless call is cancelled by dropping its request: this stops it.
    abort: Option<CancellationToken>,
}

#[derive(Default)]
struct Routes {
    calls: HashMap<u64, InFlight>,
    /// (owner, client key of a call) → upstream id, for cancellation.
    by_client: HashMap<(u64, String), u64>,
    /// Gateway progress token → (client token, upstream id).
    progress: HashMap<String, (Value, u64)>,
    /// Gateway id of a server-to-client request → the backend's own id.
    server_reqs: HashMap<String, Value>,
    /// Resource URI → owners subscribed to it.
    subs: HashMap<String, HashSet<u64>>,
}

/// One backend's upstream session, shared by the clients attached to it.
pub struct Link {
    pub spec: Arc<BackendSpec>,
    scope: Scope,
    /// Whether its clients speak 2026-07-28.
    client_modern: bool,
    /// Capabilities of the clients it serves (its profile): what requests the gateway makes on
    /// its own (lists, subscriptions) declare to a 2026-07-28 backend.
    caps: Value,
    /// Ids of requests to a 2026-07-28 backend (a 2025-era session has its own counter).
    next_uid: AtomicU64,
    /// The resource subscriptions changed: a 2026-07-28 backend's listen is renewed.
    listen_changed: Arc<tokio::sync::Notify>,
    /// Renewals asked for, and the last one the backend acknowledged: a subscription is in
    /// force once its renewal is acknowledged.
    listen_wanted: AtomicU64,
    listen_acked: watch::Sender<u64>,
    state: RwLock<LinkState>,
    /// Set once the first connection attempt has settled (up or down).
    settled: watch::Sender<bool>,
    /// What the backend last listed, by list field (`tools`, `prompts`): while it is down, a call
    /// to one of its names gets its error (naming it) instead of "unknown tool".
    offered: Mutex<HashMap<&'static str, Arc<Vec<Value>>>>,
    /// The `x-mcp-header` annotations of the tools last offered, by the backend's own name
    /// (`ParamHeaders::of_tools`, worked out when the list is stored).
    tool_params: Mutex<HashMap<String, ParamHeaders>>,
    routes: Mutex<Routes>,
    owners: Mutex<Vec<Attached>>,
    /// The first client's `initialize` params, forwarded untouched on (re)connect.
    init_params: Value,
    /// Who the link acts for (credentials are per caller) and the caller's latest token.
    caller: String,
    subject: Arc<Mutex<Option<String>>>,
    hooks: Weak<dyn Hooks>,
    pool: Weak<Pool>,
    next_token: AtomicU64,
    cancel: CancellationToken,
    /// For logs.
    label: String,
}

#[derive(Clone)]
enum LinkState {
    Connecting,
    /// `init`: the backend's `initialize` result (2025), or what its `server/discover` said in
    /// that shape (`capabilities`, `serverInfo`, `instructions`).
    Up {
        via: Via,
        init: Value,
    },
    Down {
        reason: String,
    },
    Closed,
}

/// How a link reaches its backend.
#[derive(Clone)]
enum Via {
    /// A 2025-era upstream session.
    Session(Arc<Conn>),
    /// Stateless 2026-07-28 requests.
    Stateless(Arc<ModernBackend>),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another task panicked while holding it; the maps stay usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What [`LinkSet::forward`] returns: the backend's response, or why there is none.
pub type Forwarded = Result<Value, UpstreamError>;

impl Link {
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// How the link reaches its backend, or why it cannot.
    fn via(&self) -> Result<Via, UpstreamError> {
        let unavailable = |reason: String| UpstreamError::Unavailable {
            backend: self.spec.name.clone(),
            reason,
        };
        // Read under the lock, cloning only the handle (an `Arc`): the state also holds the
        // backend's whole `initialize` result, which no request needs a copy of.
        let state = self.state.read();
        match state.as_deref() {
            Ok(LinkState::Up { via, .. }) => Ok(via.clone()),
            Ok(LinkState::Down { reason }) => Err(unavailable(reason.clone())),
            Ok(LinkState::Connecting) => Err(unavailable("it is still connecting".into())),
            Ok(LinkState::Closed) | Err(_) => Err(unavailable("the session is closed".into())),
        }
    }

    /// Why the backend cannot be reached now (`None`: it is up).
    pub fn unavailable(&self) -> Option<UpstreamError> {
        self.via().err()
    }

    /// Whether the link speaks 2026-07-28 to its backend.
    pub fn is_stateless(&self) -> bool {
        matches!(self.via(), Ok(Via::Stateless(_)))
    }

    /// Whether the transport is still up (a stdio child that exited is not).
    pub fn is_alive(&self) -> bool {
        match self.via() {
            Ok(Via::Session(c)) => c.is_alive(),
            Ok(Via::Stateless(b)) => b.is_alive(),
            Err(_) => false,
        }
    }

    /// The envelope of the gateway's own requests to a 2026-07-28 backend.
    fn own_envelope(&self) -> Envelope {
        let mut env = Envelope::new(self.caps.clone());
        env.client_info =
            Some(json!({ "name": "portcullis", "version": env!("CARGO_PKG_VERSION") }));
        env
    }

    fn binding(&self) -> Binding {
        Binding {
            source: self.spec.credentials.clone(),
            caller: self.caller.clone(),
            subject: self.subject.clone(),
        }
    }

    /// The credential header for one stateless request.
    async fn credential(&self) -> Result<Option<modern::Credential>, UpstreamError> {
        self.spec
            .credentials
            .header_for(&self.caller, &self.subject)
            .await
            .map_err(|e| UpstreamError::Credentials {
                backend: self.spec.name.clone(),
                reason: e.to_string(),
            })
    }

    /// A request the gateway makes on its own (a list page, a subscription): the response.
    pub async fn call(&self, method: &str, params: Option<Value>) -> Result<Value, UpstreamError> {
        match self.via()? {
            Via::Session(conn) => conn.call(method, params).await,
            Via::Stateless(backend) => {
                let uid = self.next_uid.fetch_add(1, Ordering::Relaxed);
                let mut msg = json!({"jsonrpc": "2.0", "id": uid, "method": method});
                if let (Some(p), Some(o)) = (params, msg.as_object_mut()) {
                    o.insert("params".into(), p);
                }
                let call = modern::Call {
                    credential: self.credential().await?,
                    ..Default::default()
                };
                backend
                    .request(&self.own_envelope(), msg, call)
                    .await?
                    .response()
                    .await
            }
        }
    }

    /// `resources/subscribe` at the backend (2025), or its listen renewed with the URI (2026).
    pub async fn subscribe_upstream(&self, uri: &str) -> Result<(), UpstreamError> {
        match self.via()? {
            Via::Session(_) => {
                let resp = self
                    .call("resources/subscribe", Some(json!({ "uri": uri })))
                    .await?;
                match resp.get("error") {
                    None => Ok(()),
                    Some(e) => Err(UpstreamError::Protocol {
                        backend: self.spec.name.clone(),
                        reason: format!("`resources/subscribe` refused: {e}"),
                    }),
                }
            }
            Via::Stateless(_) => {
                // In force once the renewed listen is acknowledged: an update right after the
                // subscription must not be missed.
                let wanted = self.listen_wanted.fetch_add(1, Ordering::SeqCst) + 1;
                let mut acked = self.listen_acked.subscribe();
                self.listen_changed.notify_one();
                match tokio::time::timeout(self.spec.timeout, acked.wait_for(|a| *a >= wanted))
                    .await
                {
                    Ok(Ok(_)) => Ok(()),
                    _ => Err(UpstreamError::Timeout {
                        backend: self.spec.name.clone(),
                        secs: self.spec.timeout.as_secs(),
                    }),
                }
            }
        }
    }

    /// The last subscriber of `uri` left.
    pub async fn unsubscribe_upstream(&self, uri: &str) {
        match self.via() {
            Ok(Via::Session(_)) => {
                if let Err(e) = self
                    .call("resources/unsubscribe", Some(json!({ "uri": uri })))
                    .await
                {
                    tracing::debug!(backend = %self.spec.name, uri, error = %e, "upstream unsubscribe failed");
                }
            }
            Ok(Via::Stateless(_)) => self.listen_changed.notify_one(),
            Err(_) => {}
        }
    }

    /// The backend's `initialize` result while it is up.
    pub fn init(&self) -> Option<Value> {
        match self.state.read().ok()?.clone() {
            LinkState::Up { init, .. } => Some(init),
            _ => None,
        }
    }

    /// Whether the backend announced capability `cap` (`tools`, `resources`, `logging`, …).
    pub fn offers(&self, cap: &str) -> bool {
        match self.state.read().as_deref() {
            Ok(LinkState::Up { init, .. }) => {
                init.get("capabilities").and_then(|c| c.get(cap)).is_some()
            }
            _ => false,
        }
    }

    fn set(&self, s: LinkState) {
        if let Ok(mut g) = self.state.write() {
            if !matches!(*g, LinkState::Closed) {
                *g = s;
            }
        }
    }

    pub fn is_up(&self) -> bool {
        matches!(self.state.read().as_deref(), Ok(LinkState::Up { .. }))
    }

    fn is_connecting(&self) -> bool {
        matches!(self.state.read().as_deref(), Ok(LinkState::Connecting))
    }

    /// Remember what the backend listed under `field`.
    pub fn set_offered(&self, field: &'static str, items: Arc<Vec<Value>>) {
        if field == "tools" {
            *lock(&self.tool_params) = ParamHeaders::of_tools(&items);
        }
        lock(&self.offered).insert(field, items);
    }

    /// What the backend last listed under `field`.
    pub fn offered(&self, field: &str) -> Option<Arc<Vec<Value>>> {
        lock(&self.offered).get(field).cloned()
    }

    fn owners(&self) -> Vec<(u64, Arc<dyn Owner>, String)> {
        lock(&self.owners)
            .iter()
            .filter_map(|a| a.owner.upgrade().map(|o| (a.id, o, a.principal.clone())))
            .collect()
    }

    /// Whether every attached client is the same principal (so a message for "the client" may
    /// go to any of them).
    fn one_principal(&self) -> bool {
        let owners = lock(&self.owners);
        let mut it = owners.iter().map(|a| &a.principal);
        let first = it.next();
        it.all(|p| Some(p) == first)
    }

    fn hooks(&self) -> Option<Arc<dyn Hooks>> {
        self.hooks.upgrade()
    }
}

/// Who a backend's message is for, when no call stream takes it.
enum Audience {
    /// One client (a server request, progress): the first that can take it.
    One,
    /// Every attached client of the link's principal (unrelated notifications).
    All,
    /// Every attached client, whoever they are (list changes: about the backend, not a user).
    Everyone,
    /// These clients (those that subscribed to a resource).
    These(HashSet<u64>),
}

fn key_to_id(k: &str) -> Value {
    if let Some(s) = k.strip_prefix("s:") {
        return Value::String(s.to_owned());
    }
    let n = k.strip_prefix("n:").unwrap_or(k);
    serde_json::from_str(n).unwrap_or(Value::Null)
}
