//! Shared helpers for the cross-crate tests.

pub mod fake_engine;
pub mod moto;
pub mod store_contract;
