//! Scoring: the points each dimension earns, the rule that makes a query valid, the suggestions that say how to
//! fix a weak one, and the warnings that compare the query's lookback with the schedule's interval.

use super::detectors::Scan;
use super::result::{
    Dimension, DimensionFindings, Dimensions, Evidence, Finding, FindingKind, QueryValidation,
    TimeWindow,
};
use super::{DAY_SECS, HOUR, HOUR_SECS};
use crate::domain::timing::Frequency;

/// Points for a concrete entity (an IP, account, host, hash, table, event ID, technique, ...).
pub const ENTITY_STRONG_POINTS: u8 = 40;
/// Points when entities are only named by type ("the same IP", "per user", "sign-ins").
pub const ENTITY_WEAK_POINTS: u8 = 20;
/// Points for a time scope whose length is known ("last 24 hours", `P7D`, `ago(1d)`).
pub const TIME_STRONG_POINTS: u8 = 30;
/// Points for a vague time reference ("recently", "past few days").
pub const TIME_WEAK_POINTS: u8 = 15;
/// Points for a measurable condition ("more than 5", ">= 10", "top 10", "200%").
pub const CONDITION_STRONG_POINTS: u8 = 30;
/// Points for a condition without a number ("count", "threshold", "first time seen").
pub const CONDITION_WEAK_POINTS: u8 = 15;
/// The lowest score a valid query has (see [`validate_query`] for the other requirements).
pub const VALID_SCORE: u8 = 60;
/// At most this many findings are reported per dimension, so a huge query gives a bounded answer.
pub const MAX_ITEMS_PER_DIMENSION: usize = 20;

/// Checks `query` for concrete entities, a time scope and measurable conditions. With a `frequency`, also warns
/// when the query's time window leaves gaps between runs or overlaps heavily.
///
/// # Scoring
/// The score is the sum of three dimensions (0–100):
/// - **entities**: 40 for a concrete value (IP, CIDR, account, host, domain, file, hash, GUID, table, event ID,
///   MITRE technique), 20 when entities are only named by type ("from the same IP", "per user", "sign-ins");
/// - **time scope**: 30 for a window of known length ("last 24 hours", `P7D`, `ago(1d)`, "today"), 15 for a vague
///   reference ("recently", "past few days");
/// - **conditions**: 30 for a measurable condition ("more than 5", ">= 10", "top 10", "200%"), 15 without a number
///   ("count", "threshold", "first time seen").
///
/// The query is **valid** when the score is at least 60, **and** it has a time window of known length (a scheduled
/// run must know what period it covers), **and** it names at least an entity type (a condition about nothing is not
/// an investigation). So entity type + window (50) is not enough, entity type + window + any condition (65+) or a
/// concrete entity + window (70) is; nothing without a window is valid.
///
/// # Coverage warnings
/// Intervals: daily ≈ 24 hours, weekly ≈ 7 days, monthly ≈ 30 days. A window shorter than the interval leaves
/// events between runs uninvestigated; one longer than twice the interval re-reports the same findings across runs;
/// a recurring schedule (daily, weekly, monthly, custom) without a window gets a warning too. `once` gets no coverage
/// warning, and neither does a `custom` schedule with a window: its cron cadence is not known here (the caller can
/// compare the cron's interval itself).
///
/// Runs in linear time in the query's length (bounded number of regex passes, findings capped); length limits are
/// the caller's job.
pub fn validate_query(query: &str, frequency: Option<Frequency>) -> QueryValidation {
    let mut scan = Scan::new(query);
    // Order matters: a span claimed by an earlier detector is not reused (the "4625" in "event ID 4625" is not a
    // count, the "user" in "user@contoso.com" is not a generic entity type).
    let entities = scan.entities();
    let time_scope = scan.time_scope();
    let conditions = scan.conditions();

    let time_window = time_scope
        .iter()
        .find_map(|f| f.seconds.map(|s| (s, f)))
        .map(|(seconds, f)| TimeWindow {
            seconds,
            hours: seconds as f64 / HOUR,
            source: f.value.clone(),
            approximate: f.approximate,
        });

    let entities = DimensionFindings::new(entities, ENTITY_STRONG_POINTS, ENTITY_WEAK_POINTS, None);
    let time_scope = DimensionFindings::new(
        time_scope,
        TIME_STRONG_POINTS,
        TIME_WEAK_POINTS,
        time_window.as_ref().map(|w| w.hours),
    );
    let conditions = DimensionFindings::new(
        conditions,
        CONDITION_STRONG_POINTS,
        CONDITION_WEAK_POINTS,
        None,
    );

    let score = entities.points + time_scope.points + conditions.points;
    let valid = score >= VALID_SCORE && time_window.is_some() && entities.found;

    let missing: Vec<Dimension> = [
        (Dimension::Entities, &entities),
        (Dimension::TimeScope, &time_scope),
        (Dimension::Conditions, &conditions),
    ]
    .into_iter()
    .filter(|(_, d)| !d.found)
    .map(|(dim, _)| dim)
    .collect();

    let suggestions = suggestions(
        query,
        frequency,
        &entities,
        &time_scope,
        &conditions,
        time_window.as_ref(),
    );
    let warnings = frequency
        .map(|f| coverage_warnings(f, time_window.as_ref(), &time_scope))
        .unwrap_or_default();

    QueryValidation {
        valid,
        score,
        dimensions: Dimensions {
            entities,
            time_scope,
            conditions,
        },
        missing,
        time_window,
        suggestions,
        warnings,
    }
}

