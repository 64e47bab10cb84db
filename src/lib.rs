//! Wiring of the facesign engine: settings, the write and read sides over one
//! database, the HTTP server, replay and demo data. The `facesign` binary and the
//! integration tests both start the engine through here.

mod cluster;
pub mod connections;
pub mod contracts;
pub mod demo;
pub mod log_checkpoints;
mod parked;
pub mod read_models;
pub mod registry;
pub mod secret_files;
pub mod settings;
mod verify;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use api::{ApiConfig, AppState};
use domain::services::DomainServices;
use projections::{ConsumerKind, Projection, ProjectionRunner};
use store::{CommandBus, Database, GlobalLog, Metrics, UuidV7Ids};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::info;
use workers::flows::{FlowParts, FlowRunner};
use workers::sms::SmsOutbox;
use workers::timers::TimerWorker;

pub use settings::Settings;

/// Who verifies bearer tokens: the bank's identity provider when one is
/// configured (its discovery and keys read now, so a wrong issuer stops the
/// start), else the shared secret, said loudly to be for development only.
/// With a provider, the console signs in through it (issue 34 item 3) when
/// FACESIGN_PUBLIC_URL says where browsers reach it, or the server listens on
/// this machine only; otherwise it keeps the pasted-token login, and says so.
async fn token_verifier(
    settings: &Settings,
    pool: &sqlx::AnyPool,
) -> anyhow::Result<(
    api::auth::TokenVerifier,
    Option<Arc<api::sign_in::ConsoleSignIn>>,
)> {
    match &settings.oidc {
        Some(oidc) => {
            let provider = api::identity::IdentityProvider::discover(oidc.clone())
                .await
                .context("the identity provider (FACESIGN_OIDC_ISSUER) cannot be used")?;
            info!(issuer = %oidc.issuer, audience = %oidc.audience, "bearer tokens come from the identity provider");
            let mut sign_in_settings = settings
                .console_sign_in
                .clone()
                .unwrap_or_else(|| api::sign_in::SignInSettings::new(""));
            let explicit = !sign_in_settings.public_url.is_empty();
            if !explicit {
                sign_in_settings.public_url = format!("http://{}", settings.bind);
            }
            let sign_in = match api::sign_in::for_provider(&provider, sign_in_settings, pool).await
            {
                Ok(sign_in) => Some(sign_in),
                Err(error) if !explicit => {
                    tracing::warn!(%error, "the console keeps the pasted-token login: set FACESIGN_PUBLIC_URL for it to sign in through the identity provider");
                    None
                }
                Err(error) => {
                    return Err(error)
                        .context("the console cannot sign in through the identity provider")
                }
            };
            Ok((api::auth::TokenVerifier::Provider(provider), sign_in))
        }
        None => {
            tracing::warn!("bearer tokens are signed with the shared secret FACESIGN_JWT_SECRET: for --demo and development only; set FACESIGN_OIDC_ISSUER in production");
            let keys = api::auth::JwtKeys::new(&settings.jwt_secret)
                .with_max_lifetime(settings.token_max_lifetime.as_secs());
            Ok((api::auth::TokenVerifier::SharedSecret(keys), None))
        }
    }
}

/// Connects to the database and brings its schema to this build's, or (with
/// `migrate_on_start` off) waits for the migration job to have done so;
/// both waits last at most `settings.database_wait`, so an instance started
/// beside its database and migration job neither crash-loops nor migrates
/// on its own (docs/operations.md, Deploying).
async fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    let deadline = tokio::time::Instant::now() + settings.database_wait;
    let retry = |what: String| async move {
        if tokio::time::Instant::now() >= deadline {
            return Err(what);
        }
        tracing::warn!("{what}; waiting (FACESIGN_DATABASE_WAIT_SECS)");
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        Ok(())
    };
    let database = loop {
        match Database::connect(&settings.database_url, settings.max_connections).await {
            Ok(database) => break database,
            // Waiting does not mend a wrong URL, password or database name.
            Err(error) if !error.may_pass() => {
                return Err(anyhow::Error::new(error))
                    .with_context(|| format!("cannot open database {}", settings.redacted_url()))
            }
            Err(error) => retry(format!(
                "cannot open database {}: {error}",
                settings.redacted_url()
            ))
            .await
            .map_err(anyhow::Error::msg)?,
        }
    };
    if settings.migrate_on_start {
        database
            .migrate()
            .await
            .context("cannot migrate database")?;
        return Ok(database);
    }
    loop {
        let status = database
            .schema_status()
            .await
            .context("cannot read the database's migrations")?;
        if let Some(conflict) = status.conflict {
            anyhow::bail!("the database's migrations disagree with this build: {conflict}");
        }
        if status.pending.is_empty() {
            if !status.newer.is_empty() {
                info!(
                    "the database holds migrations newer than this build ({:?}): serving as the older version of an upgrade",
                    status.newer
                );
            }
            return Ok(database);
        }
        retry(format!(
            "the database lacks {} of this build's migrations (first {}): run `facesign migrate` (the migration job); FACESIGN_MIGRATE_ON_START is off",
            status.pending.len(),
            status.pending[0]
        ))
        .await
        .map_err(anyhow::Error::msg)?;
    }
}

