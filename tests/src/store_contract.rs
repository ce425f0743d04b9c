//! The store contract: one suite of behaviour tests that every [`ScheduleStore`] must pass (SQLite, DynamoDB,
//! in-memory). It checks what the use cases rely on — above all that conditional writes let exactly one writer
//! win and that the two-item writes are all-or-nothing — not how a store lays out its data.
//!
//! A store runs the suite by giving [`store_contract_tests!`](crate::store_contract_tests) an async factory
//! that returns a fresh, empty store per test:
//!
//! ```ignore
//! async fn fresh_store() -> tests::store_contract::TestStore {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = SqliteScheduleStore::open(&dir.path().join("store.db"), shared::domain::RunRetention::default()).unwrap();
//!     TestStore::new(Arc::new(store), dir) // the directory lives as long as the test
//! }
//! tests::store_contract_tests!(fresh_store);
//! ```
//!
//! Each case becomes its own `#[tokio::test]` (multi-threaded, so the racing cases really race). The cases are
//! also plain `pub async fn`s taking the store, for a harness that wants to call them itself.
//!
//! Fixtures use fixed instants in 2030 (never the wall clock), so a store that also applies a real-time expiry
//! (DynamoDB TTL) keeps them.

use anyhow::{Context, Result, ensure};
use chrono::{DateTime, Duration, TimeZone, Utc};
use shared::domain::findings::{Entity, ReportedFinding, ReportedFindings, Severity};
use shared::domain::{
    DayOfMonth, DayOfWeek, DisabledReason, Frequency, Notification, NotificationEvent,
    NotificationId, Run, RunError, RunErrorKind, RunId, RunStatus, Schedule, ScheduleId,
    ScheduleStatus, TimingSpec, Trigger, Work, WorkKind,
};
use shared::ports::{After, PageStart, ScheduleFilter, ScheduleStore, StoreError, WriteOutcome};
use std::any::Any;
use std::sync::Arc;
use tokio::sync::Barrier;

mod audit;
pub use audit::{
    a_schedule_write_that_loses_its_condition_writes_no_event, an_event_written_twice_is_kept_once,
    audit_events_are_written_with_each_schedule_change,
};

/// A store under test, with whatever must live as long as it (a temporary directory, an emulator table).
pub struct TestStore {
    pub store: Arc<dyn ScheduleStore>,
    _keep: Box<dyn Any + Send + Sync>,
}

impl TestStore {
    pub fn new(store: Arc<dyn ScheduleStore>, keep_alive: impl Any + Send + Sync) -> Self {
        Self {
            store,
            _keep: Box::new(keep_alive),
        }
    }
}

/// Expands to one `#[tokio::test]` per contract case. `$make` is an async factory (a path to an `async fn` or
/// a closure returning a future) that gives a fresh, empty [`TestStore`].
///
/// Every case must be listed here; a `pub async fn` missing from this list is not run.
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::store_contract_tests!(@cases $make;
            schedule_round_trips_every_field,
            unknown_ids_read_as_none,
            inserting_an_existing_schedule_id_fails,
            deleted_schedules_are_readable_but_never_listed,
            list_filters_by_owner_and_status,
            list_is_newest_first_with_limit_offset_and_total,
            listings_page_after_a_cursor,
            update_schedule_is_conditional_on_version,
            due_schedules_proposes_only_active_due_ones_earliest_first,
            create_run_writes_schedule_and_run_together,
            run_round_trips_every_field,
            create_run_with_a_stale_schedule_version_writes_nothing,
            create_run_with_an_existing_run_id_writes_nothing,
            racing_claims_of_one_occurrence_apply_exactly_once,
            racing_claims_with_different_run_ids_apply_exactly_once,
            concurrent_claims_of_different_schedules_all_apply,
            update_run_is_conditional_on_version,
            finish_run_writes_run_and_schedule_together,
            finish_run_with_a_stale_run_version_changes_nothing,
            finish_run_with_a_stale_schedule_version_changes_nothing,
            findings_and_resolved_round_trip_and_listings_carry_only_the_summary,
            a_run_with_200_findings_of_maximum_size_is_written_whole,
            runs_with_work_proposes_by_kind_and_time,
            list_runs_is_newest_first_and_limited,
            retention_keeps_exactly_the_newest_runs_and_every_unfinished_one,
            put_notification_is_idempotent_and_overwrites,
            list_notifications_per_owner_newest_first_with_paging,
            audit_events_are_written_with_each_schedule_change,
            a_schedule_write_that_loses_its_condition_writes_no_event,
            an_event_written_twice_is_kept_once,
            coverage_is_written_with_the_finishing_write_merged_and_outlives_retention,
        );
    };
    (@cases $make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() -> ::anyhow::Result<()> {
                let fixture: $crate::store_contract::TestStore = ($make)().await;
                $crate::store_contract::$case(::std::sync::Arc::clone(&fixture.store)).await
            }
        )+
    };
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

/// A fixed instant: `2030-03-{day} {hour}:{minute}` UTC.
pub fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 3, day, hour, minute, 0)
        .single()
        .unwrap_or_else(|| panic!("fixture instant 2030-03-{day} {hour}:{minute} is not valid"))
}

/// An `ACTIVE` daily 08:00 UTC schedule, due at `created_at + 1 h`, version 1, with no optional field set.
pub fn schedule(id: &str, owner: &str, created_at: DateTime<Utc>) -> Schedule {
    Schedule {
        id: ScheduleId::from(id),
        owner: owner.into(),
        name: format!("Daily check {id}"),
        description: String::new(),
        user_query: "Show failed logins for privileged accounts in the last 24 hours".into(),
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
        next_run_at: Some(created_at + Duration::hours(1)),
        last_run_at: None,
        last_run_status: None,
        consecutive_failures: 0,
        disabled_reason: None,
        runs_in_flight: 0,
        created_at,
        updated_at: created_at,
        version: 1,
        pause_reason: None,
        audit: Default::default(),
        notify_on: Default::default(),
        findings_summary: None,
        findings_baseline: None,
        lookback: None,
        settlement_delay: Default::default(),
        max_catchup: shared::domain::timing::DEFAULT_MAX_CATCHUP,
        last_window_end: None,
        coverage: Default::default(),
        unannounced_gaps: Vec::new(),
    }
}

/// A `pending` scheduled run of `schedule` for `scheduled_for`, waiting to start at that instant.
pub fn run(schedule: &Schedule, scheduled_for: DateTime<Utc>) -> Run {
    Run::pending(
        schedule.subject(),
        RunId::scheduled(&schedule.id, scheduled_for),
        Trigger::Scheduled,
        scheduled_for,
        scheduled_for,
        scheduled_for,
    )
}

/// A finished run that needs nothing more (as a recorded skipped occurrence is).
pub fn skipped_run(schedule: &Schedule, scheduled_for: DateTime<Utc>) -> Run {
    Run {
        status: RunStatus::Skipped,
        work: None,
        finished_at: Some(scheduled_for),
        ..run(schedule, scheduled_for)
    }
}

