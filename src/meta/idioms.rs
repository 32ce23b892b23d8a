//! What a need says beyond its separate words: the shape of its tokens (a file name, a URL, an
//! `owner/repo` slug, `#42`, `@octocat`, a path, a code symbol) and a few English idioms whose
//! words mean something else together than alone ("file a bug" is not about files, "pull up a
//! page" is not about pull requests, "let the team know" is not about knowledge).
//!
//! The answer is a [`Reading`]: hint words the query gains (at synonym weight) and typed words
//! it loses. A word that is part of a name (the words of a URL, a slug, a path, a code symbol)
//! or of an idiom says nothing about which tool is meant on its own, and would pull in tools
//! that use the same word for something else (`acme/web` → the browser tools).

use super::text::words;

/// Hints and dropped words read from a query. Hints are plain lower-case words (stemmed by the
/// caller); `drop` holds lower-case words as [`words`] splits them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reading {
    pub hints: Vec<String>,
    pub drop: Vec<String>,
}

impl Reading {
    fn hint(&mut self, w: &str) {
        if !self.hints.iter().any(|h| h == w) {
            self.hints.push(w.to_owned());
        }
    }
    fn drop_words(&mut self, text: &str) {
        for w in words(text) {
            if !self.drop.contains(&w) {
                self.drop.push(w);
            }
        }
    }
}

/// Everything [`shape`] and the idioms say about `query`.
pub fn read(query: &str) -> Reading {
    let mut r = shape(query);
    idioms(query, &mut r);
    r
}

/// Pairs written with a slash in ordinary prose, which are not `owner/repo` slugs.
const SLASH_PAIRS: &[&str] = &[
    "and/or",
    "read/write",
    "input/output",
    "yes/no",
    "true/false",
    "on/off",
    "he/she",
    "his/her",
    "client/server",
    "copy/paste",
    "drag/drop",
    "open/close",
    "start/stop",
    "enable/disable",
    "either/or",
    "if/else",
    "i/o",
    "n/a",
    "lat/long",
    "lat/lng",
    "lat/lon",
    "latitude/longitude",
    "min/max",
    "width/height",
    "x/y",
    "src/dst",
    "before/after",
    "light/dark",
    "pros/cons",
    "upload/download",
    "push/pull",
    "get/set",
    "key/value",
    "name/value",
    "username/password",
    "user/password",
    "login/password",
    "email/password",
    "dev/prod",
    "staging/production",
    "am/pm",
];

/// How branch names commonly start (`feature/sso`, `release/1.2`): such a pair is a branch.
const BRANCH_PREFIXES: &[&str] = &[
    "feature", "feat", "fix", "bugfix", "hotfix", "release", "chore", "topic", "wip",
];

/// Words that say a need is about folders on a disk.
const FOLDER_WORDS: &[&str] = &[
    "folder",
    "folders",
    "subfolder",
    "directory",
    "directories",
    "subdirectory",
    "dir",
    "mkdir",
];

/// Well-known file names without an extension.
const FILE_NAMES: &[&str] = &[
    "makefile",
    "dockerfile",
    "readme",
    "license",
    "changelog",
    "gemfile",
    "procfile",
    "jenkinsfile",
    "vagrantfile",
    "rakefile",
    "cmakelists",
    "codeowners",
];

