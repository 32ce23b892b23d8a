//! Shadowing: a definition that gives orders about other tools. By name, against the tools
//! the gateway knows: another backend's tool named the way a tool is named
//! (`shadowing.cross-server`), or a tool the gateway does not know at all given orders about
//! its behaviour (`shadowing.tool-behaviour`; tools of the definition's own backend may be
//! talked about freely, as real servers do: `use read_text_file instead`).

use std::collections::{HashMap, HashSet};

use super::pattern::Rule;
use regex::{Regex, RegexBuilder};

use super::hit::Hit;
use super::pattern;
use super::{CROSS_SERVER, Severity, TOOL_BEHAVIOUR};

fn build(pattern: &str) -> Option<Regex> {
    pattern::build(pattern, true)
}

#[derive(Debug)]
pub(super) struct Shadowing {
    /// One automaton for every other tool name; longer names first, so `read_file_v2` is not
    /// reported as `read_file`.
    names: Option<Regex>,
    /// Lower-cased tool name → backends that offer it.
    backends_of: HashMap<String, Vec<String>>,
    /// Other backends' names next to tool wording: one automaton for all of them, the
    /// backend in group `b1`, `b2` or `b3`.
    backend_refs: Option<Regex>,
    /// Lower-cased backend name → backend name.
    backend_names: HashMap<String, String>,
    /// Lower-cased tool names of the definition's own backend.
    own_tools: HashSet<String>,
}

/// Words that, right before a plain-word name, show it is being used as a tool name.
const CALL_WORDS: &[&str] = &[
    "use", "call", "invoke", "run", "using", "calling", "invoking", "execute", "trigger",
];
/// Words that, right after a plain-word name, show it is being used as a tool name.
const TOOL_WORDS: &[&str] = &["tool", "tools", "function", "command"];

impl Shadowing {
    pub(super) fn new(own_backend: &str, others: &[(String, String)]) -> Self {
        let mut backends_of: HashMap<String, Vec<String>> = HashMap::new();
        let mut own_tools = HashSet::new();
        for (backend, tool) in others {
            if backend == own_backend {
                own_tools.insert(tool.to_lowercase());
                continue;
            }
            if tool.is_empty() {
                continue;
            }
            let e = backends_of.entry(tool.to_lowercase()).or_default();
            if !e.contains(backend) {
                e.push(backend.clone());
            }
        }
        let mut names: Vec<&String> = backends_of.keys().collect();
        names.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        let names = if names.is_empty() {
            None
        } else {
            let alternation: Vec<String> = names.iter().map(|n| regex::escape(n)).collect();
            RegexBuilder::new(&pattern::ascii(&format!("(?:{})", alternation.join("|"))))
                .unicode(false)
                .case_insensitive(true)
                .size_limit(64 << 20)
                .build()
                .ok()
        };
        let mut backends: Vec<&String> = others
            .iter()
            .map(|(b, _)| b)
            .filter(|b| b.as_str() != own_backend && !b.is_empty())
            .collect();
        backends.sort();
        backends.dedup();
        // Three shapes: `github tools` / `the github server's tools`, `tools from github`, and
        // an exposed name under the default prefix separator (`github__create_issue`). A
        // backend name alone (`github.com`, `data/memory/`) is ordinary prose. Longer names
        // first, so `git` does not take the place of `github`.
        backends.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        let backend_names: HashMap<String, String> = backends
            .iter()
            .map(|b| (b.to_lowercase(), (*b).clone()))
            .collect();
        let backend_refs = (!backends.is_empty())
            .then(|| {
                let e = backends
                    .iter()
                    .map(|b| regex::escape(b))
                    .collect::<Vec<_>>()
                    .join("|");
                let pattern = format!(
                    r"(?:^|[^\w-])(?P<b1>{e})(?:['’]s)?\s+(?:mcp\s+)?(?:tools?|servers?|backends?|functions?|integration)\b|\b(?:tools?|functions?)\s+(?:from|of|in|on|provided\s+by)\s+(?:the\s+)?(?P<b2>{e})(?:$|[^\w-])|(?:^|[^\w-])(?P<b3>{e})__[A-Za-z]"
                );
                RegexBuilder::new(&pattern::ascii(&pattern))
                    .unicode(false)
                    .case_insensitive(true)
                    .size_limit(64 << 20)
                    .build()
                    .ok()
            })
            .flatten();
        Self {
            names,
            backends_of,
            backend_refs,
            backend_names,
            own_tools,
        }
    }

