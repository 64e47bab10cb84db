//! The operations centre (001 2.4.4 分案规则, 004 3.6 排队规则): queued calls
//! go to seats; seat offers follow the calls; a work order is 处理中 once its
//! call is answered; a work order's guide SMS goes out (004 3.3–3.5).
//!
//! Dispatch decides on a snapshot of the read models (queue, seats, groups)
//! and acts through the aggregates, which are the guards: a seat accepts one
//! offer at a time and only when 空闲, a call is dispatched only while queued.
//! A stale snapshot therefore costs a refused command and a new choice, never
//! a call on two seats.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Body, Effect, Facts, Flow, FlowEvent, History, Need, Order, Refusal, Text, Timer, TimerKind,
};
use crate::inbound_call::dispatch::{choose_seat, IdleSeatRule, SeatCandidate};
use crate::inbound_call::{InboundCallCommand, InboundCallEvent, QueuedCall};
use crate::seat::{Presence, SeatCommand, SeatEvent};
use crate::services::OperationsPolicy;
use crate::work_order::{guide_sms, WorkOrderCommand, WorkOrderEvent, GUIDE_SMS};

/// A seat as the read models show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatState {
    /// Seat no.
    pub seat_no: String,
    /// Enabled, signed in and 空闲.
    pub idle: bool,
    /// The call it holds an offer for, if any.
    pub offered_call: Option<Uuid>,
    /// Whether that offer is still live (its call queued, or dispatched to this seat).
    pub offer_live: bool,
    /// Its skills and its groups' (empty serves every call).
    pub skills: Vec<String>,
    /// Calls answered today (Shanghai day).
    pub answered_today: u32,
    /// When it last answered a call.
    pub last_answered_at: Option<DateTime<Utc>>,
    /// Whether it belongs to a seat group.
    pub grouped: bool,
}

/// A call waiting for a seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingCall {
    /// The call.
    pub call_id: Uuid,
    /// What it asks for.
    pub call: QueuedCall,
    /// Seats that served its customer before (熟客).
    pub familiar_seats: Vec<String>,
    /// Offers of it no seat answered in time.
    pub unanswered: u32,
}

/// The queue and the seats, oldest call first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueSnapshot {
    /// Every seat.
    pub seats: Vec<SeatState>,
    /// Waiting calls, oldest first.
    pub waiting: Vec<WaitingCall>,
    /// The configured rule for idle seats.
    pub rule: IdleSeatRule,
    /// 004 3.18: seat groups exist and only their seats answer the pool's calls.
    pub groups_required: bool,
}

/// Dispatches calls and runs work-order side effects.
#[derive(Debug, Default, Clone, Copy)]
pub struct DispatchFlow {
    policy: OperationsPolicy,
}

impl DispatchFlow {
    /// A dispatcher ringing and re-offering as `policy` says.
    pub fn new(policy: OperationsPolicy) -> Self {
        Self { policy }
    }

    /// The ring timeout of an offer just made, when offers time out.
    fn ring_timer(&self, event: &FlowEvent, offer: u32) -> Vec<Effect> {
        if self.policy.ring_timeout <= chrono::Duration::zero() {
            return Vec::new();
        }
        vec![Effect::Timer(Timer {
            kind: TimerKind::RingTimeout,
            subject_id: event.aggregate_id.clone(),
            key: format!("{}:{offer}", event.aggregate_id),
            due: event.recorded_at + self.policy.ring_timeout,
        })]
    }
}

/// Whether the event may let a waiting call reach a seat.
fn tries_the_queue(body: &Body) -> bool {
    match body {
        Body::Call(InboundCallEvent::CallQueued(_)) | Body::DispatchSettings => true,
        Body::Seat(event) => matches!(
            event,
            SeatEvent::SeatSignedIn
                | SeatEvent::SeatEnabled
                | SeatEvent::CallOfferWithdrawn { .. }
                | SeatEvent::PresenceChanged {
                    presence: Presence::Idle
                }
        ),
        _ => false,
    }
}

