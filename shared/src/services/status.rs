//! The five-minute tick: ask the engine about every running investigation, record the ones that finished (and
//! the ones past their timeout), apply the failure policy, then publish notifications.

use super::Services;
use crate::ServiceError;
use crate::domain::{Run, RunError, RunErrorKind, RunStatus, WorkKind};
use crate::ports::{EngineError, SessionState, WriteOutcome};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Instant;

/// Finishing retries when the schedule was modified concurrently (an edit, another run finishing).
const FINISH_RETRIES: usize = 8;
/// A run still running is polled again at the next tick: its next action moves just past this tick's `now`, so
/// this tick's work query does not return it again.
const POLL_AGAIN_AFTER_SECS: i64 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub checked: u64,
    pub completed: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub still_running: u64,
    /// Polls that failed transiently (engine down); those runs are polled again next tick.
    pub poll_errors: u64,
    pub notifications_sent: u64,
    /// The tick stopped because its deadline passed; what is left waits for the next tick.
    pub stopped_at_deadline: bool,
}

enum Checked {
    Completed,
    Failed,
    TimedOut,
    Running,
    PollError,
}

impl Services {
    /// Polls every running investigation, finishes those that ended (or timed out), then publishes the
    /// notifications of finished runs. Stops taking new batches after `deadline` (a Lambda's remaining time).
    #[tracing::instrument(skip_all, fields(now = %now))]
    pub async fn check_runs(
        &self,
        now: DateTime<Utc>,
        deadline: Option<Instant>,
    ) -> Result<CheckReport, ServiceError> {
        let began = std::time::Instant::now();
        let mut report = CheckReport::default();
        let polled = self
            .drain(
                WorkKind::Poll,
                now,
                deadline,
                self.config.dispatch_concurrency,
                |run| async move { Ok(self.check_one(run, now).await) },
            )
            .await?;
        for checked in polled.outcomes {
            report.checked += 1;
            match checked {
                Checked::Completed => report.completed += 1,
                Checked::Failed => report.failed += 1,
                Checked::TimedOut => report.timed_out += 1,
                Checked::Running => report.still_running += 1,
                Checked::PollError => report.poll_errors += 1,
            }
        }
        let delivered = self.deliver_notifications(now, deadline).await?;
        report.notifications_sent = delivered.sent;
        report.stopped_at_deadline = polled.stopped_at_deadline || delivered.stopped_at_deadline;
        crate::telemetry::tick_duration("status_check", began.elapsed().as_secs_f64());
        if report == CheckReport::default() {
            tracing::debug!("status check: nothing in flight");
        } else if report.stopped_at_deadline {
            tracing::warn!(
                ?report,
                "status check stopped at its deadline; the next tick goes on"
            );
        } else {
            tracing::info!(?report, "status check finished");
        }
        Ok(report)
    }

    /// Polls one run and records what its session says; `None` when someone else moved the run on first.
    async fn check_one(&self, run: Run, now: DateTime<Utc>) -> Option<Checked> {
        let started = run.started_at.unwrap_or(run.created_at);
        let timeout = chrono::Duration::from_std(self.config.run_timeout)
            .unwrap_or(chrono::Duration::hours(2));
        if now - started > timeout {
            let message = format!("still running after {} minutes", timeout.num_minutes());
            return self
                .failed(run, now, RunErrorKind::TimedOut, message, Checked::TimedOut)
                .await;
        }
        let Some(session_id) = run.session_id.clone() else {
            // A running run always has a session; treat a missing one as an engine contract breach.
            return self
                .failed(
                    run,
                    now,
                    RunErrorKind::InvalidResponse,
                    "run has no session id".into(),
                    Checked::Failed,
                )
                .await;
        };
        match self.engine.session(&session_id).await {
            Ok(SessionState::Active) => self.poll_later(run, now, Checked::Running).await,
            Ok(SessionState::Completed {
                summary,
                finished_at,
                findings,
            }) => {
                let at = finished_at.filter(|t| *t <= now).unwrap_or(now);
                let mut run = run;
                run.report_findings(findings);
                self.finished(
                    run,
                    RunStatus::Completed,
                    at,
                    None,
                    summary,
                    Checked::Completed,
                )
                .await
            }
            Ok(SessionState::Failed {
                message,
                finished_at,
            }) => {
                let at = finished_at.filter(|t| *t <= now).unwrap_or(now);
                self.failed(
                    run,
                    at,
                    RunErrorKind::InvestigationFailed,
                    message,
                    Checked::Failed,
                )
                .await
            }
            Err(e @ EngineError::Rejected { .. }) => {
                self.failed(
                    run,
                    now,
                    RunErrorKind::EngineRejected,
                    e.to_string(),
                    Checked::Failed,
                )
                .await
            }
            Err(e) => {
                // Engine down or overloaded: not the run's fault. Poll again next tick; the timeout bounds this.
                tracing::warn!(run_id = %run.run_id, error = %e, "could not poll session");
                self.poll_later(run, now, Checked::PollError).await
            }
        }
    }