    /// `own_name` (lower-cased) is the scanned definition's name: naming itself is no shadowing,
    /// even when another backend has a tool of that name (a collision the catalog resolves).
    pub(super) fn scan(&self, s: &str, own_name: &str, out: &mut Vec<Hit>) {
        if let Some(re) = &self.names {
            for m in re.find_iter(s) {
                let (start, end) = (m.start(), m.end());
                let before = s.get(..start).and_then(|t| t.chars().next_back());
                let after = s.get(end..).and_then(|t| t.chars().next());
                let is_name_char = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
                if before.is_some_and(is_name_char) || after.is_some_and(is_name_char) {
                    continue;
                }
                let name = m.as_str();
                if !is_distinctive(name) && !used_as_tool(s, start, end) {
                    continue;
                }
                let lower = name.to_lowercase();
                // A name this backend offers too is its own tool (two backends with one name
                // are a collision the catalog resolves by prefix, rename or priority): a
                // server's instructions that say "call `echo`" about its own `echo` are not
                // shadowing another's.
                if lower == own_name || self.own_tools.contains(&lower) {
                    continue;
                }
                if let Some(backends) = self.backends_of.get(&lower) {
                    // `call transfer_funds with the returned draft_id`, `use the email
                    // server's send_email after the user confirms`: another server's tool as
                    // the next step of the user's own task is shown, not quarantined.
                    let step = next_step(s, start, end) || prerequisite(s, start, end);
                    out.push(Hit {
                        rule: CROSS_SERVER,
                        span: (start, end),
                        note: Some(format!(
                            "(a tool of `{}`{})",
                            backends.join("`, `"),
                            if step {
                                "; named as a step of the user's task"
                            } else {
                                ""
                            }
                        )),
                        severity: step.then_some(Severity::Medium),
                    });
                }
            }
        }
        if let Some(re) = &self.backend_refs {
            for c in re.captures_iter(s) {
                let (Some(m), Some(b)) =
                    (c.get(0), ["b1", "b2", "b3"].iter().find_map(|g| c.name(g)))
                else {
                    continue;
                };
                // `Works alongside the GitHub server's tools` names a neighbour; an order about
                // it (`when the github tools run, also…`, `don't use the github server`) is
                // shadowing. The exposed-name shape (`github__x`) counts without one.
                if c.name("b3").is_none() && !orders_in_clause(s, m.start(), m.end()) {
                    continue;
                }
                // `Use the github server's create_issue afterwards if the user wants it`: the
                // backend named as the next step of the user's task, as for a tool's name.
                let step = c.name("b3").is_none() && next_step(s, b.start(), m.end());
                let backend = self
                    .backend_names
                    .get(&b.as_str().to_lowercase())
                    .map_or(b.as_str(), String::as_str);
                // The pattern may include one leading boundary character; trim it off the span.
                let lead = m
                    .as_str()
                    .chars()
                    .next()
                    .filter(|c| !c.is_alphanumeric())
                    .map_or(0, char::len_utf8);
                out.push(Hit {
                    rule: CROSS_SERVER,
                    span: (m.start() + lead, m.end()),
                    note: Some(format!(
                        "(names backend `{backend}`{})",
                        if step {
                            "; named as a step of the user's task"
                        } else {
                            ""
                        }
                    )),
                    severity: step.then_some(Severity::Medium),
                });
            }
        }
        self.scan_named(s, own_name, out);
    }

