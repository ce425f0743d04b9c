//! The query specificity check (DESIGN §6): deterministic, explains itself, and warns when a query's time window
//! does not match the schedule's frequency.
//!
//! A scheduled investigation runs unattended, so a vague question ("anything suspicious?") wastes every run. This
//! module looks for three dimensions of specificity with a fixed set of regular expressions (no model, no network):
//! concrete **entities**, a **time scope** and **measurable conditions**, scores them, says what is missing and how
//! to fix it, and compares the query's lookback with the schedule's interval.

use crate::domain::timing::Frequency;
use chrono::NaiveDate;
use regex::{Captures, Regex};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

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

const MINUTE: f64 = 60.0;
const HOUR: f64 = 3_600.0;
const DAY: f64 = 86_400.0;
const WEEK: f64 = 7.0 * DAY;
const MONTH: f64 = 30.0 * DAY;
const YEAR: f64 = 365.0 * DAY;
const HOUR_SECS: u64 = 3_600;
const DAY_SECS: u64 = 24 * HOUR_SECS;

/// The result of [`validate_query`], returned as-is by `POST /api/v1/schedules/validate`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueryValidation {
    pub valid: bool,
    /// 0–100: the sum of the three dimensions' points.
    pub score: u8,
    /// What was found for each dimension.
    pub dimensions: Dimensions,
    /// The dimensions with nothing found, in the order entities, time scope, conditions.
    pub missing: Vec<Dimension>,
    /// The query's lookback, when a time scope with a known length was found; `null` otherwise.
    pub time_window: Option<TimeWindow>,
    /// Concrete edits that would make the query more specific, tied to what is missing or weak.
    pub suggestions: Vec<String>,
    /// Problems that do not make the query invalid, e.g. a time window that leaves gaps between scheduled runs.
    pub warnings: Vec<String>,
}

/// The three dimensions of specificity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Entities,
    TimeScope,
    Conditions,
}

impl Dimension {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entities => "entities",
            Self::TimeScope => "time_scope",
            Self::Conditions => "conditions",
        }
    }
}

/// Per-dimension findings.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Dimensions {
    pub entities: DimensionFindings,
    pub time_scope: DimensionFindings,
    pub conditions: DimensionFindings,
}

/// How convincing a dimension's evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    Absent,
    /// Only generic or number-less evidence ("per user", "recently", "count").
    Weak,
    /// At least one concrete finding.
    Strong,
}

/// What one dimension found.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DimensionFindings {
    pub found: bool,
    pub evidence: Evidence,
    /// This dimension's share of the score.
    pub points: u8,
    /// In the order they appear in the query; at most [`MAX_ITEMS_PER_DIMENSION`], duplicates reported once.
    pub items: Vec<Finding>,
    /// Time scope only: the detected lookback in hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_hours: Option<f64>,
}

/// One thing found in the query.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    pub kind: FindingKind,
    /// The value as written (for an event ID or a table, the ID or the table's canonical name).
    pub value: String,
    /// Weaker evidence: a generic entity type, a vague time reference or a condition without a number.
    pub weak: bool,
    /// Time findings: the window's length in seconds, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u64>,
    /// Generic entity types: the Sentinel table they usually point at ("sign-ins" → `SigninLogs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<&'static str>,
    /// Byte offset in the query; orders the items and picks the first time window.
    #[serde(skip)]
    offset: usize,
    /// Calendar and month/year windows have no exact length.
    #[serde(skip)]
    approximate: bool,
}

impl Finding {
    fn new(kind: FindingKind, value: impl Into<String>, offset: usize) -> Self {
        Self {
            kind,
            value: value.into(),
            weak: false,
            seconds: None,
            table: None,
            offset,
            approximate: false,
        }
    }

    fn weak(mut self) -> Self {
        self.weak = true;
        self
    }
}

/// What kind of thing a [`Finding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    // Entities.
    Ipv4,
    Ipv6,
    Cidr,
    /// user@domain (UPN or email address).
    Upn,
    /// DOMAIN\user.
    DomainAccount,
    /// A quoted account name after "user"/"account".
    Account,
    /// An FQDN with a host part (three labels or more), or a host name after "host"/"device"/...
    Hostname,
    /// A two-label domain name.
    Domain,
    FileName,
    FilePath,
    Md5,
    Sha1,
    Sha256,
    Guid,
    /// A Sentinel / Log Analytics table (canonical name).
    Table,
    /// A Windows event ID.
    EventId,
    /// A MITRE ATT&CK technique or tactic ID.
    MitreTechnique,
    /// An entity named only by type: "the same IP", "per user", "sign-ins", "hosts" (weak).
    EntityType,
    // Time scope.
    /// "last 24 hours", "past 7 days", "previous week", "lookback of 3 days", "2 hours ago".
    RelativeWindow,
    /// `P7D`, `PT24H`.
    Iso8601Duration,
    /// KQL `ago(1d)`.
    KqlAgo,
    /// "today", "since yesterday", "this week".
    CalendarWindow,
    /// "between 2025-01-01 and 2025-01-08".
    DateRange,
    /// "recently", "past few days" (weak).
    VagueTime,
    // Conditions.
    /// "more than 5", "at least 3", ">= 5", "5 or more", "5 failed attempts".
    Comparison,
    /// "between 5 and 10".
    Range,
    /// "top 10", "top-N", "10 most targeted".
    TopN,
    /// "200%", "5 percent".
    Percentage,
    /// "3x", "10-fold".
    Ratio,
    /// "threshold of 5" (strong) or "threshold", "exceeds the baseline", "spike" (weak).
    Threshold,
    /// "count", "number of", "how many" (weak).
    Aggregation,
    /// "first time seen", "never seen before" (weak).
    Novelty,
}

/// The query's lookback: the first time scope with a known length, in the order the query mentions them (later
/// ones are usually baselines or sub-windows, e.g. "... in the last 24 hours, compared with the last 30 days").
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TimeWindow {
    pub seconds: u64,
    pub hours: f64,
    /// The phrase it came from.
    pub source: String,
    /// True for calendar windows ("today", "this week") and months/years, whose length varies.
    pub approximate: bool,
}

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
fn human_duration(seconds: u64) -> String {
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

// ---------------------------------------------------------------------------------------------------------------
// Detection.

/// A pass over one query: the spans already claimed by a finding, so overlapping detectors do not double-count.
struct Scan<'q> {
    query: &'q str,
    /// Claimed spans, disjoint, keyed by start (end as value): overlap checks are O(log n), not a linear scan.
    claimed: BTreeMap<usize, usize>,
}

/// Collects one dimension's findings: deduplicated, capped, ordered by position.
#[derive(Default)]
struct Collector {
    items: Vec<Finding>,
    seen: HashSet<(FindingKind, String)>,
}

impl Collector {
    fn full(&self) -> bool {
        self.items.len() >= MAX_ITEMS_PER_DIMENSION
    }

    fn push(&mut self, finding: Finding) {
        if self.full() {
            return;
        }
        if self
            .seen
            .insert((finding.kind, finding.value.to_lowercase()))
        {
            self.items.push(finding);
        }
    }

    fn finish(mut self) -> Vec<Finding> {
        self.items.sort_by_key(|f| f.offset);
        self.items
    }
}

fn re(pattern: &str) -> Regex {
    // The patterns are constants of this module, compiled once; the unit tests exercise every one of them.
    Regex::new(pattern).unwrap_or_else(|e| panic!("invalid built-in regex {pattern:?}: {e}"))
}

impl<'q> Scan<'q> {
    fn new(query: &'q str) -> Self {
        Self {
            query,
            claimed: BTreeMap::new(),
        }
    }

    /// Claims `range` unless it overlaps a claimed span. Claimed spans are disjoint, so the only candidate for an
    /// overlap is the one with the greatest start before `range.end`.
    fn claim(&mut self, range: Range<usize>) -> bool {
        if let Some((_, &end)) = self.claimed.range(..range.end).next_back()
            && end > range.start
        {
            return false;
        }
        self.claimed.insert(range.start, range.end);
        true
    }

    fn char_before(&self, at: usize) -> Option<char> {
        self.query.get(..at).and_then(|s| s.chars().next_back())
    }

    fn char_after(&self, at: usize) -> Option<char> {
        self.query.get(at..).and_then(|s| s.chars().next())
    }

