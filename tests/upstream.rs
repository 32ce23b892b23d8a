//! Backends as the gateway reaches them: HTTPS with a custom CA (a second gateway with a dev
//! certificate serves as the TLS backend), stdio children with an explicit environment and
//! working directory, stderr captured to the gateway's logs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::json;

fn demo_backend(name: &str, extra: &str) -> String {
    format!(
        "\n[[backend]]\nname = \"{name}\"\ncommand = [\"{}\", \"demo-server\"]\n{extra}\n",
        portcullis_bin().display()
    )
}

#[test]
fn https_backend_with_custom_ca() {
    // Gateway A: TLS with a self-signed dev certificate, fronting the demo server.
    let a_dir = tempfile::tempdir().unwrap();
    let out = Command::new(portcullis_bin())
        .args(["dev-cert", "--out"])
        .arg(a_dir.path())
        .args(["--name", "localhost", "--name", "127.0.0.1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cert = a_dir.path().join("dev.crt");
    let a_config = format!(
        "{}\n[listen.tls]\ncert = \"dev.crt\"\nkey = \"dev.key\"\n{}",
        ANON,
        demo_backend("demo", "")
    );
    let a = start_gateway_in(&a_config, a_dir);
    assert!(a.url.starts_with("https://"), "{}", a.url);

    // Gateway B: plain loopback, with A as an HTTPS backend trusted through `ca`.
    let b_with_ca = format!(
        "{ANON}\n[naming]\nstrategy = \"priority\"\n[[backend]]\nname = \"upstream\"\nurl = \"{}\"\nca = \"{}\"\n",
        a.url,
        cert.display()
    );
    let b = start_gateway(&b_with_ca);
    let run = python_client(
        &b.url,
        &json!([
            {"op": "list_tools"},
            {"op": "call_tool", "name": "demo__echo", "arguments": {"message": "through two gateways over TLS"}},
        ]),
        &[],
    );
    let s = steps(&run);
    assert!(s[0]["ok"].as_bool().unwrap(), "{}", s[0]);
    assert_eq!(
        s[1]["result"]["content"][0]["text"], "through two gateways over TLS",
        "{}",
        s[1]
    );

    // Without the CA the backend's certificate is not trusted: the backend is unavailable and
    // calls say so, naming it.
    let b_without =
        start_gateway(&b_with_ca.replace(&format!("ca = \"{}\"\n", cert.display()), ""));
    let run = python_client(
        &b_without.url,
        &json!([{"op": "call_tool", "name": "demo__echo", "arguments": {"message": "x"}}]),
        &[],
    );
    let s = steps(&run);
    assert_eq!(s[0]["ok"], false, "{}", s[0]);
    let msg = s[0]["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("unknown tool") || msg.contains("`upstream`"),
        "{msg}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        b_without.proc.stderr().contains("certificate")
            || b_without.proc.stderr().contains("UnknownIssuer"),
        "the TLS failure is logged: {}",
        b_without.proc.stderr()
    );
}

#[test]
fn stdio_child_gets_only_its_configured_environment_and_working_directory() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("marker.txt"), "hello").unwrap();
    let d = deps();
    let config = format!(
        "{ANON}\n{}\n[[backend]]\nname = \"fs\"\ncommand = [\"{}\", \"{}\", \".\"]\ncwd = \"{}\"\n",
        demo_backend(
            "demo",
            "env = { FOO = \"bar\", FROM_SECRET = { env = \"PORTCULLIS_TEST_SECRET\" } }"
        ),
        d.node22.display(),
        d.server_filesystem.display(),
        work.path().display()
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portcullis.toml");
    std::fs::write(&path, &config).unwrap();
    let mut cmd = Command::new(portcullis_bin());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path);
    // The gateway's own environment holds a secret the child must not see...
    cmd.env("PORTCULLIS_GATEWAY_ONLY", "must-not-leak");
    // ...and one that the config hands over by reference.
    cmd.env("PORTCULLIS_TEST_SECRET", "s3cret");
    let gw = Proc::spawn(cmd);
    let url = gw
        .wait_for_line("listening on", Duration::from_secs(60))
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    let run = python_client(
        &url,
        &json!([
            {"op": "call_tool", "name": "demo__whoami", "arguments": {}},
            {"op": "call_tool", "name": "fs__list_directory", "arguments": {"path": work.path().to_str().unwrap()}},
        ]),
        &[],
    );
    let s = steps(&run);
    assert_eq!(
        s[0]["result"]["structuredContent"]["env_names"],
        json!(["FOO", "FROM_SECRET"]),
        "{}",
        s[0]
    );
    let listing = s[1]["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        listing.contains("marker.txt"),
        "the filesystem server ran in `cwd` with `.` allowed: {}",
        s[1]
    );
    // stderr of the child reaches the gateway's logs, attributed to the backend.
    let logs = gw.stderr();
    assert!(
        logs.lines()
            .any(|l| l.contains("stderr:") && l.contains("backend=demo")),
        "child stderr not in logs:\n{logs}"
    );
}

#[test]
fn client_cancellation_reaches_the_backend_under_its_own_request_id() {
    // The demo server logs (at debug, on stderr, which the gateway captures) when a `slow` call
    // it is running is cancelled: it matches the cancellation against *its* request id, so the
    // line proves the gateway rewrote the client's id to the upstream one.
    let config = format!(
        "{ANON}\n{}",
        demo_backend("demo", "env = { PORTCULLIS_LOG = \"debug\" }")
    );
    let gw = start_gateway(&config);
    let run = python_client(
        &gw.url,
        &json!([
            {"op": "call_tool", "name": "demo__slow", "arguments": {"ms": 20000}, "timeout": 1},
            {"op": "call_tool", "name": "demo__echo", "arguments": {"message": "still here"}},
        ]),
        &[],
    );
    let s = steps(&run);
    assert_eq!(
        s[0]["ok"], false,
        "the slow call was abandoned by the client: {}",
        s[0]
    );
    assert_eq!(
        s[1]["result"]["content"][0]["text"], "still here",
        "{}",
        s[1]
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let logs = gw.proc.stderr();
        if logs
            .lines()
            .any(|l| l.contains("slow call cancelled") && l.contains("backend=demo"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no cancellation reached the backend:\n{logs}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
