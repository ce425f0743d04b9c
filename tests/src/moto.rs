//! moto in server mode, the AWS emulator the AWS adapters are tested against: a client for it and a fresh
//! DynamoDB table per test. Start it with `.ci/moto.sh` (CI's `.ci/run` does).
//!
//! The environment decides (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`), as it
//! does for the product; what it lacks defaults to moto on loopback with dummy credentials, so a test can never
//! reach a real AWS account by accident.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use std::sync::atomic::{AtomicU32, Ordering};

/// Where `.ci/moto.sh` starts moto.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:5000";

/// The endpoint the tests use: `AWS_ENDPOINT_URL`, else [`DEFAULT_ENDPOINT`].
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| DEFAULT_ENDPOINT.to_owned())
}

/// SDK configuration for moto, from the environment with loopback defaults.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).endpoint_url(endpoint());
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
    {
        loader = loader.region(Region::new("us-east-1"));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(Credentials::new("test", "test", None, None, "moto"));
    }
    loader.load().await
}

/// A DynamoDB client on moto. Panics with what to do when moto does not answer: a test that needs moto must
/// fail without it, never pass silently.
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    if let Err(e) = client.list_tables().limit(1).send().await {
        panic!(
            "moto is not reachable at {}: start it with `.ci/moto.sh` (or set AWS_ENDPOINT_URL). Error: {}",
            endpoint(),
            aws_sdk_dynamodb::error::DisplayErrorContext(e)
        );
    }
    client
}

/// A resource name (table, queue, topic, bus, rule, secret) no other test, in this or another process, uses.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new, empty store table on moto (the layout of
/// [`create_table`](shared::adapters::dynamodb::create_table)); returns the client and the table name.
pub async fn fresh_store_table() -> (aws_sdk_dynamodb::Client, String) {
    let client = dynamodb().await;
    let table = unique_name("store");
    shared::adapters::dynamodb::create_table(&client, &table)
        .await
        .unwrap_or_else(|e| panic!("create table {table} on moto: {e}"));
    (client, table)
}
