//! `events/dispatcher/tick.json` drives the real handler on the in-memory twins: a due schedule is claimed and
//! started once, a duplicate tick claims nothing, a deadline too close claims nothing, a wrong event is a typed
//! error.

use anyhow::{Result, ensure};
use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use chrono::{TimeZone, Utc};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use shared::adapters::memory::{MemoryWorld, analyst, daily_schedule};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

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

fn event(
    path: &str,
    deadline_in: Option<std::time::Duration>,
) -> Result<LambdaEvent<CloudWatchEvent>> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(path);
    let payload: CloudWatchEvent = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
    let mut context = Context::default();
    context.request_id = "8f5d0a1c-3e2b-4f6a-9c7d-1b2e3f4a5b6c".into();
    if let Some(d) = deadline_in {
        context.deadline = (SystemTime::now() + d)
            .duration_since(UNIX_EPOCH)?
            .as_millis() as u64;
    }
    Ok(LambdaEvent::new(payload, context))
}

#[tokio::test]
async fn the_tick_claims_and_starts_each_due_occurrence_once() -> Result<()> {
    let w = world().await?;

    // When the minute tick arrives (with Lambda's usual 55 s left)...
    let report = dispatcher::handle(
        &w.services,
        event(
            "dispatcher/tick.json",
            Some(std::time::Duration::from_secs(55)),
        )?,
    )
    .await?;
    // ...the occurrence is claimed and started once.
    ensure!(report.claimed == 1 && report.started == 1, "{report:?}");
    assert_eq!(w.engine.started().len(), 1);

    // A duplicate delivery of the same tick claims nothing more.
    let again = dispatcher::handle(&w.services, event("dispatcher/tick.json", None)?).await?;
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
        event(
            "dispatcher/tick.json",
            Some(std::time::Duration::from_secs(5)),
        )?,
    )
    .await?;
    assert_eq!(report.claimed, 0, "{report:?}");
    assert!(w.engine.started().is_empty());
    // The next tick with time to spare picks it up.
    let report = dispatcher::handle(
        &w.services,
        event(
            "dispatcher/tick.json",
            Some(std::time::Duration::from_secs(55)),
        )?,
    )
    .await?;
    assert_eq!(report.claimed, 1, "{report:?}");
    Ok(())
}

#[tokio::test]
async fn a_wrong_event_is_a_typed_error() -> Result<()> {
    let w = world().await?;
    let mut e = event("dispatcher/tick.json", None)?;
    e.payload.detail_type = Some("Object Created".into());
    let err = dispatcher::handle(&w.services, e).await.unwrap_err();
    let diagnostic = Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "InvalidEvent");
    assert!(diagnostic.error_message.contains("Object Created"));
    assert!(w.engine.started().is_empty());
    Ok(())
}
