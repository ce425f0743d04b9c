//! Notifiers for local mode: one that logs, one that POSTs a Slack-compatible `{"text": ...}` to a webhook, and
//! one that fans out to several.

use crate::domain::Notification;
use crate::ports::{Notifier, NotifyError};
use async_trait::async_trait;
use std::sync::Arc;

/// Writes every notification to the log.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn publish(&self, n: &Notification) -> Result<(), NotifyError> {
        tracing::info!(
            event = n.event.as_str(), owner = %n.owner, schedule_id = %n.schedule_id, run_id = %n.run_id,
            status = %n.status, session_id = ?n.session_id, "notification: {}", n.subject()
        );
        Ok(())
    }
}

/// Publishes to every inner notifier; fails if any failed (the outbox retries, so a notifier may see a
/// notification twice).
pub struct FanoutNotifier(pub Vec<Arc<dyn Notifier>>);

#[async_trait]
impl Notifier for FanoutNotifier {
    async fn publish(&self, n: &Notification) -> Result<(), NotifyError> {
        let mut failures = Vec::new();
        for notifier in &self.0 {
            if let Err(e) = notifier.publish(n).await {
                failures.push(e);
            }
        }
        match failures.len() {
            0 => Ok(()),
            // One failure keeps its cause chain; several are told together.
            1 => Err(failures.remove(0)),
            _ => Err(NotifyError::new(
                failures
                    .iter()
                    .map(|e| crate::text::error_chain(e))
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
        }
    }
}

/// POSTs `{"text": "<subject>\n<body>"}` (Slack incoming-webhook compatible) to a URL. The URL is a secret: it is
/// never logged.
#[cfg(feature = "engine-http")]
pub struct WebhookNotifier {
    client: reqwest::Client,
    url: reqwest::Url,
}

#[cfg(feature = "engine-http")]
impl WebhookNotifier {
    pub fn new(url: &str) -> Result<Self, NotifyError> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| NotifyError::caused("WEBHOOK_URL is not a valid URL", e))?;
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| NotifyError::caused("could not build HTTP client", e))?;
        Ok(Self { client, url })
    }
}

#[cfg(feature = "engine-http")]
#[async_trait]
impl Notifier for WebhookNotifier {
    async fn publish(&self, n: &Notification) -> Result<(), NotifyError> {
        let body = serde_json::json!({ "text": n.text() });
        let response = self
            .client
            .post(self.url.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| NotifyError::caused("webhook unreachable", e.without_url()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(NotifyError::new(format!(
                "webhook answered {}",
                response.status()
            )))
        }
    }
}
