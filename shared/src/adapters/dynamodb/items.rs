//! Item mapping: a domain object becomes its `serde_dynamo` attribute map plus the key and index attributes from
//! [`super::keys`]; an item read back becomes the domain object again, or a [`StoreError::Malformed`].

use super::keys::{self, IndexAttributes, Key};
use crate::domain::{Notification, Run, Schedule};
use crate::ports::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The attribute map of a table key.
pub fn key_item(key: &Key) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), s(&key.pk)),
        (keys::SK.to_owned(), s(&key.sk)),
    ])
}

pub fn schedule_item(schedule: &Schedule) -> Result<Item, StoreError> {
    let key = keys::schedule_key(&schedule.owner, &schedule.id);
    item(schedule, &key, keys::schedule_index(schedule))
}

/// The pointer that finds a schedule's owner (and so its item) from the id alone.
pub fn pointer_item(schedule: &Schedule) -> Item {
    let mut item = key_item(&keys::pointer_key(&schedule.id));
    item.insert(keys::POINTER_OWNER.to_owned(), s(&schedule.owner));
    item
}

/// The run item, without its findings lists: those are part items of their own (see `super::findings`).
pub fn run_item(run: &Run) -> Result<Item, StoreError> {
    let key = keys::run_key(&run.schedule_id, &run.run_id);
    let mut item = item(run, &key, keys::run_index(run))?;
    item.remove("findings");
    item.remove("resolved");
    Ok(item)
}

pub fn audit_item(event: &crate::domain::AuditEvent) -> Result<Item, StoreError> {
    let key = keys::audit_key(&event.schedule_id, event.version);
    item(event, &key, keys::audit_index(event))
}

pub fn notification_item(notification: &Notification) -> Result<Item, StoreError> {
    let key = keys::notification_key(notification);
    item(notification, &key, keys::notification_index(notification))
}

fn item<T: Serialize>(value: &T, key: &Key, index: IndexAttributes) -> Result<Item, StoreError> {
    let malformed = |message: String| StoreError::Malformed {
        key: key.to_string(),
        message,
    };
    let mut item: Item = serde_dynamo::to_item(value).map_err(|e| malformed(e.to_string()))?;
    let IndexAttributes {
        list_key,
        all_pk,
        due_shard,
        due_at,
        work_key,
        work_at,
        expires_at,
    } = index;
    let layout = [
        (keys::PK, Some(s(&key.pk))),
        (keys::SK, Some(s(&key.sk))),
        (keys::LIST_KEY, list_key.map(s)),
        (keys::ALL_PK, all_pk.map(s)),
        (keys::DUE_SHARD, due_shard.map(s)),
        (keys::DUE_AT, due_at.map(s)),
        (keys::WORK_KEY, work_key.map(s)),
        (keys::WORK_AT, work_at.map(s)),
        (keys::EXPIRES_AT, expires_at.map(n)),
    ];
    for (name, value) in layout {
        // A domain field with a layout attribute's name would be silently overwritten (or index the item by
        // accident): refuse to write rather than lose data.
        if item.contains_key(name) {
            return Err(malformed(format!(
                "the domain object has a field named {name:?}, which the table layout reserves"
            )));
        }
        if let Some(value) = value {
            item.insert(name.to_owned(), value);
        }
    }
    Ok(item)
}

/// The table key an item says it has, for error messages.
fn describe(item: &Item) -> String {
    let part = |name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        _ => "?".to_owned(),
    };
    format!("{}/{}", part(keys::PK), part(keys::SK))
}

/// A domain object from its item. Layout attributes are ignored (serde skips unknown fields).
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    let key = describe(&item);
    serde_dynamo::from_item(item).map_err(|e| StoreError::Malformed {
        key,
        message: e.to_string(),
    })
}

/// The owner named by a schedule pointer item.
pub fn pointer_owner(item: &Item) -> Result<String, StoreError> {
    match item.get(keys::POINTER_OWNER) {
        Some(AttributeValue::S(owner)) => Ok(owner.clone()),
        _ => Err(StoreError::Malformed {
            key: describe(item),
            message: format!("schedule pointer has no string {:?}", keys::POINTER_OWNER),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ScheduleId;

    #[test]
    fn malformed_items_are_errors_not_panics() {
        let mut item = key_item(&keys::schedule_key("alice", &ScheduleId::from("sch_1")));
        item.insert("version".into(), s("not a number"));
        let err = from_item::<Schedule>(item).unwrap_err();
        assert!(
            matches!(&err, StoreError::Malformed { key, .. } if key == "OWNER#alice/SCH#sch_1"),
            "{err:?}"
        );

        let pointer = key_item(&keys::pointer_key(&ScheduleId::from("sch_1")));
        assert!(matches!(
            pointer_owner(&pointer),
            Err(StoreError::Malformed { .. })
        ));
    }
}
