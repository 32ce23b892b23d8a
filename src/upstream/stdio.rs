//! stdio backends: a child process speaking newline-delimited JSON-RPC.
//!
//! The child gets exactly the environment its config names (`env_clear` first: the gateway's own
//! environment, which may hold its secrets, is never inherited), no shell (`command` is an argv,
//! executed as is: `;`, `|` or `$X` in it mean nothing), an optional working directory, and its
//! stderr goes to our logs line by line. `kill_on_drop` ties its life to the connection.
//!
//! The program is found by [`resolve_program`] before the spawn, never by the OS: a bare name
//! (`node`) only on the child's own `env.PATH` (a missing `PATH` is a config error, see
//! [`check_config`], not a silent fall-back to the gateway's `PATH` or libc's default), a path
//! with a `/` as is (relative to `cwd`). The child is started from the file found, under the
//! name the config gave (`argv[0]`), and the executable pins (`integrity::exec`) call the same
//! function, so what is pinned is what runs.
//!
//! Optional `resource_limits` are kernel rlimits set before the backend's own program runs. The
//! crate forbids `unsafe`, and `setrlimit` between fork and exec (`pre_exec`) needs it; so the
//! argv is prefixed with util-linux `prlimit --as=… -- program args…`, which sets the limits on
//! itself and then executes the program, given as the path already resolved.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, mpsc};

use super::{BackendSpec, Inbound, Pending, SpecKind, UpstreamError, parse_message};

pub(crate) struct StdioConn {
    name: String,
    pub(crate) pending: Arc<Pending>,
    /// Weak, so that the reader task dropping its sender still tells the owner we are gone.
    pub(crate) inbound: mpsc::WeakSender<Inbound>,
    writer: mpsc::Sender<Vec<u8>>,
    alive: Arc<AtomicBool>,
    /// Why the connection ended (with the child's exit status when known), once it has.
    ended: Arc<std::sync::OnceLock<String>>,
    child: Arc<Mutex<Option<Child>>>,
}

impl StdioConn {
    pub(crate) fn spawn(
        spec: &BackendSpec,
        inbound: super::InboundTx,
    ) -> Result<Self, UpstreamError> {
        let ChildIo {
            child,
            stdin,
            stdout,
            stderr,
        } = spawn_child(spec)?;
        let pending = Arc::new(Pending::default());
        let alive = Arc::new(AtomicBool::new(true));
        let (writer, mut rx) = mpsc::channel::<Vec<u8>>(64);

        let mut stdin = stdin;
        tokio::spawn(async move {
            while let Some(mut line) = rx.recv().await {
                line.push(b'\n');
                if stdin.write_all(&line).await.is_err() || stdin.flush().await.is_err() {
                    break;
                }
            }
        });

        let name = spec.name.clone();
        tokio::spawn(log_stderr(name.clone(), stderr));

        let weak_inbound = inbound.raw().downgrade();
        let reader_pending = pending.clone();
        let reader_alive = alive.clone();
        let ended = Arc::new(std::sync::OnceLock::new());
        let reader_ended = ended.clone();
        let max = spec.max_message_bytes;
        let depth = spec.max_json_depth;
        let child = Arc::new(Mutex::new(Some(child)));
        let reader_child = child.clone();
        tokio::spawn(async move {
            let mut reason = read_loop(&name, stdout, max, depth, &reader_pending, &inbound).await;
            // A backend we stopped reading from is ended, so it can neither block nor linger.
            reason = end_child(&reader_child, reason).await;
            tracing::debug!(backend = %name, %reason, "stdio backend ended");
            let _ = reader_ended.set(reason.clone());
            reader_alive.store(false, Ordering::SeqCst);
            reader_pending.fail_all(&unavailable(&name, reason));
            // Dropping `inbound` here tells the owner this connection is gone.
        });

        Ok(Self {
            name: spec.name.clone(),
            pending,
            inbound: weak_inbound,
            writer,
            alive,
            ended,
            child,
        })
    }

    pub(crate) async fn request(&self, id: u64, msg: Value) -> Result<Value, UpstreamError> {
        let rx = self.pending.insert(id);
        if let Err(e) = self.send(msg).await {
            self.pending.remove(id);
            return Err(e);
        }
        rx.await
            .unwrap_or_else(|_| Err(unavailable(&self.name, self.why_ended())))
    }

