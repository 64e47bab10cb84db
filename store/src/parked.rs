//! Poison events (issue 33 item 4): an event a worker cannot apply — its
//! payload does not decode, or the database refuses what the worker writes for
//! it — is tried again with a growing pause and then parked: stored here with
//! the error, the worker's checkpoint moves past it in the same transaction,
//! and every later event goes on. Passing faults (the database unreachable, a
//! deadlock, a busy SQLite file) are never parked: the worker waits them out.
//! An operator lists parked events and retries or skips each
//! (`facesign parked`); both are recorded in the operation log, as is every
//! parking.

use domain::log::{rfc3339, LogPosition, StoredEvent};
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::worker::WorkerError;

const COLUMNS: &str = "worker, tx_id, global_position, event_id, aggregate_type, aggregate_id,
    sequence, event_type, error, attempts, status, parked_at, resolved_by, resolved_at, note";

/// How many times an event is tried before it is parked.
pub const ATTEMPTS: u32 = 3;

/// The pause after the `attempt`th failure of an event (200 ms, 400 ms, …).
pub fn pause_after(attempt: u32) -> std::time::Duration {
    std::time::Duration::from_millis(200 * u64::from(attempt))
}

/// What an operator decided about a parked event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Applied again by its worker, successfully.
    Retried,
    /// Left unapplied, on purpose.
    Skipped,
}

impl Resolution {
    /// The stored status.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Retried => "RETRIED",
            Resolution::Skipped => "SKIPPED",
        }
    }
}

/// A parked event, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct ParkedEvent {
    /// The worker that could not apply it.
    pub worker: String,
    /// Its transaction in the log.
    pub tx_id: i64,
    /// Its position in the log.
    pub global_position: i64,
    /// The event.
    pub event_id: String,
    /// Its aggregate type.
    pub aggregate_type: String,
    /// Its aggregate.
    pub aggregate_id: String,
    /// Its sequence in the aggregate.
    pub sequence: i64,
    /// Its type.
    pub event_type: String,
    /// Why the worker could not apply it (the last attempt's error).
    pub error: String,
    /// How often it was tried.
    pub attempts: i64,
    /// PARKED, RETRIED or SKIPPED.
    pub status: String,
    /// When it was parked (RFC 3339).
    pub parked_at: String,
    /// Who retried or skipped it.
    pub resolved_by: Option<String>,
    /// When.
    pub resolved_at: Option<String>,
    /// The operator's reason.
    pub note: Option<String>,
}

impl ParkedEvent {
    /// Where the event stands in the log.
    pub fn position(&self) -> LogPosition {
        LogPosition::new(self.tx_id, self.global_position)
    }
}

/// Why an operator's action on a parked event was refused.
#[derive(Debug, thiserror::Error)]
pub enum ParkedError {
    /// No such parked event, or it was already retried or skipped.
    #[error("no parked event of {worker} at {position}")]
    NotParked {
        /// The worker named.
        worker: String,
        /// The position named.
        position: LogPosition,
    },
    /// The database failed.
    #[error("parked events: {0}")]
    Database(#[from] sqlx::Error),
}

impl WorkerError {
    /// Whether the event is at fault, not the moment or the deployment: it
    /// cannot be decoded, or the database refused the row written for it as
    /// data (a constraint, a value out of range or of the wrong type). A lost
    /// connection, a deadlock, a busy database, a missing table or column (a
    /// binary ahead of its migrations) wait instead, as every other error.
    pub fn is_poison(&self) -> bool {
        match self {
            WorkerError::BadEvent { .. } => true,
            WorkerError::Database(sqlx::Error::Database(e)) => refused_as_data(e.as_ref()),
            _ => false,
        }
    }
}

/// Whether the database refused a statement because of the values in it.
fn refused_as_data(error: &dyn sqlx::error::DatabaseError) -> bool {
    use sqlx::error::ErrorKind;
    if !matches!(error.kind(), ErrorKind::Other) {
        // Unique, foreign-key, not-null or check violation, on either backend.
        return true;
    }
    if let Some(postgres) = error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        // Class 22: data exception (a value out of range, of the wrong form).
        return postgres.code().starts_with("22");
    }
    if error
        .try_downcast_ref::<sqlx::sqlite::SqliteError>()
        .is_some()
    {
        // SQLITE_TOOBIG 18, SQLITE_CONSTRAINT 19, SQLITE_MISMATCH 20, SQLITE_RANGE 25.
        return error
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            .is_some_and(|code| matches!(code & 0xff, 18 | 19 | 20 | 25));
    }
    false
}

