//! Notifications on AWS: SNS for people (email, Slack through AWS Chatbot / Amazon Q Developer) and an EventBridge
//! bus for machines (SOAR tools, other accounts).
//!
//! # SNS topic layout: one topic per format, raw messages with attributes
//! SNS drops message attributes when a message is published with `MessageStructure=json`, and subscription filter
//! policies on attributes then match nothing. Payload-based filtering (`FilterPolicyScope: MessageBody`) only works
//! on JSON bodies, so an email body (readable text) could not be filtered either. Hence two topics, each receiving
//! ONE plain message per notification (no `MessageStructure`), every message carrying the same attributes:
//!
//! - the **email topic** ([`SnsFormat::Text`]): `Subject` = [`Notification::subject`], body =
//!   [`Notification::text`]. Email, SMS, SQS or HTTPS subscribers all get the readable text.
//! - the **chat topic** ([`SnsFormat::Chatbot`]): body = an AWS Chatbot custom notification (JSON, `version 1.0`,
//!   `source custom`, `client-markdown`), which Chatbot renders in Slack or Teams.
//!
//! Message attributes on both: `event` (`investigation-completed`, `investigation-failed`,
//! `schedule-disabled`, `coverage-gap`), `status` (the run status), `owner`, `schedule_id` (all `String`), and on
//! completed runs `new_findings` (`Number`) and `max_severity` (`String`: `informational`…`critical`, or `none`). A
//! subscriber that only wants failures sets the filter policy `{"event": ["investigation-failed",
//! "schedule-disabled"]}`; an on-call channel that wants new high or critical findings sets
//! `{"new_findings": [{"numeric": [">", 0]}], "max_severity": ["high", "critical"]}`.
//!
//! # EventBridge
//! `PutEvents` on a named bus, `Source` [`EVENT_SOURCE`], one `DetailType` per event ([`detail_type`]), `Detail` =
//! the notification as JSON (the same shape the API lists). A rule matches e.g.
//! `{"source": ["scheduled-investigations"], "detail-type": ["Investigation Failed"]}`.
//!
//! Both notifiers may publish the same notification twice (the outbox retries after a crash); subscribers that
//! care deduplicate on the notification `id` (in the EventBridge detail and the Chatbot `id`).

use crate::domain::{Notification, NotificationEvent};
use crate::ports::{Notifier, NotifyError};
use crate::text::truncate_chars;
use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_sns::types::MessageAttributeValue;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The `Source` of every integration event on the bus.
pub const EVENT_SOURCE: &str = "scheduled-investigations";

/// SNS subjects must be under 100 ASCII characters without line breaks.
const MAX_SUBJECT_CHARS: usize = 99;
/// SNS messages are at most 256 KiB; EventBridge entries too. Leave room for attributes and the envelope.
const MAX_MESSAGE_BYTES: usize = 200 * 1024;
/// AWS Chatbot custom notifications: title up to 250 characters, description up to 8,000.
const MAX_CHAT_TITLE_CHARS: usize = 250;
const MAX_CHAT_DESCRIPTION_CHARS: usize = 8000;
/// Summaries can be whole investigation reports; chat and email get the start of them and a link.
const MAX_SUMMARY_CHARS: usize = 3000;

/// Which format a topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnsFormat {
    /// Subject + readable text (email and anything else that shows text).
    Text,
    /// AWS Chatbot / Amazon Q Developer custom-notification JSON (Slack, Teams).
    Chatbot,
}

/// Publishes each notification to one SNS topic in one format. Use one per topic (see the module header).
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
    topic_arn: String,
    format: SnsFormat,
}

impl SnsNotifier {
    pub fn new(
        client: aws_sdk_sns::Client,
        topic_arn: impl Into<String>,
        format: SnsFormat,
    ) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
            format,
        }
    }
}

