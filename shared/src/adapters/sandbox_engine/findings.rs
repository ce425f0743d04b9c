//! The sandbox's findings: realistic-looking, deterministic from the query and the day the session started, so a
//! schedule's consecutive daily runs show findings that appear, persist and disappear (new, ongoing, resolved)
//! and tests can rely on exactly which.
//!
//! - Every IPv4 address and account (`user@domain`) the query names (up to two of each) is a finding on every day:
//!   it persists, so it is `ongoing` from the second run on.
//! - Three generated findings rotate: generated finding `k` is absent on days where `(day + k) % 3 == 0` and
//!   present on the other two, so from one day to the next exactly one appears, one persists and one resolves.
//!   Their entities (a host and an address in TEST-NET-2) come from a hash of the query, so two schedules differ.

use chrono::{DateTime, Utc};
use regex::Regex;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")
        .expect("valid regex")
});
static ACCOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b").expect("valid regex")
});

/// How many of each kind of entity named in the query become findings.
const NAMED_PER_KIND: usize = 2;

/// The findings of a session for `query` that started at `started`.
pub fn findings(query: &str, started: DateTime<Utc>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut named = |re: &Regex, make: fn(&str) -> Value| {
        let mut seen = Vec::new();
        for m in re.find_iter(query) {
            let value = m.as_str().to_lowercase();
            if !seen.contains(&value) && seen.len() < NAMED_PER_KIND {
                out.push(make(&value));
                seen.push(value);
            }
        }
    };
    named(&IPV4, |ip| {
        json!({
            "title": format!("Repeated failed sign-ins from {ip}"),
            "severity": "high",
            "description": format!("[sandbox] {ip} failed to sign in 27 times against 4 accounts in the window."),
            "entities": [{"type": "ip", "value": ip}],
            "mitre_techniques": ["T1110.003"],
        })
    });
    named(&ACCOUNT, |account| {
        json!({
            "title": format!("Unusual sign-in activity for {account}"),
            "severity": "medium",
            "description": format!("[sandbox] {account} signed in from two countries within an hour."),
            "entities": [{"type": "account", "value": account}],
            "mitre_techniques": ["T1078.004"],
        })
    });
    let seed = Sha256::digest(query.trim().to_lowercase().as_bytes());
    let day = started.timestamp().div_euclid(86_400);
    for k in 0..3i64 {
        if (day + k).rem_euclid(3) == 0 {
            continue;
        }
        let byte = |i: usize| seed[(k as usize * 4 + i) % seed.len()];
        let host = format!("WS-{:02X}{:02X}", byte(0), byte(1));
        let ip = format!("198.51.100.{}", 1 + byte(2) % 254);
        out.push(match k {
            0 => json!({
                "name": format!("Beaconing from {host} to {ip}"),
                "severity": "critical",
                "description": "[sandbox] Connections every 60 s with jitter under 2 s.",
                "iocs": [{"type": "host", "value": host}, {"type": "ip", "value": ip}],
                "techniques": ["T1071.001"],
            }),
            1 => json!({
                "title": format!("New local administrator on {host}"),
                "severity": "high",
                "entities": [{"type": "host", "value": host}],
                "mitre": [{"id": "T1136.001"}],
            }),
            _ => json!({
                "title": format!("Sign-ins from an anonymising proxy ({ip})"),
                "severity": "low",
                "indicators": [ip],
                "mitre_techniques": ["T1090.003"],
            }),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn titles(query: &str, day: u32) -> Vec<String> {
        let at = Utc.with_ymd_and_hms(2030, 1, day, 8, 0, 0).unwrap();
        findings(query, at)
            .iter()
            .map(|f| {
                f["title"]
                    .as_str()
                    .or(f["name"].as_str())
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn named_entities_persist_and_generated_ones_rotate_day_by_day() {
        let q = "Failed sign-ins from 203.0.113.7 for Admin@Contoso.com and admin@contoso.com in the last 24 hours";
        let (one, two) = (titles(q, 1), titles(q, 2));
        assert_eq!(one.len(), 4, "{one:?}");
        assert_eq!(one[..2], two[..2], "named entities every day");
        assert_eq!(one[0], "Repeated failed sign-ins from 203.0.113.7");
        assert_eq!(one[1], "Unusual sign-in activity for admin@contoso.com");
        let generated = |t: &[String]| t[2..].to_vec();
        let (g1, g2) = (generated(&one), generated(&two));
        assert_eq!(
            g1.iter().filter(|t| g2.contains(t)).count(),
            1,
            "one persists: {g1:?} {g2:?}"
        );
        assert_eq!(
            g2.iter().filter(|t| !g1.contains(t)).count(),
            1,
            "one appears"
        );
        assert_eq!(titles(q, 1), one, "deterministic");
        assert_ne!(
            titles("something else entirely", 1)[0],
            one[2],
            "the query seeds the entities"
        );
    }
}
