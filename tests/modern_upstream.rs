//! `upstream::modern` against real 2026-07-28 servers: the rmcp fixture
//! `conformance-server-2026` (each `--protocol`), the Python `mcp` 2.3.0 SDK fixture over HTTP
//! (each `--era`) and over stdio. No mocks: every answer here came from a real server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use portcullis::protocol::meta::{Envelope, ParamHeaders, key};
use portcullis::upstream::modern::{Call, Era, ListenEvent, ModernBackend, Reply, ReplyEvent};
use portcullis::upstream::{BackendSpec, SpecKind, UpstreamError};
use serde_json::{Value, json};

use common::Proc;

fn http_spec(url: &str) -> Arc<BackendSpec> {
    let egress = Arc::new(portcullis::egress::Egress::new(vec![
        portcullis::egress::parse_net("127.0.0.1").unwrap(),
    ]));
    let client = egress.client_builder().build().unwrap();
    Arc::new(BackendSpec {
        name: "modern".into(),
        kind: SpecKind::Http {
            url: url.to_owned(),
            client,
        },
        timeout: Duration::from_secs(20),
        init_timeout: Duration::from_secs(10),
        max_message_bytes: 4 * 1024 * 1024,
        max_json_depth: 128,
        credentials: Arc::new(portcullis::credentials::Source::None),
        resource_limits: None,
        sharing: Default::default(),
        protocol: Default::default(),
        dangerous_unlisted_resources: false,
    })
}

fn stdio_spec(argv: Vec<String>, env: Vec<(String, String)>) -> Arc<BackendSpec> {
    Arc::new(BackendSpec {
        name: "modern-stdio".into(),
        kind: SpecKind::Stdio {
            argv,
            env,
            cwd: None,
        },
        timeout: Duration::from_secs(20),
        // The probe's bound includes the child's start: a Python interpreter importing the SDK
        // on a loaded 2-core machine takes well over ten seconds, and a probe that times out
        // is (rightly) a legacy verdict.
        init_timeout: Duration::from_secs(60),
        max_message_bytes: 4 * 1024 * 1024,
        max_json_depth: 128,
        credentials: Arc::new(portcullis::credentials::Source::None),
        resource_limits: None,
        sharing: Default::default(),
        protocol: Default::default(),
        dangerous_unlisted_resources: false,
    })
}

fn rmcp_2026_bin() -> PathBuf {
    common::conformance_server_bin().with_file_name("conformance-server-2026")
}

/// `conformance-server-2026 --protocol <era>` on a free port.
fn start_rmcp(era: &str) -> (Proc, String) {
    let mut cmd = Command::new(rmcp_2026_bin());
    cmd.args(["--port", "0", "--protocol", era]);
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("listening on", Duration::from_secs(30));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    (proc, url)
}

/// `tests/py/mcp2026_server.py --era <era>` on a free port.
fn start_python(era: &str) -> (Proc, String) {
    let d = common::deps();
    let mut cmd = Command::new(&d.python);
    cmd.arg(d.root.join("tests/py/mcp2026_server.py"))
        .args(["--port", "0", "--era", era]);
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("listening on", Duration::from_secs(60));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    (proc, url)
}

fn python_stdio_spec() -> Arc<BackendSpec> {
    let d = common::deps();
    stdio_spec(
        vec![
            d.python.display().to_string(),
            d.root
                .join("tests/py/mcp2026_stdio_server.py")
                .display()
                .to_string(),
        ],
        vec![("PATH".into(), "/usr/bin:/bin".into())],
    )
}

fn env() -> Envelope {
    let mut e = Envelope::new(json!({"elicitation": {}, "sampling": {}}));
    e.client_info = Some(json!({"name": "portcullis-test", "version": "1"}));
    e
}

fn call_msg(id: Value, tool: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": args}})
}

fn with_progress(mut msg: Value, token: &str) -> Value {
    msg["params"]["_meta"] = json!({"progressToken": token});
    msg
}

/// Read a reply to its end: (notifications in order, response).
async fn drain(mut reply: Reply) -> (Vec<Value>, Value) {
    let mut notes = Vec::new();
    loop {
        match reply.next().await.unwrap() {
            ReplyEvent::Notification(n) => notes.push(n),
            ReplyEvent::Response(r) => return (notes, r),
        }
    }
}

fn text_of(resp: &Value) -> String {
    resp["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content in {resp}"))
        .to_owned()
}

