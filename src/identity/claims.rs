//! How a token's header and claims are read, exactly: the rules that decide what a string in a
//! token means, kept apart from the validation sequence in `identity` so each has one home.
//!
//! - `scope` / `scp`: a string is space-delimited (RFC 6749 §3.3, RFC 9068 §2.2.3), never split
//!   on commas; an array is a list of scopes.
//! - the groups claim: an array of strings is a list; a string is ONE group, never split (a
//!   group name may contain commas or spaces, and `"x,eng"` must not grant `eng`).
//! - `exp`, `nbf`, `iat`: RFC 7519 §2 NumericDate, a JSON number of seconds since 1970, whole
//!   or fractional. Malformed (refused): any other JSON type (string, boolean, null, array,
//!   object), a negative number, or one past `u64` seconds. JSON has no NaN or infinity, and
//!   `1e400` does not parse as a JSON payload at all.
//! - `crit` (RFC 7515 §4.1.11): it lists header extensions the recipient MUST understand; the
//!   gateway implements none (not `b64`, RFC 7797, nor any private one), so any `crit` is refused.
//! - `typ` (RFC 8725 §3.11 explicit typing, RFC 9068 §4): compared case-insensitively, with or
//!   without the `application/` prefix (RFC 7515 §4.1.9). `at+jwt` is always an access token;
//!   `JWT` or no `typ` is accepted unless the issuer sets `require_at_jwt`; any other type (a
//!   DPoP proof, a logout token, a security event, …) is never an access token.

use serde_json::Value;

use super::AuthError;

/// Scopes from `scope` or `scp`.
pub fn scopes_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s
            .split(' ')
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Groups from the configured groups claim. Array elements that are not strings are ignored.
pub fn groups_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter(|g| !g.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// A NumericDate claim, when present: seconds since 1970 (fractional allowed).
pub fn numeric_date(claims: &Value, name: &'static str) -> Result<Option<f64>, AuthError> {
    let bad = |what: &'static str| AuthError::NotNumericDate(name, what);
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            // INVARIANT: serde_json numbers are finite; the check keeps that explicit.
            Some(f) if f.is_finite() && f >= 0.0 && f < u64::MAX as f64 => Ok(Some(f)),
            Some(f) if f < 0.0 => Err(bad("a negative number")),
            _ => Err(bad("a number past the last representable second")),
        },
        Some(Value::String(_)) => Err(bad("a string")),
        Some(Value::Bool(_)) => Err(bad("a boolean")),
        Some(Value::Null) => Err(bad("null")),
        Some(Value::Array(_)) => Err(bad("an array")),
        Some(Value::Object(_)) => Err(bad("an object")),
    }
}

