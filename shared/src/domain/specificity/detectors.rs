//! The detectors: one pass over the query per dimension (entities, time scope, conditions). Each match becomes
//! findings and claims its span, so a later detector cannot count the same text again: the order of the calls is
//! the order of precedence (the "4625" in "event ID 4625" is an event ID, not a count).

use super::patterns::*;
use super::result::{Finding, FindingKind};
use super::words::{FILE_EXTENSIONS, TABLES, TLDS, parse_number, unit_seconds};
use super::{DAY, HOUR, MAX_ITEMS_PER_DIMENSION, MINUTE, MONTH, WEEK, YEAR};
use chrono::NaiveDate;
use regex::{Captures, Regex};
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

/// A pass over one query: the spans already claimed by a finding, so overlapping detectors do not double-count.
pub(super) struct Scan<'q> {
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

impl<'q> Scan<'q> {
    pub(super) fn new(query: &'q str) -> Self {
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

    pub(super) fn entities(&mut self) -> Vec<Finding> {
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

    pub(super) fn time_scope(&mut self) -> Vec<Finding> {
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

    pub(super) fn conditions(&mut self) -> Vec<Finding> {
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
