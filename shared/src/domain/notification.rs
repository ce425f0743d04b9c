//! Notifications: what subscribers are told when a run finishes or a schedule is disabled. Every notification is
//! stored per owner (the API lists them) and published through the [`crate::ports::Notifier`].

use crate::domain::coverage::Gap;
use crate::domain::findings::{
    Entity, Finding, FindingStatus, FindingsSummary, NOTIFIED_NEW_FINDINGS, Severity,
};
use crate::domain::ids::{NotificationId, RunId, ScheduleId};
use crate::domain::policy::DisabledReason;
use crate::domain::run::{Run, RunError, RunStatus, SessionUrlTemplate};
use crate::domain::timing::Window;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Stored notifications expire after this many days.
pub const NOTIFICATION_RETENTION_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationEvent {
    InvestigationCompleted,
    InvestigationFailed,
    ScheduleDisabled,
    /// A span of data time was not covered (failed, skipped, paused, disabled, missed): once per gap.
    CoverageGap,
}

impl NotificationEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvestigationCompleted => "investigation-completed",
            Self::InvestigationFailed => "investigation-failed",
            Self::ScheduleDisabled => "schedule-disabled",
            Self::CoverageGap => "coverage-gap",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: NotificationId,
    pub event: NotificationEvent,
    pub owner: String,
    pub schedule_id: ScheduleId,
    pub schedule_name: String,
    pub run_id: RunId,
    #[serde(default)]
    pub session_id: Option<String>,
    /// Where the session opens in the engine's UI, when `SESSION_URL_TEMPLATE` is configured.
    #[serde(default)]
    pub session_url: Option<String>,
    pub status: RunStatus,
    pub scheduled_for: DateTime<Utc>,
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub duration_ms: Option<i64>,
    #[serde(default)]
    pub error: Option<RunError>,
    #[serde(default)]
    pub summary: Option<String>,
    /// For `schedule-disabled`: why the schedule was disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<DisabledReason>,
    /// The API path of the run's schedule history.
    pub link: String,
    pub created_at: DateTime<Utc>,
    /// The run's data window `[window_start, window_end)`.
    #[serde(default)]
    pub window_start: Option<DateTime<Utc>>,
    #[serde(default)]
    pub window_end: Option<DateTime<Utc>>,
    /// For `coverage-gap`: the span not covered and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<Gap>,
    /// For `coverage-gap`: the API path that fills the schedule's open gaps (`POST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_link: Option<String>,
    /// For `investigation-completed`: the run's findings counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings_summary: Option<FindingsSummary>,
    /// For `investigation-completed`: how many findings are new (also an SNS attribute and an EventBridge field,
    /// so subscribers can route on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_findings: Option<u32>,
    /// For `investigation-completed`: the highest severity found, `none` when nothing was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_severity: Option<String>,
    /// For `investigation-completed`: up to five of the new findings, most severe first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<NotifiedFinding>,
    /// For `investigation-completed`: up to five of the findings no longer reported (without entities).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved: Vec<NotifiedFinding>,
}

/// The findings fields of a notification.
#[derive(Default)]
struct FindingsPart {
    findings_summary: Option<FindingsSummary>,
    new_findings: Option<u32>,
    max_severity: Option<String>,
    findings: Vec<NotifiedFinding>,
    resolved: Vec<NotifiedFinding>,
}

/// A new finding as a notification names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotifiedFinding {
    pub title: String,
    pub severity: Severity,
    #[serde(default)]
    pub entities: Vec<Entity>,
}

