//! The DynamoDB [`ScheduleStore`]: the store of the AWS deployment (DESIGN §7). One on-demand table whose layout
//! [`keys`] owns and documents; item mapping through `serde_dynamo` in [`items`].
//!
//! Every conditional write is a condition on the item itself (`version = :expected`, `attribute_not_exists`), and
//! the two-item writes (claim, finish) are one `TransactWriteItems`, so exactly one of two racing writers wins
//! and a half-applied claim cannot exist. Reads of single items and of per-partition lists are strongly
//! consistent; the sharded GSIs (`due`, `work`, `everyone`) are eventually consistent, which is fine for what
//! they serve (candidate lists and admin listings). Nothing here uses `Scan`.
//!
//! Costs: `list_schedules` and `list_notifications` read `limit` items per partition after a cursor (a key
//! condition on `list_key`), or `offset + limit` from an offset (per shard for admin listings), and count the total
//! with paged `Select=COUNT` queries, which read every matching index entry — fine for the few thousand schedules
//! or notifications per owner this product expects, not for millions.
//!
//! The client comes from the environment ([`DynamoDbScheduleStore::from_env`] uses `aws_config::load_from_env`,
//! which honours `AWS_ENDPOINT_URL`), so tests point it at an emulator without any emulator code here.

mod audit;
mod findings;
mod items;
pub mod keys;

use crate::domain::{
    AuditEvent, Notification, Run, RunId, RunRetention, Schedule, ScheduleId, WorkKind,
};
use crate::ports::{
    After, Page, PageStart, ScheduleFilter, ScheduleStore, StoreError, WriteOutcome,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, LocalSecondaryIndex, Projection, ProjectionType, Put, ScalarAttributeType, Select,
    TimeToLiveSpecification, TransactWriteItem,
};
use chrono::{DateTime, Utc};
use items::{Item, from_item, key_item, n, s};
use keys::SHARDS;
use std::time::Duration;

/// How long [`create_table`] waits for a new table to become `ACTIVE`.
const TABLE_READY_TIMEOUT: Duration = Duration::from_secs(300);

/// The largest page a listing query asks for; DynamoDB also stops a page at 1 MB.
const MAX_PAGE: usize = 1000;

/// Runs marked to expire linger until TTL deletes them (within a day or two): retention reads this many past the
/// kept count to find the ones not yet marked.
const EXPIRY_LOOKAHEAD: usize = 200;

/// [`ScheduleStore`] on one DynamoDB table (see [`keys`] for the layout).
#[derive(Debug, Clone)]
pub struct DynamoDbScheduleStore {
    client: Client,
    table: String,
    retention: RunRetention,
}

impl DynamoDbScheduleStore {
    /// A store on `table` whose schedules keep the runs `retention` keeps.
    pub fn new(client: Client, table: impl Into<String>, retention: RunRetention) -> Self {
        Self {
            client,
            table: table.into(),
            retention,
        }
    }

    /// A store on `table` with a client configured from the environment (region, credentials,
    /// `AWS_ENDPOINT_URL`), as a Lambda function or a local run against an emulator has it.
    pub async fn from_env(table: impl Into<String>, retention: RunRetention) -> Self {
        let config = aws_config::load_from_env().await;
        Self::new(Client::new(&config), table, retention)
    }

