//! Findings: what an investigation found, how the same finding is recognised in the next run (its fingerprint),
//! what is new, ongoing or resolved since the schedule's previous completed run, and whether a completed run is
//! worth a notification (`notify_on`).
//!
//! Identity is a fingerprint over the finding's normalized entity values and MITRE technique ids (its title only
//! when it has neither), never the engine's own id or wording: an LLM that rewords a title, reorders or re-cases
//! the entities, or mints a new id per session still reports the same finding.
//!
//! The diff needs the previous completed run's findings. The schedule keeps them as its [`FindingsBaseline`]
//! (fingerprint, title, severity, first seen), replaced by the same conditional write that finishes the next
//! completed run. So the diff survives run retention (the previous completed run may have been dropped from
//! history after fifty failures) and racing status checkers (the write is conditional on the schedule's version;
//! the loser re-reads the schedule and diffs again against the baseline the winner left).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// At most this many findings are kept per run (the rest are counted as skipped).
pub const MAX_FINDINGS: usize = 200;
/// Bounds on one finding's texts, in characters. With [`MAX_FINDINGS`] they bound a run's findings to about
/// 2.5 MB even in four-byte characters (see the DynamoDB store, which splits them off the run item).
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
pub const MAX_ENTITIES: usize = 10;
pub const MAX_ENTITY_VALUE_CHARS: usize = 128;
pub const MAX_ENTITY_TYPE_CHARS: usize = 32;
pub const MAX_TECHNIQUES: usize = 10;
pub const MAX_ENGINE_ID_CHARS: usize = 128;
/// New findings a notification names (the summary counts them all).
pub const NOTIFIED_NEW_FINDINGS: usize = 5;

