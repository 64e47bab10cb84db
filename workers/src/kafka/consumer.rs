//! The consumer of the topics other systems write to the engine: credit
//! decisions (`credit.decisions.v1`, 002 item 8, 榕树授信结果回调处理) and the core
//! system's disbursement results and repayments (`core.disbursements.v1`,
//! `core.repayments.v1`, issue 21). Each message becomes one command on the
//! aggregate it is about. The message id travels in the event, so a
//! redelivered message changes nothing — the de-duplication commits with the
//! command's events. A message that cannot be read or is refused goes to
//! `<topic>.dlq` with the reason, and its offset is committed so the partition
//! moves on; a fault of ours (the database is down) is retried on the same
//! message, holding the partition.

use std::sync::Arc;
use std::time::Duration;

use domain::loan_application::ledger::RepaymentChannel;
use domain::loan_application::{DisbursementOutcome, LoanApplication, LoanCommand};
use domain::log::Actor;
use domain::partner_order::{order_id, PartnerOrder, PartnerOrderCommand};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rust_decimal::Decimal;
use serde::Deserialize;
use store::{CommandBus, CommandContext, CommandError, Metrics};
use tokio::sync::watch;
use tracing::{info, warn, Instrument};

use super::{KafkaSettings, Topics, CORE_DISBURSEMENTS, CORE_REPAYMENTS, CREDIT_DECISIONS};

/// One credit decision, as the credit system writes it (docs/kafka.md).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
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

/// The core system's answer to a `DisbursementRequested` (docs/kafka.md).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DisbursementResult {
    /// Unique per message; repeats are ignored.
    pub message_id: String,
    /// The loan (application no).
    pub application_no: String,
    /// The `requestId` of the `DisbursementRequested` answered.
    pub request_id: String,
    /// PAID or FAILED.
    pub result: String,
    /// 起息日 (YYYY-MM-DD) when paid.
    pub value_date: Option<String>,
    /// 首次还款日 (YYYY-MM-DD); a month after the value date when absent.
    pub first_due_date: Option<String>,
    /// Why it failed.
    pub reason: Option<String>,
}

/// A repayment the core received, or an auto-debit that failed (docs/kafka.md).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CoreRepayment {
    /// Unique per message; repeats are ignored.
    pub message_id: String,
    /// The loan (application no).
    pub application_no: String,
    /// RECEIVED or AUTO_DEBIT_FAILED.
    pub kind: String,
    /// AUTO_DEBIT, ACTIVE or PREPAYMENT (RECEIVED only).
    pub channel: Option<String>,
    /// The Asia/Shanghai day (YYYY-MM-DD).
    pub day: String,
    /// Amount (decimal string).
    pub amount: String,
    /// The prepayment settled (channel PREPAYMENT).
    pub prepayment_id: Option<String>,
    /// The active repayment (a partner's 主动还款, channel ACTIVE) answered.
    pub repayment_no: Option<String>,
    /// Why the auto-debit failed.
    pub reason: Option<String>,
}

/// What became of a message.
enum Outcome {
    Applied,
    DeadLettered(String),
}

/// What a message asks for.
enum Inbound {
    Order(String, PartnerOrderCommand),
    Loan(String, LoanCommand),
}

/// The topics consumed.
pub const CONSUMED: [&str; 3] = [CREDIT_DECISIONS, CORE_DISBURSEMENTS, CORE_REPAYMENTS];

/// The message's `traceparent` header, when it has a readable one.
fn traceparent<'a>(message: &'a BorrowedMessage<'_>) -> Option<&'a str> {
    message
        .headers()?
        .iter()
        .find(|header| header.key == store::trace::TRACEPARENT)
        .and_then(|header| std::str::from_utf8(header.value?).ok())
}

/// The dead-letter topic of `topic`.
pub fn dead_letter_topic(topic: &str) -> String {
    format!("{topic}.dlq")
}

fn date(value: &str, field: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{field} is not a date (YYYY-MM-DD)"))
}

fn parse<T: serde::de::DeserializeOwned>(payload: Option<&[u8]>) -> Result<T, String> {
    match payload.map(serde_json::from_slice::<T>) {
        Some(Ok(m)) => Ok(m),
        Some(Err(e)) => Err(format!("unreadable: {e}")),
        None => Err("empty message".into()),
    }
}

