//! Process managers: background workers that react to events of the global log
//! by sending commands, with a durable checkpoint. Delivery is at least once, so
//! every step they take is idempotent (bookings by booking id, releases that
//! tolerate absence, confirmations that ignore a redelivery).

pub mod loan_flow;
pub mod operations;
pub mod partners;
pub mod quality;
pub mod scheduling;
pub mod timers;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use adapters::GlobalLog;
use domain::log::{EventLogReader, LogPosition, StoredEvent};
use projections::runner::{
    advance_checkpoint, load_checkpoint, publish_status, run_until_shutdown,
};
use projections::{ProjectionError, ProjectionHandle, ProjectionStatus};
use sqlx::AnyPool;
use tokio::sync::watch;

/// The context of a command a process manager sends because of `event`: the
/// engine acts (as `actor`), within the event's flow, caused by the event.
pub fn caused_by(event: &StoredEvent, actor: &str) -> adapters::CommandContext {
    adapters::CommandContext {
        actor: domain::log::Actor::system(actor),
        correlation_id: event.metadata.correlation_id.clone(),
        causation_id: event.metadata.event_id.to_string(),
        request_id: event.metadata.request_id.clone(),
        idempotency: None,
        on_behalf_of: event.metadata.originator(),
    }
}

/// A refusal (the aggregate's rules, a unique key held elsewhere) means the
/// step was already taken (a redelivery) or cannot be; anything else is an
/// error to retry.
pub fn tolerate_refusal<E: std::error::Error>(
    result: Result<adapters::CommandReceipt, adapters::CommandError<E>>,
) -> anyhow::Result<()> {
    match result {
        Ok(_) => Ok(()),
        Err(refusal) if refusal.is_refusal() => {
            tracing::info!(refusal = %refusal, "a process manager's command was refused; the flow goes on");
            Ok(())
        }
        Err(other) => Err(anyhow::anyhow!("{other}")),
    }
}

/// A reaction to events of the log.
pub trait ProcessManager: Send + Sync + 'static {
    /// Stable name, also the name of its row in `projection_checkpoints`.
    fn name(&self) -> &'static str;

    /// Reacts to one event. An error leaves the checkpoint before the event, so
    /// it is handled again later.
    fn handle(&self, event: &StoredEvent) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// Drives a process manager over the log from its checkpoint.
pub struct ProcessRunner<P> {
    process: Arc<P>,
    pool: AnyPool,
    log: GlobalLog,
    batch_size: u32,
    status: watch::Sender<ProjectionStatus>,
}

impl<P: ProcessManager> ProcessRunner<P> {
    /// A runner reading `log`, keeping its checkpoint through `pool`.
    pub fn new(process: P, pool: AnyPool, log: GlobalLog, batch_size: u32) -> Self {
        Self {
            process: Arc::new(process),
            pool,
            log,
            batch_size,
            status: watch::channel(ProjectionStatus::default()).0,
        }
    }

    /// Progress of this process manager, for waiters, `/readyz` and `/metrics`.
    pub fn handle(&self) -> ProjectionHandle {
        ProjectionHandle::new(
            self.process.name(),
            self.status.clone(),
            tokio::sync::broadcast::channel(1).0,
        )
    }

    fn publish(&self, checkpoint: LogPosition, events_applied: i64, last_error: Option<String>) {
        publish_status(&self.status, checkpoint, events_applied, last_error);
    }

    /// Handles every event after the checkpoint, advancing it after each one.
    pub async fn catch_up(&self) -> anyhow::Result<usize> {
        self.catch_up_unless(&watch::channel(false).1).await
    }

    /// Like [`Self::catch_up`], but returns between events once `stop` is set.
    pub async fn catch_up_unless(&self, stop: &watch::Receiver<bool>) -> anyhow::Result<usize> {
        let name = self.process.name();
        let mut handled = 0;
        loop {
            let (mut from, mut applied) = load_checkpoint(&self.pool, name).await?;
            let events = self.log.read_after(from, self.batch_size).await?;
            if events.is_empty() {
                self.publish(from, applied, None);
                return Ok(handled);
            }
            for event in &events {
                if *stop.borrow() {
                    return Ok(handled);
                }
                self.process.handle(event).await?;
                let mut conn = self.pool.acquire().await?;
                match advance_checkpoint(&mut conn, name, from, event.position, applied + 1).await {
                    Ok(()) => {}
                    // Another runner took over; start again from its checkpoint.
                    Err(ProjectionError::CheckpointMoved(_)) => break,
                    Err(e) => return Err(e.into()),
                }
                from = event.position;
                applied += 1;
                handled += 1;
                self.publish(from, applied, None);
            }
            // Other instances learn of the progress once per batch.
            let mut conn = self.pool.acquire().await?;
            projections::runner::announce_progress(&mut conn, name, &[]).await?;
        }
    }

    /// Runs until shutdown.
    pub async fn run(
        &self,
        commits: watch::Receiver<LogPosition>,
        poll_interval: Duration,
        shutdown: watch::Receiver<bool>,
    ) {
        let stop = shutdown.clone();
        run_until_shutdown(
            self.process.name(),
            || async {
                self.catch_up_unless(&stop)
                    .await
                    .map(drop)
                    .map_err(|e| format!("{e:#}"))
            },
            commits,
            poll_interval,
            shutdown,
        )
        .await;
    }
}
