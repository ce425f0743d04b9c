//! Dispatch benchmark (a command that prints figures; not a test):
//!
//! 1. A burst: N schedules due in the same minute (default 10,000), a loopback sandbox engine that takes 100 ms to
//!    accept each start, the real HTTP engine adapter and the SQLite store on a file. Prints how long the
//!    dispatcher takes to claim and start them all.
//! 2. Tick cost against store size: one tick with 100 due schedules over 1,000 and over 100,000 stored ones.
//!
//! Run: `cargo bench -p tests --bench dispatch` (env: BENCH_DUE, BENCH_LATENCY_MS, BENCH_CONCURRENCY,
//! BENCH_LARGE).

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{env_or, schedule};
use shared::adapters::engine_http::{EngineConfig, SocmateEngine};
use shared::adapters::memory::{FixedClock, RecordingNotifier};
use shared::adapters::sandbox_engine::{SandboxConfig, SandboxEngine};
use shared::adapters::sqlite::SqliteScheduleStore;
use shared::config::ServiceConfig;
use shared::ports::ScheduleStore;
use shared::services::Services;
use std::sync::Arc;
use std::time::Instant;

async fn seed(
    store: &SqliteScheduleStore,
    total: usize,
    due: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    // Spread the due ones through the id space so the due index, not insertion order, finds them.
    let stride = (total / due.max(1)).max(1);
    for i in 0..total {
        store
            .insert_schedule(&schedule(i, now, i % stride == 0 && i / stride < due))
            .await?;
    }
    Ok(started.elapsed().as_secs_f64())
}

struct Setup {
    services: Services,
    _sandbox: shared::adapters::sandbox_engine::SandboxHandle,
    _dir: tempfile::TempDir,
    store: Arc<SqliteScheduleStore>,
}

fn setup(latency_ms: u64, concurrency: usize, now: DateTime<Utc>) -> anyhow::Result<Setup> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteScheduleStore::open(
        &dir.path().join("bench.db"),
        shared::domain::RunRetention::default(),
    )?);
    let sandbox = SandboxEngine::spawn(
        SandboxConfig {
            latency: std::time::Duration::from_millis(latency_ms),
            ..SandboxConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )?;
    let engine = Arc::new(SocmateEngine::new(EngineConfig::new(sandbox.base_url()))?);
    let config = ServiceConfig {
        dispatch_concurrency: concurrency,
        ..ServiceConfig::default()
    };
    let services = Services::new(
        store.clone(),
        engine,
        Arc::new(RecordingNotifier::new()),
        Arc::new(FixedClock::new(now)),
        config,
    );
    Ok(Setup {
        services,
        _sandbox: sandbox,
        _dir: dir,
        store,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let due: usize = env_or("BENCH_DUE", 10_000);
    let latency_ms: u64 = env_or("BENCH_LATENCY_MS", 100);
    let concurrency: usize = env_or(
        "BENCH_CONCURRENCY",
        ServiceConfig::default().dispatch_concurrency,
    );
    let large: usize = env_or("BENCH_LARGE", 100_000);
    let now = Utc::now();
    println!(
        "dispatch benchmark on {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // 1. The 08:00 burst.
    let s = setup(latency_ms, concurrency, now)?;
    let seeded = seed(&s.store, due, due, now).await?;
    let started = Instant::now();
    let report = s.services.dispatch_due(now, None).await?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "burst: {due} due schedules, engine accept latency {latency_ms} ms, concurrency {concurrency}: \
         claimed {} and started {} in {elapsed:.2} s ({:.0} starts/s; floor {:.1} s) [seeding took {seeded:.1} s]",
        report.claimed,
        report.started,
        report.started as f64 / elapsed,
        due as f64 * latency_ms as f64 / 1000.0 / concurrency as f64,
    );
    anyhow::ensure!(
        report.claimed as usize == due && report.started as usize == due,
        "not all started: {report:?}"
    );
    let again = s.services.dispatch_due(now, None).await?;
    anyhow::ensure!(again.claimed == 0, "a second tick claimed again: {again:?}");

    // 2. Tick cost against store size (engine without added latency, so the store's share shows).
    for total in [1_000usize, large] {
        let s = setup(0, concurrency, now)?;
        let seeded = seed(&s.store, total, 100, now).await?;
        // An idle tick first (nothing due) and then the tick with 100 due.
        let idle_now = now - Duration::minutes(5);
        let t = Instant::now();
        s.services.dispatch_due(idle_now, None).await?;
        let idle = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        let r = s.services.dispatch_due(now, None).await?;
        let busy = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "tick over {total} stored schedules: idle tick {idle:.2} ms; tick with {} due claimed+started in {busy:.1} ms \
             [seeding took {seeded:.1} s]",
            r.started
        );
    }
    Ok(())
}
