//! Sealed `requestState` for multi round-trip requests (MRTR, MCP 2026-07-28).
//!
//! What the gateway hands a client as `requestState` is a token it sealed itself: AES-256-GCM
//! over what the retry must match — the principal, the backend, the method, the exposed name, a
//! digest of the arguments, an expiry — and what the gateway needs back (the backend's own
//! `requestState`, never shown to the client, or the id of a call the gateway holds open). A
//! client can neither read nor change it; a token from another principal, for another tool or
//! other arguments, expired or used before is refused before anything goes upstream.
//!
//! The key is random per process unless configured (replicas that must open each other's tokens
//! share one: `cluster.request_state_key`). Tokens are single use: each is remembered until it
//! expires, in this process, or with `[cluster]` in Redis ([`Sealer::open_shared`]), so a token
//! used on one replica is refused on every other.
//!
//! A state that names a call held open upstream ([`Inner::Parked`]) also names the replica that
//! holds it: that call lives in one process, so a retry that reaches another replica is handed
//! to the holder (`edge::forward`, [`Sealer::parked_elsewhere`]); only when the holder cannot be
//! reached is it refused (`-32602`, audited) without being used up. A backend's own state
//! ([`Inner::Backend`]) opens on any replica.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Prefix of a sealed token (the format's version).
const PREFIX: &str = "pcs1.";
/// Binds the ciphertext to its use: a token sealed for anything else does not open here.
const AAD: &[u8] = b"portcullis/requestState/v1";
/// The same key seals replicas' addresses (`cluster::peers`), for that purpose only.
const ADDRESS_AAD: &[u8] = b"portcullis/peer-address/v1";
/// Remembered used tokens, at most (the oldest expired ones go first).
const MAX_USED: usize = 100_000;

/// What the gateway keeps in a sealed token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// `iss|sub` of the principal the round was for.
    pub principal: String,
    pub backend: String,
    pub method: String,
    /// The exposed tool or prompt name, or the resource URI.
    pub name: String,
    /// SHA-256 (hex) of the request's arguments, canonical.
    pub args: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// A random id: tokens are single use.
    pub id: String,
    pub inner: Inner,
    /// The replica that sealed it (`[cluster]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<String>,
}

/// What the gateway needs back on the retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Inner {
    /// The backend's own `requestState` (absent when it sent none).
    Backend(Option<String>),
    /// A call the gateway holds open upstream (a 2025 backend asked the client mid-call).
    Parked(String),
}

/// What the retry is checked against.
pub struct Expect<'a> {
    pub principal: &'a str,
    pub method: &'a str,
    pub name: &'a str,
    pub args: &'a str,
}

/// Why a `requestState` is refused. The client only ever learns that it is invalid; the audit
/// trail records which check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("`requestState` is not one this gateway issued (or it was altered)")]
    Forged,
    #[error("`requestState` has expired")]
    Expired,
    #[error("`requestState` was issued to another principal")]
    OtherPrincipal,
    #[error("`requestState` was issued for another request (method, name or arguments differ)")]
    OtherRequest,
    #[error("`requestState` was already used")]
    Replayed,
    #[error(
        "`requestState` continues a call held by gateway replica `{0}`, which could not be \
         reached from this one; start the call again"
    )]
    OtherReplica(String),
    #[error("`requestState` cannot be checked for reuse now (the cluster's Redis is unavailable)")]
    Unavailable,
}

pub struct Sealer {
    key: LessSafeKey,
    ttl: Duration,
    used: Mutex<HashMap<String, u64>>,
    /// Single-use marks shared by replicas; `None`: this process's own.
    cluster: Option<std::sync::Arc<crate::cluster::Cluster>>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// SHA-256 (hex) of `args` with keys sorted: what a retry's arguments must match.
pub fn args_digest(args: Option<&Value>) -> String {
    use sha2::Digest;
    let canonical = args
        .cloned()
        .map(crate::protocol::sorted_keys)
        .unwrap_or(Value::Null)
        .to_string();
    hex::encode(sha2::Sha256::digest(canonical.as_bytes()))
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The OS CSPRNG; failing it leaves zeros, which only weakens nonces, never panics: the key
    // itself (below) is refused when it cannot be drawn.
    let _ = aws_lc_rs::rand::fill(&mut b);
    b
}

impl Sealer {
    /// A sealer with `key` (32 bytes), or a fresh random key when `None`.
    pub fn new(key: Option<[u8; 32]>, ttl: Duration) -> Result<Sealer, SealKeyError> {
        let key = match key {
            Some(k) => k,
            None => {
                let mut k = [0u8; 32];
                aws_lc_rs::rand::fill(&mut k).map_err(|_| SealKeyError::Random)?;
                k
            }
        };
        let unbound = UnboundKey::new(&AES_256_GCM, &key).map_err(|_| SealKeyError::Key)?;
        Ok(Sealer {
            key: LessSafeKey::new(unbound),
            ttl,
            used: Mutex::new(HashMap::new()),
            cluster: None,
        })
    }

