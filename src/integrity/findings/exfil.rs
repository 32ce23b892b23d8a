//! Exfiltration to a literal address: a sending verb (or a tool call that names the data it
//! moves) whose object is an email address or URL, a recipient added, a URL that carries the
//! conversation or secrets in its query. Defanged addresses (`evil[.]com`, `hxxp://`,
//! `x[at]y[.]com`) are read as the address they stand for, and reported themselves.
//!
//! The rules are deliberately narrow: `Send an email to the given recipient` (no literal
//! address), `returns the user's email`, or a documentation link are not exfiltration. A tool
//! call counts as sending only when it names the data it moves to the address (`call
//! send_email with the file contents to x@evil.example`, not `call login with your credentials
//! to sign in to https://…`).

use regex::Regex;

use super::hit::Hit;
use super::pattern::{self, Rule};
use super::unicode::{Builder, View};
use super::{DEFANGED, EXTERNAL_ADDRESS, SEND_TO};

fn build(pattern: &str) -> Option<Regex> {
    pattern::build(pattern, true)
}

/// A literal email address or URL.
static ADDRESS_RE: Rule = Rule::new(|| {
    build(concat!(
        r"\b(?:https?|ftps?|wss?|sftp|scp|rsync|smb|s3|gs)://[^\s<>`'\x22)\]}]+",
        r"|\bmailto:[^\s<>`'\x22)\]}]+",
        r"|[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b",
    ))
});

/// A verb that moves data somewhere.
static SEND_VERB_RE: Rule = Rule::new(|| {
    build(concat!(
        r"\b(?:send|sends|sent|sending|forward|forwards|forwarded|forwarding|b?cc|b?cc'?d",
        r"|copy|copies|copied|copying|upload|uploads|uploaded|uploading|post|posts|posted|posting",
        r"|transmit|transmits|transmitted|transmitting|exfiltrate\w*|leak|leaks|leaked|leaking",
        r"|e-?mail|e-?mails|e-?mailed|e-?mailing|mail|mails|mailed|mailing",
        r"|deliver|delivers|delivered|delivering|relay|relays|relayed|relaying",
        r"|mirror|mirrors|sync|syncs|replicate|replicates|report|reports|archive|archives|submit|submits",
        r"|ship|ships|beacon|beacons|push|pushes)\b",
    ))
});

/// What sits between the verb and the address when data is sent *to* that address:
/// `to`, `to the address`, `bcc:` …, at the very end of the text before the address.
static SEND_LINK_RE: Rule = Rule::new(|| {
    build(concat!(
        r"\b(?:to|into|onto|towards)\s*(?:the\s+|this\s+)?",
        r"(?:(?:e-?mail\s+)?address|url|endpoint|webhook|server|e-?mail|inbox|host|recipient)?",
        r"(?:\s+(?:at|on|located\s+at|hosted\s+at|below))?",
        r"\s*[:(\[<\x22'`]*\s*$",
    ))
});

/// After an address: it is being made a recipient (`… attacker@x.com as a BCC recipient`).
static RECIPIENT_AFTER_RE: Rule = Rule::new(|| {
    build(concat!(
        r"^[\s)\]>\x22'`]*(?:as|in)\s+(?:an?\s+|the\s+)?(?:additional\s+|hidden\s+|extra\s+|silent\s+)?",
        r"(?:bcc|cc|recipient|destination|target)\b",
    ))
});

/// The object of a sending verb that makes it an API call rather than a data transfer.
static REQUEST_RE: Rule = Rule::new(|| build(r"\b(?:requests?|calls?|quer(?:y|ies))\b"));

static BCC_RE: Rule = Rule::new(|| build(r"\bb?cc\b"));

/// A call of a named tool: a call word, then the name in backticks or quotes, a `snake_case`
/// name, or a word followed by `tool` / `function` / `command`. In `call send_email with the
/// file contents to …` the sending verb hides inside the name (`\bsend\b` does not match in
/// `send_email`), so the call stands in for the verb when data goes to the address
/// ([`DATA_BEFORE_RE`], [`DATA_AFTER_RE`]).
static TOOL_CALL_RE: Rule = Rule::new(|| {
    build(concat!(
        r"\b(?:call|calls|calling|use|uses|using|invoke|invokes|invoking|run|runs|running",
        r"|execute|executes|executing|trigger|triggers|triggering)\s+(?:the\s+)?",
        r"(?:[`'\x22‘“][^\s`'\x22’”]{1,64}[`'\x22’”]|\w*_\w*|[\w.-]+\s+(?:tool|function|command)\b)",
    ))
});