    /// Marks the schedule's runs that the retention drops to expire at `at` (DynamoDB's TTL deletes them within a
    /// day or two; listings leave them out at once). Runs already marked are not touched again.
    async fn expire_old_runs(
        &self,
        schedule_id: &ScheduleId,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let q =
            IndexQuery::newest_first(keys::BY_TIME, keys::schedule_partition(schedule_id), None);
        let keep = self.retention.count() as usize;
        let items = self.query_items(&q, keep + EXPIRY_LOOKAHEAD).await?;
        let now = at.timestamp();
        let mut marked = 0;
        for (position, item) in items.into_iter().enumerate().skip(keep) {
            if item.contains_key(keys::EXPIRES_AT) {
                continue;
            }
            let run: Run = from_item(item)?;
            if !self.retention.may_drop(position, &run) {
                continue;
            }
            let key = keys::run_key(&run.schedule_id, &run.run_id);
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_item(&key)))
                .update_expression("SET #e = :e")
                .condition_expression("#v = :v")
                .expression_attribute_names("#e", keys::EXPIRES_AT)
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":e", AttributeValue::N(now.to_string()))
                .expression_attribute_values(":v", AttributeValue::N(run.version.to_string()))
                .send()
                .await;
            match result {
                Ok(_) => {
                    marked += 1;
                    self.expire_findings(&run, now).await?;
                }
                // Written meanwhile: the next finish looks again.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(unavailable(e)),
            }
        }
        Ok(marked)
    }

    /// The part items of a run's findings, in order (one strongly consistent query on the part prefix).
    async fn findings_parts(&self, run: &Run) -> Result<Vec<Item>, StoreError> {
        let prefix = keys::findings_part_prefix(&run.schedule_id, &run.run_id);
        let mut parts = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_values(":pk", s(&prefix.pk))
                .expression_attribute_values(":prefix", s(&prefix.sk))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            parts.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(parts);
            }
        }
    }

    /// `run` with its findings lists read back from their parts.
    async fn with_findings(&self, mut run: Run) -> Result<Run, StoreError> {
        if findings::has_parts(&run) {
            let parts = self.findings_parts(&run).await?;
            findings::fill(&mut run, parts)?;
        }
        Ok(run)
    }

    /// Marks a dropped run's findings parts to expire with it.
    async fn expire_findings(&self, run: &Run, at: i64) -> Result<(), StoreError> {
        if !findings::has_parts(run) {
            return Ok(());
        }
        for part in self.findings_parts(run).await? {
            let key = keys::Key {
                pk: string_attr(&part, keys::PK).to_owned(),
                sk: string_attr(&part, keys::SK).to_owned(),
            };
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_item(&key)))
                .update_expression("SET #e = :e")
                .expression_attribute_names("#e", keys::EXPIRES_AT)
                .expression_attribute_values(":e", AttributeValue::N(at.to_string()))
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    async fn get(&self, key: &keys::Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    /// A whole-item `Put`, applied only if the stored item has `version = expected` (so never to a missing one).
    /// If an SDK retry follows an attempt that applied, the retry sees its own write and reports `Conflict`: the
    /// caller re-reads, as after any conflict, and finds the write done.
    async fn put_if_version(&self, item: Item, expected: u64) -> Result<WriteOutcome, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected))
            .send()
            .await;
        match result {
            Ok(_) => Ok(WriteOutcome::Applied),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(WriteOutcome::Conflict)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Runs a transaction; `Ok(false)` when it was cancelled because a condition failed or another transaction
    /// was writing the same item (someone else wrote first: nothing was applied).
    async fn transact(&self, actions: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
        // A token per call makes the SDK's own retries idempotent: if an attempt applied but its answer was lost,
        // the retry reports success instead of failing its own conditions. Racing callers never share a token.
        let result = self
            .client
            .transact_write_items()
            .client_request_token(ulid::Ulid::new().to_string())
            .set_transact_items(Some(actions))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                    e.as_service_error()
                {
                    let lost_a_race = cancelled.cancellation_reasons().iter().any(|reason| {
                        matches!(
                            reason.code(),
                            Some("ConditionalCheckFailed" | "TransactionConflict")
                        )
                    });
                    if lost_a_race {
                        return Ok(false);
                    }
                }
                Err(unavailable(e))
            }
        }
    }

    fn put_action(
        &self,
        item: Item,
        condition: Condition,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder().table_name(&self.table).set_item(Some(item));
        let put = match condition {
            Condition::IsNew => {
                put.condition_expression(format!("attribute_not_exists({})", keys::PK))
            }
            Condition::Version(expected) => put
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", n(expected)),
            Condition::None => put,
        };
        let put = put
            .build()
            .map_err(|e| StoreError::unavailable("building a transaction item", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Up to `want` items of one index partition, in index order, paging past 1 MB pages and filtered-out items.
    async fn query_items(&self, q: &IndexQuery, want: usize) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        while found.len() < want {
            let page = (want - found.len()).clamp(1, MAX_PAGE);
            let out = q
                .request(&self.client, &self.table)
                .limit(i32::try_from(page).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            found.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        found.truncate(want);
        Ok(found)
    }

    /// How many items of one index partition match (paged `Select=COUNT`: it reads them all, returns none).
    async fn query_count(&self, q: &IndexQuery) -> Result<u64, StoreError> {
        let mut total = 0u64;
        let mut start = None;
        loop {
            let out = q
                .request(&self.client, &self.table)
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            total += u64::try_from(out.count).unwrap_or(0);
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(total);
            }
        }
    }

    /// One newest-first page over several index partitions (one per shard, or a single per-owner partition),
    /// merged by `list_key`, and the total over all of them. From an offset it reads the first `offset + limit` of
    /// each partition; after a cursor, only the `limit` that follow it in each (a key condition, however deep).
    async fn newest_first_page<T: serde::de::DeserializeOwned>(
        &self,
        partitions: Vec<IndexQuery>,
        limit: u32,
        start: &PageStart,
    ) -> Result<Page<T>, StoreError> {
        let (skip, before) = match start {
            PageStart::Offset(offset) => (*offset, None),
            PageStart::After(after) => (0, Some(keys::list_key(after.at, &after.id))),
        };
        let want = usize::try_from(u64::from(skip) + u64::from(limit)).unwrap_or(usize::MAX);
        let mut merged = Vec::new();
        let mut total = 0;
        for q in partitions {
            total += self.query_count(&q).await?;
            if want > 0 {
                let q = q.before(before.clone());
                for item in self.query_items(&q, want).await? {
                    let order = string_attr(&item, keys::LIST_KEY).to_owned();
                    merged.push((order, item));
                }
            }
        }
        merged.sort_by(|a, b| b.0.cmp(&a.0));
        let items = merged
            .into_iter()
            .skip(skip as usize)
            .take(limit as usize)
            .map(|(_, item)| from_item(item))
            .collect::<Result<_, _>>()?;
        Ok(Page { items, total })
    }

    /// Items of a sharded candidate index (`due`, `work`) whose sort key is `<= now`, earliest first, at most
    /// `limit` from each shard.
    async fn candidates(
        &self,
        index: &'static str,
        partition_attr: &'static str,
        partitions: impl Iterator<Item = String>,
        time_attr: &'static str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Item>, StoreError> {
        // The shards are independent partitions: query them at once (one round trip per batch, not one per shard).
        let queries: Vec<IndexQuery> = partitions
            .map(|partition| IndexQuery {
                index,
                key_condition: "#p = :p AND #t <= :now",
                names: vec![("#p", partition_attr), ("#t", time_attr)],
                values: vec![(":p", s(partition)), (":now", s(keys::time_key(now)))],
                filter: None,
                forward: true,
                consistent: false,
                before: None,
            })
            .collect();
        let found = futures::future::try_join_all(
            queries.iter().map(|q| self.query_items(q, limit as usize)),
        )
        .await?;
        Ok(found.into_iter().flatten().collect())
    }
}

/// What a transactional `Put` requires of the stored item.
enum Condition {
    /// No item with this key exists yet.
    IsNew,
    /// The stored item's `version` is this.
    Version(u64),
    /// Unconditional: an item whose key is deterministic, written whole (a run's findings parts).
    None,
}

/// A `Query` on one partition of an index, built afresh for each page.
struct IndexQuery {
    index: &'static str,
    key_condition: &'static str,
    names: Vec<(&'static str, &'static str)>,
    /// Only values the expressions use: DynamoDB rejects unused ones (moto does not, so take care here).
    values: Vec<(&'static str, AttributeValue)>,
    filter: Option<&'static str>,
    forward: bool,
    consistent: bool,
    /// Only items whose `list_key` sorts before this (a page after a cursor).
    before: Option<String>,
}

impl IndexQuery {
    /// A newest-first listing of one partition of the LSI `by_time` or the GSI `everyone`, optionally only items
    /// whose `status` is `status`.
    fn newest_first(index: &'static str, partition: String, status: Option<&str>) -> Self {
        let (partition_attr, consistent) = if index == keys::BY_TIME {
            (keys::PK, true)
        } else {
            (keys::ALL_PK, false)
        };
        let mut names = vec![("#p", partition_attr)];
        let mut values = vec![(":p", s(partition))];
        let filter = status.map(|status| {
            names.push(("#status", "status"));
            values.push((":status", s(status)));
            "#status = :status"
        });
        Self {
            index,
            key_condition: "#p = :p",
            names,
            values,
            filter,
            forward: false,
            consistent,
            before: None,
        }
    }

    /// The same query, limited to items whose `list_key` sorts before `list_key` (when given).
    fn before(mut self, list_key: Option<String>) -> Self {
        self.before = list_key;
        self
    }

    fn request(
        &self,
        client: &Client,
        table: &str,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let key_condition = match &self.before {
            Some(_) => format!("{} AND #before_key < :before", self.key_condition),
            None => self.key_condition.to_owned(),
        };
        let mut request = client
            .query()
            .table_name(table)
            .index_name(self.index)
            .key_condition_expression(key_condition)
            .set_filter_expression(self.filter.map(str::to_owned))
            .scan_index_forward(self.forward)
            .consistent_read(self.consistent);
        for (placeholder, name) in &self.names {
            request = request.expression_attribute_names(*placeholder, *name);
        }
        for (placeholder, value) in &self.values {
            request = request.expression_attribute_values(*placeholder, value.clone());
        }
        if let Some(before) = &self.before {
            request = request
                .expression_attribute_names("#before_key", keys::LIST_KEY)
                .expression_attribute_values(":before", s(before.clone()));
        }
        request
    }
}

fn string_attr<'a>(item: &'a Item, name: &str) -> &'a str {
    match item.get(name) {
        Some(AttributeValue::S(v)) => v,
        _ => "",
    }
}

fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::unavailable("DynamoDB request failed", err)
}

