//! Use-case tests on the in-memory twins with a fixed clock: Given / When / Then.

use super::test_support::*;
use super::*;
use crate::ServiceError;
use crate::domain::run::{RunErrorKind, Work, WorkKind};
use crate::domain::timing::{DayOfWeek, Frequency};
use crate::domain::{DisabledReason, NotificationEvent, RunStatus, ScheduleStatus, Trigger};
use crate::ports::{EngineError, ScheduleStore, SessionState};
use chrono::Duration;

type R = anyhow::Result<()>;

async fn runs(w: &World, id: &str) -> Vec<crate::domain::Run> {
    w.store.list_runs(&id.into(), 50, None).await.unwrap()
}

#[tokio::test]
async fn create_computes_next_run_in_the_schedules_zone() -> R {
    let w = World::new(at(2026, 6, 1, 12, 0));
    let mut input = daily("Sign-ins", "08:00");
    input.timezone = Some("Europe/Berlin".into());
    let s = w.services.create_schedule(&analyst("alice"), input).await?;
    // 08:00 CEST = 06:00Z, and 12:00Z has passed today's, so tomorrow.
    assert_eq!(s.schedule.next_run_at, Some(at(2026, 6, 2, 6, 0)));
    assert_eq!(s.schedule.status, ScheduleStatus::Active);
    assert_eq!(s.schedule.owner, "alice");
    assert_eq!(s.schedule.version, 1);
    Ok(())
}

#[tokio::test]
async fn create_reports_every_bad_field_and_writes_nothing() -> R {
    let w = World::new(at(2026, 6, 1, 12, 0));
    let mut input = daily("", "25:00");
    input.persona = "intern".into();
    input.user_query = "show me bad stuff".into();
    let err = w
        .services
        .create_schedule(&analyst("alice"), input)
        .await
        .unwrap_err();
    let ServiceError::Invalid(errors) = err else {
        panic!("expected Invalid, got {err:?}")
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field()).collect();
    for f in ["name", "persona", "scheduled_time", "user_query"] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let listed = w
        .services
        .list_schedules(&admin(), ListQuery::default())
        .await?;
    assert_eq!(listed.total, 0);
    Ok(())
}

#[tokio::test]
async fn another_users_schedule_is_not_found_and_admins_see_all() -> R {
    let w = World::new(at(2026, 6, 1, 12, 0));
    let s = w
        .services
        .create_schedule(&analyst("alice"), daily("A", "08:00"))
        .await?;
    let id = s.schedule.id.to_string();
    let err = w
        .services
        .get_schedule(&analyst("bob"), &id)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)));
    assert!(matches!(
        w.services.run_now(&analyst("bob"), &id).await,
        Err(ServiceError::NotFound(_))
    ));
    assert_eq!(
        w.services
            .list_schedules(&analyst("bob"), ListQuery::default())
            .await?
            .total,
        0
    );
    assert_eq!(
        w.services
            .list_schedules(&admin(), ListQuery::default())
            .await?
            .total,
        1
    );
    assert_eq!(
        w.services.get_schedule(&admin(), &id).await?.schedule.owner,
        "alice"
    );
    Ok(())
}

