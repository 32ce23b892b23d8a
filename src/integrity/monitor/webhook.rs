//! Delivery of integrity alerts to the optional webhook (`[integrity.webhook]`): never on the
//! request path, in order, each retried with backoff.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

/// Delivers alerts in order, each retried with backoff; a full queue drops (the audit trail and
/// the log still have every alert). Connects only where the SSRF guard allows.
pub(super) async fn sender(
    cfg: crate::integrity::config::WebhookConfig,
    egress: Arc<crate::egress::Egress>,
    mut rx: mpsc::Receiver<Value>,
) {
    if let Err(e) = egress.check_url(&cfg.url) {
        tracing::error!(error = %e, "integrity webhook refused by the egress policy; webhooks off");
        return;
    }
    let client = match egress
        .client_builder()
        .timeout(Duration::from_secs(cfg.timeout_secs.max(1)))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the integrity webhook client; webhooks off");
            return;
        }
    };
    while let Some(doc) = rx.recv().await {
        let mut delay = Duration::from_millis(500);
        for attempt in 0..=cfg.retries {
            match client
                .post(&cfg.url)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(doc.to_string())
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => break,
                Ok(r) => {
                    tracing::warn!(status = %r.status(), attempt, "integrity webhook refused the alert")
                }
                Err(e) => tracing::warn!(error = %e, attempt, "integrity webhook failed"),
            }
            if attempt < cfg.retries {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
}
