//! The operation audit (001: 操作留痕计入日志): one row per event with who caused
//! it, in which role, under which request, correlation and causation.

use domain::log::StoredEvent;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::runner::Projection;
use store::worker::WorkerError;

/// Projection name in checkpoints and `facesign replay --projection`.
pub const NAME: &str = "audit_log";

/// The audit projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct AuditLog;

/// One audited event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct AuditRow {
    /// Global position.
    pub global_position: i64,
    /// Transaction id (Postgres) or 0.
    pub tx_id: i64,
    /// Event id.
    pub event_id: String,
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Sequence within the aggregate.
    pub sequence: i64,
    /// Event type.
    pub event_type: String,
    /// Who.
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
    /// Business flow.
    pub correlation_id: String,
    /// What caused it.
    pub causation_id: String,
    /// The inbound request.
    pub request_id: String,
    /// When (RFC 3339).
    pub recorded_at: String,
    /// The person the engine acted for, when a process manager wrote the event.
    pub on_behalf_of_id: Option<String>,
    /// Their role.
    pub on_behalf_of_role: Option<String>,
}

const COLUMNS: &str = "global_position, tx_id, event_id, aggregate_type, aggregate_id, sequence,
    event_type, actor_id, actor_role, correlation_id, causation_id, request_id, recorded_at,
    on_behalf_of_id, on_behalf_of_role";

impl Projection for AuditLog {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn snapshot(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        Ok(crate::runner::lines(Self::all_rows(pool).await?))
    }

    fn tables(&self) -> &'static [&'static str] {
        &["audit_log"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), WorkerError> {
        insert(conn, &[event]).await
    }

    /// Every event is a row: a batch goes in one INSERT per 200 rows.
    async fn apply_batch(
        &self,
        conn: &mut AnyConnection,
        events: &[&StoredEvent],
    ) -> Result<(), WorkerError> {
        for rows in events.chunks(INSERT_ROWS) {
            insert(conn, rows).await?;
        }
        Ok(())
    }
}

/// Rows per INSERT (15 values each, far under either backend's limit).
const INSERT_ROWS: usize = 200;

/// Inserts one row per event, in one statement.
async fn insert(conn: &mut AnyConnection, events: &[&StoredEvent]) -> Result<(), WorkerError> {
    const WIDTH: usize = 15;
    if events.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO audit_log ({COLUMNS}) VALUES {}",
        crate::runner::values_list(events.len(), WIDTH)
    );
    let mut query = sqlx::query(&sql);
    for event in events {
        let m = &event.metadata;
        query = query
            .bind(event.position.global_position)
            .bind(event.position.tx_id)
            .bind(m.event_id.to_string())
            .bind(event.aggregate_type.clone())
            .bind(event.aggregate_id.clone())
            .bind(event.sequence)
            .bind(event.event_type.clone())
            .bind(m.actor_id.clone())
            .bind(m.actor_role.clone())
            .bind(m.correlation_id.clone())
            .bind(m.causation_id.clone())
            .bind(m.request_id.clone())
            .bind(domain::log::rfc3339(m.recorded_at))
            .bind(m.on_behalf_of.as_ref().map(|a| a.id.clone()))
            .bind(m.on_behalf_of.as_ref().map(|a| a.role.clone()));
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

impl AuditLog {
    /// What `actor_id` did, or the engine did on their behalf, newest first,
    /// before the position `before` when given.
    pub async fn by_actor(
        pool: &AnyPool,
        actor_id: &str,
        before: Option<i64>,
        first: i64,
    ) -> Result<Vec<AuditRow>, sqlx::Error> {
        match before {
            Some(before) => {
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM audit_log
                      WHERE (actor_id = $1 OR on_behalf_of_id = $2) AND global_position < $3
                      ORDER BY global_position DESC LIMIT $4"
                ))
                .bind(actor_id)
                .bind(actor_id)
                .bind(before)
                .bind(first)
                .fetch_all(pool)
                .await
            }
            None => {
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM audit_log WHERE actor_id = $1 OR on_behalf_of_id = $2
                      ORDER BY global_position DESC LIMIT $3"
                ))
                .bind(actor_id)
                .bind(actor_id)
                .bind(first)
                .fetch_all(pool)
                .await
            }
        }
    }

    /// Every row, in log order: what a rebuild must reproduce.
    pub async fn all_rows(pool: &AnyPool) -> Result<Vec<AuditRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM audit_log ORDER BY global_position"
        ))
        .fetch_all(pool)
        .await
    }
}
