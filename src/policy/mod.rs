//! Cedar policy: the schema, entity and request building, decisions, hot reload and policy
//! tests. The guard chain asks [`PolicyEngine::authorize`] before every call and
//! [`PolicyEngine::may_ever_call`] to hide tools from lists.
//!
//! Default deny: a call is allowed only when some `permit` is satisfied and no `forbid` is.
//! Policies and schema are validated in strict mode when loaded; an invalid set never replaces
//! a working one ([`PolicyStore::reload`]).
//!
//! Speed: Cedar evaluates every policy it is given, so the engine hands it only the policies
//! whose action and resource scopes can match the request (a "slice", cached per action and
//! resource). Policies whose scope leaves the resource open are in every slice; write
//! `resource == Tool::"…"` or `resource in Backend::"…"` to keep large sets fast.
//!
//! List filtering evaluates each policy once per caller and list for every tool it cannot tell
//! apart (see [`PolicyEngine::visible_tools`]); request checks against the schema that cannot
//! fail again (the common context of an action already checked) are skipped.

pub mod cli;
mod entities;
mod schema;
pub mod testing;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use cedar_policy::{
    ActionConstraint, Authorizer, Context, Effect, Entities, Entity, EntityUid, Policy, PolicyId,
    PolicySet, PrincipalConstraint, Request, RequestBuilder, ResourceConstraint, Schema,
    SchemaFragment, ValidationMode, Validator,
};
use miette::Diagnostic as _;
use serde_json::Value;

use crate::config::Config;
use crate::identity::Principal;

pub use entities::{ToolTraits, utc_parts};
pub use schema::{ArgType, ArgumentMismatch, TOOL_ACTION_PREFIX, schema_fragment};

/// Most cached slices per engine; past this, slices are built per request and dropped.
const MAX_CACHED_SLICES: usize = 16_384;
/// Most cached principal entities per engine; the cache starts over when full.
const MAX_CACHED_CALLERS: usize = 4_096;
/// Most cached (caller, target) entity stores per engine; the cache starts over when full.
const MAX_CACHED_STORES: usize = 16_384;
/// Most cached list-visibility answers per engine; the cache starts over when full.
const MAX_CACHED_VISIBLE: usize = 262_144;

/// One located problem in a schema or policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{}", join_lines(.0))]
    Invalid(Vec<Diagnostic>),
    #[error("ambiguous request: {message}")]
    Ambiguous { message: String },
    #[error("internal policy error: {message}")]
    Internal { message: String },
}

fn join_lines(d: &[Diagnostic]) -> String {
    d.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl PolicyError {
    /// The located problems (empty for read and internal errors).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            PolicyError::Invalid(d) => d,
            _ => &[],
        }
    }
}

/// What is being done, as the Cedar action of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CallTool,
    GetPrompt,
    ReadResource,
    SubscribeResource,
    Complete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::CallTool => "call_tool",
            Action::GetPrompt => "get_prompt",
            Action::ReadResource => "read_resource",
            Action::SubscribeResource => "subscribe_resource",
            Action::Complete => "complete",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "call_tool" => Action::CallTool,
            "get_prompt" => Action::GetPrompt,
            "read_resource" => Action::ReadResource,
            "subscribe_resource" => Action::SubscribeResource,
            "complete" => Action::Complete,
            _ => return None,
        })
    }
}

/// What the action is done to.
#[derive(Debug, Clone, Copy)]
pub enum ResourceRef<'a> {
    Tool {
        /// The name clients see (`Tool::"<exposed>"`).
        exposed: &'a str,
        original: &'a str,
        backend: &'a str,
        /// The MCP tool definition (annotations are read from it when `pinned`).
        definition: &'a Value,
        /// Whether `definition` matches the reviewed pin; unpinned annotations are not trusted.
        pinned: bool,
        /// Integrity findings (shadowing, poisoning, …) about this tool.
        findings: &'a [String],
    },
    Prompt {
        exposed: &'a str,
        original: &'a str,
        backend: &'a str,
    },
    Resource {
        uri: &'a str,
        backend: &'a str,
    },
}

