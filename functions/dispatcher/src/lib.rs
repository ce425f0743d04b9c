//! The minute tick on Lambda: an EventBridge scheduled event → [`Services::dispatch_due`]. The handler only
//! translates: it checks the event, works out how long it may keep claiming ([`aws_wiring::deadline`]), and turns
//! errors into a Lambda `Diagnostic` (see [`FunctionError`]). Duplicate and overlapping invocations are safe:
//! claims are conditional writes in the store.

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use aws_wiring::FunctionError;
use lambda_runtime::LambdaEvent;
use shared::services::{DispatchReport, Services};
use std::time::Duration;

/// One tick. `max_tick` (`MAX_TICK_SECS`) bounds it when the invocation carries no usable deadline.
pub async fn handle(
    services: &Services,
    max_tick: Duration,
    event: LambdaEvent<CloudWatchEvent>,
) -> Result<DispatchReport, FunctionError> {
    let (tick, context) = event.into_parts();
    aws_wiring::check_tick(&tick)?;
    let deadline = aws_wiring::deadline(&context, max_tick);
    let now = services.now();
    tracing::info!(event_id = ?tick.id, event_time = %tick.time, %now, "dispatch tick");
    let report = services.dispatch_due(now, Some(deadline)).await?;
    if report.stopped_at_deadline {
        tracing::warn!(report = ?report, "dispatch tick stopped claiming at its deadline; the next tick goes on");
    } else {
        tracing::info!(report = ?report, "dispatch tick done");
    }
    Ok(report)
}
