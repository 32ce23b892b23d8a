//! Query expansion: the words people use for what tools do, mapped to the words tool authors
//! write. A query term pulls in its synonyms at a lower weight, so "what's in this folder" meets
//! `list_directory` without a network call. The table is general developer and computing
//! vocabulary (files, version control, chat, maps, browsers, data, memory), not tuned to any one
//! server; deployments add their own with `[meta] synonyms = { word = ["other", …] }`.
//!
//! Two kinds of entries:
//! - **groups**: words that mean the same; each one expands to all the others;
//! - **related**: one-way hints (`remember` → `memory`, `store`): the right side is what a tool
//!   description would say, not something that means the left side.

use std::collections::{BTreeMap, HashMap};

use super::text::Analyzer;

/// Words that mean the same thing in tool descriptions.
const GROUPS: &[&[&str]] = &[
    &["directory", "folder", "dir"],
    &["file", "document", "doc"],
    &[
        "delete", "remove", "erase", "drop", "destroy", "discard", "trash", "purge", "wipe",
    ],
    &[
        "create", "make", "add", "new", "generate", "build", "start", "spin",
    ],
    &[
        "update", "modify", "change", "edit", "alter", "amend", "patch", "revise", "tweak",
    ],
    &[
        "read", "view", "show", "display", "see", "print", "inspect", "cat",
    ],
    &[
        "get", "fetch", "retrieve", "obtain", "grab", "pull", "load", "download",
    ],
    &["write", "save", "store", "persist", "put"],
    &[
        "search", "find", "lookup", "query", "seek", "hunt", "locate", "discover", "grep",
    ],
    &[
        "list",
        "enumerate",
        "browse",
        "index",
        "ls",
        "overview",
        "inventory",
    ],
    &["move", "rename", "relocate", "mv", "transfer"],
    &["copy", "duplicate", "clone", "fork", "cp"],
    &[
        "send",
        "post",
        "message",
        "dm",
        "notify",
        "say",
        "tell",
        "announce",
        "broadcast",
        "ping",
    ],
    &["reply", "respond", "answer", "follow"],
    &[
        "issue", "ticket", "bug", "defect", "problem", "task", "incident",
    ],
    &["comment", "note", "remark", "feedback", "annotation"],
    &["repository", "repo", "project", "codebase", "source"],
    &["branch", "fork", "line", "ref"],
    &["commit", "changeset", "revision", "history", "log"],
    &["merge", "combine", "integrate", "land", "squash"],
    &["review", "approve", "critique", "check", "feedback"],
    &[
        "channel",
        "room",
        "conversation",
        "chat",
        "workspace",
        "slack",
    ],
    &[
        "user",
        "member",
        "person",
        "people",
        "profile",
        "colleague",
        "teammate",
    ],
    &["reaction", "emoji", "react", "thumbs"],
    &["thread", "conversation", "discussion"],
    &[
        "picture",
        "image",
        "photo",
        "screenshot",
        "snapshot",
        "capture",
        "png",
        "jpeg",
        "visual",
    ],
    &[
        "page", "webpage", "website", "site", "url", "web", "link", "browser", "tab",
    ],
    &["navigate", "go", "visit", "browse", "load", "surf"],
    &["click", "press", "tap", "push", "hit", "select"],
    &[
        "type",
        "enter",
        "input",
        "fill",
        "keyboard",
        "keystroke",
        "key",
    ],
    &["hover", "mouse", "pointer", "cursor"],
    &["drag", "drop", "dnd"],
    &["form", "field", "input", "textbox"],
    &["dialog", "popup", "alert", "prompt", "modal", "confirm"],
    &["resize", "viewport", "window", "dimension", "size"],
    &[
        "close",
        "shut",
        "quit",
        "exit",
        "end",
        "terminate",
        "kill",
        "stop",
    ],
    &["wait", "pause", "sleep", "delay", "until", "appear"],
    &["upload", "attach", "attachment"],
    &["console", "devtools", "log", "error"],
    &["network", "http", "traffic", "xhr", "api"],
    &[
        "javascript",
        "js",
        "script",
        "code",
        "evaluate",
        "eval",
        "run",
        "execute",
    ],
    &["back", "previous", "return", "history"],
    &[
        "geocode",
        "coordinate",
        "latitude",
        "longitude",
        "lat",
        "lng",
        "gps",
        "location",
        "position",
    ],
    &["address", "street", "location", "place"],
    &[
        "place",
        "business",
        "venue",
        "restaurant",
        "cafe",
        "shop",
        "store",
        "spot",
        "poi",
        "nearby",
    ],
    &[
        "direction",
        "route",
        "way",
        "navigation",
        "itinerary",
        "drive",
        "walk",
    ],
    &[
        "distance",
        "far",
        "travel",
        "duration",
        "mile",
        "kilometer",
        "km",
        "eta",
        "long",
    ],
    &[
        "elevation",
        "altitude",
        "height",
        "high",
        "tall",
        "above",
        "sea",
    ],
    &[
        "detail",
        "info",
        "information",
        "metadata",
        "property",
        "attribute",
        "stat",
        "fact",
    ],
    &["entity", "node", "object", "thing", "item", "concept"],
    &[
        "relation",
        "relationship",
        "link",
        "edge",
        "connection",
        "connect",
        "association",
    ],
    &["observation", "fact", "note", "memory", "knowledge"],
    &["graph", "network", "knowledge", "web"],
    &[
        "think",
        "reason",
        "reflect",
        "ponder",
        "plan",
        "brainstorm",
        "step",
        "thought",
        "analyze",
    ],
    &["echo", "repeat", "parrot", "mirror"],
    &["add", "sum", "plus", "total", "calculate", "arithmetic"],
    &["environment", "env", "variable", "config", "setting"],
    &["tree", "hierarchy", "nested", "recursive", "structure"],
    &["size", "bytes", "big", "large", "length"],
    &[
        "allowed",
        "permitted",
        "accessible",
        "access",
        "scope",
        "root",
    ],
    &["text", "content", "contents", "body", "string"],
    &["media", "binary", "audio", "video", "sound"],
    &["multiple", "many", "several", "batch", "bulk"],
    &["progress", "long", "slow", "running"],
    &["sample", "llm", "model", "completion", "ai"],
    &["elicit", "elicitation", "ask", "question", "clarify"],
    &["resource", "reference", "link"],
    &["annotate", "annotation", "hint", "label"],
    &["structure", "structured", "schema", "typed"],
    &["weather", "forecast", "temperature"],
    &[
        "code",
        "source",
        "snippet",
        "function",
        "symbol",
        "implementation",
    ],
    &["status", "state", "check", "ci", "build", "pass", "fail"],
    &["user", "username", "login", "handle", "account"],
    &["star", "popular", "trending"],
];