fn required(message_id: &str) -> Result<(), String> {
    if message_id.trim().is_empty() {
        return Err("messageId is empty".into());
    }
    Ok(())
}

/// The command a message of `topic` asks for, with its message id; Err is the
/// reason to dead-letter it.
fn inbound(topic: &str, payload: Option<&[u8]>) -> Result<(String, Inbound), String> {
    match topic {
        CREDIT_DECISIONS => {
            let decision: CreditDecision = parse(payload)?;
            required(&decision.message_id)?;
            let limit = optional_decimal(&decision.limit, "limit")?;
            let annual_rate = optional_decimal(&decision.annual_rate, "annualRate")?;
            Ok((
                decision.message_id.clone(),
                Inbound::Order(
                    order_id(&decision.partner, &decision.order_no),
                    PartnerOrderCommand::RecordCreditDecision {
                        message_id: decision.message_id,
                        approved: decision.approved,
                        limit,
                        annual_rate,
                        reason: decision.reason,
                    },
                ),
            ))
        }
        CORE_DISBURSEMENTS => {
            let result: DisbursementResult = parse(payload)?;
            required(&result.message_id)?;
            let outcome = match result.result.as_str() {
                "PAID" => DisbursementOutcome::Paid {
                    value_date: date(
                        result.value_date.as_deref().ok_or("valueDate is missing")?,
                        "valueDate",
                    )?,
                    first_due_date: result
                        .first_due_date
                        .as_deref()
                        .map(|d| date(d, "firstDueDate"))
                        .transpose()?,
                },
                "FAILED" => DisbursementOutcome::Failed {
                    reason: result.reason.unwrap_or_default(),
                },
                other => return Err(format!("result {other:?} is neither PAID nor FAILED")),
            };
            Ok((
                result.message_id.clone(),
                Inbound::Loan(
                    result.application_no,
                    LoanCommand::RecordDisbursementResult {
                        message_id: result.message_id,
                        request_id: result.request_id,
                        outcome,
                    },
                ),
            ))
        }
        CORE_REPAYMENTS => {
            let repayment: CoreRepayment = parse(payload)?;
            required(&repayment.message_id)?;
            let day = date(&repayment.day, "day")?;
            let amount = decimal(&repayment.amount, "amount")?;
            let command = match repayment.kind.as_str() {
                "RECEIVED" => LoanCommand::RecordRepayment {
                    message_id: repayment.message_id.clone(),
                    received_on: day,
                    amount,
                    channel: match repayment.channel.as_deref() {
                        Some("AUTO_DEBIT") => RepaymentChannel::AutoDebit,
                        Some("ACTIVE") => RepaymentChannel::Active,
                        Some("PREPAYMENT") => RepaymentChannel::Prepayment,
                        other => {
                            return Err(format!(
                                "channel {other:?} is not AUTO_DEBIT, ACTIVE or PREPAYMENT"
                            ))
                        }
                    },
                    prepayment_id: repayment.prepayment_id,
                    repayment_no: repayment.repayment_no,
                },
                "AUTO_DEBIT_FAILED" => LoanCommand::RecordAutoDebitFailure {
                    message_id: repayment.message_id.clone(),
                    attempted_on: day,
                    amount,
                    reason: repayment.reason.unwrap_or_default(),
                    repayment_no: repayment.repayment_no,
                },
                other => {
                    return Err(format!(
                        "kind {other:?} is neither RECEIVED nor AUTO_DEBIT_FAILED"
                    ))
                }
            };
            Ok((
                repayment.message_id,
                Inbound::Loan(repayment.application_no, command),
            ))
        }
        other => Err(format!("topic {other} is not consumed here")),
    }
}

/// A refusal dead-letters the message; any other failure is retried.
fn outcome<T, E: std::error::Error>(
    id: &str,
    executed: Result<T, CommandError<E>>,
) -> Result<Outcome, String> {
    match executed {
        Ok(_) => Ok(Outcome::Applied),
        Err(CommandError::Domain(refused)) => {
            Ok(Outcome::DeadLettered(format!("refused by {id}: {refused}")))
        }
        Err(other) => Err(other.to_string()),
    }
}

/// Consumes credit decisions and the core system's results.
pub struct InboundConsumer {
    consumer: StreamConsumer,
    producer: FutureProducer,
    bus: Arc<CommandBus>,
    metrics: Arc<Metrics>,
}