#[async_trait]
impl Notifier for SnsNotifier {
    async fn publish(&self, n: &Notification) -> Result<(), NotifyError> {
        let message = match self.format {
            SnsFormat::Text => truncate_bytes(&email_text(n), MAX_MESSAGE_BYTES),
            SnsFormat::Chatbot => chatbot_message(n).to_string(),
        };
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(sns_subject(&n.subject()))
            .message(message);
        for (name, value) in message_attributes(n) {
            let value = MessageAttributeValue::builder()
                .data_type(attribute_type(name))
                .string_value(value)
                .build()
                .map_err(|e| NotifyError::caused(format!("SNS message attribute {name}"), e))?;
            request = request.message_attributes(name, value);
        }
        request
            .send()
            .await
            .map_err(|e| NotifyError::caused(format!("SNS publish of {} failed", n.id), e))?;
        Ok(())
    }
}

/// The attributes every SNS message carries, for subscription filter policies (completed runs also say how many
/// findings are new and the highest severity).
pub fn message_attributes(n: &Notification) -> Vec<(&'static str, String)> {
    let mut attributes = vec![
        ("event", n.event.as_str().to_owned()),
        ("status", n.status.as_str().to_owned()),
        ("owner", n.owner.clone()),
        ("schedule_id", n.schedule_id.to_string()),
    ];
    if let Some(new) = n.new_findings {
        attributes.push(("new_findings", new.to_string()));
    }
    if let Some(severity) = &n.max_severity {
        attributes.push(("max_severity", severity.clone()));
    }
    attributes
}

/// The SNS data type of an attribute: `new_findings` is a `Number` (numeric filter policies), the rest `String`.
pub fn attribute_type(name: &str) -> &'static str {
    match name {
        "new_findings" => "Number",
        _ => "String",
    }
}

/// The email body: the readable text with a long summary cut short (the full one is behind the link).
pub fn email_text(n: &Notification) -> String {
    let mut shortened = n.clone();
    shortened.summary = n
        .summary
        .as_deref()
        .map(|s| truncate_chars(s, MAX_SUMMARY_CHARS));
    shortened.text()
}

