//! stdio backends end to end: the child sees only its configured environment (nothing of the
//! gateway's), runs in its configured working directory, is executed without a shell, and runs
//! under its `resource_limits`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::json;

/// A stdio MCP server in POSIX sh (builtins only) whose one tool, `probe`, reports what the
/// process sees: variables, working directory and limits.
const PROBE_SH: &str = r#"
while IFS= read -r line; do
  id=${line#*\"id\":}
  id=${id%%,*}
  case "$line" in
    *'"method":"initialize"'*)
      printf '%s\n' "{\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"tools\":{}},\"serverInfo\":{\"name\":\"probe\",\"version\":\"1\"}}}" ;;
    *'"method":"tools/list"'*)
      printf '%s\n' "{\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":{\"tools\":[{\"name\":\"probe\",\"inputSchema\":{\"type\":\"object\"}}]}}" ;;
    *'"name":"probe"'*)
      t="log=${PORTCULLIS_LOG-unset} home=${HOME-unset} allowed=${ALLOWED-unset} cwd=$(pwd) nofile=$(ulimit -n) as=$(ulimit -v) cpu=$(ulimit -t)"
      printf '%s\n' "{\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"$t\"}]}}" ;;
  esac
done
"#;

#[test]
fn a_stdio_backend_gets_its_env_its_cwd_its_limits_and_no_shell() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("probe.sh");
    write(&script, PROBE_SH);
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let pwned = dir.path().join("pwned");
    let config = format!(
        "{ANON}\n[[backend]]\nname = \"probe\"\ncommand = [\"/bin/sh\", {script}]\n\
         env = {{ ALLOWED = \"yes\" }}\ncwd = {work}\n\
         resource_limits = {{ open_files = 64, address_space_mb = 2048, cpu_secs = 300 }}\n\n\
         [[backend]]\nname = \"shell\"\ncommand = [{injected}]\n",
        script = serde_json::to_string(&script.display().to_string()).unwrap(),
        work = serde_json::to_string(&work.display().to_string()).unwrap(),
        injected =
            serde_json::to_string(&format!("/bin/echo hi; touch {}", pwned.display())).unwrap(),
    );
    let gw = start_gateway_in(&config, dir);
    let rt = runtime();
    let mut client = RawClient::new(&gw.url);
    rt.block_on(client.initialize());
    let m = rt.block_on(client.request(
        "tools/call",
        json!({ "name": "probe__probe", "arguments": {} }),
    ));
    let text = m["result"]["content"][0]["text"].as_str().unwrap();
    // The gateway runs with PORTCULLIS_LOG and HOME set; the child sees neither.
    assert!(text.contains("log=unset home=unset allowed=yes"), "{text}");
    assert!(text.contains(&format!("cwd={}", work.display())), "{text}");
    assert!(text.contains("nofile=64"), "{text}");
    assert!(text.contains(&format!("as={}", 2048 * 1024)), "{text}");
    assert!(text.contains("cpu=300"), "{text}");

    // `command` is an argv: the "shell" backend names a program that does not exist, and
    // nothing after the `;` ran.
    // (The program is refused by whichever looks for it first: integrity pinning or spawn.)
    let log = gw.proc.stderr();
    assert!(
        log.contains("cannot find `/bin/echo hi; touch")
            || log.contains("cannot start `/bin/echo hi; touch"),
        "no refusal of the whole string as a program logged:\n{log}"
    );
    assert!(!pwned.exists(), "a shell ran the injected command");
}

#[test]
fn resource_limits_are_refused_on_http_backends_and_when_zero() {
    let dir = tempfile::tempdir().unwrap();
    for (name, backend, needle) in [
        (
            "http.toml",
            "url = \"https://mcp.example.com/mcp\"\nresource_limits = { open_files = 10 }\n",
            "backend `b` is not a stdio backend",
        ),
        (
            "zero.toml",
            "command = [\"/bin/true\"]\nresource_limits = { cpu_secs = 0 }\n",
            "limits must be at least 1",
        ),
    ] {
        let path = dir.path().join(name);
        write(
            &path,
            &format!("{ANON}\n[[backend]]\nname = \"b\"\n{backend}"),
        );
        let out = std::process::Command::new(portcullis_bin())
            .args(["check", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("key `backend[0].resource_limits`"),
            "{name}: {err}"
        );
        assert!(err.contains(needle), "{name}: {err}");
    }
}

/// Issue 16 item 6: each message names the key or the cause, the file:line where the config
/// is wrong, and the fix — through `portcullis check`, as an operator meets them.
#[test]
fn config_and_start_up_messages_say_what_is_wrong_and_how_to_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    let check = |name: &str, backend: &str| {
        let path = dir.path().join(name);
        // Integrity off: the dying child must reach its spawn, not stop at the executable pin.
        write(
            &path,
            &format!(
                "{}\n[[backend]]\nname = \"b\"\n{backend}",
                ANON.replace("[integrity]\n", "[integrity]\nmode = \"off\"\n")
            ),
        );
        let out = std::process::Command::new(portcullis_bin())
            .args(["check", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name} passed check");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let line = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .position(|l| l.starts_with(backend.lines().last().unwrap()))
            .unwrap()
            + 1;
        (text, format!("{name}:{line}:"))
    };

    // A number where a string or secret reference belongs: what was found, what is wanted.
    let (out, at) = check(
        "number.toml",
        "command = [\"/bin/true\"]\nenv = { PORT = 8080 }\n",
    );
    assert!(out.contains(&at), "no file:line `{at}`: {out}");
    assert!(
        out.contains("integer `8080`") && out.contains("quote numbers"),
        "{out}"
    );
    assert!(!out.contains("did not match any variant"), "{out}");

    // A missing working directory is blamed on `cwd`, not on the program.
    let (out, at) = check(
        "cwd.toml",
        "command = [\"/bin/true\"]\ncwd = \"no/such/dir\"\n",
    );
    assert!(out.contains(&at), "no file:line `{at}`: {out}");
    assert!(out.contains("key `backend[0].cwd`"), "{out}");
    assert!(out.contains("does not exist"), "{out}");
    assert!(!out.contains("cannot start `/bin/true`"), "{out}");

    // A child that dies at start: its exit status.
    let (out, _) = check(
        "dies.toml",
        "command = [\"/bin/sh\", \"-c\", \"echo dying >&2; exit 3\"]\n",
    );
    assert!(out.contains("exit status: 3"), "{out}");
}