fn decimal(value: &str, field: &str) -> Result<Decimal, String> {
    value
        .trim()
        .parse::<Decimal>()
        .map_err(|_| format!("{field} is not a decimal"))
}

fn optional_decimal(value: &Option<String>, field: &str) -> Result<Option<Decimal>, String> {
    value.as_deref().map(|v| decimal(v, field)).transpose()
}

impl InboundConsumer {
    /// A consumer in the configured group; creates the topics when allowed.
    pub async fn new(
        settings: &KafkaSettings,
        bus: Arc<CommandBus>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        Topics::new(settings)?
            .ensure(
                &CONSUMED
                    .iter()
                    .flat_map(|t| [t.to_string(), dead_letter_topic(t)])
                    .collect::<Vec<_>>(),
            )
            .await?;
        let consumer: StreamConsumer = settings
            .client_config()
            .set("group.id", &settings.group_id)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .create()?;
        consumer.subscribe(&CONSUMED)?;
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
        let (message_id, inbound) = match inbound(message.topic(), message.payload()) {
            Ok(parsed) => parsed,
            Err(reason) => return Ok(Outcome::DeadLettered(reason)),
        };
        let context = CommandContext::for_request(
            Actor {
                id: "credit-system".into(),
                role: domain::role::Role::CreditSystem.as_str().to_string(),
            },
            message_id,
        );
        match inbound {
            Inbound::Order(id, command) => outcome(
                &id,
                self.bus
                    .execute::<PartnerOrder>(&id, command, &context)
                    .await,
            ),
            Inbound::Loan(id, command) => outcome(
                &id,
                self.bus
                    .execute::<LoanApplication>(&id, command, &context)
                    .await,
            ),
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
        let headers = match traceparent(message) {
            Some(traceparent) => headers.insert(Header {
                key: store::trace::TRACEPARENT,
                value: Some(traceparent),
            }),
            None => headers,
        };
        let dlq = dead_letter_topic(message.topic());
        let mut record = FutureRecord::<[u8], [u8]>::to(&dlq).headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map_err(|(e, _)| anyhow::anyhow!("cannot write to {dlq}: {e}"))?;
        Ok(())
    }

    /// Handles one message until it is applied or dead-lettered, then commits
    /// it; in a span that continues the trace its `traceparent` header names.
    async fn handle(
        &self,
        message: &BorrowedMessage<'_>,
        shutdown: &watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let span = tracing::info_span!(
            "inbound_message",
            topic = message.topic(),
            partition = message.partition(),
            offset = message.offset()
        );
        store::trace::continue_trace(&span, traceparent(message));
        self.handle_traced(message, shutdown).instrument(span).await
    }

    async fn handle_traced(
        &self,
        message: &BorrowedMessage<'_>,
        shutdown: &watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let mut pause = Duration::from_millis(200);
        loop {
            match self.apply(message).await {
                Ok(Outcome::Applied) => {
                    self.count(message.topic(), "applied");
                    break;
                }
                Ok(Outcome::DeadLettered(reason)) => {
                    warn!(
                        topic = message.topic(),
                        offset = message.offset(),
                        reason,
                        "inbound message dead-lettered"
                    );
                    self.dead_letter(message, &reason).await?;
                    self.count(message.topic(), "dead_lettered");
                    break;
                }
                Err(fault) => {
                    warn!(
                        topic = message.topic(),
                        offset = message.offset(),
                        fault,
                        "inbound message not applied; retrying"
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

    fn count(&self, topic: &str, outcome: &str) {
        self.metrics.increment(
            "facesign_inbound_messages_total",
            "Messages consumed from Kafka, by topic and outcome.",
            store::metrics::labels(&[("topic", topic), ("outcome", outcome)]),
            1,
        );
        if topic == CREDIT_DECISIONS {
            self.metrics.increment(
                "facesign_credit_decisions_total",
                "Credit decisions consumed from Kafka, by outcome.",
                store::metrics::labels(&[("outcome", outcome)]),
                1,
            );
        }
    }

    /// Consumes until shutdown.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        info!(topics = ?CONSUMED, "inbound consumer started");
        loop {
            tokio::select! {
                received = self.consumer.recv() => match received {
                    Ok(message) => {
                        if let Err(e) = self.handle(&message, &shutdown).await {
                            warn!(error = %e, "inbound consumer");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, "inbound consumer cannot receive");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
        info!("inbound consumer stopped");
    }
}