#[tokio::test]
async fn lifecycle_transitions_and_conflicts() -> R {
    let w = World::new(at(2026, 6, 1, 12, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    let paused = w.services.pause_schedule(&alice, &id).await?;
    assert_eq!(paused.schedule.status, ScheduleStatus::Paused);
    assert_eq!(paused.schedule.next_run_at, None);
    assert!(matches!(
        w.services.pause_schedule(&alice, &id).await,
        Err(ServiceError::Conflict(_))
    ));
    w.clock.advance(Duration::days(3));
    let resumed = w.services.resume_schedule(&alice, &id).await?;
    assert_eq!(resumed.schedule.status, ScheduleStatus::Active);
    assert_eq!(
        resumed.schedule.next_run_at,
        Some(at(2026, 6, 5, 8, 0)),
        "recomputed from now"
    );
    assert!(matches!(
        w.services.resume_schedule(&alice, &id).await,
        Err(ServiceError::Conflict(_))
    ));
    w.services.delete_schedule(&alice, &id).await?;
    assert!(matches!(
        w.services.get_schedule(&alice, &id).await,
        Err(ServiceError::NotFound(_))
    ));
    assert!(matches!(
        w.services.delete_schedule(&alice, &id).await,
        Err(ServiceError::NotFound(_))
    ));
    // Soft delete: still stored, never due.
    let stored = w.store.get_schedule(&id.as_str().into()).await?.unwrap();
    assert_eq!(stored.status, ScheduleStatus::Deleted);
    assert!(
        w.store
            .due_schedules(at(2030, 1, 1, 0, 0), 10)
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn edit_recomputes_next_run_only_when_timing_changes() -> R {
    let w = World::new(at(2026, 6, 1, 12, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    let renamed = w
        .services
        .update_schedule(
            &alice,
            &id,
            SchedulePatch {
                name: Some("B".into()),
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(renamed.schedule.name, "B");
    assert_eq!(renamed.schedule.next_run_at, Some(at(2026, 6, 2, 8, 0)));
    let retimed = w
        .services
        .update_schedule(
            &alice,
            &id,
            SchedulePatch {
                scheduled_time: Some("18:30".into()),
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(retimed.schedule.next_run_at, Some(at(2026, 6, 1, 18, 30)));
    assert_eq!(retimed.schedule.version, 3);
    let bad = w
        .services
        .update_schedule(
            &alice,
            &id,
            SchedulePatch {
                frequency: Some(Frequency::Custom),
                cron_expression: Some("61 * * * *".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    let ServiceError::Invalid(errors) = bad else {
        panic!("expected Invalid")
    };
    assert_eq!(errors[0].field(), "cron_expression");
    let unchanged = w.services.get_schedule(&alice, &id).await?;
    assert_eq!(
        unchanged.schedule.version, 3,
        "a rejected edit writes nothing"
    );
    Ok(())
}

#[tokio::test]
async fn an_edit_that_sends_a_field_the_frequency_does_not_use_is_rejected_not_ignored() -> R {
    let w = World::new(at(2026, 6, 1, 12, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    let edit = |patch: SchedulePatch| w.services.update_schedule(&alice, &id, patch);
    let Err(ServiceError::Invalid(errors)) = edit(SchedulePatch {
        day_of_week: Some(DayOfWeek::Friday),
        ..Default::default()
    })
    .await
    else {
        panic!("expected Invalid")
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field(), "day_of_week");
    assert!(
        errors[0].msg.contains("daily schedule") && errors[0].msg.contains("send frequency"),
        "{}",
        errors[0].msg
    );
    // Switching to a frequency that uses it is fine; switching and sending a field the new one does not use is not.
    let weekly = edit(SchedulePatch {
        frequency: Some(Frequency::Weekly),
        scheduled_time: Some("08:00".into()),
        day_of_week: Some(DayOfWeek::Friday),
        ..Default::default()
    })
    .await?;
    assert_eq!(weekly.schedule.timing.day_of_week, Some(DayOfWeek::Friday));
    let Err(ServiceError::Invalid(errors)) = edit(SchedulePatch {
        frequency: Some(Frequency::Custom),
        cron_expression: Some("0 8 * * *".into()),
        scheduled_time: Some("08:00".into()),
        ..Default::default()
    })
    .await
    else {
        panic!("expected Invalid")
    };
    assert_eq!(
        errors.iter().map(|e| e.field()).collect::<Vec<_>>(),
        ["scheduled_time"]
    );
    assert_eq!(
        w.services.get_schedule(&alice, &id).await?.schedule.version,
        2
    );
    Ok(())
}

#[tokio::test]
async fn a_due_occurrence_is_claimed_once_and_started_with_its_run_id_as_idempotency_key() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let id = w.create(&analyst("alice"), daily("A", "08:00")).await?;
    w.clock.set(at(2026, 6, 1, 8, 0));
    let report = w.services.dispatch_due(w.now(), None).await?;
    assert_eq!((report.claimed, report.started), (1, 1));
    let again = w.services.dispatch_due(w.now(), None).await?;
    assert_eq!(
        again.claimed, 0,
        "the same occurrence is never claimed twice"
    );
    let rs = runs(&w, &id).await;
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].status, RunStatus::Running);
    assert_eq!(rs[0].scheduled_for, at(2026, 6, 1, 8, 0));
    assert_eq!(
        w.engine.started()[0].idempotency_key,
        rs[0].run_id.to_string()
    );
    let s = w
        .services
        .get_schedule(&analyst("alice"), &id)
        .await?
        .schedule;
    assert_eq!(s.next_run_at, Some(at(2026, 6, 2, 8, 0)));
    assert_eq!(s.runs_in_flight, 1);
    Ok(())
}

#[tokio::test]
async fn concurrent_dispatchers_create_exactly_one_run_per_occurrence() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let mut ids = Vec::new();
    for i in 0..50 {
        ids.push(
            w.services
                .create_schedule(&analyst("alice"), daily(&format!("S{i}"), "08:00"))
                .await?
                .schedule
                .id,
        );
    }
    w.clock.set(at(2026, 6, 1, 8, 0));
    let (a, b) = tokio::join!(
        w.services.dispatch_due(w.now(), None),
        w.services.dispatch_due(w.now(), None)
    );
    assert_eq!(a?.claimed + b?.claimed, 50);
    for id in ids {
        assert_eq!(runs(&w, id.as_str()).await.len(), 1);
    }
    assert_eq!(w.engine.started().len(), 50);
    Ok(())
}

#[tokio::test]
async fn missed_occurrences_after_an_outage_are_coalesced_into_one_run() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let id = w.create(&analyst("alice"), daily("A", "08:00")).await?;
    w.clock.set(at(2026, 6, 4, 9, 30)); // three days down
    let report = w.services.dispatch_due(w.now(), None).await?;
    assert_eq!(report.claimed, 1);
    let rs = runs(&w, &id).await;
    assert_eq!(rs.len(), 1);
    assert_eq!(
        rs[0].scheduled_for,
        at(2026, 6, 4, 8, 0),
        "the latest missed occurrence"
    );
    let s = w
        .services
        .get_schedule(&analyst("alice"), &id)
        .await?
        .schedule;
    assert_eq!(s.next_run_at, Some(at(2026, 6, 5, 8, 0)));
    Ok(())
}

#[tokio::test]
async fn an_occurrence_during_a_running_run_is_skipped_not_failed() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let id = w.create(&analyst("alice"), daily("A", "08:00")).await?;
    w.clock.set(at(2026, 6, 1, 8, 0));
    w.services.dispatch_due(w.now(), None).await?;
    w.clock.set(at(2026, 6, 2, 8, 0)); // still running a day later (timeout is 2 h, but nobody checked)
    let report = w.services.dispatch_due(w.now(), None).await?;
    assert_eq!((report.claimed, report.skipped), (0, 1));
    let rs = runs(&w, &id).await;
    assert_eq!(rs[0].status, RunStatus::Skipped);
    // Its window is a `skipped` gap, announced by its outbox mark.
    assert_eq!(rs[0].work.map(|w| w.kind), Some(WorkKind::Notify));
    assert_eq!(rs[0].gaps.len(), 1);
    assert_eq!(rs[0].gaps[0].reason, crate::domain::GapReason::Skipped);
    assert_eq!(
        (rs[0].gaps[0].start, rs[0].gaps[0].end),
        (at(2026, 6, 1, 8, 0), at(2026, 6, 2, 8, 0))
    );
    let s = w
        .services
        .get_schedule(&analyst("alice"), &id)
        .await?
        .schedule;
    assert_eq!(s.consecutive_failures, 0);
    assert_eq!(s.next_run_at, Some(at(2026, 6, 3, 8, 0)));
    // Run now is always allowed.
    let manual = w.services.run_now(&analyst("alice"), &id).await?;
    assert_eq!(manual.status, RunStatus::Running);
    assert_eq!(manual.trigger, Trigger::Manual);
    Ok(())
}

#[tokio::test]
async fn engine_backpressure_defers_the_start_without_failing() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let id = w.create(&analyst("alice"), daily("A", "08:00")).await?;
    w.engine.push_start(Err(EngineError::Backpressure {
        retry_after: std::time::Duration::from_secs(90),
    }));
    w.clock.set(at(2026, 6, 1, 8, 0));
    let report = w.services.dispatch_due(w.now(), None).await?;
    assert_eq!((report.claimed, report.deferred), (1, 1));
    let run = runs(&w, &id).await.remove(0);
    assert_eq!(run.status, RunStatus::Pending);
    assert_eq!(run.attempts, 0, "a 429 is not an attempt");
    assert_eq!(
        run.work,
        Some(Work::new(
            WorkKind::Start,
            at(2026, 6, 1, 8, 1) + Duration::seconds(30)
        ))
    );
    // Too early: nothing happens.
    w.clock.set(at(2026, 6, 1, 8, 1));
    assert_eq!(w.services.dispatch_due(w.now(), None).await?.recovered, 0);
    w.clock.set(at(2026, 6, 1, 8, 2));
    let later = w.services.dispatch_due(w.now(), None).await?;
    assert_eq!((later.recovered, later.started), (1, 1));
    let started = w.engine.started();
    assert_eq!(started.len(), 2);
    assert_eq!(started[0].idempotency_key, started[1].idempotency_key);
    assert_eq!(runs(&w, &id).await[0].status, RunStatus::Running);
    Ok(())
}

#[tokio::test]
async fn transient_start_errors_are_retried_then_fail_as_engine_unavailable() -> R {
    let config = crate::config::ServiceConfig {
        max_start_attempts: 3,
        ..Default::default()
    };
    let w = World::with_config(at(2026, 6, 1, 7, 0), config);
    let id = w.create(&analyst("alice"), daily("A", "08:00")).await?;
    for _ in 0..3 {
        w.engine.push_start(Err(EngineError::Unavailable(
            "503 Sentinel unreachable".into(),
        )));
    }
    w.clock.set(at(2026, 6, 1, 8, 0));
    w.services.dispatch_due(w.now(), None).await?;
    for _ in 0..2 {
        w.clock.advance(Duration::minutes(10));
        w.services.dispatch_due(w.now(), None).await?;
    }
    let run = runs(&w, &id).await.remove(0);
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.error.as_ref().map(|e| e.kind),
        Some(RunErrorKind::EngineUnavailable)
    );
    assert_eq!(run.attempts, 3);
    let s = w
        .services
        .get_schedule(&analyst("alice"), &id)
        .await?
        .schedule;
    assert_eq!((s.consecutive_failures, s.runs_in_flight), (1, 0));
    Ok(())
}

#[tokio::test]
async fn a_rejected_start_fails_at_once_and_notifies() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let id = w.create(&analyst("alice"), daily("A", "08:00")).await?;
    w.engine.push_start(Err(EngineError::Rejected {
        status: 401,
        detail: "bad API key".into(),
    }));
    let run = w.services.run_now(&analyst("alice"), &id).await?;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.error.as_ref().map(|e| e.kind),
        Some(RunErrorKind::EngineRejected)
    );
    assert_eq!(run.work.map(|w| w.kind), Some(WorkKind::Notify));
    let report = w.services.check_runs(w.now(), None).await?;
    assert_eq!(report.notifications_sent, 1);
    let published = w.notifier.published();
    assert_eq!(published[0].event, NotificationEvent::InvestigationFailed);
    assert!(published[0].text().contains("bad API key"));
    Ok(())
}

#[tokio::test]
async fn a_completed_run_records_duration_summary_and_notifies() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    let run = w.services.run_now(&alice, &id).await?;
    let session = run.session_id.clone().unwrap();
    w.clock.advance(Duration::minutes(3));
    assert_eq!(w.services.check_runs(w.now(), None).await?.still_running, 1);
    w.engine.set_session(
        &session,
        Ok(SessionState::Completed {
            summary: Some("3 IPs over threshold".into()),
            finished_at: None,
            findings: Default::default(),
        }),
    );
    w.clock.advance(Duration::minutes(5));
    let report = w.services.check_runs(w.now(), None).await?;
    assert_eq!((report.completed, report.notifications_sent), (1, 1));
    let done = runs(&w, &id).await.remove(0);
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.duration_ms, Some(8 * 60 * 1000));
    assert_eq!(done.summary.as_deref(), Some("3 IPs over threshold"));
    assert_eq!(done.work, None, "outbox mark cleared after publishing");
    let listed = w
        .services
        .list_notifications(&alice, PageQuery::default())
        .await?;
    assert_eq!(listed.total, 1);
    assert_eq!(
        listed.items[0].event,
        NotificationEvent::InvestigationCompleted
    );
    assert_eq!(
        listed.items[0].session_id.as_deref(),
        Some(session.as_str())
    );
    assert_eq!(
        w.services
            .list_notifications(&analyst("bob"), PageQuery::default())
            .await?
            .total,
        0
    );
    let s = w.services.get_schedule(&alice, &id).await?.schedule;
    assert_eq!(
        (s.last_run_status, s.runs_in_flight),
        (Some(RunStatus::Completed), 0)
    );
    Ok(())
}

#[tokio::test]
async fn five_consecutive_failures_disable_the_schedule_until_resumed() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    for i in 0..5 {
        let run = w.services.run_now(&alice, &id).await?;
        let session = run.session_id.unwrap();
        w.engine.set_session(
            &session,
            Ok(SessionState::Failed {
                message: "LLM provider error".into(),
                finished_at: None,
            }),
        );
        w.clock.advance(Duration::minutes(5));
        w.services.check_runs(w.now(), None).await?;
        let s = w.services.get_schedule(&alice, &id).await?.schedule;
        assert_eq!(s.consecutive_failures, i + 1);
        let expected = if i < 4 {
            ScheduleStatus::Active
        } else {
            ScheduleStatus::Failed
        };
        assert_eq!(s.status, expected, "after {} failures", i + 1);
    }
    let s = w.services.get_schedule(&alice, &id).await?.schedule;
    assert_eq!(s.next_run_at, None);
    let events: Vec<_> = w.notifier.published().iter().map(|n| n.event).collect();
    assert_eq!(
        events
            .iter()
            .filter(|e| **e == NotificationEvent::InvestigationFailed)
            .count(),
        5
    );
    assert_eq!(events.last(), Some(&NotificationEvent::ScheduleDisabled));
    let reason = Some(DisabledReason::RepeatedFailures { failures: 5 });
    assert_eq!(s.disabled_reason, reason);
    let disabled = w.notifier.published().pop().unwrap();
    assert_eq!(disabled.disabled_reason, reason);
    assert_eq!(
        disabled.subject(),
        "Schedule disabled after 5 failed runs in a row: A"
    );
    // Disabled: a week later nothing is dispatched.
    w.clock.advance(Duration::days(7));
    assert_eq!(w.services.dispatch_due(w.now(), None).await?.claimed, 0);
    let resumed = w.services.resume_schedule(&alice, &id).await?.schedule;
    assert_eq!(
        (
            resumed.status,
            resumed.consecutive_failures,
            resumed.disabled_reason
        ),
        (ScheduleStatus::Active, 0, None)
    );
    assert!(resumed.next_run_at.is_some_and(|t| t > w.now()));
    Ok(())
}

#[tokio::test]
async fn a_completed_run_resets_the_failure_counter() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    for outcome in [false, false, true] {
        let session = w.services.run_now(&alice, &id).await?.session_id.unwrap();
        let state = if outcome {
            SessionState::Completed {
                summary: None,
                finished_at: None,
                findings: Default::default(),
            }
        } else {
            SessionState::Failed {
                message: "query timeout".into(),
                finished_at: None,
            }
        };
        w.engine.set_session(&session, Ok(state));
        w.clock.advance(Duration::minutes(5));
        w.services.check_runs(w.now(), None).await?;
    }
    assert_eq!(
        w.services
            .get_schedule(&alice, &id)
            .await?
            .schedule
            .consecutive_failures,
        0
    );
    Ok(())
}

#[tokio::test]
async fn a_once_schedule_completes_after_its_run() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let mut input = daily("Tonight", "02:00");
    input.frequency = Frequency::Once;
    let s = w.services.create_schedule(&alice, input).await?.schedule;
    assert_eq!(s.next_run_at, Some(at(2026, 6, 2, 2, 0)));
    let id = s.id.to_string();
    w.clock.set(at(2026, 6, 2, 2, 0));
    w.services.dispatch_due(w.now(), None).await?;
    let s = w.services.get_schedule(&alice, &id).await?.schedule;
    assert_eq!((s.status, s.next_run_at), (ScheduleStatus::Active, None));
    let session = runs(&w, &id).await[0].session_id.clone().unwrap();
    w.engine.set_session(
        &session,
        Ok(SessionState::Completed {
            summary: None,
            finished_at: None,
            findings: Default::default(),
        }),
    );
    w.clock.advance(Duration::minutes(5));
    w.services.check_runs(w.now(), None).await?;
    assert_eq!(
        w.services.get_schedule(&alice, &id).await?.schedule.status,
        ScheduleStatus::Completed
    );
    Ok(())
}

