//! The HTTP API: one axum [`Router`] with every route of DESIGN §6, served by `lambda_http` on AWS and by
//! `axum::serve` locally. Handlers translate HTTP to use cases and back; the one error mapping is [`ApiError`].

pub mod auth;
pub mod error;
#[cfg(feature = "lambda")]
pub mod lambda_auth;
mod openapi;
pub mod ui;

use auth::{Authenticator, CallerExt};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use error::ApiError;
use serde::de::DeserializeOwned;
use shared::FieldError;
use shared::services::RunView;
use shared::services::schedules::{TimingInput, ValidateRequest};
use shared::services::{ListQuery, NewSchedule, PageQuery, SchedulePatch, Services};
use std::collections::HashMap;
use std::sync::Arc;

/// Request bodies larger than this get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub auth: Arc<dyn Authenticator>,
}

/// Builds the API router (the web UI's routes are merged in by the caller via [`router_with_ui`]).
pub fn router(services: Services, auth: Arc<dyn Authenticator>) -> Router {
    let state = AppState { services, auth };
    let api = Router::new()
        .route("/me", get(me))
        .route("/schedules", get(list_schedules).post(create_schedule))
        .route("/schedules/validate", post(validate))
        .route("/schedules/preview", post(preview_definition))
        .route(
            "/schedules/{id}",
            get(get_schedule)
                .patch(update_schedule)
                .delete(delete_schedule),
        )
        .route("/schedules/{id}/pause", post(pause))
        .route("/schedules/{id}/resume", post(resume))
        .route("/schedules/{id}/run", post(run_now))
        .route("/schedules/{id}/runs", get(list_runs))
        .route("/schedules/{id}/preview", get(preview_schedule))
        .route("/notifications", get(list_notifications))
        .fallback(|| async { ApiError::NotFound("no such API route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed });
    Router::new()
        .nest("/api/v1", api)
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/openapi.json", get(|| async { Json(openapi::document()) }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The raw request body, with the size limit turned into our 413 error.
struct Body(Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(MAX_BODY_BYTES)
                } else {
                    ApiError::BadRequest(e.body_text())
                }
            })
    }
}

/// Parses a JSON body, turning every problem into a 422 (or 400 for non-JSON) that names the field.
fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "request body is empty; expected a JSON object".into(),
        ));
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        // Valid JSON of another kind is a 422 that says so (serde would name our internal struct instead).
        return Err(match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(value) => ApiError::Invalid(vec![FieldError {
                loc: vec!["body".to_owned()],
                msg: format!("expected a JSON object, got {}", json_kind(&value)),
                kind: "type_error".into(),
            }]),
            Err(e) => ApiError::BadRequest(format!("request body is not valid JSON: {e}")),
        });
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::BadRequest(format!("request body is not valid JSON: {inner}"));
        }
        let msg = inner.to_string();
        // serde reports a missing field at the parent path; name the field itself.
        let field = msg
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
            .unwrap_or_else(|| if path == "." { String::new() } else { path });
        let kind = if msg.starts_with("missing field") {
            "missing"
        } else if msg.starts_with("unknown field") {
            "extra_forbidden"
        } else {
            "invalid"
        };
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        let loc = if field.is_empty() {
            vec!["body".to_owned()]
        } else {
            vec!["body".to_owned(), field]
        };
        ApiError::Invalid(vec![FieldError {
            loc,
            msg,
            kind: kind.into(),
        }])
    })
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

type Params = Query<HashMap<String, String>>;

fn param<T: std::str::FromStr>(
    params: &HashMap<String, String>,
    name: &str,
    what: &str,
) -> Result<Option<T>, ApiError> {
    match params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            ApiError::Invalid(vec![FieldError::query(
                name,
                "invalid",
                format!("{name} must be {what} (got {v:?})"),
            )])
        }),
    }
}

fn from_param(params: &HashMap<String, String>) -> Result<Option<DateTime<Utc>>, ApiError> {
    match params.get("from").map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(v).map(|t| Some(t.with_timezone(&Utc))).map_err(|_| {
            ApiError::Invalid(vec![FieldError::query(
                "from",
                "invalid",
                format!("from must be an RFC 3339 date-time such as 2026-01-01T08:00:00Z (got {v:?})"),
            )])
        }),
    }
}

