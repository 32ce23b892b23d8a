use std::path::Path;

use governor::clock::FakeRelativeClock;

use super::*;

const BASE: &str = r#"
[listen]
address = "127.0.0.1:0"
[auth]
mode = "anonymous"
dangerous_allow_anonymous = true
[[backend]]
name = "github"
url = "http://github.invalid:1/mcp"
[[backend]]
name = "files"
url = "http://files.invalid:2/mcp"
"#;

fn parse(limits: &str) -> Result<Config, ConfigError> {
    Config::parse(&format!("{BASE}{limits}"), "test.toml", Path::new("/tmp"))
}

fn limits(text: &str) -> (Limits<FakeRelativeClock>, FakeRelativeClock) {
    let clock = FakeRelativeClock::default();
    let cfg = parse(text).unwrap();
    let setup = Setup {
        backends: &cfg.backend_names(),
        session_retry: Duration::from_secs(cfg.session.idle_timeout_secs),
        source_name: &cfg.source_name,
    };
    (
        Limits::with_clock(&cfg.limits, setup, clock.clone()).unwrap(),
        clock,
    )
}

fn call(l: &Limits<FakeRelativeClock>, who: &str, tool: &str) -> Result<(), LimitExceeded> {
    l.check_call(who, "github", &format!("github__{tool}"), tool)
}

#[test]
fn rates_parse_in_both_forms() {
    let spec = |rate: &str, burst| RateSpec {
        rate: rate.into(),
        burst,
    };
    let r = spec("100/min", None).parse().unwrap();
    assert_eq!(r.count.get(), 100);
    assert_eq!(r.period, Duration::from_secs(60));
    assert_eq!(r.burst.get(), 100, "a string's burst is its count");
    let r = spec(" 5 / hour ", Some(2)).parse().unwrap();
    assert_eq!(
        (r.count.get(), r.period, r.burst.get()),
        (5, Duration::from_secs(3600), 2)
    );
    assert_eq!(spec("3/sec", None).parse().unwrap().to_string(), "3/s");
    for bad in ["100", "100/m", "0/s", "-1/s", "x/min", "100/day", "/s"] {
        let err = spec(bad, None).parse().unwrap_err().to_string();
        assert!(err.contains(&format!("`{bad}`")), "{bad}: {err}");
    }
    assert!(
        spec("1/s", Some(0))
            .parse()
            .unwrap_err()
            .to_string()
            .contains("burst 0")
    );
}

#[test]
fn config_without_limits_is_unlimited() {
    let (l, _) = limits("");
    assert!(l.is_unlimited());
    for _ in 0..10_000 {
        call(&l, "alice", "create_issue").unwrap();
    }
    l.check_session("alice", 1_000_000).unwrap();
    assert!(l.is_empty());
}

