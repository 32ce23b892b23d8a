//! `[cluster]`: what replicas behind one load balancer share through Redis (see
//! `crate::cluster`). Pure data and its checks; the connection is made by `cluster`.
//!
//! ```toml
//! [cluster]
//! redis = { url = "rediss://redis.internal:6380/0", password = { env = "REDIS_PASSWORD" } }
//! replica_id = "gw-1"                        # default: host name and listen port
//! on_redis_unavailable = "fail_closed"       # or "local": per-replica limits, loudly
//! request_state_key = { env = "PORTCULLIS_STATE_KEY" }   # 64 hex digits, the same on every replica
//! advertise_url = "https://gw-1.internal:8443"   # how the other replicas reach this one
//! peer_ca = "certs/ca.pem"                   # the CA of the replicas' certificates (https)
//! ```

use std::path::PathBuf;

use serde::Deserialize;

use super::{SecretOrValue, SecretRef};

/// `[cluster]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    pub redis: RedisConfig,
    /// This replica's name in audit records, metrics and the session directory. Default: the
    /// host name and the listen port (`host:8443`), which differ between replicas on one host.
    pub replica_id: Option<String>,
    #[serde(default)]
    pub on_redis_unavailable: OnRedisUnavailable,
    /// Prefix of every Redis key and channel, so deployments can share one Redis.
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
    /// How long one Redis round trip may take before Redis counts as unavailable, milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// The key that seals MRTR `requestState` (64 hex digits), the same on every replica so a
    /// state sealed on one opens on another. Absent: each replica draws its own, and a retry
    /// that lands on another replica is refused. A secret reference, never the key itself.
    #[serde(default, deserialize_with = "secret_reference")]
    pub request_state_key: Option<SecretRef>,
    /// Where the other replicas reach this one (`http(s)://host:port`), to hand it a request
    /// that continues a call only this replica holds (a parked MRTR call, a task). Default: the
    /// listener's scheme and bound address (its host name when bound to every interface).
    pub advertise_url: Option<String>,
    /// PEM file of the CA (or the certificate itself) that the other replicas' `https`
    /// listeners present. Default: the certificates of this replica's own `[listen.tls]`.
    pub peer_ca: Option<PathBuf>,
}

/// `[cluster] redis = { … }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://host:port/db` or `rediss://host:port/db` (TLS). No password in the URL.
    pub url: String,
    /// `{ env = "NAME" }` or `{ file = "path" }`.
    #[serde(default, deserialize_with = "secret_reference")]
    pub password: Option<SecretRef>,
    /// ACL user name (Redis 6+); absent: the default user.
    pub username: Option<String>,
    /// PEM file of the CA that signed the Redis server's certificate (`rediss://` only);
    /// absent: the system's roots.
    pub ca: Option<PathBuf>,
}

/// What a replica does while Redis cannot be reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnRedisUnavailable {
    /// Refuse what needs a cluster-wide decision (calls under a limit, new sessions): -32029 or
    /// HTTP 503, each refusal audited with the reason.
    #[default]
    FailClosed,
    /// Decide with this replica's own limits (N replicas then allow up to N times a quota);
    /// logged, audited and counted while it lasts.
    Local,
}

impl OnRedisUnavailable {
    pub fn as_str(self) -> &'static str {
        match self {
            OnRedisUnavailable::FailClosed => "fail_closed",
            OnRedisUnavailable::Local => "local",
        }
    }
}

fn default_prefix() -> String {
    "portcullis".into()
}

fn default_timeout_ms() -> u64 {
    500
}

fn secret_reference<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SecretRef>, D::Error> {
    match SecretOrValue::deserialize(d)? {
        SecretOrValue::Ref(r) => Ok(Some(r)),
        SecretOrValue::Value(_) => Err(serde::de::Error::custom(
            "must be a secret reference, `{ env = \"NAME\" }` or `{ file = \"path\" }`, never the \
             secret itself",
        )),
    }
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Why `cluster.advertise_url` (or `serve --advertise-url`) cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdvertiseUrlError {
    #[error("`{url}` is not a URL ({reason}); write `https://gw-1.internal:8443`")]
    NotUrl { url: String, reason: String },
    #[error("`{0}` must start with `http://` or `https://`")]
    Scheme(String),
    #[error("`{0}` names no host")]
    NoHost(String),
    #[error("`{0}` must be only a scheme, a host and a port, e.g. `https://gw-1.internal:8443`")]
    NotBare(String),
}

/// Whether `url` can be where the other replicas reach this one: `http` or `https`, a host, and
/// nothing after the port (the MCP path is the request's own).
pub fn check_advertise_url(url: &str) -> Result<(), AdvertiseUrlError> {
    let u = url::Url::parse(url).map_err(|e| AdvertiseUrlError::NotUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(AdvertiseUrlError::Scheme(url.to_owned()));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(AdvertiseUrlError::NoHost(url.to_owned()));
    }
    if u.path() != "/" || u.query().is_some() || u.fragment().is_some() || !u.username().is_empty()
    {
        return Err(AdvertiseUrlError::NotBare(url.to_owned()));
    }
    Ok(())
}

/// Whether `id` may name a replica: it appears in Redis keys, metrics labels and audit records.
pub fn valid_replica_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
}

