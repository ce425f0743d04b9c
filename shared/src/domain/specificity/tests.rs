//! The specificity check's tests: detection per kind, the validity boundary, the score, suggestions, coverage
//! warnings and the JSON shape.

use super::scoring::human_duration;
use super::*;
use crate::domain::timing::Frequency;

const DESIGN_EXAMPLE: &str =
    "failed sign-ins in the last 24 hours with more than 5 attempts from the same IP";

fn kinds_and_values(v: &QueryValidation) -> Vec<(FindingKind, String)> {
    v.dimensions
        .entities
        .items
        .iter()
        .map(|f| (f.kind, f.value.clone()))
        .collect()
}

fn has(items: &[Finding], kind: FindingKind, value: &str) -> bool {
    items.iter().any(|f| f.kind == kind && f.value == value)
}

#[test]
fn design_example_is_valid_with_every_dimension_found() {
    let v = validate_query(DESIGN_EXAMPLE, None);
    assert!(v.valid, "{v:#?}");
    assert!(v.missing.is_empty());
    assert!(v.dimensions.entities.found);
    assert!(v.dimensions.time_scope.found);
    assert!(v.dimensions.conditions.found);
    // Entities only by type (weak), but the window and the condition are concrete.
    assert_eq!(v.dimensions.entities.evidence, Evidence::Weak);
    assert_eq!(
        v.score,
        ENTITY_WEAK_POINTS + TIME_STRONG_POINTS + CONDITION_STRONG_POINTS
    );
    let sign_ins = v
        .dimensions
        .entities
        .items
        .iter()
        .find(|f| f.value == "sign-ins")
        .unwrap();
    assert_eq!(sign_ins.table, Some("SigninLogs"));
    assert!(has(
        &v.dimensions.entities.items,
        FindingKind::EntityType,
        "IP"
    ));
    assert_eq!(v.time_window.as_ref().map(|w| w.seconds), Some(86_400));
    assert_eq!(v.dimensions.time_scope.window_hours, Some(24.0));
    assert!(has(
        &v.dimensions.conditions.items,
        FindingKind::Comparison,
        "more than 5"
    ));
    // Items come in query order.
    let offsets: Vec<_> = v
        .dimensions
        .entities
        .items
        .iter()
        .map(|f| f.offset)
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn vague_queries_are_invalid_with_suggestions() {
    for q in [
        "show me bad stuff",
        "anything suspicious?",
        "",
        "   \n\t ",
        "what happened",
    ] {
        let v = validate_query(q, None);
        assert!(!v.valid, "{q:?}");
        assert_eq!(v.score, 0, "{q:?}: {v:#?}");
        assert_eq!(
            v.missing,
            vec![
                Dimension::Entities,
                Dimension::TimeScope,
                Dimension::Conditions
            ],
            "{q:?}"
        );
        assert!(
            v.suggestions
                .iter()
                .any(|s| s.starts_with("Add a time window")),
            "{q:?}"
        );
        assert!(
            v.suggestions
                .iter()
                .any(|s| s.starts_with("Name what to look at")),
            "{q:?}"
        );
        assert!(
            v.suggestions
                .iter()
                .any(|s| s.starts_with("Add a measurable condition")),
            "{q:?}"
        );
    }
    let empty = validate_query("  ", None);
    assert!(empty.suggestions[0].starts_with("Describe what to investigate"));
}

#[test]
fn a_single_dimension_is_never_enough() {
    for q in [
        "failed sign-ins",           // weak entity only
        "in the last 24 hours",      // window only
        "more than 5",               // condition only
        "10.0.0.5",                  // concrete entity only
        "anything unusual recently", // vague time only
    ] {
        let v = validate_query(q, None);
        assert!(!v.valid, "{q:?}: {v:#?}");
        assert_eq!(v.missing.len(), 2, "{q:?}: {v:#?}");
    }
}

#[test]
fn validity_boundary() {
    // (query, score, valid)
    let cases = [
        // entity type + window = 50: needs a condition or a concrete entity.
        ("sign-ins in the last 24 hours", 50, false),
        // + weak condition = 65.
        ("count sign-ins in the last 24 hours", 65, true),
        // concrete entity + window = 70.
        ("activity of 10.0.0.5 in the last 24 hours", 70, true),
        // window + condition, no entity = 60: enough points, but about nothing.
        ("more than 5 in the last 24 hours", 60, false),
        // concrete entity + condition, no window = 70: a schedule must know its period.
        ("more than 5 failures from 10.0.0.5", 70, false),
        // vague time does not count as a window.
        ("more than 5 failures from 10.0.0.5 recently", 85, false),
        // everything concrete = 100.
        (
            "SigninLogs for alice@contoso.com in the last 7 days with more than 5 failures",
            100,
            true,
        ),
    ];
    for (q, score, valid) in cases {
        let v = validate_query(q, None);
        assert_eq!((v.score, v.valid), (score, valid), "{q:?}: {v:#?}");
    }
}

#[test]
fn score_rises_monotonically_as_dimensions_are_added() {
    let steps = [
        "sign-ins",
        "sign-ins in the last 24 hours",
        "sign-ins in the last 24 hours with more than 5 attempts",
        "sign-ins for alice@contoso.com in the last 24 hours with more than 5 attempts",
    ];
    let scores: Vec<u8> = steps
        .iter()
        .map(|q| validate_query(q, None).score)
        .collect();
    assert!(scores.windows(2).all(|w| w[0] < w[1]), "{scores:?}");
    assert_eq!(scores.last(), Some(&100));
}

#[test]
fn each_entity_kind_is_detected_with_its_value() {
    use FindingKind::*;
    let cases: &[(&str, FindingKind, &str)] = &[
        ("sign-ins from 203.0.113.7", Ipv4, "203.0.113.7"),
        ("traffic from 2001:db8::1 today", Ipv6, "2001:db8::1"),
        (
            "connections to fe80::1ff:fe23:4567:890a",
            Ipv6,
            "fe80::1ff:fe23:4567:890a",
        ),
        ("logons from 10.0.0.0/8", Cidr, "10.0.0.0/8"),
        ("traffic from 2001:db8::/32", Cidr, "2001:db8::/32"),
        ("activity for alice@contoso.com", Upn, "alice@contoso.com"),
        ("logons by CONTOSO\\alice", DomainAccount, "CONTOSO\\alice"),
        ("changes by user 'svc_backup'", Account, "svc_backup"),
        (
            "logons on web01.corp.contoso.com",
            Hostname,
            "web01.corp.contoso.com",
        ),
        ("processes on host WEB01", Hostname, "WEB01"),
        ("processes on device LAPTOP-7F3K", Hostname, "LAPTOP-7F3K"),
        ("DNS lookups of evil-domain.ru", Domain, "evil-domain.ru"),
        ("connections to contoso.com", Domain, "contoso.com"),
        ("executions of powershell.exe", FileName, "powershell.exe"),
        (
            "runs of C:\\Windows\\Temp\\x.exe",
            FilePath,
            "C:\\Windows\\Temp\\x.exe",
        ),
        (
            "file hash 44d88612fea8a8f36de82e1278abb02f",
            Md5,
            "44d88612fea8a8f36de82e1278abb02f",
        ),
        (
            "hash 3395856ce81f2b7382dee72602f798b642f14140",
            Sha1,
            "3395856ce81f2b7382dee72602f798b642f14140",
        ),
        (
            "hash 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
            Sha256,
            "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
        ),
        (
            "object 0f8fad5b-d9cb-469f-a165-70867728950e",
            Guid,
            "0f8fad5b-d9cb-469f-a165-70867728950e",
        ),
        ("SigninLogs failures", Table, "SigninLogs"),
        (
            "aadnoninteractiveusersigninlogs rows",
            Table,
            "AADNonInteractiveUserSignInLogs",
        ),
        ("query SecurityEvent", Table, "SecurityEvent"),
        ("AuditLogs changes", Table, "AuditLogs"),
        ("OfficeActivity downloads", Table, "OfficeActivity"),
        ("AzureActivity deletes", Table, "AzureActivity"),
        ("DeviceProcessEvents", Table, "DeviceProcessEvents"),
        ("DeviceNetworkEvents", Table, "DeviceNetworkEvents"),
        ("DeviceLogonEvents", Table, "DeviceLogonEvents"),
        ("DeviceFileEvents", Table, "DeviceFileEvents"),
        ("CommonSecurityLog denies", Table, "CommonSecurityLog"),
        ("Syslog errors", Table, "Syslog"),
        ("SecurityAlert", Table, "SecurityAlert"),
        ("SecurityIncident", Table, "SecurityIncident"),
        (
            "ThreatIntelligenceIndicator matches",
            Table,
            "ThreatIntelligenceIndicator",
        ),
        ("AzureDiagnostics", Table, "AzureDiagnostics"),
        ("W3CIISLog 500s", Table, "W3CIISLog"),
        ("MyFirewall_CL denies", Table, "MyFirewall_CL"),
        ("event ID 4625", EventId, "4625"),
        ("EventID == 4740", EventId, "4740"),
        ("4625 failures on servers", EventId, "4625"),
        ("brute force T1110", MitreTechnique, "T1110"),
        ("cloud accounts T1078.004", MitreTechnique, "T1078.004"),
        ("from the same IP", EntityType, "IP"),
        ("per user account", EntityType, "user account"),
        ("on hosts", EntityType, "hosts"),
    ];
    for (q, kind, value) in cases {
        let v = validate_query(q, None);
        assert!(
            has(&v.dimensions.entities.items, *kind, value),
            "{q:?}: expected {kind:?} {value:?}, got {:?}",
            kinds_and_values(&v)
        );
        let expected_weak = *kind == EntityType;
        let f = v
            .dimensions
            .entities
            .items
            .iter()
            .find(|f| f.kind == *kind)
            .unwrap();
        assert_eq!(f.weak, expected_weak, "{q:?}");
    }
}

#[test]
fn concrete_entities_are_not_double_counted_as_types_or_domains() {
    let v = validate_query(
        "sign-ins by alice@contoso.com on web01.contoso.com via cmd.exe",
        None,
    );
    let kinds = kinds_and_values(&v);
    assert_eq!(
        kinds,
        vec![
            (FindingKind::EntityType, "sign-ins".to_owned()),
            (FindingKind::Upn, "alice@contoso.com".to_owned()),
            (FindingKind::Hostname, "web01.contoso.com".to_owned()),
            (FindingKind::FileName, "cmd.exe".to_owned()),
        ]
    );
    // The event ID is an entity, not the condition "4625 failures".
    let v = validate_query("event ID 4625 failures", None);
    assert!(has(
        &v.dimensions.entities.items,
        FindingKind::EventId,
        "4625"
    ));
    assert!(v.dimensions.conditions.items.is_empty(), "{v:#?}");
    // A list of event IDs.
    let v = validate_query("event IDs 4624, 4625 and 4648", None);
    let ids: Vec<_> = v
        .dimensions
        .entities
        .items
        .iter()
        .map(|f| f.value.as_str())
        .collect();
    assert_eq!(ids, ["4624", "4625", "4648"]);
}

#[test]
fn things_that_look_like_entities_but_are_not() {
    for q in [
        "e.g. i.e. etc.",
        "at 10:30:00 UTC",
        "sign-ins.Then more",
        "999.1.1.1",
        "the hostile takeover",
        "a user account",
    ] {
        let v = validate_query(q, None);
        let concrete: Vec<_> = v
            .dimensions
            .entities
            .items
            .iter()
            .filter(|f| !f.weak)
            .collect();
        assert!(concrete.is_empty(), "{q:?}: {concrete:?}");
    }
    // A path is not DOMAIN\user.
    let v = validate_query("C:\\Windows\\System32\\evil.dll loaded", None);
    assert!(
        !v.dimensions
            .entities
            .items
            .iter()
            .any(|f| f.kind == FindingKind::DomainAccount),
        "{v:#?}"
    );
}

#[test]
fn time_windows_are_parsed_to_their_length() {
    let cases: &[(&str, u64, FindingKind)] = &[
        ("in the last 24 hours", 86_400, FindingKind::RelativeWindow),
        (
            "over the past 7 days",
            7 * 86_400,
            FindingKind::RelativeWindow,
        ),
        (
            "during the previous week",
            7 * 86_400,
            FindingKind::RelativeWindow,
        ),
        ("in the last hour", 3_600, FindingKind::RelativeWindow),
        ("in the last 30 minutes", 1_800, FindingKind::RelativeWindow),
        ("in the last 24h", 86_400, FindingKind::RelativeWindow),
        (
            "past twenty-four hours",
            86_400,
            FindingKind::RelativeWindow,
        ),
        ("last two weeks", 14 * 86_400, FindingKind::RelativeWindow),
        ("last month", 30 * 86_400, FindingKind::RelativeWindow),
        (
            "with a lookback of 3 days",
            3 * 86_400,
            FindingKind::RelativeWindow,
        ),
        ("since 6 hours ago", 6 * 3_600, FindingKind::RelativeWindow),
        ("since yesterday", 2 * 86_400, FindingKind::CalendarWindow),
        ("today", 86_400, FindingKind::CalendarWindow),
        ("this week", 7 * 86_400, FindingKind::CalendarWindow),
        ("P7D", 7 * 86_400, FindingKind::Iso8601Duration),
        ("PT24H", 86_400, FindingKind::Iso8601Duration),
        ("PT30M", 1_800, FindingKind::Iso8601Duration),
        ("P1DT12H", 36 * 3_600, FindingKind::Iso8601Duration),
        ("where TimeGenerated > ago(1d)", 86_400, FindingKind::KqlAgo),
        ("TimeGenerated >= ago(24h)", 86_400, FindingKind::KqlAgo),
        ("ago(30m)", 1_800, FindingKind::KqlAgo),
        (
            "between 2025-01-01 and 2025-01-07",
            7 * 86_400,
            FindingKind::DateRange,
        ),
    ];
    for (q, seconds, kind) in cases {
        let v = validate_query(q, None);
        let w = v
            .time_window
            .as_ref()
            .unwrap_or_else(|| panic!("{q:?}: no window in {v:#?}"));
        assert_eq!(w.seconds, *seconds, "{q:?}");
        assert_eq!(w.hours, *seconds as f64 / 3_600.0, "{q:?}");
        assert_eq!(v.dimensions.time_scope.items[0].kind, *kind, "{q:?}");
        assert_eq!(v.dimensions.time_scope.evidence, Evidence::Strong, "{q:?}");
    }
}

#[test]
fn the_first_window_mentioned_is_the_lookback() {
    let v = validate_query(
        "sign-ins in the last 24 hours compared with the last 30 days",
        None,
    );
    let w = v.time_window.unwrap();
    assert_eq!(w.seconds, 86_400);
    assert_eq!(w.source, "last 24 hours");
    assert!(!w.approximate);
    assert_eq!(v.dimensions.time_scope.items.len(), 2);
    assert!(
        validate_query("last month", None)
            .time_window
            .unwrap()
            .approximate
    );
}

#[test]
fn vague_time_is_weak_and_gets_a_targeted_suggestion() {
    let v = validate_query("sign-ins from 10.0.0.5 over the past few days", None);
    assert_eq!(v.dimensions.time_scope.evidence, Evidence::Weak);
    assert!(v.time_window.is_none());
    assert_eq!(v.dimensions.time_scope.points, TIME_WEAK_POINTS);
    assert!(
        v.suggestions
            .iter()
            .any(|s| s.contains("'past few days'") && s.contains("in the last 24 hours")),
        "{:?}",
        v.suggestions
    );
}

#[test]
fn conditions_are_detected() {
    use FindingKind::*;
    let cases: &[(&str, FindingKind, &str, bool)] = &[
        ("more than 5 attempts", Comparison, "more than 5", false),
        ("at least 3 countries", Comparison, "at least 3", false),
        ("over 10 failures", Comparison, "over 10", false),
        ("greater than 100 MB", Comparison, "greater than 100", false),
        ("count >= 5", Comparison, ">= 5", false),
        ("bytes > 100", Comparison, "> 100", false),
        ("exceeds 50 requests", Comparison, "exceeds 50", false),
        (
            "more than five attempts",
            Comparison,
            "more than five",
            false,
        ),
        ("5 or more failures", Comparison, "5 or more", false),
        ("10+ failures", Comparison, "10+", false),
        ("3 distinct countries", Comparison, "3 distinct", false),
        (
            "between 5 and 10 attempts",
            Range,
            "between 5 and 10",
            false,
        ),
        ("top 10 accounts", TopN, "top 10", false),
        ("top-N talkers", TopN, "top-N", false),
        (
            "the 5 most targeted accounts",
            TopN,
            "5 most targeted",
            false,
        ),
        ("a spike of 200%", Percentage, "200%", false),
        (
            "more than 50 percent",
            Comparison,
            "more than 50 percent",
            false,
        ),
        ("a 3x increase", Ratio, "3x", false),
        ("a threshold of 20", Threshold, "threshold of 20", false),
        ("above a threshold", Threshold, "threshold", true),
        (
            "exceeds the baseline",
            Threshold,
            "exceeds the baseline",
            true,
        ),
        ("count failures", Aggregation, "count", true),
        ("the number of failures", Aggregation, "number of", true),
        (
            "countries first time seen",
            Novelty,
            "first time seen",
            true,
        ),
        ("never seen before", Novelty, "never seen before", true),
    ];
    for (q, kind, value, weak) in cases {
        let v = validate_query(q, None);
        let f = v
            .dimensions
            .conditions
            .items
            .iter()
            .find(|f| f.kind == *kind && f.value == *value)
            .unwrap_or_else(|| {
                panic!(
                    "{q:?}: expected {kind:?} {value:?} in {:#?}",
                    v.dimensions.conditions
                )
            });
        assert_eq!(f.weak, *weak, "{q:?}");
    }
}

#[test]
fn periods_are_not_conditions() {
    for q in [
        "over 7 days",
        "over the last 24 hours",
        "in the last 24 hours",
    ] {
        let v = validate_query(q, None);
        assert!(
            v.dimensions.conditions.items.is_empty(),
            "{q:?}: {:#?}",
            v.dimensions.conditions
        );
    }
}

#[test]
fn coverage_warnings_compare_the_window_with_the_interval() {
    let q = |window: &str| {
        format!("failed sign-ins for alice@contoso.com {window} with more than 5 attempts")
    };
    // Weekly + 24 hours: a 6-day gap.
    let v = validate_query(&q("in the last 24 hours"), Some(Frequency::Weekly));
    assert_eq!(
        v.warnings,
        [
            "This weekly schedule looks at the last 24 hours: 6 days between runs will never be investigated. \
          Use 'last 7 days'."
        ]
    );
    assert!(v.valid, "a warning does not make the query invalid");
    // Matching windows: no warning.
    for (window, freq) in [
        ("in the last 24 hours", Frequency::Daily),
        ("in the last 7 days", Frequency::Weekly),
        ("in the last 30 days", Frequency::Monthly),
        ("in the last 36 hours", Frequency::Daily), // some overlap for late logs is fine
        ("in the last 48 hours", Frequency::Daily), // exactly twice
    ] {
        let v = validate_query(&q(window), Some(freq));
        assert!(v.warnings.is_empty(), "{window} {freq:?}: {:?}", v.warnings);
    }
    // Daily + 30 days: heavy overlap.
    let v = validate_query(&q("in the last 30 days"), Some(Frequency::Daily));
    assert_eq!(v.warnings.len(), 1);
    assert!(v.warnings[0].contains("up to 30 runs"), "{:?}", v.warnings);
    assert!(
        v.warnings[0].contains("'last 24 hours'"),
        "{:?}",
        v.warnings
    );
    // Monthly + 7 days: a gap of 23 days.
    let v = validate_query(&q("in the past 7 days"), Some(Frequency::Monthly));
    assert!(
        v.warnings[0].contains("23 days between runs"),
        "{:?}",
        v.warnings
    );
    // Daily + 30 minutes.
    let v = validate_query(&q("in the last 30 minutes"), Some(Frequency::Daily));
    assert!(
        v.warnings[0].contains("23 hours 30 minutes between runs"),
        "{:?}",
        v.warnings
    );
    // Once and custom with a window: nothing to compare with.
    for freq in [Frequency::Once, Frequency::Custom] {
        let v = validate_query(&q("in the last 24 hours"), Some(freq));
        assert!(v.warnings.is_empty(), "{freq:?}: {:?}", v.warnings);
    }
    // No frequency: no coverage warnings.
    assert!(
        validate_query(&q("in the last 24 hours"), None)
            .warnings
            .is_empty()
    );
}

#[test]
fn recurring_schedules_without_a_window_are_warned() {
    let q = "failed sign-ins for alice@contoso.com with more than 5 attempts";
    for freq in [
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::Monthly,
        Frequency::Custom,
    ] {
        let v = validate_query(q, Some(freq));
        assert_eq!(v.warnings.len(), 1, "{freq:?}");
        assert!(v.warnings[0].contains("no time window"), "{:?}", v.warnings);
    }
    assert!(validate_query(q, Some(Frequency::Once)).warnings.is_empty());
    // The suggestion proposes the window that matches the frequency.
    let v = validate_query(q, Some(Frequency::Weekly));
    assert!(
        v.suggestions
            .iter()
            .any(|s| s == "Add a time window, e.g. 'in the last 7 days'."),
        "{v:#?}"
    );
}

#[test]
fn fixed_dates_in_a_recurring_schedule_are_warned() {
    let v = validate_query(
        "sign-ins for alice@contoso.com between 2025-01-01 and 2025-01-07",
        Some(Frequency::Weekly),
    );
    assert!(
        v.warnings.iter().any(|w| w.contains("fixed dates")),
        "{:?}",
        v.warnings
    );
}

#[test]
fn suggestions_follow_what_is_weak_or_missing() {
    let v = validate_query(DESIGN_EXAMPLE, None);
    assert_eq!(v.suggestions.len(), 1, "{:?}", v.suggestions);
    assert!(v.suggestions[0].starts_with("Name a concrete entity"));
    let v = validate_query("count sign-ins from 10.0.0.5 in the last 24 hours", None);
    assert_eq!(v.suggestions.len(), 1, "{:?}", v.suggestions);
    assert!(v.suggestions[0].contains("rather than only 'count'"));
    let v = validate_query(
        "SigninLogs for 10.0.0.5 in the last 24 hours with more than 5 failures",
        None,
    );
    assert!(v.suggestions.is_empty(), "{:?}", v.suggestions);
}

#[test]
fn word_numbers_need_a_space_before_the_unit() {
    // "past as well" must not read as "past a s(econd)"; "past an hour" is an hour.
    assert!(
        validate_query("seen in the past as well", None)
            .time_window
            .is_none()
    );
    assert_eq!(
        validate_query("in the past an hour", None)
            .time_window
            .map(|w| w.seconds),
        Some(3_600)
    );
    // "last 5 failed logins" is a count of events, not a window.
    assert!(
        validate_query("the last 5 failed logins", None)
            .time_window
            .is_none()
    );
}

#[test]
fn a_pasted_kql_query_is_understood() {
    let kql = "SigninLogs | where TimeGenerated > ago(7d) | where ResultType != 0 \
               | summarize count() by IPAddress | where count_ > 20";
    let v = validate_query(kql, Some(Frequency::Weekly));
    assert!(v.valid, "{v:#?}");
    assert_eq!(v.score, 100);
    assert!(has(
        &v.dimensions.entities.items,
        FindingKind::Table,
        "SigninLogs"
    ));
    assert_eq!(v.time_window.as_ref().map(|w| w.seconds), Some(7 * 86_400));
    assert!(has(
        &v.dimensions.conditions.items,
        FindingKind::Comparison,
        "!= 0"
    ));
    assert!(has(
        &v.dimensions.conditions.items,
        FindingKind::Comparison,
        "> 20"
    ));
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
}

#[test]
fn human_durations() {
    assert_eq!(human_duration(1_800), "30 minutes");
    assert_eq!(human_duration(3_600), "1 hour");
    assert_eq!(human_duration(86_400), "24 hours");
    assert_eq!(human_duration(6 * 86_400), "6 days");
    assert_eq!(human_duration(84_600), "23 hours 30 minutes");
    assert_eq!(human_duration(5 * 86_400 + 18 * 3_600), "5 days 18 hours");
    assert_eq!(human_duration(45), "45 seconds");
}

#[test]
fn serialises_to_the_documented_json_shape() {
    let v = validate_query(DESIGN_EXAMPLE, Some(Frequency::Weekly));
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["score"], 80);
    assert_eq!(json["missing"], serde_json::json!([]));
    assert_eq!(json["time_window"]["seconds"], 86_400);
    assert_eq!(json["time_window"]["hours"], 24.0);
    assert_eq!(json["dimensions"]["time_scope"]["window_hours"], 24.0);
    assert_eq!(json["dimensions"]["entities"]["evidence"], "weak");
    assert_eq!(
        json["dimensions"]["entities"]["items"][0]["kind"],
        "entity_type"
    );
    assert_eq!(
        json["dimensions"]["entities"]["items"][0]["table"],
        "SigninLogs"
    );
    assert!(
        json["dimensions"]["entities"]["items"][0]
            .get("offset")
            .is_none()
    );
    assert!(json["dimensions"]["entities"].get("window_hours").is_none());
    assert_eq!(
        json["dimensions"]["conditions"]["items"][0]["kind"],
        "comparison"
    );
    assert_eq!(json["warnings"].as_array().map(Vec::len), Some(1));
    let none = serde_json::to_value(validate_query("", None)).unwrap();
    assert!(none["time_window"].is_null());
    assert_eq!(
        none["missing"],
        serde_json::json!(["entities", "time_scope", "conditions"])
    );
    assert_eq!(
        serde_json::to_value(FindingKind::Iso8601Duration).unwrap(),
        "iso8601_duration"
    );
    assert_eq!(serde_json::to_value(FindingKind::Ipv4).unwrap(), "ipv4");
}

