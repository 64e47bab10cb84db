//! The projection runner: catch-up from a durable checkpoint, the checkpoint
//! advanced in the same transaction as the read-model rows.

use std::sync::Arc;
use std::time::Duration;

use domain::log::{EventLogReader, LogPosition, StoredEvent};
use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{broadcast, watch};
use tracing::{error, info, instrument};

/// Why a projection could not advance.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The read-model database failed.
    #[error("read model database: {0}")]
    Database(#[from] sqlx::Error),
    /// Reading the log failed.
    #[error("event log: {0}")]
    Log(String),
    /// An event could not be decoded into the shape the projection expects.
    #[error("cannot project {event_type} at {position}: {reason}")]
    BadEvent {
        /// Event type.
        event_type: String,
        /// Where it stands in the log.
        position: LogPosition,
        /// What was wrong.
        reason: String,
    },
    /// Another runner (or a rebuild) moved the checkpoint underneath this one.
    #[error("checkpoint of {0} moved concurrently")]
    CheckpointMoved(&'static str),
}

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
    ) -> impl std::future::Future<Output = Result<(), ProjectionError>> + Send;

    /// Applies a batch of events (those it [reads](Self::reads)), in order,
    /// inside the runner's transaction. By default one at a time; a read
    /// model overrides it to write a run of similar events in one statement.
    fn apply_batch(
        &self,
        conn: &mut AnyConnection,
        events: &[&StoredEvent],
    ) -> impl std::future::Future<Output = Result<(), ProjectionError>> + Send {
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

/// What a runner has done so far; published to readers waiting for their writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectionStatus {
    /// Position the read model reflects.
    pub checkpoint: LogPosition,
    /// Events applied since the read model was (re)built.
    pub events_applied: i64,
    /// The last failure, cleared by the next successful batch.
    pub last_error: Option<String>,
}

/// An aggregate whose read-model rows a committed batch changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowsChanged {
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
}

/// A read-only view on a running projection.
#[derive(Debug, Clone)]
pub struct ProjectionHandle {
    name: &'static str,
    status: watch::Sender<ProjectionStatus>,
    changes: broadcast::Sender<RowsChanged>,
}

impl ProjectionHandle {
    /// A handle over a worker that publishes its own status (process managers).
    pub fn new(
        name: &'static str,
        status: watch::Sender<ProjectionStatus>,
        changes: broadcast::Sender<RowsChanged>,
    ) -> Self {
        Self {
            name,
            status,
            changes,
        }
    }

    /// Projection name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Notified whenever the status changes.
    pub fn subscribe_status(&self) -> watch::Receiver<ProjectionStatus> {
        self.status.subscribe()
    }

    /// Latest status.
    pub fn status(&self) -> ProjectionStatus {
        self.status.borrow().clone()
    }

    /// Notices of aggregates whose rows changed, sent after each committed batch.
    pub fn subscribe_changes(&self) -> broadcast::Receiver<RowsChanged> {
        self.changes.subscribe()
    }

    /// Progress made by this worker's leader on another instance (read from its
    /// checkpoint row): published here so local waiters see it; never backwards.
    pub fn follow(&self, checkpoint: LogPosition, events_applied: i64) {
        self.status.send_if_modified(|current| {
            if checkpoint > current.checkpoint {
                current.checkpoint = checkpoint;
                current.events_applied = events_applied;
                current.last_error = None;
                true
            } else {
                false
            }
        });
    }

    /// Rows changed by this worker's leader on another instance, for local subscribers.
    pub fn rows_changed(&self, changed: RowsChanged) {
        let _ = self.changes.send(changed);
    }

    /// Waits until the read model reflects `position`; false if `timeout` passed first.
    pub async fn wait_for(&self, position: LogPosition, timeout: Duration) -> bool {
        let mut status = self.status.subscribe();
        tokio::time::timeout(timeout, status.wait_for(|s| s.checkpoint >= position))
            .await
            .map(|r| r.is_ok())
            .unwrap_or(false)
    }
}