    /// Runs `regex` over the query; `accept` turns a match into findings (or none), and the whole match is claimed
    /// when it yields any. Stops early once the collector is full.
    fn each(
        &mut self,
        regex: &Regex,
        out: &mut Collector,
        mut accept: impl FnMut(&Self, &Captures<'_>) -> Vec<Finding>,
    ) {
        let query = self.query;
        for caps in regex.captures_iter(query) {
            if out.full() {
                return;
            }
            let Some(whole) = caps.get(0) else { continue };
            let found = accept(self, &caps);
            if found.is_empty() || !self.claim(whole.range()) {
                continue;
            }
            for f in found {
                out.push(f);
            }
        }
    }

    fn entities(&mut self) -> Vec<Finding> {
        let mut out = Collector::default();

        self.each(&UPN, &mut out, |_, c| one(FindingKind::Upn, c, 0));
        self.each(&FILE_PATH, &mut out, |_, c| {
            one(FindingKind::FilePath, c, 0)
        });
        self.each(&DOMAIN_ACCOUNT, &mut out, |s, c| {
            let Some(m) = c.get(0) else { return vec![] };
            // "C:\Windows\System32" is a path, not DOMAIN\user.
            let path_like = matches!(s.char_before(m.start()), Some('\\' | ':' | '/'))
                || matches!(s.char_after(m.end()), Some('\\'));
            if path_like {
                vec![]
            } else {
                one(FindingKind::DomainAccount, c, 0)
            }
        });
        self.each(&IPV4, &mut out, |_, c| {
            let (Some(m), Some(addr)) = (c.get(0), c.get(1)) else {
                return vec![];
            };
            if addr.as_str().parse::<std::net::Ipv4Addr>().is_err() {
                return vec![];
            }
            match c.get(2).map(|p| p.as_str().parse::<u8>()) {
                None => vec![Finding::new(FindingKind::Ipv4, m.as_str(), m.start())],
                Some(Ok(prefix)) if prefix <= 32 => {
                    vec![Finding::new(FindingKind::Cidr, m.as_str(), m.start())]
                }
                Some(_) => vec![],
            }
        });
        self.each(&IPV6_CANDIDATE, &mut out, |s, c| {
            let (Some(m), Some(addr)) = (c.get(0), c.get(1)) else {
                return vec![];
            };
            let bounded = !s
                .char_before(m.start())
                .is_some_and(|ch| ch.is_alphanumeric() || ch == ':')
                && !s
                    .char_after(m.end())
                    .is_some_and(|ch| ch.is_alphanumeric() || ch == ':');
            let has_hex = addr.as_str().chars().any(|ch| ch.is_ascii_hexdigit());
            if !bounded || !has_hex || addr.as_str().parse::<std::net::Ipv6Addr>().is_err() {
                return vec![];
            }
            match c.get(2).map(|p| p.as_str().parse::<u8>()) {
                None => vec![Finding::new(FindingKind::Ipv6, m.as_str(), m.start())],
                Some(Ok(prefix)) if prefix <= 128 => {
                    vec![Finding::new(FindingKind::Cidr, m.as_str(), m.start())]
                }
                Some(_) => vec![],
            }
        });
        self.each(&GUID, &mut out, |_, c| one(FindingKind::Guid, c, 0));
        self.each(&HEX_HASH, &mut out, |_, c| {
            let kind = match c.get(0).map(|m| m.len()) {
                Some(32) => FindingKind::Md5,
                Some(40) => FindingKind::Sha1,
                Some(64) => FindingKind::Sha256,
                _ => return vec![],
            };
            one(kind, c, 0)
        });
        self.each(&DOTTED_NAME, &mut out, |_, c| {
            let (Some(m), Some(last)) = (c.get(0), c.get(1)) else {
                return vec![];
            };
            let last = last.as_str().to_ascii_lowercase();
            let kind = if FILE_EXTENSIONS.contains(&last.as_str()) {
                FindingKind::FileName
            } else if !(last.len() == 2 || TLDS.contains(&last.as_str())) {
                // "sign-ins.Then" is a missing space, not a domain.
                return vec![];
            } else if m.as_str().matches('.').count() >= 2 {
                FindingKind::Hostname
            } else {
                FindingKind::Domain
            };
            vec![Finding::new(kind, m.as_str(), m.start())]
        });
        self.each(&TABLE, &mut out, |_, c| {
            let Some(m) = c.get(0) else { return vec![] };
            let canonical = TABLES
                .iter()
                .find(|t| t.eq_ignore_ascii_case(m.as_str()))
                .copied();
            vec![Finding::new(
                FindingKind::Table,
                canonical.unwrap_or(m.as_str()),
                m.start(),
            )]
        });
        self.each(&CUSTOM_TABLE, &mut out, |_, c| {
            one(FindingKind::Table, c, 0)
        });
        self.each(&EVENT_ID_PHRASE, &mut out, |_, c| {
            let (Some(m), Some(ids)) = (c.get(0), c.get(1)) else {
                return vec![];
            };
            ids.as_str()
                .split(|ch: char| !ch.is_ascii_digit())
                .filter(|id| !id.is_empty())
                .map(|id| Finding::new(FindingKind::EventId, id, m.start()))
                .collect()
        });
        self.each(&KNOWN_EVENT_ID, &mut out, |_, c| {
            one(FindingKind::EventId, c, 0)
        });
        self.each(&MITRE, &mut out, |_, c| {
            one(FindingKind::MitreTechnique, c, 0)
        });
        self.each(&HOST_AFTER_KEYWORD, &mut out, |_, c| {
            let (Some(m), Some(name)) = (c.get(0), c.get(2)) else {
                return vec![];
            };
            let quoted = c.get(1).is_some_and(|q| !q.as_str().is_empty());
            let looks_like_host = name.as_str().chars().any(|ch| ch.is_ascii_digit())
                || (name.len() >= 3
                    && name
                        .as_str()
                        .chars()
                        .all(|ch| ch.is_ascii_uppercase() || ch == '-'));
            if quoted || looks_like_host {
                vec![Finding::new(
                    FindingKind::Hostname,
                    name.as_str(),
                    m.start(),
                )]
            } else {
                vec![]
            }
        });
        self.each(&ACCOUNT_AFTER_KEYWORD, &mut out, |_, c| {
            one(FindingKind::Account, c, 1)
        });
        for (regex, table) in ENTITY_TYPES.iter() {
            self.each(regex, &mut out, |_, c| {
                let Some(m) = c.get(0) else { return vec![] };
                let mut f = Finding::new(FindingKind::EntityType, m.as_str(), m.start()).weak();
                f.table = *table;
                vec![f]
            });
        }
        out.finish()
    }

    fn time_scope(&mut self) -> Vec<Finding> {
        let mut out = Collector::default();
        let window = |kind: FindingKind,
                      m: regex::Match<'_>,
                      seconds: f64,
                      approximate: bool|
         -> Vec<Finding> {
            let mut f = Finding::new(kind, m.as_str(), m.start());
            // Saturating: a six-digit number of years still fits; NaN cannot occur from parsed digits.
            f.seconds = Some(seconds.round() as u64);
            f.approximate = approximate;
            vec![f]
        };

        self.each(&ISO_DURATION, &mut out, |_, c| {
            let Some(m) = c.get(0) else { return vec![] };
            let parts = [
                (1, YEAR),
                (2, MONTH),
                (3, WEEK),
                (4, DAY),
                (5, HOUR),
                (6, MINUTE),
                (7, 1.0),
            ];
            let mut seconds = 0.0;
            let mut any = false;
            for (group, unit) in parts {
                if let Some(n) = c.get(group).and_then(|g| g.as_str().parse::<f64>().ok()) {
                    seconds += n * unit;
                    any = true;
                }
            }
            let approximate = c.get(1).is_some() || c.get(2).is_some();
            if any && seconds > 0.0 {
                window(FindingKind::Iso8601Duration, m, seconds, approximate)
            } else {
                vec![]
            }
        });
        self.each(&KQL_AGO, &mut out, |_, c| {
            number_and_unit(c, 1, 2).map_or(vec![], |(s, approx)| {
                c.get(0)
                    .map_or(vec![], |m| window(FindingKind::KqlAgo, m, s, approx))
            })
        });
        self.each(&DATE_RANGE, &mut out, |_, c| {
            let (Some(m), Some(from), Some(to)) = (c.get(0), c.get(1), c.get(2)) else {
                return vec![];
            };
            let parse = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
            match (parse(from.as_str()), parse(to.as_str())) {
                // Inclusive of the end day: "between 2025-01-01 and 2025-01-07" is 7 days.
                (Some(from), Some(to)) if to >= from => {
                    let days = (to - from).num_days() + 1;
                    window(FindingKind::DateRange, m, days as f64 * DAY, false)
                }
                _ => vec![],
            }
        });
        for regex in [&*LOOKBACK, &*RELATIVE_NUMBERED, &*UNITS_AGO] {
            self.each(regex, &mut out, |_, c| {
                number_and_unit(c, 1, 2).map_or(vec![], |(s, approx)| {
                    c.get(0).map_or(vec![], |m| {
                        window(FindingKind::RelativeWindow, m, s, approx)
                    })
                })
            });
        }
        self.each(&RELATIVE_SINGLE, &mut out, |_, c| {
            let (Some(m), Some(unit)) = (c.get(0), c.get(1)) else {
                return vec![];
            };
            unit_seconds(unit.as_str()).map_or(vec![], |(s, approx)| {
                window(FindingKind::RelativeWindow, m, s, approx)
            })
        });
        self.each(&CALENDAR, &mut out, |_, c| {
            let Some(m) = c.get(0) else { return vec![] };
            let phrase = m.as_str().to_lowercase();
            let phrase = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
            // Upper bounds of the calendar period as seen from a run: "today" is at most 24 hours, "since
            // yesterday" at most 48.
            let seconds = match phrase.as_str() {
                "since yesterday" => 2.0 * DAY,
                "this week" => WEEK,
                "this month" => MONTH,
                "this year" => YEAR,
                "overnight" | "last night" => 12.0 * HOUR,
                _ => DAY, // today, yesterday, since midnight
            };
            window(FindingKind::CalendarWindow, m, seconds, true)
        });
        self.each(&VAGUE_TIME, &mut out, |_, c| {
            c.get(0).map_or(vec![], |m| {
                vec![Finding::new(FindingKind::VagueTime, m.as_str(), m.start()).weak()]
            })
        });
        out.finish()
    }

    fn conditions(&mut self) -> Vec<Finding> {
        let mut out = Collector::default();

        self.each(&OPERATOR, &mut out, |_, c| {
            one(FindingKind::Comparison, c, 0)
        });
        self.each(&BETWEEN_NUMBERS, &mut out, |_, c| {
            one(FindingKind::Range, c, 0)
        });
        self.each(&COMPARISON_WORDS, &mut out, |_, c| {
            let (Some(m), Some(word), Some(number)) = (c.get(0), c.get(1), c.get(2)) else {
                return vec![];
            };
            // "over 7 days" and "within 10 minutes" describe a period, not a threshold.
            let period_word = matches!(
                word.as_str().to_lowercase().as_str(),
                "over" | "under" | "above" | "below"
            );
            let next_is_unit = c.get(4).is_some_and(|w| unit_seconds(w.as_str()).is_some());
            if period_word && next_is_unit {
                return vec![];
            }
            let end = c.get(3).map_or(number.end(), |p| p.end());
            let value = m.as_str().get(..end - m.start()).unwrap_or(m.as_str());
            vec![Finding::new(FindingKind::Comparison, value, m.start())]
        });
        self.each(&N_OR_MORE, &mut out, |_, c| {
            one(FindingKind::Comparison, c, 0)
        });
        self.each(&N_TIMES, &mut out, |_, c| {
            one(FindingKind::Comparison, c, 0)
        });
        self.each(&TOP_N, &mut out, |_, c| one(FindingKind::TopN, c, 0));
        self.each(&PERCENT, &mut out, |_, c| {
            one(FindingKind::Percentage, c, 0)
        });
        self.each(&RATIO, &mut out, |_, c| one(FindingKind::Ratio, c, 1));
        self.each(&THRESHOLD_NUMBER, &mut out, |_, c| {
            one(FindingKind::Threshold, c, 0)
        });
        self.each(&THRESHOLD_WORDS, &mut out, |_, c| {
            weak_one(FindingKind::Threshold, c)
        });
        self.each(&AGGREGATION, &mut out, |_, c| {
            weak_one(FindingKind::Aggregation, c)
        });
        self.each(&NOVELTY, &mut out, |_, c| weak_one(FindingKind::Novelty, c));
        out.finish()
    }
}

/// A finding of `kind` whose value is capture `group` (the offset is the whole match's).
fn one(kind: FindingKind, c: &Captures<'_>, group: usize) -> Vec<Finding> {
    match (c.get(0), c.get(group)) {
        (Some(m), Some(g)) => vec![Finding::new(kind, g.as_str(), m.start())],
        _ => vec![],
    }
}

fn weak_one(kind: FindingKind, c: &Captures<'_>) -> Vec<Finding> {
    c.get(0).map_or(vec![], |m| {
        vec![Finding::new(kind, m.as_str(), m.start()).weak()]
    })
}

/// Seconds for "24" + "hours" in groups `n` and `u`; a missing number means one ("last hour").
fn number_and_unit(c: &Captures<'_>, n: usize, u: usize) -> Option<(f64, bool)> {
    let count = match c.get(n) {
        Some(n) => parse_number(n.as_str())?,
        None => 1.0,
    };
    let (unit, approximate) = unit_seconds(c.get(u)?.as_str())?;
    let seconds = count * unit;
    (seconds > 0.0).then_some((seconds, approximate))
}

fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    let lower = s.to_lowercase();
    let word = lower
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let n = match word.as_str() {
        "a" | "an" | "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "fourteen" => 14,
        "fifteen" => 15,
        "twenty" => 20,
        "twenty-four" => 24,
        "thirty" => 30,
        "forty-eight" => 48,
        "sixty" => 60,
        "ninety" => 90,
        _ => return None,
    };
    Some(f64::from(n))
}

