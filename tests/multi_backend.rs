//! Many backends behind one gateway, end to end: the real `portcullis` binary in front of npm
//! `server-everything` and `server-memory` (stdio children) and the rmcp conformance fixture
//! (Streamable HTTP), driven by the official Python `mcp` SDK client.
//!
//! What these tests pin down: one client session sees every backend's tools, prompts and
//! resources under the configured naming strategy and each call reaches the backend that owns the
//! name; server-to-client requests (sampling, elicitation) find their way back to the client; and
//! a backend that dies mid-session disappears from that session (with `list_changed`), fails
//! calls with an error naming it, leaves the other backends working, and comes back.

// Helpers outside `#[test]` functions are test code too; a failed expectation is a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// What the Python client answers elicitations with (valid for both backends' schemas).
const ELICIT_JSON: &str =
    r#"{"name":"Ada Lovelace","username":"ada","email":"ada@example.com","check":true}"#;
/// The driver's default sampling answer (`DEFAULT_SAMPLING_TEXT` in `tests/py/mcp_client.py`).
const SAMPLING_TEXT: &str = "Hello from the Portcullis test client.";

/// Every tool server-memory (2026.8.31) registers, from its `dist/index.js`.
const MEMORY_TOOLS: [&str; 9] = [
    "create_entities",
    "create_relations",
    "add_observations",
    "delete_entities",
    "delete_observations",
    "delete_relations",
    "read_graph",
    "search_nodes",
    "open_nodes",
];

/// Tools server-everything registers for every client (`registerTools` in `dist/tools/index.js`,
/// plus `simulate-research-query`, which `registerConditionalTools` adds whatever the client).
const EVERYTHING_TOOLS: [&str; 13] = [
    "echo",
    "get-annotated-message",
    "get-env",
    "get-resource-links",
    "get-resource-reference",
    "get-structured-content",
    "get-sum",
    "get-tiny-image",
    "gzip-file-as-resource",
    "toggle-simulated-logging",
    "toggle-subscriber-updates",
    "trigger-long-running-operation",
    "simulate-research-query",
];

/// Tools server-everything adds once it knows the client can answer them (`registerConditionalTools`):
/// the Python client declares sampling, elicitation and roots.
const EVERYTHING_CONDITIONAL_TOOLS: [&str; 3] = [
    "get-roots-list",
    "trigger-elicitation-request",
    "trigger-sampling-request",
];

const EVERYTHING_PROMPTS: [&str; 4] = [
    "simple-prompt",
    "args-prompt",
    "completable-prompt",
    "resource-prompt",
];

// ----- config building -----

/// A TOML basic string (JSON string escapes are valid TOML).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn qp(p: &Path) -> String {
    q(p.to_str().expect("test paths are UTF-8"))
}

fn env_table(env: &[(&str, String)]) -> String {
    if env.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = env.iter().map(|(k, v)| format!("{k} = {}", q(v))).collect();
    format!("env = {{ {} }}\n", pairs.join(", "))
}

/// A stdio backend running `node22 <script>`.
fn node_backend(d: &Deps, name: &str, script: &Path, env: &[(&str, String)]) -> String {
    format!(
        "\n[[backend]]\nname = {}\ncommand = [{}, {}]\n{}",
        q(name),
        qp(&d.node22),
        qp(script),
        env_table(env)
    )
}

fn everything(d: &Deps, name: &str) -> String {
    // `WHO` lets a test see which instance answered (`get-env` prints the child's environment).
    node_backend(d, name, &d.server_everything, &[("WHO", name.to_owned())])
}

fn memory(d: &Deps, name: &str, file: &Path) -> String {
    node_backend(
        d,
        name,
        &d.server_memory,
        &[("MEMORY_FILE_PATH", file.display().to_string())],
    )
}

fn http_backend(name: &str, url: &str) -> String {
    format!("\n[[backend]]\nname = {}\nurl = {}\n", q(name), q(url))
}

// ----- reading client results -----

fn ok<'a>(step: &'a Value, what: &str) -> &'a Value {
    assert_eq!(step["ok"], json!(true), "{what} failed: {step}");
    &step["result"]
}

/// Like [`ok`], with the gateway's log in the failure message.
fn ok_log<'a>(step: &'a Value, what: &str, log: &str) -> &'a Value {
    assert_eq!(
        step["ok"],
        json!(true),
        "{what} failed: {step}\ngateway log:\n{log}"
    );
    &step["result"]
}

