//! A run: one investigation started for one schedule occurrence (or by "run now"), from claim to outcome.

use crate::domain::ids::{RunId, ScheduleId};
use crate::domain::schedule::Schedule;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Scheduled,
    Manual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Claimed; the engine has not yet confirmed the start.
    Pending,
    Running,
    Completed,
    Failed,
    /// A scheduled occurrence that came while an earlier run was still in flight. Not a failure.
    Skipped,
}

impl RunStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Skipped)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunErrorKind {
    /// The engine could not be reached or kept failing (5xx, timeouts, refused connections).
    EngineUnavailable,
    /// The engine refused the request for good (400/401/403/404/422).
    EngineRejected,
    /// Still running past the run timeout.
    TimedOut,
    /// The engine ran the investigation and reported that it failed.
    InvestigationFailed,
    /// The engine answered something we could not understand.
    InvalidResponse,
}

impl RunErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EngineUnavailable => "engine_unavailable",
            Self::EngineRejected => "engine_rejected",
            Self::TimedOut => "timed_out",
            Self::InvestigationFailed => "investigation_failed",
            Self::InvalidResponse => "invalid_response",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunError {
    pub kind: RunErrorKind,
    pub message: String,
}

/// What a run still needs from the background ticks. A run has at most one at a time; the store indexes runs by
/// `(work, next_action_at)` so the ticks never scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkKind {
    /// `pending`: start (or re-start) it on the engine.
    Start,
    /// `running`: ask the engine for its status.
    Poll,
    /// Finished and its notifications not yet published.
    Notify,
}

impl WorkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Poll => "poll",
            Self::Notify => "notify",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub run_id: RunId,
    pub schedule_id: ScheduleId,
    pub owner: String,
    /// Copied from the schedule when the run is created, for notifications and lists.
    pub schedule_name: String,
    pub trigger: Trigger,
    /// The occurrence this run is for (manual runs: the request time).
    pub scheduled_for: DateTime<Utc>,
    pub status: RunStatus,
    #[serde(default)]
    pub session_id: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub duration_ms: Option<i64>,
    #[serde(default)]
    pub error: Option<RunError>,
    #[serde(default)]
    pub summary: Option<String>,
    /// The query and persona as they were when the run was claimed (an edit does not change a claimed run).
    pub user_query: String,
    pub persona: String,
    /// Start attempts that failed transiently.
    #[serde(default)]
    pub attempts: u32,
    /// The background work this run still needs, and from when.
    #[serde(default)]
    pub work: Option<WorkKind>,
    #[serde(default)]
    pub next_action_at: Option<DateTime<Utc>>,
    /// Set when finishing this run disabled its schedule, so the outbox also sends `schedule-disabled`.
    #[serde(default)]
    pub disabled_schedule: bool,
    pub version: u64,
}

impl Run {
    /// A new run of `schedule` waiting to be started: `pending`, reserved for its creator until `lease_until`
    /// (after that, any dispatcher tick may start it, with the same idempotency key).
    pub fn pending(
        schedule: &Schedule,
        run_id: RunId,
        trigger: Trigger,
        scheduled_for: DateTime<Utc>,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Self {
        Self {
            run_id,
            schedule_id: schedule.id.clone(),
            owner: schedule.owner.clone(),
            schedule_name: schedule.name.clone(),
            trigger,
            scheduled_for,
            status: RunStatus::Pending,
            session_id: None,
            created_at: now,
            started_at: None,
            finished_at: None,
            duration_ms: None,
            error: None,
            summary: None,
            user_query: schedule.user_query.clone(),
            persona: schedule.persona.clone(),
            attempts: 0,
            work: Some(WorkKind::Start),
            next_action_at: Some(lease_until),
            disabled_schedule: false,
            version: 1,
        }
    }

    /// A scheduled occurrence that is not run because an earlier run is still in flight. Terminal at once; not a
    /// failure; no notification.
    pub fn skipped(
        schedule: &Schedule,
        run_id: RunId,
        scheduled_for: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut run = Self::pending(
            schedule,
            run_id,
            Trigger::Scheduled,
            scheduled_for,
            now,
            now,
        );
        run.status = RunStatus::Skipped;
        run.finished_at = Some(now);
        run.duration_ms = Some(0);
        run.work = None;
        run.next_action_at = None;
        run.summary =
            Some("Skipped: the previous run of this schedule was still in progress.".into());
        run
    }

    pub fn touch(&mut self) {
        self.version += 1;
    }

    /// Marks the run finished: terminal status, timing, and the notification outbox mark.
    pub fn finish(
        &mut self,
        status: RunStatus,
        finished_at: DateTime<Utc>,
        error: Option<RunError>,
        summary: Option<String>,
    ) {
        self.status = status;
        self.finished_at = Some(finished_at);
        let started = self.started_at.unwrap_or(self.created_at);
        self.duration_ms = Some((finished_at - started).num_milliseconds().max(0));
        self.error = error;
        if summary.is_some() {
            self.summary = summary;
        }
        self.work = Some(WorkKind::Notify);
        self.next_action_at = Some(finished_at);
    }
}

/// A run as the API shows it: the outcome and its timing, without the dispatcher's bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunView {
    pub run_id: RunId,
    pub schedule_id: ScheduleId,
    pub owner: String,
    pub schedule_name: String,
    pub trigger: Trigger,
    pub scheduled_for: DateTime<Utc>,
    pub status: RunStatus,
    pub session_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub error: Option<RunError>,
    pub summary: Option<String>,
    /// Start attempts that failed transiently (the engine was unavailable).
    pub attempts: u32,
}

impl From<Run> for RunView {
    fn from(r: Run) -> Self {
        Self {
            run_id: r.run_id,
            schedule_id: r.schedule_id,
            owner: r.owner,
            schedule_name: r.schedule_name,
            trigger: r.trigger,
            scheduled_for: r.scheduled_for,
            status: r.status,
            session_id: r.session_id,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_ms: r.duration_ms,
            error: r.error,
            summary: r.summary,
            attempts: r.attempts,
        }
    }
}
