//! When a schedule runs: frequencies, the schedule's time zone, standard 5-field cron (Vixie semantics) and the
//! DST rules of DESIGN §4. The dispatcher and the preview both use [`TimingRule::next_after`].
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

use crate::domain::error::FieldError;
use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    SecondsFormat, SubsecRound, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
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
const MAX_SCAN_DAYS: usize = 146_097;

/// How far a fixed local time in a DST gap is carried forward at most. Real gaps are an hour or less, the
/// longest ever a whole day (Pacific/Apia, 2011-12-30).
const MAX_GAP_MINUTES: i64 = 48 * 60;

/// `FieldError` kinds, in the FastAPI vocabulary the clients know.
const KIND_MISSING: &str = "missing";
const KIND_INVALID: &str = "value_error";

/// A validated timing definition that can compute occurrences.
#[derive(Debug, Clone)]
pub struct TimingRule {
    spec: TimingSpec,
    tz: Tz,
    kind: RuleKind,
}

#[derive(Debug, Clone)]
enum RuleKind {
    Once(DateTime<Utc>),
    Daily(NaiveTime),
    Weekly(DayOfWeek, NaiveTime),
    Monthly(DayOfMonth, NaiveTime),
    Custom(CronExpression),
}

/// Whether a spec is a new definition (a `once` time must be in the future of `now`) or one read back from storage.
#[derive(Debug, Clone, Copy)]
enum Mode {
    New(DateTime<Utc>),
    Stored,
}

impl TimingRule {
    /// Validates `spec` (every problem as a [`FieldError`] naming its field, e.g. `cron_expression`,
    /// `scheduled_time`, `timezone`). `now` resolves a `once` schedule given as `"HH:MM"` to the next such local
    /// time, and rejects a `once` date-time that is not in the future.
    pub fn parse(spec: &TimingSpec, now: DateTime<Utc>) -> Result<Self, Vec<FieldError>> {
        Self::build(spec, Mode::New(now))
    }

    /// Re-reads a spec previously normalized by [`TimingRule::parse`] (from [`TimingRule::spec`]). Unlike `parse`
    /// it accepts a `once` date-time in the past, so a finished `once` schedule still parses and
    /// [`TimingRule::next_after`] reports that nothing is left; a `once` given as bare `"HH:MM"` is rejected, since
    /// without a `now` it has no meaning (a normalized spec never holds one).
    pub fn parse_stored(spec: &TimingSpec) -> Result<Self, Vec<FieldError>> {
        Self::build(spec, Mode::Stored)
    }

