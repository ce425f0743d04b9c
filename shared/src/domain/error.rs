//! The domain's own errors: a lifecycle transition that the current state does not allow. The use cases map it to
//! their `ServiceError` (409 at the HTTP edge); the domain knows nothing of HTTP or storage.

/// A transition the schedule's current state does not allow; the message says why, for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransitionError(pub String);
