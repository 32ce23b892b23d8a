//! The shipped example policies (`policies/`) deciding real calls through the running gateway:
//! callers carry real access tokens from a real OpenID Provider (`tests/oidc/provider.mjs`, npm
//! `oidc-provider` on 127.0.0.1) with different `groups` claims, and the tools are real backends
//! (the demo server, npm `server-filesystem` as `files`, npm `server-memory` as `memory`).
//!
//! One test per example policy (allowed and denied calls, the deciding policy ids in the JSON-RPC
//! error and in the audit trail), list filtering per caller, a reload that changes a decision
//! in the middle of a session and an invalid reload that changes nothing.
//!
//! Two shipped rules cannot be exercised literally and get a variant written into the test's
//! own copy of `policies/` (the repo's files are never touched):
//! - `files.cedar` hard-codes `/srv/public/`; `server-filesystem` serves a temp dir, so the
//!   variant names `<tmp>/files/srv/public/` instead. `shipped_policies_unmodified_*` loads the
//!   directory verbatim and shows the same rule letting `/srv/public/…` through and stopping
//!   `/etc`.
//! - `hours.cedar` depends on the wall clock (weekdays 08–18 UTC); the variants name the current
//!   UTC hour and weekday (open) or hours three and four hours ahead (closed), so decisions are
//!   deterministic whenever the suite runs. The verbatim test predicts the shipped window's
//!   decision from the clock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::{Value, json};

/// The gateway's resource URI, the audience of every token (see tests/identity.rs).
const PUBLIC_URL: &str = "http://127.0.0.1:1/mcp";

// ---------------------------------------------------------------------------------------------
// The IdP: one per test binary while any test holds it, stopped when the last holder drops it.

struct Idp {
    // `Proc` is not `Sync`; the mutex makes the shared handle so (it is never locked).
    _proc: Mutex<Proc>,
    token_endpoint: String,
    issuer: String,
    _keys: tempfile::TempDir,
}

fn idp() -> Arc<Idp> {
    // A `static` is never dropped, so it holds only a `Weak`: the tests own the process.
    static SHARED: Mutex<Weak<Idp>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(idp) = shared.upgrade() {
        return idp;
    }
    let idp = Arc::new(start_idp());
    *shared = Arc::downgrade(&idp);
    idp
}