impl ResourceRef<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            ResourceRef::Tool { .. } => "Tool",
            ResourceRef::Prompt { .. } => "Prompt",
            ResourceRef::Resource { .. } => "Resource",
        }
    }

    /// Everything the target entity is built from, as a cache key.
    fn fingerprint(&self) -> String {
        match self {
            ResourceRef::Tool {
                exposed,
                original,
                backend,
                ..
            } => format!(
                "T\u{0}{exposed}\u{0}{original}\u{0}{backend}\u{0}{}",
                tool_traits_key(self)
            ),
            ResourceRef::Prompt {
                exposed,
                original,
                backend,
            } => format!("P\u{0}{exposed}\u{0}{original}\u{0}{backend}"),
            ResourceRef::Resource { uri, backend } => format!("R\u{0}{uri}\u{0}{backend}"),
        }
    }

    fn id(&self) -> &str {
        match self {
            ResourceRef::Tool { exposed, .. } | ResourceRef::Prompt { exposed, .. } => exposed,
            ResourceRef::Resource { uri, .. } => uri,
        }
    }

    fn backend(&self) -> &str {
        match self {
            ResourceRef::Tool { backend, .. }
            | ResourceRef::Prompt { backend, .. }
            | ResourceRef::Resource { backend, .. } => backend,
        }
    }
}

/// Facts about the request that are not the principal or the resource.
#[derive(Debug, Clone)]
pub struct RequestEnv {
    pub now: SystemTime,
    pub client_address: String,
    pub client_name: String,
    pub client_version: String,
    pub protocol_version: String,
}

impl RequestEnv {
    /// The current time and empty client facts.
    pub fn now() -> Self {
        RequestEnv {
            now: SystemTime::now(),
            client_address: String::new(),
            client_name: String::new(),
            client_version: String::new(),
            protocol_version: String::new(),
        }
    }
}

/// The outcome of one authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Ids of the deciding policies: the satisfied `permit`s when allowed, the satisfied
    /// `forbid`s when denied by one (empty when denied because nothing permits).
    pub reasons: Vec<String>,
    /// Policies that failed to evaluate (they count as not satisfied), and request problems
    /// such as arguments that do not fit the tool's typed schema.
    pub errors: Vec<String>,
}

impl Decision {
    fn deny(error: String) -> Self {
        Decision {
            allowed: false,
            reasons: Vec::new(),
            errors: vec![error],
        }
    }
}

/// Where a loaded policy came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInfo {
    pub id: String,
    pub file: String,
    pub line: usize,
    pub effect: Effect,
    pub text: String,
}

/// Which policies permitted or forbade one request, for `portcullis policy explain`.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub decision: Decision,
    /// The Cedar action used (`call_tool` or a typed `call_tool:<tool>`).
    pub action: String,
    /// Policies whose scope could match (the rest cannot apply).
    pub considered: usize,
    pub permits: Vec<PolicyInfo>,
    pub forbids: Vec<PolicyInfo>,
    /// (policy id, error) for policies that failed to evaluate.
    pub errored: Vec<(String, String)>,
}

/// Files a policy engine is loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySources {
    /// The main schema file.
    pub schema: PathBuf,
    /// Directory of `*.cedar` policy files and extra `*.cedarschema` fragments (not recursive).
    pub policies: PathBuf,
}

impl PolicySources {
    /// The `[policy]` section of a config, paths resolved against the config's directory, and
    /// the reload poll interval (`None` when polling is off). `None` when there is no `[policy]`
    /// section: the policy stage is then off.
    pub fn from_config(cfg: &Config) -> Option<(PolicySources, Option<Duration>)> {
        let p = cfg.policy.as_ref()?.get_ref();
        Some((
            PolicySources {
                schema: cfg.resolve_path(&p.schema),
                policies: cfg.resolve_path(&p.policies),
            },
            (p.reload_secs > 0).then(|| Duration::from_secs(p.reload_secs)),
        ))
    }

    /// Schema files in load order: the main schema, then other `*.cedarschema` files of the
    /// policy directory by name.
    fn schema_files(&self) -> Result<Vec<PathBuf>, PolicyError> {
        let mut files = vec![self.schema.clone()];
        let main = std::fs::canonicalize(&self.schema).ok();
        for f in list_dir(&self.policies, "cedarschema")? {
            if std::fs::canonicalize(&f).ok() != main || main.is_none() {
                files.push(f);
            }
        }
        Ok(files)
    }
}