/// Seconds per unit, and whether the unit's length varies (months, quarters, years). "m" is minutes, as in KQL.
fn unit_seconds(unit: &str) -> Option<(f64, bool)> {
    let unit = unit.to_lowercase();
    Some(match unit.as_str() {
        "ms" | "millisecond" | "milliseconds" => (0.001, false),
        "s" | "sec" | "secs" | "second" | "seconds" => (1.0, false),
        "m" | "min" | "mins" | "minute" | "minutes" => (MINUTE, false),
        "h" | "hr" | "hrs" | "hour" | "hours" => (HOUR, false),
        "d" | "day" | "days" => (DAY, false),
        "w" | "wk" | "wks" | "week" | "weeks" => (WEEK, false),
        "fortnight" | "fortnights" => (2.0 * WEEK, false),
        "mo" | "mos" | "month" | "months" => (MONTH, true),
        "quarter" | "quarters" => (3.0 * MONTH, true),
        "y" | "yr" | "yrs" | "year" | "years" => (YEAR, true),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Patterns. Longer alternatives come first where a shorter one is a prefix ("seconds" before "s").

/// A number in a time phrase: digits (bounded, so the seconds stay far below `u64::MAX`) or a common word. A word
/// must be followed by whitespace, so "in the past as well" is not "past a s(econd)".
const NUM: &str = r"\d{1,6}(?:\.\d{1,3})?|(?:an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|twenty[\s-]four|twenty|thirty|forty[\s-]eight|sixty|ninety)\s";
const UNIT: &str = r"milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w|fortnights?|months?|mos?|quarters?|years?|yrs?|y";
/// A number in a condition.
const CNUM: &str = r"\d[\d,]{0,11}(?:\.\d{1,6})?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|fifty|a\s+hundred|hundred|a\s+thousand|thousand|a\s+dozen|dozen";

/// Sentinel / Log Analytics / Defender XDR tables. Single common English words (Event, Perf, Heartbeat, Usage) are
/// left out on purpose: they would fire on ordinary prose.
pub const TABLES: &[&str] = &[
    "SigninLogs",
    "AADNonInteractiveUserSignInLogs",
    "AADServicePrincipalSignInLogs",
    "AADManagedIdentitySignInLogs",
    "AADProvisioningLogs",
    "AADRiskyUsers",
    "AADUserRiskEvents",
    "AuditLogs",
    "SecurityEvent",
    "WindowsEvent",
    "Syslog",
    "CommonSecurityLog",
    "OfficeActivity",
    "AzureActivity",
    "AzureDiagnostics",
    "AzureMetrics",
    "SecurityAlert",
    "SecurityIncident",
    "SecurityRecommendation",
    "ThreatIntelligenceIndicator",
    "ThreatIntelIndicators",
    "DeviceProcessEvents",
    "DeviceNetworkEvents",
    "DeviceLogonEvents",
    "DeviceFileEvents",
    "DeviceRegistryEvents",
    "DeviceImageLoadEvents",
    "DeviceEvents",
    "DeviceInfo",
    "DeviceNetworkInfo",
    "DeviceFileCertificateInfo",
    "EmailEvents",
    "EmailAttachmentInfo",
    "EmailUrlInfo",
    "EmailPostDeliveryEvents",
    "UrlClickEvents",
    "IdentityLogonEvents",
    "IdentityQueryEvents",
    "IdentityDirectoryEvents",
    "IdentityInfo",
    "CloudAppEvents",
    "AlertInfo",
    "AlertEvidence",
    "BehaviorAnalytics",
    "UserPeerAnalytics",
    "W3CIISLog",
    "DnsEvents",
    "DnsInventory",
    "AWSCloudTrail",
    "GCPAuditLogs",
    "MicrosoftGraphActivityLogs",
    "StorageBlobLogs",
    "AzureNetworkAnalytics_CL",
    "ASimNetworkSessionLogs",
    "ASimDnsActivityLogs",
    "ASimAuthenticationEventLogs",
    "ASimProcessEventLogs",
    "ASimWebSessionLogs",
    "SentinelHealth",
    "SentinelAudit",
    "ConfigurationChange",
    "VMConnection",
    "ContainerLog",
    "KubeEvents",
    "AppServiceHTTPLogs",
    "NetworkAccessTraffic",
    "LAQueryLogs",
    "Watchlist",
];

/// Extensions that make `name.ext` a file rather than a domain.
const FILE_EXTENSIONS: &[&str] = &[
    "exe", "dll", "ps1", "psm1", "psd1", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "hta",
    "scr", "msi", "lnk", "sys", "jar", "py", "sh", "elf", "bin", "iso", "img", "vhd", "vhdx",
    "zip", "rar", "gz", "tar", "doc", "docx", "docm", "xls", "xlsx", "xlsm", "ppt", "pptx", "pdf",
    "rtf", "one", "txt", "csv", "dat", "tmp", "xml", "json", "yaml", "yml", "dmp", "aspx", "php",
    "jsp", "apk", "dylib", "so", "cpl", "ocx", "drv", "eml", "msg",
];

/// Top-level domains longer than two letters that count as a domain (every two-letter TLD does); internal AD
/// suffixes included. A short list instead of the public suffix list: an unlisted TLD only costs a missed finding.
#[rustfmt::skip]
const TLDS: &[&str] = &[
    "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "name", "pro", "mobi", "app",
    "dev", "cloud", "online", "site", "top", "xyz", "tech", "shop", "store", "live", "club", "icu",
    "vip", "work", "email", "link", "click", "support", "services", "azure", "microsoft", "windows",
    "office", "onion", "local", "corp", "lan", "internal", "intranet", "home", "onmicrosoft", "aws",
    "amazon", "google",
];

/// Well-known Windows security event IDs, detected even without the words "event ID".
const KNOWN_EVENT_IDS: &str = r"1102|4103|4104|4624|4625|4634|4648|4657|4662|4663|4672|4688|4697|4698|4719|4720|4722|4724|4725|4726|4728|4732|4738|4740|4756|4765|4766|4768|4769|4771|4776|4781|4798|4799|5140|5145|7045";

static UPN: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\b[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b")
});
static FILE_PATH: LazyLock<Regex> = LazyLock::new(|| re(r#"\b[A-Za-z]:\\[^\s"'<>|]{1,250}"#));
static DOMAIN_ACCOUNT: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b[A-Za-z][A-Za-z0-9.-]{0,62}\\[A-Za-z0-9][A-Za-z0-9._$-]{0,63}"));
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(\d{1,3}(?:\.\d{1,3}){3})(?:/(\d{1,3}))?\b"));
static IPV6_CANDIDATE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)([0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7})(?:/(\d{1,3}))?"));
static GUID: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"));
static HEX_HASH: LazyLock<Regex> = LazyLock::new(|| re(r"\b[0-9a-fA-F]{32,64}\b"));
/// A dotted name; group 1 is the last label (TLD or file extension).
static DOTTED_NAME: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+([a-z][a-z0-9]{1,23})\b")
});
static TABLE: LazyLock<Regex> = LazyLock::new(|| {
    let names: Vec<String> = TABLES.iter().map(|t| regex::escape(t)).collect();
    re(&format!(r"(?i)\b(?:{})\b", names.join("|")))
});
static CUSTOM_TABLE: LazyLock<Regex> = LazyLock::new(|| re(r"\b[A-Za-z][A-Za-z0-9_]{0,100}_CL\b"));
/// "event ID 4625", "EventID == 4625", "event IDs 4624, 4625 and 4648".
static EVENT_ID_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bevent\s*_?(?:id|code)s?\b\s*(?:==|=|:|#|in\s*\(|is|of)?\s*(\d{1,5}(?:\s*(?:,|/|and|or)\s*\d{1,5})*)",
    )
});
static KNOWN_EVENT_ID: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"\b(?:{KNOWN_EVENT_IDS})\b")));
static MITRE: LazyLock<Regex> = LazyLock::new(|| re(r"\bT(?:A\d{4}|\d{4}(?:\.\d{3})?)\b"));
/// "host WEB01", "device named 'alpha'"; group 1 is the opening quote, group 2 the name.
static HOST_AFTER_KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i:\b(?:host(?:name)?|machine|device(?:name)?|computer(?:name)?|server|workstation|endpoint|dc)\b\s*(?:==|=|:|named|called)?\s*)(["']?)([A-Za-z0-9][A-Za-z0-9-]{1,62})["']?"#,
    )
});
/// "user 'svc_backup'": quoted only, so "user account" is not an account named "account".
static ACCOUNT_AFTER_KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)\b(?:user(?:name)?|account|upn|identity)\s*(?:==|=|:|named|called)?\s*["']([^"'\s]{2,64})["']"#,
    )
});

