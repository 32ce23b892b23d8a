//! Replicas behind a load balancer, shared state in Redis (issue 17), end to end: a real
//! `redis-server` and a real HAProxy (round robin) in front of `portcullis serve` replicas, all
//! on loopback ports, every process started and stopped here. Backends: the built-in 2025 demo
//! server (stdio), the Python SDK fixture (`tests/py/mcp2026_server.py`) and the rmcp
//! drift-server fixture. Tokens are signed with a dev key every replica trusts.
//!
//! - a per-principal quota holds across replicas (one principal, then two at once);
//! - Redis killed mid-run: `fail_closed` refuses (-32029 / HTTP 503), audited; `local` decides
//!   per replica, loudly; Redis back: normal within seconds;
//! - a 2025-era session survives its replica's SIGKILL; session caps hold cluster-wide; a
//!   DELETE on one replica ends the session on all;
//! - a 2026-07-28 client runs 100 calls round robin; each replica keeps its own audit chain,
//!   records carry the replica id, `audit verify --trails` checks all in one call; metrics and
//!   `/readyz` name the replica and report Redis;
//! - MRTR: a state sealed on one replica opens on another (shared key, single use in Redis); a
//!   call parked on one replica is continued there, wherever its retry lands (handed to the
//!   holder); a holder that dies takes its parked calls with it (refused, audited);
//! - tasks: a task relayed by one replica is read and cancelled through any (handed to it),
//!   and only by its creator;
//! - one drift seen by three replicas: one webhook, one `drift_alert`; an approval on disk
//!   reaches replicas that do not poll the lockfile, through pub/sub.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod cluster_support;
mod common;

#[path = "cluster_support/client.rs"]
mod client;

use std::time::{Duration, Instant};

use client::*;
use cluster_support::Redis;
use common::{portcullis_bin, runtime};
use futures::StreamExt;
use serde_json::{Value, json};

