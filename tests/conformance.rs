//! The gateway is invisible to the official MCP conformance suite: every server scenario of
//! `@modelcontextprotocol/conformance` (0.1.16 and 0.2.0-alpha.12) passes against the rmcp
//! fixture directly and through `portcullis serve` in front of it, with the same result and the
//! same check counts per scenario. The same holds for the 2026-07-28 requirement set
//! (`scripts/conformance-2026.sh`: the 37 required scenarios, the 10 of the tasks extension and
//! the 3 pending ones) against the 2026 fixture `conformance-server-2026`.
//!
//! The suite runs through `scripts/conformance.sh`, the same entry point people use by hand, so
//! the scenario list is the suite's own. Direct and gateway runs of one version run side by
//! side; the fixture keeps its state per MCP session, so they cannot see each other. The
//! side-by-side table is printed and written to `target/conformance-table.txt` either way, and
//! a failing assertion carries it whole, so a CI log is enough to start debugging.

// Test code: a failed expectation should stop the test loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::fmt::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Suite versions installed by `scripts/install-test-deps.sh` (see `Deps`).
const VERSIONS: [&str; 2] = ["0.1.16", "0.2.0-alpha.12"];

/// One suite run takes about 20 s on an idle 2-core machine and 90 s on a busy one; this only
/// stops a hung run.
const SUITE_TIMEOUT: Duration = Duration::from_secs(300);

/// How many lines of gateway log a failure message carries.
const LOG_TAIL: usize = 60;

/// One scenario's outcome as the script reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    /// `REQ`, `EXT` or `PEND` in a 2026-07-28 run (`scripts/conformance-2026.sh`); empty else.
    class: String,
    passed: bool,
    /// The CLI's own count, e.g. `Passed: 3/3, 0 failed, 0 warnings`.
    checks: String,
    /// The script's `    - check: reason` lines for a failed scenario.
    details: Vec<String>,
}

/// One run of `scripts/conformance.sh URL VERSION`, parsed.
struct SuiteRun {
    scenarios: Vec<(String, Outcome)>,
    /// Everything the script printed, for failure messages.
    output: String,
}

impl SuiteRun {
    fn get(&self, name: &str) -> Option<&Outcome> {
        self.scenarios
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| o)
    }
}

/// Kills the script's whole process group when dropped, so a panicking or timed-out run leaves
/// no `node` behind (killing `bash` alone would orphan the scenario it is running).
struct GroupGuard(Child);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.0.id())])
                .status();
        }
        let _ = self.0.wait();
    }
}

fn run_suite(url: &str, version: &str, out_dir: &Path) -> SuiteRun {
    let out_path = out_dir.join(format!("{}-{version}.txt", url_slug(url)));
    let (status, output) = run_script(
        "scripts/conformance.sh",
        &[url, version],
        &format!("conformance {version} against {url}"),
        &out_path,
    );
    let run = parse_suite_output(&output);
    // Exit 2 is the script refusing to run (missing deps, no scenarios): never a result.
    assert!(
        status.code() == Some(0) || status.code() == Some(1),
        "conformance {version} against {url} could not run ({status}):\n{output}"
    );
    assert!(
        !run.scenarios.is_empty(),
        "conformance {version} against {url} reported no scenarios ({status}):\n{output}"
    );
    let failed = run.scenarios.iter().filter(|(_, o)| !o.passed).count();
    let summary = format!(
        "conformance: {} passed, {failed} failed",
        run.scenarios.len() - failed
    );
    assert!(
        output.lines().any(|l| l == summary),
        "the per-scenario lines do not add up to the closing line (expected {summary:?}):\n{output}"
    );
    assert_eq!(
        status.success(),
        failed == 0,
        "exit status {status} disagrees with the scenario lines:\n{output}"
    );
    run
}