#[tokio::test]
async fn a_run_past_its_timeout_fails_as_timed_out() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    w.services.run_now(&alice, &id).await?;
    w.clock.advance(Duration::minutes(119));
    assert_eq!(w.services.check_runs(w.now(), None).await?.still_running, 1);
    w.clock.advance(Duration::minutes(2));
    assert_eq!(w.services.check_runs(w.now(), None).await?.timed_out, 1);
    let run = runs(&w, &id).await.remove(0);
    assert_eq!(run.error.map(|e| e.kind), Some(RunErrorKind::TimedOut));
    Ok(())
}

#[tokio::test]
async fn a_dispatcher_that_dies_mid_start_loses_nothing_and_duplicates_nothing() -> R {
    // The dispatcher claims the occurrence, sends the start, and dies before the engine answers (its future is
    // dropped, as when the process or the Lambda is killed). The run is durable as `pending` with a lease; after
    // the lease a later tick starts it once, with the same idempotency key.
    let w = World::new(at(2026, 6, 1, 7, 0));
    let id = w.create(&analyst("alice"), daily("A", "08:00")).await?;
    w.clock.set(at(2026, 6, 1, 8, 0));
    w.engine.set_hanging(true);
    let died = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        w.services.dispatch_due(w.now(), None),
    )
    .await;
    assert!(died.is_err(), "the dispatcher was cut off mid-start");
    w.engine.set_hanging(false);
    let pending = runs(&w, &id).await.remove(0);
    assert_eq!(pending.status, RunStatus::Pending);
    let s = w
        .services
        .get_schedule(&analyst("alice"), &id)
        .await?
        .schedule;
    assert_eq!(
        s.next_run_at,
        Some(at(2026, 6, 2, 8, 0)),
        "the occurrence stays claimed"
    );

    // Within the lease nobody touches it; a second dispatcher does not claim the occurrence again either.
    w.clock.advance(Duration::minutes(1));
    let early = w.services.dispatch_due(w.now(), None).await?;
    assert_eq!((early.claimed, early.recovered), (0, 0));

    w.clock.advance(Duration::minutes(2));
    let report = w.services.dispatch_due(w.now(), None).await?;
    assert_eq!(
        (report.recovered, report.started, report.claimed),
        (1, 1, 0)
    );
    let started = w.engine.started();
    assert_eq!(started.len(), 2);
    assert_eq!(started[0].idempotency_key, started[1].idempotency_key);
    let rs = runs(&w, &id).await;
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].status, RunStatus::Running);
    Ok(())
}