    /// Keep single-use marks in the cluster's Redis, and name this replica in parked states.
    pub fn clustered(mut self, cluster: Option<std::sync::Arc<crate::cluster::Cluster>>) -> Self {
        self.cluster = cluster;
        self
    }

    fn replica(&self) -> Option<&str> {
        self.cluster.as_ref().map(|c| c.replica())
    }

    /// How long a sealed token is valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A state for one round, valid for the sealer's TTL.
    pub fn state(
        &self,
        principal: &str,
        backend: &str,
        method: &str,
        name: &str,
        args: &str,
        inner: Inner,
    ) -> State {
        State {
            principal: principal.to_owned(),
            backend: backend.to_owned(),
            method: method.to_owned(),
            name: name.to_owned(),
            args: args.to_owned(),
            exp: now_secs().saturating_add(self.ttl.as_secs()),
            id: hex::encode(random::<16>()),
            inner,
            replica: self.replica().map(str::to_owned),
        }
    }

    /// The opaque token for `state`.
    pub fn seal(&self, state: &State) -> String {
        let buf = serde_json::to_vec(state).unwrap_or_default();
        self.seal_bytes(AAD, buf)
    }

    /// `buf` sealed for the purpose `aad`, as `pcs1.` and URL-safe base64 of nonce and
    /// ciphertext. Sealing fails only on absurd lengths; the token is then empty and opens as
    /// `Forged`.
    fn seal_bytes(&self, aad: &[u8], mut buf: Vec<u8>) -> String {
        let nonce_bytes = random::<NONCE_LEN>();
        let nonce = Nonce::assume_unique_for_key(nonce_bytes);
        if self
            .key
            .seal_in_place_append_tag(nonce, Aad::from(aad), &mut buf)
            .is_err()
        {
            return PREFIX.to_owned();
        }
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buf);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
        )
    }

    /// This replica's address (`cluster::peers`), sealed for that purpose only: another
    /// replica with the same key opens it, nothing else can write one.
    pub fn seal_address(&self, replica: &str, url: &str) -> String {
        let note = serde_json::json!({ "replica": replica, "url": url });
        self.seal_bytes(ADDRESS_AAD, note.to_string().into_bytes())
    }

    /// The URL in `sealed` when it is `replica`'s address sealed with this key.
    pub fn open_address(&self, sealed: &str, replica: &str) -> Option<String> {
        let plain = self.unseal_bytes(ADDRESS_AAD, sealed).ok()?;
        let note: Value = serde_json::from_slice(&plain).ok()?;
        if note.get("replica").and_then(Value::as_str) != Some(replica) {
            return None;
        }
        note.get("url").and_then(Value::as_str).map(str::to_owned)
    }

    /// The replica holding the call `token` continues, when that is another replica than this
    /// one: a parked call's state, authentic and unexpired. Neither checks the caller nor uses
    /// the token up (the holder does both).
    pub fn parked_elsewhere(&self, token: &str) -> Option<String> {
        let here = self.replica()?;
        let state = self.unseal(token).ok()?;
        if state.exp < now_secs() {
            return None;
        }
        match (&state.inner, state.replica) {
            (Inner::Parked(_), Some(r)) if r != here => Some(r),
            _ => None,
        }
    }

    /// The cluster this sealer shares its single-use marks with.
    pub fn cluster(&self) -> Option<&std::sync::Arc<crate::cluster::Cluster>> {
        self.cluster.as_ref()
    }

    /// Open `token` for a retry matching `expect`, and mark it used (in this process).
    pub fn open(&self, token: &str, expect: &Expect<'_>) -> Result<State, SealError> {
        let state = self.verify(token, expect)?;
        self.mark_here(state)
    }

    /// [`Sealer::open`], with the single-use mark in the cluster's Redis when there is one,
    /// and a parked call's state refused on any replica but the one holding the call.
    pub async fn open_shared(&self, token: &str, expect: &Expect<'_>) -> Result<State, SealError> {
        let state = self.verify(token, expect)?;
        let Some(cluster) = &self.cluster else {
            return self.mark_here(state);
        };
        if let Inner::Parked(_) = state.inner
            && state.replica.as_deref() != Some(cluster.replica())
        {
            return Err(SealError::OtherReplica(
                state.replica.unwrap_or_else(|| "(none)".into()),
            ));
        }
        let left = Duration::from_secs(state.exp.saturating_sub(now_secs()).max(1));
        match cluster.claim_once("rs", &state.id, left).await {
            Ok(true) => Ok(state),
            Ok(false) => Err(SealError::Replayed),
            Err(e) => match cluster.mode() {
                crate::config::cluster::OnRedisUnavailable::Local => {
                    tracing::warn!(error = %e, "requestState single-use check made by this replica alone");
                    self.mark_here(state)
                }
                crate::config::cluster::OnRedisUnavailable::FailClosed => {
                    tracing::warn!(error = %e, "requestState refused: its single-use check is unavailable");
                    Err(SealError::Unavailable)
                }
            },
        }
    }

    /// The checks of a retry that do not depend on earlier uses.
    fn verify(&self, token: &str, expect: &Expect<'_>) -> Result<State, SealError> {
        let state = self.unseal(token)?;
        if state.principal != expect.principal {
            return Err(SealError::OtherPrincipal);
        }
        if state.method != expect.method || state.name != expect.name || state.args != expect.args {
            return Err(SealError::OtherRequest);
        }
        if state.exp < now_secs() {
            return Err(SealError::Expired);
        }
        Ok(state)
    }

    /// Mark `state` used in this process.
    fn mark_here(&self, state: State) -> Result<State, SealError> {
        let now = now_secs();
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if used.contains_key(&state.id) {
            return Err(SealError::Replayed);
        }
        if used.len() >= MAX_USED {
            used.retain(|_, exp| *exp >= now);
        }
        if used.len() >= MAX_USED {
            // Still full of live tokens: refuse rather than forget one (fail closed).
            return Err(SealError::Replayed);
        }
        used.insert(state.id.clone(), state.exp);
        Ok(state)
    }

    fn unseal(&self, token: &str) -> Result<State, SealError> {
        let plain = self.unseal_bytes(AAD, token)?;
        serde_json::from_slice(&plain).map_err(|_| SealError::Forged)
    }

    fn unseal_bytes(&self, aad: &[u8], token: &str) -> Result<Vec<u8>, SealError> {
        let body = token.strip_prefix(PREFIX).ok_or(SealError::Forged)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Forged)?;
        let (nonce, sealed) = bytes.split_at_checked(NONCE_LEN).ok_or(SealError::Forged)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Forged)?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut sealed)
            .map_err(|_| SealError::Forged)?;
        Ok(plain.to_vec())
    }
}

