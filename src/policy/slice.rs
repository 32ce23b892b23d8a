//! What Cedar is handed for one decision, as plain data: the [`Slice`] of the policy set whose
//! action and resource scopes can match one (action, target), the caller's entity
//! ([`Caller`]), and the slice narrowed to that caller ([`Bound`]), with the exact principal
//! scope check that narrows it ([`principal_may_match`]).
//!
//! The engine builds slices (`engine.rs`), the request builders build callers and bound
//! slices (`context.rs`), and the engine's caches keep all three (`caches.rs`); this file
//! imports none of them.

use std::collections::HashSet;
use std::sync::Arc;

use cedar_policy::{Entities, Entity, EntityUid, PolicySet, PrincipalConstraint};
use serde_json::Value;

use crate::identity::Principal;

/// The policies that can apply to one (action, target).
pub(super) struct Slice {
    pub(super) set: PolicySet,
    /// Some policy may read `context.args`: the arguments entity must be in the store.
    pub(super) needs_args: bool,
    /// Indices in the engine's policies (`PolicyEngine::policies`) of the policies in `set`.
    pub(super) idx: Vec<usize>,
}

/// A slice narrowed to one caller, with its entity store when no policy reads arguments.
pub(super) struct Bound {
    pub(super) set: PolicySet,
    pub(super) entities: Option<Arc<Entities>>,
}

/// A principal's entity, built once per engine.
pub(super) struct Caller {
    pub(super) uid: EntityUid,
    pub(super) entity: Entity,
    /// Unique per engine: a different caller (or the same one with other facts) gets a new id.
    pub(super) id: u64,
    /// The `Group` uids the caller is a member of.
    pub(super) groups: HashSet<EntityUid>,
    /// The facts the entity was built from (besides issuer and subject, the cache key).
    groups_given: Vec<String>,
    scopes: Vec<String>,
    claims: Value,
}

impl Caller {
    /// The caller `p`, whose entity and group uids were built from it, numbered `id`.
    pub(super) fn new(
        p: &Principal,
        uid: EntityUid,
        entity: Entity,
        groups: HashSet<EntityUid>,
        id: u64,
    ) -> Self {
        Caller {
            uid,
            entity,
            id,
            groups,
            groups_given: p.groups.clone(),
            scopes: p.scopes.clone(),
            claims: p.claims.clone(),
        }
    }

    /// Whether this caller was built from the same facts as `p` (issuer and subject aside:
    /// they are the cache key).
    pub(super) fn built_from(&self, p: &Principal) -> bool {
        self.groups_given == p.groups && self.scopes == p.scopes && self.claims == p.claims
    }
}

/// Whether a principal scope matches the caller (exact: the caller's only ancestors are its
/// groups, whose entities are never built).
pub(super) fn principal_may_match(c: &PrincipalConstraint, caller: &Caller) -> bool {
    let within = |u: &EntityUid| *u == caller.uid || caller.groups.contains(u);
    match c {
        PrincipalConstraint::Any => true,
        PrincipalConstraint::Is(t) => t == caller.uid.type_name(),
        PrincipalConstraint::Eq(u) => *u == caller.uid,
        PrincipalConstraint::In(u) => within(u),
        PrincipalConstraint::IsIn(t, u) => t == caller.uid.type_name() && within(u),
    }
}