    fn build(spec: &TimingSpec, mode: Mode) -> Result<Self, Vec<FieldError>> {
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

    /// The spec with defaults filled in (weekday `monday`, day of month `1`), fields the frequency does not use
    /// dropped, the zone name in its canonical spelling, and a `once` time resolved to an absolute date-time
    /// (RFC 3339 with the zone's offset); this is what gets stored, and [`TimingRule::parse_stored`] reads it back.
    pub fn spec(&self) -> &TimingSpec {
        &self.spec
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The first occurrence strictly after `after`, or `None` when nothing is left (a `once` in the past).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.kind.next_after(self.tz, after)
    }

    /// The next `count` occurrences strictly after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        // `count` may come from a query string; do not let it size an allocation.
        let mut out = Vec::with_capacity(count.min(1024));
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

    /// After downtime: given the first missed occurrence `first_due` (`<= now`), returns the occurrence to run —
    /// the latest one at or before `now`, standing in for all the missed ones — and the next occurrence strictly
    /// after `now`. The search walks back from `now` by local date and stops at the first date with an occurrence,
    /// so it costs the same after a minute or a year of downtime. Should `first_due` not be an occurrence of this
    /// rule (the schedule was edited), it is still the floor: the run is never earlier than `first_due`. A
    /// `first_due` after `now` is treated as due now.
    pub fn coalesce(
        &self,
        first_due: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
        let now = now.max(first_due);
        let run = self
            .kind
            .latest_at_or_before(self.tz, now, first_due)
            .unwrap_or(first_due);
        (run, self.next_after(now))
    }

    /// A human description, e.g. "Daily at 08:00 (Europe/Berlin)", "Weekdays at 08:00 (UTC)" for `0 8 * * 1-5`.
    pub fn describe(&self) -> String {
        let zone = self.tz.name();
        let what = match &self.kind {
            RuleKind::Once(t) => {
                let local = t.with_timezone(&self.tz);
                let format = if local.second() == 0 {
                    "%Y-%m-%d %H:%M"
                } else {
                    "%Y-%m-%d %H:%M:%S"
                };
                format!("Once at {}", local.format(format))
            }
            RuleKind::Daily(t) => format!("Daily at {}", hh_mm(*t)),
            RuleKind::Weekly(day, t) => {
                format!("Every {} at {}", weekday_name(day.to_chrono()), hh_mm(*t))
            }
            RuleKind::Monthly(DayOfMonth::Day(d), t) => {
                format!("Monthly on day {d} at {}", hh_mm(*t))
            }
            RuleKind::Monthly(DayOfMonth::Last, t) => {
                format!("Monthly on the last day at {}", hh_mm(*t))
            }
            RuleKind::Custom(cron) => cron
                .summary()
                .unwrap_or_else(|| format!("Cron `{}`", cron.as_str())),
        };
        format!("{what} ({zone})")
    }
}

impl RuleKind {
    /// The occurrences whose local date is `date`, sorted and without duplicates, written into `out`.
    fn occurrences_on(&self, tz: Tz, date: NaiveDate, out: &mut Vec<DateTime<Utc>>) {
        out.clear();
        let fixed = |time: NaiveTime, out: &mut Vec<DateTime<Utc>>| {
            out.extend(resolve_fixed(tz, date.and_time(time)))
        };
        match self {
            Self::Once(_) => {}
            Self::Daily(time) => fixed(*time, out),
            Self::Weekly(day, time) => {
                if date.weekday() == day.to_chrono() {
                    fixed(*time, out);
                }
            }
            Self::Monthly(day, time) => {
                let last = u32::from(date.num_days_in_month());
                let wanted = match day {
                    DayOfMonth::Day(d) => u32::from(*d).min(last),
                    DayOfMonth::Last => last,
                };
                if date.day() == wanted {
                    fixed(*time, out);
                }
            }
            Self::Custom(cron) => {
                if !cron.matches_date(date) {
                    return;
                }
                for time in &cron.times {
                    let local = date.and_time(*time);
                    if cron.fixed_time {
                        out.extend(resolve_fixed(tz, local));
                    } else {
                        out.extend(resolve_wall_clock(tz, local));
                    }
                }
                // Both passes of a repeated hour, and several gap times carried to the same instant, break the
                // order of local times.
                out.sort_unstable();
                out.dedup();
            }
        }
    }

    fn next_after(&self, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if let Self::Once(t) = self {
            return (*t > after).then_some(*t);
        }
        // Start a day early and look one date past the first hit: an occurrence carried across a gap, or a repeated
        // hour that crosses midnight, can put a date's instants after the next date's first ones.
        let mut date = after.with_timezone(&tz).date_naive().pred_opt()?;
        let mut best: Option<DateTime<Utc>> = None;
        let mut last_date: Option<NaiveDate> = None;
        let mut buf = Vec::new();
        for _ in 0..MAX_SCAN_DAYS {
            if last_date.is_some_and(|last| date > last) {
                break;
            }
            self.occurrences_on(tz, date, &mut buf);
            if let Some(t) = buf.iter().copied().find(|t| *t > after) {
                best = Some(best.map_or(t, |b| b.min(t)));
                last_date.get_or_insert(date.succ_opt()?);
            }
            date = date.succ_opt()?;
        }
        best
    }

