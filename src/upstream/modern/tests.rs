use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::*;

fn backend() -> ModernBackend {
    let spec = BackendSpec {
        name: "b".into(),
        kind: SpecKind::Http {
            url: "http://127.0.0.1:9/mcp".into(),
            client: reqwest::Client::new(),
        },
        timeout: Duration::from_secs(1),
        init_timeout: Duration::from_secs(1),
        max_message_bytes: 1024,
        max_json_depth: 32,
        credentials: Arc::new(crate::credentials::Source::None),
        resource_limits: None,
        sharing: Default::default(),
        protocol: Default::default(),
        dangerous_unlisted_resources: false,
    };
    ModernBackend::connect(Arc::new(spec)).unwrap()
}

fn result(r: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "result": r})
}

fn error(code: i64, data: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "error": {"code": code, "message": "m", "data": data}})
}

#[test]
fn probe_verdicts() {
    let b = backend();
    let modern = b
        .verdict(&result(
            json!({"supportedVersions": ["2026-07-28", "2025-11-25"],
            "capabilities": {"tools": {}}, "serverInfo": {"name": "old-place"}}),
        ))
        .unwrap();
    let Era::Modern(info) = modern else {
        panic!("{modern:?}")
    };
    assert_eq!(info.server_info, Some(json!({"name": "old-place"})));
    assert_eq!(info.modern_version(), Some("2026-07-28"));

    let only_legacy = b
        .verdict(&result(
            json!({"supportedVersions": ["2025-06-18", "2025-11-25"]}),
        ))
        .unwrap();
    assert_eq!(
        only_legacy,
        Era::Legacy {
            versions: vec!["2025-11-25".into(), "2025-06-18".into()],
            evidence: "`server/discover` lists only legacy versions".into(),
        }
    );
    assert!(matches!(
        b.verdict(&result(json!({"tools": []}))).unwrap(),
        Era::Legacy { .. }
    ));
    let unsupported = b
        .verdict(&error(
            -32022,
            json!({"supported": ["2025-11-25"], "requested": "2026-07-28"}),
        ))
        .unwrap();
    assert!(
        matches!(&unsupported, Era::Legacy { versions, .. } if versions == &["2025-11-25"]),
        "{unsupported:?}"
    );
    // A modern server that speaks none of our versions: do not fall back to initialize.
    assert!(matches!(
        b.verdict(&error(-32022, json!({"supported": ["2027-01-01"]}))),
        Err(UpstreamError::Unavailable { .. })
    ));
    for code in [-32601, -32602, -32600, -32000] {
        assert!(matches!(
            b.verdict(&error(code, json!(null))).unwrap(),
            Era::Legacy { .. }
        ));
    }
    assert!(matches!(
        b.verdict(&error(-32020, json!(null))),
        Err(UpstreamError::Protocol { .. })
    ));
}

#[test]
fn stream_messages_are_checked_against_the_request() {
    let id = json!(5);
    let note = json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {}});
    assert_eq!(
        classify_for("b", note.clone(), &id).unwrap(),
        ReplyEvent::Notification(note)
    );
    let resp = json!({"jsonrpc": "2.0", "id": 5, "result": {}});
    assert_eq!(
        classify_for("b", resp.clone(), &id).unwrap(),
        ReplyEvent::Response(resp)
    );
    let other = json!({"jsonrpc": "2.0", "id": 6, "result": {}});
    assert!(classify_for("b", other, &id).is_err());
    let request = json!({"jsonrpc": "2.0", "id": 0, "method": "elicitation/create"});
    let e = classify_for("b", request, &id).unwrap_err();
    assert!(e.to_string().contains("elicitation/create"), "{e}");
}

#[test]
fn prepare_writes_the_envelope_and_trace_and_refuses_non_requests() {
    let b = backend();
    let env = Envelope::new(json!({}));
    let trace = Trace {
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
        tracestate: None,
    };
    let call = Call {
        trace: Some(trace.clone()),
        ..Call::default()
    };
    let msg = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "t", "_meta": {"progressToken": 3, "tracestate": "stale=1"}}});
    let out = b.prepare(&env, msg, &call).unwrap();
    let meta = &out["params"]["_meta"];
    assert_eq!(meta["progressToken"], 3);
    assert_eq!(meta[meta::key::TRACEPARENT], json!(trace.traceparent));
    assert!(meta.get(meta::key::TRACESTATE).is_none());
    assert_eq!(meta[meta::key::PROTOCOL_VERSION], "2026-07-28");
    let note = json!({"jsonrpc": "2.0", "method": "notifications/x"});
    assert!(b.prepare(&env, note, &call).is_err());
    let arr = json!({"jsonrpc": "2.0", "id": 1, "method": "x", "params": [1]});
    assert!(b.prepare(&env, arr, &call).is_err());
}

#[test]
fn shareable_across_tasks() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<ModernBackend>();
    send::<Reply>();
    send::<ListenStream>();
}
