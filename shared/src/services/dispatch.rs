//! The minute tick: find due schedules, claim each occurrence exactly once, and start the investigations.
//!
//! Correctness rests only on the store's conditional writes (DESIGN §5): the due query proposes candidates; one
//! atomic write advances the schedule and creates the run; only the writer that won starts it. A run whose start
//! was never confirmed stays `pending` with a lease (`next_action_at`) and is started again, with the same
//! idempotency key, by a later tick.

use super::Services;
use super::schedules::stored_rule;
use crate::domain::error::ServiceError;
use crate::domain::run::{RunError, RunErrorKind, WorkKind};
use crate::domain::timing::Frequency;
use crate::domain::{Run, RunId, RunStatus, Schedule, Trigger};
use crate::ports::{EngineError, StartRequest, WriteOutcome};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// What one dispatch tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DispatchReport {
    /// Occurrences this tick claimed (runs created).
    pub claimed: u64,
    /// Occurrences recorded as skipped because an earlier run was still in flight.
    pub skipped: u64,
    /// Claims lost to another dispatcher (or to a concurrent edit).
    pub conflicts: u64,
    /// Runs the engine accepted (including recovered ones).
    pub started: u64,
    /// Starts put off by engine backpressure (429) or a transient error; they stay `pending`.
    pub deferred: u64,
    /// Runs that failed to start for good.
    pub failed: u64,
    /// Unconfirmed pending runs picked up again.
    pub recovered: u64,
    /// Candidates that could not be processed (store errors, broken definitions); they are retried next tick.
    pub errors: u64,
    /// The tick stopped claiming because its deadline passed; what is still due waits for the next tick.
    pub stopped_at_deadline: bool,
}

/// What happened to one start attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartOutcome {
    Started,
    Deferred,
    Failed,
    /// Someone else moved the run on first; nothing was written.
    Lost,
}

enum Claim {
    Run(Box<Run>),
    Skipped,
    Conflict,
    /// The schedule can never run (its stored definition no longer parses): disabled, with a failed run recorded.
    Disabled,
}

