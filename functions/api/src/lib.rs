//! The HTTP API: one axum [`Router`] with every route of DESIGN §6, served by `lambda_http` on AWS and by
//! `axum::serve` locally. Handlers translate HTTP to use cases and back; the one error mapping is [`ApiError`].
//!
//! Every route is registered through [`utoipa_axum`] from its handler's `#[utoipa::path]`, so the router and the
//! OpenAPI document at `/openapi.json` are built from the same list and cannot disagree: the request and response
//! types, status codes and limits in the document are those of the types the handlers use.

pub mod auth;
pub mod error;
mod history;
#[cfg(feature = "lambda")]
pub mod lambda_auth;
mod openapi;
pub mod ui;

use auth::{Authenticator, CallerExt};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use error::{
    ApiError, ErrorBody, NotJson, ScheduleNotFound, TooLarge, Unauthorized, Unavailable,
    ValidationErrorBody,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::FieldError;
use shared::domain::specificity::QueryValidation;
use shared::domain::{Notification, Role, ScheduleStatus};
use shared::services::schedules::{
    DESCRIPTION_MAX, LIST_MAX, Listing, NAME_MAX, PREVIEW_MAX, QUERY_MAX, TimingInput,
    ValidateRequest,
};
use shared::services::{
    ListQuery, NewSchedule, PageQuery, Preview, ReasonBody, RunDetail, RunView, SchedulePatch,
    ScheduleView, Services,
};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use openapi::openapi;

/// Request bodies larger than this get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub auth: Arc<dyn Authenticator>,
}

/// The documented routes: every one of them, and nothing else, is in the OpenAPI document.
fn documented_routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_schedules, create_schedule))
        .routes(routes!(validate))
        .routes(routes!(preview_definition))
        .routes(routes!(get_schedule, update_schedule, delete_schedule))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(run_now))
        .routes(routes!(coverage))
        .routes(routes!(backfill))
        .routes(routes!(fill_gaps))
        .routes(routes!(list_runs))
        .routes(routes!(history::schedule_history))
        .routes(routes!(get_run))
        .routes(routes!(preview_schedule))
        .routes(routes!(list_notifications));
    let (api, api_doc) = api.split_for_parts();
    let api = api
        .fallback(|| async { ApiError::NotFound("no such API route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed });
    let (service, service_doc) = OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(history::readyz))
        .routes(routes!(openapi_json))
        .split_for_parts();
    let doc = openapi::base()
        .nest("/api/v1", api_doc)
        .merge_from(service_doc);
    let router = Router::new()
        .nest("/api/v1", api)
        .merge(service.method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed }));
    (router, doc)
}

