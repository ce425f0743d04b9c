//! The AWS adapters against moto (an AWS emulator on loopback): what SNS and EventBridge subscribers actually
//! receive, read back from SQS queues subscribed to the topics and targeted by a bus rule; and the engine
//! credential from Secrets Manager and SSM.
//!
//! Needs moto: `.ci/moto.sh` (port 5000), or `AWS_ENDPOINT_URL` naming another loopback port.

mod support;

use anyhow::{Context, Result, bail, ensure};
use aws_wiring::{SecretRef, SecretSource};
use chrono::{TimeZone, Utc};
use secrecy::ExposeSecret;
use serde_json::Value;
use shared::adapters::aws_notify::{
    EVENT_SOURCE, EventBridgeNotifier, SnsFormat, SnsNotifier, email_text,
};
use shared::adapters::engine_http::EngineCredential;
use shared::domain::{
    DisabledReason, Notification, NotificationEvent, RunError, RunErrorKind, RunStatus,
};
use shared::ports::Notifier;
use support::{drain, moto_sdk as sdk, queue, route, subscribe, topic, unique};

fn notification(event: NotificationEvent) -> Notification {
    let at = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
    let failed = event != NotificationEvent::InvestigationCompleted;
    Notification {
        id: format!("ntf_run_01JE_{}", event.as_str()).into(),
        event,
        owner: "alice".into(),
        schedule_id: "sch_01JE2Q7ZK4V3M8N6P5R9T0W1XY".into(),
        schedule_name: "Failed admin sign-ins".into(),
        run_id: "run_01JE".into(),
        session_id: Some("ses_42".into()),
        session_url: None,
        status: if failed {
            RunStatus::Failed
        } else {
            RunStatus::Completed
        },
        scheduled_for: at,
        started_at: Some(at),
        finished_at: Some(at + chrono::Duration::seconds(95)),
        duration_ms: Some(95_000),
        error: failed.then(|| RunError {
            kind: RunErrorKind::InvestigationFailed,
            message: "Sentinel timed out".into(),
        }),
        summary: (!failed).then(|| "2 risky sign-ins from 198.51.100.7".into()),
        disabled_reason: (event == NotificationEvent::ScheduleDisabled)
            .then_some(DisabledReason::RepeatedFailures { failures: 5 }),
        link: "/api/v1/schedules/sch_01JE2Q7ZK4V3M8N6P5R9T0W1XY/runs".into(),
        created_at: at + chrono::Duration::seconds(96),
        findings_summary: None,
        new_findings: None,
        max_severity: None,
        findings: Vec::new(),
        resolved: Vec::new(),
        window_start: Some(at - chrono::Duration::hours(24)),
        window_end: Some(at),
        gap: None,
        fill_link: None,
    }
}

