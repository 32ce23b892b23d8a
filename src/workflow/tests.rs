//! Unit tests of workflow validation, planning and execution (the executor with a scripted
//! runner; end-to-end runs through the gateway are in `tests/workflow.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::exec::{self, Called, Runner, Status, StepReport};
use super::*;
use crate::config::{Config, ConfigError};

const PRELUDE: &str = r#"
[listen]
address = "127.0.0.1:0"

[auth]
mode = "anonymous"
dangerous_allow_anonymous = true
"#;

fn parse(workflows: &str) -> Result<Config, ConfigError> {
    Config::parse(
        &format!("{PRELUDE}{workflows}"),
        "test.toml",
        Path::new("."),
    )
}

fn err(workflows: &str) -> String {
    match parse(workflows) {
        Ok(_) => panic!("config should be rejected:\n{workflows}"),
        Err(e) => e.to_string(),
    }
}

const DIAMOND: &str = r#"
[[workflows]]
name = "diamond"
description = "Fan out and in"
input_schema = { type = "object", properties = { who = { type = "string" } }, required = ["who"] }
output = "{{ steps.join.text }}"

[[workflows.steps]]
id = "a"
tool = "x__one"
arguments = { name = "{{ inputs.who }}" }

[[workflows.steps]]
id = "b"
tool = "x__two"
arguments = { n = 1 }

[[workflows.steps]]
id = "c"
tool = "x__three"
depends_on = ["a"]

[[workflows.steps]]
id = "join"
tool = "x__four"
depends_on = ["b", "c"]
arguments = { left = "{{ steps.a.json.v }}", right = "{{ steps.b.text }}", all = "{{ steps.c.status }}" }
"#;

#[test]
fn a_valid_workflow_compiles_into_waves() {
    let cfg = parse(DIAMOND).unwrap();
    let set = load(&cfg).unwrap();
    let w = set.get("diamond").unwrap();
    let ids =
        |wave: &Vec<usize>| -> Vec<&str> { wave.iter().map(|i| w.steps[*i].id.as_str()).collect() };
    let waves: Vec<Vec<&str>> = w.waves.iter().map(ids).collect();
    assert_eq!(waves, vec![vec!["a", "b"], vec!["c"], vec!["join"]]);
    // `join` may read a (through c) and b and c.
    assert_eq!(w.steps[3].upstream.len(), 3);
    let plan = plan::render(w);
    assert!(plan.contains("1. a, b (in parallel"), "{plan}");
    assert!(plan.contains("3. join"), "{plan}");
    assert_eq!(
        w.tool_definition()["inputSchema"]["required"],
        json!(["who"])
    );
}

