//! The one executor of every flow (domain::flows): it reads the log from the
//! flow's durable checkpoint, loads the facts the flow asks for, lets the flow
//! decide, and performs the effects — commands through the bus (within the
//! causing event's correlation, on behalf of the person who started it),
//! texts through the outbox, timers into the timer table — then advances the
//! checkpoint (for events that needed nothing, once per batch). Delivery is at least once: every effect is idempotent (ids and
//! keys derived from the causing event). A refused command is logged with its
//! code (and counted in `facesign_flow_refusals_total`); anything else fails the
//! event, which is tried again from the checkpoint.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::flows::dispatch::{QueueSnapshot, SeatState, WaitingCall};
use domain::flows::{Effect, Facts, Flow, FlowEvent, History, Need, OnRefusal, Order, Refusal};
use domain::log::{EventLogReader, LogPosition, StoredEvent};
use domain::schedule::shanghai_day_start;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use projections::call_queue::CallQueue;
use projections::runner::{catch_up_to_known, publish_status, run_until_shutdown, Cursor};
use projections::seat_calendar::SeatCalendar;
use projections::{ProjectionError, ProjectionHandle, ProjectionStatus};
use sqlx::AnyPool;
use tokio::sync::watch;
use tracing::{info, warn, Instrument};

use crate::metrics::{labels, Metrics};
use crate::sms::{SmsMessage, SmsOutbox};
use crate::timers::schedule_job;
use crate::{CommandBus, CommandContext, CommandError, GlobalLog};

/// How many waiting calls one dispatch round looks at.
const ROUND: i64 = 500;

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
    pub read_models: Vec<ProjectionHandle>,
    /// How long to wait for them.
    pub timeout: Duration,
}

/// Why one command of a flow did not go through.
enum Failure {
    Refused(Refusal),
    Error(anyhow::Error),
}

