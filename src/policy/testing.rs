//! Policy tests: files of cases (a request and the expected `allow` / `deny`) run against a
//! policy engine like unit tests, and the request model `portcullis policy explain` reads.
//!
//! A test file is TOML (or JSON of the same shape) with `[[case]]` tables:
//!
//! ```toml
//! [[case]]
//! name = "eng may read the memory graph"
//! expect = "allow"
//! action = "call_tool"                       # default
//! principal = { sub = "alice", groups = ["eng"] }
//! tool = { name = "memory__read_graph", backend = "memory", pinned = true,
//!          annotations = { readOnlyHint = true } }
//! arguments = { query = "x" }
//! context = { time = "2026-03-02T10:00:00Z" }  # default: Monday 2026-01-05 12:00 UTC
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::identity::Principal;

use super::{Action, Explanation, PolicyEngine, RequestEnv, ResourceRef};

/// Issuer used when a case names none.
pub const DEFAULT_ISSUER: &str = "https://idp.example.com";
/// Monday 2026-01-05 12:00:00 UTC: the time of a case that names none.
pub const DEFAULT_TIME: &str = "2026-01-05T12:00:00Z";

#[derive(Debug, thiserror::Error)]
pub enum TestFileError {
    #[error("cannot read `{path}`: {message}")]
    Read { path: String, message: String },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: case `{case}`: {error}")]
    Case {
        path: String,
        case: String,
        error: CaseError,
    },
}

/// Why a case does not make a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error(
        "unknown action `{0}`; use call_tool, get_prompt, read_resource, subscribe_resource or complete"
    )]
    UnknownAction(String),
    #[error("time `{0}` must look like `2026-03-02T10:00:00Z` (UTC)")]
    BadTime(String),
    #[error("give exactly one of `tool`, `prompt`, `resource`")]
    Target,
    #[error("missing `expect = \"allow\"` or `\"deny\"`")]
    MissingExpect,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    case: Vec<Case>,
}

/// One request and, in a test, the expected outcome.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    #[serde(default)]
    pub name: String,
    /// `allow` or `deny`; absent in a request given to `explain`.
    pub expect: Option<Expect>,
    #[serde(default = "default_action")]
    pub action: String,
    #[serde(default)]
    pub principal: CasePrincipal,
    pub tool: Option<CaseTool>,
    pub prompt: Option<CasePrompt>,
    pub resource: Option<CaseResource>,
    pub arguments: Option<Value>,
    #[serde(default)]
    pub context: CaseContext,
}

