//! The GraphQL schema: queries read projections, mutations send commands and
//! wait (bounded) until the projection reflects them.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::http::GraphiQLSource;
use async_graphql::{
    Context, EmptySubscription, Enum, InputObject, Object, Result, Schema, SimpleObject, ID,
};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use domain::interview_task::{
    self as task, CancelInterviewTask, CreateInterviewTask, InterviewTask, InterviewTaskCommand,
};
use domain::log::LogPosition;
use domain::pii;
use projections::task_board::{TaskBoard, TaskBoardRow, TaskFilter};

use crate::error::ApiError;
use crate::request::RequestContext;
use crate::state::AppState;

/// The facesign schema type.
pub type FacesignSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema with its limits; the state is reachable from every resolver.
pub fn build_schema(state: AppState) -> FacesignSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .data(state)
        .limit_depth(12)
        .limit_complexity(2_000)
        .finish()
}

/// The schema in SDL, as written to `docs/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .finish()
        .sdl()
}

/// POST /graphql.
pub async fn graphql_handler(
    State((state, schema)): State<(AppState, FacesignSchema)>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let context = RequestContext::from_headers(&headers, state.bus.services().ids.as_ref());
    schema
        .execute(request.into_inner().data(context))
        .await
        .into()
}

/// GET /graphql: the GraphiQL IDE.
pub async fn graphiql() -> impl IntoResponse {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

fn request<'a>(ctx: &Context<'a>) -> &'a RequestContext {
    ctx.data_unchecked::<RequestContext>()
}

/// Status of an interview task.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::interview_task::TaskStatus")]
pub enum TaskStatus {
    /// 待面谈 / 待处理.
    Pending,
    /// 处理中.
    InProgress,
    /// 存疑, waiting for QC.
    PendingQc,
    /// 已面谈（待提交面签）.
    Passed,
    /// 已面谈（面谈拒绝）.
    Rejected,
    /// Window passed; may be rescheduled.
    Expired,
    /// 已撤销.
    Cancelled,
    /// Replaced by a new task in a reverse flow.
    Superseded,
}

/// Interview flow of a task.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::interview_task::TaskKind")]
pub enum TaskKind {
    /// 永续贷视频面谈.
    YongxuVideoInterview,
    /// 云贷直批.
    YundaiDirect,
    /// 云贷非直批.
    YundaiIndirect,
    /// 云测.
    Yunce,
}

/// A sub-task of the interview.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::interview_task::TaskStep")]
pub enum TaskStep {
    /// 现调上传.
    FieldInvestigation,
    /// 客户核身.
    IdentityCheck,
    /// 视频见证.
    VideoWitness,
    /// 信息录入.
    InfoEntry,
}

/// Role of a participant on the contract.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::interview_task::ParticipantRole")]
pub enum ParticipantRole {
    /// 主借人.
    Borrower,
    /// 共借人.
    CoBorrower,
    /// 共有人.
    CoOwner,
    /// 配偶.
    Spouse,
    /// 保证人.
    Guarantor,
}

/// Kind of identity document.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(remote = "domain::interview_task::IdType")]
pub enum IdType {
    /// 居民身份证.
    #[default]
    IdCard,
    /// Any other document.
    Other,
}

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
}

/// An interview task as the task board shows it.
pub struct InterviewTaskView(TaskBoardRow);

#[Object(name = "InterviewTask")]
impl InterviewTaskView {
    /// Task id.
    async fn id(&self) -> ID {
        ID(self.0.task_id.clone())
    }
    /// Loan contract number.
    async fn contract_no(&self) -> &str {
        &self.0.contract_no
    }
    /// Interview flow.
    async fn kind(&self) -> Result<TaskKind> {
        parse_stored::<task::TaskKind>(&self.0.kind).map(Into::into)
    }
    /// Current status.
    async fn status(&self) -> Result<TaskStatus> {
        Ok(self.stored_status()?.into())
    }
    /// Status name for staff (待面谈, 已撤销, ...).
    async fn status_label(&self) -> Result<&'static str> {
        Ok(self.stored_status()?.label_zh())
    }
    /// Product code.
    async fn product_code(&self) -> &str {
        &self.0.product_code
    }
    /// Channel code.
    async fn channel_code(&self) -> &str {
        &self.0.channel_code
    }
    /// Account manager staff no.
    async fn manager_id(&self) -> &str {
        &self.0.manager_id
    }
    /// Main borrower's name, masked.
    async fn borrower_name(&self) -> String {
        pii::mask_name(&self.0.borrower_name)
    }
    /// Everyone on the contract, de-duplicated, masked.
    async fn participants(&self) -> Result<Vec<Participant>> {
        let participants: Vec<task::Participant> = serde_json::from_str(&self.0.participants)
            .map_err(|e| ApiError::internal(format!("task_board.participants: {e}")))?;
        Ok(participants
            .into_iter()
            .map(|p| Participant {
                name: pii::mask_name(&p.name),
                id_type: p.id_type.into(),
                id_number: pii::mask_id_number(&p.id_number),
                phone: pii::mask_phone(&p.phone),
                is_main_borrower: p.is_main_borrower(),
                roles: p.roles.into_iter().map(Into::into).collect(),
            })
            .collect())
    }
    /// Steps the kind requires, in order.
    async fn required_steps(&self) -> Result<Vec<TaskStep>> {
        let steps: Vec<task::TaskStep> = serde_json::from_str(&self.0.required_steps)
            .map_err(|e| ApiError::internal(format!("task_board.required_steps: {e}")))?;
        Ok(steps.into_iter().map(Into::into).collect())
    }
    /// Why the task was cancelled.
    async fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }
    /// When the task was opened.
    async fn created_at(&self) -> Result<DateTime<Utc>> {
        parse_time(&self.0.created_at)
    }
    /// When the task last changed.
    async fn updated_at(&self) -> Result<DateTime<Utc>> {
        parse_time(&self.0.updated_at)
    }
    /// Sequence of the last event applied (the aggregate version).
    async fn version(&self) -> i64 {
        self.0.last_sequence
    }
}