/// What the shape of a query's tokens says: a file name (`notes.txt`, `Makefile`, `.eslintrc`)
/// is about a `file`, and two of them about `multiple` files; a URL about a `url`; a number
/// about a `number`; `#name` about a `channel`, `#42` about an `issue` or `pull` request,
/// `@name` about a `user` (the way chat and code hosts write them); `owner/repo` about a
/// `repository` (in a need that speaks of folders, a path); `~/dir` or `/a/b` about a `path`
/// and `directory`; `crate::item`, `call()` or `camelCase` about `code`; `:eyes:` about a
/// `reaction` and `emoji`; two decimal numbers (`48.85, 2.29`) about a `latitude` and
/// `longitude`.
pub fn shape(query: &str) -> Reading {
    let mut r = Reading::default();
    // A need that speaks of folders means its `a/b` as a relative path, not `owner/repo`.
    let all = words(query);
    let folders = all.iter().any(|w| FOLDER_WORDS.contains(&w.as_str()));
    // A need about a tracker's items means its `a/b.c` as `owner/repo`
    // (`vercel/next.js`), not a relative path to a file.
    let hosted = !folders && all.iter().any(|w| HOST_NOUNS.contains(&w.as_str()));
    let mut decimals = 0;
    let mut files = 0;
    for raw in query.split_whitespace() {
        // `:eyes:`, `:+1:`: an emoji as chat apps write it, a reaction.
        let emoji = raw.trim_end_matches([',', '.', '!', '?', ';']);
        if emoji.len() > 2
            && emoji.starts_with(':')
            && emoji.ends_with(':')
            && emoji.get(1..emoji.len() - 1).is_some_and(|e| {
                e.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-'))
            })
        {
            r.hint("reaction");
            r.hint("emoji");
            r.drop_words(emoji);
            continue;
        }
        let bare = raw.trim_end_matches(|c: char| !c.is_alphanumeric());
        match bare.chars().next() {
            Some('#') if bare.len() > 1 => {
                if bare.chars().skip(1).all(|c| c.is_ascii_digit()) {
                    r.hint("number");
                    r.hint("issue");
                    r.hint("pull");
                } else {
                    r.hint("channel");
                }
                continue;
            }
            Some('@') if bare.len() > 1 => {
                r.hint("user");
                continue;
            }
            _ => {}
        }
        let unsigned = bare.trim_start_matches(['-', '+']);
        if unsigned.contains('.') && unsigned.parse::<f64>().is_ok() {
            decimals += 1;
            if decimals == 2 {
                r.hint("latitude");
                r.hint("longitude");
            }
        }
        let w = raw.trim_matches(|c: char| {
            !c.is_alphanumeric() && !matches!(c, '/' | '.' | '~' | ':' | '(' | ')' | '_')
        });
        let w = w.trim_end_matches(['.', ':']);
        let w = w
            .strip_suffix("'s")
            .or_else(|| w.strip_suffix("’s"))
            .unwrap_or(w);
        let lower = w.to_ascii_lowercase();
        let host = lower.split('/').next().unwrap_or("");
        let bare_host = host.rsplit_once('.').is_some_and(|(name, tld)| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
                && DOMAINS.contains(&tld)
        });
        if lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("www.")
            || bare_host
        {
            r.hint("url");
            url_words(&lower, &mut r);
            continue;
        }
        if !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        {
            r.hint("number");
            continue;
        }
        if w.contains("::") || w.ends_with("()") || is_camel(w) {
            r.hint("code");
            r.drop_words(w);
            continue;
        }
        let last = w.rsplit('/').next().unwrap_or(w);
        let file = is_file_name(last) && !(hosted && is_slug(w));
        if file {
            files += 1;
            r.hint("file");
            // The stem of a file name is a name (`index.html` is not about indexes); its
            // extension still says what kind of file it is.
            let stem = last.rsplit_once('.').map_or(last, |(s, _)| s);
            if !stem.starts_with('.') && !FILE_NAMES.contains(&last.to_ascii_lowercase().as_str()) {
                r.drop_words(stem);
            }
        }
        let path = w.starts_with("~/")
            || w.starts_with("./")
            || w.starts_with("../")
            || (w.starts_with('/') && w.len() > 1)
            || w.matches('/').count() >= 2
            || (file && w.contains('/'))
            || (folders && is_slug(w));
        if path {
            r.hint("path");
            if !file {
                r.hint("directory");
            }
            r.drop_words(w);
        } else if is_slug(w)
            && w.split_once('/')
                .is_some_and(|(a, _)| BRANCH_PREFIXES.contains(&a.to_ascii_lowercase().as_str()))
        {
            r.hint("branch");
            r.drop_words(w);
        } else if is_slug(w) {
            // The argument names code hosts give the two halves.
            r.hint("repository");
            r.hint("owner");
            r.hint("repo");
            r.drop_words(w);
        }
    }
    if files >= 2 {
        r.hint("multiple");
    }
    quoted(query, &mut r);
    r
}

