//! The DynamoDB side of the audit trail (see [`crate::domain::audit`] and the layout in [`super::keys`]): the
//! events a schedule write carries become unconditional `Put`s in the same `TransactWriteItems` as the schedule,
//! so they are written exactly when the schedule write applies; the trail is read newest first from the
//! schedule's partition.

use super::items::{self, Item, from_item, s};
use super::{DynamoDbScheduleStore, unavailable};
use crate::domain::{AuditEvent, Schedule, ScheduleId};
use crate::ports::{Page, StoreError};
use aws_sdk_dynamodb::types::{Put, Select, TransactWriteItem};

impl DynamoDbScheduleStore {
    /// The transaction items appending `schedule`'s pending audit events. Unconditional: the key is the version
    /// the change produced, so a replay puts the same item again.
    pub(super) fn audit_actions(
        &self,
        schedule: &Schedule,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        schedule
            .audit
            .events()
            .iter()
            .map(|event| {
                let put = Put::builder()
                    .table_name(self.table())
                    .set_item(Some(items::audit_item(event)?))
                    .build()
                    .map_err(|e| StoreError::unavailable("building a transaction item", e))?;
                Ok(TransactWriteItem::builder().put(put).build())
            })
            .collect()
    }

    pub(super) async fn audit_page(
        &self,
        schedule_id: &ScheduleId,
        limit: u32,
        offset: u32,
    ) -> Result<Page<AuditEvent>, StoreError> {
        let query = || {
            self.client()
                .query()
                .table_name(self.table())
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", super::keys::PK)
                .expression_attribute_names("#sk", super::keys::SK)
                .expression_attribute_values(":pk", s(super::keys::schedule_partition(schedule_id)))
                .expression_attribute_values(":prefix", s(super::keys::AUDIT_PREFIX))
                .consistent_read(true)
        };
        let mut total = 0u64;
        let mut start = None;
        loop {
            let out = query()
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            total += u64::try_from(out.count).unwrap_or(0);
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        let want = offset as usize + limit as usize;
        let mut found: Vec<Item> = Vec::new();
        let mut start = None;
        while found.len() < want {
            let out = query()
                .scan_index_forward(false)
                .limit(i32::try_from(want - found.len()).unwrap_or(i32::MAX).max(1))
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
        let items = found
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok(Page { items, total })
    }
}
