//! `SocmateEngine`: the [`InvestigationEngine`] port over HTTP, speaking the SoCMate investigation API
//! (DESIGN §6). It turns every answer into the error classes the dispatcher's failure policy needs (DESIGN §5):
//! `429` is backpressure, 5xx and network trouble are transient, other 4xx are permanent, and a 2xx we cannot
//! read is an invalid response.
//!
//! The credential is sent on every request and never appears in `Debug` output, logs or error messages.

mod wire;

pub use wire::parse_session_response;

use crate::ports::{EngineError, InvestigationEngine, SessionState, StartRequest};
use crate::text::{error_chain, truncate_chars};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::time::Duration;
use wire::{error_detail, parse_start_response};

/// Default for [`EngineConfig::request_timeout`].
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for [`EngineConfig::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Default for [`EngineConfig::provider`].
pub const DEFAULT_PROVIDER: &str = "sentinel";
/// Used when a `429` has no usable `Retry-After`.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Bounds for a `Retry-After` we honour: a zero or past value would spin, a huge one would park runs for days.
pub const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);
/// Summaries longer than this (in characters) are cut, so one chatty report cannot bloat a run record.
pub const MAX_SUMMARY_CHARS: usize = 2000;

/// Response bodies larger than this are not read: the contract's bodies are small JSON documents.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Error details are cut to this many characters before they reach a run record or a log line.
const MAX_DETAIL_CHARS: usize = 500;
/// Session ids longer than this are refused: they end up in URLs and store keys.
const MAX_SESSION_ID_CHARS: usize = 256;

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// How the adapter authenticates to the engine. The secret is a [`SecretString`]: `{:?}` never shows it, and
/// reading it takes an explicit `expose_secret()`.
#[derive(Debug, Clone)]
pub enum EngineCredential {
    /// Sent as `X-API-Key: <key>`.
    ApiKey(SecretString),
    /// Sent as `Authorization: Bearer <token>`.
    Bearer(SecretString),
}

/// How a start request tells the engine the run's data window (`ENGINE_TIME_RANGE`): a `time_range` field, a
/// sentence at the end of the query (an LLM engine may ignore fields it does not know), both, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeRangeMode {
    #[default]
    Both,
    Field,
    Query,
    Off,
}

impl std::str::FromStr for TimeRangeMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "both" => Ok(Self::Both),
            "field" => Ok(Self::Field),
            "query" => Ok(Self::Query),
            "off" => Ok(Self::Off),
            other => Err(format!(
                "unknown time range mode {other:?}; expected both, field, query or off"
            )),
        }
    }
}

impl TimeRangeMode {
    fn sends_field(self) -> bool {
        matches!(self, Self::Both | Self::Field)
    }

    fn sends_sentence(self) -> bool {
        matches!(self, Self::Both | Self::Query)
    }
}

/// The sentence appended to the query naming the window in UTC.
pub fn time_range_sentence(window: &crate::domain::Window) -> String {
    let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!(
        "Investigate only data from {} (inclusive) to {} (exclusive), UTC.",
        fmt(window.start),
        fmt(window.end)
    )
}

/// Settings for [`SocmateEngine`]. `Debug` is safe to log (the credential is redacted).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The engine's root, e.g. `https://socmate.example.com` (a path prefix is kept).
    pub base_url: String,
    pub credential: Option<EngineCredential>,
    /// Whole request, connect to last body byte.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// The `provider` field of a start request.
    pub provider: String,
    /// How the run's data window is sent.
    pub time_range: TimeRangeMode,
}

impl EngineConfig {
    /// A configuration with the default timeouts and provider and no credential.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            credential: None,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            provider: DEFAULT_PROVIDER.to_owned(),
            time_range: TimeRangeMode::default(),
        }
    }

    pub fn with_time_range(mut self, mode: TimeRangeMode) -> Self {
        self.time_range = mode;
        self
    }

    pub fn with_credential(mut self, credential: EngineCredential) -> Self {
        self.credential = Some(credential);
        self
    }
}

