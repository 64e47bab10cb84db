//! Quality control and interview records in GraphQL: the QC queue and its
//! decisions (001 质检管理), task detail with its timeline, call records (004
//! 通话历史), daily statistics, and loan-information changes for the loan system.

use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use domain::message::message;
use domain::qc_case::{QcCase, QcCaseCommand, QcDecision};
use projections::interview_records::{CallRecordRow, InterviewRecords, QcCaseRow, QcFilter};
use projections::task_board::TaskBoard;

use crate::access;
use crate::access::checks;
use crate::command;
use crate::context::{request, state};
use crate::error::ApiError;
use crate::interview_task::{task_uuid, InterviewTaskView};
use crate::log_page::read_log_page;
use crate::session_record::SessionRecord;

pub use domain::interview_task::QcVerdict;
pub use domain::qc_case::RejectReason;

/// A QC case of the queue.
pub struct QcCaseView(QcCaseRow);

#[Object(name = "QcCase")]
impl QcCaseView {
    /// Case id.
    async fn id(&self) -> ID {
        ID(self.0.case_id.clone())
    }
    /// The task reviewed.
    async fn task_id(&self) -> ID {
        ID(self.0.task_id.clone())
    }
    /// Loan contract.
    async fn contract_no(&self) -> &str {
        &self.0.contract_no
    }
    /// Seat that concluded.
    async fn seat_no(&self) -> &str {
        &self.0.seat_no
    }
    /// DOUBTFUL (存疑) or SAMPLED_PASS (抽样).
    async fn origin(&self) -> &str {
        &self.0.origin
    }
    /// OPEN, CLAIMED or DECIDED.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// Reviewer holding or having decided it.
    async fn reviewer(&self) -> Option<&str> {
        self.0.reviewer.as_deref()
    }
    /// Null until decided.
    async fn passed(&self) -> Option<bool> {
        self.0.passed.map(|p| p != 0)
    }
    /// Reason codes of a reject.
    async fn reasons(&self) -> Vec<String> {
        serde_json::from_str(&self.0.reasons).unwrap_or_default()
    }
    /// Text of OTHER.
    async fn other_text(&self) -> Option<&str> {
        self.0.other_text.as_deref()
    }
    /// Comment.
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }
    /// Opened at (RFC 3339).
    async fn opened_at(&self) -> &str {
        &self.0.opened_at
    }
    /// Decided at (RFC 3339).
    async fn decided_at(&self) -> Option<&str> {
        self.0.decided_at.as_deref()
    }
    /// Queue position; pass as `after` for the next page.
    async fn queue_position(&self) -> i64 {
        self.0.opened_position
    }
}

/// Narrows the QC queue.
#[derive(InputObject, Default)]
pub struct QcFilterInput {
    /// OPEN, CLAIMED or DECIDED.
    pub status: Option<String>,
    /// DOUBTFUL or SAMPLED_PASS.
    pub origin: Option<String>,
    /// Held or decided by this reviewer.
    pub reviewer: Option<String>,
    /// Of this task.
    pub task_id: Option<ID>,
    /// Interviewed by this seat (面谈岗工号).
    pub seat_no: Option<String>,
    /// Opened at or after this instant (面谈时间 from).
    pub from: Option<DateTime<Utc>>,
    /// Opened before this instant.
    pub to: Option<DateTime<Utc>>,
    /// 客户姓名: the main borrower's name, exactly.
    pub customer_name: Option<String>,
    /// 客户经理工号.
    pub manager_id: Option<String>,
    /// 贷款类型 (product code).
    pub product_code: Option<String>,
    /// 房屋属地: province.
    pub province: Option<String>,
    /// … city.
    pub city: Option<String>,
    /// … district.
    pub district: Option<String>,
}

/// One entry of a task's timeline.
#[derive(SimpleObject)]
pub struct TimelineEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Event type.
    pub event_type: String,
    /// Who.
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
    /// The person the engine acted for (e.g. the QC reviewer behind a rejection).
    pub on_behalf_of_id: Option<String>,
    /// Their role.
    pub on_behalf_of_role: Option<String>,
}

