//! The TOML configuration as data: the model (one section type per module's needs, in the
//! files of this folder), reading and parsing, and the checks that need nothing but the config
//! itself (addresses parse, names are unique, references point at something). It imports
//! nothing from the rest of the crate.
//!
//! The checks that need a module's knowledge (a rate's syntax, an egress rule, a stdio program,
//! an admin address against the listener, a workflow's steps) live with that module and run in
//! one check pass, `crate::checks`, which also gives `Config::load`, `Config::parse` and
//! `Config::quickstart`: a `Config` anywhere past start-up has passed both.
//!
//! Errors name the file, the line and the key, and say how to fix it. Secrets appear only as
//! references (`{ env = "NAME" }` or `{ file = "path" }`) and are resolved when used, never
//! logged. Insecure choices exist only behind `dangerous_*` keys; `Config::warnings` lists each
//! one for `portcullis check`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

pub mod audit;
mod backend;
pub mod cluster;
pub mod integrity;
pub mod limits;
pub mod meta;
pub mod network;
pub mod telemetry;
pub mod workflow;

pub use backend::*;

/// The quickstart configuration compiled into the binary (`portcullis serve` with no `--config`).
pub const QUICKSTART: &str = include_str!("quickstart.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Parse {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: key `{key}`: {message}")]
    Invalid {
        file: String,
        line: usize,
        key: String,
        message: String,
    },
    #[error("cannot resolve secret {what}: {message}")]
    Secret { what: String, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub listen: Spanned<Listen>,
    #[serde(default)]
    pub http: HttpLimits,
    pub auth: Option<Spanned<Auth>>,
    #[serde(default)]
    pub naming: Naming,
    #[serde(default)]
    pub session: SessionConfig,
    #[serde(default, rename = "backend")]
    pub backends: Vec<Spanned<Backend>>,
    /// `[limits]`: rate and session limits (see `crate::limits`); absent = unlimited.
    #[serde(default)]
    pub limits: limits::LimitsConfig,
    /// `[admin]`: the metrics and health listener (see `crate::telemetry`); absent = none.
    pub admin: Option<Spanned<telemetry::AdminConfig>>,
    /// Cedar policy. Absent: the policy stage is off and every authenticated caller may call
    /// every tool (`portcullis check` says so). Present: the files must exist and validate.
    pub policy: Option<Spanned<PolicyConfig>>,
    /// `[audit]`: the tamper-evident audit trail (see `crate::audit`); absent = none.
    pub audit: Option<Spanned<audit::AuditConfig>>,
    /// `[meta]`: meta-tools instead of the full tool list (see `crate::meta`); absent = off.
    pub meta: Option<Spanned<meta::MetaConfig>>,
    /// `[[workflows]]`: composite tools (see `crate::workflow`).
    #[serde(default)]
    pub workflows: Vec<Spanned<workflow::WorkflowDef>>,
    /// Directory of workflow files (`*.toml`, one workflow each), relative to this file.
    pub workflows_dir: Option<PathBuf>,
    /// The files of `workflows_dir`, in name order, read and parsed when the config is.
    #[serde(skip)]
    pub workflow_files: Vec<workflow::WorkflowFile>,
    /// `[telemetry]`: OTLP export of spans (see `crate::telemetry::trace`); absent = none.
    pub telemetry: Option<telemetry::TelemetryConfig>,
    /// `[network]`: outbound connections (see `crate::egress`); absent = only public
    /// addresses are reached.
    #[serde(default)]
    pub network: network::NetworkConfig,
    /// `[integrity]`: pins, drift and poisoning checks (see `crate::integrity`); absent =
    /// `enforce` with new definitions waiting for approval.
    #[serde(default)]
    pub integrity: integrity::IntegrityConfig,
    /// `[cluster]`: replicas sharing limits, sessions and alerts through Redis (see
    /// `crate::cluster`); absent = this process alone.
    pub cluster: Option<Spanned<cluster::ClusterConfig>>,
    /// Where the config came from (a path, or `<quickstart>`), for error messages.
    #[serde(skip)]
    pub source_name: String,
    /// The config's own text, for the line numbers of errors found after parsing.
    #[serde(skip)]
    pub text: String,
    /// Directory relative paths in the config are resolved against.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    pub address: Spanned<String>,
    /// Canonical URL of the MCP endpoint (later: the token audience).
    pub public_url: Option<String>,
    pub tls: Option<TlsFiles>,
    /// Serve plain HTTP on a non-loopback address. Anyone on the path reads tokens and traffic.
    #[serde(default)]
    pub dangerous_plaintext: bool,
    /// Hosts accepted in the `Host` header. Default: the public URL's host, plus loopback names
    /// when the listener is on loopback.
    pub allowed_hosts: Option<Vec<String>>,
    /// Origins accepted in the `Origin` header (requests without `Origin` are not browser
    /// requests and are accepted). Default: the public URL's origin, plus loopback origins when
    /// the listener is on loopback.
    pub allowed_origins: Option<Vec<String>>,
    /// How often the TLS certificate files are checked for changes, in seconds.
    #[serde(default = "default_cert_reload")]
    pub cert_reload_secs: u64,
    /// On SIGTERM or SIGINT: how long requests in flight may take to finish before they are
    /// cut off, seconds. New connections are refused from the first moment.
    #[serde(default = "default_shutdown_grace")]
    pub shutdown_grace_secs: u64,
}

