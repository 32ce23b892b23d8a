//! The demo's transport: newline-delimited JSON-RPC over any byte streams (stdio in
//! production, in-memory pipes in tests), bounded lines, one writer task, and `slow` calls
//! run on their own tasks so a later `notifications/cancelled` can stop them.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt,
};
use tokio::sync::{mpsc, oneshot};

use super::tools::text_result;
use super::{DemoError, PARSE_ERROR, Server, SlowJob, error_response, reply, success_response};

/// A line longer than this is answered with a parse error and skipped, so a runaway client cannot
/// make the demo buffer without bound.
const MAX_LINE_BYTES: u64 = 4 * 1024 * 1024;
/// How many progress notifications `slow` sends over its sleep.
pub(super) const SLOW_STEPS: u64 = 10;

/// Runs one `slow` call: sleeps in [`SLOW_STEPS`] slices, reporting progress after each, and
/// sends the response unless cancelled first (MCP says a cancelled request gets no response).
async fn run_slow(
    job: SlowJob,
    out: mpsc::UnboundedSender<Value>,
    mut cancel: oneshot::Receiver<()>,
) {
    let steps = if job.ms == 0 { 0 } else { SLOW_STEPS };
    for step in 1..=steps {
        let slice =
            Duration::from_millis(job.ms / SLOW_STEPS + u64::from(step <= job.ms % SLOW_STEPS));
        tokio::select! {
            // Either an explicit cancel or the transport shutting down (sender dropped).
            _ = &mut cancel => {
                tracing::debug!(id = %job.id, "slow call cancelled");
                return;
            }
            () = tokio::time::sleep(slice) => {}
        }
        if let Some(token) = &job.progress_token {
            let note = json!({
                "jsonrpc": "2.0",
                "method": "notifications/progress",
                "params": {
                    "progressToken": token,
                    "progress": step,
                    "total": SLOW_STEPS,
                    "message": format!("slept {step}/{SLOW_STEPS} of {} ms", job.ms),
                },
            });
            if out.send(note).is_err() {
                return;
            }
        }
    }
    let result = text_result(format!("slept {} ms", job.ms));
    // The receiver is gone only when the transport is shutting down; nothing left to do then.
    let _ = out.send(success_response(job.id, result));
}

/// Reads one line of at most [`MAX_LINE_BYTES`], without the newline. `Ok(None)` at end of
/// input; `Ok(Some(Err(())))` for a line that was too long (already skipped).
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Result<(), ()>>> {
    buf.clear();
    let n = (&mut *reader)
        .take(MAX_LINE_BYTES + 1)
        .read_until(b'\n', buf)
        .await?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        return Ok(Some(Ok(())));
    }
    if (n as u64) <= MAX_LINE_BYTES {
        // Last line without a trailing newline.
        return Ok(Some(Ok(())));
    }
    // Too long: discard up to and including the next newline.
    let mut skip = Vec::new();
    loop {
        skip.clear();
        let m = (&mut *reader)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut skip)
            .await?;
        if m == 0 || skip.last() == Some(&b'\n') {
            break;
        }
    }
    buf.clear();
    Ok(Some(Err(())))
}

async fn write_loop<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut rx: mpsc::UnboundedReceiver<Value>,
) -> std::io::Result<()> {
    while let Some(msg) = rx.recv().await {
        let mut line = serde_json::to_vec(&msg).map_err(std::io::Error::other)?;
        line.push(b'\n');
        writer.write_all(&line).await?;
        writer.flush().await?;
    }
    Ok(())
}

/// Serves MCP over any byte streams: stdio in production, in-memory pipes in tests. Returns when
/// the input ends (the client closed it) or the output breaks.
pub async fn serve<R, W>(reader: R, writer: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out, rx) = mpsc::unbounded_channel::<Value>();
    let writer_task = tokio::spawn(write_loop(writer, rx));
    let mut reader = tokio::io::BufReader::new(reader);
    let mut server = Server::new();
    // Keyed by the request id's JSON text, so `1` and `"1"` stay distinct.
    let mut in_flight: HashMap<String, oneshot::Sender<()>> = HashMap::new();
    let mut buf = Vec::new();

    let read_result = loop {
        let line = match read_line(&mut reader, &mut buf).await {
            Ok(Some(line)) => line,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        let outcome = match line {
            Err(()) => {
                tracing::warn!("input line longer than {MAX_LINE_BYTES} bytes skipped");
                reply(error_response(
                    Value::Null,
                    PARSE_ERROR,
                    "parse error: line too long",
                    None,
                ))
            }
            Ok(()) if buf.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(()) => match serde_json::from_slice::<Value>(&buf) {
                Ok(msg) => server.handle_message(&msg),
                Err(e) => {
                    tracing::warn!(error = %e, "malformed JSON on input");
                    reply(error_response(
                        Value::Null,
                        PARSE_ERROR,
                        &format!("parse error: {e}"),
                        None,
                    ))
                }
            },
        };
        if let Some(tx) = outcome
            .cancel
            .and_then(|id| in_flight.remove(&id.to_string()))
        {
            let _ = tx.send(());
        }
        let mut sent = outcome
            .notifications
            .into_iter()
            .all(|n| out.send(n).is_ok());
        if let Some(response) = outcome.reply {
            sent &= out.send(response).is_ok();
        }
        if let Some(job) = outcome.job {
            in_flight.retain(|_, tx| !tx.is_closed());
            match in_flight.entry(job.id.to_string()) {
                Entry::Occupied(entry) => {
                    let err = DemoError::InvalidRequest(format!(
                        "request id {} is already in flight",
                        entry.key()
                    ));
                    sent &= out.send(err.into_response(job.id)).is_ok();
                }
                Entry::Vacant(entry) => {
                    let (tx, rx) = oneshot::channel();
                    entry.insert(tx);
                    tokio::spawn(run_slow(job, out.clone(), rx));
                }
            }
        }
        if !sent {
            // The writer stopped, so stdout is gone; its own error is reported below.
            break Ok(());
        }
    };

    // Input closed: abandon running jobs (dropping their senders cancels them) and let the
    // writer drain what is queued.
    in_flight.clear();
    drop(out);
    let write_result = match writer_task.await {
        Ok(result) => result,
        Err(e) => Err(std::io::Error::other(e)),
    };
    read_result.and(write_result)
}

/// Serves MCP on this process's stdin and stdout until stdin closes.
pub async fn run_stdio() -> std::io::Result<()> {
    tracing::info!("demo MCP server running on stdio");
    serve(tokio::io::stdin(), tokio::io::stdout()).await
}
