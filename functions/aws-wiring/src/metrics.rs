//! The Lambda exporter of [`shared::telemetry`]: CloudWatch Embedded Metric Format documents on stdout (logs go to
//! stderr), namespace [`NAMESPACE`], dimension `Function`, written once at the end of each invocation. CloudWatch
//! Logs turns them into metrics, so no `PutMetricData` call and no extra permission is needed.

use metrics_cloudwatch_embedded::Collector;
use shared::telemetry::{self, NAMESPACE};
use std::future::Future;

/// The EMF collector of this process: installed as the global `metrics` recorder, with `Function = function`
/// (`dispatcher`, `status-checker`, `api`: stable names the template's alarms and dashboard use).
pub struct Emf(&'static Collector);

impl Emf {
    /// Installs the recorder. `None` (with a warning) if another recorder was installed first.
    pub fn install(function: &'static str) -> Option<Self> {
        match metrics_cloudwatch_embedded::Builder::new()
            .cloudwatch_namespace(NAMESPACE)
            .with_dimension("Function", function)
            .init()
        {
            Ok(collector) => {
                telemetry::describe();
                Some(Self(collector))
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed; this function reports no metrics");
                None
            }
        }
    }

    /// Writes what was recorded since the last flush as one EMF document per dimension set, on stdout.
    pub fn flush(&self) {
        if let Err(e) = self.0.flush(std::io::stdout().lock()) {
            tracing::warn!(error = %e, "could not write the metrics of this invocation");
        }
    }
}

/// Runs one invocation, then flushes its metrics (whatever it returned).
pub async fn flushed<T>(emf: Option<&Emf>, invocation: impl Future<Output = T>) -> T {
    let out = invocation.await;
    if let Some(emf) = emf {
        emf.flush();
    }
    out
}
