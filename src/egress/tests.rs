use std::net::IpAddr;
use std::sync::Arc;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn kind(s: &str) -> Option<Kind> {
    classify(ip(s)).map(|f| f.kind)
}

#[test]
fn ipv4_ranges_and_their_edges() {
    let cases = [
        ("0.0.0.0", Some(Kind::Unspecified)),
        ("0.1.2.3", Some(Kind::Reserved)),
        ("9.255.255.255", None),
        ("10.0.0.0", Some(Kind::Private)),
        ("10.255.255.255", Some(Kind::Private)),
        ("11.0.0.0", None),
        ("100.63.255.255", None),
        ("100.64.0.0", Some(Kind::Shared)),
        ("100.127.255.255", Some(Kind::Shared)),
        ("100.128.0.0", None),
        ("126.255.255.255", None),
        ("127.0.0.1", Some(Kind::Loopback)),
        ("127.255.255.254", Some(Kind::Loopback)),
        ("128.0.0.0", None),
        ("169.253.255.255", None),
        ("169.254.169.254", Some(Kind::LinkLocal)),
        ("169.255.0.0", None),
        ("172.15.255.255", None),
        ("172.16.0.0", Some(Kind::Private)),
        ("172.31.255.255", Some(Kind::Private)),
        ("172.32.0.0", None),
        ("192.0.0.8", Some(Kind::Reserved)),
        ("192.0.2.1", Some(Kind::Documentation)),
        ("192.0.3.1", None),
        ("192.88.99.1", Some(Kind::Reserved)),
        ("192.167.255.255", None),
        ("192.168.0.1", Some(Kind::Private)),
        ("192.169.0.0", None),
        ("198.17.255.255", None),
        ("198.18.0.0", Some(Kind::Reserved)),
        ("198.19.255.255", Some(Kind::Reserved)),
        ("198.20.0.0", None),
        ("198.51.100.7", Some(Kind::Documentation)),
        ("203.0.113.9", Some(Kind::Documentation)),
        ("223.255.255.255", None),
        ("224.0.0.1", Some(Kind::Multicast)),
        ("239.255.255.255", Some(Kind::Multicast)),
        ("240.0.0.1", Some(Kind::Reserved)),
        ("255.255.255.254", Some(Kind::Reserved)),
        ("255.255.255.255", Some(Kind::Broadcast)),
        ("1.1.1.1", None),
        ("8.8.8.8", None),
        ("93.184.216.34", None),
    ];
    for (addr, want) in cases {
        assert_eq!(kind(addr), want, "{addr}");
    }
}

#[test]
fn ipv6_ranges_and_their_edges() {
    let cases = [
        ("::", Some(Kind::Unspecified)),
        ("::1", Some(Kind::Loopback)),
        ("::2", Some(Kind::Reserved)),
        ("::7f00:1", Some(Kind::Reserved)),
        ("64:ff9b:1::1", Some(Kind::Private)),
        ("100::1", Some(Kind::Reserved)),
        ("2001:db8::1", Some(Kind::Documentation)),
        ("2001::1", Some(Kind::Reserved)),
        ("3fff:fff::1", Some(Kind::Documentation)),
        ("fbff:ffff::1", None),
        ("fc00::1", Some(Kind::UniqueLocal)),
        ("fdff:ffff::1", Some(Kind::UniqueLocal)),
        ("fe7f::1", None),
        ("fe80::1", Some(Kind::LinkLocal)),
        ("febf::1", Some(Kind::LinkLocal)),
        ("fec0::1", Some(Kind::Private)),
        ("ff02::1", Some(Kind::Multicast)),
        ("2606:4700:4700::1111", None),
        ("2a00:1450:4001::200e", None),
    ];
    for (addr, want) in cases {
        assert_eq!(kind(addr), want, "{addr}");
    }
}

#[test]
fn embedded_ipv4_is_judged_as_ipv4() {
    for (addr, v4, how, want) in [
        (
            "::ffff:127.0.0.1",
            "127.0.0.1",
            Embedding::Mapped,
            Kind::Loopback,
        ),
        (
            "::ffff:a9fe:a9fe",
            "169.254.169.254",
            Embedding::Mapped,
            Kind::LinkLocal,
        ),
        (
            "::ffff:10.1.2.3",
            "10.1.2.3",
            Embedding::Mapped,
            Kind::Private,
        ),
        (
            "64:ff9b::192.168.1.1",
            "192.168.1.1",
            Embedding::Nat64,
            Kind::Private,
        ),
        (
            "2002:7f00:1::",
            "127.0.0.1",
            Embedding::SixToFour,
            Kind::Loopback,
        ),
        (
            "2002:a9fe:a9fe::1",
            "169.254.169.254",
            Embedding::SixToFour,
            Kind::LinkLocal,
        ),
    ] {
        let f = classify(ip(addr)).unwrap_or_else(|| panic!("{addr} allowed"));
        assert_eq!(f.kind, want, "{addr}");
        assert_eq!(f.embedded, Some((how, v4.parse().unwrap())), "{addr}");
    }
    // Public addresses stay public in any of these forms.
    for addr in ["::ffff:8.8.8.8", "64:ff9b::1.1.1.1", "2002:0808:0808::1"] {
        assert_eq!(classify(ip(addr)), None, "{addr}");
    }
}

