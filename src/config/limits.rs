//! `[limits]`: the rate and session limits as written. Data only; the rates are parsed and
//! checked against the backend names by `crate::limits` (`LimitsConfig::compile`), in the
//! check pass.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use toml::Spanned;

/// `[limits]`. Every key is optional; an absent key means no limit on that dimension.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub global: Option<Spanned<RateSpec>>,
    pub per_backend: Option<Spanned<RateSpec>>,
    pub per_principal: Option<Spanned<RateSpec>>,
    pub per_principal_tool: Option<Spanned<RateSpec>>,
    pub max_sessions_per_principal: Option<Spanned<usize>>,
    /// `[limits.backend.<name>]`: overrides for one backend.
    #[serde(default)]
    pub backend: BTreeMap<String, Spanned<BackendLimits>>,
    /// `[limits.tool."<backend>/<original tool name>"]`: overrides for one tool.
    #[serde(default)]
    pub tool: BTreeMap<String, Spanned<ToolLimits>>,
}

/// `[limits.backend.<name>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendLimits {
    /// Replaces `limits.per_backend` for this backend.
    pub per_backend: Option<Spanned<RateSpec>>,
    /// Replaces `limits.per_principal_tool` for this backend's tools.
    pub per_principal_tool: Option<Spanned<RateSpec>>,
}

/// `[limits.tool."<backend>/<tool>"]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolLimits {
    /// Calls of this tool by one principal; replaces every `per_principal_tool` for it.
    pub per_principal: Option<Spanned<RateSpec>>,
}

/// A rate as written: `"100/min"` or `{ rate = "100/min", burst = 20 }`. Parsed by
/// [`RateSpec::parse`] during validation, so a bad rate is reported with its key and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateSpec {
    pub rate: String,
    pub burst: Option<u32>,
}

impl<'de> Deserialize<'de> for RateSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RateSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a rate such as \"100/min\" or a table { rate = \"100/min\", burst = 20 }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RateSpec, E> {
                Ok(RateSpec {
                    rate: v.to_owned(),
                    burst: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RateSpec, A::Error> {
                let mut rate = None;
                let mut burst = None;
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "rate" => rate = Some(map.next_value::<String>()?),
                        "burst" => burst = Some(map.next_value::<u32>()?),
                        other => return Err(de::Error::unknown_field(other, &["rate", "burst"])),
                    }
                }
                let rate = rate.ok_or_else(|| de::Error::missing_field("rate"))?;
                Ok(RateSpec { rate, burst })
            }
        }
        d.deserialize_any(V)
    }
}