#[test]
fn config_errors_name_key_and_line() {
    // Rates are reported at their value's line (14), table-level problems at the header (13).
    let cases = [
        (
            "[limits]\nper_principal = \"100/mn\"\n",
            "limits.per_principal",
            14,
        ),
        (
            "[limits]\nglobal = { rate = \"1/s\", burst = 0 }\n",
            "limits.global",
            14,
        ),
        (
            "[limits]\nmax_sessions_per_principal = 0\n",
            "limits.max_sessions_per_principal",
            14,
        ),
        (
            "[limits.backend.gitlab]\nper_backend = \"1/s\"\n",
            "limits.backend.gitlab",
            13,
        ),
        (
            "[limits.backend.github]\nper_principal_tool = \"1/fortnight\"\n",
            "limits.backend.github.per_principal_tool",
            14,
        ),
        (
            "[limits.tool.\"github\"]\nper_principal = \"1/s\"\n",
            "limits.tool.\"github\"",
            13,
        ),
        (
            "[limits.tool.\"nope/x\"]\nper_principal = \"1/s\"\n",
            "limits.tool.\"nope/x\"",
            13,
        ),
    ];
    let mut wrong = Vec::new();
    for (text, key, line) in cases {
        let err = parse(text).unwrap_err().to_string();
        if !(err.contains(&format!("key `{key}`"))
            && err.starts_with(&format!("test.toml:{line}:")))
        {
            wrong.push(err);
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Unknown keys and malformed tables are refused by the parser, naming the key.
    let err = parse("[limits]\nper_princpal = \"1/s\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("per_princpal"), "{err}");
    let err = parse("[limits]\nglobal = { rate = \"1/s\", burts = 3 }\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("burts"), "{err}");
    let err = parse("[limits]\nglobal = { burst = 3 }\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("rate"), "{err}");
    let err = parse("[limits]\nglobal = 5\n").unwrap_err().to_string();
    assert!(err.contains("100/min"), "{err}");
}

#[test]
fn per_principal_tool_refuses_with_name_and_retry() {
    let (l, clock) = limits("[limits]\nper_principal_tool = \"2/min\"\n");
    call(&l, "alice", "create_issue").unwrap();
    call(&l, "alice", "create_issue").unwrap();
    let e = call(&l, "alice", "create_issue").unwrap_err();
    assert_eq!(e.limit, "per_principal_tool");
    assert_eq!(e.key, "alice github__create_issue");
    assert_eq!(e.retry_after, Duration::from_secs(30));
    assert_eq!(e.rule, "limits.per_principal_tool = 2/min");
    let msg = e.to_string();
    assert!(
        msg.contains("`per_principal_tool`") && msg.contains("retry after 30 s"),
        "{msg}"
    );
    // Other tools, other principals and the same tool on another backend are separate.
    call(&l, "alice", "list_issues").unwrap();
    call(&l, "bob", "create_issue").unwrap();
    l.check_call("alice", "files", "files__create_issue", "create_issue")
        .unwrap();
    clock.advance(Duration::from_secs(30));
    call(&l, "alice", "create_issue").unwrap();
    assert!(call(&l, "alice", "create_issue").is_err());
}

#[test]
fn most_specific_override_wins() {
    let (l, _) = limits(
        r#"
[limits]
per_principal_tool = "10/min"
[limits.backend.github]
per_principal_tool = "3/min"
[limits.tool."github/delete_repo"]
per_principal = "1/h"
"#,
    );
    call(&l, "alice", "delete_repo").unwrap();
    let e = call(&l, "alice", "delete_repo").unwrap_err();
    assert_eq!(
        e.rule,
        "limits.tool.\"github/delete_repo\".per_principal = 1/h"
    );
    assert_eq!(e.retry_after, Duration::from_secs(3600));
    for _ in 0..3 {
        call(&l, "alice", "create_issue").unwrap();
    }
    let e = call(&l, "alice", "create_issue").unwrap_err();
    assert_eq!(e.rule, "limits.backend.github.per_principal_tool = 3/min");
    for _ in 0..10 {
        l.check_call("alice", "files", "files__read", "read")
            .unwrap();
    }
    let e = l
        .check_call("alice", "files", "files__read", "read")
        .unwrap_err();
    assert_eq!(e.rule, "limits.per_principal_tool = 10/min");
    // The tool override matches the original name, whatever the tool is exposed as.
    let e = l
        .check_call("alice", "github", "renamed_delete", "delete_repo")
        .unwrap_err();
    assert_eq!(e.key, "alice renamed_delete");
}

#[test]
fn backend_and_global_limits() {
    let (l, _) = limits(
        r#"
[limits]
per_backend = "5/min"
global = "7/min"
[limits.backend.files]
per_backend = "100/min"
"#,
    );
    for i in 0..5 {
        call(&l, &format!("p{i}"), "t").unwrap();
    }
    let e = call(&l, "p9", "t").unwrap_err();
    assert_eq!(
        (e.limit.as_str(), e.key.as_str()),
        ("per_backend", "github")
    );
    l.check_call("p1", "files", "f", "f").unwrap();
    l.check_call("p2", "files", "f", "f").unwrap();
    let e = l.check_call("p3", "files", "f", "f").unwrap_err();
    assert_eq!((e.limit.as_str(), e.key.as_str()), ("global", "*"));
}

#[test]
fn refused_call_consumes_no_other_quota() {
    let (l, _) = limits(
        r#"
[limits]
per_principal = "3/min"
per_principal_tool = "1/min"
global = "4/min"
"#,
    );
    call(&l, "alice", "a").unwrap();
    // Refused by per_principal_tool: must not count against per_principal or global.
    for _ in 0..100 {
        let e = call(&l, "alice", "a").unwrap_err();
        assert_eq!(e.limit, "per_principal_tool");
    }
    call(&l, "alice", "b").unwrap();
    call(&l, "alice", "c").unwrap();
    // alice's per-principal quota (3) is now spent; refusals still spend no global quota.
    for _ in 0..100 {
        assert_eq!(call(&l, "alice", "d").unwrap_err().limit, "per_principal");
    }
    call(&l, "bob", "a").unwrap();
    assert_eq!(call(&l, "carol", "a").unwrap_err().limit, "global");
}

#[test]
fn longest_wait_is_reported() {
    let (l, clock) = limits(
        r#"
[limits]
per_principal = "1/h"
per_principal_tool = "1/min"
"#,
    );
    call(&l, "alice", "a").unwrap();
    let e = call(&l, "alice", "a").unwrap_err();
    assert_eq!(e.limit, "per_principal");
    assert_eq!(e.retry_after, Duration::from_secs(3600));
    clock.advance(Duration::from_secs(3600));
    call(&l, "alice", "a").unwrap();
}

#[test]
fn burst_then_steady_rate() {
    let (l, clock) = limits("[limits]\nper_principal = { rate = \"60/min\", burst = 3 }\n");
    for _ in 0..3 {
        call(&l, "alice", "t").unwrap();
    }
    let e = call(&l, "alice", "t").unwrap_err();
    assert_eq!(e.retry_after, Duration::from_secs(1));
    assert_eq!(e.retry_after_secs(), 1);
    clock.advance(Duration::from_secs(1));
    call(&l, "alice", "t").unwrap();
    assert!(call(&l, "alice", "t").is_err());
}

#[test]
fn principal_keys_cannot_collide_into_another_bucket() {
    let (l, _) = limits("[limits]\nper_principal_tool = \"1/min\"\n");
    // Without length-prefixed keys "a:b" + "c" and "a" + "b:c" could share a bucket.
    l.check_call("a\0github", "github", "x", "t").unwrap();
    l.check_call("a", "github", "x", "github\0t").unwrap();
    l.check_call("a:", "github", "x", "t").unwrap();
    l.check_call("a", "github", "x", ":t").unwrap();
}

#[test]
fn sessions_per_principal() {
    let (l, _) = limits("[limits]\nmax_sessions_per_principal = 2\n[session]\n");
    l.check_session("alice", 0).unwrap();
    l.check_session("alice", 1).unwrap();
    let e = l.check_session("alice", 2).unwrap_err();
    assert_eq!(e.limit, "max_sessions_per_principal");
    assert_eq!(e.key, "alice");
    // The default idle timeout: when an idle session would be gone.
    assert_eq!(e.retry_after, Duration::from_secs(1800));
    assert!(e.to_string().contains("end a session"), "{e}");
}

#[test]
fn pruning_bounds_memory_under_key_churn() {
    let (l, clock) = limits(
        r#"
[limits]
per_principal = "1000/s"
per_principal_tool = "1000/s"
"#,
    );
    const KEYS: usize = 1_000_000;
    let mut key = String::new();
    for i in 0..KEYS {
        key.clear();
        std::fmt::Write::write_fmt(&mut key, format_args!("principal-{i}")).unwrap();
        call(&l, &key, "t").unwrap();
    }
    assert_eq!(l.len(), 2 * KEYS, "one entry per key in both limiters");
    // A key still within its window survives pruning; the churned ones do not.
    clock.advance(Duration::from_secs(10));
    call(&l, "steady", "t").unwrap();
    l.prune();
    assert_eq!(l.len(), 2, "only the recent key is kept in each limiter");
    // Its state is kept: a refusal after pruning still refuses.
    let (l, _) = limits("[limits]\nper_principal = \"1/h\"\n");
    call(&l, "alice", "t").unwrap();
    l.prune();
    assert_eq!(l.len(), 1);
    assert!(call(&l, "alice", "t").is_err());
}

#[tokio::test]
async fn pruner_runs_and_stops_with_the_limits() {
    let (l, clock) = limits("[limits]\nper_principal = \"10/s\"\n");
    let l = Arc::new(l);
    for i in 0..100 {
        call(&l, &format!("p{i}"), "t").unwrap();
    }
    assert_eq!(l.len(), 100);
    let task = l.spawn_pruner(Duration::from_millis(10));
    clock.advance(Duration::from_secs(10));
    for _ in 0..500 {
        if l.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(l.is_empty(), "pruner did not prune: {} keys", l.len());
    drop(l);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("pruner stops once the limits are dropped")
        .unwrap();
}
