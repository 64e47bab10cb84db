//! The interview session in GraphQL: the seat workstation's commands (000 sub-tasks,
//! 001 坐席工作台, 004 照片采集 / 确认书推送 / 会话结束).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::channel::{Admission, CallerPlace};
use domain::interview_task::session::{self, CallLeg, SessionCommand};
use domain::interview_task::{InterviewTask, InterviewTaskCommand};
use domain::message::message;
use domain::role::Role;
use projections::task_board::TaskBoard;

use crate::access::{self, checks};
use crate::context::{state, viewer};
use crate::error::ApiError;
use crate::interview_task::{send_to_task, task_uuid, InterviewTaskPayload};

pub use domain::interview_task::session::CallEnd;
pub use domain::interview_task::session::InvestigationScope;
pub use domain::interview_task::session::SnapshotCategory;
pub use domain::interview_task::session::VideoTagKind;

/// Input of `recordFieldInvestigation` (现调上传).
#[derive(InputObject)]
pub struct FieldInvestigationInput {
    /// Where it looked.
    pub scope: InvestigationScope,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// Address.
    pub address: String,
    /// What was found.
    pub information: String,
    /// References of the uploaded photos.
    pub photos: Vec<String>,
}

/// One entered field (信息录入).
#[derive(InputObject)]
pub struct FieldValueInput {
    /// Field name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// Loan information changes; omitted fields stay as they are.
#[derive(InputObject, Default)]
pub struct LoanInfoInput {
    /// 贷款金额 (decimal text).
    pub amount: Option<String>,
    /// 贷款期限 in months.
    pub term_months: Option<u32>,
    /// 执行年利率 (decimal text).
    pub annual_rate: Option<String>,
    /// 放款方式.
    pub disbursement_method: Option<String>,
    /// 还款账号开户行.
    pub repayment_bank: Option<String>,
    /// 还款账号.
    pub repayment_account: Option<String>,
    /// 统一还款日 (1 to 28).
    pub repayment_day: Option<u32>,
    /// 首次还款日.
    pub first_repayment_date: Option<String>,
    /// 贷款用途.
    pub purpose: Option<String>,
    /// 还款方式.
    pub repayment_method: Option<crate::loan_servicing::RepaymentMethod>,
}

impl From<LoanInfoInput> for session::LoanInfo {
    fn from(changes: LoanInfoInput) -> Self {
        session::LoanInfo {
            amount: changes.amount,
            term_months: changes.term_months,
            annual_rate: changes.annual_rate,
            disbursement_method: changes.disbursement_method,
            repayment_bank: changes.repayment_bank,
            repayment_account: changes.repayment_account,
            repayment_day: changes.repayment_day,
            first_repayment_date: changes.first_repayment_date,
            purpose: changes.purpose,
            repayment_method: changes.repayment_method,
        }
    }
}

/// Input of `joinInterview`: what the channel admits a caller by.
#[derive(InputObject)]
pub struct JoinInterviewInput {
    /// The channel the participant calls through (渠道代码).
    pub channel_code: String,
    /// Their locality, for channels restricted by 属地.
    pub locality: Option<String>,
    /// GPS latitude.
    pub latitude: Option<f64>,
    /// GPS longitude.
    pub longitude: Option<f64>,
    /// Wi-Fi network name.
    pub wifi: Option<String>,
}

/// Someone in the interview room, or who was in it during this call.
#[derive(SimpleObject)]
pub struct RoomMember {
    /// Their leg of the call, from 1.
    pub leg: u32,
    /// Name.
    pub name: String,
    /// ID number (masked unless revealed).
    pub id_number: String,
    /// Roles on the contract.
    pub roles: Vec<String>,
    /// Whether they are in the room now.
    pub present: bool,
    /// They came back after a drop.
    pub rejoined: bool,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    /// When they left, if they did.
    pub left_at: Option<DateTime<Utc>>,
    /// How their leg ended, if it did.
    pub end: Option<CallEnd>,
    /// Until when they may rejoin this call, if they left.
    pub rejoin_until: Option<DateTime<Utc>>,
}

/// Whether the caller may act on the task, checked before anything about the
/// request itself is: a stranger is told only that (FORBIDDEN / NOT_FOUND).
async fn may_act_on(ctx: &Context<'_>, task_id: &ID) -> Result<(), ApiError> {
    let id =
        task_uuid(task_id).map_err(|_| ApiError::validation(message!("id is not a task id")))?;
    match TaskBoard::get(state(ctx).database.read_models(), &id).await? {
        Some(row) => checks::act_on_task(ctx, &row).await,
        None => Err(ApiError::not_found(message!("no task {id}"))),
    }
}

/// Session queries.
#[derive(Default)]
pub struct SessionQuery;

#[Object]
impl SessionQuery {
    /// The seat's view of the interview room (001 2.2.1 多席呼入): who is in
    /// now and who left during this call, legs in the order they joined.
    async fn interview_room(&self, ctx: &Context<'_>, task_id: ID) -> Result<Vec<RoomMember>> {
        let state = state(ctx);
        let Some(row) = TaskBoard::get(state.database.read_models(), &task_id)
            .await
            .map_err(ApiError::from)?
        else {
            return Err(
                ApiError::not_found(message!("no task {id}", id = task_id.as_str())).into(),
            );
        };
        checks::read_task(ctx, &row).await?;
        let reveal = crate::interview_task::InterviewTaskView::alone(ctx, row)
            .await?
            .reveals();
        let (task, _) = state
            .bus
            .load::<InterviewTask>(&task_id)
            .await
            .map_err(ApiError::internal)?;
        let room = task.session();
        let window = state.bus.services().operations.rejoin_window;
        let roles = |id: &str| {
            task.participants()
                .iter()
                .find(|p| p.id_number == id)
                .map(|p| p.roles.iter().map(domain::wire_name).collect())
                .unwrap_or_default()
        };
        // One member per leg: an open leg is someone in the room now; a
        // closed one says how it ended and until when they may rejoin.
        let member =
            |open: (u32, &str, bool, DateTime<Utc>), id: &str, closed: Option<&CallLeg>| {
                let (leg, name, rejoined, joined_at) = open;
                RoomMember {
                    leg,
                    name: access::name(reveal, name),
                    id_number: access::id_number(reveal, id),
                    roles: roles(id),
                    present: closed.is_none(),
                    rejoined,
                    joined_at,
                    left_at: closed.map(|c| c.left_at),
                    end: closed.map(|c| c.end),
                    rejoin_until: closed.and_then(|_| room.rejoin_until(id, window)),
                }
            };
        let mut members: Vec<RoomMember> = room
            .closed_legs
            .iter()
            .map(|l| {
                member(
                    (l.leg, &l.name, l.rejoin, l.joined_at),
                    &l.id_number,
                    Some(l),
                )
            })
            .collect();
        members.extend(
            room.present
                .iter()
                .map(|(id, o)| member((o.leg, &o.name, o.rejoin, o.joined_at), id, None)),
        );
        members.sort_by_key(|m| m.leg);
        if reveal && !members.is_empty() {
            access::record::personal_data(
                ctx,
                format!("interview-task:{}", task_id.as_str()),
                &["interviewRoom.idNumber"],
            );
        }
        Ok(members)
    }
}

/// Session mutations.
#[derive(Default)]
pub struct SessionMutation;

async fn send(
    ctx: &Context<'_>,
    task_id: ID,
    command: SessionCommand,
) -> Result<InterviewTaskPayload> {
    let id = task_uuid(&task_id)?;
    send_to_task(ctx, id, InterviewTaskCommand::Session(command)).await
}

#[Object]
impl SessionMutation {
    /// 现调上传: location, information and photos of the field investigation.
    async fn record_field_investigation(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        input: FieldInvestigationInput,
    ) -> Result<InterviewTaskPayload> {
        let command = SessionCommand::RecordFieldInvestigation {
            scope: input.scope,
            latitude: input.latitude,
            longitude: input.longitude,
            address: input.address,
            information: input.information,
            photos: input.photos,
        };
        send(ctx, task_id, command).await
    }

