//! The real `dispatcher` binary, served by a Runtime API on loopback exactly as `cargo lambda watch` serves it
//! (deadline header `600000`) and as Lambda does (epoch milliseconds), against moto and the sandbox engine: a
//! `once` schedule due in the past is claimed and started under either. A configuration error stops the binary
//! with one line and exit status 2.
//!
//! Needs moto: `.ci/moto.sh` (port 5000), or `AWS_ENDPOINT_URL` naming another loopback port.

use anyhow::{Context, Result, bail, ensure};
use chrono::Utc;
use shared::adapters::dynamodb::DynamoDbScheduleStore;
use shared::adapters::engine_http::{EngineConfig, SocmateEngine};
use shared::adapters::sandbox_engine::{SandboxConfig, SandboxEngine};
use shared::domain::{RunStatus, ScheduleId};
use shared::ports::{InvestigationEngine, ScheduleStore, SessionState};
use std::time::Duration;
use tests::runtime_api::{CARGO_LAMBDA_DEADLINE_MS, RuntimeApi, lambda_deadline, once_schedule};

const TICK: &str = include_str!("../../../events/dispatcher/tick.json");
const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn the_binary_claims_a_due_once_schedule_under_cargo_lambdas_deadline_and_lambdas()
-> Result<()> {
    // moto's table and the sandbox engine on loopback; the store and the engine client read back what happened.
    let (client, table) = tests::moto::fresh_store_table().await;
    let store = DynamoDbScheduleStore::new(
        client,
        table.clone(),
        shared::domain::RunRetention::default(),
    );
    let sandbox = SandboxEngine::spawn(SandboxConfig::default(), "127.0.0.1:0".parse()?)?;
    let engine = SocmateEngine::new(EngineConfig::new(sandbox.base_url()))?;
    let endpoint = tests::moto::endpoint();

    let api = RuntimeApi::start().await?;
    let mut function = api.run_function(
        env!("CARGO_BIN_EXE_dispatcher"),
        &[
            ("TABLE_NAME", &table),
            ("ENGINE_URL", &sandbox.base_url()),
            ("AWS_ENDPOINT_URL", &endpoint),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_LAMBDA_MAX_CONCURRENCY", "1"),
            ("RUST_LOG", "warn"),
        ],
    )?;

    let result = async {
        for (name, deadline_ms) in [
            ("cargo-lambda", CARGO_LAMBDA_DEADLINE_MS),
            ("lambda", lambda_deadline(Duration::from_secs(55))),
        ] {
            let id = format!("sch_binary_{name}_{}", std::process::id());
            let due = Utc::now() - chrono::Duration::minutes(2);
            store
                .insert_schedule(&once_schedule(&id, "alice", due))
                .await?;

            let report = match api.call(TICK, deadline_ms, WAIT).await {
                Ok(report) => report,
                Err(e) => bail!("{name}: {e}"),
            };
            ensure!(
                report["claimed"] == 1
                    && report["started"] == 1
                    && report["stopped_at_deadline"] == false,
                "{name}: {report}"
            );
            // The run is recorded as running, with a session the sandbox knows.
            let runs = store
                .list_runs(&ScheduleId::from(id.as_str()), 10, None)
                .await?;
            let run = runs
                .first()
                .with_context(|| format!("{name}: no run recorded"))?;
            ensure!(run.status == RunStatus::Running, "{name}: {run:?}");
            let session = run.session_id.clone().context("no session")?;
            ensure!(
                matches!(
                    engine.session(&session).await?,
                    SessionState::Active | SessionState::Completed { .. }
                ),
                "{name}: the sandbox does not know {session}"
            );
        }
        Ok(())
    }
    .await;
    let _ = function.kill();
    let _ = function.wait();
    result
}

#[test]
fn a_configuration_error_is_one_line_and_exit_status_2() -> Result<()> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_dispatcher"))
        .env_remove("TABLE_NAME")
        .env("ENGINE_URL", "http://127.0.0.1:1")
        .env("RUST_BACKTRACE", "1")
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.code() == Some(2),
        "{:?}: {stderr}",
        output.status
    );
    ensure!(
        stderr.trim() == "configuration: TABLE_NAME is not set",
        "{stderr}"
    );
    Ok(())
}
