//! Adapters: the ports implemented for real infrastructure, each beside its in-memory twin for unit tests.

pub mod memory;
pub mod notify_local;

#[cfg(feature = "aws-notify")]
pub mod aws_notify;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "engine-http")]
pub mod engine_http;
#[cfg(feature = "sandbox")]
pub mod sandbox_engine;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_audit;
