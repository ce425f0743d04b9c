//! Settings the use cases need, independent of where they run. Entry points read them from the environment once.

use crate::domain::run::{RunRetention, SessionUrlTemplate};
use crate::domain::timing::IsoDuration;
use chrono_tz::Tz;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Personas a schedule may use.
    pub personas: Vec<String>,
    /// Time zone for schedules created without one.
    pub default_timezone: Tz,
    /// A run still running after this long fails as `timed_out`.
    pub run_timeout: Duration,
    /// Engine starts in flight at once during a dispatch tick.
    pub dispatch_concurrency: usize,
    /// Transient start failures before a run fails as `engine_unavailable`.
    pub max_start_attempts: u32,
    /// How long a claimed run is reserved for the dispatcher that claimed it before another tick may retry it.
    pub start_lease: Duration,
    /// How many runs each schedule's history keeps (every store is given this).
    pub run_retention: RunRetention,
    /// Candidates read per store query during a tick.
    pub batch_size: u32,
    /// Where a person opens an engine session (runs and notifications link to it), if anywhere.
    pub session_url: Option<SessionUrlTemplate>,
    /// `settlement_delay` of schedules created without one (`SETTLEMENT_DELAY`, ISO-8601, default `PT0S`).
    pub default_settlement_delay: IsoDuration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            personas: vec!["soc_analyst".into(), "ciso".into()],
            default_timezone: Tz::UTC,
            run_timeout: Duration::from_secs(2 * 60 * 60),
            dispatch_concurrency: 128,
            max_start_attempts: 5,
            start_lease: Duration::from_secs(120),
            run_retention: RunRetention::default(),
            batch_size: 500,
            session_url: None,
            default_settlement_delay: IsoDuration::ZERO,
        }
    }
}

/// A configuration variable with a bad value; the message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

// Environment-style variables, read through a lookup: `process_env` in the mains, a map in tests. Every entry
// point reads its settings with these helpers, so "set", "required" and "bad value" mean the same everywhere.

/// The process environment as a lookup.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Variable `name`, trimmed; empty counts as unset.
pub fn var(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Variable `name`, which must be set.
pub fn required_var(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<String, ConfigError> {
    var(lookup, name).ok_or_else(|| ConfigError(format!("{name} is not set")))
}

/// Reads variable `name` with `lookup` (trimmed; empty counts as unset) and parses it, or gives `default`.
pub fn parse_var<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(lookup, name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|e| ConfigError(format!("{name}={v:?} is not valid: {e}"))),
    }
}

