//! The operator's commands through the real binary: `portcullis check` validates and reports but
//! never writes (no lockfile, no seen catalogs, no audit trail), reports a backend that only
//! accepts per-caller tokens as "not probed without a caller" while still checking its token
//! endpoint (against a real OpenID Provider, `tests/oidc/provider.mjs`) through the SSRF guard;
//! `portcullis dev-cert` writes its private key readable by its owner only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::Value;

/// Every file under `dir` (relative path → bytes).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn demo(name: &str) -> String {
    format!(
        "\n[[backend]]\nname = \"{name}\"\ncommand = [\"{}\", \"demo-server\"]\n",
        portcullis_bin().display()
    )
}

/// Issue 16 item 4: under `trust_on_first_use` (ANON's integrity setting), `check` probes every
/// backend but pins nothing: the lockfile stays absent when absent and byte-identical when
/// present, and nothing else is written either (no seen catalogs, no audit trail).
#[test]
fn check_never_writes_the_lockfile() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("portcullis.toml");
    let audit = "\n[audit]\nfile = \"audit.jsonl\"\n";
    write(&cfg, &format!("{ANON}{audit}{}", demo("demo")));
    let before = snapshot(dir.path());
    let (ok, out, err) = check_config(&cfg);
    assert!(ok, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("backend `demo`: up"), "{out}");
    assert_eq!(
        snapshot(dir.path()).keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "check created files"
    );

    // A lockfile pinning `demo`; a second backend is new, and TOFU would pin it at `serve`.
    let init = Command::new(portcullis_bin())
        .args(["pins", "init", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(init.status.success(), "{init:?}");
    let lock = dir.path().join("portcullis.lock");
    assert!(lock.exists());
    write(
        &cfg,
        &format!("{ANON}{audit}{}{}", demo("demo"), demo("other")),
    );
    let before = snapshot(dir.path());
    let (ok, out, err) = check_config(&cfg);
    assert!(ok, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("backend `other`: up"), "{out}");
    assert_eq!(snapshot(dir.path()), before, "check changed files");
    // It says what `serve` would do with the new items instead.
    assert!(
        out.contains("backend `other`: pins: ") && out.contains("pinned on first use"),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// Per-caller backends (issue 16 item 7).

/// The real OpenID Provider; returns it and its token endpoint.
fn start_idp() -> (Proc, String, tempfile::TempDir) {
    let d = deps();
    let keys = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(&d.node22);
    cmd.arg(d.root.join("tests/oidc/provider.mjs"))
        .args(["--port", "0", "--keys"])
        .arg(keys.path())
        .env("PORTCULLIS_NODE_MODULES", &d.node_modules);
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("issuer ", Duration::from_secs(60));
    let issuer = line.trim_start_matches("issuer ").trim().to_owned();
    let addr = issuer.trim_start_matches("http://").to_owned();
    let (status, _, body) = raw_http(
        &addr,
        format!(
            "GET /.well-known/openid-configuration HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(status, 200, "IdP discovery: {body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    let token_endpoint = doc["token_endpoint"].as_str().unwrap().to_owned();
    (proc, token_endpoint, keys)
}

/// A backend `gh` at `host` whose credentials are exchanged per caller at `token_endpoint`
/// (never contacted: it cannot be probed without a caller).
fn exchange_backend(token_endpoint: &str, host: &str) -> String {
    format!(
        "\n[[backend]]\nname = \"gh\"\nurl = \"http://{host}:9/mcp\"\n\
         auth = {{ type = \"token_exchange\", token_endpoint = \"{token_endpoint}\", \
         client_id = \"portcullis\", client_secret = \"portcullis-secret\", audience = \"gh\" }}\n"
    )
}

fn line_of<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{out}"))
}

#[test]
fn check_accepts_per_caller_backends_and_checks_their_token_endpoint() {
    let (_idp, token_endpoint, _keys) = start_idp();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("portcullis.toml");

    // A valid config: the backend cannot be listed without a caller, which is not a failure.
    write(
        &cfg,
        &format!(
            "{ANON}{}{}\n[[backend]]\nname = \"pass\"\nurl = \"http://127.0.0.1:9/mcp\"\ndangerous_passthrough = true\n",
            demo("demo"),
            exchange_backend(&token_endpoint, "127.0.0.1")
        ),
    );
    let (ok, out, err) = check_config(&cfg);
    assert!(ok, "stdout:\n{out}\nstderr:\n{err}");
    let gh = line_of(&out, "backend `gh`: ");
    assert!(gh.contains("not probed without a caller"), "{gh}");
    assert!(
        gh.contains(&format!("token endpoint `{token_endpoint}` answers")),
        "{gh}"
    );
    assert!(!out.contains("DOWN"), "{out}");
    let pass = line_of(&out, "backend `pass`: ");
    assert!(pass.contains("not probed without a caller"), "{pass}");

    // A token endpoint nobody answers at is a failure, named.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead = format!("http://127.0.0.1:{closed}/token");
    write(
        &cfg,
        &format!(
            "{ANON}{}{}",
            demo("demo"),
            exchange_backend(&dead, "127.0.0.1")
        ),
    );
    let (ok, out, _) = check_config(&cfg);
    assert!(!ok, "{out}");
    let gh = line_of(&out, "backend `gh`: DOWN");
    assert!(gh.contains(&format!("token endpoint `{dead}`")), "{gh}");
    assert!(gh.contains("unreachable"), "{gh}");

    // The SSRF guard applies: a name that resolves to loopback is refused when loopback is not
    // allowed, and nothing is sent.
    let by_name = token_endpoint.replace("127.0.0.1", "localhost");
    let prelude = ANON.replace(
        "dangerous_allow_private = [\"127.0.0.1/32\", \"::1/128\"]",
        "dangerous_allow_private = [\"127.0.0.2/32\"]",
    );
    assert_ne!(prelude, ANON, "ANON changed: adjust this test");
    write(
        &cfg,
        &format!(
            "{prelude}{}{}",
            demo("demo"),
            exchange_backend(&by_name, "127.0.0.2")
        ),
    );
    let (ok, out, err) = check_config(&cfg);
    assert!(!ok, "{out}");
    assert!(!out.is_empty(), "{err}");
    let gh = line_of(&out, "backend `gh`: DOWN");
    assert!(gh.contains("`localhost` resolves to "), "{gh}");
    assert!(gh.contains("loopback"), "{gh}");
}

// ---------------------------------------------------------------------------------------------
// dev-cert (issue 15 item 14).

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn dev_cert_writes_its_key_for_its_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let run = || {
        let o = Command::new(portcullis_bin())
            .arg("dev-cert")
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
    };
    run();
    let key = out.join("dev.key");
    assert_eq!(mode(&key), 0o600, "a fresh key");
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("PRIVATE KEY")
    );
    // A key left readable by an older version is replaced by one only its owner can read.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    run();
    assert_eq!(mode(&key), 0o600, "a replaced key");
    // The certificate is public.
    assert_eq!(mode(&out.join("dev.crt")) & 0o044, 0o044);
}

/// `serve --advertise-url` overrides `cluster.advertise_url` (one config for every replica):
/// refused without `[cluster]`, and a URL that is not a scheme, host and port is refused by
/// name, before anything starts.
#[test]
fn serve_refuses_an_advertised_address_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.toml");
    std::fs::write(
        &plain,
        "[listen]\naddress = \"127.0.0.1:0\"\n[auth]\nmode = \"anonymous\"\n\
         dangerous_allow_anonymous = true\n",
    )
    .unwrap();
    let run = |cfg: &Path, url: &str| {
        let o = Command::new(portcullis_bin())
            .args(["serve", "--config"])
            .arg(cfg)
            .args(["--advertise-url", url])
            .output()
            .unwrap();
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let err = run(&plain, "http://10.0.0.1:8443");
    assert!(err.contains("the config has no `[cluster]`"), "{err}");
    let clustered = dir.path().join("clustered.toml");
    std::fs::write(
        &clustered,
        "[listen]\naddress = \"127.0.0.1:0\"\n[auth]\nmode = \"anonymous\"\n\
         dangerous_allow_anonymous = true\n[cluster]\nredis = { url = \"redis://127.0.0.1:9\" }\n",
    )
    .unwrap();
    let err = run(&clustered, "https://gw-1:8443/mcp");
    assert!(
        err.contains("--advertise-url") && err.contains("only a scheme, a host and a port"),
        "{err}"
    );
}
