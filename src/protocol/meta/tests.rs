use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::*;

fn env_meta() -> Value {
    json!({
        key::PROTOCOL_VERSION: "2026-07-28",
        key::CLIENT_CAPABILITIES: {"elicitation": {}, "extensions": {"io.modelcontextprotocol/tasks": {}}},
        key::CLIENT_INFO: {"name": "c", "version": "1"},
        key::LOG_LEVEL: "info",
        "progressToken": "p1",
    })
}

#[test]
fn envelope_parses_every_key() {
    let env = Envelope::from_params(Some(&json!({"_meta": env_meta()}))).unwrap();
    assert_eq!(env.protocol_version, "2026-07-28");
    assert_eq!(env.client_info, Some(json!({"name": "c", "version": "1"})));
    assert_eq!(env.log_level.as_deref(), Some("info"));
    assert!(env.declares("elicitation"));
    assert!(env.declares("io.modelcontextprotocol/tasks"));
    assert!(!env.declares("sampling"));
    env.check_log_level().unwrap();
}

#[test]
fn envelope_errors_name_the_key() {
    assert_eq!(Envelope::from_params(None), Err(EnvelopeError::NoMeta));
    assert_eq!(
        Envelope::from_params(Some(&json!({}))),
        Err(EnvelopeError::NoMeta)
    );
    assert_eq!(
        Envelope::from_params(Some(&json!([1]))),
        Err(EnvelopeError::ParamsNotObject("an array"))
    );
    assert_eq!(
        Envelope::from_params(Some(&json!({"_meta": "x"}))),
        Err(EnvelopeError::MetaNotObject("a string"))
    );
    let no_version = json!({"_meta": {key::CLIENT_CAPABILITIES: {}}});
    assert_eq!(
        Envelope::from_params(Some(&no_version)),
        Err(EnvelopeError::Missing(key::PROTOCOL_VERSION))
    );
    let no_caps = json!({"_meta": {key::PROTOCOL_VERSION: "2026-07-28"}});
    assert_eq!(
        Envelope::from_params(Some(&no_caps)),
        Err(EnvelopeError::Missing(key::CLIENT_CAPABILITIES))
    );
    let bad_caps =
        json!({"_meta": {key::PROTOCOL_VERSION: "2026-07-28", key::CLIENT_CAPABILITIES: []}});
    let e = Envelope::from_params(Some(&bad_caps)).unwrap_err();
    assert!(e.to_string().contains(key::CLIENT_CAPABILITIES), "{e}");
    let bad_version = json!({"_meta": {key::PROTOCOL_VERSION: 2026, key::CLIENT_CAPABILITIES: {}}});
    assert!(matches!(
        Envelope::from_params(Some(&bad_version)),
        Err(EnvelopeError::Malformed {
            key: key::PROTOCOL_VERSION,
            ..
        })
    ));
    // clientInfo is optional (the suite requires serving a request without it).
    let minimal =
        json!({"_meta": {key::PROTOCOL_VERSION: "2026-07-28", key::CLIENT_CAPABILITIES: {}}});
    let env = Envelope::from_params(Some(&minimal)).unwrap();
    assert_eq!(env.client_info, None);
    // An unknown level is a later check of the ladder, not a parse error.
    let mut meta = env_meta();
    meta[key::LOG_LEVEL] = json!("loud");
    let env = Envelope::from_params(Some(&json!({"_meta": meta}))).unwrap();
    assert_eq!(
        env.check_log_level(),
        Err(EnvelopeError::UnknownLogLevel("loud".into()))
    );
    use crate::protocol::Fault;
    assert_eq!(EnvelopeError::NoMeta.code(), -32602);
}