/// What an exfiltration is after: contents, conversations, keys, tokens, credentials…
const DATA_NOUNS: &str = concat!(
    r"(?:\b(?:contents?|files?|conversations?|chats?|history|histories|transcripts?|messages?",
    r"|e-?mails?|inbox|(?:api[\s_-]?)?keys?|tokens?|secrets?|credentials?|passwords?",
    r"|passphrases?|cookies?|notes|documents?|logs?|data|results?|outputs?|responses?|id_rsa)",
    r"|\.env)\b",
);

/// Data named right before the `to` of [`SEND_LINK_RE`], perhaps with its source: `… with the
/// file contents`, `… the API key from ~/.env`. `with your credentials to sign in to` names no
/// data right before its last `to`, and `your token in the header` is where it goes, not from.
static DATA_BEFORE_RE: Rule = Rule::new(|| {
    build(&format!(
        r"{DATA_NOUNS}(?:\s+(?:of|from)\s+\S+(?:\s+\S+){{0,2}})?\s*$"
    ))
});

/// After an address right after a tool call (`call send_email to x@evil.example`), the data
/// that goes with it: `… with the file contents`.
static DATA_AFTER_RE: Rule = Rule::new(|| {
    build(&format!(
        r"^[\s,)\]>\x22'`]*(?:with|containing|including|attaching)\s+(?:\S+\s+){{0,3}}{DATA_NOUNS}"
    ))
});

/// Between a tool call and the `to` of [`SEND_LINK_RE`] when the address follows at once.
static TOOL_WORD_ONLY_RE: Rule = Rule::new(|| build(r"^\s*(?:(?:tool|function|command)\s*)?$"));

/// How far back from an address a verb may be; a sentence boundary ends it sooner.
const VERB_WINDOW: usize = 160;
/// How far back from an address `bcc` / `cc` may be.
const BCC_WINDOW: usize = 40;

/// Address hits in `s`, in `s`'s coordinates.
fn scan_addresses(s: &str, is_schema_ref: bool, out: &mut Vec<Hit>) {
    let (
        Some(addr_re),
        Some(verb_re),
        Some(link_re),
        Some(after_re),
        Some(bcc_re),
        Some(request_re),
    ) = (
        ADDRESS_RE.get(),
        SEND_VERB_RE.get(),
        SEND_LINK_RE.get(),
        RECIPIENT_AFTER_RE.get(),
        BCC_RE.get(),
        REQUEST_RE.get(),
    )
    else {
        return;
    };
    for m in addr_re.find_iter(s) {
        let (start, end) = (m.start(), trim_trailing_punct(s, m.start(), m.end()));
        let clause_start = clause_start(s, start, VERB_WINDOW);
        let clause = s.get(clause_start..start).unwrap_or_default();
        let is_url = m.as_str().contains("://");
        let sent_to = verb_re.find_iter(clause).any(|v| {
            let between = clause.get(v.end()..).unwrap_or_default();
            // `Sends a GET request to https://api.example.com` says which API the tool calls;
            // that is documentation, not data sent somewhere.
            if is_url && request_re.is_match(between) {
                return false;
            }
            let is_bcc = bcc_re.is_match(v.as_str());
            link_re.is_match(between) || (is_bcc && between.len() <= BCC_WINDOW)
        });
        let after = s.get(end..).unwrap_or_default();
        let recipient = after_re.is_match(after);
        let bcc_near = bcc_re
            .find_iter(clause)
            .any(|b| clause.len() - b.end() <= BCC_WINDOW);
        let via_tool = tool_call_sends_data(clause, after, &link_re);
        if sent_to || recipient || bcc_near || via_tool.is_some() {
            let verb = clause_start_of_verb(s, clause_start, start, &verb_re);
            let from = via_tool.map_or(verb, |at| verb.min(clause_start + at));
            out.push(Hit::new(SEND_TO, (from, end)));
        } else if carries_data(m.as_str(), after) {
            out.push(Hit::new(SEND_TO, (start, end)));
        } else if !is_schema_ref {
            out.push(Hit::new(EXTERNAL_ADDRESS, (start, end)));
        }
    }
}