/// Entities named by type only, with the table they usually point at. More specific phrases first.
static ENTITY_TYPES: LazyLock<Vec<(Regex, Option<&'static str>)>> = LazyLock::new(|| {
    [
        (r"non[\s-]?interactive\s+sign[\s-]?ins?", Some("AADNonInteractiveUserSignInLogs")),
        (r"service\s+principals?|managed\s+identit(?:y|ies)|app\s+registrations?", Some("AADServicePrincipalSignInLogs")),
        (r"sign[\s-]?ins?|log[\s-]?ins?|mfa\s+(?:prompts?|requests?|challenges?)", Some("SigninLogs")),
        (r"logon\s+attempts?|log[\s-]?ons?", Some("SecurityEvent")),
        (r"storage\s+accounts?|key\s*vaults?|subscriptions?|resource\s+groups?|role\s+assignments?", Some("AzureActivity")),
        (r"network\s+connections?|connections?|outbound\s+traffic|inbound\s+traffic", Some("DeviceNetworkEvents")),
        (r"dns\s+(?:quer(?:y|ies)|requests?|lookups?)", Some("DnsEvents")),
        (r"processes|process|command[\s-]lines?|executables?|binaries|scripts?", Some("DeviceProcessEvents")),
        (r"files?", Some("DeviceFileEvents")),
        (r"emails?|mailbox(?:es)?|inbox\s+rules?", Some("EmailEvents")),
        (r"alerts?", Some("SecurityAlert")),
        (r"incidents?", Some("SecurityIncident")),
        (r"firewalls?|proxy|proxies|vpn", Some("CommonSecurityLog")),
        (r"ip\s+address(?:es)?|ip\s+ranges?|source\s+ips?|destination\s+ips?|ipv[46]|ips?|subnets?", None),
        (r"user\s+accounts?|accounts?|usernames?|users?|upns?|identit(?:y|ies)|admins?|administrators?|guests?", None),
        (r"domain\s+controllers?|hostnames?|hosts?|machines?|devices?|computers?|servers?|endpoints?|workstations?|virtual\s+machines?|vms?", None),
        (r"urls?|domains?|websites?|ports?", None),
    ]
    .into_iter()
    .map(|(pattern, table)| (re(&format!(r"(?i)\b(?:{pattern})\b")), table))
    .collect()
});

