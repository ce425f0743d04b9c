//! A schedule: an investigation question, who asks it, when it runs, and where it is in its lifecycle.

use crate::domain::error::ServiceError;
use crate::domain::ids::ScheduleId;
use crate::domain::run::RunStatus;
use crate::domain::timing::TimingSpec;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// After this many failed runs in a row a schedule is disabled (`FAILED`).
pub const MAX_CONSECUTIVE_FAILURES: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScheduleStatus {
    Active,
    Paused,
    Completed,
    Failed,
    Deleted,
}

impl ScheduleStatus {
    pub const ALL: [Self; 5] = [
        Self::Active,
        Self::Paused,
        Self::Completed,
        Self::Failed,
        Self::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Paused => "PAUSED",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Deleted => "DELETED",
        }
    }
}

impl fmt::Display for ScheduleStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ScheduleStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown status {s:?}; expected one of ACTIVE, PAUSED, COMPLETED, FAILED, DELETED"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Analyst,
    Admin,
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "analyst" => Ok(Self::Analyst),
            "admin" => Ok(Self::Admin),
            other => Err(format!("unknown role {other:?}; expected analyst or admin")),
        }
    }
}

/// Who is asking: the verified user id and role. Handlers get it from the authenticator, never from the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: String,
    pub role: Role,
}

impl Caller {
    pub fn can_see(&self, owner: &str) -> bool {
        self.role == Role::Admin || self.user == owner
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Schedule {
    pub id: ScheduleId,
    pub owner: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub user_query: String,
    pub persona: String,
    #[serde(flatten)]
    pub timing: TimingSpec,
    pub status: ScheduleStatus,
    #[serde(default)]
    pub next_run_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_run_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_run_status: Option<RunStatus>,
    #[serde(default)]
    pub consecutive_failures: u32,
    /// Runs claimed or started and not yet finished. Maintained in the same atomic writes that create and finish
    /// runs, so the dispatcher can see an overlap without reading run history.
    #[serde(default)]
    pub runs_in_flight: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl Schedule {
    pub fn is_deleted(&self) -> bool {
        self.status == ScheduleStatus::Deleted
    }

    /// `ACTIVE → PAUSED`.
    pub fn pause(&mut self) -> Result<(), ServiceError> {
        match self.status {
            ScheduleStatus::Active => {
                self.status = ScheduleStatus::Paused;
                self.next_run_at = None;
                Ok(())
            }
            ScheduleStatus::Paused => {
                Err(ServiceError::Conflict("schedule is already paused".into()))
            }
            other => Err(ServiceError::Conflict(format!(
                "cannot pause a schedule whose status is {other}; only ACTIVE schedules can be paused"
            ))),
        }
    }

    /// `PAUSED → ACTIVE` and `FAILED → ACTIVE` (re-enable: the failure counter is reset). The caller recomputes
    /// `next_run_at` from now.
    pub fn resume(&mut self) -> Result<(), ServiceError> {
        match self.status {
            ScheduleStatus::Paused | ScheduleStatus::Failed => {
                self.status = ScheduleStatus::Active;
                self.consecutive_failures = 0;
                Ok(())
            }
            ScheduleStatus::Active => {
                Err(ServiceError::Conflict("schedule is already active".into()))
            }
            other => Err(ServiceError::Conflict(format!(
                "cannot resume a schedule whose status is {other}; only PAUSED or FAILED schedules can be resumed"
            ))),
        }
    }

    /// Records a finished run: the failure policy and the `once` lifecycle. Returns true when this run disabled
    /// the schedule (the caller notifies `schedule-disabled`).
    pub fn record_finished_run(
        &mut self,
        status: RunStatus,
        trigger_is_scheduled: bool,
        finished_at: DateTime<Utc>,
    ) -> bool {
        self.runs_in_flight = self.runs_in_flight.saturating_sub(1);
        self.last_run_at = Some(finished_at);
        self.last_run_status = Some(status);
        let mut disabled = false;
        match status {
            RunStatus::Completed => self.consecutive_failures = 0,
            RunStatus::Failed => {
                self.consecutive_failures += 1;
                if self.consecutive_failures >= MAX_CONSECUTIVE_FAILURES
                    && self.status == ScheduleStatus::Active
                {
                    self.status = ScheduleStatus::Failed;
                    self.next_run_at = None;
                    disabled = true;
                }
            }
            _ => {}
        }
        if !disabled
            && trigger_is_scheduled
            && self.status == ScheduleStatus::Active
            && self.timing.frequency == crate::domain::timing::Frequency::Once
            && self.next_run_at.is_none()
        {
            self.status = ScheduleStatus::Completed;
        }
        disabled
    }

    /// Bumps `version` and `updated_at`; every write goes through here.
    pub fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }
}
