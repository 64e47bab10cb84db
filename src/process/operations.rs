//! The operations-centre process manager: dispatches queued calls to seats
//! (001 2.4.4 分案规则, 004 3.6 排队规则), keeps seat offers in step with the
//! calls, starts a work order when its call is answered, and texts the work
//! order's guide SMS (004 3.4, 3.5).
//!
//! Dispatch decides on the read models (queue, seats, groups) once they reflect
//! everything committed, and acts through the aggregates, which are the guards:
//! a seat accepts one offer at a time and only when 空闲, a call is dispatched
//! only while queued. A stale read therefore costs a refused command and a
//! retry, never a call on two seats.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use adapters::sms::{SmsMessage, SmsOutbox};
use adapters::{CommandBus, CommandContext, CommandError, GlobalLog};
use chrono::{DateTime, Utc};
use domain::inbound_call::dispatch::{choose_seat, SeatCandidate, RULE_AGGREGATE_TYPE, RULE_ID};
use domain::inbound_call::{
    DispatchRule, InboundCall, InboundCallCommand, InboundCallEvent, AGGREGATE_TYPE as CALL,
};
use domain::log::StoredEvent;
use domain::schedule::shanghai_day_start;
use domain::seat::{Presence, Seat, SeatCommand, SeatEvent, AGGREGATE_TYPE as SEAT};
use domain::seat_group::AGGREGATE_TYPE as GROUP;
use domain::work_order::{
    guide_sms, WorkOrder, WorkOrderCommand, WorkOrderEvent, AGGREGATE_TYPE as WORK_ORDER, GUIDE_SMS,
};
use projections::call_queue::{CallQueue, CallRow};
use projections::seat_calendar::{SeatCalendar, SeatRow};
use projections::ProjectionHandle;
use sqlx::AnyPool;
use tracing::{info, instrument};
use uuid::Uuid;

use super::{caused_by, tolerate_refusal, ProcessManager};

/// How many waiting calls one dispatch round looks at.
const ROUND: i64 = 500;

/// Dispatches calls and runs work-order side effects.
pub struct OperationsProcess {
    bus: Arc<CommandBus>,
    pool: AnyPool,
    log: GlobalLog,
    sms: SmsOutbox,
    read_models: Vec<ProjectionHandle>,
    read_model_timeout: Duration,
}

impl OperationsProcess {
    /// A process reading the queue and seats through `read_models` (the call
    /// queue and seat calendar projections) once they reach the log's head.
    pub fn new(
        bus: Arc<CommandBus>,
        pool: AnyPool,
        log: GlobalLog,
        sms: SmsOutbox,
        read_models: Vec<ProjectionHandle>,
    ) -> Self {
        Self {
            bus,
            pool,
            log,
            sms,
            read_models,
            read_model_timeout: Duration::from_secs(10),
        }
    }

    async fn seat(
        &self,
        seat_no: &str,
        command: SeatCommand,
        context: &CommandContext,
    ) -> anyhow::Result<()> {
        tolerate_refusal(self.bus.execute::<Seat>(seat_no, command, context).await)
    }

    /// Waits until the read models reflect everything committed, so decisions
    /// see the effects of this process's own earlier commands.
    async fn read_models_current(&self) -> anyhow::Result<()> {
        let head = self.log.latest_committed().await?;
        for handle in &self.read_models {
            if !handle.wait_for(head, self.read_model_timeout).await {
                anyhow::bail!(
                    "read model {} did not reach the log head in time",
                    handle.name()
                );
            }
        }
        Ok(())
    }

