//! The tool-definition poisoning / shadowing scan (`integrity::findings::scan`, and
//! `scan_text` for free text), with the pin of the same definition (`integrity::pinned`,
//! `integrity::hash_definition`). Never a panic, and what `findings` promises about a finding
//! holds for whatever a backend sends:
//!
//! * its `rule` is one of `RULES` and its `severity` that rule's severity;
//! * its `field` is the JSON pointer of a string (or of the member whose key it is) in the
//!   definition, and findings come in document order (the fields' pointers never go back);
//! * its `span` is non-empty, inside that string (or key), on char boundaries; an invisible /
//!   bidi finding covers only characters of its class; a key is reported for invisible / bidi
//!   characters, and for wording only when it reads as prose (three words or more);
//! * its `excerpt` shows the span between `«` `»` and never contains an invisible, format or
//!   control character raw (it is printed to a terminal for a person to approve);
//! * a `Scanner` built once gives what `scan` gives;
//! * `escape_invisible` leaves no invisible, format or control character raw but line feeds,
//!   tabs and CRLF, and changes nothing else of ordinary text.
//!
//! And pinning: a tool object always pins (every key of the definition but the `VOLATILE` ones,
//! values unchanged, idempotent, hash of the pinned view equals the hash of the definition); a
//! non-object never does.
//!
//! Input: if the bytes are JSON, that value is scanned as a tool definition. Whatever they are,
//! their (lossy) UTF-8 text is also put raw into a realistic tool object as its `description`
//! and as a schema property's key, so the string rules see arbitrary text without JSON escaping
//! in the way, and scanned as free text (`scan_text`). The other backend `b` offers
//! `send_email`; the own backend `a` offers `read_file` and `list_tables`.
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portcullis::integrity::findings::{
    self, BIDI_OVERRIDE, INVISIBLE, RULES, Scanner, TAG_CHARS, ZERO_WIDTH, escape_invisible,
    severity_of,
};
use portcullis::integrity::{Kind, client_view, hash_definition, pinned};
use serde_json::{Value, json};

const OWN_BACKEND: &str = "a";

fn others() -> Vec<(String, String)> {
    vec![
        ("b".into(), "send_email".into()),
        ("a".into(), "read_file".into()),
        ("a".into(), "list_tables".into()),
    ]
}

/// Compiled once: building a scanner compiles the other backends' name patterns, which costs
/// far more than a scan (`findings::scan` itself is still called on every JSON input).
fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| Scanner::new(OWN_BACKEND, &others()))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(def) = serde_json::from_slice::<Value>(data) {
        let found = findings::scan(&def, Kind::Tool, OWN_BACKEND, &others());
        // A scanner compiled once scans the same as `scan`.
        let again = scanner().scan(&def, Kind::Tool);
        assert_eq!(found, again, "Scanner::scan differs from scan for {def}");
        check(&def, &found);
    }
    let text = String::from_utf8_lossy(data);
    let text: &str = &text;
    let tool = json!({
        "name": "read_file",
        "description": text,
        "inputSchema": {
            "type": "object",
            "properties": {
                "path": { "type": "string", "description": "The file to read." },
                text: { "type": "string" },
            },
            "required": ["path"],
        },
    });
    let found = scanner().scan(&tool, Kind::Tool);
    check(&tool, &found);

    let found = scanner().scan_text(text, "/instructions");
    for f in &found {
        assert_eq!(f.field, "/instructions", "{f:?}");
        assert!(RULES.iter().any(|(id, _, _)| *id == f.rule), "{f:?}");
        assert!(span_ok(text, f), "span of {f:?} in free text");
        assert!(!f.excerpt.chars().any(unsafe_to_show), "raw character in {f:?}");
    }

    let escaped = escape_invisible(text);
    let mut chars = escaped.chars().peekable();
    while let Some(c) = chars.next() {
        let ok = match c {
            '\n' | '\t' => true,
            '\r' => chars.peek() == Some(&'\n'),
            c => !unsafe_to_show(c),
        };
        assert!(ok, "escape_invisible left {c:?} raw in {escaped:?}");
    }
    if !text.chars().any(|c| unsafe_to_show(c) || c == '\\') {
        assert_eq!(escaped, text, "escape_invisible changed ordinary text");
    }
});

fn check(def: &Value, found: &[findings::Finding]) {
    // Document order: every string / key pointer of `def`, in the order the scan walks them.
    let order = pointers(def);
    let mut last = 0usize;
    for f in found {
        assert!(
            RULES.iter().any(|(id, _, _)| *id == f.rule),
            "unknown rule {} in {f:?}",
            f.rule
        );
        // A hit may lower its rule's severity (a mention, a step of the user's own task, a
        // comment in backticks), never raise it.
        assert!(f.severity <= severity_of(f.rule), "severity of {f:?}");

        let Some(&index) = order.get(&f.field) else {
            panic!("finding {f:?} points at no string or key of {def}");
        };
        assert!(index >= last, "finding {f:?} out of document order in {def}");
        last = index;

        let invisible_rule = matches!(f.rule, TAG_CHARS | ZERO_WIDTH | BIDI_OVERRIDE | INVISIBLE);
        // The string the span is in: the value at the pointer, else the member's key (keys are
        // scanned for invisible characters, and for wording when they read as prose).
        let value_str = def.pointer(&f.field).and_then(Value::as_str);
        let key = last_key(&f.field);
        let candidates: Vec<&str> = value_str
            .into_iter()
            .chain(
                key.as_deref()
                    .filter(|k| invisible_rule || k.split_whitespace().count() >= 3),
            )
            .collect();
        let (start, end) = f.span;
        assert!(start < end, "empty or inverted span in {f:?}");
        let Some(s) = candidates.into_iter().find(|s| span_ok(s, f)) else {
            panic!(
                "span {:?} of {f:?} is not a valid span of the value {value_str:?} or the key \
                 {key:?}",
                f.span
            );
        };
        let inner = &s[start..end];

        // The excerpt is safe to print and shows the span.
        assert!(
            !f.excerpt.chars().any(unsafe_to_show),
            "excerpt of {f:?} has a raw invisible, bidi or control character"
        );
        assert!(
            f.excerpt.contains('«') && f.excerpt.contains('»'),
            "excerpt of {f:?} does not mark its span"
        );
        if inner.chars().count() <= 160 {
            let shown = format!("«{}»", show(inner));
            assert!(
                f.excerpt.contains(&shown),
                "excerpt of {f:?} does not show the span {shown:?}"
            );
        }
    }

    check_pins(def);
}

