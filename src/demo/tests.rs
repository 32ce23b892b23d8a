use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use super::tools::{MAX_SLOW_MS, rfc3339_utc};
use super::transport::SLOW_STEPS;
use super::*;

fn request(id: i64, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

fn result_of(server: &mut Server, method: &str, params: Value) -> Value {
    let response = server.handle(&request(1, method, params)).unwrap();
    assert_eq!(response["id"], 1);
    assert!(
        response.get("error").is_none(),
        "unexpected error: {response}"
    );
    response["result"].clone()
}

fn error_of(server: &mut Server, method: &str, params: Value) -> Value {
    let response = server.handle(&request(7, method, params)).unwrap();
    assert_eq!(response["id"], 7);
    response["error"].clone()
}

fn call(server: &mut Server, name: &str, args: Value) -> Value {
    result_of(
        server,
        "tools/call",
        json!({ "name": name, "arguments": args }),
    )
}

#[test]
fn initialize_negotiates_version() {
    let mut s = Server::new();
    for v in SUPPORTED_PROTOCOL_VERSIONS {
        let r = result_of(
            &mut s,
            "initialize",
            json!({ "protocolVersion": v, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"} }),
        );
        assert_eq!(r["protocolVersion"], v);
    }
    let r = result_of(
        &mut s,
        "initialize",
        json!({ "protocolVersion": "2024-11-05" }),
    );
    assert_eq!(r["protocolVersion"], LATEST_PROTOCOL_VERSION);
    assert_eq!(r["serverInfo"]["name"], "portcullis-demo");
    assert_eq!(r["capabilities"]["resources"]["subscribe"], true);
}

#[test]
fn lists_tools_with_schemas_and_annotations() {
    let mut s = Server::new();
    let r = result_of(&mut s, "tools/list", json!({}));
    let tools = r["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["echo", "add", "get_time", "slow", "whoami", "fail"]);
    for t in tools {
        assert_eq!(t["inputSchema"]["type"], "object");
        assert!(t["title"].is_string());
        assert!(t["annotations"]["readOnlyHint"].is_boolean());
    }
}

#[test]
fn echo_add_fail() {
    let mut s = Server::new();
    let r = call(&mut s, "echo", json!({ "message": "hi there" }));
    assert_eq!(r["content"][0]["text"], "hi there");
    assert_eq!(r["isError"], false);

    let r = call(&mut s, "add", json!({ "a": 2, "b": 40 }));
    assert_eq!(r["structuredContent"]["sum"], 42);
    assert_eq!(r["content"][0]["text"], "{\"sum\":42}");
    let r = call(&mut s, "add", json!({ "a": 0.5, "b": 0.25 }));
    assert_eq!(r["structuredContent"]["sum"], 0.75);
    let r = call(&mut s, "add", json!({ "a": i64::MAX, "b": 1 }));
    assert!(r["structuredContent"]["sum"].is_f64());

    let r = call(&mut s, "fail", json!({ "message": "boom" }));
    assert_eq!(r["isError"], true);
    assert!(r["content"][0]["text"].as_str().unwrap().contains("boom"));
}

#[test]
fn bad_tool_arguments_are_tool_errors() {
    let mut s = Server::new();
    for (name, args) in [
        ("echo", json!({})),
        ("echo", json!({ "message": 3 })),
        ("add", json!({ "a": "1", "b": 2 })),
        ("add", json!({ "a": 1 })),
        ("add", json!({ "a": 1, "b": 2, "c": 3 })),
        ("slow", json!({ "ms": -1 })),
        ("slow", json!({ "ms": MAX_SLOW_MS + 1 })),
    ] {
        let r = call(&mut s, name, args);
        assert_eq!(r["isError"], true, "{name}: {r}");
    }
    let e = error_of(&mut s, "tools/call", json!({ "name": "nope" }));
    assert_eq!(e["code"], INVALID_PARAMS);
    let e = error_of(
        &mut s,
        "tools/call",
        json!({ "name": "echo", "arguments": [1] }),
    );
    assert_eq!(e["code"], INVALID_PARAMS);
}

#[test]
fn get_time_is_rfc3339() {
    let mut s = Server::new();
    let r = call(&mut s, "get_time", json!({}));
    let utc = r["structuredContent"]["utc"].as_str().unwrap();
    assert_eq!(utc.len(), "2025-01-01T00:00:00.000Z".len());
    assert!(utc.ends_with('Z') && utc.as_bytes()[10] == b'T');
    assert!(utc.starts_with("20"));
}

#[test]
fn rfc3339_known_dates() {
    assert_eq!(rfc3339_utc(0, 0), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339_utc(951_782_400, 5), "2000-02-29T00:00:00.005Z");
    assert_eq!(rfc3339_utc(1_709_251_199, 999), "2024-02-29T23:59:59.999Z");
    assert_eq!(rfc3339_utc(1_735_689_600, 0), "2025-01-01T00:00:00.000Z");
    assert_eq!(rfc3339_utc(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
}

#[test]
fn whoami_lists_sorted_names_only() {
    let mut s = Server::new();
    let r = call(&mut s, "whoami", json!({}));
    let names: Vec<String> =
        serde_json::from_value(r["structuredContent"]["env_names"].clone()).unwrap();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    // PATH is set under cargo test; its value must not appear.
    if let Ok(path) = std::env::var("PATH") {
        assert!(names.iter().any(|n| n == "PATH"));
        assert!(!r.to_string().contains(&path));
    }
}

#[test]
fn slow_becomes_a_job() {
    let mut s = Server::new();
    let msg = request(
        3,
        "tools/call",
        json!({ "name": "slow", "arguments": { "ms": 50 }, "_meta": { "progressToken": "p1" } }),
    );
    let outcome = s.handle_message(&msg);
    assert!(outcome.reply.is_none());
    assert_eq!(
        outcome.job,
        Some(SlowJob {
            id: json!(3),
            ms: 50,
            progress_token: Some(json!("p1"))
        })
    );
}

#[test]
fn prompts() {
    let mut s = Server::new();
    let r = result_of(&mut s, "prompts/list", json!({}));
    assert_eq!(r["prompts"][0]["name"], "greeting");
    let r = result_of(
        &mut s,
        "prompts/get",
        json!({ "name": "greeting", "arguments": { "name": "Ada" } }),
    );
    assert!(
        r["messages"][0]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("Ada")
    );
    let e = error_of(&mut s, "prompts/get", json!({ "name": "greeting" }));
    assert_eq!(e["code"], INVALID_PARAMS);
    let e = error_of(
        &mut s,
        "prompts/get",
        json!({ "name": "other", "arguments": {} }),
    );
    assert_eq!(e["code"], INVALID_PARAMS);
}

#[test]
fn resources_and_templates() {
    let mut s = Server::new();
    let r = result_of(&mut s, "resources/list", json!({}));
    assert_eq!(r["resources"].as_array().unwrap().len(), 2);
    let r = result_of(&mut s, "resources/templates/list", json!({}));
    assert_eq!(
        r["resourceTemplates"][0]["uriTemplate"],
        "demo://items/{id}"
    );
    let r = result_of(&mut s, "resources/read", json!({ "uri": "demo://readme" }));
    assert!(
        r["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("demo server")
    );
    let r = result_of(&mut s, "resources/read", json!({ "uri": "demo://config" }));
    let config: Value = serde_json::from_str(r["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(config["name"], "portcullis-demo");
    let r = result_of(
        &mut s,
        "resources/read",
        json!({ "uri": "demo://items/42" }),
    );
    assert_eq!(r["contents"][0]["uri"], "demo://items/42");
    for bad in [
        "demo://items/",
        "demo://items/a/b",
        "demo://nope",
        "file:///etc/passwd",
    ] {
        let e = error_of(&mut s, "resources/read", json!({ "uri": bad }));
        assert_eq!(e["code"], RESOURCE_NOT_FOUND, "{bad}");
    }
}

#[test]
fn subscriptions() {
    let mut s = Server::new();
    result_of(
        &mut s,
        "resources/subscribe",
        json!({ "uri": "demo://readme" }),
    );
    assert_eq!(s.subscriptions().collect::<Vec<_>>(), ["demo://readme"]);
    let e = error_of(
        &mut s,
        "resources/subscribe",
        json!({ "uri": "demo://nope" }),
    );
    assert_eq!(e["code"], RESOURCE_NOT_FOUND);
    result_of(
        &mut s,
        "resources/unsubscribe",
        json!({ "uri": "demo://readme" }),
    );
    assert_eq!(s.subscriptions().count(), 0);
}

#[test]
fn completion() {
    let mut s = Server::new();
    let r = result_of(
        &mut s,
        "completion/complete",
        json!({ "ref": { "type": "ref/prompt", "name": "greeting" }, "argument": { "name": "name", "value": "a" } }),
    );
    assert_eq!(r["completion"]["values"], json!(["Alice"]));
    let r = result_of(
        &mut s,
        "completion/complete",
        json!({ "ref": { "type": "ref/resource", "uri": "demo://items/{id}" }, "argument": { "name": "id", "value": "1" } }),
    );
    assert_eq!(r["completion"]["total"], 11);
    let e = error_of(
        &mut s,
        "completion/complete",
        json!({ "ref": { "type": "ref/prompt", "name": "x" }, "argument": { "name": "name", "value": "" } }),
    );
    assert_eq!(e["code"], INVALID_PARAMS);
}

#[test]
fn logging_level_controls_notifications() {
    let mut s = Server::new();
    let msg = request(
        1,
        "tools/call",
        json!({ "name": "echo", "arguments": { "message": "x" } }),
    );
    assert!(s.handle_message(&msg).notifications.is_empty());
    result_of(&mut s, "logging/setLevel", json!({ "level": "info" }));
    let out = s.handle_message(&msg);
    assert_eq!(out.notifications.len(), 1);
    assert_eq!(out.notifications[0]["method"], "notifications/message");
    result_of(&mut s, "logging/setLevel", json!({ "level": "error" }));
    assert!(s.handle_message(&msg).notifications.is_empty());
    let e = error_of(&mut s, "logging/setLevel", json!({ "level": "loud" }));
    assert_eq!(e["code"], INVALID_PARAMS);
}

#[test]
fn protocol_errors() {
    let mut s = Server::new();
    assert_eq!(
        error_of(&mut s, "nope/nope", json!({}))["code"],
        METHOD_NOT_FOUND
    );
    assert_eq!(result_of(&mut s, "ping", Value::Null), json!({}));
    let r = s.handle(&json!([1, 2])).unwrap();
    assert_eq!(r["error"]["code"], INVALID_REQUEST);
    assert_eq!(r["id"], Value::Null);
    let r = s
        .handle(&json!({ "jsonrpc": "2.0", "id": 1, "method": 5 }))
        .unwrap();
    assert_eq!(r["error"]["code"], INVALID_REQUEST);
    let r = s
        .handle(&json!({ "jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1] }))
        .unwrap();
    assert_eq!(r["error"]["code"], INVALID_PARAMS);
    let r = s
        .handle(&json!({ "jsonrpc": "2.0", "id": null, "method": "ping" }))
        .unwrap();
    assert_eq!(r["error"]["code"], INVALID_REQUEST);
    // Notifications and stray responses get no reply.
    assert!(
        s.handle(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
            .is_none()
    );
    assert!(
        s.handle(&json!({ "jsonrpc": "2.0", "id": 9, "result": {} }))
            .is_none()
    );
}

/// Drives `serve` over in-memory pipes and collects every line it writes until input closes.
async fn run_session(input: &[u8]) -> Vec<Value> {
    let (mut client_w, server_r) = tokio::io::duplex(1 << 16);
    let (server_w, mut client_r) = tokio::io::duplex(1 << 16);
    let task = tokio::spawn(serve(server_r, server_w));
    client_w.write_all(input).await.unwrap();
    drop(client_w);
    let mut out = String::new();
    client_r.read_to_string(&mut out).await.unwrap();
    task.await.unwrap().unwrap();
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn parse_error_then_keeps_serving() {
    let out =
        run_session(b"{not json\n\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n").await;
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["error"]["code"], PARSE_ERROR);
    assert_eq!(out[0]["id"], Value::Null);
    assert_eq!(out[1], json!({ "jsonrpc": "2.0", "id": 1, "result": {} }));
}

#[tokio::test]
async fn slow_sends_progress_then_result() {
    let (mut client_w, server_r) = tokio::io::duplex(1 << 16);
    let (server_w, client_r) = tokio::io::duplex(1 << 16);
    let task = tokio::spawn(serve(server_r, server_w));
    let req = json!({ "jsonrpc": "2.0", "id": "s1", "method": "tools/call",
        "params": { "name": "slow", "arguments": { "ms": 30 }, "_meta": { "progressToken": 7 } } });
    client_w
        .write_all(format!("{req}\n").as_bytes())
        .await
        .unwrap();
    let mut lines = tokio::io::BufReader::new(client_r).lines();
    let mut progress = 0;
    loop {
        let line = lines.next_line().await.unwrap().unwrap();
        let msg: Value = serde_json::from_str(&line).unwrap();
        if msg["method"] == "notifications/progress" {
            assert_eq!(msg["params"]["progressToken"], 7);
            progress += 1;
        } else {
            assert_eq!(msg["id"], "s1");
            assert_eq!(msg["result"]["content"][0]["text"], "slept 30 ms");
            break;
        }
    }
    assert_eq!(progress, SLOW_STEPS);
    drop(client_w);
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn cancelled_slow_gets_no_response() {
    let (mut client_w, server_r) = tokio::io::duplex(1 << 16);
    let (server_w, client_r) = tokio::io::duplex(1 << 16);
    let task = tokio::spawn(serve(server_r, server_w));
    let slow = json!({ "jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": { "name": "slow", "arguments": { "ms": 60000 } } });
    let cancel = json!({ "jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": { "requestId": 5, "reason": "test" } });
    let ping = json!({ "jsonrpc": "2.0", "id": 6, "method": "ping" });
    client_w
        .write_all(format!("{slow}\n{cancel}\n{ping}\n").as_bytes())
        .await
        .unwrap();
    let mut lines = tokio::io::BufReader::new(client_r).lines();
    let line = lines.next_line().await.unwrap().unwrap();
    let msg: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(msg["id"], 6);
    // Closing input ends the session promptly even though the sleep had a minute left.
    drop(client_w);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(lines.next_line().await.unwrap().is_none());
}
