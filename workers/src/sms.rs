//! The SMS outbox: every message the engine sends is recorded here once (by its
//! dedup key), so redelivered events and re-fired timers never text a customer
//! twice, and operators and tests can read exactly what was sent. A delivery
//! adapter to the bank's message centre (消息中心) reads from this table.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::log::rfc3339;
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
    /// The partner whose customer receives it: its 短信签名 signs the text.
    pub sender: Option<String>,
}

impl From<domain::flows::Text> for SmsMessage {
    fn from(text: domain::flows::Text) -> Self {
        Self {
            dedup_key: text.dedup_key,
            task_id: text.subject_id,
            phone: text.phone,
            template: text.template,
            body: text.body,
            sender: text.sender,
        }
    }
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
        let sent_at = rfc3339(self.clock.now());
        let inserted = sqlx::query(
            "INSERT INTO sms_messages (message_id, dedup_key, task_id, phone, template, body, sent_at,
                status, next_attempt_at, status_at, sender)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', $7, $7, $8) ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(self.ids.new_id().to_string())
        .bind(&message.dedup_key)
        .bind(&message.task_id)
        .bind(&message.phone)
        .bind(&message.template)
        .bind(&message.body)
        .bind(sent_at)
        .bind(message.sender.clone())
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
    /// PENDING, SENT, DELIVERED, UNDELIVERED, FAILED, EXPIRED (RECORDED: from
    /// before delivery existed).
    pub status: String,
    /// Attempts to hand it to the gateway.
    pub attempts: i64,
    /// Why the last attempt or the delivery failed.
    pub last_error: Option<String>,
    /// RFC 3339 time of the last status change.
    pub status_at: Option<String>,
}

/// Messages sent about one task, oldest first.
pub async fn sent_for_task(pool: &AnyPool, task_id: &str) -> Result<Vec<SentSms>, sqlx::Error> {
    sqlx::query_as(
        "SELECT message_id, task_id, phone, template, body, sent_at, status, attempts, last_error,
                status_at FROM sms_messages
          WHERE task_id = $1 ORDER BY sent_at, message_id",
    )
    .bind(task_id)
    .fetch_all(pool)
    .await
}

/// Where and how SMS are handed to the bank's gateway (docs/operations-centre.md).
#[derive(Clone)]
pub struct SmsGatewaySettings {
    /// The gateway's send endpoint (FACESIGN_SMS_GATEWAY_URL).
    pub url: String,
    /// The bank's account at the gateway (FACESIGN_SMS_ACCOUNT).
    pub account: String,
    /// Bearer token of both directions: sends and delivery reports
    /// (FACESIGN_SMS_GATEWAY_TOKEN), rotated with an overlap
    /// (crate::secrets); never logged.
    pub token: crate::secrets::RotatingSecret,
    /// 短信签名 put before every text as 【signature】 (FACESIGN_SMS_SIGNATURE).
    pub signature: String,
    /// Attempts before a message is FAILED (FACESIGN_SMS_MAX_ATTEMPTS).
    pub max_attempts: u32,
    /// Wait after the first failed attempt, doubled after each next one up to
    /// 30 minutes (FACESIGN_SMS_RETRY_BASE_SECONDS).
    pub retry_base: chrono::Duration,
    /// A message not handed over within this long is EXPIRED, not sent late
    /// (FACESIGN_SMS_MAX_AGE_MINUTES).
    pub max_age: chrono::Duration,
}

/// Messages handed over per round.
const DELIVERY_BATCH: i64 = 50;
/// The longest wait between two attempts.
const MAX_RETRY_WAIT_MINUTES: i64 = 30;

/// One message due for an attempt.
#[derive(sqlx::FromRow)]
struct DueSms {
    message_id: String,
    phone: String,
    template: String,
    body: String,
    sent_at: String,
    attempts: i64,
    sender: Option<String>,
}

/// What one attempt came to.
enum Attempt {
    Accepted(Option<String>),
    Refused(String),
    Retry(String),
}

/// Hands PENDING messages to the gateway, retrying with backoff; run by the
/// leader of `sms-delivery` only, so a message is never sent by two instances.
pub struct SmsDelivery {
    pool: AnyPool,
    clock: Arc<dyn Clock>,
    gateway: SmsGatewaySettings,
    http: reqwest::Client,
    metrics: Arc<store::Metrics>,
    /// Partners' own 短信签名, by partner code.
    partner_signatures: std::collections::HashMap<String, String>,
}

impl SmsDelivery {
    /// A worker sending what `pool`'s outbox holds through `gateway`.
    pub fn new(
        pool: AnyPool,
        clock: Arc<dyn Clock>,
        gateway: SmsGatewaySettings,
        metrics: Arc<store::Metrics>,
    ) -> Self {
        Self {
            pool,
            clock,
            gateway,
            http: crate::outbound_http(),
            metrics,
            partner_signatures: Default::default(),
        }
    }

