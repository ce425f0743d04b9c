//! A run: one investigation started for one schedule occurrence (or by "run now"), from claim to outcome.

use crate::domain::coverage::Gap;
use crate::domain::findings::{
    Finding, FindingsSummary, NotificationOutcome, ReportedFindings, ResolvedFinding,
};
use crate::domain::ids::{RunId, ScheduleId};
use crate::domain::policy::{DEFAULT_RUN_HISTORY, DisabledReason, MAX_CONSECUTIVE_FAILURES};
use crate::domain::timing::Window;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Scheduled,
    Manual,
    /// A run over a window in the past, to fill a coverage gap. Never counts toward the failure streak.
    Backfill,
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

/// What kind of background work a run still needs. The store indexes runs by `(kind, at)` so the ticks never scan.
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

/// The background work a run still needs, and from when. A run has at most one at a time, and work always has a
/// time: "work with no time" cannot be expressed. Stored as the two flat fields `work` and `next_action_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Work {
    pub kind: WorkKind,
    pub at: DateTime<Utc>,
}

impl Work {
    pub fn new(kind: WorkKind, at: DateTime<Utc>) -> Self {
        Self { kind, at }
    }

    /// Whether this is work of `kind` due at `now`.
    pub fn is_due(&self, kind: WorkKind, now: DateTime<Utc>) -> bool {
        self.kind == kind && self.at <= now
    }
}

/// The stored layout of [`Work`]: `work` (the kind) and `next_action_at`, flattened into the run, as every store
/// has always written them.
mod work_fields {
    use super::{Work, WorkKind};
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Stored {
        #[serde(default)]
        work: Option<WorkKind>,
        #[serde(default)]
        next_action_at: Option<DateTime<Utc>>,
    }

    pub fn serialize<S: Serializer>(work: &Option<Work>, s: S) -> Result<S::Ok, S::Error> {
        Stored {
            work: work.map(|w| w.kind),
            next_action_at: work.map(|w| w.at),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Work>, D::Error> {
        let stored = Stored::deserialize(d)?;
        // An item written with work but no time (older builds could) is due at once rather than lost.
        Ok(stored.work.map(|kind| Work {
            kind,
            at: stored.next_action_at.unwrap_or(DateTime::<Utc>::MIN_UTC),
        }))
    }
}

/// Older builds stored `disabled_schedule` as a bool (the only reason then was repeated failures).
fn disabled_schedule_compat<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<DisabledReason>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Flag(bool),
        Reason(DisabledReason),
    }
    Ok(match Option::<Stored>::deserialize(d)? {
        None | Some(Stored::Flag(false)) => None,
        Some(Stored::Flag(true)) => Some(DisabledReason::RepeatedFailures {
            failures: MAX_CONSECUTIVE_FAILURES,
        }),
        Some(Stored::Reason(reason)) => Some(reason),
    })
}

/// What a run is about, copied from its schedule when it is created: a run keeps the query and persona it was
/// claimed with (an edit does not change a claimed run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSubject {
    pub schedule_id: ScheduleId,
    pub owner: String,
    pub schedule_name: String,
    pub user_query: String,
    pub persona: String,
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
    #[serde(flatten, with = "work_fields")]
    pub work: Option<Work>,
    /// Set when finishing this run disabled its schedule, and why, so the outbox also sends `schedule-disabled`.
    #[serde(default, deserialize_with = "disabled_schedule_compat")]
    pub disabled_schedule: Option<DisabledReason>,
    pub version: u64,
    /// What the engine reported when the session completed, until finishing the run diffs it into `findings`.
    /// Never stored.
    #[serde(skip)]
    pub reported: Option<ReportedFindings>,
    /// A completed run's findings, each `new` or `ongoing` against the schedule's previous completed run.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// The previous completed run's findings this run did not report.
    #[serde(default)]
    pub resolved: Vec<ResolvedFinding>,
    /// Counts of the above; only completed runs have one.
    #[serde(default)]
    pub findings_summary: Option<FindingsSummary>,
    /// Whether the run's notification went out, or why not (`notify_on` suppressed it).
    #[serde(default)]
    pub notification: Option<NotificationOutcome>,
    /// The data window `[window_start, window_end)` this run looks at, fixed when it is claimed (absent on runs
    /// from before windows existed).
    #[serde(default)]
    pub window_start: Option<DateTime<Utc>>,
    #[serde(default)]
    pub window_end: Option<DateTime<Utc>>,
    /// Coverage gaps recorded by the writes that created or finished this run, announced (`coverage-gap`) by its
    /// outbox with its other notifications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Gap>,
}

