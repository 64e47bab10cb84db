//! Queue and dispatch in GraphQL: a customer calls in (准入校验, then 排队), sees
//! their place and the estimated wait live, a seat answers, supervisors and
//! seats transfer (001 2.2.2, 2.3.1 队列管理, 2.4.4; 004 3.6, 4.3).

use async_graphql::futures_util::{Stream, StreamExt};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Subscription, ID};
use domain::channel::CallerPlace;
use domain::customer_agenda::agenda_id;
use domain::inbound_call::dispatch::{choose_seat, estimated_wait_seconds, SeatCandidate, RULE_ID};
use domain::inbound_call::{
    DispatchRule, DispatchRuleCommand, InboundCall, InboundCallCommand, QueuedCall,
};
use domain::interview_task::{Participant, ParticipantRole};
use domain::message::message;
use domain::seat::{Seat, SeatCommand};
use domain::work_order::WorkOrder;
use projections::call_queue::{CallQueue, CallRow};
use projections::seat_calendar::SeatCalendar;
use projections::task_board::TaskBoard;
use uuid::Uuid;

use crate::access;
use crate::access::checks;
use crate::channels;
use crate::command;
use crate::context::{request, state};
use crate::error::ApiError;
use crate::request::RequestContext;
use crate::state::AppState;

/// Talk time assumed for the wait estimate until calls have been recorded.
const DEFAULT_TALK_SECONDS: i64 = 300;

pub use domain::inbound_call::IdleSeatRule;

/// A customer's call into the queue (呼入).
#[derive(InputObject)]
pub struct JoinQueueInput {
    /// The interview task or work order the call is for.
    pub task_id: ID,
    /// The channel the customer calls through (渠道代码).
    pub channel_code: String,
    /// The customer's locality, for channels restricted by 属地.
    pub locality: Option<String>,
    /// GPS latitude, for channels restricted by area.
    pub latitude: Option<f64>,
    /// GPS longitude.
    pub longitude: Option<f64>,
    /// Wi-Fi network name, for channels restricted by network.
    pub wifi: Option<String>,
    /// The customer's region (房屋所在地区), matched against seat skills.
    pub region: Option<String>,
    /// A seat the customer asks for (指定坐席).
    pub designated_seat: Option<String>,
}

/// An inbound call as the customer and the seats see it.
#[derive(SimpleObject, Clone, Debug)]
pub struct InboundCallView {
    /// Call id.
    pub call_id: ID,
    /// Task or work order.
    pub task_id: String,
    /// REFUSED, QUEUED, DISPATCHED, ANSWERED, ENDED or CANCELLED.
    pub status: String,
    /// The text shown to a refused customer.
    pub refusal: Option<String>,
    /// The seat it is given to or answered by.
    pub seat_no: Option<String>,
    /// Why that seat: DESIGNATED, PREASSIGNED, FAMILIAR, RANDOM, LEAST_BUSY or TRANSFER.
    pub dispatch_reason: Option<String>,
    /// 1-based place in the queue while waiting (客户当前排位).
    pub position: Option<i64>,
    /// Calls waiting in all (当前排队人数).
    pub waiting: i64,
    /// Estimated seconds until a seat takes the call, while waiting.
    pub estimated_wait_seconds: Option<i64>,
    /// 渠道代码.
    pub channel_code: String,
    /// 产品代码.
    pub product_code: String,
    /// When the customer called.
    pub requested_at: String,
    /// When a seat was given the call.
    pub dispatched_at: Option<String>,
    /// When the seat answered.
    pub answered_at: Option<String>,
    /// Offers that rang out unanswered (004 3.6; FACESIGN_RING_SECONDS each).
    pub unanswered_offers: i64,
    /// True once FACESIGN_RING_ATTEMPTS offers rang out: the call waits for a
    /// seat to take it (`takeQueuedCall`) instead of being offered again.
    pub waits_to_be_taken: bool,
}

/// The queue as a seat's 队列管理 shows it.
#[derive(SimpleObject)]
pub struct CallQueueView {
    /// Calls waiting (当前排队人数).
    pub waiting: i64,
    /// Waiting and ringing calls, oldest first.
    pub calls: Vec<InboundCallView>,
}

