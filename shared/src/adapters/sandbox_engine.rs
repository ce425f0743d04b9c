//! The sandbox engine: a small HTTP server on loopback that speaks the investigation engine contract (DESIGN §6),
//! so the local product, the tests and the benchmarks exercise the real HTTP adapter without a real engine.
//!
//! It runs no investigation. A session becomes terminal `run_time` after it was started (decided lazily when it
//! is read), with findings deterministic from its query and day (see [`findings`]), and failures, `429`s and
//! latency can be injected. Every session it reports says it is a sandbox:
//! `"sandbox": true`, `"engine": "sandbox"`, and summaries and errors start with `[sandbox]`.

mod findings;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Label in every session document.
pub const SANDBOX_LABEL: &str = "[sandbox]";

/// How the sandbox behaves. `Debug` redacts `api_key`.
#[derive(Clone)]
pub struct SandboxConfig {
    /// How long after its start a session is reported terminal.
    pub run_time: Duration,
    /// Share of sessions that fail, 0..=1. Deterministic: with rate r, the n-th session started fails when
    /// `floor(n·r)` steps up, so 0.25 fails sessions 4, 8, 12, ...
    pub failure_rate: f64,
    /// Sessions whose query contains this text fail (e.g. `"[fail]"`), whatever the rate.
    pub fail_queries_containing: Option<String>,
    /// At most this many active sessions per persona; more starts get `429` with `Retry-After`.
    pub rate_limit: Option<u32>,
    /// Added to every API request before it is answered.
    pub latency: Duration,
    /// When set, API requests must send it as `X-API-Key` (or `Authorization: Bearer`), else `401`.
    pub api_key: Option<secrecy::SecretString>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            run_time: Duration::from_secs(20),
            failure_rate: 0.0,
            fail_queries_containing: None,
            rate_limit: None,
            latency: Duration::ZERO,
            api_key: None,
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("run_time", &self.run_time)
            .field("failure_rate", &self.failure_rate)
            .field("fail_queries_containing", &self.fail_queries_containing)
            .field("rate_limit", &self.rate_limit)
            .field("latency", &self.latency)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Starts sandbox servers.
pub struct SandboxEngine;

impl SandboxEngine {
    /// Binds `addr` (port 0 picks a free port) and serves the contract on the current Tokio runtime until the
    /// handle is shut down or dropped. Must be called from within a Tokio runtime.
    pub fn spawn(config: SandboxConfig, addr: SocketAddr) -> io::Result<SandboxHandle> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            io::Error::other("the sandbox engine must be spawned within a Tokio runtime")
        })?;
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let listener = {
            // `from_std` registers with the runtime's reactor, which must be entered.
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let router = router(Arc::new(Sandbox::new(config)));
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let task = runtime.spawn(async move {
            let shutdown = async {
                // A dropped sender means the handle is gone: stop as well.
                let _ = shutdown_rx.await;
            };
            if let Err(error) = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(%error, "sandbox engine stopped");
            }
        });
        tracing::info!(%local_addr, "sandbox engine listening");
        Ok(SandboxHandle {
            local_addr,
            shutdown: Some(shutdown_tx),
            task: Some(task),
        })
    }
}