/// Builds the API router (the web UI's routes are merged in by the caller via [`router_with_ui`]).
pub fn router(services: Services, auth: Arc<dyn Authenticator>) -> Router {
    let state = AppState { services, auth };
    documented_routes()
        .0
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
    // Present but empty is no number either: only an absent parameter takes the default.
    match params.get(name).map(|v| v.trim()) {
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
    match params.get("from").map(|v| v.trim()) {
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

/// `?limit=&offset=` or `?limit=&cursor=`: one page of a list.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageParams {
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<u32>,
    /// Items to skip (any `u32`). Not together with `cursor`.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4_294_967_295_u32, default = 0)]
    offset: Option<u32>,
    /// The previous page's `next_cursor`: the page after it, read directly however deep (instead of `offset`).
    cursor: Option<String>,
}

impl PageParams {
    fn read(p: &HashMap<String, String>) -> Result<Self, ApiError> {
        Ok(Self {
            limit: param(p, "limit", "a whole number from 1 to 100")?,
            offset: param(p, "offset", "a whole number, 0 or more")?,
            cursor: p.get("cursor").cloned(),
        })
    }

    fn query(self) -> PageQuery {
        PageQuery {
            limit: self.limit,
            offset: self.offset,
            cursor: self.cursor,
        }
    }
}

/// `?limit=&cursor=`: one page of a schedule's runs.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
struct RunPageParams {
    /// Runs per page; default the whole kept history (50).
    #[param(minimum = 1, maximum = 100, default = 50)]
    limit: Option<u32>,
    /// The previous page's `next_cursor`: the runs after it.
    cursor: Option<String>,
}

impl RunPageParams {
    fn read(p: &HashMap<String, String>) -> Result<Self, ApiError> {
        Ok(Self {
            limit: param(p, "limit", "a whole number from 1 to 100")?,
            cursor: p.get("cursor").cloned(),
        })
    }
}

/// `GET /api/v1/schedules?status=`: only schedules of this status.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
struct ScheduleListParams {
    /// The service parses it (case-insensitively), so its error names the statuses a list can have.
    #[param(schema_with = listed_status_schema)]
    status: Option<String>,
}

impl ScheduleListParams {
    fn read(p: &HashMap<String, String>) -> Result<Self, ApiError> {
        match p.get("status") {
            Some(s) if s.trim().is_empty() => Err(ApiError::Invalid(vec![FieldError::query(
                "status",
                "enum",
                "status must be one of ACTIVE, PAUSED, COMPLETED, FAILED (got an empty value)",
            )])),
            status => Ok(Self {
                status: status.cloned(),
            }),
        }
    }
}

/// Every status but `DELETED`: deleted schedules are never listed.
fn listed_status_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(
            ScheduleStatus::ALL
                .into_iter()
                .filter(|s| *s != ScheduleStatus::Deleted)
                .map(ScheduleStatus::as_str),
        ))
        .build()
}

/// `?count=&from=`: which upcoming runs to compute.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
struct PreviewParams {
    /// How many run times.
    #[param(minimum = 1, maximum = 100, default = 10)]
    count: Option<usize>,
    /// Runs after this instant; default now.
    from: Option<DateTime<Utc>>,
}

impl PreviewParams {
    fn read(p: &HashMap<String, String>) -> Result<Self, ApiError> {
        Ok(Self {
            count: param(p, "count", "a whole number from 1 to 100")?,
            from: from_param(p)?,
        })
    }
}

/// `GET /api/v1/me`: who the caller is and what this server accepts, so a client hard-codes neither.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    /// The authenticated user id.
    pub user: String,
    pub role: Role,
    /// The personas a schedule may use (the server's `PERSONAS`).
    pub personas: Vec<String>,
    pub limits: InputLimits,
}

/// The input limits this server enforces (longer or larger values get 422).
#[derive(Debug, Serialize, ToSchema)]
pub struct InputLimits {
    /// Most characters in a schedule's `name`.
    pub name_max: usize,
    /// Most characters in a schedule's `description`.
    pub description_max: usize,
    /// Most characters in a query (`user_query`, `query`).
    pub query_max: usize,
    /// Largest `limit` of a list page.
    pub list_limit_max: u32,
    /// Largest `count` of a preview.
    pub preview_count_max: usize,
}

impl InputLimits {
    pub const SERVED: Self = Self {
        name_max: NAME_MAX,
        description_max: DESCRIPTION_MAX,
        query_max: QUERY_MAX,
        list_limit_max: LIST_MAX,
        preview_count_max: PREVIEW_MAX,
    };
}

/// `GET /api/v1/schedules/{id}/runs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    /// Newest first; at most the configured run history (50 by default).
    pub items: Vec<RunView>,
    /// Pass as `cursor` to get the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// The caller, and what this server accepts
///
/// The configured personas and the input limits, so a client needs no hard-coded list of either.
#[utoipa::path(get, path = "/me", tag = "caller",
    responses(
        (status = 200, description = "The authenticated caller", body = MeView),
        (status = 401, response = inline(Unauthorized)),
    ))]
async fn me(State(s): State<AppState>, CallerExt(caller): CallerExt) -> Json<MeView> {
    Json(MeView {
        user: caller.user,
        role: caller.role,
        personas: s.services.config().personas.clone(),
        limits: InputLimits::SERVED,
    })
}

