//! The web UI on AWS: the requests a browser sends for the page, its assets and its sign-in settings
//! (`events/ui/`, no `Authorization` header and no claims, as API Gateway passes them on its routes without an
//! authorizer) go through lambda_http's request conversion and the real router with `JwtClaimsAuth`, as the API
//! Lambda serves them; they answer 200. Every `/api/v1/...` route of the OpenAPI document, sent the same way without
//! claims, answers 401: the authorizer is not the only thing keeping the API closed.
#![cfg(feature = "lambda")]

mod common;

use anyhow::{Context, Result, ensure};
use api::lambda_auth::JwtClaimsAuth;
use api::ui::{OidcSignIn, SignIn};
use axum::body::Body;
use chrono::{TimeZone, Utc};
use common::events_dir;
use http_body_util::BodyExt;
use serde_json::Value;
use shared::adapters::memory::{
    FixedClock, MemoryScheduleStore, RecordingNotifier, ScriptedEngine,
};
use shared::config::ServiceConfig;
use shared::services::Services;
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

/// Each fixture and the content type it must be answered with.
const EXPECTED: &[(&str, &str)] = &[
    ("page", "text/html; charset=utf-8"),
    ("app-js", "text/javascript; charset=utf-8"),
    ("app-css", "text/css; charset=utf-8"),
    ("oauth-library", "text/javascript; charset=utf-8"),
    ("config", "application/json"),
];

const ISSUER: &str = "https://login.microsoftonline.com/0b3c3d1e-5f6a-4b7c-8d9e-0f1a2b3c4d5e/v2.0";
const CLIENT_ID: &str = "6d1f0a9e-3c2b-4e5d-8f70-1a2b3c4d5e6f";

/// The API Lambda's router, with the sign-in settings the template passes it.
fn lambda_router() -> Result<axum::Router> {
    let services = Services::new(
        Arc::new(MemoryScheduleStore::new(
            shared::domain::RunRetention::default(),
        )),
        Arc::new(ScriptedEngine::new()),
        Arc::new(RecordingNotifier::new()),
        Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 3, 2, 7, 59, 30).unwrap(),
        )),
        ServiceConfig::default(),
    );
    let env: HashMap<&str, &str> = HashMap::from([
        ("OIDC_ISSUER", ISSUER),
        ("OIDC_CLIENT_ID", CLIENT_ID),
        (
            "OIDC_SCOPES",
            "openid profile api://scheduled-investigations/access",
        ),
        ("OIDC_RESOURCE", ""),
        ("OIDC_EXTRA_ORIGINS", ""),
    ]);
    let sign_in = SignIn::lambda_from_lookup(&|name: &str| env.get(name).map(|v| v.to_string()))?;
    Ok(api::router_with_ui(
        services,
        Arc::new(JwtClaimsAuth::default()),
        &sign_in,
    ))
}

async fn send(
    router: &axum::Router,
    event: &str,
) -> Result<(u16, String, Option<String>, Vec<u8>)> {
    let request = lambda_http::request::from_str(event).context("not an API Gateway request")?;
    let response = router.clone().oneshot(request.map(Body::new)).await?;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type").unwrap_or_default();
    let csp = header("content-security-policy");
    let body = response.into_body().collect().await?.to_bytes().to_vec();
    Ok((status, content_type, csp, body))
}

#[tokio::test]
async fn the_page_assets_and_sign_in_settings_answer_without_claims() -> Result<()> {
    let on_disk = common::fixture_names("ui")?;
    let mut listed: Vec<String> = EXPECTED.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "events/ui and EXPECTED disagree");

    let router = lambda_router()?;
    for (file, content_type) in EXPECTED {
        let text = std::fs::read_to_string(events_dir("ui").join(format!("{file}.json")))?;
        let fixture: Value = serde_json::from_str(&text)?;
        ensure!(
            fixture["headers"].get("authorization").is_none()
                && fixture["requestContext"].get("authorizer").is_none(),
            "{file}: a UI request carries neither a token nor claims"
        );
        let (status, got_type, csp, body) = send(&router, &text).await?;
        ensure!(
            status == 200,
            "{file}: expected 200, got {status}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(&got_type, content_type, "{file}");
        let csp = csp.with_context(|| format!("{file}: no Content-Security-Policy"))?;
        assert!(
            csp.contains("connect-src 'self' https://login.microsoftonline.com;"),
            "{file}: the provider's origin, and only it, is added to connect-src: {csp}"
        );
        assert!(!csp.contains("unsafe"), "{file}: {csp}");
        assert!(!body.is_empty(), "{file}: empty body");
    }

    // The settings the UI signs in with are the template's.
    let text = std::fs::read_to_string(events_dir("ui").join("config.json"))?;
    let (_, _, _, body) = send(&router, &text).await?;
    let config: Value = serde_json::from_slice(&body)?;
    assert_eq!(config["mode"], "oidc");
    assert_eq!(config["issuer"], ISSUER);
    assert_eq!(config["client_id"], CLIENT_ID);
    assert_eq!(
        config["scopes"],
        "openid profile api://scheduled-investigations/access"
    );
    assert!(
        config.get("resource").is_none(),
        "an empty OIDC_RESOURCE is none"
    );
    Ok(())
}

