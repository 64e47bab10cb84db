//! The command bus: load an aggregate from its events, let it decide, append the
//! new events with a full envelope, and retry optimistic-concurrency conflicts.

use std::sync::Arc;
use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventRepository, PersistenceError, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent};
use domain::error::{DomainError, ErrorCode};
use domain::log::{Actor, EventMetadata, LogPosition};
use domain::services::DomainServices;
use postgres_es::PostgresEventRepository;
use sqlite_es::SqliteEventRepository;
use tokio::sync::watch;
use tracing::{debug, instrument};
use uuid::Uuid;

use crate::database::{Database, StoreError, StorePool};
use crate::global_log::GlobalLog;
use crate::metrics::{labels, Metrics};

/// Who sent a command and within which flow; becomes every event's metadata.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// The authenticated actor.
    pub actor: Actor,
    /// Business flow id, carried across aggregates.
    pub correlation_id: String,
    /// The message that directly caused this command.
    pub causation_id: String,
    /// The inbound request.
    pub request_id: String,
}

impl CommandContext {
    /// A context for a fresh request: correlation and causation default to the request id.
    pub fn for_request(actor: Actor, request_id: String) -> Self {
        Self {
            actor,
            correlation_id: request_id.clone(),
            causation_id: request_id.clone(),
            request_id,
        }
    }
}

/// What a successful command appended.
#[derive(Debug, Clone)]
pub struct CommandReceipt {
    /// The aggregate instance.
    pub aggregate_id: String,
    /// Ids of the appended events, in order.
    pub event_ids: Vec<Uuid>,
    /// Sequence of the aggregate after the command.
    pub sequence: i64,
    /// Log position of the last appended event; `None` when nothing was appended.
    pub position: Option<LogPosition>,
    /// How many attempts the command took (1 unless it met conflicts).
    pub attempts: u32,
}

/// Why a command did not append its events.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// The aggregate refused the command.
    #[error(transparent)]
    Domain(E),
    /// Concurrent writers kept winning; the retry budget is spent.
    #[error("the aggregate was changed concurrently {attempts} times in a row; retry later")]
    Conflict {
        /// Attempts made.
        attempts: u32,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E: DomainError> CommandError<E> {
    /// The stable code of this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            CommandError::Domain(e) => e.code(),
            CommandError::Conflict { .. } => ErrorCode::Conflict,
            CommandError::Store(_) => ErrorCode::Internal,
        }
    }
}

enum Repository {
    Postgres(PostgresEventRepository),
    Sqlite(SqliteEventRepository),
}

impl Repository {
    async fn get_events<A: Aggregate>(
        &self,
        id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        match self {
            Repository::Postgres(repo) => repo.get_events::<A>(id).await,
            Repository::Sqlite(repo) => repo.get_events::<A>(id).await,
        }
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
    ) -> Result<(), PersistenceError> {
        match self {
            Repository::Postgres(repo) => repo.persist::<A>(events, None).await,
            Repository::Sqlite(repo) => repo.persist::<A>(events, None).await,
        }
    }
}

fn persistence_to_store(error: PersistenceError) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(error.to_string()))
}

/// Executes commands against aggregates stored through postgres-es or sqlite-es.
pub struct CommandBus {
    repository: Repository,
    log: GlobalLog,
    services: DomainServices,
    max_attempts: u32,
    metrics: Arc<Metrics>,
    committed: watch::Sender<LogPosition>,
    /// Wakes the task that NOTIFYs other instances; commits made while a
    /// notice is on its way share the next one.
    announcer: Option<Arc<tokio::sync::Notify>>,
}

impl CommandBus {
    /// A bus over `database` that tries each command at most `max_attempts` times.
    pub fn new(
        database: &Database,
        services: DomainServices,
        max_attempts: u32,
        metrics: Arc<Metrics>,
    ) -> Self {
        let repository = match database.store() {
            StorePool::Postgres(pool) => {
                Repository::Postgres(PostgresEventRepository::new(pool.clone()))
            }
            StorePool::Sqlite(pool) => Repository::Sqlite(SqliteEventRepository::new(pool.clone())),
        };
        let log = GlobalLog::new(database.store().clone());
        let announcer = match (database.store(), tokio::runtime::Handle::try_current()) {
            (StorePool::Postgres(_), Ok(runtime)) => {
                let notify = Arc::new(tokio::sync::Notify::new());
                let (wake, log) = (notify.clone(), log.clone());
                // Lives as long as the runtime: one per engine.
                runtime.spawn(async move {
                    loop {
                        wake.notified().await;
                        log.announce_commit().await;
                    }
                });
                Some(notify)
            }
            _ => None,
        };
        Self {
            repository,
            log,
            services,
            max_attempts: max_attempts.max(1),
            metrics,
            committed: watch::channel(LogPosition::START).0,
            announcer,
        }
    }

    /// Notified with the position of every commit made through this bus.
    pub fn subscribe_commits(&self) -> watch::Receiver<LogPosition> {
        self.committed.subscribe()
    }

    /// Wakes this instance's readers as if a commit had happened here: another
    /// instance committed (a LISTEN/NOTIFY notice).
    pub fn wake(&self) {
        self.committed.send_modify(|_| {});
    }

    /// The services handed to aggregates (clock, ids).
    pub fn services(&self) -> &DomainServices {
        &self.services
    }