#[tokio::test]
async fn a_transient_start_error_is_retried_with_the_same_idempotency_key() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let id = w.create(&analyst("alice"), daily("A", "08:00")).await?;
    w.engine
        .push_start(Err(EngineError::Unavailable("connection reset".into())));
    w.clock.set(at(2026, 6, 1, 8, 0));
    w.services.dispatch_due(w.now(), None).await?;
    let pending = runs(&w, &id).await.remove(0);
    assert_eq!((pending.status, pending.attempts), (RunStatus::Pending, 1));
    w.clock.advance(Duration::minutes(1));
    let report = w.services.dispatch_due(w.now(), None).await?;
    assert_eq!(
        (report.recovered, report.started, report.claimed),
        (1, 1, 0)
    );
    let started = w.engine.started();
    assert_eq!(started[0].idempotency_key, started[1].idempotency_key);
    Ok(())
}

#[tokio::test]
async fn a_failed_publish_keeps_the_outbox_mark_and_is_retried() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    w.engine.push_start(Err(EngineError::Rejected {
        status: 403,
        detail: "forbidden".into(),
    }));
    w.services.run_now(&alice, &id).await?;
    w.notifier.set_failing(true);
    assert_eq!(
        w.services.deliver_notifications(w.now(), None).await?.sent,
        0
    );
    assert_eq!(
        runs(&w, &id).await[0].work.map(|w| w.kind),
        Some(WorkKind::Notify)
    );
    w.notifier.set_failing(false);
    w.clock.advance(Duration::minutes(2));
    assert_eq!(
        w.services.deliver_notifications(w.now(), None).await?.sent,
        1
    );
    assert_eq!(
        w.services
            .list_notifications(&alice, PageQuery::default())
            .await?
            .total,
        1,
        "stored once, by id"
    );
    assert_eq!(runs(&w, &id).await[0].work, None);
    Ok(())
}

