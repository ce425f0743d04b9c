//! The three Lambda handlers together, on moto (DynamoDB, SNS, EventBridge, SQS on loopback) and a loopback sandbox
//! engine, each with `Services` built by [`aws_wiring::build_services`] from the environment its function gets in
//! `template.yaml`:
//!
//! - an API Gateway request from `events/` creates a schedule → the dispatcher's tick claims and starts it → the
//!   status checker's tick records the completion → the email topic's SQS subscriber and the queue behind the bus
//!   rule receive exactly what real subscribers would;
//! - two dispatcher invocations at once (two Lambda containers) over a burst of due schedules claim each occurrence
//!   exactly once and lose none.
//!
//! Needs moto: `.ci/moto.sh` (port 5000), or `AWS_ENDPOINT_URL` naming another loopback port.

mod support;

use anyhow::{Context as _, Result, bail, ensure};
use api::lambda_auth::JwtClaimsAuth;
use aws_config::SdkConfig;
use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use aws_wiring::LambdaConfig;
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use shared::adapters::aws_notify::EVENT_SOURCE;
use shared::adapters::dynamodb::{DynamoDbScheduleStore, create_table};
use shared::adapters::engine_http::{EngineConfig, SocmateEngine};
use shared::adapters::sandbox_engine::{SandboxConfig, SandboxEngine, SandboxHandle};
use shared::domain::{RunStatus, Schedule, ScheduleId};
use shared::ports::{InvestigationEngine, ScheduleStore, SessionState};
use shared::services::Services;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use support::{drain, moto_endpoint, moto_sdk, queue, route, sdk_for, subscribe, topic, unique};
use tower::ServiceExt;

/// The user behind the claims in `events/api/*.json`, and the schedule id those fixtures address.
const ALICE: &str = "3f6c2a1e-9b7d-4c55-8e2a-1d4b6f0c9a77";
const FIXTURE_SCHEDULE_ID: &str = "sch_01JE2Q7ZK4V3M8N6P5R9T0W1XY";
/// The schedule `events/api/create-schedule.json` creates.
const SCHEDULE_NAME: &str = "Failed admin sign-ins";
/// `MAX_TICK_SECS`: what bounds a tick whose invocation has no usable deadline.
const MAX_TICK: std::time::Duration = aws_wiring::config::DEFAULT_MAX_TICK;

// ---------------------------------------------------------------------------------------------------------------
// moto, queues and fixtures

async fn fresh_table(sdk: &SdkConfig) -> Result<String> {
    let table = unique("flow");
    create_table(&aws_sdk_dynamodb::Client::new(sdk), &table).await?;
    Ok(table)
}

/// Services exactly as a function's `main` builds them, from the variables `template.yaml` gives it.
async fn lambda_services(sdk: &SdkConfig, variables: &[(&str, &str)]) -> Result<Services> {
    let variables: HashMap<String, String> = variables
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = LambdaConfig::from_lookup(|name| variables.get(name).cloned())?;
    Ok(aws_wiring::build_services(&config, sdk).await?)
}

fn sandbox(config: SandboxConfig) -> Result<SandboxHandle> {
    Ok(SandboxEngine::spawn(config, "127.0.0.1:0".parse()?)?)
}

fn fixture(path: &str) -> Result<String> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(path);
    std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))
}

/// A tick from `events/` as the Lambda runtime hands it over (a local context: no deadline).
/// `events/with-schedule.sh <id> events/<path>`'s output.
fn with_schedule(id: &str, path: &str) -> Result<String> {
    let events = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let out = std::process::Command::new("sh")
        .arg(events.join("with-schedule.sh"))
        .arg(id)
        .arg(events.join(path))
        .output()?;
    ensure!(
        out.status.success(),
        "with-schedule.sh {id} {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    ensure!(
        text.contains(id) && !text.contains(FIXTURE_SCHEDULE_ID),
        "with-schedule.sh left the fixture's id in {path}"
    );
    Ok(text)
}

