//! Who is calling: OIDC access-token validation into a [`Principal`], and RFC 9728 metadata.
//!
//! Tokens come only from `Authorization: Bearer`. Validation: size bound, header decode, an
//! allowlist of asymmetric algorithms (never `none`, never HMAC — so a public key can never be
//! used as an HMAC secret), the issuer picked from configuration by the unverified `iss` (only to
//! choose which keys to try), the key by `kid` from a cached JWKS, then signature, `iss`, `aud`
//! (this gateway's canonical resource URI, RFC 8707), `exp`, `nbf` and `iat` with a small leeway.
//! What the header and claims may hold (`crit`, `typ`, NumericDates, scope and group strings) is
//! decided in [`claims`].
//! The JWKS is refreshed on a timer and on an unknown `kid` (at most once per
//! `jwks_min_refetch_secs`, so a flood of bogus kids cannot hammer the IdP); on fetch failure the
//! cached keys keep serving.

pub mod claims;
pub mod dev;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::config::{self, AuthMode, Config};

/// Algorithms a configuration may allow. Symmetric algorithms are absent on purpose.
pub const ALLOWED_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// Identity's part of the check pass (`crate::checks`): every issuer's `algorithms` are
/// asymmetric ones this gateway verifies. `Err((key, offset, message))`.
pub fn check_config(cfg: &Config) -> Result<(), (String, usize, String)> {
    let Some(auth) = &cfg.auth else {
        return Ok(());
    };
    for (i, iss) in auth.get_ref().issuers.iter().enumerate() {
        for alg in &iss.algorithms {
            if !ALLOWED_ALGORITHMS.contains(&alg.as_str()) {
                return Err((
                    format!("auth.issuers[{i}].algorithms"),
                    auth.span().start,
                    format!(
                        "`{alg}` is not allowed; choose from {} (symmetric and `none` never are)",
                        ALLOWED_ALGORITHMS.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The authenticated caller, as later stages (policy, credentials, audit) read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub issuer: String,
    pub subject: String,
    pub groups: Vec<String>,
    pub scopes: Vec<String>,
    /// All claims of the token, verified.
    pub claims: Value,
    pub anonymous: bool,
}

impl Principal {
    pub fn anonymous() -> Self {
        Principal {
            issuer: String::new(),
            subject: "anonymous".into(),
            groups: Vec::new(),
            scopes: Vec::new(),
            claims: Value::Null,
            anonymous: true,
        }
    }

    /// Stable identity key: `<iss>|<sub>`.
    pub fn key(&self) -> String {
        format!("{}|{}", self.issuer, self.subject)
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing bearer token: send `Authorization: Bearer <token>`")]
    Missing,
    #[error("tokens are accepted only in the `Authorization` header, never in the URL")]
    TokenInQuery,
    #[error("the Authorization header must use the Bearer scheme")]
    NotBearer,
    #[error("token is longer than {0} bytes")]
    TooLong(usize),
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("algorithm `{0}` is not allowed")]
    Algorithm(String),
    #[error("issuer `{0}` is not trusted")]
    UnknownIssuer(String),
    #[error("no key `{0}` in the issuer's key set")]
    UnknownKey(String),
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("token lacks required scope(s): {}", .0.join(" "))]
    InsufficientScope(Vec<String>),
    #[error("keys of issuer `{0}` are unavailable: {1}")]
    KeysUnavailable(String, String),
    #[error("`{0}` is not a NumericDate (a non-negative number of seconds since 1970): it is {1}")]
    NotNumericDate(&'static str, &'static str),
    #[error("{0}")]
    Crit(String),
    #[error("{}", token_type_message(found, *require_at_jwt))]
    TokenType { found: String, require_at_jwt: bool },
}

fn token_type_message(found: &str, require_at_jwt: bool) -> String {
    if require_at_jwt {
        format!(
            "token type must be `at+jwt` (RFC 9068; this issuer sets `require_at_jwt`), found {found}"
        )
    } else {
        format!("token type {found} is not an access token (accepted: `at+jwt`, `JWT` or none)")
    }
}

impl AuthError {
    /// 403 for a valid token that lacks scope; 401 (with a challenge) for everything else.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, AuthError::InsufficientScope(_))
    }

    /// The RFC 6750 `error` code for the `WWW-Authenticate` challenge.
    pub fn challenge_error(&self) -> Option<&'static str> {
        match self {
            AuthError::Missing => None,
            AuthError::TokenInQuery | AuthError::NotBearer => Some("invalid_request"),
            AuthError::InsufficientScope(_) => Some("insufficient_scope"),
            _ => Some("invalid_token"),
        }
    }
}

/// Validates tokens for one gateway.
pub struct Authenticator {
    mode: AuthMode,
    required_scopes: Vec<String>,
    max_token_bytes: usize,
    issuers: Vec<Arc<IssuerState>>,
    http: reqwest::Client,
    egress: Arc<crate::egress::Egress>,
    /// Canonical resource URI and metadata URL, for RFC 9728 and challenges.
    pub resource: Option<String>,
    pub metadata_url: Option<String>,
    /// Tokens whose signature and claims were verified, by SHA-256 of the token: a client
    /// sends the same token on every request, and an ES256 verification costs ~70 µs. An entry
    /// is used only while the token is unexpired (same leeway as a full check) and the issuer's
    /// key set is the one it was verified with.
    verified: std::sync::Mutex<HashMap<[u8; 32], Verified>>,
}

/// A verified token, as [`Authenticator::validate`] accepted it.
struct Verified {
    principal: Principal,
    /// `exp` plus the issuer's leeway: the last second the token is accepted.
    until: u64,
    issuer: usize,
    generation: u64,
}

/// Most verified tokens kept (expired entries are dropped first, then all).
const MAX_VERIFIED: usize = 10_000;

struct IssuerState {
    cfg: config::Issuer,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    source: KeySource,
    keys: RwLock<Keys>,
    /// Bumped whenever `keys` is replaced: verified-token cache entries of an older key set
    /// are verified again (a key the IdP removed stops validating at once).
    generation: std::sync::atomic::AtomicU64,
    /// Serializes fetches (single-flight) and rate-limits unknown-kid refetches.
    fetch: tokio::sync::Mutex<Option<Instant>>,
}

enum KeySource {
    Url(Option<String>),
    Discover,
    Static,
}

#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, Jwk>,
    without_kid: Vec<Jwk>,
}

impl Keys {
    fn from_set(set: JwkSet) -> Self {
        let mut k = Keys::default();
        for jwk in set.keys {
            match jwk.common.key_id.clone() {
                Some(kid) => {
                    k.by_kid.insert(kid, jwk);
                }
                None => k.without_kid.push(jwk),
            }
        }
        k
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn parse_alg(s: &str) -> Option<Algorithm> {
    s.parse().ok()
}

/// Read the unverified payload of a JWT (to pick the issuer, and to check claim formats before
/// the signature is worth verifying).
fn peek_claims(token: &str) -> Result<Value, AuthError> {
    peek_segment(token, 1)
}

/// Read an unverified JSON segment of a JWT: 0 the header, 1 the payload.
fn peek_segment(token: &str, index: usize) -> Result<Value, AuthError> {
    let part = if index == 0 { "header" } else { "payload" };
    let segment = token
        .split('.')
        .nth(index)
        .ok_or_else(|| AuthError::Malformed("not a JWT".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| AuthError::Malformed(format!("{part} is not base64url")))?;
    crate::protocol::check_depth(&bytes, 32).map_err(|e| AuthError::Malformed(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed(format!("{part} is not JSON")))
}

fn claim_path<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(claims, |v, k| v.get(k))
}

impl Authenticator {
    /// The authenticator of `[auth]` (`None`: anonymous). `public_url` is `listen.public_url`,
    /// the resource tokens must be issued for (the default audience) and the base of the
    /// RFC 9728 metadata; key files resolve against `base_dir` (the config's directory).
    /// Discovery and JWKS go through `egress`: a discovery document names the JWKS URL, so
    /// that URL is checked before each fetch too (`refresh`).
    pub fn new(
        auth: Option<&config::Auth>,
        public_url: Option<&str>,
        base_dir: &Path,
        egress: Arc<crate::egress::Egress>,
    ) -> Result<Self, config::ConfigError> {
        let auth = auth.cloned();
        let resource = public_url.map(str::to_owned);
        let metadata_url = resource.as_deref().and_then(metadata_url_for);
        let http = egress
            .client_builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| config::ConfigError::Secret {
                what: "OIDC HTTP client".into(),
                message: e.to_string(),
            })?;
        let Some(auth) = auth else {
            return Ok(Self {
                mode: AuthMode::Anonymous,
                required_scopes: Vec::new(),
                max_token_bytes: 8192,
                issuers: Vec::new(),
                http,
                egress,
                resource,
                metadata_url,
                verified: std::sync::Mutex::new(HashMap::new()),
            });
        };
        let mut issuers = Vec::new();
        for i in &auth.issuers {
            let audiences = i
                .audiences
                .clone()
                .filter(|a| !a.is_empty())
                .or_else(|| resource.clone().map(|r| vec![r]))
                .unwrap_or_default();
            let algorithms = i.algorithms.iter().filter_map(|a| parse_alg(a)).collect();
            let (source, keys) = if let Some(path) = &i.dev_key_file {
                let key = dev::DevKey::load_or_create(&base_dir.join(path)).map_err(|e| {
                    config::ConfigError::Secret {
                        what: format!("dev key `{}`", path.display()),
                        message: e.to_string(),
                    }
                })?;
                (KeySource::Static, Keys::from_set(key.jwks()))
            } else if let Some(path) = &i.jwks_file {
                let text = std::fs::read_to_string(base_dir.join(path)).map_err(|e| {
                    config::ConfigError::Secret {
                        what: format!("JWKS file `{}`", path.display()),
                        message: e.to_string(),
                    }
                })?;
                let set: JwkSet =
                    serde_json::from_str(&text).map_err(|e| config::ConfigError::Secret {
                        what: format!("JWKS file `{}`", path.display()),
                        message: e.to_string(),
                    })?;
                (KeySource::Static, Keys::from_set(set))
            } else if let Some(url) = &i.jwks_url {
                (KeySource::Url(Some(url.clone())), Keys::default())
            } else {
                (KeySource::Discover, Keys::default())
            };
            issuers.push(Arc::new(IssuerState {
                cfg: i.clone(),
                audiences,
                algorithms,
                source,
                keys: RwLock::new(keys),
                generation: std::sync::atomic::AtomicU64::new(0),
                fetch: tokio::sync::Mutex::new(None),
            }));
        }
        Ok(Self {
            mode: auth.mode,
            required_scopes: auth.required_scopes.clone(),
            max_token_bytes: auth.max_token_bytes,
            issuers,
            http,
            egress,
            resource,
            metadata_url,
            verified: std::sync::Mutex::new(HashMap::new()),
        })
    }

    pub fn is_anonymous(&self) -> bool {
        self.mode == AuthMode::Anonymous
    }

    pub fn required_scopes(&self) -> &[String] {
        &self.required_scopes
    }

    pub fn issuer_names(&self) -> Vec<String> {
        self.issuers.iter().map(|i| i.cfg.issuer.clone()).collect()
    }

    /// Fetch keys of every networked issuer now (start-up), and keep them fresh in the
    /// background. Failures are logged; validation fetches again on demand.
    pub async fn start(self: &Arc<Self>) {
        for iss in &self.issuers {
            if matches!(iss.source, KeySource::Static) {
                continue;
            }
            if let Err(e) = self.refresh(iss, true).await {
                tracing::warn!(issuer = %iss.cfg.issuer, error = %e, "initial JWKS fetch failed; will retry");
            }
            let this = Arc::downgrade(self);
            let iss = iss.clone();
            tokio::spawn(async move {
                let every = Duration::from_secs(iss.cfg.jwks_refresh_secs.max(5));
                loop {
                    tokio::time::sleep(every).await;
                    let Some(this) = this.upgrade() else { return };
                    if let Err(e) = this.refresh(&iss, true).await {
                        tracing::warn!(issuer = %iss.cfg.issuer, error = %e, "JWKS refresh failed; keeping cached keys");
                    }
                }
            });
        }
    }

    /// Authenticate a request from its headers and query string.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        query: Option<&str>,
    ) -> Result<(Principal, Option<String>), AuthError> {
        if query.is_some_and(query_has_token) {
            return Err(AuthError::TokenInQuery);
        }
        if self.mode == AuthMode::Anonymous {
            return Ok((Principal::anonymous(), None));
        }
        let header = authorization.ok_or(AuthError::Missing)?;
        let (scheme, token) = header.trim().split_once(' ').ok_or(AuthError::NotBearer)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::NotBearer);
        }
        let token = token.trim();
        if token.len() > self.max_token_bytes {
            return Err(AuthError::TooLong(self.max_token_bytes));
        }
        let principal = self.validate(token).await?;
        let missing: Vec<String> = self
            .required_scopes
            .iter()
            .filter(|s| !principal.scopes.contains(s))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(AuthError::InsufficientScope(missing));
        }
        Ok((principal, Some(token.to_owned())))
    }

    /// Validate one JWT access token: from the verified-token cache when this exact token was
    /// verified under the issuer's current keys and has not expired, else in full.
    pub async fn validate(&self, token: &str) -> Result<Principal, AuthError> {
        use sha2::Digest;
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let now = now_secs();
        if let Ok(cache) = self.verified.lock() {
            if let Some(v) = cache.get(&digest) {
                let current = self
                    .issuers
                    .get(v.issuer)
                    .map(|i| i.generation.load(std::sync::atomic::Ordering::Acquire));
                if now <= v.until && current == Some(v.generation) {
                    return Ok(v.principal.clone());
                }
            }
        }
        let (principal, until, issuer, generation) = self.verify(token).await?;
        if let Ok(mut cache) = self.verified.lock() {
            if cache.len() >= MAX_VERIFIED {
                cache.retain(|_, v| now <= v.until);
                if cache.len() >= MAX_VERIFIED {
                    cache.clear();
                }
            }
            cache.insert(
                digest,
                Verified {
                    principal: principal.clone(),
                    until,
                    issuer,
                    generation,
                },
            );
        }
        Ok(principal)
    }

    /// Verify one JWT access token in full (signature, algorithm, issuer, audience, time
    /// claims). Returns the principal, the last second it is valid, the issuer's index and the
    /// key-set generation it was verified with.
    async fn verify(&self, token: &str) -> Result<(Principal, u64, usize, u64), AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| {
            // `alg: none` and HMAC/unknown algorithms fail here or below with a clear reason.
            let alg = token
                .split('.')
                .next()
                .and_then(|h| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(h)
                        .ok()
                })
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|v| v.get("alg").and_then(Value::as_str).map(str::to_owned));
            match alg {
                Some(a) if !ALLOWED_ALGORITHMS.contains(&a.as_str()) => AuthError::Algorithm(a),
                _ => AuthError::Malformed(e.to_string()),
            }
        })?;
        let alg_name = format!("{:?}", header.alg);
        // `jsonwebtoken::Header` drops what it does not model, so `crit` is read from the raw
        // header (which `decode_header` just parsed, so it is valid base64url JSON).
        claims::check_crit(&peek_segment(token, 0)?)?;
        let claims = peek_claims(token)?;
        let iss = claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or_else(|| AuthError::Invalid("missing `iss`".into()))?;
        let (issuer_index, issuer) = self
            .issuers
            .iter()
            .enumerate()
            .find(|(_, i)| i.cfg.issuer == iss)
            .ok_or_else(|| AuthError::UnknownIssuer(iss.to_owned()))?;
        // Read before the key: a refresh racing this verification makes the entry stale, never
        // a stale key current.
        let generation = issuer.generation.load(std::sync::atomic::Ordering::Acquire);
        if !issuer.algorithms.contains(&header.alg) {
            return Err(AuthError::Algorithm(alg_name));
        }
        claims::check_typ(header.typ.as_deref(), issuer.cfg.require_at_jwt)?;
        // Checked here, not left to `jsonwebtoken`: it has no rule for `iat` at all, and its
        // refusal of a malformed `exp`/`nbf` does not say what was wrong.
        let exp = claims::numeric_date(&claims, "exp")?;
        claims::numeric_date(&claims, "nbf")?;
        let iat = claims::numeric_date(&claims, "iat")?;
        let jwk = self.key_for(issuer, header.kid.as_deref()).await?;
        if let Some(key_alg) = jwk.common.key_algorithm {
            if format!("{key_alg:?}") != alg_name {
                return Err(AuthError::Algorithm(format!(
                    "{alg_name} (the key is for {key_alg:?})"
                )));
            }
        }
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| AuthError::Invalid(format!("unusable key: {e}")))?;
        let mut v = Validation::new(header.alg);
        v.algorithms = vec![header.alg];
        v.set_issuer(&[issuer.cfg.issuer.as_str()]);
        v.set_audience(&issuer.audiences);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.validate_exp = true;
        v.validate_nbf = true;
        v.validate_aud = true;
        v.leeway = issuer.cfg.leeway_secs;
        let data = jsonwebtoken::decode::<Value>(token, &key, &v)
            .map_err(|e| AuthError::Invalid(describe_jwt_error(&e)))?;
        let claims = data.claims;
        // INVARIANT: `claims` are the verified form of the payload `iat` and `exp` were read
        // from above (the same segment), so those values are the verified ones.
        if iat.is_some_and(|iat| iat > now_secs().saturating_add(issuer.cfg.leeway_secs) as f64) {
            return Err(AuthError::Invalid("`iat` is in the future".into()));
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| AuthError::Invalid("missing `sub`".into()))?
            .to_owned();
        let groups = claims::groups_of(claim_path(&claims, &issuer.cfg.groups_claim));
        let mut scopes = claims::scopes_of(claims.get("scope"));
        scopes.extend(claims::scopes_of(claims.get("scp")));
        // `exp` is required and was checked; its value bounds the cache entry (a fraction of a
        // second is dropped, so the entry never outlives the token).
        let until = exp
            .map_or(0, |e| e.floor() as u64)
            .saturating_add(issuer.cfg.leeway_secs);
        let principal = Principal {
            issuer: issuer.cfg.issuer.clone(),
            subject,
            groups,
            scopes,
            claims,
            anonymous: false,
        };
        Ok((principal, until, issuer_index, generation))
    }

    async fn key_for(
        &self,
        issuer: &Arc<IssuerState>,
        kid: Option<&str>,
    ) -> Result<Jwk, AuthError> {
        if let Some(k) = lookup(issuer, kid) {
            return Ok(k);
        }
        if matches!(issuer.source, KeySource::Static) {
            return Err(AuthError::UnknownKey(kid.unwrap_or("<none>").into()));
        }
        // Unknown kid: maybe the IdP rotated keys. Refetch, rate-limited.
        match self.refresh(issuer, false).await {
            Ok(()) => {}
            Err(e) => {
                tracing::warn!(issuer = %issuer.cfg.issuer, error = %e, "JWKS refetch failed")
            }
        }
        lookup(issuer, kid).ok_or_else(|| AuthError::UnknownKey(kid.unwrap_or("<none>").into()))
    }

    /// Fetch the issuer's JWKS. `force` ignores the unknown-kid rate limit (timer refreshes).
    async fn refresh(&self, issuer: &IssuerState, force: bool) -> Result<(), AuthError> {
        let mut last = issuer.fetch.lock().await;
        let min = Duration::from_secs(issuer.cfg.jwks_min_refetch_secs);
        if !force && last.is_some_and(|t| t.elapsed() < min) {
            return Ok(());
        }
        *last = Some(Instant::now());
        let url = match &issuer.source {
            KeySource::Url(Some(u)) => u.clone(),
            KeySource::Discover => self.discover_jwks_uri(&issuer.cfg.issuer).await?,
            KeySource::Url(None) | KeySource::Static => return Ok(()),
        };
        let fail = |m: String| AuthError::KeysUnavailable(issuer.cfg.issuer.clone(), m);
        self.egress
            .check_url(&url)
            .map_err(|e| fail(format!("JWKS URL refused: {e}")))?;
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| fail(crate::egress::error_chain(&e)))?;
        if !resp.status().is_success() {
            return Err(fail(format!("HTTP {} from `{url}`", resp.status())));
        }
        let body = resp.bytes().await.map_err(|e| fail(e.to_string()))?;
        if body.len() > 1024 * 1024 {
            return Err(fail("JWKS larger than 1 MiB".into()));
        }
        let set: JwkSet =
            serde_json::from_slice(&body).map_err(|e| fail(format!("invalid JWKS: {e}")))?;
        let keys = Keys::from_set(set);
        tracing::info!(issuer = %issuer.cfg.issuer, keys = keys.by_kid.len() + keys.without_kid.len(), "JWKS loaded");
        if let Ok(mut g) = issuer.keys.write() {
            *g = keys;
            issuer
                .generation
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
        Ok(())
    }

    /// OIDC discovery, then RFC 8414 metadata; the document's `issuer` must match.
    async fn discover_jwks_uri(&self, issuer: &str) -> Result<String, AuthError> {
        let fail = |m: String| AuthError::KeysUnavailable(issuer.to_owned(), m);
        let base = issuer.trim_end_matches('/');
        let mut candidates = vec![format!("{base}/.well-known/openid-configuration")];
        if let Ok(u) = url::Url::parse(issuer) {
            let path = u.path().trim_end_matches('/');
            let origin = u.origin().ascii_serialization();
            candidates.push(format!(
                "{origin}/.well-known/oauth-authorization-server{path}"
            ));
        }
        let mut last_err = String::from("no metadata found");
        for c in candidates {
            if let Err(e) = self.egress.check_url(&c) {
                last_err = e.to_string();
                continue;
            }
            match self.http.get(&c).send().await {
                Ok(r) if r.status().is_success() => {
                    let doc: Value = match r
                        .bytes()
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
                    {
                        Ok(d) => d,
                        Err(e) => {
                            last_err = format!("`{c}`: {e}");
                            continue;
                        }
                    };
                    if doc.get("issuer").and_then(Value::as_str) != Some(issuer) {
                        return Err(fail(format!("`{c}` names a different issuer")));
                    }
                    return doc
                        .get("jwks_uri")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| fail(format!("`{c}` has no `jwks_uri`")));
                }
                Ok(r) => last_err = format!("`{c}`: HTTP {}", r.status()),
                Err(e) => last_err = format!("`{c}`: {}", crate::egress::error_chain(&e)),
            }
        }
        Err(fail(last_err))
    }

    /// RFC 9728 protected resource metadata.
    pub fn resource_metadata(&self) -> Value {
        let mut doc = json!({
            "resource": self.resource,
            "authorization_servers": self.issuer_names(),
            "bearer_methods_supported": ["header"],
            "resource_name": "Portcullis MCP gateway",
        });
        if !self.required_scopes.is_empty() {
            if let Some(o) = doc.as_object_mut() {
                o.insert("scopes_supported".into(), json!(self.required_scopes));
            }
        }
        doc
    }

    /// The `WWW-Authenticate` value for a refusal.
    pub fn challenge(&self, err: &AuthError) -> String {
        let mut parts = Vec::new();
        if let Some(code) = err.challenge_error() {
            parts.push(format!("error=\"{code}\""));
            // A header value: quotes would end the parameter, and anything but printable ASCII
            // (an issuer name from the token, say) would make the whole header invalid.
            let desc: String = err
                .to_string()
                .chars()
                .map(|c| match c {
                    '"' | '\\' => '\'',
                    c if c == ' ' || c.is_ascii_graphic() => c,
                    _ => '?',
                })
                .collect();
            parts.push(format!("error_description=\"{desc}\""));
        }
        if let AuthError::InsufficientScope(scopes) = err {
            parts.push(format!("scope=\"{}\"", scopes.join(" ")));
        }
        if let Some(m) = &self.metadata_url {
            parts.push(format!("resource_metadata=\"{m}\""));
        }
        if parts.is_empty() {
            "Bearer".into()
        } else {
            format!("Bearer {}", parts.join(", "))
        }
    }
}

