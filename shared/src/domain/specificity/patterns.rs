//! The compiled regular expressions the detectors run, one per kind of phrase, compiled once on first use. Longer
//! alternatives come first where a shorter one is a prefix ("seconds" before "s").

use super::words::{CNUM, KNOWN_EVENT_IDS, NUM, TABLES, UNIT};
use regex::Regex;
use std::sync::LazyLock;

fn re(pattern: &str) -> Regex {
    // The patterns are constants of this module, compiled once; the unit tests exercise every one of them.
    Regex::new(pattern).unwrap_or_else(|e| panic!("invalid built-in regex {pattern:?}: {e}"))
}

pub(super) static UPN: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\b[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b")
});
pub(super) static FILE_PATH: LazyLock<Regex> =
    LazyLock::new(|| re(r#"\b[A-Za-z]:\\[^\s"'<>|]{1,250}"#));
pub(super) static DOMAIN_ACCOUNT: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b[A-Za-z][A-Za-z0-9.-]{0,62}\\[A-Za-z0-9][A-Za-z0-9._$-]{0,63}"));
pub(super) static IPV4: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(\d{1,3}(?:\.\d{1,3}){3})(?:/(\d{1,3}))?\b"));
pub(super) static IPV6_CANDIDATE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)([0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7})(?:/(\d{1,3}))?"));
pub(super) static GUID: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"));
pub(super) static HEX_HASH: LazyLock<Regex> = LazyLock::new(|| re(r"\b[0-9a-fA-F]{32,64}\b"));
/// A dotted name; group 1 is the last label (TLD or file extension).
pub(super) static DOTTED_NAME: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+([a-z][a-z0-9]{1,23})\b")
});
pub(super) static TABLE: LazyLock<Regex> = LazyLock::new(|| {
    let names: Vec<String> = TABLES.iter().map(|t| regex::escape(t)).collect();
    re(&format!(r"(?i)\b(?:{})\b", names.join("|")))
});
pub(super) static CUSTOM_TABLE: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b[A-Za-z][A-Za-z0-9_]{0,100}_CL\b"));
/// "event ID 4625", "EventID == 4625", "event IDs 4624, 4625 and 4648".
pub(super) static EVENT_ID_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bevent\s*_?(?:id|code)s?\b\s*(?:==|=|:|#|in\s*\(|is|of)?\s*(\d{1,5}(?:\s*(?:,|/|and|or)\s*\d{1,5})*)",
    )
});
pub(super) static KNOWN_EVENT_ID: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"\b(?:{KNOWN_EVENT_IDS})\b")));
pub(super) static MITRE: LazyLock<Regex> =
    LazyLock::new(|| re(r"\bT(?:A\d{4}|\d{4}(?:\.\d{3})?)\b"));
/// "host WEB01", "device named 'alpha'"; group 1 is the opening quote, group 2 the name.
pub(super) static HOST_AFTER_KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i:\b(?:host(?:name)?|machine|device(?:name)?|computer(?:name)?|server|workstation|endpoint|dc)\b\s*(?:==|=|:|named|called)?\s*)(["']?)([A-Za-z0-9][A-Za-z0-9-]{1,62})["']?"#,
    )
});
/// "user 'svc_backup'": quoted only, so "user account" is not an account named "account".
pub(super) static ACCOUNT_AFTER_KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)\b(?:user(?:name)?|account|upn|identity)\s*(?:==|=|:|named|called)?\s*["']([^"'\s]{2,64})["']"#,
    )
});

/// Entities named by type only, with the table they usually point at. More specific phrases first.
pub(super) static ENTITY_TYPES: LazyLock<Vec<(Regex, Option<&'static str>)>> = LazyLock::new(
    || {
        [
        (r"non[\s-]?interactive\s+sign[\s-]?ins?", Some("AADNonInteractiveUserSignInLogs")),
        (r"service\s+principals?|managed\s+identit(?:y|ies)|app\s+registrations?", Some("AADServicePrincipalSignInLogs")),
        (r"sign[\s-]?ins?|log[\s-]?ins?|mfa\s+(?:prompts?|requests?|challenges?)", Some("SigninLogs")),
        (r"logon\s+attempts?|log[\s-]?ons?", Some("SecurityEvent")),
        (r"storage\s+accounts?|key\s*vaults?|subscriptions?|resource\s+groups?|role\s+assignments?", Some("AzureActivity")),
        (r"network\s+connections?|connections?|outbound\s+traffic|inbound\s+traffic", Some("DeviceNetworkEvents")),
        (r"dns\s+(?:quer(?:y|ies)|requests?|lookups?)", Some("DnsEvents")),
        (r"processes|process|command[\s-]lines?|executables?|binaries|scripts?", Some("DeviceProcessEvents")),
        (r"files?", Some("DeviceFileEvents")),
        (r"emails?|mailbox(?:es)?|inbox\s+rules?", Some("EmailEvents")),
        (r"alerts?", Some("SecurityAlert")),
        (r"incidents?", Some("SecurityIncident")),
        (r"firewalls?|proxy|proxies|vpn", Some("CommonSecurityLog")),
        (r"ip\s+address(?:es)?|ip\s+ranges?|source\s+ips?|destination\s+ips?|ipv[46]|ips?|subnets?", None),
        (r"user\s+accounts?|accounts?|usernames?|users?|upns?|identit(?:y|ies)|admins?|administrators?|guests?", None),
        (r"domain\s+controllers?|hostnames?|hosts?|machines?|devices?|computers?|servers?|endpoints?|workstations?|virtual\s+machines?|vms?", None),
        (r"urls?|domains?|websites?|ports?", None),
    ]
    .into_iter()
    .map(|(pattern, table)| (re(&format!(r"(?i)\b(?:{pattern})\b")), table))
    .collect()
    },
);

