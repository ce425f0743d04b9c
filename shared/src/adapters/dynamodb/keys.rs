//! The DynamoDB table layout: every key, index attribute and index name of the store, and nothing else. No other
//! module spells a key; `template.yaml` mirrors [`crate::adapters::dynamodb::create_table`].
//!
//! One on-demand table, string keys `PK`/`SK`:
//!
//! | item | `PK` | `SK` | `list_key` (LSI `by_time`) | `all_pk` (GSI `everyone`) | other index attributes |
//! |---|---|---|---|---|---|
//! | schedule | `OWNER#{owner}` | `SCH#{id}` | `{created_at}#{id}` | `SCH#{0..3}` | `due_shard`/`due_at` (GSI `due`) |
//! | schedule owner pointer | `SCH#{id}` | `OWNER` | — | — | `owner` |
//! | run | `SCH#{schedule_id}` | `RUN#{run_id}` | `{scheduled_for}#{run_id}` | — | `work_key`/`work_at` (GSI `work`), `expires_at` |
//! | notification | `NTF#{owner}` | `NTF#{id}` | `{created_at}#{id}` | `NTF#{0..3}` | `expires_at` |
//! | audit event | `SCH#{schedule_id}` | `AUD#{version:020}` | — | — | `expires_at` |
//! | run findings part | `SCH#{schedule_id}` | `FND#{run_id}#{nnn}` | — | — | `expires_at` (with its run) |
//!
//! Why this shape:
//! - **Finding a schedule by id** (`get_schedule`, which has no owner): the pointer item, written in the same
//!   transaction as the schedule, names the owner; a read is two strongly consistent `GetItem`s. A GSI on the id
//!   would be eventually consistent and could hide a schedule just created. Every conditional write (`version`)
//!   is on the schedule item itself; the pointer never changes (owners do not change).
//! - **Runs are keyed by run id** (`RUN#{run_id}`), so the claim's "this run does not exist yet" is
//!   `attribute_not_exists(PK)` on the exact item the transaction puts: two claims of one occurrence collide on
//!   the run, two claims with different run ids collide on the schedule's `version`.
//! - **Newest-first listing** needs a time order that the ids do not give exactly (ties, manual runs for earlier
//!   instants), so `list_key` = fixed-width UTC time + `#` + id, the same tie-break as SQLite (`time DESC, id
//!   DESC`). An LSI keeps it strongly consistent and inside the owner's or schedule's partition; the price is
//!   DynamoDB's 10 GB limit per partition key value (one owner's schedules, one schedule's runs, one owner's
//!   notifications), far above what TTL leaves.
//! - **Admin listings** (every owner) use the GSI `everyone`, spread over [`SHARDS`] partition keys per kind so no
//!   single index partition takes every write; a listing queries each shard and merges. `DELETED` schedules carry
//!   neither `list_key` nor `all_pk`, so they are in no listing index at all.
//! - **Dispatch and status ticks** use the sparse GSIs `due` (`due_shard` → `due_at`, only while `ACTIVE` with a
//!   next run) and `work` (`work_key` = `{kind}#{shard}` → `work_at`, only while the run has work and a time),
//!   sharded the same way; a tick queries every shard with `<= now` and merges earliest first. GSIs are eventually
//!   consistent: they only propose candidates, the conditional write decides.
//! - **Audit events** sit in the schedule's partition under `AUD#` + the zero-padded schedule version the change
//!   produced, so a descending `Query` with `begins_with(SK, "AUD#")` reads the trail newest first, a replayed
//!   write puts the same item again, and the trail outlives the (soft-)deleted schedule. They carry no `list_key`,
//!   so run listings never see them; they expire by TTL after [`crate::domain::audit::AUDIT_RETENTION_DAYS`].
//! - **TTL** `expires_at` (epoch seconds): notifications expire [`NOTIFICATION_RETENTION_DAYS`] after creation.
//!   Runs are written without it; after each finished run the store marks the runs the configured
//!   [`crate::domain::RunRetention`] drops (count-based, so a weekly schedule keeps its 50 runs as a minutely one
//!   does), and listings leave marked runs out. Unfinished runs and runs with work never carry it.
//!
//! - **Write cost**: every index projects `ALL`, so a schedule write (a claim) also rewrites its `by_time`,
//!   `everyone` and `due` entries, and a run write its `by_time` and `work` entries — about four item writes per
//!   claim in WCU terms, spread over partitions by the shards. Projecting fewer attributes would save WCU but cost
//!   a second read per listed item.
//! - **Retention cost**: marking old runs is one `by_time` query per finished run (about the retention count of items,
//!   keys and status only matter) plus one update per newly expired run; it runs in the status checker, never in
//!   the claim, so a claim stays two item writes.
//!
//! Every index attribute of an item is derived from the domain object in one place ([`schedule_index`],
//! [`run_index`], [`notification_index`]), and a write is always a whole-item `Put`, so an item's index attributes
//! can never disagree with its data.

