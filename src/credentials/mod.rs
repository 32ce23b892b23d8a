//! What each backend receives: a token exchanged for it (RFC 8693), the gateway's own client
//! credentials, a static secret, or nothing — never the caller's own token unless the backend
//! is configured `dangerous_passthrough`.
//!
//! Issued tokens are cached per (caller, caller's token, backend) until shortly before they
//! expire. Each cache entry has its own async lock, so a burst of calls for one caller makes one
//! request to the token endpoint (single-flight) while other callers proceed in parallel.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;
use sha2::Digest;

use crate::config::{self, BackendAuth, ClientAuth, ConfigError, TokenClientConfig};
use crate::egress::Egress;

const SUBJECT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// Refresh this long before a token's expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// Cache entries beyond which expired ones are pruned on insert.
const PRUNE_AT: usize = 10_000;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    #[error("token exchange failed: {0}")]
    Exchange(String),
    #[error("client credentials grant failed: {0}")]
    ClientCredentials(String),
    #[error("no caller token to exchange (anonymous caller)")]
    NoSubjectToken,
    #[error("no caller token to pass through")]
    NoPassthroughToken,
}

/// A backend's credential source, built once from config.
#[derive(Debug)]
pub enum Source {
    None,
    Static {
        header: http::HeaderName,
        value: http::HeaderValue,
    },
    Exchange(TokenClient),
    ClientCredentials(TokenClient),
    Passthrough,
}

impl Source {
    /// [`Source::header`] with the caller's latest token read from where a link keeps it, and
    /// copied only for the sources that present or exchange it: a stateless call asks for its
    /// credential on every request.
    pub async fn header_for(
        &self,
        caller: &str,
        subject: &Mutex<Option<String>>,
    ) -> Result<Option<(http::HeaderName, http::HeaderValue)>, CredentialError> {
        let subject = match self {
            Source::Exchange(_) | Source::Passthrough => subject
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
            Source::None | Source::Static { .. } | Source::ClientCredentials(_) => None,
        };
        self.header(caller, subject.as_deref()).await
    }

    /// The source of backend `b`: secrets resolved against `base_dir` (the config's directory),
    /// token endpoints reached through `egress`.
    pub fn from_config(
        b: &config::Backend,
        base_dir: &Path,
        egress: &Arc<Egress>,
    ) -> Result<Source, ConfigError> {
        if b.dangerous_passthrough {
            return Ok(Source::Passthrough);
        }
        let bad = |m: String| ConfigError::Secret {
            what: format!("credentials of backend `{}`", b.name),
            message: m,
        };
        Ok(match &b.auth {
            BackendAuth::None => Source::None,
            BackendAuth::Static { header, value } => {
                let v = value.resolve(base_dir)?;
                let mut value = http::HeaderValue::from_str(&v).map_err(|e| bad(e.to_string()))?;
                // Keeps it out of Debug output and HTTP/2 header compression tables.
                value.set_sensitive(true);
                Source::Static {
                    header: http::HeaderName::from_bytes(header.as_bytes())
                        .map_err(|e| bad(e.to_string()))?,
                    value,
                }
            }
            BackendAuth::TokenExchange(c) => {
                Source::Exchange(TokenClient::new(c, &b.name, base_dir, egress)?)
            }
            BackendAuth::ClientCredentials(c) => {
                Source::ClientCredentials(TokenClient::new(c, &b.name, base_dir, egress)?)
            }
        })
    }

    /// Count this backend's token cache hits, misses and errors in `metrics`.
    pub fn attach_metrics(&self, backend: &str, metrics: Arc<crate::telemetry::Metrics>) {
        if let Source::Exchange(c) | Source::ClientCredentials(c) = self {
            let _ = c.metrics.set((backend.to_owned(), metrics));
        }
    }

