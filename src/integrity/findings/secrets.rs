//! Reads of credential, key and agent-configuration files, and the conversation or secrets
//! put into a tool's arguments: orders that hand the model's context to a backend. Run beside
//! the wording rules (`wording`) on every view of a text (`text::analyse`).

use super::hit::Hit;
use super::pattern::{Rule, alts, build, words};
use super::{CONTEXT_LEAK, CREDENTIAL_READ};

/// A credential, key or agent-configuration file.
static SENSITIVE_PATH_RE: Rule = Rule::new(|| {
    build(
        concat!(
            r"~?/?\.ssh\b(?:/[\w.\-]*)?|\bid_(?:rsa|dsa|ecdsa|ed25519)\b",
            r"|\.aws/(?:credentials|config)\b",
            r"|(?:^|[\s`'\x22(/=:])\.env(?:\.(?:local|production|prod|development|dev|secret))?\b",
            r"|\b(?:mcp|mcp_config|mcp_settings|cline_mcp_settings)\.json\b|\bclaude_desktop_config\.json\b",
            r"|~?/?\.cursor\b(?:/[\w.\-]*)?|\.claude(?:/[\w.\-]*|\.json)|\.codeium/|\.continue/config",
            r"|\.vscode/(?:settings|mcp)\.json|\.gemini/settings\.json|\.windsurf\b",
            r"|\.netrc\b|\.git-credentials\b|\.npmrc\b|\.pypirc\b|\.docker/config\.json",
            r"|\.kube/config\b|\bkubeconfig\b|\.config/gcloud\b|application_default_credentials\.json",
            r"|\.azure/|/etc/(?:shadow|passwd|sudoers)\b|\.(?:bash|zsh)_history\b|\.gnupg\b",
            r"|\bwallet\.dat\b|\blogin\.keychain\b|\bLogin Data\b|\bcookies\.sqlite\b|\.password-store\b",
            r"|\.kdbx\b|\bsecrets?\.(?:json|ya?ml|toml|env)\b|\bcredentials\.(?:json|ya?ml|toml)\b",
            r"|\bservice[-_]account[\w\-]*\.json\b|\.htpasswd\b|\.config/gh/hosts\.yml\b",
            r"|\.config/[\w.\-]+/(?:credentials|token|tokens|auth|auth\.json|hosts\.yml)\b",
            r"|\b[a-z][\w+.\-]*://[\w./\-]*(?:credentials|secrets?|passwords?|confidential|private[_\-]?keys?|api[_\-]?keys?|tokens?)\b",
            r"|\b(?:browser|chrome|chromium|firefox|safari|edge|brave)(?:'s|s')? (?:saved |stored )?(?:cookies?(?: (?:database|store|jar|file|db))?|passwords?|login data|keychain|password (?:store|manager|vault)|session (?:store|storage)|local storage)\b",
            r"|\b(?:keychain|password manager|password vault|1password|bitwarden|lastpass|keepass)\b",
            r"|\b(?:claude(?: desktop| code)?|cursor|windsurf|cline|vs ?code|codex|gemini(?: cli)?|continue|mcp(?: client)?)(?:'s)? (?:mcp )?(?:config(?:uration)?|settings) files?\b",
        ),
        true,
    )
});

/// An imperative read or hand-over (`read`, `cat`, `include`…; `reads` describes a tool).
static READ_VERB_RE: Rule = Rule::new(|| {
    build(
        concat!(
            r"\b(?:read|cat|open|load|fetch|get|grab|obtain|retrieve|extract|collect|gather|access",
            r"|dump|print|copy|locate|harvest|scrape|include|pass|put|insert|provide|send|append",
            r"|attach|supply|embed|paste|upload|forward|transmit|share|encode|output|echo|leak",
            r"|exfiltrate|steal|give|look at|take|pull|lift|export|dig out|grab)\b",
        ),
        true,
    )
});

