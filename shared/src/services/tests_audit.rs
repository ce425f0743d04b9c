//! The audit trail through the use cases, on the in-memory twins with a fixed clock: every change appends exactly
//! one event with the right actor, fields and reason.

use super::test_support::*;
use super::*;
use crate::ServiceError;
use crate::domain::timing::Frequency;
use crate::domain::{AuditAction, AuditEvent, ScheduleStatus};
use crate::ports::{ScheduleStore, SessionState};
use chrono::Duration;

type R = anyhow::Result<()>;

async fn history(w: &World, caller: &crate::domain::Caller, id: &str) -> Vec<AuditEvent> {
    w.services
        .schedule_history(caller, id, PageQuery::default())
        .await
        .expect("history")
        .items
}

fn actions(events: &[AuditEvent]) -> Vec<(AuditAction, &str)> {
    events
        .iter()
        .map(|e| (e.action, e.actor.as_str()))
        .collect()
}

fn reason(text: &str) -> Option<ReasonBody> {
    Some(ReasonBody {
        reason: Some(text.into()),
    })
}

#[tokio::test]
async fn every_change_by_a_person_appends_one_event_newest_first() -> R {
    // Given alice's schedule.
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("Sign-ins", "08:00")).await?;

    // When she edits it, pauses it with a reason, resumes it, runs it now and deletes it.
    w.clock.advance(Duration::minutes(1));
    let new_query =
        "Show failed logins for admin@contoso.com in the last 24 hours, more than 5 attempts";
    w.services
        .update_schedule(
            &alice,
            &id,
            SchedulePatch {
                user_query: Some(new_query.into()),
                scheduled_time: Some("09:30".into()),
                ..Default::default()
            },
        )
        .await?;
    w.clock.advance(Duration::minutes(1));
    let paused = w
        .services
        .pause_schedule_because(&alice, &id, reason("  change freeze until Friday "))
        .await?;
    assert_eq!(
        paused.schedule.pause_reason.as_deref(),
        Some("change freeze until Friday")
    );
    w.clock.advance(Duration::minutes(1));
    let resumed = w.services.resume_schedule(&alice, &id).await?;
    assert_eq!(resumed.schedule.pause_reason, None);
    w.clock.advance(Duration::minutes(1));
    w.services.run_now(&alice, &id).await?;
    w.clock.advance(Duration::minutes(1));
    w.services.delete_schedule(&alice, &id).await?;

    // Then the history (as an admin sees it, since it is deleted) has one event per change, newest first, each
    // keyed by the version it produced, with who and when.
    let events = history(&w, &admin(), &id).await;
    assert_eq!(
        actions(&events),
        vec![
            (AuditAction::Deleted, "alice"),
            (AuditAction::RunRequested, "alice"),
            (AuditAction::Resumed, "alice"),
            (AuditAction::Paused, "alice"),
            (AuditAction::Updated, "alice"),
            (AuditAction::Created, "alice"),
        ]
    );
    let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
    let stored = w.store.get_schedule(&id.as_str().into()).await?.unwrap();
    assert_eq!(versions[0], stored.version);
    assert!(versions.windows(2).all(|v| v[0] > v[1]), "{versions:?}");
    assert_eq!(events[5].at, at(2026, 6, 1, 7, 0));
    assert_eq!(events[0].at, at(2026, 6, 1, 7, 5));
    assert_eq!(
        events[3].reason.as_deref(),
        Some("change freeze until Friday")
    );
    // The update names exactly the fields that changed, old and new, the query text included.
    let changes: Vec<(&str, Option<&str>, Option<&str>)> = events[4]
        .changes
        .iter()
        .map(|c| (c.field.as_str(), c.old.as_deref(), c.new.as_deref()))
        .collect();
    assert_eq!(
        changes,
        vec![
            (
                "user_query",
                Some(
                    "failed sign-ins in the last 24 hours with more than 5 attempts from the same IP"
                ),
                Some(new_query)
            ),
            ("scheduled_time", Some("08:00"), Some("09:30")),
            (
                "next_run_at",
                Some("2026-06-01T08:00:00Z"),
                Some("2026-06-01T09:30:00Z")
            ),
        ]
    );
    // The deleted schedule's history is an admin's only; its owner now gets "not found".
    assert!(matches!(
        w.services
            .schedule_history(&alice, &id, PageQuery::default())
            .await,
        Err(ServiceError::NotFound(_))
    ));
    Ok(())
}

#[tokio::test]
async fn another_users_history_is_not_found_and_pages_by_offset() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    w.services.pause_schedule(&alice, &id).await?;
    w.services.resume_schedule(&alice, &id).await?;
    assert!(matches!(
        w.services
            .schedule_history(&analyst("bob"), &id, PageQuery::default())
            .await,
        Err(ServiceError::NotFound(_))
    ));
    let page = w
        .services
        .schedule_history(
            &alice,
            &id,
            PageQuery {
                limit: Some(1),
                offset: Some(1),
                cursor: None,
            },
        )
        .await?;
    assert_eq!(page.total, 3);
    assert_eq!(actions(&page.items), vec![(AuditAction::Paused, "alice")]);
    Ok(())
}