/// One run of `scripts/conformance-2026.sh URL` (the 2026-07-28 requirement set), parsed. The
/// script exits non-zero only for a failed required scenario; unscored ones are counted apart.
fn run_suite_2026(url: &str, out_dir: &Path) -> SuiteRun {
    let out_path = out_dir.join(format!("{}-2026-07-28.txt", url_slug(url)));
    let label = format!("conformance 2026-07-28 against {url}");
    let (status, output) = run_script("scripts/conformance-2026.sh", &[url], &label, &out_path);
    let run = parse_suite_output(&output);
    assert!(
        status.code() == Some(0) || status.code() == Some(1),
        "{label} could not run ({status}):\n{output}"
    );
    let count = |required: bool, passed: bool| {
        run.scenarios
            .iter()
            .filter(|(_, o)| (o.class == "REQ") == required && o.passed == passed)
            .count()
    };
    assert!(
        count(true, true) + count(true, false) > 0,
        "{label} reported no required scenarios ({status}):\n{output}"
    );
    let summary = format!(
        "conformance-2026: required {} passed, {} failed; unscored {} passed, {} failed",
        count(true, true),
        count(true, false),
        count(false, true),
        count(false, false)
    );
    assert!(
        output.lines().any(|l| l == summary),
        "the per-scenario lines do not add up to the closing line (expected {summary:?}):\n{output}"
    );
    assert_eq!(
        status.success(),
        count(true, false) == 0,
        "exit status {status} disagrees with the scenario lines:\n{output}"
    );
    run
}

