//! The store contract suite against [`DynamoDbScheduleStore`] on moto (`.ci/moto.sh` starts it), one fresh table
//! per test, plus what only DynamoDB needs checking: the item layout the indexes and TTL rely on.

use aws_sdk_dynamodb::types::AttributeValue;
use shared::adapters::dynamodb::{DynamoDbScheduleStore, keys};
use shared::domain::WorkKind;
use shared::ports::{ScheduleStore, StoreError};
use std::sync::Arc;
use tests::store_contract::{TestStore, at, claim, notification, run, schedule, skipped_run};

async fn fresh_store() -> TestStore {
    let (client, table) = tests::moto::fresh_store_table().await;
    TestStore::new(
        Arc::new(DynamoDbScheduleStore::new(
            client,
            table,
            shared::domain::RunRetention::default(),
        )),
        (),
    )
}

tests::store_contract_tests!(fresh_store);

async fn raw_item(
    store: &DynamoDbScheduleStore,
    key: &keys::Key,
) -> std::collections::HashMap<String, AttributeValue> {
    store
        .client()
        .get_item()
        .table_name(store.table())
        .key(keys::PK, AttributeValue::S(key.pk.clone()))
        .key(keys::SK, AttributeValue::S(key.sk.clone()))
        .consistent_read(true)
        .send()
        .await
        .expect("get item")
        .item
        .expect("item exists")
}