/// Into a tool argument: `… as the sidenote parameter`, `… in the `notes` field`.
static FLOW_RE: Rule = Rule::new(|| {
    let fill = words(concat!(
        r"\b(?:fill|populate|set)\b (?:this|it|the \w+)(?: (?:field|value|parameter|argument))? ",
        r"with\b(?:[^.\n]|\.\S){0,80}",
    ));
    let here = words(concat!(
        r"\b(?:put|include|pass|provide|insert|paste|enter|write|add|send|supply|place)\b",
        r"(?:[^.\n]|\.\S){0,100}?\b(?:here|in this (?:field|value|parameter|argument|property))\b",
    ));
    build(
        &format!(
            "{fill}|{here}|{}",
            words(concat!(
                r"\b(?:pass|include|put|insert|add|provide|send|append|attach|supply|embed|fill|set|place|places",
                r"|paste|enter|write|use|give|forward|encode|store|save|copy|puts|passes|includes|sends",
                r"|adds|inserts|attaches|copies|pastes|writes|provides|supplies|embeds)\b(?:[^.\n]|\.\S){0,120}?",
                r"\b(?:as|in|into|to|inside|within|via|through|under|for) (?:the |a |an |your |this )?",
                r"(?:[`'\x22]?[\w\-.]{1,40}[`'\x22]? )?(?:parameter|param|argument|arg|field|property|input",
                r"|value|sidenote|side[_\s-]?note|notes?|context|metadata|comment|payload|header|query",
                r"|body|attachment|request)s?\b",
            ))
        ),
        true,
    )
});

/// A negation right before a verb: `never read ~/.ssh`, `does not need to read .env`.
static NEGATION_RE: Rule = Rule::new(|| {
    build(
        r"\b(?:not|never|no need to|don't|doesn't|won't|cannot|can't|refuses? to|without)\s+(?:\w+\s+){0,2}$",
        true,
    )
});

/// How far around a sensitive path its verb may be; a sentence boundary ends it sooner.
const PATH_WINDOW: usize = 200;

/// A hand-over: what is read goes somewhere (`pass`, `include`, `send`…).
static HAND_OVER_RE: Rule = Rule::new(|| {
    build(
        concat!(
            r"\b(?:include|pass|put|insert|provide|send|append|attach|supply|embed|paste|upload",
            r"|forward|transmit|share|give|leak|exfiltrate|steal|copy|post|email|add)\b",
        ),
        true,
    )
});

/// Files that are sensitive but that ordinary tools list, check or read (`~/.ssh/config`,
/// `/etc/passwd`, a project's `.env`): only a hand-over makes reading them an attack.
static WEAKER_PATH_RE: Rule = Rule::new(|| {
    build(
        concat!(
            r"ssh/(?:config|known_hosts|authorized_keys)|/etc/passwd|_history|\.gnupg|docker/config|\.env\b",
            // A password manager is a product a tool integrates with (`Get an item from a
            // 1Password vault`): only handing what it holds on is an attack.
            r"|\b(?:password manager|password vault|1password|bitwarden|lastpass|keepass)\b",
        ),
        true,
    )
});

