//! End to end: the local product driven over HTTP only, as a user would.
//!
//! Most tests start the app in-process ([`local::App::build`] on a free loopback port, with a fresh `DATA_DIR`,
//! one-second ticks and a sandbox engine that finishes investigations after one second); the process-level tests
//! run the real binary (a restart keeps the data, SIGTERM stops it cleanly, a bad setting exits with status 2).
//! Waiting is always for a condition, with a deadline.

use anyhow::{Context, Result, bail, ensure};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN: &str = "admin-token-for-e2e-tests-0001";
const ALICE: &str = "alice-token-for-e2e-tests-0002";
const BOB: &str = "bob-token-for-e2e-tests-00003";
const QUERY: &str =
    "failed sign-ins in the last 24 hours with more than 5 attempts from the same IP";
const WAIT: Duration = Duration::from_secs(30);
const BINARY: &str = env!("CARGO_BIN_EXE_scheduled-investigations");

/// The settings every test runs with, plus `extra`.
fn settings(data_dir: &Path, extra: &[(&str, String)]) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = [
        ("DATA_DIR", data_dir.display().to_string()),
        ("API_TOKEN", ADMIN.to_owned()),
        (
            "API_TOKENS",
            format!("{ALICE}=alice:analyst,{BOB}=bob:analyst"),
        ),
        ("DISPATCH_INTERVAL_SECS", "1".to_owned()),
        ("STATUS_CHECK_INTERVAL_SECS", "1".to_owned()),
        ("SANDBOX_RUN_SECS", "1".to_owned()),
        ("SANDBOX_FAIL_MARKER", "[fail]".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    vars
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

enum Running {
    InProcess(local::AppHandle),
    Binary(Child),
}

struct Runner {
    running: Option<Running>,
    base: String,
    http: reqwest::Client,
}

impl Runner {
    /// The app in this process, on a free port.
    async fn start(data_dir: &Path) -> Result<Self> {
        Self::start_with(data_dir, &[]).await
    }

    async fn start_with(data_dir: &Path, extra: &[(&str, String)]) -> Result<Self> {
        let mut vars: HashMap<String, String> = settings(data_dir, extra).into_iter().collect();
        vars.entry("LISTEN_ADDR".into())
            .or_insert_with(|| "127.0.0.1:0".into());
        let config = local::LocalConfig::from_lookup(|name| vars.get(name).cloned())?;
        let app = local::App::build(config).await?.spawn();
        let base = format!("http://{}", app.addr());
        Self::healthy(Running::InProcess(app), base).await
    }

    /// The real binary, as a user starts it.
    async fn start_binary(data_dir: &Path) -> Result<Self> {
        let port = free_port()?;
        let child = Command::new(BINARY)
            .envs(settings(
                data_dir,
                &[("LISTEN_ADDR", format!("127.0.0.1:{port}"))],
            ))
            .env_remove("ENGINE_URL")
            .env_remove("SANDBOX_ADDR")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the local runner")?;
        Self::healthy(Running::Binary(child), format!("http://127.0.0.1:{port}")).await
    }

    async fn healthy(running: Running, base: String) -> Result<Self> {
        let runner = Self {
            running: Some(running),
            base,
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(r) = runner
                .http
                .get(format!("{}/healthz", runner.base))
                .send()
                .await
                && r.status().is_success()
            {
                return Ok(runner);
            }
            if Instant::now() > deadline {
                bail!("local runner did not become healthy");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value)> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        };
        Ok((status, value))
    }

    /// Polls `path` until `done` holds for its JSON, or fails after the deadline.
    async fn wait_for(
        &self,
        token: &str,
        path: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        let deadline = Instant::now() + WAIT;
        loop {
            let (status, v) = self.call(token, "GET", path, None).await?;
            if status.is_success() && done(&v) {
                return Ok(v);
            }
            if Instant::now() > deadline {
                bail!("timed out waiting for {what}; last answer {status}: {v}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Alice creates a daily schedule `name` and runs it now; returns its id once the run has completed.
    async fn run_now_to_completion(&self, name: &str) -> Result<String> {
        let (status, created) = self
            .call(ALICE, "POST", "/api/v1/schedules", Some(daily(name, QUERY)))
            .await?;
        ensure!(status == StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().context("id")?.to_owned();
        let (status, run) = self
            .call(ALICE, "POST", &format!("/api/v1/schedules/{id}/run"), None)
            .await?;
        ensure!(status == StatusCode::ACCEPTED, "{run}");
        self.wait_for(
            ALICE,
            &format!("/api/v1/schedules/{id}/runs"),
            "the run to complete",
            |v| v["items"][0]["status"] == "completed",
        )
        .await?;
        Ok(id)
    }

    /// Stops the app: in-process through its handle; the binary with SIGTERM, as a service manager would, and
    /// it must exit cleanly (status 0).
    async fn stop(mut self) -> Result<()> {
        match self.running.take() {
            Some(Running::InProcess(app)) => Ok(app.shutdown().await?),
            Some(Running::Binary(mut child)) => {
                let pid = child.id().to_string();
                Command::new("kill").args(["-TERM", &pid]).status()?;
                let deadline = Instant::now() + WAIT;
                loop {
                    if let Some(status) = child.try_wait()? {
                        ensure!(status.success(), "runner exited with {status} on SIGTERM");
                        return Ok(());
                    }
                    if Instant::now() > deadline {
                        child.kill()?;
                        bail!("runner did not stop on SIGTERM");
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            None => Ok(()),
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        // An in-process app stops when its handle drops; a child process is killed.
        if let Some(Running::Binary(child)) = &mut self.running {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn daily(name: &str, query: &str) -> Value {
    json!({"name": name, "user_query": query, "persona": "soc_analyst", "frequency": "daily",
           "scheduled_time": "08:00", "timezone": "Europe/Berlin"})
}

#[tokio::test]
async fn create_run_now_and_see_it_complete() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let app = Runner::start(dir.path()).await?;
    let (status, created) = app
        .call(
            ALICE,
            "POST",
            "/api/v1/schedules",
            Some(daily("Sign-ins", QUERY)),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().context("id")?.to_owned();
    assert!(created["next_run_at"].is_string());
    let (status, run) = app
        .call(ALICE, "POST", &format!("/api/v1/schedules/{id}/run"), None)
        .await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    assert_eq!(run["trigger"], "manual");
    let runs = app
        .wait_for(
            ALICE,
            &format!("/api/v1/schedules/{id}/runs"),
            "the run to complete",
            |v| v["items"][0]["status"] == "completed",
        )
        .await?;
    let done = &runs["items"][0];
    assert!(
        done["session_id"].as_str().is_some_and(|s| !s.is_empty()),
        "{done}"
    );
    assert!(
        done["duration_ms"].as_i64().is_some_and(|d| d >= 0),
        "{done}"
    );
    assert!(
        done["summary"]
            .as_str()
            .is_some_and(|s| s.contains("[sandbox]")),
        "{done}"
    );
    let notes = app
        .wait_for(
            ALICE,
            "/api/v1/notifications",
            "the completion notification",
            |v| v["total"] == 1,
        )
        .await?;
    assert_eq!(notes["items"][0]["event"], "investigation-completed");
    app.stop().await
}

#[tokio::test]
async fn a_once_schedule_a_few_seconds_ahead_runs_and_completes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let app = Runner::start(dir.path()).await?;
    let at = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let body = json!({"name": "Tonight", "user_query": QUERY, "persona": "ciso", "frequency": "once",
                      "scheduled_time": at, "timezone": "UTC"});
    let (status, created) = app
        .call(ALICE, "POST", "/api/v1/schedules", Some(body))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().context("id")?.to_owned();
    let s = app
        .wait_for(
            ALICE,
            &format!("/api/v1/schedules/{id}"),
            "the once schedule to complete",
            |v| v["status"] == "COMPLETED",
        )
        .await?;
    assert_eq!(s["last_run_status"], "completed");
    assert!(s["next_run_at"].is_null());
    let (_, runs) = app
        .call(ALICE, "GET", &format!("/api/v1/schedules/{id}/runs"), None)
        .await?;
    assert_eq!(runs["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(runs["items"][0]["trigger"], "scheduled");
    app.stop().await
}

#[tokio::test]
async fn five_failures_disable_the_schedule_and_resume_brings_it_back() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let app = Runner::start(dir.path()).await?;
    let query = format!("{QUERY} [fail]");
    let (_, created) = app
        .call(
            ALICE,
            "POST",
            "/api/v1/schedules",
            Some(daily("Flaky", &query)),
        )
        .await?;
    let id = created["id"].as_str().context("id")?.to_owned();
    for i in 1..=5 {
        let (status, _) = app
            .call(ALICE, "POST", &format!("/api/v1/schedules/{id}/run"), None)
            .await?;
        assert_eq!(status, StatusCode::ACCEPTED);
        app.wait_for(
            ALICE,
            &format!("/api/v1/schedules/{id}"),
            "the failure to be counted",
            |v| v["consecutive_failures"] == i,
        )
        .await?;
    }
    let (_, s) = app
        .call(ALICE, "GET", &format!("/api/v1/schedules/{id}"), None)
        .await?;
    assert_eq!(s["status"], "FAILED");
    assert!(s["next_run_at"].is_null());
    let notes = app
        .wait_for(
            ALICE,
            "/api/v1/notifications?limit=100",
            "the schedule-disabled notification",
            |v| {
                v["items"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|n| n["event"] == "schedule-disabled"))
            },
        )
        .await?;
    let failed = notes["items"].as_array().map(|a| {
        a.iter()
            .filter(|n| n["event"] == "investigation-failed")
            .count()
    });
    assert_eq!(failed, Some(5));
    let (status, resumed) = app
        .call(
            ALICE,
            "POST",
            &format!("/api/v1/schedules/{id}/resume"),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{resumed}");
    assert_eq!(resumed["status"], "ACTIVE");
    assert_eq!(resumed["consecutive_failures"], 0);
    assert!(resumed["next_run_at"].is_string());
    app.stop().await
}

#[tokio::test]
async fn other_users_get_404_and_bad_requests_get_clear_errors() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let app = Runner::start(dir.path()).await?;
    let (_, created) = app
        .call(
            ALICE,
            "POST",
            "/api/v1/schedules",
            Some(daily("Mine", QUERY)),
        )
        .await?;
    let id = created["id"].as_str().context("id")?.to_owned();
    for (method, path) in [
        ("GET", format!("/api/v1/schedules/{id}")),
        ("GET", format!("/api/v1/schedules/{id}/runs")),
        ("POST", format!("/api/v1/schedules/{id}/run")),
        ("POST", format!("/api/v1/schedules/{id}/pause")),
        ("DELETE", format!("/api/v1/schedules/{id}")),
    ] {
        let (status, body) = app.call(BOB, method, &path, None).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        assert!(body["detail"].is_string());
    }
    let (_, bobs) = app.call(BOB, "GET", "/api/v1/schedules", None).await?;
    assert_eq!(bobs["total"], 0);
    let (_, all) = app.call(ADMIN, "GET", "/api/v1/schedules", None).await?;
    assert_eq!(all["total"], 1);

    let (status, body) = app
        .call("not-a-token", "GET", "/api/v1/schedules", None)
        .await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["detail"].is_string());

    let mut bad = daily("", QUERY);
    bad["cron_expression"] = json!("61 * * * *");
    bad["frequency"] = json!("custom");
    let (status, body) = app
        .call(ALICE, "POST", "/api/v1/schedules", Some(bad))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["detail"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["loc"][1].as_str())
        .collect();
    assert!(
        fields.contains(&"name") && fields.contains(&"cron_expression"),
        "{body}"
    );

    let huge = json!({"name": "x", "user_query": "a".repeat(100_000), "persona": "ciso", "frequency": "daily"});
    let (status, body) = app
        .call(ALICE, "POST", "/api/v1/schedules", Some(huge))
        .await?;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (_, mine) = app.call(ALICE, "GET", "/api/v1/schedules", None).await?;
    assert_eq!(mine["total"], 1, "rejected requests wrote nothing");
    app.stop().await
}

/// The process-level test: the real binary, stopped with SIGTERM and started again on the same `DATA_DIR`.
#[tokio::test]
async fn a_restart_keeps_schedules_runs_and_notifications() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let app = Runner::start_binary(dir.path()).await?;
    let id = app.run_now_to_completion("Durable").await?;
    app.wait_for(ALICE, "/api/v1/notifications", "the notification", |v| {
        v["total"] == 1
    })
    .await?;
    app.stop().await?;

    let again = Runner::start_binary(dir.path()).await?;
    let (status, s) = again
        .call(ALICE, "GET", &format!("/api/v1/schedules/{id}"), None)
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["name"], "Durable");
    assert_eq!(s["last_run_status"], "completed");
    let (_, runs) = again
        .call(ALICE, "GET", &format!("/api/v1/schedules/{id}/runs"), None)
        .await?;
    assert_eq!(runs["items"][0]["status"], "completed");
    let (_, notes) = again
        .call(ALICE, "GET", "/api/v1/notifications", None)
        .await?;
    assert_eq!(notes["total"], 1);
    again.stop().await
}

#[tokio::test]
async fn a_bad_setting_stops_the_binary_with_one_line_and_status_2() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let output = Command::new(BINARY)
        .envs(settings(
            dir.path(),
            &[("DISPATCH_CONCURRENCY", "many".into())],
        ))
        .env("RUST_BACKTRACE", "1")
        .stdout(Stdio::null())
        .output()
        .context("starting the local runner")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("DISPATCH_CONCURRENCY=\"many\" is not valid")
            && !stderr.contains("backtrace"),
        "{stderr}"
    );
    Ok(())
}

#[tokio::test]
async fn sandbox_addr_keeps_the_sandbox_engine_on_one_address_across_restarts() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let addr = format!("127.0.0.1:{}", free_port()?);
    let health = format!("http://{addr}/health");
    for _ in 0..2 {
        let app = Runner::start_with(dir.path(), &[("SANDBOX_ADDR", addr.clone())]).await?;
        let answer: Value = app.http.get(&health).send().await?.json().await?;
        assert_eq!(answer["engine"], "sandbox", "{answer}");
        // Investigations go to that address: run-now completes.
        app.run_now_to_completion("Pinned").await?;
        app.stop().await?;
        // Stopped means the address is free again for the next start.
        assert!(
            app_is_gone(&health).await,
            "the sandbox still answers at {addr}"
        );
    }
    Ok(())
}

async fn app_is_gone(url: &str) -> bool {
    reqwest::get(url).await.is_err()
}

/// The value of the Prometheus sample `series` (name and labels exactly as rendered) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[tokio::test]
async fn metrics_health_and_readiness_over_http() -> Result<()> {
    // The binary: a process of its own, so its counters start at zero.
    let dir = tempfile::tempdir()?;
    let runner = Runner::start_binary(dir.path()).await?;
    for probe in ["/healthz", "/readyz"] {
        let r = runner
            .http
            .get(format!("{}{probe}", runner.base))
            .send()
            .await?;
        ensure!(r.status() == StatusCode::OK, "{probe}: {}", r.status());
    }

    // After a run started and completed...
    runner.run_now_to_completion("Metrics").await?;
    let get = |token: &str| {
        runner
            .http
            .get(format!("{}/metrics", runner.base))
            .bearer_auth(token.to_owned())
            .send()
    };
    // ...an analyst is refused, a missing token is 401, and the admin reads Prometheus text.
    ensure!(get(ALICE).await?.status() == StatusCode::FORBIDDEN);
    let anonymous = runner
        .http
        .get(format!("{}/metrics", runner.base))
        .send()
        .await?;
    ensure!(anonymous.status() == StatusCode::UNAUTHORIZED);
    let answer = get(ADMIN).await?;
    ensure!(answer.status() == StatusCode::OK);
    ensure!(
        answer
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain")),
        "{:?}",
        answer.headers()
    );
    let text = answer.text().await?;
    ensure!(sample(&text, "runs_started") == Some(1.0), "{text}");
    // The completion is recorded by the status tick that saw it; the run listing already showed it completed.
    ensure!(sample(&text, "runs_completed") == Some(1.0), "{text}");
    ensure!(
        sample(&text, "dispatch_lag_seconds_count") == Some(1.0),
        "{text}"
    );
    ensure!(
        text.contains("dispatch_lag_seconds_bucket{le=\"120\"}"),
        "{text}"
    );
    ensure!(
        text.contains("# TYPE dispatch_lag_seconds histogram"),
        "{text}"
    );
    ensure!(
        text.contains("tick_duration_seconds_count{tick=\"status_check\"}"),
        "{text}"
    );
    runner.stop().await
}

/// A scripted engine on loopback for the findings story: session `n` (in start order) completes at once with the
/// `n`th document; `POST /webhook` records the local runner's webhook posts.
struct ScriptedFindingsEngine {
    base: String,
    webhook_texts: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedFindingsEngine {
    async fn start(sessions: Vec<Value>) -> Result<Self> {
        use axum::extract::{Path as UrlPath, State};
        use axum::routing::{get, post};
        use std::sync::{Arc, Mutex};
        #[derive(Clone)]
        struct Script {
            sessions: Arc<Vec<Value>>,
            started: Arc<Mutex<usize>>,
            texts: Arc<Mutex<Vec<String>>>,
        }
        let script = Script {
            sessions: Arc::new(sessions),
            started: Arc::default(),
            texts: Arc::default(),
        };
        let texts = Arc::clone(&script.texts);
        let router = axum::Router::new()
            .route(
                "/api/v1/investigations/start",
                post(|State(s): State<Script>| async move {
                    let mut started = s.started.lock().expect("lock");
                    *started += 1;
                    axum::Json(
                        json!({"session_id": format!("ses_{}", *started - 1), "status": "active"}),
                    )
                }),
            )
            .route(
                "/api/v1/sessions/{id}",
                get(
                    |State(s): State<Script>, UrlPath(id): UrlPath<String>| async move {
                        let n: usize = id.trim_start_matches("ses_").parse().unwrap_or(usize::MAX);
                        match s.sessions.get(n) {
                            Some(doc) => (StatusCode::OK, axum::Json(doc.clone())),
                            None => (
                                StatusCode::NOT_FOUND,
                                axum::Json(json!({"detail": "no such session"})),
                            ),
                        }
                    },
                ),
            )
            .route(
                "/webhook",
                post(
                    |State(s): State<Script>, axum::Json(body): axum::Json<Value>| async move {
                        let text = body["text"].as_str().unwrap_or_default().to_owned();
                        s.texts.lock().expect("lock").push(text);
                        StatusCode::OK
                    },
                ),
            )
            .with_state(script);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            base,
            webhook_texts: texts,
            task,
        })
    }

    fn webhook_texts(&self) -> Vec<String> {
        self.webhook_texts.lock().expect("lock").clone()
    }
}

impl Drop for ScriptedFindingsEngine {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn new_findings_notify_once_and_a_repeat_stays_quiet() -> Result<()> {
    // Three sessions of one schedule, findings {A, B} → {A reworded, B} → {B, C}, in the three placements and
    // with the aliases engines use.
    let a = json!({"title": "Password spray from 203.0.113.7", "severity": "high",
                   "entities": ["203.0.113.7"], "mitre_techniques": ["T1110.003"]});
    let a_reworded = json!({"name": "Spraying seen again from 203.0.113.7", "severity": "High",
                            "iocs": [{"type": "ip", "value": "203.0.113.7"}], "techniques": [{"id": "t1110.003"}]});
    let b = json!({"title": "Sign-in from a new country for bob@contoso.com", "severity": "medium",
                   "indicators": ["bob@contoso.com"]});
    let c = json!({"title": "New global admin: carol@contoso.com", "severity": "critical",
                   "entities": [{"type": "account", "value": "carol@contoso.com"}], "mitre": "T1098"});
    let engine = ScriptedFindingsEngine::start(vec![
        json!({"status": "completed", "summary": "two findings", "findings": [a, b]}),
        json!({"status": "completed", "report": {"summary": "the same two", "findings": [a_reworded, b]}}),
        json!({"status": "completed", "result": {"summary": "one new", "findings": [b, c]}}),
    ])
    .await?;
    let dir = tempfile::tempdir()?;
    let app = Runner::start_with(
        dir.path(),
        &[
            ("ENGINE_URL", engine.base.clone()),
            ("WEBHOOK_URL", format!("{}/webhook", engine.base)),
        ],
    )
    .await?;
    let mut body = daily("Spray watch", QUERY);
    body["notify_on"] = json!("new_findings");
    let (status, created) = app
        .call(ALICE, "POST", "/api/v1/schedules", Some(body))
        .await?;
    ensure!(status == StatusCode::CREATED, "{created}");
    assert_eq!(created["notify_on"], "new_findings");
    let id = created["id"].as_str().context("id")?.to_owned();

    let mut finished = Vec::new();
    for n in 0..3 {
        let (status, run) = app
            .call(ALICE, "POST", &format!("/api/v1/schedules/{id}/run"), None)
            .await?;
        ensure!(status == StatusCode::ACCEPTED, "{run}");
        let run_id = run["run_id"].as_str().context("run id")?.to_owned();
        // Completed, and its notification decided (sent, or suppressed with a reason).
        let runs = app
            .wait_for(
                ALICE,
                &format!("/api/v1/schedules/{id}/runs"),
                "the run to finish",
                |v| {
                    v["items"][0]["run_id"] == run_id.as_str()
                        && v["items"][0]["status"] == "completed"
                        && v["items"][0]["notification"].is_object()
                },
            )
            .await?;
        assert!(
            runs["items"][0].get("findings").is_none(),
            "listings carry the summary only"
        );
        let (status, detail) = app
            .call(
                ALICE,
                "GET",
                &format!("/api/v1/schedules/{id}/runs/{run_id}"),
                None,
            )
            .await?;
        ensure!(status == StatusCode::OK, "{detail}");
        if n == 0 {
            app.wait_for(
                ALICE,
                "/api/v1/notifications",
                "the first notification",
                |v| v["total"] == 1,
            )
            .await?;
        }
        finished.push(detail);
    }

    // The first run: both new; notified.
    assert_eq!(finished[0]["findings_summary"]["new"], 2, "{}", finished[0]);
    assert_eq!(finished[0]["notification"], json!({"sent": true}));
    // The second: the same two (one reworded, other aliases): nothing new, so no notification.
    let second = &finished[1];
    assert_eq!(
        (
            second["findings_summary"]["new"].clone(),
            second["findings_summary"]["ongoing"].clone()
        ),
        (json!(0), json!(2)),
        "{second}"
    );
    assert!(
        second["findings"]
            .as_array()
            .context("findings")?
            .iter()
            .all(|f| f["status"] == "ongoing")
    );
    assert_eq!(
        second["notification"],
        json!({"sent": false, "reason": "no new findings"})
    );
    // The third: C new, A resolved, B ongoing since the first run.
    let third = &finished[2];
    let summary = &third["findings_summary"];
    assert_eq!(
        (
            summary["new"].clone(),
            summary["ongoing"].clone(),
            summary["resolved"].clone(),
            summary["max_severity"].clone()
        ),
        (json!(1), json!(1), json!(1), json!("critical")),
        "{third}"
    );
    let statuses: Vec<(&str, &str)> = third["findings"]
        .as_array()
        .context("findings")?
        .iter()
        .map(|f| {
            (
                f["title"].as_str().unwrap_or(""),
                f["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("Sign-in from a new country for bob@contoso.com", "ongoing"),
            ("New global admin: carol@contoso.com", "new")
        ]
    );
    assert_eq!(
        third["findings"][0]["first_seen_at"],
        finished[0]["finished_at"]
    );
    assert_eq!(
        third["resolved"][0]["title"],
        "Spraying seen again from 203.0.113.7"
    );
    assert_eq!(third["resolved"][0]["last_seen_at"], second["finished_at"]);

    // Stored notifications and the webhook: the first and the third only; the third names C new and A resolved.
    let notes = app
        .wait_for(
            ALICE,
            "/api/v1/notifications",
            "the third notification",
            |v| v["total"] == 2,
        )
        .await?;
    let latest = &notes["items"][0];
    assert_eq!(latest["run_id"], third["run_id"]);
    assert_eq!(
        (
            latest["new_findings"].clone(),
            latest["max_severity"].clone()
        ),
        (json!(1), json!("critical"))
    );
    assert_eq!(
        latest["findings"][0]["title"],
        "New global admin: carol@contoso.com"
    );
    let deadline = Instant::now() + WAIT;
    while engine.webhook_texts().len() < 2 {
        ensure!(
            Instant::now() < deadline,
            "webhook posts: {:?}",
            engine.webhook_texts()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let texts = engine.webhook_texts();
    assert_eq!(texts.len(), 2, "{texts:?}");
    let text = &texts[1];
    assert!(
        text.contains("Findings: 1 new · 1 resolved · 1 ongoing — highest severity: critical"),
        "{text}"
    );
    assert!(
        text.contains("- [critical] New global admin: carol@contoso.com — carol@contoso.com"),
        "{text}"
    );
    assert!(
        text.contains("Resolved:\n- [high] Spraying seen again from 203.0.113.7"),
        "{text}"
    );
    // The schedule list shows the latest summary.
    let (_, list) = app.call(ALICE, "GET", "/api/v1/schedules", None).await?;
    assert_eq!(list["items"][0]["findings_summary"], *summary);
    app.stop().await
}
