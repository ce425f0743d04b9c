//! The use cases: everything the API routes and the two background ticks do, written once against the ports.
//!
//! - [`schedules`]: create, list, read, update, pause, resume, delete, run now, runs, preview, validate,
//!   notifications.
//! - [`dispatch`]: the minute tick: claim due occurrences exactly once and start them; retry unconfirmed starts.
//! - [`status`]: the five-minute tick: poll running investigations, finish them, apply the failure policy.
//! - [`outbox`]: publish the notifications of finished runs.
//! - [`coverage`]: the coverage ledger, backfill runs, filling gaps.

pub mod coverage;
pub mod dispatch;
mod drain;
pub mod error;
mod history;
mod input;
pub mod outbox;
pub mod paging;
pub mod schedules;
pub mod status;
pub mod views;

use crate::config::ServiceConfig;
use crate::ports::{Clock, InvestigationEngine, Notifier, ScheduleStore};
use std::sync::Arc;

pub use coverage::BackfillRequest;
pub use dispatch::DispatchReport;
pub use error::{FieldError, ServiceError};
pub use outbox::Delivered;
pub use schedules::{
    ListQuery, NewSchedule, PageQuery, Preview, ReasonBody, RunPage, SchedulePatch,
};
pub use status::CheckReport;
pub use views::{RunDetail, RunView, ScheduleView};

/// The use cases with the ports they run on. Cheap to clone (everything is behind `Arc`).
#[derive(Clone)]
pub struct Services {
    pub(crate) store: Arc<dyn ScheduleStore>,
    pub(crate) engine: Arc<dyn InvestigationEngine>,
    pub(crate) notifier: Arc<dyn Notifier>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: Arc<ServiceConfig>,
}

impl Services {
    pub fn new(
        store: Arc<dyn ScheduleStore>,
        engine: Arc<dyn InvestigationEngine>,
        notifier: Arc<dyn Notifier>,
        clock: Arc<dyn Clock>,
        config: ServiceConfig,
    ) -> Self {
        Self {
            store,
            engine,
            notifier,
            clock,
            config: Arc::new(config),
        }
    }

    /// A run as the API shows it, its session linked when `SESSION_URL_TEMPLATE` is configured.
    pub fn run_view(&self, run: crate::domain::Run) -> RunView {
        RunView::of(run, self.config.session_url.as_ref())
    }

    /// A run in full (with its findings) as the API shows it.
    pub fn run_detail(&self, run: crate::domain::Run) -> RunDetail {
        RunDetail::of(run, self.config.session_url.as_ref())
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_audit;
#[cfg(test)]
mod tests_metrics;
