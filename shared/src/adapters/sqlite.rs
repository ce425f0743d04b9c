//! The SQLite [`ScheduleStore`]: the embedded store of the local product, one file on disk.
//!
//! Each table keeps the whole item as a JSON `body` (the source of truth, written with serde) beside a few
//! columns derived from it for filtering, ordering and conditions. The derived columns are built in one place
//! (`ScheduleRow`, `RunRow`, `NotificationRow`) so they can never disagree with the body.
//!
//! Every conditional write is a SQL condition (`WHERE version = ?`, `ON CONFLICT DO NOTHING`) checked inside an
//! `IMMEDIATE` transaction, so two writers — two tasks, or two processes on the same file — can never both win.
//! rusqlite is synchronous: each operation runs on tokio's blocking pool. Writes go through one connection;
//! reads through a small pool of read-only connections beside it (WAL lets readers run while the writer writes,
//! and a read transaction sees every write committed before it began), so listings do not queue behind writes
//! or behind each other. Listing totals are counted from covering indexes, never by reading item bodies.

use super::sqlite_audit::{self, AUDIT_MIGRATION, AuditRows};
use crate::domain::notification::NOTIFICATION_RETENTION_DAYS;
use crate::domain::{
    AuditEvent, Notification, Run, RunId, RunRetention, Schedule, ScheduleId, ScheduleStatus,
    WorkKind,
};
use crate::ports::{
    After, Page, PageStart, ScheduleFilter, ScheduleStore, StoreError, WriteOutcome,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};
use std::time::Duration;

/// How long a writer waits for another connection's lock before giving up with `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Read connections beside the writer (a database file; an in-memory database reads through its writer).
const READERS: usize = 4;

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
    // v2: listing totals from a covering index (COUNT(*) otherwise reads every row's body to check its status).
    // An admin's total scans the same index whole. (An index on `status` alone would lure the due query away from
    // its partial index.)
    "
    CREATE INDEX schedules_owner_status ON schedules (owner, status);
    ",
    // v3: listing totals from counters kept by triggers in the writing transaction (a covering index still visits
    // every entry: at 10,000 schedules the count was most of a listing's cost).
    "
    CREATE TABLE schedule_counts (
        owner  TEXT NOT NULL,
        status TEXT NOT NULL,
        n      INTEGER NOT NULL,
        PRIMARY KEY (owner, status)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO schedule_counts (owner, status, n)
        SELECT owner, status, COUNT(*) FROM schedules GROUP BY owner, status;
    CREATE TRIGGER schedules_counted_on_insert AFTER INSERT ON schedules BEGIN
        INSERT OR IGNORE INTO schedule_counts (owner, status, n) VALUES (NEW.owner, NEW.status, 0);
        UPDATE schedule_counts SET n = n + 1 WHERE owner = NEW.owner AND status = NEW.status;
    END;
    CREATE TRIGGER schedules_counted_on_update AFTER UPDATE OF owner, status ON schedules
        WHEN OLD.owner IS NOT NEW.owner OR OLD.status IS NOT NEW.status BEGIN
        UPDATE schedule_counts SET n = n - 1 WHERE owner = OLD.owner AND status = OLD.status;
        INSERT OR IGNORE INTO schedule_counts (owner, status, n) VALUES (NEW.owner, NEW.status, 0);
        UPDATE schedule_counts SET n = n + 1 WHERE owner = NEW.owner AND status = NEW.status;
    END;
    CREATE TRIGGER schedules_counted_on_delete AFTER DELETE ON schedules BEGIN
        UPDATE schedule_counts SET n = n - 1 WHERE owner = OLD.owner AND status = OLD.status;
    END;
    DROP INDEX schedules_owner_status;
    ",
    AUDIT_MIGRATION,
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
        StoreError::unavailable("sqlite", e)
    }
}

/// The SQLite schedule store. Cheap to clone (clones share the connection).
#[derive(Clone)]
pub struct SqliteScheduleStore {
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Readers>,
    retention: RunRetention,
}

