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

pub mod cli;
mod entities;
mod schema;
pub mod testing;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use cedar_policy::{
    ActionConstraint, Authorizer, Context, Effect, Entities, Entity, EntityUid, Policy, PolicyId,
    PolicySet, Request, RequestBuilder, ResourceConstraint, Schema, SchemaFragment, ValidationMode,
    Validator,
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
                definition,
                pinned,
                findings,
            } => {
                let t = ToolTraits::from_definition(definition, *pinned);
                format!(
                    "T\u{0}{exposed}\u{0}{original}\u{0}{backend}\u{0}{}{}{}{}{}\u{0}{}",
                    u8::from(t.read_only),
                    u8::from(t.destructive),
                    u8::from(t.idempotent),
                    u8::from(t.open_world),
                    u8::from(*pinned),
                    findings.join("\u{1}")
                )
            }
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
    /// Whether the policy may read `context.args` (conservatively: its text mentions `args`).
    reads_args: bool,
    action: ActionConstraint,
    resource: ResourceConstraint,
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
    slices: RwLock<HashMap<String, Arc<Slice>>>,
    callers: RwLock<HashMap<String, Arc<Caller>>>,
    /// Entity stores (caller, target, action) for requests whose policies never read
    /// `context.args`.
    stores: RwLock<HashMap<String, Arc<Entities>>>,
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
                scoped.push(ScopedPolicy {
                    reads_args: policy.to_string().contains("args"),
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
            policies: scoped,
            info,
            actions,
            action_groups,
            typed,
            slices: RwLock::new(HashMap::new()),
            callers: RwLock::new(HashMap::new()),
            stores: RwLock::new(HashMap::new()),
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
        let chosen: Vec<&ScopedPolicy> = self
            .policies
            .iter()
            .filter(|p| action_ok(&p.action) && resource_ok(&p.resource))
            .collect();
        let needs_args = chosen.iter().any(|p| p.reads_args);
        // INVARIANT: ids are unique in `self.policies`, so from_policies cannot fail.
        let set = PolicySet::from_policies(chosen.into_iter().map(|p| p.policy.clone()))
            .unwrap_or_default();
        let slice = Arc::new(Slice { set, needs_args });
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
                let response = self
                    .authorizer
                    .is_authorized(&p.request, &p.slice.set, &p.entities);
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

    /// [`Self::may_ever_call`] for many tools (list filtering): the caller and every tool go
    /// into one entity store, built once.
    pub fn visible_tools(&self, principal: &Principal, tools: &[ResourceRef<'_>]) -> Vec<bool> {
        let Ok(caller) = self.caller(principal) else {
            return vec![false; tools.len()];
        };
        // Answers depend only on (caller, action, target entity): cached per engine.
        let keys: Vec<String> = tools
            .iter()
            .map(|t| format!("{}\u{2}{}", caller.key, t.fingerprint()))
            .collect();
        let mut known: Vec<Option<bool>> = match self.visible.read() {
            Ok(cache) => keys.iter().map(|k| cache.get(k).copied()).collect(),
            Err(_) => vec![None; tools.len()],
        };
        if known.iter().all(Option::is_some) {
            return known.into_iter().map(|k| k.unwrap_or(false)).collect();
        }
        let mut targets = Vec::with_capacity(tools.len());
        let mut ents = Vec::with_capacity(tools.len() + 2);
        let mut actions_added = HashSet::new();
        ents.push(caller.entity.clone());
        for (t, k) in tools.iter().zip(&known) {
            if k.is_some() {
                targets.push(None);
                continue;
            }
            let action_id = self.action_id(Action::CallTool, t);
            let built = entities::resource_entity(t).and_then(|(uid, e)| {
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
        // Duplicate exposed names make the shared store invalid: decide those one by one.
        let shared = Entities::from_entities(ents, None).ok();
        let fresh: Vec<Option<bool>> = targets
            .into_iter()
            .zip(tools)
            .zip(&known)
            .map(|((target, tool), k)| {
                if k.is_some() {
                    return None;
                }
                let Some((action_id, action, uid, backend)) = target else {
                    return Some(false);
                };
                let slice = self.slice(&action_id, &action, tool, &uid, &backend);
                if slice.set.is_empty() {
                    return Some(false);
                }
                let own;
                let entities = match &shared {
                    Some(e) => e,
                    None => {
                        let Ok((_, e)) = entities::resource_entity(tool) else {
                            return Some(false);
                        };
                        let mut v = vec![caller.entity.clone(), e];
                        if let Some(a) = self.actions.get(&action_id) {
                            v.push(a.clone());
                        }
                        let Ok(e) = Entities::from_entities(v, None) else {
                            return Some(false);
                        };
                        own = e;
                        &own
                    }
                };
                let Ok(request) = RequestBuilder::default()
                    .principal(caller.uid.clone())
                    .action(action)
                    .resource(uid)
                    .schema(&self.schema)
                    .build()
                else {
                    return Some(false);
                };
                let partial = self
                    .authorizer
                    .is_authorized_partial(&request, &slice.set, entities);
                Some(partial.decision() != Some(cedar_policy::Decision::Deny))
            })
            .collect();
        if let Ok(mut cache) = self.visible.write() {
            if cache.len() + tools.len() > MAX_CACHED_VISIBLE {
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

    /// The principal's entity, cached by everything it is built from.
    fn caller(&self, p: &Principal) -> Result<Arc<Caller>, PolicyError> {
        let key = format!(
            "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
            p.issuer,
            p.subject,
            p.groups.join("\u{1}"),
            p.scopes.join("\u{1}"),
            p.claims
        );
        if let Ok(cache) = self.callers.read()
            && let Some(c) = cache.get(&key)
        {
            return Ok(Arc::clone(c));
        }
        let (uid, entity) = entities::principal_entity(p)?;
        let built = Arc::new(Caller {
            uid,
            entity,
            key: key.clone(),
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

    /// The cached entity store (caller, target, action) for requests that need no arguments.
    fn store(
        &self,
        caller: &Caller,
        action_id: &str,
        resource: &ResourceRef<'_>,
    ) -> Result<Arc<Entities>, Decision> {
        let key = format!(
            "{}\u{2}{action_id}\u{2}{}",
            caller.key,
            resource.fingerprint()
        );
        if let Ok(cache) = self.stores.read()
            && let Some(e) = cache.get(&key)
        {
            return Ok(Arc::clone(e));
        }
        let internal = |e: PolicyError| Decision::deny(e.to_string());
        let (_, r_ent) = entities::resource_entity(resource).map_err(internal)?;
        let mut ents = vec![caller.entity.clone(), r_ent];
        if let Some(a) = self.actions.get(action_id) {
            ents.push(a.clone());
        }
        let store = Arc::new(
            Entities::from_entities(ents, None)
                .map_err(|e| Decision::deny(format!("cannot build entities: {e}")))?,
        );
        if let Ok(mut cache) = self.stores.write() {
            if cache.len() >= MAX_CACHED_STORES {
                cache.clear();
            }
            cache.insert(key, Arc::clone(&store));
        }
        Ok(store)
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
        let a_uid = entities::uid("Arguments", entities::ARGUMENTS_ID).map_err(internal)?;
        let entities = if slice.needs_args {
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
        } else {
            self.store(&caller, &action_id, resource)?
        };
        let mut ctx = entities::common_context(a_uid, env);
        if let Some(t) = self.typed.get(&action_id) {
            let typed = schema::typed_arguments(arguments, t).map_err(|e| {
                Decision::deny(format!(
                    "arguments do not match the typed schema of tool `{}`: {e}",
                    resource.id()
                ))
            })?;
            ctx.push(("arguments".into(), typed));
        }
        let context = Context::from_pairs(ctx)
            .map_err(|e| Decision::deny(format!("cannot build the request context: {e}")))?;
        let request = Request::new(
            caller.uid.clone(),
            action_uid.clone(),
            r_uid.clone(),
            context,
            Some(&self.schema),
        )
        .map_err(|e| {
            Decision::deny(format!(
                "request does not match the policy schema (action `{action_id}`): {e}"
            ))
        })?;
        Ok(Prepared {
            request,
            entities,
            slice,
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
}

/// The policies that can apply to one (action, target).
struct Slice {
    set: PolicySet,
    /// Some policy may read `context.args`: the arguments entity must be in the store.
    needs_args: bool,
}

/// A principal's entity, built once per engine.
struct Caller {
    uid: EntityUid,
    entity: Entity,
    key: String,
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