impl DimensionFindings {
    fn new(items: Vec<Finding>, strong: u8, weak: u8, window_hours: Option<f64>) -> Self {
        let evidence = if items.iter().any(|f| !f.weak) {
            Evidence::Strong
        } else if items.is_empty() {
            Evidence::Absent
        } else {
            Evidence::Weak
        };
        let points = match evidence {
            Evidence::Strong => strong,
            Evidence::Weak => weak,
            Evidence::Absent => 0,
        };
        Self {
            found: !items.is_empty(),
            evidence,
            points,
            items,
            window_hours,
        }
    }

    fn first_weak_value(&self) -> Option<&str> {
        self.items.iter().find(|f| f.weak).map(|f| f.value.as_str())
    }
}

fn suggestions(
    query: &str,
    frequency: Option<Frequency>,
    entities: &DimensionFindings,
    time_scope: &DimensionFindings,
    conditions: &DimensionFindings,
    window: Option<&TimeWindow>,
) -> Vec<String> {
    let mut out = Vec::new();
    if query.trim().is_empty() {
        out.push(
            "Describe what to investigate, e.g. 'failed sign-ins in the last 24 hours with more than 5 attempts \
             from the same IP'."
                .to_owned(),
        );
    }
    match entities.evidence {
        Evidence::Absent => out.push(
            "Name what to look at: an IP, account, host, or a Sentinel table such as SigninLogs (e.g. 'from \
             203.0.113.7' or 'for alice@contoso.com')."
                .to_owned(),
        ),
        Evidence::Weak => out.push(
            "Name a concrete entity to narrow it down: an IP (203.0.113.7), an account (alice@contoso.com), a host \
             (WEB01) or a Sentinel table (SigninLogs)."
                .to_owned(),
        ),
        Evidence::Strong => {}
    }
    let example_window = frequency
        .and_then(matching_window)
        .unwrap_or("last 24 hours");
    if window.is_none() {
        match (time_scope.evidence, time_scope.first_weak_value()) {
            (Evidence::Weak, Some(vague)) => out.push(format!(
                "Replace the vague time reference '{vague}' with a window, e.g. 'in the {example_window}'."
            )),
            _ => out.push(format!("Add a time window, e.g. 'in the {example_window}'.")),
        }
    }
    match (conditions.evidence, conditions.first_weak_value()) {
        (Evidence::Absent, _) => out.push(
            "Add a measurable condition, e.g. 'more than 5 failed attempts', 'at least 3 distinct countries' or \
             'top 10 accounts'."
                .to_owned(),
        ),
        (Evidence::Weak, Some(weak)) => out.push(format!(
            "Make the condition measurable, e.g. 'more than 5 failed attempts' or 'top 10 by count', rather than \
             only '{weak}'."
        )),
        _ => {}
    }
    out
}

/// The nominal interval between runs, when the frequency has a fixed one.
fn interval_seconds(frequency: Frequency) -> Option<u64> {
    match frequency {
        Frequency::Daily => Some(DAY_SECS),
        Frequency::Weekly => Some(7 * DAY_SECS),
        Frequency::Monthly => Some(30 * DAY_SECS),
        Frequency::Once | Frequency::Custom => None,
    }
}