    /// 客户核身 of one participant: liveness and face similarity.
    async fn record_identity_check(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        id_number: String,
        liveness_passed: bool,
        similarity: f64,
    ) -> Result<InterviewTaskPayload> {
        let command = SessionCommand::RecordIdentityCheck {
            id_number,
            liveness_passed,
            similarity,
        };
        send(ctx, task_id, command).await
    }

    /// 视频见证: the recording, named YYYYMMDD + customer + seat no + serial,
    /// of the participant `idNumber` (the main borrower when omitted).
    async fn record_video_witness(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        storage_ref: String,
        id_number: Option<String>,
    ) -> Result<InterviewTaskPayload> {
        send(
            ctx,
            task_id,
            SessionCommand::RecordVideoWitness {
                storage_ref,
                id_number,
            },
        )
        .await
    }

    /// 多席呼入 (001 2.2.1): the calling participant's phone joins the
    /// interview room of a task in progress — the main borrower first, then
    /// the others; after a drop, again within FACESIGN_REJOIN_SECONDS. The
    /// channel admits the caller as for the queue (准入校验); a refusal is
    /// INVALID_TRANSITION with the channel's text.
    async fn join_interview(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        input: JoinInterviewInput,
    ) -> Result<InterviewTaskPayload> {
        let channel_code = crate::channels::channel_code(&input.channel_code)?;
        let id_number = checks::caller(ctx)?.id.to_string();
        // Whose task it is first: a stranger learns nothing about the channel.
        may_act_on(ctx, &task_id).await?;
        let place = CallerPlace {
            locality: input.locality,
            position: input.latitude.zip(input.longitude),
            wifi: input.wifi,
        };
        if let Admission::Refused(text) = crate::channels::admit(ctx, &channel_code, &place).await?
        {
            // Not the caller's role or record but where they call from: the
            // customer is told where to call from (001 2.2.2).
            // The channel's refusal as the bank words it (001 2.2.2).
            let refusal = domain::message::Message::verbatim(text);
            return Err(ApiError::new(domain::ErrorCode::InvalidTransition, refusal).into());
        }
        let command = SessionCommand::JoinSession {
            id_number,
            channel_code,
        };
        send(ctx, task_id, command).await
    }