    pub(crate) async fn send(&self, msg: Value) -> Result<(), UpstreamError> {
        if !self.is_alive() {
            return Err(unavailable(&self.name, self.why_ended()));
        }
        let bytes = serde_json::to_vec(&msg)
            .map_err(|e| unavailable(&self.name, format!("cannot encode message: {e}")))?;
        self.writer
            .send(bytes)
            .await
            .map_err(|_| unavailable(&self.name, "its stdin is closed".into()))
    }

    fn why_ended(&self) -> String {
        self.ended.get().cloned().unwrap_or_else(|| EXITED.into())
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    pub(crate) async fn close(&self) {
        self.alive.store(false, Ordering::SeqCst);
        if let Some(mut child) = self.child.lock().await.take() {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), child.wait()).await;
        }
    }
}

/// A started child and its pipes.
pub(crate) struct ChildIo {
    pub(crate) child: Child,
    pub(crate) stdin: tokio::process::ChildStdin,
    pub(crate) stdout: tokio::process::ChildStdout,
    pub(crate) stderr: tokio::process::ChildStderr,
}

/// Start a stdio backend's program: the configured argv (with the `prlimit` prefix when
/// resource limits are set), only the configured environment, piped stdio, killed on drop.
/// Shared by the 2025 session connection and the 2026-07-28 stateless client.
pub(crate) fn spawn_child(spec: &BackendSpec) -> Result<ChildIo, UpstreamError> {
    let SpecKind::Stdio { argv, env, cwd } = &spec.kind else {
        return Err(unavailable(&spec.name, "not a stdio backend".into()));
    };
    let (name, args) = argv
        .split_first()
        .ok_or_else(|| unavailable(&spec.name, "empty command".into()))?;
    if let Some(dir) = cwd
        && !dir.is_dir()
    {
        // Otherwise the spawn's ENOENT reads as if the program were missing.
        return Err(unavailable(
            &spec.name,
            format!(
                "cannot start it: its working directory `{}` (`cwd`) does not exist or is not a \
                 directory",
                dir.display()
            ),
        ));
    }
    let found = resolve_program(name, env, cwd.as_deref())
        .map_err(|e| unavailable(&spec.name, format!("cannot start {e}")))?;
    let mut resolved = vec![found.display().to_string()];
    resolved.extend(args.iter().cloned());
    let argv = match &spec.resource_limits {
        Some(limits) => with_limits(resolved, limits)
            .map_err(|e| unavailable(&spec.name, format!("resource limits: {e}")))?,
        None => resolved,
    };
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| unavailable(&spec.name, "empty command".into()))?;
    let mut cmd = Command::new(program);
    if spec.resource_limits.is_none() {
        // The name the config gave, as a shell would pass it (multi-call binaries read it).
        cmd.arg0(name);
    }
    cmd.args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| unavailable(&spec.name, format!("cannot start `{program}`: {e}")))?;
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(unavailable(&spec.name, "child pipes unavailable".into()));
    };
    Ok(ChildIo {
        child,
        stdin,
        stdout,
        stderr,
    })
}

pub use crate::config::ResourceLimits;

impl ResourceLimits {
    fn options(&self) -> Vec<String> {
        let mib = |n: u64| n.saturating_mul(1024 * 1024);
        [
            self.address_space_mb.map(|n| format!("--as={}", mib(n))),
            self.cpu_secs.map(|n| format!("--cpu={n}")),
            self.open_files.map(|n| format!("--nofile={n}")),
            self.file_size_mb.map(|n| format!("--fsize={}", mib(n))),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Where util-linux installs `prlimit`; only these (never a `PATH` lookup of the gateway's).
const PRLIMIT: &[&str] = &["/usr/bin/prlimit", "/bin/prlimit"];

fn prlimit() -> Option<&'static str> {
    PRLIMIT
        .iter()
        .copied()
        .find(|p| std::path::Path::new(p).is_file())
}

/// Why `resource_limits` cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ResourceLimitError {
    /// `prlimit` is at none of [`PRLIMIT`]: install util-linux, or remove `resource_limits`.
    #[error(
        "`prlimit` (util-linux) is needed to apply them and is not at {}",
        PRLIMIT.join(" or ")
    )]
    NoPrlimit,
}

