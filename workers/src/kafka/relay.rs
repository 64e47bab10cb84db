//! The relay: a catch-up reader of the global log that publishes every event to
//! `facesign.<aggregate-type>.v1`, keyed by aggregate id (so one aggregate's
//! events keep their order in one partition), with the headers `event-id`,
//! `event-type`, `event-version` and `correlation-id`. The producer is
//! idempotent; the relay's checkpoint (a row of `worker_checkpoints`)
//! advances only over the prefix of a batch the broker acknowledged, so a
//! broker outage or a crash re-sends rather than loses (at least once; the
//! `event-id` header lets consumers drop repeats).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use store::metrics::seconds_since;

use domain::log::{EventLogReader, LogPosition, StoredEvent};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::json;
use sqlx::AnyPool;
use store::worker::{
    publish_status, run_over_log, Cursor, LogLoop, LogWorker, Work, WorkerHandle, WorkerStatus,
};
use store::{GlobalLog, Metrics};
use tokio::sync::watch;
use tracing::{info, warn};

use super::{topic_for, KafkaSettings, Topics};

/// Name of the relay's checkpoint row and worker.
pub const NAME: &str = "kafka_relay";

/// Publishes the log to Kafka.
pub struct Relay {
    producer: std::sync::Mutex<FutureProducer>,
    producer_config: rdkafka::ClientConfig,
    topics: Topics,
    pool: AnyPool,
    log: GlobalLog,
    metrics: Arc<Metrics>,
    batch_size: u32,
    cursor: Cursor,
    status: watch::Sender<WorkerStatus>,
}

/// The statuses an interview-task event sets: the task's and the credit system's.
type TaskStatuses = (
    domain::interview_task::TaskStatus,
    Option<domain::interview_task::CreditTaskStatus>,
);

/// The message value: the event with its envelope, as stored, and the
/// statuses it sets (from [`task_status`]).
pub fn message_value(event: &StoredEvent, statuses: Option<&TaskStatuses>) -> serde_json::Value {
    let mut value = json!({
        "eventId": event.metadata.event_id,
        "aggregateType": event.aggregate_type,
        "aggregateId": event.aggregate_id,
        "sequence": event.sequence,
        "eventType": event.event_type,
        "eventVersion": event.event_version,
        "position": event.position.to_string(),
        "recordedAt": event.metadata.recorded_at,
        "actorId": event.metadata.actor_id,
        "actorRole": event.metadata.actor_role,
        "onBehalfOf": event.metadata.on_behalf_of.as_ref().map(|a| json!({ "id": a.id, "role": a.role })),
        "correlationId": event.metadata.correlation_id,
        "causationId": event.metadata.causation_id,
        "requestId": event.metadata.request_id,
        "payload": event.payload,
    });
    if let Some((status, credit)) = statuses {
        value["taskStatus"] = json!(status.as_str());
        value["creditStatus"] = json!(credit.map(|c| c.as_str()));
    }
    value
}

/// For an interview-task event that sets the task's status: that status and
/// the one the credit system knows (001's three; none for a withdrawn task).
pub fn task_status(event: &StoredEvent) -> Option<TaskStatuses> {
    if event.aggregate_type != domain::interview_task::AGGREGATE_TYPE {
        return None;
    }
    let decoded: domain::interview_task::InterviewTaskEvent =
        serde_json::from_value(event.payload.clone()).ok()?;
    let status = decoded.status_after()?;
    Some((status, domain::interview_task::CreditTaskStatus::of(status)))
}

impl Relay {
    /// A relay over `log` with its checkpoint in `pool`.
    pub fn new(
        settings: &KafkaSettings,
        pool: AnyPool,
        log: GlobalLog,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let mut producer_config = settings.client_config();
        producer_config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set(
                "message.timeout.ms",
                settings.message_timeout.as_millis().to_string(),
            )
            .set("linger.ms", "5");
        Ok(Self {
            producer: std::sync::Mutex::new(producer_config.create()?),
            producer_config,
            topics: Topics::new(settings)?,
            pool,
            log,
            metrics,
            batch_size: settings.relay_batch_size,
            cursor: Cursor::new(NAME),
            status: watch::channel(WorkerStatus::default()).0,
        })
    }