    /// Signs a partner's customers' texts with the partner's own 短信签名
    /// (002 item 25), by partner code; a partner without one gets the bank's.
    pub fn with_partner_signatures(
        mut self,
        signatures: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        self.partner_signatures = signatures
            .into_iter()
            .filter(|(_, signature)| !signature.trim().is_empty())
            .map(|(code, signature)| (code.trim().to_uppercase(), signature))
            .collect();
        self
    }

    /// The text as the gateway sends it: signed by the partner whose customer
    /// it goes to, else by the bank; a signature is written 【…】 once.
    fn signed(&self, message: &DueSms) -> String {
        let partner = message
            .sender
            .as_deref()
            .and_then(|code| self.partner_signatures.get(&code.trim().to_uppercase()));
        let signature = partner.map_or(self.gateway.signature.trim(), |s| s.trim());
        if signature.is_empty() {
            return message.body.clone();
        }
        let bare = signature.trim_start_matches('【').trim_end_matches('】');
        format!("【{bare}】{}", message.body)
    }

    fn count(&self, outcome: &str, by: u64) {
        count_sms(&self.metrics, outcome, by);
    }

    async fn attempt(&self, message: &DueSms) -> Attempt {
        use secrecy::ExposeSecret;
        let content = self.signed(message);
        let sent = self
            .http
            .post(&self.gateway.url)
            .bearer_auth(self.gateway.token.current().expose_secret())
            .header("idempotency-key", &message.message_id)
            .json(&serde_json::json!({
                "account": self.gateway.account,
                "messageId": message.message_id,
                "phone": message.phone,
                "template": message.template,
                "content": content,
            }))
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => return Attempt::Retry(format!("{}", e.without_url())),
        };
        let status = response.status();
        if status.is_success() {
            let answer: serde_json::Value = response.json().await.unwrap_or_default();
            return Attempt::Accepted(answer["gatewayMessageId"].as_str().map(str::to_string));
        }
        let text: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        let error = format!("HTTP {}: {text}", status.as_u16());
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            Attempt::Retry(error)
        } else {
            Attempt::Refused(error)
        }
    }

    /// One round: every due message gets one attempt; returns how many were handed over.
    pub async fn deliver_due(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.now();
        let expired = sqlx::query(
            "UPDATE sms_messages SET status = 'EXPIRED', status_at = $1, next_attempt_at = NULL
              WHERE status = 'PENDING' AND sent_at < $2",
        )
        .bind(rfc3339(now))
        .bind(rfc3339(now - self.gateway.max_age))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if expired > 0 {
            self.count("expired", expired);
        }
        let due: Vec<DueSms> = sqlx::query_as(
            "SELECT message_id, phone, template, body, sent_at, attempts, sender FROM sms_messages
              WHERE status = 'PENDING' AND next_attempt_at <= $1
              ORDER BY next_attempt_at, message_id LIMIT $2",
        )
        .bind(rfc3339(now))
        .bind(DELIVERY_BATCH)
        .fetch_all(&self.pool)
        .await?;
        let mut handed_over = 0;
        for message in due {
            let attempts = message.attempts + 1;
            let (status, next, error, gateway_id) = match self.attempt(&message).await {
                Attempt::Accepted(gateway_id) => {
                    handed_over += 1;
                    self.count("sent", 1);
                    ("SENT", None, None, gateway_id)
                }
                Attempt::Refused(error) => {
                    self.count("failed", 1);
                    ("FAILED", None, Some(error), None)
                }
                Attempt::Retry(error) if attempts >= i64::from(self.gateway.max_attempts) => {
                    self.count("failed", 1);
                    ("FAILED", None, Some(error), None)
                }
                Attempt::Retry(error) => {
                    self.count("retry", 1);
                    let wait = (self.gateway.retry_base * 2_i32.pow((attempts - 1).min(16) as u32))
                        .min(chrono::Duration::minutes(MAX_RETRY_WAIT_MINUTES));
                    ("PENDING", Some(rfc3339(now + wait)), Some(error), None)
                }
            };
            if status == "FAILED" {
                tracing::warn!(
                    message_id = message.message_id,
                    recorded_at = message.sent_at,
                    error = error.as_deref().unwrap_or_default(),
                    "an SMS could not be delivered"
                );
            }
            sqlx::query(
                "UPDATE sms_messages SET status = $1, attempts = $2, next_attempt_at = $3,
                        last_error = $4, gateway_message_id = $5, status_at = $6
                  WHERE message_id = $7 AND status = 'PENDING'",
            )
            .bind(status)
            .bind(attempts)
            .bind(next)
            .bind(error)
            .bind(gateway_id)
            .bind(rfc3339(now))
            .bind(&message.message_id)
            .execute(&self.pool)
            .await?;
        }
        Ok(handed_over)
    }

    /// Runs until shutdown, a round every `poll_interval`.
    pub async fn run(
        &self,
        poll_interval: std::time::Duration,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        store::worker::run_on_the_clock(
            "sms-delivery",
            || async {
                self.deliver_due()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:#}"))
            },
            poll_interval,
            shutdown,
        )
        .await;
    }
}

