//! The gap-safe global log: one reader API over both backends, used by every
//! consumer (projection runner, Kafka relay, auditors).
//!
//! Postgres hands out `global_position` from a sequence inside the writing
//! transaction, so a slow transaction can commit a *lower* position after a fast
//! one committed a higher one. Reading by position alone would skip it. Each row
//! therefore records its transaction id (`tx_id xid8`); readers take rows ordered
//! by `(tx_id, global_position)` and only below `pg_snapshot_xmin(pg_current_snapshot())`,
//! the oldest transaction still running. Anything below that horizon has either
//! committed (and is visible) or never will, so nothing can appear behind a reader.
//! SQLite has one writer at a time: insertion order is commit order.

use domain::log::{EventLogReader, EventMetadata, LogPosition, StoredEvent};
use serde_json::Value;
use sqlx::Row;

use std::sync::Arc;

use crate::database::{StoreError, StorePool};
use crate::log_tail::LogTail;
use crate::metrics::Metrics;

const PG_READ_AFTER: &str = "
SELECT tx_id::text AS tx_id, global_position, aggregate_type, aggregate_id, sequence,
       event_type, event_version, payload, metadata
  FROM events
 WHERE (tx_id, global_position) > ($1::text::xid8, $2)
   AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
 ORDER BY events.tx_id, events.global_position
 LIMIT $3";

const SQLITE_READ_AFTER: &str = "
SELECT '0' AS tx_id, global_position, aggregate_type, aggregate_id, sequence,
       event_type, event_version, payload, metadata
  FROM events
 WHERE global_position > $1
 ORDER BY global_position
 LIMIT $2";

const PG_STREAM: &str = "
SELECT tx_id::text AS tx_id, global_position, aggregate_type, aggregate_id, sequence,
       event_type, event_version, payload, metadata
  FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2
 ORDER BY sequence";

const SQLITE_STREAM: &str = "
SELECT '0' AS tx_id, global_position, aggregate_type, aggregate_id, sequence,
       event_type, event_version, payload, metadata
  FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2
 ORDER BY sequence";

/// Reader of the global event log. Clones share one [`LogTail`]: the newest
/// commit heard of and the most recent events read.
#[derive(Debug, Clone)]
pub struct GlobalLog {
    pool: StorePool,
    tail: Arc<LogTail>,
    metrics: Option<Arc<Metrics>>,
}

struct RawRow {
    tx_id: String,
    global_position: i64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: Value,
    metadata: Value,
}

macro_rules! raw_row {
    ($row:expr) => {
        RawRow {
            tx_id: $row.try_get("tx_id")?,
            global_position: $row.try_get("global_position")?,
            aggregate_type: $row.try_get("aggregate_type")?,
            aggregate_id: $row.try_get("aggregate_id")?,
            sequence: $row.try_get("sequence")?,
            event_type: $row.try_get("event_type")?,
            event_version: $row.try_get("event_version")?,
            payload: $row.try_get("payload")?,
            metadata: $row.try_get("metadata")?,
        }
    };
}

/// Runs `$sql` with `$bind`s on `$pool` and reads every row as a [`RawRow`]
/// (the same code for both backends' row types).
macro_rules! fetch_raw {
    ($pool:expr, $sql:expr $(, $bind:expr)*) => {{
        let rows = sqlx::query($sql)$(.bind($bind))*.fetch_all($pool).await?;
        rows.iter()
            .map(|row| Ok(raw_row!(row)))
            .collect::<Result<Vec<RawRow>, sqlx::Error>>()?
    }};
}