async fn hammer(url: &str, tokens: &[String], calls: usize) -> (Vec<usize>, Duration) {
    let http = reqwest::Client::new();
    let jobs: Vec<(usize, u64)> = (0..calls)
        .flat_map(|i| (0..tokens.len()).map(move |t| (t, (i * tokens.len() + t) as u64 + 1)))
        .collect();
    let started = Instant::now();
    let results: Vec<(usize, Result<(), Value>)> = futures::stream::iter(jobs)
        .map(|(t, id)| {
            let http = http.clone();
            let token = tokens[t].clone();
            async move { (t, add(&http, url, &token, id).await) }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let mut allowed = vec![0; tokens.len()];
    for (t, r) in results {
        match r {
            Ok(()) => allowed[t] += 1,
            Err(e) => {
                assert_eq!(e["code"], RATE_LIMITED, "only rate limits may refuse: {e}");
                assert_eq!(e["data"]["limit"], "per_principal", "{e}");
            }
        }
    }
    (allowed, elapsed)
}

/// A quota of 60 per minute with its burst of 60 allows 60 calls at once and one more per second
/// after: a run of `elapsed` allows exactly 60 when it ends within a second, never more than
/// one per whole second beyond. Three replicas each deciding alone would allow 180.
fn assert_quota(allowed: usize, elapsed: Duration, who: &str) {
    let most = 60 + usize::try_from(elapsed.as_secs()).unwrap();
    eprintln!("{who}: {allowed} of 200 calls allowed in {elapsed:?} (quota 60/min)");
    assert!(
        (60..=most).contains(&allowed),
        "{who}: {allowed} allowed in {elapsed:?}; the cluster-wide quota allows 60 (+1 per second)"
    );
}

#[test]
fn a_per_principal_quota_holds_across_three_replicas() {
    let c = start_cluster(
        3,
        &Opts {
            sections: "[limits]\nper_principal = \"60/min\"\n".into(),
            ..Opts::default()
        },
    );
    let rt = runtime();
    let (alice, bob, carol) = (c.token("alice"), c.token("bob"), c.token("carol"));
    rt.block_on(async {
        let (allowed, elapsed) = hammer(&c.lb.url(), &[alice], 200).await;
        assert_quota(allowed[0], elapsed, "alice alone");
        let (allowed, elapsed) = hammer(&c.lb.url(), &[bob, carol], 200).await;
        assert_quota(allowed[0], elapsed, "bob (with carol)");
        assert_quota(allowed[1], elapsed, "carol (with bob)");
    });
    // Every replica served calls (round robin) and refused some: the quota is shared, not split.
    for r in &c.replicas {
        let t = r.trail();
        let calls = t.iter().filter(|x| x["kind"] == "call").count();
        let limited = t.iter().filter(|x| x["kind"] == "rate_limited").count();
        assert!(
            calls > 0 && limited > 0,
            "{}: {calls} allowed, {limited} refused",
            r.id
        );
        assert!(
            t.iter().all(|x| x["replica"] == r.id.as_str()),
            "{}: records without its id",
            r.id
        );
    }
    let allowed_alice = c
        .records()
        .iter()
        .filter(|x| x["kind"] == "call" && x["principal"] == format!("{ISSUER}|alice"))
        .count();
    assert!((60..=70).contains(&allowed_alice), "{allowed_alice}");
}

/// `/readyz` of a replica: (HTTP status, body).
#[test]
fn redis_lost_fails_closed_with_audited_refusals_and_recovers() {
    let mut c = start_cluster(
        2,
        &Opts {
            sections: "[limits]\nper_principal = \"600/min\"\n".into(),
            ..Opts::default()
        },
    );
    let rt = runtime();
    let alice = c.token("alice");
    let http = reqwest::Client::new();
    rt.block_on(async {
        for id in 1..=4 {
            add(&http, &c.lb.url(), &alice, id).await.unwrap();
        }
        let (status, body) = readyz(&http, &c.replicas[0]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["checks"]["cluster"]["redis"], "up", "{body}");
        assert_eq!(body["checks"]["cluster"]["replica"], "r1", "{body}");
    });
    c.redis.kill();
    rt.block_on(async {
        // Every call under a limit is refused, whichever replica gets it; nothing is served
        // unchecked.
        for id in 10..16 {
            let e = add(&http, &c.lb.url(), &alice, id).await.unwrap_err();
            assert_eq!(e["code"], RATE_LIMITED, "{e}");
            assert_eq!(e["data"]["limit"], "cluster_unavailable", "{e}");
        }
        // New sessions too: HTTP 503 with -32029.
        let (status, _) = initialize(&http, &c.lb.url(), &alice).await;
        assert_eq!(status, 503);
        for r in &c.replicas {
            let (status, body) = readyz(&http, r).await;
            assert_eq!(status, 503, "{}: {body}", r.id);
            assert_eq!(body["checks"]["cluster"]["redis"], "down", "{body}");
            let m = metrics(&http, r).await;
            assert!(
                m.contains(&format!("portcullis_redis_up{{replica=\"{}\"}} 0", r.id)),
                "{}: {m}",
                r.id
            );
        }
    });
    c.redis.restart();
    let back = rt.block_on(async {
        eventually("calls served again after redis restarted", 15, || async {
            add(&http, &c.lb.url(), &alice, 99).await.is_ok()
                && add(&http, &c.lb.url(), &alice, 98).await.is_ok()
        })
        .await
    });
    eprintln!("served again {back:?} after redis restarted");
    rt.block_on(async {
        let (status, sid) = initialize(&http, &c.lb.url(), &alice).await;
        assert_eq!((status, sid.is_some()), (200, true));
    });
    for r in &c.replicas {
        let t = r.trail();
        let refused: Vec<&Value> = t
            .iter()
            .filter(|x| {
                x["kind"] == "rate_limited"
                    && x["reason"].as_str().is_some_and(|s| s.contains("redis"))
            })
            .collect();
        assert!(!refused.is_empty(), "{}: no audited refusal", r.id);
        assert!(refused.iter().all(|x| x["decision"] == "deny"));
        let lost = t
            .iter()
            .find(|x| x["kind"] == "cluster" && x["decision"] == "error");
        let found = t
            .iter()
            .find(|x| x["kind"] == "cluster" && x["decision"] == "info");
        assert!(
            lost.is_some_and(|x| x["reason"].as_str().unwrap().contains("fail_closed")),
            "{}: {t:?}",
            r.id
        );
        assert!(found.is_some(), "{}: no record of redis coming back", r.id);
    }
}

#[test]
fn redis_lost_in_local_mode_decides_per_replica_loudly() {
    let mut c = start_cluster(
        2,
        &Opts {
            sections: "[limits]\nper_principal = \"5/min\"\n".into(),
            cluster: "on_redis_unavailable = \"local\"".into(),
            ..Opts::default()
        },
    );
    let rt = runtime();
    let alice = c.token("alice");
    c.redis.kill();
    let http = reqwest::Client::new();
    let allowed = rt.block_on(async {
        let mut allowed = 0;
        for id in 1..=14 {
            match add(&http, &c.lb.url(), &alice, id).await {
                Ok(()) => allowed += 1,
                Err(e) => assert_eq!(e["data"]["limit"], "per_principal", "{e}"),
            }
        }
        for r in &c.replicas {
            let (status, body) = readyz(&http, r).await;
            assert_eq!(status, 200, "local mode serves: {body}");
            assert_eq!(body["checks"]["cluster"]["redis"], "down");
            assert_eq!(body["checks"]["cluster"]["on_redis_unavailable"], "local");
            let m = metrics(&http, r).await;
            let line = m
                .lines()
                .find(|l| l.starts_with("portcullis_cluster_local_decisions_total{"))
                .unwrap_or_else(|| panic!("{m}"));
            assert!(
                line.contains(&format!("replica=\"{}\"", r.id)) && !line.ends_with(" 0"),
                "{line}"
            );
        }
        allowed
    });
    // Each replica alone: 5 each, 10 in all (the documented cost of `local`).
    assert_eq!(allowed, 10);
    for r in &c.replicas {
        let t = r.trail();
        assert!(
            t.iter().any(
                |x| x["kind"] == "cluster" && x["reason"].as_str().unwrap().contains("(local)")
            )
        );
        let local = t
            .iter()
            .filter(|x| x["kind"] == "call" && x["reason"].as_str().unwrap().contains("own limits"))
            .count();
        assert_eq!(local, 5, "{}", r.id);
    }
}

#[test]
fn a_2025_session_survives_its_replicas_sigkill_and_caps_hold_cluster_wide() {
    let mut c = start_cluster(
        3,
        &Opts {
            sections: "[limits]\nmax_sessions_per_principal = 2\n\n[session]\nmax_sessions = 3\n"
                .into(),
            ..Opts::default()
        },
    );
    let rt = runtime();
    let (alice, bob, carol) = (c.token("alice"), c.token("bob"), c.token("carol"));
    let mut s = common::RawClient::new(&c.lb.url()).with_token(&alice);
    let sid = rt.block_on(async {
        s.initialize().await;
        // Round robin: each request lands on the next replica, which rebuilds the session.
        for i in 0..6 {
            let r = s
                .request(
                    "tools/call",
                    json!({"name": "add", "arguments": {"a": i, "b": 1}}),
                )
                .await;
            assert_eq!(r["result"]["structuredContent"]["sum"], i + 1, "{r}");
        }
        s.session.clone().unwrap()
    });
    let starts = |c: &Cluster| -> Vec<(String, String)> {
        c.replicas
            .iter()
            .flat_map(|r| {
                r.trail()
                    .into_iter()
                    .filter(|x| x["kind"] == "session_start" && x["session_id"] == sid.as_str())
                    .map(|x| {
                        (
                            x["replica"].as_str().unwrap().to_owned(),
                            x["reason"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let seen = starts(&c);
    assert_eq!(
        seen.len(),
        3,
        "created on one replica, rebuilt on the two others: {seen:?}"
    );
    let creators: Vec<&(String, String)> = seen
        .iter()
        .filter(|(_, why)| !why.contains("rebuilt"))
        .collect();
    assert_eq!(creators.len(), 1, "{seen:?}");
    let creator = creators[0].0.clone();
    let i = c.replicas.iter().position(|r| r.id == creator).unwrap();
    eprintln!(
        "session {sid} created on {creator}; SIGKILL pid {}",
        c.replicas[i].pid()
    );
    // A call in flight on that replica when it dies: the one thing the client loses.
    let in_flight = {
        let url = c.replicas[i].url();
        let (token, sid) = (alice.clone(), sid.clone());
        rt.spawn(async move {
            let msg = json!({"jsonrpc": "2.0", "id": 99, "method": "tools/call",
                "params": {"name": "slow", "arguments": {"ms": 20000}}});
            let resp = reqwest::Client::new()
                .post(url)
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .header("mcp-session-id", sid)
                .body(msg.to_string())
                .send()
                .await;
            match resp {
                Ok(r) => r
                    .text()
                    .await
                    .map(|t| t.contains("\"result\""))
                    .unwrap_or(false),
                Err(_) => false,
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    c.replicas[i].kill();
    assert!(
        !rt.block_on(in_flight).unwrap(),
        "the call in flight on the killed replica cannot have completed"
    );
    rt.block_on(async {
        // The client goes on: HAProxy sends its requests to the living replicas.
        for i in 10..16 {
            let r = s
                .request(
                    "tools/call",
                    json!({"name": "add", "arguments": {"a": i, "b": 1}}),
                )
                .await;
            assert_eq!(r["result"]["structuredContent"]["sum"], i + 1, "{r}");
        }
        let http = reqwest::Client::new();
        // Caps across replicas: alice holds one session (on a dead replica); one more is allowed,
        // the third is refused whichever replica gets it.
        let (status, _) = initialize(&http, &c.lb.url(), &alice).await;
        assert_eq!(status, 200);
        let (status, _) = initialize(&http, &c.lb.url(), &alice).await;
        assert_eq!(
            status, 429,
            "max_sessions_per_principal = 2 across the cluster"
        );
        // Three sessions in the cluster: bob's is the last one allowed.
        let (status, _) = initialize(&http, &c.lb.url(), &bob).await;
        assert_eq!(status, 200);
        let (status, _) = initialize(&http, &c.lb.url(), &carol).await;
        assert_eq!(status, 503, "session.max_sessions = 3 across the cluster");
        // DELETE through any replica ends it on every one.
        let resp = http
            .delete(c.lb.url())
            .header("authorization", format!("Bearer {alice}"))
            .header("mcp-session-id", &sid)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        // The other living replica hears of it (pub/sub) and closes its copy.
        eventually("the other replica closed its copy", 10, || async {
            c.records().iter().any(|x| {
                x["kind"] == "session_end"
                    && x["session_id"] == sid.as_str()
                    && x["reason"]
                        .as_str()
                        .is_some_and(|r| r.contains("on replica"))
            })
        })
        .await;
        for id in 20..24u64 {
            let msg = json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": {}});
            let (status, _) = s.post(&msg).await;
            assert_eq!(status, 404, "an ended session is unknown on every replica");
        }
    });
}

#[test]
fn a_2026_client_runs_100_calls_round_robin_and_every_trail_verifies() {
    let c = start_cluster(
        3,
        &Opts {
            sections: "[limits]\nper_principal = \"6000/min\"\n".into(),
            ..Opts::default()
        },
    );
    let rt = runtime();
    let alice = c.token("alice");
    let http = reqwest::Client::new();
    rt.block_on(async {
        for id in 1..=100u64 {
            add(&http, &c.lb.url(), &alice, id)
                .await
                .unwrap_or_else(|e| panic!("call {id}: {e}"));
        }
        for r in &c.replicas {
            let (status, body) = readyz(&http, r).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["checks"]["cluster"]["redis"], "up");
            let m = metrics(&http, r).await;
            let line = m
                .lines()
                .find(|l| l.starts_with("portcullis_decisions_total{") && l.contains("allow"))
                .unwrap_or_else(|| panic!("{m}"));
            assert!(line.contains(&format!("replica=\"{}\"", r.id)), "{line}");
        }
    });
    let per: Vec<usize> = c
        .replicas
        .iter()
        .map(|r| r.trail().iter().filter(|x| x["kind"] == "call").count())
        .collect();
    assert_eq!(per.iter().sum::<usize>(), 100, "{per:?}");
    assert!(
        per.iter().all(|n| (30..=37).contains(n)),
        "round robin: {per:?}"
    );

    // Three chains, one call; then one record altered: that trail fails, the others still pass.
    let trails: Vec<String> = c
        .replicas
        .iter()
        .map(|r| r.trail_path().display().to_string())
        .collect();
    let verify = |files: &[String]| {
        let out = std::process::Command::new(portcullis_bin())
            .args(["audit", "verify", "--trails"])
            .args(files)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, out) = verify(&trails);
    assert!(ok, "{out}");
    for r in &c.replicas {
        assert!(out.contains(&format!("replica {}", r.id)), "{out}");
    }
    assert!(out.contains("all 3 trails verify"), "{out}");
    let victim = c.replicas[1].trail_path();
    let text = std::fs::read_to_string(&victim).unwrap();
    std::fs::write(&victim, text.replacen("\"allowed\"", "\"allowed!\"", 1)).unwrap();
    let (ok, out) = verify(&trails);
    assert!(!ok, "{out}");
    assert!(out.contains("broken"), "{out}");
    assert_eq!(out.matches("chain intact").count(), 2, "{out}");
}

/// An MRTR round of a 2025-era backend: the call is held open in the replica that forwarded it,
/// and a retry that lands on another replica is handed to the holder and completes there.
#[test]
fn an_mrtr_retry_on_another_replica_is_handed_to_the_holder_and_completes() {
    // The Python SDK fixture server (`tests/py/mcp2026_server.py`) as a 2025-era backend: it
    // asks for input mid-call, so the gateway parks the call and answers `input_required`.
    let (_server, url) = python_server("legacy");
    let mut c = start_cluster(
        3,
        &Opts {
            backend: Some(format!("[[backend]]\nname = \"b\"\nurl = \"{url}\"\n")),
            ..Opts::default()
        },
    );
    let rt = runtime();
    let alice = c.token("alice");
    let mallory = c.token("mallory");
    let http = reqwest::Client::new();
    let caps = json!({"elicitation": {}});
    let ask = |id: u64| {
        modern(
            id,
            "tools/call",
            json!({"name": "ask_name", "arguments": {}}),
            caps.clone(),
        )
    };
    // One round: the request state and the key of the backend's question.
    let round = |msgs: &[Value], id: u64| {
        let round = response(msgs, id)["result"].clone();
        assert_eq!(round["resultType"], "input_required", "{round}");
        let key = round["inputRequests"]
            .as_object()
            .unwrap()
            .keys()
            .next()
            .unwrap()
            .clone();
        (round["requestState"].as_str().unwrap().to_owned(), key)
    };
    let retry = |id: u64, state: &str, key: &str| {
        let mut b = ask(id);
        b["params"]["requestState"] = json!(state);
        b["params"]["inputResponses"] =
            json!({ key: {"action": "accept", "content": {"name": "Ada"}} });
        b
    };
    let holder = rt.block_on(async {
        let (status, msgs) = post_modern(&http, &c.lb.url(), &alice, &ask(1)).await;
        assert_eq!(status, 200);
        let (state, key) = round(&msgs, 1);
        // Round robin: the retry reaches another replica, which hands it to the holder.
        let (_, msgs) = post_modern(&http, &c.lb.url(), &alice, &retry(2, &state, &key)).await;
        let done = response(&msgs, 2);
        assert_eq!(
            done["result"]["content"][0]["text"], "Hello, Ada!",
            "{done}"
        );
        // Used once: refused wherever the replay lands (handed to the holder, which refuses).
        for id in 3..=5 {
            let (_, msgs) = post_modern(&http, &c.lb.url(), &alice, &retry(id, &state, &key)).await;
            let r = response(&msgs, id);
            assert_eq!(r["error"]["code"], -32602, "{r}");
        }
        // Another principal's retry of a fresh round: refused, and the call is still there.
        let (_, msgs) = post_modern(&http, &c.lb.url(), &alice, &ask(6)).await;
        let (state, key) = round(&msgs, 6);
        let (_, msgs) = post_modern(&http, &c.lb.url(), &mallory, &retry(7, &state, &key)).await;
        assert_eq!(response(&msgs, 7)["error"]["code"], -32602, "{msgs:?}");
        let (_, msgs) = post_modern(&http, &c.lb.url(), &alice, &retry(8, &state, &key)).await;
        assert_eq!(
            response(&msgs, 8)["result"]["content"][0]["text"],
            "Hello, Ada!",
            "{msgs:?}"
        );
        // Who held the first call: the replica whose trail says it continued it.
        let handed = |c: &Cluster| {
            c.records()
                .into_iter()
                .filter(|x| {
                    x["reason"]
                        .as_str()
                        .is_some_and(|r| r.starts_with("handed to replica"))
                })
                .collect::<Vec<_>>()
        };
        eventually("the handing replica recorded it", 10, || async {
            !handed(&c).is_empty()
        })
        .await;
        let h = handed(&c);
        assert!(
            h.iter().all(|x| x["replica"] != x["extra"]["holder"]),
            "a replica never hands a request to itself: {h:?}"
        );
        h[0]["extra"]["holder"].as_str().unwrap().to_owned()
    });
    // A replica dies with a call parked in it: the retry elsewhere is refused, clearly and
    // audited (the upstream request died with the holder), and nothing else breaks.
    let _ = holder;
    let (state, key, holder) = rt.block_on(async {
        let id = 9;
        let (_, msgs) = post_modern(&http, &c.lb.url(), &alice, &ask(id)).await;
        let (state, key) = round(&msgs, id);
        // The replica that parked it: the one whose trail has the call's record.
        let parked_in = |c: &Cluster| {
            c.replicas
                .iter()
                .find(|r| {
                    r.trail()
                        .iter()
                        .any(|x| x["request_id"] == "9" && x["method"] == "tools/call")
                })
                .map(|r| r.id.clone())
        };
        eventually("the parked call is recorded", 10, || async {
            parked_in(&c).is_some()
        })
        .await;
        (state, key, parked_in(&c).unwrap())
    });
    let idx = c.replicas.iter().position(|r| r.id == holder).unwrap();
    c.replicas[idx].kill();
    rt.block_on(async {
        // HAProxy notices the dead replica; the retry reaches a live one.
        let (_, msgs) = post_modern(&http, &c.lb.url(), &alice, &retry(10, &state, &key)).await;
        let r = response(&msgs, 10);
        assert_eq!(r["error"]["code"], -32602, "{r}");
        let (_, msgs) = post_modern(&http, &c.lb.url(), &alice, &ask(11)).await;
        let (state, key) = round(&msgs, 11);
        let (_, msgs) = post_modern(&http, &c.lb.url(), &alice, &retry(12, &state, &key)).await;
        assert_eq!(
            response(&msgs, 12)["result"]["content"][0]["text"],
            "Hello, Ada!",
            "the cluster keeps serving: {msgs:?}"
        );
    });
    let unreachable = |c: &Cluster| {
        c.records().into_iter().any(|x| {
            x["reason"].as_str().is_some_and(|r| {
                r.contains(&format!(
                    "replica `{holder}` holds what this request continues"
                ))
            })
        })
    };
    rt.block_on(eventually(
        "the lost holder is recorded by the replica that tried it",
        10,
        || async { unreachable(&c) },
    ));
}
/// A task lives in the replica that relayed its creation (its upstream connection carries
/// it); its `tasks/*` reach it from any replica, and only for its creator.
#[test]
fn a_task_relayed_by_one_replica_is_reached_through_every_replica() {
    let (_server, url) = rmcp_server("dual");
    let c = start_cluster(
        3,
        &Opts {
            backend: Some(format!("[[backend]]\nname = \"b\"\nurl = \"{url}\"\n")),
            ..Opts::default()
        },
    );
    let rt = runtime();
    let alice = c.token("alice");
    let mallory = c.token("mallory");
    let http = reqwest::Client::new();
    let tasks = json!({"extensions": {"io.modelcontextprotocol/tasks": {}}});
    let on_task = |id: u64, method: &str, task: &str| {
        modern(id, method, json!({"taskId": task}), tasks.clone())
    };
    rt.block_on(async {
        let create = modern(
            1,
            "tools/call",
            json!({"name": "slow_compute", "arguments": {"seconds": 30}}),
            tasks.clone(),
        );
        let (status, msgs) = post_modern(&http, &c.lb.url(), &alice, &create).await;
        assert_eq!(status, 200, "{msgs:?}");
        let created = response(&msgs, 1)["result"].clone();
        assert_eq!(created["resultType"], "task", "{created}");
        let task = created["taskId"].as_str().unwrap().to_owned();
        // Round robin: three reads, one on each replica.
        for id in 2..=4 {
            let (_, msgs) =
                post_modern(&http, &c.lb.url(), &alice, &on_task(id, "tasks/get", &task)).await;
            let got = response(&msgs, id);
            assert_eq!(got["result"]["taskId"], task.as_str(), "{got}");
            assert_eq!(got["result"]["status"], "working", "{got}");
        }
        // Another principal, wherever it lands: the answer of an unknown task.
        for id in 5..=7 {
            let (_, msgs) = post_modern(
                &http,
                &c.lb.url(),
                &mallory,
                &on_task(id, "tasks/get", &task),
            )
            .await;
            let e = &response(&msgs, id)["error"];
            assert_eq!(e["message"], format!("unknown task `{task}`"), "{e}");
        }
        // Cancelled through whichever replica; every replica then reads it cancelled.
        let (_, msgs) = post_modern(
            &http,
            &c.lb.url(),
            &alice,
            &on_task(8, "tasks/cancel", &task),
        )
        .await;
        assert_eq!(
            response(&msgs, 8)["result"]["resultType"],
            "complete",
            "{msgs:?}"
        );
        for id in 9..=11 {
            let (_, msgs) =
                post_modern(&http, &c.lb.url(), &alice, &on_task(id, "tasks/get", &task)).await;
            assert_eq!(
                response(&msgs, id)["result"]["status"],
                "cancelled",
                "{msgs:?}"
            );
        }
    });
    // Two of the replicas handed requests to the one holding the task, and said so.
    let handed: std::collections::BTreeSet<String> = c
        .records()
        .into_iter()
        .filter(|x| {
            x["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("handed to replica"))
        })
        .map(|x| x["replica"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(handed.len(), 2, "{handed:?}");
}

#[test]
fn a_backend_state_sealed_on_one_replica_opens_once_on_any() {
    use portcullis::router::seal::{Expect, Inner, SealError, Sealer, args_digest};
    let redis = Redis::start();
    let rt = runtime();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("state.key"), hex_key()).unwrap();
        let replica = |id: &str| {
            let text = format!(
                "[listen]\naddress = \"127.0.0.1:9\"\n[auth]\nmode = \"anonymous\"\n\
                 dangerous_allow_anonymous = true\n[cluster]\nredis = {{ url = \"{}\" }}\n\
                 replica_id = \"{id}\"\nrequest_state_key = {{ file = \"state.key\" }}\n",
                redis.url()
            );
            let cfg = portcullis::config::Config::parse(&text, "t.toml", dir.path()).unwrap();
            let cluster = portcullis::gateway::cluster(&cfg).unwrap();
            let key = portcullis::cluster::request_state_key(
                cfg.cluster.as_ref().map(|c| c.get_ref()),
                &cfg.base_dir,
            )
            .unwrap();
            Sealer::new(key, Duration::from_secs(60))
                .unwrap()
                .clustered(cluster)
        };
        let (a, b, c) = (replica("a"), replica("b"), replica("c"));
        let args = args_digest(Some(&json!({"path": "/x"})));
        let expect = Expect {
            principal: "iss|alice",
            method: "tools/call",
            name: "files__read",
            args: &args,
        };
        // A 2026 backend's own state: any replica opens it, once.
        let st = a.state(
            "iss|alice",
            "files",
            "tools/call",
            "files__read",
            &args,
            Inner::Backend(Some("opaque".into())),
        );
        let token = a.seal(&st);
        let opened = b.open_shared(&token, &expect).await.unwrap();
        assert_eq!(opened.inner, Inner::Backend(Some("opaque".into())));
        assert_eq!(
            c.open_shared(&token, &expect).await,
            Err(SealError::Replayed)
        );
        assert_eq!(
            a.open_shared(&token, &expect).await,
            Err(SealError::Replayed)
        );
        // A parked call's state: only its replica continues it; elsewhere it is not used up.
        let st = a.state(
            "iss|alice",
            "",
            "tools/call",
            "files__read",
            &args,
            Inner::Parked("p1".into()),
        );
        let token = a.seal(&st);
        assert_eq!(
            b.open_shared(&token, &expect).await,
            Err(SealError::OtherReplica("a".into()))
        );
        assert!(a.open_shared(&token, &expect).await.is_ok());
        // The single-use mark lives in Redis, hashed.
        let mut conn = redis.conn().await;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("{portcullis}:once:rs:*")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(keys.len(), 2, "{keys:?}");
        // Another key (a replica not configured alike) cannot open it.
        let stranger = Sealer::new(None, Duration::from_secs(60)).unwrap();
        let st = a.state(
            "iss|alice",
            "files",
            "tools/call",
            "files__read",
            &args,
            Inner::Backend(None),
        );
        assert_eq!(stranger.open(&a.seal(&st), &expect), Err(SealError::Forged));
    });
}

/// A webhook receiver on 127.0.0.1 that accepts every delivery and keeps its body.
#[test]
fn one_drift_one_alert_and_an_approval_reaches_every_replica() {
    let (_drift, url, control_url) = common::start_drift_server();
    let (hook, bodies) = webhook_receiver();
    let locks = tempfile::tempdir().unwrap();
    let lock = locks.path().join("portcullis.lock");
    let rt = runtime();
    let http = reqwest::Client::new();
    rt.block_on(async {
        approve_current(&http, &control_url, &lock).await;
        // The backend drifts before the replicas start: each one's start-up review sees it.
        let r = http
            .post(&control_url)
            .header("content-type", "application/json")
            .body(json!({ "change": "annotation", "announce": false }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    });
    // Only r1 polls the lockfile; r2 and r3 never do (reload_secs = 0): what releases the tool
    // there is r1's notice over pub/sub.
    let c = start_cluster(
        3,
        &Opts {
            integrity: Some(format!(
                "[integrity]\nlockfile = \"{}\"\nwebhook = {{ url = \"{hook}\", retries = 0 }}\n",
                lock.display()
            )),
            integrity_of: Some(|i| format!("reload_secs = {}\n", if i == 0 { 1 } else { 0 })),
            backend: Some(format!("[[backend]]\nname = \"drift\"\nurl = \"{url}\"\n")),
            ..Opts::default()
        },
    );
    let alice = c.token("alice");
    let delete = |id: u64| {
        modern(
            id,
            "tools/call",
            json!({"name": "delete_record", "arguments": {"id": "x"}}),
            json!({}),
        )
    };
    rt.block_on(async {
        // Quarantined on every replica.
        for (i, r) in c.replicas.iter().enumerate() {
            let id = 10 + i as u64;
            let (_, msgs) = post_modern(&http, &r.url(), &alice, &delete(id)).await;
            assert_eq!(
                response(&msgs, id)["error"]["code"],
                -32031,
                "{}: {msgs:?}",
                r.id
            );
        }
        // Give every replica's claim and webhook time to land, then count.
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let alerts: Vec<Value> = c
        .records()
        .into_iter()
        .filter(|x| x["kind"] == "drift_alert")
        .collect();
    assert_eq!(
        alerts.len(),
        1,
        "one drift_alert across three trails: {alerts:?}"
    );
    assert_eq!(alerts[0]["original"], "delete_record");
    let sent = bodies.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "one webhook: {sent:?}");
    assert_eq!(sent[0]["name"], "delete_record");
    // Each replica still counts the drift it saw? No: the alert (and its metric) is raised once.
    rt.block_on(async {
        let mut raised = 0;
        for r in &c.replicas {
            let m = metrics(&http, r).await;
            raised += m
                .lines()
                .filter(|l| l.starts_with("portcullis_drift_alerts_total{"))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
                .sum::<u64>();
        }
        assert_eq!(raised, 1);

        // An operator approves the current definitions: the lockfile on disk changes.
        approve_current(&http, &control_url, &lock).await;
        for (i, r) in c.replicas.iter().enumerate() {
            let took = eventually(&format!("{} releases delete_record", r.id), 15, || async {
                let id = 100 + i as u64;
                let (_, msgs) = post_modern(&http, &r.url(), &alice, &delete(id)).await;
                response(&msgs, id).get("error").is_none()
            })
            .await;
            eprintln!("{} released the tool {took:?} after the approval", r.id);
        }
    });
    for r in &c.replicas[1..] {
        assert!(
            r.trail().iter().any(|x| x["kind"] == "pin_approval"
                && x["reason"]
                    .as_str()
                    .is_some_and(|s| s.contains("announced by replica `r1`"))),
            "{} reloaded on r1's notice",
            r.id
        );
    }
}