/// Every documented API operation as `(method, path)`, with path parameters filled in.
fn api_operations() -> Vec<(String, String)> {
    let doc = serde_json::to_value(api::openapi()).expect("the document serialises");
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let concrete = path
            .replace("{id}", "sch_01JE2Q7ZK4V3M8N6P5R9T0W1XY")
            .replace("{run_id}", "run_01JE2Q7ZK4V3M8N6P5R9T0W1XY");
        assert!(
            !concrete.contains('{'),
            "a path parameter this test does not fill: {path}"
        );
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.push((method.to_uppercase(), concrete.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_api_route_answers_401_without_claims() -> Result<()> {
    // The stored request without claims, re-aimed at each operation in turn (with a JSON body for writes, so a 401
    // cannot be a body error in disguise).
    let template: Value = serde_json::from_str(&std::fs::read_to_string(
        events_dir("api").join("no-claims.json"),
    )?)?;
    let router = lambda_router()?;
    let operations = api_operations();
    ensure!(
        operations.len() >= 12,
        "the document lists {} API operations",
        operations.len()
    );
    for (method, path) in operations {
        let mut event = template.clone();
        event["rawPath"] = path.clone().into();
        event["requestContext"]["http"]["path"] = path.clone().into();
        event["requestContext"]["http"]["method"] = method.clone().into();
        event["pathParameters"]["proxy"] = path.trim_start_matches("/api/").into();
        if method != "GET" && method != "DELETE" {
            event["body"] = r#"{"name": "x"}"#.into();
            event["headers"]["content-type"] = "application/json".into();
        }
        let (status, _, _, body) = send(&router, &event.to_string()).await?;
        ensure!(
            status == 401,
            "{method} {path} without claims: expected 401, got {status}: {}",
            String::from_utf8_lossy(&body)
        );
        let body: Value = serde_json::from_slice(&body)?;
        assert!(body["detail"].is_string(), "{method} {path}: {body}");
    }
    Ok(())
}

#[test]
fn only_well_formed_origins_reach_the_policy() {
    let lookup = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let cognito = OidcSignIn::from_lookup(&lookup(&[
        (
            "OIDC_ISSUER",
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E",
        ),
        ("OIDC_CLIENT_ID", "4n8kq2r7t1v5x9z3b6d0f2h4j8"),
        ("OIDC_SCOPES", "email"),
        (
            "OIDC_EXTRA_ORIGINS",
            "https://soc.auth.eu-west-1.amazoncognito.com",
        ),
    ]))
    .unwrap()
    .unwrap();
    assert_eq!(cognito.scopes, "openid email", "openid is always asked for");
    assert!(SignIn::Oidc(cognito).csp().contains(
        "connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com https://soc.auth.eu-west-1.amazoncognito.com;"
    ));
    for (issuer, extra) in [
        ("https://evil.example; script-src *", ""),
        ("ftp://idp.example", ""),
        ("https://idp.example", "https://other.example/path"),
        ("https://idp.example", "https://a.example 'unsafe-inline'"),
    ] {
        let pairs: &'static [(&str, &str)] = Box::leak(Box::new([
            ("OIDC_ISSUER", issuer),
            ("OIDC_CLIENT_ID", "client"),
            ("OIDC_EXTRA_ORIGINS", extra),
        ]));
        assert!(
            OidcSignIn::from_lookup(&lookup(pairs)).is_err(),
            "{issuer} / {extra} must be refused"
        );
    }
    assert_eq!(
        SignIn::lambda_from_lookup(&lookup(&[("OIDC_ISSUER", "https://idp.example")])).unwrap(),
        SignIn::Unconfigured,
        "no UiClientId: the UI says sign-in is not configured"
    );
}