impl RawRow {
    fn into_event(mut self) -> Result<StoredEvent, StoreError> {
        self.event_version = domain::upcast::upcast(
            &self.aggregate_type,
            &self.event_type,
            &self.event_version,
            &mut self.payload,
        );
        let corrupt = |reason: String| StoreError::Corrupt {
            aggregate_type: self.aggregate_type.clone(),
            aggregate_id: self.aggregate_id.clone(),
            sequence: self.sequence,
            reason,
        };
        let tx_id = self
            .tx_id
            .parse::<i64>()
            .map_err(|e| corrupt(format!("tx_id: {e}")))?;
        let metadata = EventMetadata::from_json(&self.metadata).map_err(corrupt)?;
        Ok(StoredEvent {
            position: LogPosition::new(tx_id, self.global_position),
            aggregate_type: self.aggregate_type,
            aggregate_id: self.aggregate_id,
            sequence: self.sequence,
            event_type: self.event_type,
            event_version: self.event_version,
            payload: self.payload,
            metadata,
        })
    }
}

impl GlobalLog {
    /// A reader over the event store pool.
    pub fn new(pool: StorePool) -> Self {
        Self {
            pool,
            tail: Arc::default(),
            metrics: None,
        }
    }

    /// A reader that counts its reads in `metrics` (`facesign_log_reads_total`).
    pub fn with_metrics(pool: StorePool, metrics: Arc<Metrics>) -> Self {
        Self {
            metrics: Some(metrics),
            ..Self::new(pool)
        }
    }

    fn count_read(&self, source: &str) {
        if let Some(metrics) = &self.metrics {
            metrics.increment(
                "facesign_log_reads_total",
                "Reads of the global log by consumers, by source: the store, or the tail shared in memory.",
                crate::metrics::labels(&[("source", source)]),
                1,
            );
        }
    }

    /// What the clones of this reader know about the end of the log.
    pub fn tail(&self) -> &LogTail {
        &self.tail
    }

    /// Reads after `after` from the store, bypassing the shared tail.
    async fn read_stored(
        &self,
        after: LogPosition,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = match &self.pool {
            StorePool::Postgres(pool) => fetch_raw!(
                pool,
                PG_READ_AFTER,
                after.tx_id.to_string(),
                after.global_position,
                i64::from(limit)
            ),
            StorePool::Sqlite(pool) => fetch_raw!(
                pool,
                SQLITE_READ_AFTER,
                after.global_position,
                i64::from(limit)
            ),
        };
        rows.into_iter().map(RawRow::into_event).collect()
    }

    /// Every event of one aggregate instance, in sequence order.
    pub async fn stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = match &self.pool {
            StorePool::Postgres(pool) => fetch_raw!(pool, PG_STREAM, aggregate_type, aggregate_id),
            StorePool::Sqlite(pool) => {
                fetch_raw!(pool, SQLITE_STREAM, aggregate_type, aggregate_id)
            }
        };
        rows.into_iter().map(RawRow::into_event).collect()
    }
}

/// The least a read at the end of the shared tail asks for, so one read
/// serves every consumer, whatever its batch size.
const TAIL_READ: u32 = 500;

/// The Postgres channel on which writers announce commits to every instance
/// (payload: the newest committed position, `tx_id:global_position`).
pub const COMMITS_CHANNEL: &str = "facesign_commits";

impl GlobalLog {
    /// Tells readers on every instance that the log grew, and up to where
    /// (Postgres NOTIFY; a no-op on SQLite, which has one instance). Failure
    /// only delays readers until the heartbeat, so it is logged, not returned.
    pub async fn announce_commit(&self) {
        if let StorePool::Postgres(pool) = &self.pool {
            if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(COMMITS_CHANNEL)
                .bind(self.tail.committed().to_string())
                .execute(pool)
                .await
            {
                tracing::warn!(error = %e, "cannot announce a commit; readers will learn of it at the heartbeat");
            }
        }
    }

    /// Asks the store for the newest committed position and wakes readers if
    /// it is news: the heartbeat that catches a notice lost between instances.
    pub async fn heartbeat(&self) -> Result<LogPosition, StoreError> {
        let latest = self.latest_committed().await?;
        self.tail.heard(latest);
        Ok(latest)
    }