async fn view(state: &AppState, row: CallRow) -> Result<InboundCallView, ApiError> {
    let pool = state.database.read_models();
    let position = CallQueue::position(pool, &row).await?;
    let waiting = CallQueue::waiting_count(pool).await?;
    let ring_attempts = state.bus.services().operations.ring_attempts;
    let waits_to_be_taken =
        row.status == "QUEUED" && row.unanswered_offers >= i64::from(ring_attempts);
    let estimated_wait_seconds = match position {
        Some(position) => {
            let serving = SeatCalendar::seats(pool)
                .await?
                .iter()
                .filter(|s| s.enabled == 1 && s.signed_in == 1)
                .count();
            let talk = CallQueue::average_talk_seconds(pool)
                .await?
                .unwrap_or(DEFAULT_TALK_SECONDS);
            Some(i64::from(estimated_wait_seconds(
                u32::try_from(position).unwrap_or(u32::MAX),
                u32::try_from(serving).unwrap_or(u32::MAX),
                u32::try_from(talk.max(1)).unwrap_or(u32::MAX),
            )))
        }
        None => None,
    };
    Ok(InboundCallView {
        call_id: ID(row.call_id),
        task_id: row.task_id,
        status: row.status,
        refusal: row.refusal,
        seat_no: row.seat_no,
        dispatch_reason: row.dispatch_reason,
        position,
        waiting,
        estimated_wait_seconds,
        channel_code: row.channel_code,
        product_code: row.product_code,
        requested_at: row.requested_at,
        dispatched_at: row.dispatched_at,
        answered_at: row.answered_at,
        unanswered_offers: row.unanswered_offers,
        waits_to_be_taken,
    })
}

pub(crate) async fn call_view(
    state: &AppState,
    call_id: &str,
) -> Result<InboundCallView, ApiError> {
    let row = CallQueue::call(state.database.read_models(), call_id)
        .await?
        .ok_or_else(|| ApiError::not_found(message!("no call {call_id}")))?;
    view(state, row).await
}

fn parse_call_id(id: &ID) -> Result<Uuid, ApiError> {
    id.parse::<Uuid>()
        .map_err(|_| ApiError::validation(message!("callId must be a UUID")))
}

/// Who calls for `task_id` and for what: an interview task in 待面谈 / 处理中
/// (its booked seat is preassigned), or a work order in 待处理 / 处理中 (004
/// 3.3 可呼入状态). A customer may call only for their own task.
async fn caller(
    ctx: &Context<'_>,
    task_id: &str,
    channel_code: &str,
) -> Result<QueuedCall, ApiError> {
    let state = state(ctx);
    let not_callable = |status: &str| {
        ApiError::new(
            domain::ErrorCode::InvalidTransition,
            message!("a call is not accepted while the task is {status}"),
        )
    };
    if let Some(row) = TaskBoard::get(state.database.read_models(), task_id).await? {
        checks::act_on_task(ctx, &row).await?;
        if !matches!(row.status.as_str(), "PENDING" | "IN_PROGRESS") {
            return Err(not_callable(&row.status));
        }
        let people: Vec<Participant> = serde_json::from_str(&row.participants).unwrap_or_default();
        let borrower = people
            .iter()
            .find(|p| p.roles.contains(&ParticipantRole::Borrower))
            .ok_or_else(|| ApiError::internal(format!("task {task_id} has no main borrower")))?;
        let at = |t: &Option<String>| {
            t.as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.to_utc())
        };
        // 001 2.6.1: the aggregate refuses a call outside the booked window.
        let appointment = at(&row.appointment_start)
            .zip(at(&row.appointment_end))
            .map(|(start, end)| domain::schedule::Slot { start, end });
        return Ok(QueuedCall {
            task_id: task_id.to_string(),
            customer_key: agenda_id(borrower),
            channel_code: channel_code.to_string(),
            product_code: row.product_code,
            preassigned_seat: row.seat_no,
            appointment,
            ..QueuedCall::default()
        });
    }
    let (order, _) = state
        .bus
        .load::<WorkOrder>(task_id)
        .await
        .map_err(ApiError::internal)?;
    if order.status() == domain::work_order::WorkOrderStatus::None {
        return Err(ApiError::not_found(message!(
            "no task or work order {task_id}"
        )));
    }
    checks::work_order(ctx, task_id).await?;
    if !order.status().accepts_calls() {
        return Err(not_callable(&domain::wire_name(&order.status())));
    }
    Ok(QueuedCall {
        task_id: task_id.to_string(),
        customer_key: order.customer_key(),
        channel_code: channel_code.to_string(),
        product_code: order.details().business_type.clone(),
        ..QueuedCall::default()
    })
}

