//! List filtering: which tools a caller could ever call, so the rest are hidden from
//! `tools/list` ([`PolicyEngine::visible_tools`]).
//!
//! The exact answer is Cedar's partial evaluation with the context unknown. Asked for every
//! tool of every list, that is slow, so each policy is evaluated on its own and its outcome is
//! shared by every tool it cannot tell apart (by what its conditions read of the resource:
//! nothing, only the tool's traits, or anything). `visible_tools_reference` (tests) is the
//! slow, exact path the fast ones must agree with.

use std::collections::{HashMap, HashSet};

use cedar_policy::{Effect, Entities, EntityUid, PolicySet, Request, RequestBuilder};

use crate::identity::Principal;

use super::caches::cached_resource_entity;
use super::compile::{ResourceUse, ScopedPolicy};
use super::engine::PolicyEngine;
use super::slice::{Caller, principal_may_match};
use super::{Action, ResourceRef, ToolTraits, entities};

/// Where a policy's outcome is kept: (policy, action number, what it reads of the tool:
/// 0 nothing, 1 traits, 2 anything; the traits or tool number).
type OutcomeKey = (usize, usize, u8, usize);

/// One policy's partial-evaluation outcome with the context unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Satisfied,
    Residual,
    /// Not satisfied, or failed to evaluate (Cedar skips erroring policies).
    NotSatisfied,
}