/// The read connections, handed out round-robin; a busy one is skipped if another is free.
struct Readers {
    connections: Vec<Mutex<Connection>>,
    next: AtomicUsize,
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
        let mut store = Self::from_connection(conn, retention)?;
        // Opened after the writer has migrated the schema, so every reader sees it.
        let readers = (0..READERS)
            .map(|_| {
                let reader = Connection::open(path)?;
                reader.busy_timeout(BUSY_TIMEOUT)?;
                reader.pragma_update(None, "query_only", "ON")?;
                Ok(Mutex::new(reader))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        store.readers = Arc::new(Readers {
            connections: readers,
            next: AtomicUsize::new(0),
        });
        Ok(store)
    }

    /// A private in-memory database, for tests (it reads through its one connection).
    pub fn open_in_memory(retention: RunRetention) -> Result<Self, StoreError> {
        Self::from_connection(Connection::open_in_memory()?, retention)
    }

    fn from_connection(mut conn: Connection, retention: RunRetention) -> Result<Self, StoreError> {
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        migrate(&mut conn)?;
        Ok(Self {
            writer: Arc::new(Mutex::new(conn)),
            readers: Arc::new(Readers {
                connections: Vec::new(),
                next: AtomicUsize::new(0),
            }),
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
        self.write(move |conn| {
            let n = conn.execute(
                "DELETE FROM notifications WHERE expires_at <= ?1",
                params![now],
            )?;
            Ok(n as u64)
        })
        .await
    }

    /// Runs `f` with the write connection on the blocking pool.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let writer = Arc::clone(&self.writer);
        blocking(move || f(&mut lock(&writer))).await
    }

    /// Runs `f` with a read connection (the writer for an in-memory database) on the blocking pool.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        let writer = Arc::clone(&self.writer);
        blocking(move || {
            let n = readers.connections.len();
            if n == 0 {
                return f(&mut lock(&writer));
            }
            let first = readers.next.fetch_add(1, Ordering::Relaxed);
            // A free reader if there is one; otherwise wait for the next in turn.
            let mut conn = (0..n)
                .find_map(|i| match readers.connections[(first + i) % n].try_lock() {
                    Ok(conn) => Some(conn),
                    Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
                    Err(TryLockError::WouldBlock) => None,
                })
                .unwrap_or_else(|| lock(&readers.connections[first % n]));
            f(&mut conn)
        })
        .await
    }
}

/// A connection's lock. A panic while holding it cannot leave a half-applied write (an unfinished rusqlite
/// transaction rolls back when dropped), so a poisoned lock is safe to keep using.
fn lock(conn: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs blocking SQLite work on tokio's blocking pool.
async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::unavailable("sqlite task failed", e))?
}