/// The deployment's dispatch rule.
async fn dispatch_rule(ctx: &Context<'_>) -> Result<DispatchRule, ApiError> {
    let (rule, _) = state(ctx)
        .bus
        .load::<DispatchRule>(RULE_ID)
        .await
        .map_err(ApiError::internal)?;
    Ok(rule)
}

/// Queue queries.
#[derive(Default)]
pub struct DispatchQuery;

#[Object]
impl DispatchQuery {
    /// 队列管理: waiting and ringing calls, oldest first.
    async fn call_queue(&self, ctx: &Context<'_>) -> Result<CallQueueView> {
        let state = state(ctx);
        let pool = state.database.read_models();
        let limit = state.config.max_page_size;
        let mut rows = CallQueue::in_status(pool, "QUEUED", limit)
            .await
            .map_err(ApiError::from)?;
        rows.extend(
            CallQueue::in_status(pool, "DISPATCHED", limit)
                .await
                .map_err(ApiError::from)?,
        );
        let mut calls = Vec::with_capacity(rows.len());
        for row in rows {
            calls.push(view(state, row).await?);
        }
        Ok(CallQueueView {
            waiting: CallQueue::waiting_count(pool)
                .await
                .map_err(ApiError::from)?,
            calls,
        })
    }

    /// One call, with its place in the queue and the estimated wait.
    async fn inbound_call(&self, ctx: &Context<'_>, call_id: ID) -> Result<InboundCallView> {
        parse_call_id(&call_id)?;
        checks::call(ctx, &call_id).await?;
        Ok(call_view(state(ctx), &call_id).await?)
    }

    /// Whether seats in no seat group answer the pool's calls once groups exist
    /// (004 3.18; false unless configured).
    async fn dispatch_ungrouped_seats_answer(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(dispatch_rule(ctx).await?.ungrouped_seats_answer())
    }

    /// The configured rule for idle seats.
    async fn dispatch_rule(&self, ctx: &Context<'_>) -> Result<IdleSeatRule> {
        Ok(dispatch_rule(ctx).await?.idle_seat_rule())
    }
}

/// Queue mutations.
#[derive(Default)]
pub struct DispatchMutation;

impl DispatchMutation {
    async fn on_call(
        &self,
        ctx: &Context<'_>,
        call_id: &ID,
        command: InboundCallCommand,
    ) -> Result<InboundCallView> {
        parse_call_id(call_id)?;
        let state = state(ctx);
        if !matches!(command, InboundCallCommand::Answer { .. }) {
            // Answering is for the seat the call was given to: the aggregate
            // checks the seat against the offer.
            checks::call(ctx, call_id).await?;
        }
        command::send_unguarded::<InboundCall>(ctx, call_id, command).await?;
        Ok(call_view(state, call_id).await?)
    }
}

