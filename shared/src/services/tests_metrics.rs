//! The measurements the use cases record, on the in-memory twins with a fixed clock, each test with a recorder of
//! its own (`metrics::with_local_recorder` on a current-thread runtime, so spawned starts record into it too).

use super::test_support::*;
use crate::adapters::memory::MemoryScheduleStore;
use crate::domain::RunRetention;
use crate::ports::{EngineError, ScheduleStore, SessionState, StoreError, WriteOutcome};
use crate::telemetry::*;
use chrono::Duration;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use std::future::Future;

type Labels = Vec<(String, String)>;

/// What one test recorded: each metric's name, labels and value.
struct Recorded(Vec<(String, Labels, DebugValue)>);

impl Recorded {
    fn counter(&self, name: &str) -> u64 {
        self.0
            .iter()
            .filter(|(n, ..)| n == name)
            .map(|(_, _, v)| match v {
                DebugValue::Counter(c) => *c,
                _ => 0,
            })
            .sum()
    }

    fn counter_with(&self, name: &str, label: (&str, &str)) -> u64 {
        self.0
            .iter()
            .filter(|(n, labels, _)| {
                n == name
                    && labels
                        .iter()
                        .any(|(k, v)| (k.as_str(), v.as_str()) == label)
            })
            .map(|(_, _, v)| match v {
                DebugValue::Counter(c) => *c,
                _ => 0,
            })
            .sum()
    }

    fn histogram(&self, name: &str) -> Vec<f64> {
        self.0
            .iter()
            .filter(|(n, ..)| n == name)
            .flat_map(|(_, _, v)| match v {
                DebugValue::Histogram(values) => values.iter().map(|x| x.into_inner()).collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    fn labels_of(&self, name: &str) -> Vec<Labels> {
        self.0
            .iter()
            .filter(|(n, ..)| n == name)
            .map(|(_, l, _)| l.clone())
            .collect()
    }
}

/// Runs `body` with a recorder of its own and returns what it recorded.
fn measured<F: Future<Output = anyhow::Result<()>>>(body: impl FnOnce() -> F) -> Recorded {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(body())
            .expect("the use cases ran");
    });
    Recorded(
        snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let key = key.key();
                let labels = key
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                (key.name().to_owned(), labels, value)
            })
            .collect(),
    )
}

#[test]
fn a_claimed_and_started_run_counts_once_with_its_exact_dispatch_lag() {
    let recorded = measured(|| async {
        // Given a daily 08:00 schedule, when the dispatcher ticks 42.5 s after the occurrence.
        let w = World::new(at(2026, 6, 1, 7, 0));
        w.create(&analyst("alice"), daily("A", "08:00")).await?;
        w.clock
            .set(at(2026, 6, 1, 8, 0) + Duration::milliseconds(42_500));
        w.services.dispatch_due(w.now(), None).await?;
        // A second tick finds nothing new.
        w.services.dispatch_due(w.now(), None).await?;
        Ok(())
    });
    assert_eq!(recorded.counter(RUNS_CLAIMED), 1);
    assert_eq!(recorded.counter(RUNS_STARTED), 1);
    assert_eq!(recorded.histogram(DISPATCH_LAG), vec![42.5]);
    assert_eq!(recorded.counter(RUNS_DEFERRED), 0);
    assert_eq!(recorded.histogram(TICK_DURATION).len(), 2);
    assert_eq!(
        recorded.labels_of(TICK_DURATION),
        vec![vec![("tick".to_owned(), "dispatch".to_owned())]]
    );
}

#[test]
fn backpressure_defers_a_transient_error_retries_and_an_overlap_skips() {
    let recorded = measured(|| async {
        let w = World::new(at(2026, 6, 1, 7, 0));
        let alice = analyst("alice");
        let id = w.create(&alice, daily("A", "08:00")).await?;
        w.engine.push_start(Err(EngineError::Backpressure {
            retry_after: std::time::Duration::from_secs(30),
        }));
        w.clock.set(at(2026, 6, 1, 8, 0));
        w.services.dispatch_due(w.now(), None).await?;
        w.engine
            .push_start(Err(EngineError::Unavailable("503 from the engine".into())));
        w.clock.advance(Duration::seconds(30));
        w.services.dispatch_due(w.now(), None).await?;
        // The retry after the back-off starts it: lag from 08:00.
        w.clock.advance(Duration::minutes(5));
        w.services.dispatch_due(w.now(), None).await?;
        // Still running at the next occurrence: skipped.
        w.clock.set(at(2026, 6, 2, 8, 0));
        let report = w.services.dispatch_due(w.now(), None).await?;
        anyhow::ensure!(report.skipped == 1, "{report:?} for {id}");
        Ok(())
    });
    assert_eq!(recorded.counter(RUNS_DEFERRED), 1);
    assert_eq!(recorded.counter(RUNS_RETRIED), 1);
    assert_eq!(recorded.counter(RUNS_STARTED), 1);
    assert_eq!(recorded.counter(RUNS_SKIPPED), 1);
    assert_eq!(recorded.counter(RUNS_CLAIMED), 1);
    assert_eq!(recorded.histogram(DISPATCH_LAG), vec![330.0]);
}

