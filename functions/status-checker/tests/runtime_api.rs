//! The real `status-checker` binary, served by a Runtime API on loopback exactly as `cargo lambda watch` serves it
//! (deadline header `600000`), against moto and the sandbox engine: a `once` schedule due in the past, claimed and
//! started by the dispatcher, is completed, and its notification reaches the SQS queue behind the email topic.
//!
//! Needs moto: `.ci/moto.sh` (port 5000), or `AWS_ENDPOINT_URL` naming another loopback port.

#[path = "../../aws-wiring/tests/support/mod.rs"]
mod support;

use anyhow::{Context, Result, bail, ensure};
use chrono::Utc;
use shared::adapters::dynamodb::DynamoDbScheduleStore;
use shared::adapters::sandbox_engine::{SandboxConfig, SandboxEngine};
use shared::domain::{RunStatus, ScheduleId, ScheduleStatus};
use shared::ports::{InvestigationEngine, ScheduleStore, SessionState};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::{drain, moto_sdk, queue, subscribe, topic};
use tests::runtime_api::{CARGO_LAMBDA_DEADLINE_MS, RuntimeApi, once_schedule};

const TICK: &str = include_str!("../../../events/status-checker/tick.json");
const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn the_binary_completes_a_started_once_schedule_and_the_email_queue_gets_it() -> Result<()> {
    // moto: the store's table, the email topic with an SQS queue subscribed; the sandbox engine on loopback,
    // finishing investigations after 200 ms.
    let sdk = moto_sdk().await?;
    let (client, table) = tests::moto::fresh_store_table().await;
    let store = DynamoDbScheduleStore::new(
        client,
        table.clone(),
        shared::domain::RunRetention::default(),
    );
    let sns = aws_sdk_sns::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let email = topic(&sns, "email").await?;
    let inbox = queue(&sqs, "inbox").await?;
    subscribe(&sns, &email, &inbox, true, None).await?;
    let sandbox = SandboxEngine::spawn(
        SandboxConfig {
            run_time: Duration::from_millis(200),
            ..SandboxConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )?;
    let endpoint = tests::moto::endpoint();
    let env: Vec<(&str, String)> = vec![
        ("TABLE_NAME", table.clone()),
        ("ENGINE_URL", sandbox.base_url()),
        ("EMAIL_TOPIC_ARN", email.clone()),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
    ];

    // A once schedule due two minutes ago, claimed and started by the dispatcher's handler (the dispatcher
    // binary's own test runs it for real), on services built as the functions build them.
    let vars: HashMap<&str, String> = env.iter().cloned().collect();
    let config = aws_wiring::LambdaConfig::from_lookup(|n| vars.get(n).cloned())?;
    let services = aws_wiring::build_services(&config, &sdk).await?;
    let id = format!("sch_checker_binary_{}", std::process::id());
    store
        .insert_schedule(&once_schedule(
            &id,
            "alice",
            Utc::now() - chrono::Duration::minutes(2),
        ))
        .await?;
    let dispatched = services.dispatch_due(services.now(), None).await?;
    ensure!(dispatched.started == 1, "{dispatched:?}");
    let schedule_id = ScheduleId::from(id.as_str());
    let run = store.list_runs(&schedule_id, 1, None).await?.remove(0);
    let session = run
        .session_id
        .clone()
        .context("the started run has no session")?;
    // Wait (bounded) until the sandbox reports the investigation finished.
    let engine = shared::adapters::engine_http::SocmateEngine::new(
        shared::adapters::engine_http::EngineConfig::new(sandbox.base_url()),
    )?;
    let until = Instant::now() + WAIT;
    while !matches!(
        engine.session(&session).await?,
        SessionState::Completed { .. }
    ) {
        ensure!(
            Instant::now() < until,
            "the sandbox never finished {session}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The status checker's binary, invoked as cargo-lambda invokes it.
    let api = RuntimeApi::start().await?;
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend([("AWS_LAMBDA_MAX_CONCURRENCY", "1"), ("RUST_LOG", "warn")]);
    let mut function = api.run_function(env!("CARGO_BIN_EXE_status-checker"), &env)?;
    let result = async {
        let report = match api.call(TICK, CARGO_LAMBDA_DEADLINE_MS, WAIT).await {
            Ok(report) => report,
            Err(e) => bail!("{e}"),
        };
        ensure!(
            report["completed"] == 1
                && report["notifications_sent"] == 1
                && report["stopped_at_deadline"] == false,
            "{report}"
        );
        Ok(())
    }
    .await;
    let _ = function.kill();
    let _ = function.wait();
    result?;

    // The run completed, the once schedule is done, and the email subscriber got the notification.
    let run = store.list_runs(&schedule_id, 1, None).await?.remove(0);
    ensure!(run.status == RunStatus::Completed, "{run:?}");
    let schedule = store
        .get_schedule(&schedule_id)
        .await?
        .context("schedule")?;
    ensure!(schedule.status == ScheduleStatus::Completed, "{schedule:?}");
    let messages = drain(&sqs, &inbox).await?;
    ensure!(messages.len() == 1, "{messages:?}");
    let body = messages[0].body().unwrap_or_default();
    ensure!(
        body.contains(&format!("Once {id}")) && body.to_lowercase().contains("complet"),
        "{body}"
    );
    Ok(())
}
