//! DEV ONLY: a local signing key for the quickstart, and `portcullis token mint`.
//!
//! The key is an ECDSA P-256 key in a PKCS#8 PEM file, created (mode 0600) on first use. An
//! issuer with `dev_key_file` trusts exactly this key; `portcullis check` warns about it.

use std::path::{Path, PathBuf};

use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::Digest;

/// Why the dev key cannot be loaded, created or used. File errors name the file: fix its
/// permissions or content, or delete it to have a new key created.
#[derive(Debug, thiserror::Error)]
pub enum DevKeyError {
    /// A new key pair could not be generated.
    #[error("{0}")]
    Generate(rcgen::Error),
    /// The key file (or its directory) cannot be read, created or written.
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The key file is not a PKCS#8 PEM key pair.
    #[error("{}: {source}", .path.display())]
    Pem { path: PathBuf, source: rcgen::Error },
    /// The key is not usable as an ES256 signing key.
    #[error("{0}")]
    SigningKey(jsonwebtoken::errors::Error),
    /// The token could not be encoded and signed.
    #[error("{0}")]
    Sign(jsonwebtoken::errors::Error),
}

/// Maps an I/O error on `path` to [`DevKeyError::Io`].
fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> DevKeyError + '_ {
    move |source| DevKeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub struct DevKey {
    pem: String,
    public_raw: Vec<u8>,
}

impl DevKey {
    /// The key in `path`, created there (mode 0600, with its directory) when absent.
    pub fn load_or_create(path: &Path) -> Result<DevKey, DevKeyError> {
        let pem = match std::fs::read_to_string(path) {
            Ok(p) => p,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let kp = rcgen::KeyPair::generate().map_err(DevKeyError::Generate)?;
                let pem = kp.serialize_pem();
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io_at(dir))?;
                }
                write_private(path, &pem)?;
                tracing::warn!(path = %path.display(), "created a DEV ONLY token signing key");
                pem
            }
            Err(e) => return Err(io_at(path)(e)),
        };
        let kp = rcgen::KeyPair::from_pem(&pem).map_err(|source| DevKeyError::Pem {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(DevKey {
            public_raw: kp.public_key_raw().to_vec(),
            pem,
        })
    }

    pub fn kid(&self) -> String {
        let digest = sha2::Sha256::digest(&self.public_raw);
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// The public key as a JWKS (P-256 uncompressed point → x, y).
    pub fn jwks(&self) -> JwkSet {
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let (x, y) = match self.public_raw.split_first() {
            Some((4, rest)) if rest.len() == 64 => rest.split_at(32),
            _ => (&[][..], &[][..]),
        };
        let doc = json!({"keys": [{
            "kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y),
            "kid": self.kid(), "alg": "ES256", "use": "sig"
        }]});
        serde_json::from_value(doc).unwrap_or(JwkSet { keys: Vec::new() })
    }

    /// Sign `claims` (ES256, with our `kid`).
    pub fn sign(&self, claims: &Value) -> Result<String, DevKeyError> {
        let key = EncodingKey::from_ec_pem(self.pem.as_bytes()).map_err(DevKeyError::SigningKey)?;
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid());
        jsonwebtoken::encode(&header, claims, &key).map_err(DevKeyError::Sign)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> Result<(), DevKeyError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_at(path))?;
    f.write_all(text.as_bytes()).map_err(io_at(path))
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> Result<(), DevKeyError> {
    std::fs::write(path, text).map_err(io_at(path))
}

/// Claims for a dev token.
pub fn claims(
    issuer: &str,
    audience: &str,
    sub: &str,
    groups: &[String],
    scopes: &[String],
    ttl_secs: u64,
) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut c = json!({
        "iss": issuer, "aud": audience, "sub": sub, "iat": now, "nbf": now,
        "exp": now + ttl_secs, "groups": groups,
    });
    if !scopes.is_empty() {
        if let Some(o) = c.as_object_mut() {
            o.insert("scope".into(), Value::String(scopes.join(" ")));
        }
    }
    c
}
