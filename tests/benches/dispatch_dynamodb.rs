//! Dispatch benchmark on the DynamoDB store against moto (a command that prints figures; not a test). From one
//! run it prints:
//!
//! 1. moto's raw rate of conditional writes into a fresh table of the store's layout: `BENCH_RAW` (default 2,000)
//!    `PutItem`s with `attribute_not_exists(PK)`, one at a time and `BENCH_RAW_CONCURRENCY` (default 16) at once,
//!    and `BENCH_DUE` two-item `TransactWriteItems` (the shape of a claim), one at a time, into an empty table
//!    and into one as full as the dispatch table;
//! 2. the dispatcher's rate: `BENCH_DUE` (default 2,000) due schedules seeded with `insert_schedule` (not timed)
//!    into another fresh table, then one `Services::dispatch_due` with the real HTTP engine adapter and the
//!    sandbox engine on loopback without added latency. Each run costs one claim transaction and one conditional
//!    update once the engine accepted it; the target is at least half the raw `PutItem` rate.
//!
//! Start moto with `MOTO_PROFILE=FILE` to see where moto's time went (per operation, written when it stops): on
//! moto a `Query` on an index walks the whole table, which DynamoDB does not.
//!
//! Run: `.ci/moto.sh` and then `cargo bench -p tests --bench dispatch_dynamodb` (env: `AWS_ENDPOINT_URL`, default
//! `http://127.0.0.1:5000`; BENCH_RAW, BENCH_RAW_CONCURRENCY, BENCH_DUE, BENCH_CONCURRENCY, BENCH_BATCH).

mod common;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use chrono::Utc;
use common::{env_or, schedule};
use futures::StreamExt;
use shared::adapters::dynamodb::{DynamoDbScheduleStore, keys};
use shared::adapters::engine_http::{EngineConfig, SocmateEngine};
use shared::adapters::memory::{FixedClock, RecordingNotifier};
use shared::adapters::sandbox_engine::{SandboxConfig, SandboxEngine};
use shared::config::ServiceConfig;
use shared::ports::ScheduleStore;
use shared::services::Services;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Roughly the size of a run item, so the raw writes move as many bytes as the claims do.
const PAYLOAD: usize = 600;

fn raw_item(i: usize, part: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            keys::PK.to_owned(),
            AttributeValue::S(format!("RAW#{i:08}")),
        ),
        (keys::SK.to_owned(), AttributeValue::S(part.to_owned())),
        ("payload".to_owned(), AttributeValue::S("x".repeat(PAYLOAD))),
    ])
}