/// Offers and dispatches for every waiting call not yet dispatched, given
/// what this round already did (`history`): seats taken by earlier dispatches
/// are not offered again, and a seat that refused a call is not offered it again.
/// A call that went unanswered `ring_attempts` times is not offered again:
/// it waits for a seat to take it from 队列管理.
fn plan(queue: &QueueSnapshot, history: &History, ring_attempts: u32) -> Vec<Effect> {
    let mut taken: HashSet<&str> = HashSet::new();
    let mut dispatched: HashSet<&str> = HashSet::new();
    for order in &history.done {
        if let Order::Call(call, InboundCallCommand::Dispatch { seat_no, .. }) = order {
            taken.insert(seat_no.as_str());
            dispatched.insert(call.as_str());
        }
    }
    let mut refused: HashSet<(String, &str)> = HashSet::new();
    let mut abandoned: HashSet<&str> = HashSet::new();
    for order in &history.refused {
        match order {
            Order::Seat(seat, SeatCommand::OfferCall { call_id }) => {
                refused.insert((call_id.to_string(), seat.as_str()));
            }
            Order::Call(call, InboundCallCommand::Dispatch { .. }) => {
                abandoned.insert(call.as_str());
            }
            _ => {}
        }
    }
    let mut effects = Vec::new();
    for waiting in &queue.waiting {
        let id = waiting.call_id.to_string();
        if dispatched.contains(id.as_str())
            || abandoned.contains(id.as_str())
            || (ring_attempts > 0 && waiting.unanswered >= ring_attempts)
        {
            continue;
        }
        // A named seat that let the call ring out is not waited for again:
        // the call goes to the pool (004 3.6 依次分配).
        let mut call = waiting.call.clone();
        if waiting.unanswered > 0 {
            call.designated_seat = None;
            call.preassigned_seat = None;
        }
        let candidates: Vec<SeatCandidate> = queue
            .seats
            .iter()
            .map(|seat| SeatCandidate {
                seat_no: seat.seat_no.clone(),
                skills: seat.skills.clone(),
                available: seat.idle
                    // 004 3.18: 客服归入对应的客服组…才可以接听; a seat the customer
                    // or the booking names is still waited for.
                    && (seat.grouped
                        || !queue.groups_required
                        || [&call.designated_seat, &call.preassigned_seat]
                            .iter()
                            .any(|named| named.as_deref() == Some(seat.seat_no.as_str())))
                    && seat.offered_call.is_none_or(|c| c == waiting.call_id)
                    && !taken.contains(seat.seat_no.as_str())
                    && !refused.contains(&(id.clone(), seat.seat_no.as_str())),
                answered_today: seat.answered_today,
                last_answered_at: seat.last_answered_at,
                served_customer: waiting.familiar_seats.contains(&seat.seat_no),
            })
            .collect();
        let Some((seat_no, reason)) = choose_seat(waiting.call_id, &call, &candidates, queue.rule)
        else {
            continue;
        };
        let seat = queue
            .seats
            .iter()
            .find(|s| s.seat_no == seat_no)
            .map_or("", |s| s.seat_no.as_str());
        taken.insert(seat);
        effects.push(Effect::step(Order::Seat(
            seat_no.clone(),
            SeatCommand::OfferCall {
                call_id: waiting.call_id,
            },
        )));
        effects.push(Effect::step(Order::Call(
            id,
            InboundCallCommand::Dispatch { seat_no, reason },
        )));
    }
    effects
}

