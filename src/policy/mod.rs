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
//!
//! This file holds the vocabulary the rest of the gateway speaks (actions, targets, request
//! facts, decisions, errors). The rest, by responsibility:
//! - `sources.rs`: which files an engine is loaded from, and reading them;
//! - `compile.rs`: parsing and strict validation of what a [`PolicyEngine`] is built from,
//!   with what each policy's scope and conditions read (the facts the fast paths rely on);
//! - `engine.rs`: the engine, slices of the policy set, decisions and explanations;
//! - `context.rs`: Cedar requests, entity stores and contexts for one decision, built from
//!   the parts of the engine it is lent;
//! - `slice.rs`: the data those pass around and the caches keep (slices, callers, slices
//!   narrowed to a caller);
//! - `visible.rs`: list filtering (which tools a caller could ever call);
//! - `caches.rs`: every cache the engine keeps, with its bound;
//! - `store.rs`: the current engine, hot reload (file poll, SIGHUP);
//! - `entities.rs`, `schema.rs`: principal, target and argument entities; typed tool actions;
//! - `testing.rs`: policy test files (the `portcullis policy …` commands are `cli::policy`).

pub mod args;
mod caches;
mod compile;
mod context;
mod engine;
mod entities;
mod schema;
mod slice;
mod sources;
mod store;
pub mod testing;
pub mod uri;
mod visible;

use std::fmt;
use std::time::SystemTime;

use cedar_policy::Effect;
use serde_json::Value;

pub use engine::PolicyEngine;
pub use entities::{ToolTraits, utc_parts};
pub use schema::{ArgType, ArgumentMismatch, TOOL_ACTION_PREFIX, schema_fragment};
pub use sources::PolicySources;
pub use store::{PolicyStore, ReloadObserver};

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
                visible::tool_traits_key(self)
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

#[cfg(test)]
mod tests;
