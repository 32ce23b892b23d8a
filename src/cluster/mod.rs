//! Shared state of gateway replicas behind one load balancer, kept in Redis (`[cluster]`).
//!
//! Replicas share only what must hold across all of them; everything else stays per process:
//!
//! * **limits** ([`limits`]): every quota of `[limits]` is decided by one Lua script (GCRA over
//!   every limit the call falls under, checked and recorded atomically: one round trip);
//! * **sessions** ([`sessions`]): the directory of 2025-era sessions (owner, `initialize`
//!   params, expiry) with the session caps, so any replica can rebuild a session it has not
//!   seen and the caps hold cluster-wide;
//! * **once-only marks** ([`Cluster::claim_once`]): one drift alert per drift, one use per
//!   sealed `requestState`;
//! * **peers** ([`peers`]): where each replica can be reached (an address sealed with the shared
//!   `request_state_key`, so Redis cannot redirect it) and which replica holds each task, so a
//!   request that continues a call only one replica holds is handed to that replica;
//! * **events** ([`events`]): pub/sub notices (approvals changed, a session ended) so replicas
//!   act at once instead of on their next poll.
//!
//! What Redis never holds: approvals (only the lockfile on disk approves; a notice only makes
//! replicas re-read it), policies, the `requestState` key, tokens. Each replica keeps its own
//! audit chain; records carry the replica id.
//!
//! When Redis cannot be reached ([`Health`]), `on_redis_unavailable` decides: `fail_closed`
//! (default) refuses what needs a shared decision, `local` decides with this replica's own
//! limits. Either way the transition is logged and reported through [`Cluster::on_transition`]
//! (the gateway audits and counts it), and while Redis is down the request path does not wait
//! for it: a health task pings it every second and the shared path resumes on the first answer.

pub mod events;
pub mod limits;
pub mod peers;
pub mod sessions;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use redis::aio::ConnectionManager;
use sha2::Digest;
use tokio::sync::broadcast;

use crate::config::SecretOrValue;
use crate::config::cluster::{ClusterConfig, OnRedisUnavailable, valid_replica_id};

pub use events::Event;

/// How often Redis is pinged while it is down (and while it is up, to notice a loss without
/// traffic).
const PING_DOWN: Duration = Duration::from_secs(1);
const PING_UP: Duration = Duration::from_secs(5);

/// Why the cluster state cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    /// A `[cluster]` setting that cannot be used at start.
    #[error("key `cluster.{key}`: {message}")]
    Config { key: &'static str, message: String },
    /// Redis did not answer (connection refused, timeout, error reply).
    #[error("redis unavailable: {0}")]
    Unavailable(String),
    /// Redis answered something the gateway's own script never returns.
    #[error("unexpected reply from redis: {0}")]
    Reply(String),
}

/// A change of Redis's reachability, as [`Cluster::on_transition`] reports it.
#[derive(Debug, Clone)]
pub struct Transition {
    /// Reachable again (`true`) or lost (`false`).
    pub up: bool,
    /// What failed, or what answered.
    pub reason: String,
    /// What this replica does meanwhile.
    pub mode: OnRedisUnavailable,
}

type TransitionHook = Box<dyn Fn(&Transition) + Send + Sync>;

/// Whether Redis answered the last exchange.
#[derive(Debug)]
pub struct Health {
    up: AtomicBool,
    last_error: Mutex<Option<String>>,
}

pub struct Cluster {
    replica: String,
    /// `{<key_prefix>}`: the braces make every key one Redis Cluster hash slot, so the scripts
    /// that touch several keys also run on a sharded Redis.
    prefix: String,
    mode: OnRedisUnavailable,
    timeout: Duration,
    url: String,
    client: redis::Client,
    conn: ConnectionManager,
    health: Health,
    hook: OnceLock<TransitionHook>,
    events: broadcast::Sender<Event>,
    scripts: Scripts,
    /// This replica's sealed address, published while Redis is up ([`peers`]).
    advertised: OnceLock<String>,
}

struct Scripts {
    gcra: redis::Script,
    open: redis::Script,
    touch: redis::Script,
    end: redis::Script,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("replica", &self.replica)
            .field("url", &self.url)
            .field("up", &self.is_up())
            .finish()
    }
}

/// Default replica id: the host name and the listen port, so two replicas on one host differ.
fn default_replica(listen_port: u16) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "replica".into());
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(50)
        .collect();
    let id = format!("{host}:{listen_port}");
    if valid_replica_id(&id) {
        id
    } else {
        format!("replica:{listen_port}")
    }
}

