//! `events/status-checker/tick.json` drives the real handler on the in-memory twins: a running investigation that
//! the engine reports failed is finished, and its notification published; a deadline no Lambda would send
//! (cargo-lambda's) still polls under `MAX_TICK_SECS` with one warning; a deadline that passes mid-tick stops the
//! polling and says so.

use anyhow::{Result, ensure};
use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use chrono::{Duration, TimeZone, Utc};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use shared::adapters::memory::{MemoryWorld, analyst, daily_schedule};
use shared::config::ServiceConfig;
use shared::domain::NotificationEvent;
use shared::ports::SessionState;
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tests::slow_engine::services_answering_after;

/// `MAX_TICK_SECS` in these tests.
const MAX_TICK: std::time::Duration = std::time::Duration::from_secs(45);
/// What cargo-lambda 1.9.2 sends as `Lambda-Runtime-Deadline-Ms`: its timeout, a duration.
const CARGO_LAMBDA_DEADLINE_MS: u64 = 600_000;

fn tick() -> Result<LambdaEvent<CloudWatchEvent>> {
    let file =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events/status-checker/tick.json");
    let payload: CloudWatchEvent = serde_json::from_str(&std::fs::read_to_string(file)?)?;
    Ok(LambdaEvent::new(payload, Context::default()))
}

#[tokio::test]
async fn the_tick_finishes_failed_runs_and_notifies() -> Result<()> {
    // Given a schedule whose run was started by run-now and which the engine now reports failed.
    let w = MemoryWorld::new(Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap());
    let (services, engine, notifier, clock) = (&w.services, &w.engine, &w.notifier, &w.clock);
    let alice = analyst("alice");
    let id = w
        .create(&alice, daily_schedule("Failed sign-ins", "08:00"))
        .await?;
    let run = services.run_now(&alice, &id).await?;
    let session = run.session_id.clone().expect("run-now started the session");
    engine.set_session(
        &session,
        Ok(SessionState::Failed {
            message: "Sentinel workspace not found".into(),
            finished_at: None,
        }),
    );
    clock.advance(Duration::minutes(5));

    // When the five-minute tick arrives.
    let report = status_checker::handle(services, MAX_TICK, tick()?).await?;

    // Then the run failed and exactly that notification went out.
    ensure!(
        report.failed == 1 && report.notifications_sent == 1,
        "{report:?}"
    );
    let published = notifier.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].event, NotificationEvent::InvestigationFailed);
    assert_eq!(published[0].run_id, run.run_id);
    Ok(())
}

/// Across both ticks: the dispatcher's fixture starts a due schedule, this fixture finishes it and notifies.
#[tokio::test]
async fn dispatch_then_check_completes_and_notifies() -> Result<()> {
    let w = MemoryWorld::new(Utc.with_ymd_and_hms(2026, 3, 2, 7, 0, 0).unwrap());
    let (services, engine, notifier, clock) = (&w.services, &w.engine, &w.notifier, &w.clock);
    w.create(
        &analyst("alice"),
        daily_schedule("Failed sign-ins", "08:00"),
    )
    .await?;
    clock.set(Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 5).unwrap());
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events/dispatcher/tick.json");
    let minute: CloudWatchEvent = serde_json::from_str(&std::fs::read_to_string(file)?)?;
    let dispatched = dispatcher::handle(
        services,
        MAX_TICK,
        LambdaEvent::new(minute, Context::default()),
    )
    .await?;
    ensure!(dispatched.started == 1, "{dispatched:?}");

    engine.set_session(
        "ses_1",
        Ok(SessionState::Completed {
            summary: Some("2 risky sign-ins".into()),
            finished_at: None,
            findings: Default::default(),
        }),
    );
    clock.advance(Duration::minutes(5));
    let report = status_checker::handle(services, MAX_TICK, tick()?).await?;

    ensure!(
        report.completed == 1 && report.notifications_sent == 1,
        "{report:?}"
    );
    let published = notifier.published();
    assert_eq!(published.len(), 1);
    assert_eq!(
        published[0].event,
        NotificationEvent::InvestigationCompleted
    );
    assert_eq!(published[0].summary.as_deref(), Some("2 risky sign-ins"));
    Ok(())
}

/// A schedule per name, each started by run-now (sessions `ses_1`, `ses_2`, ...) and now five minutes in.
async fn running(w: &MemoryWorld, names: &[&str]) -> Result<()> {
    let alice = analyst("alice");
    for name in names {
        let id = w.create(&alice, daily_schedule(name, "08:00")).await?;
        w.services.run_now(&alice, &id).await?;
    }
    w.clock.advance(Duration::minutes(5));
    Ok(())
}

