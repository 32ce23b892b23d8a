//! `requestState` tokens: clients send them back on an MRTR retry, so `Sealer::open` reads
//! untrusted text. Properties, not just "does not crash":
//! - arbitrary text never opens (only the gateway's own sealed tokens do);
//! - a state sealed from fuzzed fields opens once, equal to what was sealed, for the request
//!   it was sealed for only; the second open is a replay; any byte changed in the token, or
//!   another principal or request, is refused.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use portcullis::router::seal::{Expect, Inner, SealError, Sealer};

fuzz_target!(|data: &[u8]| {
    let Ok(sealer) = Sealer::new(Some([7u8; 32]), Duration::from_secs(300)) else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    let expect = Expect {
        principal: "iss|alice",
        method: "tools/call",
        name: "echo",
        args: "",
    };
    // Arbitrary input: never a state.
    assert!(sealer.open(&text, &expect).is_err(), "{text:?} opened");

    // Fields from the input: a round trip, once.
    let mut parts = text.splitn(4, '\u{0}');
    let principal = parts.next().unwrap_or_default();
    let name = parts.next().unwrap_or_default();
    let args = parts.next().unwrap_or_default();
    let inner = parts.next().map(str::to_owned);
    let state = sealer.state(
        principal,
        "backend",
        "tools/call",
        name,
        args,
        Inner::Backend(inner),
    );
    let token = sealer.seal(&state);
    let mine = Expect {
        principal,
        method: "tools/call",
        name,
        args,
    };
    if principal != "iss|alice" || name != "echo" || !args.is_empty() {
        assert!(sealer.open(&token, &expect).is_err(), "opened for another request");
    }
    let other = Expect {
        principal: "iss|mallory",
        ..mine
    };
    if principal != "iss|mallory" {
        assert_eq!(sealer.open(&token, &other), Err(SealError::OtherPrincipal));
    }
    // One byte changed anywhere after the prefix: refused, whatever it became.
    if let Some(&b) = data.first() {
        let mut bytes = token.clone().into_bytes();
        let at = 5 + usize::from(b) % (bytes.len() - 5);
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        if let Ok(altered) = String::from_utf8(bytes)
            && altered != token
        {
            assert!(sealer.open(&altered, &mine).is_err(), "altered token opened");
        }
    }
    assert_eq!(sealer.open(&token, &mine).as_ref(), Ok(&state));
    assert_eq!(sealer.open(&token, &mine), Err(SealError::Replayed));
});
