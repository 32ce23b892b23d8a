//! The engine: a validated schema and policy set, the slices of it that can apply to one
//! (action, target), and the decisions made with them ([`PolicyEngine::authorize`],
//! [`PolicyEngine::explain`], [`PolicyEngine::may_ever`]).
//!
//! Cedar evaluates every policy it is given, so a decision hands it only the slice whose
//! action and resource scopes can match: the [`ScopeIndex`] narrows the candidates, the scope
//! check here is exact.
//!
//! The engine stands above the files it is made of: `compile.rs` parses and validates the
//! texts, `caches.rs` keeps what it caches, `context.rs` builds requests and entity stores from
//! the parts the engine lends it, and `slice.rs` holds the data they pass around. None of them
//! knows the engine; list filtering (`visible.rs`) stands above it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use cedar_policy::{
    ActionConstraint, Authorizer, Effect, Entities, Entity, EntityUid, PolicySet, RequestBuilder,
    ResourceConstraint, Schema,
};
use serde_json::Value;

use crate::identity::Principal;

use super::caches::Caches;
use super::compile::{self, ScopedPolicy};
use super::context::{self, Parts, Prepared, Resolved};
use super::slice::{Caller, Slice};
use super::{
    Action, ArgType, Decision, Explanation, PolicyError, PolicyInfo, RequestEnv, ResourceRef,
    TOOL_ACTION_PREFIX, entities,
};

/// A validated schema and policy set, ready to decide. Immutable: reloads build a new one.
pub struct PolicyEngine {
    pub(super) schema: Schema,
    pub(super) authorizer: Authorizer,
    pub(super) policies: Vec<ScopedPolicy>,
    pub(super) info: HashMap<String, PolicyInfo>,
    /// Action entities from the schema (with their groups), by action id.
    pub(super) actions: HashMap<String, Entity>,
    /// Ancestors of each action, by action id.
    pub(super) action_groups: HashMap<String, HashSet<EntityUid>>,
    /// Typed `arguments` of each `call_tool:<tool>` action.
    pub(super) typed: HashMap<String, ArgType>,
    pub(super) index: ScopeIndex,
    /// Every policy has a scope-free form ([`ScopedPolicy::stripped`]).
    pub(super) open_scopes: bool,
    pub(super) caches: Caches,
    pub(super) warnings: Vec<String>,
}

impl fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("policies", &self.policies.len())
            .field("typed_actions", &self.typed.len())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
pub(super) struct ScopeIndex {
    /// `resource` left open.
    open: Vec<usize>,
    /// `resource == u`, `resource in u`, `resource is T in u`, by `u`.
    by_uid: HashMap<EntityUid, Vec<usize>>,
    /// `resource is T`, by `T`.
    by_type: HashMap<String, Vec<usize>>,
}

impl ScopeIndex {
    pub(super) fn new(policies: &[ScopedPolicy]) -> Self {
        let mut ix = ScopeIndex::default();
        for (i, p) in policies.iter().enumerate() {
            match &p.resource {
                ResourceConstraint::Any => ix.open.push(i),
                ResourceConstraint::Eq(u)
                | ResourceConstraint::In(u)
                | ResourceConstraint::IsIn(_, u) => {
                    ix.by_uid.entry(u.clone()).or_default().push(i);
                }
                ResourceConstraint::Is(t) => ix.by_type.entry(t.to_string()).or_default().push(i),
            }
        }
        ix
    }