use crate::domain::notification::NOTIFICATION_RETENTION_DAYS;
use crate::domain::{Notification, Run, RunId, Schedule, ScheduleId, ScheduleStatus, WorkKind};
use chrono::{DateTime, Duration, SecondsFormat, Utc};

/// Partition key attribute of the table.
pub const PK: &str = "PK";
/// Sort key attribute of the table.
pub const SK: &str = "SK";
/// Sort key of the LSI [`BY_TIME`] and the GSI [`EVERYONE`]: `{time}#{id}`.
pub const LIST_KEY: &str = "list_key";
/// Partition key of the GSI [`EVERYONE`].
pub const ALL_PK: &str = "all_pk";
/// Partition key of the GSI [`DUE`].
pub const DUE_SHARD: &str = "due_shard";
/// Sort key of the GSI [`DUE`]: the schedule's `next_run_at` as a [`time_key`].
pub const DUE_AT: &str = "due_at";
/// Partition key of the GSI [`WORK`]: `{kind}#{shard}`.
pub const WORK_KEY: &str = "work_key";
/// Sort key of the GSI [`WORK`]: the run's `next_action_at` as a [`time_key`].
pub const WORK_AT: &str = "work_at";
/// The TTL attribute (epoch seconds).
pub const EXPIRES_AT: &str = "expires_at";
/// The owner named by a schedule pointer item.
pub const POINTER_OWNER: &str = "owner";

/// LSI: per partition, newest first by `list_key`.
pub const BY_TIME: &str = "by_time";
/// GSI: every owner's schedules and notifications.
pub const EVERYONE: &str = "everyone";
/// GSI: `ACTIVE` schedules by next run.
pub const DUE: &str = "due";
/// GSI: runs that still need work, by kind and next action.
pub const WORK: &str = "work";

/// Index partitions per kind for the GSIs `due`, `work` and `everyone`. Changing it orphans existing index
/// entries under shards no longer queried, so it is a constant of the layout, not a setting.
pub const SHARDS: u32 = 4;

/// The item kinds, as the prefix of `all_pk`.
const SCHEDULES: &str = "SCH";
const NOTIFICATIONS: &str = "NTF";

/// A table key (`PK`, `SK`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.pk, self.sk)
    }
}

pub fn owner_partition(owner: &str) -> String {
    format!("OWNER#{owner}")
}

pub fn schedule_key(owner: &str, id: &ScheduleId) -> Key {
    Key {
        pk: owner_partition(owner),
        sk: format!("SCH#{id}"),
    }
}

/// The partition holding a schedule's pointer item and its runs.
pub fn schedule_partition(id: &ScheduleId) -> String {
    format!("SCH#{id}")
}

pub fn pointer_key(id: &ScheduleId) -> Key {
    Key {
        pk: schedule_partition(id),
        sk: "OWNER".into(),
    }
}

