//! A schedule's audit trail: who changed what, when and why, newest first (`GET /schedules/{id}/history`); and
//! the readiness probe (`GET /readyz`).

use super::Services;
use super::paging::PageRequest;
use super::schedules::{LIST_DEFAULT, Listing, PageQuery};
use crate::domain::{AuditEvent, Caller, Role, ScheduleId};
use crate::ports::PageStart;
use crate::{FieldError, ServiceError};

impl Services {
    /// Readiness: the store answers a read (`/readyz`). A process that is up but cannot reach its store is not
    /// ready for traffic.
    pub async fn check_ready(&self) -> Result<(), ServiceError> {
        self.store
            .get_schedule(&ScheduleId::from("sch_readiness_probe"))
            .await?;
        Ok(())
    }

    /// The audit events of a schedule the caller may see, newest first, by `limit` and `offset`. Admins also see
    /// the history of deleted schedules (it outlives them); everyone else gets "not found" for a deleted schedule
    /// or another user's.
    pub async fn schedule_history(
        &self,
        caller: &Caller,
        id: &str,
        query: PageQuery,
    ) -> Result<Listing<AuditEvent>, ServiceError> {
        let page = PageRequest::of(&query, LIST_DEFAULT)?;
        let PageStart::Offset(offset) = page.start else {
            return Err(ServiceError::Invalid(vec![FieldError::query(
                "cursor",
                "not_supported",
                "history pages by offset",
            )]));
        };
        let not_found = || ServiceError::NotFound(format!("schedule {id}"));
        let schedule = self
            .store
            .get_schedule(&ScheduleId::from(id))
            .await?
            .ok_or_else(not_found)?;
        let visible = caller.role == Role::Admin
            || (caller.can_see(&schedule.owner) && !schedule.is_deleted());
        if !visible {
            return Err(not_found());
        }
        let found = self
            .store
            .list_audit(&schedule.id, page.limit, offset)
            .await?;
        Ok(Listing {
            items: found.items,
            total: found.total,
            limit: page.limit,
            offset,
            next_cursor: None,
        })
    }
}
