//! Reading a timing definition: a [`TimingSpec`] as the user wrote it, or as it was stored, becomes a
//! [`TimingRule`] or the list of everything wrong with it. Each problem is an [`InputProblem`] that names the spec's
//! field (`timezone`, `scheduled_time`, `cron_expression`) and says how to fix it; where the field sits in a request
//! is the caller's business (the services map a problem to an HTTP field error).

use super::cron::CronExpression;
use super::rules::{RuleKind, hh_mm, resolve_fixed};
use super::{DayOfMonth, DayOfWeek, Frequency, TimingRule, TimingSpec};
use chrono::{DateTime, FixedOffset, NaiveDateTime, NaiveTime, SecondsFormat, SubsecRound, Utc};
use chrono_tz::Tz;

/// One problem with one field of a timing definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputProblem {
    /// The [`TimingSpec`] field at fault, e.g. `cron_expression`.
    pub field: &'static str,
    pub kind: ProblemKind,
    /// What is wrong and how to write it instead; shown to the user as-is.
    pub message: String,
}

/// Whether the field is absent, or present with a value that breaks a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    Missing,
    Invalid,
}

impl InputProblem {
    fn missing(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            kind: ProblemKind::Missing,
            message: message.into(),
        }
    }

    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            kind: ProblemKind::Invalid,
            message: message.into(),
        }
    }
}

/// Whether a spec is a new definition (a `once` time must be in the future of `now`) or one read back from storage.
#[derive(Debug, Clone, Copy)]
enum Mode {
    New(DateTime<Utc>),
    Stored,
}

impl TimingRule {
    /// Validates `spec` (every problem as an [`InputProblem`] naming its field, e.g. `cron_expression`,
    /// `scheduled_time`, `timezone`). `now` resolves a `once` schedule given as `"HH:MM"` to the next such local
    /// time, and rejects a `once` date-time that is not in the future.
    pub fn parse(spec: &TimingSpec, now: DateTime<Utc>) -> Result<Self, Vec<InputProblem>> {
        Self::build(spec, Mode::New(now))
    }

    /// Re-reads a spec previously normalized by [`TimingRule::parse`] (from [`TimingRule::spec`]). Unlike `parse`
    /// it accepts a `once` date-time in the past, so a finished `once` schedule still parses and
    /// [`TimingRule::next_after`] reports that nothing is left; a `once` given as bare `"HH:MM"` is rejected, since
    /// without a `now` it has no meaning (a normalized spec never holds one).
    pub fn parse_stored(spec: &TimingSpec) -> Result<Self, Vec<InputProblem>> {
        Self::build(spec, Mode::Stored)
    }

    fn build(spec: &TimingSpec, mode: Mode) -> Result<Self, Vec<InputProblem>> {
        let mut errors = Vec::new();
        let tz = parse_timezone(&spec.timezone)
            .map_err(|e| errors.push(e))
            .ok();
        let kind = match spec.frequency {
            Frequency::Once => parse_once(spec.scheduled_time.as_deref(), tz, mode, &mut errors)
                .map(RuleKind::Once),
            Frequency::Daily => time_of_day(spec, &mut errors).map(RuleKind::Daily),
            Frequency::Weekly => time_of_day(spec, &mut errors)
                .map(|t| RuleKind::Weekly(spec.day_of_week.unwrap_or(DayOfWeek::Monday), t)),
            Frequency::Monthly => time_of_day(spec, &mut errors)
                .map(|t| RuleKind::Monthly(spec.day_of_month.unwrap_or(DayOfMonth::Day(1)), t)),
            Frequency::Custom => {
                parse_cron_field(spec.cron_expression.as_deref(), &mut errors).map(RuleKind::Custom)
            }
        };
        match (tz, kind) {
            (Some(tz), Some(kind)) if errors.is_empty() => Ok(Self {
                spec: normalized_spec(spec.frequency, &kind, tz),
                tz,
                kind,
            }),
            _ => Err(errors),
        }
    }
}

