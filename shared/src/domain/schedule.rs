//! A schedule: an investigation question, who asks it, when it runs, and where it is in its lifecycle.

use crate::domain::audit::{Actor, AuditAction, AuditEvent, FieldChange, PendingAudit};
use crate::domain::error::TransitionError;
use crate::domain::findings::{FindingsBaseline, FindingsSummary, NotifyOn};
use crate::domain::ids::{RunId, ScheduleId};
use crate::domain::policy::{DisabledReason, MAX_CONSECUTIVE_FAILURES};
use crate::domain::run::{Run, RunError, RunErrorKind, RunStatus, RunSubject, Trigger};
use crate::domain::timing::{Frequency, TimingRule, TimingSpec};
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
        let run = if overlap {
            Run::skipped(self.subject(), run_id, occurrence, now)
        } else {
            self.runs_in_flight += 1;
            Run::pending(
                self.subject(),
                run_id,
                Trigger::Scheduled,
                occurrence,
                now,
                lease_until,
            )
        };
        self.next_run_at = next;
        self.touch(now);
        Some(run)
    }

    /// A manual run ("run now"), allowed whatever is in flight: `pending`, leased until `lease_until`.
    pub fn run_now(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        actor: &Actor,
    ) -> Run {
        self.runs_in_flight += 1;
        self.touch(now);
        self.record(actor, AuditAction::RunRequested, Vec::new(), None);
        Run::pending(
            self.subject(),
            RunId::manual(now),
            Trigger::Manual,
            now,
            now,
            lease_until,
        )
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
        self.runs_in_flight = self.runs_in_flight.saturating_sub(1);
        self.last_run_at = Some(finished_at);
        self.last_run_status = Some(run.status);
        match run.status {
            RunStatus::Completed => self.consecutive_failures = 0,
            RunStatus::Failed => self.consecutive_failures += 1,
            _ => {}
        }
        let reason = must_disable.or_else(|| {
            (run.status == RunStatus::Failed
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
