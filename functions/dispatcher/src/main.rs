//! The dispatcher Lambda: wiring only (logs, configuration and clients once per cold start, then the runtime loop).

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    aws_wiring::init_tracing();
    let services = aws_wiring::services_from_env().await?;
    let services = &services;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        dispatcher::handle(services, event)
    }))
    .await
}
