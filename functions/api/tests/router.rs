//! The router's HTTP contract without a network: auth, error shapes, size limits, pagination and the OpenAPI
//! document, on the in-memory twins with a fixed clock.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::TimeZone;
use serde_json::{Value, json};
use shared::adapters::memory::{
    FixedClock, MemoryScheduleStore, RecordingNotifier, ScriptedEngine,
};
use shared::config::ServiceConfig;
use shared::domain::{Caller, Role};
use shared::services::Services;
use std::sync::Arc;
use tower::ServiceExt;

const ALICE: &str = "alice-token-0123456789";
const BOB: &str = "bob-token-0123456789ab";
const QUERY: &str =
    "failed sign-ins in the last 24 hours with more than 5 attempts from the same IP";

fn app() -> axum::Router {
    app_from(api::router)
}

/// The API with the web UI, as the local runner and the API Lambda serve it.
fn app_with_ui() -> axum::Router {
    app_from(api::router_with_ui)
}

fn app_from(
    router: fn(Services, Arc<dyn api::auth::Authenticator>) -> axum::Router,
) -> axum::Router {
    let now = chrono::Utc.with_ymd_and_hms(2026, 6, 1, 7, 0, 0).unwrap();
    let services = Services::new(
        Arc::new(MemoryScheduleStore::new(
            shared::domain::RunRetention::default(),
        )),
        Arc::new(ScriptedEngine::new()),
        Arc::new(RecordingNotifier::new()),
        Arc::new(FixedClock::new(now)),
        ServiceConfig::default(),
    );
    let auth = api::auth::BearerTokens::new([
        (
            ALICE.to_owned(),
            Caller {
                user: "alice".into(),
                role: Role::Analyst,
            },
        ),
        (
            BOB.to_owned(),
            Caller {
                user: "bob".into(),
                role: Role::Analyst,
            },
        ),
    ]);
    router(services, Arc::new(auth))
}

async fn call(
    app: &axum::Router,
    token: Option<&str>,
    method: Method,
    uri: &str,
    body: Option<String>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = req
        .header("content-type", "application/json")
        .body(body.map(Body::from).unwrap_or_default())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    (status, value)
}

fn new_schedule() -> String {
    json!({"name": "Sign-ins", "user_query": QUERY, "persona": "soc_analyst", "frequency": "daily",
           "scheduled_time": "08:00", "timezone": "Europe/Berlin"})
    .to_string()
}

#[tokio::test]
async fn every_api_route_needs_a_valid_token_and_says_why_in_json() {
    let app = app();
    let (status, body) = call(&app, None, Method::GET, "/api/v1/schedules", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["detail"].as_str().unwrap().contains("bearer"));
    let (status, _) = call(
        &app,
        Some("wrong-token-0000000000"),
        Method::GET,
        "/api/v1/me",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, me) = call(&app, Some(ALICE), Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        me,
        json!({
            "user": "alice",
            "role": "analyst",
            "personas": ["soc_analyst", "ciso"],
            "limits": {"name_max": 200, "description_max": 2000, "query_max": 4000,
                       "list_limit_max": 100, "preview_count_max": 100},
        })
    );
    let (status, _) = call(&app, None, Method::GET, "/healthz", None).await;
    assert_eq!(status, StatusCode::OK, "health needs no token");
}

#[tokio::test]
async fn bad_bodies_get_field_level_errors() {
    let app = app();
    let (status, body) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules",
        Some("{not json".into()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("not valid JSON"));
    for (sent, kind) in [("[]", "an array"), (" \"x\"", "a string"), ("null", "null")] {
        let (status, body) = call(
            &app,
            Some(ALICE),
            Method::POST,
            "/api/v1/schedules",
            Some(sent.into()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{sent}: {body}");
        assert_eq!(
            body["detail"][0],
            json!({"loc": ["body"], "msg": format!("expected a JSON object, got {kind}"), "type": "type_error"}),
            "{sent}"
        );
    }
    let (status, _) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules",
        Some("nope".into()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not JSON at all");

    let missing = json!({"name": "x", "persona": "ciso", "frequency": "daily"}).to_string();
    let (status, body) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules",
        Some(missing),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "user_query"]));
    assert_eq!(body["detail"][0]["type"], "missing");

    let unknown = json!({"name": "x", "user_query": QUERY, "persona": "ciso", "frequency": "daily", "owner": "bob"});
    let (status, body) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules",
        Some(unknown.to_string()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the owner never comes from the body"
    );
    assert_eq!(body["detail"][0]["type"], "extra_forbidden");

    let bad_enum =
        json!({"name": "x", "user_query": QUERY, "persona": "ciso", "frequency": "hourly"});
    let (status, body) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules",
        Some(bad_enum.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "frequency"]));

    let (status, body) = call(
        &app,
        Some(ALICE),
        Method::GET,
        "/api/v1/schedules?limit=0",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["query", "limit"]));
    let (status, _) = call(
        &app,
        Some(ALICE),
        Method::GET,
        "/api/v1/schedules?limit=abc",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call(
        &app,
        Some(ALICE),
        Method::GET,
        "/api/v1/schedules?status=DELETED",
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "deleted schedules are never listed"
    );
}