#[test]
fn outcomes_count_by_kind_and_notifications_count_published_and_failed() {
    let recorded = measured(|| async {
        let w = World::new(at(2026, 6, 1, 7, 0));
        let alice = analyst("alice");
        let id = w.create(&alice, daily("A", "08:00")).await?;
        let completed = w.services.run_now(&alice, &id).await?;
        let failed = w.services.run_now(&alice, &id).await?;
        let _hung = w.services.run_now(&alice, &id).await?;
        let finding = |entity: &str| {
            crate::domain::ReportedFinding::bounded(
                "Password spray",
                crate::domain::Severity::High,
                None,
                [crate::domain::findings::Entity {
                    kind: None,
                    value: entity.into(),
                }],
                [],
                None,
            )
            .unwrap()
        };
        w.engine.set_session(
            completed.session_id.as_deref().unwrap(),
            Ok(SessionState::Completed {
                summary: None,
                finished_at: None,
                findings: crate::domain::ReportedFindings::capped(
                    vec![finding("203.0.113.7"), finding("198.51.100.9")],
                    0,
                ),
            }),
        );
        w.engine.set_session(
            failed.session_id.as_deref().unwrap(),
            Ok(SessionState::Failed {
                message: "Sentinel unreachable".into(),
                finished_at: None,
            }),
        );
        w.notifier.set_failing(true);
        w.clock.advance(Duration::minutes(5));
        w.services.check_runs(w.now(), None).await?;
        // Past the run timeout the one still running fails as timed out; the notifier works again.
        w.notifier.set_failing(false);
        w.clock.advance(Duration::hours(3));
        w.services.check_runs(w.now(), None).await?;
        Ok(())
    });
    assert_eq!(recorded.counter(RUNS_COMPLETED), 1);
    // The first completed run's two findings are new.
    assert_eq!(recorded.counter(FINDINGS_NEW), 2);
    assert_eq!(
        recorded.counter_with(RUNS_FAILED, ("error_kind", "investigation_failed")),
        1
    );
    assert_eq!(
        recorded.counter_with(RUNS_FAILED, ("error_kind", "timed_out")),
        1
    );
    assert_eq!(recorded.counter(RUNS_FAILED), 2);
    assert_eq!(recorded.counter(RUNS_TIMED_OUT), 1);
    // Two finished runs' notifications failed on the first tick and went out on the second with the third's.
    assert_eq!(recorded.counter(NOTIFICATIONS_FAILED), 2);
    assert_eq!(recorded.counter(NOTIFICATIONS_PUBLISHED), 3);
    assert_eq!(
        recorded.labels_of(TICK_DURATION),
        vec![vec![("tick".to_owned(), "status_check".to_owned())]]
    );
}

/// A store on which someone else edits every due schedule just after the dispatcher read it, so its claim loses.
struct EditedUnderneath(MemoryScheduleStore);

