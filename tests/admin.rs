//! The admin listener (`/metrics`, `/healthz`, `/readyz`) against DNS rebinding and
//! unauthenticated scraping, through the real binary (issue 15, finding 9).
//!
//! A web page whose name an attacker rebinds to 127.0.0.1 reaches a loopback admin listener
//! with its own name in `Host` (and a foreign `Origin` when it uses `fetch`): both are refused
//! with 403, as on the MCP listener. An IP literal in `Host` cannot be rebound and is accepted,
//! so probes and scrapers that address the listener by IP keep working. `/metrics` may also
//! require a bearer token (`[admin] metrics_token`, a secret reference); `/healthz` and
//! `/readyz` never do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::*;

fn admin_addr(gw: &Gateway) -> String {
    gw.proc
        .wait_for_line("portcullis admin on", Duration::from_secs(10))
        .split_whitespace()
        .nth(3)
        .unwrap()
        .trim_start_matches("http://")
        .to_owned()
}

/// GET `path` on `addr` with these exact `Host` and extra header lines.
fn get(addr: &str, path: &str, host: Option<&str>, extra: &[(&str, &str)]) -> Resp {
    let mut req = format!("GET {path} HTTP/1.1\r\n");
    if let Some(h) = host {
        req.push_str(&format!("Host: {h}\r\n"));
    }
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("Connection: close\r\n\r\n");
    let (status, headers, body) = raw_http(addr, req.as_bytes());
    Resp {
        status,
        headers,
        body,
    }
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn gateway(admin: &str) -> (Gateway, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("metrics.token"), "s3cret-scrape-token\n").unwrap();
    let gw = start_gateway_in(&format!("{ANON}\n[admin]\n{admin}\n"), dir);
    let addr = admin_addr(&gw);
    (gw, addr)
}

#[test]
fn the_admin_listener_refuses_foreign_hosts_and_origins_and_guards_metrics_with_a_token() {
    let (gw, admin) = gateway(
        "address = \"127.0.0.1:0\"\nmetrics_token = { file = \"metrics.token\" }\n\
         allowed_hosts = [\"metrics.internal\"]",
    );
    let port = admin.rsplit(':').next().unwrap();
    let token = ("Authorization", "Bearer s3cret-scrape-token");

    // A rebound name, with and without a port, on every path: 403 naming the host and the key.
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_owned(),
        format!("127.0.0.1.evil.example:{port}"),
    ] {
        for path in ["/metrics", "/healthz", "/readyz"] {
            let r = get(&admin, path, Some(&host), &[token]);
            assert_eq!(r.status, 403, "{host} {path}: {r:?}");
            assert!(
                r.body.contains(&format!("host `{host}`"))
                    && r.body.contains("admin.allowed_hosts"),
                "{r:?}"
            );
        }
    }
    // No Host at all is not a request for this listener either.
    let r = get(&admin, "/healthz", None, &[]);
    assert_eq!(r.status, 403, "{r:?}");

    // A page's `fetch` carries its origin: a foreign one is refused even with a good Host.
    for origin in [
        "http://evil.example",
        "null",
        "http://127.0.0.1.evil.example",
    ] {
        let r = get(
            &admin,
            "/metrics",
            Some(&format!("127.0.0.1:{port}")),
            &[("Origin", origin), token],
        );
        assert_eq!(r.status, 403, "{origin}: {r:?}");
        assert!(r.body.contains(&format!("origin `{origin}`")), "{r:?}");
    }

    // Probes with a proper Host: any IP literal (it cannot be rebound) and the configured
    // name, which replaces the loopback names (as `listen.allowed_hosts` does). No token
    // needed for health.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "10.1.2.3:9090".to_owned(),
        "metrics.internal:9090".to_owned(),
        "METRICS.internal".to_owned(),
    ] {
        let r = get(&admin, "/healthz", Some(&host), &[]);
        assert_eq!((r.status, r.body.as_str()), (200, "ok"), "{host}: {r:?}");
        let r = get(&admin, "/readyz", Some(&host), &[]);
        assert_eq!(r.status, 200, "{host}: {r:?}");
    }

    let r = get(&admin, "/healthz", Some(&format!("localhost:{port}")), &[]);
    assert_eq!(r.status, 403, "{r:?}");

    // `/metrics` needs the token: none, another scheme, a wrong one, a prefix of the right one.
    let host = format!("127.0.0.1:{port}");
    for auth in [
        None,
        Some("Basic czNjcmV0LXNjcmFwZS10b2tlbg=="),
        Some("Bearer wrong"),
        Some("Bearer s3cret-scrape"),
        Some("Bearer s3cret-scrape-token-and-more"),
    ] {
        let extra: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        let r = get(&admin, "/metrics", Some(&host), &extra);
        assert_eq!(r.status, 401, "{auth:?}: {r:?}");
        let challenge = r.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer"), "{auth:?}: {r:?}");
        assert!(r.body.contains("metrics_token"), "{r:?}");
        assert!(!r.body.contains("portcullis_"), "metrics leaked: {r:?}");
    }
    let r = get(&admin, "/metrics", Some(&host), &[token]);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("portcullis_"), "{r:?}");
    // The scheme is case-insensitive (RFC 9110 §11.1).
    let r = get(
        &admin,
        "/metrics",
        Some(&host),
        &[("Authorization", "bearer s3cret-scrape-token")],
    );
    assert_eq!(r.status, 200, "{r:?}");

    // After all of that, the MCP listener and the admin listener both still serve.
    let r = get(&admin, "/healthz", Some(&host), &[]);
    assert_eq!(r.status, 200, "{r:?}");
    let mcp = get(
        &gw.addr,
        "/.well-known/oauth-protected-resource",
        Some(&gw.addr),
        &[],
    );
    assert_eq!(mcp.status, 200, "{mcp:?}");
}

