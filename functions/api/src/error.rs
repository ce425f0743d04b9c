//! The one mapping from use-case errors to HTTP responses: every error is JSON `{"detail": ...}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::Json;
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
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) => Self::Invalid(errors),
            ServiceError::NotFound(what) => Self::NotFound(format!("{what} not found")),
            ServiceError::Conflict(msg) => Self::Conflict(msg),
            ServiceError::Store(source) => {
                // Log the cause; tell the client only that it is on our side and worth retrying.
                tracing::error!(error = %source, "store error");
                Self::Unavailable("the service could not reach its storage; try again shortly".into())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, detail) = match &self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, serde_json::json!(m)),
            Self::Unauthorized(m) => (StatusCode::UNAUTHORIZED, serde_json::json!(m)),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, serde_json::json!(m)),
            Self::Conflict(m) => (StatusCode::CONFLICT, serde_json::json!(m)),
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, serde_json::json!(self.to_string())),
            Self::Invalid(errors) => (StatusCode::UNPROCESSABLE_ENTITY, serde_json::json!(errors)),
            Self::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, serde_json::json!(m)),
        };
        let mut response = (status, Json(serde_json::json!({ "detail": detail }))).into_response();
        if matches!(self, Self::Unauthorized(_)) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