/// Why a sealer could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealKeyError {
    #[error("the OS random number generator failed")]
    Random,
    #[error("the `requestState` key must be 32 bytes")]
    Key,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn sealer() -> Sealer {
        Sealer::new(None, Duration::from_secs(60)).unwrap()
    }

    fn expect<'a>(args: &'a str) -> Expect<'a> {
        Expect {
            principal: "iss|alice",
            method: "tools/call",
            name: "files__delete",
            args,
        }
    }

    fn round(s: &Sealer, args: &str) -> String {
        let st = s.state(
            "iss|alice",
            "files",
            "tools/call",
            "files__delete",
            args,
            Inner::Backend(Some("backend-secret".into())),
        );
        s.seal(&st)
    }

    #[test]
    fn a_token_opens_once_for_the_same_request() {
        let s = sealer();
        let args = args_digest(Some(&json!({"path": "/a"})));
        let t = round(&s, &args);
        assert!(
            !t.contains("backend-secret"),
            "the backend's state is not readable"
        );
        let st = s.open(&t, &expect(&args)).unwrap();
        assert_eq!(st.inner, Inner::Backend(Some("backend-secret".into())));
        assert_eq!(s.open(&t, &expect(&args)), Err(SealError::Replayed));
    }

    #[test]
    fn altered_foreign_and_mismatched_tokens_are_refused() {
        let s = sealer();
        let args = args_digest(Some(&json!({"path": "/a"})));
        let t = round(&s, &args);
        assert_eq!(
            s.open(&format!("{t}-TAMPERED"), &expect(&args)),
            Err(SealError::Forged)
        );
        let mut flipped = t.clone().into_bytes();
        let last = flipped.len() - 3;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            s.open(std::str::from_utf8(&flipped).unwrap(), &expect(&args)),
            Err(SealError::Forged)
        );
        // Another gateway's key.
        assert_eq!(sealer().open(&t, &expect(&args)), Err(SealError::Forged));
        let other = Expect {
            principal: "iss|mallory",
            ..expect(&args)
        };
        assert_eq!(s.open(&t, &other), Err(SealError::OtherPrincipal));
        let other_args = args_digest(Some(&json!({"path": "/etc/passwd"})));
        assert_eq!(
            s.open(&t, &expect(&other_args)),
            Err(SealError::OtherRequest)
        );
        let other_tool = Expect {
            name: "files__read",
            ..expect(&args)
        };
        assert_eq!(s.open(&t, &other_tool), Err(SealError::OtherRequest));
        // None of the refusals used it up.
        assert!(s.open(&t, &expect(&args)).is_ok());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let s = Sealer::new(None, Duration::from_secs(0)).unwrap();
        let args = args_digest(None);
        let mut st = s.state(
            "iss|alice",
            "files",
            "tools/call",
            "files__delete",
            &args,
            Inner::Parked("c1".into()),
        );
        st.exp = now_secs() - 10;
        let t = s.seal(&st);
        assert_eq!(s.open(&t, &expect(&args)), Err(SealError::Expired));
    }

    #[test]
    fn argument_digests_ignore_key_order() {
        assert_eq!(
            args_digest(Some(&json!({"a": 1, "b": [1, {"y": 2, "x": 1}]}))),
            args_digest(Some(&json!({"b": [1, {"x": 1, "y": 2}], "a": 1})))
        );
        assert_ne!(
            args_digest(Some(&json!({"a": 1}))),
            args_digest(Some(&json!({"a": 2})))
        );
    }

    #[test]
    fn an_address_opens_only_for_its_replica_with_the_same_key() {
        let key = Some([7u8; 32]);
        let a = Sealer::new(key, Duration::from_secs(60)).unwrap();
        let b = Sealer::new(key, Duration::from_secs(60)).unwrap();
        let sealed = a.seal_address("r1", "http://10.0.0.1:8443");
        assert_eq!(
            b.open_address(&sealed, "r1").as_deref(),
            Some("http://10.0.0.1:8443")
        );
        // Named for another replica, sealed with another key, or not an address at all.
        assert_eq!(b.open_address(&sealed, "r2"), None);
        let stranger = Sealer::new(Some([8u8; 32]), Duration::from_secs(60)).unwrap();
        assert_eq!(stranger.open_address(&sealed, "r1"), None);
        assert_eq!(b.open_address("http://evil.example:443", "r1"), None);
        // The two purposes do not mix: a requestState is no address, and an address no state.
        let args = args_digest(None);
        let st = a.state("p", "b", "tools/call", "t", &args, Inner::Backend(None));
        assert_eq!(b.open_address(&a.seal(&st), "r1"), None);
        let expect = Expect {
            principal: "p",
            method: "tools/call",
            name: "t",
            args: &args,
        };
        assert_eq!(b.open(&sealed, &expect), Err(SealError::Forged));
    }

    #[test]
    fn without_a_cluster_nothing_is_parked_elsewhere() {
        let s = sealer();
        let args = args_digest(None);
        let st = s.state("p", "", "tools/call", "t", &args, Inner::Parked("x".into()));
        assert_eq!(s.parked_elsewhere(&s.seal(&st)), None);
        assert_eq!(s.parked_elsewhere("pcs1.garbage"), None);
    }
}
