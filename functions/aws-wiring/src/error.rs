//! Errors at the Lambda edge. [`WiringError`]: a cold start that cannot complete (reported as an init error).
//! [`FunctionError`]: an invocation that failed, turned into a Lambda [`Diagnostic`] whose `errorType` says what
//! kind of failure it is, so alarms and retries can tell a store outage from a bug.

use lambda_runtime::Diagnostic;
use shared::ServiceError;
use shared::ports::StoreError;
use shared::text::error_chain;

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("engine credential: {0}")]
    Secret(String),
}

impl From<shared::config::ConfigError> for WiringError {
    fn from(e: shared::config::ConfigError) -> Self {
        Self::Config(e.0)
    }
}

impl From<WiringError> for Diagnostic {
    fn from(e: WiringError) -> Self {
        let error_type = match e {
            WiringError::Config(_) => "Configuration",
            WiringError::Secret(_) => "SecretUnavailable",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

/// Why a tick failed.
#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    /// The store could not be reached or throttled us: retryable; the next tick picks the work up anyway.
    #[error("store unavailable: {0}")]
    StoreUnavailable(#[source] StoreError),
    /// An item could not be read back: not retryable, someone must look at the data.
    #[error("malformed data in the store: {0}")]
    MalformedItem(#[source] StoreError),
    /// The event was not what this function expects (wrong trigger wired in the template).
    #[error("unexpected event: {0}")]
    InvalidEvent(String),
    /// A use case refused in a way a tick should never see.
    #[error("unexpected error: {0}")]
    Internal(#[source] ServiceError),
}

impl FunctionError {
    /// Whether invoking again could succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::StoreUnavailable(_))
    }

    /// The Lambda `errorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::StoreUnavailable(_) => "StoreUnavailable",
            Self::MalformedItem(_) => "MalformedItem",
            Self::InvalidEvent(_) => "InvalidEvent",
            Self::Internal(_) => "Internal",
        }
    }
}

impl From<ServiceError> for FunctionError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Store(s @ StoreError::Malformed { .. }) => Self::MalformedItem(s),
            ServiceError::Store(s) => Self::StoreUnavailable(s),
            other => Self::Internal(other),
        }
    }
}

impl From<FunctionError> for Diagnostic {
    fn from(e: FunctionError) -> Self {
        // The message keeps the source chain, each cause once.
        Diagnostic {
            error_type: e.error_type().into(),
            error_message: error_chain(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_typed_diagnostics() {
        let cause = std::io::Error::other("ProvisionedThroughputExceededException: throttled");
        let e = FunctionError::from(ServiceError::Store(StoreError::unavailable(
            "DynamoDB request failed",
            cause,
        )));
        assert!(e.is_retryable());
        let d = Diagnostic::from(e);
        assert_eq!(d.error_type, "StoreUnavailable");
        // The diagnostic tells the whole chain, the cause once.
        assert_eq!(
            d.error_message.matches("throttled").count(),
            1,
            "{}",
            d.error_message
        );
        assert!(
            d.error_message.contains("DynamoDB request failed"),
            "{}",
            d.error_message
        );

        let e = FunctionError::from(ServiceError::Store(StoreError::Malformed {
            key: "k".into(),
            message: "m".into(),
        }));
        assert!(!e.is_retryable());
        assert_eq!(Diagnostic::from(e).error_type, "MalformedItem");
        assert_eq!(
            Diagnostic::from(FunctionError::from(ServiceError::NotFound("x".into()))).error_type,
            "Internal"
        );
        assert_eq!(
            Diagnostic::from(WiringError::Config("TABLE_NAME is not set".into())).error_type,
            "Configuration"
        );
    }
}