/// The write side and the log over one migrated database.
pub struct Engine {
    /// Database pools.
    pub database: Database,
    /// The command bus.
    pub bus: Arc<CommandBus>,
    /// Reader of the global log.
    pub log: GlobalLog,
    /// Process metrics.
    pub metrics: Arc<Metrics>,
    pub(crate) settings: Settings,
}

impl Engine {
    /// Connects to the configured database and applies pending migrations.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let database = open_database(settings).await?;
        let metrics = Arc::new(Metrics::default());
        let services = DomainServices::new(settings.clock.clone(), Arc::new(UuidV7Ids))
            .with_scheduling(settings.scheduling)
            .with_session(settings.session)
            .with_loans(settings.loans)
            .with_operations(settings.operations)
            .with_routing(settings.routing.clone());
        let bus = Arc::new(CommandBus::new(
            &database,
            services,
            settings.command_max_attempts,
            metrics.clone(),
        ));
        // The engine's readers share the bus's log: its tail hears every commit.
        let log = bus.log().clone();
        Ok(Self {
            database,
            bus,
            log,
            metrics,
            settings: settings.clone(),
        })
    }

    /// A runner of `projection` over this engine's database and log.
    pub fn projection_runner<P: Projection>(
        &self,
        projection: P,
    ) -> ProjectionRunner<P, GlobalLog> {
        let metrics = self.metrics.clone();
        ProjectionRunner::new(
            projection,
            self.database.read_models().clone(),
            self.log.clone(),
            self.settings.projection_batch_size,
        )
        .observe_lag(Arc::new(move |projection, committed_at| {
            metrics.observe(
                "facesign_projection_lag_seconds",
                "Time from an event's commit to a projection applying it, by projection.",
                store::metrics::labels(&[("projection", projection)]),
                store::metrics::seconds_since(committed_at),
            )
        }))
    }

    /// What workers read of the read models.
    pub fn read_models(&self) -> Arc<dyn workers::ReadModels> {
        Arc::new(read_models::ProjectedReadModels::new(
            self.database.read_models().clone(),
        ))
    }

    /// A runner of `flow`, whose commands name the flow as their actor.
    pub fn flow_runner<F: domain::flows::Flow>(&self, flow: F) -> FlowRunner<F> {
        FlowRunner::new(
            flow,
            FlowParts {
                bus: self.bus.clone(),
                pool: self.database.read_models().clone(),
                log: self.log.clone(),
                sms: self.sms(),
                metrics: self.metrics.clone(),
                batch_size: self.settings.projection_batch_size,
            },
        )
    }

    /// The registered consumer of the log named `name` (see [`registry`]).
    pub fn consumer(&self, name: &str) -> anyhow::Result<registry::Entry> {
        let entries = registry::consumers(self)?;
        let known = entries
            .iter()
            .map(|e| e.name)
            .collect::<Vec<_>>()
            .join(", ");
        entries
            .into_iter()
            .find(|e| e.name == name)
            .ok_or_else(|| anyhow::anyhow!("unknown consumer `{name}`; known: {known}"))
    }

    /// The SMS outbox.
    pub fn sms(&self) -> SmsOutbox {
        SmsOutbox::new(
            self.database.read_models().clone(),
            self.bus.services().clock.clone(),
            self.bus.services().ids.clone(),
        )
    }

    /// The timer worker.
    pub fn timer_worker(&self) -> TimerWorker {
        TimerWorker::new(
            self.bus.clone(),
            self.database.read_models().clone(),
            self.read_models(),
            self.sms(),
            self.settings.partners.clone(),
            self.metrics.clone(),
        )
        .with_ledger_review(self.settings.repayment_reminder_days)
        .with_core_answer_watch(self.settings.core_answer_timeout)
        .with_contract_mailer(self.settings.smtp.clone())
    }

    /// Rebuilds the named read model from position 0; returns the events applied.
    pub async fn replay(&self, name: &str) -> anyhow::Result<usize> {
        let entries = registry::consumers(self)?;
        let read_models = entries
            .iter()
            .filter(|e| e.kind == ConsumerKind::ReadModel)
            .map(|e| e.name)
            .collect::<Vec<_>>()
            .join(", ");
        let rebuild = entries
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.worker.rebuild())
            .ok_or_else(|| anyhow::anyhow!("unknown projection `{name}`; known: {read_models}"))?;
        rebuild.await
    }
}