impl ClusterConfig {
    /// Checks what serde cannot; on a problem returns the key (under `cluster.`) and the message.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let url = &self.redis.url;
        let parsed = url::Url::parse(url).map_err(|e| {
            (
                "redis.url",
                format!("`{url}` is not a URL ({e}); write `redis://host:6379/0` or `rediss://…`"),
            )
        })?;
        if parsed.scheme() != "redis" && parsed.scheme() != "rediss" {
            return Err((
                "redis.url",
                format!("`{url}` must start with `redis://` or `rediss://` (TLS)"),
            ));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(("redis.url", format!("`{url}` names no host")));
        }
        if parsed.password().is_some() || !parsed.username().is_empty() {
            return Err((
                "redis.url",
                "the URL carries credentials; put the password in \
                 `password = { env = \"NAME\" }` (and the user in `username`)"
                    .into(),
            ));
        }
        if self.redis.ca.is_some() && parsed.scheme() != "rediss" {
            return Err((
                "redis.ca",
                format!("`ca` is for TLS; use a `rediss://` URL instead of `{url}`"),
            ));
        }
        if let Some(id) = &self.replica_id
            && !valid_replica_id(id)
        {
            return Err((
                "replica_id",
                format!(
                    "`{id}` must be 1 to 64 ASCII letters, digits, `.`, `-`, `_` or `:`, e.g. `gw-1`"
                ),
            ));
        }
        if self.key_prefix.is_empty() || self.key_prefix.chars().any(|c| c.is_whitespace()) {
            return Err((
                "key_prefix",
                format!(
                    "`{}` must be non-empty, without spaces, e.g. `portcullis`",
                    self.key_prefix
                ),
            ));
        }
        if self.timeout_ms == 0 {
            return Err(("timeout_ms", "must be at least 1".into()));
        }
        if let Some(a) = &self.advertise_url {
            check_advertise_url(a).map_err(|e| ("advertise_url", e.to_string()))?;
        }
        Ok(())
    }

    /// What `portcullis check` says about this section.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.on_redis_unavailable == OnRedisUnavailable::Local {
            w.push(
                "cluster.on_redis_unavailable = \"local\": while Redis is unreachable each replica \
                 applies the limits alone, so N replicas allow up to N times each quota"
                    .into(),
            );
        }
        if let Ok(u) = url::Url::parse(&self.redis.url)
            && u.scheme() == "redis"
        {
            let loopback = match u.host() {
                Some(url::Host::Ipv4(a)) => a.is_loopback(),
                Some(url::Host::Ipv6(a)) => a.is_loopback(),
                // `redis:` is not a special scheme: the URL parser leaves its host opaque, so an
                // IP literal arrives here as a domain.
                Some(url::Host::Domain(d)) => {
                    d.eq_ignore_ascii_case("localhost")
                        || d.trim_start_matches('[')
                            .trim_end_matches(']')
                            .parse::<std::net::IpAddr>()
                            .is_ok_and(|ip| ip.is_loopback())
                }
                None => false,
            };
            if !loopback {
                w.push(format!(
                    "cluster.redis.url `{}` is plaintext to a non-loopback host: the Redis password \
                     and the shared state travel unencrypted; use `rediss://`",
                    self.redis.url
                ));
            }
        }
        if self.request_state_key.is_none() {
            w.push(
                "cluster.request_state_key is not set: an MRTR retry that lands on another replica \
                 than the one that sealed its `requestState` is refused, and no request is handed \
                 to the replica holding its call or task"
                    .into(),
            );
        }
        if let Some(a) = &self.advertise_url
            && let Ok(u) = url::Url::parse(a)
            && u.scheme() == "http"
            && !is_loopback(&u)
        {
            w.push(format!(
                "cluster.advertise_url `{a}` is plaintext to a non-loopback host: requests handed \
                 to this replica carry the caller's bearer token unencrypted; use `https://`"
            ));
        }
        w
    }
}
