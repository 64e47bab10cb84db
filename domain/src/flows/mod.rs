//! Process managers as pure decisions: how one aggregate's events set others
//! going (DESIGN.md, process managers). Each flow reads an event and the facts
//! it asked for and answers with effects — commands to aggregates, texts,
//! timers — without I/O; one executor (workers::flows) loads the facts, runs
//! the effects, records its progress and logs every refusal it tolerates.
//!
//! A command a flow sends may be refused by its aggregate. `OnRefusal::Tolerate`
//! means the step was already taken (a redelivered event) or no longer
//! applies; `OnRefusal::Recover` stops the remaining effects and asks the flow
//! what to do instead (`Flow::recover`), e.g. release what a booking took.

pub mod dispatch;
pub mod loan;
pub mod partner;
pub mod quality;
pub mod scheduling;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::callback::{Callback, CallbackCommand, CallbackEvent};
use crate::customer_agenda::AgendaCommand;
use crate::error::ErrorCode;
use crate::inbound_call::{InboundCall, InboundCallCommand, InboundCallEvent};
use crate::interview_task::{InterviewTask, InterviewTaskCommand, InterviewTaskEvent};
use crate::loan_application::{LoanApplication, LoanCommand, LoanEvent};
use crate::log::{Actor, StoredEvent};
use crate::partner_order::{PartnerOrder, PartnerOrderEvent};
use crate::qc_case::{QcCaseCommand, QcCaseEvent};
use crate::seat::{SeatCommand, SeatEvent};
use crate::work_order::{WorkOrder, WorkOrderCommand, WorkOrderEvent};

/// A command to one aggregate instance.
#[derive(Debug, Clone, PartialEq)]
pub enum Order {
    /// To an interview task.
    Task(String, InterviewTaskCommand),
    /// To a seat.
    Seat(String, SeatCommand),
    /// To a customer's agenda.
    Agenda(String, AgendaCommand),
    /// To a quality-control case.
    QcCase(String, QcCaseCommand),
    /// To a loan application.
    Loan(String, LoanCommand),
    /// To an inbound call.
    Call(String, InboundCallCommand),
    /// To a work order.
    WorkOrder(String, WorkOrderCommand),
    /// To an outbound callback.
    Callback(String, CallbackCommand),
}

/// What to do when the aggregate refuses a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRefusal {
    /// Log it and go on.
    Tolerate,
    /// Stop the remaining effects and ask the flow (`Flow::recover`).
    Recover,
}

/// A text message for the outbox (sent once per `dedup_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// Sent at most once per key.
    pub dedup_key: String,
    /// The task or work order it is about.
    pub subject_id: String,
    /// Recipient.
    pub phone: String,
    /// Template name.
    pub template: String,
    /// The text.
    pub body: String,
    /// The partner platform whose customer it goes to (002 短信签名配置): its
    /// signature signs the text instead of the bank's; None for the bank's own.
    pub sender: Option<String>,
}

/// What a durable timer does when due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// Expire the appointment when its window has passed.
    Expiry,
    /// Text the participants before the window opens.
    Reminder,
    /// Attempt an outbound callback (subject: the callback id).
    CallbackAttempt,
    /// 002 item 13: make a deferred borrow once the 新网 account is open
    /// (subject: the partner order id).
    AccountOpenCheck,
    /// 004 3.6: withdraw an offer nobody answered (subject: the call id; key:
    /// `<call id>:<offer>`).
    RingTimeout,
}

impl TimerKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Expiry => "EXPIRY",
            TimerKind::Reminder => "REMINDER",
            TimerKind::CallbackAttempt => "CALLBACK_ATTEMPT",
            TimerKind::AccountOpenCheck => "ACCOUNT_OPEN_CHECK",
            TimerKind::RingTimeout => "RING_TIMEOUT",
        }
    }
}

/// A durable timer (stored once per kind and key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    /// What it does.
    pub kind: TimerKind,
    /// The aggregate it is about.
    pub subject_id: String,
    /// De-duplicates: one timer per kind and key.
    pub key: String,
    /// When it fires.
    pub due: DateTime<Utc>,
}

/// One thing a flow asks the executor to do.
// A handful live for one event at a time: boxing the command would only make
// every flow and test harder to read.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a command.
    Send(Order, OnRefusal),
    /// Text a person.
    Text(Text),
    /// Store a durable timer.
    Timer(Timer),
    /// Something an operator should know (logged as a warning).
    Warn(String),
}

/// Shorthands for the common effects.
impl Effect {
    /// A command whose refusal is tolerated.
    pub fn send(order: Order) -> Self {
        Effect::Send(order, OnRefusal::Tolerate)
    }

    /// A command whose refusal the flow recovers from.
    pub fn step(order: Order) -> Self {
        Effect::Send(order, OnRefusal::Recover)
    }
}

/// Why an aggregate refused a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Its stable code.
    pub code: ErrorCode,
    /// Its message.
    pub message: String,
}

