//! The append of one command's events, in one transaction with what must be
//! exactly as durable as they are: the reservations they take or give back
//! (unique business keys, domain/src/reservation.rs) and, for a request sent
//! with an idempotency key, the receipt of the command. The position of the
//! last event comes back from the insert itself.

use domain::log::{rfc3339, LogPosition};
use domain::reservation::Reservation;
use serde_json::Value;
use sqlx::{Postgres, Sqlite, Transaction};
use uuid::Uuid;

use crate::chain::{raw_event, ChainedEvent, RawRow, GENESIS};
use crate::database::{StoreError, StorePool};
use crate::idempotency::IdempotentRequest;

/// One event ready to be stored.
pub(crate) struct NewEvent {
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
}

/// Everything one command appends.
pub(crate) struct Append<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub events: &'a [NewEvent],
    pub event_ids: &'a [Uuid],
    pub reservations: &'a [Reservation],
    pub step: Option<(&'a IdempotentRequest, u32)>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// Why an append did not commit.
#[derive(Debug)]
pub(crate) enum AppendError {
    /// Another writer took one of the sequences (or this request step).
    Conflict,
    /// A reservation is held by another aggregate instance.
    Taken {
        scope: domain::reservation::ReservationScope,
        key: String,
        holder: String,
    },
    /// The store failed.
    Store(StoreError),
}

impl From<sqlx::Error> for AppendError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => AppendError::Conflict,
            _ => AppendError::Store(StoreError::Database(error)),
        }
    }
}

/// A stored receipt of one step of a keyed request.
#[derive(Debug, Clone)]
pub(crate) struct StepReceipt {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_ids: Vec<Uuid>,
    pub position: LogPosition,
}