#[Object]
impl DispatchMutation {
    /// 呼入: the channel decides (准入校验); a refused customer gets the exact
    /// text in `refusal` and the refusal is recorded; an admitted one joins the
    /// queue and is dispatched as soon as a seat is free.
    async fn join_queue(
        &self,
        ctx: &Context<'_>,
        input: JoinQueueInput,
    ) -> Result<InboundCallView> {
        let context = request(ctx).command_context()?;
        let channel_code = channels::channel_code(&input.channel_code)?;
        let mut call = caller(ctx, input.task_id.trim(), &channel_code).await?;
        call.region = crate::given_text(input.region);
        call.designated_seat = crate::given_text(input.designated_seat);
        let state = state(ctx);
        let place = CallerPlace {
            locality: input.locality,
            position: input.latitude.zip(input.longitude),
            wifi: input.wifi,
        };
        let admission = channels::admit(ctx, &channel_code, &place).await?;
        let call_id = request(ctx).new_aggregate_id::<InboundCall>(&state.bus);
        command::send_as::<InboundCall>(
            state,
            &call_id,
            InboundCallCommand::Request { call, admission },
            &context,
            &|_| Ok(()),
        )
        .await?;
        Ok(call_view(state, &call_id.to_string()).await?)
    }

    /// 取消排队 (004 4.3).
    async fn cancel_queued_call(&self, ctx: &Context<'_>, call_id: ID) -> Result<InboundCallView> {
        self.on_call(ctx, &call_id, InboundCallCommand::Cancel)
            .await
    }

    /// 接听: the seat the call was given to answers; it becomes 忙碌.
    async fn answer_call(
        &self,
        ctx: &Context<'_>,
        call_id: ID,
        seat_no: String,
    ) -> Result<InboundCallView> {
        checks::own_seat(ctx, &seat_no)?;
        self.on_call(ctx, &call_id, InboundCallCommand::Answer { seat_no })
            .await
    }

    /// 挂断: the answered call ends; the seat goes to 话后处理.
    async fn end_inbound_call(&self, ctx: &Context<'_>, call_id: ID) -> Result<InboundCallView> {
        let (call, _) = state(ctx)
            .bus
            .load::<InboundCall>(&call_id)
            .await
            .map_err(ApiError::internal)?;
        if let Some(seat_no) = call.seat_no() {
            checks::own_seat(ctx, seat_no)?;
        }
        self.on_call(ctx, &call_id, InboundCallCommand::End).await
    }

    /// 转出 before the video connects: to `toSeat`, or when omitted to an idle
    /// seat chosen by the dispatch rule (随机转出). The new seat must be free.
    async fn transfer_call(
        &self,
        ctx: &Context<'_>,
        call_id: ID,
        to_seat: Option<String>,
    ) -> Result<InboundCallView> {
        let id = parse_call_id(&call_id)?;
        let state = state(ctx);
        let (call, _) = state
            .bus
            .load::<InboundCall>(&call_id)
            .await
            .map_err(ApiError::internal)?;
        let Some(from) = call.seat_no().map(str::to_string) else {
            return Err(ApiError::new(
                domain::ErrorCode::InvalidTransition,
                message!("the call is not offered to a seat"),
            )
            .into());
        };
        checks::own_seat(ctx, &from)?;
        let to_seat = match to_seat.map(|s| s.trim().to_string()) {
            Some(seat) => seat,
            None => {
                let (rule, _) = state
                    .bus
                    .load::<DispatchRule>(RULE_ID)
                    .await
                    .map_err(ApiError::internal)?;
                let seats = SeatCalendar::seats(state.database.read_models())
                    .await
                    .map_err(ApiError::from)?;
                let candidates: Vec<SeatCandidate> = seats
                    .into_iter()
                    .map(|s| SeatCandidate {
                        available: s.seat_no != from
                            && s.enabled == 1
                            && s.signed_in == 1
                            && s.presence == "IDLE"
                            && s.offered_call.is_none(),
                        skills: s.skill_list(),
                        seat_no: s.seat_no,
                        answered_today: 0,
                        last_answered_at: None,
                        served_customer: false,
                    })
                    .collect();
                let mut anywhere = call.call().clone();
                anywhere.designated_seat = None;
                anywhere.preassigned_seat = None;
                choose_seat(id, &anywhere, &candidates, rule.idle_seat_rule())
                    .map(|(seat, _)| seat)
                    .ok_or_else(|| {
                        ApiError::new(
                            domain::ErrorCode::InvalidTransition,
                            message!("no other seat is free to take the call"),
                        )
                    })?
            }
        };
        let command = InboundCallCommand::Transfer {
            to_seat: to_seat.clone(),
        };
        offer_then(ctx, id, &to_seat, command).await
    }

