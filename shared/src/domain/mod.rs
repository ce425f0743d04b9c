//! The domain: what a schedule, a run and a notification are, and the rules that govern them. It depends on
//! nothing above it (no ports, services or adapters) and returns its own errors.

pub mod audit;
pub mod coverage;
pub mod error;
pub mod findings;
pub mod ids;
pub mod notification;
pub mod policy;
pub mod run;
pub mod schedule;
pub mod specificity;
pub mod timing;

pub use audit::{Actor, AuditAction, AuditEvent, FieldChange};
pub use coverage::{Coverage, Gap, GapReason, InProgress, Ledger};
pub use error::TransitionError;
pub use findings::{
    Finding, FindingStatus, FindingsSummary, NotifyOn, ReportedFinding, ReportedFindings,
    ResolvedFinding, Severity,
};
pub use ids::{NotificationId, RunId, ScheduleId};
pub use notification::{Notification, NotificationEvent};
pub use policy::{DisabledReason, MAX_CONSECUTIVE_FAILURES};
pub use run::{
    Run, RunError, RunErrorKind, RunRetention, RunStatus, RunSubject, Trigger, Work, WorkKind,
};
pub use schedule::{Caller, Role, Schedule, ScheduleStatus};
pub use timing::{
    DayOfMonth, DayOfWeek, Frequency, IsoDuration, TimingRule, TimingSpec, Window, WindowSettings,
};
