//! The SQLite [`ScheduleStore`]: the embedded store of the local product, one file on disk.
//!
//! Each table keeps the whole item as a JSON `body` (the source of truth, written with serde) beside a few
//! columns derived from it for filtering, ordering and conditions. The derived columns are built in one place
//! (`ScheduleRow`, `RunRow`, `NotificationRow`) so they can never disagree with the body.
//!
//! Every conditional write is a SQL condition (`WHERE version = ?`, `ON CONFLICT DO NOTHING`) checked inside an
//! `IMMEDIATE` transaction, so two writers — two tasks, or two processes on the same file — can never both win.
//! rusqlite is synchronous: each operation runs on tokio's blocking pool against one connection behind a mutex.

use crate::domain::notification::NOTIFICATION_RETENTION_DAYS;
use crate::domain::{
    Notification, Run, RunId, RunRetention, Schedule, ScheduleId, ScheduleStatus, WorkKind,
};
use crate::ports::{Page, ScheduleFilter, ScheduleStore, StoreError, WriteOutcome};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How long a writer waits for another connection's lock before giving up with `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const NOTIFICATION_RETENTION_MS: i64 = NOTIFICATION_RETENTION_DAYS * 24 * 60 * 60 * 1000;

/// The schema, one entry per version: entry `i` upgrades a database from `user_version = i` to `i + 1`.
/// Append new entries; never edit a released one.
const MIGRATIONS: &[&str] = &[
    // v1
    "
    CREATE TABLE schedules (
        id          TEXT PRIMARY KEY NOT NULL,
        owner       TEXT NOT NULL,
        status      TEXT NOT NULL,
        next_run_at INTEGER,
        created_at  INTEGER NOT NULL,
        version     INTEGER NOT NULL,
        body        TEXT NOT NULL
    ) STRICT;
    -- The dispatcher's only query: sparse, so it holds just what can become due.
    CREATE INDEX schedules_due ON schedules (next_run_at)
        WHERE status = 'ACTIVE' AND next_run_at IS NOT NULL;
    CREATE INDEX schedules_by_owner ON schedules (owner, created_at DESC, id DESC);
    -- Admins list every owner's schedules.
    CREATE INDEX schedules_by_created ON schedules (created_at DESC, id DESC);

    CREATE TABLE runs (
        run_id         TEXT PRIMARY KEY NOT NULL,
        schedule_id    TEXT NOT NULL REFERENCES schedules (id),
        scheduled_for  INTEGER NOT NULL,
        work           TEXT,
        next_action_at INTEGER,
        version        INTEGER NOT NULL,
        status         TEXT NOT NULL,
        body           TEXT NOT NULL
    ) STRICT;
    CREATE INDEX runs_by_schedule ON runs (schedule_id, scheduled_for DESC, run_id DESC);
    -- The background ticks' queries: sparse, only runs that still need something.
    CREATE INDEX runs_work ON runs (work, next_action_at) WHERE work IS NOT NULL;

    CREATE TABLE notifications (
        id         TEXT PRIMARY KEY NOT NULL,
        owner      TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        body       TEXT NOT NULL
    ) STRICT;
    CREATE INDEX notifications_by_owner ON notifications (owner, created_at DESC, id DESC);
    CREATE INDEX notifications_by_expiry ON notifications (expires_at);
    ",
];

// The status literals must stay literals (not parameters): SQLite only uses a partial index when it can prove
// the query's WHERE implies the index's WHERE at prepare time.
const DUE_SQL: &str = "SELECT id, body FROM schedules
     WHERE status = 'ACTIVE' AND next_run_at IS NOT NULL AND next_run_at <= ?1
     ORDER BY next_run_at LIMIT ?2";

const WORK_SQL: &str = "SELECT run_id, body FROM runs
     WHERE work IS NOT NULL AND work = ?1 AND next_action_at <= ?2
     ORDER BY next_action_at LIMIT ?3";

/// A schedule's runs beyond the newest `?2`: the only ones [`RunRetention`] may drop.
const OLDER_RUNS_SQL: &str = "SELECT run_id, body FROM runs WHERE schedule_id = ?1
     ORDER BY scheduled_for DESC, run_id DESC LIMIT -1 OFFSET ?2";

const UPDATE_SCHEDULE_SQL: &str = "UPDATE schedules
     SET owner = ?2, status = ?3, next_run_at = ?4, created_at = ?5, version = ?6, body = ?7
     WHERE id = ?1 AND version = ?8";

