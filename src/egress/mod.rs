//! Where the gateway itself may connect: the SSRF guard for every outbound HTTP request.
//!
//! Backend URLs, JWKS and discovery URLs, token endpoints and webhooks are all reached through a
//! client built here. Such a client refuses to connect to an address that is not globally
//! routable — private, loopback, link-local (cloud metadata services live at 169.254.169.254),
//! unique-local, shared (CGNAT), unspecified, broadcast, multicast, documentation or otherwise
//! reserved, and the IPv4-mapped, -compatible, NAT64 and 6to4 forms of those — unless the
//! operator lists it under `[network] dangerous_allow_private` (CIDRs, not a switch: allowing
//! `127.0.0.1/32` for a sidecar does not open `169.254.169.254`).
//!
//! The check happens where it cannot be raced:
//! * host names are resolved by [`GuardedResolver`], which refuses the whole answer when any
//!   address in it is forbidden, and hands the connector only the addresses it checked — a DNS
//!   rebinding answer never reaches a socket;
//! * IP-literal URLs never reach a resolver, so they are checked before any request
//!   ([`Egress::check_url`]; config validation does it for every configured URL, with the
//!   file, line and key);
//! * redirects are not followed by any client the gateway builds (MCP backends, token endpoints
//!   and JWKS documents have no business redirecting); [`Egress::redirect_policy`] is there for
//!   a caller that must follow them, and checks each hop the same way;
//! * proxies from the environment are ignored: a proxy resolves names itself, out of our sight.
//!
//! For another module that needs an outbound client (e.g. a webhook):
//! ```no_run
//! # fn f(network: &portcullis::egress::NetworkConfig) -> Result<(), Box<dyn std::error::Error>> {
//! let egress = portcullis::egress::Egress::from_config(network); // `[network]`
//! let client = egress.client_builder().timeout(std::time::Duration::from_secs(5)).build()?;
//! let url = egress.check_url("https://hooks.example.com/portcullis")?; // before every request
//! # let _ = (client, url); Ok(()) }
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

pub use crate::config::network::NetworkConfig;
use crate::config::{BackendAuth, Config};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Unspecified,
    Loopback,
    Private,
    Shared,
    LinkLocal,
    UniqueLocal,
    Multicast,
    Broadcast,
    Documentation,
    Reserved,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Unspecified => "the unspecified address",
            Kind::Loopback => "a loopback address",
            Kind::Private => "a private address",
            Kind::Shared => "a shared (carrier-grade NAT) address",
            Kind::LinkLocal => "a link-local address",
            Kind::UniqueLocal => "a unique-local address",
            Kind::Multicast => "a multicast address",
            Kind::Broadcast => "the broadcast address",
            Kind::Documentation => "a documentation address",
            Kind::Reserved => "a reserved address",
        }
    }
}

/// How an IPv6 address carries an IPv4 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embedding {
    /// `::ffff:a.b.c.d`
    Mapped,
    /// `64:ff9b::a.b.c.d` (RFC 6052 well-known prefix)
    Nat64,
    /// `2002:aabb:ccdd::/48`
    SixToFour,
}

impl Embedding {
    fn describe(self) -> &'static str {
        match self {
            Embedding::Mapped => "an IPv4-mapped form",
            Embedding::Nat64 => "a NAT64 form",
            Embedding::SixToFour => "a 6to4 form",
        }
    }
}

/// A forbidden address: what kind, the range it falls in, and the IPv4 address it embeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forbidden {
    pub kind: Kind,
    pub range: &'static str,
    pub embedded: Option<(Embedding, Ipv4Addr)>,
}

impl std::fmt::Display for Forbidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some((how, v4)) = self.embedded {
            write!(f, "{} of {v4}, ", how.describe())?;
        }
        write!(f, "{} ({}", self.kind.describe(), self.range)?;
        if self.range == "169.254.0.0/16" {
            f.write_str(", where cloud metadata services answer")?;
        }
        f.write_str(")")
    }
}