fn default_cert_reload() -> u64 {
    5
}

fn default_shutdown_grace() -> u64 {
    10
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpLimits {
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    pub max_json_depth: usize,
    /// Whole request (including a streamed response) limit, seconds.
    pub request_timeout_secs: u64,
    /// Time allowed to send request headers, seconds (slow-loris protection).
    pub header_read_timeout_secs: u64,
    /// Largest SSE event or JSON response accepted from a backend.
    pub max_upstream_message_bytes: usize,
    /// A connection with no request in flight this long is closed, HTTP/1.1 and HTTP/2 alike
    /// (PINGs are not requests), seconds.
    pub idle_timeout_secs: u64,
    /// A request body gets this long once its headers are in, plus one second per
    /// `min_body_bytes_per_sec` bytes received (408 otherwise), seconds.
    pub body_timeout_secs: u64,
    pub min_body_bytes_per_sec: u64,
    /// Open connections at most, in total and per client address (IPv6: per /64); more are
    /// closed on accept.
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    /// Serve HTTP/2 without TLS (prior-knowledge h2c) on a plaintext listener.
    pub dangerous_h2c: bool,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 4 * 1024 * 1024,
            max_header_bytes: 16 * 1024,
            max_json_depth: 64,
            request_timeout_secs: 300,
            header_read_timeout_secs: 10,
            max_upstream_message_bytes: 16 * 1024 * 1024,
            idle_timeout_secs: 60,
            body_timeout_secs: 20,
            min_body_bytes_per_sec: 1024,
            max_connections: 4096,
            max_connections_per_ip: 256,
            dangerous_h2c: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub mode: AuthMode,
    /// Accept requests without a token. Anyone reaching the listener can call every tool.
    #[serde(default)]
    pub dangerous_allow_anonymous: bool,
    /// Run authenticated (`oidc`) without a `[policy]` section: every caller may call every
    /// tool. Without this flag an `oidc` config must have `[policy]`.
    #[serde(default)]
    pub dangerous_no_policy: bool,
    /// Scopes every token must carry (403 `insufficient_scope` otherwise).
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// Tokens longer than this are refused before any parsing.
    #[serde(default = "default_max_token")]
    pub max_token_bytes: usize,
    #[serde(default)]
    pub issuers: Vec<Issuer>,
}

fn default_max_token() -> usize {
    8192
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    Anonymous,
    Oidc,
}

/// One trusted token issuer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    /// Must equal the tokens' `iss` exactly.
    pub issuer: String,
    /// Accepted `aud` values; default: `[listen.public_url]` (RFC 8707 audience binding).
    pub audiences: Option<Vec<String>>,
    /// Explicit JWKS URL; default: from OIDC discovery / RFC 8414 metadata of `issuer`.
    pub jwks_url: Option<String>,
    /// Keys from a local JWKS file instead of the network.
    pub jwks_file: Option<PathBuf>,
    /// DEV ONLY: a local signing key (created if missing) that `portcullis token mint` uses.
    pub dev_key_file: Option<PathBuf>,
    /// Allowed signing algorithms (asymmetric only).
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// Dotted path of the groups/roles claim, e.g. `groups` or `realm_access.roles`.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// RFC 9068: accept only tokens whose header `typ` is `at+jwt` (off: also `JWT` or none).
    #[serde(default)]
    pub require_at_jwt: bool,
    /// Clock skew allowed for `exp`, `nbf` and `iat`, seconds.
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
    /// How often keys are refetched in the background, seconds.
    #[serde(default = "default_jwks_refresh")]
    pub jwks_refresh_secs: u64,
    /// Least time between two fetches caused by unknown `kid`s, seconds.
    #[serde(default = "default_jwks_min_refetch")]
    pub jwks_min_refetch_secs: u64,
}