    /// One dispatch round over the waiting calls, oldest first.
    #[instrument(skip_all, fields(cause = %event.metadata.event_id))]
    async fn dispatch_waiting(&self, event: &StoredEvent) -> anyhow::Result<()> {
        self.read_models_current().await?;
        let context = caused_by(event, "dispatcher");
        let seats = SeatCalendar::seats(&self.pool).await?;
        self.withdraw_stale_offers(&seats, &context).await?;
        let waiting = CallQueue::in_status(&self.pool, "QUEUED", ROUND).await?;
        if waiting.is_empty() {
            return Ok(());
        }
        let (rule, _) = self.bus.load::<DispatchRule>(RULE_ID).await?;
        let groups = CallQueue::groups(&self.pool).await?;
        let day_start = shanghai_day_start(self.bus.services().clock.now());
        let loads = CallQueue::answered_since(&self.pool, day_start).await?;
        let mut taken: HashSet<String> = HashSet::new();
        for call in waiting {
            let familiar = CallQueue::familiar_seats(&self.pool, &call.customer_key).await?;
            let mut candidates: Vec<SeatCandidate> = seats
                .iter()
                .map(|seat| {
                    let load = loads.iter().find(|l| l.seat_no == seat.seat_no);
                    let mut skills = seat.skill_list();
                    let seat_groups: Vec<String> =
                        serde_json::from_str(&seat.seat_groups).unwrap_or_default();
                    for group in &groups {
                        if group.seat_list().contains(&seat.seat_no)
                            || seat_groups.contains(&group.group_code)
                        {
                            skills.extend(group.skill_list());
                        }
                    }
                    SeatCandidate {
                        seat_no: seat.seat_no.clone(),
                        skills,
                        available: !taken.contains(&seat.seat_no) && free_for(seat, &call.call_id),
                        answered_today: load.map_or(0, |l| l.answered as u32),
                        last_answered_at: load
                            .and_then(|l| DateTime::parse_from_rfc3339(&l.last_answered_at).ok())
                            .map(|t| t.with_timezone(&Utc)),
                        served_customer: familiar.contains(&seat.seat_no),
                    }
                })
                .collect();
            if let Some(seat_no) = self
                .dispatch_one(&call, &mut candidates, rule.idle_seat_rule(), &context)
                .await?
            {
                taken.insert(seat_no);
            }
        }
        Ok(())
    }

    /// Offers `call` to the chosen seat, then records the dispatch on the call.
    /// A seat that refuses the offer (it changed since the read) is dropped and
    /// the next choice tried.
    async fn dispatch_one(
        &self,
        call: &CallRow,
        candidates: &mut [SeatCandidate],
        rule: domain::inbound_call::IdleSeatRule,
        context: &CommandContext,
    ) -> anyhow::Result<Option<String>> {
        let call_id: Uuid = call.call_id.parse()?;
        let queued = call.queued_call();
        while let Some((seat_no, reason)) = choose_seat(call_id, &queued, candidates, rule) {
            match self
                .bus
                .execute::<Seat>(&seat_no, SeatCommand::OfferCall { call_id }, context)
                .await
            {
                Ok(_) => {}
                Err(CommandError::Domain(_)) => {
                    if let Some(c) = candidates.iter_mut().find(|c| c.seat_no == seat_no) {
                        c.available = false;
                    }
                    continue;
                }
                Err(other) => return Err(anyhow::anyhow!("{other}")),
            }
            match self
                .bus
                .execute::<InboundCall>(
                    &call.call_id,
                    InboundCallCommand::Dispatch {
                        seat_no: seat_no.clone(),
                        reason,
                    },
                    context,
                )
                .await
            {
                Ok(_) => {
                    info!(call = %call.call_id, seat = %seat_no, ?reason, "call dispatched");
                    return Ok(Some(seat_no));
                }
                // The customer hung up meanwhile: give the seat back.
                Err(CommandError::Domain(_)) => {
                    self.seat(&seat_no, SeatCommand::WithdrawOffer { call_id }, context)
                        .await?;
                    return Ok(None);
                }
                Err(other) => return Err(anyhow::anyhow!("{other}")),
            }
        }
        Ok(None)
    }

