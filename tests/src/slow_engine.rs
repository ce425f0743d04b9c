//! An engine that answers no earlier than a given instant: a tick that waits on it runs past its deadline, so
//! tests can see what a tick does when its time runs out in the middle, without sleeping in the test itself.

use async_trait::async_trait;
use shared::adapters::memory::{MemoryWorld, ScriptedEngine};
use shared::ports::{EngineError, InvestigationEngine, SessionState, StartRequest};
use shared::services::Services;
use std::sync::Arc;
use std::time::Instant;

/// [`ScriptedEngine`]'s answers, each given only once `until` has passed.
pub struct AnswersAfter {
    pub inner: Arc<ScriptedEngine>,
    pub until: Instant,
}

impl AnswersAfter {
    async fn wait(&self) {
        tokio::time::sleep_until(tokio::time::Instant::from_std(self.until)).await;
    }
}

#[async_trait]
impl InvestigationEngine for AnswersAfter {
    async fn start(&self, request: &StartRequest) -> Result<String, EngineError> {
        self.wait().await;
        self.inner.start(request).await
    }

    async fn session(&self, session_id: &str) -> Result<SessionState, EngineError> {
        self.wait().await;
        self.inner.session(session_id).await
    }
}

/// `world`'s services (same store, notifier, clock and configuration) on its engine answering only after `until`.
pub fn services_answering_after(world: &MemoryWorld, until: Instant) -> Services {
    Services::new(
        world.store.clone(),
        Arc::new(AnswersAfter {
            inner: world.engine.clone(),
            until,
        }),
        world.notifier.clone(),
        world.clock.clone(),
        world.services.config().clone(),
    )
}