/// Who the caller is and what this server accepts: the UI builds its persona choice and input limits from it.
async fn me(State(s): State<AppState>, CallerExt(caller): CallerExt) -> Response {
    use shared::services::schedules::{
        DESCRIPTION_MAX, LIST_MAX, NAME_MAX, PREVIEW_MAX, QUERY_MAX,
    };
    Json(serde_json::json!({
        "user": caller.user,
        "role": caller.role,
        "personas": s.services.config().personas,
        "limits": {
            "name_max": NAME_MAX,
            "description_max": DESCRIPTION_MAX,
            "query_max": QUERY_MAX,
            "list_limit_max": LIST_MAX,
            "preview_count_max": PREVIEW_MAX,
        },
    }))
    .into_response()
}

async fn validate(
    State(s): State<AppState>,
    CallerExt(_): CallerExt,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ValidateRequest = parse_body(&body)?;
    Ok(Json(s.services.validate(request)?).into_response())
}

async fn create_schedule(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let input: NewSchedule = parse_body(&body)?;
    let created = s.services.create_schedule(&caller, input).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn list_schedules(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let query = ListQuery {
        limit: param(&p, "limit", "a whole number from 1 to 100")?,
        offset: param(&p, "offset", "a whole number, 0 or more")?,
        cursor: p.get("cursor").cloned(),
        status: p.get("status").cloned(),
    };
    Ok(Json(s.services.list_schedules(&caller, query).await?).into_response())
}

async fn get_schedule(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(s.services.get_schedule(&caller, &id).await?).into_response())
}

async fn update_schedule(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let patch: SchedulePatch = parse_body(&body)?;
    Ok(Json(s.services.update_schedule(&caller, &id, patch).await?).into_response())
}

async fn delete_schedule(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    s.services.delete_schedule(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn pause(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(s.services.pause_schedule(&caller, &id).await?).into_response())
}

async fn resume(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(s.services.resume_schedule(&caller, &id).await?).into_response())
}

async fn run_now(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let run = s.services.run_view(s.services.run_now(&caller, &id).await?);
    Ok((StatusCode::ACCEPTED, Json(run)).into_response())
}

async fn list_runs(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let page = s.services.list_runs(&caller, &id, page_query(&p)?).await?;
    let items: Vec<RunView> = page
        .items
        .into_iter()
        .map(|run| s.services.run_view(run))
        .collect();
    Ok(
        Json(serde_json::json!({ "items": items, "next_cursor": page.next_cursor }))
            .into_response(),
    )
}

/// `limit`, `offset` and `cursor` of a listing.
fn page_query(p: &HashMap<String, String>) -> Result<PageQuery, ApiError> {
    Ok(PageQuery {
        limit: param(p, "limit", "a whole number from 1 to 100")?,
        offset: param(p, "offset", "a whole number, 0 or more")?,
        cursor: p.get("cursor").cloned(),
    })
}

async fn preview_schedule(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let count = param(&p, "count", "a whole number from 1 to 100")?;
    let preview = s
        .services
        .preview_schedule(&caller, &id, count, from_param(&p)?)
        .await?;
    Ok(Json(preview).into_response())
}

async fn preview_definition(
    State(s): State<AppState>,
    CallerExt(_): CallerExt,
    Query(p): Params,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let count = param(&p, "count", "a whole number from 1 to 100")?;
    let input: TimingInput = parse_body(&body)?;
    Ok(Json(
        s.services
            .preview_definition(input, count, from_param(&p)?)?,
    )
    .into_response())
}

async fn list_notifications(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Query(p): Params,
) -> Result<Response, ApiError> {
    Ok(Json(
        s.services
            .list_notifications(&caller, page_query(&p)?)
            .await?,
    )
    .into_response())
}

/// The API router plus the web UI at `/`.
pub fn router_with_ui(services: Services, auth: Arc<dyn Authenticator>) -> Router {
    router(services, auth).merge(ui::routes())
}
