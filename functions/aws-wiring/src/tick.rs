//! What the two scheduled functions (dispatcher, status checker) share: the check that an invocation is an
//! EventBridge tick, and how long the tick may work ([`deadline`]).

use crate::error::FunctionError;
use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use lambda_runtime::Context;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The `detail-type` EventBridge gives scheduled events.
pub const SCHEDULED_EVENT: &str = "Scheduled Event";

/// Stop taking new work this long before Lambda's deadline, so the work already begun can record its outcome.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(10);

/// Lambda's longest timeout. A deadline further away than this (plus some clock slack) is not Lambda's.
pub const LONGEST_LAMBDA_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const CLOCK_SLACK: Duration = Duration::from_secs(60);

/// Only scheduled events drive a tick; anything else means the template wired the wrong trigger.
pub fn check_tick(tick: &CloudWatchEvent) -> Result<(), FunctionError> {
    match tick.detail_type.as_deref() {
        Some(SCHEDULED_EVENT) => Ok(()),
        other => Err(FunctionError::InvalidEvent(format!(
            "expected an EventBridge \"{SCHEDULED_EVENT}\", got detail-type {other:?}"
        ))),
    }
}

/// Why an invocation's deadline (`Lambda-Runtime-Deadline-Ms`, epoch milliseconds on Lambda) cannot bound a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnusableDeadline {
    /// 0: the invoker sent none.
    #[error("the invocation carries no deadline")]
    Missing,
    /// Already past when the invocation arrived. cargo-lambda 1.9 sends its timeout as a duration (600000) where
    /// Lambda sends epoch milliseconds, which reads as a moment in 1970.
    #[error(
        "the invocation's deadline ({deadline_ms} ms) was already past on arrival (a local invoker that sends a duration, not epoch milliseconds?)"
    )]
    Past { deadline_ms: u64 },
    /// Further away than any Lambda timeout.
    #[error(
        "the invocation's deadline ({deadline_ms} ms) is {in_secs} s away, longer than any Lambda timeout"
    )]
    TooFar { deadline_ms: u64, in_secs: u64 },
}

/// How long an invocation whose deadline is `deadline_ms` (epoch milliseconds) has left at `now`.
pub fn remaining(deadline_ms: u64, now: SystemTime) -> Result<Duration, UnusableDeadline> {
    if deadline_ms == 0 {
        return Err(UnusableDeadline::Missing);
    }
    let at = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    match at.duration_since(now) {
        Err(_) => Err(UnusableDeadline::Past { deadline_ms }),
        Ok(left) if left > LONGEST_LAMBDA_TIMEOUT + CLOCK_SLACK => Err(UnusableDeadline::TooFar {
            deadline_ms,
            in_secs: left.as_secs(),
        }),
        Ok(left) => Ok(left),
    }
}

/// When a tick stops taking new work, on the monotonic clock: Lambda's deadline minus [`SAFETY_MARGIN`]. An
/// invocation without a usable deadline (see [`UnusableDeadline`]) gets `max_tick` (`MAX_TICK_SECS`) from now
/// instead, with one warning that says why.
pub fn deadline(context: &Context, max_tick: Duration) -> Instant {
    let now = Instant::now();
    match remaining(context.deadline, SystemTime::now()) {
        Ok(left) => now + left.saturating_sub(SAFETY_MARGIN),
        Err(why) => {
            tracing::warn!(
                deadline_ms = context.deadline,
                max_tick_secs = max_tick.as_secs_f64(),
                "{why}: this tick stops taking new work after MAX_TICK_SECS instead"
            );
            now + max_tick
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t: SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
    }

    #[test]
    fn only_a_deadline_lambda_could_have_sent_is_used() {
        let now = SystemTime::now();
        let left = remaining(ms(now + Duration::from_secs(55)), now).unwrap();
        assert!(left > Duration::from_secs(54) && left <= Duration::from_secs(55));
        assert_eq!(remaining(0, now), Err(UnusableDeadline::Missing));
        // cargo-lambda 1.9.2's header: its 600 s timeout, as if it were epoch milliseconds.
        assert_eq!(
            remaining(600_000, now),
            Err(UnusableDeadline::Past {
                deadline_ms: 600_000
            })
        );
        let past = ms(now - Duration::from_secs(1));
        assert!(matches!(
            remaining(past, now),
            Err(UnusableDeadline::Past { .. })
        ));
        let far = ms(now + Duration::from_secs(3600));
        assert!(matches!(
            remaining(far, now),
            Err(UnusableDeadline::TooFar {
                in_secs: 3599..=3600,
                ..
            })
        ));
        // Lambda's longest timeout is still a deadline.
        assert!(remaining(ms(now + LONGEST_LAMBDA_TIMEOUT), now).is_ok());
    }

    #[test]
    fn without_a_usable_deadline_the_tick_gets_max_tick() {
        let mut context = Context::default();
        context.deadline = 600_000;
        let before = Instant::now();
        let at = deadline(&context, Duration::from_secs(45));
        assert!(at >= before + Duration::from_secs(45));
        assert!(at <= Instant::now() + Duration::from_secs(45));

        // A real deadline 55 s away leaves 45 s after the margin, whatever max_tick says.
        context.deadline = ms(SystemTime::now() + Duration::from_secs(55));
        let at = deadline(&context, Duration::from_secs(600));
        assert!(at <= Instant::now() + Duration::from_secs(45));
        assert!(at >= before + Duration::from_secs(44));
    }
}