    /// Publishes one batch after the checkpoint and advances the checkpoint over
    /// the acknowledged prefix; returns how many events it published. An error
    /// means part of the batch was not acknowledged; it is sent again.
    #[tracing::instrument(name = "relay_batch", skip_all, fields(events = tracing::field::Empty))]
    pub async fn step(&self) -> anyhow::Result<usize> {
        let (from, applied) = self.cursor.place(&self.pool).await?;
        let events = self.log.read_after(from, self.batch_size).await?;
        let span = tracing::Span::current();
        span.record("events", events.len());
        for event in &events {
            store::trace::link_to(&span, event.metadata.traceparent.as_deref());
        }
        if events.is_empty() {
            self.report(from, applied).await;
            return Ok(0);
        }
        let topics: BTreeSet<String> = events
            .iter()
            .map(|e| topic_for(&e.aggregate_type))
            .collect();
        self.topics
            .ensure(&topics.into_iter().collect::<Vec<_>>())
            .await?;
        let producer = self.producer.lock().expect("producer").clone();
        let mut deliveries = Vec::with_capacity(events.len());
        for event in &events {
            let topic = topic_for(&event.aggregate_type);
            // The task's status and the credit system's (001), when the event sets it.
            let statuses = task_status(event);
            let value = message_value(event, statuses.as_ref()).to_string();
            let event_id = event.metadata.event_id.to_string();
            let headers = OwnedHeaders::new()
                .insert(Header {
                    key: "event-id",
                    value: Some(event_id.as_str()),
                })
                .insert(Header {
                    key: "event-type",
                    value: Some(event.event_type.as_str()),
                })
                .insert(Header {
                    key: "event-version",
                    value: Some(event.event_version.as_str()),
                })
                .insert(Header {
                    key: "correlation-id",
                    value: Some(event.metadata.correlation_id.as_str()),
                });
            let headers = match &statuses {
                Some((status, credit)) => headers
                    .insert(Header {
                        key: "task-status",
                        value: Some(status.as_str()),
                    })
                    .insert(Header {
                        key: "credit-status",
                        value: credit.map(|c| c.as_str()),
                    }),
                None => headers,
            };
            // The trace of the request that recorded it, for consumers to continue.
            let headers = match &event.metadata.traceparent {
                Some(traceparent) => headers.insert(Header {
                    key: store::trace::TRACEPARENT,
                    value: Some(traceparent.as_str()),
                }),
                None => headers,
            };
            // The person the engine acted for, when a process manager wrote it.
            let headers = match &event.metadata.on_behalf_of {
                Some(person) => headers
                    .insert(Header {
                        key: "on-behalf-of-id",
                        value: Some(person.id.as_str()),
                    })
                    .insert(Header {
                        key: "on-behalf-of-role",
                        value: Some(person.role.as_str()),
                    }),
                None => headers,
            };
            let record = FutureRecord::to(&topic)
                .key(event.aggregate_id.as_str())
                .payload(value.as_str())
                .headers(headers);
            match producer.send_result(record) {
                Ok(delivery) => deliveries.push(delivery),
                // The local queue is full: publish what is queued, the rest next round.
                Err((e, _)) => {
                    warn!(error = %e, "producer queue full; the rest of the batch waits");
                    break;
                }
            }
        }
        let mut acknowledged: Option<LogPosition> = None;
        let mut count = 0_i64;
        let mut failure = None;
        for (event, delivery) in events.iter().zip(deliveries) {
            match delivery.await {
                Ok(Ok(_)) if failure.is_none() => {
                    acknowledged = Some(event.position);
                    count += 1;
                    self.metrics.observe(
                        "facesign_relay_lag_seconds",
                        "Time from an event's commit to Kafka acknowledging it.",
                        store::metrics::labels(&[]),
                        seconds_since(event.metadata.recorded_at),
                    );
                }
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => {
                    failure.get_or_insert_with(|| {
                        format!("event {} not acknowledged: {e}", event.position)
                    });
                }
                Err(_) => {
                    failure.get_or_insert_with(|| "the producer dropped a delivery".to_string());
                }
            }
        }
        if let Some(last) = acknowledged {
            let mut conn = self.pool.acquire().await?;
            self.cursor.write(&mut conn, last, applied + count).await?;
            self.cursor.written(last, applied + count);
            self.metrics.increment(
                "facesign_relay_events_published_total",
                "Events the Kafka relay published and the broker acknowledged.",
                store::metrics::labels(&[]),
                count as u64,
            );
            self.report(last, applied + count).await;
        }
        match failure {
            Some(reason) => {
                // After a timeout the idempotent producer may be fenced or in a
                // fatal state; a fresh one (new producer id) sends the rest.
                *self.producer.lock().expect("producer") = self.producer_config.create()?;
                anyhow::bail!("{reason}; {count} of {} acknowledged", events.len())
            }
            None => Ok(count as usize),
        }
    }

    async fn report(&self, checkpoint: LogPosition, applied: i64) {
        publish_status(&self.status, checkpoint, applied, None);
        // The newest commit heard of, not a query: the relay runs per batch.
        let head = self.log.tail().committed();
        self.metrics.set(
            "facesign_relay_lag_events",
            "Events committed to the log and not yet acknowledged by Kafka (approximate).",
            store::metrics::labels(&[]),
            (head.global_position - checkpoint.global_position).max(0),
        );
    }

    /// Publishes everything after the checkpoint, returning between batches
    /// once `stop` is set.
    pub async fn catch_up_unless(&self, stop: &watch::Receiver<bool>) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            if *stop.borrow() {
                return Ok(total);
            }
            match self.step().await? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }
}

impl LogWorker for Relay {
    /// Progress, for `/readyz`, `/metrics` and waiters.
    fn handle(&self) -> WorkerHandle {
        WorkerHandle::of_status(NAME, self.status.clone())
    }

    fn catch_up(&self) -> Work<'_, anyhow::Result<usize>> {
        Box::pin(async move { self.catch_up_unless(&watch::channel(false).1).await })
    }

    /// Runs until shutdown; a broker outage is retried with a growing pause.
    fn run(
        &self,
        commits: watch::Receiver<LogPosition>,
        poll: Duration,
        shutdown: watch::Receiver<bool>,
    ) -> Work<'_, ()> {
        Box::pin(async move {
            info!("Kafka relay started");
            let stop = shutdown.clone();
            let worker = LogLoop {
                name: NAME,
                cursor: &self.cursor,
                pool: &self.pool,
                status: &self.status,
            };
            run_over_log(worker, commits, poll, shutdown, || {
                self.catch_up_unless(&stop)
            })
            .await;
        })
    }
}
