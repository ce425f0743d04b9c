//! What the three Lambda functions share, so each `main` stays a few lines: configuration read from the
//! environment once per cold start ([`LambdaConfig`]), the engine credential from Secrets Manager or SSM
//! ([`secrets`]), the services wired on DynamoDB, the engine, SNS and EventBridge ([`build_services`]), JSON logs
//! ([`init_tracing`]), the EMF metrics exporter ([`Emf`]), the error type Lambda reports ([`FunctionError`]) and what the two ticks share ([`tick`]).

pub mod config;
pub mod error;
pub mod metrics;
pub mod secrets;
pub mod tick;

pub use config::{LambdaConfig, SecretRef, SecretSource};
pub use error::{FunctionError, WiringError};
pub use metrics::{Emf, flushed};
pub use tick::{check_tick, deadline};

use shared::adapters::aws_notify::{EventBridgeNotifier, SnsFormat, SnsNotifier};
use shared::adapters::engine_http::{EngineConfig, SocmateEngine};
use shared::adapters::notify_local::{FanoutNotifier, LogNotifier};
use shared::ports::{Notifier, ScheduleStore, SystemClock};
use shared::services::Services;
use std::sync::Arc;

/// JSON log lines on stderr (CloudWatch Logs keeps them as structured records). `RUST_LOG` filters.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        // The innermost span's fields (a run's `schedule_id` and `run_id`) go with every line inside it, so one
        // Logs Insights filter follows a run from claim to notification.
        .with_current_span(true)
        .with_target(false)
        // Lambda adds its own timestamp and request id to every line.
        .without_time()
        .with_writer(std::io::stderr)
        .init();
}

/// The configuration from the environment, once per cold start. A bad value prints one line naming the variable
/// and exits with status 2 (Lambda reports the exit as an init error, the line is in the function's log); no
/// backtrace, whatever `RUST_BACKTRACE` says.
pub fn config_or_exit() -> LambdaConfig {
    LambdaConfig::from_env().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    })
}

/// The AWS clients from the environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...) and everything a function needs
/// on them. Called once per cold start.
pub async fn services(config: &LambdaConfig) -> Result<Services, WiringError> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    build_services(config, &sdk).await
}

/// The services on DynamoDB, the engine (its credential fetched now), and the configured notifiers.
pub async fn build_services(
    config: &LambdaConfig,
    sdk: &aws_config::SdkConfig,
) -> Result<Services, WiringError> {
    let mut engine_config =
        EngineConfig::new(config.engine_url.clone()).with_time_range(config.engine_time_range);
    if let Some(secret) = &config.engine_secret {
        engine_config =
            engine_config.with_credential(secrets::engine_credential(sdk, secret).await?);
    }
    let engine = SocmateEngine::new(engine_config)
        .map_err(|e| WiringError::Config(format!("ENGINE_URL: {e}")))?;
    Ok(Services::new(
        store(sdk, &config.table_name, config.service.run_retention)?,
        Arc::new(engine),
        notifier(sdk, config),
        Arc::new(SystemClock),
        config.service.clone(),
    ))
}

/// The DynamoDB store, keeping the configured run history.
fn store(
    sdk: &aws_config::SdkConfig,
    table_name: &str,
    retention: shared::domain::RunRetention,
) -> Result<Arc<dyn ScheduleStore>, WiringError> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    Ok(Arc::new(
        shared::adapters::dynamodb::DynamoDbScheduleStore::new(
            client,
            table_name.to_owned(),
            retention,
        ),
    ))
}

/// Every configured channel, plus the log. A function without topics or bus (the API) only logs.
pub fn notifier(sdk: &aws_config::SdkConfig, config: &LambdaConfig) -> Arc<dyn Notifier> {
    let mut notifiers: Vec<Arc<dyn Notifier>> = vec![Arc::new(LogNotifier)];
    if config.email_topic_arn.is_some() || config.chat_topic_arn.is_some() {
        let sns = aws_sdk_sns::Client::new(sdk);
        if let Some(arn) = &config.email_topic_arn {
            notifiers.push(Arc::new(SnsNotifier::new(
                sns.clone(),
                arn,
                SnsFormat::Text,
            )));
        }
        if let Some(arn) = &config.chat_topic_arn {
            notifiers.push(Arc::new(SnsNotifier::new(sns, arn, SnsFormat::Chatbot)));
        }
    }
    if let Some(bus) = &config.event_bus_name {
        notifiers.push(Arc::new(EventBridgeNotifier::new(
            aws_sdk_eventbridge::Client::new(sdk),
            bus,
        )));
    }
    Arc::new(FanoutNotifier(notifiers))
}
