//! Unit tests of the analyzer, the index, the meta config and the embedding re-rank (against
//! a tiny local embeddings endpoint). Retrieval quality on a real catalog is measured by
//! `tests/meta_retrieval.rs`; `find_tool` through the gateway by `tests/meta.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::index::{DocInput, Index, Mode};
use super::text::{Analyzer, words};
use super::*;

#[test]
fn words_split_identifiers_and_prose() {
    assert_eq!(words("list_directory"), ["list", "directory"]);
    assert_eq!(words("getFileInfo"), ["get", "file", "info"]);
    assert_eq!(words("HTTPServer v2"), ["http", "server", "v2"]);
    assert_eq!(
        words("my open PRs and URLs"),
        ["my", "open", "prs", "and", "urls"]
    );
    assert_eq!(
        words("gzip-file-as-resource"),
        ["gzip", "file", "as", "resource"]
    );
    assert_eq!(words("what's in it?"), ["what's", "in", "it"]);
}

#[test]
fn terms_are_stemmed_without_stop_words() {
    let a = Analyzer::new();
    assert_eq!(a.terms("Listing the lists"), ["list", "list"]);
    assert_eq!(a.terms("what's in this folder"), ["folder"]);
    assert_eq!(a.terms("directories"), a.terms("directory"));
}

#[test]
fn the_shape_of_a_word_hints_at_what_it_names() {
    let hints = |q: &str| idioms::shape(q).hints;
    assert_eq!(hints("let everyone in #launch know"), ["channel"]);
    assert_eq!(hints("ask @octocat, please"), ["user"]);
    assert_eq!(
        hints("which town is at 51.5, -0.12"),
        ["number", "latitude", "longitude"]
    );
    // One decimal is a number, not a place; a lone `#` or `@` names nothing.
    assert_eq!(hints("add 2.5 and 3"), ["number"]);
    assert!(hints("item # 3 @ noon").iter().all(|h| h == "number"));
    assert_eq!(hints("open notes.txt"), ["file"]);
    assert_eq!(hints("peek at the Makefile"), ["file"]);
    assert_eq!(hints("diff a.json and .eslintrc"), ["file", "multiple"]);
    // On a code host `#42` is an issue or pull request, not a channel.
    assert_eq!(hints("has #88 been merged"), ["number", "issue", "pull"]);
    assert_eq!(hints("who uses tokio::spawn?"), ["code"]);
    assert_eq!(hints("where is podAntiAffinity set"), ["code"]);
    assert!(hints("buy an iPhone on eBay").is_empty());
    assert_eq!(hints("put an :eyes: on it"), ["reaction", "emoji"]);
    assert_eq!(hints("visit news.example.com"), ["url"]);
    assert!(hints("see next.js and vue.js").contains(&"file".to_owned()));
}

#[test]
fn the_words_of_a_name_are_not_words_of_the_need() {
    let read = |q: &str| idioms::read(q);
    let r = read("has anyone approved #88 in acme/web yet");
    assert!(r.hints.contains(&"repository".to_owned()));
    assert_eq!(r.drop, ["acme", "web"]);
    let r = read("pull up https://news.ycombinator.com");
    assert!(r.hints.contains(&"navigate".to_owned()));
    assert_eq!(r.drop, ["https", "news", "com", "pull"]);
    // A URL keeps the site's name and its path.
    let r = read("what is at github.com/acme/web/pull/7");
    assert_eq!(r.hints, ["url"]);
    assert_eq!(r.drop, ["com"]);
    let r = read("what's hogging space in ~/Downloads?");
    assert!(r.hints.contains(&"directory".to_owned()));
    assert_eq!(r.drop, ["downloads"]);
    // A quoted value is not part of the need.
    assert_eq!(
        read("tick the 'remember me' checkbox").drop,
        ["remember", "me"]
    );
    assert_eq!(
        read("type “don't panic” in the box").drop,
        ["don't", "panic"]
    );
    assert!(read("don't open Bob's file").drop.is_empty());
    // Prose written with a slash is not a slug.
    assert!(read("grant read/write access").drop.is_empty());
    // A need about folders means `a/b` as a path, not `owner/repo`.
    let r = read("make a folder called backups/2025");
    assert!(r.hints.contains(&"path".to_owned()));
    assert!(!r.hints.contains(&"repository".to_owned()));
}

