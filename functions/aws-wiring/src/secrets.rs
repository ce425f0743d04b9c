//! The engine credential, read once per cold start from Secrets Manager or SSM Parameter Store. The value is
//! either the API key itself, or JSON `{"api_key": "..."}` (sent as `X-API-Key`) or `{"bearer_token": "..."}`
//! (sent as `Authorization: Bearer`). It is never logged.

use crate::config::{SecretRef, SecretSource};
use crate::error::WiringError;
use shared::adapters::engine_http::EngineCredential;

pub async fn engine_credential(
    sdk: &aws_config::SdkConfig,
    secret: &SecretRef,
) -> Result<EngineCredential, WiringError> {
    let raw = match secret.source {
        SecretSource::SecretsManager => aws_sdk_secretsmanager::Client::new(sdk)
            .get_secret_value()
            .secret_id(&secret.name)
            .send()
            .await
            .map_err(|e| {
                secret_error(
                    secret,
                    aws_sdk_secretsmanager::error::DisplayErrorContext(&e),
                )
            })?
            .secret_string
            .ok_or_else(|| {
                WiringError::Secret(format!("secret {} has no string value", secret.name))
            })?,
        SecretSource::Ssm => aws_sdk_ssm::Client::new(sdk)
            .get_parameter()
            .name(&secret.name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| secret_error(secret, aws_sdk_ssm::error::DisplayErrorContext(&e)))?
            .parameter
            .and_then(|p| p.value)
            .ok_or_else(|| {
                WiringError::Secret(format!("parameter {} has no value", secret.name))
            })?,
    };
    parse_credential(&raw)
        .map_err(|why| WiringError::Secret(format!("{} ({:?}): {why}", secret.name, secret.source)))
}

fn secret_error(secret: &SecretRef, e: impl std::fmt::Display) -> WiringError {
    WiringError::Secret(format!(
        "cannot read {} from {:?}: {e}",
        secret.name, secret.source
    ))
}

/// Parses a stored credential. Error messages never include the value.
pub fn parse_credential(raw: &str) -> Result<EngineCredential, &'static str> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("the stored credential is empty");
    }
    if !raw.starts_with('{') {
        return Ok(EngineCredential::ApiKey(raw.into()));
    }
    #[derive(serde::Deserialize)]
    struct Stored {
        api_key: Option<String>,
        bearer_token: Option<String>,
    }
    let stored: Stored =
        serde_json::from_str(raw).map_err(|_| "the stored credential is not valid JSON")?;
    match (stored.api_key, stored.bearer_token) {
        (Some(key), None) if !key.trim().is_empty() => {
            Ok(EngineCredential::ApiKey(key.trim().into()))
        }
        (None, Some(token)) if !token.trim().is_empty() => {
            Ok(EngineCredential::Bearer(token.trim().into()))
        }
        _ => Err("the stored JSON must hold exactly one non-empty `api_key` or `bearer_token`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_json_credentials() {
        use secrecy::ExposeSecret;
        let api_key = |raw| match parse_credential(raw) {
            Ok(EngineCredential::ApiKey(k)) => Some(k.expose_secret().to_owned()),
            _ => None,
        };
        assert_eq!(api_key(" k-123\n").as_deref(), Some("k-123"));
        assert_eq!(api_key(r#"{"api_key":"k"}"#).as_deref(), Some("k"));
        assert!(matches!(
            parse_credential(r#"{"bearer_token":"t"}"#),
            Ok(EngineCredential::Bearer(t)) if t.expose_secret() == "t"
        ));
        // The credential's Debug never shows the secret.
        let shown = format!("{:?}", parse_credential("k-123").unwrap());
        assert!(!shown.contains("k-123"), "{shown}");
        assert!(parse_credential("").is_err());
        assert!(parse_credential(r#"{"api_key":"k","bearer_token":"t"}"#).is_err());
        let err = parse_credential(r#"{"api_key": "sekrit""#).unwrap_err();
        assert!(!err.contains("sekrit"));
    }
}