    /// The last committed event of the request correlated as `correlation_id`
    /// (its own events and every command a flow sent for them): how far what
    /// one request set going has got.
    pub async fn latest_of_correlation(
        &self,
        correlation_id: &str,
    ) -> Result<Option<LogPosition>, StoreError> {
        Ok(match &self.pool {
            StorePool::Postgres(pool) => sqlx::query_as::<_, (String, i64)>(
                "SELECT tx_id::text, global_position FROM events
                  WHERE metadata ->> 'correlation_id' = $1
                  ORDER BY tx_id DESC, global_position DESC LIMIT 1",
            )
            .bind(correlation_id)
            .fetch_optional(pool)
            .await?
            .and_then(|(tx, pos)| Some(LogPosition::new(tx.parse().ok()?, pos))),
            StorePool::Sqlite(pool) => sqlx::query_as::<_, (i64,)>(
                "SELECT global_position FROM events
                  WHERE json_extract(metadata, '$.correlation_id') = $1
                  ORDER BY global_position DESC LIMIT 1",
            )
            .bind(correlation_id)
            .fetch_optional(pool)
            .await?
            .map(|(pos,)| LogPosition::new(0, pos)),
        })
    }

    /// The newest committed event, whether or not readers may take it yet: the
    /// position to wait for when "everything committed so far" must be reflected.
    /// (`head` is the gap-safe horizon, which lags while older transactions run.)
    pub async fn latest_committed(&self) -> Result<LogPosition, StoreError> {
        let latest = match &self.pool {
            StorePool::Postgres(pool) => sqlx::query_as::<_, (String, i64)>(
                "SELECT tx_id::text, global_position FROM events
                  ORDER BY events.tx_id DESC, events.global_position DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?
            .and_then(|(tx, pos)| Some(LogPosition::new(tx.parse().ok()?, pos))),
            StorePool::Sqlite(_) => return self.head().await,
        };
        Ok(latest.unwrap_or(LogPosition::START))
    }
}

impl EventLogReader for GlobalLog {
    type Error = StoreError;

    async fn read_after(
        &self,
        after: LogPosition,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        if let Some(events) = self.tail.cached(after, limit as usize) {
            self.count_read("memory");
            return Ok(events);
        }
        if !self.tail.ends_at(after) {
            // Catching up from behind what memory holds: a reader of its own.
            self.count_read("store");
            let events = self.read_stored(after, limit).await?;
            self.tail.keep(after, &events);
            return Ok(events);
        }
        // At the end of the run: one reader goes to the store for everybody.
        let _reading = self.tail.reading().await;
        if let Some(events) = self.tail.cached(after, limit as usize) {
            self.count_read("memory");
            return Ok(events);
        }
        if self.tail.found_nothing_at(after) {
            self.count_read("memory");
            return Ok(Vec::new());
        }
        self.count_read("store");
        let events = self.read_stored(after, limit.max(TAIL_READ)).await?;
        self.tail.keep(after, &events);
        Ok(events.into_iter().take(limit as usize).collect())
    }

    async fn head(&self) -> Result<LogPosition, StoreError> {
        let head = match &self.pool {
            StorePool::Postgres(pool) => sqlx::query_as::<_, (Option<String>, Option<i64>)>(
                "SELECT tx_id::text, global_position FROM events
                  WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
                  ORDER BY events.tx_id DESC, events.global_position DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?
            .and_then(|(tx, pos)| Some(LogPosition::new(tx?.parse().ok()?, pos?))),
            StorePool::Sqlite(pool) => {
                sqlx::query_as::<_, (Option<i64>,)>("SELECT MAX(global_position) FROM events")
                    .fetch_one(pool)
                    .await?
                    .0
                    .map(|pos| LogPosition::new(0, pos))
            }
        };
        Ok(head.unwrap_or(LogPosition::START))
    }
}
