//! Probing a backend: one short upstream session with the gateway's own identity that reads what
//! the backend offers (`serverInfo`, capabilities, every page of tools, prompts and resource
//! templates) and closes again. `serve` probes at start, `check`, `pins` and `catalog` probe
//! beside a running gateway; what to make of the lists (pins, naming, workflows) is theirs.
//!
//! A backend that may speak 2026-07-28 (`protocol = "auto"` or `"2026-07-28"`) is first asked
//! `server/discover`; one that answers is listed with stateless requests, one that does not
//! gets `initialize`. Either way the report says which eras it speaks.
//!
//! A backend that only accepts per-caller tokens (token exchange, passthrough) is not probed:
//! there is no caller to speak for. Checks that must pass before a backend is started at all (a
//! stdio backend's executable pins) are the caller's, before it calls [`probe_backend`].

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::links::{Eras, probe_eras};
use super::modern::{self, ModernBackend};
use super::{BackendSpec, Conn, UpstreamError};
use crate::config::BackendProtocol;
use crate::protocol;
use crate::protocol::meta::Envelope;

/// Pages read of one list at most: a backend that always answers with a `nextCursor` must not
/// keep a probe going forever.
const MAX_PAGES: usize = 100;

/// What probing one backend gave.
#[derive(Debug, Clone)]
pub struct ProbeReport {
    pub backend: String,
    pub outcome: Result<ProbeInfo, ProbeError>,
}

/// What a backend offers, as it listed it to the probe.
#[derive(Debug, Clone, Default)]
pub struct ProbeInfo {
    pub server_info: Value,
    pub capabilities: Value,
    pub tools: Vec<Value>,
    pub prompts: Vec<Value>,
    pub resource_templates: Vec<Value>,
    /// Its server `instructions` (from `initialize` or `server/discover`).
    pub instructions: Option<String>,
    /// Which eras it speaks.
    pub eras: Eras,
}

/// Why a backend was not listed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProbeError {
    /// It accepts only per-caller tokens (token exchange, passthrough): nobody to probe as.
    #[error("not probed: this backend only accepts per-caller tokens")]
    PerCaller,
    /// The caller's pre-start check refused to start it (a stdio executable that differs from
    /// its pin).
    #[error("{reason}")]
    NotStarted { reason: String },
    /// Connecting or initializing failed.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

impl ProbeError {
    /// Not a failure of the backend: it cannot be listed without a caller.
    pub fn is_per_caller(&self) -> bool {
        matches!(self, ProbeError::PerCaller)
    }
}

/// Whether `spec` only accepts per-caller tokens, so that nothing can be listed without a caller.
pub fn needs_caller(spec: &BackendSpec) -> bool {
    matches!(
        *spec.credentials,
        crate::credentials::Source::Exchange(_) | crate::credentials::Source::Passthrough
    )
}

/// The client capabilities the probe declares: those the gateway relays for its clients, so
/// that servers that register tools only for capable clients show the probe their whole
/// catalog.
pub fn capabilities() -> Value {
    json!({ "roots": { "listChanged": true }, "sampling": {}, "elicitation": {} })
}

/// Whether a client that declared `caps` declared every capability the probe does, so that a
/// backend shows it what it shows the probe (a backend tailoring its list to finer details of a
/// capability is not covered).
pub fn declares_all(caps: &Value) -> bool {
    capabilities().as_object().is_none_or(|probe| {
        probe
            .keys()
            .all(|k| caps.get(k).is_some_and(|v| !v.is_null()))
    })
}

/// The gateway's own credential for `spec` (no caller): the era probe carries it like every
/// other request, and when it cannot be had nothing is sent to the backend.
async fn probe_credential(
    spec: &Arc<BackendSpec>,
) -> Result<Option<super::modern::Credential>, UpstreamError> {
    crate::credentials::Binding {
        source: spec.credentials.clone(),
        caller: String::new(),
        subject: Arc::new(Mutex::new(None)),
    }
    .header()
    .await
    .map_err(|e| UpstreamError::Credentials {
        backend: spec.name.clone(),
        reason: e.to_string(),
    })
}