#[test]
fn write_into_replaces_the_envelope_and_keeps_other_keys() {
    let mut msg = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "t",
        "_meta": {
            key::PROTOCOL_VERSION: "1999-01-01",
            key::CLIENT_INFO: {"name": "client", "version": "9"},
            key::LOG_LEVEL: "debug",
            "progressToken": 7,
            "com.example/x": true,
        }
    }});
    let env = Envelope::new(json!({"sampling": {}}));
    assert!(env.apply(&mut msg));
    let meta = &msg["params"]["_meta"];
    assert_eq!(meta[key::PROTOCOL_VERSION], "2026-07-28");
    assert_eq!(meta[key::CLIENT_CAPABILITIES], json!({"sampling": {}}));
    assert!(
        meta.get(key::CLIENT_INFO).is_none(),
        "stale client info kept"
    );
    assert!(meta.get(key::LOG_LEVEL).is_none(), "stale log level kept");
    assert_eq!(meta["progressToken"], 7);
    assert_eq!(meta["com.example/x"], true);
    assert_eq!(msg["params"]["name"], "t");
    // Round trip.
    assert_eq!(Envelope::from_message(&msg).unwrap(), env);
    // No params at all: created.
    let mut bare = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    assert!(env.apply(&mut bare));
    assert_eq!(Envelope::from_message(&bare).unwrap(), env);
    // Array params: left alone.
    let mut arr = json!({"jsonrpc": "2.0", "id": 3, "method": "x", "params": [1]});
    assert!(!env.apply(&mut arr));
    assert_eq!(arr["params"], json!([1]));
}

#[test]
fn subscription_id_and_progress_token() {
    let n = json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed",
        "params": {"_meta": {key::SUBSCRIPTION_ID: "listen-1"}}});
    assert_eq!(subscription_id(&n), Some(&json!("listen-1")));
    let p = json!({"jsonrpc": "2.0", "method": "notifications/progress",
        "params": {"progressToken": 3, "progress": 1}});
    assert_eq!(progress_token(&p), Some(&json!(3)));
    let r = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"_meta": {"progressToken": "t"}}});
    assert_eq!(progress_token(&r), Some(&json!("t")));
}

// The digest's §2.2 examples (the spec's own table).
#[test]
fn encode_examples_from_the_spec() {
    assert_eq!(encode_header_value("us-west1"), "us-west1");
    assert_eq!(
        encode_header_value("Hello, 世界"),
        "=?base64?SGVsbG8sIOS4lueVjA==?="
    );
    assert_eq!(encode_header_value(" padded "), "=?base64?IHBhZGRlZCA=?=");
    assert_eq!(
        encode_header_value("line1\nline2"),
        "=?base64?bGluZTEKbGluZTI=?="
    );
    assert_eq!(
        encode_header_value("=?base64?literal?="),
        "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="
    );
    // Inner spaces are plain; a tab anywhere is a control character.
    assert_eq!(encode_header_value("a b"), "a b");
    assert!(encode_header_value("a\tb").starts_with("=?base64?"));
    assert_eq!(encode_header_value(""), "");
}

#[test]
fn decode_is_strict_and_trims_ows() {
    assert_eq!(
        decode_header_value(b"=?base64?SGVsbG8sIOS4lueVjA==?=").unwrap(),
        "Hello, 世界"
    );
    assert_eq!(
        decode_header_value(b"  test_simple_text  ").unwrap(),
        "test_simple_text"
    );
    assert_eq!(
        decode_header_value(b"\t=?base64?IHBhZGRlZCA=?= ").unwrap(),
        " padded "
    );
    // The suite's rejections: bad padding, characters outside the alphabet.
    assert!(matches!(
        decode_header_value(b"=?base64?SGVsbG8?="),
        Err(HeaderValueError::Base64(_))
    ));
    assert!(matches!(
        decode_header_value(b"=?base64?SGVs!!!bG8=?="),
        Err(HeaderValueError::Base64(_))
    ));
    // URL-safe alphabet and non-canonical trailing bits are refused too.
    assert!(decode_header_value(b"=?base64?_-8=?=").is_err());
    assert!(decode_header_value(b"=?base64?SGVsbG9=?=").is_err());
    // Not UTF-8 inside.
    assert_eq!(
        decode_header_value(b"=?base64?/w==?="),
        Err(HeaderValueError::NotUtf8)
    );
    // Only one marker: literal (the suite's "no prefix" and "no suffix" cases).
    assert_eq!(decode_header_value(b"SGVsbG8=?=").unwrap(), "SGVsbG8=?=");
    assert_eq!(
        decode_header_value(b"=?base64?SGVsbG8=").unwrap(),
        "=?base64?SGVsbG8="
    );
    // Bytes outside visible ASCII: refused, not decoded lossily.
    assert_eq!(
        decode_header_value("caf\u{e9}".as_bytes()),
        Err(HeaderValueError::InvalidCharacter(0xc3))
    );
    assert_eq!(
        decode_header_value(b"a\x01b"),
        Err(HeaderValueError::InvalidCharacter(1))
    );
    // Overlapping markers are not a sentinel.
    assert_eq!(decode_header_value(b"=?base64?=").unwrap(), "=?base64?=");
    assert_eq!(decode_header_value(b"=?base64??=").unwrap(), "");
}