#[tokio::test]
async fn oversized_bodies_get_413_and_write_nothing() {
    let app = app();
    let big = json!({"name": "x", "user_query": "a".repeat(api::MAX_BODY_BYTES), "persona": "ciso", "frequency": "daily"});
    let (status, body) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules",
        Some(big.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["detail"].is_string());
    let (_, list) = call(&app, Some(ALICE), Method::GET, "/api/v1/schedules", None).await;
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn schedules_are_private_paginated_and_previewable() {
    let app = app();
    for _ in 0..3 {
        let (status, _) = call(
            &app,
            Some(ALICE),
            Method::POST,
            "/api/v1/schedules",
            Some(new_schedule()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, page) = call(
        &app,
        Some(ALICE),
        Method::GET,
        "/api/v1/schedules?limit=2&offset=0",
        None,
    )
    .await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().map(Vec::len)
        ),
        (Some(3), Some(2))
    );
    let (_, rest) = call(
        &app,
        Some(ALICE),
        Method::GET,
        "/api/v1/schedules?limit=2&offset=2",
        None,
    )
    .await;
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    let id = page["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        page["items"][0]["schedule_description"],
        "Daily at 08:00 (Europe/Berlin)"
    );

    let (status, body) = call(
        &app,
        Some(BOB),
        Method::GET,
        &format!("/api/v1/schedules/{id}"),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another user's schedule is a 404, not a 403: {body}"
    );

    let uri = format!("/api/v1/schedules/{id}/preview?count=3&from=2026-06-01T07:00:00Z");
    let (status, preview) = call(&app, Some(ALICE), Method::GET, &uri, None).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        preview["runs"],
        json!([
            "2026-06-02T06:00:00Z",
            "2026-06-03T06:00:00Z",
            "2026-06-04T06:00:00Z"
        ])
    );

    let unsaved =
        json!({"frequency": "custom", "cron_expression": "0 8 * * MON-FRI", "timezone": "UTC"})
            .to_string();
    let (status, preview) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules/preview?count=2&from=2026-06-05T09:00:00Z",
        Some(unsaved),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        preview["runs"],
        json!(["2026-06-08T08:00:00Z", "2026-06-09T08:00:00Z"]),
        "Friday 09:00 → Monday"
    );
    let bad = json!({"frequency": "custom", "cron_expression": "0 8 * * FUNDAY"}).to_string();
    let (status, body) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules/preview",
        Some(bad),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "cron_expression"]));
    let (status, _) = call(
        &app,
        Some(ALICE),
        Method::GET,
        &format!("/api/v1/schedules/{id}/preview?from=yesterday"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn validate_explains_itself() {
    let app = app();
    let body = json!({"query": QUERY, "persona": "soc_analyst", "frequency": "weekly"}).to_string();
    let (status, v) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules/validate",
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["valid"], true);
    assert!(v["warnings"][0].as_str().unwrap().contains("weekly"), "{v}");
    let vague = json!({"query": "show me bad stuff"}).to_string();
    let (_, v) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules/validate",
        Some(vague),
    )
    .await;
    assert_eq!(v["valid"], false);
    assert!(!v["suggestions"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn lifecycle_conflicts_are_409_and_unknown_routes_and_methods_are_json() {
    let app = app();
    let (_, created) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules",
        Some(new_schedule()),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let (status, body) = call(
        &app,
        Some(ALICE),
        Method::POST,
        &format!("/api/v1/schedules/{id}/resume"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["detail"].as_str().unwrap().contains("already active"));
    let (status, _) = call(
        &app,
        Some(ALICE),
        Method::DELETE,
        &format!("/api/v1/schedules/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &app,
        Some(ALICE),
        Method::GET,
        &format!("/api/v1/schedules/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = call(&app, Some(ALICE), Method::GET, "/api/v1/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["detail"].is_string());
    let (status, body) = call(&app, Some(ALICE), Method::PUT, "/api/v1/schedules", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["detail"].is_string());
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = app();
    let (status, doc) = call(&app, None, Method::GET, "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/schedules",
        "/api/v1/schedules/validate",
        "/api/v1/schedules/preview",
        "/api/v1/schedules/{id}",
        "/api/v1/schedules/{id}/pause",
        "/api/v1/schedules/{id}/resume",
        "/api/v1/schedules/{id}/run",
        "/api/v1/schedules/{id}/runs",
        "/api/v1/schedules/{id}/preview",
        "/api/v1/notifications",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn every_ui_module_is_served_as_javascript_beside_the_api() {
    let app = app_with_ui();
    assert!(api::ui::MODULES.len() > 1, "the UI is split into modules");
    for &(path, source) in api::ui::MODULES {
        let req = Request::get(path).body(Body::empty()).unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let header = |name: &str| {
            res.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        // A module script with any other type is refused by the browser (strict MIME checking for modules).
        assert_eq!(
            header("content-type"),
            "text/javascript; charset=utf-8",
            "{path}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("cache-control"), "no-cache", "{path}");
        assert!(
            header("content-security-policy").starts_with("default-src 'self'"),
            "{path}"
        );
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        assert_eq!(body, source.as_bytes(), "{path}");
    }
    // The API next to it still answers in JSON, and the page itself is there.
    let (status, _) = call(&app, Some(ALICE), Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::OK);
    let page = app
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}
