//! [`CronExpression`]: a standard 5-field crontab expression with Vixie cron semantics, parsed by croner and
//! held as bit masks of the matching values. croner stays behind this type: it parses the fields, and this module
//! rejects what croner accepts but standard crontab does not (its `L`, `W`, `#`, `?` extensions, names outside their
//! field), words the common mistakes per field, and answers which dates and times of day match.

use super::{MAX_SCAN_DAYS, weekday_name};
use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use croner::parser::{CronParser, Seconds, Year};

/// One of the five crontab fields, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CronField {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl CronField {
    pub const ALL: [Self; 5] = [
        Self::Minute,
        Self::Hour,
        Self::DayOfMonth,
        Self::Month,
        Self::DayOfWeek,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::DayOfMonth => "day-of-month",
            Self::Month => "month",
            Self::DayOfWeek => "day-of-week",
        }
    }

    /// The values a number in this field may take (`7` is Sunday, like `0`).
    fn bounds(self) -> (u32, u32) {
        match self {
            Self::Minute => (0, 59),
            Self::Hour => (0, 23),
            Self::DayOfMonth => (1, 31),
            Self::Month => (1, 12),
            Self::DayOfWeek => (0, 7),
        }
    }

    /// The value of a three-letter name in this field. `SUN` is 7 at the end of a range (`FRI-SUN`), as croner
    /// reads it.
    fn name_value(self, name: &str, range_end: bool) -> Option<u32> {
        const MONTHS: [&str; 12] = [
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ];
        const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
        let position = |names: &[&str]| names.iter().position(|n| *n == name).map(|i| i as u32);
        match self {
            Self::Month => position(&MONTHS).map(|i| i + 1),
            Self::DayOfWeek => position(&DAYS).map(|i| if i == 0 && range_end { 7 } else { i }),
            _ => None,
        }
    }
}

impl std::fmt::Display for CronField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a cron expression was rejected. The messages name the bad field; [`TimingRule::parse`](super::TimingRule::parse) reports them under
/// `cron_expression`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronExpressionError {
    #[error("cron_expression is empty")]
    Empty,
    #[error("expected 5 fields (minute hour day-of-month month day-of-week), got {0}")]
    FieldCount(usize),
    #[error("unknown alias '{0}': use @hourly, @daily, @weekly, @monthly, @yearly or @annually")]
    UnknownAlias(String),
    /// A problem inside one field; `message` starts with the field's name, e.g. "minute field '61' is out of range
    /// 0-59".
    #[error("{message}")]
    Field { field: CronField, message: String },
    #[error("'{0}' can never run: no date matches its day-of-month, month and day-of-week fields")]
    NeverFires(String),
    /// croner rejected the whole expression although each field alone parses.
    #[error("'{expression}' is not valid: {detail}")]
    Invalid { expression: String, detail: String },
}

/// A standard 5-field crontab expression with Vixie cron semantics (DESIGN §4), parsed by croner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronExpression {
    /// The expression as given, whitespace collapsed.
    source: String,
    /// Bit `n` set when value `n` matches.
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    /// Bit 0 is Sunday.
    weekdays: u8,
    /// Vixie's DOM_STAR / DOW_STAR: the field begins with `*`.
    dom_star: bool,
    dow_star: bool,
    /// Minute and hour fields do not begin with `*`: a fixed local time for the DST rules.
    fixed_time: bool,
    /// Every matching time of day, ascending.
    times: Vec<NaiveTime>,
}

