//! The 2026-07-28 metadata parsers that read client and backend input: the header value codec
//! (`Mcp-Name`, `Mcp-Param-*`), the `_meta` envelope, and `x-mcp-header` annotations of tool
//! schemas. Properties, not just "does not crash":
//! - whatever decodes re-encodes to a header value that decodes to the same text;
//! - any text encodes to a valid header value that decodes back to it;
//! - for a request whose envelope parses, the headers built from its body validate against it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::protocol::meta::{
    self, Envelope, ParamHeaders, decode_header_value, encode_header_value, request_headers,
    validate_request_headers,
};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(text) = decode_header_value(rest) {
                let again = encode_header_value(&text);
                assert!(http::HeaderValue::from_str(&again).is_ok(), "{again:?}");
                assert_eq!(decode_header_value(again.as_bytes()).as_deref(), Ok(text.as_str()));
            }
        }
        1 => {
            let text = String::from_utf8_lossy(rest);
            let enc = encode_header_value(&text);
            assert!(http::HeaderValue::from_str(&enc).is_ok(), "{enc:?}");
            assert_eq!(decode_header_value(enc.as_bytes()).as_deref(), Ok(&*text));
        }
        _ => {
            if portcullis::protocol::check_depth(rest, 64).is_err() {
                return;
            }
            let Ok(msg) = serde_json::from_slice::<serde_json::Value>(rest) else {
                return;
            };
            // The schema, when the message carries one, is also a tool definition to read.
            let params = msg
                .get("schema")
                .map(ParamHeaders::from_schema)
                .and_then(Result::ok);
            let Ok(env) = Envelope::from_message(&msg) else {
                return;
            };
            let _ = env.check_log_level();
            let mut rewritten = msg.clone();
            assert!(env.apply(&mut rewritten));
            assert_eq!(Envelope::from_message(&rewritten).as_ref(), Ok(&env));
            if msg.get("method").and_then(|m| m.as_str()).is_some() {
                let headers = request_headers(&msg, params.as_ref());
                if let Err(e) = validate_request_headers(&headers, &msg, params.as_ref()) {
                    panic!("headers built from the body do not validate: {e}\n{msg}\n{headers:?}");
                }
            }
            let _ = meta::subscription_id(&msg);
            let _ = meta::progress_token(&msg);
        }
    }
});
