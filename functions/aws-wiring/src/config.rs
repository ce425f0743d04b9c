//! The functions' configuration, read from the environment once per cold start. A bad value stops the start with
//! a message naming the variable (Lambda reports it as an init error).

use crate::error::WiringError;
use shared::config::{ServiceConfig, parse_var, process_env, required_var, secs_var, var};
use std::str::FromStr;
use std::time::Duration;

/// How long a tick may run when the invocation carries no usable deadline (see [`crate::tick::deadline`]).
pub const DEFAULT_MAX_TICK: Duration = Duration::from_secs(45);

/// Where the engine credential is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    SecretsManager,
    /// SSM Parameter Store (a `SecureString`, read with decryption).
    Ssm,
}

impl FromStr for SecretSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "secretsmanager" | "secrets-manager" => Ok(Self::SecretsManager),
            "ssm" | "parameterstore" | "parameter-store" => Ok(Self::Ssm),
            other => Err(format!(
                "unknown secret source {other:?} (secretsmanager or ssm)"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub name: String,
    pub source: SecretSource,
}

#[derive(Debug, Clone)]
pub struct LambdaConfig {
    /// `TABLE_NAME` (required).
    pub table_name: String,
    /// `ENGINE_URL` (required).
    pub engine_url: String,
    /// `ENGINE_SECRET_NAME` and `ENGINE_SECRET_SOURCE` (`secretsmanager`, the default, or `ssm`). No name: the
    /// engine is called without a credential.
    pub engine_secret: Option<SecretRef>,
    /// `ENGINE_TIME_RANGE` (`both`, `field`, `query`, `off`): how runs tell the engine their data window.
    pub engine_time_range: shared::adapters::engine_http::TimeRangeMode,
    /// `EMAIL_TOPIC_ARN`: readable notifications (see `shared::adapters::aws_notify`).
    pub email_topic_arn: Option<String>,
    /// `CHAT_TOPIC_ARN`: AWS Chatbot custom notifications.
    pub chat_topic_arn: Option<String>,
    /// `EVENT_BUS_NAME`: integration events.
    pub event_bus_name: Option<String>,
    /// `MAX_TICK_SECS` (default 45): how long a dispatcher or status-checker tick may run when the invocation
    /// carries no usable deadline (a local invoker's); on Lambda the function's timeout bounds a tick instead.
    pub max_tick: Duration,
    /// `RUN_TIMEOUT_SECS`, `DISPATCH_CONCURRENCY`, `DEFAULT_TIMEZONE`, `PERSONAS`.
    pub service: ServiceConfig,
}

impl LambdaConfig {
    pub fn from_env() -> Result<Self, WiringError> {
        Self::from_lookup(process_env)
    }

    /// The same from any lookup (tests pass a map instead of touching the process environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, WiringError> {
        let service = ServiceConfig::from_lookup(&lookup)?;
        let engine_secret = match var(&lookup, "ENGINE_SECRET_NAME") {
            None => None,
            Some(name) => Some(SecretRef {
                name,
                source: parse_var(
                    &lookup,
                    "ENGINE_SECRET_SOURCE",
                    SecretSource::SecretsManager,
                )?,
            }),
        };
        Ok(Self {
            table_name: required_var(&lookup, "TABLE_NAME")?,
            engine_url: required_var(&lookup, "ENGINE_URL")?,
            engine_secret,
            engine_time_range: parse_var(&lookup, "ENGINE_TIME_RANGE", Default::default())?,
            email_topic_arn: var(&lookup, "EMAIL_TOPIC_ARN"),
            chat_topic_arn: var(&lookup, "CHAT_TOPIC_ARN"),
            event_bus_name: var(&lookup, "EVENT_BUS_NAME"),
            max_tick: secs_var(&lookup, "MAX_TICK_SECS", DEFAULT_MAX_TICK)?,
            service,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<LambdaConfig, WiringError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LambdaConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn reads_every_variable() {
        let c = config(&[
            ("TABLE_NAME", "tbl"),
            ("ENGINE_URL", "https://engine.example"),
            ("ENGINE_SECRET_NAME", "/socmate/key"),
            ("ENGINE_SECRET_SOURCE", "ssm"),
            (
                "EMAIL_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:email",
            ),
            ("EVENT_BUS_NAME", "bus"),
            ("RUN_TIMEOUT_SECS", "600"),
            ("DISPATCH_CONCURRENCY", "16"),
            ("DEFAULT_TIMEZONE", "Europe/Berlin"),
        ])
        .unwrap();
        assert_eq!(c.table_name, "tbl");
        assert_eq!(
            c.engine_secret,
            Some(SecretRef {
                name: "/socmate/key".into(),
                source: SecretSource::Ssm
            })
        );
        assert_eq!(c.chat_topic_arn, None);
        assert_eq!(c.service.run_timeout, Duration::from_secs(600));
        assert_eq!(c.service.dispatch_concurrency, 16);
        assert_eq!(c.service.default_timezone, chrono_tz::Europe::Berlin);
        assert_eq!(c.max_tick, DEFAULT_MAX_TICK);
        let mut with_tick = vec![
            ("TABLE_NAME", "t"),
            ("ENGINE_URL", "u"),
            ("MAX_TICK_SECS", "230"),
        ];
        assert_eq!(
            config(&with_tick).unwrap().max_tick,
            Duration::from_secs(230)
        );
        with_tick[2] = ("MAX_TICK_SECS", "-1");
        assert!(
            config(&with_tick)
                .unwrap_err()
                .to_string()
                .contains("MAX_TICK_SECS must be a positive number of seconds")
        );
    }

    #[test]
    fn names_the_variable_that_is_wrong() {
        let base = [("TABLE_NAME", "t"), ("ENGINE_URL", "http://127.0.0.1:1")];
        assert!(
            config(&base[..1])
                .unwrap_err()
                .to_string()
                .contains("ENGINE_URL is not set")
        );
        let bad = |k, v| {
            let mut pairs = base.to_vec();
            pairs.push((k, v));
            config(&pairs).unwrap_err().to_string()
        };
        assert!(bad("DEFAULT_TIMEZONE", "Mars/Olympus").contains("DEFAULT_TIMEZONE"));
        assert!(bad("DISPATCH_CONCURRENCY", "many").contains("DISPATCH_CONCURRENCY"));
        assert!(bad("DISPATCH_CONCURRENCY", "0").contains("positive"));
        let source = {
            let mut pairs = base.to_vec();
            pairs.extend([
                ("ENGINE_SECRET_NAME", "s"),
                ("ENGINE_SECRET_SOURCE", "vault"),
            ]);
            config(&pairs).unwrap_err().to_string()
        };
        assert!(source.contains("ENGINE_SECRET_SOURCE"), "{source}");
        // Defaults: Secrets Manager, no channels.
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("ENGINE_URL", "u"),
            ("ENGINE_SECRET_NAME", "s"),
        ])
        .unwrap();
        assert_eq!(
            c.engine_secret.unwrap().source,
            SecretSource::SecretsManager
        );
        assert!(c.email_topic_arn.is_none() && c.event_bus_name.is_none());
    }
}