const INSERT_RESERVATION: &str = "
INSERT INTO reservations (scope, key, aggregate_type, aggregate_id, reserved_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (scope, key) DO NOTHING";

const RESERVATION_HOLDER: &str =
    "SELECT aggregate_type, aggregate_id FROM reservations WHERE scope = $1 AND key = $2";

const RELEASE_RESERVATIONS: &str =
    "DELETE FROM reservations WHERE scope = $1 AND aggregate_type = $2 AND aggregate_id = $3";

const INSERT_STEP: &str = "
INSERT INTO idempotent_commands (actor_id, actor_role, idempotency_key, step, aggregate_type,
                                 aggregate_id, sequence, event_ids, position, recorded_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

const SELECT_STEP: &str = "
SELECT aggregate_type, aggregate_id, sequence, event_ids, position FROM idempotent_commands
 WHERE actor_id = $1 AND actor_role = $2 AND idempotency_key = $3 AND step = $4";

/// Writes reservations and the step receipt inside `$tx` (same SQL on both
/// backends, so one macro serves both transaction types).
macro_rules! write_extras {
    ($tx:expr, $append:expr, $position:expr) => {{
        let append: &Append<'_> = $append;
        let at = rfc3339(append.recorded_at);
        for reservation in append.reservations {
            match reservation {
                Reservation::Claim { scope, key } => {
                    let inserted = sqlx::query(INSERT_RESERVATION)
                        .bind(scope.name)
                        .bind(key.as_str())
                        .bind(append.aggregate_type)
                        .bind(append.aggregate_id)
                        .bind(at.as_str())
                        .execute(&mut *$tx)
                        .await?
                        .rows_affected();
                    if inserted == 0 {
                        let (holder_type, holder): (String, String) =
                            sqlx::query_as(RESERVATION_HOLDER)
                                .bind(scope.name)
                                .bind(key.as_str())
                                .fetch_one(&mut *$tx)
                                .await?;
                        if holder_type != append.aggregate_type || holder != append.aggregate_id {
                            return Err(AppendError::Taken {
                                scope: *scope,
                                key: key.clone(),
                                holder,
                            });
                        }
                    }
                }
                Reservation::Release { scope } => {
                    sqlx::query(RELEASE_RESERVATIONS)
                        .bind(scope.name)
                        .bind(append.aggregate_type)
                        .bind(append.aggregate_id)
                        .execute(&mut *$tx)
                        .await?;
                }
            }
        }
        if let Some((request, step)) = append.step {
            let last = append.events.last().map_or(0, |e| e.sequence);
            sqlx::query(INSERT_STEP)
                .bind(request.actor_id.as_str())
                .bind(request.actor_role.as_str())
                .bind(request.key.as_str())
                .bind(i64::from(step))
                .bind(append.aggregate_type)
                .bind(append.aggregate_id)
                .bind(last)
                .bind(serde_json::to_string(append.event_ids).unwrap_or_default())
                .bind($position.to_string())
                .bind(at.as_str())
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// The chained hash of the event before `append`'s first, read inside the
/// append's transaction: the stored one, or for an aggregate whose events
/// were stored before hashing began, the chain computed over them.
macro_rules! previous_hash {
    ($tx:expr, $append:expr, $payload:literal) => {{
        let first = $append.events.first().map_or(1, |e| e.sequence);
        if first <= 1 {
            GENESIS
        } else {
            let stored: Option<Option<Vec<u8>>> = sqlx::query_scalar(
                "SELECT hash FROM events
                  WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3",
            )
            .bind($append.aggregate_type)
            .bind($append.aggregate_id)
            .bind(first - 1)
            .fetch_optional(&mut **$tx)
            .await?;
            match stored.flatten().and_then(|h| <[u8; 32]>::try_from(h).ok()) {
                Some(hash) => hash,
                None => {
                    let rows: Vec<RawRow> = sqlx::query_as(concat!(
                        "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, ",
                        $payload,
                        ", hash FROM events
                              WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence < $3
                              ORDER BY sequence"
                    ))
                    .bind($append.aggregate_type)
                    .bind($append.aggregate_id)
                    .bind(first)
                    .fetch_all(&mut **$tx)
                    .await?;
                    legacy_chain(rows)?
                }
            }
        }
    }};
}

/// The chain over an aggregate's events stored before hashing began.
fn legacy_chain(rows: Vec<RawRow>) -> Result<[u8; 32], AppendError> {
    rows.into_iter().try_fold(GENESIS, |previous, row| {
        Ok(raw_event(row)
            .map_err(AppendError::Store)?
            .next_in_chain(&previous))
    })
}

/// `event`'s hash in `append`, chained to `previous`.
fn chained_hash(append: &Append<'_>, event: &NewEvent, previous: &[u8; 32]) -> [u8; 32] {
    ChainedEvent {
        aggregate_type: append.aggregate_type,
        aggregate_id: append.aggregate_id,
        sequence: event.sequence,
        event_type: &event.event_type,
        event_version: &event.event_version,
        payload: &event.payload,
        metadata: &event.metadata,
    }
    .hash(previous)
}

async fn append_postgres(
    tx: &mut Transaction<'_, Postgres>,
    append: &Append<'_>,
) -> Result<LogPosition, AppendError> {
    let mut position = LogPosition::START;
    let mut previous = previous_hash!(tx, append, "payload::text, metadata::text");
    for event in append.events {
        let hash = chained_hash(append, event, &previous);
        previous = hash;
        let (tx_id, global_position): (String, i64) = sqlx::query_as(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             RETURNING tx_id::text, global_position",
        )
        .bind(append.aggregate_type)
        .bind(append.aggregate_id)
        .bind(event.sequence)
        .bind(&event.event_type)
        .bind(&event.event_version)
        .bind(sqlx::types::Json(&event.payload))
        .bind(sqlx::types::Json(&event.metadata))
        .bind(&hash[..])
        .fetch_one(&mut **tx)
        .await?;
        let tx_id = tx_id.parse().map_err(|e| {
            AppendError::Store(StoreError::Database(sqlx::Error::Protocol(format!(
                "tx_id {tx_id}: {e}"
            ))))
        })?;
        position = LogPosition::new(tx_id, global_position);
    }
    write_extras!(&mut **tx, append, position);
    Ok(position)
}

async fn append_sqlite(
    tx: &mut Transaction<'_, Sqlite>,
    append: &Append<'_>,
) -> Result<LogPosition, AppendError> {
    let mut previous = previous_hash!(tx, append, "payload, metadata");
    for event in append.events {
        let hash = chained_hash(append, event, &previous);
        previous = hash;
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(append.aggregate_type)
        .bind(append.aggregate_id)
        .bind(event.sequence)
        .bind(&event.event_type)
        .bind(&event.event_version)
        .bind(event.payload.to_string())
        .bind(event.metadata.to_string())
        .bind(&hash[..])
        .execute(&mut **tx)
        .await?;
    }
    // The position is set by a trigger after the insert, so it is read back.
    let last = append.events.last().map_or(0, |e| e.sequence);
    let (global_position,): (i64,) = sqlx::query_as(
        "SELECT global_position FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3",
    )
    .bind(append.aggregate_type)
    .bind(append.aggregate_id)
    .bind(last)
    .fetch_one(&mut **tx)
    .await?;
    let position = LogPosition::new(0, global_position);
    write_extras!(&mut **tx, append, position);
    Ok(position)
}

/// Appends in one transaction; the position of the last event on success.
#[tracing::instrument(name = "append", skip_all, fields(aggregate_type = append.aggregate_type, events = append.events.len()))]
pub(crate) async fn append(
    pool: &StorePool,
    append: &Append<'_>,
) -> Result<LogPosition, AppendError> {
    match pool {
        StorePool::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let position = append_postgres(&mut tx, append).await?;
            tx.commit().await?;
            Ok(position)
        }
        StorePool::Sqlite(pool) => {
            // The write lock from the start: the append reads the previous
            // event's hash before it inserts, and a read transaction that
            // then writes fails at once (SQLITE_BUSY) where another writer
            // committed in between, instead of waiting its turn.
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            let position = append_sqlite(&mut tx, append).await?;
            tx.commit().await?;
            Ok(position)
        }
    }
}

/// The receipt of `step` of a keyed request, when that step committed before.
pub(crate) async fn find_step(
    pool: &StorePool,
    request: &IdempotentRequest,
    step: u32,
) -> Result<Option<StepReceipt>, StoreError> {
    let row: Option<(String, String, i64, String, String)> = match pool {
        StorePool::Postgres(pool) => {
            sqlx::query_as(SELECT_STEP)
                .bind(request.actor_id.as_str())
                .bind(request.actor_role.as_str())
                .bind(request.key.as_str())
                .bind(i64::from(step))
                .fetch_optional(pool)
                .await?
        }
        StorePool::Sqlite(pool) => {
            sqlx::query_as(SELECT_STEP)
                .bind(request.actor_id.as_str())
                .bind(request.actor_role.as_str())
                .bind(request.key.as_str())
                .bind(i64::from(step))
                .fetch_optional(pool)
                .await?
        }
    };
    row.map(
        |(aggregate_type, aggregate_id, sequence, event_ids, position)| {
            let corrupt = |reason: String| StoreError::Corrupt {
                aggregate_type: aggregate_type.clone(),
                aggregate_id: aggregate_id.clone(),
                sequence,
                reason,
            };
            Ok(StepReceipt {
                event_ids: serde_json::from_str(&event_ids)
                    .map_err(|e| corrupt(format!("idempotent_commands.event_ids: {e}")))?,
                position: position
                    .parse()
                    .map_err(|e: domain::message::Message| corrupt(e.to_string()))?,
                aggregate_type: aggregate_type.clone(),
                aggregate_id: aggregate_id.clone(),
                sequence,
            })
        },
    )
    .transpose()
}

/// An append that owns what it writes, to hand to the group committer
/// (keyed requests, whose receipt borrows the request, commit alone).
pub(crate) struct OwnedAppend {
    pub aggregate_type: &'static str,
    pub aggregate_id: String,
    pub events: Vec<NewEvent>,
    pub event_ids: Vec<Uuid>,
    pub reservations: Vec<Reservation>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

impl OwnedAppend {
    fn borrowed(&self) -> Append<'_> {
        Append {
            aggregate_type: self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            events: &self.events,
            event_ids: &self.event_ids,
            reservations: &self.reservations,
            step: None,
            recorded_at: self.recorded_at,
        }
    }
}

struct Job {
    append: OwnedAppend,
    done: tokio::sync::oneshot::Sender<Result<LogPosition, AppendError>>,
}

/// Group commit: the appends of concurrent commands on different aggregates
/// share one Postgres transaction. Each append runs inside a savepoint, so a
/// conflict or a taken reservation fails that command alone; each command is
/// acknowledged only once the shared transaction committed. A group forms by
/// itself: what arrives while one group commits goes into the next, so a
/// lone command commits at once, as before.
#[derive(Clone)]
pub(crate) struct GroupCommitter {
    jobs: tokio::sync::mpsc::Sender<Job>,
}

/// The most appends one transaction carries.
const MAX_GROUP: usize = 64;

/// Transactions committing groups at the same time: one gathers while another commits.
const COMMITTERS: usize = 2;

impl GroupCommitter {
    /// Committers over `pool`, running on the current runtime for as long as it lives.
    pub(crate) fn start(
        pool: sqlx::PgPool,
        metrics: std::sync::Arc<crate::Metrics>,
        runtime: &tokio::runtime::Handle,
    ) -> Self {
        let (jobs, receiver) = tokio::sync::mpsc::channel(1024);
        let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
        for _ in 0..COMMITTERS {
            let (pool, receiver, metrics) = (pool.clone(), receiver.clone(), metrics.clone());
            runtime.spawn(async move {
                loop {
                    let mut group = Vec::new();
                    {
                        let mut receiver = receiver.lock().await;
                        match receiver.recv().await {
                            Some(job) => group.push(job),
                            None => return,
                        }
                        while group.len() < MAX_GROUP {
                            match receiver.try_recv() {
                                Ok(job) => group.push(job),
                                Err(_) => break,
                            }
                        }
                    }
                    metrics.increment(
                        "facesign_group_commits_total",
                        "Transactions of the group committer (appends per transaction = appends / commits).",
                        crate::metrics::labels(&[]),
                        1,
                    );
                    metrics.increment(
                        "facesign_group_commit_appends_total",
                        "Command appends committed through the group committer.",
                        crate::metrics::labels(&[]),
                        group.len() as u64,
                    );
                    commit_group(&pool, group).await;
                }
            });
        }
        Self { jobs }
    }

    /// Appends through the next group; the position of the last event once
    /// its transaction committed.
    #[tracing::instrument(name = "append", skip_all, fields(aggregate_type = append.aggregate_type, events = append.events.len()))]
    pub(crate) async fn append(&self, append: OwnedAppend) -> Result<LogPosition, AppendError> {
        let (done, answer) = tokio::sync::oneshot::channel();
        let lost = || {
            AppendError::Store(StoreError::Database(sqlx::Error::Protocol(
                "the group committer stopped".into(),
            )))
        };
        self.jobs
            .send(Job { append, done })
            .await
            .map_err(|_| lost())?;
        answer.await.map_err(|_| lost())?
    }
}

/// Appends one job alone, unless (or until) its command is abandoned: a
/// request cancelled at its deadline must change nothing, so dropping the
/// append rolls its transaction back, as when the request ran it itself.
async fn alone(pool: &sqlx::PgPool, one: &OwnedAppend, done: &mut Done) -> Option<AppendResult> {
    if done.is_closed() {
        return None;
    }
    let (store, borrowed) = (StorePool::Postgres(pool.clone()), one.borrowed());
    tokio::select! {
        result = append(&store, &borrowed) => Some(result),
        () = done.closed() => None,
    }
}

type AppendResult = Result<LogPosition, AppendError>;
type Done = tokio::sync::oneshot::Sender<AppendResult>;

/// Every append of a group inside one transaction, each in a savepoint; a
/// failure of the store (not of one append) abandons the group.
async fn stage(
    pool: &sqlx::PgPool,
    appends: &[OwnedAppend],
) -> Result<(sqlx::Transaction<'static, Postgres>, Vec<AppendResult>), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut results = Vec::with_capacity(appends.len());
    for one in appends {
        sqlx::query("SAVEPOINT one_append")
            .execute(&mut *tx)
            .await?;
        match append_postgres(&mut tx, &one.borrowed()).await {
            Ok(position) => {
                sqlx::query("RELEASE SAVEPOINT one_append")
                    .execute(&mut *tx)
                    .await?;
                results.push(Ok(position));
            }
            Err(AppendError::Store(StoreError::Database(e))) => return Err(e),
            Err(AppendError::Store(e)) => return Err(sqlx::Error::Protocol(e.to_string())),
            Err(refused) => {
                sqlx::query("ROLLBACK TO SAVEPOINT one_append")
                    .execute(&mut *tx)
                    .await?;
                results.push(Err(refused));
            }
        }
    }
    Ok((tx, results))
}

async fn commit_group(pool: &sqlx::PgPool, group: Vec<Job>) {
    // Commands already abandoned (their requests cancelled) are dropped.
    let (appends, mut dones): (Vec<OwnedAppend>, Vec<Done>) = group
        .into_iter()
        .filter(|job| !job.done.is_closed())
        .map(|job| (job.append, job.done))
        .unzip();
    if appends.len() > 1 {
        let staged = {
            let staged = stage(pool, &appends);
            let abandoned = futures_util::future::select_all(
                dones.iter_mut().map(|done| Box::pin(done.closed())),
            );
            tokio::select! {
                staged = staged => Some(staged),
                // A command abandoned mid-way: drop the transaction (rollback).
                _ = abandoned => None,
            }
        };
        match staged {
            Some(Ok((tx, results))) if !dones.iter().any(|d| d.is_closed()) => {
                // A failed COMMIT may or may not have committed: like a lone
                // append's, it is reported, never retried here.
                let committed = tx.commit().await;
                for (done, result) in dones.into_iter().zip(results) {
                    let result = match (&committed, result) {
                        (Err(e), Ok(_)) => Err(AppendError::Store(StoreError::Database(
                            sqlx::Error::Protocol(format!("commit of a group: {e}")),
                        ))),
                        (_, result) => result,
                    };
                    let _ = done.send(result);
                }
                return;
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e, appends = appends.len(), "a group commit failed before committing; appending one by one");
            }
            // Abandoned by one of its commands before COMMIT: rolled back.
            _ => {}
        }
    }
    // Nothing of the group committed: each command still waiting on its own.
    for (one, mut done) in appends.iter().zip(dones) {
        if let Some(result) = alone(pool, one, &mut done).await {
            let _ = done.send(result);
        }
    }
}