static ISO_DURATION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\bP(?:(\d{1,6})Y)?(?:(\d{1,6})M)?(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6}(?:\.\d{1,3})?)S)?)?\b",
    )
});
static KQL_AGO: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bago\s*\(\s*(\d{1,6}(?:\.\d{1,3})?)\s*(milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)\s*\)",
    )
});
static DATE_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:between|from)\s+(\d{4}-\d{2}-\d{2})\s+(?:and|to|until|through|-)\s+(\d{4}-\d{2}-\d{2})\b",
    )
});
/// "lookback of 7 days", "look back 24h", "lookback: P7D" is the ISO pattern's job.
static LOOKBACK: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\blook[\s-]?back(?:\s+(?:period|window))?\s*(?:of|:|=|is)?\s*({NUM})\s*({UNIT})\b"
    ))
});
static RELATIVE_NUMBERED: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b(?:last|past|previous|prior|preceding|trailing)\s+({NUM})\s*({UNIT})\b"
    ))
});
static UNITS_AGO: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"(?i)\b(?:since\s+)?({NUM})\s*({UNIT})\s+ago\b")));
static RELATIVE_SINGLE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:last|past|previous|prior|preceding|trailing)\s+(minute|hour|day|week|fortnight|month|quarter|year)\b",
    )
});
static CALENDAR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:since\s+yesterday|since\s+midnight|yesterday|today|this\s+week|this\s+month|this\s+year|overnight|last\s+night)\b",
    )
});
static VAGUE_TIME: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:(?:last|past|previous)\s+(?:few|several|couple(?:\s+of)?|many)\s+(?:minutes|hours|days|weeks|months)|recently|recent|lately|nowadays)\b",
    )
});

static OPERATOR: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:>=|<=|!=|==|>|<|≥|≤)\s*\d[\d,]{0,11}(?:\.\d{1,6})?"));
static BETWEEN_NUMBERS: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"(?i)\bbetween\s+(?:{CNUM})\s+and\s+(?:{CNUM})\b")));
/// Group 1 the comparison word, 2 the number, 3 an optional percent sign, 4 the following word.
static COMPARISON_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b(more\s+than|greater\s+than|higher\s+than|larger\s+than|bigger\s+than|fewer\s+than|less\s+than|lower\s+than|at\s+least|at\s+most|no\s+more\s+than|no\s+fewer\s+than|no\s+less\s+than|not\s+more\s+than|in\s+excess\s+of|upwards\s+of|a\s+minimum\s+of|a\s+maximum\s+of|minimum\s+of|maximum\s+of|exceed(?:s|ed|ing)?|equal\s+to|exactly|over|above|under|below)\s+({CNUM})\b(\s*(?:%|percent\b))?(?:\s+(\w+))?"
    ))
});
static N_OR_MORE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b\d[\d,]{0,11}\s*(?:\+|or\s+more\b|or\s+greater\b|or\s+higher\b|and\s+(?:above|up|over)\b)",
    )
});
static N_TIMES: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b\d[\d,]{0,11}\s+(?:times|attempts|failures|failed|unsuccessful|distinct|unique|different|separate)\b",
    )
});
static TOP_N: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:top|bottom)[\s-]*(?:\d{1,6}|n|k|three|five|ten|twenty|fifty|hundred)\b|\b\d{1,6}\s+(?:most|least)\s+\w+",
    )
});
static PERCENT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b\d{1,6}(?:\.\d{1,3})?\s*(?:%|percent\b|per\s+cent\b)"));
/// Group 1 is the ratio; the delimiter after it keeps "0x41" (hex) out.
static RATIO: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(\d{1,4}(?:\.\d{1,2})?\s*(?:x|×|-fold|fold))(?:\s|$|[,.;)])"));
static THRESHOLD_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\bthreshold\s*(?:of|:|=|is|at)?\s*(?:{CNUM})\b"
    ))
});
static THRESHOLD_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:thresholds?|exceed(?:s|ed|ing)?(?:\s+the)?\s+(?:baseline|normal|average)|above\s+(?:the\s+)?(?:baseline|normal|average)|exceed(?:s|ed|ing)?|spikes?|surges?)\b",
    )
});
static AGGREGATION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:distinct\s+count|dcount|count(?:s|ed)?|number\s+of|how\s+many|summari[sz]e[sd]?|tally)\b",
    )
});
static NOVELTY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:first[\s-]time\s+seen|first[\s-]time|first\s+seen|never[\s-]before[\s-]seen|never\s+(?:been\s+)?seen(?:\s+before)?|not\s+seen\s+before|previously\s+unseen|newly\s+(?:seen|observed|created))\b",
    )
});

#[cfg(test)]
mod tests {
    use super::*;

    const DESIGN_EXAMPLE: &str =
        "failed sign-ins in the last 24 hours with more than 5 attempts from the same IP";

    fn kinds_and_values(v: &QueryValidation) -> Vec<(FindingKind, String)> {
        v.dimensions
            .entities
            .items
            .iter()
            .map(|f| (f.kind, f.value.clone()))
            .collect()
    }

    fn has(items: &[Finding], kind: FindingKind, value: &str) -> bool {
        items.iter().any(|f| f.kind == kind && f.value == value)
    }

