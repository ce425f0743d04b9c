//! A run: one investigation started for one schedule occurrence (or by "run now"), from claim to outcome.

use crate::domain::ids::{RunId, ScheduleId};
use crate::domain::schedule::Schedule;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Scheduled,
    Manual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// The schedule's stored definition no longer parses (e.g. its time zone left the tz database): it cannot run.
    InvalidSchedule,
}

impl RunErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EngineUnavailable => "engine_unavailable",
            Self::EngineRejected => "engine_rejected",
            Self::TimedOut => "timed_out",
            Self::InvestigationFailed => "investigation_failed",
            Self::InvalidResponse => "invalid_response",
            Self::InvalidSchedule => "invalid_schedule",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

    /// Where a person opens this run's session, when it has one and `sessions` says where sessions open.
    pub fn session_url(&self, sessions: Option<&SessionUrlTemplate>) -> Option<String> {
        Some(sessions?.url_for(self.session_id.as_deref()?))
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
        }
    }
}

/// Where a person opens an engine session: a URL with a `{session_id}` placeholder, e.g. the SoCMate UI's
/// `https://socmate.example.com/sessions/{session_id}` (`SESSION_URL_TEMPLATE`). The engine's API has no such
/// link, so it is configuration; the session id is percent-encoded into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUrlTemplate(String);

impl SessionUrlTemplate {
    pub const PLACEHOLDER: &'static str = "{session_id}";

    pub fn url_for(&self, session_id: &str) -> String {
        // RFC 3986's unreserved characters stay as they are, except `.` (an id of `..` must not become a path step).
        const ENCODED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'~');
        let id = percent_encoding::utf8_percent_encode(session_id, ENCODED);
        self.0.replace(Self::PLACEHOLDER, &id.to_string())
    }
}

impl FromStr for SessionUrlTemplate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .ok_or("must start with https:// or http://")?;
        if rest.is_empty() || rest.starts_with('/') || rest.starts_with(Self::PLACEHOLDER) {
            return Err("must name a host".into());
        }
        if !s.contains(Self::PLACEHOLDER) {
            return Err(format!("must contain {}", Self::PLACEHOLDER));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces".into());
        }
        Ok(Self(s.to_owned()))
    }
}

#[cfg(test)]
mod session_url_tests {
    use super::SessionUrlTemplate;

    #[test]
    fn a_template_links_a_session_with_its_id_encoded() {
        let t: SessionUrlTemplate = "https://socmate.example.com/sessions/{session_id}?tab=report"
            .parse()
            .unwrap();
        assert_eq!(
            t.url_for("ses_01J9-x~"),
            "https://socmate.example.com/sessions/ses_01J9-x~?tab=report"
        );
        // An engine-chosen id cannot change the link's path or query.
        assert_eq!(
            t.url_for("a/../b?x=1#f"),
            "https://socmate.example.com/sessions/a%2F%2E%2E%2Fb%3Fx%3D1%23f?tab=report"
        );
    }

    #[test]
    fn a_bad_template_says_what_is_wrong() {
        for (template, problem) in [
            ("socmate.example.com/{session_id}", "https://"),
            ("javascript:alert(1)//{session_id}", "https://"),
            ("https://socmate.example.com/sessions/", "{session_id}"),
            ("https:///{session_id}", "host"),
            ("https://{session_id}", "host"),
            ("https://socmate.example.com/s/{session_id} x", "spaces"),
        ] {
            let err = template.parse::<SessionUrlTemplate>().unwrap_err();
            assert!(err.contains(problem), "{template}: {err}");
        }
    }
}