fn default_action() -> String {
    "call_tool".into()
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasePrincipal {
    #[serde(default = "default_sub")]
    pub sub: String,
    pub iss: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub claims: Option<Value>,
}

fn default_sub() -> String {
    "alice".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseTool {
    /// Exposed name.
    pub name: String,
    pub backend: String,
    /// Default: `name` without the `<backend>__` prefix.
    pub original: Option<String>,
    /// Default false: annotations of unpinned tools are not trusted.
    #[serde(default)]
    pub pinned: bool,
    pub annotations: Option<Value>,
    /// A whole MCP tool definition (its `annotations` are used when `annotations` is absent).
    pub definition: Option<Value>,
    #[serde(default)]
    pub findings: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasePrompt {
    pub name: String,
    pub backend: String,
    pub original: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseResource {
    pub uri: String,
    pub backend: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseContext {
    /// RFC 3339 UTC time `YYYY-MM-DDTHH:MM:SSZ`.
    pub time: Option<String>,
    pub unix: Option<u64>,
    #[serde(default)]
    pub client_address: String,
    #[serde(default)]
    pub client_name: String,
    #[serde(default)]
    pub client_version: String,
    #[serde(default)]
    pub protocol_version: String,
}

/// A case resolved into engine inputs.
struct Resolved {
    principal: Principal,
    action: Action,
    definition: Value,
    env: RequestEnv,
}

fn strip_prefix(name: &str, backend: &str) -> String {
    name.strip_prefix(&format!("{backend}__"))
        .unwrap_or(name)
        .to_owned()
}

impl Case {
    fn resolve(&self) -> Result<Resolved, CaseError> {
        let action = Action::parse(&self.action)
            .ok_or_else(|| CaseError::UnknownAction(self.action.clone()))?;
        let p = &self.principal;
        let principal = Principal {
            issuer: p.iss.clone().unwrap_or_else(|| DEFAULT_ISSUER.into()),
            subject: p.sub.clone(),
            groups: p.groups.clone(),
            scopes: p.scopes.clone(),
            claims: p.claims.clone().unwrap_or_else(|| {
                json!({ "sub": p.sub, "iss": p.iss.clone().unwrap_or_else(|| DEFAULT_ISSUER.into()) })
            }),
            anonymous: false,
        };
        let now = match (&self.context.time, self.context.unix) {
            (Some(t), _) => parse_utc(t)?,
            (None, Some(u)) => UNIX_EPOCH + Duration::from_secs(u),
            (None, None) => parse_utc(DEFAULT_TIME)?,
        };
        let c = &self.context;
        let env = RequestEnv {
            now,
            client_address: c.client_address.clone(),
            client_name: c.client_name.clone(),
            client_version: c.client_version.clone(),
            protocol_version: c.protocol_version.clone(),
        };
        let definition = match &self.tool {
            Some(t) => {
                let mut d = t.definition.clone().unwrap_or_else(|| json!({}));
                if let (Some(a), Some(obj)) = (&t.annotations, d.as_object_mut()) {
                    obj.insert("annotations".into(), a.clone());
                }
                d
            }
            None => Value::Null,
        };
        let targets = [
            self.tool.is_some(),
            self.prompt.is_some(),
            self.resource.is_some(),
        ];
        if targets.iter().filter(|b| **b).count() != 1 {
            return Err(CaseError::Target);
        }
        Ok(Resolved {
            principal,
            action,
            definition,
            env,
        })
    }

    /// Run `f` with the case's engine inputs.
    fn with_request<T>(
        &self,
        f: impl FnOnce(&Principal, Action, ResourceRef<'_>, Option<&Value>, &RequestEnv) -> T,
    ) -> Result<T, CaseError> {
        let r = self.resolve()?;
        let originals;
        let resource = if let Some(t) = &self.tool {
            originals = t
                .original
                .clone()
                .unwrap_or_else(|| strip_prefix(&t.name, &t.backend));
            ResourceRef::Tool {
                exposed: &t.name,
                original: &originals,
                backend: &t.backend,
                definition: &r.definition,
                pinned: t.pinned,
                findings: &t.findings,
            }
        } else if let Some(p) = &self.prompt {
            originals = p
                .original
                .clone()
                .unwrap_or_else(|| strip_prefix(&p.name, &p.backend));
            ResourceRef::Prompt {
                exposed: &p.name,
                original: &originals,
                backend: &p.backend,
            }
        } else if let Some(res) = &self.resource {
            ResourceRef::Resource {
                uri: &res.uri,
                backend: &res.backend,
            }
        } else {
            return Err(CaseError::Target);
        };
        Ok(f(
            &r.principal,
            r.action,
            resource,
            self.arguments.as_ref(),
            &r.env,
        ))
    }

    pub fn explain(&self, engine: &PolicyEngine) -> Result<Explanation, CaseError> {
        self.with_request(|p, a, r, args, env| engine.explain(p, a, r, args, env))
    }
}

/// Parse `YYYY-MM-DDTHH:MM:SSZ` (UTC only). Written by hand: one fixed format does not justify a
/// date crate in the gateway.
pub fn parse_utc(s: &str) -> Result<SystemTime, CaseError> {
    let bad = || CaseError::BadTime(s.to_owned());
    let b = s.as_bytes();
    if b.len() != 20
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't'))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || !matches!(b.get(19), Some(b'Z' | b'z'))
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64, CaseError> {
        s.get(r)
            .filter(|t| t.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|t| t.parse().ok())
            .ok_or_else(bad)
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return Err(bad());
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    let secs = u64::try_from(secs).map_err(|_| bad())?;
    Ok(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Test files under a path: the file itself, or every `*.toml` / `*.json` below a directory.
pub fn find_test_files(path: &Path) -> Result<Vec<PathBuf>, TestFileError> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let rd = std::fs::read_dir(&dir).map_err(|e| TestFileError::Read {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("toml" | "json")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Read the cases of one test file.
pub fn load_cases(path: &Path) -> Result<Vec<Case>, TestFileError> {
    let file: TestFile = read_file(path, |text, e| {
        let line = e.span().map_or(1, |s| {
            text.get(..s.start)
                .map_or(1, |t| t.bytes().filter(|b| *b == b'\n').count() + 1)
        });
        format!("line {line}: {}", e.message().trim())
    })?;
    Ok(file.case)
}

/// Read one request (a case without `expect`) from a TOML or JSON file.
pub fn load_request(path: &Path) -> Result<Case, TestFileError> {
    read_file(path, |_, e| e.message().trim().to_owned())
}

/// Read and parse a file: JSON when its name ends in `.json`, TOML otherwise, a TOML error
/// worded by `toml_error` (from the text and the error).
fn read_file<T: serde::de::DeserializeOwned>(
    path: &Path,
    toml_error: impl FnOnce(&str, toml::de::Error) -> String,
) -> Result<T, TestFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| TestFileError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let parse_err = |message: String| TestFileError::Parse {
        path: path.display().to_string(),
        message,
    };
    if path.extension().and_then(|x| x.to_str()) == Some("json") {
        serde_json::from_str(&text).map_err(|e| parse_err(e.to_string()))
    } else {
        toml::from_str(&text).map_err(|e| parse_err(toml_error(&text, e)))
    }
}

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub file: String,
    pub name: String,
    pub passed: bool,
    /// One line: the decision and the deciding policies or errors.
    pub detail: String,
}

/// Run every case of every file against the engine.
pub fn run(engine: &PolicyEngine, files: &[PathBuf]) -> Result<Vec<CaseResult>, TestFileError> {
    let mut out = Vec::new();
    for f in files {
        let cases = load_cases(f)?;
        let file = f.display().to_string();
        for (i, c) in cases.iter().enumerate() {
            let name = if c.name.is_empty() {
                format!("#{}", i + 1)
            } else {
                c.name.clone()
            };
            let Some(expect) = c.expect else {
                return Err(TestFileError::Case {
                    path: file,
                    case: name,
                    error: CaseError::MissingExpect,
                });
            };
            let d = c
                .with_request(|p, a, r, args, env| engine.authorize(p, a, r, args, env))
                .map_err(|error| TestFileError::Case {
                    path: file.clone(),
                    case: name.clone(),
                    error,
                })?;
            let got = if d.allowed {
                Expect::Allow
            } else {
                Expect::Deny
            };
            let verdict = if d.allowed { "allow" } else { "deny" };
            let mut detail = if !d.reasons.is_empty() {
                format!("{verdict} by {}", d.reasons.join(", "))
            } else if d.allowed {
                verdict.to_owned()
            } else if d.errors.is_empty() {
                format!("{verdict} (no permit matched: default deny)")
            } else {
                format!("{verdict} (no permit matched)")
            };
            if !d.errors.is_empty() {
                detail.push_str(&format!("; errors: {}", d.errors.join("; ")));
            }
            let passed = got == expect;
            if !passed {
                detail = format!(
                    "expected {}, got {detail}",
                    if expect == Expect::Allow {
                        "allow"
                    } else {
                        "deny"
                    }
                );
            }
            out.push(CaseResult {
                file: file.clone(),
                name,
                passed,
                detail,
            });
        }
    }
    Ok(out)
}

/// Find a case by name in test files.
pub fn find_case(files: &[PathBuf], name: &str) -> Result<Option<Case>, TestFileError> {
    for f in files {
        if let Some(c) = load_cases(f)?.into_iter().find(|c| c.name == name) {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// Human-readable explanation, several lines.
pub fn render_explanation(ex: &Explanation) -> String {
    let mut s = String::new();
    let d = &ex.decision;
    s.push_str(&format!(
        "decision: {}\naction: {} ({} polic{} in scope)\n",
        if d.allowed { "ALLOW" } else { "DENY" },
        ex.action,
        ex.considered,
        if ex.considered == 1 { "y" } else { "ies" }
    ));
    let list = |s: &mut String, title: &str, items: &[super::PolicyInfo]| {
        if items.is_empty() {
            s.push_str(&format!("{title}: none\n"));
        } else {
            s.push_str(&format!("{title}:\n"));
            for p in items {
                s.push_str(&format!("  {} ({}:{})\n", p.id, p.file, p.line));
                for l in p.text.lines() {
                    s.push_str(&format!("    | {l}\n"));
                }
            }
        }
    };
    list(&mut s, "forbidding", &ex.forbids);
    list(&mut s, "permitting", &ex.permits);
    if !ex.errored.is_empty() {
        s.push_str("policies that failed to evaluate (count as not satisfied):\n");
        for (id, e) in &ex.errored {
            s.push_str(&format!("  {id}: {e}\n"));
        }
    }
    if !d.errors.is_empty() {
        s.push_str("errors:\n");
        for e in &d.errors {
            s.push_str(&format!("  {e}\n"));
        }
    }
    let why = if !ex.forbids.is_empty() {
        "a forbid policy is satisfied (forbid always wins)"
    } else if d.allowed {
        "a permit policy is satisfied and no forbid is"
    } else if !d.errors.is_empty() && ex.considered == 0 {
        "the request could not be evaluated"
    } else {
        "no permit policy is satisfied (default deny)"
    };
    s.push_str(&format!("why: {why}\n"));
    s
}
