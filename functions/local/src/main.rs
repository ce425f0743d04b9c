//! The local product in one process: the API and web UI, the minute dispatcher and the five-minute status
//! checker, on a SQLite file and (unless `ENGINE_URL` is set) the bundled sandbox engine. No AWS account needed.

mod config;

use anyhow::Context;
use api::auth::BearerTokens;
use config::LocalConfig;
use shared::adapters::engine_http::SocmateEngine;
use shared::adapters::notify_local::{FanoutNotifier, LogNotifier, WebhookNotifier};
use shared::adapters::sandbox_engine::{SandboxEngine, SandboxHandle};
use shared::adapters::sqlite::SqliteScheduleStore;
use shared::ports::{Clock, Notifier, SystemClock};
use shared::services::Services;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // 1. Tracing. 2. Configuration, once. 3. Clients. 4. Wiring. 5. Run.
    config::init_tracing();
    let cfg = LocalConfig::from_env()?;

    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create DATA_DIR {}", cfg.data_dir.display()))?;
    let db_path = cfg.data_dir.join("schedules.db");
    let store = Arc::new(
        SqliteScheduleStore::open(&db_path, cfg.service.run_retention)
            .with_context(|| format!("opening {}", db_path.display()))?,
    );

    let (engine_url, sandbox): (String, Option<SandboxHandle>) = match &cfg.engine_url {
        Some(url) => (url.clone(), None),
        None => {
            let handle = SandboxEngine::spawn(cfg.sandbox.clone(), "127.0.0.1:0".parse()?)
                .context("starting the sandbox engine")?;
            tracing::info!(url = %handle.base_url(), run_secs = cfg.sandbox.run_time.as_secs_f64(),
                "no ENGINE_URL set: using the bundled SANDBOX engine (simulated investigations, not Sentinel)");
            (handle.base_url(), Some(handle))
        }
    };
    let engine = Arc::new(
        SocmateEngine::new(cfg.engine_config(engine_url)).context("engine configuration")?,
    );

    let mut notifiers: Vec<Arc<dyn Notifier>> = vec![Arc::new(LogNotifier)];
    if let Some(url) = &cfg.webhook_url {
        notifiers.push(Arc::new(
            WebhookNotifier::new(url).map_err(|e| anyhow::anyhow!(e.0))?,
        ));
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let services = Services::new(
        store,
        engine,
        Arc::new(FanoutNotifier(notifiers)),
        clock.clone(),
        cfg.service.clone(),
    );

    let auth = Arc::new(BearerTokens::new(cfg.tokens.clone()));
    let app = api::router_with_ui(services.clone(), auth);

    let (stop_tx, stop_rx) = watch::channel(false);
    let dispatcher = tokio::spawn(every(cfg.dispatch_interval, stop_rx.clone(), {
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
    let checker = tokio::spawn(every(cfg.status_interval, stop_rx.clone(), {
        let services = services.clone();
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

    let listener = tokio::net::TcpListener::bind(cfg.listen_addr)
        .await
        .with_context(|| format!("cannot listen on {} (set LISTEN_ADDR)", cfg.listen_addr))?;
    tracing::info!(addr = %cfg.listen_addr, data_dir = %cfg.data_dir.display(),
        "scheduled investigations running: open http://{}/", cfg.listen_addr);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("HTTP server failed")?;

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
    Ok(())
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

async fn shutdown_signal() {
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
