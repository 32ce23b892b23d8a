//! The newcomer path: `portcullis serve` with no config serves the built-in quickstart, and a
//! plain MCP client (the Python SDK) can use the demo backend through it.

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

#[test]
fn quickstart_serves_the_demo_backend_to_a_real_client() {
    let mut cmd = Command::new(portcullis_bin());
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    let gw = Proc::spawn(cmd);
    let line = gw.wait_for_line("listening on", Duration::from_secs(60));
    let url = line.rsplit(' ').next().unwrap();
    // Without a token the gateway refuses, pointing at its RFC 9728 metadata.
    let refused = python_client(url, &json!([{"op": "list_tools"}]), &[]);
    assert!(refused.get("fatal").is_some(), "{refused}");
    // `portcullis token mint` signs with the dev key the quickstart trusts.
    let out = Command::new(portcullis_bin())
        .args(["token", "mint", "--sub", "alice", "--groups", "eng"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let auth = format!("Authorization: Bearer {token}");
    let run = python_client(
        url,
        &json!([
            {"op": "list_tools"},
            {"op": "call_tool", "name": "demo__add", "arguments": {"a": 2, "b": 40}},
            {"op": "call_tool", "name": "demo__whoami", "arguments": {}},
            {"op": "list_prompts"},
        ]),
        &["--header", &auth],
    );
    let steps = steps(&run);
    let names: Vec<&str> = steps[0]["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"demo__echo") && names.contains(&"demo__add"),
        "{names:?}"
    );
    assert_eq!(
        steps[1]["result"]["structuredContent"]["sum"],
        json!(42),
        "{}",
        steps[1]
    );
    // The stdio child sees none of the gateway's environment.
    assert_eq!(
        steps[2]["result"]["structuredContent"]["env_names"],
        json!([]),
        "{}",
        steps[2]
    );
    assert_eq!(run["server_info"]["name"], "portcullis");
    assert_eq!(
        steps[3]["result"]["prompts"][0]["name"], "demo__greeting",
        "{}",
        steps[3]
    );
    // The quickstart's policy lets group `eng` use the demo backend, and nobody else.
    let out = Command::new(portcullis_bin())
        .args(["token", "mint", "--sub", "mallory"])
        .output()
        .unwrap();
    let other = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let denied = python_client(
        url,
        &json!([
            {"op": "list_tools"},
            {"op": "call_tool", "name": "demo__echo", "arguments": {"message": "hi"}},
            {"op": "list_prompts"},
        ]),
        &["--header", &format!("Authorization: Bearer {other}")],
    );
    let s = common::steps(&denied);
    assert_eq!(
        s[0]["result"]["tools"],
        json!([]),
        "nothing is listed for mallory: {}",
        s[0]
    );
    assert_eq!(s[1]["error"]["code"], -32003, "{}", s[1]);
    assert_eq!(
        s[2]["result"]["prompts"],
        json!([]),
        "no prompts for mallory: {}",
        s[2]
    );
}
