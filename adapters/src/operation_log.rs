//! The operation log (操作留痕, 001 2.3.1.3, 2.4.2.3, 2.4.3.3): every refused
//! command and every read of unmasked personal data, in its own append-only
//! table — not the event log, since nothing happened to any aggregate.
//!
//! Recording never blocks or fails the request it records: entries go into a
//! bounded in-memory queue and one writer task stores them in batches (every
//! 200 ms or 200 entries). What the process loses if it dies is what is in the
//! queue and the batch being written: at most the last ~200 ms of entries. A
//! stop flushes the queue first. A full queue (the database is down or too
//! slow) drops entries, counted in `facesign_operation_log_dropped_total` and
//! logged, rather than slowing the requests.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::log::rfc3339;
use serde::Serialize;
use sqlx::{AnyPool, FromRow};
use tokio::sync::{mpsc, watch};

use crate::metrics::{labels, Metrics};

/// What kind of operation an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    /// A command (or an access to a record) that was refused.
    Refused,
    /// Personal data shown unmasked.
    PersonalDataRead,
}

impl OperationKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Refused => "REFUSED",
            OperationKind::PersonalDataRead => "PERSONAL_DATA_READ",
        }
    }
}

/// One operation, as recorded.
#[derive(Debug, Clone)]
pub struct Operation {
    /// When.
    pub at: DateTime<Utc>,
    /// Refused, or a read of personal data.
    pub kind: OperationKind,
    /// Who (token subject), or `anonymous`.
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
    /// The operation (`Mutation.cancelInterviewTask`, `Query.task`, `partner/orders`).
    pub operation: String,
    /// The record it addressed (`taskId=…`, `interview-task:…`), when known.
    pub target: String,
    /// The error code of a refusal.
    pub code: Option<String>,
    /// The refusal's message, or the personal-data fields shown.
    pub detail: String,
    /// The inbound request.
    pub request_id: String,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct OperationRow {
    /// Position in the log, increasing.
    pub entry_id: i64,
    /// RFC 3339 time.
    pub recorded_at: String,
    /// REFUSED or PERSONAL_DATA_READ.
    pub kind: String,
    /// Who.
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
    /// The operation.
    pub operation: String,
    /// The record.
    pub target: String,
    /// Error code of a refusal.
    pub code: Option<String>,
    /// Message, or the fields shown.
    pub detail: String,
    /// The inbound request.
    pub request_id: String,
}

/// Narrows a read of the log.
#[derive(Debug, Clone, Default)]
pub struct OperationFilter {
    /// Only this actor.
    pub actor_id: Option<String>,
    /// Only targets containing this text (an id, a contract no).
    pub target: Option<String>,
    /// Only this operation.
    pub operation: Option<String>,
    /// Only this kind.
    pub kind: Option<OperationKind>,
    /// At or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// How many entries may wait for the writer.
const QUEUE: usize = 10_000;
/// Entries per insert transaction.
const BATCH: usize = 200;
/// How long the writer waits for a batch to fill.
const LINGER: Duration = Duration::from_millis(200);

/// The recorder: cheap to clone, never blocks.
#[derive(Clone)]
pub struct OperationLog {
    queue: mpsc::Sender<Operation>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for OperationLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperationLog(..)")
    }
}

impl OperationLog {
    /// A recorder writing to `pool` from a task that runs until `shutdown`,
    /// then stores what is still queued; returns the recorder and that task.
    pub fn start(
        pool: AnyPool,
        metrics: Arc<Metrics>,
        shutdown: watch::Receiver<bool>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let writer = tokio::spawn(write_batches(pool, receiver, metrics.clone(), shutdown));
        (Self { queue, metrics }, writer)
    }

    /// Records `operation` without waiting; drops it (and counts it) when the
    /// queue is full.
    pub fn record(&self, operation: Operation) {
        if let Err(e) = self.queue.try_send(operation) {
            self.metrics.increment(
                "facesign_operation_log_dropped_total",
                "Operation log entries dropped because the writer could not keep up.",
                labels(&[]),
                1,
            );
            tracing::warn!(error = %e, "operation log queue full; an entry was dropped");
        }
    }

