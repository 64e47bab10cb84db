//! The command bus: load an aggregate from its events, let it decide, append the
//! new events with a full envelope, and retry optimistic-concurrency conflicts.

use std::sync::Arc;
use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventRepository, PersistenceError, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent};
use domain::error::{DomainError, ErrorCode};
use domain::log::{Actor, EventMetadata, LogPosition};
use domain::reservation::Reservations;
use domain::services::DomainServices;
use postgres_es::PostgresEventRepository;
use sqlite_es::SqliteEventRepository;
use tokio::sync::watch;
use tracing::{debug, instrument};
use uuid::Uuid;

use crate::append::{
    append, find_step, Append, AppendError, GroupCommitter, NewEvent, OwnedAppend, StepReceipt,
};
use crate::database::{Database, StoreError, StorePool};
use crate::global_log::GlobalLog;
use crate::idempotency::IdempotentRequest;
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
    /// The request's idempotency key, when it was sent with one: each command
    /// it commits is recorded, and a retry is handed the record instead.
    pub idempotency: Option<Arc<IdempotentRequest>>,
    /// The person whose command started the flow, when `actor` is the engine
    /// acting for them (process managers); recorded on every event.
    pub on_behalf_of: Option<Actor>,
}

impl CommandContext {
    /// A context for a fresh request: correlation and causation default to the request id.
    pub fn for_request(actor: Actor, request_id: String) -> Self {
        Self {
            actor,
            correlation_id: request_id.clone(),
            causation_id: request_id.clone(),
            request_id,
            idempotency: None,
            on_behalf_of: None,
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

/// A refusal by the caller's guard before the aggregate decided: the caller
/// may not touch this record (docs/security.md, ownership).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, domain::message::Localized)]
#[error("{message}")]
pub struct Denied {
    /// FORBIDDEN, or NOT_FOUND where the record's existence must not leak.
    pub code: ErrorCode,
    /// Why, safe for the caller.
    pub message: domain::message::Message,
}

/// A check of the loaded aggregate that runs before it handles a command, on
/// every attempt, so it sees exactly the state the command is decided on.
pub type Guard<'a, A> = &'a (dyn Fn(&A) -> Result<(), Denied> + Send + Sync);

/// Why a command did not append its events.
#[derive(Debug, thiserror::Error, domain::message::Localized)]
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
    /// A unique business key the events claim is held by another aggregate
    /// (001: one open interview task per contract).
    #[error("{key} already has {what}: {holder}")]
    Taken {
        /// What the holder has ("an open interview task").
        what: &'static str,
        /// The key (e.g. the contract no).
        key: String,
        /// The holding aggregate's id.
        holder: String,
    },
    /// The caller may not touch this aggregate (a guard refused before it decided).
    #[error(transparent)]
    Denied(Denied),
    /// A retried keyed request sent a command other than its first attempt did
    /// at the same step, so its stored outcome cannot stand for this one.
    #[error("this retry sends a different command than the first attempt with the same idempotency key did; use a new key")]
    Diverged,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E: std::error::Error> CommandError<E> {
    /// Whether the command was refused for a business reason (the aggregate's
    /// rules, a held key): retrying the same command cannot succeed.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            CommandError::Domain(_) | CommandError::Taken { .. } | CommandError::Denied(_)
        )
    }
}

impl<E: DomainError> CommandError<E> {
    /// The stable code of this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            CommandError::Domain(e) => e.code(),
            CommandError::Conflict { .. } | CommandError::Taken { .. } => ErrorCode::Conflict,
            CommandError::Diverged => ErrorCode::Validation,
            CommandError::Denied(denied) => denied.code,
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
}

fn persistence_to_store(error: PersistenceError) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(error.to_string()))
}

/// Executes commands against aggregates stored through postgres-es or sqlite-es.
pub struct CommandBus {
    repository: Repository,
    store: StorePool,
    services: DomainServices,
    max_attempts: u32,
    metrics: Arc<Metrics>,
    /// The log this bus appends to; its tail hears of every commit made here.
    log: GlobalLog,
    /// Wakes the task that NOTIFYs other instances; commits made while a
    /// notice is on its way share the next one.
    announcer: Option<Arc<tokio::sync::Notify>>,
    /// Commands on one aggregate inside this instance queue here instead of
    /// racing to the same sequence and retrying; the optimistic check stays
    /// for writers in other instances. Striped: an aggregate maps to one lock.
    queues: Arc<[tokio::sync::Mutex<()>]>,
    /// Aggregates as the last command here left them, so the next command
    /// skips reading their events. Bounded (least recently used goes); a hit
    /// is trusted only as far as the append's sequence check: a conflict, a
    /// refusal or a denial on a cached state is decided again on a fresh load.
    cache: Arc<std::sync::Mutex<AggregateCache>>,
    /// Shares transactions between the appends of concurrent commands (Postgres).
    committer: Option<GroupCommitter>,
    /// The newest position each recent correlation reached through this bus.
    correlations: Arc<std::sync::Mutex<hashlink::LruCache<String, LogPosition>>>,
}