#[tokio::test]
async fn a_reason_over_500_characters_is_refused_and_writes_nothing() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    let err = w
        .services
        .pause_schedule_because(&alice, &id, reason(&"x".repeat(501)))
        .await
        .unwrap_err();
    let ServiceError::Invalid(errors) = err else {
        panic!("expected Invalid, got {err:?}")
    };
    assert_eq!(errors[0].field(), "reason");
    // The limit is on the string as sent: padding a short reason past it is refused too.
    let padded = format!("late{}", " ".repeat(500));
    assert!(matches!(
        w.services
            .pause_schedule_because(&alice, &id, reason(&padded))
            .await,
        Err(ServiceError::Invalid(_))
    ));
    let s = w.services.get_schedule(&alice, &id).await?.schedule;
    assert_eq!(s.status, ScheduleStatus::Active);
    assert_eq!(history(&w, &alice, &id).await.len(), 1);
    // Exactly 500 is fine.
    w.services
        .pause_schedule_because(&alice, &id, reason(&"x".repeat(500)))
        .await?;
    assert_eq!(history(&w, &alice, &id).await.len(), 2);
    Ok(())
}

#[tokio::test]
async fn a_refused_transition_writes_no_event() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    assert!(matches!(
        w.services.resume_schedule(&alice, &id).await,
        Err(ServiceError::Conflict(_))
    ));
    assert_eq!(
        actions(&history(&w, &alice, &id).await),
        vec![(AuditAction::Created, "alice")]
    );
    Ok(())
}

#[tokio::test]
async fn the_system_records_disabling_after_five_failures_and_re_enabling_is_recorded() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    for _ in 0..5 {
        let run = w.services.run_now(&alice, &id).await?;
        w.engine.set_session(
            &run.session_id.unwrap(),
            Ok(SessionState::Failed {
                message: "LLM provider error".into(),
                finished_at: None,
            }),
        );
        w.clock.advance(Duration::minutes(5));
        w.services.check_runs(w.now(), None).await?;
    }
    w.services
        .resume_schedule_because(&alice, &id, reason("provider fixed"))
        .await?;
    let events = history(&w, &alice, &id).await;
    let disabled: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| e.action == AuditAction::Disabled)
        .collect();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].actor, "system");
    assert_eq!(
        disabled[0].reason.as_deref(),
        Some("disabled after 5 failed runs in a row")
    );
    assert_eq!(
        (
            events[0].action,
            events[0].actor.as_str(),
            events[0].reason.as_deref()
        ),
        (AuditAction::ReEnabled, "alice", Some("provider fixed"))
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == AuditAction::RunRequested)
            .count(),
        5
    );
    // Finished runs that change nothing the owner decided leave no trace of their own.
    assert_eq!(events.len(), 1 + 5 + 1 + 1);
    Ok(())
}

#[tokio::test]
async fn the_system_records_completing_a_once_schedule() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let mut input = daily("Tonight", "02:00");
    input.frequency = Frequency::Once;
    let id = w.create(&alice, input).await?;
    w.clock.set(at(2026, 6, 2, 2, 0));
    w.services.dispatch_due(w.now(), None).await?;
    let run = w.store.list_runs(&id.as_str().into(), 1, None).await?;
    w.engine.set_session(
        run[0].session_id.as_deref().unwrap(),
        Ok(SessionState::Completed {
            summary: None,
            finished_at: None,
            findings: Default::default(),
        }),
    );
    w.clock.advance(Duration::minutes(5));
    w.services.check_runs(w.now(), None).await?;
    assert_eq!(
        actions(&history(&w, &alice, &id).await),
        vec![
            (AuditAction::Completed, "system"),
            (AuditAction::Created, "alice")
        ]
    );
    Ok(())
}

#[tokio::test]
async fn the_system_records_disabling_a_schedule_whose_definition_no_longer_parses() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    let mut stored = w.store.get_schedule(&id.as_str().into()).await?.unwrap();
    stored.timing.timezone = "Mars/Olympus".into();
    let version = stored.version;
    stored.version += 1;
    assert!(w.store.update_schedule(&stored, version).await?.applied());
    w.clock.set(at(2026, 6, 1, 8, 0));
    w.services.dispatch_due(w.now(), None).await?;
    let events = history(&w, &alice, &id).await;
    assert_eq!(
        (events[0].action, events[0].actor.as_str()),
        (AuditAction::Disabled, "system")
    );
    assert!(
        events[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("Mars/Olympus")),
        "{:?}",
        events[0].reason
    );
    Ok(())
}