/// Drives one projection from the log.
pub struct ProjectionRunner<P, L> {
    projection: Arc<P>,
    pool: AnyPool,
    log: L,
    batch_size: u32,
    cursor: Cursor,
    every_event: bool,
    status: watch::Sender<ProjectionStatus>,
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
            status: watch::channel(ProjectionStatus::default()).0,
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
    pub fn handle(&self) -> ProjectionHandle {
        ProjectionHandle {
            name: self.projection.name(),
            status: self.status.clone(),
            changes: self.changes.clone(),
        }
    }

    /// Where the runner stands: the durable checkpoint (created at the start of
    /// the log when missing), or ahead of it over events that needed nothing.
    pub async fn checkpoint(&self) -> Result<(LogPosition, i64), ProjectionError> {
        Ok(self.cursor.place(&self.pool).await?)
    }

    /// Applies one batch after the checkpoint; returns how many events it read.
    pub async fn step(&self) -> Result<usize, ProjectionError> {
        let (from, applied) = self.checkpoint().await?;
        let events = self
            .log
            .read_after(from, self.batch_size)
            .await
            .map_err(|e| ProjectionError::Log(e.to_string()))?;
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
        self.apply(&read, last, total).await?;
        self.publish(last, total, None);
        Ok(events.len())
    }

