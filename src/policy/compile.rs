//! Compiling policy texts into what an engine is made of ([`Compiled`]): each file parsed on
//! its own (so positions are per file), ids from `@id` or `file:line`, strict validation
//! against the schema with `file:line` diagnostics, and for each policy what its scope and
//! conditions read — the facts the slices and the list-filtering fast paths rely on. The
//! engine (`engine.rs`) adds its index and caches; this file knows nothing of them.

use std::collections::{HashMap, HashSet};

use cedar_policy::{
    ActionConstraint, Effect, Entity, EntityUid, Policy, PolicyId, PolicySet, PrincipalConstraint,
    ResourceConstraint, Schema, SchemaFragment, ValidationMode, Validator,
};
use miette::Diagnostic as _;
use serde_json::Value;

use super::sources::{first_offset, line_of, message_of};
use super::{ArgType, Diagnostic, PolicyError, PolicyInfo, schema};

/// A schema and policy set, parsed and validated, with what each policy reads: everything an
/// engine is built from.
pub(super) struct Compiled {
    pub(super) schema: Schema,
    pub(super) policies: Vec<ScopedPolicy>,
    pub(super) info: HashMap<String, PolicyInfo>,
    /// Action entities from the schema (with their groups), by action id.
    pub(super) actions: HashMap<String, Entity>,
    /// Ancestors of each action, by action id.
    pub(super) action_groups: HashMap<String, HashSet<EntityUid>>,
    /// Typed `arguments` of each `call_tool:<tool>` action.
    pub(super) typed: HashMap<String, ArgType>,
    /// Validator warnings (not errors), `file:line: …` each.
    pub(super) warnings: Vec<String>,
}

/// One loaded policy with what the fast paths need to know about it.
pub(super) struct ScopedPolicy {
    pub(super) policy: Policy,
    /// The policy alone (a `forbid` with an always-satisfied `permit`, so the partial decision
    /// tells its outcome), for per-policy partial evaluation in list filtering.
    pub(super) single: PolicySet,
    /// The same with the scope left open (`permit(principal, action, resource) when …`), for
    /// list filtering once the scope is known to match. `None` when the conditions name a
    /// target entity (their outcome may then depend on which targets are in the store).
    pub(super) stripped: Option<PolicySet>,
    /// Whether the policy may read `context.args` (conservatively: its text mentions `args`).
    pub(super) reads_args: bool,
    /// What the conditions (not the scope) read of the resource.
    pub(super) reads_resource: ResourceUse,
    pub(super) principal: PrincipalConstraint,
    pub(super) action: ActionConstraint,
    pub(super) resource: ResourceConstraint,
}

/// What a policy's conditions read of the resource, conservatively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum ResourceUse {
    /// Nothing: the outcome depends on the caller and action only.
    Nothing,
    /// Only attributes in [`TRAIT_ATTRS`].
    Traits,
    /// Anything else (its name, its uid, `in`, `is`, …).
    Anything,
}

/// Tool attributes that [`ResourceUse::Traits`] covers: the annotations, `pinned` and
/// `findings` (not the names, the backend or the uid).
const TRAIT_ATTRS: [&str; 6] = [
    "read_only",
    "destructive",
    "idempotent",
    "open_world",
    "pinned",
    "findings",
];

/// Id of the always-satisfied `permit` paired with each `forbid` for per-policy evaluation.
const PROBE_ID: &str = "\u{0}portcullis-visibility-probe";

/// How a Cedar JSON (EST) expression uses the `resource` variable.
fn resource_use(v: &Value) -> ResourceUse {
    match v {
        Value::Object(m) => {
            if m.get("Var").and_then(Value::as_str) == Some("resource") {
                return ResourceUse::Anything;
            }
            for op in [".", "has"] {
                if let Some(inner) = m.get(op)
                    && inner
                        .get("left")
                        .and_then(|l| l.get("Var"))
                        .and_then(Value::as_str)
                        == Some("resource")
                {
                    let attr = inner.get("attr").and_then(Value::as_str).unwrap_or("");
                    return if m.len() == 1 && TRAIT_ATTRS.contains(&attr) {
                        ResourceUse::Traits
                    } else {
                        ResourceUse::Anything
                    };
                }
            }
            m.values()
                .map(resource_use)
                .max()
                .unwrap_or(ResourceUse::Nothing)
        }
        Value::Array(a) => a
            .iter()
            .map(resource_use)
            .max()
            .unwrap_or(ResourceUse::Nothing),
        _ => ResourceUse::Nothing,
    }
}

