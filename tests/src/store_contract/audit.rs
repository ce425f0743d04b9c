//! Contract cases for the audit trail: the events a schedule carries are written in the same atomic write as the
//! schedule change (insert, update, claim/run-now, finish), newest first, and a write that loses its condition
//! writes none.

use super::{at, claim, run, schedule, stored_schedule};
use anyhow::{Result, ensure};
use chrono::Duration;
use shared::domain::{
    Actor, AuditAction, AuditEvent, RunError, RunErrorKind, RunStatus, Schedule, ScheduleId,
};
use shared::ports::{ScheduleStore, StoreError, WriteOutcome};
use std::sync::Arc;

fn rule_of(s: &Schedule) -> Result<shared::domain::timing::TimingRule> {
    shared::domain::timing::TimingRule::parse_stored(&s.timing)
        .map_err(|e| anyhow::anyhow!("{e:?}"))
}

fn alice() -> Actor {
    Actor::User("alice".into())
}

async fn trail(store: &dyn ScheduleStore, id: &ScheduleId) -> Result<Vec<AuditEvent>> {
    let page = store.list_audit(id, 100, 0).await?;
    ensure!(
        page.total == page.items.len() as u64,
        "total {} but {} items",
        page.total,
        page.items.len()
    );
    Ok(page.items)
}

fn actions(events: &[AuditEvent]) -> Vec<(AuditAction, &str, u64)> {
    events
        .iter()
        .map(|e| (e.action, e.actor.as_str(), e.version))
        .collect()
}

/// A new schedule of alice's that has recorded its creation.
fn created(id: &str) -> Schedule {
    let mut s = schedule(id, "alice", at(1, 7, 0));
    s.created(&alice());
    s
}

pub async fn audit_events_are_written_with_each_schedule_change(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    // Created.
    let s = created("sch_a");
    store.insert_schedule(&s).await?;
    assert_eq!(
        actions(&trail(&*store, &s.id).await?),
        [(AuditAction::Created, "alice", 1)]
    );

    // Paused with a reason (update_schedule); the stored schedule carries no pending events.
    let mut paused = stored_schedule(&*store, &s.id).await?;
    paused.pause(at(1, 7, 10), &alice(), Some("change freeze".into()))?;
    assert!(store.update_schedule(&paused, 1).await?.applied());
    let stored = stored_schedule(&*store, &s.id).await?;
    assert!(stored.audit.events().is_empty());
    assert_eq!(stored.pause_reason.as_deref(), Some("change freeze"));

    // Resumed, then a manual run (create_run), then five failures disable it (finish_run, by the system).
    let mut resumed = stored.clone();
    resumed.resume(Some(at(2, 8, 0)), at(1, 7, 20), &alice(), None)?;
    assert!(store.update_schedule(&resumed, 2).await?.applied());
    let mut current = resumed;
    for i in 0..5u32 {
        let now = at(1, 9, 0) + Duration::minutes(i64::from(i) * 10);
        let mut next = current.clone();
        next.audit.clear();
        let mut r = next.run_now(&rule_of(&next)?, now, now + Duration::minutes(2), &alice());
        assert!(
            store
                .create_run(&next, current.version, &r)
                .await?
                .applied()
        );
        let run_version = r.version;
        r.finish(
            RunStatus::Failed,
            now + Duration::minutes(5),
            Some(RunError {
                kind: RunErrorKind::InvestigationFailed,
                message: "engine reported failure".into(),
            }),
            None,
        );
        let mut finished = next.clone();
        finished.audit.clear();
        finished.record_finished_run(&mut r, now + Duration::minutes(5));
        let outcome = store
            .finish_run(&r, run_version, &finished, next.version)
            .await?;
        ensure!(outcome.applied(), "finish {i} did not apply");
        current = finished;
    }

    let events = trail(&*store, &s.id).await?;
    let mut expected = vec![(AuditAction::Disabled, "system", 13)];
    for i in (0..5u64).rev() {
        // Run-now bumps the version once; a failed run that does not disable bumps it once more.
        let requested = 4 + 2 * i;
        expected.push((AuditAction::RunRequested, "alice", requested));
    }
    expected.extend([
        (AuditAction::Resumed, "alice", 3),
        (AuditAction::Paused, "alice", 2),
        (AuditAction::Created, "alice", 1),
    ]);
    assert_eq!(actions(&events), expected);
    assert_eq!(events[0].version, current.version);
    assert_eq!(
        events[0].reason.as_deref(),
        Some("disabled after 5 failed runs in a row")
    );
    assert_eq!(events[7].reason.as_deref(), Some("change freeze"));
    assert_eq!(events[7].at, at(1, 7, 10));

    // Pages by offset, newest first, with the total.
    let page = store.list_audit(&s.id, 2, 6).await?;
    assert_eq!(page.total, 9);
    assert_eq!(
        actions(&page.items),
        [
            (AuditAction::Paused, "alice", 2),
            (AuditAction::Resumed, "alice", 3)
        ]
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
    );
    // The trail is not part of the schedule's runs.
    let runs = store.list_runs(&s.id, 50, None).await?;
    assert_eq!(runs.len(), 5);
    // Another schedule's trail is its own.
    assert!(
        trail(&*store, &ScheduleId::from("sch_other"))
            .await?
            .is_empty()
    );
    Ok(())
}

