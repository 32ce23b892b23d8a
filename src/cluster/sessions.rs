//! The directory of 2025-era sessions: what any replica needs to serve a session it did not
//! create, and the session caps counted across all replicas.
//!
//! A session is a record (`{p}:s:<id>`: owner, the client's `initialize` params, where it was
//! created) that expires after `session.idle_timeout_secs` unless touched, plus its id in two
//! sorted sets scored by expiry: all sessions (`session.max_sessions`) and the owner's
//! (`limits.max_sessions_per_principal`). Opening checks both caps and writes all three in one
//! script; touching and ending are one script each. Nothing else of a session is shared: its
//! upstream sessions and streams stay in the replica that serves it (see `session::shared`).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Cluster, ClusterError, digest};

/// KEYS: record, all sessions, the owner's sessions. ARGV: id, ttl ms, max total, max per
/// owner (0: none), record. Returns `{0, 0}` (opened), `{1, 0}` (total cap) or `{2, ms}` (the
/// owner's cap; ms until the owner's oldest session would expire).
pub(super) const OPEN: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return {1, 0} end
local per = tonumber(ARGV[4])
if per > 0 and redis.call('ZCARD', KEYS[3]) >= per then
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  return {2, tonumber(oldest[2]) - now}
end
local ttl = tonumber(ARGV[2])
local exp = string.format('%d', now + ttl)
redis.call('ZADD', KEYS[2], exp, ARGV[1])
redis.call('ZADD', KEYS[3], exp, ARGV[1])
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('SET', KEYS[1], ARGV[5], 'PX', ttl)
return {0, 0}
"#;

/// KEYS as [`OPEN`]. ARGV: id, ttl ms. Returns 1, or 0 when the session is gone.
pub(super) const TOUCH: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local exp = string.format('%d', now + ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], 'XX', exp, ARGV[1])
redis.call('ZADD', KEYS[3], 'XX', exp, ARGV[1])
redis.call('PEXPIRE', KEYS[3], ttl)
return 1
"#;

/// KEYS as [`OPEN`]. ARGV: id. Returns 1 when the session existed.
pub(super) const END: &str = r#"
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return redis.call('DEL', KEYS[1])
"#;

/// What the directory keeps of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// `iss|sub` of the principal that created it: every request must be by the same one.
    pub owner: String,
    /// The client's `initialize` params, as sent.
    pub init: Value,
    /// The client's address when it initialized.
    pub address: String,
    /// The replica that created it.
    pub replica: String,
}

/// What opening a session in the directory decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    Yes,
    /// `session.max_sessions` live sessions across the cluster.
    TotalCap,
    /// The owner's `limits.max_sessions_per_principal`; the oldest expires after `retry_after`.
    PrincipalCap {
        retry_after: Duration,
    },
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl Cluster {
    fn session_keys(&self, id: &str, owner: &str) -> [String; 3] {
        [
            self.key(&["s", id]),
            self.key(&["sz"]),
            self.key(&["sp", &digest(owner)]),
        ]
    }

    /// Open session `id` of `record.owner` if the caps allow (`max_per`: none when `None`).
    pub async fn session_open(
        &self,
        id: &str,
        record: &Record,
        ttl: Duration,
        max_total: usize,
        max_per: Option<usize>,
    ) -> Result<Opened, ClusterError> {
        let text = serde_json::to_string(record).map_err(|e| ClusterError::Reply(e.to_string()))?;
        let mut inv = self.scripts.open.prepare_invoke();
        for k in self.session_keys(id, &record.owner) {
            inv.key(k);
        }
        inv.arg(id)
            .arg(millis(ttl))
            .arg(max_total)
            .arg(max_per.unwrap_or(0))
            .arg(text);
        let mut conn = self.conn();
        let (code, ms): (i64, i64) = self
            .exchange(false, async move { inv.invoke_async(&mut conn).await })
            .await?;
        match code {
            0 => Ok(Opened::Yes),
            1 => Ok(Opened::TotalCap),
            2 => Ok(Opened::PrincipalCap {
                retry_after: Duration::from_millis(u64::try_from(ms).unwrap_or(0)),
            }),
            _ => Err(ClusterError::Reply(format!(
                "session script returned `{code}`"
            ))),
        }
    }

    /// The directory's record of session `id`, if it is live.
    pub async fn session_get(&self, id: &str) -> Result<Option<Record>, ClusterError> {
        let key = self.key(&["s", id]);
        let mut conn = self.conn();
        let text: Option<String> = self
            .exchange(false, async move {
                redis::cmd("GET").arg(key).query_async(&mut conn).await
            })
            .await?;
        match text {
            None => Ok(None),
            Some(t) => serde_json::from_str(&t)
                .map(Some)
                .map_err(|e| ClusterError::Reply(format!("session record: {e}"))),
        }
    }

    /// Push session `id`'s expiry to `ttl` from now. `false`: it is gone (ended elsewhere, or
    /// expired).
    pub async fn session_touch(
        &self,
        id: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, ClusterError> {
        let mut inv = self.scripts.touch.prepare_invoke();
        for k in self.session_keys(id, owner) {
            inv.key(k);
        }
        inv.arg(id).arg(millis(ttl));
        let mut conn = self.conn();
        let found: i64 = self
            .exchange(false, async move { inv.invoke_async(&mut conn).await })
            .await?;
        Ok(found == 1)
    }

    /// Remove session `id` from the directory and tell every replica (which close their copy).
    pub async fn session_end(&self, id: &str, owner: &str) -> Result<bool, ClusterError> {
        let mut inv = self.scripts.end.prepare_invoke();
        for k in self.session_keys(id, owner) {
            inv.key(k);
        }
        inv.arg(id);
        let mut conn = self.conn();
        let existed: i64 = self
            .exchange(false, async move { inv.invoke_async(&mut conn).await })
            .await?;
        self.publish(&super::Event::SessionEnded {
            id: id.to_owned(),
            from: self.replica.clone(),
        })
        .await?;
        Ok(existed == 1)
    }
}
