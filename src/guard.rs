//! The guard chain every call walks before anything goes upstream, in one call:
//! [`Guard::admit`] decides integrity (a quarantined definition is refused before anyone's
//! policy is asked), then policy (Cedar), then limits (governor), then writes the audit record —
//! before the call is forwarded, so no call runs unrecorded (with `on_failure = "fail_closed"`,
//! the default, a call is refused when the trail cannot be written). A refusal is a typed
//! [`Refusal`], recorded and counted like an allowed call.
//!
//! Credentials are the upstream connection's job (`credentials::Binding`). Meta-tools and
//! workflow steps call [`Guard::admit`] too: there is no side door.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use crate::audit::{Audit, AuditRecord, ClientInfo, Decision as AuditDecision, Kind};
use crate::identity::Principal;
use crate::integrity::{Quarantine, Verdict};
use crate::limits::Limits;
use crate::policy::{Action, PolicyStore, RequestEnv, ResourceRef};
use crate::protocol::Fault;
use crate::telemetry::{Metrics, Outcome};

/// JSON-RPC error codes of the guard chain.
pub mod code {
    /// The call was denied by policy.
    pub const DENIED: i64 = -32003;
    /// A rate limit was hit; `data.retry_after_ms` says when to retry.
    pub const RATE_LIMITED: i64 = -32029;
    /// The audit trail cannot be written and the gateway fails closed.
    pub const AUDIT_UNAVAILABLE: i64 = -32030;
    /// The tool or prompt is quarantined by the integrity stage (drifted, new, poisoned or
    /// rejected); `data.reason` says which.
    pub const QUARANTINED: i64 = -32031;
}

pub struct Guard {
    pub policy: Option<Arc<PolicyStore>>,
    pub limits: Arc<Limits>,
    pub audit: Option<Audit>,
    pub metrics: Arc<Metrics>,
}

/// What an MCP client says about itself and where it connects from: from a 2025-era session's
/// `initialize`, or from a stateless request's own `_meta`.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The 2025-era session the request belongs to, if any.
    pub session_id: Option<String>,
    pub name: String,
    pub version: String,
    pub address: String,
    /// The protocol revision of the request.
    pub protocol_version: String,
    /// The client's declared capabilities (`roots`, `sampling`, `elicitation`, …), raw.
    pub capabilities: Value,
    /// 2026-07-28: the log level the request opted into (`_meta`), if any.
    pub log_level: Option<String>,
}

impl Client {
    /// Facts from `initialize` params (or a request's `_meta`): `clientInfo`, `capabilities`.
    pub fn from_params(params: &Value, address: String, protocol_version: String) -> Client {
        let info = params.get("clientInfo");
        let text = |k: &str| {
            info.and_then(|i| i.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        Client {
            session_id: None,
            name: text("name"),
            version: text("version"),
            address,
            protocol_version,
            capabilities: params.get("capabilities").cloned().unwrap_or(Value::Null),
            log_level: None,
        }
    }
}

/// Who is calling: the principal of the request at hand (never the one that opened a session)
/// and the client it uses.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    pub principal: &'a Principal,
    pub client: &'a Client,
}

impl Caller<'_> {
    fn env(&self) -> RequestEnv {
        RequestEnv {
            now: std::time::SystemTime::now(),
            client_address: self.client.address.clone(),
            client_name: self.client.name.clone(),
            client_version: self.client.version.clone(),
            protocol_version: self.client.protocol_version.clone(),
        }
    }

    /// An audit record about this caller.
    pub fn record(&self, kind: Kind, decision: AuditDecision) -> AuditRecord {
        let mut r = AuditRecord::new(kind, decision);
        r.session_id = self.client.session_id.clone();
        r.principal = Some(self.principal.key());
        let some = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        r.client = Some(ClientInfo {
            name: some(&self.client.name),
            version: some(&self.client.version),
            address: some(&self.client.address),
            protocol: some(&self.client.protocol_version),
        });
        r
    }
}