    #[test]
    fn design_example_is_valid_with_every_dimension_found() {
        let v = validate_query(DESIGN_EXAMPLE, None);
        assert!(v.valid, "{v:#?}");
        assert!(v.missing.is_empty());
        assert!(v.dimensions.entities.found);
        assert!(v.dimensions.time_scope.found);
        assert!(v.dimensions.conditions.found);
        // Entities only by type (weak), but the window and the condition are concrete.
        assert_eq!(v.dimensions.entities.evidence, Evidence::Weak);
        assert_eq!(
            v.score,
            ENTITY_WEAK_POINTS + TIME_STRONG_POINTS + CONDITION_STRONG_POINTS
        );
        let sign_ins = v
            .dimensions
            .entities
            .items
            .iter()
            .find(|f| f.value == "sign-ins")
            .unwrap();
        assert_eq!(sign_ins.table, Some("SigninLogs"));
        assert!(has(
            &v.dimensions.entities.items,
            FindingKind::EntityType,
            "IP"
        ));
        assert_eq!(v.time_window.as_ref().map(|w| w.seconds), Some(86_400));
        assert_eq!(v.dimensions.time_scope.window_hours, Some(24.0));
        assert!(has(
            &v.dimensions.conditions.items,
            FindingKind::Comparison,
            "more than 5"
        ));
        // Items come in query order.
        let offsets: Vec<_> = v
            .dimensions
            .entities
            .items
            .iter()
            .map(|f| f.offset)
            .collect();
        assert!(offsets.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn vague_queries_are_invalid_with_suggestions() {
        for q in [
            "show me bad stuff",
            "anything suspicious?",
            "",
            "   \n\t ",
            "what happened",
        ] {
            let v = validate_query(q, None);
            assert!(!v.valid, "{q:?}");
            assert_eq!(v.score, 0, "{q:?}: {v:#?}");
            assert_eq!(
                v.missing,
                vec![
                    Dimension::Entities,
                    Dimension::TimeScope,
                    Dimension::Conditions
                ],
                "{q:?}"
            );
            assert!(
                v.suggestions
                    .iter()
                    .any(|s| s.starts_with("Add a time window")),
                "{q:?}"
            );
            assert!(
                v.suggestions
                    .iter()
                    .any(|s| s.starts_with("Name what to look at")),
                "{q:?}"
            );
            assert!(
                v.suggestions
                    .iter()
                    .any(|s| s.starts_with("Add a measurable condition")),
                "{q:?}"
            );
        }
        let empty = validate_query("  ", None);
        assert!(empty.suggestions[0].starts_with("Describe what to investigate"));
    }

    #[test]
    fn a_single_dimension_is_never_enough() {
        for q in [
            "failed sign-ins",           // weak entity only
            "in the last 24 hours",      // window only
            "more than 5",               // condition only
            "10.0.0.5",                  // concrete entity only
            "anything unusual recently", // vague time only
        ] {
            let v = validate_query(q, None);
            assert!(!v.valid, "{q:?}: {v:#?}");
            assert_eq!(v.missing.len(), 2, "{q:?}: {v:#?}");
        }
    }

    #[test]
    fn validity_boundary() {
        // (query, score, valid)
        let cases = [
            // entity type + window = 50: needs a condition or a concrete entity.
            ("sign-ins in the last 24 hours", 50, false),
            // + weak condition = 65.
            ("count sign-ins in the last 24 hours", 65, true),
            // concrete entity + window = 70.
            ("activity of 10.0.0.5 in the last 24 hours", 70, true),
            // window + condition, no entity = 60: enough points, but about nothing.
            ("more than 5 in the last 24 hours", 60, false),
            // concrete entity + condition, no window = 70: a schedule must know its period.
            ("more than 5 failures from 10.0.0.5", 70, false),
            // vague time does not count as a window.
            ("more than 5 failures from 10.0.0.5 recently", 85, false),
            // everything concrete = 100.
            (
                "SigninLogs for alice@contoso.com in the last 7 days with more than 5 failures",
                100,
                true,
            ),
        ];
        for (q, score, valid) in cases {
            let v = validate_query(q, None);
            assert_eq!((v.score, v.valid), (score, valid), "{q:?}: {v:#?}");
        }
    }

    #[test]
    fn score_rises_monotonically_as_dimensions_are_added() {
        let steps = [
            "sign-ins",
            "sign-ins in the last 24 hours",
            "sign-ins in the last 24 hours with more than 5 attempts",
            "sign-ins for alice@contoso.com in the last 24 hours with more than 5 attempts",
        ];
        let scores: Vec<u8> = steps
            .iter()
            .map(|q| validate_query(q, None).score)
            .collect();
        assert!(scores.windows(2).all(|w| w[0] < w[1]), "{scores:?}");
        assert_eq!(scores.last(), Some(&100));
    }

    #[test]
    fn each_entity_kind_is_detected_with_its_value() {
        use FindingKind::*;
        let cases: &[(&str, FindingKind, &str)] = &[
            ("sign-ins from 203.0.113.7", Ipv4, "203.0.113.7"),
            ("traffic from 2001:db8::1 today", Ipv6, "2001:db8::1"),
            (
                "connections to fe80::1ff:fe23:4567:890a",
                Ipv6,
                "fe80::1ff:fe23:4567:890a",
            ),
            ("logons from 10.0.0.0/8", Cidr, "10.0.0.0/8"),
            ("traffic from 2001:db8::/32", Cidr, "2001:db8::/32"),
            ("activity for alice@contoso.com", Upn, "alice@contoso.com"),
            ("logons by CONTOSO\\alice", DomainAccount, "CONTOSO\\alice"),
            ("changes by user 'svc_backup'", Account, "svc_backup"),
            (
                "logons on web01.corp.contoso.com",
                Hostname,
                "web01.corp.contoso.com",
            ),
            ("processes on host WEB01", Hostname, "WEB01"),
            ("processes on device LAPTOP-7F3K", Hostname, "LAPTOP-7F3K"),
            ("DNS lookups of evil-domain.ru", Domain, "evil-domain.ru"),
            ("connections to contoso.com", Domain, "contoso.com"),
            ("executions of powershell.exe", FileName, "powershell.exe"),
            (
                "runs of C:\\Windows\\Temp\\x.exe",
                FilePath,
                "C:\\Windows\\Temp\\x.exe",
            ),
            (
                "file hash 44d88612fea8a8f36de82e1278abb02f",
                Md5,
                "44d88612fea8a8f36de82e1278abb02f",
            ),
            (
                "hash 3395856ce81f2b7382dee72602f798b642f14140",
                Sha1,
                "3395856ce81f2b7382dee72602f798b642f14140",
            ),
            (
                "hash 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
                Sha256,
                "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
            ),
            (
                "object 0f8fad5b-d9cb-469f-a165-70867728950e",
                Guid,
                "0f8fad5b-d9cb-469f-a165-70867728950e",
            ),
            ("SigninLogs failures", Table, "SigninLogs"),
            (
                "aadnoninteractiveusersigninlogs rows",
                Table,
                "AADNonInteractiveUserSignInLogs",
            ),
            ("query SecurityEvent", Table, "SecurityEvent"),
            ("AuditLogs changes", Table, "AuditLogs"),
            ("OfficeActivity downloads", Table, "OfficeActivity"),
            ("AzureActivity deletes", Table, "AzureActivity"),
            ("DeviceProcessEvents", Table, "DeviceProcessEvents"),
            ("DeviceNetworkEvents", Table, "DeviceNetworkEvents"),
            ("DeviceLogonEvents", Table, "DeviceLogonEvents"),
            ("DeviceFileEvents", Table, "DeviceFileEvents"),
            ("CommonSecurityLog denies", Table, "CommonSecurityLog"),
            ("Syslog errors", Table, "Syslog"),
            ("SecurityAlert", Table, "SecurityAlert"),
            ("SecurityIncident", Table, "SecurityIncident"),
            (
                "ThreatIntelligenceIndicator matches",
                Table,
                "ThreatIntelligenceIndicator",
            ),
            ("AzureDiagnostics", Table, "AzureDiagnostics"),
            ("W3CIISLog 500s", Table, "W3CIISLog"),
            ("MyFirewall_CL denies", Table, "MyFirewall_CL"),
            ("event ID 4625", EventId, "4625"),
            ("EventID == 4740", EventId, "4740"),
            ("4625 failures on servers", EventId, "4625"),
            ("brute force T1110", MitreTechnique, "T1110"),
            ("cloud accounts T1078.004", MitreTechnique, "T1078.004"),
            ("from the same IP", EntityType, "IP"),
            ("per user account", EntityType, "user account"),
            ("on hosts", EntityType, "hosts"),
        ];
        for (q, kind, value) in cases {
            let v = validate_query(q, None);
            assert!(
                has(&v.dimensions.entities.items, *kind, value),
                "{q:?}: expected {kind:?} {value:?}, got {:?}",
                kinds_and_values(&v)
            );
            let expected_weak = *kind == EntityType;
            let f = v
                .dimensions
                .entities
                .items
                .iter()
                .find(|f| f.kind == *kind)
                .unwrap();
            assert_eq!(f.weak, expected_weak, "{q:?}");
        }
    }

    #[test]
    fn concrete_entities_are_not_double_counted_as_types_or_domains() {
        let v = validate_query(
            "sign-ins by alice@contoso.com on web01.contoso.com via cmd.exe",
            None,
        );
        let kinds = kinds_and_values(&v);
        assert_eq!(
            kinds,
            vec![
                (FindingKind::EntityType, "sign-ins".to_owned()),
                (FindingKind::Upn, "alice@contoso.com".to_owned()),
                (FindingKind::Hostname, "web01.contoso.com".to_owned()),
                (FindingKind::FileName, "cmd.exe".to_owned()),
            ]
        );
        // The event ID is an entity, not the condition "4625 failures".
        let v = validate_query("event ID 4625 failures", None);
        assert!(has(
            &v.dimensions.entities.items,
            FindingKind::EventId,
            "4625"
        ));
        assert!(v.dimensions.conditions.items.is_empty(), "{v:#?}");
        // A list of event IDs.
        let v = validate_query("event IDs 4624, 4625 and 4648", None);
        let ids: Vec<_> = v
            .dimensions
            .entities
            .items
            .iter()
            .map(|f| f.value.as_str())
            .collect();
        assert_eq!(ids, ["4624", "4625", "4648"]);
    }

    #[test]
    fn things_that_look_like_entities_but_are_not() {
        for q in [
            "e.g. i.e. etc.",
            "at 10:30:00 UTC",
            "sign-ins.Then more",
            "999.1.1.1",
            "the hostile takeover",
            "a user account",
        ] {
            let v = validate_query(q, None);
            let concrete: Vec<_> = v
                .dimensions
                .entities
                .items
                .iter()
                .filter(|f| !f.weak)
                .collect();
            assert!(concrete.is_empty(), "{q:?}: {concrete:?}");
        }
        // A path is not DOMAIN\user.
        let v = validate_query("C:\\Windows\\System32\\evil.dll loaded", None);
        assert!(
            !v.dimensions
                .entities
                .items
                .iter()
                .any(|f| f.kind == FindingKind::DomainAccount),
            "{v:#?}"
        );
    }

    #[test]
    fn time_windows_are_parsed_to_their_length() {
        let cases: &[(&str, u64, FindingKind)] = &[
            ("in the last 24 hours", 86_400, FindingKind::RelativeWindow),
            (
                "over the past 7 days",
                7 * 86_400,
                FindingKind::RelativeWindow,
            ),
            (
                "during the previous week",
                7 * 86_400,
                FindingKind::RelativeWindow,
            ),
            ("in the last hour", 3_600, FindingKind::RelativeWindow),
            ("in the last 30 minutes", 1_800, FindingKind::RelativeWindow),
            ("in the last 24h", 86_400, FindingKind::RelativeWindow),
            (
                "past twenty-four hours",
                86_400,
                FindingKind::RelativeWindow,
            ),
            ("last two weeks", 14 * 86_400, FindingKind::RelativeWindow),
            ("last month", 30 * 86_400, FindingKind::RelativeWindow),
            (
                "with a lookback of 3 days",
                3 * 86_400,
                FindingKind::RelativeWindow,
            ),
            ("since 6 hours ago", 6 * 3_600, FindingKind::RelativeWindow),
            ("since yesterday", 2 * 86_400, FindingKind::CalendarWindow),
            ("today", 86_400, FindingKind::CalendarWindow),
            ("this week", 7 * 86_400, FindingKind::CalendarWindow),
            ("P7D", 7 * 86_400, FindingKind::Iso8601Duration),
            ("PT24H", 86_400, FindingKind::Iso8601Duration),
            ("PT30M", 1_800, FindingKind::Iso8601Duration),
            ("P1DT12H", 36 * 3_600, FindingKind::Iso8601Duration),
            ("where TimeGenerated > ago(1d)", 86_400, FindingKind::KqlAgo),
            ("TimeGenerated >= ago(24h)", 86_400, FindingKind::KqlAgo),
            ("ago(30m)", 1_800, FindingKind::KqlAgo),
            (
                "between 2025-01-01 and 2025-01-07",
                7 * 86_400,
                FindingKind::DateRange,
            ),
        ];
        for (q, seconds, kind) in cases {
            let v = validate_query(q, None);
            let w = v
                .time_window
                .as_ref()
                .unwrap_or_else(|| panic!("{q:?}: no window in {v:#?}"));
            assert_eq!(w.seconds, *seconds, "{q:?}");
            assert_eq!(w.hours, *seconds as f64 / 3_600.0, "{q:?}");
            assert_eq!(v.dimensions.time_scope.items[0].kind, *kind, "{q:?}");
            assert_eq!(v.dimensions.time_scope.evidence, Evidence::Strong, "{q:?}");
        }
    }

    #[test]
    fn the_first_window_mentioned_is_the_lookback() {
        let v = validate_query(
            "sign-ins in the last 24 hours compared with the last 30 days",
            None,
        );
        let w = v.time_window.unwrap();
        assert_eq!(w.seconds, 86_400);
        assert_eq!(w.source, "last 24 hours");
        assert!(!w.approximate);
        assert_eq!(v.dimensions.time_scope.items.len(), 2);
        assert!(
            validate_query("last month", None)
                .time_window
                .unwrap()
                .approximate
        );
    }

    #[test]
    fn vague_time_is_weak_and_gets_a_targeted_suggestion() {
        let v = validate_query("sign-ins from 10.0.0.5 over the past few days", None);
        assert_eq!(v.dimensions.time_scope.evidence, Evidence::Weak);
        assert!(v.time_window.is_none());
        assert_eq!(v.dimensions.time_scope.points, TIME_WEAK_POINTS);
        assert!(
            v.suggestions
                .iter()
                .any(|s| s.contains("'past few days'") && s.contains("in the last 24 hours")),
            "{:?}",
            v.suggestions
        );
    }

    #[test]
    fn conditions_are_detected() {
        use FindingKind::*;
        let cases: &[(&str, FindingKind, &str, bool)] = &[
            ("more than 5 attempts", Comparison, "more than 5", false),
            ("at least 3 countries", Comparison, "at least 3", false),
            ("over 10 failures", Comparison, "over 10", false),
            ("greater than 100 MB", Comparison, "greater than 100", false),
            ("count >= 5", Comparison, ">= 5", false),
            ("bytes > 100", Comparison, "> 100", false),
            ("exceeds 50 requests", Comparison, "exceeds 50", false),
            (
                "more than five attempts",
                Comparison,
                "more than five",
                false,
            ),
            ("5 or more failures", Comparison, "5 or more", false),
            ("10+ failures", Comparison, "10+", false),
            ("3 distinct countries", Comparison, "3 distinct", false),
            (
                "between 5 and 10 attempts",
                Range,
                "between 5 and 10",
                false,
            ),
            ("top 10 accounts", TopN, "top 10", false),
            ("top-N talkers", TopN, "top-N", false),
            (
                "the 5 most targeted accounts",
                TopN,
                "5 most targeted",
                false,
            ),
            ("a spike of 200%", Percentage, "200%", false),
            (
                "more than 50 percent",
                Comparison,
                "more than 50 percent",
                false,
            ),
            ("a 3x increase", Ratio, "3x", false),
            ("a threshold of 20", Threshold, "threshold of 20", false),
            ("above a threshold", Threshold, "threshold", true),
            (
                "exceeds the baseline",
                Threshold,
                "exceeds the baseline",
                true,
            ),
            ("count failures", Aggregation, "count", true),
            ("the number of failures", Aggregation, "number of", true),
            (
                "countries first time seen",
                Novelty,
                "first time seen",
                true,
            ),
            ("never seen before", Novelty, "never seen before", true),
        ];
        for (q, kind, value, weak) in cases {
            let v = validate_query(q, None);
            let f = v
                .dimensions
                .conditions
                .items
                .iter()
                .find(|f| f.kind == *kind && f.value == *value)
                .unwrap_or_else(|| {
                    panic!(
                        "{q:?}: expected {kind:?} {value:?} in {:#?}",
                        v.dimensions.conditions
                    )
                });
            assert_eq!(f.weak, *weak, "{q:?}");
        }
    }

    #[test]
    fn periods_are_not_conditions() {
        for q in [
            "over 7 days",
            "over the last 24 hours",
            "in the last 24 hours",
        ] {
            let v = validate_query(q, None);
            assert!(
                v.dimensions.conditions.items.is_empty(),
                "{q:?}: {:#?}",
                v.dimensions.conditions
            );
        }
    }

    #[test]
    fn coverage_warnings_compare_the_window_with_the_interval() {
        let q = |window: &str| {
            format!("failed sign-ins for alice@contoso.com {window} with more than 5 attempts")
        };
        // Weekly + 24 hours: a 6-day gap.
        let v = validate_query(&q("in the last 24 hours"), Some(Frequency::Weekly));
        assert_eq!(
            v.warnings,
            [
                "This weekly schedule looks at the last 24 hours: 6 days between runs will never be investigated. \
              Use 'last 7 days'."
            ]
        );
        assert!(v.valid, "a warning does not make the query invalid");
        // Matching windows: no warning.
        for (window, freq) in [
            ("in the last 24 hours", Frequency::Daily),
            ("in the last 7 days", Frequency::Weekly),
            ("in the last 30 days", Frequency::Monthly),
            ("in the last 36 hours", Frequency::Daily), // some overlap for late logs is fine
            ("in the last 48 hours", Frequency::Daily), // exactly twice
        ] {
            let v = validate_query(&q(window), Some(freq));
            assert!(v.warnings.is_empty(), "{window} {freq:?}: {:?}", v.warnings);
        }
        // Daily + 30 days: heavy overlap.
        let v = validate_query(&q("in the last 30 days"), Some(Frequency::Daily));
        assert_eq!(v.warnings.len(), 1);
        assert!(v.warnings[0].contains("up to 30 runs"), "{:?}", v.warnings);
        assert!(
            v.warnings[0].contains("'last 24 hours'"),
            "{:?}",
            v.warnings
        );
        // Monthly + 7 days: a gap of 23 days.
        let v = validate_query(&q("in the past 7 days"), Some(Frequency::Monthly));
        assert!(
            v.warnings[0].contains("23 days between runs"),
            "{:?}",
            v.warnings
        );
        // Daily + 30 minutes.
        let v = validate_query(&q("in the last 30 minutes"), Some(Frequency::Daily));
        assert!(
            v.warnings[0].contains("23 hours 30 minutes between runs"),
            "{:?}",
            v.warnings
        );
        // Once and custom with a window: nothing to compare with.
        for freq in [Frequency::Once, Frequency::Custom] {
            let v = validate_query(&q("in the last 24 hours"), Some(freq));
            assert!(v.warnings.is_empty(), "{freq:?}: {:?}", v.warnings);
        }
        // No frequency: no coverage warnings.
        assert!(
            validate_query(&q("in the last 24 hours"), None)
                .warnings
                .is_empty()
        );
    }

    #[test]
    fn recurring_schedules_without_a_window_are_warned() {
        let q = "failed sign-ins for alice@contoso.com with more than 5 attempts";
        for freq in [
            Frequency::Daily,
            Frequency::Weekly,
            Frequency::Monthly,
            Frequency::Custom,
        ] {
            let v = validate_query(q, Some(freq));
            assert_eq!(v.warnings.len(), 1, "{freq:?}");
            assert!(v.warnings[0].contains("no time window"), "{:?}", v.warnings);
        }
        assert!(validate_query(q, Some(Frequency::Once)).warnings.is_empty());
        // The suggestion proposes the window that matches the frequency.
        let v = validate_query(q, Some(Frequency::Weekly));
        assert!(
            v.suggestions
                .iter()
                .any(|s| s == "Add a time window, e.g. 'in the last 7 days'."),
            "{v:#?}"
        );
    }

    #[test]
    fn fixed_dates_in_a_recurring_schedule_are_warned() {
        let v = validate_query(
            "sign-ins for alice@contoso.com between 2025-01-01 and 2025-01-07",
            Some(Frequency::Weekly),
        );
        assert!(
            v.warnings.iter().any(|w| w.contains("fixed dates")),
            "{:?}",
            v.warnings
        );
    }

    #[test]
    fn suggestions_follow_what_is_weak_or_missing() {
        let v = validate_query(DESIGN_EXAMPLE, None);
        assert_eq!(v.suggestions.len(), 1, "{:?}", v.suggestions);
        assert!(v.suggestions[0].starts_with("Name a concrete entity"));
        let v = validate_query("count sign-ins from 10.0.0.5 in the last 24 hours", None);
        assert_eq!(v.suggestions.len(), 1, "{:?}", v.suggestions);
        assert!(v.suggestions[0].contains("rather than only 'count'"));
        let v = validate_query(
            "SigninLogs for 10.0.0.5 in the last 24 hours with more than 5 failures",
            None,
        );
        assert!(v.suggestions.is_empty(), "{:?}", v.suggestions);
    }

    #[test]
    fn word_numbers_need_a_space_before_the_unit() {
        // "past as well" must not read as "past a s(econd)"; "past an hour" is an hour.
        assert!(
            validate_query("seen in the past as well", None)
                .time_window
                .is_none()
        );
        assert_eq!(
            validate_query("in the past an hour", None)
                .time_window
                .map(|w| w.seconds),
            Some(3_600)
        );
        // "last 5 failed logins" is a count of events, not a window.
        assert!(
            validate_query("the last 5 failed logins", None)
                .time_window
                .is_none()
        );
    }

    #[test]
    fn a_pasted_kql_query_is_understood() {
        let kql = "SigninLogs | where TimeGenerated > ago(7d) | where ResultType != 0 \
                   | summarize count() by IPAddress | where count_ > 20";
        let v = validate_query(kql, Some(Frequency::Weekly));
        assert!(v.valid, "{v:#?}");
        assert_eq!(v.score, 100);
        assert!(has(
            &v.dimensions.entities.items,
            FindingKind::Table,
            "SigninLogs"
        ));
        assert_eq!(v.time_window.as_ref().map(|w| w.seconds), Some(7 * 86_400));
        assert!(has(
            &v.dimensions.conditions.items,
            FindingKind::Comparison,
            "!= 0"
        ));
        assert!(has(
            &v.dimensions.conditions.items,
            FindingKind::Comparison,
            "> 20"
        ));
        assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(1_800), "30 minutes");
        assert_eq!(human_duration(3_600), "1 hour");
        assert_eq!(human_duration(86_400), "24 hours");
        assert_eq!(human_duration(6 * 86_400), "6 days");
        assert_eq!(human_duration(84_600), "23 hours 30 minutes");
        assert_eq!(human_duration(5 * 86_400 + 18 * 3_600), "5 days 18 hours");
        assert_eq!(human_duration(45), "45 seconds");
    }

    #[test]
    fn serialises_to_the_documented_json_shape() {
        let v = validate_query(DESIGN_EXAMPLE, Some(Frequency::Weekly));
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["valid"], true);
        assert_eq!(json["score"], 80);
        assert_eq!(json["missing"], serde_json::json!([]));
        assert_eq!(json["time_window"]["seconds"], 86_400);
        assert_eq!(json["time_window"]["hours"], 24.0);
        assert_eq!(json["dimensions"]["time_scope"]["window_hours"], 24.0);
        assert_eq!(json["dimensions"]["entities"]["evidence"], "weak");
        assert_eq!(
            json["dimensions"]["entities"]["items"][0]["kind"],
            "entity_type"
        );
        assert_eq!(
            json["dimensions"]["entities"]["items"][0]["table"],
            "SigninLogs"
        );
        assert!(
            json["dimensions"]["entities"]["items"][0]
                .get("offset")
                .is_none()
        );
        assert!(json["dimensions"]["entities"].get("window_hours").is_none());
        assert_eq!(
            json["dimensions"]["conditions"]["items"][0]["kind"],
            "comparison"
        );
        assert_eq!(json["warnings"].as_array().map(Vec::len), Some(1));
        let none = serde_json::to_value(validate_query("", None)).unwrap();
        assert!(none["time_window"].is_null());
        assert_eq!(
            none["missing"],
            serde_json::json!(["entities", "time_scope", "conditions"])
        );
        assert_eq!(
            serde_json::to_value(FindingKind::Iso8601Duration).unwrap(),
            "iso8601_duration"
        );
        assert_eq!(serde_json::to_value(FindingKind::Ipv4).unwrap(), "ipv4");
    }