fn list_dir(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, PolicyError> {
    let rd = std::fs::read_dir(dir).map_err(|source| PolicyError::Read {
        path: dir.display().to_string(),
        source,
    })?;
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|source| PolicyError::Read {
            path: dir.display().to_string(),
            source,
        })?;
        let p = e.path();
        if p.is_file() && p.extension().and_then(|x| x.to_str()) == Some(ext) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

fn read(path: &Path) -> Result<String, PolicyError> {
    std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn display_name(p: &Path) -> String {
    p.display().to_string()
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |t| t.bytes().filter(|b| *b == b'\n').count() + 1)
}

/// The first labelled offset of a Cedar diagnostic.
fn first_offset(d: &dyn miette::Diagnostic) -> Option<usize> {
    d.labels()?.next().map(|l| l.offset())
}

fn message_of(d: &dyn miette::Diagnostic, display: String) -> String {
    match d.help() {
        Some(h) => format!("{display} (help: {h})"),
        None => display,
    }
}

struct ScopedPolicy {
    policy: Policy,
    /// The policy alone (a `forbid` with an always-satisfied `permit`, so the partial decision
    /// tells its outcome), for per-policy partial evaluation in list filtering.
    single: PolicySet,
    /// The same with the scope left open (`permit(principal, action, resource) when …`), for
    /// list filtering once the scope is known to match. `None` when the conditions name a
    /// target entity (their outcome may then depend on which targets are in the store).
    stripped: Option<PolicySet>,
    /// Whether the policy may read `context.args` (conservatively: its text mentions `args`).
    reads_args: bool,
    /// What the conditions (not the scope) read of the resource.
    reads_resource: ResourceUse,
    principal: PrincipalConstraint,
    action: ActionConstraint,
    resource: ResourceConstraint,
}

/// What a policy's conditions read of the resource, conservatively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ResourceUse {
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

/// Most cached target entities (shared by every engine: they do not depend on policies).
const MAX_CACHED_TARGETS: usize = 65_536;

/// Target entities by [`ResourceRef::fingerprint`]: built once per tool definition, not once
/// per engine or per list.
static TARGETS: std::sync::LazyLock<RwLock<HashMap<String, (EntityUid, Entity)>>> =
    std::sync::LazyLock::new(|| RwLock::new(HashMap::new()));

fn cached_resource_entity(
    r: &ResourceRef<'_>,
    fingerprint: &str,
) -> Result<(EntityUid, Entity), PolicyError> {
    if let Ok(c) = TARGETS.read()
        && let Some(e) = c.get(fingerprint)
    {
        return Ok(e.clone());
    }
    let built = entities::resource_entity(r)?;
    if let Ok(mut c) = TARGETS.write() {
        if c.len() >= MAX_CACHED_TARGETS {
            c.clear();
        }
        c.insert(fingerprint.to_owned(), built.clone());
    }
    Ok(built)
}

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

/// Policies by the resource their scope names, so a slice is built from candidates rather than
/// by scanning every policy.
#[derive(Default)]
struct ScopeIndex {
    /// `resource` left open.
    open: Vec<usize>,
    /// `resource == u`, `resource in u`, `resource is T in u`, by `u`.
    by_uid: HashMap<EntityUid, Vec<usize>>,
    /// `resource is T`, by `T`.
    by_type: HashMap<String, Vec<usize>>,
}

impl ScopeIndex {
    fn new(policies: &[ScopedPolicy]) -> Self {
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

/// Whether a principal scope matches the caller (exact: the caller's only ancestors are its
/// groups, whose entities are never built).
fn principal_may_match(c: &PrincipalConstraint, caller: &Caller) -> bool {
    let within = |u: &EntityUid| *u == caller.uid || caller.groups.contains(u);
    match c {
        PrincipalConstraint::Any => true,
        PrincipalConstraint::Is(t) => t == caller.uid.type_name(),
        PrincipalConstraint::Eq(u) => *u == caller.uid,
        PrincipalConstraint::In(u) => within(u),
        PrincipalConstraint::IsIn(t, u) => t == caller.uid.type_name() && within(u),
    }
}

/// One policy's partial-evaluation outcome with the context unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Satisfied,
    Residual,
    /// Not satisfied, or failed to evaluate (Cedar skips erroring policies).
    NotSatisfied,
}

/// A validated schema and policy set, ready to decide. Immutable: reloads build a new one.
pub struct PolicyEngine {
    schema: Schema,
    authorizer: Authorizer,
    policies: Vec<ScopedPolicy>,
    info: HashMap<String, PolicyInfo>,
    /// Action entities from the schema (with their groups), by action id.
    actions: HashMap<String, Entity>,
    /// Ancestors of each action, by action id.
    action_groups: HashMap<String, HashSet<EntityUid>>,
    /// Typed `arguments` of each `call_tool:<tool>` action.
    typed: HashMap<String, ArgType>,
    index: ScopeIndex,
    /// Every policy has a scope-free form ([`ScopedPolicy::stripped`]).
    open_scopes: bool,
    slices: RwLock<HashMap<String, Arc<Slice>>>,
    /// Callers by issuer and subject (the entry is rebuilt when other facts change).
    callers: RwLock<HashMap<String, Arc<Caller>>>,
    /// Numbers callers, so caches can key on a short id rather than on the caller's facts.
    next_caller: AtomicU64,
    /// Per (caller, action, target): the slice narrowed to the caller, and the entity store
    /// when no policy reads `context.args`.
    stores: RwLock<HashMap<String, Arc<Bound>>>,
    /// The common contexts built in the current second, by the client facts they were built
    /// from (one per client session calling in that second; the map starts over each second).
    contexts: Mutex<(i64, HashMap<[String; 4], Context>)>,
    /// Actions (by id) whose requests with the common context were checked against the schema,
    /// as a bit per resource type: such requests always pass again, so they are not re-checked.
    validated: RwLock<HashMap<String, u8>>,
    /// `visible_tools` answers by (caller, target).
    visible: RwLock<HashMap<String, bool>>,
    warnings: Vec<String>,
}

impl fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("policies", &self.policies.len())
            .field("typed_actions", &self.typed.len())
            .finish_non_exhaustive()
    }
}

