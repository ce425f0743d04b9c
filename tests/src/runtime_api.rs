//! A Lambda Runtime API on loopback, for running a function's real binary as Lambda or `cargo lambda watch` runs
//! it: the binary polls `GET /2018-06-01/runtime/invocation/next`, gets each queued invocation with the headers
//! Lambda sends, and posts its answer to `.../response` or `.../error` (an init failure to `.../init/error`).
//!
//! The deadline header is the test's to choose: [`lambda_deadline`] is what Lambda sends (epoch milliseconds),
//! [`CARGO_LAMBDA_DEADLINE_MS`] what cargo-lambda 1.9.2 sends (its timeout, a duration).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::{HashMap, VecDeque};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// What cargo-lambda 1.9.2 sends as `Lambda-Runtime-Deadline-Ms` whatever its `--timeout`: 600 s as a duration.
pub const CARGO_LAMBDA_DEADLINE_MS: u64 = 600_000;

/// Lambda's `Lambda-Runtime-Deadline-Ms` for an invocation with `left` to run: epoch milliseconds.
pub fn lambda_deadline(left: Duration) -> u64 {
    (SystemTime::now() + left)
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How a function answered an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Response(serde_json::Value),
    Error(String),
}

struct Invocation {
    request_id: String,
    deadline_ms: u64,
    body: String,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<Invocation>>,
    queued: Notify,
    answers: Mutex<HashMap<String, Answer>>,
    init_error: Mutex<Option<String>>,
    answered: Notify,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The Runtime API server; stops when dropped.
pub struct RuntimeApi {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    next_id: Mutex<u32>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            shared,
            next_id: Mutex::new(0),
            server,
        })
    }

    /// Starts `binary` as Lambda would, on this Runtime API, with `env` added. Its output goes to the test's.
    pub fn run_function(&self, binary: &str, env: &[(&str, &str)]) -> std::io::Result<Child> {
        self.command(binary, env).stdout(Stdio::inherit()).spawn()
    }

    /// [`RuntimeApi::run_function`] with the function's stdout piped to the test (where Lambda functions write
    /// their EMF metric documents).
    pub fn run_function_reading_stdout(
        &self,
        binary: &str,
        env: &[(&str, &str)],
    ) -> std::io::Result<Child> {
        self.command(binary, env).stdout(Stdio::piped()).spawn()
    }

    fn command(&self, binary: &str, env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(binary);
        command
            .env("AWS_LAMBDA_RUNTIME_API", self.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "test-function")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stderr(Stdio::inherit());
        command
    }

    /// Queues an invocation with `payload` and the deadline header `deadline_ms`; returns its request id.
    pub fn invoke(&self, payload: &str, deadline_ms: u64) -> String {
        let request_id = {
            let mut n = lock(&self.next_id);
            *n += 1;
            format!("00000000-0000-4000-8000-{:012}", *n)
        };
        lock(&self.shared.queue).push_back(Invocation {
            request_id: request_id.clone(),
            deadline_ms,
            body: payload.to_owned(),
        });
        self.shared.queued.notify_one();
        request_id
    }

    /// The function's answer to `request_id`, waiting up to `wait` for it. An init error ends the wait at once.
    pub async fn answer(&self, request_id: &str, wait: Duration) -> Result<Answer, String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let answered = self.shared.answered.notified();
            if let Some(a) = lock(&self.shared.answers).get(request_id) {
                return Ok(a.clone());
            }
            if let Some(e) = lock(&self.shared.init_error).clone() {
                return Err(format!("the function failed to start: {e}"));
            }
            if tokio::time::timeout_at(deadline, answered).await.is_err() {
                return Err(format!("no answer to {request_id} within {wait:?}"));
            }
        }
    }
}

impl RuntimeApi {
    /// Invokes with `payload` and `deadline_ms` and gives the function's response; an error answer, an init
    /// failure or no answer within `wait` is an error that says which.
    pub async fn call(
        &self,
        payload: &str,
        deadline_ms: u64,
        wait: Duration,
    ) -> Result<serde_json::Value, String> {
        let request = self.invoke(payload, deadline_ms);
        match self.answer(&request, wait).await? {
            Answer::Response(value) => Ok(value),
            Answer::Error(e) => Err(format!("the invocation failed: {e}")),
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    loop {
        let queued = shared.queued.notified();
        if let Some(inv) = lock(&shared.queue).pop_front() {
            let mut headers = HeaderMap::new();
            let mut set = |name: &'static str, value: &str| {
                if let Ok(v) = HeaderValue::from_str(value) {
                    headers.insert(name, v);
                }
            };
            set("lambda-runtime-aws-request-id", &inv.request_id);
            set("lambda-runtime-deadline-ms", &inv.deadline_ms.to_string());
            set(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:test-function",
            );
            set(
                "lambda-runtime-trace-id",
                "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
            );
            set("content-type", "application/json");
            return (StatusCode::OK, headers, inv.body).into_response();
        }
        queued.await;
    }
}

fn record(shared: &Shared, id: String, answer: Answer) -> StatusCode {
    lock(&shared.answers).insert(id, answer);
    shared.answered.notify_waiters();
    StatusCode::ACCEPTED
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
    record(&shared, id, Answer::Response(value))
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    record(&shared, id, Answer::Error(body))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: String) -> StatusCode {
    *lock(&shared.init_error) = Some(body);
    shared.answered.notify_waiters();
    StatusCode::ACCEPTED
}

/// A `once` schedule of `owner` that fell due at `due_at` (the store contract's fixture, made one-time), for
/// inserting straight into a store: no clock has to reach the due instant.
pub fn once_schedule(
    id: &str,
    owner: &str,
    due_at: chrono::DateTime<chrono::Utc>,
) -> shared::domain::Schedule {
    let mut s = crate::store_contract::schedule(id, owner, due_at - chrono::Duration::hours(1));
    s.name = format!("Once {id}");
    s.timing.frequency = shared::domain::Frequency::Once;
    s.timing.scheduled_time = Some(due_at.to_rfc3339());
    s.next_run_at = Some(due_at);
    s
}
