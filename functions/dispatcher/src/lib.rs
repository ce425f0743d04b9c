//! The minute tick on Lambda: an EventBridge scheduled event → [`Services::dispatch_due`]. The handler only
//! translates: it checks the event, works out how long it may keep claiming, and turns errors into a Lambda
//! `Diagnostic` (see [`FunctionError`]). Duplicate and overlapping invocations are safe: claims are conditional
//! writes in the store.

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use aws_wiring::FunctionError;
use lambda_runtime::{Context, LambdaEvent};
use shared::services::{DispatchReport, Services};
use std::time::{Duration, Instant, SystemTime};

/// Stop claiming this long before Lambda's deadline, so the starts already begun can record their outcome.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(10);

/// The `detail-type` EventBridge gives scheduled events.
const SCHEDULED_EVENT: &str = "Scheduled Event";

pub async fn handle(
    services: &Services,
    event: LambdaEvent<CloudWatchEvent>,
) -> Result<DispatchReport, FunctionError> {
    let (tick, context) = event.into_parts();
    check_tick(&tick)?;
    let deadline = deadline(&context, SAFETY_MARGIN);
    let now = services.now();
    tracing::info!(event_id = ?tick.id, event_time = %tick.time, %now, "dispatch tick");
    let report = services.dispatch_due(now, deadline).await?;
    tracing::info!(report = ?report, "dispatch tick done");
    Ok(report)
}

/// Only scheduled events drive a tick; anything else means the template wired the wrong trigger.
pub fn check_tick(tick: &CloudWatchEvent) -> Result<(), FunctionError> {
    match tick.detail_type.as_deref() {
        Some(SCHEDULED_EVENT) => Ok(()),
        other => Err(FunctionError::InvalidEvent(format!(
            "expected an EventBridge \"{SCHEDULED_EVENT}\", got detail-type {other:?}"
        ))),
    }
}

/// When to stop claiming: Lambda's deadline minus `margin`, on the monotonic clock. A context without a deadline
/// (0, as some local invokers send) means no limit.
pub fn deadline(context: &Context, margin: Duration) -> Option<Instant> {
    if context.deadline == 0 {
        return None;
    }
    let remaining = context
        .deadline()
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Some(Instant::now() + remaining.saturating_sub(margin))
}
