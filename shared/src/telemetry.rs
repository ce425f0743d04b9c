//! The service's measurements, recorded once in the use cases through the [`metrics`] facade and exported by
//! whatever recorder the entry point installs: CloudWatch Embedded Metric Format lines on Lambda (namespace
//! [`NAMESPACE`], dimension `Function`), Prometheus text at `GET /metrics` locally. Same names in both.
//!
//! Without a recorder (unit tests that do not look) every call is a no-op.

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "ScheduledInvestigations";

/// Occurrences claimed (a run created for a due occurrence).
pub const RUNS_CLAIMED: &str = "runs_claimed";
/// Runs the engine accepted (start confirmed).
pub const RUNS_STARTED: &str = "runs_started";
/// Starts put off because the engine answered 429 (backpressure).
pub const RUNS_DEFERRED: &str = "runs_deferred";
/// Starts that failed transiently and will be retried.
pub const RUNS_RETRIED: &str = "runs_retried";
/// Runs that finished `completed`.
pub const RUNS_COMPLETED: &str = "runs_completed";
/// Runs that finished `failed`, by `error_kind`.
pub const RUNS_FAILED: &str = "runs_failed";
/// Occurrences skipped because an earlier run of the schedule was still in flight.
pub const RUNS_SKIPPED: &str = "runs_skipped";
/// Runs failed because they ran past the run timeout (also counted in [`RUNS_FAILED`] as `timed_out`).
pub const RUNS_TIMED_OUT: &str = "runs_timed_out";
/// Claims lost to another dispatcher or a concurrent edit.
pub const CLAIM_CONFLICTS: &str = "claim_conflicts";
/// Notifications published.
pub const NOTIFICATIONS_PUBLISHED: &str = "notifications_published";
/// Notifications whose publish failed (retried later).
pub const NOTIFICATIONS_FAILED: &str = "notifications_failed";
/// Start confirmed − occurrence, in seconds.
pub const DISPATCH_LAG: &str = "dispatch_lag_seconds";
/// New findings in completed runs (fingerprints the schedule's previous completed run did not report).
pub const FINDINGS_NEW: &str = "findings_new";
/// Coverage gaps announced (`coverage-gap` notifications published): time a schedule's runs did not cover.
pub const COVERAGE_GAPS: &str = "coverage_gaps";
/// How long one tick took, by `tick` (`dispatch`, `status_check`).
pub const TICK_DURATION: &str = "tick_duration_seconds";

/// Every metric name, for exporters and tests.
pub const ALL: [&str; 15] = [
    RUNS_CLAIMED,
    RUNS_STARTED,
    RUNS_DEFERRED,
    RUNS_RETRIED,
    RUNS_COMPLETED,
    RUNS_FAILED,
    RUNS_SKIPPED,
    RUNS_TIMED_OUT,
    CLAIM_CONFLICTS,
    NOTIFICATIONS_PUBLISHED,
    NOTIFICATIONS_FAILED,
    FINDINGS_NEW,
    COVERAGE_GAPS,
    DISPATCH_LAG,
    TICK_DURATION,
];

/// Registers units and help texts with the installed recorder (Prometheus `# HELP`, CloudWatch units). Call once
/// after installing it.
pub fn describe() {
    for (name, help) in [
        (
            RUNS_CLAIMED,
            "Occurrences claimed (runs created for due occurrences)",
        ),
        (RUNS_STARTED, "Runs the engine accepted"),
        (RUNS_DEFERRED, "Starts put off by engine backpressure (429)"),
        (
            RUNS_RETRIED,
            "Starts that failed transiently and will be retried",
        ),
        (RUNS_COMPLETED, "Runs finished as completed"),
        (RUNS_FAILED, "Runs finished as failed, by error kind"),
        (
            RUNS_SKIPPED,
            "Occurrences skipped because a run was still in flight",
        ),
        (
            RUNS_TIMED_OUT,
            "Runs failed for running past the run timeout",
        ),
        (
            CLAIM_CONFLICTS,
            "Claims lost to another dispatcher or a concurrent edit",
        ),
        (NOTIFICATIONS_PUBLISHED, "Notifications published"),
        (NOTIFICATIONS_FAILED, "Notification publishes that failed"),
        (
            FINDINGS_NEW,
            "New findings in completed runs (not in the previous completed run)",
        ),
        (
            COVERAGE_GAPS,
            "Coverage gaps announced (coverage-gap notifications)",
        ),
    ] {
        describe_counter!(name, Unit::Count, help);
    }
    describe_histogram!(
        DISPATCH_LAG,
        Unit::Seconds,
        "Start confirmed minus the occurrence it is for"
    );
    describe_histogram!(TICK_DURATION, Unit::Seconds, "Duration of one tick");
}

pub(crate) fn count(name: &'static str) {
    counter!(name).increment(1);
}

pub(crate) fn count_by(name: &'static str, n: u64) {
    counter!(name).increment(n);
}

pub(crate) fn run_failed(error_kind: &'static str) {
    counter!(RUNS_FAILED, "error_kind" => error_kind).increment(1);
}

pub(crate) fn dispatch_lag(seconds: f64) {
    histogram!(DISPATCH_LAG).record(seconds);
}

pub(crate) fn tick_duration(tick: &'static str, seconds: f64) {
    histogram!(TICK_DURATION, "tick" => tick).record(seconds);
}