    /// Rebuilds an aggregate from its events; returns it with its sequence.
    pub async fn load<A: Aggregate>(&self, aggregate_id: &str) -> Result<(A, i64), StoreError> {
        let mut aggregate = A::default();
        let mut sequence = 0;
        for event in self
            .repository
            .get_events::<A>(aggregate_id)
            .await
            .map_err(persistence_to_store)?
        {
            let mut payload = event.payload;
            domain::upcast::upcast(
                A::TYPE,
                &event.event_type,
                &event.event_version,
                &mut payload,
            );
            let payload: A::Event =
                serde_json::from_value(payload).map_err(|e| StoreError::Corrupt {
                    aggregate_type: A::TYPE.to_string(),
                    aggregate_id: aggregate_id.to_string(),
                    sequence: event.sequence as i64,
                    reason: e.to_string(),
                })?;
            aggregate.apply(payload);
            sequence = event.sequence as i64;
        }
        Ok((aggregate, sequence))
    }

    /// Handles `command` on the aggregate `aggregate_id`, appending its events.
    ///
    /// A conflicting append (another writer took the same sequence) reloads the
    /// aggregate and handles the command again, up to the retry budget.
    #[instrument(skip_all, fields(aggregate_type = A::TYPE, aggregate_id = %aggregate_id, correlation_id = %context.correlation_id))]
    pub async fn execute<A>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        context: &CommandContext,
    ) -> Result<CommandReceipt, CommandError<A::Error>>
    where
        A: Aggregate<Services = DomainServices>,
        A::Command: Clone,
        A::Error: DomainError,
    {
        let result = self.try_execute::<A>(aggregate_id, command, context).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(CommandError::Domain(_)) => "refused",
            Err(CommandError::Conflict { .. }) => "conflict",
            Err(CommandError::Store(_)) => "error",
        };
        self.metrics.increment(
            "facesign_commands_total",
            "Commands handled, by aggregate type and outcome.",
            labels(&[("aggregate_type", A::TYPE), ("outcome", outcome)]),
            1,
        );
        result
    }

    async fn try_execute<A>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        context: &CommandContext,
    ) -> Result<CommandReceipt, CommandError<A::Error>>
    where
        A: Aggregate<Services = DomainServices>,
        A::Command: Clone,
        A::Error: DomainError,
    {
        for attempt in 1..=self.max_attempts {
            let (mut aggregate, sequence) = self.load::<A>(aggregate_id).await?;
            let sink = EventSink::default();
            aggregate
                .handle(command.clone(), &self.services, &sink)
                .await
                .map_err(CommandError::Domain)?;
            let events = sink.collect().await;
            if events.is_empty() {
                return Ok(CommandReceipt {
                    aggregate_id: aggregate_id.to_string(),
                    event_ids: Vec::new(),
                    sequence,
                    position: None,
                    attempts: attempt,
                });
            }
            let recorded_at = self.services.clock.now();
            let mut event_ids = Vec::with_capacity(events.len());
            let mut serialized = Vec::with_capacity(events.len());
            for (offset, event) in events.iter().enumerate() {
                let event_id = self.services.ids.new_id();
                event_ids.push(event_id);
                let metadata = EventMetadata {
                    event_id,
                    actor_id: context.actor.id.clone(),
                    actor_role: context.actor.role.clone(),
                    correlation_id: context.correlation_id.clone(),
                    causation_id: context.causation_id.clone(),
                    request_id: context.request_id.clone(),
                    recorded_at,
                };
                let payload = serde_json::to_value(event).map_err(|e| {
                    StoreError::Database(sqlx::Error::Protocol(format!("serialize event: {e}")))
                })?;
                serialized.push(SerializedEvent::new(
                    aggregate_id.to_string(),
                    sequence as usize + offset + 1,
                    A::TYPE.to_string(),
                    event.event_type(),
                    event.event_version(),
                    payload,
                    serde_json::to_value(metadata.to_map()).unwrap_or_default(),
                ));
            }
            match self.repository.persist::<A>(&serialized).await {
                Ok(()) => {
                    let last = sequence + events.len() as i64;
                    let position = self.log.position_of(A::TYPE, aggregate_id, last).await?;
                    if let Some(announcer) = &self.announcer {
                        announcer.notify_one();
                    }
                    if let Some(position) = position {
                        self.committed.send_if_modified(|current| {
                            let newer = position > *current;
                            if newer {
                                *current = position;
                            }
                            newer
                        });
                    }
                    return Ok(CommandReceipt {
                        aggregate_id: aggregate_id.to_string(),
                        event_ids,
                        sequence: last,
                        position,
                        attempts: attempt,
                    });
                }
                Err(PersistenceError::OptimisticLockError) => {
                    self.metrics.increment(
                        "facesign_command_conflicts_total",
                        "Optimistic-concurrency conflicts met (each is retried until the budget is spent).",
                        labels(&[("aggregate_type", A::TYPE)]),
                        1,
                    );
                    debug!(attempt, "concurrent append on the same aggregate; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(other) => return Err(CommandError::Store(persistence_to_store(other))),
            }
        }
        Err(CommandError::Conflict {
            attempts: self.max_attempts,
        })
    }
}

/// Short, jittered pause so that colliding writers do not collide again in step.
fn backoff(attempt: u32) -> Duration {
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
            % 1000,
    );
    Duration::from_micros(u64::from(attempt.min(6)) * 1000 + jitter * u64::from(attempt.min(6)))
}
