//! The notification outbox: a finished run carries a "notify" mark written in the same write that finished it;
//! this step stores and publishes its notifications, then clears the mark. A crash in between may publish twice,
//! never zero times. Runs are published a bounded number at a time.

use super::Services;
use crate::ServiceError;
use crate::domain::{Notification, Run, WorkKind};
use chrono::{DateTime, Utc};
use std::time::Instant;

/// A failed publish is retried after this long.
const RETRY_PUBLISH_AFTER_SECS: i64 = 60;
/// Runs whose notifications are published at once (each publishes one to three notifications in order).
const PUBLISH_CONCURRENCY: usize = 16;

/// What one pass of the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Notifications published.
    pub sent: u64,
    /// It stopped because its deadline passed, with runs possibly left to notify.
    pub stopped_at_deadline: bool,
}

impl Services {
    /// Publishes the notifications of every finished run still marked.
    pub async fn deliver_notifications(
        &self,
        now: DateTime<Utc>,
        deadline: Option<Instant>,
    ) -> Result<Delivered, ServiceError> {
        let drained = self
            .drain(
                WorkKind::Notify,
                now,
                deadline,
                PUBLISH_CONCURRENCY,
                |run| self.notify(run, now),
            )
            .await?;
        Ok(Delivered {
            sent: drained.outcomes.iter().sum(),
            stopped_at_deadline: drained.stopped_at_deadline,
        })
    }

    /// Stores and publishes one run's notifications, then clears its mark (or, if a publish failed, sets it to
    /// retry later). Returns how many were published; `None` if someone else moved the run on first.
    async fn notify(&self, run: Run, now: DateTime<Utc>) -> Result<Option<u64>, ServiceError> {
        let mut sent = 0;
        let mut delivered = true;
        for n in Notification::for_finished_run(&run, now, self.config.session_url.as_ref()) {
            self.store.put_notification(&n).await?;
            match self.notifier.publish(&n).await {
                Ok(()) => {
                    sent += 1;
                    crate::telemetry::count(crate::telemetry::NOTIFICATIONS_PUBLISHED);
                    if n.event == crate::domain::NotificationEvent::CoverageGap {
                        crate::telemetry::count(crate::telemetry::COVERAGE_GAPS);
                    }
                }
                Err(e) => {
                    delivered = false;
                    crate::telemetry::count(crate::telemetry::NOTIFICATIONS_FAILED);
                    tracing::warn!(run_id = %run.run_id, event = n.event.as_str(), error = %e, "publish failed; will retry");
                }
            }
        }
        let mut next = run.clone();
        if delivered {
            next.notified();
        } else {
            next.notify_again(now + chrono::Duration::seconds(RETRY_PUBLISH_AFTER_SECS));
        }
        let applied = self.store.update_run(&next, run.version).await?.applied();
        Ok(applied.then_some(sent))
    }
}