/// The most each step after the grace may take while stopping.
const STOP_STEP: std::time::Duration = std::time::Duration::from_secs(2);

/// A server started by [`serve`].
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Every consumer of the log and its progress.
    pub consumers: projections::Consumers,
    shutdown: watch::Sender<bool>,
    shutdown_grace: std::time::Duration,
    cancel_requests: watch::Sender<bool>,
    stop_operation_log: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    workers: Vec<JoinHandle<()>>,
    /// Signs a last checkpoint at a graceful stop.
    log_checkpoints: Option<log_checkpoints::LogCheckpoints>,
    database: Database,
    /// Held until the server stops (SQLite: one instance per file).
    _instance_lock: Option<std::fs::File>,
}

impl RunningServer {
    /// Stops accepting requests and lets in-flight ones finish for at most the
    /// shutdown grace (each is also bounded by its deadline), then cancels the
    /// rest; stops the workers at a checkpoint and closes the pools, each
    /// bounded too, so a stop never hangs on a stuck request or database.
    pub async fn stop(self) -> anyhow::Result<()> {
        use tokio::time::{timeout, timeout_at, Instant};
        let _ = self.shutdown.send(true);
        let grace_over = Instant::now() + self.shutdown_grace;
        let mut server = self.server;
        let served = match timeout_at(grace_over, &mut server).await {
            Ok(finished) => Some(finished),
            Err(_) => {
                tracing::warn!(
                    grace_ms = self.shutdown_grace.as_millis() as u64,
                    "in-flight requests did not finish within the shutdown grace; cancelling them"
                );
                let _ = self.cancel_requests.send(true);
                match timeout(STOP_STEP, &mut server).await {
                    Ok(finished) => Some(finished),
                    Err(_) => {
                        server.abort();
                        None
                    }
                }
            }
        };
        let _ = self.stop_operation_log.send(true);
        for mut worker in self.workers {
            let limit = grace_over.max(Instant::now()) + STOP_STEP;
            if let Ok(joined) = timeout_at(limit, &mut worker).await {
                joined?;
            } else {
                tracing::warn!("a worker did not stop at a checkpoint in time; aborting it (it resumes from its checkpoint)");
                worker.abort();
            }
        }
        // Whatever was written up to the stop is covered by a signature.
        if let Some(checkpoints) = &self.log_checkpoints {
            match timeout(STOP_STEP, checkpoints.write()).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!("{error}"),
                Err(_) => tracing::warn!("the last log checkpoint did not finish in time"),
            }
        }
        if timeout(STOP_STEP, self.database.close()).await.is_err() {
            tracing::warn!(
                "database connections still in use at shutdown; leaving them to the process exit"
            );
        }
        if let Some(served) = served {
            served??;
        }
        Ok(())
    }

    /// Waits until the server ends by itself (Ctrl-C or SIGTERM).
    pub async fn wait(self) -> anyhow::Result<()> {
        let mut shutdown = self.shutdown.subscribe();
        let _ = shutdown.wait_for(|stop| *stop).await;
        self.stop().await
    }
}

