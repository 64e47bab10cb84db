//! The run loop every worker over the global log shares — read models,
//! flows, the Kafka relay — and the clock-driven ones (timers, SMS delivery):
//! a durable checkpoint ([`Cursor`]), the loop with its back-off
//! ([`run_until_shutdown`]), the status waiters read ([`WorkerHandle`]), the
//! cross-instance notices, and [`LogWorker`], the one interface `serve`,
//! `replay` and the API drive them through.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use domain::log::{LogPosition, StoredEvent};
use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{broadcast, watch};
use tracing::{error, info};

/// Why a projection could not advance.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
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

/// What a runner has done so far; published to readers waiting for their writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerStatus {
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
pub struct WorkerHandle {
    name: &'static str,
    status: watch::Sender<WorkerStatus>,
    changes: broadcast::Sender<RowsChanged>,
}

impl WorkerHandle {
    /// A handle over a worker that publishes its own status (process managers).
    pub fn new(
        name: &'static str,
        status: watch::Sender<WorkerStatus>,
        changes: broadcast::Sender<RowsChanged>,
    ) -> Self {
        Self {
            name,
            status,
            changes,
        }
    }

    /// A handle over a worker whose rows no one subscribes to (flows, the relay).
    pub fn of_status(name: &'static str, status: watch::Sender<WorkerStatus>) -> Self {
        Self::new(name, status, broadcast::channel(1).0)
    }

    /// Projection name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Notified whenever the status changes.
    pub fn subscribe_status(&self) -> watch::Receiver<WorkerStatus> {
        self.status.subscribe()
    }

    /// Latest status.
    pub fn status(&self) -> WorkerStatus {
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

/// A boxed future, so workers of different types share one list.
pub type Work<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A worker over the global log, whatever it does with the events.
pub trait LogWorker: Send + Sync {
    /// Its progress.
    fn handle(&self) -> WorkerHandle;
    /// Handles everything after its checkpoint; returns how many events.
    fn catch_up(&self) -> Work<'_, anyhow::Result<usize>>;
    /// Runs until `stop`, woken by `commits` or every `poll`.
    fn run(
        &self,
        commits: watch::Receiver<LogPosition>,
        poll: Duration,
        stop: watch::Receiver<bool>,
    ) -> Work<'_, ()>;
    /// Empties its tables and re-derives them from position 0 (read models only).
    fn rebuild(&self) -> Option<Work<'_, anyhow::Result<usize>>> {
        None
    }
    /// Applies an event it parked once more, leaving its checkpoint where it
    /// is, and marks it retried as `decision` says (`facesign parked retry`).
    /// A worker that never parks refuses.
    fn retry_parked<'a>(
        &'a self,
        event: &'a StoredEvent,
        _decision: crate::parked::Decision<'a>,
    ) -> Work<'a, anyhow::Result<()>> {
        let name = self.handle().name();
        let position = event.position;
        Box::pin(
            async move { anyhow::bail!("{name} parks no events; nothing at {position} to retry") },
        )
    }
}

