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
    slices: RwLock<HashMap<String, Arc<PolicySet>>>,
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
        resource: &EntityUid,
        backend: &EntityUid,
    ) -> Arc<PolicySet> {
        let key = format!("{action_id}\u{0}{resource}\u{0}{backend}");
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
        let chosen = self
            .policies
            .iter()
            .filter(|p| action_ok(&p.action) && resource_ok(&p.resource))
            .map(|p| p.policy.clone());
        // INVARIANT: ids are unique in `self.policies`, so from_policies cannot fail.
        let set = Arc::new(PolicySet::from_policies(chosen).unwrap_or_default());
        if let Ok(mut cache) = self.slices.write()
            && cache.len() < MAX_CACHED_SLICES
        {
            cache.insert(key, Arc::clone(&set));
        }
        set
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
                    .is_authorized(&p.request, &p.slice, &p.entities);
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
        match entities::principal_entities(principal) {
            Ok((p, ents)) => self.may_ever(&p, &ents, Action::CallTool, &tool),
            Err(_) => false,
        }
    }

    /// [`Self::may_ever_call`] for many tools (list filtering), building the caller once.
    pub fn visible_tools(&self, principal: &Principal, tools: &[ResourceRef<'_>]) -> Vec<bool> {
        match entities::principal_entities(principal) {
            Ok((p, ents)) => tools
                .iter()
                .map(|t| self.may_ever(&p, &ents, Action::CallTool, t))
                .collect(),
            Err(_) => vec![false; tools.len()],
        }
    }

    fn may_ever(
        &self,
        principal: &EntityUid,
        principal_entities: &[Entity],
        action: Action,
        resource: &ResourceRef<'_>,
    ) -> bool {
        let action_id = self.action_id(action, resource);
        let Ok(action_uid) = entities::uid("Action", &action_id) else {
            return false;
        };
        let Ok((res_uid, mut ents)) = entities::resource_entities(resource) else {
            return false;
        };
        let Ok(backend) = entities::uid("Backend", resource.backend()) else {
            return false;
        };
        let slice = self.slice(&action_id, &action_uid, &res_uid, &backend);
        if slice.is_empty() {
            return false;
        }
        ents.extend(principal_entities.iter().cloned());
        if let Some(a) = self.actions.get(&action_id) {
            ents.push(a.clone());
        }
        let Ok(entities) = Entities::from_entities(ents, None) else {
            return false;
        };
        let Ok(request) = RequestBuilder::default()
            .principal(principal.clone())
            .action(action_uid)
            .resource(res_uid)
            .schema(&self.schema)
            .build()
        else {
            return false;
        };
        let partial = self
            .authorizer
            .is_authorized_partial(&request, &slice, &entities);
        partial.decision() != Some(cedar_policy::Decision::Deny)
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
        ex.considered = p.slice.num_of_policies();
        for policy in p.slice.policies() {
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
        let (p_uid, mut ents) = entities::principal_entities(principal).map_err(internal)?;
        let (r_uid, r_ents) = entities::resource_entities(resource).map_err(internal)?;
        let backend = entities::uid("Backend", resource.backend()).map_err(internal)?;
        let (a_uid, a_ent) = entities::arguments_entity(arguments).map_err(internal)?;
        ents.extend(r_ents);
        ents.push(a_ent);
        if let Some(a) = self.actions.get(&action_id) {
            ents.push(a.clone());
        }
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
            p_uid,
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
        let entities = Entities::from_entities(ents, None)
            .map_err(|e| Decision::deny(format!("cannot build entities: {e}")))?;
        let slice = self.slice(&action_id, &action_uid, &r_uid, &backend);
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
        let (_, mut ents) = entities::principal_entities(principal)?;
        let (_, r) = entities::resource_entities(&resource)?;
        let (_, a) = entities::arguments_entity(arguments)?;
        ents.extend(r);
        ents.push(a);
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
    entities: Entities,
    slice: Arc<PolicySet>,
}

/// The current engine, swapped atomically on reload. Decisions in flight keep the `Arc` they
/// loaded, so a reload never changes a decision halfway.
pub struct PolicyStore {
    current: ArcSwap<PolicyEngine>,
    sources: PolicySources,
    fingerprint: Mutex<Vec<(PathBuf, Option<SystemTime>, u64)>>,
}

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
        })
    }

    /// The engine to decide with.
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
        Ok(true) => tracing::info!(policies = store.engine().len(), "policies reloaded ({why})"),
        Ok(false) => {}
        Err(e) => tracing::error!(
            alert = true,
            "policy reload ({why}) failed; the previous policies stay in force:\n{e}"
        ),
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