impl Services {
    pub(crate) fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.config.start_lease).unwrap_or(chrono::Duration::minutes(2))
    }

    /// Claims every due occurrence and starts it; then retries pending runs whose lease or back-off has passed.
    /// Stops claiming new batches after `deadline` (a Lambda's remaining time); starts already begun finish.
    #[tracing::instrument(skip_all, fields(now = %now))]
    pub async fn dispatch_due(
        &self,
        now: DateTime<Utc>,
        deadline: Option<Instant>,
    ) -> Result<DispatchReport, ServiceError> {
        let mut report = DispatchReport::default();
        let permits = Arc::new(Semaphore::new(self.config.dispatch_concurrency.max(1)));
        let mut starts: JoinSet<StartOutcome> = JoinSet::new();
        let past_deadline = || deadline.is_some_and(|d| Instant::now() >= d);

        // 1. Recovery first: pending runs whose start was never confirmed (crash, timeout) or was put off.
        loop {
            let pending = self
                .store
                .runs_with_work(WorkKind::Start, now, self.config.batch_size)
                .await?;
            if pending.is_empty() {
                break;
            }
            let mut progressed = false;
            for run in pending {
                // Take the lease so a concurrent tick does not start it too (the idempotency key would make that
                // harmless at the engine, but it would waste a request).
                let mut leased = run.clone();
                leased.next_action_at = Some(now + self.lease());
                leased.touch();
                if !self.store.update_run(&leased, run.version).await?.applied() {
                    report.conflicts += 1;
                    continue;
                }
                progressed = true;
                report.recovered += 1;
                self.spawn_start(&mut starts, &permits, leased).await;
            }
            if !progressed || past_deadline() {
                break;
            }
        }

        // 2. Due schedules, batch by batch. Claimed schedules move out of the due range, so each query returns
        //    new candidates; a batch that claims nothing ends the loop (no spinning on a stuck candidate).
        loop {
            if past_deadline() {
                report.stopped_at_deadline = true;
                break;
            }
            let due = self
                .store
                .due_schedules(now, self.config.batch_size)
                .await?;
            if due.is_empty() {
                break;
            }
            let claims: Vec<Result<Claim, ServiceError>> = futures::stream::iter(due)
                .map(|s| self.claim(s, now))
                .buffer_unordered(self.config.dispatch_concurrency.max(1))
                .collect()
                .await;
            let mut progressed = false;
            for claim in claims {
                match claim {
                    Ok(Claim::Run(run)) => {
                        progressed = true;
                        report.claimed += 1;
                        self.spawn_start(&mut starts, &permits, *run).await;
                    }
                    Ok(Claim::Skipped) => {
                        progressed = true;
                        report.skipped += 1;
                    }
                    Ok(Claim::Conflict) => report.conflicts += 1,
                    Ok(Claim::Disabled) => {
                        progressed = true;
                        report.failed += 1;
                    }
                    Err(e) => {
                        report.errors += 1;
                        tracing::error!(error = %e, "could not claim a due schedule");
                    }
                }
            }
            if !progressed {
                break;
            }
        }

        while let Some(outcome) = starts.join_next().await {
            match outcome {
                Ok(StartOutcome::Started) => report.started += 1,
                Ok(StartOutcome::Deferred) => report.deferred += 1,
                Ok(StartOutcome::Failed) => report.failed += 1,
                Ok(StartOutcome::Lost) => report.conflicts += 1,
                Err(e) => {
                    report.errors += 1;
                    tracing::error!(error = %e, "start task panicked or was cancelled");
                }
            }
        }
        if report == DispatchReport::default() {
            tracing::debug!("dispatch tick: nothing due");
        } else {
            tracing::info!(?report, "dispatch tick finished");
        }
        Ok(report)
    }

    async fn spawn_start(
        &self,
        starts: &mut JoinSet<StartOutcome>,
        permits: &Arc<Semaphore>,
        run: Run,
    ) {
        // Wait for a slot here so at most `dispatch_concurrency` starts are in flight and claims do not run far
        // ahead of starts (a claimed run waiting for a slot is still durable: it is `pending` with a lease).
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let this = self.clone();
        starts.spawn(async move {
            let _permit = permit;
            this.start_run_outcome(run).await
        });
    }

    /// One atomic write: advance the schedule past `now` (missed occurrences coalesced into the latest one) and
    /// create the run for that occurrence, or record it as skipped while an earlier run is still in flight.
    async fn claim(&self, schedule: Schedule, now: DateTime<Utc>) -> Result<Claim, ServiceError> {
        let Some(first_due) = schedule.next_run_at else {
            return Ok(Claim::Conflict);
        };
        let rule = match stored_rule(&schedule) {
            Ok(rule) => rule,
            Err(problem) => {
                return self
                    .disable_unrunnable(schedule, first_due, now, problem)
                    .await;
            }
        };
        let (occurrence, next) = rule.coalesce(first_due, now);
        let mut advanced = schedule.clone();
        advanced.next_run_at = next;
        advanced.touch(now);
        // A one-time schedule has a single occurrence: it always runs, overlap or not.
        let overlap = schedule.runs_in_flight > 0 && schedule.timing.frequency != Frequency::Once;
        let run_id = RunId::scheduled(&schedule.id, occurrence);
        let run = if overlap {
            Run::skipped(&schedule, run_id, occurrence, now)
        } else {
            advanced.runs_in_flight += 1;
            Run::pending(
                &schedule,
                run_id,
                Trigger::Scheduled,
                occurrence,
                now,
                now + self.lease(),
            )
        };

        match self
            .store
            .create_run(&advanced, schedule.version, &run)
            .await?
        {
            WriteOutcome::Conflict => Ok(Claim::Conflict),
            WriteOutcome::Applied if overlap => {
                tracing::info!(schedule_id = %schedule.id, %occurrence, "occurrence skipped: a run is still in flight");
                Ok(Claim::Skipped)
            }
            WriteOutcome::Applied => {
                tracing::info!(schedule_id = %schedule.id, run_id = %run.run_id, %occurrence, "occurrence claimed");
                Ok(Claim::Run(Box::new(run)))
            }
        }
    }

    /// A due schedule whose stored definition no longer parses (say its time zone left the tz database) can never
    /// run. Rather than retrying it every tick, one atomic write records a failed run for the due occurrence and
    /// disables the schedule, so its owner is told (`investigation-failed`, `schedule-disabled`) and can fix the
    /// definition and resume it.
    async fn disable_unrunnable(
        &self,
        schedule: Schedule,
        occurrence: DateTime<Utc>,
        now: DateTime<Utc>,
        problem: ServiceError,
    ) -> Result<Claim, ServiceError> {
        tracing::error!(schedule_id = %schedule.id, error = %problem, "stored schedule definition no longer valid; disabling the schedule");
        let run_id = RunId::scheduled(&schedule.id, occurrence);
        let mut run = Run::pending(&schedule, run_id, Trigger::Scheduled, occurrence, now, now);
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
        run.disabled_schedule = true;
        let mut disabled = schedule.clone();
        disabled.status = crate::domain::ScheduleStatus::Failed;
        disabled.next_run_at = None;
        disabled.last_run_at = Some(now);
        disabled.last_run_status = Some(RunStatus::Failed);
        disabled.consecutive_failures += 1;
        disabled.touch(now);
        match self
            .store
            .create_run(&disabled, schedule.version, &run)
            .await?
        {
            WriteOutcome::Conflict => Ok(Claim::Conflict),
            WriteOutcome::Applied => Ok(Claim::Disabled),
        }
    }

    /// Starts a pending run and returns it as stored afterwards (used by run-now).
    pub(crate) async fn start_run(&self, run: Run) -> Run {
        let schedule_id = run.schedule_id.clone();
        let run_id = run.run_id.clone();
        let fallback = run.clone();
        self.start_run_outcome(run).await;
        match self.store.get_run(&schedule_id, &run_id).await {
            Ok(Some(stored)) => stored,
            _ => fallback,
        }
    }

    /// The one start path (dispatcher, recovery, run-now): ask the engine, then record what it said.
    pub(crate) async fn start_run_outcome(&self, run: Run) -> StartOutcome {
        let request = StartRequest {
            idempotency_key: run.run_id.to_string(),
            query: run.user_query.clone(),
            persona: run.persona.clone(),
        };
        let answer = self.engine.start(&request).await;
        let now = self.clock.now();
        let mut next = run.clone();
        next.touch();
        let outcome = match answer {
            Ok(session_id) => {
                next.status = RunStatus::Running;
                next.session_id = Some(session_id);
                next.started_at = Some(now);
                next.work = Some(WorkKind::Poll);
                next.next_action_at = Some(now);
                StartOutcome::Started
            }
            Err(EngineError::Backpressure { retry_after }) => {
                // Not a failure: the engine limits concurrent investigations. Try again after its delay.
                let delay = chrono::Duration::from_std(retry_after)
                    .unwrap_or(chrono::Duration::seconds(30));
                next.next_action_at = Some(now + delay);
                tracing::info!(run_id = %run.run_id, retry_after_s = retry_after.as_secs(), "engine busy; start deferred");
                StartOutcome::Deferred
            }
            Err(e @ (EngineError::Unavailable(_) | EngineError::InvalidResponse(_))) => {
                next.attempts += 1;
                if next.attempts >= self.config.max_start_attempts {
                    let error = RunError {
                        kind: RunErrorKind::EngineUnavailable,
                        message: format!("gave up after {} attempts: {e}", next.attempts),
                    };
                    return self
                        .finish_run(
                            run_with_attempts(run, next.attempts),
                            RunStatus::Failed,
                            now,
                            Some(error),
                            None,
                        )
                        .await
                        .into();
                }
                // Exponential back-off: 30 s, 60 s, 120 s, ...
                let delay = chrono::Duration::seconds(30 * (1i64 << (next.attempts - 1).min(6)));
                next.next_action_at = Some(now + delay);
                tracing::warn!(run_id = %run.run_id, attempts = next.attempts, error = %e, "start failed; will retry");
                StartOutcome::Deferred
            }
            Err(e @ EngineError::Rejected { .. }) => {
                let error = RunError {
                    kind: RunErrorKind::EngineRejected,
                    message: e.to_string(),
                };
                return self
                    .finish_run(run, RunStatus::Failed, now, Some(error), None)
                    .await
                    .into();
            }
        };
        match self.store.update_run(&next, run.version).await {
            Ok(WriteOutcome::Applied) => {
                if outcome == StartOutcome::Started {
                    tracing::info!(run_id = %next.run_id, session_id = ?next.session_id, "investigation started");
                }
                outcome
            }
            Ok(WriteOutcome::Conflict) => StartOutcome::Lost,
            Err(e) => {
                // The engine has the session but we could not record it: the run stays pending and the retry uses
                // the same idempotency key, so the engine hands back the same session.
                tracing::error!(run_id = %run.run_id, error = %e, "could not record the start; will retry");
                StartOutcome::Deferred
            }
        }
    }
}

fn run_with_attempts(mut run: Run, attempts: u32) -> Run {
    run.attempts = attempts;
    run
}

/// Turns a `finish_run` result into a start outcome.
impl From<bool> for StartOutcome {
    fn from(applied: bool) -> Self {
        if applied {
            StartOutcome::Failed
        } else {
            StartOutcome::Lost
        }
    }
}