fn start_idp() -> Idp {
    let d = deps();
    let keys = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(&d.node22);
    cmd.arg(d.root.join("tests/oidc/provider.mjs"))
        .args(["--port", "0", "--keys"])
        .arg(keys.path())
        .env("PORTCULLIS_NODE_MODULES", &d.node_modules);
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("issuer ", Duration::from_secs(60));
    let issuer = line.trim_start_matches("issuer ").trim().to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let doc = rt.block_on(async {
        http()
            .get(format!("{issuer}/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(doc["issuer"], issuer.as_str(), "IdP discovery: {doc}");
    Idp {
        _proc: Mutex::new(proc),
        token_endpoint: doc["token_endpoint"].as_str().unwrap().to_owned(),
        issuer,
        _keys: keys,
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .no_proxy()
        .build()
        .unwrap()
}

impl Idp {
    /// A real access token for `sub` with the `mcp` scope and these `groups`, for this gateway.
    async fn token(&self, sub: &str, groups: &[&str]) -> String {
        let groups = groups.join(",");
        let mut form = vec![
            ("grant_type", "urn:portcullis:test:login"),
            ("sub", sub),
            ("resource", PUBLIC_URL),
            ("scope", "mcp"),
        ];
        if !groups.is_empty() {
            form.push(("groups", &groups));
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form)
            .finish();
        let doc = http()
            .post(&self.token_endpoint)
            .basic_auth("test-client", Some("test-secret"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let doc: Value = serde_json::from_str(&doc).unwrap();
        doc["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("login of {sub} failed: {doc}"))
            .to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// The callers of every test: `groups` claims as the example policies expect them.

const BOB: (&str, &[&str]) = ("bob", &[]);
const ALICE: (&str, &[&str]) = ("alice", &["eng"]);
const ROOT: (&str, &[&str]) = ("root", &["admins"]);
const ADA: (&str, &[&str]) = ("ada", &["eng", "admins"]);
const SAM: (&str, &[&str]) = ("sam", &["sales"]);

// ---------------------------------------------------------------------------------------------
// The clock, as the policies see it: UTC, weekday 1 = Monday … 7 = Sunday.

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// (weekday, hour) in UTC at unix time `t`. 1970-01-01 was a Thursday (weekday 4).
fn slot(t: u64) -> (u64, u64) {
    ((t / 86_400 + 3) % 7 + 1, (t / 3_600) % 24)
}

/// Whether the shipped window (weekdays 08:00–18:00 UTC) is open at `t`.
fn shipped_window_open(t: u64) -> bool {
    let (weekday, hour) = slot(t);
    weekday <= 5 && (8..18).contains(&hour)
}

/// The window condition of the shipped `hours.cedar`, replaced in the variants.
const SHIPPED_WINDOW: &str =
    "(context.now.weekday <= 5 && context.now.hour >= 8 && context.now.hour < 18)";

/// A window of the two whole UTC hours starting `from_hours` hours from now, in the terms of the
/// shipped rule (weekday and hour). From 0 it contains now and the next hour, whatever the test's
/// duration; from 3 it cannot contain any moment of a run shorter than three hours.
fn window(from_hours: u64) -> String {
    let now = unix_now();
    let (w0, h0) = slot(now + from_hours * 3_600);
    let (w1, h1) = slot(now + (from_hours + 1) * 3_600);
    format!(
        "((context.now.weekday == {w0} && context.now.hour == {h0}) || \
         (context.now.weekday == {w1} && context.now.hour == {h1}))"
    )
}

// ---------------------------------------------------------------------------------------------
// Gateway setup.

#[derive(Clone, Copy, PartialEq)]
enum Hours {
    /// `hours.cedar` as shipped.
    Shipped,
    /// The window contains now.
    Open,
    /// The window excludes now.
    Closed,
}

struct Options {
    /// `files.cedar` as shipped (`/srv/public/`) or rewritten to the temp dir's public dir.
    files_shipped: bool,
    hours: Hours,
    /// The `[integrity]` section's body.
    integrity: &'static str,
}

const PINNED: &str = "new_items = \"trust_on_first_use\"";
const UNPINNED: &str = "mode = \"off\"";

impl Default for Options {
    fn default() -> Self {
        Options {
            files_shipped: false,
            hours: Hours::Open,
            integrity: PINNED,
        }
    }
}

struct Setup {
    gw: Gateway,
    idp: Arc<Idp>,
    /// The directory `server-filesystem` serves (canonical).
    root: PathBuf,
    /// `<root>/srv/public`: what the `files.cedar` variant allows.
    public: PathBuf,
}

impl Setup {
    fn policies(&self) -> PathBuf {
        self.gw.dir.path().join("policies")
    }

    /// A session of `who` with a fresh real token.
    async fn client(&self, who: (&str, &[&str])) -> RawClient {
        let token = self.idp.token(who.0, who.1).await;
        let mut c = RawClient::new(&self.gw.url).with_token(&token);
        c.initialize().await;
        c
    }

    fn public(&self, rel: &str) -> String {
        format!("{}/{rel}", self.public.display())
    }

    fn root(&self, rel: &str) -> String {
        format!("{}/{rel}", self.root.display())
    }
}

fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn toml_path(p: &Path) -> String {
    toml_str(&p.display().to_string())
}

/// Replace `from` in `path`'s text, insisting it is there: if the shipped file changes, this
/// fails instead of silently testing something else.
fn rewrite(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} no longer contains {from:?}; update this test's variant",
        path.display()
    );
    std::fs::write(path, text.replace(from, to)).unwrap();
}

/// Replace a policy file the way an editor's save does (a new file renamed over the old), so
/// the reload watcher never reads half a file.
fn replace_file(path: &Path, text: &str) {
    let tmp = path.parent().unwrap().parent().unwrap().join("edit.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn setup(opts: Options) -> Setup {
    let d = deps();
    let idp = idp();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();

    // What server-filesystem serves: a public subtree and a secret beside it.
    let root = base.join("files");
    let public = root.join("srv/public");
    std::fs::create_dir_all(public.join("docs")).unwrap();
    std::fs::write(public.join("readme.txt"), "public hello").unwrap();
    std::fs::write(public.join("docs/guide.txt"), "the guide").unwrap();
    std::fs::write(root.join("secret.txt"), "top secret").unwrap();

    // The shipped policies (schema, typed-action schema, every .cedar), then the variants.
    let pol = base.join("policies");
    std::fs::create_dir(&pol).unwrap();
    for entry in std::fs::read_dir(repo_root().join("policies")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), pol.join(entry.file_name())).unwrap();
        }
    }
    if !opts.files_shipped {
        rewrite(
            &pol.join("files.cedar"),
            "/srv/public/",
            &format!("{}/", public.display()),
        );
    }
    match opts.hours {
        Hours::Shipped => {}
        Hours::Open => rewrite(&pol.join("hours.cedar"), SHIPPED_WINDOW, &window(0)),
        Hours::Closed => rewrite(&pol.join("hours.cedar"), SHIPPED_WINDOW, &window(3)),
    }

    let config = format!(
        r#"
[listen]
address = "127.0.0.1:0"
public_url = "{PUBLIC_URL}"

[auth]
mode = "oidc"

[[auth.issuers]]
issuer = {issuer}

[policy]
schema = "policies/portcullis.cedarschema"
policies = "policies"
reload_secs = 1

[audit]
file = "audit.jsonl"
fsync = "every_record"

[integrity]
{integrity}
{ALLOW_LOOPBACK}
[[backend]]
name = "demo"
command = [{portcullis}, "demo-server"]

[[backend]]
name = "files"
command = [{node}, {filesystem}, {root}]

[[backend]]
name = "memory"
command = [{node}, {memory}]
env = {{ MEMORY_FILE_PATH = {memory_file} }}
"#,
        issuer = toml_str(&idp.issuer),
        integrity = opts.integrity,
        portcullis = toml_path(&portcullis_bin()),
        node = toml_path(&d.node22),
        filesystem = toml_path(&d.server_filesystem),
        root = toml_path(&root),
        memory = toml_path(&d.server_memory),
        memory_file = toml_path(&base.join("memory.jsonl")),
    );
    let gw = start_gateway_in(&config, dir);
    Setup {
        gw,
        idp,
        root,
        public,
    }
}

// ---------------------------------------------------------------------------------------------
// Calls, decisions and the audit trail.

async fn call(c: &RawClient, tool: &str, args: Value) -> Value {
    c.request("tools/call", json!({"name": tool, "arguments": args}))
        .await
}

fn text(r: &Value) -> String {
    r["result"]["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The call passed the policy and the backend did the work.
fn assert_ok(r: &Value, what: &str) {
    assert!(r.get("error").is_none(), "{what}: {r}");
    assert_ne!(r["result"]["isError"], json!(true), "{what}: {r}");
}

/// The call was denied by policy — the specific error, not "unknown tool" — by exactly these
/// policies (`[]`: no policy permits it).
fn assert_denied(r: &Value, tool: &str, policies: &[&str]) {
    assert_eq!(r["error"]["code"], -32003, "{tool}: {r}");
    let message = r["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("denied by policy") && message.contains(&format!("`{tool}`")),
        "{tool}: {message}"
    );
    assert!(!message.to_lowercase().contains("unknown"), "{message}");
    assert_eq!(
        ids(&r["error"]["data"]["policies"]),
        ids(&json!(policies)),
        "{tool}: deciding policies in {r}"
    );
}

fn ids(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list of policy ids: {v}"))
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect()
}

fn audit_records(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The audit trail holds a `call` record of `sub` calling `tool` with this decision, decided
/// by exactly `policies`.
fn assert_audited(s: &Setup, sub: &str, tool: &str, decision: &str, policies: &[&str]) {
    let principal = format!("{}|{sub}", s.idp.issuer);
    let want = ids(&json!(policies));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let records = audit_records(s.gw.dir.path());
        let found = records.iter().any(|r| {
            r["kind"] == "call"
                && r["principal"] == principal.as_str()
                && r["tool"] == tool
                && r["decision"] == decision
                && ids(&r["policies"]) == want
        });
        if found {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no audited {decision} of {tool} by {principal} decided by {want:?} in:\n{}",
            records
                .iter()
                .filter(|r| r["kind"] == "call")
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn tool_names(c: &RawClient) -> BTreeSet<String> {
    let r = c.request("tools/list", json!({})).await;
    assert!(
        r["result"]["nextCursor"].is_null(),
        "one page expected: {r}"
    );
    r["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("tools/list: {r}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// base.cedar: read-only tools for everyone (pinned definitions only).

#[test]
fn read_only_tools_are_callable_by_every_authenticated_caller() {
    let s = setup(Options::default());
    runtime().block_on(async {
        let bob = s.client(BOB).await;
        let r = call(&bob, "demo__echo", json!({"message": "hi"})).await;
        assert_ok(&r, "echo");
        assert_eq!(text(&r), "hi");
        assert_ok(&call(&bob, "demo__get_time", json!({})).await, "get_time");
        let r = call(
            &bob,
            "files__read_text_file",
            json!({"path": s.public("readme.txt")}),
        )
        .await;
        assert_ok(&r, "read_text_file");
        assert_eq!(text(&r), "public hello");
        assert!(tool_names(&bob).await.contains("demo__echo"));
        // A tool that does not exist is a different error from a denial.
        let r = call(&bob, "demo__no_such_tool", json!({})).await;
        assert_eq!(r["error"]["code"], -32602, "{r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("unknown tool"),
            "{r}"
        );
    });
    assert_audited(
        &s,
        "bob",
        "demo__echo",
        "allow",
        &["read-only-tools-for-everyone"],
    );
}

#[test]
fn an_unpinned_read_only_claim_is_not_trusted() {
    // Integrity off: nothing is pinned, so every tool counts as destructive and not read-only.
    let s = setup(Options {
        integrity: UNPINNED,
        ..Options::default()
    });
    runtime().block_on(async {
        let bob = s.client(BOB).await;
        let r = call(&bob, "demo__echo", json!({"message": "hi"})).await;
        assert_denied(&r, "demo__echo", &["destructive-tools-admins-only"]);
        let listed = tool_names(&bob).await;
        assert!(
            !listed.iter().any(|t| t.starts_with("demo__")),
            "unpinned tools are never read-only, so bob is shown none: {listed:?}"
        );
        // Admins may still call it (in the open window: unpinned counts as a write).
        let root = s.client(ROOT).await;
        let r = call(&root, "demo__echo", json!({"message": "admin"})).await;
        assert_ok(&r, "admin echo");
    });
    assert_audited(
        &s,
        "bob",
        "demo__echo",
        "deny",
        &["destructive-tools-admins-only"],
    );
}

// ---------------------------------------------------------------------------------------------
// base.cedar: destructive tools only for admins.

#[test]
fn destructive_tools_only_for_admins() {
    let s = setup(Options::default());
    let written = s.public.join("admin.txt");
    runtime().block_on(async {
        let args = |name: &str| json!({"path": s.public(name), "content": "written"});
        let bob = s.client(BOB).await;
        // Hidden from bob's list, yet calling it by name says "denied by policy", not
        // "unknown tool".
        assert!(!tool_names(&bob).await.contains("files__write_file"));
        let r = call(&bob, "files__write_file", args("bob.txt")).await;
        assert_denied(&r, "files__write_file", &["destructive-tools-admins-only"]);
        let r = call(&bob, "demo__fail", json!({"message": "boom"})).await;
        assert_denied(&r, "demo__fail", &["destructive-tools-admins-only"]);
        // Membership in another group does not help.
        let alice = s.client(ALICE).await;
        let r = call(&alice, "files__write_file", args("alice.txt")).await;
        assert_denied(&r, "files__write_file", &["destructive-tools-admins-only"]);

        let root = s.client(ROOT).await;
        let r = call(&root, "files__write_file", args("admin.txt")).await;
        assert_ok(&r, "admin write_file");
        // `fail` always reports a failed tool result: it reached the backend.
        let r = call(&root, "demo__fail", json!({"message": "boom"})).await;
        assert!(r.get("error").is_none(), "{r}");
        assert_eq!(r["result"]["isError"], true, "{r}");
    });
    assert_eq!(std::fs::read_to_string(&written).unwrap(), "written");
    assert!(!s.public.join("bob.txt").exists());
    assert!(!s.public.join("alice.txt").exists());
    assert_audited(
        &s,
        "bob",
        "files__write_file",
        "deny",
        &["destructive-tools-admins-only"],
    );
    assert_audited(
        &s,
        "root",
        "files__write_file",
        "allow",
        &["admins-may-call-any-tool"],
    );
}

// ---------------------------------------------------------------------------------------------
// files.cedar: paths only under the public dir (variant), no `..`, the typed read rule.

#[test]
fn filesystem_paths_only_under_the_public_dir() {
    let s = setup(Options::default());
    runtime().block_on(async {
        let bob = s.client(BOB).await;
        let r = call(
            &bob,
            "files__list_directory",
            json!({"path": s.public("docs")}),
        )
        .await;
        assert_ok(&r, "list public docs");
        assert!(text(&r).contains("guide.txt"), "{r}");
        // The backend would serve the secret (it is inside its root); the policy does not let
        // the call reach it. Untyped rule (args tags) and typed rule (context.arguments) agree.
        let r = call(
            &bob,
            "files__read_text_file",
            json!({"path": s.root("secret.txt")}),
        )
        .await;
        assert_denied(
            &r,
            "files__read_text_file",
            &["files-paths-under-srv-public", "files-read-text-typed"],
        );
        let r = call(&bob, "files__list_directory", json!({"path": s.root("")})).await;
        assert_denied(
            &r,
            "files__list_directory",
            &["files-paths-under-srv-public"],
        );
        // A prefix that climbs out again.
        let r = call(
            &bob,
            "files__read_text_file",
            json!({"path": s.public("../../secret.txt")}),
        )
        .await;
        assert_denied(&r, "files__read_text_file", &["files-no-parent-segments"]);
        // A list of paths is left to admins.
        let r = call(
            &bob,
            "files__read_multiple_files",
            json!({"paths": [s.public("readme.txt")]}),
        )
        .await;
        assert_denied(
            &r,
            "files__read_multiple_files",
            &["files-paths-under-srv-public"],
        );

        // Admins may list anywhere, but `..` and the typed read rule hold for them too.
        let root = s.client(ROOT).await;
        let r = call(&root, "files__list_directory", json!({"path": s.root("")})).await;
        assert_ok(&r, "admin lists the root");
        assert!(text(&r).contains("secret.txt"), "{r}");
        let r = call(
            &root,
            "files__list_directory",
            json!({"path": s.public("../..")}),
        )
        .await;
        assert_denied(&r, "files__list_directory", &["files-no-parent-segments"]);
        let r = call(
            &root,
            "files__read_text_file",
            json!({"path": s.root("secret.txt")}),
        )
        .await;
        assert_denied(&r, "files__read_text_file", &["files-read-text-typed"]);
        assert!(!text(&r).contains("top secret"));
    });
    assert_audited(
        &s,
        "bob",
        "files__read_text_file",
        "deny",
        &["files-paths-under-srv-public", "files-read-text-typed"],
    );
    assert_audited(
        &s,
        "root",
        "files__read_text_file",
        "deny",
        &["files-read-text-typed"],
    );
}

// ---------------------------------------------------------------------------------------------
// memory.cedar: the memory backend belongs to eng.

#[test]
fn memory_backend_only_for_eng() {
    let s = setup(Options::default());
    runtime().block_on(async {
        let alice = s.client(ALICE).await;
        let entity = json!({"entities": [{"name": "Portcullis", "entityType": "project",
                                          "observations": ["gateway"]}]});
        let r = call(&alice, "memory__create_entities", entity).await;
        assert_ok(&r, "eng creates an entity");
        let r = call(&alice, "memory__read_graph", json!({})).await;
        assert_ok(&r, "eng reads the graph");
        assert!(text(&r).contains("Portcullis"), "{r}");
        // Arguments that do not fit the tool's typed schema (tools.cedarschema) match no
        // typed request, so nothing permits them (as policies/tests/memory.toml expects).
        let malformed = json!({"entities": [{"name": "NoType", "observations": []}]});
        let r = call(&alice, "memory__create_entities", malformed).await;
        assert_denied(&r, "memory__create_entities", &[]);
        assert!(
            r["error"]["data"]["errors"]
                .to_string()
                .contains("entityType"),
            "{r}"
        );
        let del = json!({"entityNames": ["Portcullis"]});
        let r = call(&alice, "memory__delete_entities", del.clone()).await;
        assert_denied(
            &r,
            "memory__delete_entities",
            &["destructive-tools-admins-only"],
        );

        // Read-only or not, nobody outside eng reaches it: not a plain user, not an admin.
        let bob = s.client(BOB).await;
        let r = call(&bob, "memory__read_graph", json!({})).await;
        assert_denied(&r, "memory__read_graph", &["memory-backend-eng-only"]);
        let root = s.client(ROOT).await;
        let r = call(&root, "memory__read_graph", json!({})).await;
        assert_denied(&r, "memory__read_graph", &["memory-backend-eng-only"]);
        let r = call(&root, "memory__delete_entities", del.clone()).await;
        assert_denied(&r, "memory__delete_entities", &["memory-backend-eng-only"]);

        // An admin in eng may delete; alice sees the effect.
        let ada = s.client(ADA).await;
        let r = call(&ada, "memory__delete_entities", del).await;
        assert_ok(&r, "eng admin deletes");
        let r = call(&alice, "memory__read_graph", json!({})).await;
        assert_ok(&r, "eng reads the graph again");
        assert!(!text(&r).contains("Portcullis"), "{r}");
    });
    assert_audited(
        &s,
        "bob",
        "memory__read_graph",
        "deny",
        &["memory-backend-eng-only"],
    );
    assert_audited(
        &s,
        "alice",
        "memory__create_entities",
        "allow",
        &["memory-eng-may-write"],
    );
}

// ---------------------------------------------------------------------------------------------
// hours.cedar: writes only inside the window; reads at any time.

#[test]
fn writes_only_inside_the_time_window() {
    let open = setup(Options::default());
    let closed = setup(Options {
        hours: Hours::Closed,
        ..Options::default()
    });
    runtime().block_on(async {
        for s in [&open, &closed] {
            let is_open = std::ptr::eq(s, &open);
            let root = s.client(ROOT).await;
            let alice = s.client(ALICE).await;
            let write = json!({"path": s.public("hours.txt"), "content": "x"});
            let create = json!({"entities": [{"name": "Late", "entityType": "note",
                                              "observations": ["x"]}]});
            let writes = [
                (&root, "files__write_file", write),
                (&root, "demo__fail", json!({"message": "x"})),
                (&alice, "memory__create_entities", create),
            ];
            for (c, tool, args) in writes {
                let r = call(c, tool, args).await;
                if is_open {
                    assert_ne!(r["error"]["code"], -32003, "{tool} in the window: {r}");
                } else {
                    assert_denied(&r, tool, &["writes-in-business-hours"]);
                }
            }
            // Reads are not windowed.
            let r = call(
                &root,
                "files__read_text_file",
                json!({"path": s.public("readme.txt")}),
            )
            .await;
            assert_ok(&r, "read outside the window");
            assert_ok(&call(&alice, "memory__read_graph", json!({})).await, "read");
        }
    });
    assert!(open.public.join("hours.txt").exists());
    assert!(!closed.public.join("hours.txt").exists());
    assert_audited(
        &closed,
        "alice",
        "memory__create_entities",
        "deny",
        &["writes-in-business-hours"],
    );
}

// ---------------------------------------------------------------------------------------------
// List filtering: each caller is shown what some request could let them call.

#[test]
fn lists_show_each_caller_only_what_it_may_call() {
    let s = setup(Options::default());
    runtime().block_on(async {
        let bob = tool_names(&s.client(BOB).await).await;
        let alice = tool_names(&s.client(ALICE).await).await;
        let root = tool_names(&s.client(ROOT).await).await;
        // The full catalogue, with annotations, as an eng admin sees it.
        let ada = s.client(ADA).await;
        let all = ada.request("tools/list", json!({})).await["result"]["tools"].clone();
        let all = all.as_array().unwrap();
        let names = |f: &dyn Fn(&Value, &str) -> bool| -> BTreeSet<String> {
            all.iter()
                .filter(|t| f(t, t["name"].as_str().unwrap()))
                .map(|t| t["name"].as_str().unwrap().to_owned())
                .collect()
        };
        let read_only = |t: &Value| t["annotations"]["readOnlyHint"] == true;
        let destructive = |t: &Value| !read_only(t) && t["annotations"]["destructiveHint"] != false;
        for backend in ["demo__", "files__", "memory__"] {
            assert!(
                all.iter()
                    .any(|t| t["name"].as_str().unwrap().starts_with(backend)),
                "ada sees every backend: {all:?}"
            );
        }
        assert_eq!(tool_names(&ada).await.len(), all.len());

        // Plain user: the read-only tools, none of the memory backend.
        let want = names(&|t, n| read_only(t) && !n.starts_with("memory__"));
        assert_eq!(bob, want);
        assert!(bob.contains("demo__echo") && bob.contains("files__read_text_file"));
        assert!(!bob.contains("files__write_file") && !bob.contains("demo__fail"));
        // Argument rules depend on the call, so they never hide a tool.
        assert!(bob.contains("files__read_multiple_files"));

        // eng: that, plus the memory backend's non-destructive tools.
        let want = names(&|t, n| {
            (read_only(t) && !n.starts_with("memory__"))
                || (n.starts_with("memory__") && !destructive(t))
        });
        assert_eq!(alice, want);
        assert!(alice.contains("memory__create_entities"));
        assert!(!alice.contains("memory__delete_entities"));

        // Admins: every tool but the memory backend's.
        let want = names(&|_, n| !n.starts_with("memory__"));
        assert_eq!(root, want);
        assert!(root.contains("files__write_file") && root.contains("demo__fail"));
        assert!(bob.is_subset(&alice) && bob.is_subset(&root) && root.len() > bob.len());
    });
}

// ---------------------------------------------------------------------------------------------
// The directory exactly as shipped.

#[test]
fn shipped_policies_unmodified_decide_through_the_gateway() {
    let s = setup(Options {
        files_shipped: true,
        hours: Hours::Shipped,
        ..Options::default()
    });
    runtime().block_on(async {
        let bob = s.client(BOB).await;
        // `/srv/public/…` passes the policy; the backend (serving a temp dir) answers itself.
        let r = call(
            &bob,
            "files__list_directory",
            json!({"path": "/srv/public/docs"}),
        )
        .await;
        assert!(r.get("error").is_none(), "policy let it through: {r}");
        assert_eq!(r["result"]["isError"], true, "{r}");
        assert!(text(&r).contains("outside allowed directories"), "{r}");
        let r = call(&bob, "files__list_directory", json!({"path": "/etc"})).await;
        assert_denied(
            &r,
            "files__list_directory",
            &["files-paths-under-srv-public"],
        );
        let r = call(
            &bob,
            "files__read_text_file",
            json!({"path": "/etc/passwd"}),
        )
        .await;
        assert_denied(
            &r,
            "files__read_text_file",
            &["files-paths-under-srv-public", "files-read-text-typed"],
        );
        let r = call(&bob, "memory__read_graph", json!({})).await;
        assert_denied(&r, "memory__read_graph", &["memory-backend-eng-only"]);
        assert_ok(
            &call(&bob, "demo__echo", json!({"message": "hi"})).await,
            "echo",
        );

        // The shipped window (weekdays 08–18 UTC) decides an admin's write as the clock says.
        let root = s.client(ROOT).await;
        let before = shipped_window_open(unix_now());
        let r = call(
            &root,
            "files__write_file",
            json!({"path": s.root("root.txt"), "content": "x"}),
        )
        .await;
        let after = shipped_window_open(unix_now());
        if before == after {
            if before {
                assert_ok(&r, "admin write in business hours");
                assert!(s.root.join("root.txt").exists());
            } else {
                assert_denied(&r, "files__write_file", &["writes-in-business-hours"]);
                assert!(!s.root.join("root.txt").exists());
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Hot reload with real tokens: a change takes effect in the same session; a broken file does not.

#[test]
fn reload_changes_a_decision_mid_session_and_an_invalid_reload_changes_nothing() {
    let s = setup(Options::default());
    let memory = s.policies().join("memory.cedar");
    let shipped = std::fs::read_to_string(&memory).unwrap();
    let eng_only = "unless { principal in Group::\"eng\" };";
    assert!(
        shipped.contains(eng_only),
        "memory.cedar changed: {shipped}"
    );
    let widened = shipped.replace(
        eng_only,
        "unless { principal in Group::\"eng\" || principal in Group::\"sales\" };",
    );
    runtime().block_on(async {
        let sam = s.client(SAM).await;
        let r = call(&sam, "memory__read_graph", json!({})).await;
        assert_denied(&r, "memory__read_graph", &["memory-backend-eng-only"]);

        // Open the memory backend to sales: the same session is allowed within seconds.
        replace_file(&memory, &widened);
        let started = Instant::now();
        loop {
            let r = call(&sam, "memory__read_graph", json!({})).await;
            if r.get("error").is_none() {
                assert_ok(&r, "after reload");
                break;
            }
            assert_denied(&r, "memory__read_graph", &["memory-backend-eng-only"]);
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the reload never took effect"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        // A syntax error: rejected, audited and logged; the previous policies stay in force.
        replace_file(
            &memory,
            &format!("{widened}\npermit (principal, action resource);\n"),
        );
        let started = Instant::now();
        while !audit_records(s.gw.dir.path())
            .iter()
            .any(|r| r["kind"] == "policy_reload" && r["decision"] == "error")
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the rejected reload was not audited: {}",
                s.gw.proc.stderr()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let r = call(&sam, "memory__read_graph", json!({})).await;
        assert_ok(&r, "still allowed after the rejected reload");
        let bob = s.client(BOB).await;
        let r = call(&bob, "memory__read_graph", json!({})).await;
        assert_denied(&r, "memory__read_graph", &["memory-backend-eng-only"]);
    });
    let records = audit_records(s.gw.dir.path());
    let reloads: Vec<&Value> = records
        .iter()
        .filter(|r| r["kind"] == "policy_reload")
        .collect();
    assert!(
        reloads.iter().any(|r| r["decision"] == "info"),
        "{reloads:?}"
    );
    let rejected = reloads.iter().find(|r| r["decision"] == "error").unwrap();
    let reason = rejected["reason"].as_str().unwrap();
    assert!(
        reason.contains("rejected") && reason.contains("memory.cedar"),
        "{rejected}"
    );
    assert!(
        s.gw.proc
            .stderr()
            .contains("previous policies stay in force"),
        "the rejected reload is logged:\n{}",
        s.gw.proc.stderr()
    );
}