/// The window phrase that covers exactly one interval.
fn matching_window(frequency: Frequency) -> Option<&'static str> {
    match frequency {
        Frequency::Daily => Some("last 24 hours"),
        Frequency::Weekly => Some("last 7 days"),
        Frequency::Monthly => Some("last 30 days"),
        Frequency::Once | Frequency::Custom => None,
    }
}

fn coverage_warnings(
    frequency: Frequency,
    window: Option<&TimeWindow>,
    time_scope: &DimensionFindings,
) -> Vec<String> {
    let freq = frequency.as_str();
    let mut out = Vec::new();
    if frequency == Frequency::Once {
        return out;
    }
    let Some(window) = window else {
        let fix = matching_window(frequency)
            .map(|w| format!("Add e.g. 'in the {w}'."))
            .unwrap_or_else(|| "Add a window that matches the cron interval.".to_owned());
        out.push(format!(
            "This {freq} schedule repeats, but the query has no time window: what each run covers is left to the \
             engine, so runs may miss events or report the same ones again. {fix}"
        ));
        return out;
    };
    if time_scope
        .items
        .iter()
        .any(|f| f.kind == FindingKind::DateRange && f.seconds == Some(window.seconds))
    {
        out.push(format!(
            "The query names fixed dates ({}): every run of this {freq} schedule will look at the same period. Use \
             a relative window instead.",
            window.source
        ));
    }
    let (Some(interval), Some(fix)) = (interval_seconds(frequency), matching_window(frequency))
    else {
        return out;
    };
    let looks_at = human_duration(window.seconds);
    if window.seconds < interval {
        let gap = human_duration(interval - window.seconds);
        out.push(format!(
            "This {freq} schedule looks at the last {looks_at}: {gap} between runs will never be investigated. Use \
             '{fix}'."
        ));
    } else if window.seconds > 2 * interval {
        let repeats = window.seconds.div_ceil(interval);
        let every = human_duration(interval);
        out.push(format!(
            "This {freq} schedule looks at the last {looks_at}, more than twice the {every} between runs: each \
             event is examined by up to {repeats} runs, so the same findings will be reported again and again. Use \
             '{fix}' (a little more is fine for late-arriving logs)."
        ));
    }
    out
}

/// "30 minutes", "24 hours", "6 days", "23 hours 30 minutes": days only from two days on, so one day reads as
/// "24 hours" like the phrase people write.
pub(super) fn human_duration(seconds: u64) -> String {
    if seconds == 0 {
        return "0 seconds".to_owned();
    }
    let days = if seconds >= 2 * DAY_SECS {
        seconds / DAY_SECS
    } else {
        0
    };
    let rest = seconds - days * DAY_SECS;
    let parts = [
        (days, "day"),
        (rest / HOUR_SECS, "hour"),
        (rest % HOUR_SECS / 60, "minute"),
        (rest % 60, "second"),
    ];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| {
            if *n == 1 {
                format!("1 {unit}")
            } else {
                format!("{n} {unit}s")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// [`validate_query`] for a schedule whose windows have a fixed `lookback` (seconds): the coverage warnings compare
/// the window the schedule really sends with its interval, and a window the query's own words name ("last 24
/// hours") that contradicts the lookback is a warning too (the engine is told both).
pub fn validate_query_with_lookback(
    query: &str,
    frequency: Option<Frequency>,
    lookback: Option<u64>,
) -> QueryValidation {
    let mut v = validate_query(query, frequency);
    let Some(lookback) = lookback.filter(|s| *s > 0) else {
        return v;
    };
    let sent = TimeWindow {
        seconds: lookback,
        hours: lookback as f64 / HOUR,
        source: format!("lookback {}", human_duration(lookback)),
        approximate: false,
    };
    v.warnings = frequency
        .map(|f| coverage_warnings(f, Some(&sent), &v.dimensions.time_scope))
        .unwrap_or_default();
    if let Some(said) = &v.time_window {
        // Calendar phrases vary in length; allow them a tenth either way.
        let (a, b) = (said.seconds as f64, lookback as f64);
        if (a - b).abs() > 0.1 * b {
            v.warnings.push(format!(
                "The query says '{}' ({}) but the schedule's lookback is {}: each run is sent the {} window. Make \
                 them agree (or drop the phrase and let the window speak).",
                said.source,
                human_duration(said.seconds),
                human_duration(lookback),
                human_duration(lookback)
            ));
        }
    }
    v
}