/// Counts SMS by delivery outcome (`facesign_sms_total{outcome}`).
pub fn count_sms(metrics: &store::Metrics, outcome: &str, by: u64) {
    metrics.increment(
        "facesign_sms_total",
        "SMS by delivery outcome (sent, retry, failed, expired, delivered, undelivered)",
        store::metrics::labels(&[("outcome", outcome)]),
        by,
    );
}

/// A delivery report from the gateway: DELIVERED or UNDELIVERED.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryReport {
    /// Our message id (the `messageId` of the send).
    pub message_id: String,
    /// DELIVERED or UNDELIVERED.
    pub status: String,
    /// Why it was not delivered, when it was not.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What recording a report came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportOutcome {
    /// The report is kept; `applied` when it moved the message's status
    /// (status only moves forward: SENT → UNDELIVERED → DELIVERED).
    Recorded {
        /// Whether the message's status changed.
        applied: bool,
    },
    /// No message with that id was handed to the gateway.
    UnknownMessage,
    /// The status is neither DELIVERED nor UNDELIVERED.
    UnknownStatus,
}

/// Reports kept per message; a gateway repeating itself past this is not stored.
pub const REPORTS_KEPT_PER_MESSAGE: i64 = 20;

/// Records a gateway's delivery report on a message it accepted. Every report
/// is kept (up to [`REPORTS_KEPT_PER_MESSAGE`]); the message's status moves
/// only forward, so a late UNDELIVERED after DELIVERED is a report, not a
/// regression.
pub async fn record_report(
    pool: &AnyPool,
    report: &DeliveryReport,
    at: DateTime<Utc>,
) -> Result<ReportOutcome, sqlx::Error> {
    if !matches!(report.status.as_str(), "DELIVERED" | "UNDELIVERED") {
        return Ok(ReportOutcome::UnknownStatus);
    }
    let reason: Option<String> = report
        .reason
        .as_deref()
        .map(|r| r.chars().take(200).collect());
    let mut tx = pool.begin().await?;
    // A write first: it takes the message's row lock (Postgres) or the
    // database's write lock (SQLite) before anything is read, so concurrent
    // reports of one message queue up instead of failing or both counting
    // the same kept reports.
    let known = sqlx::query(
        "UPDATE sms_messages SET status = status
          WHERE message_id = $1 AND status IN ('SENT', 'DELIVERED', 'UNDELIVERED')",
    )
    .bind(&report.message_id)
    .execute(&mut *tx)
    .await?;
    if known.rows_affected() == 0 {
        return Ok(ReportOutcome::UnknownMessage);
    }
    let updated = sqlx::query(
        "UPDATE sms_messages SET status = $1, last_error = $2, status_at = $3
          WHERE message_id = $4
            AND (status = 'SENT' OR (status = 'UNDELIVERED' AND $5 = 'DELIVERED'))",
    )
    .bind(&report.status)
    .bind(reason.clone())
    .bind(rfc3339(at))
    .bind(&report.message_id)
    .bind(&report.status)
    .execute(&mut *tx)
    .await?;
    let applied = updated.rows_affected() == 1;
    let (kept,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM sms_delivery_reports WHERE message_id = $1")
            .bind(&report.message_id)
            .fetch_one(&mut *tx)
            .await?;
    if kept < REPORTS_KEPT_PER_MESSAGE {
        sqlx::query(
            "INSERT INTO sms_delivery_reports (message_id, status, reason, received_at, applied)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&report.message_id)
        .bind(&report.status)
        .bind(reason)
        .bind(rfc3339(at))
        .bind(i64::from(applied))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(ReportOutcome::Recorded { applied })
}

/// A delivery report as kept.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeptReport {
    /// The message it is about.
    pub message_id: String,
    /// DELIVERED or UNDELIVERED.
    pub status: String,
    /// Why not delivered.
    pub reason: Option<String>,
    /// RFC 3339 time it arrived.
    pub received_at: String,
    /// 1 when it moved the message's status, else 0.
    pub applied: i64,
}

/// The reports kept for the messages about one task, in arrival order.
pub async fn reports_for_task(
    pool: &AnyPool,
    task_id: &str,
) -> Result<Vec<KeptReport>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.message_id, r.status, r.reason, r.received_at, r.applied
           FROM sms_delivery_reports r JOIN sms_messages m ON m.message_id = r.message_id
          WHERE m.task_id = $1 ORDER BY r.report_id",
    )
    .bind(task_id)
    .fetch_all(pool)
    .await
}