pub fn notification(id: &str, owner: &str, created_at: DateTime<Utc>) -> Notification {
    let s = schedule(&format!("sch_of_{id}"), owner, at(1, 0, 0));
    let r = run(&s, at(1, 8, 0));
    Notification {
        id: NotificationId::from(id),
        event: NotificationEvent::InvestigationCompleted,
        owner: owner.into(),
        link: format!("/api/v1/schedules/{}/runs", s.id),
        schedule_id: s.id,
        schedule_name: s.name,
        run_id: r.run_id,
        session_id: Some("sess-1".into()),
        session_url: Some("https://socmate.example.com/sessions/sess-1".into()),
        status: RunStatus::Completed,
        scheduled_for: r.scheduled_for,
        started_at: Some(at(1, 8, 0)),
        finished_at: Some(at(1, 8, 5)),
        duration_ms: Some(300_000),
        error: None,
        summary: Some("No privileged account had failed logins.".into()),
        disabled_reason: None,
        created_at,
        findings_summary: Some(shared::domain::FindingsSummary {
            total: 1,
            new: 1,
            max_severity: Some(Severity::High),
            ..Default::default()
        }),
        new_findings: Some(1),
        max_severity: Some("high".into()),
        findings: vec![shared::domain::notification::NotifiedFinding {
            title: "Spray from 203.0.113.7".into(),
            severity: Severity::High,
            entities: vec![Entity {
                kind: Some("ip".into()),
                value: "203.0.113.7".into(),
            }],
        }],
        resolved: Vec::new(),
        window_start: Some(at(1, 8, 0) - Duration::hours(24)),
        window_end: Some(at(1, 8, 0)),
        gap: None,
        fill_link: None,
    }
}

/// What the dispatcher's claim writes: the schedule advanced by a day and its version bumped, plus `run`.
/// On `Applied`, `schedule` is what the store now holds.
pub async fn claim(
    store: &dyn ScheduleStore,
    schedule: &mut Schedule,
    run: &Run,
) -> Result<WriteOutcome> {
    let expected = schedule.version;
    let mut next = schedule.clone();
    next.next_run_at = Some(run.scheduled_for + Duration::days(1));
    next.runs_in_flight += u32::from(!run.status.is_terminal());
    next.touch(run.scheduled_for);
    let outcome = store.create_run(&next, expected, run).await?;
    if outcome.applied() {
        *schedule = next;
    }
    Ok(outcome)
}

async fn stored_schedule(store: &dyn ScheduleStore, id: &ScheduleId) -> Result<Schedule> {
    store
        .get_schedule(id)
        .await?
        .with_context(|| format!("schedule {id} is missing"))
}

async fn stored_run(store: &dyn ScheduleStore, run: &Run) -> Result<Option<Run>> {
    Ok(store.get_run(&run.schedule_id, &run.run_id).await?)
}

fn schedule_ids(items: &[Schedule]) -> Vec<&str> {
    items.iter().map(|s| s.id.as_str()).collect()
}

fn run_ids(items: &[Run]) -> Vec<&str> {
    items.iter().map(|r| r.run_id.as_str()).collect()
}

/// Five schedules of `owner` for the listing cases, inserted out of order, two sharing a creation time:
/// newest first they are sch_5b, sch_5a, sch_3, sch_2, sch_1.
async fn insert_listing_schedules(store: &dyn ScheduleStore, owner: &str) -> Result<()> {
    for (id, created) in [
        ("sch_3", at(3, 0, 0)),
        ("sch_1", at(1, 0, 0)),
        ("sch_5b", at(5, 0, 0)),
        ("sch_2", at(2, 0, 0)),
        ("sch_5a", at(5, 0, 0)),
    ] {
        store.insert_schedule(&schedule(id, owner, created)).await?;
    }
    Ok(())
}