/// A running sandbox. Dropping it stops the server (without waiting); [`SandboxHandle::shutdown`] waits.
#[derive(Debug)]
pub struct SandboxHandle {
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SandboxHandle {
    /// `http://<addr>`: the value for the engine adapter's base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections and waits for open requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// State

struct Sandbox {
    config: SandboxConfig,
    state: Mutex<SandboxState>,
}

#[derive(Default)]
struct SandboxState {
    sessions: HashMap<String, Session>,
    by_idempotency_key: HashMap<String, String>,
    /// Sessions started so far: numbers them for the deterministic failure rate.
    started: u64,
}

struct Session {
    id: String,
    query: String,
    persona: String,
    provider: String,
    /// The start request's `time_range`, echoed back (tests check what the engine was told).
    time_range: Option<Value>,
    created_at: DateTime<Utc>,
    /// Monotonic start, so terminal transitions follow Tokio's clock (and paused time in tests).
    started: Instant,
    /// `Some(reason)` if this session will fail.
    failure: Option<String>,
}

impl Session {
    fn is_active(&self, now: Instant, run_time: Duration) -> bool {
        now.saturating_duration_since(self.started) < run_time
    }

    fn document(&self, now: Instant, run_time: Duration) -> Value {
        let mut doc = json!({
            "session_id": self.id,
            "status": "active",
            "query": self.query,
            "persona": self.persona,
            "provider": self.provider,
            "created_at": self.created_at.to_rfc3339(),
            "engine": "sandbox",
            "sandbox": true,
        });
        if let Some(range) = &self.time_range {
            doc["time_range"] = range.clone();
        }
        if self.is_active(now, run_time) {
            return doc;
        }
        let finished_at =
            self.created_at + chrono::Duration::from_std(run_time).unwrap_or(chrono::Duration::MAX);
        doc["completed_at"] = json!(finished_at.to_rfc3339());
        match &self.failure {
            Some(reason) => {
                doc["status"] = json!("failed");
                doc["error"] =
                    json!({ "message": format!("{SANDBOX_LABEL} investigation failed: {reason}") });
            }
            None => {
                let query = cut_at_word(&self.query, SUMMARY_QUERY_CHARS);
                doc["status"] = json!("completed");
                // One sentence end: none after an ellipsis, no doubled full stop.
                let query = query.trim_end_matches('.');
                let stop = if query.ends_with('…') { "" } else { "." };
                let found = findings::findings(&self.query, self.created_at);
                doc["summary"] = json!(format!(
                    "{SANDBOX_LABEL} Investigated: {query}{stop} {} findings.",
                    found.len()
                ));
                doc["findings_count"] = json!(found.len());
                doc["findings"] = Value::Array(found);
            }
        }
        doc
    }
}

/// How much of the query a sandbox summary repeats.
const SUMMARY_QUERY_CHARS: usize = 80;

/// `text` cut to at most `max` characters at the last word boundary, with an ellipsis when cut (a single word
/// longer than `max` is cut inside it).
fn cut_at_word(text: &str, max: usize) -> String {
    let text = text.trim();
    let Some((limit, _)) = text.char_indices().nth(max) else {
        return text.to_owned();
    };
    // A cut just before whitespace ends a whole word; otherwise drop back to the last whitespace before it.
    let fits = if text[limit..].starts_with(char::is_whitespace) {
        &text[..limit]
    } else {
        text[..limit]
            .rfind(char::is_whitespace)
            .map_or(&text[..limit], |space| &text[..space])
    };
    format!("{}…", fits.trim_end())
}

impl Sandbox {
    fn new(mut config: SandboxConfig) -> Self {
        config.failure_rate = if config.failure_rate.is_nan() {
            0.0
        } else {
            config.failure_rate.clamp(0.0, 1.0)
        };
        Self {
            config,
            state: Mutex::new(SandboxState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SandboxState> {
        // A panic while holding the lock cannot leave the maps half-written in a way that matters to a sandbox.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies latency and the API key; `Err` is the response to send instead.
    async fn admit(&self, headers: &HeaderMap) -> Result<(), Response> {
        if !self.config.latency.is_zero() {
            tokio::time::sleep(self.config.latency).await;
        }
        let Some(expected) = &self.config.api_key else {
            return Ok(());
        };
        let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let presented = header(header::HeaderName::from_static("x-api-key"))
            .or_else(|| header(header::AUTHORIZATION).and_then(|v| v.strip_prefix("Bearer ")));
        if presented.map(str::trim) == Some(secrecy::ExposeSecret::expose_secret(expected)) {
            Ok(())
        } else {
            Err(detail(
                StatusCode::UNAUTHORIZED,
                "Invalid or missing API key",
            ))
        }
    }
}

/// Whether the `n`-th session (1-based) fails at `rate`: exactly `floor(n·rate)` of the first n sessions fail.
fn fails_at_rate(n: u64, rate: f64) -> bool {
    // Precision loss in the casts is irrelevant at sandbox volumes.
    (n as f64 * rate).floor() > (n.saturating_sub(1) as f64 * rate).floor()
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

fn router(sandbox: Arc<Sandbox>) -> Router {
    Router::new()
        .route(
            "/health",
            get(|| async {
                axum::Json(json!({ "status": "ok", "engine": "sandbox", "sandbox": true }))
            }),
        )
        .route("/api/v1/investigations/start", post(start))
        .route("/api/v1/sessions/{session_id}", get(session))
        .fallback(|| async { detail(StatusCode::NOT_FOUND, "Not Found") })
        .with_state(sandbox)
}

fn detail(status: StatusCode, detail: impl Into<Value>) -> Response {
    (status, axum::Json(json!({ "detail": detail.into() }))).into_response()
}

fn invalid(field: &str, msg: &str, kind: &str) -> Response {
    detail(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!([{ "loc": ["body", field], "msg": msg, "type": kind }]),
    )
}

async fn start(State(sandbox): State<Arc<Sandbox>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = sandbox.admit(&headers).await {
        return response;
    }
    // The body is parsed by hand so malformed input gets the contract's `{"detail": ...}` shape.
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body @ Value::Object(_)) => body,
        _ => return invalid("body", "Input should be a JSON object", "json_invalid"),
    };
    let text = |field: &str| {
        body.get(field)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let Some(query) = text("query") else {
        return invalid("query", "Field required", "missing");
    };
    let Some(persona) = text("persona") else {
        return invalid("persona", "Field required", "missing");
    };
    let provider = text("provider").unwrap_or("sentinel");
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty());

    let now = Instant::now();
    let run_time = sandbox.config.run_time;
    let mut state = sandbox.lock();

    // A replayed start returns the session it opened, even when the persona is now at its limit.
    if let Some(existing) = idempotency_key
        .and_then(|key| state.by_idempotency_key.get(key))
        .and_then(|id| state.sessions.get(id))
    {
        return (StatusCode::OK, axum::Json(existing.document(now, run_time))).into_response();
    }

    if let Some(limit) = sandbox.config.rate_limit {
        let remaining: Vec<Duration> = state
            .sessions
            .values()
            .filter(|s| s.persona == persona && s.is_active(now, run_time))
            .map(|s| run_time.saturating_sub(now.saturating_duration_since(s.started)))
            .collect();
        if remaining.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            // Retry when the first active session ends, in whole seconds, at least one.
            let wait = remaining.iter().min().copied().unwrap_or(run_time);
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut response = detail(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "{SANDBOX_LABEL} too many concurrent investigations for persona {persona} (limit {limit})"
                ),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.max(1).into());
            return response;
        }
    }

    state.started += 1;
    let failure = match &sandbox.config.fail_queries_containing {
        Some(marker) if !marker.is_empty() && query.contains(marker.as_str()) => {
            Some(format!("the query contains the failure marker {marker:?}"))
        }
        _ if fails_at_rate(state.started, sandbox.config.failure_rate) => Some(format!(
            "injected failure (failure rate {})",
            sandbox.config.failure_rate
        )),
        _ => None,
    };
    let session = Session {
        id: format!("sbx-{}", ulid::Ulid::new().to_string().to_ascii_lowercase()),
        query: query.to_owned(),
        persona: persona.to_owned(),
        provider: provider.to_owned(),
        time_range: body.get("time_range").filter(|v| v.is_object()).cloned(),
        created_at: Utc::now(),
        started: now,
        failure,
    };
    let document = session.document(now, run_time);
    if let Some(key) = idempotency_key {
        state
            .by_idempotency_key
            .insert(key.to_owned(), session.id.clone());
    }
    tracing::debug!(session_id = %session.id, persona, "sandbox session started");
    state.sessions.insert(session.id.clone(), session);
    (StatusCode::CREATED, axum::Json(document)).into_response()
}

async fn session(
    State(sandbox): State<Arc<Sandbox>>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = sandbox.admit(&headers).await {
        return response;
    }
    let state = sandbox.lock();
    match state.sessions.get(&session_id) {
        Some(session) => {
            axum::Json(session.document(Instant::now(), sandbox.config.run_time)).into_response()
        }
        None => detail(StatusCode::NOT_FOUND, "session not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_cut_the_query_between_words() {
        assert_eq!(cut_at_word("short query", 80), "short query");
        assert_eq!(cut_at_word("in the last day", 10), "in the…");
        // A cut that lands exactly at a word's end keeps the word.
        assert_eq!(cut_at_word("in the last day", 11), "in the last…");
        assert_eq!(cut_at_word("exactly ten", 11), "exactly ten");
        // One word longer than the limit is still cut, never returned whole.
        assert_eq!(cut_at_word("supercalifragilistic", 5), "super…");
        assert_eq!(cut_at_word("Zürich größer als", 8), "Zürich…");
    }

    #[test]
    fn failure_rate_is_exact_and_deterministic() {
        let failing = |rate: f64| {
            (1..=100)
                .filter(|n| fails_at_rate(*n, rate))
                .collect::<Vec<_>>()
        };
        assert!(failing(0.0).is_empty());
        assert_eq!(failing(1.0).len(), 100);
        assert_eq!(failing(0.25), (1..=25).map(|k| k * 4).collect::<Vec<_>>());
        assert_eq!(failing(0.1).len(), 10);
    }

    #[test]
    fn config_debug_hides_the_api_key() {
        let config = SandboxConfig {
            api_key: Some("s3cret".into()),
            ..SandboxConfig::default()
        };
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn spawning_outside_a_runtime_is_an_error_not_a_panic() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        assert!(SandboxEngine::spawn(SandboxConfig::default(), addr).is_err());
    }

    #[test]
    fn sessions_turn_terminal_after_run_time() {
        let sandbox = Sandbox::new(SandboxConfig {
            run_time: Duration::from_secs(20),
            fail_queries_containing: Some("[fail]".into()),
            ..SandboxConfig::default()
        });
        let now = Instant::now();
        let session = |query: &str, failure: Option<String>| Session {
            id: "sbx-1".into(),
            query: query.into(),
            persona: "soc_analyst".into(),
            provider: "sentinel".into(),
            time_range: None,
            created_at: Utc::now(),
            started: now,
            failure,
        };
        let ok = session(
            "failed logins for admin@contoso.com in the last 24 hours",
            None,
        );
        assert_eq!(
            ok.document(now, sandbox.config.run_time)["status"],
            "active"
        );
        // `document` takes the instant to judge at, so no clock needs to move.
        let later = now + Duration::from_secs(20);
        assert_eq!(
            ok.document(later - Duration::from_millis(1), sandbox.config.run_time)["status"],
            "active"
        );
        let done = ok.document(later, sandbox.config.run_time);
        assert_eq!(done["status"], "completed");
        assert_eq!(done["sandbox"], true);
        assert!(
            done["summary"]
                .as_str()
                .unwrap()
                .starts_with("[sandbox] Investigated: failed logins")
        );
        assert!(done["completed_at"].is_string());

        // A long query is cut between words, not inside one.
        let long = session(
            "failed logins for admin@contoso.com in the last 24 hours where the source address is outside the corporate range",
            None,
        );
        let summary = long.document(later, sandbox.config.run_time)["summary"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            summary,
            "[sandbox] Investigated: failed logins for admin@contoso.com in the last 24 hours where the source… 3 findings."
        );

        let bad = session("x [fail]", Some("marker".into()));
        let failed = bad.document(later, sandbox.config.run_time);
        assert_eq!(failed["status"], "failed");
        assert!(
            failed["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("[sandbox]")
        );
    }
}
