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
    /// A worker parked an event it could not apply, or an operator retried or
    /// skipped one (`facesign parked`).
    WorkerRepair,
    /// A step of a configuration change under four eyes: proposed,
    /// approved, applied or failed, withdrawn.
    ConfigurationChange,
    /// A person signed in to the console through the identity provider, or out.
    SignIn,
}

impl OperationKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Refused => "REFUSED",
            OperationKind::PersonalDataRead => "PERSONAL_DATA_READ",
            OperationKind::WorkerRepair => "WORKER_REPAIR",
            OperationKind::ConfigurationChange => "CONFIGURATION_CHANGE",
            OperationKind::SignIn => "SIGN_IN",
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

/// How long refusals of unverified callers are counted before their tally is stored.
pub const UNVERIFIED_WINDOW: Duration = Duration::from_secs(60);

/// The most addresses an unverified tally names.
const TALLY_ADDRESSES: usize = 5;

/// A refusal of a caller nobody verified: no token or a forged one, a partner
/// request whose signature does not hold, a delivery report without the
/// gateway's token. Every field is ours to choose — the door, a known
/// identity the request claimed, our code and reason — never the caller's
/// text, so a flood cannot write what it likes into the log.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnverifiedRefusal {
    /// The door and operation (`partner/confirm-borrow`, `sms/reports`, `Query.tasks`).
    pub operation: String,
    /// A known identity the request claimed (a configured partner code), else empty.
    pub claimed: String,
    /// The refusal's code.
    pub code: String,
    /// The refusal's reason, one of ours.
    pub reason: String,
}

#[derive(Debug)]
struct Tally {
    /// When counting began, by the process's monotonic clock (the window).
    opened: std::time::Instant,
    count: u64,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    addresses: std::collections::BTreeSet<String>,
    more_addresses: bool,
}

/// Refusals of unverified callers, counted per kind: stored as one entry per
/// kind and window, so what a flood adds to the log is bounded by the kinds
/// (all ours) per window, not by the requests.
#[derive(Debug, Default)]
struct Tallies(std::collections::HashMap<UnverifiedRefusal, Tally>);

impl Tallies {
    /// The tallies whose window is over (all of them when `all`), as entries.
    fn due(&mut self, all: bool) -> Vec<Operation> {
        let due: Vec<UnverifiedRefusal> = self
            .0
            .iter()
            .filter(|(_, tally)| all || tally.opened.elapsed() >= UNVERIFIED_WINDOW)
            .map(|(kind, _)| kind.clone())
            .collect();
        due.into_iter()
            .filter_map(|kind| self.0.remove(&kind).map(|tally| (kind, tally)))
            .map(|(kind, tally)| {
                let mut addresses: Vec<String> = tally.addresses.into_iter().collect();
                if tally.more_addresses {
                    addresses.push("…".into());
                }
                Operation {
                    at: tally.last,
                    kind: OperationKind::Refused,
                    actor_id: "unverified".into(),
                    actor_role: "UNVERIFIED".into(),
                    operation: kind.operation,
                    target: if kind.claimed.is_empty() {
                        String::new()
                    } else {
                        format!("claimed={}", kind.claimed)
                    },
                    code: Some(kind.code),
                    detail: format!(
                        "{} unverified request(s) from {} to {}, from {}: {}",
                        tally.count,
                        rfc3339(tally.first),
                        rfc3339(tally.last),
                        addresses.join(", "),
                        kind.reason
                    ),
                    request_id: String::new(),
                }
            })
            .collect()
    }
}

/// The recorder: cheap to clone, never blocks.
#[derive(Clone)]
pub struct OperationLog {
    queue: mpsc::Sender<Operation>,
    metrics: Arc<Metrics>,
    unverified: Arc<std::sync::Mutex<Tallies>>,
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
        let unverified = Arc::new(std::sync::Mutex::new(Tallies::default()));
        let writer = tokio::spawn(write_batches(
            pool,
            receiver,
            unverified.clone(),
            metrics.clone(),
            shutdown,
        ));
        (
            Self {
                queue,
                metrics,
                unverified,
            },
            writer,
        )
    }

    /// Counts a refusal of an unverified caller from `address` at `at`; the
    /// writer stores one entry per kind when its window is over (or at stop).
    pub fn record_unverified(
        &self,
        refusal: UnverifiedRefusal,
        address: Option<std::net::IpAddr>,
        at: DateTime<Utc>,
    ) {
        self.metrics.increment(
            "facesign_unverified_refusals_total",
            "Requests refused before their caller was verified, by door.",
            labels(&[("operation", door_of(&refusal.operation))]),
            1,
        );
        let mut tallies = self.unverified.lock().unwrap_or_else(|e| e.into_inner());
        let tally = tallies.0.entry(refusal).or_insert_with(|| Tally {
            opened: std::time::Instant::now(),
            count: 0,
            first: at,
            last: at,
            addresses: std::collections::BTreeSet::new(),
            more_addresses: false,
        });
        tally.count += 1;
        tally.last = tally.last.max(at);
        if let Some(address) = address {
            let address = address.to_string();
            if tally.addresses.len() < TALLY_ADDRESSES || tally.addresses.contains(&address) {
                tally.addresses.insert(address);
            } else {
                tally.more_addresses = true;
            }
        }
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
        // The caller's text is matched as written: `%` and `_` are not wildcards.
        let target = filter.target.as_ref().map(|t| {
            let escaped = t
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        });
        sqlx::query_as(
            "SELECT entry_id, recorded_at, kind, actor_id, actor_role, operation, target, code,
                    detail, request_id
               FROM operation_log
              WHERE ($1 IS NULL OR actor_id = $2)
                AND ($3 IS NULL OR target LIKE $4 ESCAPE '\\')
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

/// The door of an operation, a bounded metric label (`partner`, `sms`, `graphql`).
fn door_of(operation: &str) -> &'static str {
    if operation.starts_with("partner/") {
        "partner"
    } else if operation.starts_with("sms/") {
        "sms"
    } else {
        "graphql"
    }
}

async fn write_batches(
    pool: AnyPool,
    mut receiver: mpsc::Receiver<Operation>,
    unverified: Arc<std::sync::Mutex<Tallies>>,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut tallies_due = tokio::time::interval(Duration::from_secs(1));
    let due = |all: bool| {
        unverified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .due(all)
    };
    loop {
        let stopping = tokio::select! {
            received = receiver.recv_many(&mut batch, BATCH) => received == 0,
            _ = tallies_due.tick() => {
                batch.extend(due(false));
                false
            }
            _ = shutdown.wait_for(|stop| *stop) => true,
        };
        if stopping {
            batch.extend(due(true));
        }
        if stopping {
            // Stopping: store everything still queued.
            while let Ok(operation) = receiver.try_recv() {
                batch.push(operation);
            }
        } else if !batch.is_empty() {
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