impl PolicyEngine {
    /// Load and validate (strict mode) the schema and every `*.cedar` file of the directory.
    pub fn load(sources: &PolicySources) -> Result<PolicyEngine, PolicyError> {
        let mut schemas = Vec::new();
        for f in sources.schema_files()? {
            schemas.push((display_name(&f), read(&f)?));
        }
        let mut policies = Vec::new();
        for f in list_dir(&sources.policies, "cedar")? {
            let name = f
                .file_name()
                .map_or_else(|| display_name(&f), |n| n.to_string_lossy().into_owned());
            policies.push((name, read(&f)?));
        }
        Self::from_sources(&schemas, &policies)
    }

    /// Build from in-memory texts: (file name, text) of schema parts (concatenated in order)
    /// and of policy files.
    pub fn from_sources(
        schemas: &[(String, String)],
        policy_files: &[(String, String)],
    ) -> Result<PolicyEngine, PolicyError> {
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
        Ok(PolicyEngine {
            schema,
            authorizer: Authorizer::new(),
            index: ScopeIndex::new(&scoped),
            open_scopes: scoped.iter().all(|p| p.stripped.is_some()),
            policies: scoped,
            info,
            actions,
            action_groups,
            typed,
            slices: RwLock::new(HashMap::new()),
            callers: RwLock::new(HashMap::new()),
            next_caller: AtomicU64::new(0),
            stores: RwLock::new(HashMap::new()),
            contexts: Mutex::new((i64::MIN, HashMap::new())),
            validated: RwLock::new(HashMap::new()),
            visible: RwLock::new(HashMap::new()),
            warnings,
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
    fn action_id(&self, action: Action, resource: &ResourceRef<'_>) -> String {
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
    fn slice_indices(
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
    fn slice_indices_shared(
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
    fn slice(
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
        if let Ok(cache) = self.slices.read()
            && let Some(s) = cache.get(&key)
        {
            return Arc::clone(s);
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
        if let Ok(mut cache) = self.slices.write()
            && cache.len() < MAX_CACHED_SLICES
        {
            cache.insert(key, Arc::clone(&slice));
        }
        slice
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
        let Ok((uid, entity)) = entities::resource_entity(&resource) else {
            return false;
        };
        let action_id = self.action_id(action, &resource);
        let mut v = vec![caller.entity.clone(), entity];
        if let Some(a) = self.actions.get(&action_id) {
            v.push(a.clone());
        }
        let Ok(ents) = Entities::from_entities(v, None) else {
            return false;
        };
        let (Ok(action_uid), Ok(backend)) = (
            entities::uid("Action", &action_id),
            entities::uid("Backend", resource.backend()),
        ) else {
            return false;
        };
        let slice = self.slice(&action_id, &action_uid, &resource, &uid, &backend);
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
            .is_authorized_partial(&request, &slice.set, &ents)
            .decision()
            != Some(cedar_policy::Decision::Deny)
    }

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
        let known: Vec<Option<bool>> = match self.visible.read() {
            Ok(cache) => keys.iter().map(|k| cache.get(k).copied()).collect(),
            Err(_) => vec![None; tools.len()],
        };
        if known.iter().all(Option::is_some) {
            return known.into_iter().map(|k| k.unwrap_or(false)).collect();
        }
        if self.open_scopes {
            let fresh = self.visible_open_scopes(&caller, tools, &fingerprints, &known);
            return self.remember_visible(known, fresh, keys);
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
            return self.remember_visible(known, fresh, keys);
        };
        let mut outcomes: HashMap<(usize, usize, u8, usize), Outcome> = HashMap::new();
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
                let idx: Vec<usize> = self
                    .slice_indices(&action_id, &action, tool, &uid, &backend)
                    .into_iter()
                    .filter(|&i| {
                        self.policies
                            .get(i)
                            .is_some_and(|p| principal_may_match(&p.principal, &caller))
                    })
                    .collect();
                if !idx.iter().any(|&i| {
                    self.policies
                        .get(i)
                        .is_some_and(|p| p.policy.effect() == Effect::Permit)
                }) {
                    return Some(false);
                }
                // Whether requests for this action fit the schema (principal and resource
                // types), checked once per action.
                let next = action_ids.len();
                let (action_no, fits) = match action_ids.get(&action_id) {
                    Some(v) => *v,
                    None => {
                        let fits = RequestBuilder::default()
                            .principal(caller.uid.clone())
                            .action(action.clone())
                            .resource(uid.clone())
                            .schema(&self.schema)
                            .build()
                            .is_ok();
                        action_ids.insert(action_id.clone(), (next, fits));
                        (next, fits)
                    }
                };
                if !fits {
                    return Some(false);
                }
                let traits_no = {
                    let t = tool_traits_key(tool);
                    let next = trait_ids.len();
                    *trait_ids.entry(t).or_insert(next)
                };
                let mut request = None;
                let mut satisfied_permit = false;
                let mut residual_permit = false;
                for &i in &idx {
                    // INVARIANT: slice indices are in range; fail closed anyway.
                    let Some(p) = self.policies.get(i) else {
                        return Some(false);
                    };
                    let key = match p.reads_resource {
                        ResourceUse::Nothing => (i, action_no, 0, 0),
                        ResourceUse::Traits => (i, action_no, 1, traits_no),
                        ResourceUse::Anything => (i, action_no, 2, n),
                    };
                    let outcome = match outcomes.get(&key) {
                        Some(o) => *o,
                        None => {
                            // The schema check is done above, once per action.
                            let r = request.get_or_insert_with(|| {
                                RequestBuilder::default()
                                    .principal(caller.uid.clone())
                                    .action(action.clone())
                                    .resource(uid.clone())
                                    .build()
                            });
                            let o = self.partial_outcome(r, p.policy.effect(), &p.single, &shared);
                            outcomes.insert(key, o);
                            o
                        }
                    };
                    match (outcome, p.policy.effect()) {
                        (Outcome::Satisfied, Effect::Forbid) => return Some(false),
                        (Outcome::Satisfied, Effect::Permit) => satisfied_permit = true,
                        (Outcome::Residual, Effect::Permit) => residual_permit = true,
                        _ => {}
                    }
                }
                Some(satisfied_permit || residual_permit)
            })
            .collect();
        self.remember_visible(known, fresh, keys)
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
        let mut outcomes: HashMap<(usize, usize, u8, usize), Outcome> = HashMap::new();
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
                let idx: Vec<usize> = self
                    .slice_indices_shared(&mut common, &action_id, &action, tool, &uid, &backend)
                    .into_iter()
                    .filter(|&i| {
                        self.policies
                            .get(i)
                            .is_some_and(|p| principal_may_match(&p.principal, caller))
                    })
                    .collect();
                if !idx.iter().any(|&i| {
                    self.policies
                        .get(i)
                        .is_some_and(|p| p.policy.effect() == Effect::Permit)
                }) {
                    return Some(false);
                }
                let next = actions.len();
                let (action_no, fits, base) =
                    actions.entry(action_id.clone()).or_insert_with(|| {
                        let fits = RequestBuilder::default()
                            .principal(caller.uid.clone())
                            .action(action.clone())
                            .resource(uid.clone())
                            .schema(&self.schema)
                            .build()
                            .is_ok();
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
                let traits_no = {
                    let t = tool_traits_key(tool);
                    let next = trait_ids.len();
                    *trait_ids.entry(t).or_insert(next)
                };
                // The schema check is done above, once per action.
                let request = RequestBuilder::default()
                    .principal(caller.uid.clone())
                    .action(action.clone())
                    .resource(uid)
                    .build();
                let mut own: Option<Option<Entities>> = None;
                let mut satisfied_permit = false;
                let mut residual_permit = false;
                for &i in &idx {
                    // INVARIANT: slice indices are in range; fail closed anyway.
                    let Some(p) = self.policies.get(i) else {
                        return Some(false);
                    };
                    let Some(open) = &p.stripped else {
                        return Some(self.visible_alone(caller, tool));
                    };
                    let key = match p.reads_resource {
                        ResourceUse::Nothing => (i, action_no, 0, 0),
                        ResourceUse::Traits => (i, action_no, 1, traits_no),
                        ResourceUse::Anything => (i, action_no, 2, n),
                    };
                    let outcome = match outcomes.get(&key) {
                        Some(o) => *o,
                        None => {
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
                                let Some(store) = store.as_ref() else {
                                    return Some(false);
                                };
                                store
                            };
                            let o = self.partial_outcome(&request, p.policy.effect(), open, ents);
                            outcomes.insert(key, o);
                            o
                        }
                    };
                    match (outcome, p.policy.effect()) {
                        (Outcome::Satisfied, Effect::Forbid) => return Some(false),
                        (Outcome::Satisfied, Effect::Permit) => satisfied_permit = true,
                        (Outcome::Residual, Effect::Permit) => residual_permit = true,
                        _ => {}
                    }
                }
                Some(satisfied_permit || residual_permit)
            })
            .collect()
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
        let Ok((_, e)) = entities::resource_entity(tool) else {
            return false;
        };
        let action_id = self.action_id(Action::CallTool, tool);
        let mut v = vec![caller.entity.clone(), e];
        if let Some(a) = self.actions.get(&action_id) {
            v.push(a.clone());
        }
        let Ok(ents) = Entities::from_entities(v, None) else {
            return false;
        };
        self.visible_by_partial_eval(caller, tool, &ents)
    }

    /// Cedar's partial decision over the tool's whole slice, the context unknown.
    fn visible_by_partial_eval(
        &self,
        caller: &Caller,
        tool: &ResourceRef<'_>,
        ents: &Entities,
    ) -> bool {
        let action_id = self.action_id(Action::CallTool, tool);
        let (Ok(action), Ok(uid), Ok(backend)) = (
            entities::uid("Action", &action_id),
            entities::uid(tool.type_name(), tool.id()),
            entities::uid("Backend", tool.backend()),
        ) else {
            return false;
        };
        let slice = self.slice(&action_id, &action, tool, &uid, &backend);
        if slice.set.is_empty() {
            return false;
        }
        let Ok(request) = RequestBuilder::default()
            .principal(caller.uid.clone())
            .action(action)
            .resource(uid)
            .schema(&self.schema)
            .build()
        else {
            return false;
        };
        let partial = self
            .authorizer
            .is_authorized_partial(&request, &slice.set, ents);
        partial.decision() != Some(cedar_policy::Decision::Deny)
    }

    /// [`Self::visible_tools`] the reference way: every tool's whole slice partially evaluated
    /// in the shared store, nothing shared between tools and no answer cached.
    #[cfg(test)]
    fn visible_tools_reference(
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
                    target.is_some() && self.visible_by_partial_eval(&caller, t, &shared)
                })
                .collect(),
            None => tools
                .iter()
                .map(|t| self.visible_alone(&caller, t))
                .collect(),
        }
    }

