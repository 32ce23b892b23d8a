//! Cluster-wide rate limits: one Lua script decides a call against every limit it falls under.
//!
//! The algorithm is GCRA (the one governor runs per process): a limit of `count` calls per
//! `period` with a burst of `burst` has an emission interval `T = period / count` and a
//! tolerance `τ = T × (burst − 1)`; a key's state is its theoretical arrival time (TAT). A call
//! at `now` fits when `TAT − τ ≤ now`, and then moves the TAT to `max(TAT, now) + T`.
//!
//! The script reads Redis's own clock (`TIME`, so replicas' clocks do not matter), checks every
//! cell first and records in all of them only when all fit: a refused call consumes nothing,
//! and since Redis runs one script at a time there is no race between the check and the record
//! (unlike the per-process path, which peeks then records). One round trip per decision.

use std::time::Duration;

use super::{Cluster, ClusterError, digest};

/// KEYS: one per cell. ARGV: emission interval and tolerance of each cell, in microseconds,
/// in key order. Returns `{0, 0}` when the call fits (and is recorded), or `{i, wait_us}`: the
/// 1-based cell that refuses it for longest, and how long until it would fit.
///
/// Times are microseconds since the epoch (about 2^51 today: exact in Lua's doubles) and are
/// written with `%d`, because Lua's default number format would round them.
pub(super) const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local worst, wait = 0, 0
local tats = {}
for i, key in ipairs(KEYS) do
  local emission = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  local stored = redis.call('GET', key)
  local tat = now
  if stored then tat = math.max(tonumber(stored), now) end
  local allow_at = tat - tolerance
  if allow_at > now and allow_at - now > wait then
    worst, wait = i, allow_at - now
  end
  tats[i] = tat + emission
end
if worst > 0 then return {worst, wait} end
for i, key in ipairs(KEYS) do
  local ttl_ms = math.floor((tats[i] - now) / 1000) + 1
  redis.call('SET', key, string.format('%d', tats[i]), 'PX', ttl_ms)
end
return {0, 0}
"#;

/// One limit a call falls under, as the script takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// Which limit (`per_principal`, …): part of the Redis key.
    pub limit: &'static str,
    /// What is limited, in the unambiguous encoding `limits` uses; hashed into the key.
    pub key: String,
    /// `period / count`.
    pub emission: Duration,
    /// `emission × (burst − 1)`.
    pub tolerance: Duration,
}

/// What the script decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Fits every cell, and was recorded in all of them.
    Allowed,
    /// Refused by `cells[index]` (the one that refuses longest); fits again after `retry_after`.
    Refused { index: usize, retry_after: Duration },
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Cluster {
    /// Decide one call against `cells` (one script run). An empty list is allowed without
    /// asking Redis.
    pub async fn gcra(&self, cells: &[Cell]) -> Result<Decision, ClusterError> {
        if cells.is_empty() {
            return Ok(Decision::Allowed);
        }
        let mut inv = self.scripts.gcra.prepare_invoke();
        for c in cells {
            inv.key(self.key(&["rl", c.limit, &digest(&c.key)]));
        }
        for c in cells {
            // At least 1 µs: a zero interval would never move the TAT.
            inv.arg(micros(c.emission).max(1)).arg(micros(c.tolerance));
        }
        let mut conn = self.conn();
        let (index, wait): (i64, i64) = self
            .exchange(false, async move { inv.invoke_async(&mut conn).await })
            .await?;
        match (usize::try_from(index), u64::try_from(wait)) {
            (Ok(0), _) => Ok(Decision::Allowed),
            (Ok(i), Ok(w)) if i <= cells.len() => Ok(Decision::Refused {
                index: i - 1,
                retry_after: Duration::from_micros(w),
            }),
            _ => Err(ClusterError::Reply(format!(
                "rate script returned `{index}, {wait}` for {} cells",
                cells.len()
            ))),
        }
    }
}
