//! The one executor of every flow (domain::flows): it reads the log from the
//! flow's durable checkpoint, loads the facts the flow asks for, lets the flow
//! decide, and performs the effects — commands through the bus (within the
//! causing event's correlation, on behalf of the person who started it),
//! texts through the outbox, timers into the timer table — then advances the
//! checkpoint (for events that needed nothing, once per batch). Delivery is at least once: every effect is idempotent (ids and
//! keys derived from the causing event). A refused command is logged with its
//! code (and counted in `facesign_flow_refusals_total`); anything else fails the
//! event, which is tried again from the checkpoint.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::flows::dispatch::QueueSnapshot;
use domain::flows::{Effect, Facts, Flow, FlowEvent, History, Need, OnRefusal, Order, Refusal};
use domain::log::{EventLogReader, LogPosition, StoredEvent};
use futures_util::future::BoxFuture;
use sqlx::AnyPool;
use store::parked;
use store::worker::{
    bad_event, publish_status, run_over_log, Cursor, LogLoop, LogWorker, Work, WorkerError,
    WorkerHandle, WorkerStatus,
};
use tokio::sync::watch;
use tracing::{info, warn, Instrument};

use crate::sms::{SmsMessage, SmsOutbox};
use crate::timers::schedule_job;
use store::metrics::{labels, Metrics};
use store::{CommandBus, CommandContext, CommandError, GlobalLog};

/// How deep recoveries may nest for one event (each excludes what failed).
const MAX_RECOVERIES: usize = 64;

/// The context of a command a flow sends because of `event`: the engine acts
/// (as `actor`), within the event's correlation, caused by the event, on
/// behalf of the person who started the flow.
pub fn caused_by(event: &StoredEvent, actor: &str) -> CommandContext {
    CommandContext {
        actor: domain::log::Actor::system(actor),
        correlation_id: event.metadata.correlation_id.clone(),
        causation_id: event.metadata.event_id.to_string(),
        request_id: event.metadata.request_id.clone(),
        idempotency: None,
        on_behalf_of: event.metadata.originator(),
    }
}

/// What a flow's queue facts are read through: the read models it must wait
/// for, so decisions see the effects of the flow's own earlier commands.
#[derive(Clone)]
pub struct QueueReader {
    /// The call queue and seat calendar projections.
    pub read_models: Vec<WorkerHandle>,
    /// How long to wait for them.
    pub timeout: Duration,
    /// The queries over them.
    pub source: Arc<dyn crate::ReadModels>,
}

/// Why one command of a flow did not go through.
enum Failure {
    Refused(Refusal),
    Error(anyhow::Error),
}

fn outcome<E: domain::error::DomainError>(
    result: Result<store::CommandReceipt, CommandError<E>>,
) -> Result<(), Failure> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.is_refusal() => Err(Failure::Refused(Refusal {
            code: e.code(),
            message: e.to_string(),
        })),
        Err(e) => Err(Failure::Error(anyhow::anyhow!("{e}"))),
    }
}

/// Runs one flow over the log.
pub struct FlowRunner<F> {
    flow: Arc<F>,
    bus: Arc<CommandBus>,
    pool: AnyPool,
    log: GlobalLog,
    sms: SmsOutbox,
    queue: Option<QueueReader>,
    metrics: Arc<Metrics>,
    batch_size: u32,
    cursor: Cursor,
    status: watch::Sender<WorkerStatus>,
}

/// What a flow runner is built from.
pub struct FlowParts {
    /// The command bus.
    pub bus: Arc<CommandBus>,
    /// Checkpoints, timers and read models.
    pub pool: AnyPool,
    /// The log.
    pub log: GlobalLog,
    /// The SMS outbox.
    pub sms: SmsOutbox,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Events per batch.
    pub batch_size: u32,
}

