//! The notification outbox: a finished run carries a "notify" mark written in the same write that finished it;
//! this step stores and publishes its notifications, then clears the mark. A crash in between may publish twice,
//! never zero times.

use super::Services;
use crate::domain::Notification;
use crate::domain::error::ServiceError;
use crate::domain::run::WorkKind;
use chrono::{DateTime, Utc};

/// A failed publish is retried after this long.
const RETRY_PUBLISH_AFTER_SECS: i64 = 60;

impl Services {
    /// Publishes the notifications of every finished run still marked; returns how many were published.
    pub async fn deliver_notifications(&self, now: DateTime<Utc>) -> Result<u64, ServiceError> {
        let mut sent = 0;
        loop {
            let runs = self
                .store
                .runs_with_work(WorkKind::Notify, now, self.config.batch_size)
                .await?;
            if runs.is_empty() {
                break;
            }
            let mut progressed = false;
            for run in runs {
                let mut delivered = true;
                for n in Notification::for_finished_run(&run, now, self.config.session_url.as_ref())
                {
                    self.store.put_notification(&n).await?;
                    match self.notifier.publish(&n).await {
                        Ok(()) => sent += 1,
                        Err(e) => {
                            delivered = false;
                            tracing::warn!(run_id = %run.run_id, event = n.event.as_str(), error = %e, "publish failed; will retry");
                        }
                    }
                }
                let mut next = run.clone();
                if delivered {
                    next.work = None;
                    next.next_action_at = None;
                } else {
                    next.next_action_at =
                        Some(now + chrono::Duration::seconds(RETRY_PUBLISH_AFTER_SECS));
                }
                next.touch();
                if self.store.update_run(&next, run.version).await?.applied() {
                    progressed = true;
                }
            }
            if !progressed {
                break;
            }
        }
        Ok(sent)
    }
}