    fn remember_visible(
        &self,
        mut known: Vec<Option<bool>>,
        fresh: Vec<Option<bool>>,
        keys: Vec<String>,
    ) -> Vec<bool> {
        if let Ok(mut cache) = self.visible.write() {
            if cache.len() + keys.len() > MAX_CACHED_VISIBLE {
                cache.clear();
            }
            for ((k, f), key) in known.iter_mut().zip(fresh).zip(keys) {
                if let Some(v) = f {
                    *k = Some(v);
                    cache.insert(key, v);
                }
            }
        } else {
            for (k, f) in known.iter_mut().zip(fresh) {
                if f.is_some() {
                    *k = f;
                }
            }
        }
        known.into_iter().map(|k| k.unwrap_or(false)).collect()
    }

    /// The principal's entity, cached by issuer and subject and rebuilt when any other fact
    /// it is built from changed.
    fn caller(&self, p: &Principal) -> Result<Arc<Caller>, PolicyError> {
        let key = format!("{}\u{0}{}", p.issuer, p.subject);
        if let Ok(cache) = self.callers.read()
            && let Some(c) = cache.get(&key)
            && c.groups_given == p.groups
            && c.scopes == p.scopes
            && c.claims == p.claims
        {
            return Ok(Arc::clone(c));
        }
        let (uid, entity) = entities::principal_entity(p)?;
        let mut groups = HashSet::with_capacity(p.groups.len());
        for g in &p.groups {
            groups.insert(entities::uid("Group", g)?);
        }
        let built = Arc::new(Caller {
            uid,
            entity,
            id: self.next_caller.fetch_add(1, Ordering::Relaxed),
            groups,
            groups_given: p.groups.clone(),
            scopes: p.scopes.clone(),
            claims: p.claims.clone(),
        });
        if let Ok(mut cache) = self.callers.write() {
            if cache.len() >= MAX_CACHED_CALLERS {
                cache.clear();
            }
            cache.insert(key, Arc::clone(&built));
        }
        Ok(built)
    }