/// The gateway's log without colours.
fn plain_log(gw: &Gateway) -> String {
    let mut out = String::new();
    let raw = gw.proc.stderr();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn failed<'a>(step: &'a Value, what: &str) -> &'a Value {
    assert_eq!(
        step["ok"],
        json!(false),
        "{what} should have failed: {step}"
    );
    &step["error"]
}

fn names(result: &Value, field: &str) -> Vec<String> {
    result[field]
        .as_array()
        .unwrap_or_else(|| panic!("no `{field}` array in {result}"))
        .iter()
        .map(|t| t["name"].as_str().expect("item name").to_owned())
        .collect()
}

fn name_set(result: &Value, field: &str) -> BTreeSet<String> {
    let v = names(result, field);
    let set: BTreeSet<String> = v.iter().cloned().collect();
    assert_eq!(set.len(), v.len(), "duplicate names in {v:?}");
    set
}

/// The text blocks of a tool result, joined; also asserts the call was not an `isError` result.
fn tool_text(step: &Value, what: &str) -> String {
    let r = ok(step, what);
    assert_ne!(r["isError"], json!(true), "{what} returned isError: {r}");
    r["content"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no content in {r}"))
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn set_of<I: IntoIterator<Item = S>, S: AsRef<str>>(prefix: &str, items: I) -> BTreeSet<String> {
    items
        .into_iter()
        .map(|s| format!("{prefix}{}", s.as_ref()))
        .collect()
}

/// Tools as a server announces them, straight from the server (no gateway): the Python client
/// pointed at an HTTP server.
fn direct_tools(url: &str) -> Vec<Value> {
    let run = python_client(url, &json!([{"op": "list_tools"}]), &[]);
    ok(&steps(&run)[0], "direct tools/list")["tools"]
        .as_array()
        .unwrap()
        .clone()
}

/// server-everything's tools as this Python client sees them when it is the only backend of a
/// `priority` gateway (so names are its own). It is stdio, so the client cannot reach it directly;
/// the hardcoded lists above keep this from agreeing with a gateway that drops tools everywhere.
fn everything_solo_tools(d: &Deps) -> Vec<Value> {
    let gw = start_gateway(&format!(
        "{ANON}\n[naming]\nstrategy = \"priority\"\n{}",
        everything(d, "solo")
    ));
    let run = python_client(&gw.url, &json!([{"op": "list_tools"}]), &[]);
    let tools = ok(&steps(&run)[0], "solo tools/list")["tools"]
        .as_array()
        .unwrap()
        .clone();
    let names: BTreeSet<String> = tools
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    for t in EVERYTHING_TOOLS.iter().chain(&EVERYTHING_CONDITIONAL_TOOLS) {
        assert!(
            names.contains(*t),
            "server-everything should offer `{t}`: {names:?}"
        );
    }
    tools
}

fn without_name(def: &Value) -> Value {
    let mut d = def.clone();
    d.as_object_mut().unwrap().remove("name");
    d
}

/// Each gateway tool `prefix + name` must carry the backend's own definition, unchanged but for
/// the name.
fn assert_same_definitions(gateway: &[Value], prefix: &str, backend: &[Value]) {
    for b in backend {
        let name = format!("{prefix}{}", b["name"].as_str().unwrap());
        let g = gateway
            .iter()
            .find(|t| t["name"] == json!(name))
            .unwrap_or_else(|| panic!("gateway does not list `{name}`"));
        assert_eq!(
            without_name(g),
            without_name(b),
            "definition of `{name}` changed"
        );
    }
}

// ----- processes -----

fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("timed out after {timeout:?} waiting for {what}");
    false
}

/// The Python client running in the background, so the test can act while its session is open.
struct BackgroundClient {
    proc: Proc,
}

impl BackgroundClient {
    fn start(url: &str, steps: &Value, extra: &[&str]) -> BackgroundClient {
        let d = deps();
        let mut cmd = Command::new(&d.python);
        cmd.arg(d.root.join("tests/py/mcp_client.py"))
            .arg("--url")
            .arg(url)
            .args(extra)
            .arg(steps.to_string());
        BackgroundClient {
            proc: Proc::spawn(cmd),
        }
    }

    fn describe(&self) -> String {
        format!(
            "client stdout:\n{}\nclient stderr:\n{}",
            self.proc.stdout_lines.lock().unwrap().join("\n"),
            self.proc.stderr()
        )
    }

    /// Wait for the client to finish and return its JSON report.
    fn finish(mut self, timeout: Duration) -> Value {
        let exited = wait_until("the python client to exit", timeout, || {
            !self.proc.is_running()
        });
        assert!(exited, "python client still running; {}", self.describe());
        let lines = self.proc.stdout_lines.clone();
        wait_until("the client's report", Duration::from_secs(5), || {
            lines.lock().unwrap().iter().any(|l| l.starts_with('{'))
        });
        let line = lines
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.starts_with('{'))
            .cloned()
            .unwrap_or_else(|| panic!("python client printed no JSON; {}", self.describe()));
        serde_json::from_str(&line).unwrap()
    }
}

