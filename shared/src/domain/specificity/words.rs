//! The vocabulary the patterns are built from and the meaning of its words: numbers and time units (as regex
//! fragments, and what they are worth), Sentinel tables, top-level domains, file extensions and well-known event
//! IDs. A word added to a fragment needs its value here too (`parse_number`, `unit_seconds`).

use super::{DAY, HOUR, MINUTE, MONTH, WEEK, YEAR};

// Regex fragments. Longer alternatives come first where a shorter one is a prefix ("seconds" before "s").

/// A number in a time phrase: digits (bounded, so the seconds stay far below `u64::MAX`) or a common word. A word
/// must be followed by whitespace, so "in the past as well" is not "past a s(econd)".
pub(super) const NUM: &str = r"\d{1,6}(?:\.\d{1,3})?|(?:an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|twenty[\s-]four|twenty|thirty|forty[\s-]eight|sixty|ninety)\s";
pub(super) const UNIT: &str = r"milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w|fortnights?|months?|mos?|quarters?|years?|yrs?|y";
/// A number in a condition.
pub(super) const CNUM: &str = r"\d[\d,]{0,11}(?:\.\d{1,6})?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|fifty|a\s+hundred|hundred|a\s+thousand|thousand|a\s+dozen|dozen";

/// Sentinel / Log Analytics / Defender XDR tables. Single common English words (Event, Perf, Heartbeat, Usage) are
/// left out on purpose: they would fire on ordinary prose.
pub const TABLES: &[&str] = &[
    "SigninLogs",
    "AADNonInteractiveUserSignInLogs",
    "AADServicePrincipalSignInLogs",
    "AADManagedIdentitySignInLogs",
    "AADProvisioningLogs",
    "AADRiskyUsers",
    "AADUserRiskEvents",
    "AuditLogs",
    "SecurityEvent",
    "WindowsEvent",
    "Syslog",
    "CommonSecurityLog",
    "OfficeActivity",
    "AzureActivity",
    "AzureDiagnostics",
    "AzureMetrics",
    "SecurityAlert",
    "SecurityIncident",
    "SecurityRecommendation",
    "ThreatIntelligenceIndicator",
    "ThreatIntelIndicators",
    "DeviceProcessEvents",
    "DeviceNetworkEvents",
    "DeviceLogonEvents",
    "DeviceFileEvents",
    "DeviceRegistryEvents",
    "DeviceImageLoadEvents",
    "DeviceEvents",
    "DeviceInfo",
    "DeviceNetworkInfo",
    "DeviceFileCertificateInfo",
    "EmailEvents",
    "EmailAttachmentInfo",
    "EmailUrlInfo",
    "EmailPostDeliveryEvents",
    "UrlClickEvents",
    "IdentityLogonEvents",
    "IdentityQueryEvents",
    "IdentityDirectoryEvents",
    "IdentityInfo",
    "CloudAppEvents",
    "AlertInfo",
    "AlertEvidence",
    "BehaviorAnalytics",
    "UserPeerAnalytics",
    "W3CIISLog",
    "DnsEvents",
    "DnsInventory",
    "AWSCloudTrail",
    "GCPAuditLogs",
    "MicrosoftGraphActivityLogs",
    "StorageBlobLogs",
    "AzureNetworkAnalytics_CL",
    "ASimNetworkSessionLogs",
    "ASimDnsActivityLogs",
    "ASimAuthenticationEventLogs",
    "ASimProcessEventLogs",
    "ASimWebSessionLogs",
    "SentinelHealth",
    "SentinelAudit",
    "ConfigurationChange",
    "VMConnection",
    "ContainerLog",
    "KubeEvents",
    "AppServiceHTTPLogs",
    "NetworkAccessTraffic",
    "LAQueryLogs",
    "Watchlist",
];

/// Extensions that make `name.ext` a file rather than a domain.
pub(super) const FILE_EXTENSIONS: &[&str] = &[
    "exe", "dll", "ps1", "psm1", "psd1", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "hta",
    "scr", "msi", "lnk", "sys", "jar", "py", "sh", "elf", "bin", "iso", "img", "vhd", "vhdx",
    "zip", "rar", "gz", "tar", "doc", "docx", "docm", "xls", "xlsx", "xlsm", "ppt", "pptx", "pdf",
    "rtf", "one", "txt", "csv", "dat", "tmp", "xml", "json", "yaml", "yml", "dmp", "aspx", "php",
    "jsp", "apk", "dylib", "so", "cpl", "ocx", "drv", "eml", "msg",
];

/// Top-level domains longer than two letters that count as a domain (every two-letter TLD does); internal AD
/// suffixes included. A short list instead of the public suffix list: an unlisted TLD only costs a missed finding.
#[rustfmt::skip]
pub(super) const TLDS: &[&str] = &[
    "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "name", "pro", "mobi", "app",
    "dev", "cloud", "online", "site", "top", "xyz", "tech", "shop", "store", "live", "club", "icu",
    "vip", "work", "email", "link", "click", "support", "services", "azure", "microsoft", "windows",
    "office", "onion", "local", "corp", "lan", "internal", "intranet", "home", "onmicrosoft", "aws",
    "amazon", "google",
];

/// Well-known Windows security event IDs, detected even without the words "event ID".
pub(super) const KNOWN_EVENT_IDS: &str = r"1102|4103|4104|4624|4625|4634|4648|4657|4662|4663|4672|4688|4697|4698|4719|4720|4722|4724|4725|4726|4728|4732|4738|4740|4756|4765|4766|4768|4769|4771|4776|4781|4798|4799|5140|5145|7045";

pub(super) fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    let lower = s.to_lowercase();
    let word = lower
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let n = match word.as_str() {
        "a" | "an" | "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "fourteen" => 14,
        "fifteen" => 15,
        "twenty" => 20,
        "twenty-four" => 24,
        "thirty" => 30,
        "forty-eight" => 48,
        "sixty" => 60,
        "ninety" => 90,
        _ => return None,
    };
    Some(f64::from(n))
}

/// Seconds per unit, and whether the unit's length varies (months, quarters, years). "m" is minutes, as in KQL.
pub(super) fn unit_seconds(unit: &str) -> Option<(f64, bool)> {
    let unit = unit.to_lowercase();
    Some(match unit.as_str() {
        "ms" | "millisecond" | "milliseconds" => (0.001, false),
        "s" | "sec" | "secs" | "second" | "seconds" => (1.0, false),
        "m" | "min" | "mins" | "minute" | "minutes" => (MINUTE, false),
        "h" | "hr" | "hrs" | "hour" | "hours" => (HOUR, false),
        "d" | "day" | "days" => (DAY, false),
        "w" | "wk" | "wks" | "week" | "weeks" => (WEEK, false),
        "fortnight" | "fortnights" => (2.0 * WEEK, false),
        "mo" | "mos" | "month" | "months" => (MONTH, true),
        "quarter" | "quarters" => (3.0 * MONTH, true),
        "y" | "yr" | "yrs" | "year" | "years" => (YEAR, true),
        _ => return None,
    })
}
