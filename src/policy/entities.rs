//! Cedar entities and context built from gateway values: the caller (`User` in its `Group`s),
//! the target (`Tool` / `Prompt` / `Resource` in its `Backend`), the flattened `Arguments`, and
//! the time and client facts of the request.

use std::time::{SystemTime, UNIX_EPOCH};

use cedar_policy::{Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use serde_json::Value;

use crate::identity::Principal;

use super::{PolicyError, RequestEnv, ResourceRef};

/// Deepest nesting flattened into tags; deeper values become JSON text.
const MAX_FLATTEN_DEPTH: usize = 16;

/// The entity types the gateway builds, parsed once (parsing a name runs Cedar's parser).
static TYPE_NAMES: std::sync::LazyLock<Vec<(&'static str, EntityTypeName)>> =
    std::sync::LazyLock::new(|| {
        [
            "User",
            "Group",
            "Tool",
            "Prompt",
            "Resource",
            "Backend",
            "Action",
            "Arguments",
        ]
        .into_iter()
        .filter_map(|n| n.parse().ok().map(|t| (n, t)))
        .collect()
    });

pub(crate) fn uid(type_name: &str, id: &str) -> Result<EntityUid, PolicyError> {
    if let Some((_, t)) = TYPE_NAMES.iter().find(|(n, _)| *n == type_name) {
        return Ok(EntityUid::from_type_name_and_id(
            t.clone(),
            EntityId::new(id),
        ));
    }
    let t: EntityTypeName = type_name.parse().map_err(|e| PolicyError::Internal {
        message: format!("bad entity type `{type_name}`: {e}"),
    })?;
    // INVARIANT: EntityId accepts any string (FromStr is infallible).
    let eid = EntityId::new(id);
    Ok(EntityUid::from_type_name_and_id(t, eid))
}

fn strings(v: &[String]) -> RestrictedExpression {
    RestrictedExpression::new_set(
        v.iter()
            .map(|s| RestrictedExpression::new_string(s.clone())),
    )
}

fn entity(
    uid: EntityUid,
    attrs: Vec<(String, RestrictedExpression)>,
    parents: Vec<EntityUid>,
    tags: Vec<(String, RestrictedExpression)>,
) -> Result<Entity, PolicyError> {
    Entity::new_with_tags(uid, attrs, parents, tags).map_err(|e| PolicyError::Internal {
        message: format!("cannot build entity: {e}"),
    })
}

/// `User::"<iss>|<sub>"`, a member of its groups. The `Group` entities themselves are not
/// built: they have no attributes, and Cedar answers `principal in Group::"g"` from the user's
/// ancestors alone.
pub(crate) fn principal_entity(p: &Principal) -> Result<(EntityUid, Entity), PolicyError> {
    let user = uid("User", &p.key())?;
    let mut groups = Vec::with_capacity(p.groups.len());
    for g in &p.groups {
        groups.push(uid("Group", g)?);
    }
    let mut tags = Vec::new();
    if let Value::Object(claims) = &p.claims {
        for (k, v) in claims {
            flatten(k, v, 0, &mut tags);
        }
    }
    unique(&tags, "claim")?;
    let tags = tags
        .into_iter()
        .map(|(k, v)| (k, RestrictedExpression::new_string(v)))
        .collect();
    let e = entity(
        user.clone(),
        vec![
            (
                "iss".into(),
                RestrictedExpression::new_string(p.issuer.clone()),
            ),
            (
                "sub".into(),
                RestrictedExpression::new_string(p.subject.clone()),
            ),
            ("scopes".into(), strings(&p.scopes)),
            ("groups".into(), strings(&p.groups)),
        ],
        groups,
        tags,
    )?;
    Ok((user, e))
}

/// The group entities of a principal (for a schema-checked [`cedar_policy::Entities`]).
pub(crate) fn group_entities(p: &Principal) -> Result<Vec<Entity>, PolicyError> {
    p.groups
        .iter()
        .map(|g| uid("Group", g).map(Entity::with_uid))
        .collect()
}

/// The MCP tool annotations as policy attributes. Untrusted (unpinned) definitions get the
/// conservative values: not read-only, destructive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolTraits {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

impl ToolTraits {
    /// MCP defaults: readOnly = false, destructive = true, idempotent = false, openWorld = true.
    /// `destructiveHint` and `idempotentHint` mean something only when `readOnlyHint` is false
    /// (MCP spec), so a read-only tool is neither destructive nor non-idempotent.
    pub fn from_definition(definition: &Value, pinned: bool) -> Self {
        let a = definition.get("annotations");
        let hint = |k: &str| a.and_then(|a| a.get(k)).and_then(Value::as_bool);
        let read_only = hint("readOnlyHint").unwrap_or(false);
        let mut t = ToolTraits {
            read_only,
            destructive: !read_only && hint("destructiveHint").unwrap_or(true),
            idempotent: read_only || hint("idempotentHint").unwrap_or(false),
            open_world: hint("openWorldHint").unwrap_or(true),
        };
        if !pinned {
            t.read_only = false;
            t.destructive = true;
        }
        t
    }
}

/// The target entity, a member of its backend (the `Backend` entity itself is not built, as
/// for groups).
pub(crate) fn resource_entity(r: &ResourceRef<'_>) -> Result<(EntityUid, Entity), PolicyError> {
    let s = |v: &str| RestrictedExpression::new_string(v.to_owned());
    let (target, backend, attrs) = match r {
        ResourceRef::Tool {
            exposed,
            original,
            backend,
            definition,
            pinned,
            findings,
        } => {
            let t = ToolTraits::from_definition(definition, *pinned);
            (
                uid("Tool", exposed)?,
                *backend,
                vec![
                    ("name".to_owned(), s(exposed)),
                    ("original_name".to_owned(), s(original)),
                    ("backend".to_owned(), s(backend)),
                    (
                        "read_only".to_owned(),
                        RestrictedExpression::new_bool(t.read_only),
                    ),
                    (
                        "destructive".to_owned(),
                        RestrictedExpression::new_bool(t.destructive),
                    ),
                    (
                        "idempotent".to_owned(),
                        RestrictedExpression::new_bool(t.idempotent),
                    ),
                    (
                        "open_world".to_owned(),
                        RestrictedExpression::new_bool(t.open_world),
                    ),
                    ("pinned".to_owned(), RestrictedExpression::new_bool(*pinned)),
                    ("findings".to_owned(), strings(findings)),
                ],
            )
        }
        ResourceRef::Prompt {
            exposed,
            original,
            backend,
        } => (
            uid("Prompt", exposed)?,
            *backend,
            vec![
                ("name".to_owned(), s(exposed)),
                ("original_name".to_owned(), s(original)),
                ("backend".to_owned(), s(backend)),
            ],
        ),
        ResourceRef::Resource { uri, backend } => (
            uid("Resource", uri)?,
            *backend,
            vec![
                ("uri".to_owned(), s(uri)),
                ("backend".to_owned(), s(backend)),
            ],
        ),
    };
    let backend = uid("Backend", backend)?;
    Ok((
        target.clone(),
        entity(target, attrs, vec![backend], Vec::new())?,
    ))
}

/// The id of the one `Arguments` entity of a request.
pub(crate) const ARGUMENTS_ID: &str = "request";

/// `Arguments::"request"` with every argument flattened into string tags. Arguments that are
/// not an object would give no tags at all, so no forbid on a tag could hold: they are an
/// error here, as they are refused before the guard (`policy::args`).
pub(crate) fn arguments_entity(args: Option<&Value>) -> Result<(EntityUid, Entity), PolicyError> {
    let u = uid("Arguments", ARGUMENTS_ID)?;
    let mut tags = Vec::new();
    match args {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                flatten(k, v, 0, &mut tags);
            }
        }
        Some(other) => {
            return Err(PolicyError::Ambiguous {
                message: format!("`arguments` must be an object, not `{other}`"),
            });
        }
    }
    unique(&tags, "argument")?;
    let tags = tags
        .into_iter()
        .map(|(k, v)| (k, RestrictedExpression::new_string(v)))
        .collect();
    Ok((u.clone(), entity(u, Vec::new(), Vec::new(), tags)?))
}