fn outcome<E: domain::error::DomainError>(
    result: Result<crate::CommandReceipt, CommandError<E>>,
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
    actor: &'static str,
    bus: Arc<CommandBus>,
    pool: AnyPool,
    log: GlobalLog,
    sms: SmsOutbox,
    queue: Option<QueueReader>,
    metrics: Arc<Metrics>,
    batch_size: u32,
    cursor: Cursor,
    status: watch::Sender<ProjectionStatus>,
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
    /// A runner of `flow`, whose commands name `actor` (e.g. `scheduler`).
    pub fn new(flow: F, actor: &'static str, parts: FlowParts) -> Self {
        let cursor = Cursor::new(flow.name());
        Self {
            flow: Arc::new(flow),
            actor,
            bus: parts.bus,
            pool: parts.pool,
            log: parts.log,
            sms: parts.sms,
            queue: None,
            metrics: parts.metrics,
            batch_size: parts.batch_size.max(1),
            cursor,
            status: watch::channel(ProjectionStatus::default()).0,
        }
    }

    /// The same runner, reading the queue through `queue` when the flow needs it.
    pub fn with_queue(mut self, queue: QueueReader) -> Self {
        self.queue = Some(queue);
        self
    }

    /// Progress of this flow, for waiters, `/readyz` and `/metrics`.
    pub fn handle(&self) -> ProjectionHandle {
        ProjectionHandle::new(
            self.flow.name(),
            self.status.clone(),
            tokio::sync::broadcast::channel(1).0,
        )
    }

    /// Handles every event after the checkpoint, advancing it after each one.
    pub async fn catch_up(&self) -> anyhow::Result<usize> {
        self.catch_up_unless(&watch::channel(false).1).await
    }

    /// Like [`Self::catch_up`], but returns between events once `stop` is set.
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
                let acted = self.handle_event(event).await?;
                seen_applied += 1;
                handled += 1;
                if acted {
                    let mut conn = self.pool.acquire().await?;
                    match self
                        .cursor
                        .write(&mut conn, event.position, seen_applied)
                        .await
                    {
                        Ok(()) => self.cursor.written(event.position, seen_applied),
                        // Another runner took over; start again from its checkpoint.
                        Err(ProjectionError::CheckpointMoved(_)) => break,
                        Err(e) => return Err(e.into()),
                    }
                } else {
                    self.cursor.pass(event.position, seen_applied);
                }
                publish_status(&self.status, event.position, seen_applied, None);
            }
        }
    }

    pub async fn run(
        &self,
        commits: watch::Receiver<LogPosition>,
        poll_interval: Duration,
        shutdown: watch::Receiver<bool>,
    ) {
        let stop = shutdown.clone();
        let known = commits.clone();
        run_until_shutdown(
            self.flow.name(),
            || {
                async {
                    catch_up_to_known(&self.cursor, &known, poll_interval, &stop, || {
                        self.catch_up_unless(&stop)
                    })
                    .await?;
                    self.cursor.flush(&self.pool, false).await?;
                    anyhow::Ok(())
                }
                .map(|r| r.map_err(|e| format!("{e:#}")))
            },
            commits,
            poll_interval,
            shutdown,
        )
        .await;
        if let Err(e) = self.cursor.flush(&self.pool, true).await {
            warn!(flow = self.flow.name(), error = %e, "cannot save the checkpoint at shutdown; the events after it will be read again");
        }
    }

    async fn handle_event(&self, stored: &StoredEvent) -> anyhow::Result<bool> {
        let event = FlowEvent::decode(stored)?;
        let needs = self.flow.needs(&event);
        let facts = self.load(&needs).await?;
        let effects = self.flow.react(&event, &facts);
        if effects.is_empty() {
            return Ok(false);
        }
        let context = caused_by(stored, self.actor);
        let mut history = History::default();
        // The commands it sends continue the trace of the event they answer.
        let span = tracing::info_span!(
            "flow_event",
            flow = self.flow.name(),
            event_type = %stored.event_type,
            position = %stored.position
        );
        crate::trace::continue_trace(&span, stored.metadata.traceparent.as_deref());
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
                        self.sms
                            .send(&SmsMessage {
                                dedup_key: text.dedup_key,
                                task_id: text.subject_id,
                                phone: text.phone,
                                template: text.template,
                                body: text.body,
                                sender: text.sender,
                            })
                            .await?;
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
        let pool = &self.pool;
        let seats = SeatCalendar::seats(pool).await?;
        let groups = CallQueue::groups(pool).await?;
        let loads = CallQueue::answered_since(pool, shanghai_day_start(now)).await?;
        let (rule, _) = self
            .bus
            .load::<domain::inbound_call::DispatchRule>(domain::inbound_call::dispatch::RULE_ID)
            .await?;
        let mut states = Vec::with_capacity(seats.len());
        for seat in &seats {
            let offer_live = match &seat.offered_call {
                None => false,
                Some(call_id) => CallQueue::call(pool, call_id).await?.is_some_and(|c| {
                    c.status == "QUEUED"
                        || (c.status == "DISPATCHED" && c.seat_no.as_deref() == Some(&seat.seat_no))
                }),
            };
            let mut skills = seat.skill_list();
            let mut grouped = false;
            let seat_groups: Vec<String> =
                serde_json::from_str(&seat.seat_groups).unwrap_or_default();
            for group in &groups {
                if group.seat_list().contains(&seat.seat_no)
                    || seat_groups.contains(&group.group_code)
                {
                    skills.extend(group.skill_list());
                    grouped = true;
                }
            }
            let load = loads.iter().find(|l| l.seat_no == seat.seat_no);
            states.push(SeatState {
                seat_no: seat.seat_no.clone(),
                idle: seat.enabled == 1
                    && seat.signed_in == 1
                    && seat.presence == domain::wire_name(&domain::seat::Presence::Idle),
                offered_call: seat.offered_call.as_deref().and_then(|c| c.parse().ok()),
                offer_live,
                skills,
                answered_today: load.map_or(0, |l| l.answered as u32),
                last_answered_at: load
                    .and_then(|l| DateTime::parse_from_rfc3339(&l.last_answered_at).ok())
                    .map(|t| t.with_timezone(&Utc)),
                grouped,
            });
        }
        let mut waiting = Vec::new();
        let mut seen = HashSet::new();
        for call in CallQueue::in_status(pool, "QUEUED", ROUND).await? {
            if !seen.insert(call.call_id.clone()) {
                continue;
            }
            let mut familiar_seats = CallQueue::familiar_seats(pool, &call.customer_key).await?;
            // 004 3.6: 熟客优先…优先分配给创建/已处理过该任务的坐席 — the seat that
            // created the work order is familiar too.
            if let Some(order) = projections::AdminCatalog::work_order(pool, &call.task_id).await? {
                if !familiar_seats.contains(&order.created_by) {
                    familiar_seats.push(order.created_by);
                }
            }
            waiting.push(WaitingCall {
                call_id: call.call_id.parse()?,
                call: call.queued_call(),
                familiar_seats,
                unanswered: u32::try_from(call.unanswered_offers).unwrap_or(u32::MAX),
            });
        }
        Ok(QueueSnapshot {
            seats: states,
            waiting,
            rule: rule.idle_seat_rule(),
            groups_required: !groups.is_empty() && !rule.ungrouped_seats_answer(),
        })
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