/// One call to decide.
pub struct Ask<'a> {
    pub request_id: &'a Value,
    /// The JSON-RPC method (`tools/call`, `prompts/get`, …).
    pub method: &'a str,
    pub action: Action,
    pub resource: ResourceRef<'a>,
    pub arguments: Option<&'a Value>,
    /// The integrity verdict of the definition called (tools and prompts).
    pub verdict: Option<&'a Verdict>,
}

/// Why the chain refused a call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{what} `{exposed}` is quarantined: {}; an operator must review it \
         (`portcullis pins diff {backend}/{original}`) and approve it \
         (`portcullis pins approve {backend}/{original}`) before it can be used",
        quarantine.because()
    )]
    Quarantined {
        what: &'static str,
        exposed: String,
        backend: String,
        original: String,
        quarantine: Quarantine,
    },
    #[error("denied by policy: {what} `{exposed}` ({})", denial_reason(.policies))]
    Denied {
        what: &'static str,
        exposed: String,
        policies: Vec<String>,
        errors: Vec<String>,
    },
    #[error("{message}")]
    RateLimited {
        message: String,
        limit: String,
        retry_after_ms: u64,
    },
    #[error("the audit trail cannot be written; calls are refused until it recovers")]
    AuditUnavailable,
}

fn denial_reason(policies: &[String]) -> String {
    if policies.is_empty() {
        "no policy permits it".to_owned()
    } else {
        format!("forbidden by {}", policies.join(", "))
    }
}

impl Fault for Refusal {
    fn code(&self) -> i64 {
        match self {
            Refusal::Quarantined { .. } => code::QUARANTINED,
            Refusal::Denied { .. } => code::DENIED,
            Refusal::RateLimited { .. } => code::RATE_LIMITED,
            Refusal::AuditUnavailable => code::AUDIT_UNAVAILABLE,
        }
    }

    fn data(&self) -> Option<Value> {
        Some(match self {
            Refusal::Quarantined {
                backend,
                original,
                quarantine,
                ..
            } => json!({
                "reason": "quarantined",
                "quarantine": quarantine.code(),
                "backend": backend,
                "name": original,
            }),
            Refusal::Denied {
                policies, errors, ..
            } => json!({ "reason": "policy", "policies": policies, "errors": errors }),
            Refusal::RateLimited {
                limit,
                retry_after_ms,
                ..
            } => {
                json!({ "reason": "rate_limited", "limit": limit, "retry_after_ms": retry_after_ms })
            }
            Refusal::AuditUnavailable => json!({ "reason": "audit_unavailable" }),
        })
    }
}

