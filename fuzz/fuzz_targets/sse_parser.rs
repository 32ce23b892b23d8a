//! The SSE parser that reads every backend's event streams: arbitrary bytes, arbitrary chunking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::protocol::sse::Parser;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = (split as usize).min(rest.len());
    let (a, b) = rest.split_at(cut);
    let mut whole = Parser::new(4096);
    let whole_events = whole.feed(rest);
    let mut parts = Parser::new(4096);
    let first = parts.feed(a);
    let second = parts.feed(b);
    // Chunk boundaries must not change what is parsed (when no limit is hit).
    if let (Ok(w), Ok(mut f), Ok(s)) = (whole_events, first, second) {
        f.extend(s);
        assert_eq!(w, f);
    }
});
