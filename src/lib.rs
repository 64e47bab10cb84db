//! Wiring of the facesign engine: settings, the write and read sides over one
//! database, the HTTP server, replay and demo data. The `facesign` binary and the
//! integration tests both start the engine through here.

mod cluster;
pub mod demo;
pub mod settings;
mod verify;

use std::net::SocketAddr;
use std::sync::Arc;

use adapters::flows::{FlowParts, FlowRunner, QueueReader};
use adapters::sms::SmsOutbox;
use adapters::timers::TimerWorker;
use adapters::{CommandBus, Database, GlobalLog, Metrics, UuidV7Ids};
use anyhow::Context as _;
use api::{ApiConfig, AppState};
use domain::flows::dispatch::DispatchFlow;
use domain::flows::loan::LoanFlow;
use domain::flows::partner::PartnerFlow;
use domain::flows::quality::QualityFlow;
use domain::flows::scheduling::SchedulingFlow;
use domain::services::DomainServices;
use projections::{
    AdminCatalog, AuditLog, CallQueue, Channels, InterviewRecords, LoanLineage, Partners,
    Projection, ProjectionHandle, ProjectionRunner, SeatCalendar, TaskBoard,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::info;

pub use settings::Settings;

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
        let database = Database::connect(&settings.database_url, settings.max_connections)
            .await
            .with_context(|| format!("cannot open database {}", settings.redacted_url()))?;
        database
            .migrate()
            .await
            .context("cannot migrate database")?;
        let metrics = Arc::new(Metrics::default());
        let services = DomainServices::new(settings.clock.clone(), Arc::new(UuidV7Ids))
            .with_scheduling(settings.scheduling)
            .with_session(settings.session)
            .with_loans(settings.loans);
        let bus = Arc::new(CommandBus::new(
            &database,
            services,
            settings.command_max_attempts,
            metrics.clone(),
        ));
        let log = GlobalLog::new(database.store().clone());
        Ok(Self {
            database,
            bus,
            log,
            metrics,
            settings: settings.clone(),
        })
    }

    fn projection_runner<P: Projection>(&self, projection: P) -> ProjectionRunner<P, GlobalLog> {
        ProjectionRunner::new(
            projection,
            self.database.read_models().clone(),
            self.log.clone(),
            self.settings.projection_batch_size,
        )
    }

    fn flow_runner<F: domain::flows::Flow>(&self, flow: F, actor: &'static str) -> FlowRunner<F> {
        FlowRunner::new(
            flow,
            actor,
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

    /// A runner of the task board projection over this engine's database.
    pub fn task_board_runner(&self) -> ProjectionRunner<TaskBoard, GlobalLog> {
        self.projection_runner(TaskBoard)
    }

    /// A runner of the seat calendar projection.
    pub fn seat_calendar_runner(&self) -> ProjectionRunner<SeatCalendar, GlobalLog> {
        self.projection_runner(SeatCalendar)
    }

    /// A runner of the audit projection.
    pub fn audit_log_runner(&self) -> ProjectionRunner<AuditLog, GlobalLog> {
        self.projection_runner(AuditLog)
    }

    /// A runner of the interview records projection (QC queue, calls, statistics, task detail).
    pub fn interview_records_runner(&self) -> ProjectionRunner<InterviewRecords, GlobalLog> {
        self.projection_runner(InterviewRecords)
    }

    /// A runner of the loan and lineage projection.
    pub fn loan_lineage_runner(&self) -> ProjectionRunner<LoanLineage, GlobalLog> {
        self.projection_runner(LoanLineage)
    }

    /// A runner of the channel list projection.
    pub fn channels_runner(&self) -> ProjectionRunner<Channels, GlobalLog> {
        self.projection_runner(Channels)
    }

    /// A runner of the call queue projection.
    pub fn call_queue_runner(&self) -> ProjectionRunner<CallQueue, GlobalLog> {
        self.projection_runner(CallQueue)
    }

    /// A runner of the admin catalog projection (scripts, media, accounts, work orders).
    pub fn admin_catalog_runner(&self) -> ProjectionRunner<AdminCatalog, GlobalLog> {
        self.projection_runner(AdminCatalog)
    }

    /// A runner of the operations-centre flow (dispatch, work-order SMS); it
    /// decides once `read_models` (call queue, seat calendar) are current.
    pub fn operations_runner(
        &self,
        read_models: Vec<ProjectionHandle>,
    ) -> FlowRunner<DispatchFlow> {
        self.flow_runner(DispatchFlow, "dispatcher")
            .with_queue(QueueReader {
                read_models,
                timeout: std::time::Duration::from_secs(10),
            })
    }

    /// A runner of the partner orders and callbacks projection.
    pub fn partners_runner(&self) -> ProjectionRunner<Partners, GlobalLog> {
        self.projection_runner(Partners)
    }

    /// A runner of the partner flow (callbacks, the account check).
    pub fn partner_process_runner(&self) -> FlowRunner<PartnerFlow> {
        self.flow_runner(
            PartnerFlow {
                callback_urls: self.settings.partners.callback_urls(),
                max_attempts: self.settings.callback_max_attempts,
                account_check_after: self.settings.account_check_after,
            },
            "partner-process",
        )
    }

    /// A runner of the loan flow.
    pub fn loan_flow_runner(&self) -> FlowRunner<LoanFlow> {
        self.flow_runner(LoanFlow, "loan-flow")
    }

    /// A runner of the quality-control flow.
    pub fn quality_runner(&self) -> FlowRunner<QualityFlow> {
        self.flow_runner(QualityFlow, "quality-control")
    }

    /// The SMS outbox.
    pub fn sms(&self) -> SmsOutbox {
        SmsOutbox::new(
            self.database.read_models().clone(),
            self.bus.services().clock.clone(),
            self.bus.services().ids.clone(),
        )
    }

    /// A runner of the scheduling flow.
    pub fn scheduling_runner(&self) -> FlowRunner<SchedulingFlow> {
        self.flow_runner(
            SchedulingFlow {
                reminder_lead: self.settings.reminder_lead,
            },
            "scheduler",
        )
    }

    /// The timer worker.
    pub fn timer_worker(&self) -> TimerWorker {
        TimerWorker::new(
            self.bus.clone(),
            self.database.read_models().clone(),
            self.sms(),
            self.settings.partners.clone(),
        )
    }

    /// Rebuilds the named projection from position 0; returns the events applied.
    pub async fn replay(&self, projection: &str) -> anyhow::Result<usize> {
        match projection {
            projections::task_board::NAME => Ok(self.task_board_runner().rebuild().await?),
            projections::seat_calendar::NAME => Ok(self.seat_calendar_runner().rebuild().await?),
            projections::audit_log::NAME => Ok(self.audit_log_runner().rebuild().await?),
            projections::interview_records::NAME => {
                Ok(self.interview_records_runner().rebuild().await?)
            }
            projections::loan_lineage::NAME => Ok(self.loan_lineage_runner().rebuild().await?),
            projections::channels::NAME => Ok(self.channels_runner().rebuild().await?),
            projections::call_queue::NAME => Ok(self.call_queue_runner().rebuild().await?),
            projections::admin_catalog::NAME => Ok(self.admin_catalog_runner().rebuild().await?),
            projections::partners::NAME => Ok(self.partners_runner().rebuild().await?),
            other => anyhow::bail!(
                "unknown projection `{other}`; known: {}",
                projections::PROJECTION_NAMES.join(", ")
            ),
        }
    }
}

/// The most each step after the grace may take while stopping.
const STOP_STEP: std::time::Duration = std::time::Duration::from_secs(2);

/// A server started by [`serve`].
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The task board projection's progress.
    pub task_board: ProjectionHandle,
    shutdown: watch::Sender<bool>,
    shutdown_grace: std::time::Duration,
    cancel_requests: watch::Sender<bool>,
    stop_operation_log: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    workers: Vec<JoinHandle<()>>,
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

/// Opens the engine, starts the projection runner and serves HTTP on `settings.bind`.
pub async fn serve(settings: &Settings) -> anyhow::Result<RunningServer> {
    let instance_lock = lock_sqlite_instance(&settings.database_url)?;
    let engine = Engine::open(settings).await?;
    // On SQLite (one instance) projections catch up before traffic is served;
    // in a cluster only a worker's leader may run it, so that waits for the lock.
    let clustered = engine.database.backend() == adapters::Backend::Postgres;
    if settings.demo {
        demo::seed(&engine).await?;
    }
    let task_board_runner = engine.task_board_runner();
    let seat_calendar_runner = engine.seat_calendar_runner();
    let audit_log_runner = engine.audit_log_runner();
    let task_board = task_board_runner.handle();
    let seat_calendar = seat_calendar_runner.handle();
    let audit_log = audit_log_runner.handle();
    let interview_records_runner = engine.interview_records_runner();
    let interview_records = interview_records_runner.handle();
    if !clustered {
        interview_records_runner
            .catch_up()
            .await
            .context("interview records catch-up")?;
    }
    let loan_lineage_runner = engine.loan_lineage_runner();
    let loan_lineage = loan_lineage_runner.handle();
    if !clustered {
        loan_lineage_runner
            .catch_up()
            .await
            .context("loan lineage catch-up")?;
    }
    let channels_runner = engine.channels_runner();
    let channels = channels_runner.handle();
    if !clustered {
        channels_runner
            .catch_up()
            .await
            .context("channels catch-up")?;
    }
    let call_queue_runner = engine.call_queue_runner();
    let call_queue = call_queue_runner.handle();
    if !clustered {
        call_queue_runner
            .catch_up()
            .await
            .context("call queue catch-up")?;
    }
    let admin_catalog_runner = engine.admin_catalog_runner();
    let admin_catalog = admin_catalog_runner.handle();
    if !clustered {
        admin_catalog_runner
            .catch_up()
            .await
            .context("admin catalog catch-up")?;
    }
    let partners_runner = engine.partners_runner();
    let partners = partners_runner.handle();
    if !clustered {
        partners_runner
            .catch_up()
            .await
            .context("partners catch-up")?;
    }
    let partner_process_runner = engine.partner_process_runner();
    let partner_process = partner_process_runner.handle();
    let quality_runner = engine.quality_runner();
    let quality = quality_runner.handle();
    let loan_flow_runner = engine.loan_flow_runner();
    let loan_flow = loan_flow_runner.handle();
    if !clustered {
        task_board_runner
            .catch_up()
            .await
            .context("task board catch-up")?;
    }
    if !clustered {
        seat_calendar_runner
            .catch_up()
            .await
            .context("seat calendar catch-up")?;
    }
    if !clustered {
        audit_log_runner
            .catch_up()
            .await
            .context("audit log catch-up")?;
    }
    let scheduling_runner = engine.scheduling_runner();
    let scheduling = scheduling_runner.handle();
    let operations_runner =
        engine.operations_runner(vec![call_queue.clone(), seat_calendar.clone()]);
    let operations = operations_runner.handle();
    let (shutdown, shutdown_rx) = watch::channel(false);
    let poll = settings.projection_poll_interval;
    let leadership = adapters::cluster::Leadership::new(
        &settings.database_url,
        settings.instance_id.clone(),
        settings.lease_poll_interval,
    )?;
    // Each worker runs where this instance holds its lock (always, on SQLite),
    // restarted from its checkpoint whenever leadership comes back.
    macro_rules! led {
        ($runner:expr) => {{
            let runner = Arc::new($runner);
            let name = runner.handle().name();
            let leadership = leadership.clone();
            let bus = engine.bus.clone();
            let shutdown = shutdown_rx.clone();
            tokio::spawn(async move {
                leadership
                    .lead(name, shutdown, |stop| {
                        let runner = runner.clone();
                        let commits = bus.subscribe_commits();
                        async move { runner.run(commits, poll, stop).await }
                    })
                    .await
            })
        }};
    }
    let mut workers = vec![
        led!(task_board_runner),
        led!(seat_calendar_runner),
        led!(audit_log_runner),
        led!(interview_records_runner),
        led!(loan_lineage_runner),
        led!(channels_runner),
        led!(call_queue_runner),
        led!(admin_catalog_runner),
        led!(partners_runner),
        led!(partner_process_runner),
        led!(operations_runner),
        led!(loan_flow_runner),
        led!(quality_runner),
        led!(scheduling_runner),
    ];
    {
        let timers = Arc::new(engine.timer_worker());
        let leadership = leadership.clone();
        let shutdown = shutdown_rx.clone();
        let interval = settings.timer_poll_interval;
        workers.push(tokio::spawn(async move {
            leadership
                .lead("timers", shutdown, |stop| {
                    let timers = timers.clone();
                    async move { timers.run(interval, stop).await }
                })
                .await
        }));
    }
    let mut optional_workers = Vec::new();
    if let Some(kafka) = &settings.kafka {
        let relay = adapters::kafka::relay::Relay::new(
            kafka,
            engine.database.read_models().clone(),
            engine.log.clone(),
            engine.metrics.clone(),
        )
        .context("cannot configure the Kafka relay")?;
        optional_workers.push(relay.handle());
        // Consumers share partitions through their group: no lock needed.
        let consumer = adapters::kafka::consumer::CreditDecisionConsumer::new(
            kafka,
            engine.bus.clone(),
            engine.metrics.clone(),
        )
        .await
        .context("cannot start the credit decision consumer")?;
        workers.push(tokio::spawn(consumer.run(shutdown_rx.clone())));
        workers.push(led!(relay));
    }
    if leadership.is_clustered() {
        let mut handles = vec![
            task_board.clone(),
            seat_calendar.clone(),
            audit_log.clone(),
            interview_records.clone(),
            loan_lineage.clone(),
            channels.clone(),
            call_queue.clone(),
            admin_catalog.clone(),
            partners.clone(),
            partner_process.clone(),
            operations.clone(),
            loan_flow.clone(),
            quality.clone(),
            scheduling.clone(),
        ];
        handles.extend(optional_workers.iter().cloned());
        workers.push(tokio::spawn(cluster::follow(
            settings.database_url.clone(),
            leadership.clone(),
            engine.bus.clone(),
            engine.database.read_models().clone(),
            handles,
            poll,
            shutdown_rx.clone(),
        )));
    }
    let (cancel_requests, stopping) = watch::channel(false);
    let idempotency = adapters::idempotency::IdempotencyStore::new(
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
    let (operation_log, operation_log_writer) = adapters::operation_log::OperationLog::start(
        engine.database.read_models().clone(),
        engine.metrics.clone(),
        operation_log_stop,
    );
    workers.push(operation_log_writer);
    let state = AppState {
        operation_log,
        idempotency,
        stopping,
        optional_workers,
        leadership: leadership.clone(),
        database: engine.database.clone(),
        bus: engine.bus.clone(),
        log: engine.log.clone(),
        task_board: task_board.clone(),
        seat_calendar,
        audit_log,
        interview_records,
        loan_lineage,
        channels,
        call_queue,
        admin_catalog,
        operations,
        partners,
        partner_process,
        partner_directory: settings.partners.clone(),
        partner_timestamp_window: settings.partner_timestamp_window,
        scheduling,
        quality,
        loan_flow,
        keys: api::auth::JwtKeys::new(&settings.jwt_secret)
            .with_max_lifetime(settings.token_max_lifetime.as_secs()),
        metrics: engine.metrics.clone(),
        config: ApiConfig {
            read_your_writes_timeout: settings.read_your_writes_timeout,
            introspection: settings.introspection,
            rate_limit_per_second: settings.rate_limit_per_second,
            rate_limit_burst: settings.rate_limit_burst,
            query_limits: settings.query_limits,
            request_deadline: settings.request_deadline,
            ..ApiConfig::default()
        },
    };
    let listener = tokio::net::TcpListener::bind(&settings.bind)
        .await
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    let addr = listener.local_addr()?;
    let mut stop = shutdown_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            api::router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|stop| *stop).await;
        })
        .await
    });
    info!(%addr, backend = engine.database.backend().as_str(), "facesign listening; GraphiQL at http://{addr}/graphql");
    Ok(RunningServer {
        addr,
        task_board,
        shutdown,
        shutdown_grace: settings.shutdown_grace,
        cancel_requests,
        stop_operation_log,
        server,
        workers,
        database: engine.database,
        _instance_lock: instance_lock,
    })
}

/// Deletes idempotency keys past their retention, at start and every ten
/// minutes (every instance may: the deletes are idempotent).
async fn purge_idempotency_keys(
    store: adapters::idempotency::IdempotencyStore,
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
