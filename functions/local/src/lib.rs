//! The local product in one process: the API and web UI, the minute dispatcher and the five-minute status
//! checker, on a SQLite file and (unless `ENGINE_URL` is set) the bundled sandbox engine. No AWS account needed.
//! A library, so tests start the product in-process ([`App::build`], [`App::spawn`]); `main.rs` only wires it.

pub mod config;
pub mod error;
pub mod metrics;
pub mod oidc;

pub use config::{LocalConfig, init_tracing};
pub use error::StartError;

use api::auth::BearerTokens;
use api::ui::SignIn;
use config::AuthMode;
use shared::adapters::engine_http::SocmateEngine;
use shared::adapters::notify_local::{FanoutNotifier, LogNotifier, WebhookNotifier};
use shared::adapters::sandbox_engine::{SandboxEngine, SandboxHandle};
use shared::adapters::sqlite::SqliteScheduleStore;
use shared::ports::{Clock, Notifier, SystemClock};
use shared::services::Services;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The product wired and bound to its address, not yet serving: [`App::run_until`] serves in the caller's task
/// (the binary), [`App::spawn`] in a task of its own (tests).
pub struct App {
    listener: tokio::net::TcpListener,
    router: axum::Router,
    services: Services,
    clock: Arc<dyn Clock>,
    dispatch_interval: Duration,
    status_interval: Duration,
    sandbox: Option<SandboxHandle>,
}

impl App {
    /// Opens the store under `DATA_DIR`, starts the sandbox engine unless `ENGINE_URL` is set, wires the use
    /// cases, the API and the UI, and binds `LISTEN_ADDR` (port 0: any free port, see [`App::addr`]).
    pub async fn build(cfg: LocalConfig) -> Result<Self, StartError> {
        Self::build_with_clock(cfg, Arc::new(SystemClock)).await
    }

    /// [`App::build`] on `clock` (tests move a fixed clock to run minutely schedules in seconds).
    pub async fn build_with_clock(
        cfg: LocalConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartError> {
        // Clients: the store, the engine, the notification channels.
        std::fs::create_dir_all(&cfg.data_dir).map_err(StartError::io(format!(
            "cannot create DATA_DIR {}",
            cfg.data_dir.display()
        )))?;
        let db_path = cfg.data_dir.join("schedules.db");
        let store = Arc::new(
            SqliteScheduleStore::open(&db_path, cfg.service.run_retention).map_err(|source| {
                StartError::Store {
                    path: db_path.display().to_string(),
                    source,
                }
            })?,
        );
        let (engine_url, sandbox): (String, Option<SandboxHandle>) = match &cfg.engine_url {
            Some(url) => (url.clone(), None),
            None => {
                let handle = SandboxEngine::spawn(cfg.sandbox.clone(), cfg.sandbox_addr).map_err(
                    StartError::io(format!(
                        "cannot start the sandbox engine on {} (set SANDBOX_ADDR)",
                        cfg.sandbox_addr
                    )),
                )?;
                tracing::info!(url = %handle.base_url(), run_secs = cfg.sandbox.run_time.as_secs_f64(),
                    "no ENGINE_URL set: using the bundled SANDBOX engine (simulated investigations, not Sentinel)");
                (handle.base_url(), Some(handle))
            }
        };
        let engine = Arc::new(
            SocmateEngine::new(cfg.engine_config(engine_url)).map_err(StartError::Engine)?,
        );
        let mut notifiers: Vec<Arc<dyn Notifier>> = vec![Arc::new(LogNotifier)];
        if let Some(url) = &cfg.webhook_url {
            let url = secrecy::ExposeSecret::expose_secret(url);
            notifiers.push(Arc::new(WebhookNotifier::new(url).map_err(|e| {
                shared::config::ConfigError(format!("WEBHOOK_URL: {}", e.what))
            })?));
        }

        // Wiring: the use cases on them, the API and UI on the use cases.
        let services = Services::new(
            store,
            engine,
            Arc::new(FanoutNotifier(notifiers)),
            clock.clone(),
            cfg.service.clone(),
        );
        let (auth, sign_in): (Arc<dyn api::auth::Authenticator>, SignIn) = match &cfg.auth {
            AuthMode::Tokens => (
                Arc::new(BearerTokens::new(cfg.tokens.clone())),
                SignIn::Token,
            ),
            AuthMode::Oidc(mode) => {
                let (verifier, sign_in) = (&mode.verifier, &mode.sign_in);
                tracing::info!(issuer = %verifier.issuer, "AUTH_MODE=oidc: callers sign in with the issuer");
                (
                    Arc::new(oidc::OidcVerifier::new(verifier.clone()).map_err(|e| {
                        StartError::io("cannot build the HTTP client for OIDC")(
                            std::io::Error::other(e),
                        )
                    })?),
                    SignIn::Oidc(sign_in.clone()),
                )
            }
        };
        metrics::install();
        let router = api::router_with_ui(services.clone(), auth.clone(), &sign_in)
            .merge(metrics::routes(auth));

        let listener = tokio::net::TcpListener::bind(cfg.listen_addr)
            .await
            .map_err(StartError::io(format!(
                "cannot listen on {} (set LISTEN_ADDR)",
                cfg.listen_addr
            )))?;
        let addr = listener
            .local_addr()
            .map_err(StartError::io("the listener has no address"))?;
        tracing::info!(%addr, data_dir = %cfg.data_dir.display(),
            "scheduled investigations running: open http://{addr}/");
        Ok(Self {
            listener,
            router,
            services,
            clock,
            dispatch_interval: cfg.dispatch_interval,
            status_interval: cfg.status_interval,
            sandbox,
        })
    }

    /// The address the API listens on.
    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has an address")
    }

