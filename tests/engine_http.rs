//! The SoCMate HTTP engine adapter over real loopback HTTP: against the sandbox engine (the contract end to end)
//! and against a scripted fake (every error class of DESIGN §5, headers, timeouts, refused connections).

use chrono::Utc;
use serde_json::json;
use shared::adapters::engine_http::{EngineConfig, EngineCredential, SocmateEngine, TimeRangeMode};
use shared::adapters::sandbox_engine::{SandboxConfig, SandboxEngine, SandboxHandle};
use shared::ports::{EngineError, InvestigationEngine, SessionState, StartRequest};
use std::net::SocketAddr;
use std::time::Duration;
use tests::fake_engine::{FakeEngine, FakeResponse, SilentServer, refused_addr};
use tokio::time::Instant;

const QUERY: &str = "Failed sign-ins for admin@contoso.com from 203.0.113.7 in the last 24 hours, more than 5 attempts";

fn request(key: &str) -> StartRequest {
    StartRequest {
        idempotency_key: key.to_owned(),
        query: QUERY.to_owned(),
        persona: "soc_analyst".to_owned(),
        time_range: None,
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn sandbox(config: SandboxConfig) -> SandboxHandle {
    SandboxEngine::spawn(config, loopback()).unwrap()
}

fn engine(base_url: &str) -> SocmateEngine {
    SocmateEngine::new(EngineConfig::new(base_url)).unwrap()
}

/// Polls until the session is terminal; a real server is polled, so the bound is a deadline, not a sleep.
async fn poll_until_terminal(engine: &SocmateEngine, session_id: &str) -> SessionState {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = engine.session(session_id).await.unwrap();
        if state != SessionState::Active {
            return state;
        }
        assert!(
            Instant::now() < deadline,
            "session {session_id} still active after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

// ------------------------------------------------------------------------------------------------------------
// Against the sandbox engine

#[tokio::test]
async fn a_sandbox_session_runs_then_completes_with_a_labelled_summary() {
    let sandbox = sandbox(SandboxConfig {
        run_time: Duration::from_millis(200),
        ..SandboxConfig::default()
    });
    let engine = engine(&sandbox.base_url());

    let session_id = engine.start(&request("run-1")).await.unwrap();
    assert!(!session_id.is_empty());
    assert_eq!(
        engine.session(&session_id).await.unwrap(),
        SessionState::Active
    );

    match poll_until_terminal(&engine, &session_id).await {
        SessionState::Completed {
            summary,
            finished_at,
            ..
        } => {
            let summary = summary.expect("a summary");
            assert!(
                summary.starts_with("[sandbox] Investigated: Failed sign-ins"),
                "{summary}"
            );
            let finished_at = finished_at.expect("completed_at");
            assert!(finished_at <= Utc::now());
        }
        other => panic!("expected completed, got {other:?}"),
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_labels_every_session_document() {
    let sandbox = sandbox(SandboxConfig {
        run_time: Duration::ZERO,
        ..SandboxConfig::default()
    });
    let session_id = engine(&sandbox.base_url())
        .start(&request("run-label"))
        .await
        .unwrap();
    let doc: serde_json::Value = reqwest::get(format!(
        "{}/api/v1/sessions/{session_id}",
        sandbox.base_url()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(doc["sandbox"], true);
    assert_eq!(doc["engine"], "sandbox");
    assert_eq!(doc["status"], "completed");
    let health = reqwest::get(format!("{}/health", sandbox.base_url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_sandbox_session() {
    let sandbox = sandbox(SandboxConfig::default());
    let engine = engine(&sandbox.base_url());
    let first = engine.start(&request("run-42")).await.unwrap();
    let again = engine.start(&request("run-42")).await.unwrap();
    let other = engine.start(&request("run-43")).await.unwrap();
    assert_eq!(first, again);
    assert_ne!(first, other);
}

#[tokio::test]
async fn the_sandbox_enforces_its_api_key() {
    let sandbox = sandbox(SandboxConfig {
        api_key: Some("right-key".into()),
        ..SandboxConfig::default()
    });
    let with = |credential: Option<EngineCredential>| {
        let mut config = EngineConfig::new(sandbox.base_url());
        config.credential = credential;
        SocmateEngine::new(config).unwrap()
    };

    let wrong = with(Some(EngineCredential::ApiKey("wrong-key".into())))
        .start(&request("a"))
        .await;
    assert!(
        matches!(wrong, Err(EngineError::Rejected { status: 401, .. })),
        "{wrong:?}"
    );
    let missing = with(None).start(&request("a")).await;
    assert!(
        matches!(missing, Err(EngineError::Rejected { status: 401, .. })),
        "{missing:?}"
    );
    let unauthorised_poll = with(None).session("anything").await;
    assert!(matches!(
        unauthorised_poll,
        Err(EngineError::Rejected { status: 401, .. })
    ));

    let right = with(Some(EngineCredential::ApiKey("right-key".into())));
    let session_id = right.start(&request("a")).await.unwrap();
    assert_eq!(
        right.session(&session_id).await.unwrap(),
        SessionState::Active
    );
    let bearer = with(Some(EngineCredential::Bearer("right-key".into())));
    assert!(bearer.start(&request("b")).await.is_ok());
}

#[tokio::test]
async fn a_query_with_the_failure_marker_fails_with_a_message() {
    let sandbox = sandbox(SandboxConfig {
        run_time: Duration::ZERO,
        fail_queries_containing: Some("[fail]".into()),
        ..SandboxConfig::default()
    });
    let engine = engine(&sandbox.base_url());
    let failing = StartRequest {
        query: format!("{QUERY} [fail]"),
        ..request("run-f")
    };
    let session_id = engine.start(&failing).await.unwrap();
    match engine.session(&session_id).await.unwrap() {
        SessionState::Failed {
            message,
            finished_at,
        } => {
            assert!(message.starts_with("[sandbox]"), "{message}");
            assert!(message.contains("[fail]"), "{message}");
            assert!(finished_at.is_some());
        }
        other => panic!("expected failed, got {other:?}"),
    }
    // Without the marker the same sandbox completes.
    let ok = engine.start(&request("run-ok")).await.unwrap();
    assert!(matches!(
        engine.session(&ok).await.unwrap(),
        SessionState::Completed { .. }
    ));
}

#[tokio::test]
async fn the_sandbox_failure_rate_fails_every_nth_session() {
    let sandbox = sandbox(SandboxConfig {
        run_time: Duration::ZERO,
        failure_rate: 0.5,
        ..SandboxConfig::default()
    });
    let engine = engine(&sandbox.base_url());
    let mut failed = Vec::new();
    for n in 1..=4 {
        let id = engine.start(&request(&format!("run-{n}"))).await.unwrap();
        if let SessionState::Failed { .. } = engine.session(&id).await.unwrap() {
            failed.push(n);
        }
    }
    assert_eq!(failed, vec![2, 4]);
}

#[tokio::test]
async fn the_sandbox_rate_limit_is_backpressure_with_retry_after() {
    let sandbox = sandbox(SandboxConfig {
        run_time: Duration::from_secs(60),
        rate_limit: Some(1),
        ..SandboxConfig::default()
    });
    let engine = engine(&sandbox.base_url());
    let first = engine.start(&request("run-1")).await.unwrap();

    match engine.start(&request("run-2")).await {
        Err(EngineError::Backpressure { retry_after }) => {
            assert!(
                retry_after > Duration::from_secs(50) && retry_after <= Duration::from_secs(60),
                "{retry_after:?}"
            );
        }
        other => panic!("expected backpressure, got {other:?}"),
    }
    // A replay of the accepted start is not limited, and another persona has its own budget.
    assert_eq!(engine.start(&request("run-1")).await.unwrap(), first);
    let ciso = StartRequest {
        persona: "ciso".into(),
        ..request("run-3")
    };
    assert!(engine.start(&ciso).await.is_ok());
}

#[tokio::test]
async fn an_unknown_sandbox_session_is_rejected_404() {
    let sandbox = sandbox(SandboxConfig::default());
    let engine = engine(&sandbox.base_url());
    // The slash is encoded, so the request reaches the session route and gets its own 404.
    let err = engine.session("no/such session").await.unwrap_err();
    assert_eq!(
        err,
        EngineError::Rejected {
            status: 404,
            detail: "session not found".into()
        }
    );
}

#[tokio::test]
async fn a_stopped_sandbox_is_unavailable() {
    let sandbox = sandbox(SandboxConfig::default());
    let engine = engine(&sandbox.base_url());
    sandbox.shutdown().await;
    assert!(matches!(
        engine.start(&request("x")).await,
        Err(EngineError::Unavailable(_))
    ));
}

#[tokio::test]
async fn sandbox_latency_is_added_to_each_request() {
    let sandbox = sandbox(SandboxConfig {
        latency: Duration::from_millis(150),
        ..SandboxConfig::default()
    });
    let engine = engine(&sandbox.base_url());
    let began = Instant::now();
    engine.start(&request("slow")).await.unwrap();
    assert!(began.elapsed() >= Duration::from_millis(150));
}

// ------------------------------------------------------------------------------------------------------------
// Against a scripted fake engine

async fn start_against(response: FakeResponse) -> Result<String, EngineError> {
    let fake = FakeEngine::start(vec![response]).await;
    engine(&fake.base_url()).start(&request("run-1")).await
}

async fn session_against(response: FakeResponse) -> Result<SessionState, EngineError> {
    let fake = FakeEngine::start(vec![response]).await;
    engine(&fake.base_url()).session("sess-1").await
}

#[tokio::test]
async fn status_429_with_retry_after_seconds_is_backpressure() {
    let result = start_against(
        FakeResponse::json(429, json!({"detail": "busy"})).header("retry-after", "7"),
    )
    .await;
    assert_eq!(
        result,
        Err(EngineError::Backpressure {
            retry_after: Duration::from_secs(7)
        })
    );
}

#[tokio::test]
async fn status_429_with_an_http_date_is_backpressure_until_then() {
    let at = (Utc::now() + chrono::Duration::seconds(120))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    match start_against(FakeResponse::raw(429, "").header("retry-after", &at)).await {
        Err(EngineError::Backpressure { retry_after }) => {
            assert!(
                retry_after > Duration::from_secs(100) && retry_after <= Duration::from_secs(120),
                "{retry_after:?}"
            );
        }
        other => panic!("expected backpressure, got {other:?}"),
    }
}

#[tokio::test]
async fn status_429_without_retry_after_waits_the_default() {
    let result = start_against(FakeResponse::raw(429, "")).await;
    assert_eq!(
        result,
        Err(EngineError::Backpressure {
            retry_after: Duration::from_secs(30)
        })
    );
    let garbage = start_against(FakeResponse::raw(429, "").header("retry-after", "later")).await;
    assert_eq!(
        garbage,
        Err(EngineError::Backpressure {
            retry_after: Duration::from_secs(30)
        })
    );
}

#[tokio::test]
async fn server_errors_are_unavailable_with_their_detail() {
    match start_against(FakeResponse::raw(500, "")).await {
        Err(EngineError::Unavailable(message)) => assert!(message.contains("500"), "{message}"),
        other => panic!("expected unavailable, got {other:?}"),
    }
    match start_against(FakeResponse::json(
        503,
        json!({"detail": "Sentinel unreachable"}),
    ))
    .await
    {
        Err(EngineError::Unavailable(message)) => {
            assert!(
                message.contains("503") && message.contains("Sentinel unreachable"),
                "{message}"
            );
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    for status in [502, 504] {
        assert!(matches!(
            start_against(FakeResponse::raw(status, "")).await,
            Err(EngineError::Unavailable(_))
        ));
        assert!(matches!(
            session_against(FakeResponse::raw(status, "")).await,
            Err(EngineError::Unavailable(_))
        ));
    }
}

#[tokio::test]
async fn client_errors_are_rejected_with_status_and_detail() {
    let bad_request = start_against(FakeResponse::json(
        400,
        json!({"detail": "persona unknown"}),
    ))
    .await;
    assert_eq!(
        bad_request,
        Err(EngineError::Rejected {
            status: 400,
            detail: "persona unknown".into()
        })
    );

    let unauthorised = start_against(FakeResponse::json(
        401,
        json!({"detail": "Not authenticated"}),
    ))
    .await;
    assert_eq!(
        unauthorised,
        Err(EngineError::Rejected {
            status: 401,
            detail: "Not authenticated".into()
        })
    );

    let invalid = start_against(FakeResponse::json(
        422,
        json!({"detail": [{"loc": ["body", "query"], "msg": "Field required", "type": "missing"}]}),
    ))
    .await;
    match invalid {
        Err(EngineError::Rejected {
            status: 422,
            detail,
        }) => {
            assert_eq!(
                detail,
                r#"[{"loc":["body","query"],"msg":"Field required","type":"missing"}]"#
            );
        }
        other => panic!("expected rejected 422, got {other:?}"),
    }

    for status in [403, 404, 409, 413] {
        let result = start_against(FakeResponse::raw(status, "")).await;
        assert!(
            matches!(result, Err(EngineError::Rejected { status: s, .. }) if s == status),
            "{status}: {result:?}"
        );
    }
    let gone = session_against(FakeResponse::json(
        404,
        json!({"detail": "Session not found"}),
    ))
    .await;
    assert_eq!(
        gone,
        Err(EngineError::Rejected {
            status: 404,
            detail: "Session not found".into()
        })
    );
}

#[tokio::test]
async fn unreadable_success_bodies_are_invalid_responses() {
    for body in [
        "not json at all",
        "[1,2]",
        r#"{"status":"active"}"#,
        r#"{"session_id":""}"#,
    ] {
        let result = start_against(FakeResponse::raw(200, body)).await;
        assert!(
            matches!(result, Err(EngineError::InvalidResponse(_))),
            "{body}: {result:?}"
        );
    }
    let ok = start_against(FakeResponse::json(
        201,
        json!({"session_id": "s-1", "status": "active", "x": 1}),
    ))
    .await;
    assert_eq!(ok, Ok("s-1".to_owned()));

    let unknown = session_against(FakeResponse::json(200, json!({"status": "hibernating"}))).await;
    assert!(
        matches!(unknown, Err(EngineError::InvalidResponse(_))),
        "{unknown:?}"
    );
    let garbage = session_against(FakeResponse::raw(200, "<html>")).await;
    assert!(
        matches!(garbage, Err(EngineError::InvalidResponse(_))),
        "{garbage:?}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_is_unavailable_within_the_timeout() {
    let silent = SilentServer::start().await;
    let mut config = EngineConfig::new(silent.base_url());
    config.request_timeout = Duration::from_millis(300);
    let engine = SocmateEngine::new(config).unwrap();

    let began = Instant::now();
    // The outer timeout only keeps a broken adapter from hanging the suite.
    let result =
        tokio::time::timeout(Duration::from_secs(5), engine.start(&request("run-1"))).await;
    let elapsed = began.elapsed();
    match result {
        Ok(Err(EngineError::Unavailable(_))) => {}
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    let poll = tokio::time::timeout(Duration::from_secs(5), engine.session("s"))
        .await
        .unwrap();
    assert!(matches!(poll, Err(EngineError::Unavailable(_))));
}

#[tokio::test]
async fn a_refused_connection_is_unavailable() {
    let engine = engine(&format!("http://{}", refused_addr()));
    assert!(matches!(
        engine.start(&request("run-1")).await,
        Err(EngineError::Unavailable(_))
    ));
    assert!(matches!(
        engine.session("s").await,
        Err(EngineError::Unavailable(_))
    ));
}

#[tokio::test]
async fn session_statuses_and_summaries_are_understood() {
    let state = |body: serde_json::Value| session_against(FakeResponse::json(200, body));

    for status in [
        "active",
        "running",
        "in_progress",
        "pending",
        "queued",
        "started",
    ] {
        assert_eq!(
            state(json!({"status": status, "extra": [1]})).await,
            Ok(SessionState::Active),
            "{status}"
        );
    }
    let completed = state(json!({
        "status": "succeeded",
        "result": {"summary": "2 hosts beaconing to 198.51.100.9"},
        "finished_at": "2026-11-24T08:05:00+01:00",
    }))
    .await;
    assert_eq!(
        completed,
        Ok(SessionState::Completed {
            summary: Some("2 hosts beaconing to 198.51.100.9".into()),
            finished_at: Some("2026-11-24T07:05:00Z".parse().unwrap()),
            findings: Default::default(),
        })
    );
    let report = state(json!({"status": "done", "report": {"summary": "from report"}})).await;
    assert!(
        matches!(report, Ok(SessionState::Completed { summary: Some(s), .. }) if s == "from report")
    );
    let final_report = state(json!({"status": "complete", "final_report": "final words"})).await;
    assert!(
        matches!(final_report, Ok(SessionState::Completed { summary: Some(s), .. }) if s == "final words")
    );

    let failed =
        state(json!({"status": "errored", "error": {"message": "LLM quota exceeded"}})).await;
    assert!(
        matches!(failed, Ok(SessionState::Failed { message, .. }) if message == "LLM quota exceeded")
    );
    let cancelled = state(json!({"status": "cancelled", "detail": "cancelled by user"})).await;
    assert!(
        matches!(cancelled, Ok(SessionState::Failed { message, .. }) if message == "cancelled by user")
    );
}

#[tokio::test]
async fn requests_carry_the_contract_headers_and_body() {
    let fake = FakeEngine::start(vec![
        FakeResponse::json(201, json!({"session_id": "s-1", "status": "active"})),
        FakeResponse::json(200, json!({"status": "active"})),
    ])
    .await;
    let config = EngineConfig {
        provider: "defender".into(),
        ..EngineConfig::new(format!("{}/engine/", fake.base_url()))
            .with_credential(EngineCredential::ApiKey("key-123".into()))
    };
    let engine = SocmateEngine::new(config).unwrap();
    engine.start(&request("01JRUNID")).await.unwrap();
    engine.session("a/b c").await.unwrap();

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let start = &requests[0];
    assert_eq!(
        (start.method.as_str(), start.path.as_str()),
        ("POST", "/engine/api/v1/investigations/start")
    );
    assert_eq!(
        start.headers.get("x-api-key").map(String::as_str),
        Some("key-123")
    );
    assert_eq!(
        start.headers.get("idempotency-key").map(String::as_str),
        Some("01JRUNID")
    );
    assert!(!start.headers.contains_key("authorization"));
    let body: serde_json::Value = serde_json::from_str(&start.body).unwrap();
    assert_eq!(
        body,
        json!({"query": QUERY, "persona": "soc_analyst", "provider": "defender"})
    );

    let poll = &requests[1];
    assert_eq!(
        (poll.method.as_str(), poll.path.as_str()),
        ("GET", "/engine/api/v1/sessions/a%2Fb%20c")
    );
    assert_eq!(
        poll.headers.get("x-api-key").map(String::as_str),
        Some("key-123")
    );
}

#[tokio::test]
async fn a_bearer_credential_is_sent_as_authorization() {
    let fake = FakeEngine::start(vec![FakeResponse::json(201, json!({"session_id": "s-1"}))]).await;
    let engine = SocmateEngine::new(
        EngineConfig::new(fake.base_url())
            .with_credential(EngineCredential::Bearer("tok-456".into())),
    )
    .unwrap();
    engine.start(&request("run-1")).await.unwrap();
    let start = &fake.requests()[0];
    assert_eq!(start.path, "/api/v1/investigations/start");
    assert_eq!(
        start.headers.get("authorization").map(String::as_str),
        Some("Bearer tok-456")
    );
    assert!(!start.headers.contains_key("x-api-key"));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let fake = FakeEngine::start(vec![
        // Relative, so a client that followed it would reach this fake again and get the 201.
        FakeResponse::raw(302, "").header("location", "/api/v1/investigations/start"),
        FakeResponse::json(201, json!({"session_id": "should-not-be-reached"})),
    ])
    .await;
    let engine = SocmateEngine::new(
        EngineConfig::new(fake.base_url()).with_credential(EngineCredential::ApiKey("key".into())),
    )
    .unwrap();
    let result = engine.start(&request("run-1")).await;
    assert!(
        matches!(result, Err(EngineError::Rejected { status: 302, .. })),
        "{result:?}"
    );
    assert_eq!(fake.requests().len(), 1);
}

// ------------------------------------------------------------------------------------------------------------
// Findings

/// The findings of a completed session document served by the fake.
async fn findings_of(body: serde_json::Value) -> shared::domain::ReportedFindings {
    match session_against(FakeResponse::json(200, body)).await {
        Ok(SessionState::Completed { findings, .. }) => findings,
        other => panic!("expected a completed session, got {other:?}"),
    }
}

#[tokio::test]
async fn findings_are_read_at_every_placement_and_alias() {
    use shared::domain::Severity;
    let canonical = json!({
        "title": "Password spray", "severity": "HIGH", "description": "many failures",
        "entities": ["203.0.113.7", {"type": "account", "value": "alice@contoso.com"}],
        "mitre_techniques": ["T1110.003", {"id": "t1078"}], "id": "f-1", "unknown": {"x": 1},
    });
    let aliased = json!({
        "name": "Password spray", "severity": "High", "description": "many failures",
        "iocs": ["203.0.113.7", {"type": "account", "value": "alice@contoso.com"}],
        "techniques": ["T1110.003", {"id": "T1078"}], "id": "f-1",
    });
    let other_aliases = json!({
        "name": "Password spray", "severity": "high", "description": "many failures",
        "indicators": [{"type": "ip", "value": "203.0.113.7"}, "alice@contoso.com"],
        "mitre": [{"id": "T1110.003"}, "T1078"], "id": "f-1",
    });
    let mut prints = Vec::new();
    for (placement, finding) in [
        ("findings", &canonical),
        ("report", &aliased),
        ("result", &other_aliases),
    ] {
        let body = match placement {
            "findings" => json!({"status": "completed", "findings": [finding]}),
            nested => {
                json!({"status": "completed", nested: {"summary": "s", "findings": [finding]}})
            }
        };
        let read = findings_of(body).await;
        assert_eq!(read.skipped, 0, "{placement}");
        let [f] = read.findings.as_slice() else {
            panic!("{placement}: {read:?}")
        };
        assert_eq!(f.title, "Password spray");
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.description.as_deref(), Some("many failures"));
        assert_eq!(f.entities.len(), 2);
        assert_eq!(f.mitre_techniques, ["T1110.003", "T1078"]);
        assert_eq!(f.engine_id.as_deref(), Some("f-1"));
        prints.push(f.fingerprint());
    }
    assert!(prints.iter().all(|p| p == &prints[0]), "{prints:?}");

    // A single technique where a list is expected, numeric ids, an unknown severity.
    let single = findings_of(json!({"status": "done", "findings": [
        {"title": "Odd login", "severity": "severe", "mitre": "T1078", "id": 42, "entities": [{"value": 7}]}
    ]}))
    .await;
    let f = &single.findings[0];
    assert_eq!(
        (f.severity, f.mitre_techniques.clone(), f.engine_id.clone()),
        (
            Severity::Informational,
            vec!["T1078".to_owned()],
            Some("42".to_owned())
        )
    );
    assert_eq!(f.entities[0].value, "7");
    // Top-level findings win over nested ones; no findings anywhere is no findings.
    let both = findings_of(
        json!({"status": "completed", "findings": [{"title": "top"}],
        "report": {"findings": [{"title": "nested"}]}}),
    )
    .await;
    assert_eq!(both.findings[0].title, "top");
    assert_eq!(
        findings_of(json!({"status": "completed"})).await,
        Default::default()
    );
}

#[tokio::test]
async fn malformed_findings_are_skipped_and_counted() {
    let read = findings_of(json!({"status": "completed", "findings": [
        {"title": "kept", "severity": "low"},
        "not an object",
        42,
        {"severity": "high"},
        {"title": "   "},
        {"title": ["a"], "name": "kept by name"},
        ["title", "x"],
        {"title": "entities of the wrong shape are dropped", "entities": "1.2.3.4 5.6.7.8", "iocs": [1, {"type": "ip"}]},
    ]}))
    .await;
    let titles: Vec<_> = read.findings.iter().map(|f| f.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "kept",
            "kept by name",
            "entities of the wrong shape are dropped"
        ]
    );
    assert_eq!(read.skipped, 5);
    // A findings field that is not a list is no findings; the run still completes.
    assert_eq!(
        findings_of(json!({"status": "completed", "findings": "none"})).await,
        Default::default()
    );
}

#[tokio::test]
async fn at_most_200_findings_are_kept_and_long_texts_are_cut() {
    use shared::domain::findings::{MAX_DESCRIPTION_CHARS, MAX_FINDINGS, MAX_TITLE_CHARS};
    // Within the adapter's 1 MB body limit: 250 findings of about 2.4 KB.
    let long = "x".repeat(1200);
    let findings: Vec<_> = (0..250)
        .map(|i| json!({"title": format!("{i} {long}"), "description": long, "entities": [format!("10.0.{}.{}", i / 256, i % 256)]}))
        .collect();
    let read = findings_of(json!({"status": "completed", "findings": findings})).await;
    assert_eq!(read.findings.len(), MAX_FINDINGS);
    assert_eq!(read.skipped, 50);
    assert!(read.findings[0].title.starts_with("0 "));
    assert!(
        read.findings
            .iter()
            .all(|f| f.title.chars().count() == MAX_TITLE_CHARS + 1
                && f.description.as_ref().unwrap().chars().count() == MAX_DESCRIPTION_CHARS + 1)
    );
}

#[tokio::test]
async fn sandbox_findings_name_the_querys_entities_and_read_through_the_adapter() {
    let sandbox = sandbox(SandboxConfig {
        run_time: Duration::from_millis(50),
        ..SandboxConfig::default()
    });
    let engine = engine(&sandbox.base_url());
    let session = engine.start(&request("run-findings")).await.unwrap();
    let SessionState::Completed { findings, .. } = poll_until_terminal(&engine, &session).await
    else {
        panic!("expected a completed session")
    };
    assert_eq!(findings.skipped, 0);
    let titles: Vec<&str> = findings.findings.iter().map(|f| f.title.as_str()).collect();
    assert_eq!(
        titles.len(),
        4,
        "two named in the query, two of three generated: {titles:?}"
    );
    assert_eq!(titles[0], "Repeated failed sign-ins from 203.0.113.7");
    assert_eq!(titles[1], "Unusual sign-in activity for admin@contoso.com");
    assert!(
        findings
            .findings
            .iter()
            .all(|f| !f.mitre_techniques.is_empty() && !f.entities.is_empty())
    );
}

#[tokio::test]
async fn the_run_window_reaches_the_engine_as_a_field_and_a_sentence_as_configured() {
    let window = shared::domain::Window::new(
        "2030-01-01T08:00:00Z".parse().unwrap(),
        "2030-01-02T08:00:00Z".parse().unwrap(),
    );
    let sentence = "Investigate only data from 2030-01-01T08:00:00Z (inclusive) to 2030-01-02T08:00:00Z (exclusive), UTC.";
    for (mode, field, in_query) in [
        (TimeRangeMode::Both, true, true),
        (TimeRangeMode::Field, true, false),
        (TimeRangeMode::Query, false, true),
        (TimeRangeMode::Off, false, false),
    ] {
        let fake = FakeEngine::start(vec![FakeResponse::json(
            201,
            json!({"session_id": "s-1", "status": "active"}),
        )])
        .await;
        let engine =
            SocmateEngine::new(EngineConfig::new(fake.base_url()).with_time_range(mode)).unwrap();
        let mut start = request("01JWINDOW");
        start.time_range = Some(window);
        engine.start(&start).await.unwrap();
        let body: serde_json::Value = serde_json::from_str(&fake.requests()[0].body).unwrap();
        let expected_field =
            field.then(|| json!({"start": "2030-01-01T08:00:00Z", "end": "2030-01-02T08:00:00Z"}));
        assert_eq!(body.get("time_range").cloned(), expected_field, "{mode:?}");
        let query = body["query"].as_str().unwrap();
        assert!(query.starts_with(QUERY), "{mode:?}: {query}");
        assert_eq!(query.ends_with(sentence), in_query, "{mode:?}: {query}");
    }
    // The sandbox engine takes the field and shows what it was told.
    let sandbox = sandbox(SandboxConfig::default());
    let engine = engine(&sandbox.base_url());
    let mut start = request("01JWINDOW2");
    start.time_range = Some(window);
    let session = engine.start(&start).await.unwrap();
    let document: serde_json::Value =
        reqwest::get(format!("{}/api/v1/sessions/{session}", sandbox.base_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(document["time_range"]["start"], "2030-01-01T08:00:00Z");
    assert!(document["query"].as_str().unwrap().ends_with(sentence));
    assert!(
        "bogus"
            .parse::<TimeRangeMode>()
            .unwrap_err()
            .contains("both, field, query or off")
    );
}