fn tick(path: &str) -> Result<LambdaEvent<CloudWatchEvent>> {
    let event: CloudWatchEvent = serde_json::from_str(&fixture(path)?)
        .with_context(|| format!("{path} is not an EventBridge scheduled event"))?;
    Ok(LambdaEvent::new(event, Context::default()))
}

/// Sends `events/api/{file}.json` through lambda_http's conversion and the API router, with the fixtures'
/// schedule id replaced by `schedule_id` when given, by `events/with-schedule.sh` (the one-liner the README
/// shows). Returns the status and the JSON body.
async fn api_call(
    router: &axum::Router,
    file: &str,
    schedule_id: Option<&str>,
) -> Result<(u16, Value)> {
    let text = match schedule_id {
        None => fixture(&format!("api/{file}.json"))?,
        Some(id) => with_schedule(id, &format!("api/{file}.json"))?,
    };
    let request = lambda_http::request::from_str(&text)
        .with_context(|| format!("{file}.json is not an API Gateway request"))?;
    let response = router
        .clone()
        .oneshot(request.map(axum::body::Body::new))
        .await?;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).with_context(|| format!("{file}: body is not JSON"))?
    };
    Ok((status, body))
}

// ---------------------------------------------------------------------------------------------------------------
// One schedule through the three handlers