/// The `requestState` key of `[cluster]`, if configured: 64 hex digits (32 bytes), a secret
/// file resolved against `base_dir` (the config's directory).
pub fn request_state_key(
    cluster: Option<&ClusterConfig>,
    base_dir: &Path,
) -> Result<Option<[u8; 32]>, ClusterError> {
    let Some(r) = cluster.and_then(|c| c.request_state_key.as_ref()) else {
        return Ok(None);
    };
    let text = SecretOrValue::Ref(r.clone())
        .resolve(base_dir)
        .map_err(|e| ClusterError::Config {
            key: "request_state_key",
            message: e.to_string(),
        })?;
    let bytes = hex::decode(text.trim()).ok();
    bytes
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(Some)
        .ok_or(ClusterError::Config {
            key: "request_state_key",
            message: "must be 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`".into(),
        })
}

impl Cluster {
    /// The cluster of `[cluster]`, or `None` without it. `listen_port` (the public listener's)
    /// is part of the default replica id; secret and CA files resolve against `base_dir` (the
    /// config's directory). Connects lazily: a replica starts (and reports Redis down in
    /// `/readyz`) while Redis is unreachable. Must be called inside a Tokio runtime.
    pub fn from_config(
        cluster: Option<&ClusterConfig>,
        listen_port: u16,
        base_dir: &Path,
    ) -> Result<Option<Arc<Cluster>>, ClusterError> {
        let Some(c) = cluster else {
            return Ok(None);
        };
        let replica = c
            .replica_id
            .clone()
            .unwrap_or_else(|| default_replica(listen_port));
        let bad = |key: &'static str, message: String| ClusterError::Config { key, message };
        let info = redis::IntoConnectionInfo::into_connection_info(c.redis.url.as_str())
            .map_err(|e| bad("redis.url", format!("`{}`: {e}", c.redis.url)))?;
        let mut settings = info.redis_settings().clone();
        if let Some(p) = &c.redis.password {
            let pw = SecretOrValue::Ref(p.clone())
                .resolve(base_dir)
                .map_err(|e| bad("redis.password", e.to_string()))?;
            settings = settings.set_password(pw);
        }
        if let Some(u) = &c.redis.username {
            settings = settings.set_username(u);
        }
        let info = info.set_redis_settings(settings);
        let client = match &c.redis.ca {
            Some(ca) => {
                let path = base_dir.join(ca);
                let pem = std::fs::read(&path).map_err(|e| {
                    bad("redis.ca", format!("cannot read `{}`: {e}", path.display()))
                })?;
                redis::Client::build_with_tls(
                    info,
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(pem),
                    },
                )
            }
            None => redis::Client::open(info),
        }
        .map_err(|e| bad("redis.url", format!("`{}`: {e}", c.redis.url)))?;
        let timeout = Duration::from_millis(c.timeout_ms);
        let manager_cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager_cfg)
            .map_err(|e| bad("redis.url", format!("`{}`: {e}", c.redis.url)))?;
        let (events, _) = broadcast::channel(256);
        Ok(Some(Arc::new(Cluster {
            replica,
            prefix: format!("{{{}}}", c.key_prefix),
            mode: c.on_redis_unavailable,
            timeout,
            url: c.redis.url.clone(),
            client,
            conn,
            health: Health {
                // Unknown until the first answer: the request path tries Redis meanwhile.
                up: AtomicBool::new(true),
                last_error: Mutex::new(None),
            },
            hook: OnceLock::new(),
            events,
            scripts: Scripts {
                gcra: redis::Script::new(limits::GCRA),
                open: redis::Script::new(sessions::OPEN),
                touch: redis::Script::new(sessions::TOUCH),
                end: redis::Script::new(sessions::END),
            },
            advertised: OnceLock::new(),
        })))
    }

    /// This replica's id (audit records, metrics, the session directory).
    pub fn replica(&self) -> &str {
        &self.replica
    }

    pub fn mode(&self) -> OnRedisUnavailable {
        self.mode
    }

    /// Whether Redis answered the last exchange (or none was tried yet).
    pub fn is_up(&self) -> bool {
        self.health.up.load(Ordering::Acquire)
    }

    /// The last Redis failure, while it is down.
    pub fn last_error(&self) -> Option<String> {
        self.health
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Report every change of Redis's reachability to `hook` (set once, by the gateway).
    pub fn on_transition(&self, hook: impl Fn(&Transition) + Send + Sync + 'static) {
        let _ = self.hook.set(Box::new(hook));
    }

    /// A Redis key under this deployment's prefix.
    fn key(&self, parts: &[&str]) -> String {
        let mut k = self.prefix.clone();
        for p in parts {
            k.push(':');
            k.push_str(p);
        }
        k
    }

    fn set_up(&self, up: bool, reason: &str) {
        let was = self.health.up.swap(up, Ordering::AcqRel);
        {
            let mut e = self
                .health
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            *e = (!up).then(|| reason.to_owned());
        }
        if was == up {
            return;
        }
        let t = Transition {
            up,
            reason: reason.to_owned(),
            mode: self.mode,
        };
        if up {
            tracing::warn!(redis = %self.url, replica = %self.replica, "redis reachable again: shared limits, sessions and alerts resume");
        } else {
            tracing::error!(redis = %self.url, replica = %self.replica, reason, mode = self.mode.as_str(), "redis unavailable: {}",
            match self.mode {
                OnRedisUnavailable::FailClosed => "calls under a limit and new sessions are refused until it is back",
                OnRedisUnavailable::Local => "limits are decided by this replica alone until it is back",
            });
        }
        if let Some(h) = self.hook.get() {
            h(&t);
        }
    }

    /// One exchange with Redis, bounded by `timeout_ms`, updating [`Health`]. While Redis is
    /// known to be down the request path does not try (see the module docs): only `probe`
    /// exchanges (the health task) do.
    async fn exchange<T, F>(&self, probe: bool, f: F) -> Result<T, ClusterError>
    where
        F: std::future::Future<Output = redis::RedisResult<T>>,
    {
        if !probe && !self.is_up() {
            return Err(ClusterError::Unavailable(
                self.last_error().unwrap_or_else(|| "down".into()),
            ));
        }
        match tokio::time::timeout(self.timeout, f).await {
            Ok(Ok(v)) => {
                if !self.is_up() {
                    self.set_up(true, "answered");
                }
                Ok(v)
            }
            Ok(Err(e))
                if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
            {
                // Answered, so up; the caller's script invocation reloads it.
                Err(ClusterError::Reply(e.to_string()))
            }
            Ok(Err(e))
                if e.is_io_error()
                    || e.is_timeout()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal() =>
            {
                let reason = e.to_string();
                self.set_up(false, &reason);
                Err(ClusterError::Unavailable(reason))
            }
            Ok(Err(e)) => {
                // An error reply (auth, OOM, read-only replica…): the shared state cannot be
                // used, which for the request path is the same as unreachable.
                let reason = e.to_string();
                self.set_up(false, &reason);
                Err(ClusterError::Unavailable(reason))
            }
            Err(_) => {
                let reason = format!("no answer within {} ms", self.timeout.as_millis());
                self.set_up(false, &reason);
                Err(ClusterError::Unavailable(reason))
            }
        }
    }

    /// A fresh handle on the shared connection (cheap: the manager is an `Arc`).
    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// PING, through the health path: works while Redis is marked down.
    pub async fn ping(&self) -> Result<(), ClusterError> {
        let mut c = self.conn();
        self.exchange(true, async move {
            redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await
        .map(|_| ())
    }

    /// Whether this replica is the first to claim `key` of kind `what` within `ttl` (SET NX
    /// with an expiry): one drift alert per drift, one use per sealed token. Keys are hashed,
    /// so nothing a caller chose is stored in clear.
    pub async fn claim_once(
        &self,
        what: &str,
        key: &str,
        ttl: Duration,
    ) -> Result<bool, ClusterError> {
        let k = self.key(&["once", what, &digest(key)]);
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut c = self.conn();
        let replica = self.replica.clone();
        let set: Option<String> = self
            .exchange(false, async move {
                redis::cmd("SET")
                    .arg(&k)
                    .arg(replica)
                    .arg("NX")
                    .arg("PX")
                    .arg(ms)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(set.is_some())
    }

    /// Start the health task (and the pub/sub listener, see [`events`]) until `stop`.
    pub fn spawn(self: &Arc<Self>, stop: tokio_util::sync::CancellationToken) {
        let me = Arc::downgrade(self);
        let stop_health = stop.clone();
        tokio::spawn(async move {
            loop {
                let Some(c) = me.upgrade() else { return };
                let _ = c.ping().await;
                if c.is_up() {
                    c.publish_address().await;
                }
                let every = if c.is_up() { PING_UP } else { PING_DOWN };
                drop(c);
                tokio::select! {
                    _ = stop_health.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
            }
        });
        events::spawn_listener(self, stop);
    }
}

/// Hex SHA-256 of `s`, shortened to 128 bits: Redis keys of caller-chosen strings stay short
/// and say nothing about the caller.
pub(crate) fn digest(s: &str) -> String {
    let d = sha2::Sha256::digest(s.as_bytes());
    hex::encode(d.get(..16).unwrap_or_default())
}

#[cfg(test)]
mod tests;