#[tokio::test]
async fn preview_lists_the_next_runs_strictly_after_from() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    let p = w
        .services
        .preview_schedule(&alice, &id, Some(3), Some(at(2026, 6, 10, 8, 0)))
        .await?;
    assert_eq!(
        p.runs,
        vec![
            at(2026, 6, 11, 8, 0),
            at(2026, 6, 12, 8, 0),
            at(2026, 6, 13, 8, 0)
        ]
    );
    assert!(matches!(
        w.services
            .preview_schedule(&alice, &id, Some(0), None)
            .await,
        Err(ServiceError::Invalid(_))
    ));
    Ok(())
}

#[tokio::test]
async fn runs_and_notifications_link_their_session_when_a_template_is_configured() -> R {
    let config = crate::config::ServiceConfig {
        session_url: Some(
            "https://socmate.example.com/sessions/{session_id}"
                .parse()
                .map_err(anyhow::Error::msg)?,
        ),
        ..crate::config::ServiceConfig::default()
    };
    let w = World::with_config(at(2026, 6, 1, 7, 0), config);
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    let run = w.services.run_now(&alice, &id).await?;
    let session = run.session_id.clone().unwrap();
    let expected = format!("https://socmate.example.com/sessions/{session}");
    // The API's view of the run links it, as soon as the engine accepted it.
    let view = w.services.run_view(run);
    assert_eq!(view.session_url.as_deref(), Some(expected.as_str()));
    w.engine.set_session(
        &session,
        Ok(SessionState::Completed {
            summary: None,
            finished_at: None,
            findings: Default::default(),
        }),
    );
    w.services.check_runs(w.now(), None).await?;
    // So do the notification the subscribers got and the one stored for the notifications list.
    let published = w.notifier.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].session_url.as_deref(), Some(expected.as_str()));
    assert!(
        published[0].text().contains(&expected),
        "{}",
        published[0].text()
    );
    let listed = w
        .services
        .list_notifications(&alice, PageQuery::default())
        .await?;
    assert_eq!(
        listed.items[0].session_url.as_deref(),
        Some(expected.as_str())
    );
    Ok(())
}