#[async_trait::async_trait]
impl ScheduleStore for EditedUnderneath {
    async fn insert_schedule(&self, s: &crate::domain::Schedule) -> Result<(), StoreError> {
        self.0.insert_schedule(s).await
    }
    async fn get_schedule(
        &self,
        id: &crate::domain::ScheduleId,
    ) -> Result<Option<crate::domain::Schedule>, StoreError> {
        self.0.get_schedule(id).await
    }
    async fn list_schedules(
        &self,
        f: &crate::ports::ScheduleFilter,
        limit: u32,
        start: &crate::ports::PageStart,
    ) -> Result<crate::ports::Page<crate::domain::Schedule>, StoreError> {
        self.0.list_schedules(f, limit, start).await
    }
    async fn update_schedule(
        &self,
        s: &crate::domain::Schedule,
        v: u64,
    ) -> Result<WriteOutcome, StoreError> {
        self.0.update_schedule(s, v).await
    }
    async fn due_schedules(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<crate::domain::Schedule>, StoreError> {
        let due = self.0.due_schedules(now, limit).await?;
        for s in &due {
            let mut edited = s.clone();
            edited.touch(now);
            self.0.update_schedule(&edited, s.version).await?;
        }
        Ok(due)
    }
    async fn create_run(
        &self,
        s: &crate::domain::Schedule,
        v: u64,
        r: &crate::domain::Run,
    ) -> Result<WriteOutcome, StoreError> {
        self.0.create_run(s, v, r).await
    }
    async fn update_run(&self, r: &crate::domain::Run, v: u64) -> Result<WriteOutcome, StoreError> {
        self.0.update_run(r, v).await
    }
    async fn finish_run(
        &self,
        r: &crate::domain::Run,
        rv: u64,
        s: &crate::domain::Schedule,
        sv: u64,
    ) -> Result<WriteOutcome, StoreError> {
        self.0.finish_run(r, rv, s, sv).await
    }
    async fn get_run(
        &self,
        s: &crate::domain::ScheduleId,
        r: &crate::domain::RunId,
    ) -> Result<Option<crate::domain::Run>, StoreError> {
        self.0.get_run(s, r).await
    }
    async fn list_runs(
        &self,
        s: &crate::domain::ScheduleId,
        limit: u32,
        after: Option<&crate::ports::After>,
    ) -> Result<Vec<crate::domain::Run>, StoreError> {
        self.0.list_runs(s, limit, after).await
    }
    async fn runs_with_work(
        &self,
        k: crate::domain::WorkKind,
        now: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<crate::domain::Run>, StoreError> {
        self.0.runs_with_work(k, now, limit).await
    }
    async fn put_notification(&self, n: &crate::domain::Notification) -> Result<(), StoreError> {
        self.0.put_notification(n).await
    }
    async fn list_notifications(
        &self,
        owner: Option<&str>,
        limit: u32,
        start: &crate::ports::PageStart,
    ) -> Result<crate::ports::Page<crate::domain::Notification>, StoreError> {
        self.0.list_notifications(owner, limit, start).await
    }
    async fn list_audit(
        &self,
        s: &crate::domain::ScheduleId,
        limit: u32,
        offset: u32,
    ) -> Result<crate::ports::Page<crate::domain::AuditEvent>, StoreError> {
        self.0.list_audit(s, limit, offset).await
    }
}

#[test]
fn a_claim_lost_to_another_writer_counts_as_a_conflict() {
    let recorded = measured(|| async {
        let w = World::new(at(2026, 6, 1, 7, 0));
        w.create(&analyst("alice"), daily("A", "08:00")).await?;
        let store = std::sync::Arc::new(EditedUnderneath(MemoryScheduleStore::new(
            RunRetention::default(),
        )));
        // The same schedule, on the store that loses every claim.
        let s = w
            .store
            .list_schedules(&Default::default(), 1, &crate::ports::PageStart::Offset(0))
            .await?
            .items
            .remove(0);
        store.insert_schedule(&s).await?;
        let services = crate::services::Services::new(
            store,
            w.engine.clone(),
            w.notifier.clone(),
            w.clock.clone(),
            crate::config::ServiceConfig::default(),
        );
        w.clock.set(at(2026, 6, 1, 8, 0));
        let report = services.dispatch_due(w.now(), None).await?;
        anyhow::ensure!(report.conflicts == 1, "{report:?}");
        Ok(())
    });
    assert_eq!(recorded.counter(CLAIM_CONFLICTS), 1);
    assert_eq!(recorded.counter(RUNS_CLAIMED), 0);
}

#[test]
fn a_failed_backfill_announces_its_gap_once() {
    let recorded = measured(|| async {
        let w = World::new(at(2026, 6, 1, 7, 0));
        let alice = analyst("alice");
        let id = w.create(&alice, daily("A", "23:00")).await?;
        w.clock.advance(Duration::hours(2));
        let window = crate::services::BackfillRequest {
            start: at(2026, 6, 1, 7, 30),
            end: at(2026, 6, 1, 8, 30),
        };
        let run = w.services.backfill(&alice, &id, window).await?;
        w.engine.set_session(
            run.session_id.as_deref().unwrap(),
            Ok(SessionState::Failed {
                message: "Sentinel unreachable".into(),
                finished_at: None,
            }),
        );
        w.clock.advance(Duration::minutes(5));
        w.services.check_runs(w.now(), None).await?;
        // A later tick finds nothing more to announce.
        w.clock.advance(Duration::minutes(5));
        w.services.check_runs(w.now(), None).await?;
        Ok(())
    });
    assert_eq!(recorded.counter(COVERAGE_GAPS), 1);
    // A backfill's failure is a failed run, and its notification and the gap's were published.
    assert_eq!(recorded.counter(RUNS_FAILED), 1);
    assert_eq!(recorded.counter(NOTIFICATIONS_PUBLISHED), 2);
}

#[test]
fn every_metric_has_a_unit_and_a_description() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        describe();
        for name in ALL {
            if [DISPATCH_LAG, TICK_DURATION].contains(&name) {
                metrics::histogram!(name).record(0.0);
            } else {
                metrics::counter!(name).absolute(0);
            }
        }
    });
    let described: Vec<(String, bool, bool)> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(k, unit, desc, _)| (k.key().name().to_owned(), unit.is_some(), desc.is_some()))
        .collect();
    for name in ALL {
        assert!(
            described.iter().any(|(n, u, d)| n == name && *u && *d),
            "{name}: {described:?}"
        );
    }
}