/// Whether this binary knows `event`'s type. One it does not know was written
/// by a newer version (a rolling deployment): it is never parked, the worker
/// waits for an instance that knows it to lead.
pub fn known(event: &StoredEvent) -> bool {
    domain::event_labels::event_label(&event.event_type).is_some()
}

/// Whether `error` (from any worker) is a [`WorkerError`] about the event.
pub fn is_poison(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<WorkerError>()
            .is_some_and(WorkerError::is_poison)
    })
}

/// Parks `event` for `worker` on `conn` (inside the transaction that moves the
/// worker's checkpoint past it), and records the parking in the operation log.
/// Parking it again (its checkpoint was reset) parks it afresh, even one an
/// operator had retried or skipped: it is unapplied again, so it must show.
pub async fn park(
    conn: &mut AnyConnection,
    worker: &str,
    event: &StoredEvent,
    error: &str,
    attempts: u32,
) -> Result<(), sqlx::Error> {
    let now = rfc3339(chrono::Utc::now());
    let error: String = error.chars().take(2000).collect();
    sqlx::query(
        "INSERT INTO parked_events (worker, tx_id, global_position, event_id, aggregate_type,
                                    aggregate_id, sequence, event_type, error, attempts, status,
                                    parked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'PARKED', $11)
         ON CONFLICT (worker, tx_id, global_position) DO UPDATE
            SET error = excluded.error, attempts = excluded.attempts,
                parked_at = excluded.parked_at, status = 'PARKED', resolved_by = NULL,
                resolved_at = NULL, note = NULL",
    )
    .bind(worker)
    .bind(event.position.tx_id)
    .bind(event.position.global_position)
    .bind(event.metadata.event_id.to_string())
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(event.sequence)
    .bind(&event.event_type)
    .bind(&error)
    .bind(i64::from(attempts))
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    let detail = format!(
        "{} {} of {} {}: {error}",
        event.event_type, event.sequence, event.aggregate_type, event.aggregate_id
    );
    let entry = Entry {
        now: &now,
        actor_id: worker,
        actor_role: "SYSTEM",
        operation: "parked.park",
        worker,
        position: event.position,
        detail: &detail,
    };
    operation(conn, entry).await
}

/// Parked events, oldest first, at most `limit`: only those still parked unless `all`.
pub async fn list(pool: &AnyPool, all: bool, limit: i64) -> Result<Vec<ParkedEvent>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM parked_events {}
          ORDER BY tx_id, global_position, worker LIMIT $1",
        if all { "" } else { "WHERE status = 'PARKED'" }
    ))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The parked event of `worker` at `position`, still parked.
pub async fn find(
    pool: &AnyPool,
    worker: &str,
    position: LogPosition,
) -> Result<ParkedEvent, ParkedError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM parked_events
          WHERE worker = $1 AND tx_id = $2 AND global_position = $3 AND status = 'PARKED'"
    ))
    .bind(worker)
    .bind(position.tx_id)
    .bind(position.global_position)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| ParkedError::NotParked {
        worker: worker.to_string(),
        position,
    })
}

/// How many events each worker has parked, for `/readyz` and `/metrics`.
pub async fn counts(pool: &AnyPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT worker, CAST(COUNT(*) AS BIGINT) FROM parked_events
          WHERE status = 'PARKED' GROUP BY worker ORDER BY worker",
    )
    .fetch_all(pool)
    .await
}

/// An operator's decision on one parked event.
#[derive(Debug, Clone, Copy)]
pub struct Decision<'a> {
    /// The worker that parked it.
    pub worker: &'a str,
    /// Where the event stands in the log.
    pub position: LogPosition,
    /// Retried or skipped.
    pub resolution: Resolution,
    /// Who decided (a staff no).
    pub by: &'a str,
    /// Why.
    pub note: &'a str,
}