/// Words in quotes are a value the tool is given (a label to click, a text to type, a title),
/// not words of the need: `tick the 'remember me' box` is about a checkbox, not memory.
fn quoted(query: &str, r: &mut Reading) {
    let mut open: Option<(char, usize)> = None;
    let mut prev = ' ';
    for (i, c) in query.char_indices() {
        match open {
            None if matches!(c, '"' | '\'' | '“' | '‘') && !prev.is_alphanumeric() => {
                open = Some((c, i + c.len_utf8()));
            }
            Some((q, start)) if closes(q, c) => {
                let next = query.get(i + c.len_utf8()..).and_then(|t| t.chars().next());
                if !next.is_some_and(char::is_alphanumeric) {
                    r.drop_words(query.get(start..i).unwrap_or(""));
                    open = None;
                }
            }
            _ => {}
        }
        prev = c;
    }
}

/// Whether `c` closes a quote opened with `q`.
fn closes(q: char, c: char) -> bool {
    match q {
        '“' => c == '”',
        '‘' => c == '’',
        _ => c == q,
    }
}

/// The words of a URL that name nothing a tool does: the scheme, `www`, the subdomains and
/// the top-level domain. The site's own name (`github`) and the path (`/pull/7`) stay.
fn url_words(url: &str, r: &mut Reading) {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    r.drop_words(url.strip_suffix(rest).unwrap_or(""));
    let host = rest.split(['/', '?', '#', ':']).next().unwrap_or("");
    let labels: Vec<&str> = host.split('.').collect();
    let keep = labels.len().saturating_sub(2);
    for (i, label) in labels.iter().enumerate() {
        if i != keep {
            r.drop_words(label);
        }
    }
}

/// `parseConfig`, `podAntiAffinity`: an identifier in lower camel case, a name in code (not
/// `iPhone` or `eBay`, whose hump is the second letter, nor a short word).
fn is_camel(w: &str) -> bool {
    let b = w.as_bytes();
    w.len() >= 7
        && b.iter().all(u8::is_ascii_alphanumeric)
        && b.first().is_some_and(u8::is_ascii_lowercase)
        && b.iter().skip(2).any(u8::is_ascii_uppercase)
        && b.get(1).is_some_and(u8::is_ascii_lowercase)
}

/// `owner/repo` as code hosts write it: two names joined by one slash.
fn is_slug(w: &str) -> bool {
    let Some((owner, repo)) = w.split_once('/') else {
        return false;
    };
    let name = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    name(owner) && name(repo) && !SLASH_PAIRS.contains(&w.to_ascii_lowercase().as_str())
}

/// Endings of host names, which are not file extensions (`news.example.com`).
const DOMAINS: &[&str] = &["com", "org", "net", "io", "dev", "co", "edu", "gov"];

/// `notes.txt`, `.eslintrc`, `Makefile`.
fn is_file_name(w: &str) -> bool {
    if FILE_NAMES.contains(&w.to_ascii_lowercase().as_str()) {
        return true;
    }
    let Some((stem, ext)) = w.rsplit_once('.') else {
        return false;
    };
    let letters = ext.chars().all(|c| c.is_ascii_alphanumeric())
        && ext.chars().any(|c| c.is_ascii_alphabetic());
    // A dotfile (`.eslintrc`, `.gitignore`) is all extension.
    let dotfile = stem.is_empty() && (2..=16).contains(&ext.len());
    let named = !stem.is_empty() && !stem.ends_with('.') && (1..=5).contains(&ext.len());
    letters && (dotfile || named) && !DOMAINS.contains(&ext.to_ascii_lowercase().as_str())
}

