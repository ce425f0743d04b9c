//! The coverage ledger (DESIGN §11): which spans of data time a schedule's completed runs looked at, which are
//! being looked at, and the gaps with their reasons. It is kept on the schedule as compact merged spans, so it is
//! written in the same atomic write as every change that moves it (a run claimed, finished, skipped; a resume)
//! and outlives run retention. The merge rules live here:
//!
//! - covered spans are merged (overlapping or touching spans become one) and always win: a covered span removes
//!   any gap under it, and a gap is never recorded over covered time;
//! - a newer gap replaces an older one where they overlap (a failed backfill over a `missed` gap leaves `failed`);
//!   touching gaps with the same reason and run merge;
//! - in-progress spans are listed per run until that run finishes.

use crate::domain::ids::RunId;
use crate::domain::timing::Window;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Spans that ended longer ago than this are dropped.
pub const LEDGER_HORIZON_DAYS: i64 = 400;
/// At most this many gaps (and as many covered spans) are kept, the newest; a pathological history (failures
/// between successes every minute) stays bounded.
pub const LEDGER_MAX_SPANS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GapReason {
    /// The run for that window failed or timed out.
    Failed,
    /// The occurrence was skipped: an earlier run was still in flight.
    Skipped,
    /// The schedule was paused.
    Paused,
    /// The schedule was disabled (`FAILED`).
    Disabled,
    /// Beyond `max_catchup` after downtime, or outside a short `lookback`.
    Missed,
}

impl GapReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Paused => "paused",
            Self::Disabled => "disabled",
            Self::Missed => "missed",
        }
    }
}

impl fmt::Display for GapReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A span no run covered, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Gap {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: GapReason,
    /// The run whose window this was, when one run stands for it (failed, skipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<RunId>,
}

impl Gap {
    pub fn window(&self) -> Window {
        Window::new(self.start, self.end)
    }
}

/// A span a run is looking at now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InProgress {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub run_id: RunId,
}

/// What `GET /schedules/{id}/coverage` shows: merged, sorted, non-overlapping spans inside `[from, to)`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub covered: Vec<Window>,
    pub in_progress: Vec<InProgress>,
    pub gaps: Vec<Gap>,
    /// Covered time over the length of `[from, to)` (0 when that is empty).
    pub covered_ratio: f64,
}

/// A schedule's coverage ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    covered: Vec<Window>,
    gaps: Vec<Gap>,
    in_progress: Vec<InProgress>,
}

/// `a` without `b`: zero, one or two pieces.
fn subtract(a: Window, b: Window) -> Vec<Window> {
    if b.end <= a.start || b.start >= a.end {
        return vec![a];
    }
    let mut out = Vec::new();
    if b.start > a.start {
        out.push(Window::new(a.start, b.start));
    }
    if b.end < a.end {
        out.push(Window::new(b.end, a.end));
    }
    out
}