#[test]
fn a_verb_that_asks_for_a_new_tracker_item_means_create() {
    let verb = |q: &str| idioms::creation_idiom(q);
    assert_eq!(verb("open a pull request").as_deref(), Some("open"));
    assert_eq!(verb("file a bug report").as_deref(), Some("file"));
    assert_eq!(
        verb("File bug report: login fails").as_deref(),
        Some("file")
    );
    assert_eq!(
        verb("raise a new ticket about it").as_deref(),
        Some("raise")
    );
    // The same verbs on something that exists, or on other nouns, keep their own meaning.
    assert_eq!(
        verb("report a bug: login crashes").as_deref(),
        Some("report")
    );
    assert_eq!(verb("open PR 5"), None);
    assert_eq!(verb("open issues in the repo"), None);
    assert_eq!(verb("open the issue about login"), None);
    assert_eq!(verb("open a file"), None);
    assert_eq!(verb("log a message to the console"), None);
}

#[test]
fn idioms_say_what_their_words_do_not() {
    let read = |q: &str| idioms::read(q);
    let hints = |q: &str| idioms::shape(q).hints;
    let has = |q: &str, h: &str| read(q).hints.iter().any(|x| x == h);
    assert!(has("bring up the sign-in screen", "navigate"));
    assert!(has("bring up the stored records for Dana", "open"));
    assert!(!has("bring up the stored records for Dana", "navigate"));
    assert!(has("let the team know we shipped", "send"));
    assert!(
        read("let the team know we shipped")
            .drop
            .contains(&"know".to_owned())
    );
    assert!(has("Dana no longer reports to Eve", "delete"));
    assert!(has("Dana no longer reports to Eve", "relation"));
    assert!(has("who works on the billing team", "user"));
    assert!(has("where is the config file", "search"));
    // Keeping a fact for later is a memory, unless a file, a page or a tracker item is kept.
    assert!(has("keep that in mind for future chats", "memory"));
    assert!(has("persist for next session: timezone is CET", "memory"));
    assert!(has("make a note that Bo likes tea", "knowledge"));
    assert!(!has("store the file for later", "memory"));
    assert!(!has("record a note on ticket 4", "memory"));
    assert!(!has("record the network requests", "memory"));
    // How two things stand to each other is a relation; a hyperlink is not.
    assert!(has("link project Apollo to team Orion", "relation"));
    assert!(has("the checkout service depends on payments", "relation"));
    assert!(!has("link https://x.io to the issue", "relation"));
    assert!(has("how do I get to the airport", "directions"));
    assert!(has("look through my notes for budget", "search"));
    assert!(has("has anyone reported crashes in libuv", "issues"));
    assert!(has("fix the typo in docs/guide.md", "edit"));
    assert!(has("move the card into the Done column", "drag"));
    assert!(!has("move notes.txt into the archive column", "drag"));
    assert!(has("enter name, email and address in the signup", "form"));
    assert!(!has("get to the settings page", "directions"));
    // Round 5: shell commands, motion verbs, names, plurals with a filter, talk, memory.
    assert!(has("cat /etc/hosts", "read"));
    assert!(has("mkdir build/out", "create"));
    assert!(!has("find my notes about Bo", "files"));
    assert!(has(
        "shift invoice.pdf into the archive/2023 subfolder",
        "move"
    ));
    assert!(
        read("make a folder called assets")
            .drop
            .contains(&"assets".to_owned())
    );
    assert!(
        !read("a person on github called octocat")
            .drop
            .contains(&"octocat".to_owned())
    );
    assert!(
        read("make a folder next to index.html")
            .drop
            .contains(&"index".to_owned())
    );
    assert!(!hints("all open bugs in vercel/next.js").contains(&"file".to_owned()));
    assert!(hints("read the source of src/main.rs in the repo").contains(&"file".to_owned()));
    assert!(has(
        "show open PRs in acme/api targeting release-2.0",
        "list"
    ));
    assert!(!has("show PR 12 in acme/api", "list"));
    assert!(has("what did people say on #12", "comments"));
    assert!(has("chime in on ticket #230", "comment"));
    assert!(has("where on disk is that compose file hiding", "search"));
    assert!(has("anything you remember mentioning vegan?", "memory"));
    assert!(has("did I ever tell you my dog's name?", "memory"));
    assert!(has("what's inside config/settings.toml?", "contents"));
    assert!(has("sign off on pull request 18", "approve"));
    assert!(!has("stick photo.jpg into the file input", "move"));
    // A plain verb keeps its meaning.
    assert!(read("pull the latest changes").hints.is_empty());
    assert!(read("open the issue about login").hints.is_empty());
}