/// A tracker's nouns: with one of them, `a/b.c` is a repository (`vercel/next.js`), not a path.
const HOST_NOUNS: &[&str] = &[
    "issue", "issues", "bug", "bugs", "ticket", "tickets", "pr", "prs", "mr", "mrs", "labelled",
    "labeled",
];

/// Shell commands used as verbs (`cat /etc/hosts`, `mkdir build`): what they do, in the words
/// file tools use.
const COMMANDS: &[(&str, &[&str])] = &[
    ("cat", &["read", "file", "contents"]),
    ("less", &["read", "file", "contents"]),
    ("mkdir", &["create", "directory"]),
    ("ls", &["list", "directory"]),
    ("mv", &["move", "file"]),
    ("cp", &["copy", "file"]),
    ("rm", &["delete", "file"]),
    ("grep", &["search", "files"]),
    ("du", &["size", "directory"]),
    ("tree", &["directory", "tree"]),
    ("stat", &["file", "info"]),
];

/// Things given a name when made (`a folder called assets`): the name says nothing about the
/// tool. People are left out: their name is what a user search is for.
const NAMED_THINGS: &[&str] = &[
    "folder",
    "directory",
    "dir",
    "file",
    "branch",
    "repo",
    "repository",
    "project",
    "channel",
    "tab",
    "list",
    "label",
    "tag",
    "entity",
    "node",
];

/// A tracker's items in the plural: with `all`, `open`, a filter or a qualifier, a list.
const TRACKER_PLURALS: &[&str] = &[
    "issues",
    "bugs",
    "tickets",
    "prs",
    "mrs",
    "requests",
    "incidents",
    "defects",
];

/// Words that narrow a set of tracker items (`labelled`, `targeting`, `assigned to`).
const FILTERS: &[&str] = &[
    "all",
    "every",
    "open",
    "closed",
    "merged",
    "labelled",
    "labeled",
    "tagged",
    "targeting",
    "against",
    "assigned",
    "stale",
    "pending",
    "unresolved",
    "recent",
    "latest",
];

/// Everyday verbs of putting a thing somewhere else (`shift X into Y`): with a file or a
/// path as object, a move.
const MOTION_VERBS: &[&str] = &[
    "shift", "put", "stick", "shove", "bump", "tuck", "drop", "place", "stash",
];

/// A page's places for a file (`stick photo.jpg into the file input`): an upload, not a move.
const UPLOADS: &[&str] = &[
    "input", "field", "upload", "uploader", "chooser", "picker", "dropzone",
];

/// Verbs that, with a tracker's noun as object, ask to create the item.
const CREATE_VERBS: &[&str] = &["open", "file", "raise", "log", "lodge", "submit", "report"];
/// An issue tracker's nouns.
const TRACKER_NOUNS: &[&str] = &[
    "issue", "issues", "bug", "bugs", "ticket", "tickets", "pr", "mr", "pull", "merge", "problem",
    "defect", "incident", "report",
];

/// The verb of an idiom that asks to create a tracker item (`open a pull request`, `file a bug`,
/// `raise a new ticket`, `log an issue`): a verb, then `a`, `an` or `new`, then within a few
/// words an issue tracker's noun; or (`file bug report`) a verb other than `open` directly
/// before the noun. Such a verb means create, whatever it means alone; `open PR 5` and
/// `open issues` (the adjective) keep theirs.
pub fn creation_idiom(query: &str) -> Option<String> {
    let w = words(query);
    for (i, verb) in w.iter().enumerate() {
        if !CREATE_VERBS.contains(&verb.as_str()) {
            continue;
        }
        let next = w.get(i + 1).map(String::as_str);
        let article = matches!(next, Some("a" | "an" | "new" | "another"));
        let bare = verb != "open" && next.is_some_and(|n| TRACKER_NOUNS.contains(&n));
        if bare {
            return Some(verb.clone());
        }
        if !article {
            continue;
        }
        if w.iter()
            .skip(i + 2)
            .take(4)
            .any(|o| TRACKER_NOUNS.contains(&o.as_str()))
        {
            return Some(verb.clone());
        }
    }
    None
}