    /// Serves the API and runs the dispatcher and status-checker ticks until `shutdown` resolves; then lets a
    /// tick in progress finish its writes and stops the sandbox engine.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let Self {
            listener,
            router,
            services,
            clock,
            dispatch_interval,
            status_interval,
            sandbox,
        } = self;
        let (stop_tx, stop_rx) = watch::channel(false);
        let dispatcher = tokio::spawn(every(dispatch_interval, stop_rx.clone(), {
            let services = services.clone();
            let clock = clock.clone();
            move || {
                let services = services.clone();
                let now = clock.now();
                async move {
                    if let Err(e) = services.dispatch_due(now, None).await {
                        tracing::error!(error = %e, "dispatch tick failed; the next tick retries");
                    }
                }
            }
        }));
        let checker = tokio::spawn(every(status_interval, stop_rx, {
            move || {
                let services = services.clone();
                let now = clock.now();
                async move {
                    if let Err(e) = services.check_runs(now, None).await {
                        tracing::error!(error = %e, "status check failed; the next tick retries");
                    }
                }
            }
        }));

        let served = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(StartError::io("the HTTP server failed"));

        // Let a tick in progress finish its writes; every run it touched is durable either way (a pending run with a
        // lease is picked up again after a restart).
        tracing::info!("shutting down: waiting for background ticks to finish");
        let _ = stop_tx.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(20), async {
            let _ = dispatcher.await;
            let _ = checker.await;
        })
        .await;
        if let Some(sandbox) = sandbox {
            sandbox.shutdown().await;
        }
        tracing::info!("stopped");
        served
    }

    /// Serves in a task of its own; the handle knows the address and stops it.
    pub fn spawn(self) -> AppHandle {
        let addr = self.addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(self.run_until(async {
            let _ = stopped.await;
        }));
        AppHandle { addr, stop, task }
    }
}

/// A running [`App`] (see [`App::spawn`]).
pub struct AppHandle {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), StartError>>,
}

impl AppHandle {
    /// The address the API listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops as SIGTERM stops the binary: requests in flight are answered, ticks in progress finish.
    /// A panic in the app's task is passed on.
    pub async fn shutdown(self) -> Result<(), StartError> {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(result) => result,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

/// Runs `tick` every `interval` (first tick at once) until `stop` turns true; a tick in progress is not cut off.
async fn every<F, Fut>(interval: Duration, mut stop: watch::Receiver<bool>, tick: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut timer = tokio::time::interval(interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = timer.tick() => {}
            _ = stop.changed() => return,
        }
        tick().await;
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