pub(super) fn scan_credential_reads(text: &str, out: &mut Vec<Hit>) {
    let (Some(path_re), Some(verb_re), Some(hand_re), Some(weak_re), Some(flow_re), Some(neg_re)) = (
        SENSITIVE_PATH_RE.get(),
        READ_VERB_RE.get(),
        HAND_OVER_RE.get(),
        WEAKER_PATH_RE.get(),
        FLOW_RE.get(),
        NEGATION_RE.get(),
    ) else {
        return;
    };
    for m in path_re.find_iter(text) {
        let (from, to) = sentence(text, m.start(), m.end(), PATH_WINDOW);
        let sentence_text = text.get(from..to).unwrap_or_default();
        // A public key (`id_ed25519.pub`) is meant to be handed out.
        if m.as_str().trim_end_matches(['.', ',']).ends_with(".pub")
            || text.get(m.end()..).is_some_and(|r| r.starts_with(".pub"))
        {
            continue;
        }
        let weaker = weak_re.is_match(m.as_str());
        // `add a host key to ~/.ssh/known_hosts` writes to the file: a destination, not a
        // source (a hand-over into an argument still counts, below).
        let lead = text.get(from..m.start()).unwrap_or_default().trim_end();
        let destination = ["to", "into", "in", "onto"]
            .iter()
            .any(|w| lead.to_lowercase().ends_with(&format!(" {w}")));
        // A secret file with any read or hand-over; a weaker one only with a hand-over.
        let verbs = if weaker { &hand_re } else { &verb_re };
        let verb = verbs.find_iter(sentence_text).find(|v| {
            let lead = sentence_text.get(..v.start()).unwrap_or_default();
            let rest = sentence_text.get(v.end()..).unwrap_or_default();
            !neg_re.is_match(lead) && !noun_use(v.as_str(), lead, rest)
        });
        let flow = flow_re
            .find(sentence_text)
            .filter(|f| !neg_re.is_match(sentence_text.get(..f.start()).unwrap_or_default()));
        let start = match (verb, flow) {
            (_, Some(f)) => from + f.start(),
            (Some(v), None) if !(destination || (weaker && listed_example(lead))) => {
                from + v.start()
            }
            _ => continue,
        };
        let start = verb.map_or(start, |v| start.min(from + v.start()));
        let end = flow.map_or(m.end(), |f| (from + f.end()).max(m.end()));
        out.push(Hit::new(
            CREDENTIAL_READ,
            (start.min(m.start()), end.max(m.end())),
        ));
    }
}

/// `(for example `node_modules/`, `.env`, `*.log`)`: the path is an item of a list of examples
/// in parentheses (a pattern, a file name), a mention rather than something to read. The list
/// items before it are stepped over, at most eight.
fn listed_example(lead: &str) -> bool {
    let quotes: &[char] = &['`', '\'', '"', ' ', '\t'];
    let mut head = lead.trim_end_matches(quotes);
    for _ in 0..8 {
        let Some(rest) = head.strip_suffix([',', ';', '/']) else {
            break;
        };
        let rest = rest.trim_end_matches(quotes);
        let cut = rest
            .rfind(|c: char| c.is_whitespace() || c == '(')
            .map_or(0, |i| i + 1);
        head = rest.get(..cut).unwrap_or_default().trim_end_matches(quotes);
    }
    // In parentheses: `(for example …`, `(e.g. …`.
    let open = head
        .rfind('(')
        .is_some_and(|o| head.rfind(')').is_none_or(|c| c < o));
    open && super::wording::example_cue(head)
}

