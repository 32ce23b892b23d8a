//! The decoder every client POST body goes through: depth pre-scan, JSON parse, envelope check.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((msg, kind)) = portcullis::protocol::decode(data, 64) {
        // A decoded message must classify the same way again after a round trip.
        let again = serde_json::to_vec(&msg).expect("re-encode");
        let (_, kind2) = portcullis::protocol::decode(&again, 64).expect("round trip decodes");
        assert_eq!(kind, kind2);
    }
});