async fn tools(b: &ModernBackend) -> Vec<Value> {
    let msg = json!({"jsonrpc": "2.0", "id": "list", "method": "tools/list"});
    let resp = b
        .request(&env(), msg, Call::default())
        .await
        .unwrap()
        .response()
        .await
        .unwrap();
    resp["result"]["tools"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_tells_the_eras_of_the_rmcp_fixture_apart() {
    for (era, modern) in [("2026-07-28", true), ("dual", true), ("2025-11-25", false)] {
        let (_p, url) = start_rmcp(era);
        let b = ModernBackend::connect(http_spec(&url)).unwrap();
        match b.probe(&env(), Call::default()).await.unwrap() {
            Era::Modern(info) => {
                assert!(modern, "{era}: probed modern");
                assert!(info.supported_versions.iter().any(|v| v == "2026-07-28"));
                assert_eq!(
                    info.server_info.as_ref().unwrap()["name"],
                    "portcullis-conformance-server-2026"
                );
                assert!(info.capabilities["tools"].is_object(), "{info:?}");
                assert_eq!(info.modern_version(), Some("2026-07-28"));
            }
            Era::Legacy { versions, evidence } => {
                assert!(!modern, "{era}: probed legacy ({evidence})");
                // rmcp's legacy-only server answers -32022 naming the 2025 versions.
                assert_eq!(versions[0], "2025-11-25", "{evidence}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_tells_the_eras_of_the_python_fixture_apart() {
    for (era, modern) in [("modern", true), ("dual", true), ("legacy", false)] {
        let (_p, url) = start_python(era);
        let b = ModernBackend::connect(http_spec(&url)).unwrap();
        match b.probe(&env(), Call::default()).await.unwrap() {
            Era::Modern(info) => {
                assert!(modern, "{era}: probed modern");
                assert_eq!(
                    info.server_info.as_ref().unwrap()["name"],
                    "portcullis-py-fixture"
                );
            }
            Era::Legacy { versions, evidence } => {
                assert!(!modern, "{era}: probed legacy ({evidence})");
                // The SDK's 2025 transport: 400 `-32600` "Missing session ID", no versions.
                assert!(versions.is_empty(), "{versions:?}");
                assert!(evidence.contains("-32600"), "{evidence}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_progress_and_input_required_on_rmcp() {
    let (_p, url) = start_rmcp("2026-07-28");
    let b = ModernBackend::connect(http_spec(&url)).unwrap();

    let reply = b
        .request(
            &env(),
            call_msg(json!(41), "test_simple_text", json!({})),
            Call::default(),
        )
        .await
        .unwrap();
    assert_eq!(reply.status(), Some(200));
    let (notes, resp) = drain(reply).await;
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(resp["id"], 41);
    assert_eq!(
        text_of(&resp),
        "This is a simple text response for testing."
    );
    assert_eq!(resp["result"]["resultType"], "complete");

    // Progress: every notification, in order, before the response, on the call's own stream.
    let msg = with_progress(
        call_msg(json!("p"), "test_tool_with_progress", json!({})),
        "tok-1",
    );
    let (notes, resp) = drain(b.request(&env(), msg, Call::default()).await.unwrap()).await;
    let progress: Vec<f64> = notes
        .iter()
        .map(|n| {
            assert_eq!(n["method"], "notifications/progress");
            assert_eq!(n["params"]["progressToken"], "tok-1");
            n["params"]["progress"].as_f64().unwrap()
        })
        .collect();
    assert_eq!(progress, vec![0.0, 50.0, 100.0]);
    assert_eq!(resp["id"], "p");
    assert!(resp.get("result").is_some(), "{resp}");

    // Logs only when the envelope asks for them.
    let mut logging = env();
    logging.log_level = Some("info".into());
    let (notes, _) = drain(
        b.request(
            &logging,
            call_msg(json!(1), "test_tool_with_logging", json!({})),
            Call::default(),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(notes.iter().all(|n| n["method"] == "notifications/message"));
    let (notes, _) = drain(
        b.request(
            &env(),
            call_msg(json!(2), "test_tool_with_logging", json!({})),
            Call::default(),
        )
        .await
        .unwrap(),
    )
    .await;
    assert!(notes.is_empty(), "logs without a log level: {notes:?}");

    // MRTR is carried, not interpreted: `input_required` is a result like any other.
    let resp = b
        .request(
            &env(),
            call_msg(
                json!(3),
                "test_input_required_result_elicitation",
                json!({}),
            ),
            Call::default(),
        )
        .await
        .unwrap()
        .response()
        .await
        .unwrap();
    assert_eq!(resp["result"]["resultType"], "input_required", "{resp}");
    assert_eq!(
        resp["result"]["inputRequests"]["user_name"]["method"],
        "elicitation/create"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_param_headers_come_from_the_backends_schema() {
    let (_p, url) = start_rmcp("2026-07-28");
    let b = ModernBackend::connect(http_spec(&url)).unwrap();
    let listed = tools(&b).await;
    let tool = listed
        .iter()
        .find(|t| t["name"] == "test_custom_header")
        .unwrap();
    let params = ParamHeaders::from_schema(&tool["inputSchema"]).unwrap();
    assert_eq!(params.0.len(), 1);
    for region in ["us-west1", "Hello, 世界", " padded ", "=?base64?literal?="] {
        let call = Call {
            params: Some(&params),
            ..Call::default()
        };
        let resp = b
            .request(
                &env(),
                call_msg(json!(1), "test_custom_header", json!({"region": region})),
                call,
            )
            .await
            .unwrap()
            .response()
            .await
            .unwrap();
        assert_eq!(text_of(&resp), format!("region={region}"), "{resp}");
    }
    // Without the annotations the header is missing and the backend says so: -32020, HTTP 400,
    // handed back as the backend's own error.
    let reply = b
        .request(
            &env(),
            call_msg(
                json!(2),
                "test_custom_header",
                json!({"region": "us-west1"}),
            ),
            Call::default(),
        )
        .await
        .unwrap();
    assert_eq!(reply.status(), Some(400));
    let resp = reply.response().await.unwrap();
    assert_eq!(resp["error"]["code"], -32020, "{resp}");
    assert_eq!(resp["id"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_errors_come_back_as_its_json_rpc_errors() {
    let (_p, url) = start_rmcp("2026-07-28");
    let b = ModernBackend::connect(http_spec(&url)).unwrap();
    let resp = b
        .request(
            &env(),
            call_msg(json!(7), "no_such_tool", json!({})),
            Call::default(),
        )
        .await
        .unwrap()
        .response()
        .await
        .unwrap();
    assert_eq!(resp["id"], 7);
    assert!(resp["error"]["code"].is_i64(), "{resp}");

    let mut future = env();
    future.protocol_version = "2027-01-01".into();
    let reply = b
        .request(
            &future,
            call_msg(json!(8), "test_simple_text", json!({})),
            Call::default(),
        )
        .await
        .unwrap();
    assert_eq!(reply.status(), Some(400));
    let resp = reply.response().await.unwrap();
    assert_eq!(resp["error"]["code"], -32022, "{resp}");
    assert_eq!(resp["error"]["data"]["requested"], "2027-01-01");
    assert_eq!(resp["id"], 8);

    let ping = json!({"jsonrpc": "2.0", "id": 9, "method": "ping"});
    let reply = b.request(&env(), ping, Call::default()).await.unwrap();
    assert_eq!(reply.status(), Some(404));
    assert_eq!(reply.response().await.unwrap()["error"]["code"], -32601);

    // A legacy-only backend refuses a modern request with its own error.
    let (_l, legacy_url) = start_rmcp("2025-11-25");
    let legacy = ModernBackend::connect(http_spec(&legacy_url)).unwrap();
    let resp = legacy
        .request(
            &env(),
            call_msg(json!(10), "test_simple_text", json!({})),
            Call::default(),
        )
        .await
        .unwrap()
        .response()
        .await
        .unwrap();
    assert_eq!(resp["error"]["code"], -32022, "{resp}");

    // Nothing listens: a transport error, not a response.
    drop(_l);
    let gone = ModernBackend::connect(http_spec(&legacy_url)).unwrap();
    let err = gone
        .request(&env(), call_msg(json!(11), "x", json!({})), Call::default())
        .await
        .err()
        .unwrap();
    assert!(matches!(err, UpstreamError::Unavailable { .. }), "{err}");
}

async fn slow_status(b: &ModernBackend, tool: &str, label: &str) -> String {
    let resp = b
        .request(
            &env(),
            call_msg(json!("s"), tool, json!({"label": label})),
            Call::default(),
        )
        .await
        .unwrap()
        .response()
        .await
        .unwrap();
    text_of(&resp)
}

/// Start a slow call, see it running (a progress notification), drop the reply, and wait for
/// the backend to record the cancellation.
async fn cancel_by_drop(b: &ModernBackend, slow: &str, status: &str, label: &str) {
    let msg = with_progress(
        call_msg(json!("slow"), slow, json!({"seconds": 30, "label": label})),
        "slow-tok",
    );
    let mut reply = b.request(&env(), msg, Call::default()).await.unwrap();
    match reply.next().await.unwrap() {
        ReplyEvent::Notification(n) => assert_eq!(n["method"], "notifications/progress"),
        other => panic!("expected progress first, got {other:?}"),
    }
    assert!(slow_status(b, status, label).await.contains("running"));
    drop(reply);
    let mut last = String::new();
    for _ in 0..50 {
        last = slow_status(b, status, label).await;
        if last.contains("cancelled") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the backend never saw the cancellation: status `{last}`");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_reply_cancels_the_call() {
    let (_p, url) = start_rmcp("2026-07-28");
    let b = ModernBackend::connect(http_spec(&url)).unwrap();
    cancel_by_drop(&b, "test_slow", "test_slow_status", "rmcp-drop").await;

    let (_py, url) = start_python("modern");
    let b = ModernBackend::connect(http_spec(&url)).unwrap();
    cancel_by_drop(&b, "slow", "slow_status", "py-drop").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_acks_delivers_and_ends_gracefully() {
    let (mut p, url) = start_rmcp("2026-07-28");
    let b = ModernBackend::connect(http_spec(&url)).unwrap();
    let mut listen = b
        .listen(
            &env(),
            json!("listen-1"),
            json!({"toolsListChanged": true}),
            Call::default(),
        )
        .await
        .unwrap();
    assert_eq!(listen.subscription_id(), &json!("listen-1"));
    match listen.next().await {
        ListenEvent::Ack(honoured) => assert_eq!(honoured["toolsListChanged"], true),
        other => panic!("expected the ack, got {other:?}"),
    }
    b.request(
        &env(),
        call_msg(json!(1), "test_trigger_tool_change", json!({})),
        Call::default(),
    )
    .await
    .unwrap()
    .response()
    .await
    .unwrap();
    match listen.next().await {
        ListenEvent::Notification(n) => {
            assert_eq!(n["method"], "notifications/tools/list_changed");
            assert_eq!(n["params"]["_meta"][key::SUBSCRIPTION_ID], "listen-1");
        }
        other => panic!("expected tools/list_changed, got {other:?}"),
    }
    // SIGINT: rmcp ends open listens with their result before it exits.
    let status = Command::new("kill")
        .args(["-INT", &p.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    match tokio::time::timeout(Duration::from_secs(10), listen.next())
        .await
        .unwrap()
    {
        ListenEvent::Response(r) => {
            assert_eq!(r["id"], "listen-1");
            assert_eq!(r["result"]["resultType"], "complete", "{r}");
        }
        other => panic!("expected the graceful result, got {other:?}"),
    }
    p.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_on_python_and_an_abrupt_drop() {
    let (mut p, url) = start_python("modern");
    let b = ModernBackend::connect(http_spec(&url)).unwrap();
    let mut listen = b
        .listen(
            &env(),
            json!(5),
            json!({"resourceSubscriptions": ["test://counter"]}),
            Call::default(),
        )
        .await
        .unwrap();
    match listen.next().await {
        ListenEvent::Ack(h) => assert_eq!(h["resourceSubscriptions"], json!(["test://counter"])),
        other => panic!("expected the ack, got {other:?}"),
    }
    b.request(
        &env(),
        call_msg(json!(1), "bump_counter", json!({})),
        Call::default(),
    )
    .await
    .unwrap()
    .response()
    .await
    .unwrap();
    match listen.next().await {
        ListenEvent::Notification(n) => {
            assert_eq!(n["method"], "notifications/resources/updated");
            assert_eq!(n["params"]["uri"], "test://counter");
            assert_eq!(n["params"]["_meta"][key::SUBSCRIPTION_ID], 5);
        }
        other => panic!("expected resources/updated, got {other:?}"),
    }
    // SIGKILL: no graceful result, the stream just breaks.
    p.kill();
    match tokio::time::timeout(Duration::from_secs(10), listen.next())
        .await
        .unwrap()
    {
        ListenEvent::Dropped(e) => assert!(matches!(e, UpstreamError::Unavailable { .. }), "{e}"),
        other => panic!("expected a drop, got {other:?}"),
    }
    assert!(matches!(listen.next().await, ListenEvent::Dropped(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_modern_http_calls_progress_and_input_required() {
    let (_p, url) = start_python("modern");
    let b = ModernBackend::connect(http_spec(&url)).unwrap();
    let resp = b
        .request(
            &env(),
            call_msg(json!(1), "add", json!({"a": 2, "b": 3})),
            Call::default(),
        )
        .await
        .unwrap()
        .response()
        .await
        .unwrap();
    assert_eq!(text_of(&resp), "5");
    let msg = with_progress(
        call_msg(json!(2), "progress_steps", json!({"steps": 3})),
        "py-tok",
    );
    let (notes, resp) = drain(b.request(&env(), msg, Call::default()).await.unwrap()).await;
    let steps: Vec<i64> = notes
        .iter()
        .map(|n| {
            assert_eq!(n["params"]["progressToken"], "py-tok");
            n["params"]["progress"].as_f64().unwrap() as i64
        })
        .collect();
    assert_eq!(steps, vec![1, 2, 3]);
    assert_eq!(text_of(&resp), "done 3 steps");
    let resp = b
        .request(
            &env(),
            call_msg(json!(3), "ask_name", json!({})),
            Call::default(),
        )
        .await
        .unwrap()
        .response()
        .await
        .unwrap();
    assert_eq!(resp["result"]["resultType"], "input_required", "{resp}");
    assert!(resp["result"]["requestState"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_2026_probe_calls_progress_cancel_and_listen() {
    let b = ModernBackend::connect(python_stdio_spec()).unwrap();
    match b.probe(&env(), Call::default()).await.unwrap() {
        Era::Modern(info) => assert_eq!(info.supported_versions, vec!["2026-07-28"]),
        other => panic!("expected modern, got {other:?}"),
    }
    // Two callers with the same id and the same progress token: ids and tokens are ours on
    // the shared channel, and each caller gets back its own.
    let a = with_progress(
        call_msg(json!(1), "progress_steps", json!({"steps": 3})),
        "t",
    );
    let c = with_progress(
        call_msg(json!(1), "progress_steps", json!({"steps": 2})),
        "t",
    );
    let e = env();
    let (ra, rc) = tokio::join!(
        b.request(&e, a, Call::default()),
        b.request(&e, c, Call::default())
    );
    let ((na, resp_a), (nc, resp_c)) = tokio::join!(drain(ra.unwrap()), drain(rc.unwrap()));
    assert_eq!(resp_a["id"], 1);
    assert_eq!(resp_c["id"], 1);
    assert_eq!(text_of(&resp_a), "done 3 steps");
    assert_eq!(text_of(&resp_c), "done 2 steps");
    let steps = |notes: &[Value]| -> Vec<i64> {
        notes
            .iter()
            .map(|n| {
                assert_eq!(n["params"]["progressToken"], "t");
                n["params"]["progress"].as_f64().unwrap() as i64
            })
            .collect()
    };
    assert_eq!(steps(&na), vec![1, 2, 3]);
    assert_eq!(steps(&nc), vec![1, 2]);

    // A listen with its ack and a tagged update, restored to the caller's id.
    let mut listen = b
        .listen(
            &env(),
            json!("l-1"),
            json!({"resourceSubscriptions": ["test://counter"]}),
            Call::default(),
        )
        .await
        .unwrap();
    assert!(matches!(listen.next().await, ListenEvent::Ack(_)));
    b.request(
        &env(),
        call_msg(json!(2), "bump_counter", json!({})),
        Call::default(),
    )
    .await
    .unwrap()
    .response()
    .await
    .unwrap();
    match listen.next().await {
        ListenEvent::Notification(n) => {
            assert_eq!(n["params"]["uri"], "test://counter");
            assert_eq!(n["params"]["_meta"][key::SUBSCRIPTION_ID], "l-1");
        }
        other => panic!("expected resources/updated, got {other:?}"),
    }
    drop(listen);

    // Cancellation on stdio is `notifications/cancelled`, sent when the reply is dropped.
    cancel_by_drop(&b, "slow", "slow_status", "stdio-drop").await;
    b.close().await;
    assert!(!b.is_alive());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_probe_of_a_legacy_server_is_legacy() {
    let d = common::deps();
    let spec = stdio_spec(
        vec![
            d.node22.display().to_string(),
            d.server_memory.display().to_string(),
        ],
        vec![
            ("PATH".into(), "/usr/bin:/bin".into()),
            (
                "MEMORY_FILE_PATH".into(),
                std::env::temp_dir()
                    .join(format!("modern-probe-{}.json", std::process::id()))
                    .display()
                    .to_string(),
            ),
        ],
    );
    let b = ModernBackend::connect(spec).unwrap();
    match b.probe(&env(), Call::default()).await.unwrap() {
        // The TypeScript SDK's 2025 server: -32601 to a method it does not know.
        Era::Legacy { evidence, .. } => assert!(evidence.contains("-32601"), "{evidence}"),
        other => panic!("expected legacy, got {other:?}"),
    }
    b.close().await;
}
