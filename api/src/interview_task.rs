//! The interview task as the API shows it — its view, payload and id — and
//! the command path to it, shared by the task, session and QC resolvers.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::interview_task::{self as task, InterviewTask, InterviewTaskCommand};
use domain::log::LogPosition;
use domain::message::message;
use projections::task_board::{TaskBoard, TaskBoardRow};
use uuid::Uuid;

use crate::access;
use crate::access::checks;
use crate::command;
use crate::context::{state, viewer};
use crate::error::ApiError;

pub use domain::interview_task::IdType;
pub use domain::interview_task::ParticipantRole;
pub use domain::interview_task::TaskAction;
pub use domain::interview_task::TaskKind;
pub use domain::interview_task::TaskStatus;
pub use domain::interview_task::TaskStep;

/// A participant as submitted.
#[derive(InputObject)]
pub struct ParticipantInput {
    /// Full name.
    pub name: String,
    /// Identity document kind.
    #[graphql(default)]
    pub id_type: IdType,
    /// Identity document number.
    pub id_number: String,
    /// Registered mobile number.
    pub phone: String,
    /// Roles held; the same person may be listed again with other roles.
    pub roles: Vec<ParticipantRole>,
    /// 婚姻状况.
    pub marital_status: Option<MaritalStatus>,
    /// 与借款人关系 (e.g. 配偶, 父母), for anyone but the main borrower.
    pub relation_to_borrower: Option<String>,
}

impl From<ParticipantInput> for task::ParticipantInput {
    fn from(p: ParticipantInput) -> Self {
        Self {
            name: p.name,
            id_type: p.id_type,
            id_number: p.id_number,
            phone: p.phone,
            roles: p.roles.into_iter().collect(),
            marital_status: p.marital_status,
            relation_to_borrower: p.relation_to_borrower,
        }
    }
}

pub use domain::interview_task::MaritalStatus;

/// 房产位置 (房屋属地): decides 省内/省外 (001 2.5).
#[derive(InputObject, SimpleObject, Clone)]
#[graphql(input_name = "PropertyLocationInput")]
pub struct PropertyLocation {
    /// 省.
    pub province: String,
    /// 市.
    pub city: String,
    /// 区县.
    pub district: String,
    /// 详细地址.
    pub address: Option<String>,
}

impl From<PropertyLocation> for task::PropertyLocation {
    fn from(p: PropertyLocation) -> Self {
        Self {
            province: p.province,
            city: p.city,
            district: p.district,
            address: p.address,
        }
    }
}

/// Input of `createInterviewTask`.
#[derive(InputObject)]
pub struct CreateInterviewTaskInput {
    /// Loan contract number (借款合同号).
    pub contract_no: String,
    /// Interview flow.
    pub kind: TaskKind,
    /// Product code.
    pub product_code: String,
    /// Channel code.
    pub channel_code: String,
    /// Account manager staff no.
    pub manager_id: String,
    /// Everyone on the contract.
    pub participants: Vec<ParticipantInput>,
    /// 房产位置. Where FACESIGN_HOME_PROVINCE is set, a property in that
    /// province is 省内 and the task is refused (001 2.5.1: only 省外 cases
    /// have a video interview).
    pub property_location: Option<PropertyLocation>,
    /// The loan figures the credit system holds (001 §2.3.1.1 item 14:
    /// 预贷款/贷款信息), shown to the seat, who confirms or corrects them. Only
    /// the credit system gives them (else `FORBIDDEN`).
    pub loan_info: Option<crate::session::LoanInfoInput>,
}

/// A participant of a task; personal data masked.
#[derive(SimpleObject)]
pub struct Participant {
    /// Masked name (邓*闲).
    pub name: String,
    /// Identity document kind.
    pub id_type: IdType,
    /// Masked ID number.
    pub id_number: String,
    /// Masked phone.
    pub phone: String,
    /// Roles held.
    pub roles: Vec<ParticipantRole>,
    /// Whether this person is the main borrower.
    pub is_main_borrower: bool,
    /// 婚姻状况, when known.
    pub marital_status: Option<MaritalStatus>,
    /// 与借款人关系, when known (never for the main borrower).
    pub relation_to_borrower: Option<String>,
}

/// An interview task as the task board shows it, with personal data masked
/// unless this caller sees it in clear where it is shown (access::reveals).
pub struct InterviewTaskView {
    pub(crate) row: TaskBoardRow,
    reveal: bool,
}

impl InterviewTaskView {
    /// A task shown as a row of a list.
    pub(crate) fn listed(ctx: &Context<'_>, row: TaskBoardRow) -> Self {
        Self::listed_for(viewer(ctx), row)
    }

    /// A task shown as a row of a list to a caller of `role` (a subscription,
    /// which outlives the request's context).
    pub(crate) fn listed_for(role: Option<domain::role::Role>, row: TaskBoardRow) -> Self {
        Self {
            reveal: access::reveals(role, access::Showing::Listed),
            row,
        }
    }