/// The payload of an event, decoded for the flows.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Of an interview task.
    Task(InterviewTaskEvent),
    /// Of a loan application.
    Loan(LoanEvent),
    /// Of a QC case.
    QcCase(QcCaseEvent),
    /// Of an inbound call.
    Call(InboundCallEvent),
    /// Of a seat.
    Seat(SeatEvent),
    /// Of a work order.
    WorkOrder(WorkOrderEvent),
    /// Of a partner order.
    PartnerOrder(PartnerOrderEvent),
    /// Of a callback.
    Callback(CallbackEvent),
    /// The dispatch rule or a seat group changed (the queue is tried again).
    DispatchSettings,
    /// Anything no flow reacts to.
    Other,
}

/// An event as flows see it: the envelope's facts and the decoded payload.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowEvent {
    /// Aggregate instance.
    pub aggregate_id: String,
    /// Sequence within it.
    pub sequence: i64,
    /// The event's id (derives ids and de-duplication keys).
    pub event_id: Uuid,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who caused it.
    pub actor: Actor,
    /// What happened.
    pub body: Body,
}

impl FlowEvent {
    /// Decodes a stored (already upcast) event.
    pub fn decode(event: &StoredEvent) -> Result<Self, serde_json::Error> {
        let payload = event.payload.clone();
        let body = match event.aggregate_type.as_str() {
            crate::interview_task::AGGREGATE_TYPE => Body::Task(serde_json::from_value(payload)?),
            crate::loan_application::AGGREGATE_TYPE => Body::Loan(serde_json::from_value(payload)?),
            crate::qc_case::AGGREGATE_TYPE => Body::QcCase(serde_json::from_value(payload)?),
            crate::inbound_call::AGGREGATE_TYPE => Body::Call(serde_json::from_value(payload)?),
            crate::seat::AGGREGATE_TYPE => Body::Seat(serde_json::from_value(payload)?),
            crate::work_order::AGGREGATE_TYPE => Body::WorkOrder(serde_json::from_value(payload)?),
            crate::partner_order::AGGREGATE_TYPE => {
                Body::PartnerOrder(serde_json::from_value(payload)?)
            }
            crate::callback::AGGREGATE_TYPE => Body::Callback(serde_json::from_value(payload)?),
            crate::inbound_call::dispatch::RULE_AGGREGATE_TYPE
            | crate::seat_group::AGGREGATE_TYPE => Body::DispatchSettings,
            _ => Body::Other,
        };
        Ok(Self {
            aggregate_id: event.aggregate_id.clone(),
            sequence: event.sequence,
            event_id: event.metadata.event_id,
            recorded_at: event.metadata.recorded_at,
            actor: Actor {
                id: event.metadata.actor_id.clone(),
                role: event.metadata.actor_role.clone(),
            },
            body,
        })
    }
}

/// Something a flow needs read before it decides.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Need {
    /// An interview task.
    Task(String),
    /// A loan application.
    Loan(String),
    /// An inbound call and the work order it is for, if it is for one.
    Call(String),
    /// A work order.
    WorkOrder(String),
    /// A partner order.
    PartnerOrder(String),
    /// A callback.
    Callback(String),
    /// The queue and the seats, once the read models reflect the log.
    Queue,
}

/// What the executor read for a flow.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The engine's clock when the event was handled.
    pub now: DateTime<Utc>,
    /// Interview tasks by id.
    pub tasks: HashMap<String, InterviewTask>,
    /// Loan applications by id.
    pub loans: HashMap<String, LoanApplication>,
    /// Inbound calls by id.
    pub calls: HashMap<String, InboundCall>,
    /// Work orders by id.
    pub work_orders: HashMap<String, WorkOrder>,
    /// Partner orders by id.
    pub partner_orders: HashMap<String, PartnerOrder>,
    /// Callbacks by id.
    pub callbacks: HashMap<String, Callback>,
    /// The queue and the seats.
    pub queue: Option<dispatch::QueueSnapshot>,
}

/// What happened to the commands sent so far for one event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Accepted.
    pub done: Vec<Order>,
    /// Refused (and recovered from).
    pub refused: Vec<Order>,
}