impl Guard {
    /// Decide one call: integrity, policy, limits, then the record of the allowed call. `Ok(())`
    /// means it may go upstream; every refusal is recorded before it is returned.
    pub async fn admit(&self, caller: Caller<'_>, ask: Ask<'_>) -> Result<(), Refusal> {
        let started = Instant::now();
        let (what, backend, exposed, original) = match ask.resource {
            ResourceRef::Tool {
                backend,
                exposed,
                original,
                ..
            } => ("tool", backend, exposed, original),
            ResourceRef::Prompt {
                backend,
                exposed,
                original,
            } => ("prompt", backend, exposed, original),
            ResourceRef::Resource { backend, uri } => ("resource", backend, uri, uri),
        };
        let mut rec = caller.record(Kind::Call, AuditDecision::Allow);
        rec.request_id = Some(ask.request_id.to_string());
        rec.method = Some(ask.method.to_owned());
        rec.backend = Some(backend.to_owned());
        rec.tool = Some(exposed.to_owned());
        rec.original = Some(original.to_owned());

        // 1. Integrity: nobody may call a quarantined definition until an operator reviews it.
        if let Some(quarantine) = ask.verdict.and_then(|v| v.quarantine.as_ref()) {
            self.metrics.record_decision(Outcome::Quarantined);
            rec.kind = Kind::Quarantined;
            rec.decision = AuditDecision::Deny;
            rec.reason = Some(format!("quarantined: {}", quarantine.because()));
            rec.extra = Some(json!({ "quarantine": quarantine.code() }));
            self.write(rec).await;
            return Err(Refusal::Quarantined {
                what,
                exposed: exposed.to_owned(),
                backend: backend.to_owned(),
                original: original.to_owned(),
                quarantine: quarantine.clone(),
            });
        }
        // The audit writer redacts, digests (`args_sha256`) and keeps them only if configured.
        rec.args = ask.arguments.cloned();

        // 2. Policy.
        if let Some(store) = &self.policy {
            let d = store.engine().authorize(
                caller.principal,
                ask.action,
                ask.resource,
                ask.arguments,
                &caller.env(),
            );
            rec.policies = d.reasons.clone();
            if !d.allowed {
                self.metrics.record_decision(Outcome::Deny);
                let what = match ask.action {
                    Action::CallTool => "tool",
                    Action::GetPrompt => "prompt",
                    Action::Complete => "completion for",
                    Action::ReadResource | Action::SubscribeResource => "resource",
                };
                rec.decision = AuditDecision::Deny;
                rec.reason = Some(format!(
                    "policy: {}{}",
                    denial_reason(&d.reasons),
                    errors_suffix(&d.errors)
                ));
                rec.latency_ms = Some(ms(started));
                self.write(rec).await;
                return Err(Refusal::Denied {
                    what,
                    exposed: exposed.to_owned(),
                    policies: d.reasons,
                    errors: d.errors,
                });
            }
        }

        // 3. Limits (on the real tool, whoever calls it); cluster-wide with `[cluster]`.
        let decided = self
            .limits
            .admit_call(&caller.principal.key(), backend, exposed, original)
            .await;
        if let Err(e) = decided.as_ref() {
            self.metrics.record_decision(Outcome::RateLimited);
            self.metrics.record_rate_limited(&e.limit);
            rec.kind = Kind::RateLimited;
            rec.decision = AuditDecision::Deny;
            rec.reason = Some(format!("{e} [{}]", e.rule));
            rec.latency_ms = Some(ms(started));
            self.write(rec).await;
            return Err(Refusal::RateLimited {
                message: e.to_string(),
                limit: e.limit.clone(),
                retry_after_ms: u64::try_from(e.retry_after.as_millis()).unwrap_or(u64::MAX),
            });
        }

        // 4. The record of the allowed call, before it runs.
        rec.reason = Some(match decided {
            Ok(crate::limits::Decided::Degraded { reason }) => {
                self.metrics.record_cluster_local();
                format!("allowed by this replica's own limits (redis unavailable: {reason})")
            }
            _ => "allowed".into(),
        });
        rec.latency_ms = Some(ms(started));
        if let Some(audit) = &self.audit {
            if let Err(e) = audit.record(rec).await {
                self.metrics.record_decision(Outcome::Error);
                tracing::error!(error = %e, "audit write failed; refusing the call (fail closed)");
                return Err(Refusal::AuditUnavailable);
            }
        }
        self.metrics.record_decision(Outcome::Allow);
        Ok(())
    }

    /// Which of `tools` the principal could ever call (list filtering). All visible without a
    /// policy stage.
    pub fn visible(&self, principal: &Principal, tools: &[ResourceRef<'_>]) -> Vec<bool> {
        match &self.policy {
            Some(store) => store.engine().visible_tools(principal, tools),
            None => vec![true; tools.len()],
        }
    }

    /// Whether the principal could ever do `action` on `resource` (prompt and resource lists).
    pub fn may_ever(
        &self,
        principal: &Principal,
        action: Action,
        resource: ResourceRef<'_>,
    ) -> bool {
        match &self.policy {
            Some(store) => store.engine().may_ever(principal, action, resource),
            None => true,
        }
    }

    /// Best-effort record (denials are also in metrics and logs).
    async fn write(&self, rec: AuditRecord) {
        if let Some(audit) = &self.audit {
            if let Err(e) = audit.record(rec).await {
                tracing::error!(error = %e, "audit write failed");
            }
        }
    }

    /// An event outside a call (session start/end, auth failure, backend up/down, reloads).
    pub fn event(&self, rec: AuditRecord) {
        if let Some(audit) = &self.audit {
            audit.record_nowait(rec);
        }
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn errors_suffix(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!("; errors: {}", errors.join("; "))
    }
}