impl Flow for DispatchFlow {
    fn name(&self) -> &'static str {
        "dispatch_flow"
    }

    fn needs(&self, event: &FlowEvent) -> Vec<Need> {
        match &event.body {
            body if tries_the_queue(body) => vec![Need::Queue],
            Body::Call(InboundCallEvent::CallAnswered { .. }) => {
                vec![Need::Call(event.aggregate_id.clone())]
            }
            Body::WorkOrder(
                WorkOrderEvent::WorkOrderCreated(_) | WorkOrderEvent::GuideSmsRequested { .. },
            ) => vec![Need::WorkOrder(event.aggregate_id.clone())],
            _ => Vec::new(),
        }
    }

    fn react(&self, event: &FlowEvent, facts: &Facts) -> Vec<Effect> {
        if tries_the_queue(&event.body) {
            let Some(queue) = &facts.queue else {
                return Vec::new();
            };
            // An offer whose call is no longer queued for, or dispatched to,
            // that seat (a crash between offer and dispatch, a transfer) goes.
            let mut effects: Vec<Effect> = queue
                .seats
                .iter()
                .filter(|seat| !seat.offer_live)
                .filter_map(|seat| {
                    seat.offered_call.map(|call_id| {
                        Effect::send(Order::Seat(
                            seat.seat_no.clone(),
                            SeatCommand::WithdrawOffer { call_id },
                        ))
                    })
                })
                .collect();
            effects.extend(plan(queue, &History::default(), self.policy.ring_attempts));
            return effects;
        }
        let call_id = || event.aggregate_id.parse::<Uuid>().ok();
        let withdraw = |seat_no: &String| {
            call_id()
                .map(|call_id| {
                    Effect::send(Order::Seat(
                        seat_no.clone(),
                        SeatCommand::WithdrawOffer { call_id },
                    ))
                })
                .into_iter()
        };
        match &event.body {
            Body::Call(InboundCallEvent::CallCancelled {
                seat_no: Some(seat_no),
            }) => withdraw(seat_no).collect(),
            Body::Call(InboundCallEvent::CallDispatched { offer, .. }) => {
                self.ring_timer(event, *offer)
            }
            Body::Call(InboundCallEvent::CallTransferred {
                from_seat, offer, ..
            }) => withdraw(from_seat)
                .chain(self.ring_timer(event, *offer))
                .collect(),
            // 004 3.6: an unanswered call goes on to the next seat; the seat
            // that let it ring out is set to 暂放 first, so it is not offered
            // the next call too while nobody is there.
            Body::Call(InboundCallEvent::CallOfferUnanswered { seat_no, .. }) => {
                std::iter::once(Effect::send(Order::Seat(
                    seat_no.clone(),
                    SeatCommand::SetPresence {
                        presence: Presence::Paused,
                        by_system: true,
                    },
                )))
                .chain(withdraw(seat_no))
                .collect()
            }
            Body::Call(InboundCallEvent::CallAnswered { seat_no }) => {
                let Some(call_id) = call_id() else {
                    return Vec::new();
                };
                let mut effects = vec![Effect::send(Order::Seat(
                    seat_no.clone(),
                    SeatCommand::TakeCall { call_id },
                ))];
                // 004 3.3: 处理中：坐席接通后自动变更.
                let record = facts
                    .calls
                    .get(&event.aggregate_id)
                    .map(|call| call.call().task_id.clone());
                if let Some((id, order)) =
                    record.and_then(|id| facts.work_orders.get(&id).map(|order| (id, order)))
                {
                    if order.status().accepts_calls() {
                        effects.push(Effect::send(Order::WorkOrder(
                            id,
                            WorkOrderCommand::Start {
                                seat_no: seat_no.clone(),
                            },
                        )));
                    }
                }
                effects
            }
            // 004 3.1: 话后处理 after the call; a seat already moved on keeps its state.
            Body::Call(InboundCallEvent::CallEnded { seat_no }) => vec![Effect::send(Order::Seat(
                seat_no.clone(),
                SeatCommand::SetPresence {
                    presence: Presence::AfterCall,
                    by_system: true,
                },
            ))],
            Body::WorkOrder(work_order_event) => {
                let serial = match work_order_event {
                    WorkOrderEvent::WorkOrderCreated(_) => 0,
                    WorkOrderEvent::GuideSmsRequested { n } => *n,
                    _ => return Vec::new(),
                };
                let Some(order) = facts.work_orders.get(&event.aggregate_id) else {
                    return Vec::new();
                };
                let d = order.details();
                vec![Effect::Text(Text {
                    dedup_key: format!("work-order:{}:{serial}", event.aggregate_id),
                    subject_id: event.aggregate_id.clone(),
                    phone: d.phone.clone(),
                    template: GUIDE_SMS.to_string(),
                    body: guide_sms(&d.customer_name, &d.business_type, &d.case_no),
                    sender: None,
                })]
            }
            _ => Vec::new(),
        }
    }

    /// A seat refused an offer (it changed since the snapshot): choose again
    /// without it. A call refused its dispatch (the customer hung up): give the
    /// seat back. Either way the rest of the round goes on.
    fn recover(
        &self,
        _event: &FlowEvent,
        facts: &Facts,
        failed: &Order,
        _refusal: &Refusal,
        history: &History,
    ) -> Vec<Effect> {
        let Some(queue) = &facts.queue else {
            return Vec::new();
        };
        let mut effects = Vec::new();
        if let Order::Call(call, InboundCallCommand::Dispatch { seat_no, .. }) = failed {
            if let Ok(call_id) = call.parse::<Uuid>() {
                effects.push(Effect::send(Order::Seat(
                    seat_no.clone(),
                    SeatCommand::WithdrawOffer { call_id },
                )));
            }
        }
        effects.extend(plan(queue, history, self.policy.ring_attempts));
        effects
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{event, facts};
    use super::*;
    use crate::inbound_call::dispatch::DispatchReason;
    use crate::inbound_call::QueuedCall;

    fn seat(no: &str) -> SeatState {
        SeatState {
            seat_no: no.into(),
            idle: true,
            offered_call: None,
            offer_live: false,
            skills: vec![],
            answered_today: 0,
            last_answered_at: None,
            grouped: false,
        }
    }

    fn waiting(n: u128, preassigned: Option<&str>) -> WaitingCall {
        WaitingCall {
            call_id: Uuid::from_u128(n),
            call: QueuedCall {
                task_id: format!("t{n}"),
                customer_key: format!("c{n}"),
                channel_code: "YYZX".into(),
                product_code: "YXD".into(),
                preassigned_seat: preassigned.map(str::to_string),
                ..QueuedCall::default()
            },
            familiar_seats: vec![],
            unanswered: 0,
        }
    }

    fn queued_facts(seats: Vec<SeatState>, calls: Vec<WaitingCall>) -> Facts {
        let mut facts = facts();
        facts.queue = Some(QueueSnapshot {
            seats,
            waiting: calls,
            rule: IdleSeatRule::LeastBusy,
            groups_required: false,
        });
        facts
    }

    fn queued() -> FlowEvent {
        event(
            &Uuid::from_u128(1).to_string(),
            Body::Call(InboundCallEvent::CallQueued(QueuedCall::default())),
        )
    }

    /// 001 2.4.4.3: a booked seat takes its own caller; another call goes to
    /// the other idle seat; no seat gets two offers in one round.
    #[test]
    fn a_round_offers_each_call_to_its_seat_then_dispatches_it() {
        let facts = queued_facts(
            vec![seat("S1"), seat("S2")],
            vec![waiting(1, Some("S2")), waiting(2, None), waiting(3, None)],
        );
        assert_eq!(DispatchFlow::default().needs(&queued()), vec![Need::Queue]);
        let effects = DispatchFlow::default().react(&queued(), &facts);
        assert_eq!(
            effects,
            vec![
                Effect::step(Order::Seat(
                    "S2".into(),
                    SeatCommand::OfferCall {
                        call_id: Uuid::from_u128(1)
                    }
                )),
                Effect::step(Order::Call(
                    Uuid::from_u128(1).to_string(),
                    InboundCallCommand::Dispatch {
                        seat_no: "S2".into(),
                        reason: DispatchReason::Preassigned
                    }
                )),
                Effect::step(Order::Seat(
                    "S1".into(),
                    SeatCommand::OfferCall {
                        call_id: Uuid::from_u128(2)
                    }
                )),
                Effect::step(Order::Call(
                    Uuid::from_u128(2).to_string(),
                    InboundCallCommand::Dispatch {
                        seat_no: "S1".into(),
                        reason: DispatchReason::LeastBusy
                    }
                )),
            ],
            "the third call waits: no seat is left"
        );
    }

    /// 004_448cd5ace309d8b2.txt 3.18: 通过将客服归入对应的客服组…客服才可以接听 — with
    /// groups configured, a seat in no group takes no pool call, though the seat
    /// a call's booking names is still given it (issue 22 item 4).
    #[test]
    fn with_groups_only_grouped_seats_take_pool_calls() {
        let grouped = SeatState {
            grouped: true,
            answered_today: 9,
            ..seat("S2")
        };
        let mut facts = queued_facts(
            vec![seat("S1"), grouped],
            vec![waiting(1, None), waiting(2, Some("S1"))],
        );
        facts.queue.as_mut().unwrap().groups_required = true;
        let effects = DispatchFlow::default().react(&queued(), &facts);
        let dispatched = dispatched_to(&effects);
        assert_eq!(
            dispatched,
            vec![
                (Uuid::from_u128(1).to_string(), "S2".to_string()),
                (Uuid::from_u128(2).to_string(), "S1".to_string()),
            ],
            "the pool call goes to the grouped seat although S1 is less busy"
        );
        // The switch off (or no groups): S1, the least busy, takes the pool call.
        facts.queue.as_mut().unwrap().groups_required = false;
        let effects = DispatchFlow::default().react(&queued(), &facts);
        assert!(effects.iter().any(|e| matches!(e,
            Effect::Send(Order::Call(call, InboundCallCommand::Dispatch { seat_no, .. }), _)
                if *call == Uuid::from_u128(1).to_string() && seat_no == "S1")));
    }

    /// A seat that refuses an offer (it changed since the snapshot) is not
    /// offered that call again; the call goes to the next seat.
    #[test]
    fn a_refused_offer_is_chosen_again_without_that_seat() {
        let facts = queued_facts(vec![seat("S1"), seat("S2")], vec![waiting(2, None)]);
        let failed = Order::Seat(
            "S1".into(),
            SeatCommand::OfferCall {
                call_id: Uuid::from_u128(2),
            },
        );
        let history = History {
            done: vec![],
            refused: vec![failed.clone()],
        };
        let refusal = Refusal {
            code: crate::error::ErrorCode::InvalidTransition,
            message: "busy".into(),
        };
        let next = DispatchFlow::default().recover(&queued(), &facts, &failed, &refusal, &history);
        assert_eq!(
            next[0],
            Effect::step(Order::Seat(
                "S2".into(),
                SeatCommand::OfferCall {
                    call_id: Uuid::from_u128(2)
                }
            ))
        );
    }

    /// The customer hung up between offer and dispatch: the seat is given back.
    #[test]
    fn a_refused_dispatch_gives_the_seat_back() {
        let facts = queued_facts(vec![seat("S1")], vec![waiting(2, None)]);
        let failed = Order::Call(
            Uuid::from_u128(2).to_string(),
            InboundCallCommand::Dispatch {
                seat_no: "S1".into(),
                reason: DispatchReason::LeastBusy,
            },
        );
        let history = History {
            done: vec![Order::Seat(
                "S1".into(),
                SeatCommand::OfferCall {
                    call_id: Uuid::from_u128(2),
                },
            )],
            refused: vec![failed.clone()],
        };
        let refusal = Refusal {
            code: crate::error::ErrorCode::InvalidTransition,
            message: "cancelled".into(),
        };
        assert_eq!(
            DispatchFlow::default().recover(&queued(), &facts, &failed, &refusal, &history),
            vec![Effect::send(Order::Seat(
                "S1".into(),
                SeatCommand::WithdrawOffer {
                    call_id: Uuid::from_u128(2)
                }
            ))]
        );
    }

    /// A stale offer (its call is gone) is withdrawn before the round.
    #[test]
    fn stale_offers_are_withdrawn() {
        let mut stale = seat("S1");
        stale.offered_call = Some(Uuid::from_u128(9));
        stale.idle = true;
        let facts = queued_facts(vec![stale], vec![]);
        assert_eq!(
            DispatchFlow::default().react(&queued(), &facts),
            vec![Effect::send(Order::Seat(
                "S1".into(),
                SeatCommand::WithdrawOffer {
                    call_id: Uuid::from_u128(9)
                }
            ))]
        );
    }

    fn dispatched_to(effects: &[Effect]) -> Vec<(String, String)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send(
                    Order::Call(call, InboundCallCommand::Dispatch { seat_no, .. }),
                    _,
                ) => Some((call.clone(), seat_no.clone())),
                _ => None,
            })
            .collect()
    }

    /// 004_448cd5ace309d8b2.txt 3.6 (issue 22 item 2): every offer rings for
    /// the configured time — a dispatch and a transfer each set a ring timeout
    /// named by the offer; with no timeout configured none is set.
    #[test]
    fn every_offer_sets_its_ring_timeout() {
        let call = Uuid::from_u128(1).to_string();
        let flow = DispatchFlow::new(OperationsPolicy {
            ring_timeout: chrono::Duration::seconds(20),
            ..OperationsPolicy::default()
        });
        let dispatched = event(
            &call,
            Body::Call(InboundCallEvent::CallDispatched {
                seat_no: "S1".into(),
                reason: DispatchReason::Random,
                offer: 1,
            }),
        );
        assert_eq!(
            flow.react(&dispatched, &facts()),
            vec![Effect::Timer(Timer {
                kind: TimerKind::RingTimeout,
                subject_id: call.clone(),
                key: format!("{call}:1"),
                due: super::super::testing::now() + chrono::Duration::seconds(20),
            })]
        );
        let transferred = event(
            &call,
            Body::Call(InboundCallEvent::CallTransferred {
                from_seat: "S1".into(),
                to_seat: "S2".into(),
                offer: 2,
            }),
        );
        let effects = flow.react(&transferred, &facts());
        assert!(matches!(&effects[..], [
            Effect::Send(Order::Seat(from, SeatCommand::WithdrawOffer { .. }), _),
            Effect::Timer(Timer { key, .. }),
        ] if from == "S1" && *key == format!("{call}:2")));
        let untimed = DispatchFlow::new(OperationsPolicy {
            ring_timeout: chrono::Duration::zero(),
            ..OperationsPolicy::default()
        });
        assert_eq!(untimed.react(&dispatched, &facts()), vec![]);
    }

    /// 004_448cd5ace309d8b2.txt 3.6: a seat that let a call ring out is set to
    /// 暂放 and loses the offer, so the call goes on to the next seat.
    #[test]
    fn a_seat_that_let_a_call_ring_out_is_paused() {
        let call_id = Uuid::from_u128(1);
        let unanswered = event(
            &call_id.to_string(),
            Body::Call(InboundCallEvent::CallOfferUnanswered {
                seat_no: "S1".into(),
                unanswered: 1,
            }),
        );
        assert_eq!(
            DispatchFlow::default().react(&unanswered, &facts()),
            vec![
                Effect::send(Order::Seat(
                    "S1".into(),
                    SeatCommand::SetPresence {
                        presence: Presence::Paused,
                        by_system: true,
                    }
                )),
                Effect::send(Order::Seat(
                    "S1".into(),
                    SeatCommand::WithdrawOffer { call_id }
                )),
            ]
        );
    }

    /// After an unanswered offer the booked seat is not waited for: the call
    /// goes to the pool; after `ring_attempts` unanswered offers it is not
    /// offered again but waits for a seat to take it.
    #[test]
    fn unanswered_calls_go_to_the_pool_then_wait() {
        let mut rang_out = waiting(1, Some("S9"));
        rang_out.unanswered = 1;
        let mut exhausted = waiting(2, None);
        exhausted.unanswered = 3;
        let facts = queued_facts(vec![seat("S1"), seat("S2")], vec![rang_out, exhausted]);
        let effects = DispatchFlow::default().react(&queued(), &facts);
        assert_eq!(
            dispatched_to(&effects),
            vec![(Uuid::from_u128(1).to_string(), "S1".to_string())],
            "the booked S9 is not waited for; the exhausted call is left for a seat to take"
        );
        let patient = DispatchFlow::new(OperationsPolicy {
            ring_attempts: 4,
            ..OperationsPolicy::default()
        });
        assert_eq!(dispatched_to(&patient.react(&queued(), &facts)).len(), 2);
    }
}