    /// Drop cached slices, callers and entity stores (benchmarks measure the cold path).
    pub fn clear_caches(&self) {
        if let Ok(mut c) = self.slices.write() {
            c.clear();
        }
        if let Ok(mut c) = self.callers.write() {
            c.clear();
        }
        if let Ok(mut c) = self.stores.write() {
            c.clear();
        }
        if let Ok(mut c) = self.visible.write() {
            c.clear();
        }
        if let Ok(mut c) = self.contexts.lock() {
            *c = (i64::MIN, HashMap::new());
        }
        if let Ok(mut c) = self.validated.write() {
            c.clear();
        }
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
        if let Ok(cache) = self.stores.read()
            && let Some(b) = cache.get(&key)
        {
            return Ok(Arc::clone(b));
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
        if let Ok(mut cache) = self.stores.write() {
            if cache.len() >= MAX_CACHED_STORES {
                cache.clear();
            }
            cache.insert(key, Arc::clone(&bound));
        }
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
        if let Ok(cache) = self.contexts.lock()
            && cache.0 == unix
            && let Some(c) = cache.1.get(&client)
        {
            return Ok(c.clone());
        }
        let context = Context::from_pairs(entities::common_context(a_uid, env))
            .map_err(|e| Decision::deny(format!("cannot build the request context: {e}")))?;
        if let Ok(mut cache) = self.contexts.lock() {
            if cache.0 != unix {
                *cache = (unix, HashMap::new());
            }
            if cache.1.len() < MAX_CACHED_CONTEXTS {
                cache.1.insert(client, context.clone());
            }
        }
        Ok(context)
    }

    fn prepare(
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
                let checked = self
                    .validated
                    .read()
                    .ok()
                    .and_then(|v| v.get(&action_id).copied())
                    .is_some_and(|bits| bits & type_bit != 0);
                (self.common_context(a_uid, env)?, checked)
            }
        };
        let request = Request::new(
            caller.uid.clone(),
            action_uid.clone(),
            r_uid.clone(),
            context,
            (!checked).then_some(&self.schema),
        )
        .map_err(|e| {
            Decision::deny(format!(
                "request does not match the policy schema (action `{action_id}`): {e}"
            ))
        })?;
        if !checked
            && !self.typed.contains_key(&action_id)
            && let Ok(mut v) = self.validated.write()
        {
            *v.entry(action_id).or_insert(0) |= type_bit;
        }
        Ok(Prepared {
            request,
            entities,
            slice,
            bound,
        })
    }

    /// The entities a request would use, as Cedar JSON (for tests and `explain`).
    pub fn entities_json(
        &self,
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
        let e = Entities::from_entities(ents, Some(&self.schema)).map_err(|e| {
            PolicyError::Internal {
                message: format!("entities do not match the schema: {e}"),
            }
        })?;
        e.to_json_value().map_err(|e| PolicyError::Internal {
            message: e.to_string(),
        })
    }
}