/// A process manager as a pure decision.
pub trait Flow: Send + Sync + 'static {
    /// Its one name — its module's with `_flow` (`scheduling_flow`) — for its
    /// checkpoint row, worker lock, actor and metrics label.
    fn name(&self) -> &'static str;

    /// What must be read before reacting to `event`.
    fn needs(&self, event: &FlowEvent) -> Vec<Need>;

    /// What to do about `event`.
    fn react(&self, event: &FlowEvent, facts: &Facts) -> Vec<Effect>;

    /// What to do instead when `failed`, sent with `OnRefusal::Recover`, was refused.
    fn recover(
        &self,
        _event: &FlowEvent,
        _facts: &Facts,
        _failed: &Order,
        _refusal: &Refusal,
        _history: &History,
    ) -> Vec<Effect> {
        Vec::new()
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Given-events / expect-effects helpers for the flows' tests.

    use chrono::TimeZone;

    use super::*;

    /// An event of `body` on `aggregate_id`.
    pub fn event(aggregate_id: &str, body: Body) -> FlowEvent {
        FlowEvent {
            aggregate_id: aggregate_id.to_string(),
            sequence: 3,
            event_id: Uuid::from_u128(7),
            recorded_at: now(),
            actor: Actor {
                id: "M1".into(),
                role: "ACCOUNT_MANAGER".into(),
            },
            body,
        }
    }

    /// The fixed instant of the tests.
    pub fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
    }

    /// Facts at [`now`].
    pub fn facts() -> Facts {
        Facts {
            now: now(),
            ..Facts::default()
        }
    }

    /// An aggregate rebuilt from `events`.
    pub fn rebuilt<A: cqrs_es::Aggregate>(events: Vec<A::Event>) -> A {
        let mut aggregate = A::default();
        for event in events {
            aggregate.apply(event);
        }
        aggregate
    }
}

#[cfg(test)]
mod names {
    use super::Flow;

    /// The module a type is defined in (`scheduling` for `flows::scheduling::SchedulingFlow`).
    fn module_of<T>() -> &'static str {
        std::any::type_name::<T>()
            .rsplit("::")
            .nth(1)
            .expect("a module path")
    }

    fn named_after_its_module<F: Flow>(flow: F) {
        assert_eq!(flow.name(), format!("{}_flow", module_of::<F>()));
    }

    /// Issue 33 item 5: one name per flow — its module's, with `_flow` — for
    /// its checkpoint, lock, actor and metrics.
    #[test]
    fn each_flow_is_named_after_its_module() {
        named_after_its_module(super::scheduling::SchedulingFlow {
            reminder_lead: chrono::Duration::minutes(30),
        });
        named_after_its_module(super::quality::QualityFlow);
        named_after_its_module(super::loan::LoanFlow);
        named_after_its_module(super::dispatch::DispatchFlow::new(
            crate::services::OperationsPolicy::default(),
        ));
        named_after_its_module(super::partner::PartnerFlow {
            callback_urls: Default::default(),
            max_attempts: 3,
            account_check_after: chrono::Duration::hours(1),
        });
    }
}

#[cfg(test)]
mod decoding {
    use super::{Body, FlowEvent};
    use crate::log::{EventMetadata, LogPosition, StoredEvent};

    /// Aggregates no flow reacts to: their events decode to `Body::Other`.
    const NOT_FOR_FLOWS: [&str; 6] = [
        crate::customer_agenda::AGGREGATE_TYPE,
        crate::channel::AGGREGATE_TYPE,
        crate::account::AGGREGATE_TYPE,
        crate::script_catalog::AGGREGATE_TYPE,
        crate::media_asset::AGGREGATE_TYPE,
        crate::change_proposal::AGGREGATE_TYPE,
    ];

    fn unreadable_event_of(aggregate_type: &str) -> StoredEvent {
        StoredEvent {
            position: LogPosition::new(0, 1),
            aggregate_type: aggregate_type.to_string(),
            aggregate_id: "A-1".into(),
            sequence: 1,
            event_type: "Anything".into(),
            event_version: "1.0".into(),
            payload: serde_json::Value::Null,
            metadata: EventMetadata {
                event_id: uuid::Uuid::now_v7(),
                actor_id: "t".into(),
                actor_role: "SYSTEM".into(),
                correlation_id: "c".into(),
                causation_id: "c".into(),
                request_id: "r".into(),
                recorded_at: chrono::Utc::now(),
                on_behalf_of: None,
                traceparent: None,
            },
        }
    }

    /// Issue 33 item 3: every aggregate of the one list
    /// (`for_each_aggregate!`) is decided for the flows — decoded into a
    /// `Body` (a payload it cannot read is refused), a settings change, or
    /// named here as one no flow reacts to. A new aggregate fails until it is.
    #[test]
    fn every_aggregate_is_decoded_for_the_flows_or_named_as_not_for_them() {
        for aggregate_type in crate::aggregates::AGGREGATE_TYPES {
            let decoded = FlowEvent::decode(&unreadable_event_of(aggregate_type));
            match decoded.map(|e| e.body) {
                Err(_) | Ok(Body::DispatchSettings) => {
                    assert!(
                        !NOT_FOR_FLOWS.contains(aggregate_type),
                        "{aggregate_type} is decoded for the flows and also named as not for them"
                    );
                }
                Ok(Body::Other) => assert!(
                    NOT_FOR_FLOWS.contains(aggregate_type),
                    "{aggregate_type} is neither decoded for the flows nor named as not for them"
                ),
                Ok(other) => panic!("{aggregate_type}: an unreadable payload decoded as {other:?}"),
            }
        }
        for aggregate_type in NOT_FOR_FLOWS {
            assert!(crate::aggregates::AGGREGATE_TYPES.contains(&aggregate_type));
        }
    }
}