/// Connect once with the gateway's own session and read the catalog.
pub async fn probe_backend(spec: Arc<BackendSpec>) -> ProbeReport {
    let backend = spec.name.clone();
    if needs_caller(&spec) {
        return ProbeReport {
            backend,
            outcome: Err(ProbeError::PerCaller),
        };
    }
    let eras = match spec.protocol {
        BackendProtocol::Legacy => Eras {
            modern: false,
            legacy: true,
        },
        BackendProtocol::Modern => Eras {
            modern: true,
            legacy: false,
        },
        BackendProtocol::Auto => {
            match async { probe_eras(&spec, probe_credential(&spec).await?).await }.await {
                Ok(e) => e,
                Err(e) => {
                    return ProbeReport {
                        backend,
                        outcome: Err(e.into()),
                    };
                }
            }
        }
    };
    if eras.modern {
        let outcome = probe_stateless(&spec, eras).await.map_err(ProbeError::from);
        return ProbeReport { backend, outcome };
    }
    let (tx, mut rx) = mpsc::channel(64);
    // Drain whatever the backend sends on its own; the probe only reads lists.
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let params = json!({
        "protocolVersion": protocol::LATEST_VERSION,
        "capabilities": capabilities(),
        "clientInfo": { "name": "portcullis-probe", "version": env!("CARGO_PKG_VERSION") },
    });
    let outcome = async {
        let binding = crate::credentials::Binding {
            source: spec.credentials.clone(),
            caller: String::new(),
            subject: Arc::new(Mutex::new(None)),
        };
        let (conn, init) = Conn::connect(spec.clone(), params, tx, Some(binding)).await?;
        let caps = init.get("capabilities").cloned().unwrap_or(Value::Null);
        let list = async |capability: &str, method: &str, field: &str| {
            if caps.get(capability).is_some() {
                list_all(&conn, method, field).await
            } else {
                Vec::new()
            }
        };
        let tools = list("tools", "tools/list", "tools").await;
        let prompts = list("prompts", "prompts/list", "prompts").await;
        let resource_templates =
            list("resources", "resources/templates/list", "resourceTemplates").await;
        conn.close().await;
        Ok(ProbeInfo {
            server_info: init.get("serverInfo").cloned().unwrap_or(Value::Null),
            instructions: init
                .get("instructions")
                .and_then(Value::as_str)
                .map(str::to_owned),
            capabilities: caps,
            tools,
            prompts,
            resource_templates,
            eras,
        })
    }
    .await;
    drain.abort();
    ProbeReport { backend, outcome }
}

/// List a 2026-07-28 backend with stateless requests, declaring every capability the gateway
/// relays (as the 2025 probe does), so servers that offer more to capable clients show it all.
async fn probe_stateless(spec: &Arc<BackendSpec>, eras: Eras) -> Result<ProbeInfo, UpstreamError> {
    let credential = probe_credential(spec).await?;
    let call = || modern::Call {
        credential: credential.clone(),
        ..Default::default()
    };
    let backend = ModernBackend::connect(spec.clone())?;
    let mut env = Envelope::new(json!({ "roots": {}, "sampling": {}, "elicitation": {} }));
    env.client_info =
        Some(json!({ "name": "portcullis-probe", "version": env!("CARGO_PKG_VERSION") }));
    let found = backend.discover(&env, call()).await?;
    let caps = found.capabilities.clone();
    let mut next_id = 0u64;
    let mut list = async |capability: &str, method: &str, field: &str| {
        let mut out = Vec::new();
        if caps.get(capability).is_none() {
            return out;
        }
        let mut cursor: Option<Value> = None;
        for _ in 0..MAX_PAGES {
            next_id += 1;
            let mut msg = json!({"jsonrpc": "2.0", "id": next_id, "method": method, "params": {}});
            if let (Some(c), Some(p)) = (cursor.take(), protocol::params_mut(&mut msg)) {
                p.insert("cursor".into(), c);
            }
            let resp = match backend.request(&env, msg, call()).await {
                Ok(reply) => reply.response().await,
                Err(e) => Err(e),
            };
            let Some(result) = resp.ok().and_then(|r| r.get("result").cloned()) else {
                break;
            };
            cursor = take_page(&result, field, &mut out);
            if cursor.is_none() {
                break;
            }
        }
        out
    };
    let tools = list("tools", "tools/list", "tools").await;
    let prompts = list("prompts", "prompts/list", "prompts").await;
    let resource_templates =
        list("resources", "resources/templates/list", "resourceTemplates").await;
    backend.close().await;
    Ok(ProbeInfo {
        server_info: found.server_info.unwrap_or(Value::Null),
        instructions: found.instructions,
        capabilities: caps,
        tools,
        prompts,
        resource_templates,
        eras,
    })
}

/// Every page of one list. A page that fails ends the list: the probe reports what it got.
pub async fn list_all(conn: &Conn, method: &str, field: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<Value> = None;
    for _ in 0..MAX_PAGES {
        let params = cursor.take().map(|c| json!({ "cursor": c }));
        let Ok(resp) = conn.call(method, params).await else {
            break;
        };
        let Some(result) = resp.get("result") else {
            break;
        };
        cursor = take_page(result, field, &mut out);
        if cursor.is_none() {
            break;
        }
    }
    out
}

/// One page of a list result: its `field` items added to `out`; the cursor of the next page,
/// if there is one.
fn take_page(result: &Value, field: &str, out: &mut Vec<Value>) -> Option<Value> {
    if let Some(items) = result.get(field).and_then(Value::as_array) {
        out.extend(items.iter().cloned());
    }
    result.get("nextCursor").filter(|c| !c.is_null()).cloned()
}
