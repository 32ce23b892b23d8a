//! Notices between replicas over Redis pub/sub (`{p}:events`): approvals changed on disk, a
//! session ended. A notice only makes a replica act sooner than its own poll would: approvals
//! come from the lockfile alone, and a session a replica missed the end of is found gone by its
//! next touch. After the listener (re)connects it emits [`Event::Resynced`], since notices sent
//! while it was away are lost.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::{Cluster, ClusterError};

/// One notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A replica's lockfile changed: re-read yours.
    Approvals { from: String },
    /// A session was ended (DELETE) on replica `from`: close your copy.
    SessionEnded { id: String, from: String },
    /// This replica's listener (re)connected; notices may have been missed.
    Resynced,
}

impl Event {
    /// The replica that sent it (`None` for [`Event::Resynced`], which is local).
    pub fn from(&self) -> Option<&str> {
        match self {
            Event::Approvals { from } | Event::SessionEnded { from, .. } => Some(from),
            Event::Resynced => None,
        }
    }
}

impl Cluster {
    fn channel(&self) -> String {
        self.key(&["events"])
    }

    /// Notices from other replicas (and [`Event::Resynced`]); this replica's own are not
    /// delivered back.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Send `event` to every replica.
    pub async fn publish(&self, event: &Event) -> Result<(), ClusterError> {
        let text = serde_json::to_string(event).map_err(|e| ClusterError::Reply(e.to_string()))?;
        let channel = self.channel();
        let mut conn = self.conn();
        self.exchange(false, async move {
            redis::cmd("PUBLISH")
                .arg(channel)
                .arg(text)
                .query_async::<i64>(&mut conn)
                .await
        })
        .await
        .map(|_| ())
    }
}

/// Listen on the events channel until `stop`, reconnecting after a loss.
pub(super) fn spawn_listener(cluster: &Arc<Cluster>, stop: CancellationToken) {
    let weak = Arc::downgrade(cluster);
    tokio::spawn(async move {
        loop {
            let Some(c) = weak.upgrade() else { return };
            let client = c.client.clone();
            let channel = c.channel();
            let timeout = c.timeout;
            let tx = c.events.clone();
            let me = c.replica.clone();
            drop(c);
            let connected = tokio::time::timeout(timeout, async {
                let mut ps = client.get_async_pubsub().await?;
                ps.subscribe(&channel).await?;
                Ok::<_, redis::RedisError>(ps)
            })
            .await;
            if let Ok(Ok(ps)) = connected {
                let _ = tx.send(Event::Resynced);
                let mut messages = ps.into_on_message();
                loop {
                    let msg = tokio::select! {
                        _ = stop.cancelled() => return,
                        m = messages.next() => m,
                    };
                    let Some(msg) = msg else { break };
                    let Ok(payload) = msg.get_payload::<String>() else {
                        continue;
                    };
                    match serde_json::from_str::<Event>(&payload) {
                        Ok(e) if e.from() == Some(me.as_str()) => {}
                        Ok(e) => {
                            let _ = tx.send(e);
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "ignoring an unknown cluster notice");
                        }
                    }
                }
                tracing::warn!("cluster notices: subscription lost; reconnecting");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    });
}
