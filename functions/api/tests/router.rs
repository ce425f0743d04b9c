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
    app_from(|services, auth| api::router_with_ui(services, auth, &api::ui::SignIn::Token))
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
        json!({"user": "alice", "role": "analyst", "personas": ["soc_analyst", "ciso"],
               "limits": {"name_max": 200, "description_max": 2000, "query_max": 4000,
                          "list_limit_max": 100, "preview_count_max": 100}}),
        "the UI reads the personas and the limits from exactly this shape"
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
    // A parameter that is present must be valid: empty is not "the default" (the document says integer, enum,
    // date-time, and a client that sends nothing gets the default).
    for uri in [
        "/api/v1/schedules?limit=",
        "/api/v1/schedules?offset=",
        "/api/v1/schedules?status=",
        "/api/v1/notifications?limit=",
        "/api/v1/schedules/preview?count=",
        "/api/v1/schedules/preview?from=",
    ] {
        let method = if uri.contains("/preview") {
            Method::POST
        } else {
            Method::GET
        };
        let timing = json!({"frequency": "daily", "scheduled_time": "08:00"}).to_string();
        let (status, body) = call(&app, Some(ALICE), method, uri, Some(timing)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {body}");
        let name = uri.rsplit('?').next().unwrap().trim_end_matches('=');
        assert_eq!(body["detail"][0]["loc"], json!(["query", name]), "{uri}");
    }
    // Any u32 offset is a page (empty past the end), as documented.
    let (status, body) = call(
        &app,
        Some(ALICE),
        Method::GET,
        "/api/v1/schedules?offset=4294967295",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"], json!([]));
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
    // Every route that reads a body answers 413 in the same JSON shape.
    for uri in ["/api/v1/schedules/validate", "/api/v1/schedules/preview"] {
        let (status, body) =
            call(&app, Some(ALICE), Method::POST, uri, Some(big.to_string())).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{uri}");
        assert!(body["detail"].is_string(), "{uri}: {body}");
    }
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

/// The operations of the document, as `(METHOD, path template)`.
fn documented_operations(doc: &Value) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                ops.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops.sort();
    ops
}

#[tokio::test]
async fn every_route_the_router_serves_is_in_the_document_with_its_responses() {
    let app = app();
    let (status, doc) = call(&app, None, Method::GET, "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");

    // Given a schedule to act on, when every operation is called the way a client would (the delete last)...
    let (status, created) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules",
        Some(new_schedule()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, ran) = call(
        &app,
        Some(ALICE),
        Method::POST,
        &format!("/api/v1/schedules/{id}/run"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{ran}");
    let run_id = ran["run_id"].as_str().unwrap().to_owned();
    let timing = json!({"frequency": "daily", "scheduled_time": "08:00"}).to_string();
    let calls: Vec<(Method, &str, Option<String>)> = vec![
        (Method::GET, "/healthz", None),
        (Method::GET, "/readyz", None),
        (Method::GET, "/openapi.json", None),
        (Method::GET, "/api/v1/me", None),
        (Method::GET, "/api/v1/schedules", None),
        (Method::POST, "/api/v1/schedules", Some(new_schedule())),
        (
            Method::POST,
            "/api/v1/schedules/validate",
            Some(json!({"query": QUERY}).to_string()),
        ),
        (Method::POST, "/api/v1/schedules/preview", Some(timing)),
        (Method::GET, "/api/v1/schedules/{id}", None),
        (
            Method::PATCH,
            "/api/v1/schedules/{id}",
            Some(json!({"name": "Renamed"}).to_string()),
        ),
        (Method::POST, "/api/v1/schedules/{id}/pause", None),
        (Method::POST, "/api/v1/schedules/{id}/resume", None),
        (Method::POST, "/api/v1/schedules/{id}/run", None),
        (Method::GET, "/api/v1/schedules/{id}/runs", None),
        (Method::GET, "/api/v1/schedules/{id}/runs/{run_id}", None),
        (Method::GET, "/api/v1/schedules/{id}/preview", None),
        (Method::GET, "/api/v1/schedules/{id}/coverage", None),
        (
            Method::POST,
            "/api/v1/schedules/{id}/backfill",
            Some(
                json!({"start": "2026-05-31T07:00:00Z", "end": "2026-06-01T07:00:00Z"}).to_string(),
            ),
        ),
        // Nothing is open on a schedule created this instant: the documented 409.
        (Method::POST, "/api/v1/schedules/{id}/coverage/fill", None),
        (Method::GET, "/api/v1/notifications", None),
        (Method::GET, "/api/v1/schedules/{id}/history", None),
        (Method::DELETE, "/api/v1/schedules/{id}", None),
    ];
    // ...the document lists exactly these operations...
    let mut called: Vec<(String, String)> = calls
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    called.sort();
    assert_eq!(documented_operations(&doc), called);
    for (method, template, body) in calls {
        let op = &doc["paths"][template][method.as_str().to_lowercase()];
        let uri = template.replace("{id}", &id).replace("{run_id}", &run_id);
        let (status, answer) = call(&app, Some(ALICE), method.clone(), &uri, body).await;
        // ...each answers with a success the document describes, with a schema unless it has no body...
        if template.ends_with("/coverage/fill") {
            assert_eq!(status, StatusCode::CONFLICT, "{method} {uri}: {answer}");
        } else {
            assert!(status.is_success(), "{method} {uri}: {status} {answer}");
        }
        let ok = &op["responses"][status.as_str()];
        assert!(
            ok.is_object(),
            "{method} {template}: {status} is not documented"
        );
        if status != StatusCode::NO_CONTENT {
            assert!(
                ok["content"]["application/json"]["schema"].is_object(),
                "{method} {template}: {status} has no schema"
            );
        }
        // ...and every route behind a token documents its 401, every route with a body its 400, 413 and 422,
        // every route on one schedule its 404.
        let responses = op["responses"].as_object().unwrap();
        let mut expected = Vec::new();
        if template.starts_with("/api/") {
            expected.push("401");
        }
        if op["requestBody"].is_object() {
            expected.extend(["400", "413", "422"]);
        }
        if template.contains("{id}") {
            expected.push("404");
        }
        for code in expected {
            let documented = &responses[code]["content"]["application/json"]["schema"];
            assert!(
                documented.is_object(),
                "{method} {template}: {code} is not documented"
            );
        }
    }

    // A method the document does not list for a path is a 405, never served.
    for path in doc["paths"].as_object().unwrap().keys() {
        let uri = path.replace("{id}", &id);
        for method in [
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ] {
            if doc["paths"][path][method.as_str().to_lowercase()].is_object() {
                continue;
            }
            let (status, _) = call(&app, Some(ALICE), method.clone(), &uri, None).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        }
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

#[test]
fn every_reference_in_the_document_resolves() {
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let doc = serde_json::to_value(api::openapi()).unwrap();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 50, "{} references", found.len());
    for r in found {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{r} is not local"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
}

#[tokio::test]
async fn the_document_states_the_limits_the_service_enforces() {
    use shared::services::schedules::{
        DESCRIPTION_MAX, LIST_MAX, NAME_MAX, PREVIEW_MAX, QUERY_MAX,
    };
    let doc = serde_json::to_value(api::openapi()).unwrap();
    let schemas = &doc["components"]["schemas"];
    for body in ["NewSchedule", "SchedulePatch"] {
        let p = &schemas[body]["properties"];
        assert_eq!(p["name"]["maxLength"], NAME_MAX, "{body}");
        assert_eq!(p["name"]["minLength"], 1, "{body}");
        assert_eq!(p["description"]["maxLength"], DESCRIPTION_MAX, "{body}");
        assert_eq!(p["user_query"]["maxLength"], QUERY_MAX, "{body}");
        assert_eq!(
            schemas[body]["additionalProperties"], false,
            "{body}: unknown fields are 422"
        );
    }
    assert_eq!(
        schemas["ValidateRequest"]["properties"]["query"]["maxLength"],
        QUERY_MAX
    );
    assert_eq!(
        schemas["NewSchedule"]["required"],
        json!(["name", "user_query", "persona", "frequency"])
    );
    let param = |path: &str, method: &str, name: &str| -> Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} has no {name}"))["schema"]
            .clone()
    };
    for path in ["/api/v1/schedules", "/api/v1/notifications"] {
        assert_eq!(param(path, "get", "limit")["maximum"], LIST_MAX, "{path}");
        assert_eq!(param(path, "get", "limit")["minimum"], 1, "{path}");
    }
    assert_eq!(
        param("/api/v1/schedules", "get", "status")["enum"],
        json!(["ACTIVE", "PAUSED", "COMPLETED", "FAILED"])
    );
    assert_eq!(
        param("/api/v1/schedules/{id}/preview", "get", "count")["maximum"],
        PREVIEW_MAX
    );
    assert_eq!(
        param("/api/v1/schedules/preview", "post", "count")["maximum"],
        PREVIEW_MAX
    );
    assert_eq!(
        schemas["Frequency"]["enum"],
        json!(["once", "daily", "weekly", "monthly", "custom"])
    );
    assert_eq!(schemas["DayOfWeek"]["enum"].as_array().unwrap().len(), 7);
    assert_eq!(schemas["DayOfMonth"]["oneOf"][0]["maximum"], 31);
    assert_eq!(schemas["Role"]["enum"], json!(["analyst", "admin"]));
    // Fields a run view always sends, as null when unset, are nullable.
    assert_eq!(
        schemas["RunView"]["properties"]["session_url"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn pause_takes_an_optional_reason_and_the_history_lists_every_change() {
    let app = app();
    let (status, created) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules",
        Some(new_schedule()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["id"].as_str().unwrap().to_owned();

    // A reason over 500 characters is a 422 naming `reason`, and nothing changes.
    let long = json!({ "reason": "x".repeat(501) }).to_string();
    let (status, body) = call(
        &app,
        Some(ALICE),
        Method::POST,
        &format!("/api/v1/schedules/{id}/pause"),
        Some(long),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["detail"][0]["loc"],
        json!(["body", "reason"]),
        "{body}"
    );

    // Paused with a reason; the schedule shows it.
    let (status, paused) = call(
        &app,
        Some(ALICE),
        Method::POST,
        &format!("/api/v1/schedules/{id}/pause"),
        Some(json!({ "reason": "change freeze" }).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    assert_eq!(paused["pause_reason"], "change freeze");
    // Resumed with a `null` body (no reason), as the document allows.
    let (status, _) = call(
        &app,
        Some(ALICE),
        Method::POST,
        &format!("/api/v1/schedules/{id}/resume"),
        Some("null".into()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, history) = call(
        &app,
        Some(ALICE),
        Method::GET,
        &format!("/api/v1/schedules/{id}/history?limit=2"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert_eq!(history["total"], 3);
    let actions: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["resumed", "paused"]);
    assert_eq!(history["items"][1]["reason"], "change freeze");
    assert_eq!(history["items"][1]["actor"], "alice");

    // Another user's schedule's history is not found.
    let (status, _) = call(
        &app,
        Some(BOB),
        Method::GET,
        &format!("/api/v1/schedules/{id}/history"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn notify_on_is_set_shown_and_checked_and_one_run_reads_in_full() {
    let app = app();
    let mut body: Value = serde_json::from_str(&new_schedule()).unwrap();
    body["notify_on"] = json!("new_findings");
    let (status, created) = call(
        &app,
        Some(ALICE),
        Method::POST,
        "/api/v1/schedules",
        Some(body.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["notify_on"], "new_findings");
    assert!(created.get("findings_baseline").is_none(), "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let uri = format!("/api/v1/schedules/{id}");

    let (status, patched) = call(
        &app,
        Some(ALICE),
        Method::PATCH,
        &uri,
        Some(json!({"notify_on": "failures"}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["notify_on"], "failures");
    for (method, uri) in [
        (Method::PATCH, uri.clone()),
        (Method::POST, "/api/v1/schedules".into()),
    ] {
        let mut bad: Value = serde_json::from_str(&new_schedule()).unwrap();
        bad["notify_on"] = json!("always");
        let sent = if method == Method::PATCH {
            json!({"notify_on": "always"})
        } else {
            bad
        };
        let (status, answer) = call(
            &app,
            Some(ALICE),
            method.clone(),
            &uri,
            Some(sent.to_string()),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method}: {answer}"
        );
        assert_eq!(
            answer["detail"][0]["loc"],
            json!(["body", "notify_on"]),
            "{answer}"
        );
    }
    let (_, still) = call(&app, Some(ALICE), Method::GET, &uri, None).await;
    assert_eq!(
        still["notify_on"], "failures",
        "a refused edit writes nothing"
    );

    // One run in full; another user's run is not found, nor is an unknown run.
    let (_, ran) = call(&app, Some(ALICE), Method::POST, &format!("{uri}/run"), None).await;
    let run_uri = format!("{uri}/runs/{}", ran["run_id"].as_str().unwrap());
    let (status, run) = call(&app, Some(ALICE), Method::GET, &run_uri, None).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(
        (run["findings"].clone(), run["resolved"].clone()),
        (json!([]), json!([]))
    );
    assert_eq!(run["run_id"], ran["run_id"]);
    let (status, _) = call(&app, Some(BOB), Method::GET, &run_uri, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, missing) = call(
        &app,
        Some(ALICE),
        Method::GET,
        &format!("{uri}/runs/run_nope"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    assert!(missing["detail"].as_str().unwrap().contains("run_nope"));
}
