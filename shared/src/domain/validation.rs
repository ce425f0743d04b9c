//! The query specificity check (DESIGN §6): deterministic, explains itself, and warns when a query's time window
//! does not match the schedule's frequency.

use crate::domain::timing::Frequency;
use serde::Serialize;

/// The result of [`validate_query`], returned as-is by `POST /api/v1/schedules/validate`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryValidation {
    pub valid: bool,
    /// 0–100.
    pub score: u8,
    // Filled in by the implementation: what was found per dimension, suggestions, warnings.
    pub suggestions: Vec<String>,
    pub warnings: Vec<String>,
}

/// Checks `query` for concrete entities, a time scope and measurable conditions. With a `frequency`, also warns
/// when the query's time window leaves gaps between runs or overlaps heavily.
pub fn validate_query(query: &str, frequency: Option<Frequency>) -> QueryValidation {
    let _ = (query, frequency);
    todo!()
}
