//! When a schedule runs: frequencies, the schedule's time zone, standard 5-field cron (Vixie semantics) and the
//! DST rules of DESIGN §4. The dispatcher and the preview both use [`TimingRule::next_after`].
//!
//! - this module: the words of a timing definition ([`Frequency`], [`DayOfWeek`], [`DayOfMonth`], [`TimingSpec`]);
//! - `input`: reading a [`TimingSpec`] into a [`TimingRule`], every problem an [`InputProblem`] naming its field;
//! - `rules`: what a [`TimingRule`] computes: the next occurrences, coalescing after downtime, a description;
//! - `cron`: [`CronExpression`], our wrapper over croner, and the crontab rules croner does not enforce.
//!
//! Decisions the design leaves open:
//! - Fields that do not apply to the frequency (`day_of_week` unless weekly, `day_of_month` unless monthly,
//!   `cron_expression` unless custom, `scheduled_time` for custom) are ignored and dropped from the normalized spec
//!   rather than rejected, so a form that keeps every field filled in stays valid when the user switches frequency.
//!   An edit (`PATCH`) that sends such a field is rejected by the use case instead: there it would be a silent no-op.
//! - [`TimingRule::parse`] is for a definition being created or edited: a `once` time must lie in the future.
//!   [`TimingRule::parse_stored`] re-reads a stored (normalized) spec and accepts a `once` instant in the past, so the
//!   dispatcher can still learn that nothing is left.
//! - Cron: croner parses the fields, wrapped in [`CronExpression`]. Its extensions `L`, `W`, `#` and `?` are rejected
//!   (not standard crontab: an expression that only works here would surprise users elsewhere), and so are names
//!   outside their field (croner would read `MON` in the month field as January). As Vixie cron does, a day field
//!   that begins with `*` (`*`, `*/2`) counts as unrestricted: the two day fields are OR-ed only when neither begins
//!   with `*`, otherwise AND-ed.
//! - Occurrences are computed per local calendar date: the parsed field values say which dates and times of day
//!   match, and this module turns each local time into instants with the DST rules. croner's own search is not used
//!   for that because it treats only single-valued times as fixed and skips multi-valued fixed times in a DST gap.

mod cron;
mod input;
mod rules;
#[cfg(test)]
mod tests;
mod window;

pub use cron::{CronExpression, CronExpressionError, CronField};
pub use input::parse_iso_duration;
pub use input::{InputProblem, ProblemKind};
pub use rules::TimingRule;
pub use window::{DEFAULT_MAX_CATCHUP, IsoDuration, ScheduledWindow, Window, WindowSettings};

use chrono::Weekday;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    Once,
    Daily,
    Weekly,
    Monthly,
    Custom,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Once => "once",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Custom => "custom",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DayOfWeek {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl DayOfWeek {
    pub fn to_chrono(self) -> chrono::Weekday {
        match self {
            Self::Monday => chrono::Weekday::Mon,
            Self::Tuesday => chrono::Weekday::Tue,
            Self::Wednesday => chrono::Weekday::Wed,
            Self::Thursday => chrono::Weekday::Thu,
            Self::Friday => chrono::Weekday::Fri,
            Self::Saturday => chrono::Weekday::Sat,
            Self::Sunday => chrono::Weekday::Sun,
        }
    }
}

/// A day of the month: `1`–`31`, or `"last"`. A day the month lacks runs on the month's last day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayOfMonth {
    Day(u8),
    Last,
}

impl Serialize for DayOfMonth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Day(d) => s.serialize_u8(*d),
            Self::Last => s.serialize_str("last"),
        }
    }
}

impl<'de> Deserialize<'de> for DayOfMonth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(i64),
            // JSON Schema's `integer` includes `20.0`.
            Float(f64),
            Text(String),
        }
        let invalid = || serde::de::Error::custom("day_of_month must be 1-31 or \"last\"");
        match Raw::deserialize(d)? {
            Raw::Num(n) if (1..=31).contains(&n) => Ok(Self::Day(n as u8)),
            Raw::Float(f) if f.fract() == 0.0 && (1.0..=31.0).contains(&f) => {
                Ok(Self::Day(f as u8))
            }
            Raw::Text(t) if t.eq_ignore_ascii_case("last") => Ok(Self::Last),
            Raw::Text(t) => match t.trim().parse::<i64>() {
                Ok(n) if (1..=31).contains(&n) => Ok(Self::Day(n as u8)),
                _ => Err(invalid()),
            },
            Raw::Num(_) | Raw::Float(_) => Err(invalid()),
        }
    }
}

/// The timing fields of a schedule as the user gave them. [`TimingRule::parse`] validates them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimingSpec {
    pub frequency: Frequency,
    /// `"HH:MM"` local time (daily/weekly/monthly, and `once` meaning "the next such time"), or for `once` a full
    /// ISO-8601 date-time. After parsing, a `once` schedule stores the resolved instant here (RFC 3339 with the
    /// schedule's offset) so later edits and restarts do not move it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<DayOfWeek>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_month: Option<DayOfMonth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_expression: Option<String>,
    /// IANA zone name.
    pub timezone: String,
}

/// How many local dates a search scans at most. Every date pattern repeats within one 400-year Gregorian cycle,
/// so a rule that can match at all matches within this many days of any date; most searches stop within a month.
/// Bounds the rules' date scans and cron's check that an expression can ever run.
const MAX_SCAN_DAYS: usize = 146_097;

/// The English name, for descriptions ("Every Monday at 08:00", "Weekdays at 08:00").
fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}