/// Run a conformance script from the repository root with its output in `out_path` (files, not
/// pipes: nothing can block on a reader, and a killed run keeps its output).
fn run_script(
    script: &str,
    args: &[&str],
    label: &str,
    out_path: &Path,
) -> (std::process::ExitStatus, String) {
    let out_file = std::fs::File::create(out_path).unwrap();
    let err_file = out_file.try_clone().unwrap();
    let script = repo_root().join(script);
    let child = Command::new("bash")
        .arg(&script)
        .args(args)
        .env("CONFORMANCE_SUITE", "active")
        .env_remove("CONFORMANCE_KEEP")
        .env_remove("CONFORMANCE_SCENARIOS")
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(out_file)
        .stderr(err_file)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let mut guard = GroupGuard(child);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = guard.0.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > SUITE_TIMEOUT {
            drop(guard);
            panic!(
                "{label} did not finish within {SUITE_TIMEOUT:?}; output so far:\n{}",
                std::fs::read_to_string(out_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    (status, std::fs::read_to_string(out_path).unwrap())
}

/// Scenario lines are `NAME PASS|FAIL CHECKS`; a failed one is followed by `    - id: reason`.
fn parse_suite_output(output: &str) -> SuiteRun {
    let mut scenarios: Vec<(String, Outcome)> = Vec::new();
    for line in output.lines() {
        if let Some(detail) = line.strip_prefix("    - ") {
            if let Some((_, last)) = scenarios.last_mut() {
                last.details.push(detail.to_owned());
            }
            continue;
        }
        // Headers, the summary and `failed: ...` lines have no PASS/FAIL second word.
        let Some((name, rest)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        let rest = rest.trim_start();
        let (mut status, mut checks) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        // The 2026-07-28 script has a CLASS column before the result.
        let mut class = "";
        if matches!(status, "REQ" | "EXT" | "PEND") {
            class = status;
            let more = checks.trim_start();
            (status, checks) = more.split_once(char::is_whitespace).unwrap_or((more, ""));
        }
        let passed = match status {
            "PASS" => true,
            "FAIL" => false,
            _ => continue,
        };
        let checks = checks.trim().to_owned();
        scenarios.push((
            name.to_owned(),
            Outcome {
                class: class.to_owned(),
                passed,
                checks,
                details: Vec::new(),
            },
        ));
    }
    SuiteRun {
        scenarios,
        output: output.to_owned(),
    }
}

fn url_slug(url: &str) -> String {
    url.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `PASS 3/3`, plus failures and warnings when there are any: short enough for a table.
fn cell(o: Option<&Outcome>) -> String {
    let Some(o) = o else {
        return "(missing)".into();
    };
    let status = if o.passed { "PASS" } else { "FAIL" };
    let counts: Vec<&str> = o
        .checks
        .trim_start_matches("Passed: ")
        .split(", ")
        .filter(|part| !part.starts_with("0 "))
        .collect();
    format!("{status} {}", counts.join(", "))
}

/// One version's table; returns it and whether every row passed and matched.
fn table(version: &str, direct: &SuiteRun, gateway: &SuiteRun) -> (String, bool) {
    let mut names: Vec<&str> = direct.scenarios.iter().map(|(n, _)| n.as_str()).collect();
    for (n, _) in &gateway.scenarios {
        if !names.contains(&n.as_str()) {
            names.push(n);
        }
    }
    let mut ok = true;
    let mut t = String::new();
    let _ = writeln!(t, "== conformance {version}: {} scenarios", names.len());
    if direct.scenarios.iter().all(|(_, o)| o.class.is_empty()) {
        let _ = writeln!(t, "   {:<40} {:<26} GATEWAY", "SCENARIO", "DIRECT");
    } else {
        let _ = writeln!(
            t,
            "   {:<48} {:<5} {:<26} GATEWAY",
            "SCENARIO", "CLASS", "DIRECT"
        );
    }
    for name in names {
        let (d, g) = (direct.get(name), gateway.get(name));
        let row_ok = matches!((d, g), (Some(d), Some(g))
            if d.passed && g.passed && d.checks == g.checks);
        ok &= row_ok;
        let mark = if row_ok { "  " } else { "!!" };
        let class = d.or(g).map(|o| o.class.as_str()).unwrap_or("");
        if class.is_empty() {
            let _ = writeln!(t, "{mark} {name:<40} {:<26} {}", cell(d), cell(g));
        } else {
            let _ = writeln!(
                t,
                "{mark} {name:<48} {class:<5} {:<26} {}",
                cell(d),
                cell(g)
            );
        }
        for (side, o) in [("direct", d), ("gateway", g)] {
            for detail in o.map(|o| o.details.as_slice()).unwrap_or_default() {
                let _ = writeln!(t, "      {side}: {detail}");
            }
        }
    }
    (t, ok)
}

/// The cargo target directory this test was built into (the one holding `CACHEDIR.TAG`).
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .unwrap()
        .ancestors()
        .find(|d| d.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo_root().join("target"))
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[test]
fn the_conformance_suite_sees_no_difference_through_the_gateway() {
    let started = Instant::now();
    // Panics when node or a suite version is missing: this test never skips.
    let _deps = deps();

    let (mut fixture, direct_url) = start_conformance_server();
    let config = format!(
        "{ANON}\n[naming]\nstrategy = \"priority\"\n\n[[backend]]\nname = \"conformance\"\nurl = \"{direct_url}\"\n"
    );
    let mut gw = start_gateway(&config);
    let out_dir = tempfile::tempdir().unwrap();
    let mut timings = format!("setup {:.1} s", started.elapsed().as_secs_f64());

    let mut report = String::new();
    let mut all_ok = true;
    for version in VERSIONS {
        let suite_started = Instant::now();
        let (direct, gateway) = std::thread::scope(|s| {
            let direct = s.spawn(|| run_suite(&direct_url, version, out_dir.path()));
            let gateway = s.spawn(|| run_suite(&gw.url, version, out_dir.path()));
            (direct.join(), gateway.join())
        });
        // A panic inside a run (timeout, unparseable output) already says what went wrong.
        let (direct, gateway) = match (direct, gateway) {
            (Ok(d), Ok(g)) => (d, g),
            (d, g) => std::panic::resume_unwind(d.err().or(g.err()).unwrap()),
        };
        let _ = write!(
            timings,
            ", {version} {:.1} s",
            suite_started.elapsed().as_secs_f64()
        );
        let (t, ok) = table(version, &direct, &gateway);
        all_ok &= ok;
        report.push_str(&t);
        report.push('\n');
        if !ok {
            let _ = write!(
                report,
                "-- direct output ({direct_url}):\n{}\n-- gateway output ({}):\n{}\n",
                direct.output, gw.url, gateway.output
            );
        }
    }
    let _ = writeln!(
        report,
        "direct {direct_url} | gateway {} | wall time {:.1} s ({timings})",
        gw.url,
        started.elapsed().as_secs_f64()
    );

    println!("{report}");
    let table_path = target_dir().join("conformance-table.txt");
    std::fs::write(&table_path, &report)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", table_path.display()));

    assert!(
        fixture.is_running(),
        "the conformance fixture died:\n{}",
        fixture.stderr()
    );
    assert!(
        gw.proc.is_running(),
        "the gateway died during the suite:\n{}",
        tail(&gw.proc.stderr(), LOG_TAIL)
    );
    assert!(
        all_ok,
        "the conformance suite saw a difference through the gateway (rows marked !!; table also \
         in {}):\n{report}\n-- gateway log (last {LOG_TAIL} lines):\n{}",
        table_path.display(),
        tail(&gw.proc.stderr(), LOG_TAIL)
    );
}

/// The 2026 fixture in `protocol` on a free port; returns it and its MCP URL.
fn start_conformance_server_2026(protocol: &str) -> (Proc, String) {
    let exe = conformance_server_bin().with_file_name("conformance-server-2026");
    let mut cmd = Command::new(exe);
    cmd.args(["--port", "0", "--protocol", protocol]);
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("listening on", Duration::from_secs(30));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    (proc, url)
}

/// The 2026-07-28 requirement set (required, tasks extension and pending scenarios) against the
/// 2026-only fixture directly and through the gateway: every scenario passes on both sides with
/// the same check counts. Two fixture processes, so the direct run's notifications (list
/// changes a tool triggers, listen streams) cannot reach the gateway's run, which runs beside it.
#[test]
fn the_2026_conformance_suite_sees_no_difference_through_the_gateway() {
    let started = Instant::now();
    let _deps = deps();
    let (mut direct_fixture, direct_url) = start_conformance_server_2026("2026-07-28");
    let (mut behind, behind_url) = start_conformance_server_2026("2026-07-28");
    let config = format!(
        "{ANON}\n[naming]\nstrategy = \"priority\"\n\n[[backend]]\nname = \"conformance\"\nurl = \"{behind_url}\"\n"
    );
    let mut gw = start_gateway(&config);
    let out_dir = tempfile::tempdir().unwrap();
    let setup = started.elapsed().as_secs_f64();

    let (direct, gateway) = std::thread::scope(|s| {
        let direct = s.spawn(|| run_suite_2026(&direct_url, out_dir.path()));
        let gateway = s.spawn(|| run_suite_2026(&gw.url, out_dir.path()));
        (direct.join(), gateway.join())
    });
    let (direct, gateway) = match (direct, gateway) {
        (Ok(d), Ok(g)) => (d, g),
        (d, g) => std::panic::resume_unwind(d.err().or(g.err()).unwrap()),
    };
    let (mut report, ok) = table("2026-07-28", &direct, &gateway);
    if !ok {
        let _ = write!(
            report,
            "-- direct output ({direct_url}):\n{}\n-- gateway output ({}):\n{}\n",
            direct.output, gw.url, gateway.output
        );
    }
    let _ = writeln!(
        report,
        "direct {direct_url} | gateway {} in front of {behind_url} | wall time {:.1} s (setup {setup:.1} s)",
        gw.url,
        started.elapsed().as_secs_f64()
    );
    println!("{report}");
    let table_path = target_dir().join("conformance-2026-table.txt");
    std::fs::write(&table_path, &report)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", table_path.display()));

    for (what, proc) in [("direct", &mut direct_fixture), ("gateway's", &mut behind)] {
        assert!(
            proc.is_running(),
            "the {what} 2026 fixture died:\n{}",
            proc.stderr()
        );
    }
    assert!(
        gw.proc.is_running(),
        "the gateway died during the suite:\n{}",
        tail(&gw.proc.stderr(), LOG_TAIL)
    );
    // The set is the suite's own; a run that lost scenarios on both sides would still "match".
    let classes = |c: &str| {
        gateway
            .scenarios
            .iter()
            .filter(|(_, o)| o.class == c)
            .count()
    };
    assert_eq!(
        (classes("REQ"), classes("EXT"), classes("PEND")),
        (37, 10, 3),
        "the 2026-07-28 requirement set changed:\n{report}"
    );
    assert!(
        ok,
        "the 2026 conformance suite saw a difference through the gateway (rows marked !!; table \
         also in {}):\n{report}\n-- gateway log (last {LOG_TAIL} lines):\n{}",
        table_path.display(),
        tail(&gw.proc.stderr(), LOG_TAIL)
    );
}

/// The parser reads the 2026 script's CLASS column.
#[test]
fn the_2026_lines_are_read_with_their_class() {
    let run = parse_suite_output(
        "== conformance 0.2.0-alpha.12, requirements 2026-07-28 (2 server scenarios) against http://a/mcp
SCENARIO                                         CLASS RESULT CHECKS
caching                                          REQ   PASS   Passed: 8/8, 0 failed, 0 warnings
tasks-lifecycle                                  EXT   FAIL   Passed: 1/9, 8 failed, 0 warnings
    - FAILURE tasks-lifecycle-create: no task

conformance-2026: required 1 passed, 0 failed; unscored 0 passed, 1 failed
",
    );
    assert_eq!(run.scenarios.len(), 2);
    let (name, o) = &run.scenarios[1];
    assert_eq!(name, "tasks-lifecycle");
    assert_eq!(o.class, "EXT");
    assert!(!o.passed);
    assert_eq!(o.checks, "Passed: 1/9, 8 failed, 0 warnings");
    assert_eq!(o.details, ["FAILURE tasks-lifecycle-create: no task"]);
    let (t, ok) = table("2026-07-28", &run, &run);
    assert!(!ok, "{t}");
    assert!(t.contains("!! tasks-lifecycle"), "{t}");
    assert!(t.contains("   caching"), "{t}");
}

/// The report parser and table on the script's real output for a failed scenario (captured from
/// the gateway before its progress-ordering fix), so a failure shows up as a marked row with the
/// suite's reason under it.
#[test]
fn a_failed_scenario_is_marked_with_its_reason() {
    let direct = parse_suite_output(
        "== conformance 0.2.0-alpha.12 (active suite, 2 server scenarios) against http://a/mcp
SCENARIO                                 RESULT CHECKS
ping                                     PASS   Passed: 2/2, 0 failed, 0 warnings
tools-call-with-progress                 PASS   Passed: 2/2, 0 failed, 0 warnings

conformance: 2 passed, 0 failed
",
    );
    let gateway = parse_suite_output(
        "== conformance 0.2.0-alpha.12 (active suite, 2 server scenarios) against http://b/mcp
SCENARIO                                 RESULT CHECKS
ping                                     PASS   Passed: 2/2, 0 failed, 0 warnings
tools-call-with-progress                 FAIL   Passed: 1/2, 1 failed, 0 warnings
    - tools-call-with-progress: Expected at least 3 progress notifications, got 2

failed: 0.2.0-alpha.12/tools-call-with-progress
conformance: 1 passed, 1 failed
",
    );
    assert_eq!(gateway.scenarios.len(), 2);
    let (t, ok) = table("0.2.0-alpha.12", &direct, &gateway);
    assert!(!ok, "{t}");
    assert!(t.contains("   ping "), "{t}");
    assert!(
        t.contains("!! tools-call-with-progress                 PASS 2/2                   FAIL 1/2, 1 failed"),
        "{t}"
    );
    assert!(
        t.contains(
            "gateway: tools-call-with-progress: Expected at least 3 progress notifications, got 2"
        ),
        "{t}"
    );
}