/// Variable `name` as a positive number of seconds (fractions allowed), or `default`.
pub fn secs_var(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    let secs: f64 = parse_var(lookup, name, default.as_secs_f64())?;
    if !(secs.is_finite() && secs > 0.0) {
        return Err(ConfigError(format!(
            "{name} must be a positive number of seconds"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl ServiceConfig {
    /// The settings every entry point shares, from environment-style variables: `RUN_TIMEOUT_SECS`,
    /// `DISPATCH_CONCURRENCY`, `DEFAULT_TIMEZONE`, `PERSONAS`, `SESSION_URL_TEMPLATE`, `SETTLEMENT_DELAY`. Unset variables keep the
    /// defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let run_timeout = secs_var(&lookup, "RUN_TIMEOUT_SECS", defaults.run_timeout)?;
        let dispatch_concurrency = parse_var(
            &lookup,
            "DISPATCH_CONCURRENCY",
            defaults.dispatch_concurrency,
        )?;
        if dispatch_concurrency == 0 {
            return Err(ConfigError("DISPATCH_CONCURRENCY must be positive".into()));
        }
        let default_timezone = match var(&lookup, "DEFAULT_TIMEZONE") {
            None => defaults.default_timezone,
            Some(tz) => tz.parse().map_err(|_| {
                ConfigError(format!("DEFAULT_TIMEZONE={tz:?} is not an IANA time zone"))
            })?,
        };
        let personas = match var(&lookup, "PERSONAS") {
            Some(p) => p
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            None => defaults.personas.clone(),
        };
        let session_url = var(&lookup, "SESSION_URL_TEMPLATE")
            .map(|v| {
                v.parse::<SessionUrlTemplate>()
                    .map_err(|e| ConfigError(format!("SESSION_URL_TEMPLATE={v:?} {e}")))
            })
            .transpose()?;
        let default_settlement_delay = match var(&lookup, "SETTLEMENT_DELAY") {
            None => defaults.default_settlement_delay,
            Some(v) => IsoDuration::parse("SETTLEMENT_DELAY", &v)
                .map_err(|e| ConfigError(format!("SETTLEMENT_DELAY={v:?}: {}", e.message)))?,
        };
        Ok(Self {
            run_timeout,
            session_url,
            default_settlement_delay,
            dispatch_concurrency,
            default_timezone,
            personas,
            ..defaults
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<ServiceConfig, ConfigError> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        ServiceConfig::from_lookup(|k| map.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn reads_the_shared_settings_and_names_bad_ones() {
        let c = from(&[
            ("RUN_TIMEOUT_SECS", "600"),
            ("DEFAULT_TIMEZONE", "Europe/Berlin"),
            ("PERSONAS", "a, b"),
        ])
        .unwrap();
        assert_eq!(c.run_timeout, Duration::from_secs(600));
        assert_eq!(c.default_timezone, chrono_tz::Europe::Berlin);
        assert_eq!(c.personas, vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(from(&[]).unwrap().dispatch_concurrency, 128);
        assert!(
            from(&[("DISPATCH_CONCURRENCY", "many")])
                .unwrap_err()
                .0
                .contains("DISPATCH_CONCURRENCY")
        );
        assert!(
            from(&[("DISPATCH_CONCURRENCY", "0")])
                .unwrap_err()
                .0
                .contains("positive")
        );
        assert!(
            from(&[("DEFAULT_TIMEZONE", "Mars/Olympus")])
                .unwrap_err()
                .0
                .contains("DEFAULT_TIMEZONE")
        );
    }

    #[test]
    fn the_variable_helpers_trim_require_and_check_seconds() {
        let map: HashMap<&str, &str> = [("A", "  x "), ("EMPTY", "  "), ("S", "1.5"), ("Z", "0")]
            .into_iter()
            .collect();
        let lookup = |k: &str| map.get(k).map(|v| v.to_string());
        assert_eq!(var(&lookup, "A").as_deref(), Some("x"));
        assert_eq!(var(&lookup, "EMPTY"), None);
        assert_eq!(required_var(&lookup, "A").unwrap(), "x");
        assert_eq!(
            required_var(&lookup, "EMPTY").unwrap_err().0,
            "EMPTY is not set"
        );
        let d = Duration::from_secs(7);
        assert_eq!(
            secs_var(&lookup, "S", d).unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(secs_var(&lookup, "UNSET", d).unwrap(), d);
        assert!(
            secs_var(&lookup, "Z", d)
                .unwrap_err()
                .0
                .contains("positive")
        );
        assert!(secs_var(&lookup, "A", d).unwrap_err().0.contains("A=\"x\""));
    }

    #[test]
    fn a_session_url_template_is_optional_and_checked() {
        assert_eq!(from(&[]).unwrap().session_url, None);
        let c = from(&[(
            "SESSION_URL_TEMPLATE",
            "https://socmate.example.com/s/{session_id}",
        )])
        .unwrap();
        assert_eq!(
            c.session_url.map(|t| t.url_for("ses_1")),
            Some("https://socmate.example.com/s/ses_1".to_owned())
        );
        let err = from(&[("SESSION_URL_TEMPLATE", "https://socmate.example.com/s/")]).unwrap_err();
        assert!(
            err.0.contains("SESSION_URL_TEMPLATE") && err.0.contains("{session_id}"),
            "{err}"
        );
    }
}