/// How serious a finding is; ordered, `Informational` lowest.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Informational => "informational",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// An engine's severity word, any case; an unknown word (or none) is `Informational`. `info` is accepted.
    pub fn lenient(word: &str) -> Self {
        match word.trim().to_ascii_lowercase().as_str() {
            "critical" => Self::Critical,
            "high" => Self::High,
            "medium" | "moderate" => Self::Medium,
            "low" => Self::Low,
            _ => Self::Informational,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An entity a finding is about: an IP, an account, a host... `type` is what the engine called it, if anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entity {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub value: String,
}

/// A finding as the engine reported it, bounded (texts cut, lists capped), before it has an identity or a status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportedFinding {
    pub title: String,
    pub severity: Severity,
    pub description: Option<String>,
    pub entities: Vec<Entity>,
    pub mitre_techniques: Vec<String>,
    /// The engine's own id: kept, never used for identity.
    pub engine_id: Option<String>,
}

impl ReportedFinding {
    /// A finding with its texts bounded: `None` when it has no usable title (the caller counts it as skipped).
    pub fn bounded(
        title: &str,
        severity: Severity,
        description: Option<&str>,
        entities: impl IntoIterator<Item = Entity>,
        techniques: impl IntoIterator<Item = String>,
        engine_id: Option<&str>,
    ) -> Option<Self> {
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            return None;
        }
        let cut = |text: &str, max| crate::text::truncate_chars(text.trim(), max);
        let mut seen = BTreeSet::new();
        let entities = entities
            .into_iter()
            .filter(|e| !e.value.trim().is_empty())
            .filter(|e| seen.insert(normalize_entity(&e.value)))
            .take(MAX_ENTITIES)
            .map(|e| Entity {
                kind: e
                    .kind
                    .as_deref()
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(|k| cut(k, MAX_ENTITY_TYPE_CHARS)),
                value: cut(&e.value, MAX_ENTITY_VALUE_CHARS),
            })
            .collect();
        let mut seen = BTreeSet::new();
        let mitre_techniques = techniques
            .into_iter()
            .filter_map(|t| technique_id(&t))
            .filter(|t| seen.insert(t.clone()))
            .take(MAX_TECHNIQUES)
            .collect();
        Some(Self {
            title: cut(&title, MAX_TITLE_CHARS),
            severity,
            description: description
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(|d| cut(d, MAX_DESCRIPTION_CHARS)),
            entities,
            mitre_techniques,
            engine_id: engine_id
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .map(|i| cut(i, MAX_ENGINE_ID_CHARS)),
        })
    }

    /// The finding's identity: a hash of its normalized entity values and technique ids, or of its normalized
    /// title when it has neither.
    pub fn fingerprint(&self) -> String {
        let entities: BTreeSet<String> = self
            .entities
            .iter()
            .map(|e| normalize_entity(&e.value))
            .collect();
        let techniques: BTreeSet<String> = self
            .mitre_techniques
            .iter()
            .map(|t| t.trim().to_ascii_uppercase())
            .collect();
        let mut hasher = Sha256::new();
        if entities.is_empty() && techniques.is_empty() {
            hasher.update(b"title\0");
            hasher.update(normalize_title(&self.title).as_bytes());
        } else {
            for e in &entities {
                hasher.update(b"entity\0");
                hasher.update(e.as_bytes());
                hasher.update(b"\0");
            }
            for t in &techniques {
                hasher.update(b"technique\0");
                hasher.update(t.as_bytes());
                hasher.update(b"\0");
            }
        }
        // 128 bits are plenty to tell one schedule's findings apart and keep stored fingerprints short.
        hasher.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn normalize_entity(value: &str) -> String {
    value.trim().to_lowercase()
}

fn normalize_title(title: &str) -> String {
    title
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A MITRE ATT&CK technique id (`T1110`, `T1110.001`, any case), upper-cased; `None` for anything else.
pub fn technique_id(text: &str) -> Option<String> {
    let id = text.trim().to_ascii_uppercase();
    let digits = id.strip_prefix('T')?;
    let (main, sub) = match digits.split_once('.') {
        Some((main, sub)) => (main, Some(sub)),
        None => (digits, None),
    };
    let all_digits = |s: &str, n| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    (all_digits(main, 4) && sub.is_none_or(|s| all_digits(s, 3))).then_some(id)
}

/// What the engine reported for one completed session: the findings it could read (at most [`MAX_FINDINGS`]) and
/// how many it skipped (malformed, or beyond the cap).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportedFindings {
    pub findings: Vec<ReportedFinding>,
    pub skipped: u32,
}

impl ReportedFindings {
    /// Keeps at most [`MAX_FINDINGS`], counting the rest as skipped.
    pub fn capped(mut findings: Vec<ReportedFinding>, skipped: u32) -> Self {
        let over = findings.len().saturating_sub(MAX_FINDINGS);
        findings.truncate(MAX_FINDINGS);
        Self {
            findings,
            skipped: skipped.saturating_add(over as u32),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    /// Not in the schedule's previous completed run.
    New,
    /// Also in the previous completed run.
    Ongoing,
}

/// A finding of a completed run, with its identity and its status against the previous completed run. (Named
/// `RunFinding` in the OpenAPI document: the query validator's `Finding` has the plain name.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = RunFinding)]
pub struct Finding {
    pub fingerprint: String,
    pub title: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub entities: Vec<Entity>,
    #[serde(default)]
    pub mitre_techniques: Vec<String>,
    /// The engine's own id, when it gave one (not used for identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub status: FindingStatus,
    /// When this finding was first reported by a completed run of the schedule.
    pub first_seen_at: DateTime<Utc>,
}

/// A finding of the previous completed run that this run did not report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResolvedFinding {
    pub fingerprint: String,
    pub title: String,
    pub severity: Severity,
    /// When the previous completed run (the last to report it) finished.
    pub last_seen_at: DateTime<Utc>,
}

/// Counts of one completed run's findings, shown in lists and notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FindingsSummary {
    pub total: u32,
    pub new: u32,
    pub ongoing: u32,
    pub resolved: u32,
    /// The highest severity among the run's findings; absent when it found nothing.
    #[serde(default)]
    pub max_severity: Option<Severity>,
    /// Findings the engine sent that were malformed or beyond the cap of 200.
    #[serde(default)]
    pub skipped: u32,
}

impl FindingsSummary {
    /// "3 new · 1 resolved · 2 ongoing — highest severity: high" (or "no findings").
    pub fn headline(&self) -> String {
        let counts = format!(
            "{} new · {} resolved · {} ongoing",
            self.new, self.resolved, self.ongoing
        );
        match self.max_severity {
            Some(s) => format!("{counts} — highest severity: {s}"),
            None if self.resolved > 0 => format!("{counts} — no findings now"),
            None => "no findings".into(),
        }
    }
}

/// One finding the schedule remembers from its latest completed run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownFinding {
    pub fingerprint: String,
    pub title: String,
    pub severity: Severity,
    pub first_seen_at: DateTime<Utc>,
}

/// The findings of a schedule's latest completed run (by finish time), kept on the schedule for the next diff.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FindingsBaseline {
    /// When that run finished: its findings were last seen then.
    pub finished_at: Option<DateTime<Utc>>,
    pub findings: Vec<KnownFinding>,
}

