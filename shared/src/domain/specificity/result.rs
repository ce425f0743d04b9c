//! What the specificity check returns: the verdict, the score, what each dimension found and the advice. These
//! types serialise to the body of `POST /api/v1/schedules/validate` unchanged, so a field renamed here is an API
//! change.

use serde::Serialize;

/// The result of [`validate_query`](super::validate_query), returned as-is by `POST /api/v1/schedules/validate`.
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
    /// In the order they appear in the query; at most
    /// [`MAX_ITEMS_PER_DIMENSION`](super::MAX_ITEMS_PER_DIMENSION), duplicates reported once.
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
    pub(super) offset: usize,
    /// Calendar and month/year windows have no exact length.
    #[serde(skip)]
    pub(super) approximate: bool,
}

impl Finding {
    pub(super) fn new(kind: FindingKind, value: impl Into<String>, offset: usize) -> Self {
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

    pub(super) fn weak(mut self) -> Self {
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