/// Whether `f.span` is a valid span of `s` for the finding's rule.
fn span_ok(s: &str, f: &findings::Finding) -> bool {
    let (start, end) = f.span;
    if end > s.len() || !s.is_char_boundary(start) || !s.is_char_boundary(end) {
        return false;
    }
    let inner = &s[start..end];
    let class = match f.rule {
        TAG_CHARS => Some(Class::Tag),
        ZERO_WIDTH => Some(Class::ZeroWidth),
        BIDI_OVERRIDE => Some(Class::Bidi),
        INVISIBLE => Some(Class::Other),
        _ => None,
    };
    match class {
        Some(class) => inner.chars().all(|c| classify(c) == Some(class)),
        None => true,
    }
}

fn check_pins(def: &Value) {
    let subset = pinned(Kind::Tool, def);
    let hash = hash_definition(Kind::Tool, def);
    let Value::Object(_) = def else {
        assert!(subset.is_err(), "a non-object pinned: {def}");
        assert!(hash.is_err(), "a non-object hashed: {def}");
        return;
    };
    let subset = subset.unwrap_or_else(|e| panic!("tool object does not pin: {e}: {def}"));
    let hash = hash.unwrap_or_else(|e| panic!("tool object does not hash: {e}: {def}"));
    let Value::Object(sub) = &subset else {
        panic!("pinned subset is not an object: {subset}");
    };
    let view = client_view(def);
    let Value::Object(view) = &view else {
        panic!("the client view of an object is not an object: {def}");
    };
    assert_eq!(view.len(), sub.len(), "pinned keys differ from what clients get");
    for (k, v) in sub {
        assert_eq!(Some(v), view.get(k).map(sorted).as_ref(), "pinned `{k}` changed");
    }
    let twice = pinned(Kind::Tool, &subset).expect("a pinned subset pins");
    assert_eq!(twice, subset, "pinning is not idempotent");
    let hash_of_subset = hash_definition(Kind::Tool, &subset).expect("a pinned subset hashes");
    assert_eq!(hash, hash_of_subset, "the pin of the pinned subset differs");
    assert!(
        hash.len() == 64
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "pin is not lowercase hex SHA-256: {hash}"
    );
}

fn sorted(v: &Value) -> Value {
    portcullis::integrity::sorted_keys(v.clone())
}

/// JSON pointer → walk index of every string value and object member (whose key is scanned
/// right before its value, under the same pointer), in the order the scanner walks them:
/// document order.
fn pointers(def: &Value) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    let mut stack = vec![(String::new(), def)];
    while let Some((pointer, value)) = stack.pop() {
        let n = out.len();
        out.entry(pointer.clone()).or_insert(n);
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter().rev() {
                    let child = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                    stack.push((child, v));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate().rev() {
                    stack.push((format!("{pointer}/{i}"), v));
                }
            }
            _ => {}
        }
    }
    out
}

/// The unescaped last reference token of a JSON pointer (the member's key).
fn last_key(pointer: &str) -> Option<String> {
    let (_, last) = pointer.rsplit_once('/')?;
    Some(last.replace("~1", "/").replace("~0", "~"))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Tag,
    ZeroWidth,
    Bidi,
    Other,
}

/// The character classes of `findings/unicode.rs` (`classify`), restated.
fn classify(c: char) -> Option<Class> {
    match c {
        '\u{E0000}'..='\u{E007F}' => Some(Class::Tag),
        '\u{200B}'
        | '\u{200C}'
        | '\u{200D}'
        | '\u{2060}'..='\u{2064}'
        | '\u{FEFF}'
        | '\u{180E}' => Some(Class::ZeroWidth),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Some(Class::Bidi),
        '\u{00AD}'
        | '\u{034F}'
        | '\u{061C}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{17B4}'
        | '\u{17B5}'
        | '\u{180B}'..='\u{180D}'
        | '\u{180F}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{2065}'
        | '\u{206A}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFFB}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0080}'..='\u{E0FFF}' => Some(Class::Other),
        c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => Some(Class::Other),
        _ => None,
    }
}

/// Characters an excerpt never shows raw: the classes above, every control, and the visible
/// format characters and line separators that are escaped too.
fn unsafe_to_show(c: char) -> bool {
    classify(c).is_some()
        || c.is_control()
        || matches!(c,
            '\u{0600}'..='\u{0605}' | '\u{06DD}' | '\u{070F}' | '\u{0890}' | '\u{0891}'
            | '\u{08E2}' | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{2028}'
            | '\u{2029}')
}

/// How an excerpt shows text (`findings/unicode.rs` `show`), restated: every unsafe
/// character as `\u{…}`, and a backslash that starts `\u{` doubled.
fn show(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if unsafe_to_show(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            if c == '\\' && chars.clone().take(2).collect::<String>() == "u{" {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}