/// Where in `clause` (the text of the clause before an address) a tool call starts that moves
/// data to that address: `call send_email with the file contents to` (data right before the
/// `to`), or `call send_email to` with `after` (the text after the address) naming the data
/// (`with the file contents`). A tool call that names no data (`use send_email to email the
/// user`, `call login with your credentials to sign in to`) is not.
fn tool_call_sends_data(clause: &str, after: &str, link_re: &Regex) -> Option<usize> {
    let (Some(call_re), Some(before_re), Some(after_re), Some(bare_re)) = (
        TOOL_CALL_RE.get(),
        DATA_BEFORE_RE.get(),
        DATA_AFTER_RE.get(),
        TOOL_WORD_ONLY_RE.get(),
    ) else {
        return None;
    };
    let link = link_re.find(clause)?;
    call_re
        .find_iter(clause)
        .find(|c| {
            let Some(between) = clause.get(c.end()..link.start()) else {
                return false;
            };
            before_re.is_match(between) || (bare_re.is_match(between) && after_re.is_match(after))
        })
        .map(|c| c.start())
}

/// A sentence's full stop is not part of the address before it.
fn trim_trailing_punct(s: &str, start: usize, mut end: usize) -> usize {
    while end > start
        && s.get(..end)
            .and_then(|t| t.chars().next_back())
            .is_some_and(|c| matches!(c, '.' | ',' | ';' | ':' | '!' | '?'))
    {
        end -= 1;
    }
    end
}

/// Where the clause containing byte `at` starts: after the last sentence boundary (`. `, `!`,
/// `?`, `;`, newline) before it, and no more than `window` bytes back.
fn clause_start(s: &str, at: usize, window: usize) -> usize {
    let mut from = at.saturating_sub(window);
    while !s.is_char_boundary(from) {
        from += 1;
    }
    let before = s.get(from..at).unwrap_or_default();
    let mut boundary = None;
    let mut prev: Option<(usize, char)> = None;
    for (i, c) in before.char_indices() {
        if let Some((pi, pc)) = prev
            && matches!(pc, '.' | '!' | '?')
            && c.is_whitespace()
        {
            boundary = Some(pi + pc.len_utf8());
        }
        if matches!(c, ';' | '\n') {
            boundary = Some(i + 1);
        }
        prev = Some((i, c));
    }
    from + boundary.unwrap_or(0)
}

/// The span of an exfiltration finding starts at the first sending verb of the clause, so the
/// excerpt shows the instruction and not only the address.
fn clause_start_of_verb(s: &str, clause_start: usize, addr_start: usize, verb_re: &Regex) -> usize {
    s.get(clause_start..addr_start)
        .and_then(|c| verb_re.find(c))
        .map_or(addr_start, |v| clause_start + v.start())
}

/// Address hits of a view's text: the addresses as written, and those a defanged spelling
/// stands for (refanged, then mapped back), plus the defanged spellings themselves.
pub(super) fn scan(text: &str, is_schema_ref: bool, out: &mut Vec<Hit>) {
    scan_addresses(text, is_schema_ref, out);
    let Some(re) = DEFANGED_RE.get() else { return };
    if !re.is_match(text) {
        return;
    }
    let mut refanged = Builder::with_capacity(text.len());
    let mut last = 0;
    for m in re.find_iter(text) {
        let end = trim_trailing_punct(text, m.start(), m.end());
        out.push(Hit::new(DEFANGED, (m.start(), end)));
        for (i, c) in text.get(last..m.start()).unwrap_or_default().char_indices() {
            let at = last + i;
            refanged.push(c, (at, at + c.len_utf8()));
        }
        refang(m.as_str(), m.start(), &mut refanged);
        last = m.end();
    }
    for (i, c) in text.get(last..).unwrap_or_default().char_indices() {
        let at = last + i;
        refanged.push(c, (at, at + c.len_utf8()));
    }
    let refanged: View<'_> = refanged.finish();
    let mut hits = Vec::new();
    scan_addresses(&refanged.text, is_schema_ref, &mut hits);
    for hit in hits {
        // What was already an address needs no second report; a sending instruction to a
        // defanged address does, and so does a defanged address alone (reported above).
        if hit.rule == SEND_TO {
            out.push(Hit::new(SEND_TO, refanged.parent(hit.span)));
        }
    }
}