/// SQLite serves one instance: a second `serve` on the same file would run
/// every worker twice. The lock is held (by the open file) while the server runs.
fn lock_sqlite_instance(database_url: &str) -> anyhow::Result<Option<std::fs::File>> {
    use std::str::FromStr as _;
    if !database_url.starts_with("sqlite:") {
        return Ok(None);
    }
    let path = sqlx::sqlite::SqliteConnectOptions::from_str(database_url)?
        .get_filename()
        .to_path_buf();
    if path.as_os_str().is_empty() || path.to_string_lossy().contains(":memory:") {
        return Ok(None);
    }
    let lock_path = format!("{}.instance-lock", path.display());
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {lock_path}"))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another facesign server is running on {}; SQLite serves one instance (use Postgres to run several)",
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {lock_path}")),
    }
}

/// Opens the engine, starts every worker and serves HTTP on `settings.bind`.
pub async fn serve(settings: &Settings) -> anyhow::Result<RunningServer> {
    let instance_lock = lock_sqlite_instance(&settings.database_url)?;
    let engine = Engine::open(settings).await?;
    if settings.demo {
        demo::seed(&engine).await?;
    }
    let consumers = registry::consumers(&engine)?;
    let leadership = store::cluster::Leadership::new(
        &settings.database_url,
        settings.instance_id.clone(),
        settings.lease_poll_interval,
    )?;
    // On SQLite (one instance) read models catch up before traffic is served;
    // in a cluster only a worker's leader may run it, so that waits for the lock.
    if !leadership.is_clustered() {
        catch_up_read_models(&consumers).await?;
    }
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut workers: Vec<JoinHandle<()>> = consumers
        .iter()
        .map(|entry| lead_consumer(&engine, &leadership, entry, shutdown_rx.clone()))
        .collect();
    workers.push(lead_polling(
        "timers",
        engine.timer_worker(),
        |timers, interval, stop| async move { timers.run(interval, stop).await },
        &engine,
        &leadership,
        shutdown_rx.clone(),
    ));
    if let Some(gateway) = &engine.settings.sms_gateway {
        let delivery = workers::sms::SmsDelivery::new(
            engine.database.read_models().clone(),
            engine.bus.services().clock.clone(),
            gateway.clone(),
            engine.metrics.clone(),
        )
        .with_partner_signatures(settings.partners.signatures());
        workers.push(lead_polling(
            "sms-delivery",
            delivery,
            |delivery, interval, stop| async move { delivery.run(interval, stop).await },
            &engine,
            &leadership,
            shutdown_rx.clone(),
        ));
    }
    let log_checkpoints = settings.log_signing_key.clone().map(|key| {
        log_checkpoints::LogCheckpoints::new(
            engine.database.clone(),
            engine.log.clone(),
            key,
            engine.bus.services().clock.clone(),
        )
    });
    if let Some(checkpoints) = &log_checkpoints {
        let every = settings.log_checkpoint_interval;
        workers.push(lead_polling(
            "log_checkpoints",
            checkpoints.clone(),
            move |checkpoints, _, stop| checkpoints.run(every, stop),
            &engine,
            &leadership,
            shutdown_rx.clone(),
        ));
    }
    workers.extend(secret_files::watch(
        settings.rotated_files.clone(),
        settings.partners.clone(),
        settings.sms_gateway.as_ref().map(|g| g.token.clone()),
        shutdown_rx.clone(),
    ));
    if let Some(kafka) = &settings.kafka {
        // A refused certificate or login shows here in librdkafka's words;
        // later the relay and the consumer would only time out.
        if let Err(reason) = kafka.probe(std::time::Duration::from_secs(10)).await {
            tracing::error!(brokers = %kafka.brokers, %reason, "cannot reach the Kafka brokers; the relay and the consumer keep trying");
        }
        workers.push(consume_inbound(&engine, kafka, shutdown_rx.clone()).await?);
    }
    let handles = registry::handles(&consumers);
    workers.push(tokio::spawn(cluster::heartbeat(
        engine.log.clone(),
        settings.heartbeat_interval,
        shutdown_rx.clone(),
    )));
    if leadership.is_clustered() {
        workers.push(tokio::spawn(cluster::follow(
            settings.database_url.clone(),
            leadership.clone(),
            engine.bus.clone(),
            engine.database.read_models().clone(),
            handles.handles(),
            settings.heartbeat_interval,
            shutdown_rx.clone(),
        )));
        workers.push(tokio::spawn(cluster::announce_progress(
            leadership.clone(),
            engine.database.read_models().clone(),
            handles.handles(),
            shutdown_rx.clone(),
        )));
    }
    let idempotency = store::idempotency::IdempotencyStore::new(
        engine.database.read_models().clone(),
        chrono::Duration::from_std(settings.idempotency_retention)
            .context("FACESIGN_IDEMPOTENCY_RETENTION_HOURS is out of range")?,
    );
    workers.push(tokio::spawn(purge_idempotency_keys(
        idempotency.clone(),
        engine.bus.services().clock.clone(),
        shutdown_rx.clone(),
    )));
    // The operation log's writer stops after the server, so that what
    // in-flight requests record during the grace is stored too.
    let (stop_operation_log, operation_log_stop) = watch::channel(false);
    let (operation_log, operation_log_writer) = store::operation_log::OperationLog::start(
        engine.database.read_models().clone(),
        engine.metrics.clone(),
        operation_log_stop,
    );
    workers.push(operation_log_writer);
    let (cancel_requests, stopping) = watch::channel(false);
    let accounts = handles
        .handle(projections::admin_catalog::NAME)
        .map(|catalog| api::accounts::AccountCache::following(catalog.subscribe_changes()))
        .context("the admin catalog is not registered")?;
    let connection_limits = connection_limits(settings);
    let mut config = api_config(settings);
    // Sockets hold connections the listener cannot evict: at most half of them.
    config.sockets.max_total = config
        .sockets
        .max_total
        .min(connection_limits.max_total / 2)
        .max(1);
    let (tokens, sign_in) = token_verifier(settings, engine.database.read_models()).await?;
    let state = AppState {
        sign_in,
        doors: Arc::new(api::doors::Doors::new(&config)),
        feeds: Arc::default(),
        draining: shutdown_rx.clone(),
        accounts,
        operation_log,
        idempotency,
        stopping,
        consumers: handles.clone(),
        leadership,
        database: engine.database.clone(),
        bus: engine.bus.clone(),
        log: engine.log.clone(),
        partner_directory: settings.partners.clone(),
        partner_timestamp_window: settings.partner_timestamp_window,
        tokens,
        metrics: engine.metrics.clone(),
        config,
        sms_gateway_token: settings.sms_gateway.as_ref().map(|g| g.token.clone()),
    };
    let (addr, server) = listen(settings, connection_limits, state, shutdown_rx).await?;
    info!(%addr, backend = engine.database.backend().as_str(), "facesign listening; GraphiQL at http://{addr}/graphql");
    Ok(RunningServer {
        addr,
        consumers: handles,
        shutdown,
        shutdown_grace: settings.shutdown_grace,
        cancel_requests,
        stop_operation_log,
        server,
        workers,
        log_checkpoints,
        database: engine.database,
        _instance_lock: instance_lock,
    })
}