fn by_owner(owner: &str) -> ScheduleFilter {
    ScheduleFilter {
        owner: Some(owner.into()),
        status: None,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Schedules

pub async fn schedule_round_trips_every_field(store: Arc<dyn ScheduleStore>) -> Result<()> {
    let minimal = schedule("sch_min", "alice", at(1, 9, 0));
    let full = Schedule {
        description: "Weekly review of privileged access — ünïcode kept".into(),
        timing: TimingSpec {
            frequency: Frequency::Custom,
            scheduled_time: Some("2030-03-04T08:00:00+01:00".into()),
            day_of_week: Some(DayOfWeek::Friday),
            day_of_month: Some(DayOfMonth::Last),
            cron_expression: Some("0 8 * * MON-FRI".into()),
            timezone: "Europe/Berlin".into(),
        },
        status: ScheduleStatus::Paused,
        next_run_at: None,
        last_run_at: Some(at(2, 8, 0) + Duration::milliseconds(123)),
        last_run_status: Some(RunStatus::Failed),
        consecutive_failures: 3,
        runs_in_flight: 2,
        updated_at: at(3, 10, 30) + Duration::milliseconds(456),
        version: 7,
        ..schedule(
            "sch_full",
            "bob",
            at(1, 10, 0) + Duration::milliseconds(789),
        )
    };
    store.insert_schedule(&minimal).await?;
    store.insert_schedule(&full).await?;

    assert_eq!(stored_schedule(&*store, &minimal.id).await?, minimal);
    assert_eq!(stored_schedule(&*store, &full.id).await?, full);
    Ok(())
}

pub async fn unknown_ids_read_as_none(store: Arc<dyn ScheduleStore>) -> Result<()> {
    let s = schedule("sch_a", "alice", at(1, 9, 0));
    assert!(store.get_schedule(&s.id).await?.is_none());
    store.insert_schedule(&s).await?;
    let r = run(&s, at(2, 8, 0));
    assert!(stored_run(&*store, &r).await?.is_none());
    assert!(store.list_runs(&s.id, 10, None).await?.is_empty());
    Ok(())
}

pub async fn inserting_an_existing_schedule_id_fails(store: Arc<dyn ScheduleStore>) -> Result<()> {
    let original = schedule("sch_a", "alice", at(1, 9, 0));
    store.insert_schedule(&original).await?;
    let imposter = schedule("sch_a", "mallory", at(2, 9, 0));

    let err = store.insert_schedule(&imposter).await;
    assert!(matches!(err, Err(StoreError::AlreadyExists(_))), "{err:?}");
    assert_eq!(stored_schedule(&*store, &original.id).await?, original);
    Ok(())
}

pub async fn deleted_schedules_are_readable_but_never_listed(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let kept = schedule("sch_kept", "alice", at(1, 9, 0));
    let mut gone = schedule("sch_gone", "alice", at(1, 10, 0));
    store.insert_schedule(&kept).await?;
    store.insert_schedule(&gone).await?;
    let expected = gone.version;
    gone.status = ScheduleStatus::Deleted;
    gone.next_run_at = None;
    gone.touch(at(2, 0, 0));
    assert_eq!(
        store.update_schedule(&gone, expected).await?,
        WriteOutcome::Applied
    );
    // One inserted already deleted, too.
    let mut born_deleted = schedule("sch_born_deleted", "bob", at(1, 11, 0));
    born_deleted.status = ScheduleStatus::Deleted;
    store.insert_schedule(&born_deleted).await?;

    assert_eq!(
        stored_schedule(&*store, &gone.id).await?.status,
        ScheduleStatus::Deleted
    );
    for filter in [
        ScheduleFilter::default(),
        by_owner("alice"),
        by_owner("bob"),
        ScheduleFilter {
            owner: None,
            status: Some(ScheduleStatus::Deleted),
        },
        ScheduleFilter {
            owner: Some("alice".into()),
            status: Some(ScheduleStatus::Deleted),
        },
    ] {
        let page = store
            .list_schedules(&filter, 10, &PageStart::Offset(0))
            .await?;
        let expected: Vec<&str> =
            if filter.status.is_none() && filter.owner.as_deref() != Some("bob") {
                vec!["sch_kept"]
            } else {
                vec![]
            };
        assert_eq!(schedule_ids(&page.items), expected, "{filter:?}");
        assert_eq!(page.total, expected.len() as u64, "{filter:?}");
    }
    assert!(
        store
            .due_schedules(at(30, 0, 0), 10)
            .await?
            .iter()
            .all(|s| s.id != gone.id)
    );
    Ok(())
}

pub async fn list_filters_by_owner_and_status(store: Arc<dyn ScheduleStore>) -> Result<()> {
    let mut paused = schedule("sch_a2", "alice", at(1, 2, 0));
    paused.status = ScheduleStatus::Paused;
    paused.next_run_at = None;
    let mut failed = schedule("sch_b2", "bob", at(1, 5, 0));
    failed.status = ScheduleStatus::Failed;
    for s in [
        schedule("sch_a1", "alice", at(1, 1, 0)),
        paused,
        schedule("sch_a3", "alice", at(1, 3, 0)),
        schedule("sch_b1", "bob", at(1, 4, 0)),
        failed,
    ] {
        store.insert_schedule(&s).await?;
    }
    let list = |owner: Option<&str>, status: Option<ScheduleStatus>| {
        let store = Arc::clone(&store);
        let filter = ScheduleFilter {
            owner: owner.map(str::to_owned),
            status,
        };
        async move {
            store
                .list_schedules(&filter, 50, &PageStart::Offset(0))
                .await
        }
    };

    let alice = list(Some("alice"), None).await?;
    assert_eq!(schedule_ids(&alice.items), ["sch_a3", "sch_a2", "sch_a1"]);
    assert_eq!(alice.total, 3);
    let everyone = list(None, None).await?;
    assert_eq!(
        schedule_ids(&everyone.items),
        ["sch_b2", "sch_b1", "sch_a3", "sch_a2", "sch_a1"]
    );
    assert_eq!(everyone.total, 5);
    let paused = list(None, Some(ScheduleStatus::Paused)).await?;
    assert_eq!(schedule_ids(&paused.items), ["sch_a2"]);
    assert_eq!(paused.total, 1);
    let active_alice = list(Some("alice"), Some(ScheduleStatus::Active)).await?;
    assert_eq!(schedule_ids(&active_alice.items), ["sch_a3", "sch_a1"]);
    assert_eq!(active_alice.total, 2);
    let failed_alice = list(Some("alice"), Some(ScheduleStatus::Failed)).await?;
    assert!(failed_alice.items.is_empty());
    assert_eq!(failed_alice.total, 0);
    let nobody = list(Some("carol"), None).await?;
    assert!(nobody.items.is_empty());
    assert_eq!(nobody.total, 0);
    Ok(())
}

pub async fn list_is_newest_first_with_limit_offset_and_total(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    // Inserted out of order; two share a creation time (the larger id comes first).
    insert_listing_schedules(&*store, "alice").await?;
    store
        .insert_schedule(&schedule("sch_4", "alice", at(4, 0, 0)))
        .await?;
    let newest_first = ["sch_5b", "sch_5a", "sch_4", "sch_3", "sch_2", "sch_1"];

    for filter in [ScheduleFilter::default(), by_owner("alice")] {
        let mut seen = Vec::new();
        for offset in [0, 4] {
            let page = store
                .list_schedules(&filter, 4, &PageStart::Offset(offset))
                .await?;
            assert_eq!(page.total, 6, "{filter:?} offset {offset}");
            seen.extend(page.items.iter().map(|s| s.id.to_string()));
        }
        assert_eq!(seen, newest_first, "{filter:?}");

        let middle = store
            .list_schedules(&filter, 2, &PageStart::Offset(1))
            .await?;
        assert_eq!(
            schedule_ids(&middle.items),
            ["sch_5a", "sch_4"],
            "{filter:?}"
        );
        let beyond = store
            .list_schedules(&filter, 10, &PageStart::Offset(6))
            .await?;
        assert!(beyond.items.is_empty(), "{filter:?}");
        assert_eq!(beyond.total, 6, "{filter:?}");
    }
    Ok(())
}

/// Every listing pages after a cursor (the sort key and id of the last item seen): ties on the sort key are
/// broken by id, the page after the last item is empty, and the total still counts everything.
pub async fn listings_page_after_a_cursor(store: Arc<dyn ScheduleStore>) -> Result<()> {
    insert_listing_schedules(&*store, "alice").await?;
    store
        .insert_schedule(&schedule("sch_bob", "bob", at(4, 0, 0)))
        .await?;
    let after = |at_: DateTime<Utc>, id: &str| {
        PageStart::After(After {
            at: at_,
            id: id.into(),
        })
    };
    // After the first of two with the same time: the other one comes next.
    let page = store
        .list_schedules(&by_owner("alice"), 2, &after(at(5, 0, 0), "sch_5b"))
        .await?;
    assert_eq!(schedule_ids(&page.items), ["sch_5a", "sch_3"]);
    assert_eq!(page.total, 5);
    let page = store
        .list_schedules(&ScheduleFilter::default(), 3, &after(at(5, 0, 0), "sch_5a"))
        .await?;
    assert_eq!(schedule_ids(&page.items), ["sch_bob", "sch_3", "sch_2"]);
    assert_eq!(page.total, 6);
    let last = store
        .list_schedules(&by_owner("alice"), 10, &after(at(1, 0, 0), "sch_1"))
        .await?;
    assert!(last.items.is_empty());
    assert_eq!(last.total, 5);

    // Runs, by occurrence.
    let mut s = schedule("sch_runs", "alice", at(1, 0, 0));
    store.insert_schedule(&s).await?;
    let mut runs = Vec::new();
    for hour in 1..=5 {
        let r = skipped_run(&s, at(2, hour, 0));
        assert!(claim(&*store, &mut s, &r).await?.applied());
        runs.push(r);
    }
    runs.reverse();
    let cursor = After {
        at: runs[1].scheduled_for,
        id: runs[1].run_id.to_string(),
    };
    let page = store.list_runs(&s.id, 2, Some(&cursor)).await?;
    assert_eq!(run_ids(&page), run_ids(&runs[2..4]));

    // Notifications, by creation time.
    for (id, minute) in [("ntf_1", 1), ("ntf_2", 2), ("ntf_3", 3)] {
        store
            .put_notification(&notification(id, "alice", at(2, 9, minute)))
            .await?;
    }
    let page = store
        .list_notifications(Some("alice"), 5, &after(at(2, 9, 3), "ntf_3"))
        .await?;
    let ids: Vec<_> = page.items.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["ntf_2", "ntf_1"]);
    assert_eq!(page.total, 3);
    let page = store
        .list_notifications(None, 1, &after(at(2, 9, 2), "ntf_2"))
        .await?;
    let ids: Vec<_> = page.items.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["ntf_1"]);
    Ok(())
}