impl NotifiedFinding {
    /// Up to [`NOTIFIED_NEW_FINDINGS`] of `findings`' new ones, most severe first (then in the engine's order).
    fn new_of(findings: &[Finding]) -> Vec<Self> {
        let mut new: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.status == FindingStatus::New)
            .collect();
        new.sort_by_key(|f| std::cmp::Reverse(f.severity));
        new.into_iter()
            .take(NOTIFIED_NEW_FINDINGS)
            .map(|f| Self {
                title: f.title.clone(),
                severity: f.severity,
                entities: f.entities.clone(),
            })
            .collect()
    }

    /// `[high] Password spray — 203.0.113.7, alice@contoso.com`
    pub fn line(&self) -> String {
        let entities: Vec<&str> = self.entities.iter().map(|e| e.value.as_str()).collect();
        if entities.is_empty() {
            format!("[{}] {}", self.severity, self.title)
        } else {
            format!(
                "[{}] {} — {}",
                self.severity,
                self.title,
                entities.join(", ")
            )
        }
    }
}

impl Notification {
    /// The notifications a finished run produces: completed or failed, plus `schedule-disabled` when this run
    /// disabled its schedule. Skipped runs produce none.
    pub fn for_finished_run(
        run: &Run,
        now: DateTime<Utc>,
        sessions: Option<&SessionUrlTemplate>,
    ) -> Vec<Self> {
        let mut events = Vec::new();
        // `notify_on` may have suppressed a completion (recorded when the run finished); failures always notify.
        let suppressed = run.notification.as_ref().is_some_and(|n| !n.sent);
        match run.status {
            RunStatus::Completed if !suppressed => {
                events.push(NotificationEvent::InvestigationCompleted)
            }
            RunStatus::Failed => events.push(NotificationEvent::InvestigationFailed),
            _ => {}
        }
        if run.disabled_schedule.is_some() {
            events.push(NotificationEvent::ScheduleDisabled);
        }
        let gaps = run
            .gaps
            .iter()
            .map(|g| (NotificationEvent::CoverageGap, Some(g)));
        events
            .into_iter()
            .map(|e| (e, None))
            .chain(gaps)
            .map(|(event, gap)| {
                let part = Self::findings_of(run, event);
                Self {
                    // One per gap: a replay of the same gap overwrites its stored notification.
                    id: NotificationId::from(match gap {
                        None => format!("ntf_{}_{}", run.run_id, event.as_str()),
                        Some(g) => format!(
                            "ntf_{}_{}_{}_{}",
                            run.schedule_id,
                            g.start.timestamp_millis(),
                            g.reason,
                            event.as_str()
                        ),
                    }),
                    event,
                    owner: run.owner.clone(),
                    schedule_id: run.schedule_id.clone(),
                    schedule_name: run.schedule_name.clone(),
                    run_id: run.run_id.clone(),
                    session_id: run.session_id.clone(),
                    session_url: run.session_url(sessions),
                    status: run.status,
                    scheduled_for: run.scheduled_for,
                    started_at: run.started_at,
                    finished_at: run.finished_at,
                    duration_ms: run.duration_ms,
                    error: run.error.clone(),
                    summary: run.summary.clone(),
                    disabled_reason: (event == NotificationEvent::ScheduleDisabled)
                        .then(|| run.disabled_schedule.clone())
                        .flatten(),
                    link: match gap {
                        None => format!("/api/v1/schedules/{}/runs", run.schedule_id),
                        Some(_) => format!("/api/v1/schedules/{}/coverage", run.schedule_id),
                    },
                    created_at: now,
                    window_start: run.window_start,
                    window_end: run.window_end,
                    gap: gap.cloned(),
                    fill_link: gap
                        .map(|_| format!("/api/v1/schedules/{}/coverage/fill", run.schedule_id)),
                    findings_summary: part.findings_summary,
                    new_findings: part.new_findings,
                    max_severity: part.max_severity,
                    findings: part.findings,
                    resolved: part.resolved,
                }
            })
            .collect()
    }

    /// The findings fields of `event` for `run`: only a completed run's notification has them.
    fn findings_of(run: &Run, event: NotificationEvent) -> FindingsPart {
        match (event, run.findings_summary) {
            (NotificationEvent::InvestigationCompleted, Some(summary)) => FindingsPart {
                findings_summary: Some(summary),
                new_findings: Some(summary.new),
                max_severity: Some(
                    summary
                        .max_severity
                        .map_or("none", Severity::as_str)
                        .to_owned(),
                ),
                findings: NotifiedFinding::new_of(&run.findings),
                resolved: run
                    .resolved
                    .iter()
                    .take(NOTIFIED_NEW_FINDINGS)
                    .map(|r| NotifiedFinding {
                        title: r.title.clone(),
                        severity: r.severity,
                        entities: Vec::new(),
                    })
                    .collect(),
            },
            _ => FindingsPart::default(),
        }
    }

