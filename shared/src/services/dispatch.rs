//! The minute tick: find due schedules, claim each occurrence exactly once, and start the investigations.
//!
//! Correctness rests only on the store's conditional writes (DESIGN §5): the due query proposes candidates; one
//! atomic write advances the schedule and creates the run; only the writer that won starts it. A run whose start
//! was never confirmed stays `pending` with a lease and is started again, with the same idempotency key, by a
//! later tick.
//!
//! Claims and starts are a pipeline: a claiming task turns due occurrences (and unconfirmed pending runs) into
//! durable, leased runs and hands them over a bounded channel to the starter, which keeps
//! `dispatch_concurrency` starts in flight for as long as there is anything to start. So the engine stays busy
//! while the next batch is being claimed, and claims never run far ahead of starts.

use super::Services;
use super::drain::past;
use super::schedules::stored_rule;
use crate::ServiceError;
use crate::domain::{Run, RunError, RunErrorKind, RunStatus, Schedule, WorkKind};
use crate::ports::{EngineError, StartRequest, WriteOutcome};
use crate::telemetry;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Semaphore, mpsc};
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
    /// The tick stopped claiming because its deadline passed; what is still due is left for the next tick.
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

    /// Claims every due occurrence and starts it, after first re-taking pending runs whose lease or back-off has
    /// passed. Stops claiming after `deadline` (a Lambda's remaining time); runs already claimed are still started.
    #[tracing::instrument(skip_all, fields(now = %now))]
    pub async fn dispatch_due(
        &self,
        now: DateTime<Utc>,
        deadline: Option<Instant>,
    ) -> Result<DispatchReport, ServiceError> {
        let began = Instant::now();
        let concurrency = self.config.dispatch_concurrency.max(1);
        let (to_start, claimed) = mpsc::channel::<Run>(2 * concurrency);
        // Both sides run in this task (dropping the tick cancels both); the starts themselves are spawned.
        let (claims, mut report) = tokio::join!(
            self.claim_all(now, deadline, to_start),
            self.start_all(claimed, concurrency)
        );
        let claims = claims?;
        report.claimed = claims.claimed;
        report.skipped = claims.skipped;
        report.conflicts += claims.conflicts;
        report.failed += claims.disabled;
        report.recovered = claims.recovered;
        report.errors += claims.errors;
        report.stopped_at_deadline = claims.stopped_at_deadline;
        telemetry::tick_duration("dispatch", began.elapsed().as_secs_f64());
        if report == DispatchReport::default() {
            tracing::debug!("dispatch tick: nothing due");
        } else if report.stopped_at_deadline {
            tracing::warn!(
                ?report,
                "dispatch tick stopped claiming at its deadline; the next tick goes on"
            );
        } else {
            tracing::info!(?report, "dispatch tick finished");
        }
        Ok(report)
    }

    /// The starting side of the pipeline: keeps `concurrency` starts in flight while the claimer hands over runs.
    async fn start_all(
        &self,
        mut claimed: mpsc::Receiver<Run>,
        concurrency: usize,
    ) -> DispatchReport {
        let mut report = DispatchReport::default();
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut starts: JoinSet<StartOutcome> = JoinSet::new();
        while let Some(run) = claimed.recv().await {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let this = self.clone();
            starts.spawn(async move {
                let _permit = permit;
                this.start_run_outcome(run).await
            });
            while let Some(done) = starts.try_join_next() {
                tally_start(&mut report, done);
            }
        }
        while let Some(done) = starts.join_next().await {
            tally_start(&mut report, done);
        }
        report
    }

    /// The claiming side of the pipeline: recovery of unconfirmed pending runs, then the due schedules batch by
    /// batch. Every run it sends is durable (claimed or leased) before it is sent.
    async fn claim_all(
        &self,
        now: DateTime<Utc>,
        deadline: Option<Instant>,
        to_start: mpsc::Sender<Run>,
    ) -> Result<ClaimTally, ServiceError> {
        let concurrency = self.config.dispatch_concurrency.max(1);
        let mut tally = ClaimTally::default();

        // 1. Pending runs whose start was never confirmed (crash, timeout) or was put off.
        let recovered = self
            .drain(WorkKind::Start, now, deadline, concurrency, |run| {
                let to_start = to_start.clone();
                async move {
                    let mut leased = run.clone();
                    leased.lease(now + self.lease());
                    if !self.store.update_run(&leased, run.version).await?.applied() {
                        return Ok(None);
                    }
                    // A closed channel means the starter is gone; the lease expires and a later tick retries.
                    let _ = to_start.send(leased).await;
                    Ok(Some(()))
                }
            })
            .await?;
        tally.recovered = recovered.outcomes.len() as u64;
        tally.stopped_at_deadline = recovered.stopped_at_deadline;

        // 2. Due schedules, batch by batch. Claimed schedules move out of the due range, so each query returns new
        //    candidates; a batch that claims nothing ends the loop (no spinning on a stuck candidate).
        loop {
            if past(deadline) {
                tally.stopped_at_deadline = true;
                break;
            }
            let due = self
                .store
                .due_schedules(now, self.config.batch_size)
                .await?;
            if due.is_empty() {
                break;
            }
            let mut claims = futures::stream::iter(due)
                .map(|s| self.claim(s, now))
                .buffer_unordered(concurrency);
            let mut progressed = false;
            while let Some(claim) = claims.next().await {
                match claim {
                    Ok(Claim::Run(run)) => {
                        progressed = true;
                        tally.claimed += 1;
                        let _ = to_start.send(*run).await;
                    }
                    Ok(Claim::Skipped) => {
                        progressed = true;
                        tally.skipped += 1;
                    }
                    Ok(Claim::Conflict) => tally.conflicts += 1,
                    Ok(Claim::Disabled) => {
                        progressed = true;
                        tally.disabled += 1;
                    }
                    Err(e) => {
                        tally.errors += 1;
                        tracing::error!(error = %e, "could not claim a due schedule");
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        Ok(tally)
    }

    /// One atomic write: the schedule advanced past `now` and the run for its due occurrence (pending, or skipped
    /// while an earlier run is still in flight).
    #[tracing::instrument(skip_all, fields(schedule_id = %schedule.id))]
    async fn claim(&self, schedule: Schedule, now: DateTime<Utc>) -> Result<Claim, ServiceError> {
        let rule = match stored_rule(&schedule) {
            Ok(rule) => rule,
            Err(problem) => return self.disable_unrunnable(schedule, now, problem).await,
        };
        let mut advanced = schedule.clone();
        let Some(run) = advanced.claim(&rule, now, now + self.lease()) else {
            return Ok(Claim::Conflict);
        };
        match self
            .store
            .create_run(&advanced, schedule.version, &run)
            .await?
        {
            WriteOutcome::Conflict => {
                telemetry::count(telemetry::CLAIM_CONFLICTS);
                Ok(Claim::Conflict)
            }
            WriteOutcome::Applied if run.status == RunStatus::Skipped => {
                telemetry::count(telemetry::RUNS_SKIPPED);
                tracing::info!(schedule_id = %schedule.id, run_id = %run.run_id, occurrence = %run.scheduled_for,
                    "occurrence skipped: a run is still in flight");
                Ok(Claim::Skipped)
            }
            WriteOutcome::Applied => {
                telemetry::count(telemetry::RUNS_CLAIMED);
                tracing::info!(schedule_id = %schedule.id, run_id = %run.run_id, occurrence = %run.scheduled_for,
                    "occurrence claimed");
                Ok(Claim::Run(Box::new(run)))
            }
        }
    }

    /// A due schedule whose stored definition no longer parses (say its time zone left the tz database) can never
    /// run. Rather than retrying it every tick, one atomic write records a failed run for the due occurrence and
    /// disables the schedule with that reason, so its owner is told (`investigation-failed`, `schedule-disabled`)
    /// and can fix the definition and resume it.
    async fn disable_unrunnable(
        &self,
        schedule: Schedule,
        now: DateTime<Utc>,
        problem: ServiceError,
    ) -> Result<Claim, ServiceError> {
        let Some(occurrence) = schedule.next_run_at else {
            return Ok(Claim::Conflict);
        };
        tracing::error!(schedule_id = %schedule.id, error = %problem,
            "stored schedule definition no longer valid; disabling the schedule");
        let mut disabled = schedule.clone();
        let run = disabled.disable_unrunnable(occurrence, problem.to_string(), now);
        match self
            .store
            .create_run(&disabled, schedule.version, &run)
            .await?
        {
            WriteOutcome::Conflict => Ok(Claim::Conflict),
            WriteOutcome::Applied => {
                telemetry::run_failed(crate::domain::RunErrorKind::InvalidSchedule.as_str());
                Ok(Claim::Disabled)
            }
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
    #[tracing::instrument(skip_all, fields(schedule_id = %run.schedule_id, run_id = %run.run_id))]
    pub(crate) async fn start_run_outcome(&self, run: Run) -> StartOutcome {
        let request = StartRequest {
            idempotency_key: run.run_id.to_string(),
            query: run.user_query.clone(),
            persona: run.persona.clone(),
            time_range: run.window(),
        };
        let answer = self.engine.start(&request).await;
        let now = self.clock.now();
        let mut next = run.clone();
        let outcome = match answer {
            Ok(session_id) => {
                next.started(session_id, now);
                StartOutcome::Started
            }
            Err(EngineError::Backpressure { retry_after }) => {
                // Not a failure: the engine limits concurrent investigations. Try again after its delay.
                let delay = chrono::Duration::from_std(retry_after)
                    .unwrap_or(chrono::Duration::seconds(30));
                next.defer(now + delay);
                telemetry::count(telemetry::RUNS_DEFERRED);
                tracing::info!(run_id = %run.run_id, retry_after_s = retry_after.as_secs(), "engine busy; start deferred");
                StartOutcome::Deferred
            }
            Err(e @ (EngineError::Unavailable(_) | EngineError::InvalidResponse(_))) => {
                if let Some(error) =
                    next.start_failed(now, self.config.max_start_attempts, &e.to_string())
                {
                    let applied = self
                        .finish_run(next, run.version, RunStatus::Failed, now, Some(error), None)
                        .await;
                    return StartOutcome::failed_if(applied);
                }
                telemetry::count(telemetry::RUNS_RETRIED);
                tracing::warn!(run_id = %run.run_id, attempts = next.attempts, error = %e, "start failed; will retry");
                StartOutcome::Deferred
            }
            Err(e @ EngineError::Rejected { .. }) => {
                let error = RunError {
                    kind: RunErrorKind::EngineRejected,
                    message: e.to_string(),
                };
                let applied = self
                    .finish_run(
                        run.clone(),
                        run.version,
                        RunStatus::Failed,
                        now,
                        Some(error),
                        None,
                    )
                    .await;
                return StartOutcome::failed_if(applied);
            }
        };
        match self.store.update_run(&next, run.version).await {
            Ok(WriteOutcome::Applied) => {
                if outcome == StartOutcome::Started {
                    telemetry::count(telemetry::RUNS_STARTED);
                    telemetry::dispatch_lag(lag_seconds(now, run.scheduled_for));
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

/// Start confirmed − occurrence, in seconds (never negative: a manual run's occurrence is its request time).
fn lag_seconds(started: DateTime<Utc>, occurrence: DateTime<Utc>) -> f64 {
    ((started - occurrence).num_milliseconds().max(0) as f64) / 1000.0
}

impl StartOutcome {
    /// A start that ended the run: `Failed` when the finishing write applied, `Lost` when someone else finished it.
    fn failed_if(applied: bool) -> Self {
        if applied { Self::Failed } else { Self::Lost }
    }
}

/// What the claiming side of a tick did.
#[derive(Debug, Default)]
struct ClaimTally {
    claimed: u64,
    skipped: u64,
    conflicts: u64,
    disabled: u64,
    recovered: u64,
    errors: u64,
    stopped_at_deadline: bool,
}

fn tally_start(report: &mut DispatchReport, done: Result<StartOutcome, tokio::task::JoinError>) {
    match done {
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