/// A subject SNS accepts: printable ASCII only (line breaks and other control characters become spaces, other
/// characters `?`), starting with a visible character, under 100 characters.
pub fn sns_subject(subject: &str) -> String {
    let cleaned: String = subject
        .trim()
        .chars()
        .map(|c| match c {
            c if c.is_ascii_graphic() || c == ' ' => c,
            c if c.is_whitespace() || c.is_control() => ' ',
            _ => '?',
        })
        .take(MAX_SUBJECT_CHARS)
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        "Scheduled investigation".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The AWS Chatbot custom notification for a notification (Slack via AWS Chatbot / Amazon Q Developer).
pub fn chatbot_message(n: &Notification) -> Value {
    let (icon, event_label) = match n.event {
        NotificationEvent::InvestigationCompleted => {
            (":white_check_mark:", "Investigation completed")
        }
        NotificationEvent::InvestigationFailed => (":x:", "Investigation failed"),
        NotificationEvent::ScheduleDisabled => (":no_entry:", "Schedule disabled"),
        NotificationEvent::CoverageGap => (":warning:", "Coverage gap"),
    };
    let title = truncate_chars(&format!("{icon} {}", n.subject()), MAX_CHAT_TITLE_CHARS);

    let mut lines = vec![
        format!("*Schedule:* {} (`{}`)", n.schedule_name, n.schedule_id),
        format!("*Run:* `{}`: {}", n.run_id, n.status),
        format!("*Scheduled for:* {}", n.scheduled_for.to_rfc3339()),
    ];
    if let Some(w) = n.window() {
        lines.push(format!("*Data window:* {w} (UTC)"));
    }
    if let Some(gap) = &n.gap {
        lines.push(format!("*Not covered:* {} ({})", gap.window(), gap.reason));
    }
    if let Some(ms) = n.duration_ms {
        lines.push(format!("*Duration:* {:.1} s", ms as f64 / 1000.0));
    }
    match (&n.session_id, &n.session_url) {
        // Slack's link syntax, which Chatbot's client-markdown passes through.
        (Some(session), Some(url)) => lines.push(format!("*Session:* <{url}|{session}>")),
        (Some(session), None) => lines.push(format!("*Session:* `{session}`")),
        _ => {}
    }
    if let Some(e) = &n.error {
        lines.push(format!("*Error ({}):* {}", e.kind.as_str(), e.message));
    }
    if let Some(reason) = &n.disabled_reason {
        lines.push(format!("*Reason:* {reason}"));
    }
    if let Some(summary) = &n.findings_summary {
        lines.push(format!("*Findings:* {}", summary.headline()));
        for f in &n.findings {
            lines.push(format!("• New: {}", f.line()));
        }
        for f in &n.resolved {
            lines.push(format!("• Resolved: {}", f.line()));
        }
    }
    if let Some(s) = &n.summary {
        lines.push(format!(
            "*Summary:* {}",
            truncate_chars(s, MAX_SUMMARY_CHARS)
        ));
    }
    let description = truncate_chars(&lines.join("\n"), MAX_CHAT_DESCRIPTION_CHARS);

    let mut next_steps = vec![format!("Run history: `{}`", n.link)];
    match n.event {
        NotificationEvent::InvestigationCompleted => match (&n.session_id, &n.session_url) {
            (Some(session), Some(url)) => {
                next_steps.push(format!("Read the full report: <{url}|session {session}>"))
            }
            (Some(session), None) => next_steps.push(format!(
                "Open session `{session}` in the investigation engine for the full report"
            )),
            _ => {}
        },
        NotificationEvent::InvestigationFailed => next_steps.push(
            "Check the error above; the schedule keeps running until it fails 5 times in a row"
                .into(),
        ),
        NotificationEvent::ScheduleDisabled => next_steps.push(format!(
            "{} Resume: `POST /api/v1/schedules/{}/resume`",
            n.disabled_reason
                .as_ref()
                .map_or("Fix the cause, then resume it.", |r| r.remedy()),
            n.schedule_id
        )),
        NotificationEvent::CoverageGap => next_steps.push(format!(
            "Fill it with a backfill run: `POST {}`",
            n.fill_link.as_deref().unwrap_or(&n.link)
        )),
    }

    let keywords: Vec<&str> = [n.event.as_str(), n.status.as_str()]
        .into_iter()
        .chain(n.max_severity.as_deref())
        .collect();
    json!({
        "version": "1.0",
        "source": "custom",
        "id": n.id.to_string(),
        "content": {
            "textType": "client-markdown",
            "title": title,
            "description": description,
            "nextSteps": next_steps,
            "keywords": keywords,
        },
        "metadata": {
            // One Slack thread per schedule keeps a noisy schedule from flooding the channel.
            "threadId": n.schedule_id.to_string(),
            "summary": format!("{event_label}: {}", n.schedule_name),
            "eventType": n.event.as_str(),
            "enableCustomActions": false,
            "additionalContext": {
                "event": n.event.as_str(),
                "status": n.status.as_str(),
                "owner": n.owner,
                "schedule_id": n.schedule_id.to_string(),
                "run_id": n.run_id.to_string(),
                "session_id": n.session_id,
                "session_url": n.session_url,
                "link": n.link,
                "new_findings": n.new_findings,
                "max_severity": n.max_severity,
            },
        },
    })
}

// ---------------------------------------------------------------------------------------------------------------

/// Publishes each notification as one integration event on an EventBridge bus.
#[derive(Debug, Clone)]
pub struct EventBridgeNotifier {
    client: aws_sdk_eventbridge::Client,
    bus_name: String,
}

impl EventBridgeNotifier {
    /// `bus_name`: the bus name or ARN.
    pub fn new(client: aws_sdk_eventbridge::Client, bus_name: impl Into<String>) -> Self {
        Self {
            client,
            bus_name: bus_name.into(),
        }
    }
}

/// The `DetailType` of each event.
pub fn detail_type(event: NotificationEvent) -> &'static str {
    match event {
        NotificationEvent::InvestigationCompleted => "Investigation Completed",
        NotificationEvent::InvestigationFailed => "Investigation Failed",
        NotificationEvent::ScheduleDisabled => "Schedule Disabled",
        NotificationEvent::CoverageGap => "Coverage Gap",
    }
}