#[tokio::test]
async fn index_and_ttl_attributes_follow_the_domain_state() -> anyhow::Result<()> {
    let (client, table) = tests::moto::fresh_store_table().await;
    let store = DynamoDbScheduleStore::new(client, table, shared::domain::RunRetention::default());
    let mut s = schedule("sch_a", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    let item = raw_item(&store, &keys::schedule_key("alice", &s.id)).await;
    assert_eq!(
        item.get(keys::DUE_AT),
        Some(&AttributeValue::S("2030-03-01T08:00:00.000Z".into()))
    );
    assert!(item.contains_key(keys::DUE_SHARD) && item.contains_key(keys::LIST_KEY));

    // A pending run has work and no expiry; a skipped one (finished, nothing to do) leaves `work` and is written
    // without expiry too: runs expire by count (see `old_runs_beyond_the_history_are_marked_to_expire`).
    let pending = run(&s, at(1, 8, 0));
    assert!(claim(&store, &mut s, &pending).await?.applied());
    let item = raw_item(&store, &keys::run_key(&s.id, &pending.run_id)).await;
    assert!(item.contains_key(keys::WORK_KEY));
    assert!(!item.contains_key(keys::EXPIRES_AT));
    let done = skipped_run(&s, at(2, 8, 0));
    assert!(claim(&store, &mut s, &done).await?.applied());
    let item = raw_item(&store, &keys::run_key(&s.id, &done.run_id)).await;
    assert!(!item.contains_key(keys::WORK_KEY) && !item.contains_key(keys::WORK_AT));
    assert!(!item.contains_key(keys::EXPIRES_AT));

    let n = notification("ntf_1", "alice", at(3, 0, 0));
    store.put_notification(&n).await?;
    let item = raw_item(&store, &keys::notification_key(&n)).await;
    assert!(item.contains_key(keys::EXPIRES_AT));

    // Pausing removes the schedule from the due index.
    let v = s.version;
    s.status = shared::domain::ScheduleStatus::Paused;
    s.touch(at(3, 0, 0));
    assert!(store.update_schedule(&s, v).await?.applied());
    let item = raw_item(&store, &keys::schedule_key("alice", &s.id)).await;
    assert!(!item.contains_key(keys::DUE_AT) && !item.contains_key(keys::DUE_SHARD));
    assert!(
        store
            .runs_with_work(WorkKind::Start, at(30, 0, 0), 10)
            .await?
            .len()
            == 1
    );
    Ok(())
}

#[tokio::test]
async fn a_malformed_item_is_an_error_not_a_panic() -> anyhow::Result<()> {
    let (client, table) = tests::moto::fresh_store_table().await;
    let store = DynamoDbScheduleStore::new(client, table, shared::domain::RunRetention::default());
    let s = schedule("sch_a", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    // Another writer (or an older version) left a version that is not a number.
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key(keys::PK, AttributeValue::S("OWNER#alice".into()))
        .key(keys::SK, AttributeValue::S("SCH#sch_a".into()))
        .update_expression("SET #v = :bad")
        .expression_attribute_names("#v", "version")
        .expression_attribute_values(":bad", AttributeValue::S("seven".into()))
        .send()
        .await?;

    let err = store.get_schedule(&s.id).await;
    assert!(matches!(err, Err(StoreError::Malformed { .. })), "{err:?}");
    Ok(())
}

#[tokio::test]
async fn an_unreachable_table_is_unavailable() {
    let client = tests::moto::dynamodb().await;
    let store = DynamoDbScheduleStore::new(
        client,
        tests::moto::unique_name("missing"),
        shared::domain::RunRetention::default(),
    );
    let err = store.get_schedule(&"sch_a".into()).await;
    assert!(
        matches!(
            err,
            Err(StoreError::Unavailable {
                source: Some(_),
                ..
            })
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn old_runs_beyond_the_history_are_marked_to_expire() -> anyhow::Result<()> {
    let (client, table) = tests::moto::fresh_store_table().await;
    let store = DynamoDbScheduleStore::new(client, table, shared::domain::RunRetention::default());
    let mut s = schedule("sch_a", "alice", at(1, 7, 0));
    store.insert_schedule(&s).await?;
    // 55 finished runs, one per hour, then one in flight that finishes.
    let mut finished = Vec::new();
    for i in 0..55u32 {
        let r = skipped_run(&s, at(1 + i / 24, i % 24, 0));
        assert!(claim(&store, &mut s, &r).await?.applied());
        finished.push(r);
    }
    let live = run(&s, at(10, 0, 0));
    assert!(claim(&store, &mut s, &live).await?.applied());
    let mut done = live.clone();
    done.finish(
        shared::domain::RunStatus::Completed,
        at(10, 0, 5),
        None,
        None,
    );
    done.notified();
    let mut s2 = s.clone();
    s2.touch(at(10, 0, 5));
    assert!(
        store
            .finish_run(&done, live.version, &s2, s.version)
            .await?
            .applied()
    );

    // Newest 50 = the finished live run and the 49 newest skipped ones; the 6 oldest are marked.
    for (i, r) in finished.iter().enumerate() {
        let item = raw_item(&store, &keys::run_key(&s.id, &r.run_id)).await;
        assert_eq!(item.contains_key(keys::EXPIRES_AT), i < 6, "run {i}");
    }
    assert_eq!(store.list_runs(&s.id, 50, None).await?.len(), 50);
    // Marked runs are gone for readers at once, before TTL deletes them.
    assert_eq!(store.list_runs(&s.id, 100, None).await?.len(), 50);
    assert_eq!(store.get_run(&s.id, &finished[0].run_id).await?, None);
    Ok(())
}

#[tokio::test]
async fn audit_events_expire_by_ttl_after_400_days() -> anyhow::Result<()> {
    let (client, table) = tests::moto::fresh_store_table().await;
    let store = DynamoDbScheduleStore::new(client, table, shared::domain::RunRetention::default());
    let mut s = schedule("sch_a", "alice", at(1, 7, 0));
    s.created(&shared::domain::Actor::User("alice".into()));
    store.insert_schedule(&s).await?;
    let item = raw_item(&store, &keys::audit_key(&s.id, 1)).await;
    let expected = (at(1, 7, 0) + chrono::Duration::days(400)).timestamp();
    assert_eq!(
        item.get(keys::EXPIRES_AT),
        Some(&AttributeValue::N(expected.to_string()))
    );
    // In no listing index: the schedule's runs stay its runs only.
    assert!(!item.contains_key(keys::LIST_KEY));
    Ok(())
}