/// `{"a.b": 1, "a": {"b": 2}}` flattens to two `a.b` tags: refuse rather than let a policy see
/// one value while the backend acts on the other.
fn unique(tags: &[(String, String)], what: &str) -> Result<(), PolicyError> {
    let mut seen = std::collections::HashSet::with_capacity(tags.len());
    for (k, _) in tags {
        if !seen.insert(k.as_str()) {
            return Err(PolicyError::Ambiguous {
                message: format!("{what} `{k}` is given twice (a dotted key and a nested object)"),
            });
        }
    }
    Ok(())
}

/// Every argument is a tag, whatever its JSON type: a string is its text, anything else
/// (number, boolean, null, array, object) its compact JSON text; an object's members are tags
/// of their own too (`a.b`), down to [`MAX_FLATTEN_DEPTH`]. So `context.args.hasTag("path")`
/// is true whenever `path` was sent, and a policy can tell a string from another shape.
fn flatten(key: &str, v: &Value, depth: usize, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((key.to_owned(), s.clone())),
        Value::Object(m) => {
            out.push((key.to_owned(), v.to_string()));
            if depth < MAX_FLATTEN_DEPTH {
                for (k, sub) in m {
                    flatten(&format!("{key}.{k}"), sub, depth + 1, out);
                }
            }
        }
        other => out.push((key.to_owned(), other.to_string())),
    }
}

/// UTC calendar facts of a time: (unix, hour, minute, weekday 1 = Monday … 7 = Sunday).
pub fn utc_parts(t: SystemTime) -> (i64, i64, i64, i64) {
    let unix = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // 1970-01-01 was a Thursday (weekday 4).
    let weekday = (days + 3).rem_euclid(7) + 1;
    (unix, secs / 3600, (secs % 3600) / 60, weekday)
}

/// The context record common to every action.
pub(crate) fn common_context(
    args: EntityUid,
    env: &RequestEnv,
) -> Vec<(String, RestrictedExpression)> {
    let (unix, hour, minute, weekday) = utc_parts(env.now);
    let s = |v: &str| RestrictedExpression::new_string(v.to_owned());
    let record = |fields: Vec<(String, RestrictedExpression)>| {
        // INVARIANT: field names are distinct literals, so new_record cannot fail.
        RestrictedExpression::new_record(fields)
            .unwrap_or_else(|_| RestrictedExpression::new_bool(false))
    };
    vec![
        ("args".into(), RestrictedExpression::new_entity_uid(args)),
        (
            "now".into(),
            record(vec![
                ("unix".into(), RestrictedExpression::new_long(unix)),
                ("hour".into(), RestrictedExpression::new_long(hour)),
                ("minute".into(), RestrictedExpression::new_long(minute)),
                ("weekday".into(), RestrictedExpression::new_long(weekday)),
            ]),
        ),
        (
            "client".into(),
            record(vec![
                ("address".into(), s(&env.client_address)),
                ("name".into(), s(&env.client_name)),
                ("version".into(), s(&env.client_version)),
            ]),
        ),
        ("protocol_version".into(), s(&env.protocol_version)),
    ]
}