#[test]
fn a_typo_is_one_edit_away() {
    assert!(index::one_edit("direcotry", "directory"));
    assert!(index::one_edit("screnshot", "screenshot"));
    assert!(index::one_edit("screenshott", "screenshot"));
    assert!(index::one_edit("elevatoin", "elevation"));
    assert!(!index::one_edit("directory", "directory"));
    assert!(!index::one_edit("xirectory", "directory"));
    assert!(!index::one_edit("drectoiry", "directory"));
    // Through the index: a misspelt word still finds its tool.
    let ix = index(&catalog());
    for mode in [Mode::Expanded, Mode::Semantic] {
        assert_eq!(
            top(&ix, "elevatoin of Denver", mode).as_deref(),
            Some("maps__elevation")
        );
    }
    assert_eq!(top(&ix, "elevatoin of Denver", Mode::Keywords), None);
}

#[test]
fn quantised_vectors_keep_the_cosine() {
    let v = semantic::StaticVectors::builtin().unwrap();
    let texts = [
        "read the complete contents of a file",
        "how high above sea level is Denver",
        "post a new message to a channel",
        "list commits of a branch in a repository",
    ];
    let qmax = index::query_max(v.dims());
    for a in texts {
        for b in texts {
            let (ea, eb) = (v.embed(a).unwrap(), v.embed(b).unwrap());
            let exact = semantic::dot(&ea, &eb);
            let (qa, sa) = index::quantise(&ea, qmax);
            let (qb, sb) = index::quantise(&eb, i32::from(i8::MAX));
            let qa: Vec<i16> = qa.into_iter().map(|x| i16::try_from(x).unwrap()).collect();
            let qb: Vec<i8> = qb.into_iter().map(|x| i8::try_from(x).unwrap()).collect();
            let approx = index::dot_q(&qa, &qb) as f32 * sa * sb;
            assert!(
                (exact - approx).abs() < 0.005,
                "{a} · {b}: {exact} against {approx}"
            );
        }
    }
    // The largest query cannot overflow the sum at the table's largest dimension count.
    let q = vec![i16::try_from(index::query_max(1024)).unwrap(); 1024];
    let d = vec![i8::MIN + 1; 1024];
    assert!(index::dot_q(&q, &d) < 0);
}