/// A plural noun, roughly: `rooms`, `repos`, not `this`, `class` or `status`.
fn is_plural(w: &str) -> bool {
    w.len() > 3
        && w.ends_with('s')
        && !w.ends_with("ss")
        && !w.ends_with("us")
        && !w.ends_with("is")
}

/// `later`, `future`, `the future`, `next time`, `next session`: a time after this
/// conversation.
fn later(a: &str, b: &str) -> bool {
    let next = |n: &str| {
        matches!(
            n,
            "time" | "session" | "sessions" | "chat" | "chats" | "conversation" | "conversations"
        )
    };
    matches!(a, "later" | "future") || (a == "the" && b == "future") || (a == "next" && next(b))
}

/// What the memory tools are: a knowledge graph of entities and their observations.
fn remember(r: &mut Reading) {
    r.hint("memory");
    r.hint("knowledge");
    r.hint("observations");
}

/// Whether a need keeps something somewhere else than in memory: it names a file, a path, a
/// URL, a file's or a page's content, or a tracker's item.
fn elsewhere(r: &Reading, w: &[String]) -> bool {
    r.hints
        .iter()
        .any(|h| matches!(h.as_str(), "file" | "path" | "url" | "issue"))
        || w.iter()
            .any(|x| CONTENT_NOUNS.contains(&x.as_str()) || TRACKER_NOUNS.contains(&x.as_str()))
}

/// What a file, a page or a repository holds: keeping one of these is not a memory.
const CONTENT_NOUNS: &[&str] = &[
    "file",
    "files",
    "document",
    "text",
    "content",
    "contents",
    "screenshot",
    "image",
    "picture",
    "snapshot",
    "page",
    "code",
    "changes",
    "commit",
    "video",
    "audio",
    "recording",
    "requests",
    "traffic",
    "console",
    "output",
    "screen",
];

/// Things on a page that are moved by dragging them.
const UI_THINGS: &[&str] = &[
    "card", "cards", "column", "columns", "board", "kanban", "item", "items", "tile", "tiles",
    "slider", "widget", "row", "rows", "handle",
];

/// Fields of a form that a need may list together.
const FORM_FIELDS: &[&str] = &[
    "name", "email", "password", "address", "zip", "postcode", "phone", "card", "username", "city",
    "country", "birthday", "fields", "form",
];

/// Nouns that name a web page or app screen.
const WEB_NOUNS: &[&str] = &[
    "page",
    "pages",
    "site",
    "website",
    "webpage",
    "homepage",
    "screen",
    "url",
    "app",
    "portal",
    "dashboard",
];