fn default_algorithms() -> Vec<String> {
    [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
    ]
    .map(String::from)
    .to_vec()
}
fn default_groups_claim() -> String {
    "groups".into()
}
fn default_leeway() -> u64 {
    30
}
fn default_jwks_refresh() -> u64 {
    300
}
fn default_jwks_min_refetch() -> u64 {
    10
}

/// `[policy]`: where the Cedar schema and policies live (relative to the config file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// The main Cedar schema.
    pub schema: PathBuf,
    /// Directory of `*.cedar` policies and extra `*.cedarschema` fragments.
    pub policies: PathBuf,
    /// How often the files are checked for changes, seconds (0: only on SIGHUP).
    pub reload_secs: u64,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            schema: PathBuf::from("policies/portcullis.cedarschema"),
            policies: PathBuf::from("policies"),
            reload_secs: 2,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// Sessions idle longer than this are ended (upstream sessions closed), seconds.
    pub idle_timeout_secs: u64,
    pub max_sessions: usize,
    /// Items per page of merged lists returned to clients.
    pub page_size: usize,
    /// How long a shared upstream session (stdio child) with no client left is kept for the
    /// next one, seconds.
    pub upstream_idle_secs: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 1800,
            max_sessions: 10_000,
            page_size: 500,
            upstream_idle_secs: 300,
        }
    }
}

/// The quickstart's policies, written to `.portcullis-dev/policies/` (DEV ONLY): the entity
/// schema of this build (always refreshed) and a starting policy (kept once the user edits it).
const QUICKSTART_POLICY: &str = include_str!("quickstart.cedar");
const SCHEMA: &str = include_str!("../../policies/portcullis.cedarschema");

fn write_quickstart_policies(base: &Path) -> Result<(), ConfigError> {
    let dir = base.join(".portcullis-dev/policies");
    let fail = |e: std::io::Error| ConfigError::Secret {
        what: format!("quickstart policies in `{}`", dir.display()),
        message: e.to_string(),
    };
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let schema = dir.join("portcullis.cedarschema");
    if std::fs::read_to_string(&schema).ok().as_deref() != Some(SCHEMA) {
        std::fs::write(&schema, SCHEMA).map_err(fail)?;
    }
    let policy = dir.join("quickstart.cedar");
    if !policy.exists() {
        std::fs::write(&policy, QUICKSTART_POLICY).map_err(fail)?;
    }
    Ok(())
}

/// Line number (1-based) of a byte offset in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |t| t.bytes().filter(|b| *b == b'\n').count() + 1)
}