#[test]
fn centring_takes_the_shared_direction_out() {
    let mut vs = vec![vec![0.8, 0.6, 0.0], vec![0.8, 0.0, 0.6], vec![0.0; 3]];
    let mean = centroid::centre(&mut vs).unwrap();
    // The shared first dimension is gone; each vector is a unit one again; a zero stays zero.
    assert_eq!(mean, [0.8, 0.3, 0.3]);
    assert!(vs[0][0].abs() < 1e-6 && (vs[0][1] - 0.70710677).abs() < 1e-6);
    assert_eq!(vs[2], [0.0; 3]);
    let q = centroid::centre_query(vec![1.0, 0.0, 0.0], Some(&mean));
    assert!((q.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-6);
    assert_eq!(
        centroid::centre_query(vec![1.0, 0.0], Some(&mean)),
        [1.0, 0.0]
    );
    assert!(centroid::centre(&mut []).is_none());
}

fn tool(name: &str, description: &str, args: &[&str]) -> Value {
    let props: serde_json::Map<String, Value> = args
        .iter()
        .map(|a| ((*a).to_owned(), json!({ "type": "string" })))
        .collect();
    json!({ "name": name, "description": description, "inputSchema": { "type": "object", "properties": props } })
}

fn catalog() -> Vec<Value> {
    vec![
        tool(
            "fs__list_directory",
            "Get a detailed listing of all files and directories in a path",
            &["path"],
        ),
        tool(
            "fs__read_file",
            "Read the complete contents of a file",
            &["path"],
        ),
        tool(
            "fs__write_file",
            "Create a new file or overwrite an existing one",
            &["path", "content"],
        ),
        tool(
            "chat__post_message",
            "Post a new message to a channel",
            &["channel_id", "text"],
        ),
        tool(
            "maps__elevation",
            "Get elevation data for locations on the earth",
            &["locations"],
        ),
        tool(
            "gh__delete_repository",
            "Delete a repository",
            &["owner", "repo"],
        ),
    ]
}

fn index(tools: &[Value]) -> Index {
    Index::build(
        Arc::new(lexicon(&BTreeMap::new())),
        tools.iter().map(|t| {
            let name = t["name"].as_str().unwrap();
            DocInput {
                name,
                backend: name.split_once("__").map(|(b, _)| b),
                definition: t,
            }
        }),
    )
}

fn top(ix: &Index, q: &str, mode: Mode) -> Option<String> {
    ix.search(q, 1, mode, |_| true)
        .first()
        .map(|h| ix.name(h.doc).unwrap().to_owned())
}

#[test]
fn keywords_find_tools_and_synonyms_close_paraphrases() {
    let tools = catalog();
    let ix = index(&tools);
    assert_eq!(
        top(&ix, "read a file", Mode::Keywords).as_deref(),
        Some("fs__read_file")
    );
    // No word in common with the tool: keywords find nothing, synonyms do.
    assert_eq!(top(&ix, "what's in this folder", Mode::Keywords), None);
    assert_eq!(
        top(&ix, "what's in this folder", Mode::Expanded).as_deref(),
        Some("fs__list_directory")
    );
    assert_eq!(
        top(&ix, "how high above sea level is Denver", Mode::Expanded).as_deref(),
        Some("maps__elevation")
    );
    assert_eq!(
        top(&ix, "tell the team the build is green", Mode::Expanded).as_deref(),
        Some("chat__post_message")
    );
    assert_eq!(top(&ix, "", Mode::Expanded), None);
}

#[test]
fn a_tool_that_is_not_allowed_is_never_returned() {
    let tools = catalog();
    let ix = index(&tools);
    let denied = ix.doc("gh__delete_repository").unwrap();
    let hits = ix.search("delete the repository file", 10, Mode::Expanded, |d| {
        d != denied
    });
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.doc != denied));
    let all = ix.search("delete the repository file", 10, Mode::Expanded, |_| true);
    assert_eq!(all[0].doc, denied, "it is the best match when allowed");
}

#[test]
fn results_are_deterministic_and_bounded() {
    let tools = catalog();
    let ix = index(&tools);
    let a = ix.search("file", 2, Mode::Expanded, |_| true);
    let b = ix.search("file", 2, Mode::Expanded, |_| true);
    assert_eq!(a, b);
    assert_eq!(a.len(), 2);
    assert!(a[0].score >= a[1].score);
}

#[test]
fn config_synonyms_extend_the_table() {
    let tools = [tool(
        "k8s__scale",
        "Change the replica count of a deployment",
        &[],
    )];
    let mut extra = BTreeMap::new();
    extra.insert("autoscale".to_owned(), vec!["replica".to_owned()]);
    let ix = Index::build(
        Arc::new(lexicon(&extra)),
        tools.iter().map(|t| DocInput {
            name: t["name"].as_str().unwrap(),
            backend: None,
            definition: t,
        }),
    );
    assert_eq!(
        top(&ix, "autoscale the web tier", Mode::Expanded).as_deref(),
        Some("k8s__scale")
    );
}

