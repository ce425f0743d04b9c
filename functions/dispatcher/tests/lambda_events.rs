//! `events/dispatcher/tick.json` drives the real handler on the in-memory twins: a due schedule is claimed and
//! started once, a duplicate tick claims nothing, a deadline too close claims nothing and says so, a deadline no
//! Lambda would send (cargo-lambda's) still claims under `MAX_TICK_SECS` with one warning, a deadline that passes
//! mid-tick stops the claiming and says so, a wrong event is a typed error.

use anyhow::{Result, ensure};
use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use chrono::{TimeZone, Utc};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use shared::adapters::memory::{MemoryWorld, analyst, daily_schedule};
use shared::config::ServiceConfig;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tests::slow_engine::services_answering_after;

/// `MAX_TICK_SECS` in these tests.
const MAX_TICK: Duration = Duration::from_secs(45);
/// What cargo-lambda 1.9.2 sends as `Lambda-Runtime-Deadline-Ms`: its timeout, a duration.
const CARGO_LAMBDA_DEADLINE_MS: u64 = 600_000;

/// A daily 08:00 UTC schedule created at 07:00, so the tick at 08:00 finds it due.
async fn world() -> Result<MemoryWorld> {
    let w = MemoryWorld::new(Utc.with_ymd_and_hms(2026, 3, 2, 7, 0, 0).unwrap());
    w.create(
        &analyst("alice"),
        daily_schedule("Failed sign-ins", "08:00"),
    )
    .await?;
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 5).unwrap());
    Ok(w)
}

fn event(path: &str, deadline_in: Option<Duration>) -> Result<LambdaEvent<CloudWatchEvent>> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(path);
    let payload: CloudWatchEvent = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
    let mut context = Context::default();
    context.request_id = "8f5d0a1c-3e2b-4f6a-9c7d-1b2e3f4a5b6c".into();
    if let Some(d) = deadline_in {
        context.deadline = epoch_ms_in(d)?;
    }
    Ok(LambdaEvent::new(payload, context))
}

/// A deadline `d` from now, as Lambda sends it.
fn epoch_ms_in(d: Duration) -> Result<u64> {
    Ok((SystemTime::now() + d)
        .duration_since(UNIX_EPOCH)?
        .as_millis() as u64)
}

#[tokio::test]
async fn the_tick_claims_and_starts_each_due_occurrence_once() -> Result<()> {
    let w = world().await?;

    // When the minute tick arrives (with Lambda's usual 55 s left)...
    let report = dispatcher::handle(
        &w.services,
        MAX_TICK,
        event("dispatcher/tick.json", Some(Duration::from_secs(55)))?,
    )
    .await?;
    // ...the occurrence is claimed and started once.
    ensure!(report.claimed == 1 && report.started == 1, "{report:?}");
    assert!(!report.stopped_at_deadline);
    assert_eq!(w.engine.started().len(), 1);

    // A duplicate delivery of the same tick claims nothing more.
    let again =
        dispatcher::handle(&w.services, MAX_TICK, event("dispatcher/tick.json", None)?).await?;
    assert_eq!((again.claimed, again.started), (0, 0), "{again:?}");
    assert_eq!(w.engine.started().len(), 1);

    Ok(())
}

#[tokio::test]
async fn a_passed_deadline_claims_nothing_new() -> Result<()> {
    let w = world().await?;
    // Less time left than the safety margin: the tick must not start claiming.
    let report = dispatcher::handle(
        &w.services,
        MAX_TICK,
        event("dispatcher/tick.json", Some(Duration::from_secs(5)))?,
    )
    .await?;
    assert_eq!(report.claimed, 0, "{report:?}");
    assert!(report.stopped_at_deadline, "{report:?}");
    assert!(w.engine.started().is_empty());
    // The next tick with time to spare picks it up.
    let report = dispatcher::handle(
        &w.services,
        MAX_TICK,
        event("dispatcher/tick.json", Some(Duration::from_secs(55)))?,
    )
    .await?;
    assert_eq!(report.claimed, 1, "{report:?}");
    Ok(())
}

