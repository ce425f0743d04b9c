//! What a parsed [`TimingRule`] computes: the occurrences of each frequency in the schedule's zone, with the DST
//! rules of DESIGN §4 (a fixed local time in a gap runs at the gap's end and on a repeated hour once; a wall-clock
//! cron time skips a gap and runs in both passes of a repeated hour), the next occurrences after an instant, the
//! one to run after downtime, and a description in plain words.

use super::cron::CronExpression;
use super::{DayOfMonth, DayOfWeek, MAX_SCAN_DAYS, TimingSpec, weekday_name};
use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;

/// How far a fixed local time in a DST gap is carried forward at most. Real gaps are an hour or less, the
/// longest ever a whole day (Pacific/Apia, 2011-12-30).
const MAX_GAP_MINUTES: i64 = 48 * 60;

/// A validated timing definition that can compute occurrences.
#[derive(Debug, Clone)]
pub struct TimingRule {
    pub(super) spec: TimingSpec,
    pub(super) tz: Tz,
    pub(super) kind: RuleKind,
}

#[derive(Debug, Clone)]
pub(super) enum RuleKind {
    Once(DateTime<Utc>),
    Daily(NaiveTime),
    Weekly(DayOfWeek, NaiveTime),
    Monthly(DayOfMonth, NaiveTime),
    Custom(CronExpression),
}

impl TimingRule {
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

    /// The latest occurrence strictly before `before`, or `None` when there is none (a `once` rule).
    pub fn previous_before(&self, before: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if matches!(self.kind, RuleKind::Once(_)) {
            return None;
        }
        self.kind.nearest(
            self.tz,
            before - Duration::nanoseconds(1),
            Direction::Backward,
            None,
        )
    }

    /// A `once` rule's instant.
    pub fn once_instant(&self) -> Option<DateTime<Utc>> {
        match self.kind {
            RuleKind::Once(t) => Some(t),
            _ => None,
        }
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
                for time in cron.times_of_day() {
                    let local = date.and_time(*time);
                    if cron.is_fixed_time() {
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

    /// The first occurrence strictly after `after`.
    pub(super) fn next_after(&self, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.nearest(tz, after, Direction::Forward, None)
    }

    /// The latest occurrence in `[floor, at]`.
    fn latest_at_or_before(
        &self,
        tz: Tz,
        at: DateTime<Utc>,
        floor: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let floor_date = Direction::Backward.step(floor.with_timezone(&tz).date_naive())?;
        self.nearest(tz, at, Direction::Backward, Some(floor_date))
            .filter(|t| *t >= floor)
    }

    /// The occurrence nearest to `from` in `direction`: the first strictly after it going forward, the last at or
    /// before it going backward. The scan walks local dates and stops at `limit` (a date, inclusive) if given.
    fn nearest(
        &self,
        tz: Tz,
        from: DateTime<Utc>,
        direction: Direction,
        limit: Option<NaiveDate>,
    ) -> Option<DateTime<Utc>> {
        if let Self::Once(t) = self {
            return direction.qualifies(*t, from).then_some(*t);
        }
        // Start a date behind and look one date past the first hit: an occurrence carried across a gap, or a
        // repeated hour that crosses midnight, can put a date's instants beyond the neighbouring date's first ones.
        let mut date = direction.step_back(from.with_timezone(&tz).date_naive())?;
        let mut best: Option<DateTime<Utc>> = None;
        let mut last_date: Option<NaiveDate> = None;
        let mut buf = Vec::new();
        for _ in 0..MAX_SCAN_DAYS {
            let beyond = |end: NaiveDate| direction.is_beyond(date, end);
            if limit.is_some_and(beyond) || last_date.is_some_and(beyond) {
                break;
            }
            self.occurrences_on(tz, date, &mut buf);
            // `buf` is sorted: the first qualifying instant in the direction of travel is the nearest on this date.
            let hit = match direction {
                Direction::Forward => buf.iter().copied().find(|t| direction.qualifies(*t, from)),
                Direction::Backward => buf
                    .iter()
                    .rev()
                    .copied()
                    .find(|t| direction.qualifies(*t, from)),
            };
            if let Some(t) = hit {
                best = Some(best.map_or(t, |b| direction.nearer(b, t)));
                last_date.get_or_insert(direction.step(date)?);
            }
            date = direction.step(date)?;
        }
        best
    }
}

/// Which way a search walks through local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Towards the future, for the next occurrence strictly after an instant.
    Forward,
    /// Towards the past, for the latest occurrence at or before an instant.
    Backward,
}

impl Direction {
    /// The next date in this direction.
    fn step(self, date: NaiveDate) -> Option<NaiveDate> {
        match self {
            Self::Forward => date.succ_opt(),
            Self::Backward => date.pred_opt(),
        }
    }

    /// The next date against this direction.
    fn step_back(self, date: NaiveDate) -> Option<NaiveDate> {
        match self {
            Self::Forward => date.pred_opt(),
            Self::Backward => date.succ_opt(),
        }
    }

    /// Whether `date` lies past `end` in this direction.
    fn is_beyond(self, date: NaiveDate, end: NaiveDate) -> bool {
        match self {
            Self::Forward => date > end,
            Self::Backward => date < end,
        }
    }

    /// Whether occurrence `t` is on the searched side of `from` (strictly after, or at or before).
    fn qualifies(self, t: DateTime<Utc>, from: DateTime<Utc>) -> bool {
        match self {
            Self::Forward => t > from,
            Self::Backward => t <= from,
        }
    }

    /// Of two qualifying occurrences, the one nearer to where the search started.
    fn nearer(self, a: DateTime<Utc>, b: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::Forward => a.min(b),
            Self::Backward => a.max(b),
        }
    }
}

/// The instant a fixed local time stands for: the first of two on a fall-back day, and the first valid instant
/// after the gap when the clock skips it (DESIGN §4). `None` only for a gap longer than [`MAX_GAP_MINUTES`].
pub(super) fn resolve_fixed(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
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

pub(super) fn hh_mm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}