const UPDATE_RUN_SQL: &str = "UPDATE runs
     SET scheduled_for = ?3, work = ?4, next_action_at = ?5, version = ?6, status = ?7, body = ?8
     WHERE run_id = ?1 AND schedule_id = ?2 AND version = ?9";

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Unavailable(format!("sqlite: {e}"))
    }
}

/// The SQLite schedule store. Cheap to clone (clones share the connection).
#[derive(Clone)]
pub struct SqliteScheduleStore {
    conn: Arc<Mutex<Connection>>,
    retention: RunRetention,
}

impl fmt::Debug for SqliteScheduleStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteScheduleStore")
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl SqliteScheduleStore {
    /// The schema version this build writes (`PRAGMA user_version`).
    pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

    /// Opens (creating if needed) the database file at `path` and brings its schema up to date. Schedules keep
    /// the runs `retention` keeps.
    pub fn open(path: &Path, retention: RunRetention) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        // WAL lets readers in other processes proceed while we write; NORMAL is durable in WAL mode except for
        // the last transactions before a power loss, which the dispatcher's idempotent claims tolerate.
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), mode, "SQLite did not switch to WAL journal mode");
        }
        Self::from_connection(conn, retention)
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory(retention: RunRetention) -> Result<Self, StoreError> {
        Self::from_connection(Connection::open_in_memory()?, retention)
    }

    fn from_connection(mut conn: Connection, retention: RunRetention) -> Result<Self, StoreError> {
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            retention,
        })
    }

    /// Deletes the notifications that expired at `now`; returns how many. Expired notifications are also
    /// dropped whenever a newer one is stored, so calling this is optional.
    pub async fn delete_expired_notifications(
        &self,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let now = now.timestamp_millis();
        self.with_conn(move |conn| {
            let n = conn.execute(
                "DELETE FROM notifications WHERE expires_at <= ?1",
                params![now],
            )?;
            Ok(n as u64)
        })
        .await
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with_conn<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave a half-applied write: an unfinished rusqlite
            // transaction rolls back when dropped. So a poisoned lock is safe to keep using.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("sqlite task failed: {e}")))?
    }
}