#[tokio::test]
async fn email_topic_delivers_readable_text_with_filterable_attributes() -> Result<()> {
    let sdk = sdk().await?;
    let (sns, sqs) = (
        aws_sdk_sns::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
    );
    let topic = topic(&sns, "email").await?;
    // Given a raw subscriber for everything and one that only wants failures.
    let everything = queue(&sqs, "everything").await?;
    let failures_only = queue(&sqs, "failures").await?;
    subscribe(&sns, &topic, &everything, true, None).await?;
    subscribe(
        &sns,
        &topic,
        &failures_only,
        true,
        Some(r#"{"event": ["investigation-failed", "schedule-disabled"]}"#),
    )
    .await?;

    // When a completion and a failure are published.
    let notifier = SnsNotifier::new(sns.clone(), &topic, SnsFormat::Text);
    let completed = notification(NotificationEvent::InvestigationCompleted);
    let failed = notification(NotificationEvent::InvestigationFailed);
    notifier.publish(&completed).await?;
    notifier.publish(&failed).await?;

    // Then the catch-all subscriber got both, as readable text with the attributes.
    let got = drain(&sqs, &everything).await?;
    ensure!(got.len() == 2, "expected 2 messages, got {got:?}");
    let body = got[0].body().context("no body")?;
    assert_eq!(body, email_text(&completed));
    assert!(
        body.starts_with("Investigation completed: Failed admin sign-ins\n"),
        "{body}"
    );
    assert!(body.contains("Summary: 2 risky sign-ins from 198.51.100.7"));
    let attrs = got[0]
        .message_attributes()
        .context("raw delivery keeps the message attributes")?;
    let attr = |name: &str| {
        attrs
            .get(name)
            .and_then(|v| v.string_value())
            .map(str::to_owned)
    };
    assert_eq!(attr("event").as_deref(), Some("investigation-completed"));
    assert_eq!(attr("status").as_deref(), Some("completed"));
    assert_eq!(attr("owner").as_deref(), Some("alice"));
    assert!(
        got[1]
            .body()
            .unwrap_or("")
            .contains("Error (investigation_failed): Sentinel timed out")
    );

    // And the filtered subscriber got only the failure.
    let filtered = drain(&sqs, &failures_only).await?;
    ensure!(
        filtered.len() == 1,
        "the filter policy should pass only the failure: {filtered:?}"
    );
    assert!(
        filtered[0]
            .body()
            .unwrap_or("")
            .starts_with("Investigation failed: ")
    );
    Ok(())
}

#[tokio::test]
async fn chat_topic_delivers_a_chatbot_custom_notification() -> Result<()> {
    let sdk = sdk().await?;
    let (sns, sqs) = (
        aws_sdk_sns::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
    );
    let topic = topic(&sns, "chat").await?;
    // An envelope (non-raw) subscriber sees what an HTTPS endpoint such as AWS Chatbot gets.
    let q = queue(&sqs, "chat").await?;
    subscribe(&sns, &topic, &q, false, None).await?;

    SnsNotifier::new(sns, &topic, SnsFormat::Chatbot)
        .publish(&notification(NotificationEvent::ScheduleDisabled))
        .await?;

    let got = drain(&sqs, &q).await?;
    ensure!(got.len() == 1, "{got:?}");
    let envelope: Value = serde_json::from_str(got[0].body().context("no body")?)?;
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["TopicArn"], topic.as_str());
    assert_eq!(
        envelope["Subject"],
        "Schedule disabled after 5 failed runs in a row: Failed admin sign-ins"
    );
    assert_eq!(
        envelope["MessageAttributes"]["event"]["Value"],
        "schedule-disabled"
    );
    let chat: Value = serde_json::from_str(envelope["Message"].as_str().context("no Message")?)?;
    assert_eq!(chat["version"], "1.0");
    assert_eq!(chat["source"], "custom");
    assert_eq!(chat["content"]["textType"], "client-markdown");
    assert_eq!(
        chat["content"]["title"],
        ":no_entry: Schedule disabled after 5 failed runs in a row: Failed admin sign-ins"
    );
    assert!(
        chat["content"]["nextSteps"].to_string().contains("/resume"),
        "{}",
        chat["content"]["nextSteps"]
    );
    assert_eq!(chat["metadata"]["eventType"], "schedule-disabled");
    assert_eq!(
        chat["metadata"]["threadId"],
        "sch_01JE2Q7ZK4V3M8N6P5R9T0W1XY"
    );
    Ok(())
}