fn normalized_spec(frequency: Frequency, kind: &RuleKind, tz: Tz) -> TimingSpec {
    let mut spec = TimingSpec {
        frequency,
        scheduled_time: None,
        day_of_week: None,
        day_of_month: None,
        cron_expression: None,
        timezone: tz.name().to_owned(),
    };
    match kind {
        RuleKind::Once(t) => {
            spec.scheduled_time = Some(
                t.with_timezone(&tz)
                    .to_rfc3339_opts(SecondsFormat::Secs, false),
            );
        }
        RuleKind::Daily(t) => spec.scheduled_time = Some(hh_mm(*t)),
        RuleKind::Weekly(day, t) => {
            spec.scheduled_time = Some(hh_mm(*t));
            spec.day_of_week = Some(*day);
        }
        RuleKind::Monthly(day, t) => {
            spec.scheduled_time = Some(hh_mm(*t));
            spec.day_of_month = Some(*day);
        }
        RuleKind::Custom(cron) => spec.cron_expression = Some(cron.as_str().to_owned()),
    }
    spec
}

fn parse_timezone(name: &str) -> Result<Tz, InputProblem> {
    let name = name.trim();
    if name.is_empty() {
        return Err(InputProblem::missing(
            "timezone",
            "timezone is required (an IANA name such as Europe/Berlin)",
        ));
    }
    if let Ok(tz) = name.parse::<Tz>() {
        return Ok(tz);
    }
    // Accept "europe/berlin"; the canonical spelling is what gets stored.
    chrono_tz::TZ_VARIANTS
        .iter()
        .copied()
        .find(|tz| tz.name().eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            InputProblem::invalid(
                "timezone",
                format!(
                    "unknown time zone '{name}': use an IANA name such as Europe/Berlin or UTC"
                ),
            )
        })
}

/// `"HH:MM"`, 00:00–23:59 (a one-digit hour is accepted).
fn parse_hh_mm(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.split_once(':')?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&h.len()) || m.len() != 2 || !digits(h) || !digits(m) {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// `scheduled_time` for daily/weekly/monthly.
fn time_of_day(spec: &TimingSpec, errors: &mut Vec<InputProblem>) -> Option<NaiveTime> {
    let frequency = spec.frequency.as_str();
    let Some(text) = spec
        .scheduled_time
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        errors.push(InputProblem::missing(
            "scheduled_time",
            format!("scheduled_time (\"HH:MM\") is required for a {frequency} schedule"),
        ));
        return None;
    };
    let time = parse_hh_mm(text);
    if time.is_none() {
        errors.push(InputProblem::invalid(
            "scheduled_time",
            format!(
                "scheduled_time '{text}' must be a local time \"HH:MM\" between 00:00 and 23:59"
            ),
        ));
    }
    time
}

/// A `once` date-time as written: with an offset it is an instant, without one a local time in the schedule's zone.
enum WrittenDateTime {
    Instant(DateTime<FixedOffset>),
    Local(NaiveDateTime),
}

/// ISO-8601 date-times as people write them: `T` or a space, seconds and fractions optional, offset or `Z` optional.
fn parse_date_time(text: &str) -> Option<WrittenDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(WrittenDateTime::Instant(t));
    }
    let mut text = text.replacen(' ', "T", 1);
    if text.ends_with(['Z', 'z']) {
        text.pop();
        text.push_str("+00:00");
    }
    const WITH_OFFSET: [&str; 2] = ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M%:z"];
    const LOCAL: [&str; 2] = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"];
    WITH_OFFSET
        .iter()
        .find_map(|f| DateTime::parse_from_str(&text, f).ok())
        .map(WrittenDateTime::Instant)
        .or_else(|| {
            LOCAL
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
                .map(WrittenDateTime::Local)
        })
}