fn meta(toml_text: &str) -> Result<MetaConfig, String> {
    let cfg: MetaConfig = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    cfg.check().map_err(|(k, m)| format!("{k}: {m}"))?;
    Ok(cfg)
}

#[test]
fn meta_config_is_checked() {
    assert!(meta("enabled = true").is_ok());
    assert!(
        meta("enabled = true\ngroups = [\"a\"]")
            .unwrap_err()
            .starts_with("groups")
    );
    assert!(meta("top_k = 0").unwrap_err().starts_with("top_k"));
    assert!(meta("top_k = 30").unwrap_err().starts_with("top_k"));
    assert!(
        meta("max_top_k = 1000")
            .unwrap_err()
            .starts_with("max_top_k")
    );
    assert!(
        meta("always_visible = [\"call_tool\"]")
            .unwrap_err()
            .starts_with("always_visible")
    );
    assert!(
        meta("[embedding]\nurl = \"ftp://x\"")
            .unwrap_err()
            .starts_with("embedding.url")
    );
    assert!(meta("bogus = 1").is_err());
}

#[test]
fn meta_mode_applies_per_listener_or_per_group() {
    let p = |groups: &[&str]| crate::identity::Principal {
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        ..crate::identity::Principal::anonymous()
    };
    let base = std::path::Path::new(".");
    let egress = Arc::new(crate::egress::Egress::default());
    let off = Runtime::new(None, base, &egress).unwrap();
    assert!(!off.applies_to(&p(&["agents"])));
    let all = Runtime::new(Some(&meta("enabled = true").unwrap()), base, &egress).unwrap();
    assert!(all.applies_to(&p(&[])));
    let agents =
        Runtime::new(Some(&meta("groups = [\"agents\"]").unwrap()), base, &egress).unwrap();
    assert!(agents.applies_to(&p(&["eng", "agents"])));
    assert!(!agents.applies_to(&p(&["eng"])));
    let custom = Runtime::new(
        Some(
            &meta("enabled = true\nfind_tool_description = \"Search our tools\"\ntop_k = 3")
                .unwrap(),
        ),
        base,
        &egress,
    )
    .unwrap();
    assert_eq!(custom.meta_tools()[0]["description"], "Search our tools");
    assert_eq!(custom.top_k(None), 3);
    assert_eq!(custom.top_k(Some(500)), 20);
}

#[test]
fn the_meta_tool_list_is_a_fraction_of_the_catalog() {
    let rt = Runtime::default();
    let many: Vec<Value> = (0..100)
        .map(|i| {
            tool(
                &format!("svc__operation_{i}"),
                "Performs an operation on a resource of the service, with options for filtering, paging and sorting the results it returns",
                &["id", "filter", "page", "sort", "fields"],
            )
        })
        .collect();
    let cmp = tokens::Comparison::new(&many, &rt.meta_tools()).unwrap();
    assert!(cmp.meta_tokens > 50 && cmp.meta_tokens < 400, "{cmp:?}");
    assert!(cmp.saving_percent() > 95.0, "{cmp:?}");
    assert_eq!(tokens::count("hello world").unwrap(), 2);
}

#[test]
fn blending_keeps_keyword_order_without_semantics() {
    let b = embed::blend(&[2.0, 1.0, 0.0], &[0.0, 0.0, 0.0], 0.5);
    assert!(b[0] > b[1] && b[1] > b[2]);
    let b = embed::blend(&[0.0, 0.0], &[0.2, 0.9], 0.6);
    assert!(b[1] > b[0]);
    assert_eq!(embed::cosine(&[1.0, 0.0], &[1.0]), 0.0);
}