    /// A task shown on its own (a seat sees it in clear when serving it).
    pub(crate) async fn alone(ctx: &Context<'_>, row: TaskBoardRow) -> Result<Self, ApiError> {
        let held_by = (row.status == task::TaskStatus::InProgress.as_str())
            .then_some(row.interview_seat.as_deref())
            .flatten();
        let showing = checks::showing(ctx, &row.task_id, held_by).await?;
        Ok(Self {
            reveal: access::reveals(viewer(ctx), showing),
            row,
        })
    }

    /// Whether the caller sees this task's personal data in clear.
    pub(crate) fn reveals(&self) -> bool {
        self.reveal
    }

    /// 操作留痕: the personal data this field resolves in clear.
    fn record_reveal(&self, ctx: &Context<'_>, fields: &[&str]) {
        if self.reveal {
            access::record::personal_data(
                ctx,
                format!("interview-task:{}", self.row.task_id),
                fields,
            );
        }
    }
}

pub use domain::interview_task::CreditTaskStatus;

#[Object(name = "InterviewTask")]
impl InterviewTaskView {
    /// Task id.
    async fn id(&self) -> ID {
        ID(self.row.task_id.clone())
    }
    /// Loan contract number.
    async fn contract_no(&self) -> &str {
        &self.row.contract_no
    }
    /// 房产位置, when the credit system sent it (the address masked like
    /// other personal data).
    async fn property_location(&self, ctx: &Context<'_>) -> Option<PropertyLocation> {
        let row = &self.row;
        let (province, city, district) = (
            row.property_province.clone()?,
            row.property_city.clone()?,
            row.property_district.clone()?,
        );
        if row.property_address.is_some() {
            self.record_reveal(ctx, &["propertyLocation.address"]);
        }
        Some(PropertyLocation {
            province,
            city,
            district,
            address: row.property_address.as_ref().map(|a| {
                if self.reveal {
                    a.clone()
                } else {
                    domain::pii::mask_address(a)
                }
            }),
        })
    }
    /// Interview flow.
    async fn kind(&self) -> Result<TaskKind> {
        parse_stored::<task::TaskKind>(&self.row.kind)
    }
    /// Current status.
    async fn status(&self) -> Result<TaskStatus> {
        Ok(self.stored_status()?)
    }
    /// Status name for staff (待面谈, 已撤销, ...).
    async fn status_label(&self) -> Result<&'static str> {
        Ok(self.stored_status()?.label_zh())
    }
    /// The status the credit system is told (001: 待面谈, 已面谈（待提交面签）,
    /// 已面谈（面谈拒绝）) — 存疑 and expired tasks are still PENDING_INTERVIEW;
    /// null for a cancelled or superseded task.
    async fn credit_status(&self) -> Result<Option<CreditTaskStatus>> {
        Ok(task::CreditTaskStatus::of(self.stored_status()?))
    }
    /// Its name in 001.
    async fn credit_status_label(&self) -> Result<Option<&'static str>> {
        Ok(task::CreditTaskStatus::of(self.stored_status()?).map(|s| s.label_zh()))
    }
    /// Product code.
    async fn product_code(&self) -> &str {
        &self.row.product_code
    }
    /// Channel code.
    async fn channel_code(&self) -> &str {
        &self.row.channel_code
    }
    /// Account manager staff no.
    async fn manager_id(&self) -> &str {
        &self.row.manager_id
    }
    /// Main borrower's name (masked for roles without need, 邓*闲).
    async fn borrower_name(&self, ctx: &Context<'_>) -> String {
        self.record_reveal(ctx, &["borrowerName"]);
        access::name(self.reveal, &self.row.borrower_name)
    }
    /// Everyone on the contract, de-duplicated (masked for roles without need).
    async fn participants(&self, ctx: &Context<'_>) -> Result<Vec<Participant>> {
        let reveal = self.reveal;
        let participants: Vec<task::Participant> = serde_json::from_str(&self.row.participants)
            .map_err(|e| ApiError::internal(format!("task_board.participants: {e}")))?;
        let asked = ctx.look_ahead();
        let fields: Vec<&str> = [
            ("name", "participants.name"),
            ("idNumber", "participants.idNumber"),
            ("phone", "participants.phone"),
        ]
        .into_iter()
        .filter(|(field, _)| asked.field(field).exists())
        .map(|(_, recorded)| recorded)
        .collect();
        self.record_reveal(ctx, &fields);
        Ok(participants
            .into_iter()
            .map(|p| Participant {
                name: access::name(reveal, &p.name),
                id_type: p.id_type,
                id_number: access::id_number(reveal, &p.id_number),
                phone: access::phone(reveal, &p.phone),
                is_main_borrower: p.is_main_borrower(),
                roles: p.roles.into_iter().collect(),
                marital_status: p.marital_status,
                relation_to_borrower: p.relation_to_borrower,
            })
            .collect())
    }
    /// What the caller may do to the task now: what its state opens, narrowed
    /// by the caller's role and ownership (a seat: only the task it holds while
    /// it is in progress). Clients offer exactly these.
    async fn allowed_actions(&self, ctx: &Context<'_>) -> Result<Vec<TaskAction>> {
        Ok(checks::task_actions(ctx, &self.row)
            .await?
            .into_iter()
            .collect())
    }
    /// Steps the kind requires, in order.
    async fn required_steps(&self) -> Result<Vec<TaskStep>> {
        let steps: Vec<task::TaskStep> = serde_json::from_str(&self.row.required_steps)
            .map_err(|e| ApiError::internal(format!("task_board.required_steps: {e}")))?;
        Ok(steps.into_iter().collect())
    }
    /// Why the task was cancelled.
    async fn cancel_reason(&self) -> Option<&str> {
        self.row.cancel_reason.as_deref()
    }
    /// When the task was opened.
    async fn created_at(&self) -> Result<DateTime<Utc>> {
        parse_time(&self.row.created_at)
    }
    /// When the task last changed.
    async fn updated_at(&self) -> Result<DateTime<Utc>> {
        parse_time(&self.row.updated_at)
    }
    /// Sequence of the last event applied (the aggregate version).
    async fn version(&self) -> i64 {
        self.row.last_sequence
    }
    /// Seat of the current appointment.
    async fn seat_no(&self) -> Option<&str> {
        self.row.seat_no.as_deref()
    }
    /// The seat that connected the interview; while it is in progress this
    /// seat holds the task (000) until it concludes or puts it back.
    async fn interview_seat_no(&self) -> Option<&str> {
        self.row.interview_seat.as_deref()
    }
    /// Start of the current appointment.
    async fn appointment_start(&self) -> Result<Option<DateTime<Utc>>> {
        self.row
            .appointment_start
            .as_deref()
            .map(parse_time)
            .transpose()
    }
    /// End of the current appointment.
    async fn appointment_end(&self) -> Result<Option<DateTime<Utc>>> {
        self.row
            .appointment_end
            .as_deref()
            .map(parse_time)
            .transpose()
    }
    /// Reschedules used (at most 2 by default).
    async fn reschedule_count(&self) -> i64 {
        self.row.reschedule_count
    }
    /// The latest appointment request: REQUESTED, CONFIRMED or REFUSED.
    async fn booking_status(&self) -> Option<&str> {
        self.row.booking_status.as_deref()
    }
    /// Why the latest appointment request was refused.
    async fn booking_error(&self) -> Option<&str> {
        self.row.booking_error.as_deref()
    }
}

