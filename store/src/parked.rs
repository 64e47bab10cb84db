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
    /// Whether the event is at fault, not the moment: it cannot be decoded, or
    /// the database refused a statement for it (a constraint, a type). A lost
    /// connection, a deadlock, a serialization failure or a busy database pass.
    pub fn is_poison(&self) -> bool {
        match self {
            WorkerError::BadEvent { .. } => true,
            WorkerError::Database(sqlx::Error::Database(e)) => {
                let code = e.code().unwrap_or_default();
                // Postgres: 08 connection, 40 rollback (deadlock, serialization),
                // 53 resources, 55 lock not available, 57 operator intervention.
                // SQLite: 5 busy, 6 locked (and their extended codes).
                let passing_postgres = ["08", "40", "53", "55", "57"]
                    .iter()
                    .any(|class| code.starts_with(class));
                let passing_sqlite = code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6));
                !(passing_postgres || passing_sqlite)
            }
            _ => false,
        }
    }
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
/// Parking it again (a rebuild meets it once more) refreshes the error of one
/// still parked and leaves one already resolved as it was.
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
                parked_at = excluded.parked_at
          WHERE parked_events.status = 'PARKED'",
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

/// Marks the parked event of `worker` at `position` retried or skipped by
/// `by` (an operator), with `note`, and records it in the operation log, in
/// one transaction.
pub async fn resolve(
    pool: &AnyPool,
    worker: &str,
    position: LogPosition,
    resolution: Resolution,
    by: &str,
    note: &str,
) -> Result<(), ParkedError> {
    let now = rfc3339(chrono::Utc::now());
    let mut tx = pool.begin().await?;
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
    .execute(&mut *tx)
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
    operation(&mut tx, entry).await?;
    tx.commit().await?;
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