    /// 队列管理: a seat takes a waiting call (one that rang out at
    /// FACESIGN_RING_ATTEMPTS seats waits for this), or a supervisor gives it
    /// to `seatNo`. The seat must be free; it then answers as usual.
    async fn take_queued_call(
        &self,
        ctx: &Context<'_>,
        call_id: ID,
        seat_no: String,
    ) -> Result<InboundCallView> {
        let id = parse_call_id(&call_id)?;
        let seat_no = seat_no.trim().to_string();
        checks::own_seat(ctx, &seat_no)?;
        let command = InboundCallCommand::Dispatch {
            seat_no: seat_no.clone(),
            reason: domain::inbound_call::DispatchReason::Picked,
        };
        offer_then(ctx, id, &seat_no, command).await
    }

    /// Sets the 分案规则 for idle seats.
    async fn configure_dispatch_rule(
        &self,
        ctx: &Context<'_>,
        idle_seat_rule: IdleSeatRule,
        #[graphql(
            desc = "004 3.18: once seat groups exist only seats in a group answer the pool's calls; true lets seats in no group answer too. Omitted: unchanged (false at first)."
        )]
        ungrouped_seats_answer: Option<bool>,
    ) -> Result<IdleSeatRule> {
        command::send_unguarded::<DispatchRule>(
            ctx,
            RULE_ID,
            DispatchRuleCommand::Configure {
                idle_seat_rule,
                ungrouped_seats_answer,
            },
        )
        .await?;
        Ok(idle_seat_rule)
    }
}

/// Gives call `id` to `seat_no` by `command` (a transfer or a dispatch): the
/// seat accepts the offer first (the guard); if the call then refuses (it was
/// answered, cancelled or taken meanwhile) the seat is given back. Three
/// commands, one wait: the bus directly, then the one wait policy.
async fn offer_then(
    ctx: &Context<'_>,
    id: Uuid,
    seat_no: &str,
    command: InboundCallCommand,
) -> Result<InboundCallView> {
    let state = state(ctx);
    let context = request(ctx).command_context()?;
    let call_id = id.to_string();
    state
        .bus
        .execute::<Seat>(seat_no, SeatCommand::OfferCall { call_id: id }, &context)
        .await
        .map_err(ApiError::from)?;
    let receipt = match state
        .bus
        .execute::<InboundCall>(&call_id, command, &context)
        .await
    {
        Ok(receipt) => receipt,
        Err(refused) => {
            state
                .bus
                .execute::<Seat>(
                    seat_no,
                    SeatCommand::WithdrawOffer { call_id: id },
                    &context,
                )
                .await
                .map_err(ApiError::from)?;
            return Err(ApiError::from(refused).into());
        }
    };
    let settled = command::settle(state, &receipt, &context.correlation_id).await;
    if let Some(reached) = settled.reached {
        request(ctx).reach(reached);
    }
    Ok(call_view(state, &call_id).await?)
}

/// Queue subscriptions.
#[derive(Default)]
pub struct DispatchSubscription;

#[Subscription]
impl DispatchSubscription {
    /// 排队等待页面: the call now and after every change of the queue — its
    /// place, the estimated wait, the seat once dispatched.
    async fn queue_ticket(
        &self,
        ctx: &Context<'_>,
        call_id: ID,
    ) -> Result<impl Stream<Item = InboundCallView>> {
        access::authorize(ctx.data_opt::<RequestContext>(), "Subscription.queueTicket")?;
        parse_call_id(&call_id)?;
        checks::call(ctx, &call_id).await?;
        let state = state(ctx).clone();
        // Subscribed before the first view is read, so no change falls between.
        let changes = state.feeds.call(&state, &call_id)?;
        let first = call_view(&state, &call_id).await?;
        let rest = async_graphql::futures_util::stream::unfold(changes, |mut changes| async move {
            loop {
                match changes.recv().await {
                    Ok(view) => return Some((InboundCallView::clone(&view), changes)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Ok(async_graphql::futures_util::stream::once(async move { first }).chain(rest))
    }
}
