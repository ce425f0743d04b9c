//! Shared helpers for the cross-crate tests.

pub mod fake_engine;
pub mod logs;
pub mod moto;
pub mod runtime_api;
pub mod slow_engine;
pub mod store_contract;