impl<F: Flow> FlowRunner<F> {
    /// A runner of `flow`; its commands name the flow (e.g. `scheduling_flow`)
    /// as their actor, as its checkpoint, lock and metrics do.
    pub fn new(flow: F, parts: FlowParts) -> Self {
        let cursor = Cursor::new(flow.name());
        Self {
            flow: Arc::new(flow),
            bus: parts.bus,
            pool: parts.pool,
            log: parts.log,
            sms: parts.sms,
            queue: None,
            metrics: parts.metrics,
            batch_size: parts.batch_size.max(1),
            cursor,
            status: watch::channel(WorkerStatus::default()).0,
        }
    }

    /// The same runner, reading the queue through `queue` when the flow needs it.
    pub fn with_queue(mut self, queue: QueueReader) -> Self {
        self.queue = Some(queue);
        self
    }

    /// Handles every event after the checkpoint (advancing it after each one
    /// that acted), returning between events once `stop` is set.
    pub async fn catch_up_unless(&self, stop: &watch::Receiver<bool>) -> anyhow::Result<usize> {
        let mut handled = 0;
        loop {
            let (from, applied) = self.cursor.place(&self.pool).await?;
            let events = self.log.read_after(from, self.batch_size).await?;
            if events.is_empty() {
                publish_status(&self.status, from, applied, None);
                return Ok(handled);
            }
            // Events the flow has nothing to do for move the cursor in memory
            // only (written later, see `Cursor`); one that acted is written at
            // once, so a crash does not perform its effects again.
            let mut seen_applied = applied;
            for event in &events {
                if *stop.borrow() {
                    return Ok(handled);
                }
                seen_applied += 1;
                handled += 1;
                let Some(acted) = self.handle_or_park(event, seen_applied).await? else {
                    publish_status(&self.status, event.position, seen_applied, None);
                    continue;
                };
                if acted {
                    let mut conn = self.pool.acquire().await?;
                    match self
                        .cursor
                        .write(&mut conn, event.position, seen_applied)
                        .await
                    {
                        Ok(()) => self.cursor.written(event.position, seen_applied),
                        // Another runner took over; start again from its checkpoint.
                        Err(WorkerError::CheckpointMoved(_)) => break,
                        Err(e) => return Err(e.into()),
                    }
                } else {
                    self.cursor.pass(event.position, seen_applied);
                }
                publish_status(&self.status, event.position, seen_applied, None);
            }
        }
    }