#[tokio::test]
async fn without_a_template_a_run_has_no_session_link() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    let run = w.services.run_now(&alice, &id).await?;
    assert!(run.session_id.is_some());
    assert_eq!(w.services.run_view(run).session_url, None);
    Ok(())
}

#[tokio::test]
async fn a_schedule_whose_stored_definition_no_longer_parses_is_disabled_once_and_its_owner_told()
-> R {
    // Given a daily schedule whose stored time zone has since left the tz database (written behind the API's back,
    // as an older build with a newer tzdata could have).
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    let mut stored = w.store.get_schedule(&id.as_str().into()).await?.unwrap();
    stored.timing.timezone = "Mars/Olympus".into();
    let version = stored.version;
    stored.version += 1;
    assert!(w.store.update_schedule(&stored, version).await?.applied());

    // When it comes due.
    w.clock.set(at(2026, 6, 1, 8, 0));
    let report = w.services.dispatch_due(w.now(), None).await?;

    // Then it is disabled in the same write that records one failed run, and nothing is sent to the engine.
    assert_eq!((report.claimed, report.failed, report.errors), (0, 1, 0));
    assert!(w.engine.started().is_empty());
    let s = w.services.get_schedule(&alice, &id).await?.schedule;
    assert_eq!((s.status, s.next_run_at), (ScheduleStatus::Failed, None));
    let rs = runs(&w, &id).await;
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].status, RunStatus::Failed);
    let error = rs[0].error.clone().unwrap();
    assert_eq!(error.kind, RunErrorKind::InvalidSchedule);
    assert!(error.message.contains("Mars/Olympus"), "{}", error.message);
    // It is not retried every tick.
    w.clock.advance(Duration::minutes(1));
    let again = w.services.dispatch_due(w.now(), None).await?;
    assert_eq!((again.claimed, again.failed, again.errors), (0, 0, 0));
    // The schedule says why it is disabled.
    assert!(
        matches!(&s.disabled_reason, Some(DisabledReason::InvalidDefinition { problem }) if problem.contains("Mars/Olympus")),
        "{:?}",
        s.disabled_reason
    );
    // The owner hears about it, and the schedule-disabled notification says why (not "repeated failures").
    w.services.check_runs(w.now(), None).await?;
    let published = w.notifier.published();
    let events: Vec<_> = published.iter().map(|n| n.event).collect();
    assert_eq!(
        events,
        [
            NotificationEvent::InvestigationFailed,
            NotificationEvent::ScheduleDisabled
        ]
    );
    let disabled = &published[1];
    assert_eq!(disabled.disabled_reason, s.disabled_reason);
    assert_eq!(
        disabled.subject(),
        "Schedule disabled because its definition is no longer valid: A"
    );
    assert!(
        disabled.text().contains("Mars/Olympus"),
        "{}",
        disabled.text()
    );
    assert!(
        !disabled.text().contains("failed runs in a row"),
        "{}",
        disabled.text()
    );
    // Fixing the definition and resuming brings it back.
    w.services
        .update_schedule(
            &alice,
            &id,
            SchedulePatch {
                timezone: Some("Europe/Berlin".into()),
                ..Default::default()
            },
        )
        .await?;
    let resumed = w.services.resume_schedule(&alice, &id).await?.schedule;
    assert_eq!(resumed.status, ScheduleStatus::Active);
    assert_eq!(resumed.disabled_reason, None);
    // 08:00 CEST = 06:00Z; it is 08:01Z, so tomorrow's.
    assert_eq!(resumed.next_run_at, Some(at(2026, 6, 2, 6, 0)));
    Ok(())
}

/// A finding as an engine reports it: `entity` identifies it, the title is free wording.
fn found(
    title: &str,
    entity: &str,
    severity: crate::domain::Severity,
) -> crate::domain::ReportedFinding {
    crate::domain::ReportedFinding::bounded(
        title,
        severity,
        None,
        [crate::domain::findings::Entity {
            kind: None,
            value: entity.into(),
        }],
        [],
        None,
    )
    .unwrap()
}

