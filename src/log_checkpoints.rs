//! The signed checkpoints of the log as the server writes them (issue 36
//! item 1, docs/evidence.md): every `FACESIGN_LOG_CHECKPOINT_SECS` on the
//! instance that leads `log_checkpoints`, and once more at a graceful stop.

use std::sync::Arc;

use store::checkpoint::{write_checkpoint, LogSigningKey};
use store::{Database, GlobalLog};

/// Writes checkpoints with the bank's key over one database's log.
#[derive(Clone)]
pub struct LogCheckpoints {
    database: Database,
    log: GlobalLog,
    key: Arc<LogSigningKey>,
    clock: Arc<dyn domain::services::Clock>,
}

impl LogCheckpoints {
    /// Checkpoints over `database`'s `log` (the engine's reader, whose tail
    /// serves recent events from memory) signed with `key`.
    pub fn new(
        database: Database,
        log: GlobalLog,
        key: Arc<LogSigningKey>,
        clock: Arc<dyn domain::services::Clock>,
    ) -> Self {
        Self {
            database,
            log,
            key,
            clock,
        }
    }

    /// Writes the next checkpoint if the log grew; logs what it signed.
    pub async fn write(&self) -> Result<(), String> {
        match write_checkpoint(
            self.database.store(),
            &self.log,
            &self.key,
            self.clock.now(),
        )
        .await
        {
            Ok(Some(number)) => {
                tracing::info!(number, "log checkpoint signed");
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(error) => Err(format!("cannot write a log checkpoint: {error}")),
        }
    }

    /// Writes one every `interval` until `stop`.
    pub async fn run(
        self: Arc<Self>,
        interval: std::time::Duration,
        stop: tokio::sync::watch::Receiver<bool>,
    ) {
        store::worker::run_on_the_clock(
            "log_checkpoints",
            || {
                let this = self.clone();
                async move { this.write().await }
            },
            interval,
            stop,
        )
        .await;
    }
}