#[test]
fn encode_then_decode_round_trips() {
    for s in [
        "plain",
        "Hello, 世界",
        " lead",
        "trail ",
        "=?base64?x?=",
        "tab\there",
        "",
        "emoji 🦀",
        "=?base64?",
        "?=",
    ] {
        let enc = encode_header_value(s);
        assert!(HeaderValue::from_str(&enc).is_ok(), "{enc:?}");
        assert_eq!(decode_header_value(enc.as_bytes()).unwrap(), s, "{enc}");
    }
}

#[test]
fn scalars_and_numeric_comparison() {
    assert_eq!(scalar_to_header(&json!("x")).as_deref(), Some("x"));
    assert_eq!(scalar_to_header(&json!(42)).as_deref(), Some("42"));
    assert_eq!(scalar_to_header(&json!(-7)).as_deref(), Some("-7"));
    assert_eq!(scalar_to_header(&json!(42.0)).as_deref(), Some("42"));
    assert_eq!(scalar_to_header(&json!(true)).as_deref(), Some("true"));
    assert_eq!(scalar_to_header(&json!(null)), None);
    assert_eq!(scalar_to_header(&json!({})), None);
    assert!(header_matches_body("42", &json!(42.0)));
    assert!(header_matches_body("42.0", &json!(42)));
    assert!(header_matches_body("4.2e1", &json!(42)));
    assert!(header_matches_body("-7", &json!(-7)));
    assert!(!header_matches_body("+42", &json!(42)));
    assert!(!header_matches_body("42 ", &json!(42)));
    assert!(!header_matches_body("0x2a", &json!(42)));
    assert!(!header_matches_body("43", &json!(42)));
    // Beyond 2^53 integers still compare exactly.
    assert!(header_matches_body(
        "9007199254740993",
        &json!(9007199254740993u64)
    ));
    assert!(!header_matches_body(
        "9007199254740992",
        &json!(9007199254740993u64)
    ));
    assert!(header_matches_body("true", &json!(true)));
    assert!(!header_matches_body("True", &json!(true)));
    assert!(header_matches_body("Us", &json!("Us")));
    assert!(!header_matches_body("us", &json!("Us")));
    assert!(!header_matches_body("null", &json!(null)));
}

#[test]
fn mcp_name_per_method() {
    let p = json!({"name": "n", "uri": "u", "taskId": "t"});
    assert_eq!(mcp_name("tools/call", Some(&p)), Some("n"));
    assert_eq!(mcp_name("prompts/get", Some(&p)), Some("n"));
    assert_eq!(mcp_name("resources/read", Some(&p)), Some("u"));
    for m in ["tasks/get", "tasks/update", "tasks/cancel"] {
        assert_eq!(mcp_name(m, Some(&p)), Some("t"));
    }
    assert_eq!(mcp_name("tools/list", Some(&p)), None);
    assert_eq!(mcp_name("tools/call", None), None);
}

fn schema_with(props: Value) -> Value {
    json!({"type": "object", "properties": props})
}