/// The `Detail` of an event: the notification as JSON, with an oversized summary cut so the entry fits.
pub fn event_detail(n: &Notification) -> Result<String, NotifyError> {
    let detail = serde_json::to_string(n)
        .map_err(|e| NotifyError::caused(format!("cannot encode {}", n.id), e))?;
    if detail.len() <= MAX_MESSAGE_BYTES {
        return Ok(detail);
    }
    let mut shortened = n.clone();
    shortened.summary = n
        .summary
        .as_deref()
        .map(|s| truncate_chars(s, MAX_SUMMARY_CHARS));
    serde_json::to_string(&shortened)
        .map_err(|e| NotifyError::caused(format!("cannot encode {}", n.id), e))
}

#[async_trait]
impl Notifier for EventBridgeNotifier {
    async fn publish(&self, n: &Notification) -> Result<(), NotifyError> {
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(EVENT_SOURCE)
            .detail_type(detail_type(n.event))
            .detail(event_detail(n)?)
            .build();
        let output = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| {
                NotifyError::caused(format!("EventBridge PutEvents of {} failed", n.id), e)
            })?;
        // PutEvents answers 200 even when an entry was refused; the per-entry result says so.
        if output.failed_entry_count() > 0 {
            let reasons: Vec<String> = output
                .entries()
                .iter()
                .filter(|e| e.error_code().is_some())
                .map(|e| {
                    format!(
                        "{}: {}",
                        e.error_code().unwrap_or("?"),
                        e.error_message().unwrap_or("")
                    )
                })
                .collect();
            return Err(NotifyError::new(format!(
                "EventBridge refused {}: {}",
                n.id,
                reasons.join("; ")
            )));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------------

fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}

/// The attributes as a map, as SQS subscribers with raw delivery see them (for tests and docs).
pub fn attribute_map(n: &Notification) -> HashMap<String, String> {
    message_attributes(n)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RunError, RunErrorKind, RunStatus};
    use chrono::TimeZone;

    fn failed_notification() -> Notification {
        let now = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 8, 5, 0).unwrap();
        let mut n = Notification {
            id: "ntf_run_1_investigation-failed".into(),
            event: NotificationEvent::InvestigationFailed,
            owner: "alice".into(),
            schedule_id: "sch_1".into(),
            schedule_name: "Failed sign-ins – Ünïcode".into(),
            run_id: "run_1".into(),
            session_id: Some("ses_9".into()),
            session_url: Some("https://socmate.example.com/sessions/ses_9".into()),
            status: RunStatus::Failed,
            scheduled_for: now,
            started_at: Some(now),
            finished_at: Some(now),
            duration_ms: Some(1500),
            error: Some(RunError {
                kind: RunErrorKind::EngineRejected,
                message: "bad query".into(),
            }),
            summary: None,
            disabled_reason: None,
            link: "/api/v1/schedules/sch_1/runs".into(),
            findings_summary: None,
            new_findings: None,
            max_severity: None,
            findings: Vec::new(),
            resolved: Vec::new(),
            created_at: now,
            window_start: Some(now - chrono::Duration::hours(24)),
            window_end: Some(now),
            gap: None,
            fill_link: None,
        };
        n.summary = Some("x".repeat(10_000));
        n
    }

    #[test]
    fn subjects_are_ascii_and_short() {
        let s = sns_subject(&format!(
            "Investigation failed: {}\nsecond line {}",
            "é",
            "y".repeat(200)
        ));
        assert!(s.len() <= MAX_SUBJECT_CHARS);
        assert!(s.chars().all(|c| c.is_ascii_graphic() || c == ' '), "{s}");
        assert!(
            s.starts_with("Investigation failed: ? second line yyy"),
            "{s}"
        );
        assert_eq!(sns_subject("\n\t"), "Scheduled investigation");
    }

    #[test]
    fn chatbot_message_has_the_custom_notification_shape() {
        let m = chatbot_message(&failed_notification());
        assert_eq!(m["version"], "1.0");
        assert_eq!(m["source"], "custom");
        assert_eq!(m["content"]["textType"], "client-markdown");
        assert!(
            m["content"]["title"]
                .as_str()
                .unwrap()
                .starts_with(":x: Investigation failed")
        );
        let description = m["content"]["description"].as_str().unwrap();
        assert!(
            description.contains("*Error (engine_rejected):* bad query"),
            "{description}"
        );
        assert!(
            description.contains("*Session:* <https://socmate.example.com/sessions/ses_9|ses_9>"),
            "{description}"
        );
        assert!(description.chars().count() <= MAX_CHAT_DESCRIPTION_CHARS);
        assert_eq!(m["metadata"]["eventType"], "investigation-failed");
        assert_eq!(m["metadata"]["enableCustomActions"], false);
        assert_eq!(m["metadata"]["additionalContext"]["run_id"], "run_1");
    }

    #[test]
    fn long_summaries_are_cut_in_email_but_kept_in_small_events() {
        let n = failed_notification();
        let text = email_text(&n);
        assert!(text.len() < 4000, "{}", text.len());
        assert!(text.contains("Summary: xxx"));
        let detail: Value = serde_json::from_str(&event_detail(&n).unwrap()).unwrap();
        assert_eq!(detail["summary"].as_str().unwrap().len(), 10_000);
    }

    #[test]
    fn detail_types_differ_per_event() {
        assert_eq!(
            detail_type(NotificationEvent::InvestigationCompleted),
            "Investigation Completed"
        );
        assert_eq!(
            detail_type(NotificationEvent::InvestigationFailed),
            "Investigation Failed"
        );
        assert_eq!(
            detail_type(NotificationEvent::ScheduleDisabled),
            "Schedule Disabled"
        );
    }
}