#[test]
fn a_cycle_is_rejected_with_its_path_and_line() {
    let e = err(r#"
[[workflows]]
name = "loop"
description = "never ends"

[[workflows.steps]]
id = "a"
tool = "x__a"
depends_on = ["c"]

[[workflows.steps]]
id = "b"
tool = "x__b"
depends_on = ["a"]

[[workflows.steps]]
id = "c"
tool = "x__c"
depends_on = ["b"]
"#);
    assert!(e.contains("dependency cycle"), "{e}");
    assert!(
        e.contains("a → b → c → a") || e.contains("c → a → b → c") || e.contains("b → c → a → b"),
        "{e}"
    );
    assert!(e.starts_with("test.toml:"), "{e}");
    assert!(e.contains("workflows[0].steps["), "{e}");
}

#[test]
fn self_and_unknown_dependencies_are_rejected() {
    let e = err(r#"
[[workflows]]
name = "w"
description = "d"
[[workflows.steps]]
id = "a"
tool = "x__a"
depends_on = ["a"]
"#);
    assert!(e.contains("depends on itself"), "{e}");
    let e = err(r#"
[[workflows]]
name = "w"
description = "d"
[[workflows.steps]]
id = "a"
tool = "x__a"
depends_on = ["nope"]
"#);
    assert!(e.contains("unknown step `nope`"), "{e}");
}

#[test]
fn templates_may_only_read_upstream_steps_and_declared_inputs() {
    // b reads a, but does not depend on it.
    let e = err(r#"
[[workflows]]
name = "w"
description = "d"
[[workflows.steps]]
id = "a"
tool = "x__a"
[[workflows.steps]]
id = "b"
tool = "x__b"
arguments = { v = "{{ steps.a.text }}" }
"#);
    assert!(e.contains("`steps.a` is not upstream of step `b`"), "{e}");
    assert!(e.contains("steps[1].arguments"), "{e}");
    let line: usize = e.split(':').nth(1).unwrap().parse().unwrap();
    assert_eq!(line, 18, "{e}");

    let e = err(r#"
[[workflows]]
name = "w"
description = "d"
input_schema = { type = "object", properties = { path = { type = "string" } } }
[[workflows.steps]]
id = "a"
tool = "x__a"
arguments = { v = "{{ inputs.pth }}" }
"#);
    assert!(
        e.contains("`inputs.pth` is not in the workflow's `input_schema`"),
        "{e}"
    );

    let e = err(r#"
[[workflows]]
name = "w"
description = "d"
[[workflows.steps]]
id = "a"
tool = "x__a"
when = "secrets.token"
"#);
    assert!(e.contains("unknown variable `secrets`"), "{e}");

    let e = err(r#"
[[workflows]]
name = "w"
description = "d"
output = "{{ steps.zz.text }}"
[[workflows.steps]]
id = "a"
tool = "x__a"
"#);
    assert!(e.contains("no step `zz`"), "{e}");

    let e = err(r#"
[[workflows]]
name = "w"
description = "d"
[[workflows.steps]]
id = "a"
tool = "x__a"
arguments = { v = "{{ inputs.x " }
"#);
    assert!(e.contains("does not compile"), "{e}");
}

#[test]
fn other_mistakes_name_their_key() {
    let e = err(r#"
[[workflows]]
name = "find_tool"
description = "d"
[[workflows.steps]]
id = "a"
tool = "x__a"
"#);
    assert!(e.contains("meta-tool"), "{e}");
    let e = err(r#"
[[workflows]]
name = "w"
description = "d"
[[workflows.steps]]
id = "a"
tool = "x__a"
retries = 3
"#);
    assert!(e.contains("need `on_error = \"retry\"`"), "{e}");
    let e = err(r#"
[[workflows]]
name = "w"
description = "d"
[[workflows.steps]]
id = "a-b"
tool = "x__a"
"#);
    assert!(e.contains("must be an identifier"), "{e}");
    let e = err(r#"
[[workflows]]
name = "w"
description = "d"
[[workflows.steps]]
id = "a"
tool = "x__a"
[[workflows.steps]]
id = "a"
tool = "x__b"
"#);
    assert!(e.contains("duplicate step id `a`"), "{e}");
    let e = err(r#"
[[workflows]]
name = "w"
description = "d"
steps = []
"#);
    assert!(e.contains("at least one"), "{e}");
}

#[test]
fn workflow_files_are_loaded_and_their_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("workflows")).unwrap();
    std::fs::write(
        dir.path().join("workflows/one.toml"),
        "name = \"one\"\ndescription = \"d\"\n[[steps]]\nid = \"a\"\ntool = \"x__a\"\n",
    )
    .unwrap();
    let text = format!("workflows_dir = \"workflows\"\n{PRELUDE}");
    let cfg = Config::parse(&text, "cfg.toml", dir.path()).unwrap();
    assert!(load(&cfg).unwrap().get("one").is_some());

    std::fs::write(
        dir.path().join("workflows/two.toml"),
        "name = \"two\"\ndescription = \"d\"\n\n[[steps]]\nid = \"a\"\ntool = \"x__a\"\ndepends_on = [\"a\"]\n",
    )
    .unwrap();
    let e = Config::parse(&text, "cfg.toml", dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("two.toml:7: key `steps[0].depends_on`"), "{e}");
}

#[test]
fn the_catalog_check_rejects_unknown_tools_when_every_backend_answered() {
    let cfg = parse(DIAMOND).unwrap();
    let namer = crate::catalog::Namer::new(cfg.naming.clone(), &["x".to_owned()]);
    let tools: Vec<Value> = ["one", "two", "three"]
        .iter()
        .map(|n| json!({ "name": n, "inputSchema": { "type": "object" } }))
        .collect();
    let (merged, _) = namer.merge(&[("x".to_owned(), std::sync::Arc::new(tools))]);
    let e = load(&cfg)
        .unwrap()
        .check_catalog(&merged, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown tool `x__four`"), "{e}");
    assert!(e.contains("workflows[0].steps[3].tool"), "{e}");
    // A backend that was not probed may have it: a warning, not an error.
    let w = load(&cfg)
        .unwrap()
        .check_catalog(&merged, &["y".to_owned()])
        .unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
}

#[test]
fn inputs_are_checked_against_the_schema() {
    let cfg = parse(DIAMOND).unwrap();
    let set = load(&cfg).unwrap();
    let w = set.get("diamond").unwrap();
    assert!(w.check_inputs(&json!({ "who": "ann" })).is_ok());
    assert!(
        w.check_inputs(&json!({}))
            .unwrap_err()
            .to_string()
            .contains("missing required argument `who`")
    );
    assert!(
        w.check_inputs(&json!({ "who": 3 }))
            .unwrap_err()
            .to_string()
            .contains("type")
    );
    assert!(w.check_inputs(&json!([1])).is_err());
}

/// A runner that answers from a script and records what happened.
#[derive(Default)]
struct Scripted {
    /// tool → answers, one per call (the last one repeats).
    answers: HashMap<String, Vec<Called>>,
    delay: Duration,
    calls: Mutex<Vec<(String, Value)>>,
    running: AtomicUsize,
    max_running: AtomicUsize,
    finished: Mutex<Vec<(String, Status)>>,
}

impl Runner for Scripted {
    fn call<'a>(
        &'a self,
        step: &'a Step,
        arguments: &'a Value,
        _attempt: u32,
    ) -> BoxFuture<'a, Called> {
        Box::pin(async move {
            let n = {
                let mut c = self.calls.lock().unwrap();
                c.push((step.tool.clone(), arguments.clone()));
                c.iter().filter(|(t, _)| *t == step.tool).count()
            };
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_running.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            self.running.fetch_sub(1, Ordering::SeqCst);
            let list = self.answers.get(&step.tool);
            list.and_then(|l| l.get(n - 1).or(l.last()))
                .cloned()
                .unwrap_or_else(|| {
                    Called::Result(json!({ "content": [{ "type": "text", "text": "{\"v\": 7}" }] }))
                })
        })
    }
    fn finished(&self, _w: &Workflow, r: &StepReport) {
        self.finished.lock().unwrap().push((r.id.clone(), r.status));
    }
}

fn ok(text: &str) -> Called {
    Called::Result(json!({ "content": [{ "type": "text", "text": text }] }))
}

fn tool_error(text: &str) -> Called {
    Called::Result(json!({ "content": [{ "type": "text", "text": text }], "isError": true }))
}

fn load(cfg: &Config) -> Result<Workflows, ConfigError> {
    Workflows::load(Definitions {
        inline: &cfg.workflows,
        source_name: &cfg.source_name,
        text: &cfg.text,
        files: &cfg.workflow_files,
    })
}

fn workflow(cfg: &Config, name: &str) -> Workflow {
    (**load(cfg).unwrap().get(name).unwrap()).clone()
}

#[tokio::test]
async fn independent_steps_run_together_and_templates_keep_types() {
    let cfg = parse(DIAMOND).unwrap();
    let w = workflow(&cfg, "diamond");
    let runner = Scripted {
        answers: HashMap::from([
            ("x__two".to_owned(), vec![ok("two")]),
            ("x__four".to_owned(), vec![ok("joined")]),
        ]),
        delay: Duration::from_millis(50),
        ..Default::default()
    };
    let env = template::environment();
    let run = exec::run(&w, &env, &json!({ "who": "ann" }), &runner).await;
    assert!(run.failure.is_none(), "{:?}", run.failure);
    assert_eq!(run.output.as_ref().unwrap().0, "joined");
    assert_eq!(
        runner.max_running.load(Ordering::SeqCst),
        2,
        "a and b together"
    );
    let calls = runner.calls.lock().unwrap().clone();
    assert_eq!(calls[0], ("x__one".to_owned(), json!({ "name": "ann" })));
    let join = calls.iter().find(|(t, _)| t == "x__four").unwrap();
    // `{{ steps.a.json.v }}` stays a number; text stays text.
    assert_eq!(join.1, json!({ "left": 7, "right": "two", "all": "ok" }));
}

#[tokio::test]
async fn max_parallel_bounds_concurrency() {
    let cfg = parse(
        r#"
[[workflows]]
name = "wide"
description = "d"
max_parallel = 2
[[workflows.steps]]
id = "a"
tool = "x__a"
[[workflows.steps]]
id = "b"
tool = "x__b"
[[workflows.steps]]
id = "c"
tool = "x__c"
[[workflows.steps]]
id = "d"
tool = "x__d"
"#,
    )
    .unwrap();
    let runner = Scripted {
        delay: Duration::from_millis(30),
        ..Default::default()
    };
    let run = exec::run(
        &workflow(&cfg, "wide"),
        &template::environment(),
        &json!({}),
        &runner,
    )
    .await;
    assert!(run.failure.is_none());
    assert_eq!(runner.max_running.load(Ordering::SeqCst), 2);
}

const RETRY: &str = r#"
[[workflows]]
name = "r"
description = "d"
[[workflows.steps]]
id = "a"
tool = "x__flaky"
on_error = "retry"
retries = 3
backoff_ms = 10
[[workflows.steps]]
id = "b"
tool = "x__after"
depends_on = ["a"]
"#;

#[tokio::test]
async fn retries_happen_as_configured() {
    let cfg = parse(RETRY).unwrap();
    let runner = Scripted {
        answers: HashMap::from([(
            "x__flaky".to_owned(),
            vec![tool_error("1"), tool_error("2"), ok("fine")],
        )]),
        ..Default::default()
    };
    let run = exec::run(
        &workflow(&cfg, "r"),
        &template::environment(),
        &json!({}),
        &runner,
    )
    .await;
    assert!(run.failure.is_none(), "{:?}", run.failure);
    assert_eq!(run.steps[0].attempts, 3);
    // Out of retries: the workflow fails naming the step and the attempts.
    let runner = Scripted {
        answers: HashMap::from([("x__flaky".to_owned(), vec![tool_error("down")])]),
        ..Default::default()
    };
    let run = exec::run(
        &workflow(&cfg, "r"),
        &template::environment(),
        &json!({}),
        &runner,
    )
    .await;
    let f = run.failure.unwrap();
    assert!(f.message.contains("after 4 attempts"), "{}", f.message);
    assert_eq!(run.steps[1].status, Status::NotRun);
}

#[tokio::test]
async fn a_denial_stops_the_workflow_and_is_never_retried() {
    let cfg = parse(RETRY).unwrap();
    let runner = Scripted {
        answers: HashMap::from([(
            "x__flaky".to_owned(),
            vec![Called::Error {
                code: crate::guard::code::DENIED,
                message: "denied by policy: tool `x__flaky`".into(),
                data: None,
            }],
        )]),
        ..Default::default()
    };
    let run = exec::run(
        &workflow(&cfg, "r"),
        &template::environment(),
        &json!({}),
        &runner,
    )
    .await;
    let f = run.failure.unwrap();
    assert_eq!(f.refusal.as_ref().unwrap().0, crate::guard::code::DENIED);
    assert!(f.message.contains("stopped at step `a`"), "{}", f.message);
    assert_eq!(run.steps[0].attempts, 1);
    assert_eq!(run.steps[0].status, Status::Denied);
    assert_eq!(run.steps[1].status, Status::NotRun);
    assert_eq!(runner.calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn continue_and_conditions_shape_the_path() {
    let cfg = parse(
        r#"
[[workflows]]
name = "c"
description = "d"
input_schema = { type = "object", properties = { deep = { type = "boolean", default = false } } }
[[workflows.steps]]
id = "a"
tool = "x__broken"
on_error = "continue"
[[workflows.steps]]
id = "b"
tool = "x__deep"
when = "inputs.deep"
[[workflows.steps]]
id = "c"
tool = "x__report"
depends_on = ["a", "b"]
arguments = { a = "{{ steps.a.status }}", b = "{{ steps.b.status }}" }
"#,
    )
    .unwrap();
    let w = workflow(&cfg, "c");
    let runner = Scripted {
        answers: HashMap::from([("x__broken".to_owned(), vec![tool_error("no")])]),
        ..Default::default()
    };
    let inputs = w.with_defaults(&json!({}));
    let run = exec::run(&w, &template::environment(), &inputs, &runner).await;
    assert!(run.failure.is_none(), "{:?}", run.failure);
    let statuses: Vec<Status> = run.steps.iter().map(|s| s.status).collect();
    assert_eq!(statuses, [Status::Failed, Status::Skipped, Status::Ok]);
    let calls = runner.calls.lock().unwrap().clone();
    assert_eq!(
        calls.last().unwrap().1,
        json!({ "a": "error", "b": "skipped" })
    );
    // The same inputs take the same path.
    let again = Scripted {
        answers: HashMap::from([("x__broken".to_owned(), vec![tool_error("no")])]),
        ..Default::default()
    };
    let run2 = exec::run(&w, &template::environment(), &inputs, &again).await;
    let s2: Vec<Status> = run2.steps.iter().map(|s| s.status).collect();
    assert_eq!(statuses, s2);
}

#[tokio::test]
async fn a_missing_value_fails_the_step_instead_of_sending_blanks() {
    let cfg = parse(
        r#"
[[workflows]]
name = "m"
description = "d"
[[workflows.steps]]
id = "a"
tool = "x__a"
[[workflows.steps]]
id = "b"
tool = "x__b"
depends_on = ["a"]
arguments = { v = "{{ steps.a.json.missing }}" }
"#,
    )
    .unwrap();
    let runner = Scripted::default();
    let run = exec::run(
        &workflow(&cfg, "m"),
        &template::environment(),
        &json!({}),
        &runner,
    )
    .await;
    let f = run.failure.unwrap();
    assert!(f.message.contains("arguments"), "{}", f.message);
    assert_eq!(runner.calls.lock().unwrap().len(), 1, "b was never called");
}

#[tokio::test]
async fn a_slow_step_times_out_and_the_workflow_limit_holds() {
    let cfg = parse(
        r#"
[[workflows]]
name = "t"
description = "d"
timeout_secs = 1
[[workflows.steps]]
id = "a"
tool = "x__slow"
"#,
    )
    .unwrap();
    let runner = Scripted {
        delay: Duration::from_secs(5),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let run = exec::run(
        &workflow(&cfg, "t"),
        &template::environment(),
        &json!({}),
        &runner,
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(run.failure.unwrap().message.contains("time limit"));
}