    #[test]
    fn long_and_odd_input_is_handled_without_panicking() {
        // Repetitive input: findings are capped and deduplicated, and the pass stays linear.
        let long =
            "sign-ins from 10.0.0.5 in the last 24 hours with more than 5 attempts ".repeat(2_000);
        let started = std::time::Instant::now();
        let v = validate_query(&long, Some(Frequency::Daily));
        assert!(v.valid);
        assert!(v.dimensions.entities.items.len() <= MAX_ITEMS_PER_DIMENSION);
        assert_eq!(
            v.dimensions
                .entities
                .items
                .iter()
                .filter(|f| f.kind == FindingKind::Ipv4)
                .count(),
            1
        );
        // Generous bound for a debug build on a busy machine; a quadratic pass over 140 kB would take far longer.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );

        let distinct: String = (0..5_000)
            .map(|i| format!("10.{}.{}.1 ", i / 256, i % 256))
            .collect();
        let v = validate_query(&distinct, None);
        assert_eq!(v.dimensions.entities.items.len(), MAX_ITEMS_PER_DIMENSION);

        for q in [
            "::",
            ":::::::::",
            "ago()",
            "P",
            "PT",
            "last 0 days",
            "é🦀 sign-ins ünïcode 24 hours",
            "\\\\",
            "@@@",
            "T1110.",
            "> >= <",
        ] {
            let _ = validate_query(q, Some(Frequency::Weekly));
        }
        assert!(validate_query("last 0 days", None).time_window.is_none());
        assert!(validate_query("P", None).time_window.is_none());
        assert!(
            validate_query("last 999999 years", None)
                .time_window
                .is_some()
        );
    }
}