/// One-way hints: a word people say → the words a tool would use for it.
const RELATED: &[(&str, &[&str])] = &[
    (
        "remember",
        &["memory", "store", "observation", "entity", "create", "add"],
    ),
    (
        "forget",
        &["delete", "remove", "memory", "entity", "observation"],
    ),
    ("recall", &["memory", "search", "read", "graph", "node"]),
    ("know", &["knowledge", "memory", "graph", "read"]),
    ("fact", &["observation"]),
    ("relationship", &["relation"]),
    ("everything", &["all", "entire", "whole", "graph"]),
    ("whole", &["entire", "all", "full"]),
    ("inside", &["content", "contents", "list"]),
    ("contain", &["content", "contents", "list"]),
    ("contains", &["content", "contents", "list"]),
    ("pr", &["pull", "request"]),
    ("prs", &["pull", "request"]),
    ("readme", &["file", "contents"]),
    ("mr", &["merge", "request"]),
    ("gitlab", &["gitlab"]),
    ("github", &["github"]),
    ("maps", &["map", "google"]),
    ("jot", &["write", "note", "observation"]),
    ("peek", &["read", "head", "view"]),
    ("first", &["head", "beginning", "start"]),
    ("last", &["tail", "end"]),
    ("beginning", &["head", "first"]),
    ("end", &["tail", "last"]),
    ("lines", &["line", "head", "tail"]),
    ("where", &["location", "path", "search"]),
    ("mkdir", &["create", "directory"]),
    ("rm", &["delete", "remove"]),
    ("stat", &["info", "metadata", "file"]),
    ("modified", &["time", "metadata", "info"]),
    ("timestamp", &["time", "metadata", "info"]),
    ("permission", &["permissions", "metadata", "info"]),
    ("sandbox", &["allowed", "directory", "root"]),
    ("ls", &["list", "directory"]),
    ("du", &["size", "directory"]),
    ("diff", &["edit", "change", "compare", "files"]),
    ("replace", &["edit", "update", "write"]),
    ("rewrite", &["write", "edit", "overwrite"]),
    ("overwrite", &["write", "create", "update"]),
    ("coworker", &["user", "member", "profile"]),
    ("team", &["workspace", "channel", "users", "members"]),
    ("emoji", &["reaction"]),
    ("upvote", &["reaction", "emoji"]),
    ("thumbs", &["reaction", "emoji"]),
    ("earlier", &["history", "previous", "recent"]),
    ("recent", &["history", "latest"]),
    ("conversation", &["history", "thread", "channel"]),
    ("said", &["history", "message"]),
    ("tell", &["send", "message", "post"]),
    ("ping", &["message", "post", "send"]),
    ("shout", &["post", "message"]),
    ("trip", &["directions", "route", "distance"]),
    ("commute", &["directions", "distance", "duration"]),
    ("drive", &["directions", "driving", "route", "distance"]),
    ("driving", &["directions", "route", "distance"]),
    ("walk", &["directions", "walking", "route"]),
    ("mountain", &["elevation"]),
    ("hill", &["elevation"]),
    ("summit", &["elevation"]),
    ("landmark", &["place", "geocode"]),
    ("eat", &["restaurant", "place", "search"]),
    ("dinner", &["restaurant", "place"]),
    ("lunch", &["restaurant", "place"]),
    ("coffee", &["cafe", "place"]),
    ("hotel", &["place"]),
    ("hours", &["detail", "place"]),
    ("phone", &["detail", "place"]),
    ("rating", &["detail", "place", "review"]),
    ("reviews", &["detail", "place", "review"]),
    ("coordinates", &["geocode", "latitude", "longitude"]),
    ("reverse", &["reverse"]),
    ("snap", &["screenshot", "capture"]),
    ("grab", &["screenshot", "capture", "get"]),
    ("accessibility", &["snapshot", "aria"]),
    ("dom", &["snapshot", "page", "element"]),
    ("element", &["element", "ref"]),
    ("button", &["click", "element"]),
    ("link", &["click", "navigate", "url"]),
    ("dropdown", &["select", "option"]),
    ("choose", &["select", "option"]),
    ("pick", &["select", "option"]),
    ("checkbox", &["click", "form", "fill"]),
    ("keypress", &["press", "key"]),
    ("shortcut", &["press", "key"]),
    ("enter", &["press", "key", "type"]),
    ("refresh", &["navigate", "reload"]),
    ("reload", &["navigate"]),
    ("dark", &["media", "emulate", "color", "scheme"]),
    ("mode", &["emulate", "media"]),
    ("print", &["media", "emulate", "pdf"]),
    ("devtools", &["console", "network"]),
    ("warnings", &["console", "messages"]),
    ("calls", &["network", "requests"]),
    ("xhr", &["network", "requests"]),
    ("fetch", &["network", "request", "get"]),
    ("popup", &["dialog", "handle"]),
    ("accept", &["dialog", "handle"]),
    ("dismiss", &["dialog", "handle"]),
    ("reasoning", &["thinking", "thought", "sequential"]),
    ("stepwise", &["sequential", "thinking", "step"]),
    ("puzzle", &["thinking", "problem", "sequential"]),
    ("problem", &["thinking", "solve"]),
    ("star", &["stars"]),
    ("contributor", &["user", "users"]),
    ("people", &["users"]),
    ("bugs", &["issues"]),
    ("tickets", &["issues"]),
    ("closed", &["state", "update", "issue"]),
    ("close", &["update", "state"]),
    ("reopen", &["update", "state"]),
    ("assign", &["update", "assignee", "assignees"]),
    ("label", &["labels", "update"]),
    ("approve", &["review", "event"]),
    ("changes", &["files", "diff", "commits"]),
    ("touched", &["files", "changed"]),
    ("changed", &["files", "diff"]),
    ("ci", &["status", "checks"]),
    ("checks", &["status"]),
    ("rebase", &["update", "branch"]),
    ("upstream", &["update", "branch", "base"]),
    ("behind", &["update", "branch"]),
    ("ship", &["merge", "push"]),
    ("upload", &["push", "files"]),
    ("publish", &["push", "create"]),
    ("snippet", &["code", "search"]),
    ("usage", &["code", "search"]),
    ("usages", &["code", "search"]),
    ("implementation", &["code", "search"]),
    ("defined", &["code", "search"]),
    ("history", &["commits", "list"]),
    ("log", &["commits"]),
    ("copy", &["fork"]),
    ("template", &["resource", "template"]),
    ("random", &["random"]),
    ("sum", &["add"]),
    ("total", &["add", "sum"]),
    ("math", &["add", "numbers"]),
    ("numbers", &["add"]),
    ("wait", &["progress", "long", "running"]),
    ("ask", &["elicitation", "input", "user"]),
    ("llm", &["sampling", "sample"]),
    ("icon", &["image", "tiny"]),
    ("tiny", &["small", "image"]),
    ("metadata", &["annotated", "annotations", "info"]),
    ("zip", &["compress", "archive", "zip"]),
    ("archive", &["zip", "compress"]),
    ("compress", &["zip", "gzip"]),
    ("env", &["environment", "variables"]),
    ("config", &["environment", "configuration"]),
];