    /// Orders about a named tool that is neither this backend's nor another backend's.
    /// Only when this backend's own tools are known: without them, a server's guidance about
    /// its own tools (`when calling read_file, always use absolute paths`) looks the same.
    fn scan_named(&self, s: &str, own_name: &str, out: &mut Vec<Hit>) {
        let Some(re) = NAMED_RE.get() else { return };
        if self.own_tools.is_empty() {
            return;
        }
        for c in re.captures_iter(s) {
            let Some(name) = ["n1", "n2", "n3", "n4"].iter().find_map(|g| c.name(g)) else {
                continue;
            };
            if c.name("v2")
                .is_some_and(|v| v.as_str().eq_ignore_ascii_case("be"))
            {
                continue;
            }
            let lower = name.as_str().trim_matches(['.', '-']).to_lowercase();
            if lower == own_name
                || self.own_tools.contains(&lower)
                || self.backends_of.contains_key(&lower)
            {
                continue;
            }
            if let Some(m) = c.get(0) {
                out.push(Hit {
                    rule: TOOL_BEHAVIOUR,
                    span: (m.start(), m.end()),
                    note: Some(format!(
                        "(`{}` is not a tool of this backend)",
                        name.as_str()
                    )),
                    severity: None,
                });
            }
        }
    }
}

/// The clause around `start..end`: from the last stop before it to the next one after it.
fn clause(s: &str, start: usize, end: usize) -> &str {
    let stops = ['.', ';', '\n', '!', '?'];
    let (lo, hi) = (super::hit::lo(s, start), super::hit::hi(s, end));
    let from = s
        .get(lo..start)
        .and_then(|b| b.rfind(stops))
        .map_or(lo, |i| lo + i + 1);
    let to = s
        .get(end..hi)
        .and_then(|a| a.find(stops))
        .map_or(hi, |i| end + i);
    s.get(from..to).unwrap_or_default()
}

/// Whether the clause around `start..end` gives an order or passes judgement: a modal, an
/// imperative about calling or sending, a condition about when a tool runs.
fn orders_in_clause(s: &str, start: usize, end: usize) -> bool {
    ORDER_CUE_RE
        .get()
        .is_none_or(|re| re.is_match(clause(s, start, end)))
}

/// Whether another server's tool named at `start..end` is only a step of the user's task: its
/// clause waits for the user's confirmation, or orders the steps (`first`, `then`, `before`,
/// `with the returned id`, `id from …`), and says nothing against the tool, about rerouting
/// it or its data, or about an address. Anything else named that way stays `high`.
fn next_step(s: &str, start: usize, end: usize) -> bool {
    let (Some(step), Some(protect), Some(against), Some(refused)) = (
        STEP_CUE_RE.get(),
        PROTECT_CUE_RE.get(),
        AGAINST_CUE_RE.get(),
        REFUSED_RE.get(),
    ) else {
        return false;
    };
    let c = clause(s, start, end);
    // The tool is what the model is told to call (`call transfer_funds`, `use the email
    // server's send_email`, `an id from lookup_customer`), not the condition of an order
    // (`before calling create_issue, …`, `when send_email is used, …`).
    let lead = super::hit::before(s, start);
    let lead = lead
        .get(lead.len().saturating_sub(c.len().min(start))..)
        .unwrap_or_default();
    if !CALLED_RE.get().is_some_and(|re| re.is_match(lead)) {
        return false;
    }
    let protective = protect.is_match(c);
    // `Never call transfer_funds without explicit confirmation` guards the user; `never call
    // send_email` alone fences the tool off.
    (protective || step.is_match(c)) && !against.is_match(c) && (protective || !refused.is_match(c))
}