impl WorkerStatus {
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

/// Decodes an event's payload, or says which event could not be read.
pub fn decode<T: serde::de::DeserializeOwned>(event: &StoredEvent) -> Result<T, WorkerError> {
    serde_json::from_value(event.payload.clone()).map_err(|e| bad_event(event, e))
}

/// The error of a projection that cannot apply `event`, and why.
pub fn bad_event(event: &StoredEvent, reason: impl ToString) -> WorkerError {
    WorkerError::BadEvent {
        event_type: event.event_type.clone(),
        position: event.position,
        reason: reason.to_string(),
    }
}

/// Publishes a worker's progress to its waiters, waking them only on a change.
pub fn publish_status(
    status: &watch::Sender<WorkerStatus>,
    checkpoint: LogPosition,
    events_applied: i64,
    last_error: Option<String>,
) {
    status.send_if_modified(|current| {
        let next = WorkerStatus {
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
/// `worker_checkpoints`) moves in the transaction of the rows a batch
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
    ) -> Result<(), WorkerError> {
        let Some(place) = self.get() else {
            return Err(WorkerError::CheckpointMoved(self.name));
        };
        let result = advance_checkpoint(conn, self.name, place.durable.0, to, applied).await;
        if matches!(result, Err(WorkerError::CheckpointMoved(_))) {
            self.forget();
        }
        result
    }

    /// Parks `event`, which the worker could not apply after `attempts`
    /// tries with `error`, and moves the checkpoint past it (to `applied`
    /// events), in one transaction (see `crate::parked`).
    pub async fn park_past(
        &self,
        pool: &AnyPool,
        event: &StoredEvent,
        error: &str,
        attempts: u32,
        applied: i64,
    ) -> Result<(), WorkerError> {
        let mut tx = pool.begin().await?;
        self.write(&mut tx, event.position, applied).await?;
        crate::parked::park(&mut tx, self.name, event, error, attempts).await?;
        tx.commit().await?;
        self.written(event.position, applied);
        error!(
            worker = self.name, position = %event.position, event_type = %event.event_type,
            aggregate = %event.aggregate_id, error,
            "event parked: the worker cannot apply it (facesign parked list)"
        );
        Ok(())
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
    pub async fn flush(&self, pool: &AnyPool, force: bool) -> Result<(), WorkerError> {
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
            Err(WorkerError::CheckpointMoved(_)) => Ok(()),
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
        "INSERT INTO worker_checkpoints (name, tx_id, global_position, events_applied, updated_at)
         VALUES ($1, 0, 0, 0, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(now_text())
    .execute(pool)
    .await?;
    let (tx_id, position, applied): (i64, i64, i64) = sqlx::query_as(
        "SELECT tx_id, global_position, events_applied FROM worker_checkpoints WHERE name = $1",
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
) -> Result<(), WorkerError> {
    let moved = sqlx::query(
        "UPDATE worker_checkpoints
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
        Err(WorkerError::CheckpointMoved(name))
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

/// What of a worker over the log the shared loop needs: its name, its place,
/// where its checkpoint is kept and where it publishes its status.
#[derive(Clone, Copy)]
pub struct LogLoop<'a> {
    /// The worker's name (checkpoint row, lock, logs).
    pub name: &'static str,
    /// Its place in the log.
    pub cursor: &'a Cursor,
    /// The pool holding its checkpoint.
    pub pool: &'a AnyPool,
    /// Its status, for waiters, `/readyz` and `/metrics`.
    pub status: &'a watch::Sender<WorkerStatus>,
}

/// The run loop of every worker over the log (read models, flows, the
/// relay): until `shutdown`, catches up with `catch_up` while commits are
/// known past the cursor, writes a trailing checkpoint, then sleeps until the
/// next commit notice or `poll_interval`. A failing round is published as the
/// worker's last error and retried with a growing pause; at shutdown the
/// checkpoint is saved.
pub async fn run_over_log<F, Fut, T, E>(
    worker: LogLoop<'_>,
    commits: watch::Receiver<LogPosition>,
    poll_interval: Duration,
    shutdown: watch::Receiver<bool>,
    catch_up: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let stop = shutdown.clone();
    let known = commits.clone();
    let (stop, known, catch_up) = (&stop, &known, &catch_up);
    run_until_shutdown(
        worker.name,
        move || async move {
            let result = match catch_up_to_known(
                worker.cursor,
                known,
                poll_interval,
                stop,
                catch_up,
            )
            .await
            {
                Ok(()) => worker
                    .cursor
                    .flush(worker.pool, false)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(format!("{e:#}")),
            };
            if let Err(e) = &result {
                let (checkpoint, applied) = worker.status.borrow().clone().into_parts();
                publish_status(worker.status, checkpoint, applied, Some(e.clone()));
            }
            result
        },
        commits,
        poll_interval,
        shutdown,
    )
    .await;
    if let Err(e) = worker.cursor.flush(worker.pool, true).await {
        error!(worker = worker.name, error = %e, "cannot save the checkpoint at shutdown; the events after it will be read again");
    }
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

/// Now, as checkpoint rows record it (RFC 3339, microseconds, UTC).
pub fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
