//! The one list of log consumers: every read model, flow and relay this
//! engine runs, built in [`consumers`]. `serve` starts and leads them,
//! `replay` rebuilds and `replay --verify` compares the read models, and the
//! API's readiness, metrics and wait policy iterate their handles. Adding a
//! read model is its module in `projections` and one line below.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use domain::flows::dispatch::DispatchFlow;
use domain::flows::loan::LoanFlow;
use domain::flows::partner::PartnerFlow;
use domain::flows::quality::QualityFlow;
use domain::flows::scheduling::SchedulingFlow;
use domain::flows::Flow;
use projections::{
    call_queue, seat_calendar, AdminCatalog, AuditLog, CallQueue, Channels, Consumer, ConsumerKind,
    Consumers, InterviewRecords, LoanLedger, LoanLineage, Partners, Projection, SeatCalendar,
    TaskBoard,
};
use store::{LogWorker, Work, WorkerHandle};
use workers::flows::{FlowRunner, QueueReader};

use crate::Engine;

/// Rebuilds a read model aside and compares it with the live tables: the
/// difference, if any (`replay --verify`).
pub type Verify = for<'a> fn(&'a Engine) -> Work<'a, anyhow::Result<Option<String>>>;

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
    /// How `replay --verify` checks it (read models only).
    pub verify: Option<Verify>,
}

impl Entry {
    fn read_model<P: Projection + Default>(engine: &Engine, projection: P) -> Self {
        let tables = projection.tables();
        Self {
            verify: Some(|engine| Box::pin(crate::verify::verify_read_model::<P>(engine))),
            ..Self::of(
                ConsumerKind::ReadModel,
                tables,
                true,
                engine.projection_runner(projection),
            )
        }
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
            verify: None,
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
        source: engine.read_models(),
    };
    entries.extend([
        Entry::flow(engine.flow_runner(SchedulingFlow {
            reminder_lead: settings.reminder_lead,
        })),
        Entry::flow(engine.flow_runner(QualityFlow)),
        Entry::flow(engine.flow_runner(LoanFlow)),
        Entry::flow(
            engine
                .flow_runner(DispatchFlow::new(settings.operations))
                .with_queue(queue),
        ),
        Entry::flow(engine.flow_runner(PartnerFlow {
            callback_urls: settings.partners.callback_urls(),
            max_attempts: settings.callback_max_attempts,
            account_check_after: settings.account_check_after,
        })),
    ]);
    if let Some(kafka) = &settings.kafka {
        let relay = workers::kafka::relay::Relay::new(
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
fn handles_of(entries: &[Entry], names: &[&str]) -> Vec<WorkerHandle> {
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