pub(super) static ISO_DURATION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\bP(?:(\d{1,6})Y)?(?:(\d{1,6})M)?(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6}(?:\.\d{1,3})?)S)?)?\b",
    )
});
pub(super) static KQL_AGO: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bago\s*\(\s*(\d{1,6}(?:\.\d{1,3})?)\s*(milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)\s*\)",
    )
});
pub(super) static DATE_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:between|from)\s+(\d{4}-\d{2}-\d{2})\s+(?:and|to|until|through|-)\s+(\d{4}-\d{2}-\d{2})\b",
    )
});
/// "lookback of 7 days", "look back 24h", "lookback: P7D" is the ISO pattern's job.
pub(super) static LOOKBACK: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\blook[\s-]?back(?:\s+(?:period|window))?\s*(?:of|:|=|is)?\s*({NUM})\s*({UNIT})\b"
    ))
});
pub(super) static RELATIVE_NUMBERED: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b(?:last|past|previous|prior|preceding|trailing)\s+({NUM})\s*({UNIT})\b"
    ))
});
pub(super) static UNITS_AGO: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"(?i)\b(?:since\s+)?({NUM})\s*({UNIT})\s+ago\b")));
pub(super) static RELATIVE_SINGLE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:last|past|previous|prior|preceding|trailing)\s+(minute|hour|day|week|fortnight|month|quarter|year)\b",
    )
});
pub(super) static CALENDAR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:since\s+yesterday|since\s+midnight|yesterday|today|this\s+week|this\s+month|this\s+year|overnight|last\s+night)\b",
    )
});
pub(super) static VAGUE_TIME: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:(?:last|past|previous)\s+(?:few|several|couple(?:\s+of)?|many)\s+(?:minutes|hours|days|weeks|months)|recently|recent|lately|nowadays)\b",
    )
});

pub(super) static OPERATOR: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:>=|<=|!=|==|>|<|≥|≤)\s*\d[\d,]{0,11}(?:\.\d{1,6})?"));
pub(super) static BETWEEN_NUMBERS: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"(?i)\bbetween\s+(?:{CNUM})\s+and\s+(?:{CNUM})\b")));
/// Group 1 the comparison word, 2 the number, 3 an optional percent sign, 4 the following word.
pub(super) static COMPARISON_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b(more\s+than|greater\s+than|higher\s+than|larger\s+than|bigger\s+than|fewer\s+than|less\s+than|lower\s+than|at\s+least|at\s+most|no\s+more\s+than|no\s+fewer\s+than|no\s+less\s+than|not\s+more\s+than|in\s+excess\s+of|upwards\s+of|a\s+minimum\s+of|a\s+maximum\s+of|minimum\s+of|maximum\s+of|exceed(?:s|ed|ing)?|equal\s+to|exactly|over|above|under|below)\s+({CNUM})\b(\s*(?:%|percent\b))?(?:\s+(\w+))?"
    ))
});
pub(super) static N_OR_MORE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b\d[\d,]{0,11}\s*(?:\+|or\s+more\b|or\s+greater\b|or\s+higher\b|and\s+(?:above|up|over)\b)",
    )
});
pub(super) static N_TIMES: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b\d[\d,]{0,11}\s+(?:times|attempts|failures|failed|unsuccessful|distinct|unique|different|separate)\b",
    )
});
pub(super) static TOP_N: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:top|bottom)[\s-]*(?:\d{1,6}|n|k|three|five|ten|twenty|fifty|hundred)\b|\b\d{1,6}\s+(?:most|least)\s+\w+",
    )
});
pub(super) static PERCENT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b\d{1,6}(?:\.\d{1,3})?\s*(?:%|percent\b|per\s+cent\b)"));
/// Group 1 is the ratio; the delimiter after it keeps "0x41" (hex) out.
pub(super) static RATIO: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(\d{1,4}(?:\.\d{1,2})?\s*(?:x|×|-fold|fold))(?:\s|$|[,.;)])"));
pub(super) static THRESHOLD_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\bthreshold\s*(?:of|:|=|is|at)?\s*(?:{CNUM})\b"
    ))
});
pub(super) static THRESHOLD_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:thresholds?|exceed(?:s|ed|ing)?(?:\s+the)?\s+(?:baseline|normal|average)|above\s+(?:the\s+)?(?:baseline|normal|average)|exceed(?:s|ed|ing)?|spikes?|surges?)\b",
    )
});
pub(super) static AGGREGATION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:distinct\s+count|dcount|count(?:s|ed)?|number\s+of|how\s+many|summari[sz]e[sd]?|tally)\b",
    )
});
pub(super) static NOVELTY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:first[\s-]time\s+seen|first[\s-]time|first\s+seen|never[\s-]before[\s-]seen|never\s+(?:been\s+)?seen(?:\s+before)?|not\s+seen\s+before|previously\s+unseen|newly\s+(?:seen|observed|created))\b",
    )
});