#[tokio::test]
async fn notify_on_new_findings_suppresses_a_repeat_and_names_what_is_new_and_resolved() -> R {
    use crate::domain::{FindingStatus, NotifyOn, ReportedFindings, Severity};
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let mut input = daily("Spray watch", "08:00");
    input.notify_on = Some(NotifyOn::NewFindings);
    let id = w.create(&alice, input).await?;
    let a = found("Spray from 203.0.113.7", "203.0.113.7", Severity::High);
    let a_reworded = found(
        "Password spraying, source 203.0.113.7",
        "203.0.113.7",
        Severity::High,
    );
    let b = found("Odd sign-in for bob", "bob@contoso.com", Severity::Low);
    let c = found(
        "New global admin carol",
        "carol@contoso.com",
        Severity::Critical,
    );
    let mut completed = Vec::new();
    for findings in [vec![a, b.clone()], vec![a_reworded, b.clone()], vec![b, c]] {
        let run = w.services.run_now(&alice, &id).await?;
        w.engine.set_session(
            run.session_id.as_deref().unwrap(),
            Ok(SessionState::Completed {
                summary: None,
                finished_at: None,
                findings: ReportedFindings::capped(findings, 0),
            }),
        );
        w.clock.advance(Duration::minutes(10));
        let report = w.services.check_runs(w.now(), None).await?;
        assert_eq!(report.completed, 1);
        completed.push((
            report.notifications_sent,
            w.store
                .get_run(&id.as_str().into(), &run.run_id)
                .await?
                .unwrap(),
        ));
        w.clock.advance(Duration::hours(1));
    }
    // The first run: everything new, notified.
    let (sent, first) = &completed[0];
    assert_eq!(*sent, 1);
    assert!(
        first
            .findings
            .iter()
            .all(|f| f.status == FindingStatus::New)
    );
    assert_eq!(first.notification.as_ref().map(|n| n.sent), Some(true));
    // The second: the same two (one reworded), nothing new: not published, not stored, and the run says why.
    let (sent, second) = &completed[1];
    assert_eq!(*sent, 0);
    assert!(
        second
            .findings
            .iter()
            .all(|f| f.status == FindingStatus::Ongoing)
    );
    assert_eq!(
        serde_json::to_value(&second.notification)?,
        serde_json::json!({"sent": false, "reason": "no new findings"})
    );
    assert_eq!(second.work, None);
    // The third: C is new, A resolved, B ongoing; its notification says so.
    let (sent, third) = &completed[2];
    assert_eq!(*sent, 1);
    let summary = third.findings_summary.unwrap();
    assert_eq!((summary.new, summary.ongoing, summary.resolved), (1, 1, 1));
    assert_eq!(
        third.resolved[0].title,
        "Password spraying, source 203.0.113.7"
    );
    let published = w.notifier.published();
    assert_eq!(
        published.len(),
        2,
        "only the first and the third completion notify"
    );
    let stored = w
        .services
        .list_notifications(&alice, PageQuery::default())
        .await?;
    assert_eq!(
        stored.total, 2,
        "a suppressed completion is not stored either"
    );
    let last = &published[1];
    assert_eq!(
        (last.new_findings, last.max_severity.as_deref()),
        (Some(1), Some("critical"))
    );
    assert_eq!(last.findings.len(), 1);
    assert_eq!(last.findings[0].title, "New global admin carol");
    let text = last.text();
    assert!(
        text.contains("Findings: 1 new · 1 resolved · 1 ongoing — highest severity: critical"),
        "{text}"
    );
    assert!(
        text.contains("- [critical] New global admin carol — carol@contoso.com"),
        "{text}"
    );
    // The schedule's list view shows the latest summary.
    let s = w.services.get_schedule(&alice, &id).await?.schedule;
    assert_eq!(s.findings_summary, Some(summary));
    Ok(())
}

#[tokio::test]
async fn window_fields_are_iso_durations_and_a_bad_one_names_its_field() -> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let mut input = daily("A", "08:00");
    input.lookback = Some("24 hours".into());
    input.max_catchup = Some("P1M".into());
    input.settlement_delay = Some("P30D".into());
    let Err(ServiceError::Invalid(errors)) = w.services.create_schedule(&alice, input).await else {
        panic!("bad durations must be rejected");
    };
    let fields: Vec<_> = errors.iter().map(|e| e.loc[1].clone()).collect();
    assert_eq!(fields, ["lookback", "settlement_delay", "max_catchup"]);
    assert!(
        errors[0].msg.contains("must start with P"),
        "{}",
        errors[0].msg
    );
    assert!(
        errors[1].msg.contains("between PT0S and P7D"),
        "{}",
        errors[1].msg
    );

    let mut input = daily("B", "08:00");
    input.lookback = Some("PT24H".into());
    input.settlement_delay = Some("PT15M".into());
    let s = w.services.create_schedule(&alice, input).await?.schedule;
    let json = serde_json::to_value(&s)?;
    assert_eq!(
        (
            &json["lookback"],
            &json["settlement_delay"],
            &json["max_catchup"]
        ),
        (
            &serde_json::json!("P1D"),
            &serde_json::json!("PT15M"),
            &serde_json::json!("P7D")
        )
    );
    // The preview shows each run's window; the engine gets it with the start.
    let preview = w
        .services
        .preview_schedule(&alice, s.id.as_str(), Some(2), None)
        .await?;
    assert_eq!(preview.windows.len(), 2);
    assert_eq!(
        preview.windows[0].end,
        preview.runs[0] - Duration::minutes(15)
    );
    assert_eq!(
        preview.windows[1].start,
        preview.runs[1] - Duration::minutes(15) - Duration::hours(24)
    );
    w.clock.set(at(2026, 6, 1, 8, 0));
    w.services.dispatch_due(w.now(), None).await?;
    let sent = w.engine.started();
    let range = sent[0].time_range.expect("the engine is told the window");
    assert_eq!(range.end, at(2026, 6, 1, 7, 45));
    assert_eq!(range.start, at(2026, 5, 31, 7, 45));
    let rs = runs(&w, s.id.as_str()).await;
    assert_eq!(rs[0].window(), Some(range));
    // An edit clears the lookback with an empty string.
    let patched = w
        .services
        .update_schedule(
            &alice,
            s.id.as_str(),
            SchedulePatch {
                lookback: Some(String::new()),
                ..SchedulePatch::default()
            },
        )
        .await?
        .schedule;
    assert_eq!(patched.lookback, None);
    Ok(())
}