/// Brings the schema from the database's `user_version` up to [`SqliteScheduleStore::SCHEMA_VERSION`].
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let latest = MIGRATIONS.len();
    let current = usize::try_from(current).unwrap_or(usize::MAX);
    if current > latest {
        return Err(StoreError::unavailable_because(format!(
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
    /// The audit events this write appends (written only if the schedule write applies).
    audit: AuditRows,
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
            audit: AuditRows::new(s)?,
            id,
        })
    }

    /// Whether the write must be a transaction of its own (it appends audit events beside the schedule row).
    fn needs_transaction(&self) -> bool {
        !self.audit.is_empty()
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
        if n == 1 {
            self.audit.write(tx)?;
        }
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
        if n == 1 {
            self.audit.write(tx)?;
        }
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

/// The tail of a newest-first listing query ordered by `(time_col, id_col)`: an `AND` condition for a cursor
/// (row values, which the listing indexes serve) or an `OFFSET`, then the order and limit; and its arguments.
fn page_clause(
    time_col: &str,
    id_col: &str,
    limit: u32,
    start: &PageStart,
) -> (String, Vec<Value>) {
    let order = format!("ORDER BY {time_col} DESC, {id_col} DESC LIMIT ?");
    match start {
        PageStart::Offset(offset) => (
            format!("{order} OFFSET ?"),
            vec![
                Value::Integer(limit.into()),
                Value::Integer((*offset).into()),
            ],
        ),
        PageStart::After(after) => (
            format!("AND ({time_col}, {id_col}) < (?, ?) {order}"),
            vec![
                Value::Integer(after.at.timestamp_millis()),
                Value::Text(after.id.clone()),
                Value::Integer(limit.into()),
            ],
        ),
    }
}

/// The rows of `table` (keyed by `id`) matching `where_clause` on one page, and how many match in all (`count`,
/// which the same `where_clause` completes), in one read transaction so the total and the page describe the same
/// moment.
fn counted_page<T: DeserializeOwned>(
    conn: &mut Connection,
    table: &str,
    count: &str,
    where_clause: &str,
    mut args: Vec<Value>,
    (page_clause, page_args): (String, Vec<Value>),
) -> Result<Page<T>, StoreError> {
    let tx = conn.transaction()?;
    let total: i64 = tx.query_row(
        &format!("{count} {where_clause}"),
        rusqlite::params_from_iter(&args),
        |row| row.get(0),
    )?;
    args.extend(page_args);
    let items = query_items(
        &tx,
        &format!("SELECT id, body FROM {table} {where_clause} {page_clause}"),
        rusqlite::params_from_iter(&args),
    )?;
    tx.commit()?;
    Ok(Page {
        items,
        total: u64::try_from(total).unwrap_or(0),
    })
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
        self.write(move |conn| {
            let tx = immediate(conn)?;
            if row.insert(&tx)? {
                tx.commit()?;
                Ok(())
            } else {
                Err(StoreError::AlreadyExists(row.id))
            }
        })
        .await
    }

    async fn get_schedule(&self, id: &ScheduleId) -> Result<Option<Schedule>, StoreError> {
        let id = id.to_string();
        self.read(move |conn| {
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
        start: &PageStart,
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
        let where_clause = format!("WHERE {}", conditions.join(" AND "));
        let page = page_clause("created_at", "id", limit, start);
        // The counters have the columns the conditions name (owner, status).
        let count = "SELECT COALESCE(SUM(n), 0) FROM schedule_counts";
        self.read(move |conn| counted_page(conn, "schedules", count, &where_clause, args, page))
            .await
    }

    async fn update_schedule(
        &self,
        schedule: &Schedule,
        expected_version: u64,
    ) -> Result<WriteOutcome, StoreError> {
        let row = ScheduleRow::new(schedule)?;
        let expected = version_column(&row.id, expected_version)?;
        self.write(move |conn| {
            if !row.needs_transaction() {
                return Ok(outcome(row.update(conn, expected)?));
            }
            let tx = immediate(conn)?;
            let applied = row.update(&tx, expected)?;
            if applied {
                tx.commit()?;
            }
            Ok(outcome(applied))
        })
        .await
    }

    async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Schedule>, StoreError> {
        let now = now.timestamp_millis();
        self.read(move |conn| query_items(conn, DUE_SQL, params![now, limit]))
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
        self.write(move |conn| {
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
        self.write(move |conn| Ok(outcome(row.update(conn, expected)?)))
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
        self.write(move |conn| {
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
        self.read(move |conn| {
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
        after: Option<&After>,
    ) -> Result<Vec<Run>, StoreError> {
        let mut args = vec![Value::Text(schedule_id.to_string())];
        let start = after.map_or(PageStart::Offset(0), |a| PageStart::After(a.clone()));
        let (page_clause, page_args) = page_clause("scheduled_for", "run_id", limit, &start);
        args.extend(page_args);
        let runs: Vec<Run> = self
            .read(move |conn| {
                query_items(
                    conn,
                    &format!("SELECT run_id, body FROM runs WHERE schedule_id = ? {page_clause}"),
                    rusqlite::params_from_iter(&args),
                )
            })
            .await?;
        Ok(runs.into_iter().map(Run::without_findings).collect())
    }

    async fn runs_with_work(
        &self,
        kind: WorkKind,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Run>, StoreError> {
        let now = now.timestamp_millis();
        self.read(move |conn| query_items(conn, WORK_SQL, params![kind.as_str(), now, limit]))
            .await
    }

    async fn put_notification(&self, notification: &Notification) -> Result<(), StoreError> {
        let row = NotificationRow::new(notification)?;
        self.write(move |conn| {
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
        start: &PageStart,
    ) -> Result<Page<Notification>, StoreError> {
        let (where_clause, args) = match owner {
            Some(owner) => ("WHERE owner = ?", vec![Value::Text(owner.to_owned())]),
            None => ("WHERE TRUE", Vec::new()),
        };
        let page = page_clause("created_at", "id", limit, start);
        let count = "SELECT COUNT(*) FROM notifications";
        self.read(move |conn| counted_page(conn, "notifications", count, where_clause, args, page))
            .await
    }

    async fn list_audit(
        &self,
        schedule_id: &ScheduleId,
        limit: u32,
        offset: u32,
    ) -> Result<Page<AuditEvent>, StoreError> {
        let id = schedule_id.clone();
        self.read(move |conn| sqlite_audit::list(conn, &id, limit, offset))
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
            pause_reason: None,
            audit: Default::default(),
            notify_on: Default::default(),
            findings_summary: None,
            findings_baseline: None,
            lookback: None,
            settlement_delay: Default::default(),
            max_catchup: crate::domain::timing::DEFAULT_MAX_CATCHUP,
            last_window_end: None,
            coverage: Default::default(),
            unannounced_gaps: Vec::new(),
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
            reported: None,
            findings: Vec::new(),
            resolved: Vec::new(),
            findings_summary: None,
            notification: None,
            window_start: None,
            window_end: None,
            gaps: Vec::new(),
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
            findings_summary: None,
            new_findings: None,
            max_severity: None,
            findings: Vec::new(),
            resolved: Vec::new(),
            created_at,
            window_start: None,
            window_end: None,
            gap: None,
            fill_link: None,
        }
    }

    /// Claims `r` for `s`, bumping the schedule's version like the dispatcher does.
    async fn claim(store: &SqliteScheduleStore, s: &mut Schedule, r: &Run) -> WriteOutcome {
        let expected = s.version;
        s.touch(r.scheduled_for);
        store.create_run(s, expected, r).await.unwrap()
    }

    fn query_plan(store: &SqliteScheduleStore, sql: &str, args: &[Value]) -> Vec<String> {
        let conn = store.writer.lock().unwrap();
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
    fn notification_totals_are_counted_from_a_covering_index() {
        let store = SqliteScheduleStore::open_in_memory(RunRetention::default()).unwrap();
        let plan = query_plan(
            &store,
            "SELECT COUNT(*) FROM notifications WHERE owner = ?",
            &[Value::Text("alice".into())],
        );
        assert!(
            plan.iter().any(|d| d.contains("COVERING INDEX")),
            "{plan:?}"
        );
    }

    #[tokio::test]
    async fn schedule_totals_are_kept_by_triggers_in_every_write() {
        let store = SqliteScheduleStore::open_in_memory(RunRetention::default()).unwrap();
        let mut schedules = Vec::new();
        for (i, owner) in ["alice", "alice", "bob", "alice", "carol"]
            .iter()
            .enumerate()
        {
            let mut s = schedule(&format!("sch_{i}"));
            s.owner = (*owner).into();
            store.insert_schedule(&s).await.unwrap();
            schedules.push(s);
        }
        // Status changes (pause, delete), a write that changes neither, and a conflicting write that applies nothing.
        for (i, status) in [
            (0, ScheduleStatus::Paused),
            (2, ScheduleStatus::Deleted),
            (3, ScheduleStatus::Active),
        ] {
            let mut next = schedules[i].clone();
            next.status = status;
            next.touch(at(2, 0));
            assert!(
                store
                    .update_schedule(&next, schedules[i].version)
                    .await
                    .unwrap()
                    .applied()
            );
            assert!(!store.update_schedule(&next, 99).await.unwrap().applied());
            schedules[i] = next;
        }
        {
            let conn = store.writer.lock().unwrap();
            let counted: Vec<(String, String, i64)> = conn
                .prepare(
                    "SELECT owner, status, n FROM schedule_counts WHERE n > 0 ORDER BY owner, status",
                )
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let actual: Vec<(String, String, i64)> = conn
                .prepare("SELECT owner, status, COUNT(*) FROM schedules GROUP BY owner, status ORDER BY owner, status")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(counted, actual);
            assert_eq!(
                actual,
                [
                    ("alice".to_owned(), "ACTIVE".to_owned(), 2),
                    ("alice".to_owned(), "PAUSED".to_owned(), 1),
                    ("bob".to_owned(), "DELETED".to_owned(), 1),
                    ("carol".to_owned(), "ACTIVE".to_owned(), 1),
                ]
            );
        }
        let page = store
            .list_schedules(&ScheduleFilter::default(), 2, &PageStart::Offset(0))
            .await
            .unwrap();
        assert_eq!((page.total, page.items.len()), (4, 2));
    }

    #[test]
    fn the_counters_start_from_what_a_database_already_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        // A database at schema 2 with two schedules, as the previous release left it.
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        for sql in &MIGRATIONS[..2] {
            tx.execute_batch(sql).unwrap();
        }
        tx.pragma_update(None, "user_version", 2).unwrap();
        for id in ["sch_a", "sch_b"] {
            ScheduleRow::new(&schedule(id))
                .unwrap()
                .insert(&tx)
                .unwrap();
        }
        tx.commit().unwrap();
        drop(conn);
        let store = SqliteScheduleStore::open(&path, RunRetention::default()).unwrap();
        let n: i64 = store
            .writer
            .lock()
            .unwrap()
            .query_row("SELECT SUM(n) FROM schedule_counts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn a_page_after_a_cursor_reads_the_listing_index_in_order() {
        let store = SqliteScheduleStore::open_in_memory(RunRetention::default()).unwrap();
        let after = PageStart::After(After {
            at: at(1, 0),
            id: "sch_x".into(),
        });
        for (sql, mut args) in [
            (
                "SELECT id, body FROM schedules WHERE status != 'DELETED' AND owner = ?",
                vec![Value::Text("alice".into())],
            ),
            (
                "SELECT id, body FROM schedules WHERE status != 'DELETED'",
                vec![],
            ),
        ] {
            let (tail, page_args) = page_clause("created_at", "id", 20, &after);
            args.extend(page_args);
            let plan = query_plan(&store, &format!("{sql} {tail}"), &args);
            assert!(
                !plan.iter().any(|d| d.contains("TEMP B-TREE")),
                "{sql}: {plan:?}"
            );
            assert!(
                plan.iter().any(|d| d.contains("USING INDEX")),
                "{sql}: {plan:?}"
            );
        }
    }

    // Holding the writer's lock across the read is the point: the read must not need it.
    #[allow(clippy::await_holding_lock)]
    #[tokio::test]
    async fn reads_go_through_the_read_connections_of_a_file_database() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            SqliteScheduleStore::open(&dir.path().join("s.db"), RunRetention::default()).unwrap();
        assert_eq!(store.readers.connections.len(), READERS);
        let s = schedule("sch_r");
        store.insert_schedule(&s).await.unwrap();
        // Held writer lock: a read still answers (from a reader), and sees the committed write.
        let _writer = store.writer.lock().unwrap();
        assert_eq!(store.get_schedule(&s.id).await.unwrap(), Some(s));
        // Readers cannot write.
        let reader = store.readers.connections[0].lock().unwrap();
        let err = reader.execute("DELETE FROM schedules", []).unwrap_err();
        assert!(err.to_string().contains("readonly"), "{err}");
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
            matches!(&err, StoreError::Unavailable { what, .. } if what.contains("newer")),
            "{err}"
        );
    }

    #[tokio::test]
    async fn malformed_rows_are_errors_not_panics() {
        let store = SqliteScheduleStore::open_in_memory(RunRetention::default()).unwrap();
        store
            .writer
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
            .list_schedules(&ScheduleFilter::default(), 10, &PageStart::Offset(0))
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

        let all = store.list_runs(&s.id, 100, None).await.unwrap();
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
            .list_notifications(Some("alice"), 10, &PageStart::Offset(0))
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
            store
                .list_notifications(None, 10, &PageStart::Offset(0))
                .await
                .unwrap()
                .total,
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
        assert_eq!(a.list_runs(&s.id, 100, None).await.unwrap().len(), 20);
    }
}