/// Wait until `file` contains `marker`: the client writes markers through a memory backend to
/// tell the test how far its script got (its report only comes at the end).
fn wait_for_marker(file: &Path, marker: &str, client: &mut BackgroundClient, gw: &Gateway) {
    let found = wait_until(
        &format!("`{marker}` in {}", file.display()),
        Duration::from_secs(90),
        || {
            std::fs::read_to_string(file).is_ok_and(|t| t.contains(marker))
                || !client.proc.is_running()
        },
    );
    let written = std::fs::read_to_string(file).is_ok_and(|t| t.contains(marker));
    assert!(
        found && written,
        "the client never wrote `{marker}`; {}\ngateway stderr:\n{}",
        client.describe(),
        gw.proc.stderr()
    );
}

/// Child processes of `pid` whose command line contains `needle`.
fn children_matching(pid: u32, needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(list) = std::fs::read_to_string(task.path().join("children")) else {
            continue;
        };
        for child in list
            .split_whitespace()
            .filter_map(|c| c.parse::<u32>().ok())
        {
            let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(needle) && !out.contains(&child) {
                out.push(child);
            }
        }
    }
    out
}

fn kill_pid(pid: u32) {
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -KILL {pid} failed");
}

/// Start a gateway expected to refuse its config; returns its exit status and stderr.
fn gateway_refusal(config: &str) -> (std::process::ExitStatus, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portcullis.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = Command::new(portcullis_bin());
    cmd.arg("serve")
        .arg("--config")
        .arg(&path)
        .arg("--listen")
        .arg("127.0.0.1:0");
    let mut p = Proc::spawn(cmd);
    let exited = wait_until(
        "the gateway to refuse its config",
        Duration::from_secs(60),
        || !p.is_running(),
    );
    assert!(
        exited,
        "the gateway kept running; stdout:\n{}\nstderr:\n{}",
        p.stdout_lines.lock().unwrap().join("\n"),
        p.stderr()
    );
    let status = p.child.wait().unwrap();
    // The stderr reader thread may still be draining the pipe.
    std::thread::sleep(Duration::from_millis(200));
    (status, p.stderr())
}

// ----- 1. one session, three backends -----

