//! The local runner's configuration, read from the environment once at start-up. Bad values stop the start with
//! a message naming the variable.

use anyhow::{Context, bail};
use rand::Rng;
use shared::adapters::engine_http::{EngineConfig, EngineCredential};
use shared::adapters::sandbox_engine::SandboxConfig;
use shared::config::ServiceConfig;
use shared::domain::{Caller, Role};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub struct LocalConfig {
    pub listen_addr: SocketAddr,
    pub data_dir: PathBuf,
    pub tokens: Vec<(String, Caller)>,
    pub engine_url: Option<String>,
    engine_api_key: Option<String>,
    pub webhook_url: Option<String>,
    pub dispatch_interval: Duration,
    pub status_interval: Duration,
    pub service: ServiceConfig,
    pub sandbox: SandboxConfig,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn parsed<T: FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    Ok(shared::config::parse_var(
        &|n: &str| std::env::var(n).ok(),
        name,
        default,
    )?)
}

fn secs(name: &str, default: f64) -> anyhow::Result<Duration> {
    let v: f64 = parsed(name, default)?;
    if !(v.is_finite() && v > 0.0) {
        bail!("{name} must be a positive number of seconds");
    }
    Ok(Duration::from_secs_f64(v))
}

impl LocalConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "data".into()));
        let service = ServiceConfig::from_lookup(|name| std::env::var(name).ok())?;
        let sandbox = SandboxConfig {
            run_time: secs("SANDBOX_RUN_SECS", 20.0)?,
            failure_rate: parsed("SANDBOX_FAILURE_RATE", 0.0f64)?,
            fail_queries_containing: var("SANDBOX_FAIL_MARKER"),
            ..SandboxConfig::default()
        };
        let mut tokens = vec![(
            admin_token(&data_dir)?,
            Caller {
                user: "admin".into(),
                role: Role::Admin,
            },
        )];
        if let Some(list) = var("API_TOKENS") {
            tokens.extend(api::auth::BearerTokens::parse_list(&list).map_err(anyhow::Error::msg)?);
        }
        Ok(Self {
            listen_addr: parsed("LISTEN_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            data_dir,
            tokens,
            engine_url: var("ENGINE_URL"),
            engine_api_key: var("ENGINE_API_KEY"),
            webhook_url: var("WEBHOOK_URL"),
            dispatch_interval: secs("DISPATCH_INTERVAL_SECS", 60.0)?,
            status_interval: secs("STATUS_CHECK_INTERVAL_SECS", 300.0)?,
            service,
            sandbox,
        })
    }

    pub fn engine_config(&self, base_url: String) -> EngineConfig {
        let config = EngineConfig::new(base_url);
        match &self.engine_api_key {
            Some(key) => config.with_credential(EngineCredential::ApiKey(key.clone())),
            None => config,
        }
    }
}

/// The admin token: `API_TOKEN` if set, else the one stored under `DATA_DIR`, else a new one (stored with
/// owner-only permissions and printed once).
fn admin_token(data_dir: &Path) -> anyhow::Result<String> {
    if let Some(t) = var("API_TOKEN") {
        if t.len() < 16 {
            bail!("API_TOKEN must be at least 16 characters");
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
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create DATA_DIR {}", data_dir.display()))?;
    let token: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    write_private(&path, &token).with_context(|| format!("cannot write {}", path.display()))?;
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
    let json = var("LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init()
    } else {
        builder.init()
    }
}