#[tokio::test]
async fn failures_always_notify_whatever_notify_on_says() -> R {
    use crate::domain::NotifyOn;
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let mut input = daily("Quiet", "08:00");
    input.notify_on = Some(NotifyOn::Failures);
    let id = w.create(&alice, input).await?;
    for outcome in [
        Ok(SessionState::Completed {
            summary: None,
            finished_at: None,
            findings: Default::default(),
        }),
        Ok(SessionState::Failed {
            message: "Sentinel down".into(),
            finished_at: None,
        }),
    ] {
        let run = w.services.run_now(&alice, &id).await?;
        w.engine
            .set_session(run.session_id.as_deref().unwrap(), outcome);
        w.clock.advance(Duration::minutes(10));
        w.services.check_runs(w.now(), None).await?;
    }
    let published = w.notifier.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].event, NotificationEvent::InvestigationFailed);
    assert_eq!(
        published[0].new_findings, None,
        "only completions carry findings fields"
    );
    Ok(())
}

#[tokio::test]
async fn the_ledger_shows_a_failed_gap_that_a_backfill_closes_and_fill_reports_when_nothing_is_open()
-> R {
    let w = World::new(at(2026, 6, 1, 7, 0));
    let alice = analyst("alice");
    let id = w.create(&alice, daily("A", "08:00")).await?;
    // Day 1 completes, day 2 fails.
    for (day, outcome) in [(1, true), (2, false)] {
        w.clock.set(at(2026, 6, day, 8, 0));
        w.services.dispatch_due(w.now(), None).await?;
        let run = runs(&w, &id).await.remove(0);
        let session = run.session_id.unwrap();
        let state = if outcome {
            SessionState::Completed {
                summary: None,
                finished_at: None,
                findings: Default::default(),
            }
        } else {
            SessionState::Failed {
                message: "Sentinel down".into(),
                finished_at: None,
            }
        };
        w.engine.set_session(&session, Ok(state));
        w.clock.advance(Duration::minutes(5));
        w.services.check_runs(w.now(), None).await?;
    }
    let c = w.services.coverage(&alice, &id, None, None).await?;
    assert_eq!(
        c.from,
        at(2026, 6, 1, 7, 0),
        "clipped to the schedule's life"
    );
    assert_eq!(c.covered.len(), 1);
    assert_eq!(
        (c.covered[0].start, c.covered[0].end),
        (at(2026, 6, 1, 7, 0), at(2026, 6, 1, 8, 0))
    );
    assert_eq!(c.gaps.len(), 1);
    assert_eq!(c.gaps[0].reason, crate::domain::GapReason::Failed);
    assert_eq!(
        (c.gaps[0].start, c.gaps[0].end),
        (at(2026, 6, 1, 8, 0), at(2026, 6, 2, 8, 0))
    );
    let gap_notes: Vec<_> = w
        .notifier
        .published()
        .into_iter()
        .filter(|n| n.event == NotificationEvent::CoverageGap)
        .collect();
    assert_eq!(gap_notes.len(), 1);
    assert_eq!(
        gap_notes[0].fill_link.as_deref(),
        Some(format!("/api/v1/schedules/{id}/coverage/fill").as_str())
    );
    assert!(
        gap_notes[0]
            .text()
            .contains("Not covered: 2026-06-01T08:00:00Z to 2026-06-02T08:00:00Z (failed)")
    );

    // A backfill in the future or too long is refused, naming the field.
    let bad = |start, end| crate::services::BackfillRequest { start, end };
    for (request, field) in [
        (bad(at(2026, 6, 1, 8, 0), at(2026, 6, 9, 8, 0)), "end"),
        (bad(at(2026, 4, 1, 8, 0), at(2026, 6, 1, 8, 0)), "end"),
        (bad(at(2026, 6, 1, 8, 0), at(2026, 6, 1, 8, 0)), "start"),
    ] {
        let Err(ServiceError::Invalid(errors)) = w.services.backfill(&alice, &id, request).await
        else {
            panic!("must be refused");
        };
        assert_eq!(errors[0].loc, ["body", field]);
    }

    // Fill: one backfill over the gap; while it runs, nothing is open; when it completes the gap is gone.
    let filled = w.services.fill_gaps(&alice, &id).await?;
    assert_eq!(filled.len(), 1);
    assert_eq!(filled[0].trigger, Trigger::Backfill);
    assert_eq!(
        filled[0].window().map(|w| (w.start, w.end)),
        Some((at(2026, 6, 1, 8, 0), at(2026, 6, 2, 8, 0)))
    );
    assert!(
        matches!(w.services.fill_gaps(&alice, &id).await, Err(ServiceError::Conflict(m)) if m.contains("no open coverage gaps"))
    );
    let c = w.services.coverage(&alice, &id, None, None).await?;
    assert_eq!(c.in_progress.len(), 1);
    w.engine.set_session(
        filled[0].session_id.as_deref().unwrap(),
        Ok(SessionState::Completed {
            summary: None,
            finished_at: None,
            findings: Default::default(),
        }),
    );
    w.clock.advance(Duration::minutes(5));
    w.services.check_runs(w.now(), None).await?;
    let c = w.services.coverage(&alice, &id, None, None).await?;
    assert!(c.gaps.is_empty(), "{:?}", c.gaps);
    assert!(c.in_progress.is_empty());
    assert_eq!(c.covered.len(), 1);
    assert_eq!(
        (c.covered[0].start, c.covered[0].end),
        (at(2026, 6, 1, 7, 0), at(2026, 6, 2, 8, 0))
    );
    let s = w.services.get_schedule(&alice, &id).await?.schedule;
    assert_eq!(
        s.consecutive_failures, 1,
        "the backfill does not touch the streak"
    );
    Ok(())
}