#[test]
fn annotations_on_the_properties_chain() {
    let s = json!({
        "type": "object",
        "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "n": {"type": "integer", "x-mcp-header": "N"},
            "flag": {"type": ["boolean", "null"], "x-mcp-header": "Flag"},
            "nested": {"type": "object", "properties": {
                "tenant": {"type": "string", "x-mcp-header": "Tenant"}
            }},
            "query": {"type": "string"},
            "data": {"type": "object", "default": {"x-mcp-header": "NotAnAnnotation"}},
        },
        "$defs": {"x-mcp-header": {"type": "string"}},
    });
    let h = ParamHeaders::from_schema(&s).unwrap();
    let got: Vec<(String, Vec<String>, Primitive)> = h
        .iter()
        .map(|p| (p.name.clone(), p.path.clone(), p.kind))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Region".into(), vec!["region".into()], Primitive::String),
            ("N".into(), vec!["n".into()], Primitive::Integer),
            ("Flag".into(), vec!["flag".into()], Primitive::Boolean),
            (
                "Tenant".into(),
                vec!["nested".into(), "tenant".into()],
                Primitive::String
            ),
        ]
    );
    assert_eq!(h.0[0].header.as_str(), "mcp-param-region");
    let args =
        json!({"region": "Hello, 世界", "n": 42, "flag": null, "nested": {"tenant": "acme"}});
    let headers = h.headers_for(Some(&args));
    let as_text: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        as_text,
        vec![
            (
                "mcp-param-region".into(),
                "=?base64?SGVsbG8sIOS4lueVjA==?=".into()
            ),
            ("mcp-param-n".into(), "42".into()),
            ("mcp-param-tenant".into(), "acme".into()),
        ]
    );
    assert!(ParamHeaders::from_schema(&json!(true)).unwrap().is_empty());
}

#[test]
fn invalid_annotations_are_named() {
    let cases = [
        (json!({"type": "object", "x-mcp-header": "Root"}), "OnRoot"),
        (
            schema_with(
                json!({"a": {"type": "array", "items": {"type": "string", "x-mcp-header": "A"}}}),
            ),
            "OffChain",
        ),
        (
            json!({"type": "object", "oneOf": [{"properties": {"a": {"type": "string", "x-mcp-header": "A"}}}]}),
            "OffChain",
        ),
        (
            json!({"type": "object", "$defs": {"d": {"type": "string", "x-mcp-header": "D"}}}),
            "OffChain",
        ),
        (
            json!({"type": "object", "if": {"properties": {"a": {"x-mcp-header": "A", "type": "string"}}}}),
            "OffChain",
        ),
        (
            schema_with(json!({"a": {"type": "string", "x-mcp-header": 5}})),
            "NotString",
        ),
        (
            schema_with(json!({"a": {"type": "string", "x-mcp-header": ""}})),
            "Empty",
        ),
        (
            schema_with(json!({"a": {"type": "string", "x-mcp-header": "Bad Name"}})),
            "NotToken",
        ),
        (
            schema_with(json!({"a": {"type": "string", "x-mcp-header": "X\r\nY"}})),
            "NotToken",
        ),
        (
            schema_with(json!({
                "a": {"type": "string", "x-mcp-header": "Dup"},
                "b": {"type": "string", "x-mcp-header": "dup"}
            })),
            "Duplicate",
        ),
        (
            schema_with(json!({"a": {"type": "number", "x-mcp-header": "A"}})),
            "NotPrimitive",
        ),
        (
            schema_with(json!({"a": {"x-mcp-header": "A"}})),
            "NotPrimitive",
        ),
        (
            schema_with(json!({"a": {"type": ["string", "integer"], "x-mcp-header": "A"}})),
            "NotPrimitive",
        ),
    ];
    for (schema, want) in cases {
        let e = ParamHeaders::from_schema(&schema).unwrap_err();
        let got = format!("{e:?}");
        assert!(got.starts_with(want), "{schema} gave {got}, want {want}");
        assert!(e.to_string().contains("x-mcp-header"), "{e}");
    }
    let e = ParamHeaders::from_schema(&schema_with(
        json!({"a": {"type": "array", "items": {"type": "string", "x-mcp-header": "A"}}}),
    ))
    .unwrap_err();
    assert_eq!(
        e,
        SchemaError::OffChain {
            at: "/properties/a/items/x-mcp-header".into()
        }
    );
}

