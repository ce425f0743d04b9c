//! `GET /api/v1/schedules/{id}/history`: a schedule's audit trail; the optional `{"reason"}` body of pause and
//! resume; and `GET /readyz`.

use super::error::{ApiError, ScheduleNotFound, Unauthorized, Unavailable, ValidationErrorBody};
use super::{AppState, Params, ScheduleIdParam, param, parse_body};
use crate::auth::CallerExt;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use shared::domain::AuditEvent;
use shared::services::schedules::Listing;
use shared::services::{PageQuery, ReasonBody};
use std::collections::HashMap;
use utoipa::IntoParams;

/// `?limit=&offset=`: one page of a schedule's history.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryParams {
    /// Events per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<u32>,
    /// Events to skip (any `u32`).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4_294_967_295_u32, default = 0)]
    offset: Option<u32>,
}

impl HistoryParams {
    fn read(p: &HashMap<String, String>) -> Result<Self, ApiError> {
        Ok(Self {
            limit: param(p, "limit", "a whole number from 1 to 100")?,
            offset: param(p, "offset", "a whole number, 0 or more")?,
        })
    }
}

/// An optional reason body: absent, empty or `null` is no reason.
pub(crate) fn reason_body(body: &Bytes) -> Result<Option<ReasonBody>, ApiError> {
    if body.trim_ascii().is_empty() || body.trim_ascii() == b"null" {
        return Ok(None);
    }
    parse_body(body).map(Some)
}

/// A schedule's history, newest first
///
/// Every change to the schedule — by a person or by the system (disabled after repeated failures or because its
/// definition no longer parses, a one-time schedule completed) — with who made it, when, the fields that changed
/// and the reason given. Admins see every schedule's history, deleted ones included. Kept 400 days.
#[utoipa::path(get, path = "/schedules/{id}/history", tag = "schedules", params(ScheduleIdParam, HistoryParams),
    responses(
        (status = 200, description = "One page, newest first", body = Listing<AuditEvent>),
        (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(ScheduleNotFound)),
        (status = 422, description = "A query parameter is out of range", body = ValidationErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
pub(crate) async fn schedule_history(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
    Query(p): Params,
) -> Result<Json<Listing<AuditEvent>>, ApiError> {
    let q = HistoryParams::read(&p)?;
    let page = PageQuery {
        limit: q.limit,
        offset: q.offset,
        cursor: None,
    };
    Ok(Json(s.services.schedule_history(&caller, &id, page).await?))
}

/// Readiness
///
/// 200 when the service can serve: its store answers a read. 503 otherwise (a load balancer or systemd should
/// hold traffic back; `/healthz` says only that the process is up).
#[utoipa::path(get, path = "/readyz", tag = "service", security(()),
    responses(
        (status = 200, description = "The service and its store answer", body = super::Health),
        (status = 503, response = inline(Unavailable)),
    ))]
pub(crate) async fn readyz(State(s): State<AppState>) -> Result<Json<super::Health>, ApiError> {
    s.services.check_ready().await?;
    Ok(Json(super::Health {
        status: "ready".into(),
    }))
}
