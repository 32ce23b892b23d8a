use std::path::Path;

use prometheus_parse::{LineInfo, Scrape, Value as Sample};

use super::*;
use crate::config::Config;
use crate::edge::admin::serve_admin;
use http::header;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Parse OpenMetrics text strictly: every line must be a descriptor, a sample with a numeric
/// value, or the final `# EOF` (prometheus-parse alone skips lines it does not understand).
fn scrape(text: &str) -> Scrape {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "missing `# EOF`:\n{text}");
    for l in &lines[..lines.len() - 1] {
        let ok = match LineInfo::parse(l) {
            LineInfo::Doc { .. } | LineInfo::Type { .. } => true,
            LineInfo::Sample { value, .. } => value.parse::<f64>().is_ok(),
            _ => l.starts_with("# UNIT "),
        };
        assert!(ok, "not a valid exposition line: {l:?}\n{text}");
    }
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of the sample `metric{labels}` (exact label set), if present.
fn value(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    s.samples
        .iter()
        .find(|x| {
            x.metric == metric
                && x.labels.len() == labels.len()
                && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v))
        })
        .map(|x| match &x.value {
            Sample::Counter(v) | Sample::Gauge(v) | Sample::Untyped(v) => *v,
            other => panic!("{metric} is not a scalar: {other:?}"),
        })
}

fn record_some(m: &Metrics) {
    m.record_request("tools/call");
    m.record_request("tools/call");
    m.record_request("tools/list");
    m.record_request("made/up\"method");
    m.record_decision(Outcome::Allow);
    m.record_decision(Outcome::Allow);
    m.record_decision(Outcome::RateLimited);
    m.note_catalog("github", ["create_issue"]);
    m.observe_call("github", "create_issue", Duration::from_millis(30));
    m.observe_call("github", "create_issue", Duration::from_secs(3));
    // Not listed by the backend: counted, but never a series of its own.
    m.observe_call(
        "github",
        "file:///client/chose/this",
        Duration::from_millis(1),
    );
    m.record_upstream_error("github", UpstreamErrorKind::Timeout);
    let e = crate::upstream::UpstreamError::Protocol {
        backend: "files".into(),
        reason: "bad".into(),
    };
    m.record_upstream_error(e.backend(), (&e).into());
    m.record_rate_limited(crate::limits::names::PER_PRINCIPAL_TOOL);
    m.record_rate_limited("something else");
    m.record_drift_alert("github");
    m.session_opened();
    m.session_opened();
    m.session_opened();
    m.session_closed();
    m.record_token_exchange("github", TokenExchangeResult::Hit);
    m.record_token_exchange("github", TokenExchangeResult::Miss);
    m.record_token_exchange("github", TokenExchangeResult::Hit);
    m.set_backend_up("github", true);
    m.set_backend_up("files", false);
}

fn check_recorded(s: &Scrape) {
    let v = |m: &str, l: &[(&str, &str)]| value(s, m, l);
    assert_eq!(
        v("portcullis_requests_total", &[("method", "tools/call")]),
        Some(2.0)
    );
    assert_eq!(
        v("portcullis_requests_total", &[("method", "tools/list")]),
        Some(1.0)
    );
    assert_eq!(
        v("portcullis_requests_total", &[("method", "other")]),
        Some(1.0)
    );
    assert_eq!(
        v("portcullis_decisions_total", &[("outcome", "allow")]),
        Some(2.0)
    );
    assert_eq!(
        v("portcullis_decisions_total", &[("outcome", "rate_limited")]),
        Some(1.0)
    );
    assert_eq!(
        v("portcullis_decisions_total", &[("outcome", "deny")]),
        None
    );
    let call = [("backend", "github"), ("tool", "create_issue")];
    assert_eq!(
        v("portcullis_call_duration_seconds_count", &call),
        Some(2.0)
    );
    let sum = v("portcullis_call_duration_seconds_sum", &call).unwrap();
    assert!((sum - 3.03).abs() < 1e-9, "{sum}");
    let hist = s
        .samples
        .iter()
        .find(|x| {
            x.metric == "portcullis_call_duration_seconds"
                && call.iter().all(|(k, v)| x.labels.get(k) == Some(*v))
        })
        .expect("histogram buckets");
    let Sample::Histogram(buckets) = &hist.value else {
        panic!("not a histogram: {hist:?}")
    };
    let at = |le: f64| {
        buckets
            .iter()
            .find(|b| b.less_than == le)
            .map(|b| b.count)
            .unwrap()
    };
    assert_eq!(
        (at(0.025), at(0.05), at(2.5), at(5.0)),
        (0.0, 1.0, 1.0, 2.0)
    );
    assert_eq!(at(f64::INFINITY), 2.0);
    assert_eq!(
        v(
            "portcullis_upstream_errors_total",
            &[("backend", "github"), ("kind", "timeout")]
        ),
        Some(1.0)
    );
    assert_eq!(
        v(
            "portcullis_upstream_errors_total",
            &[("backend", "files"), ("kind", "protocol")]
        ),
        Some(1.0)
    );
    assert_eq!(
        v(
            "portcullis_rate_limited_total",
            &[("limit", "per_principal_tool")]
        ),
        Some(1.0)
    );
    assert_eq!(
        v("portcullis_rate_limited_total", &[("limit", "other")]),
        Some(1.0)
    );
    assert_eq!(
        v("portcullis_drift_alerts_total", &[("backend", "github")]),
        Some(1.0)
    );
    assert_eq!(v("portcullis_sessions", &[]), Some(2.0));
    assert_eq!(
        v(
            "portcullis_token_exchange_total",
            &[("backend", "github"), ("result", "hit")]
        ),
        Some(2.0)
    );
    assert_eq!(
        v(
            "portcullis_token_exchange_total",
            &[("backend", "github"), ("result", "miss")]
        ),
        Some(1.0)
    );
    assert_eq!(
        v("portcullis_backend_up", &[("backend", "github")]),
        Some(1.0)
    );
    assert_eq!(
        v("portcullis_backend_up", &[("backend", "files")]),
        Some(0.0)
    );
}

