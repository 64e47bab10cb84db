use std::sync::Arc;
use std::time::Duration;

use adapters::{CommandBus, Database, GlobalLog, Metrics};
use projections::ProjectionHandle;

/// Tunables of the API layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// How long a mutation waits for the read model to reflect its events.
    pub read_your_writes_timeout: Duration,
    /// Largest page a list query returns.
    pub max_page_size: i64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            read_your_writes_timeout: Duration::from_secs(5),
            max_page_size: 100,
        }
    }
}

/// Everything a request handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Database pools.
    pub database: Database,
    /// Command bus of the write side.
    pub bus: Arc<CommandBus>,
    /// Reader of the global log.
    pub log: GlobalLog,
    /// The task board projection's progress.
    pub task_board: ProjectionHandle,
    /// The seat calendar projection's progress.
    pub seat_calendar: ProjectionHandle,
    /// Process metrics.
    pub metrics: Arc<Metrics>,
    /// API tunables.
    pub config: ApiConfig,
}

impl AppState {
    /// Every projection handle, for readiness and metrics.
    pub fn projections(&self) -> Vec<&ProjectionHandle> {
        vec![&self.task_board, &self.seat_calendar]
    }
}
