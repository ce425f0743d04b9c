//! In-memory twins of the ports, for unit tests and for running the store contract suite against a reference:
//! a store, a settable clock, a scripted engine and a recording notifier.

use crate::domain::{
    AuditEvent, Notification, Run, RunId, RunRetention, Schedule, ScheduleId, ScheduleStatus,
    WorkKind,
};
use crate::ports::{
    After, Clock, EngineError, InvestigationEngine, Notifier, NotifyError, Page, PageStart,
    ScheduleFilter, ScheduleStore, SessionState, StartRequest, StoreError, WriteOutcome,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another test thread panicked; the data is still usable for tests.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------------------------------

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self(Mutex::new(now))
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *lock(&self.0) = now;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut t = lock(&self.0);
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.0)
    }
}

// ---------------------------------------------------------------------------------------------------------------

#[derive(Default)]
struct MemoryData {
    schedules: HashMap<ScheduleId, Schedule>,
    runs: HashMap<RunId, Run>,
    notifications: HashMap<String, Notification>,
    /// Per schedule, its audit events by version.
    audit: HashMap<ScheduleId, BTreeMap<u64, AuditEvent>>,
}

/// A [`ScheduleStore`] in a mutex. Same semantics as the real stores (it passes the contract suite).
pub struct MemoryScheduleStore {
    data: Mutex<MemoryData>,
    retention: RunRetention,
}

impl MemoryScheduleStore {
    /// An empty store whose schedules keep the runs `retention` keeps.
    pub fn new(retention: RunRetention) -> Self {
        Self {
            data: Mutex::default(),
            retention,
        }
    }
}

impl MemoryData {
    /// Stores `schedule` (without its pending audit events) and appends those events to its trail, as one step
    /// under the lock: the same atomic write. An event already kept under its version stays as it is; events past
    /// their retention (relative to the newest one written) are dropped.
    fn put_schedule(&mut self, schedule: &Schedule) {
        let trail = self.audit.entry(schedule.id.clone()).or_default();
        for event in schedule.audit.events() {
            trail.entry(event.version).or_insert_with(|| event.clone());
        }
        if let Some(newest) = schedule.audit.events().iter().map(|e| e.at).max() {
            trail.retain(|_, e| e.expires_at() > newest);
        }
        let mut stored = schedule.clone();
        stored.audit.clear();
        self.schedules.insert(schedule.id.clone(), stored);
    }

    /// Drops the runs of `schedule_id` that `retention` does not keep.
    fn apply_retention(&mut self, schedule_id: &ScheduleId, retention: RunRetention) {
        let mut history: Vec<&Run> = self
            .runs
            .values()
            .filter(|r| &r.schedule_id == schedule_id)
            .collect();
        newest_first(&mut history, |r| run_key(r));
        let doomed: Vec<RunId> = retention
            .dropped(history)
            .into_iter()
            .map(|r| r.run_id.clone())
            .collect();
        for id in doomed {
            self.runs.remove(&id);
        }
    }
}

fn newest_first<T>(items: &mut [T], key: impl Fn(&T) -> (DateTime<Utc>, String)) {
    items.sort_by_key(|item| std::cmp::Reverse(key(item)));
}

/// One page of `items` (sorted newest first by `key`) from `start`.
fn page<T: Clone>(
    items: Vec<T>,
    limit: u32,
    start: &PageStart,
    key: impl Fn(&T) -> (DateTime<Utc>, String),
) -> Page<T> {
    let total = items.len() as u64;
    let items = items.into_iter();
    let items = match start {
        PageStart::Offset(offset) => items.skip(*offset as usize).take(limit as usize).collect(),
        PageStart::After(after) => items
            .filter(|item| key(item) < (after.at, after.id.clone()))
            .take(limit as usize)
            .collect(),
    };
    Page { items, total }
}

fn schedule_key(s: &Schedule) -> (DateTime<Utc>, String) {
    (s.created_at, s.id.to_string())
}