impl InterviewTaskView {
    fn stored_status(&self) -> Result<task::TaskStatus, ApiError> {
        task::TaskStatus::parse(&self.0.status)
            .ok_or_else(|| ApiError::internal(format!("unknown stored status {}", self.0.status)))
    }
}

fn parse_stored<T: serde::de::DeserializeOwned>(name: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|e| ApiError::internal(format!("stored value {name}: {e}")).into())
}

fn parse_time(text: &str) -> Result<DateTime<Utc>> {
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

/// Opaque cursor of the task board: the creating event's global position.
pub struct BoardCursor(i64);

impl CursorType for BoardCursor {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| "cursor is not one this API issued".to_string())?;
        let text = String::from_utf8(bytes)
            .map_err(|_| "cursor is not one this API issued".to_string())?;
        text.strip_prefix("task:")
            .and_then(|n| n.parse().ok())
            .map(BoardCursor)
            .ok_or_else(|| "cursor is not one this API issued".to_string())
    }

    fn encode_cursor(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("task:{}", self.0))
    }
}

/// Read side.
pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// One task by id; null when unknown.
    async fn task(&self, ctx: &Context<'_>, id: ID) -> Result<Option<InterviewTaskView>> {
        let row = TaskBoard::get(state(ctx).database.read_models(), &id)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(InterviewTaskView))
    }

    /// The task board, newest first, with Relay cursor pagination.
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100; default 20.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        status: Option<TaskStatus>,
        contract_no: Option<String>,
    ) -> Result<Connection<BoardCursor, InterviewTaskView>> {
        let state = state(ctx);
        let first = i64::from(first.unwrap_or(20));
        if !(1..=state.config.max_page_size).contains(&first) {
            return Err(ApiError::validation(format!(
                "first must be between 1 and {}",
                state.config.max_page_size
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
        let filter = TaskFilter {
            status: status.map(Into::into),
            contract_no,
        };
        let page = TaskBoard::page(state.database.read_models(), &filter, before, first)
            .await
            .map_err(ApiError::from)?;
        let mut connection = Connection::new(before.is_some(), page.has_next_page);
        connection.edges.extend(
            page.rows
                .into_iter()
                .map(|row| Edge::new(BoardCursor(row.created_position), InterviewTaskView(row))),
        );
        Ok(connection)
    }
}

/// Write side: one mutation per command.
pub struct MutationRoot;

impl MutationRoot {
    async fn send(
        &self,
        ctx: &Context<'_>,
        task_id: String,
        command: InterviewTaskCommand,
    ) -> Result<InterviewTaskPayload> {
        let state = state(ctx);
        let receipt = state
            .bus
            .execute::<InterviewTask>(&task_id, command, &request(ctx).command_context())
            .await
            .map_err(ApiError::from)?;
        let projected = match receipt.position {
            Some(position) => {
                state
                    .task_board
                    .wait_for(position, state.config.read_your_writes_timeout)
                    .await
            }
            None => true,
        };
        let task = if projected {
            TaskBoard::get(state.database.read_models(), &task_id)
                .await
                .map_err(ApiError::from)?
                .map(InterviewTaskView)
        } else {
            None
        };
        Ok(InterviewTaskPayload {
            task_id: ID(task_id),
            task,
            projected,
            position: receipt.position.map(|p: LogPosition| p.to_string()),
            event_ids: receipt
                .event_ids
                .iter()
                .map(|id| ID(id.to_string()))
                .collect(),
        })
    }
}

#[Object]
impl MutationRoot {
    /// Opens an interview task for a loan contract (status PENDING / 待面谈).
    async fn create_interview_task(
        &self,
        ctx: &Context<'_>,
        input: CreateInterviewTaskInput,
    ) -> Result<InterviewTaskPayload> {
        let task_id = state(ctx).bus.services().ids.new_id().to_string();
        let command = InterviewTaskCommand::Create(CreateInterviewTask {
            contract_no: input.contract_no,
            kind: input.kind.into(),
            product_code: input.product_code,
            channel_code: input.channel_code,
            manager_id: input.manager_id,
            participants: input
                .participants
                .into_iter()
                .map(|p| task::ParticipantInput {
                    name: p.name,
                    id_type: p.id_type.into(),
                    id_number: p.id_number,
                    phone: p.phone,
                    roles: p.roles.into_iter().map(Into::into).collect(),
                })
                .collect(),
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
        if uuid::Uuid::parse_str(&id).is_err() {
            return Err(ApiError::validation("id is not a task id").into());
        }
        self.send(
            ctx,
            id.0,
            InterviewTaskCommand::Cancel(CancelInterviewTask { reason }),
        )
        .await
    }
}
