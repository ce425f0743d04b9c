//! The local runner's configuration, read from the environment once at start-up. Bad values stop the start with
//! a message naming the variable.

use crate::error::StartError;
use crate::oidc::OidcVerifierConfig;
use api::auth::ClaimsMapping;
use api::ui::OidcSignIn;
use rand::Rng;
use secrecy::SecretString;
use shared::adapters::engine_http::{EngineConfig, EngineCredential, TimeRangeMode};
use shared::adapters::sandbox_engine::SandboxConfig;
use shared::config::{
    ConfigError, ServiceConfig, parse_var, process_env, required_var, secs_var, var,
};
use shared::domain::{Caller, Role};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct LocalConfig {
    /// `LISTEN_ADDR` (default `127.0.0.1:8080`; port 0: any free port).
    pub listen_addr: SocketAddr,
    /// `DATA_DIR` (default `data`): the SQLite file and the stored admin token.
    pub data_dir: PathBuf,
    /// The admin token (`API_TOKEN` or the stored one) and `API_TOKENS` (none with `AUTH_MODE=oidc`).
    pub tokens: Vec<(String, Caller)>,
    /// `AUTH_MODE`: `token` (default) or `oidc`.
    pub auth: AuthMode,
    /// `ENGINE_URL`: a real engine instead of the sandbox.
    pub engine_url: Option<String>,
    engine_api_key: Option<SecretString>,
    /// `ENGINE_TIME_RANGE` (`both`, `field`, `query`, `off`): how runs tell the engine their data window.
    pub engine_time_range: TimeRangeMode,
    /// `WEBHOOK_URL`: notifications are also posted there (a secret: it carries the channel's token).
    pub webhook_url: Option<SecretString>,
    /// `DISPATCH_INTERVAL_SECS` (60) and `STATUS_CHECK_INTERVAL_SECS` (300).
    pub dispatch_interval: Duration,
    pub status_interval: Duration,
    pub service: ServiceConfig,
    /// `SANDBOX_RUN_SECS`, `SANDBOX_FAILURE_RATE`, `SANDBOX_FAIL_MARKER`.
    pub sandbox: SandboxConfig,
    /// `SANDBOX_ADDR` (default `127.0.0.1:0`, a new free port each start): where the sandbox engine listens, so
    /// something outside the runner (a Lambda function under `cargo lambda watch`) can keep one `ENGINE_URL`.
    pub sandbox_addr: SocketAddr,
}

impl LocalConfig {
    pub fn from_env() -> Result<Self, StartError> {
        Self::from_lookup(process_env)
    }

    /// The same from any lookup (tests pass a map instead of touching the process environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, StartError> {
        let data_dir = PathBuf::from(var(&lookup, "DATA_DIR").unwrap_or_else(|| "data".into()));
        let service = ServiceConfig::from_lookup(&lookup)?;
        let sandbox = SandboxConfig {
            run_time: secs_var(&lookup, "SANDBOX_RUN_SECS", Duration::from_secs(20))?,
            failure_rate: parse_var(&lookup, "SANDBOX_FAILURE_RATE", 0.0f64)?,
            fail_queries_containing: var(&lookup, "SANDBOX_FAIL_MARKER"),
            ..SandboxConfig::default()
        };
        let auth = AuthMode::from_lookup(&lookup)?;
        let mut tokens = Vec::new();
        if auth == AuthMode::Tokens {
            tokens.push((
                admin_token(var(&lookup, "API_TOKEN"), &data_dir)?,
                Caller {
                    user: "admin".into(),
                    role: Role::Admin,
                },
            ));
        }
        if let Some(list) = var(&lookup, "API_TOKENS").filter(|_| auth == AuthMode::Tokens) {
            tokens.extend(
                api::auth::BearerTokens::parse_list(&list)
                    .map_err(|e| ConfigError(format!("API_TOKENS: {e}")))?,
            );
        }
        Ok(Self {
            listen_addr: parse_var(
                &lookup,
                "LISTEN_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 8080)),
            )?,
            data_dir,
            tokens,
            auth,
            engine_url: var(&lookup, "ENGINE_URL"),
            engine_api_key: var(&lookup, "ENGINE_API_KEY").map(SecretString::from),
            engine_time_range: parse_var(&lookup, "ENGINE_TIME_RANGE", TimeRangeMode::Both)?,
            webhook_url: var(&lookup, "WEBHOOK_URL").map(SecretString::from),
            dispatch_interval: secs_var(
                &lookup,
                "DISPATCH_INTERVAL_SECS",
                Duration::from_secs(60),
            )?,
            status_interval: secs_var(
                &lookup,
                "STATUS_CHECK_INTERVAL_SECS",
                Duration::from_secs(300),
            )?,
            service,
            sandbox,
            sandbox_addr: parse_var(
                &lookup,
                "SANDBOX_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 0)),
            )?,
        })
    }

    pub fn engine_config(&self, base_url: String) -> EngineConfig {
        let config = EngineConfig::new(base_url).with_time_range(self.engine_time_range);
        match &self.engine_api_key {
            Some(key) => config.with_credential(EngineCredential::ApiKey(key.clone())),
            None => config,
        }
    }
}