fn run_key(r: &Run) -> (DateTime<Utc>, String) {
    (r.scheduled_for, r.run_id.to_string())
}

fn notification_key(n: &Notification) -> (DateTime<Utc>, String) {
    (n.created_at, n.id.to_string())
}

#[async_trait]
impl ScheduleStore for MemoryScheduleStore {
    async fn insert_schedule(&self, schedule: &Schedule) -> Result<(), StoreError> {
        let mut d = lock(&self.data);
        if d.schedules.contains_key(&schedule.id) {
            return Err(StoreError::AlreadyExists(schedule.id.to_string()));
        }
        d.put_schedule(schedule);
        Ok(())
    }

    async fn get_schedule(&self, id: &ScheduleId) -> Result<Option<Schedule>, StoreError> {
        Ok(lock(&self.data).schedules.get(id).cloned())
    }

    async fn list_schedules(
        &self,
        filter: &ScheduleFilter,
        limit: u32,
        start: &PageStart,
    ) -> Result<Page<Schedule>, StoreError> {
        let d = lock(&self.data);
        let mut items: Vec<Schedule> = d
            .schedules
            .values()
            .filter(|s| s.status != ScheduleStatus::Deleted)
            .filter(|s| filter.owner.as_deref().is_none_or(|o| s.owner == o))
            .filter(|s| filter.status.is_none_or(|st| s.status == st))
            .cloned()
            .collect();
        newest_first(&mut items, schedule_key);
        Ok(page(items, limit, start, schedule_key))
    }

    async fn update_schedule(
        &self,
        schedule: &Schedule,
        expected_version: u64,
    ) -> Result<WriteOutcome, StoreError> {
        let mut d = lock(&self.data);
        match d.schedules.get(&schedule.id) {
            Some(s) if s.version == expected_version => {
                d.put_schedule(schedule);
                Ok(WriteOutcome::Applied)
            }
            _ => Ok(WriteOutcome::Conflict),
        }
    }

    async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Schedule>, StoreError> {
        let d = lock(&self.data);
        let mut due: Vec<Schedule> = d
            .schedules
            .values()
            .filter(|s| {
                s.status == ScheduleStatus::Active && s.next_run_at.is_some_and(|t| t <= now)
            })
            .cloned()
            .collect();
        due.sort_by_key(|s| (s.next_run_at, s.id.clone()));
        due.truncate(limit as usize);
        Ok(due)
    }

    async fn create_run(
        &self,
        schedule: &Schedule,
        expected_version: u64,
        run: &Run,
    ) -> Result<WriteOutcome, StoreError> {
        let mut d = lock(&self.data);
        let version_ok = d
            .schedules
            .get(&schedule.id)
            .is_some_and(|s| s.version == expected_version);
        if !version_ok || d.runs.contains_key(&run.run_id) {
            return Ok(WriteOutcome::Conflict);
        }
        d.put_schedule(schedule);
        d.runs.insert(run.run_id.clone(), run.clone());
        d.apply_retention(&schedule.id, self.retention);
        Ok(WriteOutcome::Applied)
    }

    async fn update_run(
        &self,
        run: &Run,
        expected_version: u64,
    ) -> Result<WriteOutcome, StoreError> {
        let mut d = lock(&self.data);
        match d.runs.get_mut(&run.run_id) {
            Some(r) if r.version == expected_version => {
                *r = run.clone();
                Ok(WriteOutcome::Applied)
            }
            _ => Ok(WriteOutcome::Conflict),
        }
    }