#[test]
fn encode_is_valid_openmetrics_with_recorded_values() {
    let m = Metrics::new();
    // Before anything is recorded: families without series are left out, still valid.
    let empty = m.encode();
    scrape(&empty);
    assert!(
        empty.contains("# TYPE portcullis_sessions gauge"),
        "{empty}"
    );
    record_some(&m);
    let text = m.encode();
    assert!(
        text.contains("# UNIT portcullis_call_duration_seconds seconds"),
        "{text}"
    );
    check_recorded(&scrape(&text));
    m.set_sessions(7);
    assert_eq!(
        value(&scrape(&m.encode()), "portcullis_sessions", &[]),
        Some(7.0)
    );
}

#[test]
fn client_chosen_values_cannot_add_series() {
    let m = Metrics::new();
    for i in 0..1000 {
        m.record_request(&format!("x/{i}"));
        m.record_rate_limited(&format!("l{i}"));
    }
    let s = scrape(&m.encode());
    assert_eq!(
        value(&s, "portcullis_requests_total", &[("method", "other")]),
        Some(1000.0)
    );
    let series = s
        .samples
        .iter()
        .filter(|x| x.metric.starts_with("portcullis_requests"))
        .count();
    assert_eq!(series, 1);
    assert_eq!(method_label("tools/call"), "tools/call");
    assert_eq!(method_label("tools/call "), "other");
}

#[test]
fn readiness_needs_every_check_and_reports_backends() {
    let r = Readiness::new(&["config", "policies", "pins"]);
    r.set("config", true);
    r.set_backend("github", true);
    r.set_backend("files", false);
    let (ready, checks) = r.snapshot();
    assert!(!ready);
    assert_eq!(
        checks,
        json!({
            "config": true, "pins": false, "policies": false,
            "backends": { "files": "down", "github": "up" }
        })
    );
    r.set("policies", true);
    r.set("pins", true);
    let (ready, _) = (r.ready_fn())();
    assert!(
        ready,
        "a backend being down does not make the gateway unready"
    );
}

#[test]
fn addresses_clash_only_on_a_shared_port() {
    let a = |s: &str| s.parse::<SocketAddr>().unwrap();
    assert!(addresses_clash(a("127.0.0.1:9090"), a("127.0.0.1:9090")));
    assert!(addresses_clash(a("0.0.0.0:9090"), a("127.0.0.1:9090")));
    assert!(addresses_clash(a("127.0.0.1:9090"), a("[::]:9090")));
    assert!(!addresses_clash(a("127.0.0.1:9090"), a("127.0.0.2:9090")));
    assert!(!addresses_clash(a("127.0.0.1:9090"), a("127.0.0.1:8443")));
    assert!(!addresses_clash(a("127.0.0.1:0"), a("127.0.0.1:0")));
}

const BASE: &str = r#"
[listen]
address = "127.0.0.1:8443"
[auth]
mode = "anonymous"
dangerous_allow_anonymous = true
"#;

fn parse(extra: &str) -> Result<Config, crate::config::ConfigError> {
    Config::parse(&format!("{BASE}{extra}"), "test.toml", Path::new("/tmp"))
}

