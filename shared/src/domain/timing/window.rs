//! Data windows: the half-open span `[start, end)` of data each run looks at (DESIGN §11), and the ISO-8601
//! durations that shape them (`lookback`, `settlement_delay`, `max_catchup`).
//!
//! - A scheduled run's window ends `settlement_delay` before its occurrence and starts where the schedule's
//!   previous scheduled window ended (contiguous windows), or — for the first run — one nominal interval earlier
//!   (the gap between the previous occurrence and this one; for `once`, since the schedule was created).
//! - `lookback` fixes the length instead (sliding windows; overlap expected).
//! - A catch-up window (after downtime) is bounded by `max_catchup` (or one interval, if longer); what lies
//!   before the bound is `missed`.

use super::TimingRule;
use super::input::parse_iso_duration;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A fixed-length duration written in ISO-8601 (`PT24H`, `P7D`, `PT0S`), whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct IsoDuration(Duration);

impl IsoDuration {
    pub const ZERO: Self = Self(Duration::zero());

    pub fn seconds(secs: i64) -> Self {
        Self(Duration::seconds(secs))
    }

    /// Parses `text` (see [`parse_iso_duration`]); a problem names `field`.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, super::InputProblem> {
        parse_iso_duration(field, text).map(Self)
    }

    pub fn duration(self) -> Duration {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl fmt::Display for IsoDuration {
    /// The canonical spelling: `P7D`, `PT24H` is written `P1D`, `P1DT12H30M`, `PT0S`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut secs = self.0.num_seconds();
        if secs == 0 {
            return f.write_str("PT0S");
        }
        let days = secs / 86_400;
        secs %= 86_400;
        let (h, m, s) = (secs / 3_600, secs % 3_600 / 60, secs % 60);
        f.write_str("P")?;
        if days > 0 {
            write!(f, "{days}D")?;
        }
        if h + m + s > 0 {
            f.write_str("T")?;
            for (n, unit) in [(h, 'H'), (m, 'M'), (s, 'S')] {
                if n > 0 {
                    write!(f, "{n}{unit}")?;
                }
            }
        }
        Ok(())
    }
}

impl Serialize for IsoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IsoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse("duration", &text).map_err(|e| serde::de::Error::custom(e.message))
    }
}

impl utoipa::PartialSchema for IsoDuration {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "ISO-8601 duration of days, hours, minutes, seconds (or weeks): PT24H, P7D, PT15M",
            ))
            .examples([serde_json::json!("PT24H")])
            .into()
    }
}

impl utoipa::ToSchema for IsoDuration {}

/// `max_catchup` unless the schedule says otherwise: a week.
pub const DEFAULT_MAX_CATCHUP: IsoDuration = IsoDuration(Duration::days(7));

/// A half-open span of data time `[start, end)`, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self { start, end }
    }

    pub fn len(&self) -> Duration {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        write!(f, "{} to {}", fmt(self.start), fmt(self.end))
    }
}

/// The window fields of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSettings {
    pub lookback: Option<IsoDuration>,
    pub settlement_delay: IsoDuration,
    pub max_catchup: IsoDuration,
}

/// A scheduled run's window, and the span before it that the catch-up bound (or a short `lookback`) left
/// uncovered (`missed`), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledWindow {
    pub window: Window,
    pub missed: Option<Window>,
}

impl TimingRule {
    /// How long one interval of this rule is at `occurrence`: the time since the previous occurrence. `None` when
    /// there is none (a `once` rule; its interval is the schedule's life before it).
    pub fn interval_before(&self, occurrence: DateTime<Utc>) -> Option<Duration> {
        self.previous_before(occurrence).map(|p| occurrence - p)
    }

    /// The nominal length of a run's window at `at` (run now): the interval ending at the next occurrence after
    /// `at`, or for a rule with no such pair (`once`) the time from `created_at` to its instant (or to `at`).
    pub fn nominal_interval(&self, at: DateTime<Utc>, created_at: DateTime<Utc>) -> Duration {
        let next = self.next_after(at);
        let interval = next.and_then(|n| self.interval_before(n));
        interval.unwrap_or_else(|| {
            let end = next.or(self.once_instant()).unwrap_or(at);
            (end - created_at).max(Duration::minutes(1))
        })
    }

    /// The window of the scheduled run for `occurrence`. `previous_end` is where the schedule's previous scheduled
    /// window ended (`None` before its first run); `created_at` dates a `once` schedule's interval.
    pub fn scheduled_window(
        &self,
        settings: &WindowSettings,
        occurrence: DateTime<Utc>,
        previous_end: Option<DateTime<Utc>>,
        created_at: DateTime<Utc>,
    ) -> ScheduledWindow {
        let end = occurrence - settings.settlement_delay.duration();
        let nominal = || {
            self.interval_before(occurrence)
                .unwrap_or_else(|| (occurrence - created_at).max(Duration::minutes(1)))
        };
        let mut start = match (settings.lookback, previous_end) {
            (Some(lookback), _) => end - lookback.duration(),
            (None, Some(previous)) if previous < end => previous,
            // A first run, or a cursor at or past this end (the settlement delay grew): one nominal interval.
            (None, _) => end - nominal(),
        };
        if settings.lookback.is_none() {
            // Catch-up spans the outage, but no further back than `max_catchup` (never less than one interval).
            let bound = settings.max_catchup.duration().max(nominal());
            start = start.max(end - bound);
        }
        let missed = previous_end
            .filter(|p| *p < start)
            .map(|p| Window::new(p, start));
        ScheduledWindow {
            window: Window::new(start, end),
            missed,
        }
    }

    /// The window of a manual run requested at `now`: ending `settlement_delay` before it, one nominal interval
    /// (or `lookback`) long.
    pub fn manual_window(
        &self,
        settings: &WindowSettings,
        now: DateTime<Utc>,
        created_at: DateTime<Utc>,
    ) -> Window {
        let end = now - settings.settlement_delay.duration();
        let len = settings
            .lookback
            .map(IsoDuration::duration)
            .unwrap_or_else(|| self.nominal_interval(now, created_at));
        Window::new(end - len, end)
    }
}