fn parse_once(
    text: Option<&str>,
    tz: Option<Tz>,
    mode: Mode,
    errors: &mut Vec<InputProblem>,
) -> Option<DateTime<Utc>> {
    let Some(text) = text.map(str::trim).filter(|s| !s.is_empty()) else {
        errors.push(InputProblem::missing("scheduled_time", "scheduled_time is required for a once schedule: \"HH:MM\" (the next such time) or an ISO-8601 date-time",
        ));
        return None;
    };
    if let Some(time) = parse_hh_mm(text) {
        return match mode {
            // The next such local time strictly after now: exactly the next occurrence of a daily rule.
            Mode::New(now) => RuleKind::Daily(time).next_after(tz?, now),
            Mode::Stored => {
                errors.push(InputProblem::invalid(
                    "scheduled_time",
                    format!(
                        "a stored once schedule must hold its resolved date-time, not '{text}'"
                    ),
                ));
                None
            }
        };
    }
    let instant = match parse_date_time(text) {
        Some(WrittenDateTime::Instant(t)) => t.to_utc(),
        // A missing zone was already reported; a local time means nothing without one.
        Some(WrittenDateTime::Local(local)) => resolve_fixed(tz?, local)?,
        None => {
            errors.push(InputProblem::invalid("scheduled_time", format!(
                    "scheduled_time '{text}' must be \"HH:MM\" or an ISO-8601 date-time such as 2026-11-25T02:00 \
                     or 2026-11-25T02:00:00+01:00"
                ),
            ));
            return None;
        }
    };
    // The stored form keeps whole seconds; dropping the fraction now keeps a re-read spec on the same instant.
    let instant = instant.trunc_subsecs(0);
    if let Mode::New(now) = mode
        && instant <= now
    {
        errors.push(InputProblem::invalid(
            "scheduled_time",
            format!("scheduled_time '{text}' is not in the future"),
        ));
        return None;
    }
    Some(instant)
}

fn parse_cron_field(text: Option<&str>, errors: &mut Vec<InputProblem>) -> Option<CronExpression> {
    let Some(text) = text.map(str::trim).filter(|s| !s.is_empty()) else {
        errors.push(InputProblem::missing("cron_expression", "cron_expression is required for a custom schedule (5 fields: minute hour day-of-month month day-of-week)",
        ));
        return None;
    };
    CronExpression::parse(text)
        .map_err(|e| errors.push(InputProblem::invalid("cron_expression", e.to_string())))
        .ok()
}

/// Reads an ISO-8601 duration as the schedule's window fields take it: `PnW`, or `PnDTnHnMnS` with any of the
/// parts (whole numbers; at least one part), e.g. `PT24H`, `P7D`, `PT0S`, `P1DT12H`. Years and months are refused:
/// their length varies, and a data window must be exact. `field` names the field in the problem.
pub fn parse_iso_duration(
    field: &'static str,
    text: &str,
) -> Result<chrono::Duration, InputProblem> {
    let text = text.trim();
    let bad = |why: &str| {
        InputProblem::invalid(
            field,
            format!(
                "{field} '{text}' is not an ISO-8601 duration such as PT24H, P7D or PT15M: {why}"
            ),
        )
    };
    let upper = text.to_ascii_uppercase();
    let Some(rest) = upper.strip_prefix('P') else {
        return Err(bad("it must start with P"));
    };
    let (date, time) = match rest.split_once('T') {
        Some((_, "")) => return Err(bad("nothing follows T")),
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut seconds: i64 = 0;
    let mut parts = 0;
    let mut read = |section: &str, units: &[(char, i64)]| -> Result<(), InputProblem> {
        let mut number = String::new();
        let mut allowed = units;
        for c in section.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            if c == 'Y' || (c == 'M' && units.iter().any(|(u, _)| *u == 'W')) {
                return Err(bad(
                    "years and months have no fixed length; use days or weeks (P30D)",
                ));
            }
            let Some(at) = allowed.iter().position(|(u, _)| *u == c) else {
                return Err(bad(&format!("unexpected '{c}'")));
            };
            if number.is_empty() {
                return Err(bad(&format!("no number before '{c}'")));
            }
            let n: i64 = number.parse().map_err(|_| bad("a number is too large"))?;
            let add = n
                .checked_mul(allowed[at].1)
                .and_then(|s| seconds.checked_add(s))
                .ok_or_else(|| bad("it is too long"))?;
            seconds = add;
            parts += 1;
            number.clear();
            allowed = &allowed[at + 1..];
        }
        if !number.is_empty() {
            return Err(bad("a number has no unit"));
        }
        Ok(())
    };
    read(date, &[('W', 7 * 86_400), ('D', 86_400)])?;
    if let Some(time) = time {
        read(time, &[('H', 3_600), ('M', 60), ('S', 1)])?;
    }
    if parts == 0 {
        return Err(bad("it has no parts"));
    }
    // A century is far beyond any window; the bound keeps instant arithmetic safe.
    if seconds > 36_525 * 86_400 {
        return Err(bad("it is longer than 100 years"));
    }
    Ok(chrono::Duration::seconds(seconds))
}
