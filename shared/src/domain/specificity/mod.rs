//! The query specificity check (DESIGN §6): deterministic, explains itself, and warns when a query's time window
//! does not match the schedule's frequency.
//!
//! A scheduled investigation runs unattended, so a vague question ("anything suspicious?") wastes every run. This
//! module looks for three dimensions of specificity with a fixed set of regular expressions (no model, no network):
//! concrete **entities**, a **time scope** and **measurable conditions**, scores them, says what is missing and how
//! to fix it, and compares the query's lookback with the schedule's interval.
//!
//! - `result`: what the check returns ([`QueryValidation`] and its parts), the JSON the API sends as-is;
//! - `scoring`: [`validate_query`], the points per dimension, the validity rule, suggestions and coverage warnings;
//! - `detectors`: one pass over the query per dimension, each span claimed by at most one finding;
//! - `patterns`: the compiled regular expressions the detectors run;
//! - `words`: the vocabulary behind them (numbers, time units, tables, TLDs, file extensions, event IDs).

mod detectors;
mod patterns;
mod result;
mod scoring;
#[cfg(test)]
mod tests;
mod words;

pub use result::{
    Dimension, DimensionFindings, Dimensions, Evidence, Finding, FindingKind, QueryValidation,
    TimeWindow,
};
pub use scoring::{
    CONDITION_STRONG_POINTS, CONDITION_WEAK_POINTS, ENTITY_STRONG_POINTS, ENTITY_WEAK_POINTS,
    MAX_ITEMS_PER_DIMENSION, TIME_STRONG_POINTS, TIME_WEAK_POINTS, VALID_SCORE, validate_query,
    validate_query_with_lookback,
};
pub use words::TABLES;

// Lengths in seconds, shared by the detectors (phrases to seconds) and the scoring (seconds to phrases).
const MINUTE: f64 = 60.0;
const HOUR: f64 = 3_600.0;
const DAY: f64 = 86_400.0;
const WEEK: f64 = 7.0 * DAY;
const MONTH: f64 = 30.0 * DAY;
const YEAR: f64 = 365.0 * DAY;
const HOUR_SECS: u64 = 3_600;
const DAY_SECS: u64 = 24 * HOUR_SECS;
