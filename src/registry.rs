//! The one list of log consumers: every read model, flow and relay this
//! engine runs, built in [`consumers`]. `serve` starts and leads them,
//! `replay` rebuilds and `replay --verify` compares the read models, and the
//! API's readiness, metrics and wait policy iterate their handles. Adding a
//! read model is its module in `projections` and one line below.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use adapters::flows::{FlowRunner, QueueReader};
use adapters::GlobalLog;
use anyhow::Context as _;
use domain::flows::dispatch::DispatchFlow;
use domain::flows::loan::LoanFlow;
use domain::flows::partner::PartnerFlow;
use domain::flows::quality::QualityFlow;
use domain::flows::scheduling::SchedulingFlow;
use domain::flows::Flow;
use domain::log::LogPosition;
use projections::{
    call_queue, seat_calendar, AdminCatalog, AuditLog, CallQueue, Channels, Consumer, ConsumerKind,
    Consumers, InterviewRecords, LoanLedger, LoanLineage, Partners, Projection, ProjectionHandle,
    ProjectionRunner, SeatCalendar, TaskBoard,
};
use tokio::sync::watch;

use crate::Engine;

/// A boxed future, so workers of different types share one list.
pub type Work<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A worker over the global log, whatever it does with the events.
pub trait LogWorker: Send + Sync {
    /// Its progress.
    fn handle(&self) -> ProjectionHandle;
    /// Handles everything after its checkpoint; returns how many events.
    fn catch_up(&self) -> Work<'_, anyhow::Result<usize>>;
    /// Runs until `stop`, woken by `commits` or every `poll`.
    fn run(
        &self,
        commits: watch::Receiver<LogPosition>,
        poll: Duration,
        stop: watch::Receiver<bool>,
    ) -> Work<'_, ()>;
    /// Empties its tables and re-derives them from position 0 (read models only).
    fn rebuild(&self) -> Option<Work<'_, anyhow::Result<usize>>> {
        None
    }
    /// Rebuilds it aside and compares with the live tables: the difference,
    /// if any (read models only).
    fn verify<'a>(
        &'a self,
        _engine: &'a Engine,
    ) -> Option<Work<'a, anyhow::Result<Option<String>>>> {
        None
    }
}

impl<P: Projection + Default> LogWorker for ProjectionRunner<P, GlobalLog> {
    fn handle(&self) -> ProjectionHandle {
        ProjectionRunner::handle(self)
    }

    fn catch_up(&self) -> Work<'_, anyhow::Result<usize>> {
        Box::pin(async move { Ok(ProjectionRunner::catch_up(self).await?) })
    }

    fn run(
        &self,
        commits: watch::Receiver<LogPosition>,
        poll: Duration,
        stop: watch::Receiver<bool>,
    ) -> Work<'_, ()> {
        Box::pin(ProjectionRunner::run(self, commits, poll, stop))
    }

    fn rebuild(&self) -> Option<Work<'_, anyhow::Result<usize>>> {
        Some(Box::pin(async move {
            Ok(ProjectionRunner::rebuild(self).await?)
        }))
    }

    fn verify<'a>(
        &'a self,
        engine: &'a Engine,
    ) -> Option<Work<'a, anyhow::Result<Option<String>>>> {
        Some(Box::pin(crate::verify::verify_read_model::<P>(engine)))
    }
}

impl<F: Flow> LogWorker for FlowRunner<F> {
    fn handle(&self) -> ProjectionHandle {
        FlowRunner::handle(self)
    }

    fn catch_up(&self) -> Work<'_, anyhow::Result<usize>> {
        Box::pin(FlowRunner::catch_up(self))
    }

    fn run(
        &self,
        commits: watch::Receiver<LogPosition>,
        poll: Duration,
        stop: watch::Receiver<bool>,
    ) -> Work<'_, ()> {
        Box::pin(FlowRunner::run(self, commits, poll, stop))
    }
}

impl LogWorker for adapters::kafka::relay::Relay {
    fn handle(&self) -> ProjectionHandle {
        adapters::kafka::relay::Relay::handle(self)
    }

    fn catch_up(&self) -> Work<'_, anyhow::Result<usize>> {
        Box::pin(adapters::kafka::relay::Relay::catch_up(self))
    }

    fn run(
        &self,
        commits: watch::Receiver<LogPosition>,
        poll: Duration,
        stop: watch::Receiver<bool>,
    ) -> Work<'_, ()> {
        Box::pin(adapters::kafka::relay::Relay::run(
            self, commits, poll, stop,
        ))
    }
}