pub async fn update_schedule_is_conditional_on_version(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let original = schedule("sch_a", "alice", at(1, 9, 0));
    store.insert_schedule(&original).await?;

    let mut renamed = original.clone();
    renamed.name = "Renamed".into();
    renamed.touch(at(2, 0, 0));
    assert_eq!(
        store.update_schedule(&renamed, 1).await?,
        WriteOutcome::Applied
    );
    assert_eq!(stored_schedule(&*store, &original.id).await?, renamed);

    // A writer that read version 1 lost the race: nothing of its write lands.
    let mut stale = original.clone();
    stale.name = "Stale edit".into();
    stale.status = ScheduleStatus::Paused;
    stale.touch(at(2, 1, 0));
    assert_eq!(
        store.update_schedule(&stale, 1).await?,
        WriteOutcome::Conflict
    );
    assert_eq!(stored_schedule(&*store, &original.id).await?, renamed);
    let listed = store
        .list_schedules(&ScheduleFilter::default(), 10, &PageStart::Offset(0))
        .await?;
    assert_eq!(listed.items, [renamed.clone()]);

    // Unknown schedules cannot be updated into existence.
    let ghost = schedule("sch_ghost", "alice", at(1, 9, 0));
    assert_eq!(
        store.update_schedule(&ghost, 1).await?,
        WriteOutcome::Conflict
    );
    assert!(store.get_schedule(&ghost.id).await?.is_none());
    Ok(())
}

