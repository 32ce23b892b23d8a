//! The HTTP request → MCP message path as a whole: raw bytes parsed as an HTTP/1.1 request (by
//! `httparse`, the parser hyper uses), then everything the edge does to a POST before the
//! session (`Accept`, `Content-Type`, `MCP-Protocol-Version`, body limit, JSON-RPC decode) and
//! the rescue mapping of a refusal to a response. Never a panic; a decoded message is valid.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use portcullis::edge::decode_post;

/// Small enough that the fuzzer reaches the body limit.
const MAX_BODY: usize = 4096;
const MAX_DEPTH: usize = 64;

fuzz_target!(|data: &[u8]| {
    let mut raw = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut raw);
    let Ok(httparse::Status::Complete(head_len)) = req.parse(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    for h in req.headers.iter() {
        // hyper refuses what `http` cannot represent, before the edge sees it.
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_bytes(h.value),
        ) else {
            return;
        };
        headers.append(name, value);
    }
    let body = data.get(head_len..).unwrap_or_default();
    match decode_post(&headers, body, MAX_BODY, MAX_DEPTH) {
        Ok((msg, kind)) => {
            assert!(body.len() <= MAX_BODY);
            assert_eq!(portcullis::protocol::classify(&msg), Ok(kind));
        }
        Err(rejection) => {
            let status = rejection.status();
            assert!(status.is_client_error(), "{rejection}: {status}");
            let _ = rejection.into_response();
        }
    }
});