#[test]
fn long_and_odd_input_is_handled_without_panicking() {
    // Repetitive input: findings are capped and deduplicated, and the pass stays linear.
    let long =
        "sign-ins from 10.0.0.5 in the last 24 hours with more than 5 attempts ".repeat(2_000);
    let started = std::time::Instant::now();
    let v = validate_query(&long, Some(Frequency::Daily));
    assert!(v.valid);
    assert!(v.dimensions.entities.items.len() <= MAX_ITEMS_PER_DIMENSION);
    assert_eq!(
        v.dimensions
            .entities
            .items
            .iter()
            .filter(|f| f.kind == FindingKind::Ipv4)
            .count(),
        1
    );
    // Generous bound for a debug build on a busy machine; a quadratic pass over 140 kB would take far longer.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    let distinct: String = (0..5_000)
        .map(|i| format!("10.{}.{}.1 ", i / 256, i % 256))
        .collect();
    let v = validate_query(&distinct, None);
    assert_eq!(v.dimensions.entities.items.len(), MAX_ITEMS_PER_DIMENSION);

    for q in [
        "::",
        ":::::::::",
        "ago()",
        "P",
        "PT",
        "last 0 days",
        "é🦀 sign-ins ünïcode 24 hours",
        "\\\\",
        "@@@",
        "T1110.",
        "> >= <",
    ] {
        let _ = validate_query(q, Some(Frequency::Weekly));
    }
    assert!(validate_query("last 0 days", None).time_window.is_none());
    assert!(validate_query("P", None).time_window.is_none());
    assert!(
        validate_query("last 999999 years", None)
            .time_window
            .is_some()
    );
}

