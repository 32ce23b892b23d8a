//! The guard chain every call walks before anything goes upstream: policy (Cedar), then limits
//! (governor), then the audit record — written before the call is forwarded, so no call runs
//! unrecorded (with `on_failure = "fail_closed"`, the default, a call is refused when the trail
//! cannot be written). Credentials are the upstream connection's job (`credentials::Binding`).
//!
//! Meta-tools and workflow steps will call [`Guard::admit`] too: there is no side door.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use crate::audit::{Audit, AuditRecord, ClientInfo, Decision as AuditDecision, Kind};
use crate::identity::Principal;
use crate::limits::Limits;
use crate::policy::{Action, PolicyStore, RequestEnv, ResourceRef};
use crate::protocol;
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

/// Who is calling, from where, in which session.
pub struct Caller<'a> {
    pub principal: &'a Principal,
    pub session_id: &'a str,
    pub client_name: &'a str,
    pub client_version: &'a str,
    pub client_address: &'a str,
    pub protocol_version: &'a str,
}

impl Caller<'_> {
    fn env(&self) -> RequestEnv {
        RequestEnv {
            now: std::time::SystemTime::now(),
            client_address: self.client_address.to_owned(),
            client_name: self.client_name.to_owned(),
            client_version: self.client_version.to_owned(),
            protocol_version: self.protocol_version.to_owned(),
        }
    }

    fn record(&self, kind: Kind, decision: AuditDecision) -> AuditRecord {
        let mut r = AuditRecord::new(kind, decision);
        r.session_id = Some(self.session_id.to_owned());
        r.principal = Some(self.principal.key());
        r.client = Some(ClientInfo {
            name: Some(self.client_name.to_owned()).filter(|s| !s.is_empty()),
            version: Some(self.client_version.to_owned()).filter(|s| !s.is_empty()),
            address: Some(self.client_address.to_owned()).filter(|s| !s.is_empty()),
        });
        r
    }
}

impl Guard {
    /// Decide one call. `Ok(())` means: allowed by policy, within limits, and recorded.
    /// `Err` is the JSON-RPC error response for the client (with `id`).
    #[allow(clippy::too_many_arguments)]
    pub async fn admit(
        &self,
        caller: &Caller<'_>,
        request_id: &Value,
        method: &str,
        action: Action,
        resource: ResourceRef<'_>,
        arguments: Option<&Value>,
    ) -> Result<(), Value> {
        let started = Instant::now();
        let (backend, exposed, original) = match resource {
            ResourceRef::Tool {
                backend,
                exposed,
                original,
                ..
            }
            | ResourceRef::Prompt {
                backend,
                exposed,
                original,
            } => (backend, exposed, original),
            ResourceRef::Resource { backend, uri } => (backend, uri, uri),
        };
        let mut rec = caller.record(Kind::Call, AuditDecision::Allow);
        rec.request_id = Some(request_id.to_string());
        rec.method = Some(method.to_owned());
        rec.backend = Some(backend.to_owned());
        rec.tool = Some(exposed.to_owned());
        rec.original = Some(original.to_owned());
        // The audit writer redacts, digests (`args_sha256`) and keeps them only if configured.
        rec.args = arguments.cloned();

        // 1. Policy.
        if let Some(store) = &self.policy {
            let d = store.engine().authorize(
                caller.principal,
                action,
                resource,
                arguments,
                &caller.env(),
            );
            rec.policies = d.reasons.clone();
            if !d.allowed {
                self.metrics.record_decision(Outcome::Deny);
                let what = match action {
                    Action::CallTool => "tool",
                    Action::GetPrompt => "prompt",
                    Action::Complete => "completion for",
                    Action::ReadResource | Action::SubscribeResource => "resource",
                };
                let reason = if d.reasons.is_empty() {
                    "no policy permits it".to_owned()
                } else {
                    format!("forbidden by {}", d.reasons.join(", "))
                };
                rec.decision = AuditDecision::Deny;
                rec.kind = Kind::Call;
                rec.reason = Some(format!("policy: {reason}{}", errors_suffix(&d.errors)));
                rec.latency_ms = Some(ms(started));
                self.write(rec).await;
                return Err(protocol::error_response(
                    request_id.clone(),
                    code::DENIED,
                    format!("denied by policy: {what} `{exposed}` ({reason})"),
                    Some(json!({ "reason": "policy", "policies": d.reasons, "errors": d.errors })),
                ));
            }
        }

        // 2. Limits (on the real tool, whoever calls it).
        if let Err(e) = self
            .limits
            .check_call(&caller.principal.key(), backend, exposed, original)
        {
            self.metrics.record_decision(Outcome::RateLimited);
            self.metrics.record_rate_limited(&e.limit);
            let retry_ms = u64::try_from(e.retry_after.as_millis()).unwrap_or(u64::MAX);
            rec.kind = Kind::RateLimited;
            rec.decision = AuditDecision::Deny;
            rec.reason = Some(format!("{e} [{}]", e.rule));
            rec.latency_ms = Some(ms(started));
            self.write(rec).await;
            return Err(protocol::error_response(
                request_id.clone(),
                code::RATE_LIMITED,
                e.to_string(),
                Some(
                    json!({ "reason": "rate_limited", "limit": e.limit, "retry_after_ms": retry_ms }),
                ),
            ));
        }

        // 3. The record of the allowed call, before it runs.
        rec.reason = Some("allowed".into());
        rec.latency_ms = Some(ms(started));
        if let Some(audit) = &self.audit {
            if let Err(e) = audit.record(rec).await {
                self.metrics.record_decision(Outcome::Error);
                tracing::error!(error = %e, "audit write failed; refusing the call (fail closed)");
                return Err(protocol::error_response(
                    request_id.clone(),
                    code::AUDIT_UNAVAILABLE,
                    "the audit trail cannot be written; calls are refused until it recovers",
                    Some(json!({ "reason": "audit_unavailable" })),
                ));
            }
        }
        self.metrics.record_decision(Outcome::Allow);
        Ok(())
    }

    /// Refuse a call to a quarantined tool or prompt (before policy: nobody may call it until
    /// an operator reviews it), and record the refusal.
    #[allow(clippy::too_many_arguments)]
    pub async fn refuse_quarantined(
        &self,
        caller: &Caller<'_>,
        request_id: &Value,
        method: &str,
        what: &str,
        exposed: &str,
        backend: &str,
        original: &str,
        quarantine: &crate::integrity::Quarantine,
    ) -> Value {
        self.metrics.record_decision(Outcome::Quarantined);
        let because = quarantine.because();
        let mut rec = caller.record(Kind::Quarantined, AuditDecision::Deny);
        rec.request_id = Some(request_id.to_string());
        rec.method = Some(method.to_owned());
        rec.backend = Some(backend.to_owned());
        rec.tool = Some(exposed.to_owned());
        rec.original = Some(original.to_owned());
        rec.reason = Some(format!("quarantined: {because}"));
        rec.extra = Some(json!({ "quarantine": quarantine.code() }));
        self.write(rec).await;
        protocol::error_response(
            request_id.clone(),
            code::QUARANTINED,
            format!(
                "{what} `{exposed}` is quarantined: {because}; an operator must review it \
                 (`portcullis pins diff {backend}/{original}`) and approve it \
                 (`portcullis pins approve {backend}/{original}`) before it can be used"
            ),
            Some(json!({
                "reason": "quarantined",
                "quarantine": quarantine.code(),
                "backend": backend,
                "name": original,
            })),
        )
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

    pub fn caller_record(caller: &Caller<'_>, kind: Kind, decision: AuditDecision) -> AuditRecord {
        caller.record(kind, decision)
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
