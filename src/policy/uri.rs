//! Resource URIs as policy decides them: one spelling per resource.
//!
//! A forbid on `Resource::"file:///srv/secret.txt"` must not be sidestepped by another spelling
//! of the same resource (`file:///srv/public/../secret.txt`, `…/%2e%2e/…`, `…/s%65cret.txt`,
//! `FILE:///…`), which a backend resolves to the same thing (issue 15, finding 13). So a URI
//! that is not in its normal form is refused, naming the normal form, before it is routed or
//! decided; the gateway never rewrites what the client sent (a backend gets exactly the URI
//! policy decided, and a scheme where `..` means something else is not silently changed).
//!
//! Normal form: what the WHATWG URL parser makes of the URI (lower-case scheme and, for web
//! and file URLs, host; default port dropped; dot segments removed; characters outside the
//! URL code points percent-encoded), with percent-escapes of unreserved characters decoded
//! and the others in upper-case hex (RFC 3986 §6.2.2). Refused outright, whatever the scheme
//! (also in opaque URIs such as `urn:a/../b`): a path segment that is `.` or `..` (encoded or
//! not), a segment that encodes a separator (`%2F`, `%5C`) or NUL, a backslash anywhere (the
//! URL parser reads one as `/` in web and file URLs, also in what looks like the authority),
//! a fragment (`#…` names a part of a representation, never a resource), and a URI whose normal
//! form is not its own normal form (the parser is not idempotent on every odd input, and a
//! refusal must name a spelling that is then accepted).

/// Why a resource URI is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    #[error("it is not an absolute URI ({0})")]
    NotAbsolute(String),
    #[error("its path has a `{0}` segment; send the URI of the resource it leads to")]
    DotSegment(String),
    #[error(
        "its path segment `{0}` encodes a separator or NUL, which a backend may decode into \
         another path"
    )]
    EncodedSeparator(String),
    #[error("it has a backslash, which some backends read as a path separator")]
    Backslash,
    #[error("it has a fragment (`#{0}`); a fragment names no resource")]
    Fragment(String),
    #[error("it is not in normal form; send `{0}`")]
    NotNormal(String),
    #[error("it has a `%` not followed by two hex digits (`{0}`); write a `%` as `%25`")]
    BadEscape(String),
    #[error("it has no stable normal form (it reads as `{0}`, which reads as `{1}`)")]
    Unstable(String, String),
}

/// Checks that `uri` is a resource URI in normal form (see the module documentation).
pub fn check(uri: &str) -> Result<(), UriError> {
    // A stray `%` (RFC 3986 allows none) would let decoding form new escapes from its
    // neighbours (`%%333` → `%33` → `3`): no single normal form, so no single spelling for
    // policy. Found by the `resource_uri` fuzz target.
    if let Some(at) = stray_percent(uri) {
        let shown: String = uri.get(at..).unwrap_or("").chars().take(3).collect();
        return Err(UriError::BadEscape(shown));
    }
    if uri.contains('\\') {
        return Err(UriError::Backslash);
    }
    let parsed = url::Url::parse(uri).map_err(|e| UriError::NotAbsolute(e.to_string()))?;
    let path = raw_path(uri);
    for segment in path.split('/') {
        let decoded = percent_decode(segment);
        if decoded == b"." || decoded == b".." {
            return Err(UriError::DotSegment(segment.to_owned()));
        }
        if decoded.iter().any(|b| matches!(b, b'/' | b'\\' | 0)) {
            return Err(UriError::EncodedSeparator(segment.to_owned()));
        }
    }
    if let Some(f) = parsed.fragment() {
        return Err(UriError::Fragment(f.to_owned()));
    }
    let normal = normalise_escapes(parsed.as_str());
    if normal != uri {
        // INVARIANT: a refusal names a spelling `check` accepts as normal. The parser is not
        // idempotent on every odd input (found by the `resource_uri` fuzz target), so the
        // normal form is read once more, and a URI whose reading moves again is refused.
        let again = url::Url::parse(&normal)
            .map(|u| normalise_escapes(u.as_str()))
            .unwrap_or_default();
        if again != normal {
            return Err(UriError::Unstable(normal, again));
        }
        return Err(UriError::NotNormal(normal));
    }
    Ok(())
}