#[test]
fn one_session_reaches_every_backend_and_server_requests_come_back() {
    let d = deps();
    let (_fixture, fixture_url) = start_conformance_server();
    let conformance_tools = direct_tools(&fixture_url);
    let everything_tools = everything_solo_tools(&d);

    let dir = tempfile::tempdir().unwrap();
    let memory_file = dir.path().join("memory.jsonl");
    let config = format!(
        "{ANON}{}{}{}",
        everything(&d, "everything"),
        memory(&d, "memory", &memory_file),
        http_backend("conformance", &fixture_url)
    );
    let gw = start_gateway_in(&config, dir);
    let run = python_client(
        &gw.url,
        &json!([
            {"op": "list_tools"},
            {"op": "call_tool", "name": "everything__echo", "arguments": {"message": "hello through portcullis"}},
            {"op": "call_tool", "name": "memory__create_entities", "arguments": {"entities": [
                {"name": "portcullis-test", "entityType": "test", "observations": ["seen through the gateway"]}]}},
            {"op": "call_tool", "name": "memory__read_graph", "arguments": {}},
            {"op": "call_tool", "name": "conformance__test_simple_text", "arguments": {}},
            {"op": "list_prompts"},
            {"op": "get_prompt", "name": "everything__args-prompt", "arguments": {"city": "Paris"}},
            {"op": "get_prompt", "name": "conformance__test_prompt_with_arguments", "arguments": {"arg1": "x", "arg2": "y"}},
            {"op": "list_resources"},
            {"op": "read_resource", "uri": "test://static-text"},
            {"op": "read_resource", "uri": "demo://resource/static/document/features.md"},
            {"op": "read_resource", "uri": "demo://resource/dynamic/text/7"},
            {"op": "call_tool", "name": "everything__trigger-sampling-request", "arguments": {"prompt": "sample via everything"}},
            {"op": "call_tool", "name": "conformance__test_sampling", "arguments": {"prompt": "sample via conformance"}},
            {"op": "call_tool", "name": "everything__trigger-elicitation-request", "arguments": {}},
            {"op": "call_tool", "name": "conformance__test_elicitation", "arguments": {"message": "who are you?"}},
        ]),
        &["--elicit-json", ELICIT_JSON],
    );
    let s = steps(&run);

    // tools/list: exactly the three servers' tools, each under `backend__name`, definitions intact.
    let listed = ok(&s[0], "tools/list");
    let mut expected = set_of(
        "everything__",
        everything_tools.iter().map(|t| t["name"].as_str().unwrap()),
    );
    expected.extend(set_of("memory__", MEMORY_TOOLS));
    expected.extend(set_of(
        "conformance__",
        conformance_tools
            .iter()
            .map(|t| t["name"].as_str().unwrap()),
    ));
    assert_eq!(name_set(listed, "tools"), expected);
    let gw_tools = listed["tools"].as_array().unwrap();
    assert_same_definitions(gw_tools, "conformance__", &conformance_tools);
    assert_same_definitions(gw_tools, "everything__", &everything_tools);

    // Calls reach the backend that owns the name.
    assert!(
        tool_text(&s[1], "everything echo").contains("Echo: hello through portcullis"),
        "{}",
        s[1]
    );
    tool_text(&s[2], "memory create_entities");
    assert!(
        tool_text(&s[3], "memory read_graph").contains("seen through the gateway"),
        "{}",
        s[3]
    );
    let on_disk = std::fs::read_to_string(&memory_file).unwrap_or_default();
    assert!(
        on_disk.contains("portcullis-test"),
        "server-memory did not persist the entity: {on_disk:?}"
    );
    assert_eq!(
        tool_text(&s[4], "conformance test_simple_text"),
        "This is a simple text response for testing."
    );

    // Prompts from two backends, listed and fetched.
    let prompts = name_set(ok(&s[5], "prompts/list"), "prompts");
    for p in set_of("everything__", EVERYTHING_PROMPTS)
        .iter()
        .chain(&set_of(
            "conformance__",
            [
                "test_simple_prompt",
                "test_prompt_with_arguments",
                "test_prompt_with_embedded_resource",
                "test_prompt_with_image",
            ],
        ))
    {
        assert!(prompts.contains(p), "prompt `{p}` missing: {prompts:?}");
    }
    assert!(
        ok(&s[6], "everything args-prompt")
            .to_string()
            .contains("Paris"),
        "{}",
        s[6]
    );
    assert!(
        ok(&s[7], "conformance test_prompt_with_arguments")
            .to_string()
            .contains("arg1='x', arg2='y'"),
        "{}",
        s[7]
    );

    // Resources from two backends (URIs are not renamed), read through the gateway.
    let resources = ok(&s[8], "resources/list")["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap().to_owned())
        .collect::<BTreeSet<_>>();
    for uri in [
        "test://static-text",
        "test://static-binary",
        "demo://resource/static/document/features.md",
    ] {
        assert!(
            resources.contains(uri),
            "resource `{uri}` missing: {resources:?}"
        );
    }
    assert_eq!(
        ok(&s[9], "read test://static-text")["contents"][0]["uri"],
        json!("test://static-text")
    );
    assert!(
        ok(&s[10], "read features.md")
            .to_string()
            .contains("Everything Server - Features"),
        "{}",
        s[10]
    );
    assert_eq!(
        ok(&s[11], "read a templated resource")["contents"][0]["uri"],
        json!("demo://resource/dynamic/text/7")
    );

    // Sampling and elicitation: asked by a backend mid-call, answered by the client's callbacks,
    // the answer carried back into the backend's tool result. Once over stdio, once over HTTP.
    assert!(
        tool_text(&s[12], "everything sampling").contains(SAMPLING_TEXT),
        "{}",
        s[12]
    );
    assert_eq!(
        tool_text(&s[13], "conformance sampling"),
        format!("LLM response: {SAMPLING_TEXT}")
    );
    let sampled = run["sampling_requests"].to_string();
    assert!(
        sampled.contains("sample via everything") && sampled.contains("sample via conformance"),
        "the client did not see both sampling requests: {sampled}"
    );
    assert!(
        tool_text(&s[14], "everything elicitation").contains("Name: Ada Lovelace"),
        "{}",
        s[14]
    );
    let elicited = tool_text(&s[15], "conformance elicitation");
    assert!(
        elicited.contains("action=\"accept\"") && elicited.contains("ada@example.com"),
        "{elicited}"
    );
    let elicitations = run["elicitation_requests"].to_string();
    assert!(
        elicitations.contains("who are you?") && elicitations.contains("Your full, legal name"),
        "the client did not see both elicitation requests: {elicitations}"
    );
}

// ----- 2. naming strategies -----

fn list_steps_names(run: &Value, i: usize) -> Vec<String> {
    names(ok(&steps(run)[i], "tools/list"), "tools")
}

#[test]
fn prefix_exposes_backend_separator_tool_names_that_stay_stable() {
    let d = deps();
    let solo: Vec<String> = everything_solo_tools(&d)
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let memory_file = dir.path().join("memory.jsonl");
    // Two instances of the same server: every name collides, and prefixing keeps both.
    let config = format!(
        "{ANON}\n[naming]\nstrategy = \"prefix\"\n{}{}{}",
        everything(&d, "a"),
        everything(&d, "b"),
        memory(&d, "mem", &memory_file)
    );
    let gw = start_gateway_in(&config, dir);
    let script = json!([
        {"op": "list_tools"},
        {"op": "call_tool", "name": "a__get-env", "arguments": {}},
        {"op": "call_tool", "name": "b__get-env", "arguments": {}},
        {"op": "call_tool", "name": "get-env", "arguments": {}},
        {"op": "call_tool", "name": "mem__read_graph", "arguments": {}},
        {"op": "list_tools"},
    ]);
    let first = python_client(&gw.url, &script, &[]);
    let s = steps(&first);
    let listed = name_set(ok(&s[0], "tools/list"), "tools");
    let mut expected = set_of("a__", &solo);
    expected.extend(set_of("b__", &solo));
    expected.extend(set_of("mem__", MEMORY_TOOLS));
    assert_eq!(listed, expected);

    let a = tool_text(&s[1], "a__get-env");
    let b = tool_text(&s[2], "b__get-env");
    assert!(
        a.contains(r#""WHO": "a""#) && !a.contains(r#""WHO": "b""#),
        "{a}"
    );
    assert!(
        b.contains(r#""WHO": "b""#) && !b.contains(r#""WHO": "a""#),
        "{b}"
    );
    let bare = failed(&s[3], "a bare name under prefix");
    assert!(
        bare["message"].as_str().unwrap().contains("get-env"),
        "{bare}"
    );
    tool_text(&s[4], "mem__read_graph");

    // Stable: the same names in the same order, later in the session and in a new session.
    let second = python_client(&gw.url, &script, &[]);
    let order = list_steps_names(&first, 0);
    assert_eq!(list_steps_names(&first, 5), order);
    assert_eq!(list_steps_names(&second, 0), order);
    assert_ne!(first["session_id"], second["session_id"]);
}

#[test]
fn priority_exposes_bare_names_and_the_higher_ranked_backend_wins() {
    let d = deps();
    let solo: BTreeSet<String> = everything_solo_tools(&d)
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    let mut expected = solo.clone();
    expected.extend(MEMORY_TOOLS.iter().map(|t| (*t).to_owned()));
    let script = json!([
        {"op": "list_tools"},
        {"op": "call_tool", "name": "get-env", "arguments": {}},
        {"op": "call_tool", "name": "echo", "arguments": {"message": "who wins"}},
        {"op": "call_tool", "name": "read_graph", "arguments": {}},
        {"op": "call_tool", "name": "a__get-env", "arguments": {}},
        {"op": "list_prompts"},
    ]);

    // `a` comes first in the config, but the priority list ranks `b` above it.
    for (priority, winner, loser) in [("[\"b\"]", "b", "a"), ("[]", "a", "b")] {
        let dir = tempfile::tempdir().unwrap();
        let memory_file = dir.path().join("memory.jsonl");
        let config = format!(
            "{ANON}\n[naming]\nstrategy = \"priority\"\npriority = {priority}\n{}{}{}",
            everything(&d, "a"),
            everything(&d, "b"),
            memory(&d, "mem", &memory_file)
        );
        let gw = start_gateway_in(&config, dir);
        let run = python_client(&gw.url, &script, &[]);
        let s = steps(&run);
        // Bare names, each once: the loser's copies are hidden, nothing else is.
        assert_eq!(
            name_set(ok(&s[0], "tools/list"), "tools"),
            expected,
            "priority = {priority}"
        );
        let env = tool_text(&s[1], "get-env");
        assert!(
            env.contains(&format!(r#""WHO": "{winner}""#))
                && !env.contains(&format!(r#""WHO": "{loser}""#)),
            "priority = {priority}: get-env should run on `{winner}`: {env}"
        );
        assert!(tool_text(&s[2], "echo").contains("Echo: who wins"));
        tool_text(&s[3], "read_graph (no collision)");
        failed(&s[4], "a prefixed name under priority");
        assert_eq!(
            name_set(ok(&s[5], "prompts/list"), "prompts"),
            set_of("", EVERYTHING_PROMPTS),
            "priority = {priority}"
        );
        let log = plain_log(&gw);
        assert!(
            log.lines().any(|l| l.contains("hidden by a name collision")
                && l.contains(&format!("backend={loser}"))
                && l.contains("name=get-env")
                && l.contains(&format!("winner={winner}"))),
            "the gateway should log that `{loser}`'s get-env is hidden:\n{log}"
        );
    }
}

fn manual_memory_pair(d: &Deps, dir: &Path, renames: &[&str]) -> String {
    let rules: Vec<String> = renames
        .iter()
        .map(|t| format!("{} = {}", q(&format!("m2/{t}")), q(&format!("m2_{t}"))))
        .collect();
    format!(
        "{ANON}\n[naming]\nstrategy = \"manual\"\nrename = {{ {} }}\n{}{}",
        rules.join(", "),
        memory(d, "m1", &dir.join("m1.jsonl")),
        memory(d, "m2", &dir.join("m2.jsonl"))
    )
}

#[test]
fn manual_refuses_unresolved_collisions_and_names_each_one() {
    let d = deps();
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{ANON}\n[naming]\nstrategy = \"manual\"\n{}{}{}{}",
        memory(&d, "m1", &dir.path().join("m1.jsonl")),
        memory(&d, "m2", &dir.path().join("m2.jsonl")),
        everything(&d, "e1"),
        everything(&d, "e2")
    );
    let (status, stderr) = gateway_refusal(&config);
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("unresolved name collisions"), "{stderr}");
    assert!(
        stderr.contains("naming.rename"),
        "no fix suggested:\n{stderr}"
    );
    for t in MEMORY_TOOLS {
        assert!(
            stderr.contains(&format!("`{t}` is offered by m1, m2")),
            "tool `{t}` not named:\n{stderr}"
        );
    }
    for t in EVERYTHING_TOOLS.iter().chain(&EVERYTHING_PROMPTS) {
        assert!(
            stderr.contains(&format!("`{t}` is offered by e1, e2")),
            "`{t}` not named:\n{stderr}"
        );
    }

    // Resolving all but one still refuses, and names only the one left.
    let all_but_read_graph: Vec<&str> = MEMORY_TOOLS
        .into_iter()
        .filter(|t| *t != "read_graph")
        .collect();
    let (status, stderr) =
        gateway_refusal(&manual_memory_pair(&d, dir.path(), &all_but_read_graph));
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("`read_graph` is offered by m1, m2"),
        "{stderr}"
    );
    for t in &all_but_read_graph {
        assert!(
            !stderr.contains(&format!("`{t}`")),
            "`{t}` was renamed:\n{stderr}"
        );
    }
}

#[test]
fn manual_with_rename_rules_starts_and_both_backends_are_callable() {
    let d = deps();
    let dir = tempfile::tempdir().unwrap();
    let (m1_file, m2_file) = (dir.path().join("m1.jsonl"), dir.path().join("m2.jsonl"));
    let config = manual_memory_pair(&d, dir.path(), &MEMORY_TOOLS);
    let gw = start_gateway_in(&config, dir);
    let entity = |name: &str| json!({"entities": [{"name": name, "entityType": "test", "observations": []}]});
    let run = python_client(
        &gw.url,
        &json!([
            {"op": "list_tools"},
            {"op": "call_tool", "name": "create_entities", "arguments": entity("kept-by-m1")},
            {"op": "call_tool", "name": "m2_create_entities", "arguments": entity("kept-by-m2")},
            {"op": "call_tool", "name": "read_graph", "arguments": {}},
            {"op": "call_tool", "name": "m2_read_graph", "arguments": {}},
        ]),
        &[],
    );
    let s = steps(&run);
    let mut expected = set_of("", MEMORY_TOOLS);
    expected.extend(set_of("m2_", MEMORY_TOOLS));
    assert_eq!(name_set(ok(&s[0], "tools/list"), "tools"), expected);
    let g1 = tool_text(&s[3], "read_graph");
    let g2 = tool_text(&s[4], "m2_read_graph");
    assert!(
        g1.contains("kept-by-m1") && !g1.contains("kept-by-m2"),
        "{g1}"
    );
    assert!(
        g2.contains("kept-by-m2") && !g2.contains("kept-by-m1"),
        "{g2}"
    );
    // And on disk: each server wrote only its own file.
    let f1 = std::fs::read_to_string(&m1_file).unwrap();
    let f2 = std::fs::read_to_string(&m2_file).unwrap();
    assert!(
        f1.contains("kept-by-m1") && !f1.contains("kept-by-m2"),
        "{f1}"
    );
    assert!(
        f2.contains("kept-by-m2") && !f2.contains("kept-by-m1"),
        "{f2}"
    );
}

// ----- 3. a backend dies mid-session -----

fn marker(name: &str) -> Value {
    json!({"entities": [{"name": name, "entityType": "test-sync", "observations": []}]})
}

fn assert_backend_error(step: &Value, backend: &str) {
    let e = failed(step, &format!("a call to the dead backend `{backend}`"));
    let message = e["message"].as_str().unwrap_or("");
    assert!(
        message.contains(&format!("`{backend}`")),
        "the error should name backend `{backend}`: {e}"
    );
    assert_eq!(e["code"], json!(-32010), "{e}");
}

fn prefixed(names: &[String], prefix: &str) -> usize {
    names.iter().filter(|n| n.starts_with(prefix)).count()
}

#[test]
fn a_killed_stdio_backend_vanishes_fails_clearly_and_is_restarted_in_the_same_session() {
    let d = deps();
    let (_fixture, fixture_url) = start_conformance_server();
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("memory.gate");
    std::fs::write(&gate, "").unwrap();
    let memory_file = dir.path().join("memory.jsonl");
    let notes_file = dir.path().join("notes.jsonl");
    // The real server-memory behind a gate: while the test holds the gate closed, the restart the
    // gateway attempts waits, so the test can watch the down state without racing the restart.
    // The wait is capped (60 s) so a failed test cannot leave a shell looping forever.
    let script = r#"i=0; while [ ! -e "$0" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; exec "$1" "$2" portcullis-killable"#;
    let config = format!(
        "{ANON}\n[[backend]]\nname = \"memory\"\ncommand = [\"/bin/sh\", \"-c\", {}, {}, {}, {}]\n{}{}{}",
        q(script),
        qp(&gate),
        qp(&d.node22),
        qp(&d.server_memory),
        env_table(&[
            ("PATH", "/usr/bin:/bin".to_owned()),
            ("MEMORY_FILE_PATH", memory_file.display().to_string())
        ]),
        memory(&d, "notes", &notes_file),
        http_backend("conformance", &fixture_url)
    );
    let gw = start_gateway_in(&config, dir);
    let gw_pid = gw.proc.child.id();
    let wait = |s: u64| json!({"op": "wait_tools_changed", "timeout": s});
    let mut client = BackgroundClient::start(
        &gw.url,
        &json!([
            {"op": "list_tools"},
            {"op": "call_tool", "name": "memory__create_entities", "arguments": marker("before-kill")},
            {"op": "call_tool", "name": "notes__create_entities", "arguments": marker("sync-ready")},
            wait(60),
            {"op": "list_tools"},
            {"op": "call_tool", "name": "memory__read_graph", "arguments": {}},
            {"op": "call_tool", "name": "notes__read_graph", "arguments": {}},
            {"op": "call_tool", "name": "conformance__test_simple_text", "arguments": {}},
            {"op": "call_tool", "name": "notes__create_entities", "arguments": marker("sync-down-checked")},
            wait(60),
            {"op": "list_tools"},
            {"op": "call_tool", "name": "memory__read_graph", "arguments": {}},
        ]),
        &[],
    );
    wait_for_marker(&notes_file, "sync-ready", &mut client, &gw);
    let mut victims = Vec::new();
    assert!(
        wait_until("one killable memory child", Duration::from_secs(10), || {
            victims = children_matching(gw_pid, "portcullis-killable");
            victims.len() == 1
        }),
        "expected exactly one server-memory child of the gateway, found {victims:?}"
    );
    let victim = victims[0];
    std::fs::remove_file(&gate).unwrap();
    kill_pid(victim);

    wait_for_marker(&notes_file, "sync-down-checked", &mut client, &gw);
    std::fs::write(&gate, "").unwrap();
    let run = client.finish(Duration::from_secs(120));
    let s = steps(&run);
    let log = plain_log(&gw);

    let before = list_steps_names(&run, 0);
    assert_eq!(
        prefixed(&before, "memory__"),
        MEMORY_TOOLS.len(),
        "{before:?}"
    );
    tool_text(&s[1], "memory__create_entities before the kill");
    ok_log(&s[3], "the list_changed after the kill", &log);
    let during = list_steps_names(&run, 4);
    assert_eq!(
        prefixed(&during, "memory__"),
        0,
        "dead backend still listed: {during:?}\n{log}"
    );
    assert_eq!(
        prefixed(&during, "notes__"),
        MEMORY_TOOLS.len(),
        "{during:?}"
    );
    assert!(prefixed(&during, "conformance__") > 0, "{during:?}");
    assert_backend_error(&s[5], "memory");
    assert!(tool_text(&s[6], "notes__read_graph").contains("sync-ready"));
    assert_eq!(
        tool_text(&s[7], "conformance__test_simple_text"),
        "This is a simple text response for testing."
    );
    ok_log(&s[9], "the list_changed after the restart", &log);
    let after = list_steps_names(&run, 10);
    assert_eq!(
        after, before,
        "the restarted backend's tools should be back, in order"
    );
    // The restarted child is a new process reading the same memory file.
    assert!(
        tool_text(&s[11], "memory__read_graph after the restart").contains("before-kill"),
        "{}",
        s[11]
    );
    // ... and it is a new process: the one killed is gone, and the gateway says it restarted it.
    assert!(
        !children_matching(gw_pid, "portcullis-killable").contains(&victim),
        "the killed child {victim} is still there"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("backend back up") && l.contains("backend=memory")),
        "no restart logged:\n{log}"
    );
}

#[test]
fn a_killed_http_backend_vanishes_fails_clearly_and_returns_on_the_same_port() {
    let d = deps();
    let (mut fixture, fixture_url) = start_conformance_server();
    let port: u16 = fixture_url
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {fixture_url}"));
    let dir = tempfile::tempdir().unwrap();
    let memory_file = dir.path().join("memory.jsonl");
    let config = format!(
        "{ANON}{}{}",
        memory(&d, "memory", &memory_file),
        http_backend("conformance", &fixture_url)
    );
    let gw = start_gateway_in(&config, dir);
    let wait = |s: u64| json!({"op": "wait_tools_changed", "timeout": s});
    let mut client = BackgroundClient::start(
        &gw.url,
        &json!([
            {"op": "list_tools"},
            {"op": "call_tool", "name": "conformance__test_simple_text", "arguments": {}},
            {"op": "call_tool", "name": "memory__create_entities", "arguments": marker("sync-ready")},
            wait(60),
            {"op": "list_tools"},
            {"op": "call_tool", "name": "conformance__test_simple_text", "arguments": {}},
            {"op": "call_tool", "name": "memory__read_graph", "arguments": {}},
            {"op": "call_tool", "name": "memory__create_entities", "arguments": marker("sync-down-checked")},
            wait(90),
            {"op": "list_tools"},
            {"op": "call_tool", "name": "conformance__test_simple_text", "arguments": {}},
            {"op": "list_prompts"},
        ]),
        &[],
    );
    wait_for_marker(&memory_file, "sync-ready", &mut client, &gw);
    fixture.kill();

    wait_for_marker(&memory_file, "sync-down-checked", &mut client, &gw);
    let mut cmd = Command::new(conformance_server_bin());
    cmd.args(["--port", &port.to_string()]);
    let revived = Proc::spawn(cmd);
    let line = revived.wait_for_line("listening on", Duration::from_secs(30));
    assert!(line.ends_with(&fixture_url), "{line} vs {fixture_url}");
    let run = client.finish(Duration::from_secs(150));
    let s = steps(&run);
    let log = plain_log(&gw);

    let before = list_steps_names(&run, 0);
    assert!(prefixed(&before, "conformance__") > 0, "{before:?}");
    tool_text(&s[1], "conformance before the kill");
    ok_log(&s[3], "the list_changed after the kill", &log);
    let during = list_steps_names(&run, 4);
    assert_eq!(
        prefixed(&during, "conformance__"),
        0,
        "dead backend still listed: {during:?}\n{log}"
    );
    assert_eq!(
        prefixed(&during, "memory__"),
        MEMORY_TOOLS.len(),
        "{during:?}"
    );
    assert_backend_error(&s[5], "conformance");
    assert!(tool_text(&s[6], "memory__read_graph").contains("sync-ready"));
    ok_log(&s[8], "the list_changed after the fixture came back", &log);
    assert_eq!(list_steps_names(&run, 9), before);
    assert_eq!(
        tool_text(&s[10], "conformance after the restart"),
        "This is a simple text response for testing."
    );
    assert!(
        name_set(ok(&s[11], "prompts/list"), "prompts").contains("conformance__test_simple_prompt"),
        "{}",
        s[11]
    );
}