    /// A participant's phone left the interview room: a customer for
    /// themselves, the seat for the participant `idNumber` it saw drop. They
    /// may rejoin within FACESIGN_REJOIN_SECONDS.
    async fn leave_interview(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        end: CallEnd,
        id_number: Option<String>,
    ) -> Result<InterviewTaskPayload> {
        let caller = checks::caller(ctx)?;
        may_act_on(ctx, &task_id).await?;
        let id_number = match (caller.role, id_number) {
            (Role::Customer, None) => caller.id.to_string(),
            (Role::Customer, Some(other)) if other.trim().eq_ignore_ascii_case(caller.id) => {
                caller.id.to_string()
            }
            (Role::Customer, Some(_)) => {
                return Err(ApiError::new(
                    domain::ErrorCode::Forbidden,
                    message!("a customer leaves the room for themselves only"),
                )
                .into())
            }
            (_, Some(id)) => id,
            (_, None) => {
                return Err(ApiError::validation(message!(
                    "idNumber names the participant who left"
                ))
                .into())
            }
        };
        let command = SessionCommand::LeaveSession { id_number, end };
        send(ctx, task_id, command).await
    }

    /// 信息录入 confirmed.
    async fn record_info_entry(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        fields: Vec<FieldValueInput>,
    ) -> Result<InterviewTaskPayload> {
        let fields = fields.into_iter().map(|f| (f.name, f.value)).collect();
        send(ctx, task_id, SessionCommand::RecordInfoEntry { fields }).await
    }

    /// 屏幕抓拍: a snapshot with its category.
    async fn capture_snapshot(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        category: SnapshotCategory,
        storage_ref: String,
    ) -> Result<InterviewTaskPayload> {
        let command = SessionCommand::CaptureSnapshot {
            category,
            storage_ref,
        };
        send(ctx, task_id, command).await
    }

    /// 确认书推送: a confirmation document pushed to the customer.
    async fn push_document(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        document_id: String,
        name: String,
    ) -> Result<InterviewTaskPayload> {
        send(
            ctx,
            task_id,
            SessionCommand::PushDocument { document_id, name },
        )
        .await
    }

    /// 文档确认与签字: the customer signed a pushed document.
    async fn sign_document(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        document_id: String,
        signed_ref: String,
    ) -> Result<InterviewTaskPayload> {
        let command = SessionCommand::SignDocument {
            document_id,
            signed_ref,
        };
        send(ctx, task_id, command).await
    }

    /// 视频标签 (001 2.3.1.1): marks this moment of the interview video — a
    /// risk point or a key moment — so a replay finds it.
    async fn tag_video(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        kind: VideoTagKind,
        note: String,
    ) -> Result<InterviewTaskPayload> {
        let command = SessionCommand::TagVideo { kind, note };
        send(ctx, task_id, command).await
    }

    /// 文字对话: a chat message from the seat or the customer.
    async fn send_chat_message(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        text: String,
    ) -> Result<InterviewTaskPayload> {
        let sender = if viewer(ctx) == Some(Role::Customer) {
            session::ChatSender::Customer
        } else {
            session::ChatSender::Seat
        };
        send(
            ctx,
            task_id,
            SessionCommand::SendChatMessage { sender, text },
        )
        .await
    }

    /// 工单备注: a remark on the task.
    async fn add_remark(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        text: String,
    ) -> Result<InterviewTaskPayload> {
        send(ctx, task_id, SessionCommand::AddRemark { text }).await
    }

    /// Changes loan information (贷款信息); synced back to the loan system.
    async fn edit_loan_info(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        changes: LoanInfoInput,
    ) -> Result<InterviewTaskPayload> {
        let changes = changes.into();
        send(ctx, task_id, SessionCommand::EditLoanInfo { changes }).await
    }

    /// Confirms the loan information (预贷款/贷款信息) as the credit system gave
    /// it, after going through it with the customer (001 §2.3.1.1 item 14); the
    /// loan records the seat's confirmation (a correction is `editLoanInfo`).
    async fn confirm_loan_info(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
    ) -> Result<InterviewTaskPayload> {
        send(ctx, task_id, SessionCommand::ConfirmLoanInfo).await
    }

    /// 会话结束: how the call ended, with its queue and answer times (通话历史).
    async fn end_call(
        &self,
        ctx: &Context<'_>,
        task_id: ID,
        end: CallEnd,
        queued_at: DateTime<Utc>,
        answered_at: DateTime<Utc>,
    ) -> Result<InterviewTaskPayload> {
        let command = SessionCommand::EndCall {
            end,
            queued_at,
            answered_at,
        };
        send(ctx, task_id, command).await
    }
}
