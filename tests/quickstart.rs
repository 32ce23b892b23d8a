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

/// The README's Python snippet, exactly as the README shows it (only the port differs: the
/// test's gateway listens on a free one), run with the pinned Python SDK against the quickstart
/// with a token from `portcullis token mint`: README and test cannot drift apart.
#[test]
fn the_readme_python_snippet_runs_as_written_against_the_quickstart() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme
        .find("```python\n")
        .expect("README.md has a ```python block");
    let body = &readme[start + "```python\n".len()..];
    let snippet = &body[..body.find("```").expect("the python block ends")];
    const README_URL: &str = "http://127.0.0.1:8080/mcp";
    assert_eq!(
        snippet.matches(README_URL).count(),
        1,
        "the snippet names the quickstart's URL once:\n{snippet}"
    );
    // The quickstart's dev key and policy go to the working directory: a fresh one.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(portcullis_bin());
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path());
    let gw = Proc::spawn(cmd);
    let line = gw.wait_for_line("listening on", Duration::from_secs(60));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    // The banner says what is true: tokens are required, and how to get one.
    let banner = gw.wait_for_line("quickstart", Duration::from_secs(5));
    assert!(
        !banner.contains("no authentication"),
        "the banner claims there is no authentication: {banner}"
    );
    assert!(
        banner.contains("portcullis token mint --sub alice --groups eng")
            && banner.contains("Authorization: Bearer"),
        "the banner does not say how to get and send a token: {banner}"
    );
    let out = Command::new(portcullis_bin())
        .args(["token", "mint", "--sub", "alice", "--groups", "eng"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let script = dir.path().join("client.py");
    std::fs::write(&script, snippet.replace(README_URL, &url)).unwrap();
    let run = Command::new(deps().python)
        .arg(&script)
        .env("TOKEN", &token)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the README snippet failed:\n{stdout}\n{stderr}\nsnippet:\n{snippet}"
    );
    assert!(
        stdout.contains("42"),
        "the snippet did not print the demo's sum:\n{stdout}\n{stderr}"
    );
}
