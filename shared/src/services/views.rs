//! What the API shows of schedules and runs: the stored items plus what a reader needs (a description of when a
//! schedule runs, a link to a run's session), without the dispatcher's bookkeeping.

use crate::domain::findings::NotificationOutcome;
use crate::domain::run::SessionUrlTemplate;
use crate::domain::{
    Finding, FindingsSummary, ResolvedFinding, Run, RunError, RunId, RunStatus, Schedule,
    ScheduleId, TimingRule, Trigger,
};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A schedule as the API shows it: every stored field plus a description of when it runs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScheduleView {
    #[serde(flatten)]
    pub schedule: Schedule,
    pub schedule_description: String,
}

impl ScheduleView {
    pub fn of(mut schedule: Schedule) -> Self {
        // The baseline is the next diff's bookkeeping, not something to show (and can be large).
        schedule.findings_baseline = None;
        // The ledger has its own endpoint; the schedule is shown without it.
        schedule.coverage = Default::default();
        schedule.unannounced_gaps.clear();
        let schedule_description = TimingRule::parse_stored(&schedule.timing)
            .map(|r| r.describe())
            .unwrap_or_else(|_| "invalid timing".into());
        Self {
            schedule,
            schedule_description,
        }
    }
}

/// A run as the API shows it: the outcome and its timing, without the dispatcher's bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RunView {
    pub run_id: RunId,
    pub schedule_id: ScheduleId,
    pub owner: String,
    pub schedule_name: String,
    pub trigger: Trigger,
    pub scheduled_for: DateTime<Utc>,
    pub status: RunStatus,
    pub session_id: Option<String>,
    /// Where a person opens the session in the engine's UI, when `SESSION_URL_TEMPLATE` is configured.
    pub session_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub error: Option<RunError>,
    pub summary: Option<String>,
    /// Start attempts that failed transiently (the engine was unavailable).
    pub attempts: u32,
    /// The data window `[window_start, window_end)` the run looks at (absent on runs from before windows).
    pub window_start: Option<DateTime<Utc>>,
    pub window_end: Option<DateTime<Utc>>,
    /// A completed run's findings counts: total, new, ongoing, resolved, highest severity.
    pub findings_summary: Option<FindingsSummary>,
    /// Whether the run's notification went out, or why `notify_on` suppressed it.
    pub notification: Option<NotificationOutcome>,
}

/// One run in full: the run and its findings, each new or ongoing, and the findings it no longer reports.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunView,
    pub findings: Vec<Finding>,
    pub resolved: Vec<ResolvedFinding>,
}

impl RunDetail {
    pub fn of(mut r: Run, sessions: Option<&SessionUrlTemplate>) -> Self {
        let findings = std::mem::take(&mut r.findings);
        let resolved = std::mem::take(&mut r.resolved);
        Self {
            run: RunView::of(r, sessions),
            findings,
            resolved,
        }
    }
}

impl RunView {
    /// The view of `r`, with its session linked through `sessions` when one is configured.
    pub fn of(r: Run, sessions: Option<&SessionUrlTemplate>) -> Self {
        Self {
            session_url: r.session_url(sessions),
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
            findings_summary: r.findings_summary,
            notification: r.notification,
            window_start: r.window_start,
            window_end: r.window_end,
        }
    }
}
