//! `[[backend]]`: where each backend is, how it is reached and authenticated (secrets by
//! reference), which era it speaks, who shares its upstream sessions; `[naming]`: how the
//! names of several backends are kept apart.

use super::*;

/// `[[backend]] protocol`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
pub enum BackendProtocol {
    #[default]
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "2026-07-28")]
    Modern,
    #[serde(rename = "2025-11-25")]
    Legacy,
}

/// Which clients share one upstream session of a backend (`[[backend]] upstream_sessions`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamSharing {
    /// One per client session: the backend sees each client alone (and a stdio backend runs one
    /// child per session).
    PerSession,
    /// One per principal and client capabilities: a principal's sessions share it.
    #[default]
    PerPrincipal,
    /// One per client capabilities, whoever calls: for backends that keep no per-user state.
    Shared,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    #[default]
    Prefix,
    Priority,
    Manual,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Naming {
    pub strategy: Strategy,
    pub separator: String,
    /// Backends in order of precedence for `priority` (unlisted ones follow in config order).
    pub priority: Vec<String>,
    /// `"backend/original" = "exposed"`, for tools and prompts.
    pub rename: BTreeMap<String, String>,
}

impl Default for Naming {
    fn default() -> Self {
        Self {
            strategy: Strategy::Prefix,
            separator: "__".into(),
            priority: Vec::new(),
            rename: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backend {
    pub name: String,
    /// Streamable HTTP endpoint.
    pub url: Option<String>,
    /// PEM bundle of extra CA certificates trusted for this backend's TLS.
    pub ca: Option<PathBuf>,
    /// stdio: argv of the child (no shell).
    pub command: Option<Vec<String>>,
    /// stdio: the child's whole environment (nothing is inherited from the gateway).
    #[serde(default)]
    pub env: BTreeMap<String, SecretOrValue>,
    /// stdio: working directory.
    pub cwd: Option<PathBuf>,
    /// stdio: kernel resource limits of the child (`setrlimit` through util-linux `prlimit`).
    pub resource_limits: Option<ResourceLimits>,
    /// Per-request timeout, seconds.
    #[serde(default = "default_backend_timeout")]
    pub timeout_secs: u64,
    /// Connect + initialize timeout, seconds.
    #[serde(default = "default_init_timeout")]
    pub init_timeout_secs: u64,
    /// What credential this (HTTP) backend receives.
    #[serde(default)]
    pub auth: BackendAuth,
    /// Which clients share one upstream session (for stdio: one child process) of this
    /// backend: `per_principal` (the default: clients of the same principal that declared the
    /// same capabilities), `per_session` (one per client session), or `shared` (every client
    /// with the same capabilities, whoever they are; refused for per-caller credentials).
    #[serde(default)]
    pub upstream_sessions: UpstreamSharing,
    /// Which MCP era the gateway speaks to this backend: `auto` (the default: `server/discover`
    /// at start decides; a backend that speaks both is spoken to in each client's own era),
    /// `"2026-07-28"` or `"2025-11-25"`.
    #[serde(default)]
    pub protocol: BackendProtocol,
    /// Forward the caller's own token to this backend. The backend can then act as the caller
    /// anywhere that token is accepted (token passthrough, a confused-deputy risk).
    #[serde(default)]
    pub dangerous_passthrough: bool,
    /// Send this backend reads (and subscriptions, completions) of resource URIs it neither
    /// lists nor matches with a template, when it is the only backend offering resources. Such
    /// URIs were never in any catalog an operator saw; a URI matching a quarantined template is
    /// refused all the same.
    #[serde(default)]
    pub dangerous_unlisted_resources: bool,
    /// `integrity = { mode = "warn", new_items = "trust_on_first_use" }`: this backend's own
    /// integrity settings; unset keys take `[integrity]`'s.
    #[serde(default)]
    pub integrity: super::integrity::BackendIntegrity,
    /// Only these tools (the backend's own names) are offered to clients.
    pub allow_tools: Option<Vec<String>>,
    /// These tools (the backend's own names) are never offered to clients.
    #[serde(default)]
    pub deny_tools: Vec<String>,
    /// `[backend.overrides.<tool>]`: what clients see of a tool instead of the backend's own
    /// title, description or annotations.
    #[serde(default)]
    pub overrides: BTreeMap<String, super::integrity::ToolOverride>,
}

/// The credential a backend gets. Never the caller's own token (see `dangerous_passthrough`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BackendAuth {
    #[default]
    None,
    /// A fixed header from a secret reference.
    Static {
        #[serde(default = "default_auth_header")]
        header: String,
        value: SecretOrValue,
    },
    /// RFC 8693: the caller's token exchanged for one meant for this backend.
    TokenExchange(TokenClientConfig),
    /// The gateway's own identity for this backend (OAuth client credentials).
    ClientCredentials(TokenClientConfig),
}

pub(super) fn default_auth_header() -> String {
    "Authorization".into()
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TokenClientConfig {
    pub token_endpoint: String,
    pub client_id: String,
    pub client_secret: SecretOrValue,
    #[serde(default)]
    pub client_auth: ClientAuth,
    pub audience: Option<String>,
    pub resource: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    #[default]
    Basic,
    Post,
}

pub(super) fn default_backend_timeout() -> u64 {
    120
}
pub(super) fn default_init_timeout() -> u64 {
    30
}

/// A literal value or a reference to a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretOrValue {
    Value(String),
    Ref(SecretRef),
}

/// By hand rather than `#[serde(untagged)]`: an untagged enum answers anything else with "data
/// did not match any variant", which names neither what was found nor what is wanted.
impl<'de> Deserialize<'de> for SecretOrValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        const WANTED: &str = "a string, `{ env = \"NAME\" }` or `{ file = \"PATH\" }` (quote \
                              numbers and booleans: `\"8080\"`)";
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SecretOrValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(WANTED)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(SecretOrValue::Value(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(SecretOrValue::Value(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                SecretRef::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(SecretOrValue::Ref)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum SecretRef {
    Env(String),
    File(PathBuf),
}

impl SecretOrValue {
    pub fn resolve(&self, base: &Path) -> Result<String, ConfigError> {
        match self {
            SecretOrValue::Value(v) => Ok(v.clone()),
            SecretOrValue::Ref(SecretRef::Env(name)) => {
                std::env::var(name).map_err(|_| ConfigError::Secret {
                    what: format!("`{{ env = \"{name}\" }}`"),
                    message: "the environment variable is not set".into(),
                })
            }
            SecretOrValue::Ref(SecretRef::File(p)) => {
                let path = base.join(p);
                std::fs::read_to_string(&path)
                    .map(|s| s.trim_end().to_owned())
                    .map_err(|e| ConfigError::Secret {
                        what: format!("`{{ file = \"{}\" }}`", p.display()),
                        message: e.to_string(),
                    })
            }
        }
    }
}

impl Backend {
    pub fn transport(&self) -> Transport<'_> {
        match (&self.url, &self.command) {
            (Some(u), _) => Transport::Http(u),
            (None, Some(c)) => Transport::Stdio(c),
            (None, None) => Transport::Http(""),
        }
    }
}

pub enum Transport<'a> {
    Http(&'a str),
    Stdio(&'a [String]),
}

/// `resource_limits = { address_space_mb = 4096, cpu_secs = 3600, open_files = 256,
/// file_size_mb = 1024 }`: each optional; each sets both the soft and the hard limit, so the
/// child cannot raise it again.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceLimits {
    /// Virtual address space (`RLIMIT_AS`), MiB. Not RSS: runtimes that reserve large address
    /// ranges up front (Node.js/V8, the JVM) need several GiB even when they use little.
    pub address_space_mb: Option<u64>,
    /// CPU time (`RLIMIT_CPU`), seconds of CPU over the child's whole life.
    pub cpu_secs: Option<u64>,
    /// Open file descriptors (`RLIMIT_NOFILE`).
    pub open_files: Option<u64>,
    /// Largest file the child may write (`RLIMIT_FSIZE`), MiB.
    pub file_size_mb: Option<u64>,
}