/// English idioms, each with what it means in the words tools use:
///
/// - a tracker item created ([`creation_idiom`]) → `create`;
/// - `pull up`, `bring up`, `call up` (show something) → `open`, `show`, and with a page, a
///   screen or a URL as object → `navigate`; `open`, `visit`, `go to`, `load` with a page or a
///   URL → `navigate`;
/// - `let … know` (tell) → `send`, `message`;
/// - `no longer` (a relation or fact that ended) → `delete`, `remove`;
/// - `reports to`, `works for`, `belongs to` (how two things relate) → `relation`; so do
///   `depends on`, `owned by`, `part of`, `sits in`, and `link`/`connect` … `to`/`between`
///   when no URL, file, page or tracker item is named;
/// - keeping something for later (`keep … in mind`, `for later`, `for next session`, `make a
///   note`, `note that`, `store`, `persist`, `record` when nothing is said to be a file, a
///   page's or a file's content, or a tracker item) → `memory`, `knowledge`, `observations`,
///   what the memory tools call themselves;
/// - `get to` a place that is not a page → `directions`;
/// - `look through`, `anything mentioning`, `anywhere` → `search`; `has anyone reported` →
///   `search`, `issues`; `fix` or `correct` a named file → `edit`;
/// - moving or reordering things on a page (a card, a column, a list item) → `drag`, `drop`;
///   entering two or more of a form's usual fields (name, email, address, card…) → `form`,
///   `fields`;
/// - a question about a person (`who …`) → `user`; about where a thing is (`where is`) →
///   `search`, `find`; about amounts of space (`how big`, `how much space`) → `size`.
fn idioms(query: &str, r: &mut Reading) {
    let w = words(query);
    let at = |i: usize| w.get(i).map(String::as_str).unwrap_or("");
    let url = r.hints.iter().any(|h| h == "url");
    let web_object = |from: usize| url || (from..from + 6).any(|j| WEB_NOUNS.contains(&at(j)));
    if let Some(verb) = creation_idiom(query) {
        r.hint("create");
        r.drop.push(verb);
    }
    for i in 0..w.len() {
        if i == 0 && w.len() > 1 {
            if let Some((cmd, hints)) = COMMANDS.iter().find(|(c, _)| *c == at(0)) {
                for h in *hints {
                    r.hint(h);
                }
                r.drop.push((*cmd).to_owned());
            }
        }
        let (word, next) = (at(i), at(i + 1));
        match (word, next) {
            // The name a thing is to be given (`a folder called assets`) is not the need.
            ("called" | "named" | "titled", n)
                if !matches!(n, "" | "a" | "an" | "the")
                    && i > 0
                    && (i.saturating_sub(2)..i).any(|j| NAMED_THINGS.contains(&at(j))) =>
            {
                r.drop.push(n.to_owned());
            }
            // What people said on a tracker item: its comments.
            ("people" | "anyone" | "everyone" | "reviewers" | "folks" | "others", v)
                if matches!(v, "say" | "said" | "saying" | "wrote" | "think" | "thought") =>
            {
                r.hint("comments");
                r.drop.push(v.to_owned());
            }
            // Joining a discussion: a comment added.
            ("chime" | "weigh" | "pipe", "in") | ("leave" | "drop" | "post", "a" | "my")
                if word != "leave" && word != "drop" && word != "post"
                    || matches!(at(i + 2), "note" | "reply" | "comment" | "remark") =>
            {
                r.hint("add");
                r.hint("comment");
                r.drop.push(word.to_owned());
            }
            // A tracker's items in the plural with a filter: a list or a search, not one item.
            (n, _)
                if TRACKER_PLURALS.contains(&n)
                    && w.iter().any(|x| FILTERS.contains(&x.as_str())) =>
            {
                r.hint("list");
                r.hint("search");
            }
            // Putting a file somewhere else (`shift invoice.pdf into archive/`): a move.
            (v, _)
                if MOTION_VERBS.contains(&v)
                    && r.hints.iter().any(|h| h == "file" || h == "path")
                    && (i + 1..i + 8)
                        .any(|j| matches!(at(j), "into" | "to" | "under" | "inside"))
                    && !web_object(i + 1)
                    && !w.iter().any(|x| {
                        FORM_FIELDS.contains(&x.as_str()) || UPLOADS.contains(&x.as_str())
                    }) =>
            {
                r.hint("move");
                r.drop.push(v.to_owned());
            }
            // Asking what the assistant was told or holds (`did I ever tell you`, `anything
            // you've got on X`): a memory search.
            ("i", "told" | "mentioned" | "said" | "ever" | "tell" | "mention")
                if (i + 1..i + 5).any(|j| matches!(at(j), "you" | "you've"))
                    && (i + 1..i + 3).any(|j| {
                        matches!(at(j), "told" | "mentioned" | "said" | "tell" | "mention")
                    }) =>
            {
                r.hint("search");
                remember(r);
            }
            ("you've" | "you", "got" | "have" | "hold" | "keep")
                if matches!(at(i + 2), "on" | "about" | "for" | "regarding") =>
            {
                r.hint("search");
                remember(r);
            }
            // What a named file holds (`what's inside config/x.toml`): its contents, not a
            // folder listing.
            ("what's" | "what" | "whats", _)
                if r.hints.iter().any(|h| h == "file")
                    && (i + 1..i + 3).any(|j| matches!(at(j), "inside" | "in" | "written"))
                    && !(i + 1..i + 4).any(|j| matches!(at(j), "folder" | "directory")) =>
            {
                r.hint("read");
                r.hint("contents");
            }
            // Approving, as English says it: a review.
            ("sign", "off") | ("give", "the") if word == "sign" || at(i + 2) == "go-ahead" => {
                r.hint("approve");
                r.hint("review");
                r.drop.push(word.to_owned());
            }
            // Tracking a thing down, or not remembering where it is: a search.
            ("track" | "hunt" | "dig" | "chase", _) if (i + 1..i + 3).any(|j| at(j) == "down") => {
                r.hint("search");
                r.hint("find");
                r.drop.push(word.to_owned());
            }
            ("remember" | "recall" | "know" | "forgot" | "forget", "where")
                if r.hints.iter().any(|h| h == "file" || h == "path") =>
            {
                r.hint("search");
                r.hint("files");
                r.drop.push(word.to_owned());
            }
            // Something lost on disk (`where is it hiding`, `forgot where I put it`): a search.
            ("hiding" | "hidden" | "misplaced" | "lost" | "buried", _)
            | ("forgot" | "forget", "where" | "which") => {
                r.hint("search");
                r.hint("find");
            }
            ("pull" | "bring" | "call", "up") => {
                r.hint("open");
                r.hint("show");
                if web_object(i + 2) {
                    r.hint("navigate");
                }
                r.drop.push(word.to_owned());
            }
            ("open" | "visit" | "load" | "launch", _) | ("go" | "head", "to")
                if web_object(i + 1) =>
            {
                r.hint("navigate");
                r.drop.push(word.to_owned());
            }
            ("let", _) if (i + 2..i + 6).any(|j| at(j) == "know") => {
                r.hint("send");
                r.hint("message");
                r.drop.push("let".to_owned());
                r.drop.push("know".to_owned());
            }
            ("no", "longer") => {
                r.hint("delete");
                r.hint("remove");
                r.drop.push("longer".to_owned());
            }
            ("reports" | "report" | "belongs" | "belong", "to")
            | ("works" | "work", "for" | "under") => {
                r.hint("relation");
                r.drop.push(word.to_owned());
            }
            // How one thing stands to another, stated as a fact to keep: a relation.
            ("depends" | "depend", "on")
            | ("owned" | "managed" | "run" | "led", "by")
            | ("part" | "member", "of")
            | ("sits", "in")
                if !elsewhere(r, &w) =>
            {
                r.hint("relation");
            }
            ("link" | "connect" | "links" | "connection", _)
                if !url
                    && !elsewhere(r, &w)
                    && (i + 1..i + 5).any(|j| matches!(at(j), "to" | "between" | "with")) =>
            {
                r.hint("relation");
                r.drop.push(word.to_owned());
            }
            // Looking through something, or for anything that mentions a word: a search.
            ("look" | "dig" | "comb" | "search", "through")
            | ("anything" | "everything", "mentioning" | "about" | "that" | "matching")
            | ("anywhere", _) => {
                r.hint("search");
                if word != "anywhere" && word != "anything" && word != "everything" {
                    r.drop.push(word.to_owned());
                }
            }
            // "has anyone reported …": a search of the tracker's items.
            ("anyone" | "anybody" | "someone" | "somebody", _)
                if matches!(
                    at(i + 1),
                    "reported" | "filed" | "raised" | "opened" | "logged"
                ) =>
            {
                r.hint("search");
                r.hint("issues");
            }
            // Fixing a file is editing it.
            ("fix" | "correct", _) if r.hints.iter().any(|h| h == "file" || h == "path") => {
                r.hint("edit");
            }
            // Moving or reordering things on a page (cards, columns, list items): a drag.
            ("move" | "moving" | "reorder" | "rearrange" | "slide", _)
                if !r.hints.iter().any(|h| h == "file" || h == "path")
                    && w.iter().any(|x| UI_THINGS.contains(&x.as_str())) =>
            {
                r.hint("drag");
                r.hint("drop");
            }
            // Entering several values (name, address, card…) at once: a form.
            ("enter" | "fill" | "input" | "type" | "complete", _)
                if w.iter()
                    .filter(|x| FORM_FIELDS.contains(&x.as_str()))
                    .count()
                    >= 2 =>
            {
                r.hint("form");
                r.hint("fields");
            }
            ("who", _) | ("whose", _) => r.hint("user"),
            // "what do you remember about Bob": a question about what is known is a search.
            ("what" | "do" | "does" | "did" | "anything" | "everything" | "whatever", _)
                if (i == 0 || matches!(word, "anything" | "everything" | "whatever"))
                    && w.iter()
                        .any(|x| matches!(x.as_str(), "remember" | "know" | "recall")) =>
            {
                r.hint("search");
                r.hint("memory");
            }
            ("where", _)
                if (i + 1..i + 5)
                    .any(|j| matches!(at(j), "is" | "are" | "was" | "did" | "do" | "can")) =>
            {
                r.hint("search");
                r.hint("find");
            }
            ("where's", _) => {
                r.hint("search");
                r.hint("find");
            }
            // "what changed", "what's changed", "what was changed": a history of changes.
            ("what" | "what's", "changed") => {
                r.hint("commit");
                r.hint("history");
            }
            ("what", "has" | "was" | "have" | "got")
                if matches!(at(i + 2), "changed" | "modified" | "updated") =>
            {
                r.hint("commit");
                r.hint("history");
            }
            // "which rooms", "what repos": a question over many things asks for a list.
            ("which" | "what", n) if is_plural(n) => r.hint("list"),
            // "stored on Priya", "what have we saved": a memory, when no file is named.
            ("stored" | "saved" | "remembered" | "memorised" | "memorized", _)
                if !r.hints.iter().any(|h| h == "file" || h == "path") =>
            {
                r.hint("memory");
            }
            // Phrasal verbs whose particle changes the verb.
            ("catch", "up") => {
                r.hint("history");
                r.hint("recent");
                r.hint("messages");
                r.drop.push("catch".to_owned());
            }
            ("turn" | "switch" | "flip", "on" | "off") => {
                r.hint("toggle");
                r.drop.push(word.to_owned());
            }
            ("break" | "think" | "work" | "reason", "through" | "down") => {
                r.hint("thinking");
                r.hint("step");
                r.drop.push(word.to_owned());
            }
            ("look", "up") | ("find", "out") => {
                r.hint("search");
                r.drop.push(word.to_owned());
            }
            ("set", "up") => {
                r.hint("create");
                r.drop.push("set".to_owned());
            }
            ("clean" | "clear", "up" | "out") => {
                r.hint("delete");
            }
            // Keeping something for later, as English says it: a memory.
            ("keep" | "bear", _)
                if (i + 1..i + 5).any(|j| at(j) == "mind")
                    && (i + 1..i + 5).any(|j| at(j) == "in") =>
            {
                remember(r);
                r.drop.push(word.to_owned());
            }
            ("for" | "until" | "in", _) if later(at(i + 1), at(i + 2)) && !elsewhere(r, &w) => {
                remember(r);
            }
            ("make" | "take", "a" | "note") | ("note", "that" | "this")
                if (word == "note" || at(i + 1) == "note" || at(i + 2) == "note")
                    && !elsewhere(r, &w) =>
            {
                remember(r);
            }
            ("store" | "persist" | "memorise" | "memorize" | "record", _) if !elsewhere(r, &w) => {
                remember(r);
            }
            ("get" | "getting", "to") if !web_object(i + 2) => {
                r.hint("directions");
                r.drop.push(word.to_owned());
            }
            ("write" | "note" | "jot", "down") => {
                r.hint("write");
                r.hint("observation");
            }
            ("how", "big" | "large" | "heavy") | ("much", "space" | "room" | "disk") => {
                r.hint("size");
            }
            _ => {}
        }
    }
}