/// The first transient start failure waits this long; each further one doubles it (up to 2^6 times).
const START_BACKOFF_SECS: i64 = 30;

impl Run {
    /// A new run waiting to be started: `pending`, reserved for its creator until `lease_until` (after that, any
    /// dispatcher tick may start it, with the same idempotency key).
    pub fn pending(
        subject: RunSubject,
        run_id: RunId,
        trigger: Trigger,
        scheduled_for: DateTime<Utc>,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Self {
        Self {
            run_id,
            schedule_id: subject.schedule_id,
            owner: subject.owner,
            schedule_name: subject.schedule_name,
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
            user_query: subject.user_query,
            persona: subject.persona,
            attempts: 0,
            work: Some(Work::new(WorkKind::Start, lease_until)),
            disabled_schedule: None,
            version: 1,
            reported: None,
            findings: Vec::new(),
            resolved: Vec::new(),
            findings_summary: None,
            notification: None,
            window_start: None,
            window_end: None,
            gaps: Vec::new(),
        }
    }

    /// This run with its data window.
    pub fn with_window(mut self, window: Window) -> Self {
        self.window_start = Some(window.start);
        self.window_end = Some(window.end);
        self
    }

    /// The data window, when the run has one.
    pub fn window(&self) -> Option<Window> {
        Some(Window::new(self.window_start?, self.window_end?))
    }

    /// A scheduled occurrence that is not run because an earlier run is still in flight. Terminal at once; not a
    /// failure; no notification.
    pub fn skipped(
        subject: RunSubject,
        run_id: RunId,
        scheduled_for: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            status: RunStatus::Skipped,
            finished_at: Some(now),
            duration_ms: Some(0),
            work: None,
            summary: Some(
                "Skipped: the previous run of this schedule was still in progress.".into(),
            ),
            ..Self::pending(subject, run_id, Trigger::Scheduled, scheduled_for, now, now)
        }
    }

    /// Every stored transition bumps the version; the writer conditions its write on the version it read.
    fn bump(&mut self) {
        self.version += 1;
    }

    /// Where a person opens this run's session, when it has one and `sessions` says where sessions open.
    pub fn session_url(&self, sessions: Option<&SessionUrlTemplate>) -> Option<String> {
        Some(sessions?.url_for(self.session_id.as_deref()?))
    }

    /// Whether this run needs work of `kind` at `now`.
    pub fn has_work(&self, kind: WorkKind, now: DateTime<Utc>) -> bool {
        self.work.is_some_and(|w| w.is_due(kind, now))
    }

    /// A pending run is reserved for the tick that takes it until `until`, so a concurrent tick does not start it
    /// too (the idempotency key would make that harmless at the engine, but it would waste a request).
    pub fn lease(&mut self, until: DateTime<Utc>) {
        self.work = Some(Work::new(WorkKind::Start, until));
        self.bump();
    }

    /// The engine accepted the start: `running`, polled from now on.
    pub fn started(&mut self, session_id: String, now: DateTime<Utc>) {
        self.status = RunStatus::Running;
        self.session_id = Some(session_id);
        self.started_at = Some(now);
        self.work = Some(Work::new(WorkKind::Poll, now));
        self.bump();
    }

    /// The engine is at its limit (429): not a failure; start again from `until`.
    pub fn defer(&mut self, until: DateTime<Utc>) {
        self.work = Some(Work::new(WorkKind::Start, until));
        self.bump();
    }

