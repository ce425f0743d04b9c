//! `events/status-checker/tick.json` drives the real handler on the in-memory twins: a running investigation that
//! the engine reports failed is finished, and its notification published.

use anyhow::{Result, ensure};
use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use chrono::{Duration, TimeZone, Utc};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use shared::adapters::memory::{MemoryWorld, analyst, daily_schedule};
use shared::domain::NotificationEvent;
use shared::ports::SessionState;
use std::path::PathBuf;

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
    let report = status_checker::handle(services, tick()?).await?;

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
    let dispatched =
        dispatcher::handle(services, LambdaEvent::new(minute, Context::default())).await?;
    ensure!(dispatched.started == 1, "{dispatched:?}");

    engine.set_session(
        "ses_1",
        Ok(SessionState::Completed {
            summary: Some("2 risky sign-ins".into()),
            finished_at: None,
        }),
    );
    clock.advance(Duration::minutes(5));
    let report = status_checker::handle(services, tick()?).await?;

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

#[tokio::test]
async fn a_wrong_event_is_a_typed_error() -> Result<()> {
    let w = MemoryWorld::new(Utc::now());
    let mut e = tick()?;
    e.payload.detail_type = None;
    let d = Diagnostic::from(status_checker::handle(&w.services, e).await.unwrap_err());
    assert_eq!(d.error_type, "InvalidEvent");
    Ok(())
}
