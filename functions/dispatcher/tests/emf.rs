//! The metrics of a real dispatcher invocation: the binary, driven by the `events/dispatcher/tick.json` tick
//! through a Runtime API on loopback, against moto and the sandbox engine, writes one CloudWatch Embedded Metric
//! Format document per dimension set on stdout after the invocation, and each parses as EMF: the `_aws` object
//! names the namespace, the `Function` dimension and every metric the document carries.
//!
//! Needs moto: `.ci/moto.sh` (port 5000), or `AWS_ENDPOINT_URL` naming another loopback port.

use anyhow::{Context, Result, ensure};
use chrono::Utc;
use serde_json::Value;
use shared::adapters::dynamodb::DynamoDbScheduleStore;
use shared::adapters::sandbox_engine::{SandboxConfig, SandboxEngine};
use shared::ports::ScheduleStore;
use std::io::BufRead;
use std::time::Duration;
use tests::runtime_api::{RuntimeApi, lambda_deadline, once_schedule};

const TICK: &str = include_str!("../../../events/dispatcher/tick.json");
const WAIT: Duration = Duration::from_secs(60);

/// The metric documents among `lines` (anything else on stdout is not one).
fn emf_documents(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect()
}

/// Checks one document against the EMF specification's shape and returns the metric names it declares.
fn check_emf(doc: &Value) -> Result<Vec<String>> {
    let aws = &doc["_aws"];
    ensure!(aws["Timestamp"].is_u64(), "no Timestamp: {doc}");
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .context("no CloudWatchMetrics")?;
    let mut names = Vec::new();
    for d in directives {
        ensure!(d["Namespace"] == "ScheduledInvestigations", "{doc}");
        let dimensions = d["Dimensions"].as_array().context("no Dimensions")?;
        for set in dimensions {
            for dim in set.as_array().context("a dimension set is a list")? {
                let dim = dim.as_str().context("dimension names are strings")?;
                ensure!(
                    doc[dim].is_string(),
                    "dimension {dim} has no value in {doc}"
                );
            }
        }
        ensure!(
            dimensions.iter().any(|set| set
                .as_array()
                .is_some_and(|s| s.iter().any(|d| d == "Function"))),
            "no Function dimension: {doc}"
        );
        for m in d["Metrics"].as_array().context("no Metrics")? {
            let name = m["Name"].as_str().context("a metric without Name")?;
            // The value is a number or a list of numbers (a histogram's values) under the metric's name.
            let value = &doc[name];
            ensure!(
                value.is_number()
                    || value
                        .as_array()
                        .is_some_and(|v| !v.is_empty() && v.iter().all(Value::is_number)),
                "metric {name} has no value in {doc}"
            );
            names.push(name.to_owned());
        }
    }
    ensure!(doc["Function"] == "dispatcher", "{doc}");
    Ok(names)
}

#[tokio::test]
async fn a_dispatcher_invocation_writes_its_metrics_as_emf_on_stdout() -> Result<()> {
    let (client, table) = tests::moto::fresh_store_table().await;
    let store = DynamoDbScheduleStore::new(
        client,
        table.clone(),
        shared::domain::RunRetention::default(),
    );
    let sandbox = SandboxEngine::spawn(SandboxConfig::default(), "127.0.0.1:0".parse()?)?;
    let endpoint = tests::moto::endpoint();
    let id = format!("sch_emf_{}", std::process::id());
    let due = Utc::now() - chrono::Duration::minutes(2);
    store
        .insert_schedule(&once_schedule(&id, "alice", due))
        .await?;

    let api = RuntimeApi::start().await?;
    let mut function = api.run_function_reading_stdout(
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
    let stdout = function.stdout.take().context("stdout is piped")?;
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    let result = async {
        let report = api
            .call(TICK, lambda_deadline(Duration::from_secs(55)), WAIT)
            .await
            .map_err(anyhow::Error::msg)?;
        ensure!(report["claimed"] == 1 && report["started"] == 1, "{report}");
        // The documents are written after the handler returned: wait (bounded) until the started counter shows.
        let mut lines = Vec::new();
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            while let Ok(line) = lines_rx.try_recv() {
                lines.push(line);
            }
            let docs = emf_documents(&lines);
            if docs.iter().any(|d| d["runs_started"] == 1) {
                let mut names = Vec::new();
                for doc in &docs {
                    names.extend(check_emf(doc)?);
                }
                for expected in [
                    "runs_claimed",
                    "runs_started",
                    "dispatch_lag_seconds",
                    "tick_duration_seconds",
                ] {
                    ensure!(
                        names.iter().any(|n| n == expected),
                        "{expected} missing from {names:?}"
                    );
                }
                // The lag is the start confirmed minus an occurrence two minutes ago.
                let lag = docs
                    .iter()
                    .find_map(|d| {
                        d["dispatch_lag_seconds"]
                            .as_array()
                            .and_then(|v| v[0].as_f64())
                    })
                    .context("no lag value")?;
                ensure!((110.0..600.0).contains(&lag), "lag {lag}");
                let tick = docs
                    .iter()
                    .find(|d| d.get("tick_duration_seconds").is_some())
                    .context("no tick duration")?;
                ensure!(tick["tick"] == "dispatch", "{tick}");
                return Ok(());
            }
            ensure!(
                std::time::Instant::now() < deadline,
                "no EMF document on stdout: {lines:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    .await;
    let _ = function.kill();
    let _ = function.wait();
    result
}