    /// A start failed transiently (engine unavailable, garbled answer). Counts the attempt and backs off
    /// exponentially (30 s, 60 s, 120 s, ...); after `max_attempts` it gives up and returns the error the run must
    /// fail with.
    pub fn start_failed(
        &mut self,
        now: DateTime<Utc>,
        max_attempts: u32,
        problem: &str,
    ) -> Option<RunError> {
        self.attempts += 1;
        self.bump();
        if self.attempts >= max_attempts {
            return Some(RunError {
                kind: RunErrorKind::EngineUnavailable,
                message: format!("gave up after {} attempts: {problem}", self.attempts),
            });
        }
        let delay = START_BACKOFF_SECS * (1i64 << (self.attempts - 1).min(6));
        self.work = Some(Work::new(
            WorkKind::Start,
            now + chrono::Duration::seconds(delay),
        ));
        None
    }

    /// Still running (or the engine could not be asked): poll again from `at`.
    pub fn poll_again(&mut self, at: DateTime<Utc>) {
        self.work = Some(Work::new(WorkKind::Poll, at));
        self.bump();
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
        self.work = Some(Work::new(WorkKind::Notify, finished_at));
        self.bump();
    }

    /// The engine's session completed with these findings; finishing the run diffs them against the schedule's
    /// previous completed run.
    pub fn report_findings(&mut self, reported: ReportedFindings) {
        self.reported = Some(reported);
    }

    /// Its notifications are published: nothing left to do.
    pub fn notified(&mut self) {
        self.work = None;
        if self.notification.is_none() {
            self.notification = Some(NotificationOutcome {
                sent: true,
                reason: None,
            });
        }
        self.bump();
    }

    /// `notify_on` suppressed this completed run's notification: nothing is published, and the run says why.
    pub fn suppress_notification(&mut self, reason: &str) {
        // The coverage gaps it carries still go out (`coverage-gap` always notifies).
        if self.gaps.is_empty() {
            self.work = None;
        }
        self.notification = Some(NotificationOutcome {
            sent: false,
            reason: Some(reason.to_owned()),
        });
    }

    /// The run's findings lists left out (its summary kept): what run listings return.
    pub fn without_findings(mut self) -> Self {
        self.findings = Vec::new();
        self.resolved = Vec::new();
        self
    }

    /// Publishing failed: try again from `at`.
    pub fn notify_again(&mut self, at: DateTime<Utc>) {
        self.work = Some(Work::new(WorkKind::Notify, at));
        self.bump();
    }
}

/// How many runs a schedule's history keeps: the newest `keep` by occurrence, plus any older run that is still in
/// flight or still has work (dropping one would lose an outcome or a notification). Every store applies exactly this
/// rule, with the count from configuration, after it creates or finishes a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunRetention {
    keep: u32,
}

impl RunRetention {
    pub fn keep(keep: u32) -> Self {
        Self { keep: keep.max(1) }
    }

    /// How many runs are kept (and listed).
    pub fn count(self) -> u32 {
        self.keep
    }

    /// Whether the run at `position` in its schedule's history (0 = newest, ordered by `scheduled_for` then
    /// `run_id`, both descending) may be dropped.
    pub fn may_drop(self, position: usize, run: &Run) -> bool {
        position >= self.keep as usize && run.status.is_terminal() && run.work.is_none()
    }

    /// Of one schedule's runs, given newest first, those that may be dropped.
    pub fn dropped<'a>(self, newest_first: impl IntoIterator<Item = &'a Run>) -> Vec<&'a Run> {
        newest_first
            .into_iter()
            .enumerate()
            .filter(|(position, run)| self.may_drop(*position, run))
            .map(|(_, run)| run)
            .collect()
    }
}