    /// Entries matching `filter`, newest first, before `before` when given.
    pub async fn read(
        pool: &AnyPool,
        filter: &OperationFilter,
        before: Option<i64>,
        first: i64,
    ) -> Result<Vec<OperationRow>, sqlx::Error> {
        let target = filter.target.as_ref().map(|t| format!("%{t}%"));
        sqlx::query_as(
            "SELECT entry_id, recorded_at, kind, actor_id, actor_role, operation, target, code,
                    detail, request_id
               FROM operation_log
              WHERE ($1 IS NULL OR actor_id = $2)
                AND ($3 IS NULL OR target LIKE $4)
                AND ($5 IS NULL OR operation = $6)
                AND ($7 IS NULL OR kind = $8)
                AND ($9 IS NULL OR recorded_at >= $10)
                AND ($11 IS NULL OR recorded_at < $12)
                AND ($13 IS NULL OR entry_id < $14)
              ORDER BY entry_id DESC LIMIT $15",
        )
        .bind(filter.actor_id.clone())
        .bind(filter.actor_id.clone())
        .bind(target.clone())
        .bind(target)
        .bind(filter.operation.clone())
        .bind(filter.operation.clone())
        .bind(filter.kind.map(|k| k.as_str().to_string()))
        .bind(filter.kind.map(|k| k.as_str().to_string()))
        .bind(filter.from.map(rfc3339))
        .bind(filter.from.map(rfc3339))
        .bind(filter.to.map(rfc3339))
        .bind(filter.to.map(rfc3339))
        .bind(before)
        .bind(before)
        .bind(first)
        .fetch_all(pool)
        .await
    }
}

async fn write_batches(
    pool: AnyPool,
    mut receiver: mpsc::Receiver<Operation>,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let stopping = tokio::select! {
            received = receiver.recv_many(&mut batch, BATCH) => received == 0,
            _ = shutdown.wait_for(|stop| *stop) => true,
        };
        if !stopping {
            // Let a batch fill for a moment: one transaction for many entries.
            let linger = tokio::time::sleep(LINGER);
            tokio::pin!(linger);
            while batch.len() < BATCH {
                let room = BATCH - batch.len();
                tokio::select! {
                    received = receiver.recv_many(&mut batch, room) => {
                        if received == 0 { break; }
                    }
                    _ = &mut linger => break,
                }
            }
        } else {
            // Stopping: store everything still queued.
            while let Ok(operation) = receiver.try_recv() {
                batch.push(operation);
            }
        }
        if !batch.is_empty() {
            store(&pool, &batch, &metrics).await;
            batch.clear();
        }
        if stopping {
            return;
        }
    }
}

async fn store(pool: &AnyPool, batch: &[Operation], metrics: &Metrics) {
    // A short outage costs a few retries; a long one the batch (counted).
    let mut stored = insert(pool, batch).await;
    for attempt in 1..=3 {
        if stored.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300 * attempt)).await;
        stored = insert(pool, batch).await;
    }
    match stored {
        Ok(()) => metrics.increment(
            "facesign_operation_log_entries_total",
            "Operation log entries stored.",
            labels(&[]),
            batch.len() as u64,
        ),
        Err(e) => {
            metrics.increment(
                "facesign_operation_log_dropped_total",
                "Operation log entries dropped because the writer could not keep up.",
                labels(&[]),
                batch.len() as u64,
            );
            tracing::error!(error = %e, entries = batch.len(), "cannot store operation log entries; they are lost");
        }
    }
}

async fn insert(pool: &AnyPool, batch: &[Operation]) -> Result<(), sqlx::Error> {
    {
        let mut tx = pool.begin().await?;
        for op in batch {
            sqlx::query(
                "INSERT INTO operation_log (recorded_at, kind, actor_id, actor_role, operation,
                                            target, code, detail, request_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(rfc3339(op.at))
            .bind(op.kind.as_str())
            .bind(&op.actor_id)
            .bind(&op.actor_role)
            .bind(&op.operation)
            .bind(&op.target)
            .bind(op.code.clone())
            .bind(&op.detail)
            .bind(&op.request_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
}
