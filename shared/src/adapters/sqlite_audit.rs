//! The SQLite side of the audit trail (see [`crate::domain::audit`]): the events a schedule write carries are
//! inserted inside that write's transaction, keyed by (schedule, version) so a replay inserts nothing, and events
//! past their retention are pruned in the same transaction.

use crate::domain::{AuditEvent, Schedule, ScheduleId};
use crate::ports::{Page, StoreError};
use chrono::Duration;
use rusqlite::{Connection, params};

use crate::domain::audit::AUDIT_RETENTION_DAYS;

/// The schema of the trail (one migration entry of `sqlite.rs`).
pub(super) const AUDIT_MIGRATION: &str = "
    CREATE TABLE audit_events (
        schedule_id TEXT NOT NULL,
        version     INTEGER NOT NULL,
        at          INTEGER NOT NULL,
        body        TEXT NOT NULL,
        PRIMARY KEY (schedule_id, version)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX audit_events_by_time ON audit_events (schedule_id, at);
    ";

/// The encoded audit events of one schedule write.
#[derive(Debug, Default)]
pub(super) struct AuditRows {
    rows: Vec<(String, i64, i64, String)>,
    /// Events older than this (epoch ms) are past retention, relative to the newest event written.
    prune_before: Option<i64>,
}

impl AuditRows {
    pub fn new(schedule: &Schedule) -> Result<Self, StoreError> {
        let events = schedule.audit.events();
        let rows = events
            .iter()
            .map(|e| {
                let key = format!("{}@{}", e.schedule_id, e.version);
                let body = serde_json::to_string(e).map_err(|err| StoreError::Malformed {
                    key: key.clone(),
                    message: err.to_string(),
                })?;
                let version = i64::try_from(e.version).map_err(|_| StoreError::Malformed {
                    key,
                    message: "version out of range".into(),
                })?;
                Ok((
                    e.schedule_id.to_string(),
                    version,
                    e.at.timestamp_millis(),
                    body,
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        let prune_before = events
            .iter()
            .map(|e| (e.at - Duration::days(AUDIT_RETENTION_DAYS)).timestamp_millis())
            .max();
        Ok(Self { rows, prune_before })
    }

    /// Inside the caller's transaction, after its schedule write applied.
    pub fn write(&self, tx: &Connection) -> Result<(), StoreError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut insert = tx.prepare_cached(
            "INSERT INTO audit_events (schedule_id, version, at, body) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (schedule_id, version) DO NOTHING",
        )?;
        for (schedule_id, version, at, body) in &self.rows {
            insert.execute(params![schedule_id, version, at, body])?;
        }
        if let (Some(before), Some((schedule_id, ..))) = (self.prune_before, self.rows.first()) {
            tx.prepare_cached("DELETE FROM audit_events WHERE schedule_id = ?1 AND at <= ?2")?
                .execute(params![schedule_id, before])?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// One page of a schedule's trail, newest (highest version) first, and the total.
pub(super) fn list(
    conn: &mut Connection,
    schedule_id: &ScheduleId,
    limit: u32,
    offset: u32,
) -> Result<Page<AuditEvent>, StoreError> {
    let id = schedule_id.to_string();
    let tx = conn.transaction()?;
    let total: i64 = tx.query_row(
        "SELECT COUNT(*) FROM audit_events WHERE schedule_id = ?1",
        params![id],
        |row| row.get(0),
    )?;
    let bodies = tx
        .prepare_cached(
            "SELECT version, body FROM audit_events WHERE schedule_id = ?1
             ORDER BY version DESC LIMIT ?2 OFFSET ?3",
        )?
        .query_map(params![id, limit, offset], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    tx.commit()?;
    let items = bodies
        .into_iter()
        .map(|(version, body)| {
            serde_json::from_str(&body).map_err(|e| StoreError::Malformed {
                key: format!("{id}@{version}"),
                message: e.to_string(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Page {
        items,
        total: u64::try_from(total).unwrap_or(0),
    })
}