/// How many correlations the bus remembers.
const REMEMBERED_CORRELATIONS: usize = 16_384;

/// Aggregates by (type, id): their state as JSON and their version.
type AggregateCache = hashlink::LruCache<(&'static str, String), (i64, serde_json::Value)>;

/// The shortest time between two commit notices to other instances.
const COMMIT_NOTICE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(10);

/// How many aggregates the cache holds.
const CACHED_AGGREGATES: usize = 4096;

/// How many locks the per-aggregate queues share (a power of two).
const QUEUE_STRIPES: usize = 1024;

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
        let log = GlobalLog::with_metrics(database.store().clone(), metrics.clone());
        // On Postgres, with a runtime: the group committer, and the task that
        // NOTIFYs other instances of commits (both live as long as the runtime).
        let (committer, announcer) = match (database.store(), tokio::runtime::Handle::try_current())
        {
            (StorePool::Postgres(pool), Ok(runtime)) => {
                let committer = GroupCommitter::start(pool.clone(), metrics.clone(), &runtime);
                let notify = Arc::new(tokio::sync::Notify::new());
                let (wake, log) = (notify.clone(), log.clone());
                // The notice carries the newest position at sending time,
                // so commits made while it is on its way are covered by it.
                runtime.spawn(async move {
                    loop {
                        wake.notified().await;
                        log.announce_commit().await;
                        // At most one notice per interval: under load, the
                        // commits of the next interval share one.
                        tokio::time::sleep(COMMIT_NOTICE_INTERVAL).await;
                    }
                });
                (Some(committer), Some(notify))
            }
            _ => (None, None),
        };
        Self {
            repository,
            store: database.store().clone(),
            services,
            max_attempts: max_attempts.max(1),
            metrics,
            log,
            committer,
            announcer,
            queues: (0..QUEUE_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            cache: Arc::new(std::sync::Mutex::new(hashlink::LruCache::new(
                CACHED_AGGREGATES,
            ))),
            correlations: Arc::new(std::sync::Mutex::new(hashlink::LruCache::new(
                REMEMBERED_CORRELATIONS,
            ))),
        }
    }

    fn cached<A: Aggregate>(&self, aggregate_id: &str) -> Option<(A, i64)> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let (version, state) = cache.get(&(A::TYPE, aggregate_id.to_string()))?;
        let aggregate = serde_json::from_value(state.clone()).ok()?;
        Some((aggregate, *version))
    }

    fn remember<A: Aggregate>(&self, aggregate_id: &str, aggregate: &A, version: i64) {
        let Ok(state) = serde_json::to_value(aggregate) else {
            return self.forget::<A>(aggregate_id);
        };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert((A::TYPE, aggregate_id.to_string()), (version, state));
    }

    /// Tells the bus that `aggregate_id` was just minted (a fresh UUID), so its
    /// first command need not read its (absent) events: it starts from the
    /// empty aggregate. Should the id exist after all, the append's sequence
    /// check conflicts and the command runs again on a fresh load.
    pub fn expect_new<A: Aggregate>(&self, aggregate_id: &str) {
        let known = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache.contains_key(&(A::TYPE, aggregate_id.to_string()))
        };
        if !known {
            self.remember::<A>(aggregate_id, &A::default(), 0);
        }
    }

    fn forget<A: Aggregate>(&self, aggregate_id: &str) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.remove(&(A::TYPE, aggregate_id.to_string()));
    }

    fn reached(&self, correlation_id: &str, position: LogPosition) {
        let mut correlations = self.correlations.lock().unwrap_or_else(|e| e.into_inner());
        match correlations.get_mut(correlation_id) {
            Some(reached) => *reached = (*reached).max(position),
            None => {
                correlations.insert(correlation_id.to_string(), position);
            }
        }
    }

    /// The newest position commands of `correlation_id` reached through this
    /// bus (while it is among the most recent correlations): where what one
    /// request set going has got, when the flows acting for it run here.
    pub fn latest_of_correlation(&self, correlation_id: &str) -> Option<LogPosition> {
        let mut correlations = self.correlations.lock().unwrap_or_else(|e| e.into_inner());
        correlations.get(correlation_id).copied()
    }

    /// The queue of commands on `aggregate_id` of `aggregate_type`.
    fn queue(&self, aggregate_type: &str, aggregate_id: &str) -> &tokio::sync::Mutex<()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (aggregate_type, aggregate_id).hash(&mut hasher);
        &self.queues[hasher.finish() as usize & (QUEUE_STRIPES - 1)]
    }

    /// Notified with the newest commit heard of: made through this bus, or
    /// announced by another instance.
    pub fn subscribe_commits(&self) -> watch::Receiver<LogPosition> {
        self.log.tail().subscribe()
    }

    /// The log this bus writes (its clones share what is known of its end).
    pub fn log(&self) -> &GlobalLog {
        &self.log
    }

    /// Another instance committed up to `position` (a LISTEN/NOTIFY notice;
    /// `None` when the notice carried no position): wakes this instance's readers.
    pub fn wake(&self, position: Option<LogPosition>) {
        match position {
            Some(position) => self.log.tail().heard(position),
            None => self.log.tail().nudge(),
        }
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
    /// aggregate and handles the command again, up to the retry budget. A
    /// command of a keyed request that committed before (a retry after a lost
    /// answer) is not run again: its stored receipt is returned.
    pub async fn execute<A>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        context: &CommandContext,
    ) -> Result<CommandReceipt, CommandError<A::Error>>
    where
        A: Aggregate<Services = DomainServices> + Reservations,
        A::Command: Clone,
        A::Error: DomainError,
    {
        self.execute_guarded::<A>(aggregate_id, command, context, &|_| Ok(()))
            .await
    }

    /// [`execute`](Self::execute), refusing with [`CommandError::Denied`] when
    /// `guard` does not accept the loaded aggregate (ownership rules).
    #[instrument(name = "command", skip_all, fields(aggregate_type = A::TYPE, aggregate_id = %aggregate_id, correlation_id = %context.correlation_id))]
    pub async fn execute_guarded<A>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        context: &CommandContext,
        guard: Guard<'_, A>,
    ) -> Result<CommandReceipt, CommandError<A::Error>>
    where
        A: Aggregate<Services = DomainServices> + Reservations,
        A::Command: Clone,
        A::Error: DomainError,
    {
        let started = std::time::Instant::now();
        let step = context
            .idempotency
            .as_ref()
            .map(|request| (request.as_ref(), request.next_step()));
        let result = match step {
            Some((request, step)) => match find_step(&self.store, request, step).await {
                Ok(Some(receipt)) => Self::replayed::<A>(aggregate_id, receipt),
                Ok(None) => {
                    let step = Some((request, step));
                    self.try_execute::<A>(aggregate_id, command, context, step, guard)
                        .await
                }
                Err(error) => Err(CommandError::Store(error)),
            },
            None => {
                self.try_execute::<A>(aggregate_id, command, context, None, guard)
                    .await
            }
        };
        let outcome = match &result {
            Ok(receipt) if receipt.attempts == 0 => "replayed",
            Ok(_) => "ok",
            Err(e) if e.is_refusal() => "refused",
            Err(CommandError::Conflict { .. }) => "conflict",
            Err(CommandError::Diverged) => "refused",
            Err(_) => "error",
        };
        let labels = labels(&[("aggregate_type", A::TYPE), ("outcome", outcome)]);
        self.metrics.observe(
            "facesign_command_duration_seconds",
            "Time to handle a command (load, decide, append, retries), by aggregate type and outcome.",
            labels.clone(),
            started.elapsed().as_secs_f64(),
        );
        self.metrics.increment(
            "facesign_commands_total",
            "Commands handled, by aggregate type and outcome.",
            labels,
            1,
        );
        result
    }

    /// The stored receipt of a step that committed on an earlier attempt.
    fn replayed<A: Aggregate>(
        aggregate_id: &str,
        receipt: StepReceipt,
    ) -> Result<CommandReceipt, CommandError<A::Error>>
    where
        A::Error: DomainError,
    {
        if receipt.aggregate_type != A::TYPE || receipt.aggregate_id != aggregate_id {
            return Err(CommandError::Diverged);
        }
        debug!("committed on an earlier attempt of this idempotency key; not run again");
        Ok(CommandReceipt {
            aggregate_id: receipt.aggregate_id,
            event_ids: receipt.event_ids,
            sequence: receipt.sequence,
            position: Some(receipt.position),
            attempts: 0,
        })
    }

    async fn try_execute<A>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        context: &CommandContext,
        step: Option<(&IdempotentRequest, u32)>,
        guard: Guard<'_, A>,
    ) -> Result<CommandReceipt, CommandError<A::Error>>
    where
        A: Aggregate<Services = DomainServices> + Reservations,
        A::Command: Clone,
        A::Error: DomainError,
    {
        // Held across load, handle and append: the next command on this
        // aggregate in this instance loads what this one wrote.
        let _queued = self.queue(A::TYPE, aggregate_id).lock().await;
        let mut trust_cache = true;
        let mut attempt = 0;
        while attempt < self.max_attempts {
            attempt += 1;
            if attempt > 1 {
                // A conflict on the step itself means another attempt of the
                // same keyed request committed it meanwhile.
                if let Some((request, step)) = step {
                    if let Some(receipt) = find_step(&self.store, request, step).await? {
                        return Self::replayed::<A>(aggregate_id, receipt);
                    }
                }
            }
            let cached = if trust_cache {
                self.cached::<A>(aggregate_id)
            } else {
                None
            };
            let hit = cached.is_some();
            let (mut aggregate, sequence) = match cached {
                Some(cached) => cached,
                None => self.load::<A>(aggregate_id).await?,
            };
            let sink = EventSink::default();
            let handled = match guard(&aggregate) {
                Err(denied) => Err(CommandError::Denied(denied)),
                Ok(()) => aggregate
                    .handle(command.clone(), &self.services, &sink)
                    .await
                    .map_err(CommandError::Domain),
            };
            let events = sink.collect().await;
            if hit && (handled.is_err() || events.is_empty()) {
                // Another instance may have moved it on: decide on the store's
                // state, not on what this instance last saw.
                self.forget::<A>(aggregate_id);
                trust_cache = false;
                attempt -= 1;
                continue;
            }
            handled?;
            if events.is_empty() {
                self.remember(aggregate_id, &aggregate, sequence);
                return Ok(CommandReceipt {
                    aggregate_id: aggregate_id.to_string(),
                    event_ids: Vec::new(),
                    sequence,
                    position: None,
                    attempts: attempt,
                });
            }
            let recorded_at = self.services.clock.now();
            // Every event of the command was recorded under the command's span.
            let traceparent = crate::trace::current_traceparent();
            let mut event_ids = Vec::with_capacity(events.len());
            let mut new_events = Vec::with_capacity(events.len());
            let mut reservations = Vec::new();
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
                    on_behalf_of: context.on_behalf_of.clone(),
                    traceparent: traceparent.clone(),
                };
                let payload = serde_json::to_value(event).map_err(|e| {
                    StoreError::Database(sqlx::Error::Protocol(format!("serialize event: {e}")))
                })?;
                reservations.extend(A::reservations(event));
                new_events.push(NewEvent {
                    sequence: sequence + offset as i64 + 1,
                    event_type: event.event_type(),
                    event_version: event.event_version(),
                    payload,
                    metadata: serde_json::to_value(metadata.to_map()).unwrap_or_default(),
                });
            }
            let appended = match (&self.committer, step) {
                (Some(committer), None) => {
                    committer
                        .append(OwnedAppend {
                            aggregate_type: A::TYPE,
                            aggregate_id: aggregate_id.to_string(),
                            events: new_events,
                            event_ids: event_ids.clone(),
                            reservations,
                            recorded_at,
                        })
                        .await
                }
                _ => {
                    append(
                        &self.store,
                        &Append {
                            aggregate_type: A::TYPE,
                            aggregate_id,
                            events: &new_events,
                            event_ids: &event_ids,
                            reservations: &reservations,
                            step,
                            recorded_at,
                        },
                    )
                    .await
                }
            };
            match appended {
                Ok(position) => {
                    self.remember(aggregate_id, &aggregate, sequence + events.len() as i64);
                    self.reached(&context.correlation_id, position);
                    self.log.tail().heard(position);
                    if let Some(announcer) = &self.announcer {
                        announcer.notify_one();
                    }
                    return Ok(CommandReceipt {
                        aggregate_id: aggregate_id.to_string(),
                        event_ids,
                        sequence: sequence + events.len() as i64,
                        position: Some(position),
                        attempts: attempt,
                    });
                }
                Err(AppendError::Conflict) => {
                    self.metrics.increment(
                        "facesign_command_conflicts_total",
                        "Optimistic-concurrency conflicts met (each is retried until the budget is spent).",
                        labels(&[("aggregate_type", A::TYPE)]),
                        1,
                    );
                    debug!(attempt, "concurrent append on the same aggregate; retrying");
                    self.forget::<A>(aggregate_id);
                    trust_cache = false;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(AppendError::Taken { scope, key, holder }) => {
                    return Err(CommandError::Taken {
                        what: scope.what,
                        key,
                        holder,
                    })
                }
                Err(AppendError::Store(error)) => return Err(CommandError::Store(error)),
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
