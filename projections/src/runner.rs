//! The projection runner: catch-up from a durable checkpoint, the checkpoint
//! advanced in the same transaction as the read-model rows.

use std::sync::Arc;
use std::time::Duration;

use domain::log::{EventLogReader, LogPosition, StoredEvent};
use sqlx::{AnyConnection, AnyPool};
use store::parked;
use store::worker::{
    announce_rows, now_text, publish_status, run_over_log, Cursor, LogLoop, LogWorker, RowsChanged,
    Work, WorkerError, WorkerHandle, WorkerStatus,
};
use tokio::sync::{broadcast, watch};
use tracing::{info, instrument};

/// A read model fed from the global log.
pub trait Projection: Send + Sync + 'static {
    /// Stable name, used for the checkpoint row and the replay command.
    fn name(&self) -> &'static str;

    /// Tables this projection owns; a rebuild empties them.
    fn tables(&self) -> &'static [&'static str];

    /// Applies one event inside the runner's transaction. Events the projection
    /// does not care about are ignored.
    fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> impl std::future::Future<Output = Result<(), WorkerError>> + Send;

    /// Applies a batch of events (those it [reads](Self::reads)), in order,
    /// inside the runner's transaction. By default one at a time; a read
    /// model overrides it to write a run of similar events in one statement.
    fn apply_batch(
        &self,
        conn: &mut AnyConnection,
        events: &[&StoredEvent],
    ) -> impl std::future::Future<Output = Result<(), WorkerError>> + Send {
        async move {
            for event in events {
                self.apply(conn, event).await?;
            }
            Ok(())
        }
    }

    /// Whether `event` can change this read model. The runner passes over the
    /// rest without opening a transaction; `replay --verify` rebuilds with
    /// every event, so a filter that drops one the model needs shows there.
    fn reads(&self, _event: &StoredEvent) -> bool {
        true
    }

    /// Every row of every table it owns, in a fixed order, one line each: what
    /// a rebuild must reproduce exactly (`replay --verify` compares these).
    fn snapshot(
        pool: &AnyPool,
    ) -> impl std::future::Future<Output = Result<Vec<String>, sqlx::Error>> + Send;
}

/// Rows as the lines of a [`Projection::snapshot`].
pub fn lines<T: std::fmt::Debug>(rows: impl IntoIterator<Item = T>) -> Vec<String> {
    rows.into_iter().map(|row| format!("{row:?}")).collect()
}

/// Drives one projection from the log.
pub struct ProjectionRunner<P, L> {
    projection: Arc<P>,
    pool: AnyPool,
    log: L,
    batch_size: u32,
    cursor: Cursor,
    every_event: bool,
    status: watch::Sender<WorkerStatus>,
    changes: broadcast::Sender<RowsChanged>,
    lag: Option<LagObserver>,
}