/// `argv` prefixed with `prlimit` and the limits (see the module docs).
pub(crate) fn with_limits(
    argv: Vec<String>,
    limits: &ResourceLimits,
) -> Result<Vec<String>, ResourceLimitError> {
    let options = limits.options();
    if options.is_empty() {
        return Ok(argv);
    }
    let tool = prlimit().ok_or(ResourceLimitError::NoPrlimit)?;
    let mut out = vec![tool.to_owned()];
    out.extend(options);
    out.push("--".into());
    out.extend(argv);
    Ok(out)
}

/// Config validation of stdio backends: a bare program name needs `env.PATH` (the spawn looks
/// nowhere else, see [`resolve_program`]); `resource_limits` only on stdio, non-zero, with
/// `prlimit` present. Errors point at the `command` line of the config's text.
pub fn check_config(cfg: &crate::config::Config) -> Result<(), (String, usize, String)> {
    let text = cfg.text.as_str();
    for (i, b) in cfg.backends.iter().enumerate() {
        let be = b.get_ref();
        if let Some(dir) = &be.cwd {
            let resolved = cfg.resolve_path(dir);
            if be.command.is_some() && !resolved.is_dir() {
                return Err((
                    format!("backend[{i}].cwd"),
                    key_offset(text, b.span().start, "cwd"),
                    format!(
                        "backend `{}`: the working directory `{}` does not exist or is not a \
                         directory; create it, or fix `cwd` (relative paths are relative to the \
                         config file)",
                        be.name,
                        resolved.display()
                    ),
                ));
            }
        }
        if let Some(program) = be.command.as_ref().and_then(|c| c.first()) {
            let bare = !program.contains('/') && program != "$PORTCULLIS";
            if bare && !be.env.contains_key("PATH") {
                let at = key_offset(text, b.span().start, "command");
                let e = ProgramError::NoPath {
                    program: program.clone(),
                };
                return Err((
                    format!("backend[{i}].command"),
                    at,
                    format!(
                        "backend `{}` runs {e} (e.g. `command = [\"/usr/bin/{program}\", …]` or \
                         `env = {{ PATH = \"/usr/local/bin:/usr/bin:/bin\" }}`)",
                        be.name
                    ),
                ));
            }
        }
        let Some(limits) = &be.resource_limits else {
            continue;
        };
        let fail = |message: String| {
            (
                format!("backend[{i}].resource_limits"),
                b.span().start,
                message,
            )
        };
        if be.command.is_none() {
            return Err(fail(format!(
                "backend `{}` is not a stdio backend; resource limits apply to child processes only",
                be.name
            )));
        }
        let values = [
            limits.address_space_mb,
            limits.cpu_secs,
            limits.open_files,
            limits.file_size_mb,
        ];
        if values.contains(&Some(0)) {
            return Err(fail(
                "limits must be at least 1 (leave a key out for no limit)".into(),
            ));
        }
        if values.iter().any(Option::is_some) && prlimit().is_none() {
            return Err(fail(format!(
                "`prlimit` (util-linux) is needed to apply resource limits and is not at {}; \
                 install util-linux or remove `resource_limits`",
                PRLIMIT.join(" or ")
            )));
        }
    }
    Ok(())
}

/// Why a stdio backend's program cannot be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgramError {
    #[error(
        "`{program}`: a bare program name is looked up on the backend's own `env.PATH` only (nothing \
         is inherited from the gateway), and this backend sets none; write its absolute path, or \
         set `env.PATH`"
    )]
    NoPath { program: String },
    #[error("`{program}`: not found on the backend's `env.PATH` (`{path}`)")]
    NotOnPath { program: String, path: String },
    #[error("`{program}`: no executable file at `{}`", .path.display())]
    NotExecutable { program: String, path: PathBuf },
}