#[async_trait]
impl ScheduleStore for DynamoDbScheduleStore {
    async fn insert_schedule(&self, schedule: &Schedule) -> Result<(), StoreError> {
        // The pointer claims the id: a second schedule with the same id fails on it whatever its owner.
        let mut actions = vec![
            self.put_action(items::pointer_item(schedule), Condition::IsNew)?,
            self.put_action(items::schedule_item(schedule)?, Condition::IsNew)?,
        ];
        actions.extend(self.audit_actions(schedule)?);
        if self.transact(actions).await? {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists(schedule.id.to_string()))
        }
    }

    async fn get_schedule(&self, id: &ScheduleId) -> Result<Option<Schedule>, StoreError> {
        let Some(pointer) = self.get(&keys::pointer_key(id)).await? else {
            return Ok(None);
        };
        let owner = items::pointer_owner(&pointer)?;
        self.get(&keys::schedule_key(&owner, id))
            .await?
            .map(from_item)
            .transpose()
    }

    async fn list_schedules(
        &self,
        filter: &ScheduleFilter,
        limit: u32,
        start: &PageStart,
    ) -> Result<Page<Schedule>, StoreError> {
        let status = filter.status.map(|s| s.as_str());
        let partitions = match &filter.owner {
            Some(owner) => vec![IndexQuery::newest_first(
                keys::BY_TIME,
                keys::owner_partition(owner),
                status,
            )],
            None => (0..SHARDS)
                .map(|shard| {
                    IndexQuery::newest_first(
                        keys::EVERYONE,
                        keys::schedules_everyone_pk(shard),
                        status,
                    )
                })
                .collect(),
        };
        self.newest_first_page(partitions, limit, start).await
    }

    async fn update_schedule(
        &self,
        schedule: &Schedule,
        expected_version: u64,
    ) -> Result<WriteOutcome, StoreError> {
        let audit = self.audit_actions(schedule)?;
        if audit.is_empty() {
            return self
                .put_if_version(items::schedule_item(schedule)?, expected_version)
                .await;
        }
        let mut actions = vec![self.put_action(
            items::schedule_item(schedule)?,
            Condition::Version(expected_version),
        )?];
        actions.extend(audit);
        Ok(outcome(self.transact(actions).await?))
    }

    async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Schedule>, StoreError> {
        let found = self
            .candidates(
                keys::DUE,
                keys::DUE_SHARD,
                (0..SHARDS).map(keys::due_shard),
                keys::DUE_AT,
                now,
                limit,
            )
            .await?;
        let mut due = found
            .into_iter()
            .map(from_item::<Schedule>)
            .collect::<Result<Vec<_>, _>>()?;
        // The index key has millisecond precision; the schedule's own instant decides.
        due.retain(|s| s.next_run_at.is_some_and(|at| at <= now));
        due.sort_by(|a, b| (a.next_run_at, &a.id).cmp(&(b.next_run_at, &b.id)));
        due.truncate(limit as usize);
        Ok(due)
    }

    async fn create_run(
        &self,
        schedule: &Schedule,
        expected_version: u64,
        run: &Run,
    ) -> Result<WriteOutcome, StoreError> {
        // Old finished runs are marked for TTL after a run finishes, not here: a claim stays two item writes.
        let mut actions = vec![
            self.put_action(
                items::schedule_item(schedule)?,
                Condition::Version(expected_version),
            )?,
            self.put_action(items::run_item(run)?, Condition::IsNew)?,
        ];
        actions.extend(self.audit_actions(schedule)?);
        Ok(outcome(self.transact(actions).await?))
    }

    async fn update_run(
        &self,
        run: &Run,
        expected_version: u64,
    ) -> Result<WriteOutcome, StoreError> {
        self.put_if_version(items::run_item(run)?, expected_version)
            .await
    }

    async fn finish_run(
        &self,
        run: &Run,
        run_expected_version: u64,
        schedule: &Schedule,
        schedule_expected_version: u64,
    ) -> Result<WriteOutcome, StoreError> {
        let mut actions = vec![
            self.put_action(
                items::run_item(run)?,
                Condition::Version(run_expected_version),
            )?,
            self.put_action(
                items::schedule_item(schedule)?,
                Condition::Version(schedule_expected_version),
            )?,
        ];
        actions.extend(self.audit_actions(schedule)?);
        // The findings lists, split off the run item, land in the same transaction (or not at all).
        for part in findings::part_items(run)? {
            actions.push(self.put_action(part, Condition::None)?);
        }
        let result = outcome(self.transact(actions).await?);
        if result.applied() {
            // Retention is best effort: a failure here leaves old runs for the next finish to mark.
            let at = run.finished_at.unwrap_or(run.created_at);
            if let Err(e) = self.expire_old_runs(&run.schedule_id, at).await {
                tracing::warn!(schedule_id = %run.schedule_id, error = %e, "could not mark old runs to expire");
            }
        }
        Ok(result)
    }

    async fn get_run(
        &self,
        schedule_id: &ScheduleId,
        run_id: &RunId,
    ) -> Result<Option<Run>, StoreError> {
        // A run the retention dropped is marked to expire: gone for readers even before TTL deletes it.
        let run: Option<Run> = self
            .get(&keys::run_key(schedule_id, run_id))
            .await?
            .filter(|item| !item.contains_key(keys::EXPIRES_AT))
            .map(from_item)
            .transpose()?;
        match run {
            Some(run) => Ok(Some(self.with_findings(run).await?)),
            None => Ok(None),
        }
    }

    async fn list_runs(
        &self,
        schedule_id: &ScheduleId,
        limit: u32,
        after: Option<&After>,
    ) -> Result<Vec<Run>, StoreError> {
        let mut q =
            IndexQuery::newest_first(keys::BY_TIME, keys::schedule_partition(schedule_id), None)
                .before(after.map(|a| keys::list_key(a.at, &a.id)));
        // Runs the retention dropped are marked to expire; they are gone for readers even before TTL deletes them.
        q.names.push(("#expires", keys::EXPIRES_AT));
        q.filter = Some("attribute_not_exists(#expires)");
        self.query_items(&q, limit as usize)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    async fn runs_with_work(
        &self,
        kind: WorkKind,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Run>, StoreError> {
        let found = self
            .candidates(
                keys::WORK,
                keys::WORK_KEY,
                (0..SHARDS).map(|shard| keys::work_key(kind, shard)),
                keys::WORK_AT,
                now,
                limit,
            )
            .await?;
        let mut runs = found
            .into_iter()
            .map(from_item::<Run>)
            .collect::<Result<Vec<_>, _>>()?;
        // The index is eventually consistent: keep only what the items themselves say is due.
        runs.retain(|r| r.has_work(kind, now));
        runs.sort_by(|a, b| {
            (a.work.map(|w| w.at), &a.run_id).cmp(&(b.work.map(|w| w.at), &b.run_id))
        });
        runs.truncate(limit as usize);
        let mut whole = Vec::with_capacity(runs.len());
        for run in runs {
            whole.push(self.with_findings(run).await?);
        }
        Ok(whole)
    }

    async fn put_notification(&self, notification: &Notification) -> Result<(), StoreError> {
        // Keyed by id alone (not by time), so a replay with a new `created_at` overwrites rather than duplicates.
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(items::notification_item(notification)?))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn list_notifications(
        &self,
        owner: Option<&str>,
        limit: u32,
        start: &PageStart,
    ) -> Result<Page<Notification>, StoreError> {
        let partitions = match owner {
            Some(owner) => vec![IndexQuery::newest_first(
                keys::BY_TIME,
                keys::notification_partition(owner),
                None,
            )],
            None => (0..SHARDS)
                .map(|shard| {
                    IndexQuery::newest_first(
                        keys::EVERYONE,
                        keys::notifications_everyone_pk(shard),
                        None,
                    )
                })
                .collect(),
        };
        self.newest_first_page(partitions, limit, start).await
    }

    async fn list_audit(
        &self,
        schedule_id: &ScheduleId,
        limit: u32,
        offset: u32,
    ) -> Result<Page<AuditEvent>, StoreError> {
        self.audit_page(schedule_id, limit, offset).await
    }
}

fn outcome(applied: bool) -> WriteOutcome {
    if applied {
        WriteOutcome::Applied
    } else {
        WriteOutcome::Conflict
    }
}

/// Creates the store's table with its indexes and TTL, and waits until it is usable. For tests and local runs;
/// `template.yaml` declares the same table for deployments (keep the two in step).
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let build = |e: aws_sdk_dynamodb::error::BuildError| {
        StoreError::unavailable("building the table definition", e)
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(build)
    };
    let key = |name: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .map_err(build)
    };
    let all = Projection::builder()
        .projection_type(ProjectionType::All)
        .build();
    let gsi = |name: &str, hash: &str, range: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(hash, KeyType::Hash)?)
            .key_schema(key(range, KeyType::Range)?)
            .projection(all.clone())
            .build()
            .map_err(build)
    };
    let by_time = LocalSecondaryIndex::builder()
        .index_name(keys::BY_TIME)
        .key_schema(key(keys::PK, KeyType::Hash)?)
        .key_schema(key(keys::LIST_KEY, KeyType::Range)?)
        .projection(all.clone())
        .build()
        .map_err(build)?;

    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(
            [
                keys::PK,
                keys::SK,
                keys::LIST_KEY,
                keys::ALL_PK,
                keys::DUE_SHARD,
                keys::DUE_AT,
                keys::WORK_KEY,
                keys::WORK_AT,
            ]
            .into_iter()
            .map(attribute)
            .collect::<Result<_, _>>()?,
        ))
        .key_schema(key(keys::PK, KeyType::Hash)?)
        .key_schema(key(keys::SK, KeyType::Range)?)
        .local_secondary_indexes(by_time)
        .global_secondary_indexes(gsi(keys::EVERYONE, keys::ALL_PK, keys::LIST_KEY)?)
        .global_secondary_indexes(gsi(keys::DUE, keys::DUE_SHARD, keys::DUE_AT)?)
        .global_secondary_indexes(gsi(keys::WORK, keys::WORK_KEY, keys::WORK_AT)?)
        .send()
        .await
        .map_err(unavailable)?;

    client
        .wait_until_table_exists()
        .table_name(table)
        .wait(TABLE_READY_TIMEOUT)
        .await
        .map_err(unavailable)?;

    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(keys::EXPIRES_AT)
                .enabled(true)
                .build()
                .map_err(build)?,
        )
        .send()
        .await
        .map_err(unavailable)?;
    Ok(())
}