const V4: &[([u8; 4], u8, Kind, &str)] = &[
    ([0, 0, 0, 0], 32, Kind::Unspecified, "0.0.0.0/32"),
    ([0, 0, 0, 0], 8, Kind::Reserved, "0.0.0.0/8"),
    ([10, 0, 0, 0], 8, Kind::Private, "10.0.0.0/8"),
    ([100, 64, 0, 0], 10, Kind::Shared, "100.64.0.0/10"),
    ([127, 0, 0, 0], 8, Kind::Loopback, "127.0.0.0/8"),
    ([169, 254, 0, 0], 16, Kind::LinkLocal, "169.254.0.0/16"),
    ([172, 16, 0, 0], 12, Kind::Private, "172.16.0.0/12"),
    ([192, 0, 0, 0], 24, Kind::Reserved, "192.0.0.0/24"),
    ([192, 0, 2, 0], 24, Kind::Documentation, "192.0.2.0/24"),
    ([192, 88, 99, 0], 24, Kind::Reserved, "192.88.99.0/24"),
    ([192, 168, 0, 0], 16, Kind::Private, "192.168.0.0/16"),
    ([198, 18, 0, 0], 15, Kind::Reserved, "198.18.0.0/15"),
    (
        [198, 51, 100, 0],
        24,
        Kind::Documentation,
        "198.51.100.0/24",
    ),
    ([203, 0, 113, 0], 24, Kind::Documentation, "203.0.113.0/24"),
    ([224, 0, 0, 0], 4, Kind::Multicast, "224.0.0.0/4"),
    (
        [255, 255, 255, 255],
        32,
        Kind::Broadcast,
        "255.255.255.255/32",
    ),
    ([240, 0, 0, 0], 4, Kind::Reserved, "240.0.0.0/4"),
];

/// IPv6 ranges that embed no IPv4 address (those are handled in [`classify_v6`]).
const V6: &[(u128, u8, Kind, &str)] = &[
    (0, 128, Kind::Unspecified, "::/128"),
    (1, 128, Kind::Loopback, "::1/128"),
    // IPv4-compatible addresses (deprecated by RFC 4291): nothing legitimate uses them.
    (0, 96, Kind::Reserved, "::/96"),
    (0x0064_ff9b_0001 << 80, 48, Kind::Private, "64:ff9b:1::/48"),
    (0x0100 << 112, 64, Kind::Reserved, "100::/64"),
    (0x2001_0db8 << 96, 32, Kind::Documentation, "2001:db8::/32"),
    // Teredo: the tunnel endpoint is not the address it looks like.
    (0x2001_0000 << 96, 32, Kind::Reserved, "2001::/32"),
    (0x3fff << 112, 20, Kind::Documentation, "3fff::/20"),
    (0xfc00 << 112, 7, Kind::UniqueLocal, "fc00::/7"),
    (0xfe80 << 112, 10, Kind::LinkLocal, "fe80::/10"),
    (0xfec0 << 112, 10, Kind::Private, "fec0::/10"),
    (0xff00 << 112, 8, Kind::Multicast, "ff00::/8"),
];

fn prefix_match(addr: u128, net: u128, len: u8, bits: u32) -> bool {
    let len = u32::from(len);
    if len == 0 {
        return true;
    }
    let shift = bits - len;
    (addr >> shift) == (net >> shift)
}

fn classify_v4(ip: Ipv4Addr) -> Option<Forbidden> {
    let a = u128::from(u32::from(ip));
    V4.iter()
        .find(|(net, len, _, _)| prefix_match(a, u128::from(u32::from_be_bytes(*net)), *len, 32))
        .map(|(_, _, kind, range)| Forbidden {
            kind: *kind,
            range,
            embedded: None,
        })
}

fn classify_v6(ip: Ipv6Addr) -> Option<Forbidden> {
    let a = u128::from(ip);
    let embedded = |how: Embedding, v4: Ipv4Addr| {
        classify_v4(v4).map(|f| Forbidden {
            embedded: Some((how, v4)),
            ..f
        })
    };
    // The low 32 bits, as an IPv4 address (truncation intended).
    let low = Ipv4Addr::from((a & 0xffff_ffff) as u32);
    if prefix_match(a, 0xffff << 32, 96, 128) {
        return embedded(Embedding::Mapped, low);
    }
    if prefix_match(a, 0x0064_ff9b << 96, 96, 128) {
        return embedded(Embedding::Nat64, low);
    }
    if prefix_match(a, 0x2002 << 112, 16, 128) {
        return embedded(
            Embedding::SixToFour,
            Ipv4Addr::from(((a >> 80) & 0xffff_ffff) as u32),
        );
    }
    V6.iter()
        .find(|(net, len, _, _)| prefix_match(a, *net, *len, 128))
        .map(|(_, _, kind, range)| Forbidden {
            kind: *kind,
            range,
            embedded: None,
        })
}

