//! What one decision is made from: the caller's entity (cached per engine while its facts
//! stay the same), the slice narrowed to the caller with its entity store, the request
//! context (the common part reused within a second per client, typed arguments checked
//! against the tool's schema every time) and the Cedar request itself.
//!
//! The engine resolves the action and target and picks the slice (`engine.rs`), then lends
//! this file the parts of itself that requests are built from ([`Parts`]): what is built here
//! depends on those parts alone, never on the engine as a whole.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cedar_policy::{Context, Entities, Entity, EntityUid, PolicySet, Request, Schema};
use serde_json::Value;

use crate::identity::Principal;

use super::caches::Caches;
use super::compile::ScopedPolicy;
use super::slice::{Bound, Caller, Slice, principal_may_match};
use super::{ArgType, Decision, PolicyError, RequestEnv, ResourceRef, entities, schema};

/// A request ready for Cedar, with the store and policies to decide it with.
pub(super) struct Prepared {
    pub(super) request: Request,
    pub(super) entities: Arc<Entities>,
    pub(super) slice: Arc<Slice>,
    pub(super) bound: Arc<Bound>,
}

/// One request as the engine resolved it: who asks, the Cedar action, the target, and the
/// slice of policies whose action and resource scopes can match.
pub(super) struct Resolved<'r> {
    pub(super) caller: Arc<Caller>,
    pub(super) action_id: String,
    pub(super) action_uid: EntityUid,
    pub(super) resource: &'r ResourceRef<'r>,
    pub(super) r_uid: EntityUid,
    pub(super) slice: Arc<Slice>,
}

/// The parts of an engine that requests are built from, lent for one decision.
pub(super) struct Parts<'e> {
    pub(super) schema: &'e Schema,
    pub(super) policies: &'e [ScopedPolicy],
    /// Action entities from the schema (with their groups), by action id.
    pub(super) actions: &'e HashMap<String, Entity>,
    /// Typed `arguments` of each `call_tool:<tool>` action.
    pub(super) typed: &'e HashMap<String, ArgType>,
    pub(super) caches: &'e Caches,
}

