//! What a stdio backend runs: the resolved executable, the script files it is given, and for
//! package runners (`npx`, `uvx`, …) the package and version — so that a swapped binary or a new
//! package version is caught before the child is started, not only by the tools it lists.
//!
//! The gateway's own executable (`$PORTCULLIS` in a backend `command`) is not pinned: whoever can
//! replace it controls the gateway already, and pinning it would refuse the built-in demo backend
//! after every rebuild.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::lockfile::ExecutablePin;

/// Programs that fetch and run a package named in their arguments.
const RUNNERS: &[&str] = &["npx", "pnpx", "bunx", "uvx"];
/// Programs whose first argument makes them a runner (`pnpm dlx pkg`, `pipx run pkg`).
const RUNNER_SUBCOMMANDS: &[(&str, &str)] = &[
    ("pnpm", "dlx"),
    ("yarn", "dlx"),
    ("bun", "x"),
    ("pipx", "run"),
];
/// Flags of those runners that take a value (the next argument is not the package).
const FLAGS_WITH_VALUE: &[&str] = &["--package", "-p", "--from", "--with", "--python", "--cache"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExecError {
    #[error("cannot find {0}")]
    NotFound(#[from] crate::upstream::stdio::ProgramError),
    #[error("cannot read `{path}` to pin it: {message}")]
    Read { path: String, message: String },
}

/// The package a runner command runs and its version, if the arguments name one exactly.
/// `None` when `argv` is not a package-runner command.
pub fn package_of(argv: &[String]) -> Option<(String, Option<String>)> {
    let program = argv.first().map(|p| basename(p))?;
    let mut rest = argv.get(1..).unwrap_or_default().iter();
    if !RUNNERS.contains(&program) {
        let sub = rest.next()?;
        if !RUNNER_SUBCOMMANDS
            .iter()
            .any(|(p, s)| *p == program && s == sub)
        {
            return None;
        }
    }
    let python = program == "uvx" || program == "pipx";
    let mut explicit = None;
    let mut first_positional = None;
    while let Some(arg) = rest.next() {
        if let Some((flag, value)) = arg.strip_prefix("--").and_then(|a| a.split_once('=')) {
            if flag == "package" || flag == "from" {
                explicit = Some(value.to_owned());
            }
            continue;
        }
        if FLAGS_WITH_VALUE.contains(&arg.as_str()) {
            let value = rest.next();
            if matches!(arg.as_str(), "--package" | "-p" | "--from") {
                explicit = value.cloned();
            }
            continue;
        }
        if arg.starts_with('-') {
            continue;
        }
        first_positional = Some(arg.clone());
        break;
    }
    let spec = explicit.or(first_positional)?;
    Some(split_version(&spec, python))
}

/// `name@1.2.3` (npm, also `@scope/name@1.2.3`) or `name==1.2.3` / `name@1.2.3` (Python) →
/// (name, exact version). Ranges, tags and missing versions give `None`: a floating version.
fn split_version(spec: &str, python: bool) -> (String, Option<String>) {
    if python {
        if let Some((n, v)) = spec.split_once("==") {
            return (n.to_owned(), exact(v));
        }
    }
    // The `@` of a scope (`@scope/name`) is at index 0 and is not a version separator.
    match spec.rfind('@') {
        Some(i) if i > 0 => {
            let (n, v) = spec.split_at(i);
            (n.to_owned(), exact(v.trim_start_matches('@')))
        }
        _ => (spec.to_owned(), None),
    }
}

/// A version that names one release: digits and dots with an optional pre-release/build suffix.
fn exact(v: &str) -> Option<String> {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    numeric.then(|| v.to_owned())
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Hashes of files by (path, length, mtime), so a backend started for every session does not
/// re-read a large interpreter each time.
/// A file's length and modification time, and the hash of its content then.
type Stamped = (u64, Option<SystemTime>, String);

#[derive(Default)]
pub struct HashCache {
    map: Mutex<HashMap<PathBuf, Stamped>>,
    /// Held while hashing: backends started together (the probe, a new session) wait for one
    /// read of a shared interpreter instead of each reading it.
    hashing: Mutex<()>,
}

impl HashCache {
    pub fn sha256(&self, path: &Path) -> Result<String, ExecError> {
        let read_err = |e: std::io::Error| ExecError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let meta = std::fs::metadata(path).map_err(read_err)?;
        let key = (meta.len(), meta.modified().ok());
        if let Ok(m) = self.map.lock() {
            if let Some((len, mtime, sha)) = m.get(path) {
                if (*len, *mtime) == key {
                    return Ok(sha.clone());
                }
            }
        }
        let _one = self.hashing.lock();
        if let Ok(m) = self.map.lock() {
            if let Some((len, mtime, sha)) = m.get(path) {
                if (*len, *mtime) == key {
                    return Ok(sha.clone());
                }
            }
        }
        let bytes = std::fs::read(path).map_err(read_err)?;
        let sha = hex::encode(Sha256::digest(&bytes));
        if let Ok(mut m) = self.map.lock() {
            m.insert(path.to_owned(), (key.0, key.1, sha.clone()));
        }
        Ok(sha)
    }
}

/// The pins of what `argv` runs: the resolved program (with the package and version for a
/// runner) and every argument that names an existing file (a script given to an interpreter).
/// `env` is the child's environment: a bare program name is looked up on its `PATH` only.
pub fn pins(
    argv: &[String],
    env: &[(String, String)],
    cwd: Option<&Path>,
    cache: &HashCache,
) -> Result<Vec<ExecutablePin>, ExecError> {
    let Some(program) = argv.first() else {
        return Ok(Vec::new());
    };
    let resolved = resolve(program, env, cwd)?;
    let mut out = Vec::new();
    let own = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    if own.as_deref() != Some(resolved.as_path()) {
        let (package, version) = match package_of(argv) {
            Some((p, v)) => (Some(p), v),
            None => (None, None),
        };
        out.push(ExecutablePin {
            path: resolved.display().to_string(),
            sha256: cache.sha256(&resolved)?,
            package,
            version,
        });
    }
    for arg in argv.get(1..).unwrap_or_default() {
        if arg.starts_with('-') {
            continue;
        }
        let p = match cwd {
            Some(d) if Path::new(arg).is_relative() => d.join(arg),
            _ => PathBuf::from(arg),
        };
        if p.is_file() {
            let real = p.canonicalize().unwrap_or(p);
            out.push(ExecutablePin {
                path: real.display().to_string(),
                sha256: cache.sha256(&real)?,
                package: None,
                version: None,
            });
        }
    }
    Ok(out)
}

/// The file `program` names, with symlinks resolved.
// INVARIANT: `upstream::stdio` spawns the file `resolve_program` finds; calling the same
// function here is what makes the pinned program the one that runs.
fn resolve(
    program: &str,
    env: &[(String, String)],
    cwd: Option<&Path>,
) -> Result<PathBuf, ExecError> {
    let found = crate::upstream::stdio::resolve_program(program, env, cwd)?;
    found.canonicalize().map_err(|e| ExecError::Read {
        path: found.display().to_string(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn reads_package_and_exact_version_of_runners() {
        let cases = [
            (
                "npx -y @modelcontextprotocol/server-memory@2025.11.25",
                Some(("@modelcontextprotocol/server-memory", Some("2025.11.25"))),
            ),
            (
                "npx -y @modelcontextprotocol/server-memory",
                Some(("@modelcontextprotocol/server-memory", None)),
            ),
            ("npx -y pkg@latest", Some(("pkg", None))),
            ("npx -y pkg@^1.2.0", Some(("pkg", None))),
            (
                "npx --package=tool@1.0.0 tool-bin",
                Some(("tool", Some("1.0.0"))),
            ),
            (
                "npx -p tool@2.1.0-beta.1 run",
                Some(("tool", Some("2.1.0-beta.1"))),
            ),
            (
                "uvx mcp-server-time==0.6.2",
                Some(("mcp-server-time", Some("0.6.2"))),
            ),
            (
                "uvx --from mcp-git==1.0 mcp-server-git",
                Some(("mcp-git", Some("1.0"))),
            ),
            ("uvx mcp-server-fetch", Some(("mcp-server-fetch", None))),
            ("pnpm dlx srv@3.0.1", Some(("srv", Some("3.0.1")))),
            ("pnpm install srv", None),
            ("node server.js", None),
            ("/usr/local/bin/npx -y a@1.2.3", Some(("a", Some("1.2.3")))),
        ];
        for (cmd, want) in cases {
            let got = package_of(&argv(cmd));
            let want = want.map(|(p, v)| (p.to_owned(), v.map(String::from)));
            assert_eq!(got, want, "{cmd}");
        }
    }

    fn executable(path: &Path, text: &[u8]) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn pins_the_program_and_script_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let prog = dir.path().join("prog");
        let script = dir.path().join("server.js");
        executable(&prog, b"program v1");
        std::fs::write(&script, b"script v1").unwrap();
        let cache = HashCache::default();
        let a = vec![
            prog.display().to_string(),
            "server.js".into(),
            "--flag".into(),
        ];
        let first = pins(&a, &[], Some(dir.path()), &cache).unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(
            first[1].path,
            script.canonicalize().unwrap().display().to_string()
        );
        // A changed script is a different pin; so is a changed program.
        std::fs::write(&script, b"script v2, longer").unwrap();
        let second = pins(&a, &[], Some(dir.path()), &cache).unwrap();
        assert_eq!(first[0], second[0]);
        assert_ne!(first[1].sha256, second[1].sha256);
    }

    #[test]
    fn searches_the_child_path_only_and_reports_missing_programs() {
        use crate::upstream::stdio::ProgramError;
        let dir = tempfile::tempdir().unwrap();
        executable(&dir.path().join("tool"), b"#!/bin/sh\n");
        let path = dir.path().display().to_string();
        let env = vec![("PATH".to_owned(), path.clone())];
        let cache = HashCache::default();
        let p = pins(&argv("tool"), &env, None, &cache).unwrap();
        assert!(p[0].path.ends_with("/tool"));
        assert_eq!(
            pins(&argv("no-such-program-xyz"), &env, None, &cache),
            Err(ExecError::NotFound(ProgramError::NotOnPath {
                program: "no-such-program-xyz".into(),
                path,
            }))
        );
        // Without a PATH of its own, a bare name is not looked up anywhere (`sh` is on the
        // gateway's PATH).
        assert_eq!(
            pins(&argv("sh"), &[], None, &cache),
            Err(ExecError::NotFound(ProgramError::NoPath {
                program: "sh".into()
            }))
        );
    }
}
