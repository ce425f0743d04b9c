//! The status-checker Lambda: wiring only (logs, configuration and clients once per cold start, then the runtime loop).

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    aws_wiring::init_tracing();
    let emf: &'static _ = Box::leak(Box::new(aws_wiring::Emf::install("status-checker")));
    let config = aws_wiring::config_or_exit();
    let services = aws_wiring::services(&config).await?;
    let max_tick = config.max_tick;
    // Concurrent when Lambda (or cargo-lambda) sets AWS_LAMBDA_MAX_CONCURRENCY above 1, else one at a time:
    // overlapping ticks are safe (claims and finishes are conditional writes).
    lambda_runtime::run_concurrent(service_fn(move |event: LambdaEvent<_>| {
        let services = services.clone();
        async move {
            aws_wiring::flushed(
                emf.as_ref(),
                status_checker::handle(&services, max_tick, event),
            )
            .await
        }
    }))
    .await
}