    /// The header for one upstream HTTP request made for `caller` (principal key) whose current
    /// token is `subject`.
    pub async fn header(
        &self,
        caller: &str,
        subject: Option<&str>,
    ) -> Result<Option<(http::HeaderName, http::HeaderValue)>, CredentialError> {
        let bearer = |t: &str| {
            http::HeaderValue::from_str(&format!("Bearer {t}"))
                .map(|v| Some((http::header::AUTHORIZATION, v)))
                .map_err(|e| CredentialError::Exchange(format!("unusable token: {e}")))
        };
        match self {
            Source::None => Ok(None),
            Source::Static { header, value } => Ok(Some((header.clone(), value.clone()))),
            Source::Passthrough => bearer(subject.ok_or(CredentialError::NoPassthroughToken)?),
            Source::Exchange(c) => {
                let subject = subject.ok_or(CredentialError::NoSubjectToken)?;
                // Keyed by the presented token too: an exchanged token never outlives, or
                // carries more than, the caller token it was derived from.
                let digest = sha2::Sha256::digest(subject.as_bytes());
                let tag: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
                bearer(&c.token(&format!("{caller}|{tag}"), Some(subject)).await?)
            }
            Source::ClientCredentials(c) => bearer(&c.token("", None).await?),
        }
    }
}

/// Why a token endpoint does not do for a backend (`portcullis check`).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error("token endpoint `{endpoint}` unreachable: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error(
        "token endpoint `{endpoint}` does not answer as an OAuth token endpoint (HTTP {status}, \
         not an RFC 6749 error response); check `auth.token_endpoint`"
    )]
    NotOAuth { endpoint: String, status: u16 },
}

/// How a token endpoint answered a request without a grant or client credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointAnswer {
    pub status: u16,
    /// The RFC 6749 `error` code it gave.
    pub error: String,
}

/// An OAuth token endpoint client with a per-key cache and single-flight.
pub struct TokenClient {
    cfg: TokenClientConfig,
    secret: String,
    http: reqwest::Client,
    cache: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
    /// Requests made to the token endpoint (for metrics and tests).
    pub fetches: std::sync::atomic::AtomicU64,
    /// Where cache hits, misses and errors are counted, once the gateway attaches it.
    metrics: std::sync::OnceLock<(String, Arc<crate::telemetry::Metrics>)>,
}

impl std::fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the client secret or cached tokens.
        f.debug_struct("TokenClient")
            .field("token_endpoint", &self.cfg.token_endpoint)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Cached {
    token: String,
    valid_until: Instant,
}

