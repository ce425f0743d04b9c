//! What the moto tests share: the emulator's SDK configuration (loopback only), unique names, and SQS queues to
//! read back what subscribers receive.

#![allow(dead_code)] // each test file uses a different part

use anyhow::{Context, Result, ensure};
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_sqs::types::QueueAttributeName;
use std::collections::HashMap;

/// `AWS_ENDPOINT_URL`, or the port `.ci/moto.sh` uses; and names no other test uses.
pub use tests::moto::{endpoint as moto_endpoint, unique_name as unique};

/// The emulator's SDK configuration. Refuses anything but a loopback endpoint, so a test can never reach AWS, and
/// fails (never passes silently) when moto does not answer.
pub async fn moto_sdk() -> Result<SdkConfig> {
    sdk_for(&moto_endpoint()).await
}

pub async fn sdk_for(endpoint: &str) -> Result<SdkConfig> {
    let authority = endpoint
        .strip_prefix("http://")
        .with_context(|| format!("AWS_ENDPOINT_URL={endpoint} must be a plain http loopback URL"))?
        .trim_end_matches('/');
    ensure!(
        authority.starts_with("127.0.0.1:") || authority.starts_with("localhost:"),
        "AWS_ENDPOINT_URL={endpoint} is not on loopback; these tests only run against a local emulator"
    );
    tokio::net::TcpStream::connect(authority)
        .await
        .with_context(|| {
            format!("moto is not reachable at {endpoint}: start it with .ci/moto.sh")
        })?;
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "moto",
        ))
        .endpoint_url(endpoint)
        .load()
        .await)
}

pub struct Queue {
    pub url: String,
    pub arn: String,
}

pub async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<Queue> {
    let url = sqs
        .create_queue()
        .queue_name(unique(name))
        .send()
        .await?
        .queue_url
        .context("no queue url")?;
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?;
    let arn = attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .context("no queue arn")?
        .clone();
    Ok(Queue { url, arn })
}

/// Everything in the queue, deleted as it is read (waiting a little: delivery is asynchronous on AWS, even if
/// moto is synchronous).
pub async fn drain(
    sqs: &aws_sdk_sqs::Client,
    q: &Queue,
) -> Result<Vec<aws_sdk_sqs::types::Message>> {
    let mut all = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(&q.url)
            .max_number_of_messages(10)
            .wait_time_seconds(if all.is_empty() { 1 } else { 0 })
            .message_attribute_names("All")
            .send()
            .await?;
        let batch = out.messages.unwrap_or_default();
        if batch.is_empty() {
            return Ok(all);
        }
        // Deleted, so a slow run cannot see a message again once its visibility timeout ends.
        for m in &batch {
            if let Some(handle) = m.receipt_handle() {
                sqs.delete_message()
                    .queue_url(&q.url)
                    .receipt_handle(handle)
                    .send()
                    .await?;
            }
        }
        all.extend(batch);
    }
}

/// A new SNS topic; returns its ARN.
pub async fn topic(sns: &aws_sdk_sns::Client, name: &str) -> Result<String> {
    sns.create_topic()
        .name(unique(name))
        .send()
        .await?
        .topic_arn
        .context("no topic arn")
}

/// Subscribes `q` to `topic`, with raw delivery or the SNS envelope, and an optional filter policy.
pub async fn subscribe(
    sns: &aws_sdk_sns::Client,
    topic: &str,
    q: &Queue,
    raw: bool,
    filter: Option<&str>,
) -> Result<()> {
    let mut attributes = HashMap::from([("RawMessageDelivery".to_owned(), raw.to_string())]);
    if let Some(f) = filter {
        attributes.insert("FilterPolicy".into(), f.into());
    }
    sns.subscribe()
        .topic_arn(topic)
        .protocol("sqs")
        .endpoint(&q.arn)
        .set_attributes(Some(attributes))
        .send()
        .await?;
    Ok(())
}

/// Routes the events on `bus` that match `pattern` (an EventBridge event pattern) to `q`, through a new rule.
pub async fn route(
    events: &aws_sdk_eventbridge::Client,
    bus: &str,
    pattern: serde_json::Value,
    q: &Queue,
) -> Result<()> {
    let rule = unique("rule");
    events
        .put_rule()
        .name(&rule)
        .event_bus_name(bus)
        .event_pattern(pattern.to_string())
        .send()
        .await?;
    events
        .put_targets()
        .rule(&rule)
        .event_bus_name(bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(&q.arn)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}
