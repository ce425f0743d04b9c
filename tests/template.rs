//! `template.yaml` as operators rely on it: an ops topic (with an optional e-mail subscription), the alarms the
//! README's "Operating it" section explains, each publishing to that topic, and one dashboard; the service's own
//! metrics they name are exactly those the use cases record (`shared::telemetry`), in its namespace and with the
//! `Function` values the Lambda exporters set. (Linting is `.ci/lint.sh`: cfn-lint and `sam validate --lint`.)

use shared::domain::RunErrorKind;
use shared::telemetry;
use yaml_rust2::{Yaml, YamlLoader};

const TEMPLATE: &str = include_str!("../template.yaml");

fn template() -> Yaml {
    YamlLoader::load_from_str(TEMPLATE)
        .expect("template.yaml parses as YAML")
        .remove(0)
}

fn resources_of_type<'a>(t: &'a Yaml, kind: &str) -> Vec<(&'a str, &'a Yaml)> {
    t["Resources"]
        .as_hash()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(name, r)| (name.as_str().expect("a resource name"), r))
        .collect()
}

/// The text of a scalar, whatever CloudFormation tag it carries (`!Ref X` reads as `X`).
fn text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        _ => None,
    }
}

/// A metric: namespace, name and dimensions.
type Watched = (String, String, Vec<(String, String)>);