#[test]
fn messages_name_the_address_its_range_and_the_fix() {
    let f = classify(ip("169.254.169.254")).unwrap();
    assert_eq!(
        f.to_string(),
        "a link-local address (169.254.0.0/16, where cloud metadata services answer)"
    );
    let f = classify(ip("::ffff:10.0.0.5")).unwrap();
    assert_eq!(
        f.to_string(),
        "an IPv4-mapped form of 10.0.0.5, a private address (10.0.0.0/8)"
    );
    let e = Egress::default()
        .check_url("http://10.0.0.5/mcp")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "`http://10.0.0.5/mcp` resolves to 10.0.0.5, a private address (10.0.0.0/8);"
        ),
        "{e}"
    );
    assert!(
        e.ends_with("allow it with `[network] dangerous_allow_private = [\"10.0.0.5/32\"]`"),
        "{e}"
    );
    // The suggested allowance for a mapped address is its IPv4 form.
    let e = Egress::default()
        .check_url("http://[::ffff:127.0.0.1]:8080/")
        .unwrap_err()
        .to_string();
    assert!(e.contains("[\"127.0.0.1/32\"]"), "{e}");
}

#[test]
fn urls_are_checked_by_their_literal_host() {
    let g = Egress::default();
    for bad in [
        "http://127.0.0.1:8080/mcp",
        "http://[::1]/",
        "https://169.254.169.254/latest/meta-data/",
        "http://0x7f.1/",     // WHATWG parsing: 127.0.0.1
        "http://2130706433/", // 127.0.0.1 as one number
        "http://0/",          // 0.0.0.0
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00::1]/",
    ] {
        assert!(
            matches!(g.check_url(bad), Err(EgressError::Forbidden { .. })),
            "{bad} passed"
        );
    }
    for ok in [
        "https://example.com/mcp",
        "http://localhost:1/", // a name: checked when resolved
        "https://8.8.8.8/",
        "http://[2606:4700:4700::1111]/",
    ] {
        assert!(g.check_url(ok).is_ok(), "{ok} refused");
    }
    assert!(matches!(
        g.check_url("ftp://example.com/"),
        Err(EgressError::Scheme { .. })
    ));
    assert!(matches!(
        g.check_url("file:///etc/passwd"),
        Err(EgressError::Scheme { .. })
    ));
    assert!(matches!(
        g.check_url("not a url"),
        Err(EgressError::NotUrl { .. })
    ));
}

#[test]
fn the_allowlist_opens_exactly_its_networks() {
    let g = Egress::new(vec![
        parse_net("127.0.0.1/32").unwrap(),
        parse_net("::1").unwrap(),
        parse_net("10.1.2.3/16").unwrap(), // truncated to 10.1.0.0/16
    ]);
    assert!(g.check_ip(ip("127.0.0.1")).is_ok());
    assert!(g.check_ip(ip("::ffff:127.0.0.1")).is_ok());
    assert!(g.check_ip(ip("2002:7f00:1::1")).is_ok());
    assert!(g.check_ip(ip("::1")).is_ok());
    assert!(g.check_ip(ip("10.1.200.200")).is_ok());
    assert!(g.check_ip(ip("127.0.0.2")).is_err());
    assert!(g.check_ip(ip("10.2.0.1")).is_err());
    assert!(g.check_ip(ip("169.254.169.254")).is_err());
    assert!(g.check_ip(ip("8.8.8.8")).is_ok());
    assert_eq!(parse_net("nope"), None);
    assert_eq!(parse_net("10.0.0.0/33"), None);
}

#[tokio::test]
async fn resolution_refuses_the_whole_answer_if_one_address_is_forbidden() {
    let g = Arc::new(Egress::default());
    let e = g.resolve("localhost").await.unwrap_err().to_string();
    assert!(e.starts_with("`localhost` resolves to "), "{e}");
    assert!(e.contains("a loopback address"), "{e}");
    let g = Arc::new(Egress::new(vec![
        parse_net("127.0.0.0/8").unwrap(),
        parse_net("::1/128").unwrap(),
    ]));
    let addrs = g.resolve("localhost").await.unwrap();
    assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
}

#[test]
fn error_chains_keep_every_distinct_cause() {
    #[derive(Debug)]
    struct E(&'static str, Option<Box<E>>);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for E {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }
    let e = E(
        "outer",
        Some(Box::new(E("dns error", Some(Box::new(E("refused", None)))))),
    );
    assert_eq!(error_chain(&e), "outer: dns error: refused");
}
