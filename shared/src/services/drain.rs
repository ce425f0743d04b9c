//! The one work loop of the background ticks: fetch the runs whose work of one kind is due, handle them (a bounded
//! number at once), and go on until nothing is left, a whole batch made no progress, or the deadline passed. The
//! dispatcher's start recovery, the status checker and the notification outbox all drain through it.

use super::Services;
use crate::ServiceError;
use crate::domain::{Run, WorkKind};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use std::future::Future;
use std::time::Instant;
use tracing::Instrument;

/// What one drain did: the outcome of every run it handled (runs lost to another writer have none), and whether
/// it stopped because of its deadline with work possibly left.
#[derive(Debug)]
pub(crate) struct Drained<T> {
    pub outcomes: Vec<T>,
    pub stopped_at_deadline: bool,
}

/// Whether `deadline` (if any) has passed.
pub(crate) fn past(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

impl Services {
    /// Drains the runs with `kind` work due at `now`, `concurrency` at a time. `handle` must move each run's work
    /// past `now` (or finish it) and answers `Ok(None)` when someone else moved the run first. A batch in which
    /// every run was lost ends the drain, so a stuck candidate cannot make it spin; a store error ends it after
    /// the batch in flight. The deadline is checked between batches: handling already begun always finishes.
    pub(crate) async fn drain<T, F, Fut>(
        &self,
        kind: WorkKind,
        now: DateTime<Utc>,
        deadline: Option<Instant>,
        concurrency: usize,
        handle: F,
    ) -> Result<Drained<T>, ServiceError>
    where
        F: Fn(Run) -> Fut,
        Fut: Future<Output = Result<Option<T>, ServiceError>>,
    {
        let mut drained = Drained {
            outcomes: Vec::new(),
            stopped_at_deadline: false,
        };
        loop {
            if past(deadline) {
                drained.stopped_at_deadline = true;
                break;
            }
            let batch = self
                .store
                .runs_with_work(kind, now, self.config.batch_size)
                .await?;
            if batch.is_empty() {
                break;
            }
            // Every log line of one run's work carries its schedule and run ids.
            let results: Vec<Result<Option<T>, ServiceError>> = futures::stream::iter(batch)
                .map(|run| {
                    let span = tracing::info_span!("run", schedule_id = %run.schedule_id, run_id = %run.run_id);
                    handle(run).instrument(span)
                })
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
            let mut progressed = false;
            let mut failure = None;
            for result in results {
                match result {
                    Ok(Some(outcome)) => {
                        progressed = true;
                        drained.outcomes.push(outcome);
                    }
                    Ok(None) => {}
                    Err(e) => failure = Some(e),
                }
            }
            if let Some(e) = failure {
                return Err(e);
            }
            if !progressed {
                break;
            }
        }
        Ok(drained)
    }
}