pub async fn a_schedule_write_that_loses_its_condition_writes_no_event(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let s = created("sch_a");
    store.insert_schedule(&s).await?;

    // An insert of an existing id.
    let mut again = created("sch_a");
    again.pause(at(1, 7, 5), &alice(), None)?;
    assert!(matches!(
        store.insert_schedule(&again).await,
        Err(StoreError::AlreadyExists(_))
    ));

    // An update from a stale version.
    let mut stale = s.clone();
    stale.version = 7;
    stale.pause(at(1, 7, 10), &alice(), Some("late".into()))?;
    assert_eq!(
        store.update_schedule(&stale, 7).await?,
        WriteOutcome::Conflict
    );

    // A run-now from a stale version.
    let mut stale = s.clone();
    stale.version = 7;
    let r = stale.run_now(&rule_of(&stale)?, at(1, 7, 20), at(1, 7, 22), &alice());
    assert_eq!(
        store.create_run(&stale, 7, &r).await?,
        WriteOutcome::Conflict
    );

    // A finish whose schedule version is stale (the run's is right).
    let mut claimed = s.clone();
    claimed.audit.clear();
    let r = run(&claimed, at(1, 8, 0));
    assert!(claim(&*store, &mut claimed, &r).await?.applied());
    let mut done = r.clone();
    done.finish(RunStatus::Completed, at(1, 8, 5), None, None);
    let run_version = r.version;
    let mut finished = claimed.clone();
    finished.pause(at(1, 8, 5), &alice(), None)?;
    assert_eq!(
        store
            .finish_run(&done, run_version, &finished, claimed.version + 5)
            .await?,
        WriteOutcome::Conflict
    );

    assert_eq!(
        actions(&trail(&*store, &s.id).await?),
        [(AuditAction::Created, "alice", 1)]
    );
    Ok(())
}

pub async fn an_event_written_twice_is_kept_once(store: Arc<dyn ScheduleStore>) -> Result<()> {
    // A schedule object that still carries the event of its previous write is written again with a new change:
    // the old event's key (its version) is already there, so only the new one is added.
    let mut s = created("sch_a");
    store.insert_schedule(&s).await?;
    s.pause(at(1, 7, 10), &alice(), None)?;
    assert!(store.update_schedule(&s, 1).await?.applied());
    s.resume(Some(at(2, 8, 0)), at(1, 7, 20), &alice(), None)?;
    assert_eq!(s.audit.events().len(), 3);
    assert!(store.update_schedule(&s, 2).await?.applied());
    assert_eq!(
        actions(&trail(&*store, &s.id).await?),
        [
            (AuditAction::Resumed, "alice", 3),
            (AuditAction::Paused, "alice", 2),
            (AuditAction::Created, "alice", 1)
        ]
    );
    Ok(())
}
