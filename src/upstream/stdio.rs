//! stdio backends: a child process speaking newline-delimited JSON-RPC.
//!
//! The child gets exactly the environment its config names (`env_clear` first: the gateway's own
//! environment, which may hold its secrets, is never inherited), no shell, an optional working
//! directory, and its stderr goes to our logs line by line. `kill_on_drop` ties its life to the
//! connection.

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
    child: Arc<Mutex<Option<Child>>>,
}

impl StdioConn {
    pub(crate) fn spawn(
        spec: &BackendSpec,
        inbound: mpsc::Sender<Inbound>,
    ) -> Result<Self, UpstreamError> {
        let SpecKind::Stdio { argv, env, cwd } = &spec.kind else {
            return Err(unavailable(&spec.name, "not a stdio backend".into()));
        };
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| unavailable(&spec.name, "empty command".into()))?;
        let mut cmd = Command::new(program);
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

        let weak_inbound = inbound.downgrade();
        let reader_pending = pending.clone();
        let reader_alive = alive.clone();
        let max = spec.max_message_bytes;
        let depth = spec.max_json_depth;
        let child = Arc::new(Mutex::new(Some(child)));
        let reader_child = child.clone();
        tokio::spawn(async move {
            let reason = read_loop(&name, stdout, max, depth, &reader_pending, &inbound).await;
            reader_alive.store(false, Ordering::SeqCst);
            // A backend we stopped reading from is ended, so it can neither block nor linger.
            if let Some(mut c) = reader_child.lock().await.take() {
                let _ = c.start_kill();
                let _ = tokio::time::timeout(std::time::Duration::from_secs(2), c.wait()).await;
            }
            reader_pending.fail_all(&unavailable(&name, reason));
            // Dropping `inbound` here tells the owner this connection is gone.
        });

        Ok(Self {
            name: spec.name.clone(),
            pending,
            inbound: weak_inbound,
            writer,
            alive,
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
            .unwrap_or_else(|_| Err(unavailable(&self.name, "the process exited".into())))
    }

    pub(crate) async fn send(&self, msg: Value) -> Result<(), UpstreamError> {
        if !self.is_alive() {
            return Err(unavailable(&self.name, "the process exited".into()));
        }
        let bytes = serde_json::to_vec(&msg)
            .map_err(|e| unavailable(&self.name, format!("cannot encode message: {e}")))?;
        self.writer
            .send(bytes)
            .await
            .map_err(|_| unavailable(&self.name, "its stdin is closed".into()))
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
    inbound: &mpsc::Sender<Inbound>,
) -> String {
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        match read_bounded_line(&mut reader, &mut line, max).await {
            Ok(0) => return "the process exited".into(),
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
                if let Some(other) = pending.complete(msg) {
                    if inbound
                        .send(Inbound {
                            msg: other,
                            related: None,
                            flushed: None,
                        })
                        .await
                        .is_err()
                    {
                        return "the session closed".into();
                    }
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
async fn read_bounded_line<R: AsyncBufReadExt + Unpin>(
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

async fn log_stderr(name: String, stderr: impl AsyncRead + Unpin) {
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