/// A task with everything the workstation and QC show.
#[derive(SimpleObject)]
pub struct TaskDetail {
    /// The task board row.
    pub task: InterviewTaskView,
    /// What the session recorded: identity checks, snapshots, documents, chat,
    /// remarks, recordings, calls and loan information (personal data masked
    /// per role).
    pub record: SessionRecord,
    /// The same as untyped JSON with the event payloads' snake_case keys.
    #[graphql(deprecation = "use `record`, typed")]
    pub detail: Json<serde_json::Value>,
    /// Every event of the task, in order.
    pub timeline: Vec<TimelineEntry>,
}

/// One call record.
#[derive(SimpleObject)]
pub struct CallRecord {
    /// Task.
    pub task_id: ID,
    /// Serial on the task.
    pub call_no: i64,
    /// Seat no.
    pub seat_no: String,
    /// NORMAL, ABNORMAL_NETWORK, ABNORMAL_USER or ABNORMAL_OTHER.
    pub end: String,
    /// 发起时间.
    pub queued_at: String,
    /// 接听时间.
    pub answered_at: String,
    /// 挂断时间.
    pub ended_at: String,
    /// 排队时长 (s).
    pub queue_seconds: i64,
    /// 通话时长 (s).
    pub talk_seconds: i64,
}

impl From<CallRecordRow> for CallRecord {
    fn from(r: CallRecordRow) -> Self {
        Self {
            task_id: ID(r.task_id),
            call_no: r.call_no,
            seat_no: r.seat_no,
            end: r.end_kind,
            queued_at: r.queued_at,
            answered_at: r.answered_at,
            ended_at: r.ended_at,
            queue_seconds: r.queue_seconds,
            talk_seconds: r.talk_seconds,
        }
    }
}

/// Counters of one day (Asia/Shanghai).
#[derive(SimpleObject)]
pub struct DailyStatistics {
    /// The day.
    pub day: String,
    /// Tasks created.
    pub tasks_created: i64,
    /// 通过 by seats, plus QC passes of 存疑.
    pub passed: i64,
    /// 存疑 conclusions.
    pub doubtful: i64,
    /// QC rejects (面谈拒绝).
    pub rejected: i64,
    /// Calls ended.
    pub calls: i64,
    /// Average 排队时长 of the day's calls (s).
    pub average_queue_seconds: f64,
    /// Average 通话时长 of the day's calls (s).
    pub average_talk_seconds: f64,
}

/// A loan-information change for the loan system (新信贷) to sync.
#[derive(SimpleObject)]
pub struct LoanInfoChange {
    /// Log position; pass the last as `after`.
    pub position: String,
    /// Task.
    pub task_id: ID,
    /// Who changed it.
    pub actor_id: String,
    /// When.
    pub recorded_at: DateTime<Utc>,
    /// Before.
    pub before: Json<serde_json::Value>,
    /// After.
    pub after: Json<serde_json::Value>,
}

/// A page of loan-information changes.
#[derive(SimpleObject)]
pub struct LoanInfoChangePage {
    /// Changes in log order.
    pub changes: Vec<LoanInfoChange>,
    /// Where the scan stopped; pass as `after` (also when `changes` is empty).
    pub end_cursor: String,
}

/// Quality-control and records queries.
#[derive(Default)]
pub struct QualityQuery;