/// Told, for every event a projection applied, how long after its commit it
/// was applied (projection name, the event's commit time).
pub type LagObserver = Arc<dyn Fn(&'static str, chrono::DateTime<chrono::Utc>) + Send + Sync>;

impl<P: Projection, L: EventLogReader> ProjectionRunner<P, L> {
    /// A runner for `projection`, writing through `pool`, reading `log`.
    pub fn new(projection: P, pool: AnyPool, log: L, batch_size: u32) -> Self {
        let cursor = Cursor::new(projection.name());
        Self {
            projection: Arc::new(projection),
            pool,
            log,
            batch_size: batch_size.max(1),
            cursor,
            every_event: false,
            status: watch::channel(WorkerStatus::default()).0,
            changes: broadcast::channel(1024).0,
            lag: None,
        }
    }

    /// Tells `observer` how long after its commit each event was applied.
    pub fn observe_lag(mut self, observer: LagObserver) -> Self {
        self.lag = Some(observer);
        self
    }

    /// Applies every event, ignoring [`Projection::reads`]: the rebuild that
    /// `replay --verify` compares the live read model with.
    pub fn every_event(mut self) -> Self {
        self.every_event = true;
        self
    }

    /// A handle for readers.
    pub fn handle(&self) -> WorkerHandle {
        WorkerHandle::new(
            self.projection.name(),
            self.status.clone(),
            self.changes.clone(),
        )
    }

    /// Where the runner stands: the durable checkpoint (created at the start of
    /// the log when missing), or ahead of it over events that needed nothing.
    pub async fn checkpoint(&self) -> Result<(LogPosition, i64), WorkerError> {
        Ok(self.cursor.place(&self.pool).await?)
    }

    /// Applies one batch after the checkpoint; returns how many events it read.
    pub async fn step(&self) -> Result<usize, WorkerError> {
        let (from, applied) = self.checkpoint().await?;
        let events = self
            .log
            .read_after(from, self.batch_size)
            .await
            .map_err(|e| WorkerError::Log(e.to_string()))?;
        let Some(last) = events.last().map(|e| e.position) else {
            self.publish(from, applied, None);
            return Ok(0);
        };
        let total = applied + events.len() as i64;
        let read: Vec<&StoredEvent> = events
            .iter()
            .filter(|e| self.every_event || self.projection.reads(e))
            .collect();
        if read.is_empty() {
            // Nothing here changes the model: no transaction, the checkpoint
            // moves in memory and is written later (see `Cursor`).
            self.cursor.pass(last, total);
            self.publish(last, total, None);
            return Ok(events.len());
        }
        match self.apply(&read, last, total).await {
            Ok(()) => {}
            Err(e) if e.is_poison() => self.apply_one_by_one(&events, applied).await?,
            Err(e) => return Err(e),
        }
        self.publish(last, total, None);
        Ok(events.len())
    }

    /// A batch refused because of an event in it: each event on its own, so
    /// the one at fault is found, tried again with a growing pause, and parked
    /// (see `store::parked`) if it still fails; the rest are applied.
    async fn apply_one_by_one(
        &self,
        events: &[StoredEvent],
        applied: i64,
    ) -> Result<(), WorkerError> {
        let mut count = applied;
        for event in events {
            count += 1;
            if !(self.every_event || self.projection.reads(event)) {
                self.cursor.pass(event.position, count);
                continue;
            }
            let mut attempt = 1;
            loop {
                match self.apply(&[event], event.position, count).await {
                    Ok(()) => break,
                    Err(e)
                        if e.is_poison() && parked::known(event) && attempt < parked::ATTEMPTS =>
                    {
                        tokio::time::sleep(parked::pause_after(attempt)).await;
                        attempt += 1;
                    }
                    Err(e) if e.is_poison() && parked::known(event) => {
                        self.cursor
                            .park_past(&self.pool, event, &e.to_string(), attempt, count)
                            .await?;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Applies one parked event again, without moving the checkpoint, and
    /// marks it retried, in one transaction: the mark claims it, so it is
    /// applied once however many operators retry it (`facesign parked retry`).
    pub async fn retry_parked(
        &self,
        event: &StoredEvent,
        decision: parked::Decision<'_>,
    ) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        parked::resolve_in(&mut tx, decision).await?;
        self.projection.apply_batch(&mut tx, &[event]).await?;
        let changed = [(event.aggregate_type.as_str(), event.aggregate_id.as_str())];
        announce_rows(&mut tx, self.projection.name(), &changed).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies `read` and moves the checkpoint to `last` in one transaction,
    /// then tells waiters; one span per batch for traces.
    #[tracing::instrument(name = "projection_batch", skip_all, fields(projection = self.projection.name(), events = read.len()))]
    async fn apply(
        &self,
        read: &[&StoredEvent],
        last: LogPosition,
        total: i64,
    ) -> Result<(), WorkerError> {
        let span = tracing::Span::current();
        for event in read {
            store::trace::link_to(&span, event.metadata.traceparent.as_deref());
        }
        let mut tx = self.pool.begin().await?;
        // The checkpoint is moved first: on SQLite this takes the write lock before
        // any read, and the compare-and-set makes a concurrent runner or rebuild
        // roll this batch back instead of applying it twice.
        let name = self.projection.name();
        self.cursor.write(&mut tx, last, total).await?;
        self.projection.apply_batch(&mut tx, read).await?;
        let changed: std::collections::BTreeSet<(&str, &str)> = read
            .iter()
            .map(|e| (e.aggregate_type.as_str(), e.aggregate_id.as_str()))
            .collect();
        announce_rows(&mut tx, name, &changed.iter().copied().collect::<Vec<_>>()).await?;
        tx.commit().await?;
        self.cursor.written(last, total);
        if let Some(observe) = &self.lag {
            for event in read {
                observe(name, event.metadata.recorded_at);
            }
        }
        // Row notices go out before waiters are released, so whoever a waiter
        // answers finds them already sent (the account cache relies on it).
        for (aggregate_type, aggregate_id) in changed {
            // Nobody listening is fine.
            let _ = self.changes.send(RowsChanged {
                aggregate_type: aggregate_type.to_string(),
                aggregate_id: aggregate_id.to_string(),
            });
        }
        Ok(())
    }

    /// Applies batches until the read model has caught up with the visible log.
    pub async fn catch_up(&self) -> Result<usize, WorkerError> {
        self.catch_up_unless(&watch::channel(false).1).await
    }

    /// Like [`Self::catch_up`], but returns between batches once `stop` is set,
    /// so a shutdown under a backlog ends at the next checkpoint.
    pub async fn catch_up_unless(
        &self,
        stop: &watch::Receiver<bool>,
    ) -> Result<usize, WorkerError> {
        let mut total = 0;
        loop {
            if *stop.borrow() {
                return Ok(total);
            }
            match self.step().await {
                Ok(0) => return Ok(total),
                Ok(n) => total += n,
                Err(WorkerError::CheckpointMoved(_)) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Empties the projection's tables, resets its checkpoint to the start of the
    /// log and re-derives every row; returns the number of events applied.
    #[instrument(skip(self), fields(projection = self.projection.name()))]
    pub async fn rebuild(&self) -> Result<usize, WorkerError> {
        self.checkpoint().await?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE worker_checkpoints SET tx_id = 0, global_position = 0, events_applied = 0, updated_at = $1
              WHERE name = $2",
        )
        .bind(now_text())
        .bind(self.projection.name())
        .execute(&mut *tx)
        .await?;
        for table in self.projection.tables() {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        // Re-derived from the start: what still fails is parked again.
        parked::forget(&mut tx, self.projection.name()).await?;
        tx.commit().await?;
        self.cursor.forget();
        info!("read model emptied; re-deriving from the start of the log");
        let applied = self.catch_up().await?;
        // The planner's statistics describe the emptied tables until refreshed.
        for table in self.projection.tables() {
            sqlx::query(&format!("ANALYZE {table}"))
                .execute(&self.pool)
                .await?;
        }
        info!(applied, "rebuild finished; statistics refreshed");
        Ok(applied)
    }

    /// Runs until `shutdown` fires: catches up, then waits for a commit notice or
    /// the poll interval. A round with no commit past the checkpoint runs no
    /// query. Failures are logged, published and retried with backoff.
    pub async fn run(
        &self,
        commits: watch::Receiver<LogPosition>,
        poll_interval: Duration,
        shutdown: watch::Receiver<bool>,
    ) {
        let stop = shutdown.clone();
        let worker = LogLoop {
            name: self.projection.name(),
            cursor: &self.cursor,
            pool: &self.pool,
            status: &self.status,
        };
        run_over_log(worker, commits, poll_interval, shutdown, || {
            self.catch_up_unless(&stop)
        })
        .await;
    }

    fn publish(&self, checkpoint: LogPosition, events_applied: i64, last_error: Option<String>) {
        publish_status(&self.status, checkpoint, events_applied, last_error);
    }
}

/// The `VALUES` list of a multi-row INSERT of `rows` rows of `width` values,
/// placeholders numbered in order (`($1, $2), ($3, $4)`), as both backends bind.
pub fn values_list(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl<P: Projection, L: EventLogReader + Send + Sync + 'static> LogWorker
    for ProjectionRunner<P, L>
{
    fn handle(&self) -> WorkerHandle {
        ProjectionRunner::handle(self)
    }

    fn catch_up(&self) -> Work<'_, anyhow::Result<usize>> {
        Box::pin(async move { Ok(ProjectionRunner::catch_up(self).await?) })
    }

    fn run(
        &self,
        commits: watch::Receiver<LogPosition>,
        poll: Duration,
        stop: watch::Receiver<bool>,
    ) -> Work<'_, ()> {
        Box::pin(ProjectionRunner::run(self, commits, poll, stop))
    }

    fn rebuild(&self) -> Option<Work<'_, anyhow::Result<usize>>> {
        Some(Box::pin(async move {
            Ok(ProjectionRunner::rebuild(self).await?)
        }))
    }

    fn retry_parked<'a>(
        &'a self,
        event: &'a StoredEvent,
        decision: parked::Decision<'a>,
    ) -> Work<'a, anyhow::Result<()>> {
        Box::pin(ProjectionRunner::retry_parked(self, event, decision))
    }
}