#[tokio::test]
async fn cargo_lambdas_deadline_still_polls_under_max_tick_with_one_warning() -> Result<()> {
    let w = MemoryWorld::new(Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap());
    running(&w, &["Failed sign-ins"]).await?;
    w.engine.set_session(
        "ses_1",
        Ok(SessionState::Completed {
            summary: None,
            finished_at: None,
            findings: Default::default(),
        }),
    );
    let mut e = tick()?;
    e.context.deadline = CARGO_LAMBDA_DEADLINE_MS;

    let (_guard, logs) = tests::logs::capture();
    let report = status_checker::handle(&w.services, MAX_TICK, e).await?;

    ensure!(
        report.completed == 1 && report.notifications_sent == 1 && !report.stopped_at_deadline,
        "{report:?}"
    );
    let warnings = logs.lines_at("WARN");
    assert_eq!(warnings.len(), 1, "{}", logs.text());
    assert!(
        warnings[0].contains("already past on arrival") && warnings[0].contains("MAX_TICK_SECS"),
        "{}",
        warnings[0]
    );
    Ok(())
}

#[tokio::test]
async fn a_deadline_that_passes_mid_tick_stops_the_polling_and_says_so() -> Result<()> {
    // Two running investigations, read one per batch, on an engine whose first answer comes only after the
    // tick's deadline (its Lambda deadline is the safety margin plus 200 ms away).
    let config = ServiceConfig {
        batch_size: 1,
        ..ServiceConfig::default()
    };
    let w = MemoryWorld::with_config(Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap(), config);
    running(&w, &["Failed sign-ins", "Risky sign-ins"]).await?;
    let mut e = tick()?;
    let lambda_deadline =
        SystemTime::now() + aws_wiring::tick::SAFETY_MARGIN + std::time::Duration::from_millis(200);
    e.context.deadline = lambda_deadline.duration_since(UNIX_EPOCH)?.as_millis() as u64;
    let services =
        services_answering_after(&w, Instant::now() + std::time::Duration::from_millis(250));

    let (_guard, logs) = tests::logs::capture();
    let report = status_checker::handle(&services, MAX_TICK, e).await?;

    // The first poll answered after the deadline: the second run was not fetched, and the report and the log
    // say why.
    ensure!(
        report.stopped_at_deadline && report.checked == 1 && report.still_running == 1,
        "{report:?}"
    );
    assert!(
        logs.lines_at("WARN")
            .iter()
            .any(|l| l.contains("stopped polling at its deadline")),
        "{}",
        logs.text()
    );
    // The next tick polls the one left.
    let next = status_checker::handle(&w.services, MAX_TICK, tick()?).await?;
    assert!(next.checked >= 1 && !next.stopped_at_deadline, "{next:?}");
    Ok(())
}

#[tokio::test]
async fn a_wrong_event_is_a_typed_error() -> Result<()> {
    let w = MemoryWorld::new(Utc::now());
    let mut e = tick()?;
    e.payload.detail_type = None;
    let d = Diagnostic::from(
        status_checker::handle(&w.services, MAX_TICK, e)
            .await
            .unwrap_err(),
    );
    assert_eq!(d.error_type, "InvalidEvent");
    Ok(())
}

#[tokio::test]
async fn every_line_of_a_runs_work_carries_its_schedule_and_run_ids() -> Result<()> {
    // Given a run the engine reports failed.
    let w = MemoryWorld::new(Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap());
    let alice = analyst("alice");
    let id = w
        .create(&alice, daily_schedule("Failed sign-ins", "08:00"))
        .await?;
    let run = w.services.run_now(&alice, &id).await?;
    w.engine.set_session(
        run.session_id.as_deref().expect("started"),
        Ok(SessionState::Failed {
            message: "Sentinel workspace not found".into(),
            finished_at: None,
        }),
    );
    w.clock.advance(Duration::minutes(5));

    // When the tick finishes it and tries to publish its notification (the channel is down), with logs captured.
    w.notifier.set_failing(true);
    let (_guard, logs) = tests::logs::capture();
    status_checker::handle(&w.services, MAX_TICK, tick()?).await?;

    // Then the lines of that work (finishing, the failed publish) sit in the run's span, with both ids.
    let span = format!("run{{schedule_id={id} run_id={}}}", run.run_id);
    let text = logs.text();
    let in_span: Vec<&str> = text.lines().filter(|l| l.contains(&span)).collect();
    ensure!(
        in_span.iter().any(|l| l.contains("run finished")),
        "no finishing line in {span}: {text}"
    );
    ensure!(
        in_span
            .iter()
            .any(|l| l.contains("publish failed") && l.contains("investigation-failed")),
        "no notification line in {span}: {text}"
    );
    Ok(())
}