    async fn finish_run(
        &self,
        run: &Run,
        run_expected_version: u64,
        schedule: &Schedule,
        schedule_expected_version: u64,
    ) -> Result<WriteOutcome, StoreError> {
        let mut d = lock(&self.data);
        let run_ok = d
            .runs
            .get(&run.run_id)
            .is_some_and(|r| r.version == run_expected_version);
        let sch_ok = d
            .schedules
            .get(&schedule.id)
            .is_some_and(|s| s.version == schedule_expected_version);
        if !(run_ok && sch_ok) {
            return Ok(WriteOutcome::Conflict);
        }
        d.runs.insert(run.run_id.clone(), run.clone());
        d.put_schedule(schedule);
        d.apply_retention(&schedule.id, self.retention);
        Ok(WriteOutcome::Applied)
    }

    async fn get_run(
        &self,
        schedule_id: &ScheduleId,
        run_id: &RunId,
    ) -> Result<Option<Run>, StoreError> {
        Ok(lock(&self.data)
            .runs
            .get(run_id)
            .filter(|r| &r.schedule_id == schedule_id)
            .cloned())
    }

    async fn list_runs(
        &self,
        schedule_id: &ScheduleId,
        limit: u32,
        after: Option<&After>,
    ) -> Result<Vec<Run>, StoreError> {
        let d = lock(&self.data);
        let mut runs: Vec<Run> = d
            .runs
            .values()
            .filter(|r| &r.schedule_id == schedule_id)
            .cloned()
            .collect();
        newest_first(&mut runs, run_key);
        let start = after.map_or(PageStart::Offset(0), |a| PageStart::After(a.clone()));
        Ok(page(runs, limit, &start, run_key)
            .items
            .into_iter()
            .map(Run::without_findings)
            .collect())
    }

    async fn runs_with_work(
        &self,
        kind: WorkKind,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Run>, StoreError> {
        let d = lock(&self.data);
        let mut runs: Vec<Run> = d
            .runs
            .values()
            .filter(|r| r.has_work(kind, now))
            .cloned()
            .collect();
        runs.sort_by_key(|r| (r.work.map(|w| w.at), r.run_id.clone()));
        runs.truncate(limit as usize);
        Ok(runs)
    }

    async fn put_notification(&self, notification: &Notification) -> Result<(), StoreError> {
        lock(&self.data)
            .notifications
            .insert(notification.id.to_string(), notification.clone());
        Ok(())
    }

    async fn list_notifications(
        &self,
        owner: Option<&str>,
        limit: u32,
        start: &PageStart,
    ) -> Result<Page<Notification>, StoreError> {
        let d = lock(&self.data);
        let mut items: Vec<Notification> = d
            .notifications
            .values()
            .filter(|n| owner.is_none_or(|o| n.owner == o))
            .cloned()
            .collect();
        newest_first(&mut items, notification_key);
        Ok(page(items, limit, start, notification_key))
    }

    async fn list_audit(
        &self,
        schedule_id: &ScheduleId,
        limit: u32,
        offset: u32,
    ) -> Result<Page<AuditEvent>, StoreError> {
        let d = lock(&self.data);
        let trail = d.audit.get(schedule_id);
        let total = trail.map_or(0, |t| t.len() as u64);
        let items = trail
            .into_iter()
            .flat_map(|t| t.values().rev())
            .skip(offset as usize)
            .take(limit as usize)
            .cloned()
            .collect();
        Ok(Page { items, total })
    }
}

// ---------------------------------------------------------------------------------------------------------------

/// An engine whose answers a test scripts. Unscripted starts succeed with `ses_<n>`; unscripted polls say `Active`.
#[derive(Default)]
pub struct ScriptedEngine {
    starts: Mutex<VecDeque<Result<String, EngineError>>>,
    sessions: Mutex<HashMap<String, Result<SessionState, EngineError>>>,
    started: Mutex<Vec<StartRequest>>,
    hang: Mutex<bool>,
}

impl ScriptedEngine {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next start answers `result`.
    pub fn push_start(&self, result: Result<String, EngineError>) {
        lock(&self.starts).push_back(result);
    }

    /// Polls of `session_id` answer `state` from now on.
    pub fn set_session(&self, session_id: &str, state: Result<SessionState, EngineError>) {
        lock(&self.sessions).insert(session_id.to_owned(), state);
    }