    /// The latest occurrence in `[floor, at]`.
    fn latest_at_or_before(
        &self,
        tz: Tz,
        at: DateTime<Utc>,
        floor: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if let Self::Once(t) = self {
            return (floor <= *t && *t <= at).then_some(*t);
        }
        let floor_date = floor.with_timezone(&tz).date_naive().pred_opt()?;
        let mut date = at.with_timezone(&tz).date_naive().succ_opt()?;
        let mut best: Option<DateTime<Utc>> = None;
        let mut last_date: Option<NaiveDate> = None;
        let mut buf = Vec::new();
        for _ in 0..MAX_SCAN_DAYS {
            if date < floor_date || last_date.is_some_and(|last| date < last) {
                break;
            }
            self.occurrences_on(tz, date, &mut buf);
            if let Some(t) = buf.iter().rev().copied().find(|t| *t <= at) {
                best = Some(best.map_or(t, |b| b.max(t)));
                last_date.get_or_insert(date.pred_opt()?);
            }
            date = date.pred_opt()?;
        }
        best.filter(|t| *t >= floor)
    }
}

/// The instant a fixed local time stands for: the first of two on a fall-back day, and the first valid instant
/// after the gap when the clock skips it (DESIGN §4). `None` only for a gap longer than [`MAX_GAP_MINUTES`].
fn resolve_fixed(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.to_utc()),
        LocalResult::Ambiguous(first, _) => Some(first.to_utc()),
        LocalResult::None => {
            // Transitions fall on whole minutes, so the first local minute that exists again is the gap's end.
            let minute = local.with_second(0)?.with_nanosecond(0)?;
            (1..=MAX_GAP_MINUTES).find_map(|m| {
                match tz.from_local_datetime(&(minute + Duration::minutes(m))) {
                    LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.to_utc()),
                    LocalResult::None => None,
                }
            })
        }
    }
}

/// The instants a wall-clock (repeating) time stands for: none in a gap, both passes of a repeated hour.
fn resolve_wall_clock(tz: Tz, local: NaiveDateTime) -> impl Iterator<Item = DateTime<Utc>> {
    let (first, second) = match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => (Some(t), None),
        LocalResult::Ambiguous(a, b) => (Some(a), Some(b)),
        LocalResult::None => (None, None),
    };
    first.into_iter().chain(second).map(|t| t.to_utc())
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

fn parse_timezone(name: &str) -> Result<Tz, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::body(
            "timezone",
            KIND_MISSING,
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
            FieldError::body(
                "timezone",
                KIND_INVALID,
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

fn hh_mm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

/// `scheduled_time` for daily/weekly/monthly.
fn time_of_day(spec: &TimingSpec, errors: &mut Vec<FieldError>) -> Option<NaiveTime> {
    let frequency = spec.frequency.as_str();
    let Some(text) = spec
        .scheduled_time
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        errors.push(FieldError::body(
            "scheduled_time",
            KIND_MISSING,
            format!("scheduled_time (\"HH:MM\") is required for a {frequency} schedule"),
        ));
        return None;
    };
    let time = parse_hh_mm(text);
    if time.is_none() {
        errors.push(FieldError::body(
            "scheduled_time",
            KIND_INVALID,
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
    errors: &mut Vec<FieldError>,
) -> Option<DateTime<Utc>> {
    let Some(text) = text.map(str::trim).filter(|s| !s.is_empty()) else {
        errors.push(FieldError::body(
            "scheduled_time",
            KIND_MISSING,
            "scheduled_time is required for a once schedule: \"HH:MM\" (the next such time) or an ISO-8601 date-time",
        ));
        return None;
    };
    if let Some(time) = parse_hh_mm(text) {
        return match mode {
            // The next such local time strictly after now: exactly the next occurrence of a daily rule.
            Mode::New(now) => RuleKind::Daily(time).next_after(tz?, now),
            Mode::Stored => {
                errors.push(FieldError::body(
                    "scheduled_time",
                    KIND_INVALID,
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
            errors.push(FieldError::body(
                "scheduled_time",
                KIND_INVALID,
                format!(
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
        errors.push(FieldError::body(
            "scheduled_time",
            KIND_INVALID,
            format!("scheduled_time '{text}' is not in the future"),
        ));
        return None;
    }
    Some(instant)
}

fn parse_cron_field(text: Option<&str>, errors: &mut Vec<FieldError>) -> Option<CronExpression> {
    let Some(text) = text.map(str::trim).filter(|s| !s.is_empty()) else {
        errors.push(FieldError::body(
            "cron_expression",
            KIND_MISSING,
            "cron_expression is required for a custom schedule (5 fields: minute hour day-of-month month day-of-week)",
        ));
        return None;
    };
    CronExpression::parse(text)
        .map_err(|e| {
            errors.push(FieldError::body(
                "cron_expression",
                KIND_INVALID,
                e.to_string(),
            ))
        })
        .ok()
}

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

/// Why a cron expression was rejected. The messages name the bad field; [`TimingRule::parse`] reports them under
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
    fn summary(&self) -> Option<String> {
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

fn croner_parser() -> CronParser {
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

#[cfg(test)]
mod tests;