impl Config {
    /// Reads and parses the file at `path`, with this module's own checks only. Past start-up,
    /// use `Config::load` (`crate::checks`), which runs the modules' checks too.
    pub fn read_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::read(&text, &path.display().to_string(), &base)
    }

    /// The embedded quickstart, its policy files written under the current directory; this
    /// module's own checks only (see `read_file`).
    pub fn read_quickstart() -> Result<Config, ConfigError> {
        let base = std::env::current_dir().unwrap_or_default();
        write_quickstart_policies(&base)?;
        Self::read(QUICKSTART, "<quickstart>", &base)
    }

    /// Parses `text` (named `source_name` in errors; relative paths resolved against `base`)
    /// and reads the workflow files it names; this module's own checks only (see `read_file`).
    pub fn read(text: &str, source_name: &str, base: &Path) -> Result<Config, ConfigError> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            file: source_name.to_owned(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().trim().to_owned(),
        })?;
        cfg.source_name = source_name.to_owned();
        cfg.base_dir = base.to_path_buf();
        cfg.text = text.to_owned();
        cfg.validate(text)?;
        if let Some(dir) = &cfg.workflows_dir {
            cfg.workflow_files = workflow::read_dir(&cfg.resolve_path(dir), source_name, text)?;
        }
        Ok(cfg)
    }

    /// A `file:line: key` error at byte `offset` of the config's text.
    pub fn invalid_at(&self, offset: usize, key: &str, message: String) -> ConfigError {
        self.invalid(&self.text, offset, key, message)
    }

    fn invalid(&self, text: &str, offset: usize, key: &str, message: String) -> ConfigError {
        ConfigError::Invalid {
            file: self.source_name.clone(),
            line: line_of(text, offset),
            key: key.to_owned(),
            message,
        }
    }

    fn validate(&self, text: &str) -> Result<(), ConfigError> {
        let listen = self.listen.get_ref();
        let addr_span = self.listen.span().start;
        let addr: SocketAddr = listen.address.get_ref().parse().map_err(|_| {
            self.invalid(
                text,
                listen.address.span().start,
                "listen.address",
                format!(
                    "`{}` is not an IP address and port, e.g. `127.0.0.1:8443`",
                    listen.address.get_ref()
                ),
            )
        })?;
        if listen.tls.is_none() && !addr.ip().is_loopback() && !listen.dangerous_plaintext {
            return Err(self.invalid(
                text,
                addr_span,
                "listen.tls",
                format!(
                    "plain HTTP on non-loopback address `{addr}` exposes tokens and traffic; \
                     configure `tls = {{ cert = …, key = … }}` or set `dangerous_plaintext = true`"
                ),
            ));
        }
        if let Some(u) = &listen.public_url {
            url::Url::parse(u).map_err(|e| {
                self.invalid(
                    text,
                    addr_span,
                    "listen.public_url",
                    format!("`{u}` is not a URL: {e}"),
                )
            })?;
        }
        match &self.auth {
            None => {
                return Err(self.invalid(
                    text,
                    0,
                    "auth",
                    "an `[auth]` section is required: authentication is on by default; use \
                     `mode = \"oidc\"` with `[[auth.issuers]]`, or for a local test \
                     `mode = \"anonymous\"` with `dangerous_allow_anonymous = true`"
                        .into(),
                ));
            }
            Some(a) => self.validate_auth(text, a.span().start, a.get_ref())?,
        }
        let h = &self.http;
        for (key, v) in [
            ("idle_timeout_secs", h.idle_timeout_secs),
            ("body_timeout_secs", h.body_timeout_secs),
            ("max_connections", h.max_connections as u64),
            ("max_connections_per_ip", h.max_connections_per_ip as u64),
        ] {
            if v == 0 {
                let at = text.find("[http]").unwrap_or(0);
                return Err(self.invalid(
                    text,
                    at,
                    &format!("http.{key}"),
                    "must be at least 1".into(),
                ));
            }
        }
        let naming = &self.naming;
        // `[naming]` may be absent (defaults): point at it when present.
        let naming_span = text.find("[naming]").unwrap_or(0);
        if naming.strategy == Strategy::Prefix && naming.separator.is_empty() {
            return Err(self.invalid(
                text,
                naming_span,
                "naming.separator",
                "the prefix strategy needs a non-empty separator, e.g. `__`".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, b) in self.backends.iter().enumerate() {
            let be = b.get_ref();
            let at = b.span().start;
            let key = |k: &str| format!("backend[{i}].{k}");
            if be.name.is_empty()
                || !be
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(self.invalid(
                    text,
                    at,
                    &key("name"),
                    format!(
                        "`{}` must be non-empty ASCII letters, digits, `-` or `_`",
                        be.name
                    ),
                ));
            }
            if !seen.insert(be.name.clone()) {
                return Err(self.invalid(
                    text,
                    at,
                    &key("name"),
                    format!("duplicate backend name `{}`; names must be unique", be.name),
                ));
            }
            match (&be.url, &be.command) {
                (Some(_), Some(_)) => {
                    return Err(self.invalid(
                        text,
                        at,
                        &key("url"),
                        format!(
                            "backend `{}` has both `url` and `command`; choose one",
                            be.name
                        ),
                    ));
                }
                (None, None) => {
                    return Err(self.invalid(
                        text,
                        at,
                        &key("url"),
                        format!(
                            "backend `{}` needs `url` (Streamable HTTP) or `command` (stdio)",
                            be.name
                        ),
                    ));
                }
                (Some(u), None) => {
                    let parsed = url::Url::parse(u).map_err(|e| {
                        self.invalid(text, at, &key("url"), format!("`{u}` is not a URL: {e}"))
                    })?;
                    if parsed.scheme() != "http" && parsed.scheme() != "https" {
                        return Err(self.invalid(
                            text,
                            at,
                            &key("url"),
                            format!("`{u}` must be an http or https URL"),
                        ));
                    }
                }
                (None, Some(cmd)) => {
                    if cmd.first().is_none_or(String::is_empty) {
                        return Err(self.invalid(
                            text,
                            at,
                            &key("command"),
                            "`command` must name a program, e.g. `[\"node\", \"server.js\"]`"
                                .into(),
                        ));
                    }
                }
            }
            if be.command.is_some() && (be.auth != BackendAuth::None || be.dangerous_passthrough) {
                return Err(self.invalid(
                    text,
                    at,
                    &key("auth"),
                    format!(
                        "stdio backend `{}` gets credentials only through `env` (e.g. `env = {{ TOKEN = {{ env = \"X\" }} }}`)",
                        be.name
                    ),
                ));
            }
            let per_caller =
                be.dangerous_passthrough || matches!(be.auth, BackendAuth::TokenExchange(_));
            if per_caller && be.upstream_sessions == UpstreamSharing::Shared {
                return Err(self.invalid(
                    text,
                    at,
                    &key("upstream_sessions"),
                    format!(
                        "backend `{}` gets a credential per caller, so one upstream session cannot \
                         serve several principals; use `upstream_sessions = \"per_principal\"`",
                        be.name
                    ),
                ));
            }
            if be.dangerous_passthrough && be.auth != BackendAuth::None {
                return Err(self.invalid(
                    text,
                    at,
                    &key("auth"),
                    format!(
                        "backend `{}` sets both `auth` and `dangerous_passthrough`; choose one",
                        be.name
                    ),
                ));
            }
            if let BackendAuth::TokenExchange(c) | BackendAuth::ClientCredentials(c) = &be.auth {
                url::Url::parse(&c.token_endpoint).map_err(|e| {
                    self.invalid(
                        text,
                        at,
                        &key("auth.token_endpoint"),
                        format!("`{}` is not a URL: {e}", c.token_endpoint),
                    )
                })?;
            }
            if be.timeout_secs == 0 || be.init_timeout_secs == 0 {
                return Err(self.invalid(
                    text,
                    at,
                    &key("timeout_secs"),
                    "timeouts must be at least 1 second".into(),
                ));
            }
        }
        if let Some(admin) = &self.admin {
            let a = admin.get_ref();
            a.address.get_ref().parse::<SocketAddr>().map_err(|_| {
                self.invalid(
                    text,
                    a.address.span().start,
                    "admin.address",
                    format!(
                        "`{}` is not an IP address and port, e.g. `127.0.0.1:9090`",
                        a.address.get_ref()
                    ),
                )
            })?;
        }
        if let Some(c) = &self.cluster
            && let Err((key, message)) = c.get_ref().check()
        {
            return Err(self.invalid(text, c.span().start, &format!("cluster.{key}"), message));
        }
        for name in &naming.priority {
            if !seen.contains(name) {
                return Err(self.invalid(
                    text,
                    naming_span,
                    "naming.priority",
                    format!("unknown backend `{name}` in priority list"),
                ));
            }
        }
        for (from, to) in &naming.rename {
            let Some((backend, tool)) = from.split_once('/') else {
                return Err(self.invalid(
                    text,
                    naming_span,
                    "naming.rename",
                    format!("`{from}` must be `backend/name`"),
                ));
            };
            if !seen.contains(backend) {
                return Err(self.invalid(
                    text,
                    naming_span,
                    "naming.rename",
                    format!("unknown backend `{backend}` in rename rule `{from}`"),
                ));
            }
            if tool.is_empty() || to.is_empty() {
                return Err(self.invalid(
                    text,
                    naming_span,
                    "naming.rename",
                    format!("rename rule `{from}` = `{to}` needs both names"),
                ));
            }
        }
        Ok(())
    }

    fn validate_auth(&self, text: &str, at: usize, auth: &Auth) -> Result<(), ConfigError> {
        match auth.mode {
            AuthMode::Anonymous => {
                if !auth.dangerous_allow_anonymous {
                    return Err(self.invalid(
                        text,
                        at,
                        "auth.mode",
                        "`anonymous` lets anyone call every tool; it needs \
                         `dangerous_allow_anonymous = true`"
                            .into(),
                    ));
                }
            }
            AuthMode::Oidc => {
                if self.policy.is_none() && !auth.dangerous_no_policy {
                    return Err(self.invalid(
                        text,
                        at,
                        "policy",
                        "authentication without authorization: add a `[policy]` section (Cedar \
                         policies; see policies/), or set `dangerous_no_policy = true` under \
                         [auth] to let every authenticated caller call every tool"
                            .into(),
                    ));
                }
                if auth.issuers.is_empty() {
                    return Err(self.invalid(
                        text,
                        at,
                        "auth.issuers",
                        "`oidc` needs at least one `[[auth.issuers]]` with an `issuer`".into(),
                    ));
                }
                let listen = self.listen.get_ref();
                for (i, iss) in auth.issuers.iter().enumerate() {
                    let key = |k: &str| format!("auth.issuers[{i}].{k}");
                    if iss.issuer.is_empty() {
                        return Err(self.invalid(
                            text,
                            at,
                            &key("issuer"),
                            "must not be empty".into(),
                        ));
                    }
                    if iss.audiences.as_ref().is_none_or(Vec::is_empty)
                        && listen.public_url.is_none()
                    {
                        return Err(self.invalid(
                            text,
                            at,
                            &key("audiences"),
                            "no audience: set `listen.public_url` (the canonical resource URI \
                             tokens must be issued for) or `audiences`"
                                .into(),
                        ));
                    }
                    let sources = [
                        iss.jwks_url.is_some(),
                        iss.jwks_file.is_some(),
                        iss.dev_key_file.is_some(),
                    ]
                    .iter()
                    .filter(|b| **b)
                    .count();
                    if sources > 1 {
                        return Err(self.invalid(
                            text,
                            at,
                            &key("jwks_url"),
                            "set at most one of `jwks_url`, `jwks_file`, `dev_key_file`".into(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> SocketAddr {
        // INVARIANT: validate() checked that the address parses.
        self.listen
            .get_ref()
            .address
            .get_ref()
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The admin listener's address, when `[admin]` is configured.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        // INVARIANT: validate() checked that the address parses.
        self.admin
            .as_ref()
            .and_then(|a| a.get_ref().address.get_ref().parse().ok())
    }

    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// The weaker-than-default choices this module can see, one line each; `Config::warnings`
    /// (`crate::checks`) adds the modules' own.
    pub fn own_warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let l = self.listen.get_ref();
        if l.dangerous_plaintext {
            w.push(
                "listen.dangerous_plaintext = true: traffic and tokens travel unencrypted".into(),
            );
        }
        if self.http.dangerous_h2c && l.tls.is_none() {
            w.push(
                "http.dangerous_h2c = true: HTTP/2 without TLS is served on the plaintext listener"
                    .into(),
            );
        }
        if let Some(a) = &self.auth {
            let a = a.get_ref();
            if a.dangerous_no_policy {
                w.push(
                    "auth.dangerous_no_policy = true: no Cedar policy; every authenticated caller may call every tool".into(),
                );
            }
            if a.dangerous_allow_anonymous {
                w.push(
                    "auth.dangerous_allow_anonymous = true: callers are not authenticated".into(),
                );
            }
            for i in &a.issuers {
                if i.dev_key_file.is_some() {
                    w.push(format!(
                        "auth issuer `{}` uses `dev_key_file`: tokens minted locally by `portcullis token mint` are trusted (DEV ONLY)",
                        i.issuer
                    ));
                }
            }
        }
        if let Some(addr) = self.admin_addr().filter(|a| !a.ip().is_loopback()) {
            let token = self
                .admin
                .as_ref()
                .and_then(|a| a.get_ref().metrics_token.as_ref());
            w.push(format!(
                "admin.address = `{addr}` is not loopback: metrics and readiness are served without TLS to anyone who can reach it{}",
                if token.is_some() { " (metrics need the `metrics_token`)" } else { ", without authentication; set `metrics_token`" }
            ));
        }
        if let Some(c) = &self.cluster {
            w.extend(c.get_ref().warnings());
        }
        for b in &self.backends {
            let b = b.get_ref();
            if b.dangerous_passthrough {
                w.push(format!(
                    "backend `{}` has dangerous_passthrough = true: it receives callers' own tokens",
                    b.name
                ));
            }
            if b.dangerous_unlisted_resources {
                w.push(format!(
                    "backend `{}` has dangerous_unlisted_resources = true: it is sent reads of resource URIs no catalog lists",
                    b.name
                ));
            }
        }
        w
    }

    pub fn backend_names(&self) -> Vec<String> {
        self.backends
            .iter()
            .map(|b| b.get_ref().name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests;