    /// Handles `event`; one the flow cannot read is tried again with a
    /// growing pause, then parked (see `store::parked`) with the checkpoint
    /// moved past it: None.
    async fn handle_or_park(
        &self,
        event: &StoredEvent,
        applied: i64,
    ) -> anyhow::Result<Option<bool>> {
        let mut attempt = 1;
        loop {
            match self.handle_event(event).await {
                Ok(acted) => return Ok(Some(acted)),
                Err(e)
                    if parked::is_poison(&e)
                        && parked::known(event)
                        && attempt < parked::ATTEMPTS =>
                {
                    tokio::time::sleep(parked::pause_after(attempt)).await;
                    attempt += 1;
                }
                Err(e) if parked::is_poison(&e) && parked::known(event) => {
                    self.cursor
                        .park_past(&self.pool, event, &format!("{e:#}"), attempt, applied)
                        .await?;
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn handle_event(&self, stored: &StoredEvent) -> anyhow::Result<bool> {
        let event = FlowEvent::decode(stored).map_err(|e| bad_event(stored, e))?;
        let needs = self.flow.needs(&event);
        let facts = self.load(&needs).await?;
        let effects = self.flow.react(&event, &facts);
        if effects.is_empty() {
            return Ok(false);
        }
        let context = caused_by(stored, self.flow.name());
        let mut history = History::default();
        // The commands it sends continue the trace of the event they answer.
        let span = tracing::info_span!(
            "flow_event",
            flow = self.flow.name(),
            event_type = %stored.event_type,
            position = %stored.position
        );
        store::trace::continue_trace(&span, stored.metadata.traceparent.as_deref());
        self.perform(&event, &facts, effects, &context, &mut history, 0)
            .instrument(span)
            .await?;
        Ok(true)
    }

    /// Performs `effects` in order; a refused `Recover` step stops them and
    /// performs what the flow answers instead.
    fn perform<'a>(
        &'a self,
        event: &'a FlowEvent,
        facts: &'a Facts,
        effects: Vec<Effect>,
        context: &'a CommandContext,
        history: &'a mut History,
        depth: usize,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            for effect in effects {
                match effect {
                    Effect::Send(order, on_refusal) => match self.send(&order, context).await {
                        Ok(()) => history.done.push(order),
                        Err(Failure::Error(e)) => return Err(e),
                        Err(Failure::Refused(refusal)) => {
                            self.metrics.increment(
                                "facesign_flow_refusals_total",
                                "Commands of flows refused by their aggregates (tolerated or recovered from), by flow and code.",
                                labels(&[("flow", self.flow.name()), ("code", refusal.code.as_str())]),
                                1,
                            );
                            info!(
                                flow = self.flow.name(),
                                code = %refusal.code,
                                refusal = %refusal.message,
                                command = order_name(&order),
                                "a flow's command was refused",
                            );
                            if on_refusal == OnRefusal::Recover {
                                history.refused.push(order.clone());
                                if depth >= MAX_RECOVERIES {
                                    anyhow::bail!(
                                        "{}: too many recoveries for one event",
                                        self.flow.name()
                                    );
                                }
                                let instead =
                                    self.flow.recover(event, facts, &order, &refusal, history);
                                return self
                                    .perform(event, facts, instead, context, history, depth + 1)
                                    .await;
                            }
                        }
                    },
                    Effect::Text(text) => {
                        self.sms.send(&SmsMessage::from(text)).await?;
                    }
                    Effect::Timer(timer) => {
                        schedule_job(
                            &self.pool,
                            timer.kind,
                            &timer.subject_id,
                            &timer.key,
                            timer.due,
                            facts.now,
                        )
                        .await?;
                    }
                    Effect::Warn(message) => warn!(flow = self.flow.name(), "{message}"),
                }
            }
            Ok(())
        })
    }

    async fn send(&self, order: &Order, context: &CommandContext) -> Result<(), Failure> {
        use domain::callback::Callback;
        use domain::customer_agenda::CustomerAgenda;
        use domain::inbound_call::InboundCall;
        use domain::interview_task::InterviewTask;
        use domain::loan_application::LoanApplication;
        use domain::qc_case::QcCase;
        use domain::seat::Seat;
        use domain::work_order::WorkOrder;
        let bus = &self.bus;
        match order.clone() {
            Order::Task(id, c) => outcome(bus.execute::<InterviewTask>(&id, c, context).await),
            Order::Seat(id, c) => outcome(bus.execute::<Seat>(&id, c, context).await),
            Order::Agenda(id, c) => outcome(bus.execute::<CustomerAgenda>(&id, c, context).await),
            Order::QcCase(id, c) => outcome(bus.execute::<QcCase>(&id, c, context).await),
            Order::Loan(id, c) => outcome(bus.execute::<LoanApplication>(&id, c, context).await),
            Order::Call(id, c) => outcome(bus.execute::<InboundCall>(&id, c, context).await),
            Order::WorkOrder(id, c) => outcome(bus.execute::<WorkOrder>(&id, c, context).await),
            Order::Callback(id, c) => outcome(bus.execute::<Callback>(&id, c, context).await),
        }
    }

    async fn load(&self, needs: &[Need]) -> anyhow::Result<Facts> {
        let mut facts = Facts {
            now: self.bus.services().clock.now(),
            ..Facts::default()
        };
        for need in needs {
            match need {
                Need::Task(id) => {
                    facts.tasks.insert(id.clone(), self.bus.load(id).await?.0);
                }
                Need::Loan(id) => {
                    facts.loans.insert(id.clone(), self.bus.load(id).await?.0);
                }
                Need::Call(id) => {
                    let (call, _) = self
                        .bus
                        .load::<domain::inbound_call::InboundCall>(id)
                        .await?;
                    let record = call.call().task_id.clone();
                    let (order, _) = self
                        .bus
                        .load::<domain::work_order::WorkOrder>(&record)
                        .await?;
                    facts.work_orders.insert(record, order);
                    facts.calls.insert(id.clone(), call);
                }
                Need::WorkOrder(id) => {
                    facts
                        .work_orders
                        .insert(id.clone(), self.bus.load(id).await?.0);
                }
                Need::PartnerOrder(id) => {
                    facts
                        .partner_orders
                        .insert(id.clone(), self.bus.load(id).await?.0);
                }
                Need::Callback(id) => {
                    facts
                        .callbacks
                        .insert(id.clone(), self.bus.load(id).await?.0);
                }
                Need::Queue => facts.queue = Some(self.queue_snapshot(facts.now).await?),
            }
        }
        Ok(facts)
    }

    /// The queue and the seats, once the read models reflect everything committed.
    async fn queue_snapshot(&self, now: DateTime<Utc>) -> anyhow::Result<QueueSnapshot> {
        let reader = self.queue.as_ref().ok_or_else(|| {
            anyhow::anyhow!("{} needs the queue but has no reader", self.flow.name())
        })?;
        let head = self.log.latest_committed().await?;
        for handle in &reader.read_models {
            if !handle.wait_for(head, reader.timeout).await {
                anyhow::bail!(
                    "read model {} did not reach the log head in time",
                    handle.name()
                );
            }
        }
        let (rule, _) = self
            .bus
            .load::<domain::inbound_call::DispatchRule>(domain::inbound_call::dispatch::RULE_ID)
            .await?;
        reader.source.dispatch_queue(now, &rule).await
    }
}

fn order_name(order: &Order) -> String {
    match order {
        Order::Task(id, c) => format!("interview-task {id}: {c:?}"),
        Order::Seat(id, c) => format!("seat {id}: {c:?}"),
        Order::Agenda(id, c) => format!("customer-agenda {id}: {c:?}"),
        Order::QcCase(id, c) => format!("qc-case {id}: {c:?}"),
        Order::Loan(id, c) => format!("loan-application {id}: {c:?}"),
        Order::Call(id, c) => format!("inbound-call {id}: {c:?}"),
        Order::WorkOrder(id, c) => format!("work-order {id}: {c:?}"),
        Order::Callback(id, c) => format!("callback {id}: {c:?}"),
    }
    .chars()
    .take(300)
    .collect()
}

impl<F: Flow> LogWorker for FlowRunner<F> {
    fn handle(&self) -> WorkerHandle {
        WorkerHandle::of_status(self.flow.name(), self.status.clone())
    }

    fn catch_up(&self) -> Work<'_, anyhow::Result<usize>> {
        Box::pin(async move { self.catch_up_unless(&watch::channel(false).1).await })
    }

    fn run(
        &self,
        commits: watch::Receiver<LogPosition>,
        poll: Duration,
        shutdown: watch::Receiver<bool>,
    ) -> Work<'_, ()> {
        Box::pin(async move {
            let stop = shutdown.clone();
            let worker = LogLoop {
                name: self.flow.name(),
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

    /// A flow's effects are idempotent (keyed by the causing event), so the
    /// event is handled first and marked retried after.
    fn retry_parked<'a>(
        &'a self,
        event: &'a StoredEvent,
        decision: parked::Decision<'a>,
    ) -> Work<'a, anyhow::Result<()>> {
        Box::pin(async move {
            self.handle_event(event).await?;
            parked::resolve(&self.pool, decision).await?;
            Ok(())
        })
    }
}