/// Brings every read model up to the log head.
async fn catch_up_read_models(consumers: &[registry::Entry]) -> anyhow::Result<()> {
    for entry in consumers
        .iter()
        .filter(|e| e.kind == ConsumerKind::ReadModel)
    {
        entry
            .worker
            .catch_up()
            .await
            .with_context(|| format!("{} catch-up", entry.name))?;
    }
    Ok(())
}

/// Runs `entry` wherever this instance holds its lock (always, on SQLite),
/// restarted from its checkpoint whenever leadership comes back.
fn lead_consumer(
    engine: &Engine,
    leadership: &store::cluster::Leadership,
    entry: &registry::Entry,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let (name, worker) = (entry.name, entry.worker.clone());
    let (leadership, bus) = (leadership.clone(), engine.bus.clone());
    let poll = engine.settings.projection_poll_interval;
    tokio::spawn(async move {
        leadership
            .lead(name, shutdown, |stop| {
                let worker = worker.clone();
                let commits = bus.subscribe_commits();
                async move { worker.run(commits, poll, stop).await }
            })
            .await
    })
}

/// Runs a worker that polls every timer interval (`run(worker, interval,
/// stop)`) where this instance holds the lock `name`.
fn lead_polling<W, Run, Runs>(
    name: &'static str,
    worker: W,
    run: Run,
    engine: &Engine,
    leadership: &store::cluster::Leadership,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()>
where
    W: Send + Sync + 'static,
    Run: Fn(Arc<W>, std::time::Duration, watch::Receiver<bool>) -> Runs + Send + Sync + 'static,
    Runs: std::future::Future<Output = ()> + Send + 'static,
{
    let worker = Arc::new(worker);
    let leadership = leadership.clone();
    let interval = engine.settings.timer_poll_interval;
    tokio::spawn(async move {
        leadership
            .lead(name, shutdown, |stop| run(worker.clone(), interval, stop))
            .await
    })
}

/// Starts the consumer of credit decisions and the core's results; consumers
/// share partitions through their group, so every instance runs one (no lock).
async fn consume_inbound(
    engine: &Engine,
    kafka: &workers::kafka::KafkaSettings,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let consumer = workers::kafka::consumer::InboundConsumer::new(
        kafka,
        engine.bus.clone(),
        engine.metrics.clone(),
    )
    .await
    .context("cannot start the inbound Kafka consumer")?;
    Ok(tokio::spawn(consumer.run(shutdown)))
}

/// The API's tunables from the settings.
fn api_config(settings: &Settings) -> ApiConfig {
    ApiConfig {
        read_your_writes_timeout: settings.read_your_writes_timeout,
        introspection: settings.introspection,
        four_eyes: settings.four_eyes.unwrap_or(settings.oidc.is_some()),
        rate_limit_per_second: settings.rate_limit_per_second,
        rate_limit_burst: settings.rate_limit_burst,
        query_limits: settings.query_limits,
        request_deadline: settings.request_deadline,
        sockets: settings.sockets,
        partner_rate_per_address: settings.partner_rate_per_address,
        partner_rate_per_partner: settings.partner_rate_per_partner,
        partner_legacy_signature_until: settings.partner_legacy_signature_until,
        sms_report_rate_per_address: settings.sms_report_rate_per_address,
        log_public_key: settings
            .log_signing_key
            .as_ref()
            .map(|key| key.public_key().to_pem()),
        ..ApiConfig::default()
    }
}

/// The listener's bounds in force: the settings, with the total cap below
/// the open-file limit (raised to the hard limit first).
fn connection_limits(settings: &Settings) -> connections::ConnectionLimits {
    let open_files = connections::raise_open_file_limit().unwrap_or(1_024);
    let limits = connections::ConnectionLimits {
        max_total: connections::effective_total(settings.connections.max_total, open_files),
        in_flight_timeout: settings.request_deadline + std::time::Duration::from_secs(30),
        ..settings.connections
    };
    if limits.max_total < settings.connections.max_total {
        tracing::warn!(
            open_files,
            cap = limits.max_total,
            setting = settings.connections.max_total,
            "the open-file limit leaves room for fewer connections than FACESIGN_MAX_HTTP_CONNECTIONS; capped lower"
        );
    }
    info!(
        open_files,
        max_connections = limits.max_total,
        per_address = limits.max_per_address,
        "connection limits"
    );
    limits
}

/// Binds `settings.bind` and serves the API under `limits` until `shutdown`.
async fn listen(
    settings: &Settings,
    limits: connections::ConnectionLimits,
    state: AppState,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<(SocketAddr, JoinHandle<std::io::Result<()>>)> {
    let listener = tokio::net::TcpListener::bind(&settings.bind)
        .await
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    let addr = listener.local_addr()?;
    let metrics = state.metrics.clone();
    let router = api::router(state);
    let server = tokio::spawn(async move {
        connections::serve(listener, router, limits, metrics, shutdown).await
    });
    Ok((addr, server))
}

/// Deletes idempotency keys past their retention, at start and every ten
/// minutes (every instance may: the deletes are idempotent).
async fn purge_idempotency_keys(
    store: store::idempotency::IdempotencyStore,
    clock: Arc<dyn domain::services::Clock>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match store.purge(clock.now()).await {
            Ok(0) => {}
            Ok(purged) => info!(purged, "idempotency keys past their retention deleted"),
            Err(e) => {
                tracing::warn!(error = %e, "cannot purge idempotency keys; trying again later")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(600)) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

impl RunningServer {
    /// Asks the server to stop when the process receives Ctrl-C or SIGTERM.
    pub fn stop_on_signal(&self) {
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            info!("shutdown requested; draining requests");
            let _ = shutdown.send(true);
        });
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut sig) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            sig.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
