//! `[network]` as written: what outbound connections may reach besides public addresses. Data
//! only; `crate::egress` checks every backend address against it in the check pass and at
//! connect time.

use serde::Deserialize;
use toml::Spanned;

/// `[network]`: what outbound connections may reach.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Networks (CIDR, or a bare address for one host) that outbound connections may reach
    /// although they are not public: e.g. `["127.0.0.1/32", "::1/128"]` for backends on the
    /// same host. Everything in these networks becomes reachable by anyone who can make the
    /// gateway connect somewhere (a config author, a DNS answer, a discovery document).
    #[serde(default)]
    pub dangerous_allow_private: Vec<Spanned<String>>,
}