#[test]
fn admin_config_is_optional_validated_and_warned_about() {
    let cfg = parse("").unwrap();
    assert!(cfg.admin.is_none());
    assert_eq!(cfg.admin_addr(), None);

    let cfg = parse("[admin]\naddress = \"127.0.0.1:9090\"\n").unwrap();
    assert_eq!(cfg.admin_addr(), Some("127.0.0.1:9090".parse().unwrap()));
    assert!(!cfg.warnings().iter().any(|w| w.contains("admin")));

    let err = parse("[admin]\naddress = \"127.0.0.1:8443\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("test.toml:8:"), "{err}");
    assert!(
        err.contains("key `admin.address`") && err.contains("listen.address"),
        "{err}"
    );
    let err = parse("[admin]\naddress = \"localhost:9090\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("key `admin.address`"), "{err}");
    let err = parse("[admin]\naddres = \"127.0.0.1:9090\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("addres"), "{err}");

    let cfg = parse("[admin]\naddress = \"0.0.0.0:9090\"\n").unwrap();
    assert!(
        cfg.warnings()
            .iter()
            .any(|w| w.contains("admin.address") && w.contains("not loopback")),
        "{:?}",
        cfg.warnings()
    );
}

struct Admin {
    base: String,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

async fn start_admin(metrics: Arc<Metrics>, ready: ReadyFn) -> Admin {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let access = crate::edge::admin::Access::for_address(listener.local_addr().unwrap());
    let task = tokio::spawn(serve_admin(
        listener,
        access,
        metrics,
        ready,
        shutdown.clone(),
    ));
    Admin {
        base,
        shutdown,
        task,
    }
}

#[tokio::test]
async fn admin_listener_serves_metrics_health_and_readiness() {
    let metrics = Arc::new(Metrics::new());
    let readiness = Readiness::new(&["config", "policies"]);
    readiness.set("config", true);
    let admin = start_admin(metrics.clone(), readiness.ready_fn()).await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", admin.base)).send();

    record_some(&metrics);
    let resp = get("/metrics").await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    check_recorded(&scrape(&resp.text().await.unwrap()));
    // Counters move between scrapes.
    metrics.record_request("tools/call");
    let s = scrape(&get("/metrics").await.unwrap().text().await.unwrap());
    assert_eq!(
        value(&s, "portcullis_requests_total", &[("method", "tools/call")]),
        Some(3.0)
    );

    let resp = get("/healthz").await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "ok");

    let resp = get("/readyz").await.unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(body["ready"], false);
    assert_eq!(body["checks"]["policies"], false);
    readiness.set("policies", true);
    readiness.set_backend("github", false);
    let resp = get("/readyz").await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({ "ready": true, "checks": {
            "config": true, "policies": true, "backends": { "github": "down" } } })
    );

    // Bad requests get clear answers, and the listener keeps serving.
    let resp = get("/metrics/../secret").await.unwrap();
    assert_eq!(resp.status(), 404);
    let resp = http
        .post(format!("{}/metrics", admin.base))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()[header::ALLOW], "GET, HEAD");
    let resp = http
        .head(format!("{}/healthz", admin.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut raw = tokio::net::TcpStream::connect(admin.base.trim_start_matches("http://"))
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut raw, b"NOT HTTP AT ALL\r\n\r\n")
        .await
        .unwrap();
    drop(raw);
    assert_eq!(get("/healthz").await.unwrap().status(), 200);

    admin.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), admin.task)
        .await
        .expect("admin listener stops on shutdown")
        .unwrap();
    assert!(
        get("/healthz").await.is_err(),
        "listener closed after shutdown"
    );
}

#[tokio::test]
async fn readyz_uses_the_supplied_function() {
    let ready: ReadyFn = Arc::new(|| (false, json!({ "pins": "missing" })));
    let admin = start_admin(Arc::new(Metrics::new()), ready).await;
    let resp = reqwest::get(format!("{}/readyz", admin.base))
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(
        serde_json::from_str::<Value>(&resp.text().await.unwrap()).unwrap(),
        json!({ "ready": false, "checks": { "pins": "missing" } })
    );
    admin.shutdown.cancel();
}

#[test]
fn call_labels_come_only_from_catalogs() {
    let m = Metrics::new();
    m.note_catalog("demo", ["echo", "demo://readme"]);
    m.note_templates("demo", ["demo://items/{id}"]);
    for name in ["echo", "demo://readme", "demo://items/1", "demo://items/2"] {
        m.observe_call("demo", name, Duration::from_millis(1));
    }
    // Names a client chose that no catalog lists: counted under `other`, never a series each.
    for i in 0..100 {
        m.observe_call(
            "demo",
            &format!("file:///chosen/{i}"),
            Duration::from_millis(1),
        );
    }
    let text = m.encode();
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("portcullis_call_duration_seconds_count"))
        .collect();
    assert_eq!(series.len(), 4, "{series:#?}");
    for label in ["echo", "demo://readme", "demo://items/{id}", "other"] {
        assert!(
            series
                .iter()
                .any(|l| l.contains(&format!("tool=\"{label}\""))),
            "{label} missing: {series:#?}"
        );
    }
    assert!(
        series
            .iter()
            .any(|l| l.contains("tool=\"other\"") && l.ends_with(" 100")),
        "{series:#?}"
    );
}
