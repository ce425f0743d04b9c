//! Scheduled security investigations: the domain model and rules, the use cases, the ports they need
//! and the adapters that implement them.
//!
//! - [`domain`]: schedules, runs, notifications, timing rules (frequencies, cron, time zones, DST) and the
//!   query specificity check. Pure and clock-free: every function takes `now` explicitly.
//! - [`ports`]: the small traits the use cases need (store, engine, notifier, clock).
//! - [`services`]: the use cases behind every API route and both scheduled ticks.
//! - [`adapters`]: SQLite, the SoCMate HTTP engine, the sandbox engine, local notifiers, and in-memory twins.
//! - [`telemetry`]: the metrics the use cases record (EMF on Lambda, Prometheus locally).
//! - [`text`]: messages that leave the process: cut to a length, errors told with their causes.

pub mod adapters;
pub mod config;
pub mod domain;
mod openapi;
pub mod ports;
pub mod services;
pub mod telemetry;
pub mod text;

pub use services::error::{FieldError, ServiceError};
