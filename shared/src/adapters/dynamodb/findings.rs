//! A run's findings on DynamoDB: split off the run item into parts of their own, written in the same transaction
//! that finishes the run.
//!
//! Why split rather than bound: a run keeps up to 200 findings whose texts are bounded in characters
//! (`domain::findings`), which is up to about 2.5 MB in four-byte characters — far over DynamoDB's 400 KB item
//! limit, and bounding each finding to 2 KB would cut descriptions to uselessness. The run item keeps its
//! `findings_summary` (what listings and the outbox decision need), and the lists go to part items
//! `SCH#{schedule}` / `FND#{run}#{nnn}` holding at most [`PART_MAX_BYTES`] of JSON each: a few parts at the
//! maximum, well inside a transaction's 100 items and 4 MB. Part keys are deterministic, so writing them twice is
//! harmless; they carry no listing attribute, so no index sees them; retention marks them to expire with their run.
//! A whole run is read with one `GetItem` plus, when it has findings, one `Query` on the part prefix.

use super::items::{Item, key_item, s};
use super::keys;
use crate::domain::{Finding, ResolvedFinding, Run};
use crate::ports::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

/// The JSON of one part stays under this (a part item adds only its keys).
pub const PART_MAX_BYTES: usize = 300_000;
/// The attribute holding a part's JSON.
const BODY: &str = "body";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Part {
    #[serde(default)]
    findings: Vec<Finding>,
    #[serde(default)]
    resolved: Vec<ResolvedFinding>,
}

/// Whether `run` has findings lists stored in parts.
pub fn has_parts(run: &Run) -> bool {
    run.findings_summary
        .is_some_and(|s| s.total > 0 || s.resolved > 0)
}

/// The part items of `run`'s findings and resolved findings (none when it has neither).
pub fn part_items(run: &Run) -> Result<Vec<Item>, StoreError> {
    let malformed = |e: serde_json::Error| StoreError::Malformed {
        key: keys::findings_part_key(&run.schedule_id, &run.run_id, 0).to_string(),
        message: e.to_string(),
    };
    if run.findings.is_empty() && run.resolved.is_empty() {
        return Ok(Vec::new());
    }
    // Greedy packing by serialized size: a new part starts when the next entry would not fit.
    let mut parts = vec![Part::default()];
    let mut size = 0;
    let mut room_for = |parts: &mut Vec<Part>, len: usize| {
        if size > 0 && size + len > PART_MAX_BYTES {
            parts.push(Part::default());
            size = 0;
        }
        size += len + 1;
    };
    for f in &run.findings {
        room_for(
            &mut parts,
            serde_json::to_string(f).map_err(malformed)?.len(),
        );
        parts
            .last_mut()
            .expect("never empty")
            .findings
            .push(f.clone());
    }
    for r in &run.resolved {
        room_for(
            &mut parts,
            serde_json::to_string(r).map_err(malformed)?.len(),
        );
        parts
            .last_mut()
            .expect("never empty")
            .resolved
            .push(r.clone());
    }
    parts
        .into_iter()
        .enumerate()
        .map(|(index, part)| {
            let key = keys::findings_part_key(&run.schedule_id, &run.run_id, index);
            let mut item = key_item(&key);
            item.insert(
                BODY.to_owned(),
                s(serde_json::to_string(&part).map_err(malformed)?),
            );
            Ok(item)
        })
        .collect()
}

/// Puts the lists read from part items (in key order) back on `run`.
pub fn fill(run: &mut Run, items: Vec<Item>) -> Result<(), StoreError> {
    for item in items {
        let body = match item.get(BODY) {
            Some(AttributeValue::S(body)) => body,
            _ => {
                return Err(StoreError::Malformed {
                    key: format!(
                        "{}",
                        keys::findings_part_prefix(&run.schedule_id, &run.run_id)
                    ),
                    message: "findings part has no string body".into(),
                });
            }
        };
        let part: Part = serde_json::from_str(body).map_err(|e| StoreError::Malformed {
            key: keys::findings_part_prefix(&run.schedule_id, &run.run_id).to_string(),
            message: e.to_string(),
        })?;
        run.findings.extend(part.findings);
        run.resolved.extend(part.resolved);
    }
    Ok(())
}