/// `count` conditional `PutItem`s starting at item `first`, `concurrency` at a time; returns items per second.
async fn raw_puts(
    client: &Client,
    table: &str,
    first: usize,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let results: Vec<_> = futures::stream::iter(first..first + count)
        .map(|i| {
            client
                .put_item()
                .table_name(table)
                .set_item(Some(raw_item(i, "ITEM")))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", keys::PK)
                .send()
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    for r in results {
        r?;
    }
    Ok(count as f64 / elapsed)
}

/// `count` transactions of two conditional puts (the shape of a claim), `concurrency` at a time; returns
/// transactions per second.
async fn raw_transactions(
    client: &Client,
    table: &str,
    first: usize,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<f64> {
    let put = |i: usize, part: &str| -> anyhow::Result<TransactWriteItem> {
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(raw_item(i, part)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", keys::PK)
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    };
    let mut requests = Vec::with_capacity(count);
    for i in first..first + count {
        requests.push(
            client
                .transact_write_items()
                .transact_items(put(i, "A")?)
                .transact_items(put(i, "B")?),
        );
    }
    let started = Instant::now();
    let results: Vec<_> = futures::stream::iter(requests)
        .map(|r| r.send())
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    for r in results {
        r?;
    }
    Ok(count as f64 / elapsed)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let raw: usize = env_or("BENCH_RAW", 2_000);
    let raw_concurrency: usize = env_or("BENCH_RAW_CONCURRENCY", 16);
    let due: usize = env_or("BENCH_DUE", 2_000);
    let defaults = ServiceConfig::default();
    let concurrency: usize = env_or("BENCH_CONCURRENCY", defaults.dispatch_concurrency);
    let batch: u32 = env_or("BENCH_BATCH", defaults.batch_size);
    println!(
        "DynamoDB dispatch benchmark against moto at {} on {} cores",
        tests::moto::endpoint(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // 1. moto's raw rate, each figure on a fresh table so earlier items do not slow it down.
    let (client, table) = tests::moto::fresh_store_table().await;
    let sequential = raw_puts(&client, &table, 0, raw, 1).await?;
    let (client, table) = tests::moto::fresh_store_table().await;
    let concurrent = raw_puts(&client, &table, 0, raw, raw_concurrency).await?;
    let raw_rate = sequential.max(concurrent);
    println!(
        "raw: {raw} conditional PutItem (attribute_not_exists(PK), {PAYLOAD}-byte payload) into a fresh table: \
         {sequential:.0} items/s sequential, {concurrent:.0} items/s with {raw_concurrency} in flight"
    );
    // The claim is a transaction. Stock moto copied the whole table for every transaction, so its cost grew with
    // the table (`.ci/moto_serial.py` snapshots only the items named): measure it on an empty table and on one
    // holding as many items as the dispatch table does before the burst (a schedule and its pointer per due
    // schedule), to show which moto this is.
    let (client, table) = tests::moto::fresh_store_table().await;
    let tx_empty = raw_transactions(&client, &table, 0, due, 1).await?;
    let (client, table) = tests::moto::fresh_store_table().await;
    raw_puts(&client, &table, 0, 2 * due, raw_concurrency).await?;
    let tx_full = raw_transactions(&client, &table, 2 * due, due, 1).await?;
    println!(
        "raw: {due} two-put TransactWriteItems, sequential: {tx_empty:.0} transactions/s into a fresh table, \
         {tx_full:.0} transactions/s into a table already holding {} items",
        2 * due
    );

    // 2. The burst through the dispatcher.
    let (client, table) = tests::moto::fresh_store_table().await;
    let store = Arc::new(DynamoDbScheduleStore::new(
        client,
        table,
        shared::domain::RunRetention::default(),
    ));
    let now = Utc::now();
    let seeding = Instant::now();
    // One at a time, so the seeding does not need a concurrency setting of its own (it is not timed).
    for i in 0..due {
        store.insert_schedule(&schedule(i, now, true)).await?;
    }
    let seeded = seeding.elapsed().as_secs_f64();

    let sandbox = SandboxEngine::spawn(SandboxConfig::default(), "127.0.0.1:0".parse()?)?;
    let engine = Arc::new(SocmateEngine::new(EngineConfig::new(sandbox.base_url()))?);
    let services = Services::new(
        store.clone(),
        engine,
        Arc::new(RecordingNotifier::new()),
        Arc::new(FixedClock::new(now)),
        ServiceConfig {
            dispatch_concurrency: concurrency,
            batch_size: batch,
            ..defaults
        },
    );
    let started = Instant::now();
    let report = services.dispatch_due(now, None).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let rate = report.started as f64 / elapsed;
    println!(
        "dispatch: {due} due schedules, concurrency {concurrency}, batch {batch}, engine on loopback without added \
         latency: claimed {} and started {} in {elapsed:.2} s = {rate:.0} runs/s; {:.2}x the raw PutItem rate \
         ({raw_rate:.0} items/s; target 0.50x), {:.2}x the raw transaction rate on a table of that size \
         [seeding took {seeded:.1} s]; {report:?}",
        report.claimed,
        report.started,
        rate / raw_rate,
        rate / tx_full,
    );
    anyhow::ensure!(
        report.claimed as usize == due && report.started as usize == due,
        "not all started: {report:?}"
    );
    let again = services.dispatch_due(now, None).await?;
    anyhow::ensure!(again.claimed == 0, "a second tick claimed again: {again:?}");
    println!(
        "target (dispatch >= 0.50x raw PutItem rate): {}",
        if rate >= raw_rate / 2.0 {
            "met"
        } else {
            "MISSED"
        }
    );
    Ok(())
}