    /// An offer whose call is no longer queued for, or dispatched to, that seat
    /// (a crash between the offer and the dispatch, a transfer) is withdrawn.
    async fn withdraw_stale_offers(
        &self,
        seats: &[SeatRow],
        context: &CommandContext,
    ) -> anyhow::Result<()> {
        for seat in seats {
            let Some(call_id) = &seat.offered_call else {
                continue;
            };
            let call = CallQueue::call(&self.pool, call_id).await?;
            let live = call.is_some_and(|c| {
                c.status == "QUEUED"
                    || (c.status == "DISPATCHED" && c.seat_no.as_deref() == Some(&seat.seat_no))
            });
            if !live {
                self.seat(
                    &seat.seat_no,
                    SeatCommand::WithdrawOffer {
                        call_id: call_id.parse()?,
                    },
                    context,
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn on_call(&self, event: &StoredEvent) -> anyhow::Result<()> {
        let context = caused_by(event, "dispatcher");
        let call_id: Uuid = event.aggregate_id.parse()?;
        match serde_json::from_value::<InboundCallEvent>(event.payload.clone())? {
            InboundCallEvent::CallQueued(_) => self.dispatch_waiting(event).await,
            InboundCallEvent::CallCancelled { seat_no } => {
                if let Some(seat_no) = seat_no {
                    self.seat(&seat_no, SeatCommand::WithdrawOffer { call_id }, &context)
                        .await?;
                }
                Ok(())
            }
            InboundCallEvent::CallTransferred { from_seat, .. } => {
                self.seat(&from_seat, SeatCommand::WithdrawOffer { call_id }, &context)
                    .await
            }
            InboundCallEvent::CallAnswered { seat_no } => {
                self.seat(&seat_no, SeatCommand::TakeCall { call_id }, &context)
                    .await?;
                // 004 3.3: 处理中：坐席接通后自动变更.
                let (call, _) = self.bus.load::<InboundCall>(&event.aggregate_id).await?;
                let (order, _) = self.bus.load::<WorkOrder>(&call.call().task_id).await?;
                if order.status().accepts_calls() {
                    tolerate_refusal(
                        self.bus
                            .execute::<WorkOrder>(
                                &call.call().task_id,
                                WorkOrderCommand::Start { seat_no },
                                &context,
                            )
                            .await,
                    )?;
                }
                Ok(())
            }
            // 004 3.1: 话后处理 after the call; a seat already moved on keeps its state.
            InboundCallEvent::CallEnded { seat_no } => {
                self.seat(
                    &seat_no,
                    SeatCommand::SetPresence {
                        presence: Presence::AfterCall,
                        by_system: true,
                    },
                    &context,
                )
                .await
            }
            InboundCallEvent::CallRefused { .. } | InboundCallEvent::CallDispatched { .. } => {
                Ok(())
            }
        }
    }

    async fn on_work_order(&self, event: &StoredEvent) -> anyhow::Result<()> {
        let serial = match serde_json::from_value::<WorkOrderEvent>(event.payload.clone())? {
            WorkOrderEvent::WorkOrderCreated(_) => 0,
            WorkOrderEvent::GuideSmsRequested { n } => n,
            _ => return Ok(()),
        };
        let (order, _) = self.bus.load::<WorkOrder>(&event.aggregate_id).await?;
        let d = order.details();
        self.sms
            .send(&SmsMessage {
                dedup_key: format!("work-order:{}:{serial}", event.aggregate_id),
                task_id: event.aggregate_id.clone(),
                phone: d.phone.clone(),
                template: GUIDE_SMS.to_string(),
                body: guide_sms(&d.customer_name, &d.business_type, &d.case_no),
            })
            .await?;
        Ok(())
    }
}

/// Enabled, signed in, 空闲, and holding no offer but (perhaps) this call's.
fn free_for(seat: &SeatRow, call_id: &str) -> bool {
    seat.enabled == 1
        && seat.signed_in == 1
        && seat.presence == domain::wire_name(&Presence::Idle)
        && seat.offered_call.as_deref().is_none_or(|c| c == call_id)
}

impl ProcessManager for OperationsProcess {
    fn name(&self) -> &'static str {
        "operations_process"
    }

    async fn handle(&self, event: &StoredEvent) -> anyhow::Result<()> {
        match event.aggregate_type.as_str() {
            CALL => self.on_call(event).await,
            WORK_ORDER => self.on_work_order(event).await,
            // A seat became free, or the rule or the groups changed: try the queue.
            SEAT => {
                let frees = matches!(
                    serde_json::from_value::<SeatEvent>(event.payload.clone())?,
                    SeatEvent::SeatSignedIn
                        | SeatEvent::SeatEnabled
                        | SeatEvent::CallOfferWithdrawn { .. }
                        | SeatEvent::PresenceChanged {
                            presence: Presence::Idle
                        }
                );
                if frees {
                    self.dispatch_waiting(event).await?;
                }
                Ok(())
            }
            RULE_AGGREGATE_TYPE | GROUP => self.dispatch_waiting(event).await,
            _ => Ok(()),
        }
    }
}