/// What the conditions of a policy read of the resource ([`ResourceUse::Anything`] when the
/// policy cannot be inspected), and the policy with its scope left open (`None` when its
/// conditions name a target entity, or it cannot be rebuilt).
fn inspect_policy(p: &Policy, probe: &Policy) -> (ResourceUse, Option<PolicySet>) {
    let Ok(mut j) = p.to_json() else {
        return (ResourceUse::Anything, None);
    };
    let Some(conditions) = j.get("conditions") else {
        return (ResourceUse::Anything, None);
    };
    let uses = resource_use(conditions);
    let text = conditions.to_string();
    if ["Tool", "Prompt", "Resource", "Backend"]
        .iter()
        .any(|t| text.contains(&format!("\"{t}\"")))
    {
        return (uses, None);
    }
    for part in ["principal", "action", "resource"] {
        let Some(o) = j.as_object_mut() else {
            return (uses, None);
        };
        o.insert(part.into(), serde_json::json!({ "op": "All" }));
    }
    let stripped = Policy::from_json(Some(p.id().clone()), j)
        .ok()
        .and_then(|open| match open.effect() {
            Effect::Permit => PolicySet::from_policies([open]).ok(),
            Effect::Forbid => PolicySet::from_policies([open, probe.clone()]).ok(),
        });
    (uses, stripped)
}