/// Whether `ip` is refused by default, and why. `None`: a public (globally routable) address.
pub fn classify(ip: IpAddr) -> Option<Forbidden> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum EgressError {
    #[error("`{url}` is not a URL: {reason}")]
    NotUrl { url: String, reason: String },
    #[error("`{url}` must be an http or https URL")]
    Scheme { url: String },
    #[error("`{url}` has no host")]
    NoHost { url: String },
    #[error(
        "`{target}` resolves to {addr}, {why}; the gateway does not connect to non-public \
         addresses (SSRF guard): allow it with `[network] dangerous_allow_private = [\"{allow}\"]`"
    )]
    Forbidden {
        target: String,
        addr: IpAddr,
        why: Forbidden,
        allow: String,
    },
    #[error("`{host}` resolves to no address")]
    NoAddress { host: String },
    #[error("cannot resolve `{host}`: {reason}")]
    Resolve { host: String, reason: String },
}

/// The outbound address policy of one gateway.
#[derive(Debug, Clone, Default)]
pub struct Egress {
    allow: Vec<IpNet>,
}

/// Parse one `dangerous_allow_private` entry: a CIDR, or a bare address meaning that host.
pub fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>()
        .map(|n| n.trunc())
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

fn host_net(ip: IpAddr) -> String {
    let ip = ip.to_canonical();
    match ip {
        IpAddr::V4(_) => format!("{ip}/32"),
        IpAddr::V6(_) => format!("{ip}/128"),
    }
}

impl Egress {
    pub fn new(allow: Vec<IpNet>) -> Egress {
        Egress { allow }
    }

    /// The policy of `[network]`. Entries that do not parse are skipped here: validation has
    /// refused them already (`check_config`).
    pub fn from_config(network: &NetworkConfig) -> Arc<Egress> {
        Arc::new(Egress::new(
            network
                .dangerous_allow_private
                .iter()
                .filter_map(|s| parse_net(s.get_ref()))
                .collect(),
        ))
    }

    /// `Ok` when the gateway may connect to `ip`.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Forbidden> {
        let Some(why) = classify(ip) else {
            return Ok(());
        };
        let canonical = ip.to_canonical();
        let embedded = why.embedded.map(|(_, v4)| IpAddr::V4(v4));
        let allowed = self.allow.iter().any(|n| {
            n.contains(&ip) || n.contains(&canonical) || embedded.is_some_and(|e| n.contains(&e))
        });
        if allowed { Ok(()) } else { Err(why) }
    }

    fn refuse(target: &str, addr: IpAddr, why: Forbidden) -> EgressError {
        EgressError::Forbidden {
            target: target.to_owned(),
            addr,
            why,
            allow: host_net(addr),
        }
    }

    /// Parse `url`, require http(s), and check its host when it is an IP literal (a host name
    /// is checked when it is resolved, by the client's resolver). Call before every request
    /// to a URL that did not come from the validated config.
    pub fn check_url(&self, url: &str) -> Result<url::Url, EgressError> {
        let parsed = url::Url::parse(url).map_err(|e| EgressError::NotUrl {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
        self.check_parsed(&parsed)?;
        Ok(parsed)
    }

    pub fn check_parsed(&self, url: &url::Url) -> Result<(), EgressError> {
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(EgressError::Scheme {
                url: url.to_string(),
            });
        }
        let ip = match url.host() {
            None => {
                return Err(EgressError::NoHost {
                    url: url.to_string(),
                });
            }
            Some(url::Host::Domain(_)) => return Ok(()),
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        };
        self.check_ip(ip)
            .map_err(|why| Self::refuse(url.as_str(), ip, why))
    }

    /// A client builder whose every connection is checked: the guarded resolver, no proxy, no
    /// redirects. Add timeouts and TLS roots; do not replace the resolver, proxy or redirect
    /// policy (use [`Egress::redirect_policy`] if redirects must be followed).
    pub fn client_builder(self: &Arc<Self>) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .dns_resolver(GuardedResolver {
                egress: self.clone(),
            })
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
    }

    /// Follow at most `max` redirects, each to an http(s) URL whose literal host passes the
    /// guard (host names go through the guarded resolver like any other connection).
    pub fn redirect_policy(self: &Arc<Self>, max: usize) -> reqwest::redirect::Policy {
        let egress = self.clone();
        reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max {
                let e = format!("more than {max} redirects");
                return attempt.error(e);
            }
            match egress.check_parsed(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        })
    }

    /// Resolve `host` and check every address: all must be allowed, or none is returned. A
    /// name whose answer mixes public and forbidden addresses is the shape of DNS rebinding.
    pub async fn resolve(&self, host: &str) -> Result<Vec<SocketAddr>, EgressError> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
            .await
            .map_err(|e| EgressError::Resolve {
                host: host.to_owned(),
                reason: e.to_string(),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(EgressError::NoAddress {
                host: host.to_owned(),
            });
        }
        for a in &addrs {
            self.check_ip(a.ip())
                .map_err(|why| Self::refuse(host, a.ip(), why))?;
        }
        Ok(addrs)
    }
}