pub fn run_key(schedule_id: &ScheduleId, run_id: &RunId) -> Key {
    Key {
        pk: schedule_partition(schedule_id),
        sk: format!("RUN#{run_id}"),
    }
}

/// Sort-key prefix of a schedule's audit events.
pub const AUDIT_PREFIX: &str = "AUD#";

pub fn audit_key(schedule_id: &ScheduleId, version: u64) -> Key {
    Key {
        pk: schedule_partition(schedule_id),
        sk: format!("{AUDIT_PREFIX}{version:020}"),
    }
}

/// An audit event is in no index; it expires by TTL.
pub fn audit_index(e: &crate::domain::AuditEvent) -> IndexAttributes {
    IndexAttributes {
        expires_at: Some(epoch_seconds(e.expires_at())),
        ..IndexAttributes::default()
    }
}

/// Part `index` of a run's findings (see `dynamodb::findings`): beside the run in its schedule's partition,
/// outside every index.
pub fn findings_part_key(schedule_id: &ScheduleId, run_id: &RunId, index: usize) -> Key {
    Key {
        pk: schedule_partition(schedule_id),
        sk: format!("{}{index:03}", findings_part_prefix(schedule_id, run_id).sk),
    }
}

/// The key prefix of all of a run's findings parts (`sk` is a prefix for `begins_with`).
pub fn findings_part_prefix(schedule_id: &ScheduleId, run_id: &RunId) -> Key {
    Key {
        pk: schedule_partition(schedule_id),
        sk: format!("FND#{run_id}#"),
    }
}

pub fn notification_partition(owner: &str) -> String {
    format!("NTF#{owner}")
}

pub fn notification_key(n: &Notification) -> Key {
    Key {
        pk: notification_partition(&n.owner),
        sk: format!("NTF#{}", n.id),
    }
}