/// A defanged spelling: `hxxp://`, `h**p://`, a dot or `@` in brackets, `[dot]`, `(at)`.
static DEFANGED_RE: Rule = Rule::new(|| {
    build(concat!(
        r"\bh(?:xx|\*\*|XX)ps?(?:\[:\]|:)//[^\s<>`'\x22]*",
        r"|\b[\w\-]+(?:\s*[\[({]\s*(?:\.|dot)\s*[\])}]\s*[\w\-]+)+(?:/[^\s<>`'\x22]*)?",
        r"|\b[\w.+\-]+\s*[\[({]\s*(?:@|at)\s*[\])}]\s*[\w\-]+(?:\s*(?:[\[({]\s*(?:\.|dot)\s*[\])}]|\.)\s*[\w\-]+)+",
    ))
});

static FANG_DOT_RE: Rule = Rule::new(|| build(r"\s*[\[({]\s*(?:\.|dot)\s*[\])}]\s*"));
static FANG_AT_RE: Rule = Rule::new(|| build(r"\s*[\[({]\s*(?:@|at)\s*[\])}]\s*"));
static FANG_SCHEME_RE: Rule = Rule::new(|| build(r"^h(?:xx|\*\*)p(s?)(?:\[:\]|:)//"));

/// Appends the address `defanged` (at `offset` in the view) stands for.
fn refang(defanged: &str, offset: usize, out: &mut Builder) {
    let (Some(dot), Some(at), Some(scheme)) =
        (FANG_DOT_RE.get(), FANG_AT_RE.get(), FANG_SCHEME_RE.get())
    else {
        return;
    };
    let mut pos = 0;
    if let Some(c) = scheme.captures(defanged)
        && let Some(m) = c.get(0)
    {
        let fanged = if c.get(1).is_some_and(|s| !s.as_str().is_empty()) {
            "https://"
        } else {
            "http://"
        };
        out.push_str(fanged, (offset, offset + m.end()));
        pos = m.end();
    }
    let rest = defanged.get(pos..).unwrap_or_default();
    let mut marks: Vec<(usize, usize, char)> = dot
        .find_iter(rest)
        .map(|m| (m.start(), m.end(), '.'))
        .chain(at.find_iter(rest).map(|m| (m.start(), m.end(), '@')))
        .collect();
    marks.sort_unstable();
    let mut last = 0;
    for (start, end, c) in marks {
        if start < last {
            continue;
        }
        for (i, ch) in rest.get(last..start).unwrap_or_default().char_indices() {
            let at = offset + pos + last + i;
            out.push(ch, (at, at + ch.len_utf8()));
        }
        out.push(c, (offset + pos + start, offset + pos + end));
        last = end;
    }
    for (i, ch) in rest.get(last..).unwrap_or_default().char_indices() {
        let at = offset + pos + last + i;
        out.push(ch, (at, at + ch.len_utf8()));
    }
}

/// A URL whose query or path has a placeholder for the conversation or secrets
/// (`https://x.example/log?d={conversation}`): whoever fills it in sends the data there.
/// `{owner}/{repo}` and `?api_key={key}` are ordinary API documentation.
fn carries_data(url: &str, after: &str) -> bool {
    let Some(re) = PLACEHOLDER_RE.get() else {
        return false;
    };
    // The address pattern stops at a brace or an angle bracket; the placeholder may go on
    // right after (`?data=<all previous messages>`).
    let take = if after.starts_with(['{', '<', '[', '$']) {
        60
    } else {
        2
    };
    let closing: String = after.chars().take(take).collect();
    url.contains("://") && re.is_match(&format!("{url}{closing}"))
}

static PLACEHOLDER_RE: Rule = Rule::new(|| {
    build(concat!(
        r"[{<\[$]\s*\{?\s*[\w\s.\-]{0,30}(?:conversation|chat|history|messages|transcript",
        r"|system[_\s-]?prompt|instructions|secrets?|passwords?|credentials|ssh|private[_\s-]?key",
        r"|env(?:ironment)?[_\s-]?var|cookies?|user[_\s-]?data|summary|context|results?|rows|output|responses?",
        r"|answers?|contents?|emails?|location|ip[_\s-]?address|phone|documents?|records?|user[_\s-]?input",
        r"|questions?|prompt)[\w\s.\-]{0,30}[}>\]]",
    ))
});