fn call(args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "test_custom_header", "arguments": args,
        "_meta": {key::PROTOCOL_VERSION: "2026-07-28", key::CLIENT_CAPABILITIES: {}}
    }})
}

fn region_headers() -> ParamHeaders {
    ParamHeaders::from_schema(&schema_with(
        json!({"region": {"type": "string", "x-mcp-header": "Region"}, "n": {"type": "integer", "x-mcp-header": "N"}}),
    ))
    .unwrap()
}

#[test]
fn built_headers_validate() {
    let p = region_headers();
    let msg = call(json!({"region": "us-west1", "n": 3}));
    let h = request_headers(&msg, Some(&p));
    assert_eq!(h["mcp-protocol-version"], "2026-07-28");
    assert_eq!(h["mcp-method"], "tools/call");
    assert_eq!(h["mcp-name"], "test_custom_header");
    assert_eq!(h["mcp-param-region"], "us-west1");
    assert_eq!(h["mcp-param-n"], "3");
    validate_request_headers(&h, &msg, Some(&p)).unwrap();
    // A body value of 3.0 still matches the header `3`.
    let msg_float = call(json!({"region": "us-west1", "n": 3.0}));
    validate_request_headers(&h, &msg_float, Some(&p)).unwrap();
}

fn with(h: &HeaderMap, name: &'static str, value: &str) -> HeaderMap {
    let mut h = h.clone();
    h.insert(
        HeaderName::from_static(name),
        HeaderValue::from_str(value).unwrap(),
    );
    h
}

#[test]
fn validation_errors_are_specific() {
    let p = region_headers();
    let msg = call(json!({"region": "us-west1"}));
    let good = request_headers(&msg, Some(&p));
    let check = |h: &HeaderMap| validate_request_headers(h, &msg, Some(&p));

    let mut no_method = good.clone();
    no_method.remove("mcp-method");
    assert_eq!(
        check(&no_method),
        Err(HeaderError::Missing {
            header: "mcp-method".into()
        })
    );
    let mut no_version = good.clone();
    no_version.remove("mcp-protocol-version");
    assert!(matches!(
        check(&no_version),
        Err(HeaderError::Missing { .. })
    ));
    assert!(matches!(
        check(&with(&good, "mcp-protocol-version", "2025-11-25")),
        Err(HeaderError::Mismatch { .. })
    ));
    assert!(matches!(
        check(&with(&good, "mcp-method", "TOOLS/CALL")),
        Err(HeaderError::Mismatch { .. })
    ));
    // OWS around the name is accepted (the suite's padded Mcp-Name).
    check(&with(&good, "mcp-name", "  test_custom_header  ")).unwrap();
    let e = check(&with(&good, "mcp-name", "other_tool")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the `mcp-name` header `other_tool` does not match the body value `test_custom_header`"
    );
    assert!(matches!(
        check(&with(&good, "mcp-param-region", "=?base64?SGVsbG8?=")),
        Err(HeaderError::Invalid { .. })
    ));
    assert!(matches!(
        check(&with(&good, "mcp-param-region", "eu-west1")),
        Err(HeaderError::Mismatch { .. })
    ));
    let mut no_param = good.clone();
    no_param.remove("mcp-param-region");
    assert_eq!(
        check(&no_param),
        Err(HeaderError::Missing {
            header: "Mcp-Param-Region".into()
        })
    );
    // A header for an absent argument.
    assert!(matches!(
        check(&with(&good, "mcp-param-n", "1")),
        Err(HeaderError::Unexpected { .. })
    ));
    // Duplicates of a singleton header.
    let mut dup = good.clone();
    dup.append("mcp-method", HeaderValue::from_static("tools/call"));
    assert!(matches!(check(&dup), Err(HeaderError::Duplicate { .. })));
    // Unknown Mcp-Param-* headers are not this check's business.
    check(&with(&good, "mcp-param-other", "x")).unwrap();
    use crate::protocol::Fault;
    assert_eq!(e.code(), -32020);
}