#[cfg(test)]
mod findings_tests {
    use super::*;
    use crate::domain::findings::{Entity, ReportedFinding, ReportedFindings, Severity};
    use crate::domain::{Run, RunStatus, RunSubject, Trigger};
    use chrono::TimeZone;

    /// A completed run with two new findings, as the outbox hands it to the notifiers.
    fn completed_with_findings() -> Notification {
        let at = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
        let subject = RunSubject {
            schedule_id: "sch_1".into(),
            owner: "alice".into(),
            schedule_name: "Spray watch".into(),
            user_query: "q".into(),
            persona: "soc_analyst".into(),
        };
        let mut run = Run::pending(subject, "run_1".into(), Trigger::Manual, at, at, at);
        let finding = |title: &str, value: &str, severity| {
            ReportedFinding::bounded(
                title,
                severity,
                None,
                [Entity {
                    kind: None,
                    value: value.into(),
                }],
                [],
                None,
            )
            .unwrap()
        };
        let reported = ReportedFindings::capped(
            vec![
                finding("Odd login", "bob", Severity::Low),
                finding("New admin", "carol", Severity::High),
            ],
            0,
        );
        let diff = crate::domain::findings::FindingsBaseline::default().diff(&reported, at);
        run.finish(RunStatus::Completed, at, None, None);
        run.findings = diff.findings;
        run.findings_summary = Some(diff.summary);
        Notification::for_finished_run(&run, at, None).remove(0)
    }

    #[test]
    fn completed_runs_carry_routable_findings_fields_in_every_format() {
        let n = completed_with_findings();
        let attributes = attribute_map(&n);
        assert_eq!(attributes["new_findings"], "2");
        assert_eq!(attributes["max_severity"], "high");
        assert_eq!(
            (
                attribute_type("new_findings"),
                attribute_type("max_severity")
            ),
            ("Number", "String")
        );
        let detail: Value = serde_json::from_str(&event_detail(&n).unwrap()).unwrap();
        assert_eq!(
            (
                detail["new_findings"].clone(),
                detail["max_severity"].clone()
            ),
            (json!(2), json!("high"))
        );
        assert_eq!(
            detail["findings"][0]["title"], "New admin",
            "most severe first"
        );
        let chat = chatbot_message(&n);
        let description = chat["content"]["description"].as_str().unwrap();
        assert!(
            description
                .contains("*Findings:* 2 new · 0 resolved · 0 ongoing — highest severity: high"),
            "{description}"
        );
        assert!(
            description.contains("• New: [high] New admin — carol"),
            "{description}"
        );
        let text = email_text(&n);
        assert!(
            text.starts_with("Investigation completed: Spray watch\nFindings: 2 new"),
            "{text}"
        );
        // Failures carry none of it.
        let mut failed = n.clone();
        failed.event = NotificationEvent::InvestigationFailed;
        failed.new_findings = None;
        failed.max_severity = None;
        assert!(!attribute_map(&failed).contains_key("new_findings"));
    }
}