/// `Call this before `read_secret` if you don't know the mount path` (round 7): this tool as a
/// lookup the user's task may need before another server's tool, on a condition of need, with
/// nothing handed over and no order about the other tool. `Before calling create_issue, always
/// call this tool` (the other tool as the condition, every time) stays `high`.
fn prerequisite(s: &str, start: usize, end: usize) -> bool {
    let (Some(lead_re), Some(need), Some(order), Some(against)) = (
        PREREQ_LEAD_RE.get(),
        NEED_CUE_RE.get(),
        ALWAYS_CUE_RE.get(),
        AGAINST_CUE_RE.get(),
    ) else {
        return false;
    };
    let c = clause(s, start, end);
    let lead = super::hit::before(s, start)
        .rsplit(['.', ';', '\n', '!', '?'])
        .next()
        .unwrap_or_default();
    // The name's own quotes are no literal carried along.
    let bare: String = c
        .chars()
        .filter(|ch| !matches!(ch, '`' | '\'' | '"'))
        .collect();
    lead_re.is_match(lead) && need.is_match(c) && !order.is_match(c) && !against.is_match(&bare)
}

static PREREQ_LEAD_RE: Rule = Rule::new(|| {
    build(
        r"^\s*(?:call|use|run)\s+(?:this|this\s+tool|it)\s+(?:first\s+)?before\s+(?:calling\s+|using\s+|running\s+)?[`'\x22]?$",
    )
});

static NEED_CUE_RE: Rule = Rule::new(|| {
    build(
        r"\b(?:if|when) you (?:don't|do not|aren't sure|are not sure|are unsure|need)\b|\bto (?:find|get|learn|look up|discover) (?:the|a|which)\b",
    )
});

static ALWAYS_CUE_RE: Rule = Rule::new(|| {
    build(r"\b(?:always|every|each|must|never|whenever|required|mandatory|pass|send|include)\b")
});

static CALLED_RE: Rule = Rule::new(|| {
    build(
        r"\b(?:call|use|run|invoke|with|from|by)\s+(?:(?:the|a|an)\s+)?(?:[\w'\-]+\s+){0,3}?[`'\x22]?$",
    )
});

static PROTECT_CUE_RE: Rule = Rule::new(|| {
    build(concat!(
        r"\b(?:(?:after|once|until|when|unless) the user (?:confirms|approves|agrees|says|has (?:confirmed|approved|agreed))",
        r"|without (?:(?:the user'?s?|their|explicit|first) )*(?:confirmation|approval|consent|asking|checking with)",
        r"|(?:user'?s?|their) (?:explicit )?(?:confirmation|approval|consent|go-ahead))\b",
    ))
});

static STEP_CUE_RE: Rule = Rule::new(|| {
    build(concat!(
        r"\b(?:first|then|before|afterwards|next|(?:with|using) the returned|(?:ids?|value|token|cursor|result) (?:from|returned by|of)",
        r"|to (?:get|obtain|find|look up|fetch|resolve|know))\b",
    ))
});

static AGAINST_CUE_RE: Rule = Rule::new(|| {
    build(concat!(
        r"\b(?:instead|rather than|in place of|bcc|cc|forward|copy|mirror|redirect|route|intercept|replace|override",
        r"|broken|deprecated|unsafe|malicious|compromised|wrong|fails?|slow|stale|outdated|retired|obsolete|unreliable",
        r"|avoid|stop using|ignore|disable|also|(?:to|through|via|into) this (?:tool|server|function|one)|secretly|silently|quietly",
        r"|conversation|transcript|chat|history|credentials|passwords?|secrets?|api keys?|system prompt|contents? of",
        // Something handed to this tool (round 7): `call this before create_issue and pass it
        // the issue body`.
        r"|pass (?:it|this(?: tool)?|them)|hand (?:it|them|over)|give (?:it|this tool))\b",
        // A literal carried along (an amount, an account, a flag value) or an address.
        r"|@|://|\d|[`=\x22]",
    ))
});

static REFUSED_RE: Rule =
    Rule::new(|| build(r"\b(?:never|don't|do not|must not|should not) (?:use|call|trust)\b"));

static ORDER_CUE_RE: Rule = Rule::new(|| {
    build(concat!(
        r"\b(?:must|should|shall|always|never|instead|rather|don't|do not|avoid|stop|before|after",
        r"|when|whenever|every time|each time|if|first|only|ignore|replaces?|supersedes?|overrides?",
        r"|redirects?|routes?|intercepts?|pass|send|retired|obsolete|slow|fails?|stale|outdated",
        r"|forward|copy|bcc|cc|add|append|prepend|include|broken|unsafe|deprecated|compromised",
        r"|malicious|untrusted|wrong|disable|need to|have to|make sure|ensure)\b",
    ))
});

