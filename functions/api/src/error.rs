//! The one mapping from use-case errors to HTTP responses: every error is JSON `{"detail": ...}`, a sentence
//! ([`ErrorBody`]) or, for 422, the list of field problems ([`ValidationErrorBody`]). The OpenAPI document
//! describes the error responses with these same two types.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shared::{FieldError, ServiceError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Unavailable(String),
    #[error("this method is not allowed on this route")]
    MethodNotAllowed,
}

/// An error explained in one sentence: 400, 401, 404, 405, 409, 413 and 503.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    #[schema(example = "schedule sch_01J9ZQ4V5N6W7X8Y9Z0A1B2C3D not found")]
    pub detail: String,
}

/// Well-formed JSON that breaks a rule (422): one entry per problem, each naming its field in `loc`
/// (`["body", "name"]`, `["query", "limit"]`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValidationErrorBody {
    pub detail: Vec<FieldError>,
}

// The error answers most routes share, described once (`response = inline(...)` in the routes' `responses`).

/// Missing or invalid bearer token
#[derive(utoipa::ToResponse)]
pub struct Unauthorized(#[allow(dead_code)] ErrorBody);

/// No such schedule, or not the caller's
#[derive(utoipa::ToResponse)]
pub struct ScheduleNotFound(#[allow(dead_code)] ErrorBody);

/// The body is missing or not JSON
#[derive(utoipa::ToResponse)]
pub struct NotJson(#[allow(dead_code)] ErrorBody);

/// The body is larger than 64 KiB (`MAX_BODY_BYTES`)
#[derive(utoipa::ToResponse)]
pub struct TooLarge(#[allow(dead_code)] ErrorBody);

/// The store is unavailable; try again
#[derive(utoipa::ToResponse)]
pub struct Unavailable(#[allow(dead_code)] ErrorBody);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) => Self::Invalid(errors),
            ServiceError::NotFound(what) => Self::NotFound(format!("{what} not found")),
            ServiceError::Conflict(msg) => Self::Conflict(msg),
            ServiceError::Store(source) => {
                // Log the cause; tell the client only that it is on our side and worth retrying.
                tracing::error!(error = %source, "store error");
                Self::Unavailable(
                    "the service could not reach its storage; try again shortly".into(),
                )
            }
        }
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let unauthorized = matches!(self, Self::Unauthorized(_));
        let mut response = match self {
            Self::Invalid(detail) => (status, Json(ValidationErrorBody { detail })).into_response(),
            other => (
                status,
                Json(ErrorBody {
                    detail: other.to_string(),
                }),
            )
                .into_response(),
        };
        if unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