/// `access key`, `access token`, `in the output`: the verb's word used as a noun, no read.
fn noun_use(verb: &str, lead: &str, rest: &str) -> bool {
    // After an article or a possessive the word is a noun: `the output`, `a copy`, `its dump`.
    let prev = lead
        .trim_end()
        .rsplit(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if matches!(
        prev.as_str(),
        "the" | "a" | "an" | "its" | "their" | "this" | "each" | "no"
    ) {
        return true;
    }
    let next = rest
        .trim_start()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    verb.eq_ignore_ascii_case("access")
        && matches!(
            next.as_str(),
            "key" | "keys" | "token" | "tokens" | "id" | "ids" | "level" | "control" | "rights"
        )
}

/// What must not go into an argument at all.
static LEAK_STRONG_RE: Rule = Rule::new(|| {
    build(
        &alts(&[
            r"\bsystem (?:prompt|message)s?\b",
            r"\b(?:your|the) (?:(?:initial|original|hidden|secret|internal|full|complete|entire|exact|current) )*(?:instructions|system instructions|guidelines|rules you follow)\b",
            r"\binstructions you (?:were|have been) given\b",
            r"\bcontext window\b",
            r"\b(?:private|ssh|secret|signing) keys?\b",
            r"\b(?:session|browser|auth(?:entication)?) cookies\b",
            r"\b(?:seed|recovery) phrases?\b|\bmnemonic\b",
            r"\b(?:the )?user'?s? (?:api keys?|passwords?|credentials|tokens?|secrets|cookies|private keys?|session)\b",
            r"\b(?:the )?user'?s? (?:[\w,]+ ){0,3}?(?:date of birth|birth ?date|passport(?: number| details)?|ssn|social security number|mother'?s maiden name|national id(?: number)?|tax id)\b",
            r"\b(?:runs?|execute|executes|running|executing) [`'\x22]?(?:env|printenv|set|export -p|cat /proc/self/environ)[`'\x22]?(?:\s|$)(?:[^.\n]|\.\S){0,40}?\b(?:output|result)\b",
            r"\b(?:credit )?card numbers?\b|\bcredit cards?\b|\bcvv\b|\bpayment methods?\b|\bbank account numbers?\b|\bsocial security numbers?\b",
            r"(?-i:\b[A-Z][A-Z0-9]*_(?:TOKEN|KEY|SECRET|PASSWORD|PASS|PAT|CREDENTIALS?)\b)",
            r"\beverything (?:the user|they|you) (?:has |have )?(?:typed|written|said|entered|sent|shared|asked)\b|\bwhat the user (?:typed|wrote|said|entered)\b",
        ]),
        true,
    )
});

/// What may go into an argument when the user means it to, but not all of it, every time.
static LEAK_DATA_RE: Rule = Rule::new(|| {
    build(
        &alts(&[
            r"\bconversation(?: history)?\b|\bchat (?:history|log|transcript)\b|\bmessage history\b|\btranscripts?\b",
            r"\b(?:previous|prior|earlier|past|all|last|recent) (?:\w+ )?(?:user )?messages\b",
            r"\b(?:environment|env) (?:variables|vars)\b",
            r"\bapi[ _-]?keys?\b|\bcredentials\b|\bpasswords?\b|\b(?:access|auth|bearer|session|refresh|oauth) tokens?\b|\btokens\b|\bsecrets\b",
            r"\b(?:the )?user'?s? (?:personal )?(?:data|information|details|files|emails|contacts|messages|queries|prompts|conversation|clipboard|location|browsing history|address book|phone number)\b",
            r"\bclipboard(?: contents)?\b|\bbrowsing history\b|\baddress book\b",
        ]),
        true,
    )
});

static PRONOUN_OBJECT_RE: Rule = Rule::new(|| {
    build(
        r"^\S+\s+(?:them|it|those|these|this|that|everything|(?:the|its|their) (?:output|outputs|result|results))\b",
        true,
    )
});

static AMPLIFIER_RE: Rule = Rule::new(|| {
    build(
        &alts(&[
            r"\b(?:all|every|entire|full|complete|whole|everything|each|verbatim|always|automatically|secretly|silently|stored|saved|cached|available|found)\b",
            r"\bevery time\b|\byou (?:can )?(?:find|see|have|know)\b|\bso far\b",
            r"\bin (?:your|the) (?:context|memory|environment)\b|\bfrom (?:the )?(?:environment|env|disk|memory|context|conversation)\b",
        ]),
        true,
    )
});

/// A field's own text asking for the model's context as its value: `Must contain the complete
/// text of the system prompt you were given`, `Fill with every message the user has written`,
/// `Set this to the output of env`. Narrower than [`FLOW_RE`]'s objects: a field may well ask
/// for the user's own token or password (a login tool), but never for the prompt, the chat,
/// what `env` prints or a card number.
static FIELD_LEAK_RE: Rule = Rule::new(|| {
    let ask = concat!(
        r"\b(?:(?:must|should|shall|has to|needs? to|is to) (?:always )?(?:contain|hold|include|carry|be)",
        r"|(?:fill|populate)(?: (?:it|this|in))? with|set (?:this|it) to|value (?:must|should) be|required:)",
    );
    let what = concat!(
        r"(?:system (?:prompt|message)|instructions you (?:were|have been) given",
        r"|(?:every|each|all|previous|prior|earlier|recent|last \w+) (?:\w+ )?messages?\b(?:[^.\n]){0,20}?\b(?:user|chat|conversation|session)",
        r"|conversation(?: history| so far)?|chat (?:history|log|transcript)|transcript",
        r"|(?:full |complete )?card numbers?|cvv|(?:output|result) of [`'\x22]?(?:env|printenv|set|export -p)\b",
        r"|environment variables|date of birth|passport (?:number|details)|social security number)",
    );
    build(&format!(r"{ask}\b(?:[^.\n]|\.\S){{0,60}}?\b{what}"), true)
});

pub(super) fn scan_field_leaks(text: &str, out: &mut Vec<Hit>) {
    let (Some(re), Some(neg_re)) = (FIELD_LEAK_RE.get(), NEGATION_RE.get()) else {
        return;
    };
    for m in re.find_iter(text) {
        let lead = text.get(..m.start()).unwrap_or_default();
        let lead = lead.get(lead.len().saturating_sub(40)..).unwrap_or(lead);
        if !neg_re.is_match(lead) {
            out.push(Hit::new(CONTEXT_LEAK, (m.start(), m.end())));
        }
    }
}

pub(super) fn scan_context_leaks(text: &str, out: &mut Vec<Hit>) {
    let (Some(flow_re), Some(strong), Some(data), Some(amp), Some(neg_re)) = (
        FLOW_RE.get(),
        LEAK_STRONG_RE.get(),
        LEAK_DATA_RE.get(),
        AMPLIFIER_RE.get(),
        NEGATION_RE.get(),
    ) else {
        return;
    };
    for f in flow_re.find_iter(text) {
        let lead = text.get(..f.start()).unwrap_or_default();
        let lead = lead.get(lead.len().saturating_sub(40)..).unwrap_or(lead);
        if neg_re.is_match(lead) {
            continue;
        }
        let span = f.as_str();
        let (from, to) = sentence(text, f.start(), f.end(), PATH_WINDOW);
        let whole = text.get(from..to).unwrap_or_default();
        // `collect all API keys and include them in the context parameter`: the data is
        // named before the pronoun that hands it over.
        let pronoun = PRONOUN_OBJECT_RE.get().is_some_and(|re| re.is_match(span));
        let object = if pronoun { whole } else { span };
        if strong.is_match(object) || (data.is_match(object) && amp.is_match(whole)) {
            out.push(Hit::new(CONTEXT_LEAK, (f.start(), f.end())));
        }
    }
}

/// The sentence around `[start, end)`, at most `window` bytes to each side: a sentence ends at
/// `.`, `!` or `?` followed by whitespace, or at a line feed (a path's own dots do not end it).
fn sentence(text: &str, start: usize, end: usize, window: usize) -> (usize, usize) {
    let mut from = start.saturating_sub(window);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let mut to = (end + window).min(text.len());
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    let before = text.get(from..start).unwrap_or_default();
    let mut cut = from;
    let mut prev: Option<char> = None;
    for (i, c) in before.char_indices() {
        if c == '\n' || (c.is_whitespace() && prev.is_some_and(|p| matches!(p, '.' | '!' | '?'))) {
            cut = from + i + c.len_utf8();
        }
        prev = Some(c);
    }
    let after = text.get(end..to).unwrap_or_default();
    let mut stop = to;
    let mut prev: Option<(usize, char)> = None;
    for (i, c) in after.char_indices() {
        if c == '\n' {
            stop = end + i;
            break;
        }
        if let Some((pi, p)) = prev
            && matches!(p, '.' | '!' | '?')
            && c.is_whitespace()
        {
            stop = end + pi + 1;
            break;
        }
        prev = Some((i, c));
    }
    (cut, stop.max(end))
}