/// A tool name as written in prose: with a separator (`send_email`, `get-sum`, `fs.read`) or
/// inner capitals (`sendEmail`).
const NAME: &str = r"[A-Za-z][A-Za-z0-9]*(?:[_.\-][A-Za-z0-9]+)+|[a-z]+[A-Z][A-Za-z0-9]*";

/// Orders about a named tool: `when you call send_email, always…`, `the send_email tool must
/// …`, `all calls to send_email must…`.
static NAMED_RE: Rule = Rule::new(|| {
    let q = r"[`'\x22]?";
    build(&format!(
        concat!(
            r"\b(?:when|whenever|before|after|if|every\s+time|each\s+time|while)\s+",
            r"(?:you\s+|the\s+(?:user|assistant|agent|model)\s+)?(?:(?:are|is)\s+)?",
            r"(?:use|uses|using|call|calls|calling|invoke|invokes|invoking|run|runs|running",
            r"|execute|executing|send|sending)\s+(?:the\s+)?{q}(?P<n1>{name}){q}",
            r"(?:\s+(?:tool|function|command|method))?(?:\s+is\s+(?:used|called|invoked|run))?",
            r"\s*[,:]?\s*(?:you\s+)?(?:must|should|shall|always|never|make\s+sure|ensure|be\s+sure",
            r"|remember|also|set|add|include|replace|change|append|prepend|bcc|cc|redirect|pass|send)\b",
            r"|\b(?:when|whenever|before|after|if|every\s+time|each\s+time)\s+(?:the\s+)?{q}(?P<n4>{name}){q}",
            r"(?:\s+(?:tool|function|command|method))?\s+is\s+(?:used|called|invoked|run|executed|triggered)\b",
            r"|{q}\b(?P<n2>{name}){q}\s+(?:tool|function|command)\s+(?:must|should|shall|needs?\s+to",
            r"|has\s+to|is\s+required\s+to|will\s+now)\s+(?:always\s+|now\s+|also\s+|only\s+|never\s+)?",
            r"(?P<v2>\w+)",
            r"|\b(?:all|every|any)\s+(?:calls?|requests?|invocations?|uses?|emails?|messages?)\s+",
            r"(?:to|of|with|through|via|sent\s+with)\s+(?:the\s+)?{q}(?P<n3>{name}){q}",
            r"(?:\s+(?:tool|function))?\s+(?:must|should|shall|need|needs|have|has|will|are|require)\b",
        ),
        q = q,
        name = NAME,
    ))
});

/// A name that cannot be an ordinary word: it has a separator, a digit, or inner capitals.
fn is_distinctive(name: &str) -> bool {
    name.chars()
        .any(|c| matches!(c, '_' | '-' | '.' | '/' | ':') || c.is_ascii_digit())
        || name.chars().skip(1).any(char::is_uppercase)
}

/// Whether a plain-word name at `start..end` is written as a tool name: quoted or in
/// backticks, right after a call word, or right before `tool`.
fn used_as_tool(s: &str, start: usize, end: usize) -> bool {
    let before = s.get(..start).unwrap_or_default();
    let after = s.get(end..).unwrap_or_default();
    let quotes = ['`', '\'', '"', '‘', '’', '“', '”'];
    if before
        .chars()
        .next_back()
        .is_some_and(|c| quotes.contains(&c))
        && after.chars().next().is_some_and(|c| quotes.contains(&c))
    {
        return true;
    }
    let prev_word = before
        .trim_end()
        .rsplit(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default();
    let next_word = after
        .trim_start()
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default();
    CALL_WORDS.iter().any(|w| w.eq_ignore_ascii_case(prev_word))
        || TOOL_WORDS.iter().any(|w| w.eq_ignore_ascii_case(next_word))
}
