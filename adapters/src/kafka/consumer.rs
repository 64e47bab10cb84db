//! The consumer of `credit.decisions.v1` (002 item 8, 榕树授信结果回调处理): each
//! message becomes a `RecordCreditDecision` command on the partner order. The
//! message id travels in the event, so a redelivered message changes nothing —
//! the de-duplication commits with the command's events. A message that cannot
//! be read or is refused goes to `credit.decisions.v1.dlq` with the reason, and
//! its offset is committed so the partition moves on; a fault of ours (the
//! database is down) is retried on the same message, holding the partition.

use std::sync::Arc;
use std::time::Duration;

use crate::{CommandBus, CommandContext, CommandError, Metrics};
use domain::log::Actor;
use domain::partner_order::{order_id, PartnerOrder, PartnerOrderCommand};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rust_decimal::Decimal;
use serde::Deserialize;
use tokio::sync::watch;
use tracing::{info, warn};

use super::{KafkaSettings, Topics, CREDIT_DECISIONS, CREDIT_DECISIONS_DLQ};

/// One credit decision, as the credit system writes it (docs/kafka.md).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreditDecision {
    /// Unique per message; repeats are ignored.
    pub message_id: String,
    /// Partner code.
    pub partner: String,
    /// The partner's order no.
    pub order_no: String,
    /// 授信通过 or 授信拒绝.
    pub approved: bool,
    /// Approved limit (decimal string).
    pub limit: Option<String>,
    /// 执行年利率 (decimal string, e.g. "0.18").
    pub annual_rate: Option<String>,
    /// Why refused.
    pub reason: Option<String>,
}

/// What became of a message.
enum Outcome {
    Applied,
    DeadLettered(String),
}

/// Consumes credit decisions.
pub struct CreditDecisionConsumer {
    consumer: StreamConsumer,
    producer: FutureProducer,
    bus: Arc<CommandBus>,
    metrics: Arc<Metrics>,
}

fn decimal(value: &Option<String>, field: &str) -> Result<Option<Decimal>, String> {
    value
        .as_deref()
        .map(|v| {
            v.trim()
                .parse::<Decimal>()
                .map_err(|_| format!("{field} is not a decimal"))
        })
        .transpose()
}

impl CreditDecisionConsumer {
    /// A consumer in the configured group; creates the topics when allowed.
    pub async fn new(
        settings: &KafkaSettings,
        bus: Arc<CommandBus>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        Topics::new(settings)?
            .ensure(&[
                CREDIT_DECISIONS.to_string(),
                CREDIT_DECISIONS_DLQ.to_string(),
            ])
            .await?;
        let consumer: StreamConsumer = settings
            .client_config()
            .set("group.id", &settings.group_id)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .create()?;
        consumer.subscribe(&[CREDIT_DECISIONS])?;
        let producer = settings
            .client_config()
            .set(
                "message.timeout.ms",
                settings.message_timeout.as_millis().to_string(),
            )
            .create()?;
        Ok(Self {
            consumer,
            producer,
            bus,
            metrics,
        })
    }

    /// Applies one message; Err only for faults worth retrying.
    async fn apply(&self, message: &BorrowedMessage<'_>) -> Result<Outcome, String> {
        let decision: CreditDecision = match message
            .payload()
            .map(serde_json::from_slice::<CreditDecision>)
        {
            Some(Ok(d)) => d,
            Some(Err(e)) => return Ok(Outcome::DeadLettered(format!("unreadable: {e}"))),
            None => return Ok(Outcome::DeadLettered("empty message".into())),
        };
        let (limit, annual_rate) = match (
            decimal(&decision.limit, "limit"),
            decimal(&decision.annual_rate, "annualRate"),
        ) {
            (Ok(l), Ok(r)) => (l, r),
            (Err(e), _) | (_, Err(e)) => return Ok(Outcome::DeadLettered(e)),
        };
        if decision.message_id.trim().is_empty() {
            return Ok(Outcome::DeadLettered("messageId is empty".into()));
        }
        let context = CommandContext::for_request(
            Actor {
                id: "credit-system".into(),
                role: domain::role::Role::CreditSystem.as_str().to_string(),
            },
            decision.message_id.clone(),
        );
        let command = PartnerOrderCommand::RecordCreditDecision {
            message_id: decision.message_id.clone(),
            approved: decision.approved,
            limit,
            annual_rate,
            reason: decision.reason.clone(),
        };
        let id = order_id(&decision.partner, &decision.order_no);
        match self
            .bus
            .execute::<PartnerOrder>(&id, command, &context)
            .await
        {
            Ok(_) => Ok(Outcome::Applied),
            Err(CommandError::Domain(refused)) => Ok(Outcome::DeadLettered(format!(
                "refused by order {id}: {refused}"
            ))),
            Err(other) => Err(other.to_string()),
        }
    }

    async fn dead_letter(&self, message: &BorrowedMessage<'_>, reason: &str) -> anyhow::Result<()> {
        let partition = message.partition().to_string();
        let offset = message.offset().to_string();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "dlq-reason",
                value: Some(reason),
            })
            .insert(Header {
                key: "original-topic",
                value: Some(message.topic()),
            })
            .insert(Header {
                key: "original-partition",
                value: Some(partition.as_str()),
            })
            .insert(Header {
                key: "original-offset",
                value: Some(offset.as_str()),
            });
        let mut record = FutureRecord::<[u8], [u8]>::to(CREDIT_DECISIONS_DLQ).headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map_err(|(e, _)| anyhow::anyhow!("cannot write to {CREDIT_DECISIONS_DLQ}: {e}"))?;
        Ok(())
    }

    /// Handles one message until it is applied or dead-lettered, then commits it.
    async fn handle(
        &self,
        message: &BorrowedMessage<'_>,
        shutdown: &watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let mut pause = Duration::from_millis(200);
        loop {
            match self.apply(message).await {
                Ok(Outcome::Applied) => {
                    self.count("applied");
                    break;
                }
                Ok(Outcome::DeadLettered(reason)) => {
                    warn!(
                        offset = message.offset(),
                        reason, "credit decision dead-lettered"
                    );
                    self.dead_letter(message, &reason).await?;
                    self.count("dead_lettered");
                    break;
                }
                Err(fault) => {
                    warn!(
                        offset = message.offset(),
                        fault, "credit decision not applied; retrying"
                    );
                    if *shutdown.borrow() {
                        anyhow::bail!("shutting down with a message unapplied: {fault}");
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(30));
                }
            }
        }
        self.consumer.commit_message(message, CommitMode::Async)?;
        Ok(())
    }

    fn count(&self, outcome: &str) {
        self.metrics.increment(
            "facesign_credit_decisions_total",
            "Credit decisions consumed from Kafka, by outcome.",
            crate::metrics::labels(&[("outcome", outcome)]),
            1,
        );
    }

    /// Consumes until shutdown.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        info!("credit decision consumer started");
        loop {
            tokio::select! {
                received = self.consumer.recv() => match received {
                    Ok(message) => {
                        if let Err(e) = self.handle(&message, &shutdown).await {
                            warn!(error = %e, "credit decision consumer");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, "credit decision consumer cannot receive");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
        info!("credit decision consumer stopped");
    }
}