#[tokio::test]
async fn an_api_request_becomes_a_run_a_completion_and_a_notification() -> Result<()> {
    let sdk = moto_sdk().await?;
    let (sns, events, sqs) = (
        aws_sdk_sns::Client::new(&sdk),
        aws_sdk_eventbridge::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
    );
    // Given: the table, the email topic with a raw subscriber (what an email-like consumer filters on) and an
    // envelope subscriber (which also carries the subject), the bus with a rule for our events → a queue, and a
    // sandbox engine whose sessions complete 200 ms after they start.
    let table = fresh_table(&sdk).await?;
    let topic = topic(&sns, "email").await?;
    let mail_raw = queue(&sqs, "mail-raw").await?;
    let mail_envelope = queue(&sqs, "mail-envelope").await?;
    subscribe(&sns, &topic, &mail_raw, true, None).await?;
    subscribe(&sns, &topic, &mail_envelope, false, None).await?;
    let bus = unique("bus");
    events.create_event_bus().name(&bus).send().await?;
    let soar = queue(&sqs, "soar").await?;
    route(
        &events,
        &bus,
        serde_json::json!({ "source": [EVENT_SOURCE] }),
        &soar,
    )
    .await?;
    let engine = sandbox(SandboxConfig {
        run_time: std::time::Duration::from_millis(200),
        ..SandboxConfig::default()
    })?;
    let engine_url = engine.base_url();

    // The three functions, each with its own environment from template.yaml: only the status checker publishes.
    let base = [
        ("TABLE_NAME", table.as_str()),
        ("ENGINE_URL", engine_url.as_str()),
    ];
    let api_services = lambda_services(&sdk, &base).await?;
    let dispatcher_services = lambda_services(&sdk, &base).await?;
    let mut checker_env = base.to_vec();
    checker_env.extend([
        ("EMAIL_TOPIC_ARN", topic.as_str()),
        ("EVENT_BUS_NAME", bus.as_str()),
    ]);
    let checker_services = lambda_services(&sdk, &checker_env).await?;
    let router = api::router(api_services, Arc::new(JwtClaimsAuth::default()));

    // When Alice creates the schedule through the API Gateway request.
    let (status, created) = api_call(&router, "create-schedule", None).await?;
    ensure!(status == 201, "create: {status} {created}");
    assert_eq!(
        created["owner"], ALICE,
        "the owner comes from the JWT claims"
    );
    assert_eq!(created["name"], SCHEDULE_NAME);
    let id = created["id"].as_str().context("no schedule id")?.to_owned();

    // And its 08:00 comes: the handlers read the system clock (as on Lambda), so the occurrence is moved to a
    // second ago in the table, through the store's own conditional write, instead of waiting for 08:00.
    let store = DynamoDbScheduleStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        table.clone(),
        shared::domain::RunRetention::default(),
    );
    let mut schedule = store
        .get_schedule(&ScheduleId::from(id.as_str()))
        .await?
        .context("the created schedule is not in the table")?;
    let planned = schedule
        .next_run_at
        .context("an active schedule has a next run")?;
    ensure!(planned > Utc::now(), "a new daily schedule is due later");
    let now = Utc::now();
    let due_at = now - Duration::seconds(1);
    let read_version = schedule.version;
    schedule.next_run_at = Some(due_at);
    schedule.touch(now);
    ensure!(
        store
            .update_schedule(&schedule, read_version)
            .await?
            .applied(),
        "moving the occurrence"
    );

    // Then the dispatcher's minute tick claims and starts it.
    let report = dispatcher::handle(
        &dispatcher_services,
        MAX_TICK,
        tick("dispatcher/tick.json")?,
    )
    .await?;
    assert_eq!(
        (
            report.claimed,
            report.started,
            report.conflicts,
            report.failed,
            report.errors
        ),
        (1, 1, 0, 0, 0),
        "{report:?}"
    );
    let (status, runs) = api_call(&router, "list-runs", Some(&id)).await?;
    ensure!(status == 200, "list runs: {status} {runs}");
    let items = runs["items"].as_array().context("no items")?;
    ensure!(items.len() == 1, "one run: {runs}");
    let run = &items[0];
    assert_eq!(run["status"], "running");
    assert_eq!(run["trigger"], "scheduled");
    assert_eq!(
        run["scheduled_for"]
            .as_str()
            .map(str::parse::<DateTime<Utc>>)
            .transpose()?,
        Some(due_at),
        "the run is for the occurrence that came due"
    );
    let run_id = run["run_id"].as_str().context("no run id")?.to_owned();
    let session_id = run["session_id"]
        .as_str()
        .context("a running run has its session")?
        .to_owned();
    let next = store
        .get_schedule(&ScheduleId::from(id.as_str()))
        .await?
        .context("schedule gone")?;
    ensure!(
        next.next_run_at.is_some_and(|t| t > now),
        "the schedule advanced past now: {:?}",
        next.next_run_at
    );

    // When the sandbox session ends (polled through the real engine adapter, with a deadline).
    let poll = SocmateEngine::new(EngineConfig::new(engine_url.clone()))?;
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match poll.session(&session_id).await? {
            SessionState::Active if Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            SessionState::Active => bail!("session {session_id} still active after 10 s"),
            SessionState::Completed { .. } => break,
            other => bail!("session {session_id} ended as {other:?}"),
        }
    }

    // Then the status checker's tick records the completion and publishes it.
    let report = status_checker::handle(
        &checker_services,
        MAX_TICK,
        tick("status-checker/tick.json")?,
    )
    .await?;
    assert_eq!(
        (
            report.checked,
            report.completed,
            report.failed,
            report.poll_errors,
            report.notifications_sent
        ),
        (1, 1, 0, 0, 1),
        "{report:?}"
    );
    let (_, runs) = api_call(&router, "list-runs", Some(&id)).await?;
    let run = &runs["items"][0];
    assert_eq!(run["run_id"], run_id.as_str());
    assert_eq!(run["status"], "completed", "{run}");
    assert!(
        run["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("[sandbox] Investigated: ")),
        "{run}"
    );
    assert!(
        run["finished_at"].is_string() && run["duration_ms"].is_number(),
        "{run}"
    );

    // And the email topic's raw subscriber got the readable text with filterable attributes.
    let mail = drain(&sqs, &mail_raw).await?;
    ensure!(mail.len() == 1, "one email notification: {mail:?}");
    let body = mail[0].body().context("no body")?;
    assert!(
        body.starts_with(&format!("Investigation completed: {SCHEDULE_NAME}\n")),
        "{body}"
    );
    assert!(body.contains(&run_id), "the body names the run: {body}");
    assert!(body.contains("[sandbox] Investigated: "), "{body}");
    let attrs = mail[0]
        .message_attributes()
        .context("raw delivery keeps the message attributes")?;
    let attr = |name: &str| attrs.get(name).and_then(|v| v.string_value());
    assert_eq!(attr("event"), Some("investigation-completed"));
    assert_eq!(attr("status"), Some("completed"));
    assert_eq!(attr("owner"), Some(ALICE));
    // The envelope subscriber (what an email endpoint renders) carries the subject.
    let envelopes = drain(&sqs, &mail_envelope).await?;
    ensure!(envelopes.len() == 1, "{envelopes:?}");
    let envelope: Value = serde_json::from_str(envelopes[0].body().context("no body")?)?;
    assert_eq!(
        envelope["Subject"],
        format!("Investigation completed: {SCHEDULE_NAME}")
    );
    assert_eq!(envelope["Message"], body);

    // And the bus delivered the integration event to the rule's queue.
    let delivered = drain(&sqs, &soar).await?;
    ensure!(delivered.len() == 1, "one integration event: {delivered:?}");
    let event: Value = serde_json::from_str(delivered[0].body().context("no body")?)?;
    assert_eq!(event["source"], EVENT_SOURCE);
    assert_eq!(event["detail-type"], "Investigation Completed");
    assert_eq!(event["detail"]["event"], "investigation-completed");
    assert_eq!(event["detail"]["run_id"], run_id.as_str());
    assert_eq!(event["detail"]["schedule_id"], id.as_str());
    assert_eq!(event["detail"]["session_id"], session_id.as_str());
    assert_eq!(event["detail"]["owner"], ALICE);

    // And the API lists the stored notification for Alice.
    let (status, listed) = api_call(&router, "list-notifications", None).await?;
    ensure!(status == 200, "list notifications: {status} {listed}");
    assert_eq!(listed["items"][0]["run_id"], run_id.as_str(), "{listed}");
    assert_eq!(listed["items"][0]["event"], "investigation-completed");

    // And the outbox is empty: another tick publishes nothing twice.
    let again = status_checker::handle(
        &checker_services,
        MAX_TICK,
        tick("status-checker/tick.json")?,
    )
    .await?;
    assert_eq!(
        (again.checked, again.notifications_sent),
        (0, 0),
        "{again:?}"
    );
    ensure!(
        drain(&sqs, &mail_raw).await?.is_empty(),
        "no second email after a quiet tick"
    );
    engine.shutdown().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Two dispatchers over the same burst

/// How many schedules come due at once: `AWS_FLOW_BURST`, default 1,000. On stock moto this was infeasible
/// (every `TransactWriteItems` deep-copied the whole table); `.ci/moto_serial.py` rolls back only the items a
/// transaction names, and the two dispatchers take about 11 s over 1,000 schedules on a 2-core machine.
fn burst() -> usize {
    std::env::var("AWS_FLOW_BURST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

fn burst_id(i: usize) -> String {
    format!("sch_burst{i:05}")
}

/// The `i`-th schedule of the burst: the store contract's daily fixture, due 30 s ago.
fn due_schedule(i: usize, now: DateTime<Utc>) -> Schedule {
    let mut s = tests::store_contract::schedule(
        &burst_id(i),
        &format!("user{}", i % 50),
        now - Duration::days(1),
    );
    s.next_run_at = Some(now - Duration::seconds(30));
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_dispatchers_at_once_claim_each_occurrence_exactly_once() -> Result<()> {
    // Given a burst of active schedules, all due, in a fresh table (on moto, one request at a time: see
    // `serialized`), and a sandbox engine that answers at once and keeps every session running.
    let burst = burst();
    // moto serves one request at a time (.ci/moto_serial.py), as DynamoDB applies each atomically; the two
    // dispatchers' requests still interleave, and only the conditions decide who wins.
    let moto = moto_endpoint();
    let sdk = sdk_for(&moto).await?;
    let table = fresh_table(&sdk).await?;
    let store = DynamoDbScheduleStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        table.clone(),
        shared::domain::RunRetention::default(),
    );
    let now = Utc::now();
    let seeding = Instant::now();
    let inserted: Vec<Result<(), _>> = futures::stream::iter(0..burst)
        .map(|i| {
            let store = &store;
            async move { store.insert_schedule(&due_schedule(i, now)).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    inserted.into_iter().collect::<Result<Vec<()>, _>>()?;
    let seeding = seeding.elapsed();
    let engine = sandbox(SandboxConfig {
        run_time: std::time::Duration::from_secs(3600),
        ..SandboxConfig::default()
    })?;
    let engine_url = engine.base_url();

    // Two Lambda containers: each with its own SDK clients and services, on the same table and engine. moto serves
    // one request at a time with a listen backlog of 128, so the two keep their concurrency under that together
    // (against DynamoDB the default of 128 each is fine); requests beyond the backlog would time out as errors.
    let env = [
        ("TABLE_NAME", table.as_str()),
        ("ENGINE_URL", engine_url.as_str()),
        ("DISPATCH_CONCURRENCY", "32"),
    ];
    let first = lambda_services(&sdk_for(&moto).await?, &env).await?;
    let second = lambda_services(&sdk_for(&moto).await?, &env).await?;

    // When the same minute's tick reaches both at once.
    let dispatching = Instant::now();
    let (a, b) = tokio::join!(
        dispatcher::handle(&first, MAX_TICK, tick("dispatcher/tick.json")?),
        dispatcher::handle(&second, MAX_TICK, tick("dispatcher/tick.json")?),
    );
    let (a, b) = (a?, b?);
    let dispatching = dispatching.elapsed();
    eprintln!(
        "seeded {burst} schedules in {seeding:?}; two dispatchers took {dispatching:?}\n  first:  {a:?}\n  second: {b:?}"
    );

    // Then every occurrence was claimed once and started once, between them.
    assert_eq!(a.claimed + b.claimed, burst as u64, "{a:?} {b:?}");
    assert_eq!(a.started + b.started, burst as u64, "{a:?} {b:?}");
    // They really overlapped: both went for the same occurrences, and the conditional writes turned the losers'
    // attempts into conflicts (how the wins split depends on scheduling).
    assert!(
        a.conflicts + b.conflicts > 0,
        "the invocations did not race: {a:?} {b:?}"
    );
    for r in [&a, &b] {
        assert_eq!(
            (r.skipped, r.failed, r.deferred, r.errors),
            (0, 0, 0, 0),
            "{r:?}"
        );
    }

    // And the table agrees: one running run per schedule, with its own session, and every schedule advanced.
    let checks: Vec<Result<(String, String)>> = futures::stream::iter(0..burst)
        .map(|i| {
            let store = &store;
            async move {
                let id = ScheduleId::from(burst_id(i));
                let runs = store.list_runs(&id, 10, None).await?;
                ensure!(runs.len() == 1, "{id}: {} runs", runs.len());
                let run = &runs[0];
                ensure!(
                    run.status == RunStatus::Running,
                    "{id}: run {} is {:?}",
                    run.run_id,
                    run.status
                );
                let schedule = store.get_schedule(&id).await?.context("schedule gone")?;
                ensure!(
                    schedule.next_run_at.is_some_and(|t| t > now),
                    "{id} did not advance: {:?}",
                    schedule.next_run_at
                );
                ensure!(
                    schedule.runs_in_flight == 1,
                    "{id}: {} in flight",
                    schedule.runs_in_flight
                );
                let session = run
                    .session_id
                    .clone()
                    .context("running without a session")?;
                Ok((run.run_id.to_string(), session))
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let runs = checks.into_iter().collect::<Result<Vec<_>>>()?;
    let run_ids: HashSet<&str> = runs.iter().map(|(r, _)| r.as_str()).collect();
    let sessions: HashSet<&str> = runs.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(run_ids.len(), burst, "one distinct run per occurrence");
    // The sandbox opens one session per idempotency key (the run id), so as many distinct sessions as runs
    // means the engine saw that many distinct keys: no occurrence was started under two runs.
    assert_eq!(sessions.len(), burst, "one distinct engine session per run");

    // And a later tick finds nothing left to claim.
    let later = dispatcher::handle(&first, MAX_TICK, tick("dispatcher/tick.json")?).await?;
    assert_eq!((later.claimed, later.started), (0, 0), "{later:?}");
    engine.shutdown().await;
    Ok(())
}