/// The outcome of diffing one completed run against the baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingsDiff {
    pub findings: Vec<Finding>,
    pub resolved: Vec<ResolvedFinding>,
    pub summary: FindingsSummary,
}

impl FindingsBaseline {
    /// Compares `reported` (a run that completed at `finished_at`) with this baseline. Two reported findings with
    /// one fingerprint are one finding (the first kept). A baseline that never saw a completed run makes every
    /// finding new.
    pub fn diff(&self, reported: &ReportedFindings, finished_at: DateTime<Utc>) -> FindingsDiff {
        let known: HashMap<&str, &KnownFinding> = self
            .findings
            .iter()
            .map(|k| (k.fingerprint.as_str(), k))
            .collect();
        let mut seen = BTreeSet::new();
        let findings: Vec<Finding> = reported
            .findings
            .iter()
            .filter_map(|r| {
                let fingerprint = r.fingerprint();
                if !seen.insert(fingerprint.clone()) {
                    return None;
                }
                let before = known.get(fingerprint.as_str());
                Some(Finding {
                    status: if before.is_some() {
                        FindingStatus::Ongoing
                    } else {
                        FindingStatus::New
                    },
                    first_seen_at: before.map_or(finished_at, |k| k.first_seen_at),
                    fingerprint,
                    title: r.title.clone(),
                    severity: r.severity,
                    description: r.description.clone(),
                    entities: r.entities.clone(),
                    mitre_techniques: r.mitre_techniques.clone(),
                    id: r.engine_id.clone(),
                })
            })
            .collect();
        let last_seen_at = self.finished_at.unwrap_or(finished_at);
        let resolved: Vec<ResolvedFinding> = self
            .findings
            .iter()
            .filter(|k| !seen.contains(&k.fingerprint))
            .map(|k| ResolvedFinding {
                fingerprint: k.fingerprint.clone(),
                title: k.title.clone(),
                severity: k.severity,
                last_seen_at,
            })
            .collect();
        let count = |status| findings.iter().filter(|f| f.status == status).count() as u32;
        let summary = FindingsSummary {
            total: findings.len() as u32,
            new: count(FindingStatus::New),
            ongoing: count(FindingStatus::Ongoing),
            resolved: resolved.len() as u32,
            max_severity: findings.iter().map(|f| f.severity).max(),
            skipped: reported.skipped,
        };
        FindingsDiff {
            findings,
            resolved,
            summary,
        }
    }

    /// The baseline a completed run leaves for the next one.
    pub fn after(findings: &[Finding], finished_at: DateTime<Utc>) -> Self {
        Self {
            finished_at: Some(finished_at),
            findings: findings
                .iter()
                .map(|f| KnownFinding {
                    fingerprint: f.fingerprint.clone(),
                    title: f.title.clone(),
                    severity: f.severity,
                    first_seen_at: f.first_seen_at,
                })
                .collect(),
        }
    }
}

