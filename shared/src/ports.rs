//! The ports: the narrow traits the use cases need from the outside world. Adapters implement them.

use crate::domain::{
    AuditEvent, Notification, ReportedFindings, Run, RunId, Schedule, ScheduleId, ScheduleStatus,
    Window, WorkKind,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------------------------
// Clock

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Store

/// The cause of an infrastructure failure, kept for the error chain (logs, Lambda diagnostics).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `": {cause}: {its cause}..."`, or nothing: the causes' text in the message, so a log line reads whole while
/// `source()` still gives the cause itself (`crate::text::error_chain` does not repeat it).
fn cause_suffix(source: &Option<BoxError>) -> String {
    source
        .as_deref()
        .map(|s| format!(": {}", crate::text::error_chain(s)))
        .unwrap_or_default()
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or failed; retrying may help.
    #[error("store unavailable: {what}{}", cause_suffix(source))]
    Unavailable {
        what: String,
        #[source]
        source: Option<BoxError>,
    },
    /// An item in the store could not be read back (malformed or from an incompatible version).
    #[error("malformed item {key}: {message}")]
    Malformed { key: String, message: String },
    /// The schedule or run already exists (insert of an existing id).
    #[error("already exists: {0}")]
    AlreadyExists(String),
}

impl StoreError {
    /// The store failed doing `what`, because of `source`.
    pub fn unavailable(what: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Unavailable {
            what: what.into(),
            source: Some(source.into()),
        }
    }

    /// The store cannot serve, for a reason of its own (no underlying error).
    pub fn unavailable_because(what: impl Into<String>) -> Self {
        Self::Unavailable {
            what: what.into(),
            source: None,
        }
    }
}

/// Which schedules to list.
#[derive(Debug, Clone, Default)]
pub struct ScheduleFilter {
    /// `None`: every owner (admins).
    pub owner: Option<String>,
    /// `None`: every status except `DELETED`. `DELETED` schedules are never listed.
    pub status: Option<ScheduleStatus>,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Total matching items (for pagination controls).
    pub total: u64,
}

/// A position in a newest-first listing: the sort key (`created_at` for schedules and notifications,
/// `scheduled_for` for runs) and id of the last item already seen. The next page holds what sorts after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub at: DateTime<Utc>,
    pub id: String,
}

/// Where a page of a newest-first listing starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    /// After skipping this many items (reads them all: fine for the first pages).
    Offset(u32),
    /// Just after this item (reads only the page, however deep).
    After(After),
}

/// The outcome of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Applied,
    /// A condition failed (someone else wrote first); nothing was written.
    Conflict,
}

impl WriteOutcome {
    pub fn applied(self) -> bool {
        self == Self::Applied
    }
}

