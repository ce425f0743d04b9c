//! The five-minute tick on Lambda: an EventBridge scheduled event → [`Services::check_runs`], which polls running
//! investigations, finishes them and drains the notification outbox. The handler only translates.

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use aws_wiring::FunctionError;
use lambda_runtime::LambdaEvent;
use shared::services::{CheckReport, Services};

/// The `detail-type` EventBridge gives scheduled events.
const SCHEDULED_EVENT: &str = "Scheduled Event";

pub async fn handle(
    services: &Services,
    event: LambdaEvent<CloudWatchEvent>,
) -> Result<CheckReport, FunctionError> {
    let tick = event.payload;
    if tick.detail_type.as_deref() != Some(SCHEDULED_EVENT) {
        return Err(FunctionError::InvalidEvent(format!(
            "expected an EventBridge \"{SCHEDULED_EVENT}\", got detail-type {:?}",
            tick.detail_type
        )));
    }
    let now = services.now();
    tracing::info!(event_id = ?tick.id, event_time = %tick.time, %now, "status check tick");
    let report = services.check_runs(now, None).await?;
    tracing::info!(report = ?report, "status check tick done");
    Ok(report)
}