/// Records `decision` in its own transaction (see [`resolve_in`]).
pub async fn resolve(pool: &AnyPool, decision: Decision<'_>) -> Result<(), ParkedError> {
    let mut tx = pool.begin().await?;
    resolve_in(&mut tx, decision).await?;
    tx.commit().await?;
    Ok(())
}

/// Marks the parked event `decision` names retried or skipped, and records it
/// in the operation log, on `conn`: inside the transaction that applies it, a
/// retry claims the event, so two operators never apply it twice. Refused
/// when the event is not (or no longer) parked.
pub async fn resolve_in(
    conn: &mut AnyConnection,
    decision: Decision<'_>,
) -> Result<(), ParkedError> {
    let Decision {
        worker,
        position,
        resolution,
        by,
        note,
    } = decision;
    let now = rfc3339(chrono::Utc::now());
    let changed = sqlx::query(
        "UPDATE parked_events SET status = $1, resolved_by = $2, resolved_at = $3, note = $4
          WHERE worker = $5 AND tx_id = $6 AND global_position = $7 AND status = 'PARKED'",
    )
    .bind(resolution.as_str())
    .bind(by)
    .bind(&now)
    .bind(note)
    .bind(worker)
    .bind(position.tx_id)
    .bind(position.global_position)
    .execute(&mut *conn)
    .await?;
    if changed.rows_affected() != 1 {
        return Err(ParkedError::NotParked {
            worker: worker.to_string(),
            position,
        });
    }
    let operation_name = match resolution {
        Resolution::Retried => "parked.retry",
        Resolution::Skipped => "parked.skip",
    };
    let entry = Entry {
        now: &now,
        actor_id: by,
        actor_role: "OPERATOR",
        operation: operation_name,
        worker,
        position,
        detail: note,
    };
    operation(conn, entry).await?;
    Ok(())
}

/// Drops what `worker` parked, on `conn` (in the transaction of a rebuild
/// that re-derives it from the start: whatever still fails is parked again;
/// the operation log keeps every earlier parking and decision).
pub async fn forget(conn: &mut AnyConnection, worker: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM parked_events WHERE worker = $1")
        .bind(worker)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records that `by`'s retry of the parked event of `worker` at `position`
/// failed with `error`: the event stays parked with that error.
pub async fn retry_failed(
    pool: &AnyPool,
    worker: &str,
    position: LogPosition,
    by: &str,
    error: &str,
) -> Result<(), ParkedError> {
    let now = rfc3339(chrono::Utc::now());
    let error: String = error.chars().take(2000).collect();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE parked_events SET error = $1, attempts = attempts + 1
          WHERE worker = $2 AND tx_id = $3 AND global_position = $4 AND status = 'PARKED'",
    )
    .bind(&error)
    .bind(worker)
    .bind(position.tx_id)
    .bind(position.global_position)
    .execute(&mut *tx)
    .await?;
    let entry = Entry {
        now: &now,
        actor_id: by,
        actor_role: "OPERATOR",
        operation: "parked.retry-failed",
        worker,
        position,
        detail: &error,
    };
    operation(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

/// An operation-log row about a parked event.
struct Entry<'a> {
    now: &'a str,
    actor_id: &'a str,
    actor_role: &'a str,
    operation: &'a str,
    worker: &'a str,
    position: LogPosition,
    detail: &'a str,
}

/// Writes `entry` in the caller's transaction, so the log and the change stand or fall together.
async fn operation(conn: &mut AnyConnection, entry: Entry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO operation_log (recorded_at, kind, actor_id, actor_role, operation, target,
                                    code, detail, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)",
    )
    .bind(entry.now)
    .bind(crate::operation_log::OperationKind::WorkerRepair.as_str())
    .bind(entry.actor_id)
    .bind(entry.actor_role)
    .bind(entry.operation)
    .bind(format!(
        "worker={} position={}",
        entry.worker, entry.position
    ))
    .bind(entry.detail.chars().take(2000).collect::<String>())
    .bind(format!("parked:{}:{}", entry.worker, entry.position))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