struct Prepared {
    request: Request,
    entities: Arc<Entities>,
    slice: Arc<Slice>,
    bound: Arc<Bound>,
}

/// The policies that can apply to one (action, target).
struct Slice {
    set: PolicySet,
    /// Some policy may read `context.args`: the arguments entity must be in the store.
    needs_args: bool,
    /// Indices in [`PolicyEngine::policies`] of the policies in `set`.
    idx: Vec<usize>,
}

/// A slice narrowed to one caller, with its entity store when no policy reads arguments.
struct Bound {
    set: PolicySet,
    entities: Option<Arc<Entities>>,
}

/// A principal's entity, built once per engine.
struct Caller {
    uid: EntityUid,
    entity: Entity,
    /// Unique per engine: a different caller (or the same one with other facts) gets a new id.
    id: u64,
    /// The `Group` uids the caller is a member of.
    groups: HashSet<EntityUid>,
    /// The facts the entity was built from (besides issuer and subject, the cache key).
    groups_given: Vec<String>,
    scopes: Vec<String>,
    claims: Value,
}

/// Common contexts kept for one second: more client sessions than this calling in the same
/// second build theirs on every call.
const MAX_CACHED_CONTEXTS: usize = 4096;

/// The traits of a tool that [`ResourceUse::Traits`] policies may read.
fn tool_traits_key(r: &ResourceRef<'_>) -> String {
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

/// The current engine, swapped atomically on reload. Decisions in flight keep the `Arc` they
/// loaded, so a reload never changes a decision halfway.
pub struct PolicyStore {
    current: ArcSwap<PolicyEngine>,
    sources: PolicySources,
    fingerprint: Mutex<Vec<(PathBuf, Option<SystemTime>, u64)>>,
    /// Told of every reload attempt (the gateway audits them): (succeeded, trigger, error).
    observer: std::sync::OnceLock<ReloadObserver>,
}

/// Called with (reload succeeded, what triggered it, the error when it failed).
pub type ReloadObserver = Box<dyn Fn(bool, &str, Option<&str>) + Send + Sync>;

impl fmt::Debug for PolicyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyStore")
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

impl PolicyStore {
    /// Load the sources; fails when they are missing or invalid (the gateway must not start).
    pub fn open(sources: PolicySources) -> Result<PolicyStore, PolicyError> {
        let fingerprint = fingerprint(&sources);
        let engine = PolicyEngine::load(&sources)?;
        Ok(PolicyStore {
            current: ArcSwap::from_pointee(engine),
            sources,
            fingerprint: Mutex::new(fingerprint),
            observer: std::sync::OnceLock::new(),
        })
    }

    /// The engine to decide with.
    /// Be told of every reload attempt (set once; later calls are ignored).
    pub fn observe_reloads(&self, observer: ReloadObserver) {
        let _ = self.observer.set(observer);
    }

    pub fn engine(&self) -> Arc<PolicyEngine> {
        self.current.load_full()
    }

    pub fn sources(&self) -> &PolicySources {
        &self.sources
    }

    /// Load and validate the sources, then swap. An invalid set keeps the old engine and
    /// returns the error (the caller raises an alert).
    pub fn reload(&self) -> Result<Arc<PolicyEngine>, PolicyError> {
        let fp = fingerprint(&self.sources);
        let engine = Arc::new(PolicyEngine::load(&self.sources)?);
        self.current.store(Arc::clone(&engine));
        if let Ok(mut f) = self.fingerprint.lock() {
            *f = fp;
        }
        Ok(engine)
    }

    /// Reload when a file's modification time, size or the set of files changed. `Ok(true)`
    /// when a new engine was swapped in. A failed reload is retried only after the next change.
    pub fn reload_if_changed(&self) -> Result<bool, PolicyError> {
        let fp = fingerprint(&self.sources);
        {
            let Ok(mut last) = self.fingerprint.lock() else {
                return Ok(false);
            };
            if *last == fp {
                return Ok(false);
            }
            *last = fp;
        }
        let engine = PolicyEngine::load(&self.sources)?;
        self.current.store(Arc::new(engine));
        Ok(true)
    }

    /// Poll the files every `interval` and reload on change. The task ends when the store is
    /// dropped.
    pub fn spawn_watcher(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<PolicyStore> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(store) = weak.upgrade() else { return };
                let s = Arc::clone(&store);
                let r = tokio::task::spawn_blocking(move || s.reload_if_changed()).await;
                log_reload(&store, r.unwrap_or(Ok(false)), "file change");
            }
        })
    }

    /// Reload on SIGHUP. The task ends when the store is dropped (at the next signal).
    #[cfg(unix)]
    pub fn spawn_sighup(self: &Arc<Self>) -> std::io::Result<tokio::task::JoinHandle<()>> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup())?;
        let weak: Weak<PolicyStore> = Arc::downgrade(self);
        Ok(tokio::spawn(async move {
            while hup.recv().await.is_some() {
                let Some(store) = weak.upgrade() else { return };
                let s = Arc::clone(&store);
                let r = tokio::task::spawn_blocking(move || s.reload().map(|_| true)).await;
                log_reload(&store, r.unwrap_or(Ok(false)), "SIGHUP");
            }
        }))
    }
}

fn log_reload(store: &PolicyStore, r: Result<bool, PolicyError>, why: &str) {
    match r {
        Ok(true) => {
            tracing::info!(policies = store.engine().len(), "policies reloaded ({why})");
            if let Some(o) = store.observer.get() {
                o(true, why, None);
            }
        }
        Ok(false) => {}
        Err(e) => {
            tracing::error!(
                alert = true,
                "policy reload ({why}) failed; the previous policies stay in force:\n{e}"
            );
            if let Some(o) = store.observer.get() {
                o(false, why, Some(&e.to_string()));
            }
        }
    }
}

fn fingerprint(s: &PolicySources) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let mut files = vec![s.schema.clone()];
    if let Ok(rd) = std::fs::read_dir(&s.policies) {
        let mut more: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|x| x.to_str()),
                    Some("cedar" | "cedarschema")
                )
            })
            .collect();
        more.sort();
        files.extend(more);
    }
    files
        .into_iter()
        .map(|p| {
            let m = std::fs::metadata(&p).ok();
            let mtime = m.as_ref().and_then(|m| m.modified().ok());
            let len = m.map_or(0, |m| m.len());
            (p, mtime, len)
        })
        .collect()
}

#[cfg(test)]
mod tests;