    /// While set, starts never answer (a dispatcher that dies mid-request can be simulated by dropping it).
    pub fn set_hanging(&self, hang: bool) {
        *lock(&self.hang) = hang;
    }

    /// Every start request received, in order.
    pub fn started(&self) -> Vec<StartRequest> {
        lock(&self.started).clone()
    }
}

#[async_trait]
impl InvestigationEngine for ScriptedEngine {
    async fn start(&self, request: &StartRequest) -> Result<String, EngineError> {
        let n = {
            let mut started = lock(&self.started);
            started.push(request.clone());
            started.len()
        };
        if *lock(&self.hang) {
            std::future::pending::<()>().await;
        }
        lock(&self.starts)
            .pop_front()
            .unwrap_or_else(|| Ok(format!("ses_{n}")))
    }

    async fn session(&self, session_id: &str) -> Result<SessionState, EngineError> {
        lock(&self.sessions)
            .get(session_id)
            .cloned()
            .unwrap_or(Ok(SessionState::Active))
    }
}

// ---------------------------------------------------------------------------------------------------------------

/// A notifier that remembers what it published, and can be told to fail.
#[derive(Default)]
pub struct RecordingNotifier {
    published: Mutex<Vec<Notification>>,
    fail: Mutex<bool>,
}

impl RecordingNotifier {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn published(&self) -> Vec<Notification> {
        lock(&self.published).clone()
    }

    pub fn set_failing(&self, fail: bool) {
        *lock(&self.fail) = fail;
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn publish(&self, notification: &Notification) -> Result<(), NotifyError> {
        if *lock(&self.fail) {
            return Err(NotifyError::new("recording notifier told to fail"));
        }
        lock(&self.published).push(notification.clone());
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------------

/// An analyst caller, for tests on [`MemoryWorld`].
pub fn analyst(user: &str) -> crate::domain::Caller {
    crate::domain::Caller {
        user: user.into(),
        role: crate::domain::Role::Analyst,
    }
}

/// A daily schedule at `time` UTC whose query passes the specificity check, for tests on [`MemoryWorld`].
pub fn daily_schedule(name: &str, time: &str) -> crate::services::NewSchedule {
    crate::services::NewSchedule {
        name: name.into(),
        description: None,
        user_query:
            "failed sign-ins in the last 24 hours with more than 5 attempts from the same IP".into(),
        persona: "soc_analyst".into(),
        frequency: crate::domain::timing::Frequency::Daily,
        scheduled_time: Some(time.into()),
        day_of_week: None,
        day_of_month: None,
        cron_expression: None,
        timezone: Some("UTC".into()),
        notify_on: None,
        lookback: None,
        settlement_delay: None,
        max_catchup: None,
    }
}

/// The use cases wired to the in-memory twins with a clock the test moves: the one test harness for the use
/// cases and for the handlers built on them.
pub struct MemoryWorld {
    pub services: crate::services::Services,
    pub store: std::sync::Arc<MemoryScheduleStore>,
    pub engine: std::sync::Arc<ScriptedEngine>,
    pub notifier: std::sync::Arc<RecordingNotifier>,
    pub clock: std::sync::Arc<FixedClock>,
}

impl MemoryWorld {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self::with_config(now, crate::config::ServiceConfig::default())
    }

    pub fn with_config(now: DateTime<Utc>, config: crate::config::ServiceConfig) -> Self {
        use std::sync::Arc;
        let store = Arc::new(MemoryScheduleStore::new(config.run_retention));
        let engine = Arc::new(ScriptedEngine::new());
        let notifier = Arc::new(RecordingNotifier::new());
        let clock = Arc::new(FixedClock::new(now));
        let services = crate::services::Services::new(
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
        caller: &crate::domain::Caller,
        input: crate::services::NewSchedule,
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
        self.clock.now()
    }
}