impl InterviewTaskView {
    fn stored_status(&self) -> Result<task::TaskStatus, ApiError> {
        task::TaskStatus::parse(&self.row.status)
            .ok_or_else(|| ApiError::internal(format!("unknown stored status {}", self.row.status)))
    }
}

pub(crate) fn parse_stored<T: serde::de::DeserializeOwned>(name: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|e| ApiError::internal(format!("stored value {name}: {e}")).into())
}

pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ApiError::internal(format!("stored time {text}: {e}")).into())
}

/// What a mutation did and, once projected, the resulting task.
#[derive(SimpleObject)]
pub struct InterviewTaskPayload {
    /// Id of the task the command addressed.
    pub task_id: ID,
    /// The task as the board shows it after the command; null only when the
    /// board did not catch up within the read-your-writes timeout.
    pub task: Option<InterviewTaskView>,
    /// Whether `task` already reflects this command.
    pub projected: bool,
    /// Log position of the command's last event (`TX:POSITION`).
    pub position: Option<String>,
    /// Ids of the events the command appended.
    pub event_ids: Vec<ID>,
}

/// Sends a command to a task the caller may act on (ownership checked on the
/// task as loaded for the command) and answers once the process managers it
/// set going have run and every read model reflects it all.
pub(crate) async fn send_to_task(
    ctx: &Context<'_>,
    task_id: String,
    command: InterviewTaskCommand,
) -> Result<InterviewTaskPayload> {
    let guard = checks::task_guard(ctx, &task_id).await?;
    let sent = command::send::<InterviewTask>(ctx, &task_id, command, &guard).await?;
    payload(ctx, task_id, sent.receipt, sent.projected).await
}

pub(crate) fn ids(receipt: &store::CommandReceipt) -> Vec<ID> {
    receipt
        .event_ids
        .iter()
        .map(|id| ID(id.to_string()))
        .collect()
}

pub(crate) fn task_uuid(id: &ID) -> Result<String> {
    Uuid::parse_str(id)
        .map(|u| u.to_string())
        .map_err(|_| ApiError::validation(message!("id is not a task id")).into())
}

pub(crate) async fn payload(
    ctx: &Context<'_>,
    task_id: String,
    receipt: store::CommandReceipt,
    projected: bool,
) -> Result<InterviewTaskPayload> {
    let row = if projected {
        TaskBoard::get(state(ctx).database.read_models(), &task_id)
            .await
            .map_err(ApiError::from)?
    } else {
        None
    };
    let task = match row {
        Some(row) => Some(InterviewTaskView::alone(ctx, row).await?),
        None => None,
    };
    Ok(InterviewTaskPayload {
        task_id: ID(task_id),
        task,
        projected,
        position: receipt.position.map(|p: LogPosition| p.to_string()),
        event_ids: ids(&receipt),
    })
}