/// An instant as a fixed-width UTC string (`2030-03-01T08:00:00.000Z`) whose byte order is time order. chrono's
/// own serialization drops zero fractions (`08:00:00Z` sorts after `08:00:00.5Z`), so keys never use it.
/// Precision is milliseconds; the item keeps the exact instant.
pub fn time_key(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A stable shard in `0..SHARDS` for an id. Stable across processes, builds and compiler versions (unlike
/// `std`'s hasher, whose algorithm is unspecified), because an item written by one version must be found by the
/// next: 32-bit FNV-1a.
pub fn shard_of(id: &str) -> u32 {
    let hash = id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash % SHARDS
}

pub fn due_shard(shard: u32) -> String {
    format!("DUE#{shard}")
}

pub fn work_key(kind: WorkKind, shard: u32) -> String {
    format!("{}#{shard}", kind.as_str())
}

pub fn schedules_everyone_pk(shard: u32) -> String {
    format!("{SCHEDULES}#{shard}")
}

pub fn notifications_everyone_pk(shard: u32) -> String {
    format!("{NOTIFICATIONS}#{shard}")
}

/// Sort key of the listing indexes (`by_time`, `everyone`): newest-first order is descending `list_key`.
pub fn list_key(t: DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", time_key(t))
}

fn epoch_seconds(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

/// The index attributes of one item, each `None` when the item is not in that index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexAttributes {
    pub list_key: Option<String>,
    pub all_pk: Option<String>,
    pub due_shard: Option<String>,
    pub due_at: Option<String>,
    pub work_key: Option<String>,
    pub work_at: Option<String>,
    pub expires_at: Option<i64>,
}

/// A schedule is listed unless `DELETED`, and due-indexed while `ACTIVE` with a next run.
pub fn schedule_index(s: &Schedule) -> IndexAttributes {
    let listed = s.status != ScheduleStatus::Deleted;
    let shard = shard_of(s.id.as_str());
    let due = s.next_run_at.filter(|_| s.status == ScheduleStatus::Active);
    IndexAttributes {
        list_key: listed.then(|| list_key(s.created_at, s.id.as_str())),
        all_pk: listed.then(|| schedules_everyone_pk(shard)),
        due_shard: due.map(|_| due_shard(shard)),
        due_at: due.map(time_key),
        ..IndexAttributes::default()
    }
}

/// A run is listed under its schedule and work-indexed while it has work. It is written without `expires_at`:
/// the store marks the runs that [`crate::domain::RunRetention`] drops.
pub fn run_index(r: &Run) -> IndexAttributes {
    IndexAttributes {
        list_key: Some(list_key(r.scheduled_for, r.run_id.as_str())),
        work_key: r
            .work
            .map(|w| work_key(w.kind, shard_of(r.run_id.as_str()))),
        work_at: r.work.map(|w| time_key(w.at)),
        ..IndexAttributes::default()
    }
}

pub fn notification_index(n: &Notification) -> IndexAttributes {
    IndexAttributes {
        list_key: Some(list_key(n.created_at, n.id.as_str())),
        all_pk: Some(notifications_everyone_pk(shard_of(n.id.as_str()))),
        expires_at: Some(epoch_seconds(
            n.created_at + Duration::days(NOTIFICATION_RETENTION_DAYS),
        )),
        ..IndexAttributes::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RunStatus;
    use chrono::TimeZone;

    fn t(h: u32, m: u32, s: u32, ms: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 3, 1, h, m, s).unwrap() + Duration::milliseconds(ms)
    }

    #[test]
    fn time_keys_are_fixed_width_and_sort_like_time() {
        let instants = [
            t(8, 0, 0, 0),
            t(8, 0, 0, 5),
            t(8, 0, 0, 500),
            t(8, 0, 1, 0),
            t(9, 59, 59, 999),
            t(10, 0, 0, 0),
        ];
        let keys: Vec<_> = instants.iter().map(|i| time_key(*i)).collect();
        assert_eq!(keys[0], "2030-03-01T08:00:00.000Z");
        assert!(keys.iter().all(|k| k.len() == keys[0].len()), "{keys:?}");
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, keys);
        // chrono's default form would sort `08:00:00Z` after `08:00:00.500Z`; ours does not.
        assert!(time_key(t(8, 0, 0, 0)) < time_key(t(8, 0, 0, 500)));
    }

    #[test]
    fn shards_are_stable_and_spread() {
        // Pinned values: changing the function would strand every indexed item already stored.
        assert_eq!(shard_of(""), 0x811c_9dc5 % SHARDS);
        assert_eq!(shard_of("a"), 0xe40c_292c % SHARDS);
        assert_eq!(
            shard_of("sch_01J0000000000000000000000A"),
            shard_of("sch_01J0000000000000000000000A")
        );
        let mut seen = [0u32; SHARDS as usize];
        for i in 0..400 {
            let shard = shard_of(&format!("sch_{i:026}"));
            assert!(shard < SHARDS);
            seen[shard as usize] += 1;
        }
        assert!(seen.iter().all(|n| *n > 50), "uneven spread {seen:?}");
    }

    #[test]
    fn key_formats() {
        let id = ScheduleId::from("sch_1");
        assert_eq!(
            schedule_key("alice", &id),
            Key {
                pk: "OWNER#alice".into(),
                sk: "SCH#sch_1".into()
            }
        );
        assert_eq!(
            pointer_key(&id),
            Key {
                pk: "SCH#sch_1".into(),
                sk: "OWNER".into()
            }
        );
        assert_eq!(
            run_key(&id, &RunId::from("run_1")),
            Key {
                pk: "SCH#sch_1".into(),
                sk: "RUN#run_1".into()
            }
        );
        assert_eq!(due_shard(3), "DUE#3");
        assert_eq!(work_key(WorkKind::Notify, 2), "notify#2");
        assert_eq!(schedules_everyone_pk(1), "SCH#1");
        assert_eq!(notifications_everyone_pk(0), "NTF#0");
        assert_eq!(
            list_key(t(8, 0, 0, 0), "sch_5b"),
            "2030-03-01T08:00:00.000Z#sch_5b"
        );
        // Equal times order by id, as SQLite's `time DESC, id DESC` does.
        assert!(list_key(t(8, 0, 0, 0), "sch_5a") < list_key(t(8, 0, 0, 0), "sch_5b"));
    }

    fn sample_schedule(status: ScheduleStatus, next: Option<DateTime<Utc>>) -> Schedule {
        serde_json::from_value(serde_json::json!({
            "id": "sch_1", "owner": "alice", "name": "n", "user_query": "q", "persona": "soc_analyst",
            "frequency": "daily", "scheduled_time": "08:00", "timezone": "UTC",
            "status": status, "next_run_at": next,
            "created_at": t(7, 0, 0, 0), "updated_at": t(7, 0, 0, 0), "version": 1
        }))
        .unwrap()
    }

    #[test]
    fn schedules_are_due_only_while_active_with_a_next_run_and_listed_unless_deleted() {
        let active = schedule_index(&sample_schedule(
            ScheduleStatus::Active,
            Some(t(8, 0, 0, 0)),
        ));
        assert_eq!(active.due_at.as_deref(), Some("2030-03-01T08:00:00.000Z"));
        assert_eq!(active.due_shard, Some(due_shard(shard_of("sch_1"))));
        assert!(active.list_key.is_some() && active.all_pk.is_some());
        assert_eq!(active.expires_at, None);

        let nothing_left = schedule_index(&sample_schedule(ScheduleStatus::Active, None));
        assert_eq!((nothing_left.due_shard, nothing_left.due_at), (None, None));
        let paused = schedule_index(&sample_schedule(
            ScheduleStatus::Paused,
            Some(t(8, 0, 0, 0)),
        ));
        assert_eq!((paused.due_shard, paused.due_at), (None, None));
        assert!(paused.list_key.is_some());

        let deleted = schedule_index(&sample_schedule(
            ScheduleStatus::Deleted,
            Some(t(8, 0, 0, 0)),
        ));
        assert_eq!(deleted, IndexAttributes::default());
    }

    fn sample_run(status: RunStatus, work: Option<WorkKind>, next: Option<DateTime<Utc>>) -> Run {
        serde_json::from_value(serde_json::json!({
            "run_id": "run_1", "schedule_id": "sch_1", "owner": "alice", "schedule_name": "n",
            "trigger": "scheduled", "scheduled_for": t(8, 0, 0, 0), "status": status,
            "created_at": t(8, 0, 0, 0), "finished_at": status.is_terminal().then(|| t(8, 5, 0, 0)),
            "user_query": "q", "persona": "ciso", "work": work, "next_action_at": next, "version": 1
        }))
        .unwrap()
    }

    #[test]
    fn runs_are_in_the_work_index_only_with_work_and_expire_only_when_done() {
        let pending = run_index(&sample_run(
            RunStatus::Pending,
            Some(WorkKind::Start),
            Some(t(8, 0, 0, 0)),
        ));
        assert_eq!(
            pending.work_key,
            Some(work_key(WorkKind::Start, shard_of("run_1")))
        );
        assert_eq!(pending.work_at.as_deref(), Some("2030-03-01T08:00:00.000Z"));
        assert_eq!(pending.expires_at, None);

        let notifying = run_index(&sample_run(
            RunStatus::Completed,
            Some(WorkKind::Notify),
            Some(t(8, 5, 0, 0)),
        ));
        assert!(notifying.work_key.is_some());
        assert_eq!(
            notifying.expires_at, None,
            "a run with work left never expires"
        );

        // A leftover time without work is no work: it does not index the run.
        let done = run_index(&sample_run(RunStatus::Completed, None, Some(t(8, 5, 0, 0))));
        assert_eq!((done.work_key, done.work_at), (None, None));
        assert_eq!(
            done.expires_at, None,
            "runs expire by count, marked by the store"
        );
        assert_eq!(
            done.list_key.as_deref(),
            Some("2030-03-01T08:00:00.000Z#run_1")
        );
    }
}