fn clip(w: Window, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<Window> {
    let c = Window::new(w.start.max(from), w.end.min(to));
    (!c.is_empty()).then_some(c)
}

impl Ledger {
    pub fn is_empty(&self) -> bool {
        self.covered.is_empty() && self.gaps.is_empty() && self.in_progress.is_empty()
    }

    pub fn covered(&self) -> &[Window] {
        &self.covered
    }

    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }

    pub fn in_progress(&self) -> &[InProgress] {
        &self.in_progress
    }

    /// `run` has started looking at `window`.
    pub fn start(&mut self, run: &RunId, window: Window) {
        self.in_progress.retain(|p| &p.run_id != run);
        if !window.is_empty() {
            self.in_progress.push(InProgress {
                start: window.start,
                end: window.end,
                run_id: run.clone(),
            });
            self.in_progress.sort_by_key(|p| (p.start, p.end));
        }
    }

    /// `run` finished without covering or gapping anything.
    pub fn end(&mut self, run: &RunId) {
        self.in_progress.retain(|p| &p.run_id != run);
    }

    /// `run` completed: `window` is covered (gaps under it close).
    pub fn cover(&mut self, run: &RunId, window: Window) {
        self.end(run);
        if window.is_empty() {
            return;
        }
        self.gaps = std::mem::take(&mut self.gaps)
            .into_iter()
            .flat_map(|g| {
                subtract(g.window(), window).into_iter().map(move |w| Gap {
                    start: w.start,
                    end: w.end,
                    ..g.clone()
                })
            })
            .collect();
        self.covered.push(window);
        self.covered.sort_by_key(|w| w.start);
        let mut merged: Vec<Window> = Vec::with_capacity(self.covered.len());
        for w in self.covered.drain(..) {
            match merged.last_mut() {
                Some(last) if w.start <= last.end => last.end = last.end.max(w.end),
                _ => merged.push(w),
            }
        }
        self.covered = merged;
    }

    /// Records `window` as a gap for `reason` (ending `run`'s in-progress span, if it has one). Covered time under
    /// it stays covered; older gaps under it are replaced. Returns the gaps actually recorded (none when all of
    /// `window` was covered), for the `coverage-gap` notification.
    pub fn gap(&mut self, window: Window, reason: GapReason, run: Option<&RunId>) -> Vec<Gap> {
        if let Some(run) = run {
            self.end(run);
        }
        let mut pieces = vec![window];
        for c in &self.covered {
            pieces = pieces.into_iter().flat_map(|p| subtract(p, *c)).collect();
        }
        pieces.retain(|p| !p.is_empty());
        let recorded: Vec<Gap> = pieces
            .iter()
            .map(|p| Gap {
                start: p.start,
                end: p.end,
                reason,
                run_id: run.cloned(),
            })
            .collect();
        for piece in &pieces {
            self.gaps = std::mem::take(&mut self.gaps)
                .into_iter()
                .flat_map(|g| {
                    subtract(g.window(), *piece).into_iter().map(move |w| Gap {
                        start: w.start,
                        end: w.end,
                        ..g.clone()
                    })
                })
                .collect();
        }
        self.gaps.extend(recorded.iter().cloned());
        self.gaps.sort_by_key(|g| g.start);
        let mut merged: Vec<Gap> = Vec::with_capacity(self.gaps.len());
        for g in self.gaps.drain(..) {
            match merged.last_mut() {
                Some(last)
                    if last.end == g.start
                        && last.reason == g.reason
                        && last.run_id == g.run_id =>
                {
                    last.end = g.end
                }
                _ => merged.push(g),
            }
        }
        self.gaps = merged;
        recorded
    }

    /// Drops what ended before the horizon and keeps the newest [`LEDGER_MAX_SPANS`] of each list.
    pub fn trim(&mut self, now: DateTime<Utc>) {
        let horizon = now - Duration::days(LEDGER_HORIZON_DAYS);
        self.covered.retain(|w| w.end > horizon);
        self.gaps.retain(|g| g.end > horizon);
        if self.covered.len() > LEDGER_MAX_SPANS {
            self.covered.drain(..self.covered.len() - LEDGER_MAX_SPANS);
        }
        if self.gaps.len() > LEDGER_MAX_SPANS {
            self.gaps.drain(..self.gaps.len() - LEDGER_MAX_SPANS);
        }
        if self.in_progress.len() > LEDGER_MAX_SPANS {
            self.in_progress
                .drain(..self.in_progress.len() - LEDGER_MAX_SPANS);
        }
    }

    /// The ledger inside `[from, to)`.
    pub fn view(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Coverage {
        let to = to.max(from);
        let covered: Vec<Window> = self
            .covered
            .iter()
            .filter_map(|w| clip(*w, from, to))
            .collect();
        let gaps = self
            .gaps
            .iter()
            .filter_map(|g| {
                clip(g.window(), from, to).map(|w| Gap {
                    start: w.start,
                    end: w.end,
                    ..g.clone()
                })
            })
            .collect();
        let in_progress = self
            .in_progress
            .iter()
            .filter_map(|p| {
                clip(Window::new(p.start, p.end), from, to).map(|w| InProgress {
                    start: w.start,
                    end: w.end,
                    run_id: p.run_id.clone(),
                })
            })
            .collect();
        let total = (to - from).num_milliseconds();
        let done: i64 = covered.iter().map(|w| w.len().num_milliseconds()).sum();
        let covered_ratio = if total > 0 {
            ((done as f64 / total as f64) * 10_000.0).round() / 10_000.0
        } else {
            0.0
        };
        Coverage {
            from,
            to,
            covered,
            in_progress,
            gaps,
            covered_ratio,
        }
    }

    /// The gaps inside `[from, to)` that no run is filling now, each cut into pieces of at most `longest`.
    pub fn open_gaps(&self, from: DateTime<Utc>, to: DateTime<Utc>, longest: Duration) -> Vec<Gap> {
        let mut out = Vec::new();
        for g in self.view(from, to).gaps {
            let mut pieces = vec![g.window()];
            for p in &self.in_progress {
                pieces = pieces
                    .into_iter()
                    .flat_map(|w| subtract(w, Window::new(p.start, p.end)))
                    .collect();
            }
            for piece in pieces {
                let mut start = piece.start;
                while start < piece.end {
                    let end = (start + longest).min(piece.end);
                    out.push(Gap {
                        start,
                        end,
                        reason: g.reason,
                        run_id: g.run_id.clone(),
                    });
                    start = end;
                }
            }
        }
        out
    }
}

/// The stored form: epoch milliseconds in short arrays, so a ledger of a thousand spans stays a few dozen KB.
#[derive(Serialize, Deserialize, Default)]
struct Stored {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    c: Vec<(i64, i64)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    g: Vec<(i64, i64, GapReason, Option<RunId>)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    p: Vec<(i64, i64, RunId)>,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl Serialize for Ledger {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Stored {
            c: self
                .covered
                .iter()
                .map(|w| (ms(w.start), ms(w.end)))
                .collect(),
            g: self
                .gaps
                .iter()
                .map(|g| (ms(g.start), ms(g.end), g.reason, g.run_id.clone()))
                .collect(),
            p: self
                .in_progress
                .iter()
                .map(|p| (ms(p.start), ms(p.end), p.run_id.clone()))
                .collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Ledger {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = Stored::deserialize(d)?;
        Ok(Self {
            covered: stored
                .c
                .into_iter()
                .map(|(s, e)| Window::new(at(s), at(e)))
                .collect(),
            gaps: stored
                .g
                .into_iter()
                .map(|(s, e, reason, run_id)| Gap {
                    start: at(s),
                    end: at(e),
                    reason,
                    run_id,
                })
                .collect(),
            in_progress: stored
                .p
                .into_iter()
                .map(|(s, e, run_id)| InProgress {
                    start: at(s),
                    end: at(e),
                    run_id,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap() + Duration::hours(hour.into())
    }

    fn w(a: u32, b: u32) -> Window {
        Window::new(t(a), t(b))
    }

    fn run(n: u32) -> RunId {
        RunId::from(format!("run_{n}"))
    }

    fn gaps(l: &Ledger) -> Vec<(Window, GapReason)> {
        l.gaps().iter().map(|g| (g.window(), g.reason)).collect()
    }

    #[test]
    fn covered_spans_merge_when_they_touch_or_overlap() {
        let mut l = Ledger::default();
        l.start(&run(1), w(0, 1));
        assert_eq!(l.in_progress().len(), 1);
        l.cover(&run(1), w(0, 1));
        l.cover(&run(2), w(1, 2));
        l.cover(&run(3), w(5, 6));
        l.cover(&run(4), w(4, 5));
        l.cover(&run(5), w(1, 3));
        assert_eq!(l.covered(), [w(0, 3), w(4, 6)]);
        assert!(l.in_progress().is_empty(), "finishing ends the run's span");
    }

    #[test]
    fn covered_time_wins_over_gaps_and_newer_gaps_replace_older_ones() {
        let mut l = Ledger::default();
        l.cover(&run(1), w(0, 2));
        // A failed run over partly covered time only gaps what was not covered.
        let recorded = l.gap(w(1, 4), GapReason::Failed, Some(&run(2)));
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].window(), w(2, 4));
        // A gap over covered time records nothing.
        assert!(l.gap(w(0, 2), GapReason::Failed, None).is_empty());
        // A newer gap replaces the overlapping part of an older one.
        l.gap(w(3, 6), GapReason::Paused, None);
        assert_eq!(
            gaps(&l),
            [(w(2, 3), GapReason::Failed), (w(3, 6), GapReason::Paused)]
        );
        // A completed backfill closes the part it covers.
        l.cover(&run(3), w(2, 5));
        assert_eq!(gaps(&l), [(w(5, 6), GapReason::Paused)]);
        assert_eq!(l.covered(), [w(0, 5)]);
        // Touching gaps of the same reason merge.
        l.gap(w(6, 8), GapReason::Paused, None);
        assert_eq!(gaps(&l), [(w(5, 8), GapReason::Paused)]);
    }

    #[test]
    fn the_view_clips_to_the_range_and_computes_the_ratio() {
        let mut l = Ledger::default();
        l.cover(&run(1), w(0, 6));
        l.gap(w(6, 8), GapReason::Failed, Some(&run(2)));
        l.start(&run(3), w(8, 9));
        let v = l.view(t(2), t(10));
        assert_eq!(v.covered, [w(2, 6)]);
        assert_eq!(v.gaps[0].window(), w(6, 8));
        assert_eq!(v.gaps[0].run_id, Some(run(2)));
        assert_eq!(v.in_progress[0].run_id, run(3));
        assert_eq!(v.covered_ratio, 0.5);
        assert_eq!(l.view(t(20), t(10)).covered_ratio, 0.0);
    }

    #[test]
    fn open_gaps_leave_out_what_is_being_filled_and_are_cut_to_length() {
        let mut l = Ledger::default();
        l.gap(w(0, 10), GapReason::Missed, None);
        l.start(&run(1), w(2, 4));
        let open: Vec<Window> = l
            .open_gaps(t(0), t(24), Duration::hours(3))
            .iter()
            .map(Gap::window)
            .collect();
        assert_eq!(open, [w(0, 2), w(4, 7), w(7, 10)]);
    }

    #[test]
    fn trimming_keeps_it_bounded_and_the_stored_form_round_trips() {
        let mut l = Ledger::default();
        for i in 0..(LEDGER_MAX_SPANS as u32 + 10) {
            l.cover(&run(i), w(2 * i, 2 * i + 1));
            l.gap(w(2 * i + 1, 2 * i + 2), GapReason::Failed, Some(&run(i)));
        }
        l.trim(t(0));
        assert_eq!(l.covered().len(), LEDGER_MAX_SPANS);
        assert_eq!(l.gaps().len(), LEDGER_MAX_SPANS);
        assert_eq!(l.covered()[0], w(20, 21), "the oldest go first");
        let json = serde_json::to_string(&l).unwrap();
        assert!(json.len() < 100_000, "{} bytes", json.len());
        assert_eq!(serde_json::from_str::<Ledger>(&json).unwrap(), l);
        // Spans older than the horizon are dropped.
        l.trim(t(0) + Duration::days(LEDGER_HORIZON_DAYS + 1000));
        assert!(l.is_empty());
    }
}