#[test]
fn without_a_token_metrics_are_open_to_a_proper_host_only() {
    let (_gw, admin) = gateway("address = \"127.0.0.1:0\"");
    let port = admin.rsplit(':').next().unwrap();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "LocalHost".into(),
    ] {
        let r = get(&admin, "/metrics", Some(&host), &[]);
        assert_eq!(r.status, 200, "{host}: {r:?}");
        assert!(r.body.contains("portcullis_"), "{r:?}");
    }
    // A page served by another local port is a foreign origin only if its host is foreign.
    let r = get(
        &admin,
        "/metrics",
        Some(&format!("127.0.0.1:{port}")),
        &[("Origin", "http://localhost:3000")],
    );
    assert_eq!(r.status, 200, "{r:?}");
    // On loopback, without `allowed_hosts`: loopback names and IP literals only.
    let r = get(&admin, "/metrics", Some("metrics.internal"), &[]);
    assert_eq!(r.status, 403, "{r:?}");
    let r = get(
        &admin,
        "/metrics",
        Some(&format!("attacker.example:{port}")),
        &[],
    );
    assert_eq!(r.status, 403, "{r:?}");
}

#[test]
fn a_literal_metrics_token_is_a_config_error_and_a_missing_secret_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portcullis.toml");
    write(
        &path,
        &format!("{ANON}\n[admin]\naddress = \"127.0.0.1:0\"\nmetrics_token = \"in-the-file\"\n"),
    );
    let (ok, out, err) = check_config(&path);
    assert!(!ok, "{out}{err}");
    assert!(
        err.contains("metrics_token") && err.contains("{ env = "),
        "{err}"
    );

    // A reference to a variable that is not set: `serve` refuses to start, naming it.
    write(
        &path,
        &format!(
            "{ANON}\n[admin]\naddress = \"127.0.0.1:0\"\n\
             metrics_token = {{ env = \"PORTCULLIS_TEST_UNSET_METRICS_TOKEN\" }}\n"
        ),
    );
    let mut cmd = std::process::Command::new(portcullis_bin());
    cmd.args(["serve", "--config"])
        .arg(&path)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("PORTCULLIS_TEST_UNSET_METRICS_TOKEN");
    let mut p = Proc::spawn(cmd);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = p.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve started without its metrics token: {}",
            p.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    // The reader threads may still be copying the last lines.
    std::thread::sleep(Duration::from_millis(200));
    let err = p.stderr();
    assert!(
        err.contains("PORTCULLIS_TEST_UNSET_METRICS_TOKEN") && err.contains("metrics_token"),
        "{err}"
    );
}
