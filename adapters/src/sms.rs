//! The SMS outbox: every message the engine sends is recorded here once (by its
//! dedup key), so redelivered events and re-fired timers never text a customer
//! twice, and operators and tests can read exactly what was sent. A delivery
//! adapter to the bank's message centre (消息中心) reads from this table.

use std::sync::Arc;

use domain::services::{Clock, IdGen};
use sqlx::AnyPool;

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    /// Unique per logical message, e.g. `notice:<booking>:<phone>`.
    pub dedup_key: String,
    /// Task the message is about.
    pub task_id: String,
    /// Recipient mobile number.
    pub phone: String,
    /// Template name.
    pub template: String,
    /// Rendered text.
    pub body: String,
}

/// Records outgoing SMS in `sms_messages`.
#[derive(Clone)]
pub struct SmsOutbox {
    pool: AnyPool,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
}

impl SmsOutbox {
    /// An outbox writing through `pool`.
    pub fn new(pool: AnyPool, clock: Arc<dyn Clock>, ids: Arc<dyn IdGen>) -> Self {
        Self { pool, clock, ids }
    }

    /// Records the message; returns false when it was already sent.
    pub async fn send(&self, message: &SmsMessage) -> Result<bool, sqlx::Error> {
        let sent_at = self
            .clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let inserted = sqlx::query(
            "INSERT INTO sms_messages (message_id, dedup_key, task_id, phone, template, body, sent_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(self.ids.new_id().to_string())
        .bind(&message.dedup_key)
        .bind(&message.task_id)
        .bind(&message.phone)
        .bind(&message.template)
        .bind(&message.body)
        .bind(sent_at)
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }
}

/// A recorded message.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SentSms {
    /// Message id.
    pub message_id: String,
    /// Task id.
    pub task_id: String,
    /// Recipient.
    pub phone: String,
    /// Template name.
    pub template: String,
    /// Text.
    pub body: String,
    /// RFC 3339 time it was recorded.
    pub sent_at: String,
}

/// Messages sent about one task, oldest first.
pub async fn sent_for_task(pool: &AnyPool, task_id: &str) -> Result<Vec<SentSms>, sqlx::Error> {
    sqlx::query_as(
        "SELECT message_id, task_id, phone, template, body, sent_at FROM sms_messages
          WHERE task_id = $1 ORDER BY sent_at, message_id",
    )
    .bind(task_id)
    .fetch_all(pool)
    .await
}
