//! Interview tasks in GraphQL: the task board, task commands, task changes.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::futures_util::Stream;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Subscription, ID};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use domain::interview_task::{
    AppointmentPurpose, CancelInterviewTask, CreateInterviewTask, InterviewTask,
    InterviewTaskCommand, RequestAppointment, Requester,
};
use domain::message::message;
use projections::task_board::{TaskBoard, TaskFilter};

use crate::access;
use crate::access::checks;
use crate::command;
use crate::context::{request, state, viewer};
use crate::error::ApiError;
use crate::interview_task::{
    parse_time, payload, send_to_task, task_uuid, CreateInterviewTaskInput, InterviewTaskPayload,
    InterviewTaskView, TaskStatus,
};
use crate::request::RequestContext;

/// Opaque cursor of the task board: the creating event's global position.
pub struct BoardCursor(i64);

impl CursorType for BoardCursor {
    type Error = domain::message::Message;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| message!("cursor is not one this API issued"))?;
        let text =
            String::from_utf8(bytes).map_err(|_| message!("cursor is not one this API issued"))?;
        text.strip_prefix("task:")
            .and_then(|n| n.parse().ok())
            .map(BoardCursor)
            .ok_or_else(|| message!("cursor is not one this API issued"))
    }

    fn encode_cursor(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("task:{}", self.0))
    }
}

/// Task queries.
#[derive(Default)]
pub struct TaskQuery;

