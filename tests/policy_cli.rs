//! The policy author's tools on the shipped policies: `portcullis policy check` validates them
//! strictly against the schema and `portcullis policy test policies/` passes (it is what CI
//! runs); a broken policy fails `check` with its file and line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;

use common::*;

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(portcullis_bin())
        .args(args)
        .current_dir(repo_root())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn shipped_policies_validate_and_their_tests_pass() {
    let (ok, text) = run(&[
        "policy",
        "check",
        "--schema",
        "policies/portcullis.cedarschema",
        "--policies",
        "policies",
    ]);
    assert!(ok, "policy check failed:\n{text}");
    let (ok, text) = run(&["policy", "test", "policies/"]);
    assert!(ok, "policy test failed:\n{text}");
    let summary = text
        .lines()
        .rfind(|l| l.contains(" passed, "))
        .unwrap_or_default();
    assert!(summary.ends_with(" 0 failed"), "{text}");
    assert!(
        !summary.starts_with("0 passed"),
        "no policy test ran:\n{text}"
    );
}

#[test]
fn a_broken_policy_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_root().join("policies/portcullis.cedarschema"),
        dir.path().join("portcullis.cedarschema"),
    )
    .unwrap();
    std::fs::write(dir.path().join("bad.cedar"), "// first line\npermit (principal, action in Action::\"call_tool\", resource)\nwhen { resource.no_such_attribute };\n").unwrap();
    let schema = dir.path().join("portcullis.cedarschema");
    let (ok, text) = run(&[
        "policy",
        "check",
        "--schema",
        schema.to_str().unwrap(),
        "--policies",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        !ok,
        "a policy using an attribute the schema lacks must fail strict validation:\n{text}"
    );
    assert!(
        text.contains("bad.cedar:"),
        "diagnostic names the file: {text}"
    );
    assert!(
        text.contains("no_such_attribute"),
        "diagnostic names the problem: {text}"
    );
}
