//! Read-path benchmark (a command that prints figures; not a test): the HTTP API on the SQLite store holding N
//! schedules (default 10,000), served on loopback, under C concurrent keep-alive connections (default 64) for S
//! seconds each (default 10): first `GET /api/v1/schedules?limit=20` (the first page, with its total), then
//! `GET /api/v1/schedules?limit=20&cursor=...` (a page deep in the list), then `GET /api/v1/schedules/{id}`. Prints
//! requests/s, p50 and p99 of each side by side, and the listing's p99 over get-by-id's.
//!
//! Run: `cargo bench -p tests --bench listing` (env: BENCH_SCHEDULES, BENCH_CONNECTIONS, BENCH_SECS).

mod common;

use api::auth::BearerTokens;
use chrono::{Duration, Utc};
use common::{env_or, schedule};
use shared::adapters::memory::{FixedClock, RecordingNotifier, ScriptedEngine};
use shared::adapters::sqlite::SqliteScheduleStore;
use shared::config::ServiceConfig;
use shared::domain::{Caller, Role, RunRetention};
use shared::ports::ScheduleStore;
use shared::services::Services;
use std::sync::Arc;
use std::time::Instant;

const TOKEN: &str = "bench-admin-token-0000000000000000";

struct Figures {
    requests: usize,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// `connections` clients, each on its own keep-alive connection, asking for `path` as fast as answers come, for
/// `secs` seconds. Every answer must be a 200.
async fn load(base: &str, path: &str, connections: usize, secs: f64) -> anyhow::Result<Figures> {
    let url = format!("{base}{path}");
    let until = Instant::now() + std::time::Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()?;
            let mut latencies = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                let response = client.get(&url).bearer_auth(TOKEN).send().await?;
                anyhow::ensure!(response.status() == 200, "{url}: {}", response.status());
                response.bytes().await?;
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(latencies)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Ok(Figures {
        requests: all.len(),
        per_second: all.len() as f64 / elapsed,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total: usize = env_or("BENCH_SCHEDULES", 10_000);
    let connections: usize = env_or("BENCH_CONNECTIONS", 64);
    let secs: f64 = env_or("BENCH_SECS", 10.0);
    let now = Utc::now();

    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteScheduleStore::open(
        &dir.path().join("bench.db"),
        RunRetention::default(),
    )?);
    let seeding = Instant::now();
    for i in 0..total {
        let mut s = schedule(i, now, false);
        s.created_at = now - Duration::days(30) + Duration::seconds(i as i64);
        store.insert_schedule(&s).await?;
    }
    let seeded = seeding.elapsed().as_secs_f64();
    let services = Services::new(
        store.clone(),
        Arc::new(ScriptedEngine::new()),
        Arc::new(RecordingNotifier::new()),
        Arc::new(FixedClock::new(now)),
        ServiceConfig::default(),
    );
    let admin = Caller {
        user: "admin".into(),
        role: Role::Admin,
    };
    let auth = Arc::new(BearerTokens::new([(TOKEN.to_owned(), admin)]));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(axum::serve(listener, api::router(services, auth)).into_future());

    // A cursor half-way down the list, from the API itself.
    let client = reqwest::Client::new();
    let mut cursor = String::new();
    for _ in 0..(total / 2 / 100) {
        let page: serde_json::Value = client
            .get(format!("{base}/api/v1/schedules?limit=100&cursor={cursor}"))
            .bearer_auth(TOKEN)
            .send()
            .await?
            .json()
            .await?;
        cursor = page["next_cursor"].as_str().unwrap_or_default().to_owned();
    }
    let id = schedule(total / 2, now, false).id;

    println!(
        "read-path benchmark on {} cores: {total} schedules (seeded in {seeded:.1} s), {connections} connections, \
         {secs:.0} s per endpoint",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut figures = Vec::new();
    for (label, path) in [
        ("list, first page", "/api/v1/schedules?limit=20".to_owned()),
        (
            "list, after a cursor half-way",
            format!("/api/v1/schedules?limit=20&cursor={cursor}"),
        ),
        ("get by id", format!("/api/v1/schedules/{id}")),
    ] {
        let f = load(&base, &path, connections, secs).await?;
        println!(
            "{label:<32} {:>9.0} requests/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} requests)",
            f.per_second, f.p50_ms, f.p99_ms, f.requests
        );
        figures.push(f);
    }
    println!(
        "listing p99 / get-by-id p99: first page {:.2}x, after a cursor {:.2}x (target: within 3x)",
        figures[0].p99_ms / figures[2].p99_ms,
        figures[1].p99_ms / figures[2].p99_ms
    );
    Ok(())
}