/// Check a query's specificity
///
/// Scores the query's entities, time scope and conditions and suggests what would make it specific enough to
/// schedule. With a `frequency`, also warns when its time window leaves gaps between runs.
#[utoipa::path(post, path = "/schedules/validate", tag = "schedules", request_body = ValidateRequest,
    responses(
        (status = 200, description = "The query's score, findings and suggestions", body = QueryValidation),
        (status = 400, response = inline(NotJson)),
        (status = 401, response = inline(Unauthorized)),
        (status = 413, response = inline(TooLarge)),
        (status = 422, description = "A field is missing, too long, of the wrong type or unknown; or the persona is not configured", body = ValidationErrorBody),
    ))]
async fn validate(
    State(s): State<AppState>,
    CallerExt(_): CallerExt,
    Body(body): Body,
) -> Result<Json<QueryValidation>, ApiError> {
    let request: ValidateRequest = parse_body(&body)?;
    Ok(Json(s.services.validate(request)?))
}

/// Create a schedule
///
/// The query must be specific enough to schedule (see `POST /api/v1/schedules/validate`) and the persona one of
/// the server's. The next run is computed from now in the schedule's time zone.
#[utoipa::path(post, path = "/schedules", tag = "schedules", request_body = NewSchedule,
    responses(
        (status = 201, description = "Created", body = ScheduleView),
        (status = 400, response = inline(NotJson)),
        (status = 401, response = inline(Unauthorized)),
        (status = 413, response = inline(TooLarge)),
        (status = 422, description = "The definition breaks a rule: a field's type or length, an unknown persona, timing that does not parse (time, cron, time zone, a one-time instant in the past), or a query that is not specific enough", body = ValidationErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn create_schedule(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Body(body): Body,
) -> Result<(StatusCode, Json<ScheduleView>), ApiError> {
    let input: NewSchedule = parse_body(&body)?;
    let created = s.services.create_schedule(&caller, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// List the caller's schedules (admins: everyone's)
#[utoipa::path(get, path = "/schedules", tag = "schedules", params(PageParams, ScheduleListParams),
    responses(
        (status = 200, description = "One page, newest first", body = Listing<ScheduleView>),
        (status = 401, response = inline(Unauthorized)),
        (status = 422, description = "A query parameter is out of range or unknown", body = ValidationErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn list_schedules(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Query(p): Params,
) -> Result<Json<Listing<ScheduleView>>, ApiError> {
    let page = PageParams::read(&p)?;
    let filter = ScheduleListParams::read(&p)?;
    let query = ListQuery {
        page: page.query(),
        status: filter.status,
    };
    Ok(Json(s.services.list_schedules(&caller, query).await?))
}

/// One schedule
#[utoipa::path(get, path = "/schedules/{id}", tag = "schedules", params(ScheduleIdParam),
    responses(
        (status = 200, description = "The schedule", body = ScheduleView),
        (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(ScheduleNotFound)),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn get_schedule(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
) -> Result<Json<ScheduleView>, ApiError> {
    Ok(Json(s.services.get_schedule(&caller, &id).await?))
}

/// Update a schedule
///
/// Absent fields stay as they are; a timing change recomputes the next run from now, and a frequency change
/// drops the old frequency's fields.
#[utoipa::path(patch, path = "/schedules/{id}", tag = "schedules", params(ScheduleIdParam), request_body = SchedulePatch,
    responses(
        (status = 200, description = "The updated schedule", body = ScheduleView),
        (status = 400, response = inline(NotJson)),
        (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(ScheduleNotFound)),
        (status = 409, description = "The schedule kept changing under this edit; try again", body = ErrorBody),
        (status = 413, response = inline(TooLarge)),
        (status = 422, description = "The edited definition breaks a rule (as for create), or a field does not apply to the frequency", body = ValidationErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn update_schedule(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Json<ScheduleView>, ApiError> {
    let patch: SchedulePatch = parse_body(&body)?;
    Ok(Json(s.services.update_schedule(&caller, &id, patch).await?))
}

/// Delete a schedule
///
/// A soft delete: the schedule never runs again and is hidden from every read.
#[utoipa::path(delete, path = "/schedules/{id}", tag = "schedules", params(ScheduleIdParam),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(ScheduleNotFound)),
        (status = 409, description = "The schedule kept changing under this request; try again", body = ErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn delete_schedule(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.services.delete_schedule(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pause an active schedule
#[utoipa::path(post, path = "/schedules/{id}/pause", tag = "schedules", params(ScheduleIdParam),
    request_body(content = Option<ReasonBody>, description = "Optional: why (at most 500 characters); shown next to PAUSED and kept in the history"),
    responses(
        (status = 200, description = "The paused schedule", body = ScheduleView),
        (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(ScheduleNotFound)),
        (status = 409, description = "The schedule is not active (already paused, completed or failed), or kept changing under this request", body = ErrorBody),
        (status = 400, response = inline(NotJson)),
        (status = 413, response = inline(TooLarge)),
        (status = 422, description = "`reason` is longer than 500 characters or the body has unknown fields", body = ValidationErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn pause(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Json<ScheduleView>, ApiError> {
    let reason = history::reason_body(&body)?;
    Ok(Json(
        s.services
            .pause_schedule_because(&caller, &id, reason)
            .await?,
    ))
}

/// Resume a paused schedule or re-enable a failed one
///
/// The next run is computed from now; the failure counter starts again at zero.
#[utoipa::path(post, path = "/schedules/{id}/resume", tag = "schedules", params(ScheduleIdParam),
    request_body(content = Option<ReasonBody>, description = "Optional: why (at most 500 characters); kept in the history"),
    responses(
        (status = 400, response = inline(NotJson)),
        (status = 413, response = inline(TooLarge)),
        (status = 200, description = "The active schedule", body = ScheduleView),
        (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(ScheduleNotFound)),
        (status = 409, description = "The schedule is not paused or failed, a one-time schedule's time has passed, or it kept changing under this request", body = ErrorBody),
        (status = 422, description = "The stored definition no longer parses (e.g. its time zone left the tz database), or `reason` is longer than 500 characters", body = ValidationErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn resume(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Json<ScheduleView>, ApiError> {
    let reason = history::reason_body(&body)?;
    Ok(Json(
        s.services
            .resume_schedule_because(&caller, &id, reason)
            .await?,
    ))
}

/// Run a schedule now
///
/// Starts a manual run at once, whatever runs are in flight; when the engine cannot take it now, the dispatcher
/// starts it later.
#[utoipa::path(post, path = "/schedules/{id}/run", tag = "runs", params(ScheduleIdParam),
    responses(
        (status = 202, description = "The run, started or pending", body = RunView),
        (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(ScheduleNotFound)),
        (status = 409, description = "The schedule kept changing under this request; try again", body = ErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn run_now(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let run = s.services.run_view(s.services.run_now(&caller, &id).await?);
    Ok((StatusCode::ACCEPTED, Json(run)))
}

/// `?from=&to=`: the span of a coverage view.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
struct CoverageParams {
    /// Start of the span (RFC 3339); default 30 days before `to`.
    from: Option<DateTime<Utc>>,
    /// End of the span (RFC 3339); default now.
    to: Option<DateTime<Utc>>,
}

impl CoverageParams {
    fn read(p: &HashMap<String, String>) -> Result<Self, ApiError> {
        Ok(Self {
            from: instant_param(p, "from")?,
            to: instant_param(p, "to")?,
        })
    }
}

fn instant_param(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    match params.get(name).map(|v| v.trim()) {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                ApiError::Invalid(vec![FieldError::query(
                    name,
                    "invalid",
                    format!("{name} must be an RFC 3339 date-time such as 2026-01-01T08:00:00Z (got {v:?})"),
                )])
            }),
    }
}

/// A schedule's coverage ledger
///
/// Which spans of data time completed runs covered, which are being looked at, and the gaps with their reasons
/// (`failed`, `skipped`, `paused`, `disabled`, `missed`) inside `[from, to)`, clipped to the schedule's life.
#[utoipa::path(get, path = "/schedules/{id}/coverage", tag = "coverage", params(ScheduleIdParam, CoverageParams),
    responses(
        (status = 200, description = "The ledger in the span", body = shared::domain::Coverage),
        (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(ScheduleNotFound)),
        (status = 422, description = "`from` or `to` is not an RFC 3339 date-time, or `to` is not after `from`", body = ValidationErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn coverage(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
    Query(p): Params,
) -> Result<Json<shared::domain::Coverage>, ApiError> {
    let q = CoverageParams::read(&p)?;
    Ok(Json(s.services.coverage(&caller, &id, q.from, q.to).await?))
}

/// Backfill a window
///
/// Starts a run (`trigger: backfill`) over `[start, end)` in the past, through the same start path as every run.
/// It never counts toward the failure streak; when it completes the window is covered.
#[utoipa::path(post, path = "/schedules/{id}/backfill", tag = "coverage", params(ScheduleIdParam),
    request_body = shared::services::BackfillRequest,
    responses(
        (status = 202, description = "The backfill run, started or pending", body = RunView),
        (status = 400, response = inline(NotJson)),
        (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(ScheduleNotFound)),
        (status = 409, description = "The schedule kept changing under this request; try again", body = ErrorBody),
        (status = 413, response = inline(TooLarge)),
        (status = 422, description = "`end` is in the future, `start` is not before `end`, or the window is longer than 31 days", body = ValidationErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn backfill(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let input: shared::services::BackfillRequest = parse_body(&body)?;
    let run = s
        .services
        .run_view(s.services.backfill(&caller, &id, input).await?);
    Ok((StatusCode::ACCEPTED, Json(run)))
}

/// Fill the open coverage gaps
///
/// One backfill run per open gap of the last `max_catchup` (at most 20; gaps longer than 31 days are split).
#[utoipa::path(post, path = "/schedules/{id}/coverage/fill", tag = "coverage", params(ScheduleIdParam),
    responses(
        (status = 202, description = "The backfill runs, started or pending", body = Vec<RunView>),
        (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(ScheduleNotFound)),
        (status = 409, description = "There is no open gap to fill (or the schedule kept changing)", body = ErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn fill_gaps(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Vec<RunView>>), ApiError> {
    let runs = s.services.fill_gaps(&caller, &id).await?;
    let views = runs.into_iter().map(|r| s.services.run_view(r)).collect();
    Ok((StatusCode::ACCEPTED, Json(views)))
}

/// A schedule's runs, newest first
#[utoipa::path(get, path = "/schedules/{id}/runs", tag = "runs", params(ScheduleIdParam, RunPageParams),
    responses(
        (status = 200, description = "The schedule's last runs", body = RunList),
        (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(ScheduleNotFound)),
        (status = 422, description = "`limit` is out of range or `cursor` is not one this API gave out", body = ValidationErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn list_runs(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
    Query(p): Params,
) -> Result<Json<RunList>, ApiError> {
    let q = RunPageParams::read(&p)?;
    let page = s
        .services
        .list_runs(
            &caller,
            &id,
            PageQuery {
                limit: q.limit,
                offset: None,
                cursor: q.cursor,
            },
        )
        .await?;
    let items = page
        .items
        .into_iter()
        .map(|run| s.services.run_view(run))
        .collect();
    Ok(Json(RunList {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// One run in full
///
/// The run with its findings (each `new` or `ongoing` since the schedule's previous completed run, with
/// `first_seen_at`) and the findings it no longer reports (`resolved`, with `last_seen_at`).
#[utoipa::path(get, path = "/schedules/{id}/runs/{run_id}", tag = "runs", params(ScheduleIdParam, RunIdParam),
    responses(
        (status = 200, description = "The run, with its findings", body = RunDetail),
        (status = 401, response = inline(Unauthorized)),
        (status = 404, description = "No such schedule or run, or not the caller's", body = ErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn get_run(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path((id, run_id)): Path<(String, String)>,
) -> Result<Json<RunDetail>, ApiError> {
    let run = s.services.get_run(&caller, &id, &run_id).await?;
    Ok(Json(s.services.run_detail(run)))
}

/// Next run times of a schedule
#[utoipa::path(get, path = "/schedules/{id}/preview", tag = "schedules", params(ScheduleIdParam, PreviewParams),
    responses(
        (status = 200, description = "The next run times", body = Preview),
        (status = 401, response = inline(Unauthorized)),
        (status = 404, response = inline(ScheduleNotFound)),
        (status = 422, description = "A query parameter is out of range or not a date-time, or the stored definition no longer parses", body = ValidationErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn preview_schedule(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Path(id): Path<String>,
    Query(p): Params,
) -> Result<Json<Preview>, ApiError> {
    let q = PreviewParams::read(&p)?;
    Ok(Json(
        s.services
            .preview_schedule(&caller, &id, q.count, q.from)
            .await?,
    ))
}

/// Next run times of an unsaved definition
#[utoipa::path(post, path = "/schedules/preview", tag = "schedules", params(PreviewParams), request_body = TimingInput,
    responses(
        (status = 200, description = "The next run times", body = Preview),
        (status = 400, response = inline(NotJson)),
        (status = 401, response = inline(Unauthorized)),
        (status = 413, response = inline(TooLarge)),
        (status = 422, description = "A query parameter is out of range, or the timing does not parse (time, cron, time zone, a one-time instant in the past)", body = ValidationErrorBody),
    ))]
async fn preview_definition(
    State(s): State<AppState>,
    CallerExt(_): CallerExt,
    Query(p): Params,
    Body(body): Body,
) -> Result<Json<Preview>, ApiError> {
    let q = PreviewParams::read(&p)?;
    let input: TimingInput = parse_body(&body)?;
    Ok(Json(s.services.preview_definition(input, q.count, q.from)?))
}

/// The caller's notifications, newest first (admins: everyone's)
#[utoipa::path(get, path = "/notifications", tag = "notifications", params(PageParams),
    responses(
        (status = 200, description = "One page, newest first", body = Listing<Notification>),
        (status = 401, response = inline(Unauthorized)),
        (status = 422, description = "A query parameter is out of range", body = ValidationErrorBody),
        (status = 503, response = inline(Unavailable)),
    ))]
async fn list_notifications(
    State(s): State<AppState>,
    CallerExt(caller): CallerExt,
    Query(p): Params,
) -> Result<Json<Listing<Notification>>, ApiError> {
    let page = PageParams::read(&p)?;
    Ok(Json(
        s.services.list_notifications(&caller, page.query()).await?,
    ))
}

/// The schedule in the path (the handlers take it as `Path<String>`; this names and describes it).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct ScheduleIdParam {
    /// A schedule id, `sch_<ULID>`.
    id: String,
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct RunIdParam {
    /// A run id, as `GET /schedules/{id}/runs` lists it.
    run_id: String,
}

/// Liveness
#[utoipa::path(get, path = "/healthz", tag = "service", security(()),
    responses((status = 200, description = "The service is up", body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// This document
#[utoipa::path(get, path = "/openapi.json", tag = "service", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json", body = Object)))]
async fn openapi_json() -> Response {
    static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
        openapi()
            .to_json()
            .expect("the OpenAPI document serializes")
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
        .into_response()
}

/// The API router plus the web UI at `/` and `/ui/`, signing in as `sign_in` says.
pub fn router_with_ui(
    services: Services,
    auth: Arc<dyn Authenticator>,
    sign_in: &ui::SignIn,
) -> Router {
    router(services, auth).merge(ui::routes(sign_in))
}