impl CronExpression {
    pub fn parse(text: &str) -> Result<Self, CronExpressionError> {
        let source = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if source.is_empty() {
            return Err(CronExpressionError::Empty);
        }
        let expanded = if source.starts_with('@') {
            expand_alias(&source)?
        } else {
            source.as_str()
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let fields: [&str; 5] = fields
            .as_slice()
            .try_into()
            .map_err(|_| CronExpressionError::FieldCount(fields.len()))?;
        for (field, text) in CronField::ALL.into_iter().zip(fields) {
            check_field(field, text)?;
        }

        let parser = croner_parser();
        let cron = parser
            .parse(expanded)
            .map_err(|e| locate_croner_error(&parser, &fields, &e))?;
        let pattern = &cron.pattern;
        // `L`, `W` and `#` were rejected above, so the plain values are the whole of each field.
        let mask = |values: Vec<u16>| values.into_iter().fold(0u64, |m, v| m | (1u64 << v));
        let minutes = mask(pattern.minutes.values());
        let hours = mask(pattern.hours.values()) as u32;
        let hour_list: Vec<u32> = (0..24).filter(|h| hours & (1 << h) != 0).collect();
        let minute_list: Vec<u32> = (0..60).filter(|m| minutes & (1 << m) != 0).collect();
        let times = hour_list
            .iter()
            .flat_map(|h| {
                minute_list
                    .iter()
                    .filter_map(move |m| NaiveTime::from_hms_opt(*h, *m, 0))
            })
            .collect();
        let expression = Self {
            minutes,
            hours,
            days: mask(pattern.days.values()) as u32,
            months: mask(pattern.months.values()) as u16,
            // croner folds 7 into 0 (Sunday).
            weekdays: (mask(pattern.days_of_week.values()) & 0x7f) as u8,
            dom_star: fields[2].starts_with('*'),
            dow_star: fields[4].starts_with('*'),
            fixed_time: !fields[0].starts_with('*') && !fields[1].starts_with('*'),
            times,
            source,
        };
        if !expression.matches_any_date() {
            return Err(CronExpressionError::NeverFires(expression.source));
        }
        Ok(expression)
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the minute and hour fields name fixed local times (neither begins with `*`), which DESIGN §4
    /// carries across a DST gap and runs once on a repeated hour; otherwise the expression follows the wall clock.
    pub fn is_fixed_time(&self) -> bool {
        self.fixed_time
    }

    /// Whether the expression runs on local date `date` (month, and the two day fields with Vixie's OR/AND rule).
    pub fn matches_date(&self, date: NaiveDate) -> bool {
        if self.months & (1 << date.month()) == 0 {
            return false;
        }
        let dom = self.days & (1 << date.day()) != 0;
        let dow = self.weekdays & (1 << date.weekday().num_days_from_sunday()) != 0;
        if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The local times of day it runs at on a matching date, ascending.
    pub fn times_of_day(&self) -> &[NaiveTime] {
        &self.times
    }

    /// Every date pattern repeats within a 400-year cycle; checking one cycle is exact.
    fn matches_any_date(&self) -> bool {
        NaiveDate::from_ymd_opt(2000, 1, 1).is_some_and(|start| {
            start
                .iter_days()
                .take(MAX_SCAN_DAYS)
                .any(|d| self.matches_date(d))
        })
    }

    /// A plain-words description for the common shapes, `None` for the rest.
    pub(super) fn summary(&self) -> Option<String> {
        const ALL_MINUTES: u64 = (1 << 60) - 1;
        const ALL_HOURS: u32 = (1 << 24) - 1;
        const ALL_MONTHS: u16 = 0b1_1111_1111_1110;
        const ALL_WEEKDAYS: u8 = 0x7f;
        const MON_TO_FRI: u8 = 0b011_1110;
        const SAT_SUN: u8 = 0b100_0001;
        let single = |mask: u64| (mask.count_ones() == 1).then(|| mask.trailing_zeros());
        let every_day = self.dom_star
            && self.dow_star
            && self.weekdays == ALL_WEEKDAYS
            && self.days.count_ones() == 31;
        let every_month = self.months == ALL_MONTHS;

        if self.hours == ALL_HOURS && every_day && every_month {
            if self.minutes == ALL_MINUTES {
                return Some("Every minute".to_owned());
            }
            if let Some(m) = single(self.minutes) {
                return Some(format!("Hourly at minute {m}"));
            }
            let step = (1..60)
                .find(|s| self.minutes == (0..60).step_by(*s).fold(0, |m, v| m | (1u64 << v)));
            return step
                .filter(|s| 60 % s == 0)
                .map(|s| format!("Every {s} minutes"));
        }

        let (Some(minute), Some(hour)) = (single(self.minutes), single(u64::from(self.hours)))
        else {
            return None;
        };
        let at = format!("{hour:02}:{minute:02}");
        let month_name = |m: u32| {
            chrono::Month::try_from(u8::try_from(m).ok()?)
                .ok()
                .map(|m| m.name())
        };
        if !every_month {
            // Yearly on one date: `0 0 1 1 *`, @yearly.
            let (Some(month), Some(day)) =
                (single(u64::from(self.months)), single(u64::from(self.days)))
            else {
                return None;
            };
            return (self.dow_star && !self.dom_star)
                .then(|| month_name(month))
                .flatten()
                .map(|name| format!("Yearly on {name} {day} at {at}"));
        }
        if every_day {
            return Some(format!("Daily at {at}"));
        }
        if self.dom_star && !self.dow_star && self.days.count_ones() == 31 {
            return match self.weekdays {
                MON_TO_FRI => Some(format!("Weekdays at {at}")),
                SAT_SUN => Some(format!("Weekends at {at}")),
                days => single(u64::from(days)).and_then(|d| {
                    let day = Weekday::try_from(((d + 6) % 7) as u8).ok()?;
                    Some(format!("Every {} at {at}", weekday_name(day)))
                }),
            };
        }
        if self.dow_star && !self.dom_star {
            return single(u64::from(self.days)).map(|d| format!("Monthly on day {d} at {at}"));
        }
        None
    }
}

pub(super) fn croner_parser() -> CronParser {
    // Five fields only; OR of the day fields and Sunday = 0 are croner's defaults, sloppy `5/15` steps stay off.
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
}

fn expand_alias(source: &str) -> Result<&'static str, CronExpressionError> {
    const ALIASES: [(&str, &str); 6] = [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
    ];
    ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(source))
        .map(|(_, expansion)| *expansion)
        .ok_or_else(|| CronExpressionError::UnknownAlias(source.to_owned()))
}

/// Checks what croner accepts but standard crontab does not (its extensions, names outside their field, empty list
/// items) and words the common mistakes (out-of-range numbers, backward ranges, zero steps) per field. The syntax
/// itself is left to croner.
fn check_field(field: CronField, text: &str) -> Result<(), CronExpressionError> {
    let fail = |problem: String| CronExpressionError::Field {
        field,
        message: format!("{field} field '{text}' {problem}"),
    };
    // Say "'61' is out of range" when the field is just that atom, "'0,61': 61 is out of range" otherwise.
    let fail_at = |atom: &str, problem: &str| {
        if atom.eq_ignore_ascii_case(text) {
            fail(problem.to_owned())
        } else {
            CronExpressionError::Field {
                field,
                message: format!("{field} field '{text}': {atom} {problem}"),
            }
        }
    };
    let upper = text.to_ascii_uppercase();
    for item in upper.split(',') {
        if item.is_empty() {
            return Err(fail("has an empty list item".to_owned()));
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        if let Some(step) = step {
            reject_extension(step).map_err(&fail)?;
            match step.parse::<u32>() {
                Ok(0) => return Err(fail_at(item, "has a step of 0; a step must be at least 1")),
                Ok(_) => {}
                Err(_) => return Err(fail_at(item, "has a step that is not a positive number")),
            }
        }
        let ends: Vec<&str> = range.split('-').collect();
        if ends.len() > 2 {
            return Err(fail_at(item, "is not a valid range (use start-end)"));
        }
        let mut values = Vec::with_capacity(2);
        for (i, atom) in ends.iter().enumerate() {
            let range_end = i == 1;
            if *atom == "*" && ends.len() == 1 {
                continue;
            }
            if atom.is_empty() || *atom == "*" {
                return Err(fail_at(
                    item,
                    "is not a valid range (use start-end, or * alone)",
                ));
            }
            if let Some(value) = field.name_value(atom, range_end) {
                values.push(value);
                continue;
            }
            reject_extension(atom).map_err(&fail)?;
            if atom.bytes().all(|b| b.is_ascii_digit()) {
                let (low, high) = field.bounds();
                match atom.parse::<u32>() {
                    Ok(v) if (low..=high).contains(&v) => values.push(v),
                    _ => return Err(fail_at(atom, &format!("is out of range {low}-{high}"))),
                }
            } else if atom.bytes().all(|b| b.is_ascii_alphabetic()) {
                let hint = match field {
                    CronField::Month => "is not a month name (JAN-DEC)",
                    CronField::DayOfWeek => "is not a weekday name (SUN-SAT)",
                    _ => {
                        "is not a number (names are allowed only in the month and day-of-week fields)"
                    }
                };
                return Err(fail_at(atom, hint));
            } else {
                return Err(fail_at(atom, "is not a number"));
            }
        }
        if let [start, end] = values[..]
            && start > end
        {
            return Err(fail_at(range, "is a backward range; write it low-high"));
        }
    }
    Ok(())
}

/// croner's non-standard extensions (Quartz style).
fn reject_extension(atom: &str) -> Result<(), String> {
    let explain = |ch: char, what: &str| {
        Err(format!(
            "uses '{ch}' ({what}), a non-standard cron extension that is not supported"
        ))
    };
    if atom.contains('#') {
        explain('#', "nth weekday of the month")
    } else if atom.contains('?') {
        explain('?', "no specific value")
    } else if atom.contains('W') {
        explain('W', "nearest weekday")
    } else if atom.contains('L') {
        explain('L', "last")
    } else {
        Ok(())
    }
}

/// croner says what is wrong but not where; parse each field alone (the others `*`) to find the one it rejects.
fn locate_croner_error(
    parser: &CronParser,
    fields: &[&str; 5],
    error: &croner::errors::CronError,
) -> CronExpressionError {
    let detail = error.to_string();
    let detail = detail
        .strip_prefix("Component error: ")
        .unwrap_or(&detail)
        .to_owned();
    for (i, field) in CronField::ALL.into_iter().enumerate() {
        let mut probe = ["*"; 5];
        probe[i] = fields[i];
        if parser.parse(&probe.join(" ")).is_err() {
            return CronExpressionError::Field {
                field,
                message: format!("{field} field '{}' is not valid: {detail}", fields[i]),
            };
        }
    }
    CronExpressionError::Invalid {
        expression: fields.join(" "),
        detail,
    }
}