/// A local embeddings endpoint (OpenAI shape) for one test: each text becomes a 2-d vector,
/// [mentions a place or height?, mentions files?], so "altitude" (which no tool says) is near
/// the elevation tool.
async fn fake_embeddings() -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/embeddings", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let n = s.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        break body.to_owned();
                    }
                }
            };
            let req: Value = serde_json::from_str(&body).unwrap();
            let data: Vec<Value> = req["input"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let t = t.as_str().unwrap().to_lowercase();
                    let place = ["elevation", "altitude", "earth", "mountain"].iter().any(|w| t.contains(w));
                    let file = ["file", "folder", "director"].iter().any(|w| t.contains(w));
                    json!({ "index": i, "embedding": [if place { 1.0 } else { 0.0 }, if file { 1.0 } else { 0.1 }] })
                })
                .collect();
            let out = json!({ "data": data }).to_string();
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{out}",
                out.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
        }
    });
    (url, task)
}

#[tokio::test]
async fn the_embedding_rerank_blends_and_falls_back_to_keywords() {
    let (url, server) = fake_embeddings().await;
    let tools = catalog();
    let base = std::path::Path::new(".");
    let cfg = meta(&format!(
        "enabled = true\n[embedding]\nurl = \"{url}\"\nweight = 0.8"
    ))
    .unwrap();
    // The endpoint is on loopback: allowed through the SSRF guard only explicitly.
    let loopback = crate::egress::parse_net("127.0.0.1/32").unwrap();
    let egress = Arc::new(crate::egress::Egress::new(vec![loopback]));
    assert!(
        Runtime::new(
            Some(&cfg),
            base,
            &Arc::new(crate::egress::Egress::default())
        )
        .is_err()
    );
    let rt = Runtime::new(Some(&cfg), base, &egress).unwrap();
    let ix = Index::build(
        rt.lexicon(),
        tools.iter().map(|t| DocInput {
            name: t["name"].as_str().unwrap(),
            backend: None,
            definition: t,
        }),
    );
    let allowed = vec![true; ix.len()];
    let hits = rt
        .rank(&ix, &tools, "altitude of the summit", 1, &allowed)
        .await;
    assert_eq!(ix.name(hits[0].doc), Some("maps__elevation"));
    // Disallowed documents are not scored by the embedding either.
    let mut some = allowed.clone();
    some[ix.doc("maps__elevation").unwrap() as usize] = false;
    let hits = rt
        .rank(&ix, &tools, "altitude of the summit", 3, &some)
        .await;
    assert!(
        hits.iter()
            .all(|h| ix.name(h.doc) != Some("maps__elevation"))
    );
    server.abort();
    // The endpoint is gone: keywords answer.
    let hits = rt.rank(&ix, &tools, "read a file", 1, &allowed).await;
    assert_eq!(ix.name(hits[0].doc), Some("fs__read_file"));
}

#[test]
fn the_builtin_static_vectors_load_and_mean_something() {
    let v = semantic::StaticVectors::builtin().unwrap();
    assert!(v.len() > 20_000 && v.dims() >= 64, "{v:?}");
    let cos = |a: &str, b: &str| semantic::dot(&v.embed(a).unwrap(), &v.embed(b).unwrap());
    // Related texts with no word in common are nearer than unrelated ones.
    assert!(
        cos("altitude of a mountain", "elevation data")
            > cos("altitude of a mountain", "post a message")
    );
    assert!(cos("ram", "memory") > cos("ram", "channel"));
    assert!(v.embed("").is_none() && v.embed("☃ ☃").is_none());
    let near: Vec<&str> = v.neighbours("folder").map(|(w, _)| w).collect();
    assert!(near.contains(&"directory"), "{near:?}");
    assert_eq!(v.neighbours("no-such-piece").count(), 0);
    // A truncated or foreign table is a typed error, not a panic.
    let bytes: &'static [u8] = b"PCSVEC01\x05\x00\x00\x00\x08\x00\x00\x00";
    assert!(matches!(
        semantic::StaticVectors::parse(bytes),
        Err(semantic::SemanticError::Truncated(_))
    ));
    assert_eq!(
        semantic::StaticVectors::parse(b"GARBAGE!").unwrap_err(),
        semantic::SemanticError::Magic
    );
}