/// The file a stdio backend's `program` (its `command[0]`) names, as the spawn runs it: with a
/// `/`, that path (relative to `cwd` when given); a bare name, the first executable file of
/// that name in the child's own `PATH` (from `env`; its relative entries are relative to
/// `cwd`). Never the gateway's own `PATH`.
pub fn resolve_program(
    program: &str,
    env: &[(String, String)],
    cwd: Option<&Path>,
) -> Result<PathBuf, ProgramError> {
    let under_cwd = |p: PathBuf| match cwd {
        Some(d) if p.is_relative() => d.join(p),
        _ => p,
    };
    if program.contains('/') {
        let path = under_cwd(PathBuf::from(program));
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(ProgramError::NotExecutable {
                program: program.to_owned(),
                path,
            })
        };
    }
    let Some(path) = env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v) else {
        return Err(ProgramError::NoPath {
            program: program.to_owned(),
        });
    };
    std::env::split_paths(path)
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| under_cwd(d).join(program))
        .find(|p| is_executable(p))
        .ok_or_else(|| ProgramError::NotOnPath {
            program: program.to_owned(),
            path: path.clone(),
        })
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Where `key = …` is set in the table whose header starts at `table` (the header itself when
/// the key is not found before the next header: `command` may be set inline).
fn key_offset(text: &str, table: usize, key: &str) -> usize {
    let mut at = table;
    for (i, line) in text
        .get(table..)
        .unwrap_or("")
        .split_inclusive('\n')
        .enumerate()
    {
        let t = line.trim_start();
        if i > 0 && t.starts_with('[') {
            break;
        }
        if t.strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with('='))
        {
            return at + (line.len() - t.len());
        }
        at += line.len();
    }
    table
}

/// Why a child's connection ended when its output closed (a status is added when known).
pub(crate) const EXITED: &str = "the process exited";

/// Ends the child whose connection ended for `reason`, so it can neither block nor linger, and
/// returns the reason to report: a child whose output closed has usually exited, and its exit
/// status says why (an operator otherwise sees only "the process exited").
pub(crate) async fn end_child(child: &Mutex<Option<Child>>, reason: String) -> String {
    let Some(mut c) = child.lock().await.take() else {
        return reason;
    };
    if reason == EXITED
        && let Ok(Ok(status)) =
            tokio::time::timeout(std::time::Duration::from_millis(500), c.wait()).await
    {
        return format!("{EXITED} ({status}; its stderr is in the gateway's log)");
    }
    let _ = c.start_kill();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), c.wait()).await;
    reason
}

fn unavailable(backend: &str, reason: String) -> UpstreamError {
    UpstreamError::Unavailable {
        backend: backend.to_owned(),
        reason,
    }
}

async fn read_loop(
    name: &str,
    stdout: impl AsyncRead + Unpin,
    max: usize,
    depth: usize,
    pending: &Pending,
    inbound: &super::InboundTx,
) -> String {
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        match read_bounded_line(&mut reader, &mut line, max).await {
            Ok(0) => return EXITED.into(),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(backend = name, error = %e, "stdio backend output unreadable; closing");
                return format!("its output broke the protocol ({e}); it was stopped");
            }
        }
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        match parse_message(name, trimmed, depth) {
            Ok(msg) => {
                if !pending.deliver(msg, inbound, None).await {
                    return "the session closed".into();
                }
            }
            Err(e) => {
                tracing::warn!(backend = name, error = %e, "ignoring invalid line from stdio backend");
            }
        }
    }
}

/// Read one line of at most `max` bytes. A longer line is an error: the backend is hostile or
/// broken, and buffering it whole would let it exhaust our memory.
pub(crate) async fn read_bounded_line<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    out: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<usize> {
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(out.len());
        }
        let (take, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        out.extend_from_slice(buf.get(..take).unwrap_or_default());
        r.consume(take);
        if out.len() > max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("line longer than {max} bytes"),
            ));
        }
        if done {
            return Ok(out.len());
        }
    }
}

pub(crate) async fn log_stderr(name: String, stderr: impl AsyncRead + Unpin) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match read_bounded_line(&mut reader, &mut line, 64 * 1024).await {
            Ok(0) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(line.trim_ascii_end());
                let text: String = text.chars().take(2000).collect();
                tracing::info!(backend = %name, "stderr: {text}");
            }
            // An over-long line is logged in part and skipped, never buffered whole.
            Err(_) => tracing::warn!(backend = %name, "stderr: line over 64 KiB skipped"),
        }
    }
}
