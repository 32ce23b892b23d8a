//! `[admin]` (the metrics and health listener) and `[telemetry]` (span export) as written.
//! Data only; `crate::telemetry` serves and exports from them, and the check pass checks the
//! admin address against the listener.

use serde::Deserialize;
use toml::Spanned;

use super::{SecretOrValue, SecretRef};

/// `[admin]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Where `/metrics`, `/healthz` and `/readyz` are served, e.g. `127.0.0.1:9090`.
    pub address: Spanned<String>,
    /// Names accepted in `Host` (DNS rebinding defence). IP literals are always accepted (they
    /// cannot be rebound). Default: the loopback names on a loopback address, none otherwise.
    pub allowed_hosts: Option<Vec<String>>,
    /// Origins accepted in `Origin` besides those whose host is an allowed name.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Bearer token `/metrics` requires, as a secret reference (`{ env = "NAME" }` or
    /// `{ file = "path" }`). Absent: `/metrics` needs none. `/healthz` and `/readyz` never do.
    #[serde(default, deserialize_with = "secret_reference")]
    pub metrics_token: Option<SecretRef>,
}

fn secret_reference<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SecretRef>, D::Error> {
    match SecretOrValue::deserialize(d)? {
        SecretOrValue::Ref(r) => Ok(Some(r)),
        SecretOrValue::Value(_) => Err(serde::de::Error::custom(
            "`metrics_token` must be a secret reference, `{ env = \"NAME\" }` or \
             `{ file = \"path\" }`, never the token itself",
        )),
    }
}

/// `[telemetry]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Base URL of an OTLP/HTTP collector, e.g. `http://127.0.0.1:4318`; spans are POSTed to
    /// `<otlp_endpoint>/v1/traces`. Absent: nothing is exported.
    pub otlp_endpoint: Option<String>,
    /// `service.name` of the exported resource. Default `portcullis`.
    pub service_name: Option<String>,
    /// How often the batch processor exports, in milliseconds. Default 5000.
    pub export_interval_ms: Option<u64>,
}