impl Default for RunRetention {
    fn default() -> Self {
        Self::keep(DEFAULT_RUN_HISTORY)
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
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, 8, minute, 0).unwrap()
    }

    fn pending() -> Run {
        let subject = RunSubject {
            schedule_id: "sch_1".into(),
            owner: "alice".into(),
            schedule_name: "n".into(),
            user_query: "q".into(),
            persona: "ciso".into(),
        };
        Run::pending(
            subject,
            "run_1".into(),
            Trigger::Scheduled,
            t(0),
            t(0),
            t(2),
        )
    }

    #[test]
    fn transient_start_failures_back_off_then_give_up() {
        let mut run = pending();
        let mut waits = Vec::new();
        for _ in 0..4 {
            assert_eq!(run.start_failed(t(0), 5, "502"), None);
            waits.push((run.work.unwrap().at - t(0)).num_seconds());
        }
        assert_eq!(waits, [30, 60, 120, 240]);
        let error = run.start_failed(t(0), 5, "502").unwrap();
        assert_eq!(error.kind, RunErrorKind::EngineUnavailable);
        assert_eq!(error.message, "gave up after 5 attempts: 502");
        assert_eq!(
            (run.attempts, run.version),
            (5, 6),
            "every transition bumps the version"
        );
    }

    #[test]
    fn each_transition_sets_the_work_it_leaves() {
        let mut run = pending();
        run.started("ses_1".into(), t(1));
        assert_eq!(run.work, Some(Work::new(WorkKind::Poll, t(1))));
        assert!(run.has_work(WorkKind::Poll, t(1)) && !run.has_work(WorkKind::Poll, t(0)));
        run.poll_again(t(6));
        run.finish(RunStatus::Completed, t(7), None, Some("done".into()));
        assert_eq!(run.work, Some(Work::new(WorkKind::Notify, t(7))));
        assert_eq!(run.duration_ms, Some(6 * 60 * 1000));
        run.notify_again(t(8));
        assert!(run.has_work(WorkKind::Notify, t(8)));
        run.notified();
        assert_eq!((run.work, run.version), (None, 6));
    }

    #[test]
    fn work_is_stored_as_two_flat_fields_and_older_items_still_read() {
        let mut run = pending();
        let json = serde_json::to_value(&run).unwrap();
        assert_eq!(json["work"], "start");
        assert_eq!(json["next_action_at"], "2030-01-01T08:02:00Z");
        assert_eq!(serde_json::from_value::<Run>(json.clone()).unwrap(), run);

        // Work with no time (older builds could write it) is due at once, not lost.
        let mut legacy = json.clone();
        legacy["next_action_at"] = serde_json::Value::Null;
        let read: Run = serde_json::from_value(legacy).unwrap();
        assert!(read.has_work(WorkKind::Start, DateTime::<Utc>::MIN_UTC));
        // A leftover time without work is no work.
        let mut leftover = json.clone();
        leftover["work"] = serde_json::Value::Null;
        assert_eq!(serde_json::from_value::<Run>(leftover).unwrap().work, None);

        // `disabled_schedule` was a bool; true meant repeated failures.
        for (stored, expected) in [
            (serde_json::json!(false), None),
            (
                serde_json::json!(true),
                Some(DisabledReason::RepeatedFailures { failures: 5 }),
            ),
        ] {
            let mut old = json.clone();
            old["disabled_schedule"] = stored;
            assert_eq!(
                serde_json::from_value::<Run>(old)
                    .unwrap()
                    .disabled_schedule,
                expected
            );
        }
        run.disabled_schedule = Some(DisabledReason::InvalidDefinition {
            problem: "tz".into(),
        });
        let json = serde_json::to_value(&run).unwrap();
        assert_eq!(
            json["disabled_schedule"],
            serde_json::json!({"kind": "invalid_definition", "problem": "tz"})
        );
        assert_eq!(serde_json::from_value::<Run>(json).unwrap(), run);
    }

    #[test]
    fn retention_drops_only_old_finished_runs_without_work() {
        let retention = RunRetention::keep(2);
        let mut runs: Vec<Run> = (0..5).map(|_| pending()).collect();
        for (i, r) in runs.iter_mut().enumerate() {
            r.run_id = format!("run_{i}").into();
            if i != 3 {
                r.finish(RunStatus::Completed, t(9), None, None);
                r.notified();
            }
        }
        runs[4].notify_again(t(10)); // the oldest still has to notify
        let dropped: Vec<_> = retention
            .dropped(&runs)
            .iter()
            .map(|r| r.run_id.to_string())
            .collect();
        assert_eq!(dropped, ["run_2"]);
        assert_eq!(
            RunRetention::keep(0).count(),
            1,
            "a history keeps at least one run"
        );
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
