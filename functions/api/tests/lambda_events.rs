//! Every API Gateway request in `events/api/` goes through lambda_http's request conversion and the real router,
//! with `JwtClaimsAuth` reading the claims from the request context, on the in-memory twins. The fixtures are the
//! ones `cargo lambda invoke` and `sam local invoke` use, so they cannot rot.
#![cfg(feature = "lambda")]

mod common;

use anyhow::{Context, Result, ensure};
use api::lambda_auth::JwtClaimsAuth;
use axum::body::Body;
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::Value;
use shared::adapters::memory::{
    FixedClock, MemoryScheduleStore, RecordingNotifier, ScriptedEngine,
};
use shared::config::ServiceConfig;
use shared::domain::{Caller, Role, ScheduleId};
use shared::ports::ScheduleStore;
use shared::services::{NewSchedule, Services};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;

/// The schedule id the fixtures address, and the users behind their claims.
const SCHEDULE_ID: &str = "sch_01JE2Q7ZK4V3M8N6P5R9T0W1XY";
const ALICE: &str = "3f6c2a1e-9b7d-4c55-8e2a-1d4b6f0c9a77";
const ADMIN: &str = "e0a7c9d3-2b64-4f18-9d5e-7a1c3b8f6e20";

/// Each fixture, in the order a user would send them, with the status it must get.
const EXPECTED: &[(&str, u16)] = &[
    ("validate-query", 200),
    ("create-schedule", 201),
    ("create-schedule-invalid", 422),
    ("list-schedules", 200),
    ("list-schedules-admin", 200),
    ("get-schedule", 200),
    ("get-schedule-other-user", 404),
    ("update-schedule", 200),
    ("preview-schedule", 200),
    ("preview-definition", 200),
    ("pause-schedule", 200),
    ("resume-schedule", 200),
    ("run-now", 202),
    ("list-runs", 200),
    ("list-notifications", 200),
    ("me", 200),
    ("delete-schedule", 204),
    ("no-claims", 401),
];

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events/api")
}

/// Services on the twins, with the schedule the fixtures address already owned by Alice.
async fn seeded_services() -> Result<(Services, Arc<ScriptedEngine>)> {
    let store = Arc::new(MemoryScheduleStore::new(
        shared::domain::RunRetention::default(),
    ));
    let engine = Arc::new(ScriptedEngine::new());
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 7, 59, 30).unwrap(),
    ));
    let services = Services::new(
        store.clone(),
        engine.clone(),
        Arc::new(RecordingNotifier::new()),
        clock,
        ServiceConfig::default(),
    );
    let alice = Caller {
        user: ALICE.into(),
        role: Role::Analyst,
    };
    let input: NewSchedule = serde_json::from_value(serde_json::json!({
        "name": "Impossible travel for VPN users",
        "query": "List sign-ins for vpn-users@contoso.com from more than 2 countries in the last 24 hours",
        "persona": "soc_analyst",
        "frequency": "daily",
        "scheduled_time": "09:00",
        "timezone": "Europe/Berlin"
    }))?;
    let created = services
        .create_schedule(&alice, input)
        .await
        .context("seeding a schedule")?;
    // Re-insert it under the id the fixtures use (ids are generated; fixtures need a fixed one), and soft-delete
    // the original so listings see one seeded schedule.
    let mut schedule = created.schedule;
    let generated = schedule.id.clone();
    schedule.id = ScheduleId::from(SCHEDULE_ID);
    store.insert_schedule(&schedule).await?;
    services.delete_schedule(&alice, generated.as_str()).await?;
    Ok((services, engine))
}

async fn invoke(router: &axum::Router, file: &str) -> Result<(u16, Value)> {
    let text = std::fs::read_to_string(events_dir().join(format!("{file}.json")))?;
    let request = lambda_http::request::from_str(&text)
        .with_context(|| format!("{file}.json is not an API Gateway request"))?;
    let response = router.clone().oneshot(request.map(Body::new)).await?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).with_context(|| format!("{file}: body is not JSON"))?
    };
    Ok((status, body))
}

#[tokio::test]
async fn every_api_event_gets_its_expected_response() -> Result<()> {
    // Given: every fixture on disk is in the table (a new fixture without an expectation fails here).
    let on_disk = common::fixture_names("api")?;
    let mut listed: Vec<String> = EXPECTED.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "events/api and EXPECTED disagree");

    let (services, engine) = seeded_services().await?;
    let router = api::router(services, Arc::new(JwtClaimsAuth::default()));

    // When: each request is sent in order. Then: each gets its status, and the bodies say the right things.
    let mut bodies = HashMap::new();
    for (file, expected) in EXPECTED {
        let (status, body) = invoke(&router, file).await?;
        ensure!(
            status == *expected,
            "{file}: expected {expected}, got {status}: {body}"
        );
        bodies.insert(*file, body);
    }
    assert_eq!(
        bodies["create-schedule"]["owner"], ALICE,
        "the owner comes from the verified claims"
    );
    assert_eq!(bodies["get-schedule"]["id"], SCHEDULE_ID);
    assert!(bodies["get-schedule-other-user"]["detail"].is_string());
    assert!(
        bodies["create-schedule-invalid"]["detail"].is_array(),
        "422 lists the fields: {}",
        bodies["create-schedule-invalid"]
    );
    assert_eq!(bodies["update-schedule"]["scheduled_time"], "07:30");
    assert_eq!(
        bodies["preview-definition"]["runs"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(bodies["run-now"]["trigger"], "manual");
    assert_eq!(bodies["me"]["user"], ALICE);
    assert_eq!(
        bodies["list-schedules-admin"]["total"], 2,
        "the admin sees every owner's schedules"
    );
    assert_eq!(
        engine.started().len(),
        1,
        "run-now started exactly one investigation"
    );
    Ok(())
}

#[tokio::test]
async fn the_admin_role_comes_from_the_groups_claim() -> Result<()> {
    let (services, _) = seeded_services().await?;
    let router = api::router(services, Arc::new(JwtClaimsAuth::default()));
    let text = std::fs::read_to_string(events_dir().join("me.json"))?;
    // The admin fixture's claims, on the /me route.
    let admin: Value = serde_json::from_str(&std::fs::read_to_string(
        events_dir().join("list-schedules-admin.json"),
    )?)?;
    let mut me: Value = serde_json::from_str(&text)?;
    me["requestContext"]["authorizer"] = admin["requestContext"]["authorizer"].clone();
    let request = lambda_http::request::from_str(&me.to_string())?;
    let response = router.oneshot(request.map(Body::new)).await?;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?;
    assert_eq!(body["user"], ADMIN);
    assert_eq!(body["role"], "admin");
    Ok(())
}