#[Object]
impl QualityQuery {
    /// The QC queue, oldest first, with filters; `after` is a queue position.
    async fn qc_cases(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] filter: QcFilterInput,
        #[graphql(default = 20)] first: i32,
        after: Option<i64>,
    ) -> Result<Vec<QcCaseView>> {
        if !(1..=200).contains(&first) {
            return Err(ApiError::validation(message!("first must be between 1 and 200")).into());
        }
        let text = crate::given_text;
        if text(filter.customer_name.clone()).is_some() {
            checks::masked_filter(ctx, "customerName")?;
        }
        let filter = QcFilter {
            status: filter.status,
            origin: filter.origin,
            reviewer: filter.reviewer,
            task_id: filter.task_id.map(|t| t.0),
            seat_no: text(filter.seat_no),
            from: filter.from.map(crate::rfc3339),
            to: filter.to.map(crate::rfc3339),
            customer_name: text(filter.customer_name),
            manager_id: text(filter.manager_id),
            product_code: text(filter.product_code),
            province: text(filter.province),
            city: text(filter.city),
            district: text(filter.district),
        };
        let rows = InterviewRecords::qc_cases(
            state(ctx).database.read_models(),
            &filter,
            after,
            i64::from(first),
        )
        .await
        .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(QcCaseView).collect())
    }

    /// One QC case.
    async fn qc_case(&self, ctx: &Context<'_>, id: ID) -> Result<Option<QcCaseView>> {
        let row = InterviewRecords::qc_case(state(ctx).database.read_models(), &id)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(QcCaseView))
    }

    /// A task with its steps, snapshots, documents, chat, remarks and timeline.
    async fn task_detail(&self, ctx: &Context<'_>, id: ID) -> Result<Option<TaskDetail>> {
        let state = state(ctx);
        let id = task_uuid(&id)?;
        let Some(row) = TaskBoard::get(state.database.read_models(), &id)
            .await
            .map_err(ApiError::from)?
        else {
            return Ok(None);
        };
        checks::read_task(ctx, &row).await?;
        let task = InterviewTaskView::alone(ctx, row).await?;
        let mut detail = InterviewRecords::task_detail(state.database.read_models(), &id)
            .await
            .map_err(ApiError::from)?
            .unwrap_or_default();
        let reveal = task.reveals();
        let look_ahead = ctx.look_ahead();
        if reveal && (look_ahead.field("detail").exists() || look_ahead.field("record").exists()) {
            access::record::personal_data(ctx, format!("interview-task:{id}"), &["detail"]);
        }
        access::json(reveal, &mut detail);
        let record = SessionRecord::from_document(detail.clone())?;
        let timeline = state
            .log
            .stream(domain::interview_task::AGGREGATE_TYPE, &id)
            .await
            .map_err(ApiError::internal)?
            .into_iter()
            .map(|e| TimelineEntry {
                at: e.metadata.recorded_at,
                event_type: e.event_type,
                on_behalf_of_id: e
                    .metadata
                    .on_behalf_of
                    .as_ref()
                    .map(|a| access::actor_id(reveal, &a.role, &a.id)),
                on_behalf_of_role: e.metadata.on_behalf_of.as_ref().map(|a| a.role.clone()),
                actor_id: access::actor_id(reveal, &e.metadata.actor_role, &e.metadata.actor_id),
                actor_role: e.metadata.actor_role,
            })
            .collect();
        Ok(Some(TaskDetail {
            task,
            record,
            detail: Json(detail),
            timeline,
        }))
    }

    /// Call records ended in `[from, to)` (at most 31 days), optionally of one task or seat.
    async fn call_records(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        task_id: Option<ID>,
        seat_no: Option<String>,
    ) -> Result<Vec<CallRecord>> {
        if to <= from || to - from > chrono::Duration::days(31) {
            return Err(ApiError::validation(message!(
                "`to` must be after `from` and at most 31 days later"
            ))
            .into());
        }
        // A seat reads its own call records only.
        let caller = checks::caller(ctx)?;
        let seat_no = match (caller.role, seat_no) {
            (domain::role::Role::Seat, Some(asked)) if asked != caller.id => {
                return Err(ApiError::new(
                    domain::ErrorCode::Forbidden,
                    message!(
                        "seat {seat} reads its own call records only",
                        seat = caller.id
                    ),
                )
                .into())
            }
            (domain::role::Role::Seat, _) => Some(caller.id.to_string()),
            (_, asked) => asked,
        };
        let rows = InterviewRecords::call_records(
            state(ctx).database.read_models(),
            task_id.as_ref().map(|t| t.as_str()),
            seat_no.as_deref(),
            &crate::rfc3339(from),
            &crate::rfc3339(to),
        )
        .await
        .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Daily counters for the days `from` to `to` inclusive (at most 366 days).
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyStatistics>> {
        if to < from || (to - from).num_days() > 366 {
            return Err(ApiError::validation(message!(
                "`to` must not be before `from`, at most 366 days later"
            ))
            .into());
        }
        let rows = InterviewRecords::statistics(
            state(ctx).database.read_models(),
            &from.format("%Y-%m-%d").to_string(),
            &to.format("%Y-%m-%d").to_string(),
        )
        .await
        .map_err(ApiError::from)?;
        let average = |total: i64, calls: i64| {
            if calls == 0 {
                0.0
            } else {
                total as f64 / calls as f64
            }
        };
        Ok(rows
            .into_iter()
            .map(|r| DailyStatistics {
                average_queue_seconds: average(r.queue_seconds, r.calls),
                average_talk_seconds: average(r.talk_seconds, r.calls),
                day: r.day,
                tasks_created: r.tasks_created,
                passed: r.passed,
                doubtful: r.doubtful,
                rejected: r.rejected,
                calls: r.calls,
            })
            .collect())
    }

    /// Loan-information edits after `after` (a log position), for the loan
    /// system to sync; scans at most `scan` events of the log per call.
    async fn loan_info_changes(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        #[graphql(default = 1000)] scan: i32,
    ) -> Result<LoanInfoChangePage> {
        let (after, events) = read_log_page(ctx, after, scan, 10_000).await?;
        let end_cursor = events
            .last()
            .map(|e| e.position)
            .unwrap_or(after)
            .to_string();
        let changes = events
            .into_iter()
            .filter(|e| e.event_type == "LoanInfoEdited")
            .map(|e| {
                let body = &e.payload["Session"]["LoanInfoEdited"];
                LoanInfoChange {
                    position: e.position.to_string(),
                    task_id: ID(e.aggregate_id.clone()),
                    actor_id: e.metadata.actor_id.clone(),
                    recorded_at: e.metadata.recorded_at,
                    before: Json(body["before"].clone()),
                    after: Json(body["after"].clone()),
                }
            })
            .collect();
        Ok(LoanInfoChangePage {
            changes,
            end_cursor,
        })
    }
}