    /// Applies `read` and moves the checkpoint to `last` in one transaction,
    /// then tells waiters; one span per batch for traces.
    #[tracing::instrument(name = "projection_batch", skip_all, fields(projection = self.projection.name(), events = read.len()))]
    async fn apply(
        &self,
        read: &[&StoredEvent],
        last: LogPosition,
        total: i64,
    ) -> Result<(), ProjectionError> {
        let span = tracing::Span::current();
        for event in read {
            crate::trace::link_to(&span, event.metadata.traceparent.as_deref());
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
    pub async fn catch_up(&self) -> Result<usize, ProjectionError> {
        self.catch_up_unless(&watch::channel(false).1).await
    }

    /// Like [`Self::catch_up`], but returns between batches once `stop` is set,
    /// so a shutdown under a backlog ends at the next checkpoint.
    pub async fn catch_up_unless(
        &self,
        stop: &watch::Receiver<bool>,
    ) -> Result<usize, ProjectionError> {
        let mut total = 0;
        loop {
            if *stop.borrow() {
                return Ok(total);
            }
            match self.step().await {
                Ok(0) => return Ok(total),
                Ok(n) => total += n,
                Err(ProjectionError::CheckpointMoved(_)) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Empties the projection's tables, resets its checkpoint to the start of the
    /// log and re-derives every row; returns the number of events applied.
    #[instrument(skip(self), fields(projection = self.projection.name()))]
    pub async fn rebuild(&self) -> Result<usize, ProjectionError> {
        self.checkpoint().await?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE projection_checkpoints SET tx_id = 0, global_position = 0, events_applied = 0, updated_at = $1
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
        let name = self.projection.name();
        let stop = shutdown.clone();
        let known = commits.clone();
        run_until_shutdown(
            name,
            || async {
                let result = async {
                    catch_up_to_known(&self.cursor, &known, poll_interval, &stop, || {
                        self.catch_up_unless(&stop)
                    })
                    .await?;
                    self.cursor.flush(&self.pool, false).await
                }
                .await;
                if let Err(e) = &result {
                    let (checkpoint, applied) = self.status.borrow().clone().into_parts();
                    self.publish(checkpoint, applied, Some(e.to_string()));
                }
                result.map_err(|e| e.to_string())
            },
            commits,
            poll_interval,
            shutdown,
        )
        .await;
        if let Err(e) = self.cursor.flush(&self.pool, true).await {
            error!(worker = name, error = %e, "cannot save the checkpoint at shutdown; the events after it will be read again");
        }
    }

    fn publish(&self, checkpoint: LogPosition, events_applied: i64, last_error: Option<String>) {
        publish_status(&self.status, checkpoint, events_applied, last_error);
    }
}

impl ProjectionStatus {
    /// The checkpoint and the number of events applied.
    pub fn into_parts(self) -> (LogPosition, i64) {
        (self.checkpoint, self.events_applied)
    }
}

/// The Postgres channel on which an instance announces the progress of the
/// workers it leads (payload: lines of `worker tx_id:global_position applied`).
pub const PROGRESS_CHANNEL: &str = "facesign_progress";

/// The Postgres channel on which a projection announces changed rows
/// (payload: lines of `worker|aggregate type|aggregate id`).
pub const ROWS_CHANNEL: &str = "facesign_rows";

async fn notify(conn: &mut AnyConnection, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Announces, on Postgres, which aggregates' rows `worker` changed; inside a
/// transaction the notices go out when it commits.
pub async fn announce_rows(
    conn: &mut AnyConnection,
    worker: &str,
    changed: &[(&str, &str)],
) -> Result<(), sqlx::Error> {
    if conn.backend_name() != "PostgreSQL" {
        return Ok(());
    }
    // One notice per ~7 KB of lines (Postgres caps a payload at 8000 bytes).
    let mut payload = String::new();
    for (aggregate_type, aggregate_id) in changed {
        let line = format!("{worker}|{aggregate_type}|{aggregate_id}\n");
        if payload.len() + line.len() > 7000 {
            notify(conn, ROWS_CHANNEL, &payload).await?;
            payload.clear();
        }
        payload.push_str(&line);
    }
    if !payload.is_empty() {
        notify(conn, ROWS_CHANNEL, &payload).await?;
    }
    Ok(())
}

/// Announces, in one notice, where the workers an instance leads stand
/// (`(name, checkpoint, events applied)`), so other instances' waiters see it.
pub async fn announce_progress(
    pool: &AnyPool,
    progress: &[(&str, LogPosition, i64)],
) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    if conn.backend_name() != "PostgreSQL" || progress.is_empty() {
        return Ok(());
    }
    let payload: String = progress
        .iter()
        .map(|(name, position, applied)| format!("{name} {position} {applied}\n"))
        .collect();
    notify(&mut conn, PROGRESS_CHANNEL, &payload).await
}

/// Reads a progress notice: the `(name, checkpoint, events applied)` lines.
pub fn parse_progress(payload: &str) -> Vec<(&str, LogPosition, i64)> {
    payload
        .lines()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            let name = parts.next()?;
            let position = parts.next()?.parse().ok()?;
            let applied = parts.next()?.parse().ok()?;
            Some((name, position, applied))
        })
        .collect()
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

/// Decodes an event's payload, or says which event could not be read.
pub fn decode<T: serde::de::DeserializeOwned>(event: &StoredEvent) -> Result<T, ProjectionError> {
    serde_json::from_value(event.payload.clone()).map_err(|e| bad_event(event, e))
}

/// The error of a projection that cannot apply `event`, and why.
pub fn bad_event(event: &StoredEvent, reason: impl ToString) -> ProjectionError {
    ProjectionError::BadEvent {
        event_type: event.event_type.clone(),
        position: event.position,
        reason: reason.to_string(),
    }
}

pub use domain::log::rfc3339;

/// Publishes a worker's progress to its waiters, waking them only on a change.
pub fn publish_status(
    status: &watch::Sender<ProjectionStatus>,
    checkpoint: LogPosition,
    events_applied: i64,
    last_error: Option<String>,
) {
    status.send_if_modified(|current| {
        let next = ProjectionStatus {
            checkpoint,
            events_applied,
            last_error,
        };
        let changed = *current != next;
        *current = next;
        changed
    });
}

/// How soon a worker that knows of commits it cannot read yet looks again.
pub const HIDDEN_COMMIT_RETRY: Duration = Duration::from_millis(3);

/// Catches up while the newest commit heard of (`known`) is past the cursor.
/// On Postgres a committed event stays hidden from the log's readers while an
/// older transaction is still open (see `global_log`), and when that one ends
/// nobody announces it: rather than wait for the next notice — which under a
/// closed-loop load may never come, every client waiting for this very event —
/// the worker looks again every few milliseconds, for up to `patience`.
pub async fn catch_up_to_known<F, Fut, T, E>(
    cursor: &Cursor,
    known: &watch::Receiver<LogPosition>,
    patience: Duration,
    stop: &watch::Receiver<bool>,
    mut catch_up: F,
) -> Result<(), E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let started = std::time::Instant::now();
    while cursor.is_past(*known.borrow()) && !*stop.borrow() {
        catch_up().await?;
        if !cursor.is_past(*known.borrow()) || started.elapsed() >= patience {
            break;
        }
        tokio::time::sleep(HIDDEN_COMMIT_RETRY).await;
    }
    Ok(())
}

/// How long a checkpoint moved in memory only may trail before it is written.
pub const CHECKPOINT_TRAIL: Duration = Duration::from_secs(1);

/// A consumer's place in the log. The durable checkpoint (a row of
/// `projection_checkpoints`) moves in the transaction of the rows a batch
/// wrote; over events that needed nothing it moves in memory only and is
/// written once it has trailed for [`CHECKPOINT_TRAIL`] or at shutdown. After
/// a crash those events are read again, and again need nothing.
#[derive(Debug)]
pub struct Cursor {
    name: &'static str,
    place: std::sync::Mutex<Option<Place>>,
}

#[derive(Debug, Clone, Copy)]
struct Place {
    durable: (LogPosition, i64),
    current: (LogPosition, i64),
    trailing_since: Option<std::time::Instant>,
}

impl Cursor {
    /// The cursor of the consumer `name`, loaded from its row on first use.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            place: std::sync::Mutex::new(None),
        }
    }

    fn get(&self) -> Option<Place> {
        *self.place.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, place: Option<Place>) {
        *self.place.lock().unwrap_or_else(|e| e.into_inner()) = place;
    }

    /// Where the consumer stands, with the events it has read so far.
    pub async fn place(&self, pool: &AnyPool) -> Result<(LogPosition, i64), sqlx::Error> {
        if let Some(place) = self.get() {
            return Ok(place.current);
        }
        let durable = load_checkpoint(pool, self.name).await?;
        self.set(Some(Place {
            durable,
            current: durable,
            trailing_since: None,
        }));
        Ok(durable)
    }

    /// Whether the log holds something past the consumer (`committed` is the
    /// newest commit heard of); an unloaded cursor does not know, so yes.
    pub fn is_past(&self, committed: LogPosition) -> bool {
        self.get().is_none_or(|place| committed > place.current.0)
    }

    /// Moves past events that needed nothing, in memory.
    pub fn pass(&self, to: LogPosition, applied: i64) {
        let mut place = self.place.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(place) = place.as_mut() {
            place.current = (to, applied);
            place
                .trailing_since
                .get_or_insert_with(std::time::Instant::now);
        }
    }

    /// Writes the move from the durable checkpoint to `to` on `conn` (inside
    /// the caller's transaction); [`Self::written`] once that commits. A
    /// checkpoint moved by somebody else makes the cursor load it again.
    pub async fn write(
        &self,
        conn: &mut AnyConnection,
        to: LogPosition,
        applied: i64,
    ) -> Result<(), ProjectionError> {
        let Some(place) = self.get() else {
            return Err(ProjectionError::CheckpointMoved(self.name));
        };
        let result = advance_checkpoint(conn, self.name, place.durable.0, to, applied).await;
        if matches!(result, Err(ProjectionError::CheckpointMoved(_))) {
            self.forget();
        }
        result
    }

    /// The write of `to` committed.
    pub fn written(&self, to: LogPosition, applied: i64) {
        self.set(Some(Place {
            durable: (to, applied),
            current: (to, applied),
            trailing_since: None,
        }));
    }

    /// Writes a checkpoint that moved in memory only, once it has trailed for
    /// [`CHECKPOINT_TRAIL`] (or now, with `force`).
    pub async fn flush(&self, pool: &AnyPool, force: bool) -> Result<(), ProjectionError> {
        let Some(place) = self.get() else {
            return Ok(());
        };
        let Some(since) = place.trailing_since else {
            return Ok(());
        };
        if !force && since.elapsed() < CHECKPOINT_TRAIL {
            return Ok(());
        }
        let mut conn = pool.acquire().await?;
        let (to, applied) = place.current;
        match self.write(&mut conn, to, applied).await {
            Ok(()) => {
                // Only what was written: the cursor may have moved meanwhile.
                let mut current = self.place.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(now) = current.as_mut() {
                    now.durable = (to, applied);
                    if now.current == (to, applied) {
                        now.trailing_since = None;
                    }
                }
                Ok(())
            }
            // Somebody else moved it (a rebuild, a new leader): theirs stands.
            Err(ProjectionError::CheckpointMoved(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Drops what is in memory; the next use loads the durable checkpoint.
    pub fn forget(&self) {
        self.set(None);
    }
}

/// Reads a consumer's durable checkpoint, creating it at the start of the log.
pub async fn load_checkpoint(
    pool: &AnyPool,
    name: &str,
) -> Result<(LogPosition, i64), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_checkpoints (name, tx_id, global_position, events_applied, updated_at)
         VALUES ($1, 0, 0, 0, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(now_text())
    .execute(pool)
    .await?;
    let (tx_id, position, applied): (i64, i64, i64) = sqlx::query_as(
        "SELECT tx_id, global_position, events_applied FROM projection_checkpoints WHERE name = $1",
    )
    .bind(name)
    .fetch_one(pool)
    .await?;
    Ok((LogPosition::new(tx_id, position), applied))
}

/// Moves a checkpoint from `from` to `to`, failing with `CheckpointMoved` when
/// somebody else moved it first (compare-and-set).
pub async fn advance_checkpoint(
    conn: &mut AnyConnection,
    name: &'static str,
    from: LogPosition,
    to: LogPosition,
    events_applied: i64,
) -> Result<(), ProjectionError> {
    let moved = sqlx::query(
        "UPDATE projection_checkpoints
            SET tx_id = $1, global_position = $2, events_applied = $3, updated_at = $4
          WHERE name = $5 AND tx_id = $6 AND global_position = $7",
    )
    .bind(to.tx_id)
    .bind(to.global_position)
    .bind(events_applied)
    .bind(now_text())
    .bind(name)
    .bind(from.tx_id)
    .bind(from.global_position)
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() == 1 {
        Ok(())
    } else {
        Err(ProjectionError::CheckpointMoved(name))
    }
}

/// The loop every background worker runs: do a round of work, then sleep until
/// a commit notice, the poll interval or shutdown. A failing round is logged and
/// retried with a growing pause, never skipped.
pub async fn run_until_shutdown<F, Fut>(
    name: &'static str,
    mut round: F,
    mut commits: watch::Receiver<LogPosition>,
    poll_interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut failures: u32 = 0;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let pause = match round().await {
            Ok(()) => {
                failures = 0;
                poll_interval
            }
            Err(e) => {
                failures += 1;
                error!(worker = name, error = %e, failures, "background worker cannot advance");
                poll_interval * failures.min(20)
            }
        };
        tokio::select! {
            notice = commits.changed(), if failures == 0 => {
                if notice.is_err() {
                    // No writer left in this process: fall back to polling.
                    tokio::time::sleep(pause).await;
                }
            }
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => {}
        }
    }
    info!(worker = name, "background worker stopped at its checkpoint");
}

/// [`run_until_shutdown`] for a worker due by the clock, not by commits
/// (timers, SMS delivery): a round every `poll_interval`.
pub async fn run_on_the_clock<F, Fut>(
    name: &'static str,
    round: F,
    poll_interval: Duration,
    shutdown: watch::Receiver<bool>,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    // A channel nobody sends on: no commit ever wakes it early.
    let (_never, commits) = watch::channel(LogPosition::START);
    run_until_shutdown(name, round, commits, poll_interval, shutdown).await;
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