fn lookup(issuer: &IssuerState, kid: Option<&str>) -> Option<Jwk> {
    let keys = issuer.keys.read().ok()?;
    match kid {
        Some(k) => keys.by_kid.get(k).cloned(),
        // A token without `kid` is accepted only when the issuer has exactly one key.
        None => match (keys.by_kid.len(), keys.without_kid.as_slice()) {
            (0, [only]) => Some(only.clone()),
            (1, []) => keys.by_kid.values().next().cloned(),
            _ => None,
        },
    }
}

fn describe_jwt_error(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => "token has expired".into(),
        K::ImmatureSignature => "token is not valid yet (`nbf`)".into(),
        K::InvalidAudience => "audience does not include this gateway".into(),
        K::InvalidIssuer => "wrong issuer".into(),
        K::InvalidSignature => "signature does not verify".into(),
        K::InvalidAlgorithm => "algorithm does not match the key".into(),
        K::MissingRequiredClaim(c) => format!("missing `{c}`"),
        _ => e.to_string(),
    }
}

/// The RFC 9728 well-known URL for a resource: the path is appended after the well-known part.
pub fn metadata_url_for(resource: &str) -> Option<String> {
    let u = url::Url::parse(resource).ok()?;
    let path = u.path().trim_end_matches('/');
    Some(format!(
        "{}/.well-known/oauth-protected-resource{path}",
        u.origin().ascii_serialization()
    ))
}

fn query_has_token(q: &str) -> bool {
    q.split('&').any(|kv| {
        let k = kv.split('=').next().unwrap_or("").to_ascii_lowercase();
        k == "access_token" || k == "token" || k == "id_token"
    })
}

#[cfg(test)]
mod tests;
