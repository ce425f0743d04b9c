//! A schedule: an investigation question, who asks it, when it runs, and where it is in its lifecycle.

use crate::domain::audit::{Actor, AuditAction, AuditEvent, FieldChange, PendingAudit};
use crate::domain::coverage::{Gap, GapReason, Ledger};
use crate::domain::error::TransitionError;
use crate::domain::findings::{FindingsBaseline, FindingsSummary, NotifyOn};
use crate::domain::ids::{RunId, ScheduleId};
use crate::domain::policy::{DisabledReason, MAX_CONSECUTIVE_FAILURES};
use crate::domain::run::{
    Run, RunError, RunErrorKind, RunStatus, RunSubject, Trigger, Work, WorkKind,
};
use crate::domain::timing::{
    DEFAULT_MAX_CATCHUP, Frequency, IsoDuration, TimingRule, TimingSpec, Window, WindowSettings,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScheduleStatus {
    Active,
    Paused,
    Completed,
    Failed,
    Deleted,
}

impl ScheduleStatus {
    pub const ALL: [Self; 5] = [
        Self::Active,
        Self::Paused,
        Self::Completed,
        Self::Failed,
        Self::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Paused => "PAUSED",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Deleted => "DELETED",
        }
    }
}

impl fmt::Display for ScheduleStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ScheduleStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown status {s:?}; expected one of ACTIVE, PAUSED, COMPLETED, FAILED, DELETED"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Analyst,
    Admin,
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "analyst" => Ok(Self::Analyst),
            "admin" => Ok(Self::Admin),
            other => Err(format!("unknown role {other:?}; expected analyst or admin")),
        }
    }
}

/// Who is asking: the verified user id and role. Handlers get it from the authenticator, never from the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: String,
    pub role: Role,
}

impl Caller {
    pub fn can_see(&self, owner: &str) -> bool {
        self.role == Role::Admin || self.user == owner
    }