#[tokio::test]
async fn the_bus_carries_one_detail_type_per_event() -> Result<()> {
    let sdk = sdk().await?;
    let (events, sqs) = (
        aws_sdk_eventbridge::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
    );
    let bus = unique("bus");
    events.create_event_bus().name(&bus).send().await?;
    // Given a SOAR integration that only wants failures.
    let q = queue(&sqs, "soar").await?;
    route(
        &events,
        &bus,
        serde_json::json!({"source": [EVENT_SOURCE], "detail-type": ["Investigation Failed"]}),
        &q,
    )
    .await?;

    // When a completion and a failure are published.
    let notifier = EventBridgeNotifier::new(events.clone(), &bus);
    notifier
        .publish(&notification(NotificationEvent::InvestigationCompleted))
        .await?;
    let failed = notification(NotificationEvent::InvestigationFailed);
    notifier.publish(&failed).await?;

    // Then only the failure arrives, as an EventBridge event whose detail is the notification.
    let got = drain(&sqs, &q).await?;
    ensure!(
        got.len() == 1,
        "the rule should match only the failure: {got:?}"
    );
    let event: Value = serde_json::from_str(got[0].body().context("no body")?)?;
    assert_eq!(event["source"], EVENT_SOURCE);
    assert_eq!(event["detail-type"], "Investigation Failed");
    let detail: Notification = serde_json::from_value(event["detail"].clone())?;
    assert_eq!(detail, failed);
    Ok(())
}

#[tokio::test]
async fn a_bus_that_does_not_exist_is_an_error_not_a_silent_drop() -> Result<()> {
    let sdk = sdk().await?;
    let notifier = EventBridgeNotifier::new(
        aws_sdk_eventbridge::Client::new(&sdk),
        unique("missing-bus"),
    );
    match notifier
        .publish(&notification(NotificationEvent::InvestigationFailed))
        .await
    {
        Err(e) => {
            assert!(e.what.contains("EventBridge"), "{e}");
            // The SDK's error is kept as the cause, and the message tells it too.
            assert!(std::error::Error::source(&e).is_some(), "{e:?}");
            assert!(e.to_string().contains("PutEvents"), "{e}");
            Ok(())
        }
        Ok(()) => bail!("publishing to a missing bus must fail so the outbox retries"),
    }
}

