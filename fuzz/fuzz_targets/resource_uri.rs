//! Resource URIs as policy decides them (`policy::uri::check`): clients choose them. Properties,
//! not just "does not crash": the normal form a refusal names is itself accepted as normal (so
//! a client told "send `X`" can), and an accepted URI is one the URL parser reads back unchanged
//! in its path and has no dot segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::policy::uri::{UriError, check};

fuzz_target!(|data: &[u8]| {
    let Ok(uri) = std::str::from_utf8(data) else {
        return;
    };
    match check(uri) {
        Ok(()) => {
            let parsed = url::Url::parse(uri).expect("an accepted URI parses");
            assert!(parsed.fragment().is_none(), "{uri:?}");
            assert!(
                !parsed.path().split('/').any(|s| s == "." || s == ".."),
                "{uri:?}"
            );
        }
        Err(UriError::NotNormal(normal)) => {
            assert!(
                !matches!(check(&normal), Err(UriError::NotNormal(_))),
                "the normal form of {uri:?}, {normal:?}, is not normal: {:?}",
                check(&normal)
            );
        }
        Err(_) => {}
    }
});
