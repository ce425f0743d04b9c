//! When a schedule runs: frequencies, the schedule's time zone, standard 5-field cron (Vixie semantics) and the
//! DST rules of DESIGN §4. The dispatcher and the preview both use [`TimingRule::next_after`].

use crate::domain::error::FieldError;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
            Text(String),
        }
        let invalid = || serde::de::Error::custom("day_of_month must be 1-31 or \"last\"");
        match Raw::deserialize(d)? {
            Raw::Num(n) if (1..=31).contains(&n) => Ok(Self::Day(n as u8)),
            Raw::Text(t) if t.eq_ignore_ascii_case("last") => Ok(Self::Last),
            Raw::Text(t) => match t.trim().parse::<i64>() {
                Ok(n) if (1..=31).contains(&n) => Ok(Self::Day(n as u8)),
                _ => Err(invalid()),
            },
            Raw::Num(_) => Err(invalid()),
        }
    }
}

/// The timing fields of a schedule as the user gave them. [`TimingRule::parse`] validates them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A validated timing definition that can compute occurrences.
#[derive(Debug, Clone)]
pub struct TimingRule {
    spec: TimingSpec,
    tz: Tz,
    kind: RuleKind,
}

#[derive(Debug, Clone)]
enum RuleKind {
    // Filled in by the implementation.
    Placeholder,
}

impl TimingRule {
    /// Validates `spec` (every problem as a [`FieldError`] naming its field, e.g. `cron_expression`,
    /// `scheduled_time`, `timezone`). `now` resolves a `once` schedule given as `"HH:MM"` to the next such local
    /// time, and rejects a `once` date-time that is not in the future.
    pub fn parse(spec: &TimingSpec, now: DateTime<Utc>) -> Result<Self, Vec<FieldError>> {
        let _ = (spec, now);
        todo!()
    }

    /// TEMPORARY stub until the timing branch lands.
    pub fn parse_stored(spec: &TimingSpec) -> Result<Self, Vec<FieldError>> {
        let _ = spec;
        todo!()
    }

    /// TEMPORARY stub until the timing branch lands.
    pub fn coalesce(&self, first_due: DateTime<Utc>, now: DateTime<Utc>) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
        let _ = (first_due, now);
        todo!()
    }

    /// The spec with defaults filled in (weekday `monday`, day of month `1`) and a `once` time resolved to an
    /// absolute date-time; this is what gets stored.
    pub fn spec(&self) -> &TimingSpec {
        &self.spec
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The first occurrence strictly after `after`, or `None` when nothing is left (a `once` in the past).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let _ = (after, &self.kind);
        todo!()
    }

    /// The next `count` occurrences strictly after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(count);
        let mut cursor = after;
        while out.len() < count {
            match self.next_after(cursor) {
                Some(t) => {
                    out.push(t);
                    cursor = t;
                }
                None => break,
            }
        }
        out
    }

    /// A human description, e.g. "Daily at 08:00 (Europe/Berlin)", "Weekdays at 08:00 (UTC)" for `0 8 * * 1-5`.
    pub fn describe(&self) -> String {
        todo!()
    }
}