#[tokio::test]
async fn cargo_lambdas_deadline_still_claims_under_max_tick_with_one_warning() -> Result<()> {
    let w = world().await?;
    let mut tick = event("dispatcher/tick.json", None)?;
    tick.context.deadline = CARGO_LAMBDA_DEADLINE_MS;

    let (_guard, logs) = tests::logs::capture();
    let report = dispatcher::handle(&w.services, MAX_TICK, tick).await?;

    // Read as epoch milliseconds this deadline passed in 1970; the tick claims and starts anyway.
    ensure!(report.claimed == 1 && report.started == 1, "{report:?}");
    assert!(!report.stopped_at_deadline, "{report:?}");
    assert_eq!(w.engine.started().len(), 1);
    // One warning, which says why and what bounds the tick instead.
    let warnings = logs.lines_at("WARN");
    assert_eq!(warnings.len(), 1, "{}", logs.text());
    assert!(
        warnings[0].contains("already past on arrival")
            && warnings[0].contains("600000")
            && warnings[0].contains("MAX_TICK_SECS"),
        "{}",
        warnings[0]
    );
    Ok(())
}

#[tokio::test]
async fn a_deadline_that_passes_mid_tick_stops_the_claiming_and_says_so() -> Result<()> {
    // Ten due schedules, read one per batch, one start at a time, on an engine whose first answer comes only after
    // the tick's deadline (its Lambda deadline is the safety margin plus 200 ms away). Claims run ahead of starts by
    // at most the pipeline's hand-over capacity (twice the concurrency), so the claimer waits for the slow engine,
    // and by then the deadline has passed.
    let config = ServiceConfig {
        batch_size: 1,
        dispatch_concurrency: 1,
        ..ServiceConfig::default()
    };
    let w = MemoryWorld::with_config(Utc.with_ymd_and_hms(2026, 3, 2, 7, 0, 0).unwrap(), config);
    for i in 0..10 {
        w.create(
            &analyst("alice"),
            daily_schedule(&format!("Check {i}"), "08:00"),
        )
        .await?;
    }
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 5).unwrap());
    let margin = aws_wiring::tick::SAFETY_MARGIN;
    let tick = event(
        "dispatcher/tick.json",
        Some(margin + Duration::from_millis(200)),
    )?;
    let services = services_answering_after(&w, Instant::now() + Duration::from_millis(250));

    let (_guard, logs) = tests::logs::capture();
    let report = dispatcher::handle(&services, MAX_TICK, tick).await?;

    // The first start answered after the deadline, so the claim loop stopped before the last schedule; the
    // runs already claimed were started, and the report and the log say why the tick ended early.
    ensure!(report.stopped_at_deadline, "{report:?}");
    ensure!(
        (1..10).contains(&report.claimed) && report.started == report.claimed,
        "{report:?}"
    );
    assert!(
        logs.lines_at("WARN")
            .iter()
            .any(|l| l.contains("stopped claiming at its deadline")),
        "{}",
        logs.text()
    );
    // The next tick, with time to spare, claims what is left.
    let next = dispatcher::handle(
        &w.services,
        MAX_TICK,
        event("dispatcher/tick.json", Some(Duration::from_secs(55)))?,
    )
    .await?;
    assert_eq!(report.claimed + next.claimed, 10, "{next:?}");
    assert!(!next.stopped_at_deadline);
    Ok(())
}

#[tokio::test]
async fn a_wrong_event_is_a_typed_error() -> Result<()> {
    let w = world().await?;
    let mut e = event("dispatcher/tick.json", None)?;
    e.payload.detail_type = Some("Object Created".into());
    let err = dispatcher::handle(&w.services, MAX_TICK, e)
        .await
        .unwrap_err();
    let diagnostic = Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "InvalidEvent");
    assert!(diagnostic.error_message.contains("Object Created"));
    assert!(w.engine.started().is_empty());
    Ok(())
}