    /// Every policy whose resource scope may match (a superset; sorted, no duplicates).
    fn candidates(&self, rtype: &str, resource: &EntityUid, backend: &EntityUid) -> Vec<usize> {
        let mut out = self.open.clone();
        for u in [resource, backend] {
            if let Some(v) = self.by_uid.get(u) {
                out.extend_from_slice(v);
            }
        }
        if let Some(v) = self.by_type.get(rtype) {
            out.extend_from_slice(v);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl PolicyEngine {
    /// Build from in-memory texts: (file name, text) of schema parts (concatenated in order)
    /// and of policy files.
    pub fn from_sources(
        schemas: &[(String, String)],
        policy_files: &[(String, String)],
    ) -> Result<PolicyEngine, PolicyError> {
        let c = compile::compile(schemas, policy_files)?;
        Ok(PolicyEngine {
            schema: c.schema,
            authorizer: Authorizer::new(),
            index: ScopeIndex::new(&c.policies),
            open_scopes: c.policies.iter().all(|p| p.stripped.is_some()),
            policies: c.policies,
            info: c.info,
            actions: c.actions,
            action_groups: c.action_groups,
            typed: c.typed,
            caches: Caches::default(),
            warnings: c.warnings,
        })
    }

    /// Number of loaded policies.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Validator warnings (not errors), `file:line: …` each.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Where a policy came from.
    pub fn policy_info(&self, id: &str) -> Option<&PolicyInfo> {
        self.info.get(id)
    }

    /// Tools with a typed `call_tool:<tool>` action in the loaded schema.
    pub fn typed_tools(&self) -> impl Iterator<Item = &str> {
        self.typed
            .keys()
            .filter_map(|k| k.strip_prefix(TOOL_ACTION_PREFIX))
    }

    /// The Cedar action id used for a request: a declared `call_tool:<tool>` for tools that
    /// have one, else the plain action.
    pub(super) fn action_id(&self, action: Action, resource: &ResourceRef<'_>) -> String {
        if let (Action::CallTool, ResourceRef::Tool { exposed, .. }) = (action, resource) {
            let typed = format!("{TOOL_ACTION_PREFIX}{exposed}");
            if self.actions.contains_key(&typed) {
                return typed;
            }
        }
        action.as_str().to_owned()
    }

    /// Indices of the policies whose action and resource scopes can match (exact: the index
    /// only narrows the candidates).
    pub(super) fn slice_indices(
        &self,
        action_id: &str,
        action: &EntityUid,
        target: &ResourceRef<'_>,
        resource: &EntityUid,
        backend: &EntityUid,
    ) -> Vec<usize> {
        let idx = self.index.candidates(target.type_name(), resource, backend);
        self.filter_scope(idx, action_id, action, resource, backend)
    }

    /// The candidates whose action and resource scopes match.
    fn filter_scope(
        &self,
        mut idx: Vec<usize>,
        action_id: &str,
        action: &EntityUid,
        resource: &EntityUid,
        backend: &EntityUid,
    ) -> Vec<usize> {
        let groups = self.action_groups.get(action_id);
        let action_ok = |c: &ActionConstraint| match c {
            ActionConstraint::Any => true,
            ActionConstraint::Eq(a) => a == action,
            ActionConstraint::In(list) => list
                .iter()
                .any(|g| g == action || groups.is_some_and(|gs| gs.contains(g))),
        };
        let rtype = resource.type_name();
        let under = |u: &EntityUid| u == resource || u == backend;
        let resource_ok = |c: &ResourceConstraint| match c {
            ResourceConstraint::Any => true,
            ResourceConstraint::Eq(u) => u == resource,
            ResourceConstraint::In(u) => under(u),
            ResourceConstraint::Is(t) => t == rtype,
            ResourceConstraint::IsIn(t, u) => t == rtype && under(u),
        };
        idx.retain(|&i| {
            self.policies
                .get(i)
                .is_some_and(|p| action_ok(&p.action) && resource_ok(&p.resource))
        });
        idx
    }

    /// [`Self::slice_indices`] with the part that depends only on (action, resource type,
    /// backend) remembered in `shared` (list filtering asks for many tools of one backend).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn slice_indices_shared(
        &self,
        shared: &mut HashMap<(String, &'static str, EntityUid), Vec<usize>>,
        action_id: &str,
        action: &EntityUid,
        target: &ResourceRef<'_>,
        resource: &EntityUid,
        backend: &EntityUid,
    ) -> Vec<usize> {
        let own = self.index.by_uid.get(resource);
        let common = shared
            .entry((action_id.to_owned(), target.type_name(), backend.clone()))
            .or_insert_with(|| {
                // Policies that do not name this target by uid match every target of this
                // type and backend alike (a target is never its own backend).
                let mut v = self.slice_indices(action_id, action, target, resource, backend);
                if let Some(own) = own {
                    v.retain(|i| !own.contains(i));
                }
                v
            });
        let Some(own) = own else {
            return common.clone();
        };
        let mut idx = self.filter_scope(own.clone(), action_id, action, resource, backend);
        idx.extend_from_slice(common);
        idx.sort_unstable();
        idx.dedup();
        idx
    }

    /// The policies whose action and resource scopes can match, cached.
    pub(super) fn slice(
        &self,
        action_id: &str,
        action: &EntityUid,
        target: &ResourceRef<'_>,
        resource: &EntityUid,
        backend: &EntityUid,
    ) -> Arc<Slice> {
        let mut key = String::with_capacity(action_id.len() + target.id().len() + 32);
        for part in [action_id, target.type_name(), target.id(), target.backend()] {
            key.push_str(part);
            key.push('\u{0}');
        }
        if let Some(s) = self.caches.slice(&key) {
            return s;
        }
        let idx = self.slice_indices(action_id, action, target, resource, backend);
        let needs_args = idx
            .iter()
            .any(|&i| self.policies.get(i).is_none_or(|p| p.reads_args));
        // INVARIANT: ids are unique in `self.policies`, so from_policies cannot fail.
        let set = PolicySet::from_policies(
            idx.iter()
                .filter_map(|&i| self.policies.get(i).map(|p| p.policy.clone())),
        )
        .unwrap_or_default();
        let slice = Arc::new(Slice {
            set,
            needs_args,
            idx,
        });
        self.caches.keep_slice(key, &slice);
        slice
    }

    /// The parts of this engine that requests are built from (`context.rs`).
    fn parts(&self) -> Parts<'_> {
        Parts {
            schema: &self.schema,
            policies: &self.policies,
            actions: &self.actions,
            typed: &self.typed,
            caches: &self.caches,
        }
    }

    /// The principal's entity, cached by issuer and subject and rebuilt when any other fact
    /// it is built from changed.
    pub(super) fn caller(&self, p: &Principal) -> Result<Arc<Caller>, PolicyError> {
        self.parts().caller(p)
    }

    /// One request resolved (Cedar action, caller, target, slice) and built for Cedar.
    pub(super) fn prepare(
        &self,
        principal: &Principal,
        action: Action,
        resource: &ResourceRef<'_>,
        arguments: Option<&Value>,
        env: &RequestEnv,
    ) -> Result<Prepared, Decision> {
        let internal = |e: PolicyError| Decision::deny(e.to_string());
        let action_id = self.action_id(action, resource);
        let action_uid = entities::uid("Action", &action_id).map_err(internal)?;
        let caller = self.caller(principal).map_err(internal)?;
        let r_uid = entities::uid(resource.type_name(), resource.id()).map_err(internal)?;
        let backend = entities::uid("Backend", resource.backend()).map_err(internal)?;
        let slice = self.slice(&action_id, &action_uid, resource, &r_uid, &backend);
        let resolved = Resolved {
            caller,
            action_id,
            action_uid,
            resource,
            r_uid,
            slice,
        };
        self.parts().prepare(resolved, arguments, env)
    }

    /// The entities a request would use, as Cedar JSON (for tests and `explain`).
    pub fn entities_json(
        &self,
        principal: &Principal,
        resource: ResourceRef<'_>,
        arguments: Option<&Value>,
    ) -> Result<Value, PolicyError> {
        context::entities_json(&self.schema, principal, resource, arguments)
    }

    /// Decide one request. Default deny; never panics; problems building the request deny
    /// with the problem in `errors`.
    pub fn authorize(
        &self,
        principal: &Principal,
        action: Action,
        resource: ResourceRef<'_>,
        arguments: Option<&Value>,
        env: &RequestEnv,
    ) -> Decision {
        match self.prepare(principal, action, &resource, arguments, env) {
            Ok(p) => {
                // The caller's narrowed slice: the policies left out have a principal scope
                // that cannot match, so they are not satisfied and raise no error.
                let response = self
                    .authorizer
                    .is_authorized(&p.request, &p.bound.set, &p.entities);
                let d = response.diagnostics();
                Decision {
                    allowed: response.decision() == cedar_policy::Decision::Allow,
                    reasons: d.reason().map(ToString::to_string).collect(),
                    errors: d.errors().map(ToString::to_string).collect(),
                }
            }
            Err(decision) => decision,
        }
    }

    /// Could any context (time, arguments, client) let this principal call this tool? False
    /// only when no context could: used to hide tools from lists. Uses Cedar's partial
    /// evaluation with the context unknown, so the answer is exact up to Cedar's residuals.
    pub fn may_ever_call(&self, principal: &Principal, tool: ResourceRef<'_>) -> bool {
        self.visible_tools(principal, &[tool])
            .first()
            .copied()
            .unwrap_or(false)
    }

    /// Could any context let this principal do `action` on `resource`? The slow, exact path
    /// (partial evaluation with the context unknown), for lists of prompts and resources,
    /// which are short. False only when no context could.
    pub fn may_ever(
        &self,
        principal: &Principal,
        action: Action,
        resource: ResourceRef<'_>,
    ) -> bool {
        let Ok(caller) = self.caller(principal) else {
            return false;
        };
        self.may_ever_alone(&caller, action, &resource)
    }

    /// [`Self::may_ever`] for a caller already built, in an entity store of the request's
    /// own: the caller, the target and the action.
    pub(super) fn may_ever_alone(
        &self,
        caller: &Caller,
        action: Action,
        resource: &ResourceRef<'_>,
    ) -> bool {
        let Ok((_, entity)) = entities::resource_entity(resource) else {
            return false;
        };
        let action_id = self.action_id(action, resource);
        let mut v = vec![caller.entity.clone(), entity];
        if let Some(a) = self.actions.get(&action_id) {
            v.push(a.clone());
        }
        let Ok(ents) = Entities::from_entities(v, None) else {
            return false;
        };
        self.may_ever_in(caller, action, resource, &ents)
    }

    /// Cedar's partial decision over the target's whole slice in the store `ents`, the
    /// context unknown: false only when it is `Deny`.
    pub(super) fn may_ever_in(
        &self,
        caller: &Caller,
        action: Action,
        resource: &ResourceRef<'_>,
        ents: &Entities,
    ) -> bool {
        let action_id = self.action_id(action, resource);
        let (Ok(action_uid), Ok(uid), Ok(backend)) = (
            entities::uid("Action", &action_id),
            entities::uid(resource.type_name(), resource.id()),
            entities::uid("Backend", resource.backend()),
        ) else {
            return false;
        };
        let slice = self.slice(&action_id, &action_uid, resource, &uid, &backend);
        if slice.set.is_empty() {
            return false;
        }
        let Ok(request) = RequestBuilder::default()
            .principal(caller.uid.clone())
            .action(action_uid)
            .resource(uid)
            .schema(&self.schema)
            .build()
        else {
            return false;
        };
        self.authorizer
            .is_authorized_partial(&request, &slice.set, ents)
            .decision()
            != Some(cedar_policy::Decision::Deny)
    }

    /// Drop cached slices, callers and entity stores (benchmarks measure the cold path).
    pub fn clear_caches(&self) {
        self.caches.clear();
    }

    /// Decide and say why: every satisfied permit and forbid (not only the deciding ones),
    /// with their file and line, and every evaluation error.
    pub fn explain(
        &self,
        principal: &Principal,
        action: Action,
        resource: ResourceRef<'_>,
        arguments: Option<&Value>,
        env: &RequestEnv,
    ) -> Explanation {
        let decision = self.authorize(principal, action, resource, arguments, env);
        let action_id = self.action_id(action, &resource);
        let mut ex = Explanation {
            decision,
            action: action_id,
            considered: 0,
            permits: Vec::new(),
            forbids: Vec::new(),
            errored: Vec::new(),
        };
        let Ok(p) = self.prepare(principal, action, &resource, arguments, env) else {
            return ex;
        };
        ex.considered = p.slice.set.num_of_policies();
        for policy in p.slice.set.policies() {
            let Ok(one) = PolicySet::from_policies([policy.clone()]) else {
                continue;
            };
            let r = self.authorizer.is_authorized(&p.request, &one, &p.entities);
            let d = r.diagnostics();
            for e in d.errors() {
                ex.errored.push((policy.id().to_string(), e.to_string()));
            }
            if d.reason().next().is_some()
                && let Some(info) = self.info.get(&policy.id().to_string())
            {
                match policy.effect() {
                    Effect::Permit => ex.permits.push(info.clone()),
                    Effect::Forbid => ex.forbids.push(info.clone()),
                }
            }
        }
        ex
    }
}