/// Weight of a synonym relative to the word the user typed.
pub const SYNONYM_WEIGHT: f32 = 0.5;

/// Stemmed synonym table: a term → the terms it expands to.
pub struct Synonyms {
    map: HashMap<String, Vec<String>>,
}

impl Synonyms {
    /// The built-in table plus `extra` (word → more words, as written in config), stemmed with
    /// the same analyzer as the index.
    pub fn new(analyzer: &Analyzer, extra: &BTreeMap<String, Vec<String>>) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        let stem_all = |ws: &[&str]| -> Vec<String> {
            ws.iter()
                .flat_map(|w| analyzer.terms(w))
                .collect::<Vec<_>>()
        };
        let mut add = |from: &str, to: &str| {
            if from == to {
                return;
            }
            let v = map.entry(from.to_owned()).or_default();
            if !v.iter().any(|t| t == to) {
                v.push(to.to_owned());
            }
        };
        for group in GROUPS {
            let terms = stem_all(group);
            for a in &terms {
                for b in &terms {
                    add(a, b);
                }
            }
        }
        for (from, to) in RELATED {
            for f in analyzer.terms(from) {
                for t in stem_all(to) {
                    add(&f, &t);
                }
            }
        }
        for (from, to) in extra {
            let to: Vec<&str> = to.iter().map(String::as_str).collect();
            for f in analyzer.terms(from) {
                for t in stem_all(&to) {
                    add(&f, &t);
                }
            }
        }
        Synonyms { map }
    }

    /// The terms `term` expands to (not including itself).
    pub fn of(&self, term: &str) -> &[String] {
        self.map.get(term).map(Vec::as_slice).unwrap_or(&[])
    }
}