/// Every metric an alarm watches, directly or through metric math.
fn watched(alarm: &Yaml) -> Vec<Watched> {
    let dims = |d: &Yaml| -> Vec<(String, String)> {
        d.as_vec()
            .map(|v| {
                v.iter()
                    .filter_map(|d| Some((text(&d["Name"])?, text(&d["Value"])?)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let p = &alarm["Properties"];
    let mut found = Vec::new();
    if let (Some(ns), Some(name)) = (text(&p["Namespace"]), text(&p["MetricName"])) {
        found.push((ns, name, dims(&p["Dimensions"])));
    }
    for m in p["Metrics"].as_vec().into_iter().flatten() {
        let metric = &m["MetricStat"]["Metric"];
        if let (Some(ns), Some(name)) = (text(&metric["Namespace"]), text(&metric["MetricName"])) {
            found.push((ns, name, dims(&metric["Dimensions"])));
        }
    }
    found
}

/// Every error kind, so a new one must be placed in the failed-runs alarm (the match breaks the build otherwise).
fn every_error_kind() -> Vec<&'static str> {
    use RunErrorKind::*;
    [
        EngineUnavailable,
        EngineRejected,
        TimedOut,
        InvestigationFailed,
        InvalidResponse,
        InvalidSchedule,
    ]
    .into_iter()
    .map(|k| {
        match k {
            EngineUnavailable | EngineRejected | TimedOut | InvestigationFailed
            | InvalidResponse | InvalidSchedule => {}
        }
        k.as_str()
    })
    .collect()
}

#[test]
fn every_alarm_publishes_to_the_ops_topic_which_may_mail_someone() {
    let t = template();
    assert_eq!(
        resources_of_type(&t, "AWS::SNS::Topic")
            .iter()
            .filter(|(n, _)| *n == "OpsTopic")
            .count(),
        1
    );
    assert_eq!(
        text(&t["Parameters"]["AlarmEmail"]["Default"]).as_deref(),
        Some("")
    );
    let subs = resources_of_type(&t, "AWS::SNS::Subscription");
    assert_eq!(subs.len(), 1);
    assert_eq!(
        text(&subs[0].1["Condition"]).as_deref(),
        Some("HasAlarmEmail")
    );
    assert_eq!(
        text(&subs[0].1["Properties"]["Endpoint"]).as_deref(),
        Some("AlarmEmail")
    );

    let alarms = resources_of_type(&t, "AWS::CloudWatch::Alarm");
    assert!(
        alarms.len() >= 9,
        "{:?}",
        alarms.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    for (name, alarm) in &alarms {
        let actions: Vec<String> = alarm["Properties"]["AlarmActions"]
            .as_vec()
            .into_iter()
            .flatten()
            .filter_map(text)
            .collect();
        assert_eq!(actions, ["OpsTopic"], "{name}");
        assert!(
            alarm["Properties"]["AlarmDescription"].as_str().is_some(),
            "{name} says nothing"
        );
    }
}

#[test]
fn the_alarms_the_issue_asks_for_are_there() {
    let t = template();
    let alarms = resources_of_type(&t, "AWS::CloudWatch::Alarm");
    let watching = |ns: &str, metric: &str, dim: (&str, &str)| {
        alarms.iter().any(|(_, a)| {
            watched(a).iter().any(|(n, m, d)| {
                n == ns && m == metric && d.iter().any(|(k, v)| (k.as_str(), v.as_str()) == dim)
            })
        })
    };
    // Lambda errors of both ticks, and every function's throttles.
    assert!(watching(
        "AWS/Lambda",
        "Errors",
        ("FunctionName", "DispatcherFunction")
    ));
    assert!(watching(
        "AWS/Lambda",
        "Errors",
        ("FunctionName", "StatusCheckerFunction")
    ));
    for f in ["ApiFunction", "DispatcherFunction", "StatusCheckerFunction"] {
        assert!(
            watching("AWS/Lambda", "Throttles", ("FunctionName", f)),
            "{f}"
        );
    }
    // Any message in the dead-letter queue (both ticks' rules and functions dead-letter into it).
    let dlq = alarms
        .iter()
        .find(|(_, a)| {
            a["Properties"]["MetricName"].as_str() == Some("ApproximateNumberOfMessagesVisible")
        })
        .expect("a dead-letter alarm");
    assert_eq!(
        text(&dlq.1["Properties"]["Threshold"]).as_deref(),
        Some("0")
    );
    // The service's own metrics, by the names the use cases record.
    let ns = telemetry::NAMESPACE;
    assert!(watching(
        ns,
        telemetry::DISPATCH_LAG,
        ("Function", "dispatcher")
    ));
    let lag = alarms
        .iter()
        .find(|(_, a)| {
            text(&a["Properties"]["MetricName"]).as_deref() == Some(telemetry::DISPATCH_LAG)
        })
        .expect("lag alarm");
    assert_eq!(
        text(&lag.1["Properties"]["Threshold"]).as_deref(),
        Some("120")
    );
    assert_eq!(
        text(&lag.1["Properties"]["Statistic"]).as_deref(),
        Some("Maximum")
    );
    let backpressure = alarms
        .iter()
        .find(|(_, a)| {
            text(&a["Properties"]["MetricName"]).as_deref() == Some(telemetry::RUNS_DEFERRED)
        })
        .expect("sustained 429 alarm");
    assert!(backpressure.1["Properties"]["EvaluationPeriods"].as_i64() >= Some(3));
    // Failed runs above the threshold parameter, over every error kind some function records.
    let failed = alarms
        .iter()
        .find(|(_, a)| {
            watched(a)
                .iter()
                .any(|(_, m, _)| m == telemetry::RUNS_FAILED)
        })
        .expect("failed-runs alarm");
    assert_eq!(
        text(&failed.1["Properties"]["Threshold"]).as_deref(),
        Some("FailedRunsThreshold")
    );
    let kinds: Vec<String> = watched(failed.1)
        .into_iter()
        .flat_map(|(_, _, d)| {
            d.into_iter()
                .filter(|(k, _)| k == "error_kind")
                .map(|(_, v)| v)
        })
        .collect();
    for kind in every_error_kind() {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} is not in the failed-runs alarm"
        );
    }
    // Every metric an alarm names in our namespace is one the service records, from a function that exists.
    for (name, alarm) in &alarms {
        for (n, metric, dims) in watched(alarm) {
            if n == ns {
                assert!(
                    telemetry::ALL.contains(&metric.as_str()),
                    "{name}: {metric}"
                );
                for (k, v) in dims.iter().filter(|(k, _)| k == "Function") {
                    assert!(
                        ["dispatcher", "status-checker", "api"].contains(&v.as_str()),
                        "{name}: {k}={v}"
                    );
                }
            }
        }
    }
}

#[test]
fn one_dashboard_shows_lag_starts_outcomes_and_errors() {
    let t = template();
    let dashboards = resources_of_type(&t, "AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1);
    let body = text(&dashboards[0].1["Properties"]["DashboardBody"]).expect("a body");
    // The body is JSON once CloudFormation substitutes ${...}; any placeholder stands in for a string here.
    let substituted = regex_free_substitute(&body);
    let doc: serde_json::Value =
        serde_json::from_str(&substituted).expect("the dashboard body is JSON");
    let titles: Vec<&str> = doc["widgets"]
        .as_array()
        .expect("widgets")
        .iter()
        .filter_map(|w| w["properties"]["title"].as_str())
        .collect();
    for wanted in ["lag", "Starts", "Outcomes", "Errors"] {
        assert!(
            titles.iter().any(|t| t.contains(wanted)),
            "{wanted} missing from {titles:?}"
        );
    }
    for metric in [
        telemetry::DISPATCH_LAG,
        telemetry::RUNS_STARTED,
        telemetry::RUNS_COMPLETED,
        telemetry::RUNS_FAILED,
    ] {
        assert!(body.contains(metric), "{metric} is not on the dashboard");
    }
}

/// `${Name}` and `${Name.Attr}` replaced by a plain word, as CloudFormation would put a value there.
fn regex_free_substitute(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push_str("value");
                rest = &rest[start + end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}