/// Why an [`EngineConfig`] cannot be used. Messages never echo the credential or the URL (which could hold one).
#[derive(Debug, thiserror::Error)]
pub enum EngineConfigError {
    #[error("invalid engine base URL: {0}")]
    InvalidBaseUrl(String),
    #[error("invalid engine credential: {0}")]
    InvalidCredential(&'static str),
    #[error("invalid engine setting: {0}")]
    InvalidSetting(&'static str),
    #[error("cannot build the engine HTTP client")]
    Client(#[source] reqwest::Error),
}

/// The SoCMate-compatible engine over HTTP. Build once and share: it holds a connection pool.
#[derive(Clone)]
pub struct SocmateEngine {
    client: reqwest::Client,
    base_url: Url,
    /// Sent with every request; values are marked sensitive so `reqwest`/`hyper` never print them.
    auth_headers: HeaderMap,
    provider: String,
    request_timeout: Duration,
    time_range: TimeRangeMode,
}

impl fmt::Debug for SocmateEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocmateEngine")
            .field("base_url", &self.base_url.as_str())
            .field("authenticated", &!self.auth_headers.is_empty())
            .field("provider", &self.provider)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl SocmateEngine {
    pub fn new(config: EngineConfig) -> Result<Self, EngineConfigError> {
        let base_url = parse_base_url(&config.base_url)?;
        if config.request_timeout.is_zero() {
            return Err(EngineConfigError::InvalidSetting(
                "request_timeout must be positive",
            ));
        }
        if config.connect_timeout.is_zero() {
            return Err(EngineConfigError::InvalidSetting(
                "connect_timeout must be positive",
            ));
        }
        if config.provider.trim().is_empty() {
            return Err(EngineConfigError::InvalidSetting(
                "provider must not be empty",
            ));
        }
        let auth_headers = auth_headers(config.credential.as_ref())?;
        let client = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            // A redirect could carry `X-API-Key` (which reqwest does not strip) to another host; the contract has
            // no redirects, so a 3xx is reported instead of followed.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "scheduled-investigations/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(EngineConfigError::Client)?;
        Ok(Self {
            client,
            base_url,
            auth_headers,
            provider: config.provider,
            request_timeout: config.request_timeout,
            time_range: config.time_range,
        })
    }

    /// `base_url` with `segments` appended, each percent-encoded as one path segment.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base_url.clone();
        // `parse_base_url` refused cannot-be-a-base URLs, so there are always segments to extend.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Sends a request and returns the status, headers and (bounded) body; network failures are `Unavailable`.
    async fn execute(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), EngineError> {
        let mut response = request
            .headers(self.auth_headers.clone())
            .send()
            .await
            .map_err(|e| self.network_error(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.network_error(&e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                // Only a 2xx body must be read in full; for errors the start of the body is plenty.
                if status.is_success() {
                    return Err(EngineError::InvalidResponse(format!(
                        "response body larger than {MAX_BODY_BYTES} bytes"
                    )));
                }
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, headers, body))
    }

    fn network_error(&self, error: &reqwest::Error) -> EngineError {
        let message = if error.is_timeout() {
            format!("no answer within {:?}", self.request_timeout)
        } else if error.is_connect() {
            format!("cannot connect: {}", error_chain(error))
        } else {
            error_chain(error)
        };
        tracing::debug!(error = %message, "engine request failed");
        EngineError::Unavailable(message)
    }
}

#[async_trait]
impl InvestigationEngine for SocmateEngine {
    async fn start(&self, request: &StartRequest) -> Result<String, EngineError> {
        let idempotency_key =
            HeaderValue::from_str(&request.idempotency_key).map_err(|_| EngineError::Rejected {
                status: 0,
                detail: "idempotency key is not a valid header value".to_owned(),
            })?;
        let mut query = request.query.clone();
        let window = request
            .time_range
            .filter(|_| self.time_range != TimeRangeMode::Off);
        if let Some(w) = window.filter(|_| self.time_range.sends_sentence()) {
            query = format!("{}\n\n{}", query.trim_end(), time_range_sentence(&w));
        }
        let mut body = serde_json::json!({
            "query": query,
            "persona": request.persona,
            "provider": self.provider,
        });
        if let Some(w) = window.filter(|_| self.time_range.sends_field()) {
            body["time_range"] = serde_json::json!({"start": w.start, "end": w.end});
        }
        let http = self
            .client
            .post(self.url(&["api", "v1", "investigations", "start"]))
            .header(IDEMPOTENCY_KEY, idempotency_key)
            .json(&body);
        let (status, headers, body) = self.execute(http).await?;
        if !status.is_success() {
            return Err(classify_failure(status, &headers, &body, Utc::now()));
        }
        let session_id = parse_start_response(&body)?;
        tracing::debug!(%session_id, idempotency_key = %request.idempotency_key, "engine session started");
        Ok(session_id)
    }

    async fn session(&self, session_id: &str) -> Result<SessionState, EngineError> {
        let http = self
            .client
            .get(self.url(&["api", "v1", "sessions", session_id]));
        let (status, headers, body) = self.execute(http).await?;
        if !status.is_success() {
            return Err(classify_failure(status, &headers, &body, Utc::now()));
        }
        parse_session_response(&body)
    }
}

fn parse_base_url(raw: &str) -> Result<Url, EngineConfigError> {
    let url =
        Url::parse(raw.trim()).map_err(|e| EngineConfigError::InvalidBaseUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(EngineConfigError::InvalidBaseUrl(format!(
            "scheme must be http or https, not {:?}",
            url.scheme()
        )));
    }
    if url.cannot_be_a_base() || url.host_str().is_none_or(str::is_empty) {
        return Err(EngineConfigError::InvalidBaseUrl("no host".to_owned()));
    }
    // Credentials belong in `credential`, where they are redacted; a URL is printed in errors and logs.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EngineConfigError::InvalidBaseUrl(
            "must not contain a user name or password; use the credential setting".to_owned(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(EngineConfigError::InvalidBaseUrl(
            "must not contain a query or fragment".to_owned(),
        ));
    }
    Ok(url)
}

fn auth_headers(credential: Option<&EngineCredential>) -> Result<HeaderMap, EngineConfigError> {
    let mut headers = HeaderMap::new();
    let (name, value) = match credential {
        None => return Ok(headers),
        Some(EngineCredential::ApiKey(key)) => (X_API_KEY, key.expose_secret().trim().to_owned()),
        Some(EngineCredential::Bearer(token)) => (
            AUTHORIZATION,
            format!("Bearer {}", token.expose_secret().trim()),
        ),
    };
    if value.is_empty() || value == "Bearer " {
        return Err(EngineConfigError::InvalidCredential("empty"));
    }
    let mut value = HeaderValue::from_str(&value).map_err(|_| {
        EngineConfigError::InvalidCredential("contains characters not allowed in a header")
    })?;
    value.set_sensitive(true);
    headers.insert(name, value);
    Ok(headers)
}

/// Maps a non-2xx answer to the error class the failure policy acts on (DESIGN §5).
fn classify_failure(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> EngineError {
    let detail = error_detail(body);
    match status.as_u16() {
        429 => {
            let header = headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok());
            EngineError::Backpressure {
                retry_after: parse_retry_after(header, now),
            }
        }
        // 408 is the server giving up waiting on us: as transient as a gateway timeout.
        408 | 500..=599 => EngineError::Unavailable(match detail {
            Some(detail) => format!("HTTP {status}: {detail}"),
            None => format!("HTTP {status}"),
        }),
        code => EngineError::Rejected {
            status: code,
            detail: match detail {
                Some(detail) => detail,
                None if status.is_redirection() => match headers.get(reqwest::header::LOCATION) {
                    Some(location) => format!(
                        "unexpected redirect to {}",
                        truncate_chars(
                            &String::from_utf8_lossy(location.as_bytes()),
                            MAX_DETAIL_CHARS
                        )
                    ),
                    None => "unexpected redirect".to_owned(),
                },
                None => status
                    .canonical_reason()
                    .unwrap_or("unexpected status")
                    .to_owned(),
            },
        },
    }
}

/// How long to wait after a `429`: `Retry-After` as delta-seconds or an HTTP-date, clamped to
/// [`MIN_RETRY_AFTER`]..=[`MAX_RETRY_AFTER`]; [`DEFAULT_RETRY_AFTER`] when absent or unreadable.
pub fn parse_retry_after(header: Option<&str>, now: DateTime<Utc>) -> Duration {
    let Some(value) = header.map(str::trim).filter(|v| !v.is_empty()) else {
        return DEFAULT_RETRY_AFTER;
    };
    let wait = if value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits but too large for u64 is still "a very long time".
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        // RFC 2822 parsing covers the IMF-fixdate form servers must send ("Sun, 06 Nov 1994 08:49:37 GMT").
        (date.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
    } else {
        return DEFAULT_RETRY_AFTER;
    };
    wait.clamp(MIN_RETRY_AFTER, MAX_RETRY_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap()
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_falls_back() {
        assert_eq!(parse_retry_after(Some("7"), now()), Duration::from_secs(7));
        assert_eq!(
            parse_retry_after(Some(" 120 "), now()),
            Duration::from_secs(120)
        );
        assert_eq!(
            parse_retry_after(Some("Tue, 24 Nov 2026 08:00:45 GMT"), now()),
            Duration::from_secs(45)
        );
        assert_eq!(parse_retry_after(None, now()), DEFAULT_RETRY_AFTER);
        assert_eq!(parse_retry_after(Some("soon"), now()), DEFAULT_RETRY_AFTER);
        assert_eq!(parse_retry_after(Some("-5"), now()), DEFAULT_RETRY_AFTER);
        assert_eq!(parse_retry_after(Some("1.5"), now()), DEFAULT_RETRY_AFTER);
        // Clamped at both ends.
        assert_eq!(parse_retry_after(Some("0"), now()), MIN_RETRY_AFTER);
        assert_eq!(
            parse_retry_after(Some("Tue, 24 Nov 2026 07:00:00 GMT"), now()),
            MIN_RETRY_AFTER
        );
        assert_eq!(
            parse_retry_after(Some("999999999999999999999999"), now()),
            MAX_RETRY_AFTER
        );
        assert_eq!(parse_retry_after(Some("86400"), now()), MAX_RETRY_AFTER);
    }

    #[test]
    fn failures_are_classified_by_status() {
        let empty = HeaderMap::new();
        let classify = |code: u16, body: &str| {
            classify_failure(
                StatusCode::from_u16(code).unwrap(),
                &empty,
                body.as_bytes(),
                now(),
            )
        };
        assert_eq!(
            classify(503, r#"{"detail":"Sentinel unreachable"}"#),
            EngineError::Unavailable(
                "HTTP 503 Service Unavailable: Sentinel unreachable".to_owned()
            )
        );
        assert_eq!(
            classify(500, ""),
            EngineError::Unavailable("HTTP 500 Internal Server Error".to_owned())
        );
        assert!(matches!(classify(408, ""), EngineError::Unavailable(_)));
        assert_eq!(
            classify(
                422,
                r#"{"detail":[{"loc":["body","query"],"msg":"field required"}]}"#
            ),
            EngineError::Rejected {
                status: 422,
                detail: r#"[{"loc":["body","query"],"msg":"field required"}]"#.to_owned()
            }
        );
        assert_eq!(
            classify(404, ""),
            EngineError::Rejected {
                status: 404,
                detail: "Not Found".to_owned()
            }
        );
        assert_eq!(
            classify(400, "<html>bad</html>"),
            EngineError::Rejected {
                status: 400,
                detail: "<html>bad</html>".to_owned()
            }
        );
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("12"));
        assert_eq!(
            classify_failure(StatusCode::TOO_MANY_REQUESTS, &headers, b"", now()),
            EngineError::Backpressure {
                retry_after: Duration::from_secs(12)
            }
        );
    }

    #[test]
    fn config_is_validated_and_the_credential_never_printed() {
        let bad = |url: &str| SocmateEngine::new(EngineConfig::new(url)).unwrap_err();
        assert!(matches!(
            bad("not a url"),
            EngineConfigError::InvalidBaseUrl(_)
        ));
        assert!(matches!(
            bad("ftp://engine"),
            EngineConfigError::InvalidBaseUrl(_)
        ));
        let with_password = bad("https://user:hunter2@engine").to_string();
        assert!(!with_password.contains("hunter2"), "{with_password}");

        let config = EngineConfig::new("http://127.0.0.1:9/prefix/")
            .with_credential(EngineCredential::ApiKey("s3cret-key".into()));
        assert!(!format!("{config:?}").contains("s3cret"));
        let engine = SocmateEngine::new(config).unwrap();
        assert!(!format!("{engine:?}").contains("s3cret"));
        assert_eq!(
            engine.url(&["api", "v1", "sessions", "a/b c"]).as_str(),
            "http://127.0.0.1:9/prefix/api/v1/sessions/a%2Fb%20c"
        );

        let bad_credential = SocmateEngine::new(
            EngineConfig::new("http://127.0.0.1:9")
                .with_credential(EngineCredential::Bearer("line\nbreak".into())),
        )
        .unwrap_err();
        assert!(matches!(
            bad_credential,
            EngineConfigError::InvalidCredential(_)
        ));
    }
}