/// One consumer of the log: what it is and the worker that runs it.
#[derive(Clone)]
pub struct Entry {
    /// Its name (checkpoint row, worker lock, `replay --projection`).
    pub name: &'static str,
    /// What it does.
    pub kind: ConsumerKind,
    /// The tables it owns (read models).
    pub tables: &'static [&'static str],
    /// Whether mutations wait for it before answering.
    pub awaited: bool,
    /// The worker.
    pub worker: Arc<dyn LogWorker>,
}

impl Entry {
    fn read_model<P: Projection + Default>(engine: &Engine, projection: P) -> Self {
        let tables = projection.tables();
        Self::of(
            ConsumerKind::ReadModel,
            tables,
            true,
            engine.projection_runner(projection),
        )
    }

    fn flow<F: Flow>(runner: FlowRunner<F>) -> Self {
        Self::of(ConsumerKind::Flow, &[], true, runner)
    }

    fn of(
        kind: ConsumerKind,
        tables: &'static [&'static str],
        awaited: bool,
        worker: impl LogWorker + 'static,
    ) -> Self {
        Self {
            name: worker.handle().name(),
            kind,
            tables,
            awaited,
            worker: Arc::new(worker),
        }
    }

    /// What the API sees of it.
    pub fn consumer(&self) -> Consumer {
        Consumer {
            name: self.name,
            kind: self.kind,
            tables: self.tables,
            awaited: self.awaited,
            handle: self.worker.handle(),
        }
    }
}

/// Every consumer of the log this engine runs, read models first.
pub fn consumers(engine: &Engine) -> anyhow::Result<Vec<Entry>> {
    let settings = &engine.settings;
    let mut entries = vec![
        Entry::read_model(engine, TaskBoard),
        Entry::read_model(engine, SeatCalendar),
        Entry::read_model(engine, AuditLog),
        Entry::read_model(engine, InterviewRecords),
        Entry::read_model(engine, LoanLineage),
        Entry::read_model(engine, LoanLedger),
        Entry::read_model(engine, Channels),
        Entry::read_model(engine, CallQueue),
        Entry::read_model(engine, AdminCatalog),
        Entry::read_model(engine, Partners),
    ];
    // Dispatch decides on the queue it changes, so it reads the queue once
    // those read models have applied its own earlier commands.
    let queue = QueueReader {
        read_models: handles_of(&entries, &[call_queue::NAME, seat_calendar::NAME]),
        timeout: Duration::from_secs(10),
    };
    entries.extend([
        Entry::flow(engine.flow_runner(
            SchedulingFlow {
                reminder_lead: settings.reminder_lead,
            },
            "scheduler",
        )),
        Entry::flow(engine.flow_runner(QualityFlow, "quality-control")),
        Entry::flow(engine.flow_runner(LoanFlow, "loan-flow")),
        Entry::flow(
            engine
                .flow_runner(DispatchFlow::new(settings.operations), "dispatcher")
                .with_queue(queue),
        ),
        Entry::flow(engine.flow_runner(
            PartnerFlow {
                callback_urls: settings.partners.callback_urls(),
                max_attempts: settings.callback_max_attempts,
                account_check_after: settings.account_check_after,
            },
            "partner-process",
        )),
    ]);
    if let Some(kafka) = &settings.kafka {
        let relay = adapters::kafka::relay::Relay::new(
            kafka,
            engine.database.read_models().clone(),
            engine.log.clone(),
            engine.metrics.clone(),
        )
        .context("cannot configure the Kafka relay")?;
        entries.push(Entry::of(ConsumerKind::Relay, &[], false, relay));
    }
    Ok(entries)
}

/// The handles of the consumers named `names`.
fn handles_of(entries: &[Entry], names: &[&str]) -> Vec<ProjectionHandle> {
    entries
        .iter()
        .filter(|e| names.contains(&e.name))
        .map(|e| e.worker.handle())
        .collect()
}

/// What the API sees of `entries`.
pub fn handles(entries: &[Entry]) -> Consumers {
    Consumers::new(entries.iter().map(Entry::consumer).collect())
}