/// When a schedule's completed runs notify. Failures and `schedule-disabled` always notify.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NotifyOn {
    /// Every completed run notifies.
    #[default]
    EveryRun,
    /// A completed run notifies when it found anything.
    Findings,
    /// A completed run notifies when at least one finding is new since the previous completed run.
    NewFindings,
    /// Completed runs never notify; failures still do.
    Failures,
}

impl NotifyOn {
    pub const ALL: [Self; 4] = [
        Self::EveryRun,
        Self::Findings,
        Self::NewFindings,
        Self::Failures,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::EveryRun => "every_run",
            Self::Findings => "findings",
            Self::NewFindings => "new_findings",
            Self::Failures => "failures",
        }
    }

    /// Whether a completed run with `summary` notifies: `Err(reason)` when it is suppressed.
    pub fn completed(self, summary: &FindingsSummary) -> Result<(), &'static str> {
        match self {
            Self::EveryRun => Ok(()),
            Self::Findings if summary.total > 0 => Ok(()),
            Self::Findings => Err("no findings"),
            Self::NewFindings if summary.new > 0 => Ok(()),
            Self::NewFindings => Err("no new findings"),
            Self::Failures => Err("notify_on is failures"),
        }
    }
}

/// Whether a finished run's notification went out, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationOutcome {
    pub sent: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, d, 8, 0, 0).unwrap()
    }

    fn finding(title: &str, entities: &[&str], techniques: &[&str]) -> ReportedFinding {
        ReportedFinding::bounded(
            title,
            Severity::High,
            None,
            entities.iter().map(|v| Entity {
                kind: None,
                value: (*v).into(),
            }),
            techniques.iter().map(|t| (*t).to_string()),
            None,
        )
        .unwrap()
    }

    fn reported(findings: Vec<ReportedFinding>) -> ReportedFindings {
        ReportedFindings::capped(findings, 0)
    }

    #[test]
    fn a_reworded_title_or_reordered_entities_keep_the_fingerprint() {
        let a = finding(
            "Brute force against alice",
            &["10.0.0.5", "alice@contoso.com"],
            &["T1110"],
        );
        let reworded = finding(
            "Password spraying from 10.0.0.5 targeting Alice",
            &[" ALICE@contoso.com ", "10.0.0.5", "10.0.0.5"],
            &["t1110"],
        );
        assert_eq!(a.fingerprint(), reworded.fingerprint());
        assert_eq!(a.fingerprint().len(), 32);
        // A new entity is a new finding; so is another technique.
        let more = finding(
            "Brute force against alice",
            &["10.0.0.5", "alice@contoso.com", "bob"],
            &["T1110"],
        );
        assert_ne!(a.fingerprint(), more.fingerprint());
        let other = finding(
            "Brute force against alice",
            &["10.0.0.5", "alice@contoso.com"],
            &["T1110.001"],
        );
        assert_ne!(a.fingerprint(), other.fingerprint());
    }

    #[test]
    fn without_entities_or_techniques_the_normalized_title_is_the_identity() {
        let a = finding("Audit log gap: 2 hours", &[], &[]);
        let b = finding("  audit LOG gap —  2 hours!", &[], &[]);
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(
            a.fingerprint(),
            finding("Audit log gap: 3 hours", &[], &[]).fingerprint()
        );
        // A title is never confused with an entity of the same text.
        assert_ne!(
            finding("x", &[], &[]).fingerprint(),
            finding("x", &["x"], &[]).fingerprint()
        );
    }

    #[test]
    fn reported_findings_are_bounded() {
        let long = "é".repeat(5000);
        let f = ReportedFinding::bounded(
            &long,
            Severity::Low,
            Some(&long),
            (0..50).map(|i| Entity {
                kind: Some(long.clone()),
                value: format!("{i}{long}"),
            }),
            ["T1110", "t1110", "T99", "T1078.004", "x"].map(String::from),
            Some(&long),
        )
        .unwrap();
        assert_eq!(f.title.chars().count(), MAX_TITLE_CHARS + 1);
        assert_eq!(
            f.description.unwrap().chars().count(),
            MAX_DESCRIPTION_CHARS + 1
        );
        assert_eq!(f.entities.len(), MAX_ENTITIES);
        assert_eq!(
            f.entities[0].value.chars().count(),
            MAX_ENTITY_VALUE_CHARS + 1
        );
        assert_eq!(f.mitre_techniques, ["T1110", "T1078.004"]);
        assert!(ReportedFinding::bounded("  ", Severity::Low, None, [], [], None).is_none());
        let many = ReportedFindings::capped(
            (0..205)
                .map(|i| finding(&format!("f{i}"), &[], &[]))
                .collect(),
            2,
        );
        assert_eq!((many.findings.len(), many.skipped), (MAX_FINDINGS, 7));
    }

    #[test]
    fn severities_are_ordered_and_read_leniently() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Informational);
        assert_eq!(Severity::lenient(" HIGH "), Severity::High);
        assert_eq!(Severity::lenient("severe"), Severity::Informational);
    }

    #[test]
    fn the_first_completed_run_finds_everything_new() {
        let diff = FindingsBaseline::default().diff(
            &reported(vec![
                finding("a", &["1.1.1.1"], &[]),
                finding("b", &[], &["T1078"]),
            ]),
            day(1),
        );
        assert!(
            diff.findings
                .iter()
                .all(|f| f.status == FindingStatus::New && f.first_seen_at == day(1))
        );
        assert_eq!(
            diff.summary,
            FindingsSummary {
                total: 2,
                new: 2,
                ongoing: 0,
                resolved: 0,
                max_severity: Some(Severity::High),
                skipped: 0
            }
        );
        assert!(diff.resolved.is_empty());
        let nothing = FindingsBaseline::default().diff(&reported(vec![]), day(1));
        assert_eq!(nothing.summary.max_severity, None);
        assert_eq!(nothing.summary.headline(), "no findings");
    }

    #[test]
    fn the_diff_tells_new_ongoing_and_resolved() {
        let a = finding("A: spraying", &["10.0.0.5"], &["T1110"]);
        let b = finding("B: odd login", &["bob"], &[]);
        let c = finding("C: new admin", &["carol"], &["T1098"]);
        let first = FindingsBaseline::default().diff(&reported(vec![a.clone(), b.clone()]), day(1));
        let base1 = FindingsBaseline::after(&first.findings, day(1));

        let a_reworded = finding("Password spray seen again", &["10.0.0.5"], &["t1110"]);
        let second = base1.diff(&reported(vec![a_reworded, b.clone()]), day(2));
        assert!(
            second
                .findings
                .iter()
                .all(|f| f.status == FindingStatus::Ongoing && f.first_seen_at == day(1))
        );
        assert_eq!(
            (
                second.summary.new,
                second.summary.ongoing,
                second.summary.resolved
            ),
            (0, 2, 0)
        );
        let base2 = FindingsBaseline::after(&second.findings, day(2));

        let mut low_c = c.clone();
        low_c.severity = Severity::Critical;
        let third = base2.diff(&reported(vec![b, low_c, c]), day(3));
        let statuses: Vec<_> = third
            .findings
            .iter()
            .map(|f| (f.title.as_str(), f.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("B: odd login", FindingStatus::Ongoing),
                ("C: new admin", FindingStatus::New)
            ]
        );
        assert_eq!(third.findings[0].first_seen_at, day(1));
        assert_eq!(third.findings[1].first_seen_at, day(3));
        assert_eq!(third.resolved.len(), 1);
        // The resolved finding keeps the wording it was last reported with, last seen when that run finished.
        assert_eq!(third.resolved[0].title, "Password spray seen again");
        assert_eq!(third.resolved[0].last_seen_at, day(2));
        assert_eq!(
            third.summary.headline(),
            "1 new · 1 resolved · 1 ongoing — highest severity: critical"
        );
    }

    #[test]
    fn notify_on_decides_what_a_completed_run_sends() {
        let none = FindingsSummary::default();
        let ongoing = FindingsSummary {
            total: 2,
            ongoing: 2,
            max_severity: Some(Severity::Low),
            ..none
        };
        let new = FindingsSummary {
            total: 2,
            new: 1,
            ongoing: 1,
            ..ongoing
        };
        let table = [
            (NotifyOn::EveryRun, [Ok(()), Ok(()), Ok(())]),
            (NotifyOn::Findings, [Err("no findings"), Ok(()), Ok(())]),
            (
                NotifyOn::NewFindings,
                [Err("no new findings"), Err("no new findings"), Ok(())],
            ),
            (NotifyOn::Failures, [Err("notify_on is failures"); 3]),
        ];
        for (notify_on, expected) in table {
            let got = [none, ongoing, new].map(|s| notify_on.completed(&s));
            assert_eq!(got, expected, "{notify_on:?}");
        }
        assert_eq!(NotifyOn::default(), NotifyOn::EveryRun);
        assert_eq!(
            serde_json::to_value(NotifyOn::NewFindings).unwrap(),
            "new_findings"
        );
    }

    fn schedule() -> crate::domain::Schedule {
        serde_json::from_value(serde_json::json!({
            "id": "sch_1", "owner": "alice", "name": "n", "user_query": "q", "persona": "soc_analyst",
            "frequency": "daily", "scheduled_time": "08:00", "timezone": "UTC", "status": "ACTIVE",
            "runs_in_flight": 2, "created_at": day(1), "updated_at": day(1), "version": 1,
            "notify_on": "new_findings",
        }))
        .unwrap()
    }

    fn finished(
        s: &mut crate::domain::Schedule,
        status: crate::domain::RunStatus,
        at: DateTime<Utc>,
        found: Vec<ReportedFinding>,
    ) -> crate::domain::Run {
        let mut run = crate::domain::Run::pending(
            s.subject(),
            format!("run_{}", at.timestamp()).into(),
            crate::domain::Trigger::Manual,
            at,
            at,
            at,
        );
        run.report_findings(reported(found));
        run.finish(status, at, None, None);
        s.record_finished_run(&mut run, at);
        run
    }

    #[test]
    fn finishing_runs_keeps_the_baseline_of_the_latest_completion() {
        use crate::domain::RunStatus;
        let mut s = schedule();
        let a = finding("a", &["1.1.1.1"], &[]);
        let b = finding("b", &["2.2.2.2"], &[]);
        let first = finished(&mut s, RunStatus::Completed, day(2), vec![a.clone()]);
        assert_eq!(first.findings_summary.unwrap().new, 1);
        assert_eq!(
            first.notification, None,
            "a run with something new notifies"
        );
        // A failed run has no findings and leaves the baseline alone; it notifies whatever notify_on says.
        let failed = finished(&mut s, RunStatus::Failed, day(3), vec![b.clone()]);
        assert!(
            failed.findings.is_empty()
                && failed.findings_summary.is_none()
                && failed.notification.is_none()
        );
        assert_eq!(
            s.findings_baseline.as_ref().unwrap().finished_at,
            Some(day(2))
        );
        // A completion that finished before the baseline's run (its write landed late) is diffed against the
        // baseline but does not replace it, nor the schedule's summary.
        let late = finished(&mut s, RunStatus::Completed, day(1), vec![b]);
        assert_eq!(late.findings_summary.unwrap().new, 1);
        assert_eq!(
            s.findings_baseline.as_ref().unwrap().finished_at,
            Some(day(2))
        );
        assert_eq!(s.findings_summary, first.findings_summary);
        // The same finding again: nothing new, so notify_on: new_findings suppresses it and clears the outbox mark.
        let repeat = finished(&mut s, RunStatus::Completed, day(4), vec![a]);
        assert_eq!(
            repeat.notification,
            Some(NotificationOutcome {
                sent: false,
                reason: Some("no new findings".into())
            })
        );
        assert_eq!(repeat.work, None);
        assert_eq!(repeat.findings[0].first_seen_at, day(2));
    }
}