/// The resolver of every guarded client (see the module docs).
struct GuardedResolver {
    egress: Arc<Egress>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let egress = self.egress.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = egress.resolve(&host).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An error with its sources, `: `-separated: reqwest's own message names only the URL, the
/// reason (e.g. the guard's refusal) is further down the chain.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let text = inner.to_string();
        if !s.ends_with(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        src = inner.source();
    }
    s
}

/// Config validation: every allowlist entry parses, and every configured URL whose host is an
/// IP literal passes the guard. Returns (key, offset, message) like the other sections.
pub fn check_config(cfg: &Config) -> Result<(), (String, usize, String)> {
    for entry in &cfg.network.dangerous_allow_private {
        if parse_net(entry.get_ref()).is_none() {
            return Err((
                "network.dangerous_allow_private".into(),
                entry.span().start,
                format!(
                    "`{}` is not an IP network; write a CIDR such as `127.0.0.1/32` or `::1/128`",
                    entry.get_ref()
                ),
            ));
        }
    }
    let egress = Egress::from_config(&cfg.network);
    for (i, b) in cfg.backends.iter().enumerate() {
        let be = b.get_ref();
        let at = b.span().start;
        if let Some(u) = &be.url {
            egress.check_url(u).map_err(|e| {
                (
                    format!("backend[{i}].url"),
                    at,
                    format!("backend `{}`: {e}", be.name),
                )
            })?;
        }
        if let BackendAuth::TokenExchange(c) | BackendAuth::ClientCredentials(c) = &be.auth {
            egress.check_url(&c.token_endpoint).map_err(|e| {
                (
                    format!("backend[{i}].auth.token_endpoint"),
                    at,
                    format!("token endpoint of backend `{}`: {e}", be.name),
                )
            })?;
        }
    }
    if let Some(auth) = &cfg.auth {
        let at = auth.span().start;
        for (i, iss) in auth.get_ref().issuers.iter().enumerate() {
            if let Some(u) = &iss.jwks_url {
                egress.check_url(u).map_err(|e| {
                    (
                        format!("auth.issuers[{i}].jwks_url"),
                        at,
                        format!("JWKS of issuer `{}`: {e}", iss.issuer),
                    )
                })?;
            } else if iss.jwks_file.is_none() && iss.dev_key_file.is_none() {
                // Keys come from discovery at the issuer's own URL.
                egress.check_url(&iss.issuer).map_err(|e| {
                    (
                        format!("auth.issuers[{i}].issuer"),
                        at,
                        format!("discovery of issuer `{}`: {e}", iss.issuer),
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// One line per allowed network, for `portcullis check`.
pub fn warnings(cfg: &Config) -> Vec<String> {
    let nets: Vec<&str> = cfg
        .network
        .dangerous_allow_private
        .iter()
        .map(|s| s.get_ref().as_str())
        .collect();
    if nets.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "network.dangerous_allow_private = [{}]: the gateway connects to these non-public addresses (backends, token endpoints, JWKS) when a URL or DNS answer points there",
        nets.iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    )]
}

#[cfg(test)]
mod tests;