#[test]
fn semantic_ranking_answers_without_a_shared_word_and_is_never_empty() {
    let tools = catalog();
    let ix = index(&tools);
    assert_eq!(
        top(&ix, "how high above sea level is Denver", Mode::Semantic).as_deref(),
        Some("maps__elevation")
    );
    // Nothing in common with any tool, not even a known word: still the best effort, k tools.
    assert!(
        ix.search("qzxv wkpt", 3, Mode::Expanded, |_| true)
            .is_empty()
    );
    let hits = ix.search("qzxv wkpt", 3, Mode::Semantic, |_| true);
    assert_eq!(hits.len(), 3);
    // Fewer visible tools than asked for: all of them; none visible: nothing.
    assert_eq!(
        ix.search("anything", 10, Mode::Semantic, |d| d < 2).len(),
        2
    );
    assert!(
        ix.search("anything", 10, Mode::Semantic, |_| false)
            .is_empty()
    );
    // Deterministic.
    assert_eq!(
        ix.search("save some text", 4, Mode::Semantic, |_| true),
        ix.search("save some text", 4, Mode::Semantic, |_| true)
    );
}

fn docs(tools: &[Value]) -> Vec<cache::ToolDoc> {
    tools
        .iter()
        .map(|t| {
            let name = t["name"].as_str().unwrap().to_owned();
            cache::ToolDoc {
                backend: name.split_once("__").map(|(b, _)| b.to_owned()),
                name,
                definition: t.clone(),
            }
        })
        .collect()
}

#[test]
fn the_index_cache_shares_per_slice_and_stays_bounded() {
    use cache::{CacheLimits, IndexCache, IndexKey};
    let tools = catalog();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    let c = IndexCache::new(
        Arc::new(lexicon(&BTreeMap::new())),
        CacheLimits {
            max_indexes: 2,
            max_tools: 100,
        },
    );
    // The key does not depend on order; it does on the set and on the catalog version.
    let all = IndexKey::new(1, names.iter().copied());
    assert_eq!(all, IndexKey::new(1, names.iter().rev().copied()));
    assert_ne!(all, IndexKey::new(2, names.iter().copied()));
    let some = IndexKey::new(1, names[..2].iter().copied());
    assert_ne!(all, some);

    let a = c.get_or_build(all, || docs(&tools));
    let b = c.get_or_build(all, || panic!("a second build of the same slice"));
    assert!(Arc::ptr_eq(&a, &b));
    let s = c.get_or_build(some, || docs(&tools[..2]));
    assert_eq!(s.len(), 2);
    // A slice's index holds only its tools: a search cannot return another slice's.
    for f in s.search("elevation of a mountain", 5) {
        assert!(names[..2].contains(&f.name), "{}", f.name);
    }
    let st = c.stats();
    assert_eq!((st.hits, st.builds, st.indexes, st.tools), (1, 2, 2, 8));
    // A third slice evicts the least recently used one.
    let third = IndexKey::new(1, names[2..4].iter().copied());
    c.get_or_build(third, || docs(&tools[2..4]));
    assert_eq!(c.stats().indexes, 2);
    assert_eq!(c.stats().evictions, 1);
    c.get_or_build(all, || docs(&tools));
    assert_eq!(c.stats().builds, 4, "the evicted slice was rebuilt");
    c.retain_catalog(2);
    assert_eq!(c.stats().indexes, 0);
    assert_ne!(
        cache::catalog_version(&tools),
        cache::catalog_version(&tools[1..])
    );
}

#[test]
fn find_tool_results_carry_definitions_and_scores() {
    let tools = catalog();
    let ix = cache::ToolIndex::build(Arc::new(lexicon(&BTreeMap::new())), docs(&tools));
    let found = ix.search("write text into a file", 2);
    assert_eq!(found.len(), 2);
    assert!(found[0].score >= found[1].score);
    let r = cache::find_tool_result(&found);
    let s = &r["structuredContent"];
    assert_eq!(s["tools"][0], *found[0].definition);
    assert_eq!(s["matches"][0]["name"], found[0].name);
    assert!(s["matches"][0]["score"].as_f64().unwrap() > 0.0);
    let text: Value = serde_json::from_str(r["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(&text, s);
}
