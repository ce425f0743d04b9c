//! The audit trail: one event per change to a schedule — by a person or by the system — saying who did what, when,
//! which fields changed and why.
//!
//! The schedule's own transitions record the event (they know what changed); it rides along on the schedule as a
//! pending record ([`PendingAudit`], never serialised with the schedule) and each store writes it in the same
//! atomic write as the change itself. Its key is the schedule version the change produced, so writing it twice
//! is harmless and a change that loses its version condition writes none.

use crate::domain::ids::ScheduleId;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Audit events are kept this long (DynamoDB TTL; SQLite prunes in the writing transaction).
pub const AUDIT_RETENTION_DAYS: i64 = 400;

/// The longest `reason` a person may give for pausing or resuming a schedule.
pub const REASON_MAX: usize = 500;

/// Who made a change: a signed-in user (their user id) or the service itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User(String),
    System,
}

impl Actor {
    pub fn as_str(&self) -> &str {
        match self {
            Self::User(user) => user,
            Self::System => "system",
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Created,
    Updated,
    Paused,
    Resumed,
    /// A `FAILED` (disabled) schedule was resumed.
    ReEnabled,
    Deleted,
    /// Someone asked for a manual run.
    RunRequested,
    /// Someone asked for a backfill run over a past window (the reason names the window).
    BackfillRequested,
    /// The system disabled the schedule (repeated failures, or a definition that no longer parses).
    Disabled,
    /// The system completed a one-time schedule after its run.
    Completed,
}

/// One field an update changed: its name and the values before and after (as the API shows them; `null` when
/// unset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldChange {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// One entry of a schedule's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub schedule_id: ScheduleId,
    /// The schedule version this change produced: the event's key (one change, one version).
    pub version: u64,
    pub at: DateTime<Utc>,
    /// The user id of whoever made the change, or `system`.
    pub actor: String,
    pub action: AuditAction,
    /// For `updated`: the fields that changed, old and new values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// Why: given by the person who paused or resumed, or the system's reason for disabling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AuditEvent {
    /// When the stores may forget this event.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.at + Duration::days(AUDIT_RETENTION_DAYS)
    }
}

/// The audit events a change has recorded and its store has yet to write, carried by the schedule the store
/// receives. Not part of the schedule's value: never serialised, and two schedules compare equal whatever they
/// carry (a schedule read back from a store carries none).
#[derive(Debug, Clone, Default)]
pub struct PendingAudit(Vec<AuditEvent>);

impl PendingAudit {
    pub fn events(&self) -> &[AuditEvent] {
        &self.0
    }

    pub(crate) fn push(&mut self, event: AuditEvent) {
        // One change, one version: a transition recorded twice for the same version keeps the last.
        self.0.retain(|e| e.version != event.version);
        self.0.push(event);
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl PartialEq for PendingAudit {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