    /// The findings lines of a completed run's text: the counts, then the new findings by name.
    fn findings_lines(&self) -> Vec<String> {
        let Some(summary) = &self.findings_summary else {
            return Vec::new();
        };
        let mut lines = vec![format!("Findings: {}", summary.headline())];
        if !self.findings.is_empty() {
            lines.push("New findings:".into());
            lines.extend(self.findings.iter().map(|f| format!("- {}", f.line())));
            let more = summary.new as usize - self.findings.len().min(summary.new as usize);
            if more > 0 {
                lines.push(format!("- and {more} more (see the run)"));
            }
        }
        if !self.resolved.is_empty() {
            lines.push("Resolved:".into());
            lines.extend(self.resolved.iter().map(|f| format!("- {}", f.line())));
        }
        lines
    }

    /// A one-line subject, e.g. for an email or a chat message.
    pub fn subject(&self) -> String {
        match self.event {
            NotificationEvent::InvestigationCompleted => {
                format!("Investigation completed: {}", self.schedule_name)
            }
            NotificationEvent::InvestigationFailed => {
                format!("Investigation failed: {}", self.schedule_name)
            }
            NotificationEvent::ScheduleDisabled => match &self.disabled_reason {
                Some(reason) => format!(
                    "Schedule disabled {}: {}",
                    reason.headline(),
                    self.schedule_name
                ),
                None => format!("Schedule disabled: {}", self.schedule_name),
            },
            NotificationEvent::CoverageGap => match &self.gap {
                Some(gap) => format!("Coverage gap ({}): {}", gap.reason, self.schedule_name),
                None => format!("Coverage gap: {}", self.schedule_name),
            },
        }
    }

    /// A readable plain-text body: for a completed run, its findings counts and new findings come first.
    pub fn text(&self) -> String {
        let mut lines = vec![self.subject()];
        lines.extend(self.findings_lines());
        lines.push(format!(
            "Schedule: {} ({})",
            self.schedule_name, self.schedule_id
        ));
        lines.push(format!("Run: {} — {}", self.run_id, self.status));
        lines.push(format!(
            "Scheduled for: {}",
            self.scheduled_for.to_rfc3339()
        ));
        if let Some(w) = self.window() {
            lines.push(format!("Data window: {w} (UTC)"));
        }
        if let Some(gap) = &self.gap {
            lines.push(format!("Not covered: {} ({})", gap.window(), gap.reason));
        }
        if let Some(d) = self.duration_ms {
            lines.push(format!("Duration: {:.1} s", d as f64 / 1000.0));
        }
        match (&self.session_id, &self.session_url) {
            (Some(s), Some(url)) => lines.push(format!("Session: {s} — {url}")),
            (Some(s), None) => lines.push(format!("Session: {s}")),
            _ => {}
        }
        if let Some(e) = &self.error {
            lines.push(format!("Error ({}): {}", e.kind.as_str(), e.message));
        }
        if let Some(s) = &self.summary {
            lines.push(format!("Summary: {s}"));
        }
        if self.event == NotificationEvent::ScheduleDisabled {
            if let Some(reason) = &self.disabled_reason {
                lines.push(format!("Reason: {reason}."));
                lines.push(reason.remedy().into());
            }
            lines.push("The schedule will not run again until it is resumed.".into());
        }
        lines.push(format!("Details: {}", self.link));
        if let Some(fill) = &self.fill_link {
            lines.push(format!("Fill the gaps: POST {fill}"));
        }
        lines.join("\n")
    }

    /// The run's data window, when it has one.
    pub fn window(&self) -> Option<Window> {
        Some(Window::new(self.window_start?, self.window_end?))
    }
}