/// Schedules, runs and notifications. Every write that changes a schedule is conditional on the `version` it
/// read (`expected_version`) and increments it; writes that touch a schedule and a run are atomic.
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    /// Creates a schedule. `AlreadyExists` if the id is taken.
    async fn insert_schedule(&self, schedule: &Schedule) -> Result<(), StoreError>;

    /// A schedule by id, including `DELETED` ones (the use cases decide what callers see).
    async fn get_schedule(&self, id: &ScheduleId) -> Result<Option<Schedule>, StoreError>;

    /// Schedules matching `filter`, newest first (by `created_at`, then id), never `DELETED` ones: at most `limit`
    /// from `start`, and the total that match.
    async fn list_schedules(
        &self,
        filter: &ScheduleFilter,
        limit: u32,
        start: &PageStart,
    ) -> Result<Page<Schedule>, StoreError>;

    /// Replaces a schedule if its stored `version` is still `expected_version`.
    async fn update_schedule(
        &self,
        schedule: &Schedule,
        expected_version: u64,
    ) -> Result<WriteOutcome, StoreError>;

    /// Candidates for dispatch: `ACTIVE` schedules with `next_run_at <= now`, earliest first, at most `limit`.
    /// Only a proposal (it may be stale); [`ScheduleStore::create_run`] decides.
    async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Schedule>, StoreError>;

    /// One atomic write: replaces the schedule (conditional on `expected_version`) and inserts `run` (conditional
    /// on its id not existing). Either both happen or neither. Used to claim an occurrence, to record a skipped
    /// one, and for run-now. May drop the oldest finished runs of the schedule beyond the retention count.
    async fn create_run(
        &self,
        schedule: &Schedule,
        expected_version: u64,
        run: &Run,
    ) -> Result<WriteOutcome, StoreError>;

    /// Replaces a run if its stored `version` is still `expected_version`.
    async fn update_run(
        &self,
        run: &Run,
        expected_version: u64,
    ) -> Result<WriteOutcome, StoreError>;

    /// One atomic write: replaces the run and the schedule, each conditional on its expected version. Used when a
    /// run finishes, so the failure counter and the run outcome never disagree.
    async fn finish_run(
        &self,
        run: &Run,
        run_expected_version: u64,
        schedule: &Schedule,
        schedule_expected_version: u64,
    ) -> Result<WriteOutcome, StoreError>;

    async fn get_run(
        &self,
        schedule_id: &ScheduleId,
        run_id: &RunId,
    ) -> Result<Option<Run>, StoreError>;

    /// The newest `limit` runs of a schedule (newest `scheduled_for` first, then run id), or the `limit` after
    /// `after`. Listed runs leave their `findings` and `resolved` lists out (their `findings_summary` stays);
    /// [`ScheduleStore::get_run`] and [`ScheduleStore::runs_with_work`] return runs whole.
    async fn list_runs(
        &self,
        schedule_id: &ScheduleId,
        limit: u32,
        after: Option<&After>,
    ) -> Result<Vec<Run>, StoreError>;

    /// Runs whose `work` is `kind` and whose `next_action_at <= now`, earliest first, at most `limit`.
    async fn runs_with_work(
        &self,
        kind: WorkKind,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Run>, StoreError>;

    /// Stores a notification; storing the same id again overwrites it (so a replayed outbox is harmless).
    async fn put_notification(&self, notification: &Notification) -> Result<(), StoreError>;

    /// An owner's notifications (`None`: everyone's), newest first (by `created_at`, then id): at most `limit`
    /// from `start`, and the total.
    async fn list_notifications(
        &self,
        owner: Option<&str>,
        limit: u32,
        start: &PageStart,
    ) -> Result<Page<Notification>, StoreError>;

    /// A schedule's audit events, newest first (highest version first): at most `limit` after skipping `offset`,
    /// and the total kept. Events are written by the schedule writes themselves, from [`Schedule::audit`], in the
    /// same atomic write (an event already stored under its version is kept as it is), and kept for
    /// [`crate::domain::audit::AUDIT_RETENTION_DAYS`] days.
    async fn list_audit(
        &self,
        schedule_id: &ScheduleId,
        limit: u32,
        offset: u32,
    ) -> Result<Page<AuditEvent>, StoreError>;
}

// ---------------------------------------------------------------------------------------------------------------
// Investigation engine

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartRequest {
    /// Sent as `Idempotency-Key`: the run id, so a retried start never opens a second session.
    pub idempotency_key: String,
    pub query: String,
    pub persona: String,
    /// The run's data window, for the engine to scope its queries to (absent on runs from before windows).
    pub time_range: Option<Window>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    Active,
    Completed {
        summary: Option<String>,
        finished_at: Option<DateTime<Utc>>,
        /// What the investigation found (none when the engine reports no findings).
        findings: ReportedFindings,
    },
    Failed {
        message: String,
        finished_at: Option<DateTime<Utc>>,
    },
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum EngineError {
    /// 429: the engine is at its limit for this user. Not a failure: try again after `retry_after`.
    #[error("engine busy, retry after {retry_after:?}")]
    Backpressure { retry_after: Duration },
    /// 5xx, timeouts, refused connections: may work on a later attempt.
    #[error("engine unavailable: {0}")]
    Unavailable(String),
    /// 400/401/403/404/422: retrying the same request will not help.
    #[error("engine rejected the request ({status}): {detail}")]
    Rejected { status: u16, detail: String },
    /// A 2xx whose body we could not understand.
    #[error("engine sent an invalid response: {0}")]
    InvalidResponse(String),
}

#[async_trait]
pub trait InvestigationEngine: Send + Sync {
    /// Starts an investigation session; returns its `session_id`.
    async fn start(&self, request: &StartRequest) -> Result<String, EngineError>;

    /// The state of a session.
    async fn session(&self, session_id: &str) -> Result<SessionState, EngineError>;
}

// ---------------------------------------------------------------------------------------------------------------
// Notifier

/// A notification that did not reach its channel: what failed, and the underlying error when there is one.
#[derive(Debug, thiserror::Error)]
#[error("notification not delivered: {what}{}", cause_suffix(source))]
pub struct NotifyError {
    pub what: String,
    #[source]
    pub source: Option<BoxError>,
}

impl NotifyError {
    /// Not delivered, for a reason of the notifier's own.
    pub fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            source: None,
        }
    }

    /// Not delivered doing `what`, because of `source`.
    pub fn caused(what: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self {
            what: what.into(),
            source: Some(source.into()),
        }
    }
}

#[async_trait]
pub trait Notifier: Send + Sync {
    /// Publishes one notification to subscribers. Must be safe to call twice for the same notification.
    async fn publish(&self, notification: &Notification) -> Result<(), NotifyError>;
}