pub async fn due_schedules_proposes_only_active_due_ones_earliest_first(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let now = at(10, 8, 0);
    let due_at = |id: &str, next: Option<DateTime<Utc>>, status: ScheduleStatus| Schedule {
        next_run_at: next,
        status,
        ..schedule(id, "alice", at(1, 0, 0))
    };
    for s in [
        due_at(
            "sch_late",
            Some(now - Duration::minutes(1)),
            ScheduleStatus::Active,
        ),
        due_at("sch_exactly_now", Some(now), ScheduleStatus::Active),
        due_at("sch_earliest", Some(at(9, 8, 0)), ScheduleStatus::Active),
        due_at(
            "sch_future",
            Some(now + Duration::minutes(1)),
            ScheduleStatus::Active,
        ),
        due_at("sch_nothing_left", None, ScheduleStatus::Active),
        // Inconsistent on purpose: only the status decides.
        due_at("sch_paused", Some(at(9, 0, 0)), ScheduleStatus::Paused),
        due_at("sch_failed", Some(at(9, 0, 0)), ScheduleStatus::Failed),
        due_at(
            "sch_completed",
            Some(at(9, 0, 0)),
            ScheduleStatus::Completed,
        ),
        due_at("sch_deleted", Some(at(9, 0, 0)), ScheduleStatus::Deleted),
    ] {
        store.insert_schedule(&s).await?;
    }

    let due = store.due_schedules(now, 10).await?;
    assert_eq!(
        schedule_ids(&due),
        ["sch_earliest", "sch_late", "sch_exactly_now"]
    );
    let first_two = store.due_schedules(now, 2).await?;
    assert_eq!(schedule_ids(&first_two), ["sch_earliest", "sch_late"]);
    assert!(store.due_schedules(at(9, 7, 59), 10).await?.is_empty());

    // Pausing takes a schedule out of the due set; resuming with a new time puts it back.
    let mut s = stored_schedule(&*store, &ScheduleId::from("sch_earliest")).await?;
    let v = s.version;
    s.status = ScheduleStatus::Paused;
    s.next_run_at = None;
    s.touch(now);
    assert!(store.update_schedule(&s, v).await?.applied());
    let due = store.due_schedules(now, 10).await?;
    assert_eq!(schedule_ids(&due), ["sch_late", "sch_exactly_now"]);

    let v = s.version;
    s.status = ScheduleStatus::Active;
    s.next_run_at = Some(now - Duration::minutes(2));
    s.touch(now);
    assert!(store.update_schedule(&s, v).await?.applied());
    let due = store.due_schedules(now, 10).await?;
    assert_eq!(
        schedule_ids(&due),
        ["sch_earliest", "sch_late", "sch_exactly_now"]
    );
    assert_eq!(due[0], s);
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Claims

pub async fn create_run_writes_schedule_and_run_together(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let mut s = schedule("sch_a", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    let r = run(&s, at(1, 8, 0));

    assert_eq!(claim(&*store, &mut s, &r).await?, WriteOutcome::Applied);

    let stored = stored_schedule(&*store, &s.id).await?;
    assert_eq!(stored, s);
    assert_eq!(stored.version, 2);
    assert_eq!(stored.next_run_at, Some(at(2, 8, 0)));
    assert_eq!(stored_run(&*store, &r).await?, Some(r.clone()));
    assert_eq!(store.list_runs(&s.id, 10, None).await?, [r]);
    // Advanced past the occurrence: no longer due at it.
    assert!(store.due_schedules(at(1, 8, 0), 10).await?.is_empty());
    Ok(())
}

pub async fn run_round_trips_every_field(store: Arc<dyn ScheduleStore>) -> Result<()> {
    let mut s = schedule("sch_a", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    let full = Run {
        run_id: RunId::from("run_manual_01"),
        trigger: Trigger::Manual,
        status: RunStatus::Failed,
        session_id: Some("sess-42".into()),
        started_at: Some(at(1, 8, 0) + Duration::milliseconds(250)),
        finished_at: Some(at(1, 8, 3)),
        duration_ms: Some(179_750),
        error: Some(RunError {
            kind: RunErrorKind::EngineRejected,
            message: "422: query too vague".into(),
        }),
        summary: Some("partial findings".into()),
        attempts: 3,
        work: Some(Work::new(WorkKind::Notify, at(1, 8, 3))),
        disabled_schedule: Some(DisabledReason::InvalidDefinition {
            problem: "timezone: unknown".into(),
        }),
        version: 4,
        ..run(&s, at(1, 8, 0))
    };

    assert!(claim(&*store, &mut s, &full).await?.applied());

    assert_eq!(stored_run(&*store, &full).await?, Some(full.clone()));
    // A run is found only under its own schedule.
    let other = ScheduleId::from("sch_other");
    assert!(store.get_run(&other, &full.run_id).await?.is_none());
    Ok(())
}

pub async fn create_run_with_a_stale_schedule_version_writes_nothing(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let mut s = schedule("sch_a", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    let original = s.clone();
    // Someone else edits the schedule after we read it.
    let mut edited = s.clone();
    edited.name = "Edited".into();
    edited.touch(at(1, 7, 30));
    assert!(store.update_schedule(&edited, 1).await?.applied());

    let r = run(&s, at(1, 8, 0));
    assert_eq!(claim(&*store, &mut s, &r).await?, WriteOutcome::Conflict);

    assert_eq!(s, original, "claim() only adopts applied writes");
    assert_eq!(stored_schedule(&*store, &s.id).await?, edited);
    assert!(stored_run(&*store, &r).await?.is_none());
    assert!(store.list_runs(&s.id, 10, None).await?.is_empty());
    assert!(
        store
            .runs_with_work(WorkKind::Start, at(30, 0, 0), 10)
            .await?
            .is_empty()
    );
    Ok(())
}

pub async fn create_run_with_an_existing_run_id_writes_nothing(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let mut s = schedule("sch_a", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    let first = run(&s, at(1, 8, 0));
    assert!(claim(&*store, &mut s, &first).await?.applied());
    let after_first = s.clone();

    // The schedule version is current, but the occurrence was already claimed.
    let duplicate = Run {
        persona: "ciso".into(),
        ..first.clone()
    };
    assert_eq!(
        claim(&*store, &mut s, &duplicate).await?,
        WriteOutcome::Conflict
    );

    assert_eq!(stored_schedule(&*store, &s.id).await?, after_first);
    assert_eq!(stored_run(&*store, &first).await?, Some(first.clone()));
    assert_eq!(store.list_runs(&s.id, 10, None).await?, [first]);
    Ok(())
}

/// Two dispatchers claim the same occurrence at the same moment (same read, same run id), ten times over.
pub async fn racing_claims_of_one_occurrence_apply_exactly_once(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let mut s = schedule("sch_a", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;

    for day in 1..=10 {
        let r = run(&s, at(day, 8, 0));
        let barrier = Arc::new(Barrier::new(2));
        let contenders: Vec<_> = (0..2)
            .map(|_| {
                let (store, barrier, mut s, r) = (
                    Arc::clone(&store),
                    Arc::clone(&barrier),
                    s.clone(),
                    r.clone(),
                );
                tokio::spawn(async move {
                    barrier.wait().await;
                    let outcome = claim(&*store, &mut s, &r).await?;
                    anyhow::Ok((outcome, s))
                })
            })
            .collect();
        let mut winners = Vec::new();
        for contender in contenders {
            let (outcome, after) = contender.await??;
            if outcome.applied() {
                winners.push(after);
            }
        }
        ensure!(
            winners.len() == 1,
            "day {day}: {} claims applied",
            winners.len()
        );
        s = winners.remove(0);
        assert_eq!(stored_schedule(&*store, &s.id).await?, s, "day {day}");
    }
    assert_eq!(s.version, 11);
    assert_eq!(store.list_runs(&s.id, 50, None).await?.len(), 10);
    Ok(())
}

/// A dispatcher's claim and a run-now from the same read race: different run ids, one schedule version.
pub async fn racing_claims_with_different_run_ids_apply_exactly_once(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let s = schedule("sch_a", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    let scheduled = run(&s, at(1, 8, 0));
    let manual = Run {
        run_id: RunId::from("run_manual_race"),
        trigger: Trigger::Manual,
        ..run(&s, at(1, 8, 0) + Duration::seconds(1))
    };

    let barrier = Arc::new(Barrier::new(2));
    let contenders: Vec<_> = [scheduled, manual]
        .into_iter()
        .map(|r| {
            let (store, barrier, mut s) = (Arc::clone(&store), Arc::clone(&barrier), s.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let outcome = claim(&*store, &mut s, &r).await?;
                anyhow::Ok((outcome, r))
            })
        })
        .collect();
    let mut written = Vec::new();
    for contender in contenders {
        let (outcome, r) = contender.await??;
        let stored = stored_run(&*store, &r).await?;
        assert_eq!(stored.is_some(), outcome.applied(), "{}", r.run_id);
        if outcome.applied() {
            written.push(r);
        }
    }
    assert_eq!(written.len(), 1);
    assert_eq!(stored_schedule(&*store, &s.id).await?.version, 2);
    assert_eq!(store.list_runs(&s.id, 10, None).await?, written);
    Ok(())
}

pub async fn concurrent_claims_of_different_schedules_all_apply(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let schedules: Vec<_> = (0..16)
        .map(|i| schedule(&format!("sch_{i:02}"), "alice", at(1, 7, 0)))
        .collect();
    for s in &schedules {
        store.insert_schedule(s).await?;
    }

    let claims: Vec<_> = schedules
        .iter()
        .map(|s| {
            let (store, mut s) = (Arc::clone(&store), s.clone());
            tokio::spawn(async move {
                let r = run(&s, at(1, 8, 0));
                let outcome = claim(&*store, &mut s, &r).await?;
                anyhow::Ok((outcome, s, r))
            })
        })
        .collect();
    for c in claims {
        let (outcome, s, r) = c.await??;
        assert_eq!(outcome, WriteOutcome::Applied, "{}", s.id);
        assert_eq!(stored_schedule(&*store, &s.id).await?, s);
        assert_eq!(stored_run(&*store, &r).await?, Some(r));
    }
    let pending = store
        .runs_with_work(WorkKind::Start, at(1, 8, 0), 100)
        .await?;
    assert_eq!(pending.len(), 16);
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

pub async fn update_run_is_conditional_on_version(store: Arc<dyn ScheduleStore>) -> Result<()> {
    let mut s = schedule("sch_a", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    let r = run(&s, at(1, 8, 0));
    assert!(claim(&*store, &mut s, &r).await?.applied());

    let mut started = r.clone();
    started.started("sess-1".into(), at(1, 8, 1));
    assert_eq!(store.update_run(&started, 1).await?, WriteOutcome::Applied);
    assert_eq!(stored_run(&*store, &r).await?, Some(started.clone()));

    let mut stale = r.clone();
    stale.defer(at(1, 8, 2));
    assert_eq!(store.update_run(&stale, 1).await?, WriteOutcome::Conflict);
    assert_eq!(stored_run(&*store, &r).await?, Some(started));
    assert!(
        store
            .runs_with_work(WorkKind::Start, at(30, 0, 0), 10)
            .await?
            .is_empty()
    );

    let ghost = run(&s, at(5, 8, 0));
    assert_eq!(store.update_run(&ghost, 1).await?, WriteOutcome::Conflict);
    assert!(stored_run(&*store, &ghost).await?.is_none());
    Ok(())
}

/// The running run `r` of `s` finished as failed; returns the run and schedule as the status checker writes them.
fn finish_failed(s: &Schedule, r: &Run, at_: DateTime<Utc>) -> (Run, Schedule) {
    let mut r = r.clone();
    r.finish(
        RunStatus::Failed,
        at_,
        Some(RunError {
            kind: RunErrorKind::InvestigationFailed,
            message: "engine reported failure".into(),
        }),
        None,
    );
    let mut s = s.clone();
    s.record_finished_run(&mut r, at_);
    (r, s)
}

pub async fn finish_run_writes_run_and_schedule_together(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let mut s = schedule("sch_a", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    let r = run(&s, at(1, 8, 0));
    assert!(claim(&*store, &mut s, &r).await?.applied());

    let (done, after) = finish_failed(&s, &r, at(1, 8, 30));
    let outcome = store
        .finish_run(&done, r.version, &after, s.version)
        .await?;

    assert_eq!(outcome, WriteOutcome::Applied);
    assert_eq!(stored_run(&*store, &r).await?, Some(done.clone()));
    assert_eq!(stored_schedule(&*store, &s.id).await?, after);
    assert_eq!(after.consecutive_failures, 1);
    let to_notify = store
        .runs_with_work(WorkKind::Notify, at(1, 8, 30), 10)
        .await?;
    assert_eq!(to_notify, [done]);
    Ok(())
}

pub async fn finish_run_with_a_stale_run_version_changes_nothing(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let mut s = schedule("sch_a", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    let r = run(&s, at(1, 8, 0));
    assert!(claim(&*store, &mut s, &r).await?.applied());
    // Another checker already moved the run on.
    let mut moved = r.clone();
    moved.lease(at(1, 8, 5));
    assert!(store.update_run(&moved, r.version).await?.applied());

    let (done, after) = finish_failed(&s, &r, at(1, 8, 30));
    let outcome = store
        .finish_run(&done, r.version, &after, s.version)
        .await?;

    assert_eq!(outcome, WriteOutcome::Conflict);
    assert_eq!(stored_run(&*store, &r).await?, Some(moved));
    assert_eq!(stored_schedule(&*store, &s.id).await?, s);
    Ok(())
}

pub async fn finish_run_with_a_stale_schedule_version_changes_nothing(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let mut s = schedule("sch_a", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    let r = run(&s, at(1, 8, 0));
    assert!(claim(&*store, &mut s, &r).await?.applied());
    // The owner renamed the schedule in the meantime.
    let mut renamed = s.clone();
    renamed.name = "Renamed".into();
    renamed.touch(at(1, 8, 10));
    assert!(store.update_schedule(&renamed, s.version).await?.applied());

    let (done, after) = finish_failed(&s, &r, at(1, 8, 30));
    let outcome = store
        .finish_run(&done, r.version, &after, s.version)
        .await?;

    assert_eq!(outcome, WriteOutcome::Conflict);
    assert_eq!(stored_run(&*store, &r).await?, Some(r.clone()));
    assert_eq!(stored_schedule(&*store, &s.id).await?, renamed);
    assert!(
        store
            .runs_with_work(WorkKind::Notify, at(30, 0, 0), 10)
            .await?
            .is_empty()
    );
    Ok(())
}

pub async fn runs_with_work_proposes_by_kind_and_time(store: Arc<dyn ScheduleStore>) -> Result<()> {
    let now = at(2, 12, 0);
    let mut a = schedule("sch_a", "alice", at(1, 0, 0));
    let mut b = schedule("sch_b", "bob", at(1, 0, 0));
    store.insert_schedule(&a).await?;
    store.insert_schedule(&b).await?;
    let with_work = |s: &Schedule, hour: u32, work: Option<(WorkKind, DateTime<Utc>)>| Run {
        work: work.map(|(kind, at)| Work::new(kind, at)),
        ..run(s, at(1, hour, 0))
    };
    let runs = [
        with_work(&a, 1, Some((WorkKind::Start, now - Duration::minutes(5)))),
        with_work(&b, 2, Some((WorkKind::Start, now - Duration::hours(3)))),
        with_work(&a, 3, Some((WorkKind::Start, now))),
        with_work(&b, 4, Some((WorkKind::Start, now + Duration::seconds(1)))),
        with_work(&a, 5, Some((WorkKind::Poll, now - Duration::hours(1)))),
        with_work(&b, 6, Some((WorkKind::Notify, now - Duration::hours(1)))),
        Run {
            status: RunStatus::Completed,
            ..with_work(&a, 7, None)
        },
        Run {
            status: RunStatus::Skipped,
            ..with_work(&b, 8, None)
        },
    ];
    for r in &runs {
        let s = if r.schedule_id == a.id {
            &mut a
        } else {
            &mut b
        };
        assert!(claim(&*store, s, r).await?.applied(), "{}", r.run_id);
    }
    let start = store.runs_with_work(WorkKind::Start, now, 10).await?;
    assert_eq!(start, [runs[1].clone(), runs[0].clone(), runs[2].clone()]);
    let first = store.runs_with_work(WorkKind::Start, now, 1).await?;
    assert_eq!(first, [runs[1].clone()]);
    let poll = store.runs_with_work(WorkKind::Poll, now, 10).await?;
    assert_eq!(poll, [runs[4].clone()]);
    let notify = store.runs_with_work(WorkKind::Notify, now, 10).await?;
    assert_eq!(notify, [runs[5].clone()]);
    assert!(
        store
            .runs_with_work(WorkKind::Poll, now - Duration::hours(2), 10)
            .await?
            .is_empty()
    );

    // Clearing the work (the notifier published) takes the run out; setting it moves it to another kind.
    let mut published = runs[5].clone();
    published.notified();
    assert!(
        store
            .update_run(&published, runs[5].version)
            .await?
            .applied()
    );
    assert!(
        store
            .runs_with_work(WorkKind::Notify, now, 10)
            .await?
            .is_empty()
    );
    let mut started = runs[1].clone();
    started.started("sess-2".into(), now - Duration::minutes(30));
    assert!(store.update_run(&started, runs[1].version).await?.applied());
    let poll = store.runs_with_work(WorkKind::Poll, now, 10).await?;
    assert_eq!(poll, [runs[4].clone(), started]);
    let start = store.runs_with_work(WorkKind::Start, now, 10).await?;
    assert_eq!(
        run_ids(&start),
        [runs[0].run_id.as_str(), runs[2].run_id.as_str()]
    );
    Ok(())
}

pub async fn list_runs_is_newest_first_and_limited(store: Arc<dyn ScheduleStore>) -> Result<()> {
    let mut a = schedule("sch_a", "alice", at(1, 0, 0));
    let mut b = schedule("sch_b", "alice", at(1, 0, 0));
    store.insert_schedule(&a).await?;
    store.insert_schedule(&b).await?;
    // Claimed out of occurrence order (a run-now may be for an earlier instant than a later claim).
    for day in [3, 1, 5, 2, 4] {
        let r = skipped_run(&a, at(day, 8, 0));
        assert!(claim(&*store, &mut a, &r).await?.applied());
    }
    let r = skipped_run(&b, at(6, 8, 0));
    assert!(claim(&*store, &mut b, &r).await?.applied());

    let all = store.list_runs(&a.id, 10, None).await?;
    let days: Vec<_> = all.iter().map(|r| r.scheduled_for).collect();
    assert_eq!(days, [5, 4, 3, 2, 1].map(|d| at(d, 8, 0)));
    assert!(all.iter().all(|r| r.schedule_id == a.id));
    let newest_two = store.list_runs(&a.id, 2, None).await?;
    assert_eq!(newest_two, all[..2]);
    assert_eq!(store.list_runs(&b.id, 10, None).await?.len(), 1);
    Ok(())
}

/// The one retention rule (`RunRetention`, 50 runs as configured by default), exactly: once a run finishes, a
/// schedule keeps its 50 newest runs by occurrence plus every older run that is unfinished or still has work, and
/// nothing else. (SQLite and memory also apply it when a run is created; DynamoDB marks runs only after a finish, so
/// a claim stays two item writes. Either way the result after a finish is the same.)
pub async fn retention_keeps_exactly_the_newest_runs_and_every_unfinished_one(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let keep = shared::domain::RunRetention::default().count() as usize;
    let mut s = schedule("sch_a", "alice", at(1, 0, 0));
    store.insert_schedule(&s).await?;
    let base = at(1, 0, 0);
    let pending = run(&s, base);
    let mut notifying = skipped_run(&s, base + Duration::hours(1));
    notifying.status = RunStatus::Completed;
    notifying.work = Some(Work::new(WorkKind::Notify, base + Duration::hours(1)));
    assert!(claim(&*store, &mut s, &pending).await?.applied());
    assert!(claim(&*store, &mut s, &notifying).await?.applied());
    let mut finished = Vec::new();
    for i in 0..60 {
        let r = skipped_run(&s, base + Duration::hours(2 + i));
        assert!(claim(&*store, &mut s, &r).await?.applied(), "run {i}");
        finished.push(r);
    }
    // The newest run finishes: every store applies the rule now.
    let last = run(&s, base + Duration::hours(62));
    assert!(claim(&*store, &mut s, &last).await?.applied());
    let (done, after) = finish_failed(&s, &last, base + Duration::hours(62));
    assert!(
        store
            .finish_run(&done, last.version, &after, s.version)
            .await?
            .applied()
    );
    finished.reverse();

    let mut expected = vec![done];
    expected.extend(finished[..keep - 1].iter().cloned());
    expected.push(notifying);
    expected.push(pending);
    let kept = store.list_runs(&s.id, 100, None).await?;
    assert_eq!(
        run_ids(&kept),
        run_ids(&expected),
        "the {keep} newest, then the older runs with work left"
    );
    assert_eq!(kept, expected);
    // What was dropped is gone for readers.
    for old in &finished[keep - 1..] {
        assert_eq!(
            stored_run(&*store, old).await?.map(|r| r.run_id),
            None,
            "{}",
            old.run_id
        );
    }
    Ok(())
}

/// The coverage ledger rides on the schedule: each claim marks the run's window in progress and each finish turns
/// it into covered time or a `failed` gap, in the same atomic write; a write that loses its condition leaves the
/// ledger as it was; and a minutely schedule keeps its whole covered history although only the newest runs are kept.
pub async fn coverage_is_written_with_the_finishing_write_merged_and_outlives_retention(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    use shared::domain::timing::TimingRule;
    use shared::domain::{GapReason, Window};
    let created = at(1, 0, 0);
    let mut s = Schedule {
        timing: TimingSpec {
            frequency: Frequency::Custom,
            scheduled_time: None,
            cron_expression: Some("* * * * *".into()),
            ..schedule("x", "alice", created).timing
        },
        next_run_at: Some(created + Duration::minutes(1)),
        ..schedule("sch_cov", "alice", created)
    };
    let rule = TimingRule::parse_stored(&s.timing).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    store.insert_schedule(&s).await?;
    let keep = shared::domain::RunRetention::default().count() as i64;
    let minutes = keep + 20;
    for m in 1..=minutes {
        let now = created + Duration::minutes(m);
        let mut claimed = s.clone();
        let run = claimed.claim(&rule, now, now).context("due")?;
        ensure!(store.create_run(&claimed, s.version, &run).await?.applied());
        let in_progress = stored_schedule(&*store, &s.id).await?.coverage;
        ensure!(
            in_progress
                .in_progress()
                .iter()
                .any(|p| p.run_id == run.run_id),
            "the claim marks the window in progress"
        );
        s = claimed;
        let mut done = run.clone();
        let status = if m % 30 == 0 {
            RunStatus::Failed
        } else {
            RunStatus::Completed
        };
        done.finish(status, now, None, None);
        let mut finished = s.clone();
        finished.record_finished_run(&mut done, now);
        if m == 10 {
            // A finish that loses its condition writes no coverage either.
            ensure!(
                !store
                    .finish_run(&done, run.version, &finished, s.version + 7)
                    .await?
                    .applied()
            );
            ensure!(stored_schedule(&*store, &s.id).await?.coverage == s.coverage);
        }
        ensure!(
            store
                .finish_run(&done, run.version, &finished, s.version)
                .await?
                .applied()
        );
        s = finished;
        // Its notifications are out: nothing keeps it from retention.
        let mut notified = done.clone();
        notified.notified();
        ensure!(store.update_run(&notified, done.version).await?.applied());
    }
    let stored = stored_schedule(&*store, &s.id).await?;
    assert_eq!(stored.coverage, s.coverage, "the ledger round-trips");
    let start = created;
    let minute = |m: i64| start + Duration::minutes(m);
    assert_eq!(
        stored.coverage.covered(),
        [
            Window::new(start, minute(29)),
            Window::new(minute(30), minute(59)),
            Window::new(minute(60), minute(minutes))
        ],
        "merged spans, one per run of successes"
    );
    let gaps: Vec<_> = stored
        .coverage
        .gaps()
        .iter()
        .map(|g| (g.window(), g.reason))
        .collect();
    assert_eq!(
        gaps,
        [
            (Window::new(minute(29), minute(30)), GapReason::Failed),
            (Window::new(minute(59), minute(60)), GapReason::Failed)
        ]
    );
    assert!(stored.coverage.in_progress().is_empty());
    let kept = store.list_runs(&s.id, 100, None).await?;
    assert_eq!(kept.len() as i64, keep, "retention dropped the oldest runs");
    let view = stored.coverage.view(start, minute(minutes));
    assert!(
        view.covered_ratio > 0.97 && view.covered_ratio < 1.0,
        "{}",
        view.covered_ratio
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Notifications

pub async fn put_notification_is_idempotent_and_overwrites(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let n = notification("ntf_1", "alice", at(2, 9, 0));
    store.put_notification(&n).await?;
    store.put_notification(&n).await?;
    let page = store
        .list_notifications(Some("alice"), 10, &PageStart::Offset(0))
        .await?;
    assert_eq!(page.items, std::slice::from_ref(&n));
    assert_eq!(page.total, 1);

    let rewritten = Notification {
        event: NotificationEvent::ScheduleDisabled,
        summary: None,
        created_at: at(2, 9, 5),
        ..n.clone()
    };
    store.put_notification(&rewritten).await?;
    let page = store
        .list_notifications(None, 10, &PageStart::Offset(0))
        .await?;
    assert_eq!(page.items, [rewritten]);
    assert_eq!(page.total, 1);
    Ok(())
}

pub async fn list_notifications_per_owner_newest_first_with_paging(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let mut alice = Vec::new();
    for i in 0..5 {
        let n = notification(
            &format!("ntf_a{i}"),
            "alice",
            at(2, 9, 0) + Duration::minutes(i),
        );
        store.put_notification(&n).await?;
        alice.push(n);
    }
    // A tie on creation time: the larger id first.
    let tie = notification("ntf_a9", "alice", at(2, 9, 4));
    store.put_notification(&tie).await?;
    alice.push(tie);
    let bob = notification("ntf_b0", "bob", at(2, 9, 2) + Duration::seconds(30));
    store.put_notification(&bob).await?;
    alice.reverse();

    let first = store
        .list_notifications(Some("alice"), 4, &PageStart::Offset(0))
        .await?;
    assert_eq!(first.total, 6);
    assert_eq!(first.items, alice[..4]);
    assert_eq!(alice[0].id.as_str(), "ntf_a9");
    let second = store
        .list_notifications(Some("alice"), 4, &PageStart::Offset(4))
        .await?;
    assert_eq!(second.total, 6);
    assert_eq!(second.items, alice[4..]);

    let bobs = store
        .list_notifications(Some("bob"), 10, &PageStart::Offset(0))
        .await?;
    assert_eq!(bobs.items, [bob]);
    assert_eq!(bobs.total, 1);
    let carol = store
        .list_notifications(Some("carol"), 10, &PageStart::Offset(0))
        .await?;
    assert!(carol.items.is_empty());
    assert_eq!(carol.total, 0);

    let everyone = store
        .list_notifications(None, 3, &PageStart::Offset(2))
        .await?;
    assert_eq!(everyone.total, 7);
    let ids: Vec<_> = everyone.items.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["ntf_a3", "ntf_b0", "ntf_a2"]);
    Ok(())
}

// ------------------------------------------------------------------------------------------------------------
// Findings

/// A reported finding with `entity` (and a fixed technique), severity `severity`.
fn reported(title: &str, entity: &str, severity: Severity) -> ReportedFinding {
    ReportedFinding::bounded(
        title,
        severity,
        Some("seen in SigninLogs"),
        [Entity {
            kind: Some("ip".into()),
            value: entity.into(),
        }],
        ["T1110".to_owned()],
        Some("engine-1"),
    )
    .expect("a titled finding")
}

/// Claims, then completes a run of `s` at `finished` with `findings`, through the domain (the diff included).
async fn complete_with(
    store: &dyn ScheduleStore,
    s: &mut Schedule,
    scheduled_for: DateTime<Utc>,
    finished: DateTime<Utc>,
    findings: Vec<ReportedFinding>,
) -> Result<Run> {
    let r = run(s, scheduled_for);
    ensure!(claim(store, s, &r).await?.applied(), "claim applied");
    let mut done = r.clone();
    done.report_findings(ReportedFindings::capped(findings, 1));
    done.finish(RunStatus::Completed, finished, None, Some("done".into()));
    let mut after = s.clone();
    after.record_finished_run(&mut done, finished);
    let outcome = store
        .finish_run(&done, r.version, &after, s.version)
        .await?;
    ensure!(outcome.applied(), "finish applied");
    *s = after;
    // What was stored never holds the engine's raw report.
    done.reported = None;
    Ok(done)
}

pub async fn findings_and_resolved_round_trip_and_listings_carry_only_the_summary(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    let mut s = schedule("sch_f", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    let a = reported("Spray from 203.0.113.7", "203.0.113.7", Severity::High);
    let b = reported("Odd sign-in", "198.51.100.2", Severity::Low);
    let c = reported("New admin", "carol@contoso.com", Severity::Critical);
    let first = complete_with(
        &*store,
        &mut s,
        at(1, 8, 0),
        at(1, 8, 5),
        vec![a, b.clone()],
    )
    .await?;
    let second = complete_with(&*store, &mut s, at(2, 8, 0), at(2, 8, 5), vec![b, c]).await?;

    let summary = second
        .findings_summary
        .context("a completed run has a summary")?;
    assert_eq!(
        (
            summary.total,
            summary.new,
            summary.ongoing,
            summary.resolved,
            summary.max_severity,
            summary.skipped
        ),
        (2, 1, 1, 1, Some(Severity::Critical), 1)
    );
    assert_eq!(second.resolved.len(), 1);
    assert_eq!(second.resolved[0].last_seen_at, at(1, 8, 5));
    assert_eq!(stored_run(&*store, &first).await?, Some(first.clone()));
    assert_eq!(stored_run(&*store, &second).await?, Some(second.clone()));
    // The outbox gets whole runs; listings leave the lists out and keep the summary.
    let to_notify = store
        .runs_with_work(WorkKind::Notify, at(2, 9, 0), 10)
        .await?;
    assert_eq!(to_notify, [first.clone(), second.clone()]);
    let listed = store.list_runs(&s.id, 10, None).await?;
    assert_eq!(
        listed,
        [
            second.clone().without_findings(),
            first.clone().without_findings()
        ]
    );
    assert_eq!(listed[0].findings_summary, Some(summary));
    // The schedule keeps the latest summary and the baseline of the latest completed run.
    let stored = stored_schedule(&*store, &s.id).await?;
    assert_eq!(stored, s);
    assert_eq!(stored.findings_summary, Some(summary));
    assert_eq!(stored.findings_baseline.map(|b| b.findings.len()), Some(2));
    // A later write of the run (the outbox clearing its mark) keeps its findings.
    let mut notified = second.clone();
    notified.notified();
    assert!(store.update_run(&notified, second.version).await?.applied());
    assert_eq!(stored_run(&*store, &second).await?, Some(notified));
    Ok(())
}

pub async fn a_run_with_200_findings_of_maximum_size_is_written_whole(
    store: Arc<dyn ScheduleStore>,
) -> Result<()> {
    use shared::domain::findings::{
        MAX_DESCRIPTION_CHARS, MAX_ENGINE_ID_CHARS, MAX_ENTITIES, MAX_ENTITY_TYPE_CHARS,
        MAX_ENTITY_VALUE_CHARS, MAX_FINDINGS, MAX_TECHNIQUES, MAX_TITLE_CHARS,
    };
    // Four-byte characters everywhere: the largest a bounded finding can be.
    let wide = |n: usize| "𝔸".repeat(n + 10);
    let biggest = |i: usize| {
        ReportedFinding::bounded(
            &format!("{i} {}", wide(MAX_TITLE_CHARS)),
            Severity::Critical,
            Some(&wide(MAX_DESCRIPTION_CHARS)),
            (0..MAX_ENTITIES + 5).map(|e| Entity {
                kind: Some(wide(MAX_ENTITY_TYPE_CHARS)),
                value: format!("{i}-{e}-{}", wide(MAX_ENTITY_VALUE_CHARS)),
            }),
            (0..MAX_TECHNIQUES + 5).map(|t| format!("T{:04}.{:03}", 1000 + t, i % 1000)),
            Some(&wide(MAX_ENGINE_ID_CHARS)),
        )
        .expect("titled")
    };
    let mut s = schedule("sch_max", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    let first: Vec<_> = (0..MAX_FINDINGS).map(biggest).collect();
    let one = complete_with(&*store, &mut s, at(1, 8, 0), at(1, 8, 5), first).await?;
    assert_eq!(one.findings.len(), MAX_FINDINGS);
    let json = serde_json::to_string(&one.findings)?;
    assert!(
        json.len() > 2_000_000,
        "the fixture is as large as findings get: {} bytes",
        json.len()
    );
    assert_eq!(stored_run(&*store, &one).await?, Some(one.clone()));

    // The next run finds 200 other findings: 200 new and all 200 of the first resolved, with the schedule's
    // baseline at its largest too.
    let second: Vec<_> = (MAX_FINDINGS..2 * MAX_FINDINGS).map(biggest).collect();
    let two = complete_with(&*store, &mut s, at(2, 8, 0), at(2, 8, 5), second).await?;
    assert_eq!(
        (two.findings.len(), two.resolved.len()),
        (MAX_FINDINGS, MAX_FINDINGS)
    );
    assert_eq!(stored_run(&*store, &two).await?, Some(two.clone()));
    assert_eq!(stored_schedule(&*store, &s.id).await?, s);
    Ok(())
}