/// Parse and validate in-memory texts: (file name, text) of schema parts (concatenated in
/// order) and of policy files.
pub(super) fn compile(
    schemas: &[(String, String)],
    policy_files: &[(String, String)],
) -> Result<Compiled, PolicyError> {
    // Schema: one text, offsets mapped back to the part they came from.
    let mut text = String::new();
    let mut parts: Vec<(usize, &str, &str)> = Vec::new();
    for (name, t) in schemas {
        parts.push((text.len(), name, t));
        text.push_str(t);
        text.push('\n');
    }
    let locate = |offset: Option<usize>| -> (String, usize) {
        let offset = offset.unwrap_or(0);
        let part = parts.iter().rev().find(|(start, _, _)| *start <= offset);
        match part {
            Some((start, name, t)) => ((*name).to_owned(), line_of(t, offset - start)),
            None => ("<schema>".into(), 1),
        }
    };
    let schema = match Schema::from_cedarschema_str(&text) {
        Ok((s, _warnings)) => s,
        Err(e) => {
            let (file, line) = locate(first_offset(&e));
            let mut message = message_of(&e, e.to_string());
            // Parse errors carry their detail in related diagnostics.
            if let Some(related) = e.related() {
                for r in related {
                    message = format!("{message}: {r}");
                }
            }
            return Err(PolicyError::Invalid(vec![Diagnostic {
                file,
                line,
                message: format!("invalid schema: {message}"),
            }]));
        }
    };
    let typed = match SchemaFragment::from_cedarschema_str(&text) {
        Ok((frag, _)) => frag
            .to_json_value()
            .map(|v| schema::declared_argument_types(&v))
            .unwrap_or_default(),
        Err(_) => HashMap::new(),
    };
    let action_entities = schema
        .action_entities()
        .map_err(|e| PolicyError::Internal {
            message: format!("schema actions: {e}"),
        })?;
    let mut actions = HashMap::new();
    let mut action_groups = HashMap::new();
    let all_actions: Vec<EntityUid> = schema.actions().cloned().collect();
    for a in &all_actions {
        if let Some(ent) = action_entities.get(a) {
            actions.insert(a.id().unescaped().to_owned(), ent.clone());
        }
        let groups: HashSet<EntityUid> = all_actions
            .iter()
            .filter(|g| action_entities.is_ancestor_of(g, a))
            .cloned()
            .collect();
        action_groups.insert(a.id().unescaped().to_owned(), groups);
    }

    // Policies: each file parsed alone so positions are per file.
    let mut errors = Vec::new();
    let mut info: HashMap<String, PolicyInfo> = HashMap::new();
    let mut set = PolicySet::new();
    let mut scoped = Vec::new();
    // INVARIANT: the probe is a valid policy; ids from files never start with NUL.
    let probe = Policy::parse(
        Some(PolicyId::new(PROBE_ID)),
        "permit(principal, action, resource);",
    )
    .map_err(|e| PolicyError::Internal {
        message: format!("probe policy: {e}"),
    })?;
    let mut file_of: HashMap<String, (String, String, usize)> = HashMap::new();
    for (file, ftext) in policy_files {
        let parsed: PolicySet = match ftext.parse() {
            Ok(p) => p,
            Err(e) => {
                let e: cedar_policy::ParseErrors = e;
                for pe in e.iter() {
                    errors.push(Diagnostic {
                        file: file.clone(),
                        line: line_of(ftext, first_offset(pe).unwrap_or(0)),
                        message: message_of(pe, pe.to_string()),
                    });
                }
                continue;
            }
        };
        if let Some(t) = parsed.templates().next() {
            let at = ftext.find(&t.to_string()).unwrap_or(0);
            errors.push(Diagnostic {
                file: file.clone(),
                line: line_of(ftext, at),
                message: "policy templates (`?principal`, `?resource`) are not supported; \
                              write the entity out"
                    .into(),
            });
            continue;
        }
        // INVARIANT: `PolicySet::from_str` names policies `policy0`, `policy1`, … in
        // source order, and displays each with its original text.
        let mut ordered: Vec<(usize, &Policy)> = parsed
            .policies()
            .map(|p| {
                let n = p
                    .id()
                    .to_string()
                    .trim_start_matches("policy")
                    .parse()
                    .unwrap_or(usize::MAX);
                (n, p)
            })
            .collect();
        ordered.sort_by_key(|(n, _)| *n);
        let mut cursor = 0;
        for (_, p) in ordered {
            let ptext = p.to_string();
            let at = ftext
                .get(cursor..)
                .and_then(|rest| rest.find(&ptext))
                .map_or(cursor, |i| cursor + i);
            cursor = at + ptext.len().min(ftext.len().saturating_sub(at));
            let line = line_of(ftext, at);
            let id = p
                .annotation("id")
                .map_or_else(|| format!("{file}:{line}"), str::to_owned);
            if id == PROBE_ID {
                errors.push(Diagnostic {
                    file: file.clone(),
                    line,
                    message: "this policy id is reserved".into(),
                });
                continue;
            }
            if let Some(prev) = info.get(&id) {
                errors.push(Diagnostic {
                    file: file.clone(),
                    line,
                    message: format!(
                        "duplicate policy id `{id}` (also at {}:{})",
                        prev.file, prev.line
                    ),
                });
                continue;
            }
            let policy = p.new_id(PolicyId::new(&id));
            info.insert(
                id.clone(),
                PolicyInfo {
                    id: id.clone(),
                    file: file.clone(),
                    line,
                    effect: policy.effect(),
                    text: ptext,
                },
            );
            file_of.insert(id.clone(), (file.clone(), ftext.clone(), line));
            if let Err(e) = set.add(policy.clone()) {
                errors.push(Diagnostic {
                    file: file.clone(),
                    line,
                    message: e.to_string(),
                });
                continue;
            }
            let (reads_resource, stripped) = inspect_policy(&policy, &probe);
            scoped.push(ScopedPolicy {
                stripped,
                single: match policy.effect() {
                    Effect::Permit => PolicySet::from_policies([policy.clone()]),
                    Effect::Forbid => PolicySet::from_policies([policy.clone(), probe.clone()]),
                }
                .unwrap_or_default(),
                reads_args: policy.to_string().contains("args"),
                reads_resource,
                principal: policy.principal_constraint(),
                action: policy.action_constraint(),
                resource: policy.resource_constraint(),
                policy,
            });
        }
    }
    if !errors.is_empty() {
        return Err(PolicyError::Invalid(errors));
    }

    let result = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
    let locate_policy = |id: &PolicyId, offset: Option<usize>| -> (String, usize) {
        match file_of.get(&id.to_string()) {
            Some((file, ftext, line)) => {
                (file.clone(), offset.map_or(*line, |o| line_of(ftext, o)))
            }
            None => ("<policies>".into(), 1),
        }
    };
    let mut diags: Vec<Diagnostic> = result
        .validation_errors()
        .map(|e| {
            let (file, line) = locate_policy(e.policy_id(), first_offset(e));
            Diagnostic {
                file,
                line,
                message: format!(
                    "policy `{}`: {}",
                    e.policy_id(),
                    message_of(e, e.to_string())
                ),
            }
        })
        .collect();
    if !diags.is_empty() {
        diags.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        return Err(PolicyError::Invalid(diags));
    }
    let warnings = result
        .validation_warnings()
        .map(|w| {
            let (file, line) = locate_policy(w.policy_id(), first_offset(w));
            format!("{file}:{line}: policy `{}`: {w}", w.policy_id())
        })
        .collect();
    Ok(Compiled {
        schema,
        policies: scoped,
        info,
        actions,
        action_groups,
        typed,
        warnings,
    })
}
