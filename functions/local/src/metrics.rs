//! The local exporter of [`shared::telemetry`]: `GET /metrics` in the Prometheus text format, behind the same
//! bearer tokens as the API and for admins only (an analyst gets 403). Same metric names as the Lambda functions'
//! EMF documents; the process is one exporter, so the dispatcher's and status checker's ticks tell themselves
//! apart by the `tick` label.

use api::auth::Authenticator;
use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use shared::domain::Role;
use shared::telemetry;
use std::sync::{Arc, OnceLock};

/// Histogram buckets of the dispatch lag (seconds): the alarm threshold (120) is a bucket edge.
const LAG_BUCKETS: &[f64] = &[1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0];
/// Histogram buckets of a tick's duration (seconds).
const TICK_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0];

/// The process's Prometheus recorder, installed on first use (one per process: apps built in one test process
/// share it).
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(telemetry::DISPATCH_LAG.into()), LAG_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(telemetry::TICK_DURATION.into()),
                        TICK_BUCKETS,
                    )
                })
                .and_then(|b| b.install_recorder());
            match built {
                Ok(handle) => {
                    telemetry::describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed; /metrics will say so");
                    None
                }
            }
        })
        .as_ref()
}

/// Installs the recorder now, so the first tick's measurements are kept.
pub fn install() {
    handle();
}

/// `GET /metrics`, checked against `auth`.
pub fn routes(auth: Arc<dyn Authenticator>) -> Router {
    Router::new().route(
        "/metrics",
        get(move |request: Request| {
            let auth = auth.clone();
            async move { render(&*auth, request).await }
        }),
    )
}

async fn render(auth: &dyn Authenticator, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let caller = match auth.authenticate(&parts).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    if caller.role != Role::Admin {
        let body = serde_json::json!({ "detail": "metrics are for admins only" });
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    }
    let Some(handle) = handle() else {
        let body = serde_json::json!({ "detail": "the metrics recorder is not installed" });
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    };
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
