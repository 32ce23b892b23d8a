//! Config parsing and validation: any text gives a config or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = portcullis::config::Config::parse(
            text,
            "fuzz.toml",
            std::path::Path::new("/nonexistent"),
        );
    }
});
