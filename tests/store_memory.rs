//! The store contract suite against the in-memory twin, so the unit tests' store behaves like the real ones.

use shared::adapters::memory::MemoryScheduleStore;
use std::sync::Arc;
use tests::store_contract::TestStore;

async fn fresh_store() -> TestStore {
    TestStore::new(
        Arc::new(MemoryScheduleStore::new(
            shared::domain::RunRetention::default(),
        )),
        (),
    )
}

tests::store_contract_tests!(fresh_store);
