//! Canonical hashing of definitions: any JSON gives a hash or an error, never a panic, and the
//! hash does not change when the JSON is re-serialized and parsed again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::integrity::{Kind, catalog_hash, hash_definition};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(again) = serde_json::from_str::<serde_json::Value>(&value.to_string()) else {
        panic!("re-serialized JSON does not parse: {value}");
    };
    let mut triples = Vec::new();
    for kind in Kind::ALL {
        let first = hash_definition(kind, &value);
        let second = hash_definition(kind, &again);
        match (first, second) {
            (Ok(a), Ok(b)) => {
                assert_eq!(
                    a, b,
                    "{kind} hash changed after re-serialization of {value}"
                );
                triples.push((kind, value.to_string(), a));
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{kind}: {a:?} vs {b:?} for {value}"),
        }
    }
    let _ = catalog_hash(&triples);
});