impl PolicyEngine {
    /// [`Self::may_ever_call`] for many tools (list filtering): the caller and every tool go
    /// into one entity store, built once.
    ///
    /// Each policy is partially evaluated on its own (Cedar evaluates policies independently)
    /// and its outcome is shared by every tool it cannot tell apart: a policy whose conditions
    /// never read the resource has one outcome per action, one that reads only the tool's
    /// traits (annotations, pinned, findings) one per distinct traits. A tool is
    /// visible exactly when Cedar's partial decision would not be `Deny`: no satisfied
    /// `forbid`, and some `permit` satisfied or residual.
    pub fn visible_tools(&self, principal: &Principal, tools: &[ResourceRef<'_>]) -> Vec<bool> {
        let Ok(caller) = self.caller(principal) else {
            return vec![false; tools.len()];
        };
        // Answers depend only on (caller, action, target entity): cached per engine.
        let fingerprints: Vec<String> = tools.iter().map(ResourceRef::fingerprint).collect();
        let keys: Vec<String> = fingerprints
            .iter()
            .map(|f| format!("{}\u{2}{f}", caller.id))
            .collect();
        let known = self.caches.visible(&keys);
        if known.iter().all(Option::is_some) {
            return known.into_iter().map(|k| k.unwrap_or(false)).collect();
        }
        if self.open_scopes {
            let fresh = self.visible_open_scopes(&caller, tools, &fingerprints, &known);
            return self.caches.remember_visible(known, fresh, keys);
        }
        let Some((shared, targets)) = self.shared_store(&caller, tools, &fingerprints, &known)
        else {
            // Duplicate exposed names make the shared store invalid: decide those one by one.
            let fresh: Vec<Option<bool>> = tools
                .iter()
                .zip(&known)
                .map(|(t, k)| match k {
                    Some(_) => None,
                    None => Some(self.visible_alone(&caller, t)),
                })
                .collect();
            return self.caches.remember_visible(known, fresh, keys);
        };
        let mut outcomes: HashMap<OutcomeKey, Outcome> = HashMap::new();
        let mut action_ids: HashMap<String, (usize, bool)> = HashMap::new();
        let mut trait_ids: HashMap<String, usize> = HashMap::new();
        let fresh: Vec<Option<bool>> = targets
            .into_iter()
            .zip(tools)
            .zip(&known)
            .enumerate()
            .map(|(n, ((target, tool), k))| {
                if k.is_some() {
                    return None;
                }
                let (action_id, action, uid, backend) = target?;
                let Some(idx) = self.candidates(
                    self.slice_indices(&action_id, &action, tool, &uid, &backend),
                    &caller,
                ) else {
                    return Some(false);
                };
                // Whether requests for this action fit the schema (principal and resource
                // types), checked once per action.
                let next = action_ids.len();
                let (action_no, fits) = match action_ids.get(&action_id) {
                    Some(v) => *v,
                    None => {
                        let fits = self.fits_schema(&caller, &action, &uid);
                        action_ids.insert(action_id.clone(), (next, fits));
                        (next, fits)
                    }
                };
                if !fits {
                    return Some(false);
                }
                let traits_no = traits_number(&mut trait_ids, tool);
                let mut request = None;
                let slot = (action_no, traits_no, n);
                Some(self.tally(&idx, &mut outcomes, slot, |p| {
                    // The schema check is done above, once per action.
                    let r = request.get_or_insert_with(|| {
                        RequestBuilder::default()
                            .principal(caller.uid.clone())
                            .action(action.clone())
                            .resource(uid.clone())
                            .build()
                    });
                    Ok(self.partial_outcome(r, p.policy.effect(), &p.single, &shared))
                }))
            })
            .collect();
        self.caches.remember_visible(known, fresh, keys)
    }

    /// List filtering when every policy can be evaluated with its scope left open: the scope
    /// is matched here exactly (action and resource by the slice, principal by
    /// [`principal_may_match`]), and each condition is evaluated in the smallest store it can
    /// read: the caller and the action when it never reads the resource, plus the tool when
    /// it does. No store of every listed tool is built.
    fn visible_open_scopes(
        &self,
        caller: &Caller,
        tools: &[ResourceRef<'_>],
        fingerprints: &[String],
        known: &[Option<bool>],
    ) -> Vec<Option<bool>> {
        let mut outcomes: HashMap<OutcomeKey, Outcome> = HashMap::new();
        // Per action id: its number, whether its requests fit the schema, and the store of the
        // caller and the action.
        let mut actions: HashMap<String, (usize, bool, Option<Entities>)> = HashMap::new();
        let mut trait_ids: HashMap<String, usize> = HashMap::new();
        let mut common = HashMap::new();
        tools
            .iter()
            .zip(fingerprints)
            .zip(known)
            .enumerate()
            .map(|(n, ((tool, fingerprint), k))| {
                if k.is_some() {
                    return None;
                }
                let action_id = self.action_id(Action::CallTool, tool);
                let (Ok(action), Ok(uid), Ok(backend)) = (
                    entities::uid("Action", &action_id),
                    entities::uid(tool.type_name(), tool.id()),
                    entities::uid("Backend", tool.backend()),
                ) else {
                    return Some(false);
                };
                let Some(idx) = self.candidates(
                    self.slice_indices_shared(
                        &mut common,
                        &action_id,
                        &action,
                        tool,
                        &uid,
                        &backend,
                    ),
                    caller,
                ) else {
                    return Some(false);
                };
                let next = actions.len();
                let (action_no, fits, base) =
                    actions.entry(action_id.clone()).or_insert_with(|| {
                        let fits = self.fits_schema(caller, &action, &uid);
                        let mut ents = vec![caller.entity.clone()];
                        if let Some(a) = self.actions.get(&action_id) {
                            ents.push(a.clone());
                        }
                        (next, fits, Entities::from_entities(ents, None).ok())
                    });
                let action_no = *action_no;
                let (true, Some(base)) = (*fits, base.as_ref()) else {
                    return Some(false);
                };
                let traits_no = traits_number(&mut trait_ids, tool);
                // The schema check is done above, once per action.
                let request = RequestBuilder::default()
                    .principal(caller.uid.clone())
                    .action(action.clone())
                    .resource(uid)
                    .build();
                let mut own: Option<Option<Entities>> = None;
                let slot = (action_no, traits_no, n);
                Some(self.tally(&idx, &mut outcomes, slot, |p| {
                    // Only asked for a policy whose outcome is not known yet: one without an
                    // open form has none, so this is where it sends the tool the slow way.
                    let Some(open) = &p.stripped else {
                        return Err(self.visible_alone(caller, tool));
                    };
                    let ents = if p.reads_resource == ResourceUse::Nothing {
                        base
                    } else {
                        let store = own.get_or_insert_with(|| {
                            let (_, e) = cached_resource_entity(tool, fingerprint).ok()?;
                            let mut ents = vec![caller.entity.clone(), e];
                            if let Some(a) = self.actions.get(&action_id) {
                                ents.push(a.clone());
                            }
                            Entities::from_entities(ents, None).ok()
                        });
                        store.as_ref().ok_or(false)?
                    };
                    Ok(self.partial_outcome(&request, p.policy.effect(), open, ents))
                }))
            })
            .collect()
    }

    /// The candidates of a slice: the policies whose principal scope can match the caller.
    /// `None` when no `permit` is among them (nothing could allow: the tool is hidden).
    fn candidates(&self, slice: Vec<usize>, caller: &Caller) -> Option<Vec<usize>> {
        let idx: Vec<usize> = slice
            .into_iter()
            .filter(|&i| {
                self.policies
                    .get(i)
                    .is_some_and(|p| principal_may_match(&p.principal, caller))
            })
            .collect();
        idx.iter()
            .any(|&i| {
                self.policies
                    .get(i)
                    .is_some_and(|p| p.policy.effect() == Effect::Permit)
            })
            .then_some(idx)
    }

    /// Whether requests of the caller for `action` on `resource` fit the schema (principal
    /// and resource types): asked once per action, so the requests built after it skip it.
    fn fits_schema(&self, caller: &Caller, action: &EntityUid, resource: &EntityUid) -> bool {
        RequestBuilder::default()
            .principal(caller.uid.clone())
            .action(action.clone())
            .resource(resource.clone())
            .schema(&self.schema)
            .build()
            .is_ok()
    }

    /// A tool's visibility from its candidate policies (`idx`): hidden by a satisfied
    /// `forbid`, visible when some `permit` is satisfied or residual. Each policy's outcome
    /// is computed at most once per (policy, action, what it reads of the tool: nothing, the
    /// traits numbered `traits_no`, or the whole tool `n`) and kept in `outcomes`;
    /// `evaluate` computes one, or gives the tool's answer outright (`Err`).
    fn tally(
        &self,
        idx: &[usize],
        outcomes: &mut HashMap<OutcomeKey, Outcome>,
        (action_no, traits_no, n): (usize, usize, usize),
        mut evaluate: impl FnMut(&ScopedPolicy) -> Result<Outcome, bool>,
    ) -> bool {
        let mut permitted = false;
        for &i in idx {
            // INVARIANT: slice indices are in range; fail closed anyway.
            let Some(p) = self.policies.get(i) else {
                return false;
            };
            let key = match p.reads_resource {
                ResourceUse::Nothing => (i, action_no, 0, 0),
                ResourceUse::Traits => (i, action_no, 1, traits_no),
                ResourceUse::Anything => (i, action_no, 2, n),
            };
            let outcome = match outcomes.get(&key) {
                Some(o) => *o,
                None => match evaluate(p) {
                    Ok(o) => {
                        outcomes.insert(key, o);
                        o
                    }
                    Err(answer) => return answer,
                },
            };
            match (outcome, p.policy.effect()) {
                (Outcome::Satisfied, Effect::Forbid) => return false,
                (Outcome::Satisfied | Outcome::Residual, Effect::Permit) => permitted = true,
                _ => {}
            }
        }
        permitted
    }

    /// One policy's outcome under partial evaluation (the context unknown).
    fn partial_outcome(
        &self,
        request: &Request,
        effect: Effect,
        single: &PolicySet,
        ents: &Entities,
    ) -> Outcome {
        use cedar_policy::Decision::{Allow, Deny};
        let r = self.authorizer.is_authorized_partial(request, single, ents);
        // A permit alone: allowed when satisfied. A forbid with the always-satisfied probe:
        // denied when satisfied, allowed when not (or failed), undecided when residual.
        match (effect, r.decision()) {
            (_, None) => Outcome::Residual,
            (Effect::Permit, Some(Allow)) | (Effect::Forbid, Some(Deny)) => Outcome::Satisfied,
            _ => Outcome::NotSatisfied,
        }
    }

    /// The caller, every tool not yet known and their actions in one store, with each tool's
    /// (action id, action, uid, backend). `None` when the store cannot be built (duplicate
    /// names).
    #[allow(clippy::type_complexity)]
    fn shared_store(
        &self,
        caller: &Caller,
        tools: &[ResourceRef<'_>],
        fingerprints: &[String],
        known: &[Option<bool>],
    ) -> Option<(
        Entities,
        Vec<Option<(String, EntityUid, EntityUid, EntityUid)>>,
    )> {
        let mut targets = Vec::with_capacity(tools.len());
        let mut ents = Vec::with_capacity(tools.len() + 2);
        let mut actions_added = HashSet::new();
        ents.push(caller.entity.clone());
        for ((t, k), f) in tools.iter().zip(known).zip(fingerprints) {
            if k.is_some() {
                targets.push(None);
                continue;
            }
            let action_id = self.action_id(Action::CallTool, t);
            let built = cached_resource_entity(t, f).and_then(|(uid, e)| {
                let action = entities::uid("Action", &action_id)?;
                let backend = entities::uid("Backend", t.backend())?;
                Ok((uid, e, action, backend))
            });
            match built {
                Ok((uid, e, action, backend)) => {
                    ents.push(e);
                    if actions_added.insert(action_id.clone())
                        && let Some(a) = self.actions.get(&action_id)
                    {
                        ents.push(a.clone());
                    }
                    targets.push(Some((action_id, action, uid, backend)));
                }
                Err(_) => targets.push(None),
            }
        }
        let shared = Entities::from_entities(ents, None).ok()?;
        Some((shared, targets))
    }

    /// Visibility of one tool with its own entity store: the whole slice partially evaluated
    /// at once (the reference the per-policy path in [`Self::visible_tools`] must agree with).
    fn visible_alone(&self, caller: &Caller, tool: &ResourceRef<'_>) -> bool {
        self.may_ever_alone(caller, Action::CallTool, tool)
    }

    /// [`Self::visible_tools`] the reference way: every tool's whole slice partially evaluated
    /// in the shared store, nothing shared between tools and no answer cached.
    #[cfg(test)]
    pub(super) fn visible_tools_reference(
        &self,
        principal: &Principal,
        tools: &[ResourceRef<'_>],
    ) -> Vec<bool> {
        let Ok(caller) = self.caller(principal) else {
            return vec![false; tools.len()];
        };
        let known = vec![None; tools.len()];
        let fingerprints: Vec<String> = tools.iter().map(ResourceRef::fingerprint).collect();
        match self.shared_store(&caller, tools, &fingerprints, &known) {
            Some((shared, targets)) => tools
                .iter()
                .zip(targets)
                .map(|(t, target)| {
                    target.is_some() && self.may_ever_in(&caller, Action::CallTool, t, &shared)
                })
                .collect(),
            None => tools
                .iter()
                .map(|t| self.visible_alone(&caller, t))
                .collect(),
        }
    }
}

/// The number of the tool's traits in `trait_ids`, a new one for traits not seen yet.
fn traits_number(trait_ids: &mut HashMap<String, usize>, tool: &ResourceRef<'_>) -> usize {
    let next = trait_ids.len();
    *trait_ids.entry(tool_traits_key(tool)).or_insert(next)
}

/// The traits of a tool that [`ResourceUse::Traits`] policies may read.
pub(super) fn tool_traits_key(r: &ResourceRef<'_>) -> String {
    match r {
        ResourceRef::Tool {
            definition,
            pinned,
            findings,
            ..
        } => {
            let t = ToolTraits::from_definition(definition, *pinned);
            format!(
                "T{}{}{}{}{}{findings:?}",
                u8::from(t.read_only),
                u8::from(t.destructive),
                u8::from(t.idempotent),
                u8::from(t.open_world),
                u8::from(*pinned),
            )
        }
        // Only tools are listed this way; anything else is keyed on everything it has.
        other => other.fingerprint(),
    }
}