/// Brings the schema from the database's `user_version` up to [`SqliteScheduleStore::SCHEMA_VERSION`].
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let latest = MIGRATIONS.len();
    let current = usize::try_from(current).unwrap_or(usize::MAX);
    if current > latest {
        return Err(StoreError::Unavailable(format!(
            "the database schema is version {current}, newer than this program supports ({latest}); \
             use a newer build or another database file"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Rows: the derived columns, built in one place from the item.

fn encode<T: Serialize>(key: &str, item: &T) -> Result<String, StoreError> {
    serde_json::to_string(item).map_err(|e| StoreError::Malformed {
        key: key.to_owned(),
        message: format!("cannot encode: {e}"),
    })
}

fn decode<T: DeserializeOwned>(key: &str, body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Malformed {
        key: key.to_owned(),
        message: e.to_string(),
    })
}

fn version_column(key: &str, version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(|_| StoreError::Malformed {
        key: key.to_owned(),
        message: format!("version {version} does not fit the store"),
    })
}

struct ScheduleRow {
    id: String,
    owner: String,
    status: &'static str,
    next_run_at: Option<i64>,
    created_at: i64,
    version: i64,
    body: String,
}

impl ScheduleRow {
    fn new(s: &Schedule) -> Result<Self, StoreError> {
        let id = s.id.to_string();
        Ok(Self {
            owner: s.owner.clone(),
            status: s.status.as_str(),
            next_run_at: s.next_run_at.map(|t| t.timestamp_millis()),
            created_at: s.created_at.timestamp_millis(),
            version: version_column(&id, s.version)?,
            body: encode(&id, s)?,
            id,
        })
    }

    fn insert(&self, tx: &Connection) -> Result<bool, StoreError> {
        let n = tx.execute(
            "INSERT INTO schedules (id, owner, status, next_run_at, created_at, version, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
            params![
                self.id,
                self.owner,
                self.status,
                self.next_run_at,
                self.created_at,
                self.version,
                self.body
            ],
        )?;
        Ok(n == 1)
    }

    /// True if the stored version was `expected` (and the row is now replaced).
    fn update(&self, tx: &Connection, expected: i64) -> Result<bool, StoreError> {
        let n = tx.execute(
            UPDATE_SCHEDULE_SQL,
            params![
                self.id,
                self.owner,
                self.status,
                self.next_run_at,
                self.created_at,
                self.version,
                self.body,
                expected
            ],
        )?;
        Ok(n == 1)
    }
}

struct RunRow {
    run_id: String,
    schedule_id: String,
    scheduled_for: i64,
    work: Option<&'static str>,
    next_action_at: Option<i64>,
    version: i64,
    status: &'static str,
    body: String,
}

impl RunRow {
    fn new(r: &Run) -> Result<Self, StoreError> {
        let run_id = r.run_id.to_string();
        Ok(Self {
            schedule_id: r.schedule_id.to_string(),
            scheduled_for: r.scheduled_for.timestamp_millis(),
            work: r.work.map(|w| w.kind.as_str()),
            next_action_at: r.work.map(|w| w.at.timestamp_millis()),
            version: version_column(&run_id, r.version)?,
            status: r.status.as_str(),
            body: encode(&run_id, r)?,
            run_id,
        })
    }

    /// False if a run with this id exists already.
    fn insert(&self, tx: &Connection) -> Result<bool, StoreError> {
        let n = tx.execute(
            "INSERT INTO runs
                 (run_id, schedule_id, scheduled_for, work, next_action_at, version, status, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (run_id) DO NOTHING",
            params![
                self.run_id,
                self.schedule_id,
                self.scheduled_for,
                self.work,
                self.next_action_at,
                self.version,
                self.status,
                self.body
            ],
        )?;
        Ok(n == 1)
    }

    fn update(&self, tx: &Connection, expected: i64) -> Result<bool, StoreError> {
        let n = tx.execute(
            UPDATE_RUN_SQL,
            params![
                self.run_id,
                self.schedule_id,
                self.scheduled_for,
                self.work,
                self.next_action_at,
                self.version,
                self.status,
                self.body,
                expected
            ],
        )?;
        Ok(n == 1)
    }
}

struct NotificationRow {
    id: String,
    owner: String,
    created_at: i64,
    expires_at: i64,
    body: String,
}

impl NotificationRow {
    fn new(n: &Notification) -> Result<Self, StoreError> {
        let id = n.id.to_string();
        let created_at = n.created_at.timestamp_millis();
        Ok(Self {
            owner: n.owner.clone(),
            created_at,
            expires_at: created_at.saturating_add(NOTIFICATION_RETENTION_MS),
            body: encode(&id, n)?,
            id,
        })
    }
}

/// Reads `(key, body)` rows and decodes each body.
fn query_items<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map(params, |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.iter().map(|(key, body)| decode(key, body)).collect()
}

/// Deletes the runs of `schedule_id` that `retention` does not keep, inside the caller's transaction.
fn apply_retention(
    tx: &Transaction<'_>,
    schedule_id: &str,
    retention: RunRetention,
) -> Result<(), StoreError> {
    let keep = retention.count();
    let older: Vec<Run> = query_items(tx, OLDER_RUNS_SQL, params![schedule_id, keep])?;
    let mut delete = tx.prepare_cached("DELETE FROM runs WHERE run_id = ?1")?;
    for (i, run) in older.iter().enumerate() {
        if retention.may_drop(keep as usize + i, run) {
            delete.execute(params![run.run_id.as_str()])?;
        }
    }
    Ok(())
}

fn immediate(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

fn outcome(applied: bool) -> WriteOutcome {
    if applied {
        WriteOutcome::Applied
    } else {
        WriteOutcome::Conflict
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The port

#[async_trait]
impl ScheduleStore for SqliteScheduleStore {
    async fn insert_schedule(&self, schedule: &Schedule) -> Result<(), StoreError> {
        let row = ScheduleRow::new(schedule)?;
        self.with_conn(move |conn| {
            if row.insert(conn)? {
                Ok(())
            } else {
                Err(StoreError::AlreadyExists(row.id))
            }
        })
        .await
    }

    async fn get_schedule(&self, id: &ScheduleId) -> Result<Option<Schedule>, StoreError> {
        let id = id.to_string();
        self.with_conn(move |conn| {
            let body: Option<String> = conn
                .prepare_cached("SELECT body FROM schedules WHERE id = ?1")?
                .query_row(params![id], |row| row.get(0))
                .optional()?;
            body.map(|b| decode(&id, &b)).transpose()
        })
        .await
    }

    async fn list_schedules(
        &self,
        filter: &ScheduleFilter,
        limit: u32,
        offset: u32,
    ) -> Result<Page<Schedule>, StoreError> {
        if filter.status == Some(ScheduleStatus::Deleted) {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
            });
        }
        let mut conditions = vec!["status != 'DELETED'"];
        let mut args: Vec<Value> = Vec::new();
        if let Some(owner) = &filter.owner {
            conditions.push("owner = ?");
            args.push(Value::Text(owner.clone()));
        }
        if let Some(status) = filter.status {
            conditions.push("status = ?");
            args.push(Value::Text(status.as_str().to_owned()));
        }
        let where_clause = conditions.join(" AND ");
        self.with_conn(move |conn| {
            // One read transaction, so the total and the page describe the same moment.
            let tx = conn.transaction()?;
            let total: i64 = tx.query_row(
                &format!("SELECT COUNT(*) FROM schedules WHERE {where_clause}"),
                rusqlite::params_from_iter(&args),
                |row| row.get(0),
            )?;
            args.push(Value::Integer(limit.into()));
            args.push(Value::Integer(offset.into()));
            let items = query_items(
                &tx,
                &format!(
                    "SELECT id, body FROM schedules WHERE {where_clause}
                     ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
                ),
                rusqlite::params_from_iter(&args),
            )?;
            tx.commit()?;
            Ok(Page {
                items,
                total: u64::try_from(total).unwrap_or(0),
            })
        })
        .await
    }

    async fn update_schedule(
        &self,
        schedule: &Schedule,
        expected_version: u64,
    ) -> Result<WriteOutcome, StoreError> {
        let row = ScheduleRow::new(schedule)?;
        let expected = version_column(&row.id, expected_version)?;
        self.with_conn(move |conn| Ok(outcome(row.update(conn, expected)?)))
            .await
    }

    async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Schedule>, StoreError> {
        let now = now.timestamp_millis();
        self.with_conn(move |conn| query_items(conn, DUE_SQL, params![now, limit]))
            .await
    }

    async fn create_run(
        &self,
        schedule: &Schedule,
        expected_version: u64,
        run: &Run,
    ) -> Result<WriteOutcome, StoreError> {
        let schedule_row = ScheduleRow::new(schedule)?;
        let expected = version_column(&schedule_row.id, expected_version)?;
        let run_row = RunRow::new(run)?;
        let retention = self.retention;
        self.with_conn(move |conn| {
            let tx = immediate(conn)?;
            // Dropping `tx` without commit rolls back, so an early return applies nothing.
            if !schedule_row.update(&tx, expected)? || !run_row.insert(&tx)? {
                return Ok(WriteOutcome::Conflict);
            }
            apply_retention(&tx, &run_row.schedule_id, retention)?;
            tx.commit()?;
            Ok(WriteOutcome::Applied)
        })
        .await
    }

    async fn update_run(
        &self,
        run: &Run,
        expected_version: u64,
    ) -> Result<WriteOutcome, StoreError> {
        let row = RunRow::new(run)?;
        let expected = version_column(&row.run_id, expected_version)?;
        self.with_conn(move |conn| Ok(outcome(row.update(conn, expected)?)))
            .await
    }

    async fn finish_run(
        &self,
        run: &Run,
        run_expected_version: u64,
        schedule: &Schedule,
        schedule_expected_version: u64,
    ) -> Result<WriteOutcome, StoreError> {
        let run_row = RunRow::new(run)?;
        let run_expected = version_column(&run_row.run_id, run_expected_version)?;
        let schedule_row = ScheduleRow::new(schedule)?;
        let schedule_expected = version_column(&schedule_row.id, schedule_expected_version)?;
        let retention = self.retention;
        self.with_conn(move |conn| {
            let tx = immediate(conn)?;
            if !run_row.update(&tx, run_expected)?
                || !schedule_row.update(&tx, schedule_expected)?
            {
                return Ok(WriteOutcome::Conflict);
            }
            apply_retention(&tx, &run_row.schedule_id, retention)?;
            tx.commit()?;
            Ok(WriteOutcome::Applied)
        })
        .await
    }

    async fn get_run(
        &self,
        schedule_id: &ScheduleId,
        run_id: &RunId,
    ) -> Result<Option<Run>, StoreError> {
        let schedule_id = schedule_id.to_string();
        let run_id = run_id.to_string();
        self.with_conn(move |conn| {
            let body: Option<String> = conn
                .prepare_cached("SELECT body FROM runs WHERE run_id = ?1 AND schedule_id = ?2")?
                .query_row(params![run_id, schedule_id], |row| row.get(0))
                .optional()?;
            body.map(|b| decode(&run_id, &b)).transpose()
        })
        .await
    }

    async fn list_runs(
        &self,
        schedule_id: &ScheduleId,
        limit: u32,
    ) -> Result<Vec<Run>, StoreError> {
        let schedule_id = schedule_id.to_string();
        self.with_conn(move |conn| {
            query_items(
                conn,
                "SELECT run_id, body FROM runs WHERE schedule_id = ?1
                 ORDER BY scheduled_for DESC, run_id DESC LIMIT ?2",
                params![schedule_id, limit],
            )
        })
        .await
    }

    async fn runs_with_work(
        &self,
        kind: WorkKind,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Run>, StoreError> {
        let now = now.timestamp_millis();
        self.with_conn(move |conn| query_items(conn, WORK_SQL, params![kind.as_str(), now, limit]))
            .await
    }

    async fn put_notification(&self, notification: &Notification) -> Result<(), StoreError> {
        let row = NotificationRow::new(notification)?;
        self.with_conn(move |conn| {
            let tx = immediate(conn)?;
            tx.execute(
                "INSERT INTO notifications (id, owner, created_at, expires_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, created_at = excluded.created_at,
                     expires_at = excluded.expires_at, body = excluded.body",
                params![row.id, row.owner, row.created_at, row.expires_at, row.body],
            )?;
            // The trait gives no clock, so the newest notification's creation time stands for "now": everything
            // that had expired by then goes (including this one, if it is a replay older than the retention).
            // MAX(expires_at) - retention is MAX(created_at), read through the expiry index.
            tx.execute(
                "DELETE FROM notifications
                 WHERE expires_at <= (SELECT MAX(expires_at) FROM notifications) - ?1",
                params![NOTIFICATION_RETENTION_MS],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn list_notifications(
        &self,
        owner: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<Page<Notification>, StoreError> {
        let owner = owner.map(str::to_owned);
        self.with_conn(move |conn| {
            let tx = conn.transaction()?;
            let (total, items) = match &owner {
                Some(owner) => (
                    tx.query_row(
                        "SELECT COUNT(*) FROM notifications WHERE owner = ?1",
                        params![owner],
                        |row| row.get::<_, i64>(0),
                    )?,
                    query_items(
                        &tx,
                        "SELECT id, body FROM notifications WHERE owner = ?1
                         ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3",
                        params![owner, limit, offset],
                    )?,
                ),
                None => (
                    tx.query_row("SELECT COUNT(*) FROM notifications", [], |row| {
                        row.get::<_, i64>(0)
                    })?,
                    query_items(
                        &tx,
                        "SELECT id, body FROM notifications
                         ORDER BY created_at DESC, id DESC LIMIT ?1 OFFSET ?2",
                        params![limit, offset],
                    )?,
                ),
            };
            tx.commit()?;
            Ok(Page {
                items,
                total: u64::try_from(total).unwrap_or(0),
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        Frequency, NotificationEvent, NotificationId, RunStatus, TimingSpec, Trigger, Work,
    };
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, day, hour, 0, 0).unwrap()
    }

    fn schedule(id: &str) -> Schedule {
        Schedule {
            id: ScheduleId::from(id),
            owner: "alice".into(),
            name: format!("schedule {id}"),
            description: String::new(),
            user_query: "failed logins for admin accounts in the last 24 hours".into(),
            persona: "soc_analyst".into(),
            timing: TimingSpec {
                frequency: Frequency::Daily,
                scheduled_time: Some("08:00".into()),
                day_of_week: None,
                day_of_month: None,
                cron_expression: None,
                timezone: "UTC".into(),
            },
            status: ScheduleStatus::Active,
            next_run_at: Some(at(1, 8)),
            last_run_at: None,
            last_run_status: None,
            consecutive_failures: 0,
            disabled_reason: None,
            runs_in_flight: 0,
            created_at: at(1, 0),
            updated_at: at(1, 0),
            version: 1,
        }
    }

    fn run(s: &Schedule, scheduled_for: DateTime<Utc>, status: RunStatus) -> Run {
        let work = (!status.is_terminal()).then_some(WorkKind::Start);
        Run {
            run_id: RunId::scheduled(&s.id, scheduled_for),
            schedule_id: s.id.clone(),
            owner: s.owner.clone(),
            schedule_name: s.name.clone(),
            trigger: Trigger::Scheduled,
            scheduled_for,
            status,
            session_id: None,
            created_at: scheduled_for,
            started_at: None,
            finished_at: None,
            duration_ms: None,
            error: None,
            summary: None,
            user_query: s.user_query.clone(),
            persona: s.persona.clone(),
            attempts: 0,
            work: work.map(|kind| Work::new(kind, scheduled_for)),
            disabled_schedule: None,
            version: 1,
        }
    }

    fn notification(id: &str, created_at: DateTime<Utc>) -> Notification {
        let s = schedule("sch_n");
        let r = run(&s, at(1, 8), RunStatus::Completed);
        Notification {
            id: NotificationId::from(id),
            event: NotificationEvent::InvestigationCompleted,
            owner: "alice".into(),
            schedule_id: s.id,
            schedule_name: s.name,
            run_id: r.run_id,
            session_id: None,
            session_url: None,
            status: RunStatus::Completed,
            scheduled_for: r.scheduled_for,
            started_at: None,
            finished_at: None,
            duration_ms: None,
            error: None,
            summary: None,
            disabled_reason: None,
            link: "/api/v1/schedules/sch_n/runs".into(),
            created_at,
        }
    }

    /// Claims `r` for `s`, bumping the schedule's version like the dispatcher does.
    async fn claim(store: &SqliteScheduleStore, s: &mut Schedule, r: &Run) -> WriteOutcome {
        let expected = s.version;
        s.touch(r.scheduled_for);
        store.create_run(s, expected, r).await.unwrap()
    }

    fn query_plan(store: &SqliteScheduleStore, sql: &str, args: &[Value]) -> Vec<String> {
        let conn = store.conn.lock().unwrap();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        stmt.query_map(rusqlite::params_from_iter(args), |row| {
            row.get::<_, String>(3)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    #[test]
    fn due_query_reads_the_due_index_and_never_scans() {
        let store = SqliteScheduleStore::open_in_memory(RunRetention::default()).unwrap();
        let plan = query_plan(&store, DUE_SQL, &[Value::Integer(0), Value::Integer(10)]);
        assert!(
            plan.iter().any(|d| d.contains("USING INDEX schedules_due")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|d| d.starts_with("SCAN")), "{plan:?}");
        assert!(!plan.iter().any(|d| d.contains("TEMP B-TREE")), "{plan:?}");
    }

    #[test]
    fn work_query_reads_the_work_index_and_never_scans() {
        let store = SqliteScheduleStore::open_in_memory(RunRetention::default()).unwrap();
        let args = [
            Value::Text("poll".into()),
            Value::Integer(0),
            Value::Integer(10),
        ];
        let plan = query_plan(&store, WORK_SQL, &args);
        assert!(
            plan.iter().any(|d| d.contains("USING INDEX runs_work")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|d| d.starts_with("SCAN")), "{plan:?}");
        assert!(!plan.iter().any(|d| d.contains("TEMP B-TREE")), "{plan:?}");
    }

    #[test]
    fn schema_is_versioned_and_a_newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        drop(SqliteScheduleStore::open(&path, RunRetention::default()).unwrap());
        let conn = Connection::open(&path).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, i64::from(SqliteScheduleStore::SCHEMA_VERSION));
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");

        // Reopening an up-to-date database runs no migration (it would fail: the tables exist).
        drop(SqliteScheduleStore::open(&path, RunRetention::default()).unwrap());

        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = SqliteScheduleStore::open(&path, RunRetention::default()).unwrap_err();
        assert!(
            matches!(&err, StoreError::Unavailable(m) if m.contains("newer")),
            "{err}"
        );
    }

    #[tokio::test]
    async fn malformed_rows_are_errors_not_panics() {
        let store = SqliteScheduleStore::open_in_memory(RunRetention::default()).unwrap();
        store
            .conn
            .lock()
            .unwrap()
            .execute(
                "INSERT INTO schedules (id, owner, status, next_run_at, created_at, version, body)
             VALUES ('sch_bad', 'alice', 'ACTIVE', 0, 0, 1, '{\"id\": 3')",
                [],
            )
            .unwrap();

        let err = store
            .get_schedule(&ScheduleId::from("sch_bad"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Malformed { key, .. } if key == "sch_bad"),
            "{err}"
        );
        let err = store.due_schedules(at(2, 0), 10).await.unwrap_err();
        assert!(matches!(err, StoreError::Malformed { .. }), "{err}");
        let err = store
            .list_schedules(&ScheduleFilter::default(), 10, 0)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Malformed { .. }), "{err}");
    }

    #[tokio::test]
    async fn creating_a_run_prunes_old_finished_runs_but_never_in_flight_ones() {
        let store = SqliteScheduleStore::open_in_memory(RunRetention::keep(3)).unwrap();
        let mut s = schedule("sch_a");
        store.insert_schedule(&s).await.unwrap();

        // The oldest run is still waiting to start; one in the middle finished but still has to notify.
        let in_flight = run(&s, at(1, 1), RunStatus::Pending);
        let mut notifying = run(&s, at(1, 2), RunStatus::Completed);
        notifying.work = Some(Work::new(WorkKind::Notify, at(1, 2)));
        assert!(claim(&store, &mut s, &in_flight).await.applied());
        assert!(claim(&store, &mut s, &notifying).await.applied());
        for hour in 3..12 {
            let r = run(&s, at(1, hour), RunStatus::Skipped);
            assert!(claim(&store, &mut s, &r).await.applied());
        }

        let all = store.list_runs(&s.id, 100).await.unwrap();
        let hours: Vec<_> = all
            .iter()
            .map(|r| r.scheduled_for.format("%H").to_string())
            .collect();
        assert_eq!(hours, ["11", "10", "09", "02", "01"]);
    }

    #[tokio::test]
    async fn notifications_expire_relative_to_the_newest_one() {
        let store = SqliteScheduleStore::open_in_memory(RunRetention::default()).unwrap();
        store
            .put_notification(&notification("ntf_old", at(1, 0)))
            .await
            .unwrap();
        store
            .put_notification(&notification("ntf_mid", at(20, 0)))
            .await
            .unwrap();
        // 30 days after the first: the first one expires, the second does not.
        let later = at(1, 0) + chrono::Duration::days(NOTIFICATION_RETENTION_DAYS);
        store
            .put_notification(&notification("ntf_new", later))
            .await
            .unwrap();
        // A replay of something older than the retention is not resurrected.
        store
            .put_notification(&notification("ntf_old", at(1, 0)))
            .await
            .unwrap();

        let page = store
            .list_notifications(Some("alice"), 10, 0)
            .await
            .unwrap();
        let ids: Vec<_> = page.items.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["ntf_new", "ntf_mid"]);
        assert_eq!(page.total, 2);

        let gone = store
            .delete_expired_notifications(
                at(20, 0) + chrono::Duration::days(NOTIFICATION_RETENTION_DAYS),
            )
            .await
            .unwrap();
        assert_eq!(gone, 1);
        assert_eq!(
            store.list_notifications(None, 10, 0).await.unwrap().total,
            1
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_connections_to_one_file_never_both_claim() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let a = SqliteScheduleStore::open(&path, RunRetention::default()).unwrap();
        let b = SqliteScheduleStore::open(&path, RunRetention::default()).unwrap();
        let mut s = schedule("sch_race");
        a.insert_schedule(&s).await.unwrap();

        for hour in 0..20 {
            let occurrence = at(2, hour);
            let expected = s.version;
            let mut claimed = s.clone();
            claimed.touch(occurrence);
            let r = run(&s, occurrence, RunStatus::Pending);
            let barrier = Arc::new(tokio::sync::Barrier::new(2));
            let tasks: Vec<_> = [a.clone(), b.clone()]
                .into_iter()
                .map(|store| {
                    let (claimed, r, barrier) = (claimed.clone(), r.clone(), Arc::clone(&barrier));
                    tokio::spawn(async move {
                        barrier.wait().await;
                        store.create_run(&claimed, expected, &r).await.unwrap()
                    })
                })
                .collect();
            let mut applied = 0;
            for t in tasks {
                applied += usize::from(t.await.unwrap().applied());
            }
            assert_eq!(applied, 1, "occurrence {occurrence}");
            s = claimed;
        }
        assert_eq!(
            b.get_schedule(&s.id).await.unwrap().unwrap().version,
            s.version
        );
        assert_eq!(a.list_runs(&s.id, 100).await.unwrap().len(), 20);
    }
}
