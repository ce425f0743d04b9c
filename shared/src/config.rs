//! Settings the use cases need, independent of where they run. Entry points read them from the environment once.

use chrono_tz::Tz;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Personas a schedule may use.
    pub personas: Vec<String>,
    /// Time zone for schedules created without one.
    pub default_timezone: Tz,
    /// A run still running after this long fails as `timed_out`.
    pub run_timeout: Duration,
    /// Engine starts in flight at once during a dispatch tick.
    pub dispatch_concurrency: usize,
    /// Transient start failures before a run fails as `engine_unavailable`.
    pub max_start_attempts: u32,
    /// How long a claimed run is reserved for the dispatcher that claimed it before another tick may retry it.
    pub start_lease: Duration,
    /// Runs kept per schedule (at least).
    pub run_history: u32,
    /// Candidates read per store query during a tick.
    pub batch_size: u32,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            personas: vec!["soc_analyst".into(), "ciso".into()],
            default_timezone: Tz::UTC,
            run_timeout: Duration::from_secs(2 * 60 * 60),
            dispatch_concurrency: 128,
            max_start_attempts: 5,
            start_lease: Duration::from_secs(120),
            run_history: 50,
            batch_size: 500,
        }
    }
}
