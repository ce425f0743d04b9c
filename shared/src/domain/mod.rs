//! The domain: what a schedule, a run and a notification are, and the rules that govern them.

pub mod error;
pub mod ids;
pub mod notification;
pub mod run;
pub mod schedule;
pub mod specificity;
pub mod timing;

pub use ids::{NotificationId, RunId, ScheduleId};
pub use notification::{Notification, NotificationEvent};
pub use run::{Run, RunError, RunErrorKind, RunStatus, Trigger, WorkKind};
pub use schedule::{Caller, Role, Schedule, ScheduleStatus};
pub use timing::{DayOfMonth, DayOfWeek, Frequency, TimingRule, TimingSpec};
