use super::*;

#[test]
fn classifies_envelopes() {
    let req = json!({"jsonrpc":"2.0","id":1,"method":"ping"});
    assert_eq!(classify(&req), Ok(Kind::Request));
    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    assert_eq!(classify(&note), Ok(Kind::Notification));
    let resp = json!({"jsonrpc":"2.0","id":"a","result":{}});
    assert_eq!(classify(&resp), Ok(Kind::Response));
    assert!(classify(&json!({"jsonrpc":"1.0","id":1,"method":"x"})).is_err());
    assert!(classify(&json!({"jsonrpc":"2.0","id":{},"method":"x"})).is_err());
    assert!(classify(&json!({"jsonrpc":"2.0","id":1,"result":{},"error":{}})).is_err());
    assert!(classify(&json!({"jsonrpc":"2.0"})).is_err());
    assert!(classify(&json!({"jsonrpc":"2.0","id":1,"method":"x","params":3})).is_err());
}

#[test]
fn decode_rejects_batches_and_depth() {
    assert_eq!(decode(b"[]", 64).map(|_| ()), Err(DecodeError::Batch));
    let deep = "[".repeat(100) + &"]".repeat(100);
    assert_eq!(
        decode(deep.as_bytes(), 64).map(|_| ()),
        Err(DecodeError::TooDeep(64))
    );
    // Brackets inside strings do not count.
    let s = format!(
        r#"{{"jsonrpc":"2.0","method":"x","params":{{"a":"{}"}}}}"#,
        "[".repeat(200)
    );
    assert!(decode(s.as_bytes(), 8).is_ok());
    assert!(matches!(decode(b"{nope", 64), Err(DecodeError::Json(_))));
}

#[test]
fn depth_scan_steps_over_escapes_inside_strings() {
    // An escaped quote does not end the string: the brackets after it are still inside.
    assert!(check_depth(br#"{"a":"\"[[[[[[[[[["}"#, 2).is_ok());
    // An escaped backslash does: the bracket after the string counts.
    assert_eq!(
        check_depth(br#"{"a":"\\",[[["#, 3),
        Err(DecodeError::TooDeep(3))
    );
    assert!(check_depth(br#"{"a":"\\",[["#, 3).is_ok());
    // Unterminated strings and a trailing backslash end the scan without a panic.
    assert!(check_depth(br#"{"a":"[[[["#, 1).is_ok());
    assert!(check_depth(br#"{"a":"\"#, 1).is_ok());
    assert_eq!(check_depth(b"[[[", 2), Err(DecodeError::TooDeep(2)));
}

#[test]
fn field_lookup_agrees_with_the_map_in_small_and_large_objects() {
    let small = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call"});
    let large: Value = (0..20)
        .map(|i| (format!("k{i}"), json!(i)))
        .collect::<Map<String, Value>>()
        .into();
    for v in [&small, &large] {
        let o = v.as_object().unwrap();
        for k in o.keys().map(String::as_str).chain(["absent", ""]) {
            assert_eq!(field(v, k), v.get(k), "{k}");
        }
    }
    assert_eq!(field(&json!([1]), "0"), None);
    let mut m = small.as_object().unwrap().clone();
    set(&mut m, "id", json!(8));
    set(&mut m, "params", json!({}));
    assert_eq!(
        Value::Object(m),
        json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {}})
    );
}

#[test]
fn negotiates_versions() {
    assert_eq!(negotiate_version(Some("2025-06-18")), "2025-06-18");
    assert_eq!(negotiate_version(Some("1999-01-01")), LATEST_VERSION);
    assert_eq!(negotiate_version(None), LATEST_VERSION);
}

#[test]
fn sse_parser_handles_split_chunks_and_crlf() {
    let mut p = sse::Parser::new(1024);
    let mut got = Vec::new();
    for chunk in [
        &b"event: message\r"[..],
        b"\ndata: {\"a\"",
        b":1}\r\n\r\n: comment\n",
        b"data: x\ndata: y\n\n",
    ] {
        got.extend(p.feed(chunk).unwrap());
    }
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].event.as_deref(), Some("message"));
    assert_eq!(got[0].data, "{\"a\":1}");
    assert_eq!(got[1].data, "x\ny");
}

#[test]
fn sse_parser_limits_event_size() {
    let mut p = sse::Parser::new(16);
    let r = p.feed(b"data: 0123456789012345678901234567890\n");
    assert_eq!(r, Err(sse::SseError::TooLarge(16)));
    let mut p = sse::Parser::new(16);
    assert!(
        p.feed(&[b'a'; 64]).is_err(),
        "an unterminated line is bounded too"
    );
}

#[test]
fn sse_encoder_round_trips() {
    let text = sse::encode_message("{\"x\":1}", Some("7"));
    let mut p = sse::Parser::new(1024);
    let evs = p.feed(text.as_bytes()).unwrap();
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].id.as_deref(), Some("7"));
    assert_eq!(evs[0].data, "{\"x\":1}");
}

#[test]
fn a_value_is_one_event_with_one_data_line() {
    let msg = json!({"jsonrpc": "2.0", "id": 1, "result": {"text": "two\nlines\r\n", "n": [1, 2]}});
    let bytes = sse::encode_value(&msg);
    assert_eq!(
        bytes,
        sse::encode_message(&msg.to_string(), None).into_bytes()
    );
    let mut p = sse::Parser::new(1024);
    let evs = p.feed(&bytes).unwrap();
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].event.as_deref(), Some("message"));
    assert_eq!(serde_json::from_str::<Value>(&evs[0].data).unwrap(), msg);
}

#[test]
fn template_matching() {
    assert!(template_matches("demo://items/{id}", "demo://items/42"));
    assert!(!template_matches("demo://items/{id}", "demo://items/"));
    assert!(!template_matches("demo://items/{id}", "demo://other/42"));
    assert!(template_matches("file:///{+path}", "file:///a/b/c"));
    assert!(template_matches("x://{a}/y/{b}", "x://1/y/2"));
    assert!(!template_matches("x://{a}/y/{b}", "x://1/z/2"));
    assert!(template_matches("test://static", "test://static"));
}