/// Refuse any `crit` header (the raw header JSON, as decoded from the token).
pub fn check_crit(header: &Value) -> Result<(), AuthError> {
    let Some(crit) = header.get("crit") else {
        return Ok(());
    };
    let names: Vec<String> = match crit.as_array() {
        Some(a) if !a.is_empty() => a
            .iter()
            .map(|n| n.as_str().map_or("<not a string>".to_owned(), shown))
            .collect(),
        _ => {
            return Err(AuthError::Crit(
                "the `crit` header must be a non-empty array".into(),
            ));
        }
    };
    Err(AuthError::Crit(format!(
        "the `crit` header names extension(s) {} that this gateway does not understand \
         (RFC 7515, section 4.1.11)",
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// Check the header `typ` against what this issuer accepts.
pub fn check_typ(typ: Option<&str>, require_at_jwt: bool) -> Result<(), AuthError> {
    let norm = typ.map(|t| {
        let t = t.to_ascii_lowercase();
        t.strip_prefix("application/")
            .map(str::to_owned)
            .unwrap_or(t)
    });
    match norm.as_deref() {
        Some("at+jwt") => Ok(()),
        None | Some("jwt") if !require_at_jwt => Ok(()),
        _ => Err(AuthError::TokenType {
            found: typ.map_or_else(|| "none".to_owned(), |t| format!("`{}`", shown(t))),
            require_at_jwt,
        }),
    }
}

/// A header value fit to repeat in an error (which reaches `WWW-Authenticate` and the audit
/// trail): short printable ASCII as is, anything else not shown.
fn shown(s: &str) -> String {
    if s.len() <= 64 && s.chars().all(|c| c.is_ascii_graphic()) {
        s.to_owned()
    } else {
        "<not shown>".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes_split_on_spaces_only() {
        assert_eq!(scopes_of(Some(&json!("a b  c"))), ["a", "b", "c"]);
        assert_eq!(scopes_of(Some(&json!("x,mcp"))), ["x,mcp"]);
        assert_eq!(scopes_of(Some(&json!("x, mcp"))), ["x,", "mcp"]);
        assert_eq!(scopes_of(Some(&json!(["a b", "c"]))), ["a b", "c"]);
        assert!(scopes_of(Some(&json!(""))).is_empty());
        assert!(scopes_of(Some(&json!(42))).is_empty());
        assert!(scopes_of(None).is_empty());
    }

    #[test]
    fn a_string_groups_claim_is_one_group() {
        assert_eq!(groups_of(Some(&json!("x,eng"))), ["x,eng"]);
        assert_eq!(groups_of(Some(&json!("Domain Users"))), ["Domain Users"]);
        assert_eq!(groups_of(Some(&json!(["x", "eng", 3, ""]))), ["x", "eng"]);
        assert!(groups_of(Some(&json!(""))).is_empty());
        assert!(groups_of(Some(&json!({"eng": true}))).is_empty());
        assert!(groups_of(None).is_empty());
    }

    #[test]
    fn numeric_dates_are_non_negative_numbers() {
        let c = json!({
            "int": 1_700_000_000u64, "frac": 1_700_000_000.25, "zero": 0,
            "str": "1700000000", "neg": -1, "negf": -0.5, "bool": true, "null": null,
            "arr": [1], "obj": {}, "huge": 1e300,
        });
        assert_eq!(numeric_date(&c, "int").unwrap(), Some(1_700_000_000.0));
        assert_eq!(numeric_date(&c, "frac").unwrap(), Some(1_700_000_000.25));
        assert_eq!(numeric_date(&c, "zero").unwrap(), Some(0.0));
        assert_eq!(numeric_date(&c, "absent").unwrap(), None);
        for (k, what) in [
            ("str", "a string"),
            ("neg", "a negative number"),
            ("negf", "a negative number"),
            ("bool", "a boolean"),
            ("null", "null"),
            ("arr", "an array"),
            ("obj", "an object"),
            ("huge", "a number past the last representable second"),
        ] {
            let err = numeric_date(&c, k).unwrap_err();
            assert_eq!(err, AuthError::NotNumericDate(k, what));
            assert!(
                err.to_string()
                    .contains(&format!("`{k}` is not a NumericDate"))
            );
        }
    }

    #[test]
    fn any_crit_is_refused() {
        assert!(check_crit(&json!({"alg": "ES256"})).is_ok());
        let e = check_crit(&json!({"crit": ["b64"], "b64": false})).unwrap_err();
        assert!(e.to_string().contains("`b64`"), "{e}");
        let e = check_crit(&json!({"crit": ["exp", "x\ny"]})).unwrap_err();
        assert!(e.to_string().contains("`exp`, `<not shown>`"), "{e}");
        for bad in [json!([]), json!("b64"), json!(null)] {
            let e = check_crit(&json!({ "crit": bad })).unwrap_err();
            assert!(e.to_string().contains("non-empty array"), "{e}");
        }
    }

    #[test]
    fn typ_rules() {
        for t in [Some("at+jwt"), Some("AT+JWT"), Some("application/at+jwt")] {
            assert!(check_typ(t, true).is_ok(), "{t:?}");
            assert!(check_typ(t, false).is_ok(), "{t:?}");
        }
        for t in [None, Some("JWT"), Some("jwt"), Some("application/jwt")] {
            assert!(check_typ(t, false).is_ok(), "{t:?}");
            let e = check_typ(t, true).unwrap_err();
            assert!(e.to_string().contains("`at+jwt`"), "{e}");
        }
        for t in [
            "dpop+jwt",
            "logout+jwt",
            "secevent+jwt",
            "JOSE",
            "application/okta-internal-at+jwt",
        ] {
            let e = check_typ(Some(t), false).unwrap_err();
            assert!(e.to_string().contains(&format!("`{t}`")), "{e}");
        }
        let e = check_typ(Some("é"), false).unwrap_err();
        assert!(e.to_string().contains("<not shown>"), "{e}");
    }
}
