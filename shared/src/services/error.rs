//! Errors the use cases return. Each variant says what kind of failure it is, so the edge (HTTP, Lambda) can
//! map it to a status code or a retryable/permanent error type in one place. Input problems carry their HTTP-style
//! location (`loc`) here, above the domain, which knows only field names.

use crate::domain::TransitionError;
use crate::ports::StoreError;
use serde::Serialize;

/// One problem with one input field, in the shape FastAPI-style clients expect (`{loc, msg, type}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub loc: Vec<String>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    /// A problem with a body field (`loc = ["body", field]`).
    pub fn body(field: &str, kind: &str, msg: impl Into<String>) -> Self {
        Self {
            loc: vec!["body".into(), field.into()],
            msg: msg.into(),
            kind: kind.into(),
        }
    }

    /// A problem with a query-string parameter (`loc = ["query", name]`).
    pub fn query(name: &str, kind: &str, msg: impl Into<String>) -> Self {
        Self {
            loc: vec!["query".into(), name.into()],
            msg: msg.into(),
            kind: kind.into(),
        }
    }

    /// The field name (last element of `loc`).
    pub fn field(&self) -> &str {
        self.loc.last().map(String::as_str).unwrap_or("")
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field(), self.msg)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input is well-formed JSON but breaks a rule (422).
    #[error("{}", summarize(.0))]
    Invalid(Vec<FieldError>),
    /// The thing does not exist, or belongs to someone the caller may not see (404).
    #[error("{0} not found")]
    NotFound(String),
    /// The transition is impossible from the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The store failed; not the caller's fault (500/503, retryable). The HTTP edge tells the caller only that.
    #[error("storage error: {0}")]
    Store(#[from] StoreError),
}

/// An impossible lifecycle transition is a conflict with the schedule's current state (409).
impl From<TransitionError> for ServiceError {
    fn from(e: TransitionError) -> Self {
        Self::Conflict(e.0)
    }
}

impl ServiceError {
    pub fn invalid(field: &str, kind: &str, msg: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::body(field, kind, msg)])
    }
}

fn summarize(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