/// How callers sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// Static bearer tokens (`API_TOKEN`, `API_TOKENS`); the UI asks for one.
    Tokens,
    /// JWTs of an OpenID Connect issuer, verified here; the UI signs in with the issuer (code flow with PKCE).
    Oidc(Box<OidcMode>),
}

/// `AUTH_MODE=oidc`: what tokens are checked against, and what the UI signs in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcMode {
    pub verifier: OidcVerifierConfig,
    pub sign_in: OidcSignIn,
}

impl AuthMode {
    /// `AUTH_MODE` (`token` or `oidc`); for `oidc`: `OIDC_ISSUER`, `OIDC_AUDIENCE` (comma-separated),
    /// `OIDC_CLIENT_ID` (the UI's public client), optional `OIDC_SCOPES`, `OIDC_RESOURCE`, `OIDC_EXTRA_ORIGINS`,
    /// `ROLES_CLAIM`, `ADMIN_ROLE` (as on Lambda).
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match var(lookup, "AUTH_MODE").as_deref() {
            None | Some("token") => Ok(Self::Tokens),
            Some("oidc") => {
                let issuer = required_var(lookup, "OIDC_ISSUER")?;
                let audiences: Vec<String> = required_var(lookup, "OIDC_AUDIENCE")?
                    .split(',')
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                    .collect();
                required_var(lookup, "OIDC_CLIENT_ID")?;
                let sign_in = OidcSignIn::from_lookup(lookup)?
                    .ok_or_else(|| ConfigError("OIDC_CLIENT_ID is not set".into()))?;
                Ok(Self::Oidc(Box::new(OidcMode {
                    verifier: OidcVerifierConfig {
                        issuer,
                        audiences,
                        mapping: ClaimsMapping::from_lookup(lookup),
                    },
                    sign_in,
                })))
            }
            Some(other) => Err(ConfigError(format!(
                "AUTH_MODE must be token or oidc (got {other:?})"
            ))),
        }
    }
}

/// The admin token: `API_TOKEN` if set, else the one stored under `DATA_DIR`, else a new one (stored with
/// owner-only permissions and printed once).
fn admin_token(api_token: Option<String>, data_dir: &Path) -> Result<String, StartError> {
    if let Some(t) = api_token {
        if t.len() < 16 {
            return Err(ConfigError("API_TOKEN must be at least 16 characters".into()).into());
        }
        return Ok(t);
    }
    let path = data_dir.join("api-token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim().to_owned();
        if t.len() >= 16 {
            return Ok(t);
        }
    }
    std::fs::create_dir_all(data_dir).map_err(StartError::io(format!(
        "cannot create DATA_DIR {}",
        data_dir.display()
    )))?;
    let token: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    write_private(&path, &token)
        .map_err(StartError::io(format!("cannot write {}", path.display())))?;
    // Printed once, on purpose, to the terminal of the person who started it; never logged.
    println!(
        "\n  Admin API token (stored in {}): {token}\n",
        path.display()
    );
    Ok(token)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    let json = var(&process_env, "LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init()
    } else {
        builder.init()
    }
}