impl Parts<'_> {
    /// The principal's entity, cached by issuer and subject and rebuilt when any other fact
    /// it is built from changed.
    pub(super) fn caller(&self, p: &Principal) -> Result<Arc<Caller>, PolicyError> {
        let key = format!("{}\u{0}{}", p.issuer, p.subject);
        if let Some(c) = self.caches.caller(&key)
            && c.built_from(p)
        {
            return Ok(c);
        }
        let (uid, entity) = entities::principal_entity(p)?;
        let mut groups = HashSet::with_capacity(p.groups.len());
        for g in &p.groups {
            groups.insert(entities::uid("Group", g)?);
        }
        let built = Arc::new(Caller::new(
            p,
            uid,
            entity,
            groups,
            self.caches.next_caller_id(),
        ));
        self.caches.keep_caller(key, &built);
        Ok(built)
    }

    /// The caller's view of one (action, target), cached: the slice narrowed to policies whose
    /// principal scope can match, and the entity store when no policy reads the arguments.
    fn bound(
        &self,
        caller: &Caller,
        action_id: &str,
        resource: &ResourceRef<'_>,
        slice: &Slice,
    ) -> Result<Arc<Bound>, Decision> {
        let key = format!(
            "{}\u{2}{action_id}\u{2}{}",
            caller.id,
            resource.fingerprint()
        );
        if let Some(b) = self.caches.store(&key) {
            return Ok(b);
        }
        let internal = |e: PolicyError| Decision::deny(e.to_string());
        let entities = if slice.needs_args {
            None
        } else {
            let (_, r_ent) = entities::resource_entity(resource).map_err(internal)?;
            let mut ents = vec![caller.entity.clone(), r_ent];
            if let Some(a) = self.actions.get(action_id) {
                ents.push(a.clone());
            }
            Some(Arc::new(Entities::from_entities(ents, None).map_err(
                |e| Decision::deny(format!("cannot build entities: {e}")),
            )?))
        };
        let narrowed: Vec<usize> = slice
            .idx
            .iter()
            .copied()
            .filter(|&i| {
                self.policies
                    .get(i)
                    .is_some_and(|p| principal_may_match(&p.principal, caller))
            })
            .collect();
        let set = if narrowed.len() == slice.idx.len() {
            slice.set.clone()
        } else {
            // INVARIANT: ids are unique in `self.policies`, so from_policies cannot fail.
            PolicySet::from_policies(
                narrowed
                    .iter()
                    .filter_map(|&i| self.policies.get(i).map(|p| p.policy.clone())),
            )
            .unwrap_or_default()
        };
        let bound = Arc::new(Bound { set, entities });
        self.caches.keep_store(key, &bound);
        Ok(bound)
    }

    /// The common context of a request (no typed arguments), reused while the facts it is
    /// built from (the second, the client) stay the same.
    fn common_context(&self, a_uid: EntityUid, env: &RequestEnv) -> Result<Context, Decision> {
        let unix = entities::utc_parts(env.now).0;
        let client = [
            env.client_address.clone(),
            env.client_name.clone(),
            env.client_version.clone(),
            env.protocol_version.clone(),
        ];
        if let Some(c) = self.caches.context(unix, &client) {
            return Ok(c);
        }
        let context = Context::from_pairs(entities::common_context(a_uid, env))
            .map_err(|e| Decision::deny(format!("cannot build the request context: {e}")))?;
        self.caches.keep_context(unix, client, &context);
        Ok(context)
    }

    /// The request for `r` with these arguments and facts, its entity store and the policies
    /// to decide it with (the slice narrowed to the caller).
    pub(super) fn prepare(
        &self,
        r: Resolved<'_>,
        arguments: Option<&Value>,
        env: &RequestEnv,
    ) -> Result<Prepared, Decision> {
        let Resolved {
            caller,
            action_id,
            action_uid,
            resource,
            r_uid,
            slice,
        } = r;
        let internal = |e: PolicyError| Decision::deny(e.to_string());
        let bound = self.bound(&caller, &action_id, resource, &slice)?;
        let a_uid = entities::uid("Arguments", entities::ARGUMENTS_ID).map_err(internal)?;
        let entities = match &bound.entities {
            Some(e) => Arc::clone(e),
            None => {
                let (_, r_ent) = entities::resource_entity(resource).map_err(internal)?;
                let (_, a_ent) = entities::arguments_entity(arguments).map_err(internal)?;
                let mut ents = Vec::with_capacity(4);
                ents.push(caller.entity.clone());
                ents.push(r_ent);
                ents.push(a_ent);
                if let Some(a) = self.actions.get(&action_id) {
                    ents.push(a.clone());
                }
                Arc::new(
                    Entities::from_entities(ents, None)
                        .map_err(|e| Decision::deny(format!("cannot build entities: {e}")))?,
                )
            }
        };
        let type_bit = match resource {
            ResourceRef::Tool { .. } => 1u8,
            ResourceRef::Prompt { .. } => 2,
            ResourceRef::Resource { .. } => 4,
        };
        let (context, checked) = match self.typed.get(&action_id) {
            Some(t) => {
                let typed = schema::typed_arguments(arguments, t).map_err(|e| {
                    Decision::deny(format!(
                        "arguments do not match the typed schema of tool `{}`: {e}",
                        resource.id()
                    ))
                })?;
                let mut ctx = entities::common_context(a_uid, env);
                ctx.push(("arguments".into(), typed));
                let context = Context::from_pairs(ctx).map_err(|e| {
                    Decision::deny(format!("cannot build the request context: {e}"))
                })?;
                // Typed arguments come from the caller: always checked against the schema.
                (context, false)
            }
            None => {
                // The common context has the same shape in every request, so once a request
                // of this action and resource type passed the schema, all others do.
                let checked = self.caches.validated(&action_id, type_bit);
                (self.common_context(a_uid, env)?, checked)
            }
        };
        let request = Request::new(
            caller.uid.clone(),
            action_uid.clone(),
            r_uid.clone(),
            context,
            (!checked).then_some(self.schema),
        )
        .map_err(|e| {
            Decision::deny(format!(
                "request does not match the policy schema (action `{action_id}`): {e}"
            ))
        })?;
        if !checked && !self.typed.contains_key(&action_id) {
            self.caches.mark_validated(action_id, type_bit);
        }
        Ok(Prepared {
            request,
            entities,
            slice,
            bound,
        })
    }
}

/// The entities a request would use, as Cedar JSON, checked against `schema`.
pub(super) fn entities_json(
    schema: &Schema,
    principal: &Principal,
    resource: ResourceRef<'_>,
    arguments: Option<&Value>,
) -> Result<Value, PolicyError> {
    let (_, user) = entities::principal_entity(principal)?;
    let mut ents = entities::group_entities(principal)?;
    let (_, r) = entities::resource_entity(&resource)?;
    let (_, a) = entities::arguments_entity(arguments)?;
    ents.extend([user, r, a]);
    ents.push(Entity::with_uid(entities::uid(
        "Backend",
        resource.backend(),
    )?));
    let e = Entities::from_entities(ents, Some(schema)).map_err(|e| PolicyError::Internal {
        message: format!("entities do not match the schema: {e}"),
    })?;
    e.to_json_value().map_err(|e| PolicyError::Internal {
        message: e.to_string(),
    })
}
