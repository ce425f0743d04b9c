//! A scripted engine on loopback for adapter tests: it answers each request with the next scripted response and
//! records what it received. Also a server that accepts connections and never answers, and an address that
//! refuses connections.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct FakeResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl FakeResponse {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::raw(status, &body.to_string()).header("content-type", "application/json")
    }

    pub fn raw(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// A request the fake received. Header names are lower case; `path` is as sent (still percent-encoded).
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<FakeResponse>>,
    recorded: Mutex<Vec<RecordedRequest>>,
}

/// The scripted server; stops when dropped.
pub struct FakeEngine {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeEngine {
    /// Serves `script` in order; once it runs out, answers `599` so a test that asks too much fails visibly.
    pub async fn start(script: Vec<FakeResponse>) -> Self {
        let shared = Arc::new(Shared {
            script: Mutex::new(script.into()),
            ..Shared::default()
        });
        let state = Arc::clone(&shared);
        let router = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = Arc::clone(&state);
                async move { answer(&state, method, uri, headers, body) }
            },
        );
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake engine");
        let addr = listener.local_addr().expect("fake engine address");
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .await
                .expect("fake engine serve");
        });
        Self { addr, shared, task }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.recorded.lock().expect("recorded lock").clone()
    }
}

impl Drop for FakeEngine {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(shared: &Shared, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    shared
        .recorded
        .lock()
        .expect("recorded lock")
        .push(RecordedRequest {
            method: method.to_string(),
            path: uri.path().to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    let next = shared.script.lock().expect("script lock").pop_front();
    let Some(scripted) = next else {
        return (
            StatusCode::from_u16(599).expect("599"),
            "fake engine: script exhausted",
        )
            .into_response();
    };
    let mut response = (
        StatusCode::from_u16(scripted.status).expect("scripted status"),
        scripted.body,
    )
        .into_response();
    for (name, value) in scripted.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::try_from(name).expect("scripted header name"),
            value.parse().expect("scripted header value"),
        );
    }
    response
}

/// A server that accepts connections, reads nothing and never answers; stops when the handle is dropped (abort).
pub struct SilentServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl SilentServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind silent server");
        let addr = listener.local_addr().expect("silent server address");
        let task = tokio::spawn(async move {
            // Keep the sockets open so the client waits for an answer instead of seeing a reset.
            let mut open = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                open.push(socket);
            }
        });
        Self { addr, task }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback address nothing listens on: bind a free port, then let the listener go.
pub fn refused_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind free port");
    listener.local_addr().expect("free port address")
}