/// The result of a QC command.
#[derive(SimpleObject)]
pub struct QcCasePayload {
    /// The case after the command.
    pub case: Option<QcCaseView>,
    /// The reviewed task after the command (and, for a decision, its outcome).
    pub task: Option<InterviewTaskView>,
    /// Whether the read models caught up in time.
    pub projected: bool,
}

/// Quality-control mutations.
#[derive(Default)]
pub struct QualityMutation;

impl QualityMutation {
    async fn send(
        &self,
        ctx: &Context<'_>,
        case_id: &str,
        command: QcCaseCommand,
    ) -> Result<QcCasePayload> {
        let state = state(ctx);
        let projected = command::send_unguarded::<QcCase>(ctx, case_id, command)
            .await?
            .projected;
        let case = InterviewRecords::qc_case(state.database.read_models(), case_id)
            .await
            .map_err(ApiError::from)?;
        let row = match &case {
            Some(case) => TaskBoard::get(state.database.read_models(), &case.task_id)
                .await
                .map_err(ApiError::from)?,
            None => None,
        };
        let task = match row {
            Some(row) => Some(InterviewTaskView::alone(ctx, row).await?),
            None => None,
        };
        Ok(QcCasePayload {
            case: case.map(QcCaseView),
            task,
            projected,
        })
    }

    fn reviewer(ctx: &Context<'_>) -> Result<String> {
        Ok(request(ctx).command_context()?.actor.id)
    }
}

#[Object]
impl QualityMutation {
    /// Takes a case from the queue.
    async fn claim_qc_case(&self, ctx: &Context<'_>, id: ID) -> Result<QcCasePayload> {
        let reviewer = Self::reviewer(ctx)?;
        self.send(ctx, &id, QcCaseCommand::Claim { reviewer }).await
    }

    /// Puts a claimed case back in the queue.
    async fn release_qc_case(&self, ctx: &Context<'_>, id: ID) -> Result<QcCasePayload> {
        let reviewer = Self::reviewer(ctx)?;
        self.send(ctx, &id, QcCaseCommand::Release { reviewer })
            .await
    }

    /// Decides a claimed case: PASS (task → 已面谈（待提交面签）) or REJECT with
    /// reasons and a comment (task → 已面谈（面谈拒绝）).
    async fn decide_qc_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        verdict: QcVerdict,
        #[graphql(default)] reasons: Vec<RejectReason>,
        other_text: Option<String>,
        #[graphql(default)] comment: String,
    ) -> Result<QcCasePayload> {
        let reviewer = Self::reviewer(ctx)?;
        let decision = match verdict {
            QcVerdict::Pass => QcDecision::Pass,
            QcVerdict::Reject => QcDecision::Reject {
                reasons: reasons.into_iter().collect(),
                other_text,
            },
        };
        self.send(
            ctx,
            &id,
            QcCaseCommand::Decide {
                reviewer,
                decision,
                comment,
            },
        )
        .await
    }
}