#[tokio::test]
async fn the_engine_credential_comes_from_secrets_manager_or_ssm() -> Result<()> {
    let sdk = sdk().await?;
    let secret = unique("socmate-api-key");
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(&secret)
        .secret_string(r#"{"bearer_token": "tok-123"}"#)
        .send()
        .await?;
    let parameter = format!("/{}", unique("socmate/api-key"));
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name(&parameter)
        .value("key-456")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await?;

    let from_sm = aws_wiring::secrets::engine_credential(
        &sdk,
        &SecretRef {
            name: secret,
            source: SecretSource::SecretsManager,
        },
    )
    .await?;
    assert!(
        matches!(&from_sm, EngineCredential::Bearer(t) if t.expose_secret() == "tok-123"),
        "{from_sm:?}"
    );
    let from_ssm = aws_wiring::secrets::engine_credential(
        &sdk,
        &SecretRef {
            name: parameter,
            source: SecretSource::Ssm,
        },
    )
    .await?;
    assert!(
        matches!(&from_ssm, EngineCredential::ApiKey(k) if k.expose_secret() == "key-456"),
        "{from_ssm:?}"
    );

    let missing = aws_wiring::secrets::engine_credential(
        &sdk,
        &SecretRef {
            name: unique("nope"),
            source: SecretSource::SecretsManager,
        },
    )
    .await
    .unwrap_err();
    assert!(missing.to_string().contains("cannot read"), "{missing}");
    Ok(())
}

/// Three completed runs of one schedule with `notify_on: new_findings`, findings {A, B} → {A reworded, B} →
/// {B, C}, through the real outbox into SNS on moto: a subscription filtered on `new_findings > 0` receives the
/// first (everything is new) and the third (C), never the repeat; one filtered on new high or critical findings
/// receives only the third.
#[tokio::test]
async fn a_filter_policy_on_new_findings_receives_only_runs_with_something_new() -> Result<()> {
    use shared::adapters::memory::{
        FixedClock, MemoryScheduleStore, ScriptedEngine, analyst, daily_schedule,
    };
    use shared::domain::findings::Entity;
    use shared::domain::{NotifyOn, ReportedFinding, ReportedFindings, RunRetention, Severity};
    use shared::ports::{Clock, SessionState};
    use std::sync::Arc;

    let sdk = sdk().await?;
    let (sns, sqs) = (
        aws_sdk_sns::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
    );
    let topic = topic(&sns, "findings").await?;
    let anything_new = queue(&sqs, "anything-new").await?;
    let on_call = queue(&sqs, "on-call").await?;
    subscribe(
        &sns,
        &topic,
        &anything_new,
        true,
        Some(r#"{"new_findings": [{"numeric": [">", 0]}]}"#),
    )
    .await?;
    subscribe(
        &sns,
        &topic,
        &on_call,
        true,
        Some(r#"{"new_findings": [{"numeric": [">", 0]}], "max_severity": ["high", "critical"]}"#),
    )
    .await?;

    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 6, 1, 7, 0, 0).unwrap(),
    ));
    let engine = Arc::new(ScriptedEngine::new());
    let services = shared::services::Services::new(
        Arc::new(MemoryScheduleStore::new(RunRetention::default())),
        engine.clone(),
        Arc::new(SnsNotifier::new(sns.clone(), &topic, SnsFormat::Text)),
        clock.clone(),
        shared::config::ServiceConfig::default(),
    );
    let alice = analyst("alice");
    let mut input = daily_schedule("Spray watch", "08:00");
    input.notify_on = Some(NotifyOn::NewFindings);
    let id = services
        .create_schedule(&alice, input)
        .await?
        .schedule
        .id
        .to_string();
    let finding = |title: &str, entity: &str, severity| {
        ReportedFinding::bounded(
            title,
            severity,
            None,
            [Entity {
                kind: None,
                value: entity.into(),
            }],
            [],
            None,
        )
        .context("a titled finding")
    };
    let a = finding("Spray from 203.0.113.7", "203.0.113.7", Severity::Low)?;
    let a_reworded = finding(
        "Password spraying by 203.0.113.7",
        "203.0.113.7",
        Severity::Low,
    )?;
    let b = finding("Odd sign-in for bob", "bob@contoso.com", Severity::Low)?;
    let c = finding(
        "New global admin carol",
        "carol@contoso.com",
        Severity::Critical,
    )?;
    let mut sent = Vec::new();
    for findings in [vec![a, b.clone()], vec![a_reworded, b.clone()], vec![b, c]] {
        let run = services.run_now(&alice, &id).await?;
        engine.set_session(
            run.session_id.as_deref().context("started")?,
            Ok(SessionState::Completed {
                summary: None,
                finished_at: None,
                findings: ReportedFindings::capped(findings, 0),
            }),
        );
        clock.advance(chrono::Duration::minutes(10));
        sent.push(
            services
                .check_runs(clock.now(), None)
                .await?
                .notifications_sent,
        );
        clock.advance(chrono::Duration::hours(1));
    }
    assert_eq!(sent, [1, 0, 1], "the repeat is not published at all");

    let got = drain(&sqs, &anything_new).await?;
    ensure!(
        got.len() == 2,
        "expected the first and the third, got {got:?}"
    );
    let third = got[1].body().context("no body")?;
    assert!(
        third.contains("1 new · 1 resolved · 1 ongoing — highest severity: critical"),
        "{third}"
    );
    assert!(third.contains("New global admin carol"), "{third}");
    let attrs = got[1]
        .message_attributes()
        .context("raw delivery keeps attributes")?;
    let new = attrs
        .get("new_findings")
        .context("new_findings attribute")?;
    assert_eq!((new.data_type(), new.string_value()), ("Number", Some("1")));
    let on_call = drain(&sqs, &on_call).await?;
    ensure!(
        on_call.len() == 1,
        "only the run with a new critical finding, got {on_call:?}"
    );
    assert_eq!(on_call[0].body(), got[1].body());
    Ok(())
}
