//! The store contract suite against [`SqliteScheduleStore`] on a real file, plus what only a file can show:
//! the data outlives the process's connection.

use shared::adapters::sqlite::SqliteScheduleStore;
use shared::ports::ScheduleStore;
use std::sync::Arc;
use tests::store_contract::{TestStore, at, claim, notification, run, schedule};

async fn fresh_store() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteScheduleStore::open(
        &dir.path().join("store.db"),
        shared::domain::RunRetention::default(),
    )
    .expect("open the store");
    TestStore::new(Arc::new(store), dir)
}

tests::store_contract_tests!(fresh_store);

#[tokio::test]
async fn data_survives_closing_and_reopening_the_file() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("store.db");
    let mut s = schedule("sch_a", "alice", at(1, 7, 0));
    let r = run(&s, at(1, 8, 0));
    let n = notification("ntf_1", "alice", at(1, 9, 0));
    {
        let store = SqliteScheduleStore::open(&path, shared::domain::RunRetention::default())?;
        store.insert_schedule(&s).await?;
        assert!(claim(&store, &mut s, &r).await?.applied());
        store.put_notification(&n).await?;
    }

    let reopened = SqliteScheduleStore::open(&path, shared::domain::RunRetention::default())?;
    assert_eq!(reopened.get_schedule(&s.id).await?, Some(s.clone()));
    assert_eq!(reopened.get_run(&s.id, &r.run_id).await?, Some(r.clone()));
    assert_eq!(
        reopened
            .list_notifications(Some("alice"), 10, &shared::ports::PageStart::Offset(0))
            .await?
            .items,
        [n]
    );
    // The reopened store still enforces the conditions: the claim cannot happen twice.
    let mut stale = schedule("sch_a", "alice", at(1, 7, 0));
    assert!(!claim(&reopened, &mut stale, &r).await?.applied());
    assert_eq!(reopened.due_schedules(at(2, 8, 0), 10).await?, [s]);
    Ok(())
}
