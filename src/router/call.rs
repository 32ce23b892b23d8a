//! A call the router forwards (to a backend, or through a workflow), as the edge receives it.
//!
//! The call is not spawned: whoever answers the client drives it. While it runs, the messages a
//! backend relates to it (progress, logging, sampling and elicitation requests) arrive on
//! `related`; [`Call::next`] yields them in the order they were delivered and the call's
//! response last. When the response comes first (the common case) the edge answers with one
//! SSE event in a body it knows whole (one write, no task); otherwise it streams.
//!
//! A call dropped before it finished (the client went away, a workflow step timed out) is not
//! cancelled by the drop: the rest of it is spawned, so the backend's answer is still consumed
//! and the bookkeeping for it (the link's routes, the call stream) is cleaned up, as
//! when the call ran as a task of its own. Cancelling is what `notifications/cancelled` does.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;
use tokio::sync::mpsc;
use tracing::Instrument as _;

type Run = Pin<Box<dyn Future<Output = Value> + Send>>;

/// What [`Call::next`] yields.
#[derive(Debug)]
pub enum Next {
    /// A message the backend related to this call, sent while it ran.
    Related(Value),
    /// The call's response: always last.
    Response(Value),
}

pub struct Call {
    run: Option<Run>,
    /// Whether dropping the call unfinished lets the rest run (a forwarded call) or ends it (a
    /// listen stream, which lives only while the client reads it).
    finish_on_drop: bool,
    /// What dropping it unfinished means besides: for a 2026-07-28 client, closing the stream
    /// is the cancellation, which the backend must hear.
    on_abandon: Option<Box<dyn FnOnce() + Send>>,
    response: Option<Value>,
    related: mpsc::Receiver<Value>,
    /// The `rpc` span of the call, for the rest of a call that is dropped unfinished.
    span: tracing::Span,
}

impl Call {
    /// `run` must end by closing the request stream `related` receives from, so that `related`
    /// ends with the call.
    pub(super) fn new(
        run: impl Future<Output = Value> + Send + 'static,
        related: mpsc::Receiver<Value>,
    ) -> Call {
        Call {
            run: Some(Box::pin(run)),
            finish_on_drop: true,
            on_abandon: None,
            response: None,
            related,
            span: tracing::Span::current(),
        }
    }

    /// A call that ends when it is dropped: `run` is dropped with it, unfinished.
    pub(super) fn until_dropped(
        run: impl Future<Output = Value> + Send + 'static,
        related: mpsc::Receiver<Value>,
    ) -> Call {
        let mut call = Call::new(run, related);
        call.finish_on_drop = false;
        call
    }

    /// The next message for the client: related messages first, the response last, then `None`.
    pub async fn next(&mut self) -> Option<Next> {
        if let Some(run) = self.run.as_mut() {
            tokio::select! {
                biased;
                Some(m) = self.related.recv() => return Some(Next::Related(m)),
                resp = run => {
                    self.run = None;
                    self.response = Some(resp);
                }
            }
        }
        // Finished: what the backend related to the call before answering is already queued
        // (the run delivers it before it returns), and comes before the response.
        match self.related.try_recv() {
            Ok(m) => Some(Next::Related(m)),
            Err(_) => self.response.take().map(Next::Response),
        }
    }

    /// The same call, its response passed through `f` before anyone sees it (related messages
    /// pass as they come).
    pub(super) fn then_response<F, Fut>(mut self, f: F) -> Call
    where
        F: FnOnce(Value) -> Fut + Send + 'static,
        Fut: Future<Output = Value> + Send + 'static,
    {
        if let Some(run) = self.run.take() {
            self.run = Some(Box::pin(async move { f(run.await).await }));
        }
        self
    }

    /// Run `f` if the call is dropped before its response.
    pub(super) fn on_abandon(mut self, f: impl FnOnce() + Send + 'static) -> Call {
        self.on_abandon = Some(Box::new(f));
        self
    }

    /// The `rpc` span the call was made in.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if self.run.is_some() {
            if let Some(f) = self.on_abandon.take() {
                f();
            }
        }
        if let Some(run) = self.run.take()
            && self.finish_on_drop
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(run.instrument(self.span.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn a_response_with_nothing_related_comes_alone() {
        let (tx, rx) = mpsc::channel(4);
        let mut call = Call::new(
            async move {
                drop(tx);
                json!({"id": 1, "result": {}})
            },
            rx,
        );
        assert!(matches!(call.next().await, Some(Next::Response(v)) if v["id"] == 1));
        assert!(call.next().await.is_none());
    }

    #[tokio::test]
    async fn related_messages_come_in_order_before_the_response() {
        let (tx, rx) = mpsc::channel(4);
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let mut call = Call::new(
            async move {
                tx.send(json!({"method": "notifications/progress", "n": 1}))
                    .await
                    .unwrap();
                wait.await.unwrap();
                // Delivered just before the response, as `flush_inbound` does.
                tx.send(json!({"method": "notifications/progress", "n": 2}))
                    .await
                    .unwrap();
                drop(tx);
                json!({"id": 1, "result": {}})
            },
            rx,
        );
        assert!(matches!(call.next().await, Some(Next::Related(v)) if v["n"] == 1));
        go.send(()).unwrap();
        assert!(matches!(call.next().await, Some(Next::Related(v)) if v["n"] == 2));
        assert!(matches!(call.next().await, Some(Next::Response(v)) if v["id"] == 1));
        assert!(call.next().await.is_none());
    }

    #[tokio::test]
    async fn a_call_dropped_unfinished_runs_to_its_end() {
        let (_tx, rx) = mpsc::channel(4);
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let finished = Arc::new(AtomicBool::new(false));
        let f = finished.clone();
        let mut call = Call::new(
            async move {
                wait.await.unwrap();
                f.store(true, Ordering::SeqCst);
                done_tx.send(()).unwrap();
                json!({"id": 1, "result": {}})
            },
            rx,
        );
        // Started, then abandoned while waiting.
        let _ = tokio::time::timeout(std::time::Duration::from_millis(10), call.next()).await;
        drop(call);
        assert!(!finished.load(Ordering::SeqCst));
        go.send(()).unwrap();
        done_rx.await.unwrap();
        assert!(finished.load(Ordering::SeqCst));
    }
}