#[test]
fn an_explicit_lookback_is_the_window_the_warnings_use_and_contradicting_words_are_flagged() {
    use super::validate_query_with_lookback;
    let query = "failed sign-ins in the last 24 hours with more than 5 attempts from the same IP";
    // Weekly with the query's 24 hours: a gap warning; with a P7D lookback the real window covers the week.
    let plain = validate_query_with_lookback(query, Some(Frequency::Weekly), None);
    assert!(
        plain
            .warnings
            .iter()
            .any(|w| w.contains("will never be investigated")),
        "{:?}",
        plain.warnings
    );
    let week = validate_query_with_lookback(query, Some(Frequency::Weekly), Some(7 * 86_400));
    assert!(
        !week
            .warnings
            .iter()
            .any(|w| w.contains("will never be investigated")),
        "{:?}",
        week.warnings
    );
    assert!(
        week.warnings
            .iter()
            .any(|w| w.contains("says 'last 24 hours'") && w.contains("lookback is 7 days")),
        "{:?}",
        week.warnings
    );
    // Words and lookback agree: no contradiction.
    let daily = validate_query_with_lookback(query, Some(Frequency::Daily), Some(86_400));
    assert!(daily.warnings.is_empty(), "{:?}", daily.warnings);
    // A short lookback on a daily schedule leaves a gap, whatever the words say.
    let short = validate_query_with_lookback(query, Some(Frequency::Daily), Some(3_600));
    assert!(
        short
            .warnings
            .iter()
            .any(|w| w.contains("looks at the last 1 hour")),
        "{:?}",
        short.warnings
    );
}