    /// Finishes `run` as failed with an error of `kind`; `outcome` when the write applied.
    async fn failed(
        &self,
        run: Run,
        at: DateTime<Utc>,
        kind: RunErrorKind,
        message: String,
        outcome: Checked,
    ) -> Option<Checked> {
        let error = RunError { kind, message };
        self.finished(run, RunStatus::Failed, at, Some(error), None, outcome)
            .await
    }

    async fn finished(
        &self,
        run: Run,
        status: RunStatus,
        at: DateTime<Utc>,
        error: Option<RunError>,
        summary: Option<String>,
        ok: Checked,
    ) -> Option<Checked> {
        let expected = run.version;
        self.finish_run(run, expected, status, at, error, summary)
            .await
            .then_some(ok)
    }

    async fn poll_later(&self, run: Run, now: DateTime<Utc>, outcome: Checked) -> Option<Checked> {
        let mut next = run.clone();
        next.poll_again(now + chrono::Duration::seconds(POLL_AGAIN_AFTER_SECS));
        match self.store.update_run(&next, run.version).await {
            Ok(WriteOutcome::Applied) => Some(outcome),
            Ok(WriteOutcome::Conflict) => None,
            Err(e) => {
                tracing::error!(run_id = %run.run_id, error = %e, "could not record poll");
                None
            }
        }
    }

    /// Records a run's outcome and updates its schedule in one atomic write (failure counter, `once` completion,
    /// disabling after repeated failures), marking the run for the notification outbox. Returns false when the
    /// run was already moved on by someone else or the store failed (it will be retried by a later tick).
    pub(crate) async fn finish_run(
        &self,
        run: Run,
        expected_version: u64,
        status: RunStatus,
        finished_at: DateTime<Utc>,
        error: Option<RunError>,
        summary: Option<String>,
    ) -> bool {
        for _ in 0..FINISH_RETRIES {
            let schedule = match self.store.get_schedule(&run.schedule_id).await {
                Ok(Some(s)) => s,
                Ok(None) => {
                    tracing::error!(run_id = %run.run_id, "run's schedule is missing; cannot finish it");
                    return false;
                }
                Err(e) => {
                    tracing::error!(run_id = %run.run_id, error = %e, "store error while finishing run");
                    return false;
                }
            };
            let mut done = run.clone();
            done.finish(status, finished_at, error.clone(), summary.clone());
            let mut updated = schedule.clone();
            updated.record_finished_run(&mut done, self.clock.now());
            match self
                .store
                .finish_run(&done, expected_version, &updated, schedule.version)
                .await
            {
                Ok(WriteOutcome::Applied) => {
                    count_finished(&done);
                    tracing::info!(
                        run_id = %done.run_id, schedule_id = %done.schedule_id, status = %status,
                        error_kind = done.error.as_ref().map(|e| e.kind.as_str()),
                        consecutive_failures = updated.consecutive_failures,
                        schedule_status = %updated.status, "run finished"
                    );
                    if let Some(reason) = &done.disabled_schedule {
                        tracing::warn!(schedule_id = %updated.id, %reason, "schedule disabled");
                    }
                    return true;
                }
                Ok(WriteOutcome::Conflict) => {
                    // Either the schedule changed (retry with the fresh one) or the run did (someone else
                    // finished it: stop).
                    match self.store.get_run(&run.schedule_id, &run.run_id).await {
                        Ok(Some(r)) if r.version == expected_version => continue,
                        _ => return false,
                    }
                }
                Err(e) => {
                    tracing::error!(run_id = %run.run_id, error = %e, "store error while finishing run");
                    return false;
                }
            }
        }
        tracing::error!(run_id = %run.run_id, "gave up finishing run after repeated conflicts; next tick retries");
        false
    }
}

/// The outcome counters of a run just finished.
fn count_finished(run: &Run) {
    use crate::telemetry;
    match (run.status, &run.error) {
        (RunStatus::Completed, _) => {
            telemetry::count(telemetry::RUNS_COMPLETED);
            let new = run.findings_summary.map_or(0, |s| s.new);
            telemetry::count_by(telemetry::FINDINGS_NEW, u64::from(new));
        }
        (RunStatus::Failed, error) => {
            let kind = error.as_ref().map(|e| e.kind);
            telemetry::run_failed(kind.map_or("unknown", RunErrorKind::as_str));
            if kind == Some(RunErrorKind::TimedOut) {
                telemetry::count(telemetry::RUNS_TIMED_OUT);
            }
        }
        _ => {}
    }
}