#[Object]
impl TaskQuery {
    /// Messages sent about a record, oldest first: an interview task, a work
    /// order or a loan application, each read under its own ownership rule.
    /// Texts and phones are masked by the same rule as the record's fields.
    async fn sms_messages(&self, ctx: &Context<'_>, task_id: ID) -> Result<Vec<SmsMessage>> {
        let Some(about) = sms_record(ctx, &task_id).await? else {
            // No record: no messages, and nothing said about whose it would be.
            return Ok(Vec::new());
        };
        if about.reveal {
            access::record::personal_data(
                ctx,
                about.record.clone(),
                &["smsMessages.phone", "smsMessages.body"],
            );
        }
        let pool = state(ctx).database.read_models();
        let sent = workers::sms::sent_for_task(pool, &task_id)
            .await
            .map_err(ApiError::from)?;
        let mut reports = workers::sms::reports_for_task(pool, &task_id)
            .await
            .map_err(ApiError::from)?;
        let names: Vec<&str> = about.names.iter().map(String::as_str).collect();
        sent.into_iter()
            .map(|m| {
                let delivery_reports = reports
                    .extract_if(.., |r| r.message_id == m.message_id)
                    .map(|r| {
                        Ok(SmsDeliveryReport {
                            status: r.status,
                            reason: r.reason,
                            received_at: parse_time(&r.received_at)?,
                            applied: r.applied == 1,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(SmsMessage {
                    id: ID(m.message_id),
                    task_id: ID(m.task_id),
                    phone: access::phone(about.reveal, &m.phone),
                    template: m.template,
                    body: if about.reveal {
                        m.body
                    } else {
                        domain::pii::mask_text(&m.body, &names)
                    },
                    sent_at: parse_time(&m.sent_at)?,
                    delivery_status: m.status,
                    attempts: m.attempts,
                    delivery_error: m.last_error,
                    status_at: m.status_at.as_deref().map(parse_time).transpose()?,
                    delivery_reports,
                })
            })
            .collect()
    }

    /// 001 2.5.1 (通过客户房屋属地, 判断客户个案省内/省外归属): whether a case whose
    /// property lies in `province` gets a video interview. 移动营销 shows
    /// 【提交面谈】 when it does and 【提交合同信息】 when it does not.
    async fn interview_route(&self, ctx: &Context<'_>, province: String) -> Result<InterviewRoute> {
        let province = province.trim().to_string();
        if province.is_empty() || province.chars().count() > 32 {
            return Err(
                ApiError::validation(message!("province must be 1 to 32 characters")).into(),
            );
        }
        let routing = &state(ctx).bus.services().routing;
        Ok(InterviewRoute {
            interview_required: routing.interviews(&province),
            home_province: routing.home_province.clone(),
            province,
        })
    }

    /// One task by id; null when unknown (and, for a customer, when it is not
    /// theirs: it looks absent). Staff outside the ownership rule get FORBIDDEN.
    async fn task(&self, ctx: &Context<'_>, id: ID) -> Result<Option<InterviewTaskView>> {
        let Some(row) = TaskBoard::get(state(ctx).database.read_models(), &id)
            .await
            .map_err(ApiError::from)?
        else {
            return Ok(None);
        };
        match checks::read_task(ctx, &row).await {
            Ok(()) => Ok(Some(InterviewTaskView::alone(ctx, row).await?)),
            Err(e) if e.code == domain::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The task board, newest first, with Relay cursor pagination.
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100; default 20.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        status: Option<TaskStatus>,
        #[graphql(default)] filter: TaskFilterInput,
    ) -> Result<Connection<BoardCursor, InterviewTaskView>> {
        let state = state(ctx);
        let first = i64::from(first.unwrap_or(20));
        if !(1..=state.config.max_page_size).contains(&first) {
            return Err(ApiError::validation(message!(
                "first must be between 1 and {max}",
                max = state.config.max_page_size
            ))
            .into());
        }
        let before = match after {
            Some(cursor) => Some(
                BoardCursor::decode_cursor(&cursor)
                    .map_err(ApiError::validation)?
                    .0,
            ),
            None => None,
        };
        // Lists show only what the caller reaches, so counts and pages never
        // reveal other people's tasks.
        let caller = checks::caller(ctx)?;
        let mine = |role| (caller.role == role).then(|| caller.id.to_string());
        let text = crate::given_text;
        if text(filter.borrower_name.clone()).is_some() {
            checks::masked_filter(ctx, "borrowerName")?;
        }
        let filter = TaskFilter {
            manager_id: mine(domain::role::Role::AccountManager),
            seat_reach: mine(domain::role::Role::Seat),
            participant: mine(domain::role::Role::Customer),
            borrower_name: text(filter.borrower_name),
            province: text(filter.province),
            city: text(filter.city),
            district: text(filter.district),
            status,
            contract_no: filter.contract_no,
            seat_no: filter.seat_no,
            product_code: filter.product_code,
            channel_code: filter.channel_code,
            from: filter.from.map(crate::rfc3339),
            to: filter.to.map(crate::rfc3339),
        };
        let page = TaskBoard::page(state.database.read_models(), &filter, before, first)
            .await
            .map_err(ApiError::from)?;
        let mut connection = Connection::new(before.is_some(), page.has_next_page);
        connection.edges.extend(page.rows.into_iter().map(|row| {
            Edge::new(
                BoardCursor(row.created_position),
                InterviewTaskView::listed(ctx, row),
            )
        }));
        Ok(connection)
    }
}

/// Where a case goes (001 2.5: 省内 keeps its flow, 省外 is interviewed).
#[derive(SimpleObject)]
pub struct InterviewRoute {
    /// The province asked about.
    pub province: String,
    /// The bank's own province (FACESIGN_HOME_PROVINCE); null: not configured,
    /// every case is interviewed.
    pub home_province: Option<String>,
    /// Whether the case gets a video interview task (省外).
    pub interview_required: bool,
}

/// Narrows the task board.
#[derive(InputObject, Default)]
pub struct TaskFilterInput {
    /// Only this loan contract.
    pub contract_no: Option<String>,
    /// Only appointments with this seat.
    pub seat_no: Option<String>,
    /// Only this product.
    pub product_code: Option<String>,
    /// Only this channel.
    pub channel_code: Option<String>,
    /// Only appointments starting at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only appointments starting before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Only tasks whose main borrower has this name (客户姓名).
    pub borrower_name: Option<String>,
    /// Only properties in this province (房屋属地省, 001 2.4.2).
    pub province: Option<String>,
    /// … in this city.
    pub city: Option<String>,
    /// … in this district.
    pub district: Option<String>,
}

/// A text message the engine sent (the default SMS sink records them all).
#[derive(SimpleObject)]
pub struct SmsMessage {
    /// Message id.
    pub id: ID,
    /// Task the message is about.
    pub task_id: ID,
    /// Recipient, masked.
    pub phone: String,
    /// Template name.
    pub template: String,
    /// Text as sent.
    pub body: String,
    /// When it was recorded.
    pub sent_at: DateTime<Utc>,
    /// PENDING (waiting for the gateway), SENT (accepted by it), DELIVERED or
    /// UNDELIVERED (as it reported), FAILED (refused or out of attempts),
    /// EXPIRED (too old to send); RECORDED before delivery existed.
    pub delivery_status: String,
    /// Attempts to hand it to the gateway.
    pub attempts: i64,
    /// Why the last attempt or the delivery failed.
    pub delivery_error: Option<String>,
    /// When the status last changed.
    pub status_at: Option<DateTime<Utc>>,
    /// Every delivery report the gateway sent, in arrival order (a late one
    /// that would move the status back is kept here, not applied).
    pub delivery_reports: Vec<SmsDeliveryReport>,
}

/// A delivery report of the SMS gateway, as received.
#[derive(SimpleObject)]
pub struct SmsDeliveryReport {
    /// DELIVERED or UNDELIVERED.
    pub status: String,
    /// Why not delivered.
    pub reason: Option<String>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// Whether it moved the message's status (status only moves forward).
    pub applied: bool,
}

/// The record SMS texts are about, as the caller may see it.
struct SmsRecord {
    /// `interview-task:…`, `work-order:…` or `loan-application:…`.
    record: String,
    /// Whether the caller sees its personal data in clear.
    reveal: bool,
    /// The names of its people, masked in the texts otherwise.
    names: Vec<String>,
}

/// Which record `id` is and whether the caller may read its texts (its
/// ownership rule refuses otherwise); None when there is no such record.
async fn sms_record(ctx: &Context<'_>, id: &str) -> Result<Option<SmsRecord>, ApiError> {
    let pool = state(ctx).database.read_models();
    let role = viewer(ctx);
    if let Some(row) = TaskBoard::get(pool, id).await? {
        checks::read_task(ctx, &row).await?;
        let names =
            serde_json::from_str::<Vec<domain::interview_task::Participant>>(&row.participants)
                .map(|people| people.into_iter().map(|p| p.name).collect())
                .unwrap_or_default();
        let reveal = InterviewTaskView::alone(ctx, row).await?.reveals();
        return Ok(Some(SmsRecord {
            record: format!("interview-task:{id}"),
            reveal,
            names,
        }));
    }
    if let Some(order) = projections::AdminCatalog::work_order(pool, id).await? {
        // Work orders are the operations centre's, not account managers' (security.md).
        if role == Some(domain::role::Role::AccountManager) {
            return Err(ApiError::new(
                domain::ErrorCode::Forbidden,
                message!("account managers do not read work orders"),
            ));
        }
        checks::work_order(ctx, id).await?;
        let showing = checks::showing(ctx, id, order.seat_no.as_deref()).await?;
        return Ok(Some(SmsRecord {
            record: format!("work-order:{id}"),
            reveal: access::reveals(role, showing),
            names: vec![order.customer_name],
        }));
    }
    let (loan, _) = state(ctx)
        .bus
        .load::<domain::loan_application::LoanApplication>(id)
        .await
        .map_err(ApiError::internal)?;
    if loan.participants().is_empty() {
        return Ok(None);
    }
    checks::read_loan(ctx, id).await?;
    Ok(Some(SmsRecord {
        record: format!("loan-application:{id}"),
        reveal: access::reveals(role, access::Showing::Alone),
        names: loan.participants().iter().map(|p| p.name.clone()).collect(),
    }))
}

/// Task mutations: one per command.
#[derive(Default)]
pub struct TaskMutation;

impl TaskMutation {
    async fn send(
        &self,
        ctx: &Context<'_>,
        task_id: String,
        command: InterviewTaskCommand,
    ) -> Result<InterviewTaskPayload> {
        send_to_task(ctx, task_id, command).await
    }

    /// Sends an appointment request and waits, bounded, until the scheduling
    /// process manager has confirmed or refused it. A refusal is answered with
    /// its code and changes nothing.
    async fn request_appointment(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        purpose: AppointmentPurpose,
        seat_no: String,
        slot: (DateTime<Utc>, DateTime<Utc>),
        on_behalf_of_borrower: bool,
    ) -> Result<InterviewTaskPayload> {
        let state = state(ctx);
        let task_id = task_uuid(&task_id)?;
        let caller = request(ctx);
        let context = caller.command_context()?;
        let booking_id = caller.new_id(state.bus.services().ids.as_ref());
        let command = InterviewTaskCommand::RequestAppointment(RequestAppointment {
            booking_id,
            purpose,
            seat_no,
            start: slot.0,
            end: slot.1,
            requester: Requester {
                actor_id: context.actor.id.clone(),
                role: context.actor.role.clone(),
                on_behalf_of_borrower,
            },
        });
        let guard = checks::task_guard(ctx, &task_id).await?;
        // The wait follows what the request caused: the scheduling flow
        // confirms or refuses the booking (and, once confirmed, releases the
        // old slot), so the row read afterwards holds the answer.
        let sent = command::send::<InterviewTask>(ctx, &task_id, command, &guard).await?;
        let row = TaskBoard::get(state.database.read_models(), &task_id)
            .await
            .map_err(ApiError::from)?
            .filter(|r| r.booking_id.as_deref() == Some(booking_id.to_string().as_str()));
        match row {
            Some(row) if sent.projected && row.booking_status.as_deref() == Some("REFUSED") => {
                let code = row
                    .booking_error_code
                    .as_deref()
                    .and_then(error_code)
                    .unwrap_or(domain::ErrorCode::Conflict);
                // The refusal as the event recorded it.
                let recorded =
                    domain::message::Message::verbatim(row.booking_error.unwrap_or_default());
                Err(ApiError::new(code, recorded).into())
            }
            Some(row) if row.booking_status.as_deref() == Some("CONFIRMED") => {
                payload(ctx, task_id, sent.receipt, sent.projected).await
            }
            _ => payload(ctx, task_id, sent.receipt, false).await,
        }
    }
}

fn error_code(code: &str) -> Option<domain::ErrorCode> {
    serde_json::from_value(serde_json::Value::String(code.to_string())).ok()
}

#[Object]
impl TaskMutation {
    /// Opens an interview task for a loan contract (status PENDING / 待面谈).
    async fn create_interview_task(
        &self,
        ctx: &Context<'_>,
        input: CreateInterviewTaskInput,
    ) -> Result<InterviewTaskPayload> {
        // A figure the bank decides (a rate, an amount) enters only through
        // the credit system's identity.
        if input.loan_info.is_some()
            && request(ctx).command_context()?.actor.role
                != domain::role::Role::CreditSystem.as_str()
        {
            return Err(ApiError::new(
                domain::ErrorCode::Forbidden,
                message!("loanInfo comes from the credit system only"),
            )
            .into());
        }
        let task_id = request(ctx).new_aggregate_id::<InterviewTask>(&state(ctx).bus);
        let command = InterviewTaskCommand::Create(CreateInterviewTask {
            loan_info: input.loan_info.map(|info| Box::new(info.into())),
            lineage: None,
            task_id: task_id.clone(),
            contract_no: input.contract_no,
            kind: input.kind,
            product_code: input.product_code,
            channel_code: input.channel_code,
            manager_id: input.manager_id,
            participants: input.participants.into_iter().map(Into::into).collect(),
            property_location: input.property_location.map(|p| Box::new(p.into())),
        });
        self.send(ctx, task_id, command).await
    }

    /// Withdraws a task (已撤销); only from PENDING or IN_PROGRESS.
    async fn cancel_interview_task(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<InterviewTaskPayload> {
        let id = task_uuid(&id)?;
        self.send(
            ctx,
            id,
            InterviewTaskCommand::Cancel(CancelInterviewTask { reason }),
        )
        .await
    }

    /// Books the first appointment of a task with a seat (面谈预约): the seat,
    /// then every participant's agenda, then the task; all or nothing.
    async fn book_appointment(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        seat_no: String,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<InterviewTaskPayload> {
        self.request_appointment(
            ctx,
            task_id,
            AppointmentPurpose::Book,
            seat_no,
            (start, end),
            false,
        )
        .await
    }

    /// Moves the appointment to a new time (改约): by the main borrower, or by
    /// staff on the borrower's behalf; before the window opens, or once expired;
    /// at most twice by default. The task and its id stay the same.
    async fn reschedule_appointment(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        #[graphql(desc = "Seat for the new time; default: the current seat.")] seat_no: Option<
            String,
        >,
        #[graphql(default)] on_behalf_of_borrower: bool,
    ) -> Result<InterviewTaskPayload> {
        let seat_no = match seat_no {
            Some(seat_no) => seat_no,
            None => current_seat(ctx, &task_id).await?,
        };
        self.request_appointment(
            ctx,
            task_id,
            AppointmentPurpose::Reschedule,
            seat_no,
            (start, end),
            on_behalf_of_borrower,
        )
        .await
    }

    /// Moves a booked appointment to another seat at the same time (预约再分配, supervisors).
    async fn reassign_appointment(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        seat_no: String,
    ) -> Result<InterviewTaskPayload> {
        let now = state(ctx).bus.services().clock.now();
        self.request_appointment(
            ctx,
            task_id,
            AppointmentPurpose::Reassign,
            seat_no,
            (now, now),
            false,
        )
        .await
    }

    /// A disputed interview (存疑) asks for a second one (二次面谈).
    async fn request_second_interview(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        seat_no: String,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        #[graphql(default)] on_behalf_of_borrower: bool,
    ) -> Result<InterviewTaskPayload> {
        self.request_appointment(
            ctx,
            task_id,
            AppointmentPurpose::SecondInterview,
            seat_no,
            (start, end),
            on_behalf_of_borrower,
        )
        .await
    }

    /// The seat connects the interview inside its window (处理中) and holds the
    /// task until it concludes or puts it back (000).
    async fn start_interview(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        seat_no: String,
    ) -> Result<InterviewTaskPayload> {
        let id = task_uuid(&task_id)?;
        checks::own_seat(ctx, &seat_no)?;
        self.send(ctx, id, InterviewTaskCommand::StartInterview { seat_no })
            .await
    }

    /// 放回 (000): the seat holding the interview puts the task back; it is
    /// 待面谈 again for another seat, and what was recorded stays.
    async fn release_task(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        reason: String,
    ) -> Result<InterviewTaskPayload> {
        let id = task_uuid(&task_id)?;
        self.send(ctx, id, InterviewTaskCommand::PutBack { reason })
            .await
    }

    /// The seat concludes: PASS (通过) or DOUBTFUL (存疑).
    async fn conclude_interview(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        outcome: InterviewOutcome,
    ) -> Result<InterviewTaskPayload> {
        let id = task_uuid(&task_id)?;
        self.send(ctx, id, InterviewTaskCommand::ConcludeInterview { outcome })
            .await
    }
}

async fn current_seat(ctx: &Context<'_>, task_id: &ID) -> Result<String> {
    let row = TaskBoard::get(state(ctx).database.read_models(), task_id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::not_found(message!("interview task not found")))?;
    row.seat_no.ok_or_else(|| {
        ApiError::new(
            domain::ErrorCode::InvalidTransition,
            message!("the task has no appointment yet; book one first"),
        )
        .into()
    })
}

pub use domain::interview_task::InterviewOutcome;

/// Task changes over WebSocket.
#[derive(Default)]
pub struct TaskSubscription;

#[Subscription]
impl TaskSubscription {
    /// Emits the task each time its board row changes; every task when `id` is omitted.
    async fn task_changed(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
    ) -> Result<impl Stream<Item = InterviewTaskView>> {
        access::authorize(ctx.data_opt::<RequestContext>(), "Subscription.taskChanged")?;
        let state = state(ctx).clone();
        let caller = checks::caller(ctx)?;
        let (role, me) = (caller.role, caller.id.to_string());
        // Read once per change for every subscriber (crate::change_feeds);
        // each subscriber keeps only the tasks it reaches.
        let changes = state.feeds.tasks(&state)?;
        Ok(async_graphql::futures_util::stream::unfold(
            (changes, id),
            move |(mut changes, id)| {
                let me = me.clone();
                async move {
                    loop {
                        let change = match changes.recv().await {
                            Ok(change) => change,
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                        };
                        if id
                            .as_ref()
                            .is_some_and(|id| id.as_str() != change.row.task_id)
                        {
                            continue;
                        }
                        let seats = if role == domain::role::Role::Seat {
                            change.called_seats.clone()
                        } else {
                            Vec::new()
                        };
                        let facts = access::ownership::TaskFacts::of_row(&change.row, seats);
                        let caller = access::ownership::Caller { role, id: &me };
                        if access::ownership::task(caller, &facts, access::ownership::Intent::Read)
                            .is_ok()
                        {
                            let task =
                                InterviewTaskView::listed_for(Some(role), change.row.clone());
                            return Some((task, (changes, id)));
                        }
                    }
                }
            },
        ))
    }
}
