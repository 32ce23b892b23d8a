#![allow(clippy::unwrap_used)]

use super::*;
use crate::config::Config;

fn config(cluster: &str) -> Config {
    let text = format!(
        "[listen]\naddress = \"127.0.0.1:8443\"\n[auth]\nmode = \"anonymous\"\ndangerous_allow_anonymous = true\n{cluster}"
    );
    Config::parse(&text, "test.toml", std::path::Path::new(".")).unwrap()
}

#[test]
fn digests_are_short_and_stable() {
    assert_eq!(digest("iss|alice").len(), 32);
    assert_eq!(digest("iss|alice"), digest("iss|alice"));
    assert_ne!(digest("iss|alice"), digest("iss|bob"));
}

#[tokio::test]
async fn a_default_replica_id_names_the_port() {
    let cfg = config("[cluster]\nredis = { url = \"redis://127.0.0.1:1\" }\n");
    let c = Cluster::from_config(
        cfg.cluster.as_ref().map(|c| c.get_ref()),
        cfg.listen_addr().port(),
        &cfg.base_dir,
    )
    .unwrap()
    .unwrap();
    assert!(c.replica().ends_with(":8443"), "{}", c.replica());
    assert!(valid_replica_id(c.replica()));
    assert_eq!(c.key(&["rl", "x"]), "{portcullis}:rl:x");
}

#[test]
fn bad_cluster_settings_name_their_key() {
    for (section, key) in [
        ("redis = { url = \"http://x\" }", "cluster.redis.url"),
        ("redis = { url = \"redis://:pw@x\" }", "cluster.redis.url"),
        (
            "redis = { url = \"redis://x\", ca = \"ca.pem\" }",
            "cluster.redis.ca",
        ),
        (
            "redis = { url = \"redis://x\" }\nreplica_id = \"a b\"",
            "cluster.replica_id",
        ),
        (
            "redis = { url = \"redis://x\" }\ntimeout_ms = 0",
            "cluster.timeout_ms",
        ),
    ] {
        let text = format!(
            "[listen]\naddress = \"127.0.0.1:8443\"\n[auth]\nmode = \"anonymous\"\ndangerous_allow_anonymous = true\n[cluster]\n{section}\n"
        );
        let e = Config::parse(&text, "t.toml", std::path::Path::new(".")).unwrap_err();
        assert!(
            e.to_string().contains(&format!("key `{key}`")),
            "{section}: {e}"
        );
    }
    let text = "[listen]\naddress = \"127.0.0.1:8443\"\n[auth]\nmode = \"anonymous\"\ndangerous_allow_anonymous = true\n[cluster]\nredis = { url = \"redis://x\", password = \"hunter2\" }\n";
    let e = Config::parse(text, "t.toml", std::path::Path::new(".")).unwrap_err();
    assert!(e.to_string().contains("secret reference"), "{e}");
}

#[test]
fn the_request_state_key_is_64_hex_digits() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    std::fs::write(&good, format!("{}\n", "ab".repeat(32))).unwrap();
    let bad = dir.path().join("bad");
    std::fs::write(&bad, "not-hex").unwrap();
    let with = |p: &std::path::Path| {
        config(&format!(
            "[cluster]\nredis = {{ url = \"redis://127.0.0.1:1\" }}\nrequest_state_key = {{ file = \"{}\" }}\n",
            p.display()
        ))
    };
    let key =
        |cfg: &Config| request_state_key(cfg.cluster.as_ref().map(|c| c.get_ref()), &cfg.base_dir);
    assert_eq!(key(&with(&good)).unwrap(), Some([0xab; 32]));
    let e = key(&with(&bad)).unwrap_err();
    assert!(e.to_string().contains("64 hex digits"), "{e}");
    assert_eq!(key(&config("")).unwrap(), None);
}

#[test]
fn weaker_choices_are_warned_about() {
    let cfg = config(
        "[cluster]\nredis = { url = \"redis://redis.internal:6379\" }\non_redis_unavailable = \"local\"\n",
    );
    let w = cfg.warnings().join("\n");
    assert!(w.contains("N times each quota"), "{w}");
    assert!(w.contains("plaintext"), "{w}");
    assert!(w.contains("request_state_key"), "{w}");
}

#[test]
fn plaintext_redis_on_loopback_is_not_warned_about() {
    // `redis:` URLs keep an opaque host, so an IP literal must be read as one.
    for url in [
        "redis://127.0.0.1:6379/0",
        "redis://[::1]:6379",
        "redis://localhost:6379",
    ] {
        let cfg = config(&format!("[cluster]\nredis = {{ url = \"{url}\" }}\n"));
        let w = cfg.warnings().join("\n");
        assert!(!w.contains("plaintext"), "{url}: {w}");
    }
    let cfg = config("[cluster]\nredis = { url = \"redis://10.0.0.5:6379\" }\n");
    assert!(cfg.warnings().join("\n").contains("plaintext"));
}