/// The path of `uri` as written: after the scheme and any authority, before `?` or `#`.
fn raw_path(uri: &str) -> &str {
    let rest = uri.split_once(':').map_or(uri, |(_, r)| r);
    let rest = match rest.strip_prefix("//") {
        Some(after) => after
            .find(['/', '?', '#'])
            .map_or("", |i| after.get(i..).unwrap_or("")),
        None => rest,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    rest.get(..end).unwrap_or("")
}

/// Where the first `%` not followed by two hex digits is.
fn stray_percent(uri: &str) -> Option<usize> {
    let bytes = uri.as_bytes();
    bytes.iter().enumerate().find_map(|(i, &b)| {
        let escape = b == b'%'
            && bytes.get(i + 1).copied().and_then(hex).is_some()
            && bytes.get(i + 2).copied().and_then(hex).is_some();
        (b == b'%' && !escape).then_some(i)
    })
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte a valid `%XX` escape at `bytes[i]` stands for; `None` when there is none there.
fn escape_at(bytes: &[u8], i: usize) -> Option<u8> {
    if bytes.get(i) != Some(&b'%') {
        return None;
    }
    let h = bytes.get(i + 1).copied().and_then(hex)?;
    let l = bytes.get(i + 2).copied().and_then(hex)?;
    Some(h * 16 + l)
}

/// The bytes `s` stands for, each valid `%XX` decoded (others kept as written).
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if let Some(v) = escape_at(bytes, i) {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `s` with escapes of unreserved characters decoded and the others in upper-case hex.
fn normalise_escapes(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(v) = escape_at(bytes, i) {
            if unreserved(v) {
                out.push(char::from(v));
            } else {
                out.push_str(&format!("%{v:02X}"));
            }
            i += 3;
            continue;
        }
        // Not an escape: copy the character (the input is UTF-8; `url` has encoded what
        // needs it, so this is ASCII in practice).
        let ch_len = s
            .get(i..)
            .and_then(|r| r.chars().next())
            .map_or(1, char::len_utf8);
        out.push_str(s.get(i..i + ch_len).unwrap_or(""));
        i += ch_len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_in_normal_form_pass() {
        for ok in [
            "file:///srv/secret.txt",
            "demo://readme",
            "demo://items/7",
            "test://static/resource/12",
            "https://example.com/a/b?x=1&y=%2F",
            "urn:isbn:0451450523",
            "file:///srv/a%20b.txt",
            "ui://widget/%C3%A9.html",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn other_spellings_of_a_resource_are_refused_with_the_reason() {
        let cases: &[(&str, UriError)] = &[
            (
                "file:///srv/public/../secret.txt",
                UriError::DotSegment("..".into()),
            ),
            (
                "file:///srv/public/%2e%2E/secret.txt",
                UriError::DotSegment("%2e%2E".into()),
            ),
            ("demo://items/./7", UriError::DotSegment(".".into())),
            ("urn:a/../b", UriError::DotSegment("..".into())),
            (
                "file:///srv/public/..%2Fsecret.txt",
                UriError::EncodedSeparator("..%2Fsecret.txt".into()),
            ),
            ("x://h/a%5Cb", UriError::EncodedSeparator("a%5Cb".into())),
            ("x://h/a%00b", UriError::EncodedSeparator("a%00b".into())),
            ("x://h/a\\..\\b", UriError::Backslash),
            // In the authority too: the URL parser reads `\` as `/` in file and web URLs
            // (the fuzz target's find: the normal form it named was not itself normal).
            (
                "file://;liffffffftpffsrv6\\\\\\\\\\e://;liff/E/srE/srst",
                UriError::Backslash,
            ),
            ("file:///srv/secret.txt#x", UriError::Fragment("x".into())),
            (
                "file:///srv/s%65cret.txt",
                UriError::NotNormal("file:///srv/secret.txt".into()),
            ),
            (
                "FILE:///srv/secret.txt",
                UriError::NotNormal("file:///srv/secret.txt".into()),
            ),
            (
                "https://EXAMPLE.com:443/a",
                UriError::NotNormal("https://example.com/a".into()),
            ),
            (
                "ui://widget/%c3%a9.html",
                UriError::NotNormal("ui://widget/%C3%A9.html".into()),
            ),
            (
                "file:///srv/a b.txt",
                UriError::NotNormal("file:///srv/a%20b.txt".into()),
            ),
        ];
        for (uri, want) in cases {
            assert_eq!(check(uri).as_ref(), Err(want), "{uri}");
        }
        // A stray `%` has no normal form: decoding forms new escapes from its neighbours
        // (the fuzz target's find: `%%33` would be "normalised" twice, to `%3`+`3`, then `3`).
        assert_eq!(check("e:[%%333"), Err(UriError::BadEscape("%%3".into())));
        assert_eq!(check("x://h/100%"), Err(UriError::BadEscape("%".into())));
        assert_eq!(check("x://h/a%zz"), Err(UriError::BadEscape("%zz".into())));
        // Every refusal that names a normal form names one that is accepted as normal.
        for uri in [
            "FILE:///a",
            "file://;liffffffftpffsrv6/e://;liff/E/srE/srst",
        ] {
            if let Err(UriError::NotNormal(n)) = check(uri) {
                assert!(
                    !matches!(check(&n), Err(UriError::NotNormal(_))),
                    "{uri} -> {n}"
                );
            }
        }
        assert!(matches!(check("no scheme"), Err(UriError::NotAbsolute(_))));
        assert!(matches!(check(""), Err(UriError::NotAbsolute(_))));
    }
}
