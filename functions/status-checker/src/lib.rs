//! The five-minute tick on Lambda: an EventBridge scheduled event → [`Services::check_runs`], which polls running
//! investigations, finishes them and drains the notification outbox. The handler only translates; it stops taking
//! new batches at its deadline ([`aws_wiring::deadline`]).

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use aws_wiring::FunctionError;
use lambda_runtime::LambdaEvent;
use shared::services::{CheckReport, Services};
use std::time::Duration;

/// One tick. `max_tick` (`MAX_TICK_SECS`) bounds it when the invocation carries no usable deadline.
pub async fn handle(
    services: &Services,
    max_tick: Duration,
    event: LambdaEvent<CloudWatchEvent>,
) -> Result<CheckReport, FunctionError> {
    let (tick, context) = event.into_parts();
    aws_wiring::check_tick(&tick)?;
    let deadline = aws_wiring::deadline(&context, max_tick);
    let now = services.now();
    tracing::info!(event_id = ?tick.id, event_time = %tick.time, %now, "status check tick");
    let report = services.check_runs(now, Some(deadline)).await?;
    if report.stopped_at_deadline {
        tracing::warn!(report = ?report, "status check stopped polling at its deadline; the next tick goes on");
    } else {
        tracing::info!(report = ?report, "status check tick done");
    }
    Ok(report)
}