    /// The caller as the author of a change (audit trail).
    pub fn actor(&self) -> Actor {
        Actor::User(self.user.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Schedule {
    pub id: ScheduleId,
    pub owner: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub user_query: String,
    pub persona: String,
    #[serde(flatten)]
    pub timing: TimingSpec,
    pub status: ScheduleStatus,
    #[serde(default)]
    pub next_run_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_run_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_run_status: Option<RunStatus>,
    #[serde(default)]
    pub consecutive_failures: u32,
    /// Why the schedule is `FAILED` (disabled), while it is.
    #[serde(default)]
    pub disabled_reason: Option<DisabledReason>,
    /// Runs claimed or started and not yet finished. Maintained in the same atomic writes that create and finish
    /// runs, so the dispatcher can see an overlap without reading run history.
    #[serde(default)]
    pub runs_in_flight: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
    /// Fixes every window's length (sliding windows, overlap expected) instead of contiguous windows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookback: Option<IsoDuration>,
    /// How long after an instant its logs are complete: windows end this much before the run's time.
    #[serde(default)]
    pub settlement_delay: IsoDuration,
    /// How far back one catch-up run after downtime reaches; older time becomes a `missed` gap.
    #[serde(default = "default_max_catchup")]
    pub max_catchup: IsoDuration,
    /// Where this schedule's previous scheduled window ended: the next one starts here (contiguous windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_window_end: Option<DateTime<Utc>>,
    /// The coverage ledger (compact merged spans), shown by the coverage endpoint rather than with the schedule.
    #[serde(default, skip_serializing_if = "Ledger::is_empty")]
    #[schema(ignore)]
    pub coverage: Ledger,
    /// Gaps recorded by a write that created no run (a resume), announced by the next run this schedule creates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(ignore)]
    pub unannounced_gaps: Vec<Gap>,
    /// Why its owner paused it, while it is `PAUSED` (when they said).
    #[serde(default)]
    pub pause_reason: Option<String>,
    /// Audit events of the change being written: the store writes them in the same atomic write (see
    /// [`crate::domain::audit`]). Never stored with the schedule.
    #[serde(skip)]
    pub audit: PendingAudit,
    /// When completed runs notify (failures and `schedule-disabled` always do).
    #[serde(default)]
    pub notify_on: NotifyOn,
    /// The findings summary of the latest completed run, for the list view.
    #[serde(default)]
    pub findings_summary: Option<FindingsSummary>,
    /// The latest completed run's findings, which the next completed run is diffed against. Stored, never shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub findings_baseline: Option<FindingsBaseline>,
}

fn default_max_catchup() -> IsoDuration {
    DEFAULT_MAX_CATCHUP
}

impl Schedule {
    pub fn is_deleted(&self) -> bool {
        self.status == ScheduleStatus::Deleted
    }

    /// Bumps `version` and `updated_at`: every stored change goes through here (the writer conditions its write
    /// on the version it read).
    pub fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }

    /// What this schedule's runs are about (copied into each run when it is created).
    pub fn subject(&self) -> RunSubject {
        RunSubject {
            schedule_id: self.id.clone(),
            owner: self.owner.clone(),
            schedule_name: self.name.clone(),
            user_query: self.user_query.clone(),
            persona: self.persona.clone(),
        }
    }

    /// The fields that shape this schedule's data windows.
    pub fn window_settings(&self) -> WindowSettings {
        WindowSettings {
            lookback: self.lookback,
            settlement_delay: self.settlement_delay,
            max_catchup: self.max_catchup,
        }
    }

    /// Gaps waiting to be announced, handed to `run` (the write that creates it clears them here).
    fn announce_with(&mut self, run: &mut Run) {
        run.gaps.append(&mut self.unannounced_gaps);
    }

    /// Records the audit event of the change just applied (after [`Schedule::touch`]: keyed by the new version).
    fn record(
        &mut self,
        actor: &Actor,
        action: AuditAction,
        changes: Vec<FieldChange>,
        reason: Option<String>,
    ) {
        let event = AuditEvent {
            schedule_id: self.id.clone(),
            version: self.version,
            at: self.updated_at,
            actor: actor.as_str().to_owned(),
            action,
            changes,
            reason,
        };
        self.audit.push(event);
    }

    /// Records the creation of this (new) schedule by `actor`.
    pub fn created(&mut self, actor: &Actor) {
        self.record(actor, AuditAction::Created, Vec::new(), None);
    }

    /// Finishes an edit of the definition that began from `before`: bumps the version and records which fields
    /// changed (old and new values, the query text included).
    pub fn edited(&mut self, before: &Schedule, actor: &Actor, now: DateTime<Utc>) {
        self.touch(now);
        let changes = definition_changes(before, self);
        self.record(actor, AuditAction::Updated, changes, None);
    }

    /// `ACTIVE → PAUSED`, by `actor`, for `reason` if they gave one.
    pub fn pause(
        &mut self,
        now: DateTime<Utc>,
        actor: &Actor,
        reason: Option<String>,
    ) -> Result<(), TransitionError> {
        match self.status {
            ScheduleStatus::Active => {
                self.status = ScheduleStatus::Paused;
                self.next_run_at = None;
                self.pause_reason = reason.clone();
                self.touch(now);
                self.record(actor, AuditAction::Paused, Vec::new(), reason);
                Ok(())
            }
            ScheduleStatus::Paused => Err(TransitionError("schedule is already paused".into())),
            other => Err(TransitionError(format!(
                "cannot pause a schedule whose status is {other}; only ACTIVE schedules can be paused"
            ))),
        }
    }

    /// `PAUSED → ACTIVE` and `FAILED → ACTIVE` (re-enable: the failure counter and the reason are cleared), with
    /// `next` as the next run (computed from now by the caller; a schedule with nothing left cannot resume).
    pub fn resume(
        &mut self,
        next: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        actor: &Actor,
        reason: Option<String>,
    ) -> Result<(), TransitionError> {
        match self.status {
            ScheduleStatus::Paused | ScheduleStatus::Failed => {
                if next.is_none() {
                    return Err(TransitionError(
                        "this one-time schedule's run time has passed; set a new scheduled_time to run it again".into(),
                    ));
                }
                let action = if self.status == ScheduleStatus::Failed {
                    AuditAction::ReEnabled
                } else {
                    AuditAction::Resumed
                };
                let gap_reason = if self.status == ScheduleStatus::Paused {
                    GapReason::Paused
                } else {
                    GapReason::Disabled
                };
                // The time the schedule stood still is a gap; windows go on from now.
                let end = now - self.settlement_delay.duration();
                let from = self.last_window_end.unwrap_or(self.created_at);
                if from < end {
                    let recorded = self.coverage.gap(Window::new(from, end), gap_reason, None);
                    self.unannounced_gaps.extend(recorded);
                    self.last_window_end = Some(end);
                }
                self.coverage.trim(now);
                self.status = ScheduleStatus::Active;
                self.consecutive_failures = 0;
                self.disabled_reason = None;
                self.pause_reason = None;
                self.next_run_at = next;
                self.touch(now);
                self.record(actor, action, Vec::new(), reason);
                Ok(())
            }
            ScheduleStatus::Active => Err(TransitionError("schedule is already active".into())),
            other => Err(TransitionError(format!(
                "cannot resume a schedule whose status is {other}; only PAUSED or FAILED schedules can be resumed"
            ))),
        }
    }

    /// Soft delete: kept for audit, never runs again, hidden from every read.
    pub fn delete(&mut self, now: DateTime<Utc>, actor: &Actor) {
        self.status = ScheduleStatus::Deleted;
        self.next_run_at = None;
        self.touch(now);
        self.record(actor, AuditAction::Deleted, Vec::new(), None);
    }

    /// `ACTIVE → FAILED` for `reason`; the schedule will not run until it is resumed. Only an active schedule can
    /// be disabled (a paused one stays paused: its owner already stopped it).
    pub fn disable(
        &mut self,
        reason: DisabledReason,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        if self.status != ScheduleStatus::Active {
            return Err(TransitionError(format!(
                "cannot disable a schedule whose status is {}",
                self.status
            )));
        }
        self.status = ScheduleStatus::Failed;
        self.next_run_at = None;
        let why = reason.to_string();
        self.disabled_reason = Some(reason);
        self.touch(now);
        self.record(&Actor::System, AuditAction::Disabled, Vec::new(), Some(why));
        Ok(())
    }

    /// Claims the due occurrence at `now`: advances `next_run_at` past `now` (missed occurrences coalesced into
    /// the latest one) and returns the run for that occurrence — `pending`, leased until `lease_until`, or
    /// `skipped` while an earlier run is still in flight (a one-time schedule's single occurrence always runs).
    /// `None` when nothing is due.
    pub fn claim(
        &mut self,
        rule: &TimingRule,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Option<Run> {
        let first_due = self.next_run_at.filter(|t| *t <= now)?;
        if self.status != ScheduleStatus::Active {
            return None;
        }
        let (occurrence, next) = rule.coalesce(first_due, now);
        let run_id = RunId::scheduled(&self.id, occurrence);
        let overlap = self.runs_in_flight > 0 && self.timing.frequency != Frequency::Once;
        let planned = rule.scheduled_window(
            &self.window_settings(),
            occurrence,
            self.last_window_end,
            self.created_at,
        );
        let window = planned.window;
        let mut gaps = Vec::new();
        if let Some(missed) = planned.missed {
            gaps.extend(self.coverage.gap(missed, GapReason::Missed, None));
        }
        self.last_window_end = Some(
            self.last_window_end
                .map_or(window.end, |end| end.max(window.end)),
        );
        let mut run = if overlap {
            gaps.extend(self.coverage.gap(window, GapReason::Skipped, Some(&run_id)));
            Run::skipped(self.subject(), run_id, occurrence, now)
        } else {
            self.runs_in_flight += 1;
            self.coverage.start(&run_id, window);
            Run::pending(
                self.subject(),
                run_id,
                Trigger::Scheduled,
                occurrence,
                now,
                lease_until,
            )
        }
        .with_window(window);
        run.gaps = gaps;
        self.announce_with(&mut run);
        if run.status == RunStatus::Skipped && !run.gaps.is_empty() {
            // A skipped run has nothing else to do; its outbox mark announces the gaps.
            run.work = Some(Work::new(WorkKind::Notify, now));
        }
        self.coverage.trim(now);
        self.next_run_at = next;
        self.touch(now);
        Some(run)
    }

    /// A manual run ("run now"), allowed whatever is in flight: `pending`, leased until `lease_until`. Its window
    /// ends at `now` (less the settlement delay) and is one nominal interval of `rule` (or `lookback`) long; it
    /// does not move where the next scheduled window starts.
    pub fn run_now(
        &mut self,
        rule: &TimingRule,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        actor: &Actor,
    ) -> Run {
        let window = rule.manual_window(&self.window_settings(), now, self.created_at);
        self.runs_in_flight += 1;
        let run_id = RunId::manual(now);
        self.coverage.start(&run_id, window);
        let mut run = Run::pending(
            self.subject(),
            run_id,
            Trigger::Manual,
            now,
            now,
            lease_until,
        )
        .with_window(window);
        self.announce_with(&mut run);
        self.touch(now);
        self.record(actor, AuditAction::RunRequested, Vec::new(), None);
        run
    }

    /// A backfill run over `window` (a span in the past, usually a gap), through the same start path as every
    /// run: `pending`, leased until `lease_until`. It is not counted as in flight (scheduled occurrences are not
    /// skipped because of it), does not move the next scheduled window, and never counts toward the failure
    /// streak. The caller has checked the window (`end <= now`, its length).
    pub fn backfill(
        &mut self,
        window: Window,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<Run, TransitionError> {
        if self.is_deleted() {
            return Err(TransitionError(
                "a deleted schedule cannot be backfilled".into(),
            ));
        }
        let run_id = RunId::manual(now);
        self.coverage.start(&run_id, window);
        let mut run = Run::pending(
            self.subject(),
            run_id,
            Trigger::Backfill,
            window.end,
            now,
            lease_until,
        )
        .with_window(window);
        self.announce_with(&mut run);
        self.touch(now);
        let span = format!(
            "{} – {}",
            window.start.to_rfc3339(),
            window.end.to_rfc3339()
        );
        self.record(
            actor,
            AuditAction::BackfillRequested,
            Vec::new(),
            Some(span),
        );
        Ok(run)
    }

    /// The due occurrence of a schedule whose stored definition no longer parses: it can never run, so it is
    /// recorded as a failed run (`invalid_schedule`) and the schedule is disabled with that reason, through the
    /// same failure policy as any finished run. Returns the failed run (its outbox mark sends
    /// `investigation-failed` and `schedule-disabled`).
    pub fn disable_unrunnable(
        &mut self,
        occurrence: DateTime<Utc>,
        problem: String,
        now: DateTime<Utc>,
    ) -> Run {
        let run_id = RunId::scheduled(&self.id, occurrence);
        self.runs_in_flight += 1;
        let mut run = Run::pending(
            self.subject(),
            run_id,
            Trigger::Scheduled,
            occurrence,
            now,
            now,
        );
        run.finish(
            RunStatus::Failed,
            now,
            Some(RunError {
                kind: RunErrorKind::InvalidSchedule,
                message: format!(
                    "the schedule's definition is no longer valid ({problem}); edit it, then resume it"
                ),
            }),
            None,
        );
        self.record_finished_run_because(
            &mut run,
            Some(DisabledReason::InvalidDefinition { problem }),
            now,
        );
        run
    }

    /// Records a finished run: the failure policy (a completed run resets the counter; the
    /// [`MAX_CONSECUTIVE_FAILURES`]th failure in a row disables the schedule) and the `once` lifecycle (its scheduled
    /// run done → `COMPLETED`). When this disables the schedule, `run` is marked with the reason so the outbox also
    /// sends `schedule-disabled`.
    pub fn record_finished_run(&mut self, run: &mut Run, now: DateTime<Utc>) {
        self.record_finished_run_because(run, None, now);
    }

    fn record_finished_run_because(
        &mut self,
        run: &mut Run,
        must_disable: Option<DisabledReason>,
        now: DateTime<Utc>,
    ) {
        let finished_at = run.finished_at.unwrap_or(now);
        let backfill = run.trigger == Trigger::Backfill;
        if !backfill {
            self.runs_in_flight = self.runs_in_flight.saturating_sub(1);
            self.last_run_at = Some(finished_at);
            self.last_run_status = Some(run.status);
            match run.status {
                RunStatus::Completed => self.consecutive_failures = 0,
                RunStatus::Failed => self.consecutive_failures += 1,
                _ => {}
            }
        }
        match (run.window(), run.status) {
            (Some(window), RunStatus::Completed) => self.coverage.cover(&run.run_id, window),
            // A manual run is an extra look: its failure leaves the schedule's own windows as they were.
            (Some(window), RunStatus::Failed) if run.trigger != Trigger::Manual => {
                let recorded = self
                    .coverage
                    .gap(window, GapReason::Failed, Some(&run.run_id));
                run.gaps.extend(recorded);
            }
            _ => self.coverage.end(&run.run_id),
        }
        self.coverage.trim(now);
        let reason = must_disable.or_else(|| {
            (run.status == RunStatus::Failed
                && !backfill
                && self.consecutive_failures >= MAX_CONSECUTIVE_FAILURES)
                .then_some(DisabledReason::RepeatedFailures {
                    failures: self.consecutive_failures,
                })
        });
        let disabled = match reason {
            Some(reason) => {
                let applied = self.disable(reason.clone(), now).is_ok();
                if applied {
                    run.disabled_schedule = Some(reason);
                }
                applied
            }
            None => false,
        };
        let completed = !disabled
            && run.trigger == Trigger::Scheduled
            && self.status == ScheduleStatus::Active
            && self.timing.frequency == Frequency::Once
            && self.next_run_at.is_none();
        if completed {
            self.status = ScheduleStatus::Completed;
        }
        if run.status == RunStatus::Completed {
            self.record_findings(run, finished_at);
        }
        if !disabled {
            self.touch(now);
        }
        if completed {
            self.record(&Actor::System, AuditAction::Completed, Vec::new(), None);
        }
    }

    /// Diffs a completed run's reported findings against the latest completed run's (the baseline), records the
    /// outcome on the run, and decides with `notify_on` whether its completion notifies. The baseline moves to
    /// this run unless a run that finished later already replaced it (finish writes can land out of order).
    fn record_findings(&mut self, run: &mut Run, finished_at: DateTime<Utc>) {
        let reported = run.reported.take().unwrap_or_default();
        let baseline = self.findings_baseline.take().unwrap_or_default();
        let diff = baseline.diff(&reported, finished_at);
        let newer_known = baseline.finished_at.is_some_and(|t| t > finished_at);
        self.findings_baseline = Some(if newer_known {
            baseline
        } else {
            self.findings_summary = Some(diff.summary);
            FindingsBaseline::after(&diff.findings, finished_at)
        });
        run.findings = diff.findings;
        run.resolved = diff.resolved;
        run.findings_summary = Some(diff.summary);
        if let Err(reason) = self.notify_on.completed(&diff.summary) {
            run.suppress_notification(reason);
        }
    }
}

/// The definition fields that differ between `before` and `after`, as the API spells their values.
fn definition_changes(before: &Schedule, after: &Schedule) -> Vec<FieldChange> {
    fn text<T: Serialize>(value: &T) -> Option<String> {
        match serde_json::to_value(value).ok()? {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }
    }
    let (b, a) = (&before.timing, &after.timing);
    [
        ("name", text(&before.name), text(&after.name)),
        (
            "description",
            text(&before.description),
            text(&after.description),
        ),
        (
            "user_query",
            text(&before.user_query),
            text(&after.user_query),
        ),
        ("persona", text(&before.persona), text(&after.persona)),
        ("frequency", text(&b.frequency), text(&a.frequency)),
        (
            "scheduled_time",
            text(&b.scheduled_time),
            text(&a.scheduled_time),
        ),
        ("day_of_week", text(&b.day_of_week), text(&a.day_of_week)),
        ("day_of_month", text(&b.day_of_month), text(&a.day_of_month)),
        (
            "cron_expression",
            text(&b.cron_expression),
            text(&a.cron_expression),
        ),
        ("timezone", text(&b.timezone), text(&a.timezone)),
        ("notify_on", text(&before.notify_on), text(&after.notify_on)),
        ("lookback", text(&before.lookback), text(&after.lookback)),
        (
            "settlement_delay",
            text(&before.settlement_delay),
            text(&after.settlement_delay),
        ),
        (
            "max_catchup",
            text(&before.max_catchup),
            text(&after.max_catchup),
        ),
        (
            "next_run_at",
            text(&before.next_run_at),
            text(&after.next_run_at),
        ),
    ]
    .into_iter()
    .filter(|(_, old, new)| old != new)
    .map(|(field, old, new)| FieldChange {
        field: field.to_owned(),
        old,
        new,
    })
    .collect()
}

#[cfg(test)]
mod window_tests {
    use super::*;
    use crate::domain::timing::{IsoDuration, TimingSpec};
    use chrono::{Duration, TimeZone};

    fn alice() -> Actor {
        Actor::User("alice".into())
    }

    fn t(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, day, hour, minute, 0).unwrap()
    }

    fn minutely(created: DateTime<Utc>) -> (Schedule, TimingRule) {
        let spec = TimingSpec {
            frequency: Frequency::Custom,
            scheduled_time: None,
            day_of_week: None,
            day_of_month: None,
            cron_expression: Some("* * * * *".into()),
            timezone: "UTC".into(),
        };
        let rule = TimingRule::parse(&spec, created).unwrap();
        let schedule = Schedule {
            id: "sch_1".into(),
            owner: "alice".into(),
            name: "n".into(),
            description: String::new(),
            user_query: "q".into(),
            persona: "soc_analyst".into(),
            timing: rule.spec().clone(),
            status: ScheduleStatus::Active,
            next_run_at: rule.next_after(created),
            last_run_at: None,
            last_run_status: None,
            consecutive_failures: 0,
            disabled_reason: None,
            runs_in_flight: 0,
            created_at: created,
            updated_at: created,
            version: 1,
            lookback: None,
            settlement_delay: IsoDuration::ZERO,
            max_catchup: DEFAULT_MAX_CATCHUP,
            last_window_end: None,
            coverage: Ledger::default(),
            unannounced_gaps: Vec::new(),
            pause_reason: None,
            audit: Default::default(),
            notify_on: Default::default(),
            findings_summary: None,
            findings_baseline: None,
        };
        (schedule, rule)
    }

    fn finish(s: &mut Schedule, run: &mut Run, status: RunStatus, at: DateTime<Utc>) {
        run.finish(status, at, None, None);
        s.record_finished_run(run, at);
    }

    #[test]
    fn consecutive_claims_have_contiguous_windows_and_complete_runs_cover_them() {
        let (mut s, rule) = minutely(t(1, 7, 59) + Duration::seconds(30));
        let mut windows = Vec::new();
        for minute in 0..3 {
            let now = t(1, 8, minute);
            let mut run = s.claim(&rule, now, now).unwrap();
            windows.push(run.window().unwrap());
            finish(&mut s, &mut run, RunStatus::Completed, now);
        }
        assert_eq!(windows[0], Window::new(t(1, 7, 59), t(1, 8, 0)));
        assert_eq!(windows[1], Window::new(t(1, 8, 0), t(1, 8, 1)));
        assert_eq!(windows[2], Window::new(t(1, 8, 1), t(1, 8, 2)));
        assert_eq!(s.coverage.covered(), [Window::new(t(1, 7, 59), t(1, 8, 2))]);
        assert!(s.coverage.gaps().is_empty());
    }

    #[test]
    fn an_outage_is_one_run_spanning_it_and_beyond_max_catchup_is_missed() {
        let (mut s, rule) = minutely(t(1, 7, 59) + Duration::seconds(30));
        s.max_catchup = IsoDuration::parse("max_catchup", "PT1H").unwrap();
        let mut run = s.claim(&rule, t(1, 8, 0), t(1, 8, 0)).unwrap();
        finish(&mut s, &mut run, RunStatus::Completed, t(1, 8, 0));
        // Down for 30 minutes: one run over the whole outage.
        let run = s.claim(&rule, t(1, 8, 30), t(1, 8, 30)).unwrap();
        assert_eq!(run.window(), Some(Window::new(t(1, 8, 0), t(1, 8, 30))));
        assert!(run.gaps.is_empty());
        assert!(
            s.claim(&rule, t(1, 8, 30), t(1, 8, 30)).is_none(),
            "claimed once"
        );
        // Down for three hours with max_catchup PT1H: the first two are missed, and announced by the run.
        let mut s2 = s.clone();
        s2.runs_in_flight = 0;
        let run = s2.claim(&rule, t(1, 11, 30), t(1, 11, 30)).unwrap();
        assert_eq!(run.window(), Some(Window::new(t(1, 10, 30), t(1, 11, 30))));
        assert_eq!(run.gaps.len(), 1);
        assert_eq!(run.gaps[0].reason, GapReason::Missed);
        assert_eq!(run.gaps[0].window(), Window::new(t(1, 8, 30), t(1, 10, 30)));
    }

    #[test]
    fn a_failed_run_leaves_a_gap_a_skipped_one_too_and_a_completed_backfill_closes_it() {
        let (mut s, rule) = minutely(t(1, 7, 59) + Duration::seconds(30));
        let mut first = s.claim(&rule, t(1, 8, 0), t(1, 8, 0)).unwrap();
        // The next minute comes while the first is still running: skipped, its window a gap.
        let skipped = s.claim(&rule, t(1, 8, 1), t(1, 8, 1)).unwrap();
        assert_eq!(skipped.status, RunStatus::Skipped);
        assert_eq!(skipped.gaps[0].reason, GapReason::Skipped);
        assert_eq!(skipped.work.map(|w| w.kind), Some(WorkKind::Notify));
        finish(&mut s, &mut first, RunStatus::Failed, t(1, 8, 1));
        assert_eq!(first.gaps[0].reason, GapReason::Failed);
        let reasons: Vec<_> = s.coverage.gaps().iter().map(|g| g.reason).collect();
        assert_eq!(reasons, [GapReason::Failed, GapReason::Skipped]);
        assert_eq!(s.consecutive_failures, 1);

        // Backfill both: a failed backfill keeps the gap (failed) and does not count toward the streak.
        let window = Window::new(t(1, 7, 59), t(1, 8, 1));
        let mut bad = s
            .backfill(window, t(1, 8, 2), t(1, 8, 2), &alice())
            .unwrap();
        assert_eq!(
            s.runs_in_flight, 0,
            "a backfill never makes scheduled runs skip"
        );
        finish(&mut s, &mut bad, RunStatus::Failed, t(1, 8, 3));
        assert_eq!(s.consecutive_failures, 1);
        assert_eq!(s.coverage.gaps()[0].reason, GapReason::Failed);
        assert_eq!(s.coverage.gaps()[0].run_id, Some(bad.run_id.clone()));
        let mut good = s
            .backfill(window, t(1, 8, 4), t(1, 8, 4), &alice())
            .unwrap();
        assert_eq!(good.trigger, Trigger::Backfill);
        assert_eq!(s.coverage.in_progress().len(), 1);
        finish(&mut s, &mut good, RunStatus::Completed, t(1, 8, 5));
        assert!(s.coverage.gaps().is_empty());
        assert_eq!(s.coverage.covered(), [window]);
    }

    #[test]
    fn paused_and_disabled_time_is_a_gap_announced_by_the_next_run() {
        let (mut s, rule) = minutely(t(1, 7, 59) + Duration::seconds(30));
        let mut run = s.claim(&rule, t(1, 8, 0), t(1, 8, 0)).unwrap();
        finish(&mut s, &mut run, RunStatus::Completed, t(1, 8, 0));
        s.pause(t(1, 8, 0), &alice(), None).unwrap();
        s.resume(rule.next_after(t(1, 9, 0)), t(1, 9, 0), &alice(), None)
            .unwrap();
        assert_eq!(s.coverage.gaps()[0].reason, GapReason::Paused);
        assert_eq!(
            s.coverage.gaps()[0].window(),
            Window::new(t(1, 8, 0), t(1, 9, 0))
        );
        let run = s.claim(&rule, t(1, 9, 1), t(1, 9, 1)).unwrap();
        assert_eq!(run.window(), Some(Window::new(t(1, 9, 0), t(1, 9, 1))));
        assert_eq!(run.gaps[0].reason, GapReason::Paused);
        assert!(s.unannounced_gaps.is_empty());

        // A disabled schedule's time is `disabled`.
        s.disable(
            crate::domain::DisabledReason::RepeatedFailures { failures: 5 },
            t(1, 9, 1),
        )
        .unwrap();
        s.resume(rule.next_after(t(1, 10, 0)), t(1, 10, 0), &alice(), None)
            .unwrap();
        assert_eq!(s.unannounced_gaps[0].reason, GapReason::Disabled);
        assert_eq!(
            s.unannounced_gaps[0].window(),
            Window::new(t(1, 9, 1), t(1, 10, 0))
        );
    }

    #[test]
    fn run_now_has_the_nominal_window_and_does_not_move_the_scheduled_cursor() {
        let (mut s, rule) = minutely(t(1, 7, 59) + Duration::seconds(30));
        s.settlement_delay = IsoDuration::parse("settlement_delay", "PT10S").unwrap();
        let now = t(1, 8, 0) + Duration::seconds(30);
        let run = s.run_now(&rule, now, now, &alice());
        let ten = Duration::seconds(10);
        assert_eq!(
            run.window(),
            Some(Window::new(now - ten - Duration::minutes(1), now - ten))
        );
        assert_eq!(s.last_window_end, None);
        let scheduled = s.claim(&rule, t(1, 8, 1), t(1, 8, 1)).unwrap();
        assert_eq!(scheduled.window().unwrap().end, t(1, 8, 1) - ten);
    }
}
