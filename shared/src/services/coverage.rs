//! Coverage use cases: the ledger of a schedule (`GET .../coverage`), a backfill run over a past window, and
//! filling every open gap of the last `max_catchup` with backfill runs. Backfill runs are created in one atomic
//! write with the schedule (the ledger marks their window in progress) and started through the one start path.

use super::Services;
use crate::domain::coverage::Coverage;
use crate::domain::timing::Window;
use crate::domain::{Caller, Run};
use crate::ports::WriteOutcome;
use crate::{FieldError, ServiceError};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

/// The longest window one backfill run may look at.
pub const BACKFILL_MAX_DAYS: i64 = 31;
/// The most backfill runs one fill request creates.
pub const FILL_MAX_RUNS: usize = 20;
/// The default span of the coverage view.
pub const COVERAGE_DEFAULT_DAYS: i64 = 30;
const WRITE_RETRIES: usize = 5;

/// `POST /api/v1/schedules/{id}/backfill`: the window to look at, `[start, end)`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackfillRequest {
    #[schema(example = "2026-11-24T08:00:00Z")]
    pub start: DateTime<Utc>,
    /// Not after now; at most 31 days after `start`.
    #[schema(example = "2026-11-25T08:00:00Z")]
    pub end: DateTime<Utc>,
}

impl Services {
    /// A schedule's coverage in `[from, to)` (default: the last 30 days up to now), clipped to its life.
    pub async fn coverage(
        &self,
        caller: &Caller,
        id: &str,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Coverage, ServiceError> {
        let schedule = self.visible_schedule(caller, id).await?;
        let now = self.clock.now();
        let to = to.unwrap_or(now);
        let from = from.unwrap_or(to - Duration::days(COVERAGE_DEFAULT_DAYS));
        if from >= to {
            return Err(ServiceError::Invalid(vec![FieldError::query(
                "to",
                "range",
                "to must be after from",
            )]));
        }
        let from = from.max(schedule.created_at);
        let to = to.min(now).max(from);
        Ok(schedule.coverage.view(from, to))
    }

    /// A backfill run over `request`'s window, started at once (`trigger: backfill`).
    #[tracing::instrument(skip_all, fields(user = %caller.user, schedule_id = id))]
    pub async fn backfill(
        &self,
        caller: &Caller,
        id: &str,
        request: BackfillRequest,
    ) -> Result<Run, ServiceError> {
        let now = self.clock.now();
        let mut errors = Vec::new();
        if request.end > now {
            errors.push(FieldError::body(
                "end",
                "range",
                format!(
                    "end must not be in the future (now is {})",
                    now.to_rfc3339()
                ),
            ));
        }
        if request.start >= request.end {
            errors.push(FieldError::body(
                "start",
                "range",
                "start must be before end",
            ));
        } else if request.end - request.start > Duration::days(BACKFILL_MAX_DAYS) {
            errors.push(FieldError::body(
                "end",
                "range",
                format!("a backfill window is at most {BACKFILL_MAX_DAYS} days long"),
            ));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let window = Window::new(request.start, request.end);
        let mut runs = self
            .create_backfills(caller, id, 1, |_| vec![window])
            .await?;
        let run = runs.pop().ok_or_else(|| {
            ServiceError::Conflict(format!("schedule {id} could not be backfilled; try again"))
        })?;
        Ok(self.start_run(run).await)
    }

    /// One backfill run per open gap of the last `max_catchup` (at most [`FILL_MAX_RUNS`], each at most
    /// [`BACKFILL_MAX_DAYS`] long), started at once. 409 when there is no open gap.
    #[tracing::instrument(skip_all, fields(user = %caller.user, schedule_id = id))]
    pub async fn fill_gaps(&self, caller: &Caller, id: &str) -> Result<Vec<Run>, ServiceError> {
        let now = self.clock.now();
        let runs = self
            .create_backfills(caller, id, FILL_MAX_RUNS, |s| {
                s.coverage
                    .open_gaps(
                        (now - s.max_catchup.duration()).max(s.created_at),
                        now,
                        Duration::days(BACKFILL_MAX_DAYS),
                    )
                    .iter()
                    .rev()
                    .take(FILL_MAX_RUNS)
                    .map(|g| g.window())
                    .collect()
            })
            .await?;
        if runs.is_empty() {
            let schedule = self.visible_schedule(caller, id).await?;
            return Err(ServiceError::Conflict(format!(
                "schedule {id} has no open coverage gaps in the last {} (gaps already being filled are not counted)",
                schedule.max_catchup
            )));
        }
        let started = futures::future::join_all(runs.into_iter().map(|r| self.start_run(r))).await;
        tracing::info!(runs = started.len(), "coverage gaps being filled");
        Ok(started)
    }

    /// Creates up to `most` backfill runs for the windows `plan` picks from the schedule as read, one atomic write per
    /// run (retrying from a fresh read when someone else wrote in between).
    async fn create_backfills(
        &self,
        caller: &Caller,
        id: &str,
        most: usize,
        plan: impl Fn(&crate::domain::Schedule) -> Vec<Window>,
    ) -> Result<Vec<Run>, ServiceError> {
        let mut created = Vec::new();
        let mut conflicts = 0;
        while created.len() < most {
            let current = self.visible_schedule(caller, id).await?;
            let done: Vec<Window> = created.iter().filter_map(Run::window).collect();
            let Some(window) = plan(&current).into_iter().find(|w| !done.contains(w)) else {
                return Ok(created);
            };
            let now = self.clock.now();
            let mut schedule = current.clone();
            let run = schedule.backfill(window, now, now + self.lease(), &caller.actor())?;
            match self
                .store
                .create_run(&schedule, current.version, &run)
                .await?
            {
                WriteOutcome::Applied => {
                    tracing::info!(run_id = %run.run_id, window = %window, "backfill run created");
                    created.push(run);
                }
                WriteOutcome::Conflict => {
                    conflicts += 1;
                    if conflicts >= WRITE_RETRIES {
                        return Err(ServiceError::Conflict(format!(
                            "schedule {id} is being modified concurrently; try again"
                        )));
                    }
                }
            }
        }
        Ok(created)
    }
}
