//! Unit-test wiring: the use cases on the in-memory twins with a clock the test moves.

use super::{NewSchedule, Services};
use crate::adapters::memory::{FixedClock, MemoryScheduleStore, RecordingNotifier, ScriptedEngine};
use crate::config::ServiceConfig;
use crate::domain::timing::Frequency;
use crate::domain::{Caller, Role};
use chrono::{DateTime, TimeZone, Utc};
use std::sync::Arc;

pub const QUERY: &str =
    "failed sign-ins in the last 24 hours with more than 5 attempts from the same IP";

pub struct World {
    pub services: Services,
    pub store: Arc<MemoryScheduleStore>,
    pub engine: Arc<ScriptedEngine>,
    pub notifier: Arc<RecordingNotifier>,
    pub clock: Arc<FixedClock>,
}

pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid test instant")
}

pub fn analyst(user: &str) -> Caller {
    Caller {
        user: user.into(),
        role: Role::Analyst,
    }
}

pub fn admin() -> Caller {
    Caller {
        user: "root".into(),
        role: Role::Admin,
    }
}

pub fn daily(name: &str, time: &str) -> NewSchedule {
    NewSchedule {
        name: name.into(),
        description: None,
        user_query: QUERY.into(),
        persona: "soc_analyst".into(),
        frequency: Frequency::Daily,
        scheduled_time: Some(time.into()),
        day_of_week: None,
        day_of_month: None,
        cron_expression: None,
        timezone: Some("UTC".into()),
    }
}

impl World {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self::with_config(now, ServiceConfig::default())
    }

    pub fn with_config(now: DateTime<Utc>, config: ServiceConfig) -> Self {
        let store = Arc::new(MemoryScheduleStore::new());
        let engine = Arc::new(ScriptedEngine::new());
        let notifier = Arc::new(RecordingNotifier::new());
        let clock = Arc::new(FixedClock::new(now));
        let services = Services::new(
            store.clone(),
            engine.clone(),
            notifier.clone(),
            clock.clone(),
            config,
        );
        Self {
            services,
            store,
            engine,
            notifier,
            clock,
        }
    }

    /// Creates a schedule and returns its id.
    pub async fn create(
        &self,
        caller: &Caller,
        input: NewSchedule,
    ) -> Result<String, crate::ServiceError> {
        Ok(self
            .services
            .create_schedule(caller, input)
            .await?
            .schedule
            .id
            .to_string())
    }

    pub fn now(&self) -> DateTime<Utc> {
        crate::ports::Clock::now(&*self.clock)
    }
}
