//! End to end, over HTTP only: data windows and the coverage ledger of a minutely schedule on the local product.
//! The app runs in-process on a fixed clock the test moves a minute at a time (the ticks run every real second,
//! the sandbox engine finishes investigations after one real second), so an hour of schedule takes seconds.
//! Waiting is always for a condition, with a deadline.

use anyhow::{Context, Result, bail, ensure};
use chrono::{DateTime, Duration as Minutes, DurationRound, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::adapters::memory::FixedClock;
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ALICE: &str = "alice-token-for-coverage-e2e-01";
const QUERY: &str =
    "failed sign-ins in the last 24 hours with more than 5 attempts from the same IP";
const WAIT: Duration = Duration::from_secs(30);

struct App {
    handle: Option<local::AppHandle>,
    base: String,
    sandbox: String,
    http: reqwest::Client,
}

impl App {
    async fn start(dir: &Path, sandbox_port: u16, clock: Arc<FixedClock>) -> Result<Self> {
        let vars: HashMap<&str, String> = [
            ("DATA_DIR", dir.display().to_string()),
            ("API_TOKEN", "admin-token-for-coverage-e2e-1".to_owned()),
            ("API_TOKENS", format!("{ALICE}=alice:analyst")),
            ("LISTEN_ADDR", "127.0.0.1:0".to_owned()),
            ("SANDBOX_ADDR", format!("127.0.0.1:{sandbox_port}")),
            ("DISPATCH_INTERVAL_SECS", "0.3".to_owned()),
            ("STATUS_CHECK_INTERVAL_SECS", "0.3".to_owned()),
            ("SANDBOX_RUN_SECS", "0.5".to_owned()),
            ("SANDBOX_FAIL_MARKER", "[fail]".to_owned()),
        ]
        .into_iter()
        .collect();
        let config = local::LocalConfig::from_lookup(|k| vars.get(k).cloned())?;
        let handle = local::App::build_with_clock(config, clock).await?.spawn();
        Ok(Self {
            base: format!("http://{}", handle.addr()),
            sandbox: format!("http://127.0.0.1:{sandbox_port}"),
            handle: Some(handle),
            http: reqwest::Client::new(),
        })
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value)> {
        let mut req = self
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes())?,
                format!("{}{path}", self.base),
            )
            .bearer_auth(ALICE);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        Ok((
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text)?
            },
        ))
    }

    async fn wait_for(
        &self,
        path: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        let deadline = Instant::now() + WAIT;
        loop {
            let (status, v) = self.call("GET", path, None).await?;
            if status.is_success() && done(&v) {
                return Ok(v);
            }
            if Instant::now() > deadline {
                bail!("timed out waiting for {what}; last answer {status}: {v}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(mut self) -> Result<()> {
        if let Some(h) = self.handle.take() {
            h.shutdown().await?;
        }
        Ok(())
    }
}

/// The fixed clock, nudged forward a second every 100 ms up to a ceiling, so polls scheduled "one second
/// later" come due while the schedule's minute stays put.
struct Clock {
    clock: Arc<FixedClock>,
    ceiling: Arc<std::sync::Mutex<DateTime<Utc>>>,
}

impl Clock {
    fn start(at: DateTime<Utc>) -> Self {
        let clock = Arc::new(FixedClock::new(at));
        let ceiling = Arc::new(std::sync::Mutex::new(at));
        let (c, top) = (clock.clone(), ceiling.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let limit = *top.lock().unwrap_or_else(|e| e.into_inner());
                if shared::ports::Clock::now(&*c) < limit {
                    c.advance(Minutes::seconds(1));
                }
            }
        });
        Self { clock, ceiling }
    }

    /// Jumps to `at` and lets the clock drift at most `drift` beyond it.
    fn go(&self, at: DateTime<Utc>, drift: Minutes) {
        *self.ceiling.lock().unwrap_or_else(|e| e.into_inner()) = at + drift;
        self.clock.set(at);
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn instant(v: &Value) -> Result<DateTime<Utc>> {
    Ok(v.as_str().context("an instant")?.parse()?)
}

/// The runs of `id` (newest first) once `count` of them are terminal.
async fn runs_done(app: &App, id: &str, count: usize) -> Result<Vec<Value>> {
    let v = app
        .wait_for(
            &format!("/api/v1/schedules/{id}/runs"),
            &format!("{count} finished runs"),
            |v| {
                let items = v["items"].as_array().cloned().unwrap_or_default();
                items.len() >= count
                    && items.iter().all(|r| {
                        ["completed", "failed", "skipped"]
                            .contains(&r["status"].as_str().unwrap_or(""))
                    })
            },
        )
        .await?;
    Ok(v["items"].as_array().cloned().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minutely_schedule_covers_every_minute_shows_its_gaps_and_fills_them() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox_port = free_port()?;
    let t0 = Utc::now().duration_trunc(Minutes::minutes(1))? + Minutes::seconds(30);
    let minute = |m: i64| t0 - Minutes::seconds(30) + Minutes::minutes(m);
    let clock = Clock::start(t0);
    let drift = Minutes::seconds(40);
    let app = App::start(dir.path(), sandbox_port, clock.clock.clone()).await?;
    let (status, created) = app
        .call("POST", "/api/v1/schedules", Some(json!({"name": "Every minute", "user_query": QUERY,
            "persona": "soc_analyst", "frequency": "custom", "cron_expression": "* * * * *", "timezone": "UTC"})))
        .await?;
    ensure!(status == StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().context("id")?.to_owned();

    // 1. Two consecutive minutes: contiguous windows, and the engine was told each.
    for (m, n) in [(1, 1), (2, 2)] {
        clock.go(minute(m), drift);
        runs_done(&app, &id, n).await?;
    }
    let runs = runs_done(&app, &id, 2).await?;
    let (newer, older) = (&runs[0], &runs[1]);
    assert_eq!(instant(&older["window_start"])?, minute(0));
    assert_eq!(instant(&older["window_end"])?, minute(1));
    assert_eq!(
        instant(&newer["window_start"])?,
        instant(&older["window_end"])?,
        "contiguous"
    );
    assert_eq!(instant(&newer["window_end"])?, minute(2));
    for run in [newer, older] {
        let session = run["session_id"].as_str().context("session")?;
        let told: Value = app
            .http
            .get(format!("{}/api/v1/sessions/{session}", app.sandbox))
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(told["time_range"]["start"], run["window_start"], "{told}");
        assert_eq!(told["time_range"]["end"], run["window_end"], "{told}");
        let start =
            instant(&run["window_start"])?.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        assert!(
            told["query"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("from {start} (inclusive)")),
            "{told}"
        );
    }

    // 2. Paused for five minutes: a `paused` gap.
    clock.go(minute(2) + Minutes::seconds(50), Minutes::zero());
    let (status, _) = app
        .call("POST", &format!("/api/v1/schedules/{id}/pause"), None)
        .await?;
    ensure!(status == StatusCode::OK);
    clock.go(minute(7), Minutes::zero());
    let (status, _) = app
        .call("POST", &format!("/api/v1/schedules/{id}/resume"), None)
        .await?;
    ensure!(status == StatusCode::OK);
    let cov = app
        .wait_for(
            &format!("/api/v1/schedules/{id}/coverage"),
            "a paused gap",
            |v| {
                v["gaps"]
                    .as_array()
                    .is_some_and(|g| g.iter().any(|g| g["reason"] == "paused"))
            },
        )
        .await?;
    let paused = &cov["gaps"][0];
    assert_eq!(
        (instant(&paused["start"])?, instant(&paused["end"])?),
        (minute(2), minute(7))
    );

    // 3. A failed run: a `failed` gap and a `coverage-gap` notification.
    let (status, v) = app
        .call(
            "PATCH",
            &format!("/api/v1/schedules/{id}"),
            Some(json!({"user_query": format!("{QUERY} [fail]")})),
        )
        .await?;
    ensure!(status == StatusCode::OK, "{v}");
    clock.go(minute(8), drift);
    let runs = runs_done(&app, &id, 3).await?;
    assert_eq!(runs[0]["status"], "failed");
    assert_eq!(instant(&runs[0]["window_start"])?, minute(7));
    let notes = app
        .wait_for(
            "/api/v1/notifications?limit=100",
            "coverage-gap notifications",
            |v| {
                v["items"]
                    .as_array()
                    .is_some_and(|n| n.iter().filter(|n| n["event"] == "coverage-gap").count() >= 2)
            },
        )
        .await?;
    let reasons: Vec<&str> = notes["items"]
        .as_array()
        .context("items")?
        .iter()
        .filter(|n| n["event"] == "coverage-gap")
        .filter_map(|n| n["gap"]["reason"].as_str())
        .collect();
    assert!(
        reasons.contains(&"failed") && reasons.contains(&"paused"),
        "{reasons:?}"
    );
    let failed_note = notes["items"]
        .as_array()
        .context("items")?
        .iter()
        .find(|n| n["gap"]["reason"] == "failed")
        .context("failed gap note")?;
    assert_eq!(
        failed_note["fill_link"],
        format!("/api/v1/schedules/{id}/coverage/fill")
    );
    let cov = app
        .call("GET", &format!("/api/v1/schedules/{id}/coverage"), None)
        .await?
        .1;
    let gaps: Vec<(&str, DateTime<Utc>)> = cov["gaps"]
        .as_array()
        .context("gaps")?
        .iter()
        .map(|g| Ok((g["reason"].as_str().unwrap_or(""), instant(&g["start"])?)))
        .collect::<Result<_>>()?;
    assert_eq!(gaps, [("paused", minute(2)), ("failed", minute(7))]);
    assert!(cov["covered_ratio"].as_f64().context("ratio")? < 1.0);

    // 4. Fill: one backfill per gap; when they complete the gaps are gone.
    app.call(
        "PATCH",
        &format!("/api/v1/schedules/{id}"),
        Some(json!({"user_query": QUERY})),
    )
    .await?;
    let (status, filled) = app
        .call(
            "POST",
            &format!("/api/v1/schedules/{id}/coverage/fill"),
            None,
        )
        .await?;
    ensure!(status == StatusCode::ACCEPTED, "{filled}");
    assert_eq!(filled.as_array().map(Vec::len), Some(2), "{filled}");
    assert!(
        filled
            .as_array()
            .context("runs")?
            .iter()
            .all(|r| r["trigger"] == "backfill")
    );
    let cov = app
        .wait_for(
            &format!("/api/v1/schedules/{id}/coverage"),
            "the gaps to close",
            |v| {
                v["gaps"].as_array().is_some_and(Vec::is_empty)
                    && v["in_progress"].as_array().is_some_and(Vec::is_empty)
            },
        )
        .await?;
    assert_eq!(cov["covered"].as_array().map(Vec::len), Some(1), "{cov}");
    assert_eq!(instant(&cov["covered"][0]["end"])?, minute(8));
    let (status, v) = app
        .call(
            "POST",
            &format!("/api/v1/schedules/{id}/coverage/fill"),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or("")
            .contains("no open coverage gaps"),
        "{v}"
    );

    // 5. The runner stops for five minutes: on restart, one run whose window spans the outage.
    let before = runs_done(&app, &id, 5).await?.len();
    app.stop().await?;
    clock.go(minute(13) + Minutes::seconds(10), Minutes::seconds(30));
    let app = App::start(dir.path(), sandbox_port, clock.clock.clone()).await?;
    let runs = runs_done(&app, &id, before + 1).await?;
    let scheduled: Vec<&Value> = runs
        .iter()
        .filter(|r| r["trigger"] == "scheduled")
        .collect();
    assert_eq!(runs.len(), before + 1, "one run for the whole outage");
    assert_eq!(scheduled[0]["status"], "completed");
    assert_eq!(instant(&scheduled[0]["window_start"])?, minute(8));
    assert_eq!(instant(&scheduled[0]["window_end"])?, minute(13));
    let cov = app
        .wait_for(
            &format!("/api/v1/schedules/{id}/coverage"),
            "the outage covered",
            |v| v["covered"].as_array().is_some_and(|c| c.len() == 1),
        )
        .await?;
    assert_eq!(instant(&cov["covered"][0]["end"])?, minute(13));
    assert!(cov["gaps"].as_array().is_some_and(Vec::is_empty), "{cov}");
    app.stop().await
}