impl TokenClient {
    fn new(
        c: &TokenClientConfig,
        backend: &str,
        base_dir: &Path,
        egress: &Arc<Egress>,
    ) -> Result<Self, ConfigError> {
        // The token endpoint through the SSRF guard (its literal host was checked with the
        // config; a host name is checked each time it is resolved).
        egress
            .check_url(&c.token_endpoint)
            .map_err(|e| ConfigError::Secret {
                what: format!("token endpoint of `{backend}`"),
                message: e.to_string(),
            })?;
        let http = egress
            .client_builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| ConfigError::Secret {
                what: format!("token client of `{backend}`"),
                message: e.to_string(),
            })?;
        Ok(Self {
            cfg: c.clone(),
            secret: c.client_secret.resolve(base_dir)?,
            http,
            cache: Mutex::new(HashMap::new()),
            fetches: std::sync::atomic::AtomicU64::new(0),
            metrics: std::sync::OnceLock::new(),
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.cfg.token_endpoint
    }

    /// Whether the token endpoint answers, without a caller: an empty form POST (no grant, no
    /// client credentials, so nothing is issued and no secret is sent) must get an RFC 6749
    /// §5.2 error response. It goes through the SSRF guard like every token request.
    pub async fn check_endpoint(&self) -> Result<EndpointAnswer, EndpointError> {
        let endpoint = self.cfg.token_endpoint.clone();
        let resp = self
            .http
            .post(&endpoint)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body("")
            .send()
            .await
            .map_err(|e| EndpointError::Unreachable {
                endpoint: endpoint.clone(),
                reason: crate::egress::error_chain(&e),
            })?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap_or_default();
        let error = serde_json::from_slice::<Value>(
            bytes.get(..bytes.len().min(64 * 1024)).unwrap_or_default(),
        )
        .ok()
        .and_then(|d| d.get("error").and_then(Value::as_str).map(str::to_owned));
        match error {
            Some(error) if (400..500).contains(&status) => Ok(EndpointAnswer { status, error }),
            _ => Err(EndpointError::NotOAuth { endpoint, status }),
        }
    }

    async fn token(&self, key: &str, subject: Option<&str>) -> Result<String, CredentialError> {
        let slot = {
            let mut cache = self
                .cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if cache.len() >= PRUNE_AT {
                cache.retain(|_, v| {
                    v.try_lock()
                        .map(|g| g.as_ref().is_some_and(|c| c.valid_until > Instant::now()))
                        .unwrap_or(true)
                });
            }
            cache.entry(key.to_owned()).or_default().clone()
        };
        let mut guard = slot.lock().await;
        if let Some(c) = guard.as_ref() {
            if c.valid_until > Instant::now() {
                self.count(crate::telemetry::TokenExchangeResult::Hit);
                return Ok(c.token.clone());
            }
        }
        let fetched = self.fetch(subject).await;
        self.count(if fetched.is_ok() {
            crate::telemetry::TokenExchangeResult::Miss
        } else {
            crate::telemetry::TokenExchangeResult::Error
        });
        let (token, expires_in) = fetched?;
        let lifetime = Duration::from_secs(expires_in.unwrap_or(60)).saturating_sub(EXPIRY_MARGIN);
        *guard = Some(Cached {
            token: token.clone(),
            valid_until: Instant::now() + lifetime,
        });
        Ok(token)
    }

    fn count(&self, result: crate::telemetry::TokenExchangeResult) {
        if let Some((backend, m)) = self.metrics.get() {
            m.record_token_exchange(backend, result);
        }
    }

    async fn fetch(&self, subject: Option<&str>) -> Result<(String, Option<u64>), CredentialError> {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let exchange = subject.is_some();
        let err = |m: String| {
            if exchange {
                CredentialError::Exchange(m)
            } else {
                CredentialError::ClientCredentials(m)
            }
        };
        let mut form: Vec<(&str, String)> = Vec::new();
        match subject {
            Some(s) => {
                form.push(("grant_type", EXCHANGE_GRANT.into()));
                form.push(("subject_token", s.into()));
                form.push(("subject_token_type", SUBJECT_TOKEN_TYPE.into()));
                form.push(("requested_token_type", SUBJECT_TOKEN_TYPE.into()));
            }
            None => form.push(("grant_type", "client_credentials".into())),
        }
        if let Some(a) = &self.cfg.audience {
            form.push(("audience", a.clone()));
        }
        if let Some(r) = &self.cfg.resource {
            form.push(("resource", r.clone()));
        }
        if !self.cfg.scopes.is_empty() {
            form.push(("scope", self.cfg.scopes.join(" ")));
        }
        let mut req = self.http.post(&self.cfg.token_endpoint);
        match self.cfg.client_auth {
            ClientAuth::Basic => {
                // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
                let id = form_encode(&self.cfg.client_id);
                let secret = form_encode(&self.secret);
                let creds =
                    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
                req = req.header(http::header::AUTHORIZATION, format!("Basic {creds}"));
            }
            ClientAuth::Post => {
                form.push(("client_id", self.cfg.client_id.clone()));
                form.push(("client_secret", self.secret.clone()));
            }
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let resp = req
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| {
                err(format!(
                    "`{}` unreachable: {}",
                    self.cfg.token_endpoint,
                    crate::egress::error_chain(&e)
                ))
            })?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| err(e.to_string()))?;
        let doc: Value =
            serde_json::from_slice(bytes.get(..bytes.len().min(64 * 1024)).unwrap_or_default())
                .map_err(|_| err(format!("HTTP {status} with a non-JSON body")))?;
        if !status.is_success() {
            let code = doc
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("unknown_error");
            let desc = doc
                .get("error_description")
                .and_then(Value::as_str)
                .unwrap_or("");
            return Err(err(format!("HTTP {status}: {code} {desc}")
                .trim()
                .to_owned()));
        }
        let token = doc
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| err("response has no `access_token`".into()))?;
        Ok((
            token.to_owned(),
            doc.get("expires_in").and_then(Value::as_u64),
        ))
    }
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// What one upstream session presents: the backend's source, for one caller.
#[derive(Clone)]
pub struct Binding {
    pub source: Arc<Source>,
    pub caller: String,
    /// The caller's latest token (updated on every request of the session).
    pub subject: Arc<Mutex<Option<String>>>,
}

impl Binding {
    pub async fn header(
        &self,
    ) -> Result<Option<(http::HeaderName, http::HeaderValue)>, CredentialError> {
        self.source.header_for(&self.caller, &self.subject).await
    }
}
