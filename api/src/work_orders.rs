//! Work orders in GraphQL (004 3.3 工单状态, 3.4 新建工单, 3.5 发送短信, 3.13 工单备注).

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use domain::message::message;
use domain::work_order::{WorkOrder, WorkOrderCommand, WorkOrderDetails};
use projections::admin_catalog::{AdminCatalog, WorkOrderRow};

use crate::access;
use crate::access::checks;
use crate::command;
use crate::context::viewer;
use crate::context::{request, state};
use crate::error::ApiError;

/// 工单状态.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum WorkOrderStatus {
    /// 待处理.
    Pending,
    /// 处理中.
    InProgress,
    /// 已处理.
    Done,
    /// 已撤销.
    Cancelled,
}

impl WorkOrderStatus {
    fn wire(self) -> &'static str {
        match self {
            WorkOrderStatus::Pending => "PENDING",
            WorkOrderStatus::InProgress => "IN_PROGRESS",
            WorkOrderStatus::Done => "DONE",
            WorkOrderStatus::Cancelled => "CANCELLED",
        }
    }
}

/// 新建工单 fields.
#[derive(InputObject)]
pub struct WorkOrderInput {
    /// 业务类型和项目.
    pub business_type: String,
    /// 被保险人 / 客户姓名.
    pub customer_name: String,
    /// 联系电话 (the guide SMS goes here).
    pub phone: String,
    /// 身份证号.
    pub id_number: Option<String>,
    /// 案件号.
    pub case_no: String,
    /// 保单号.
    pub policy_no: Option<String>,
}

impl From<WorkOrderInput> for WorkOrderDetails {
    fn from(i: WorkOrderInput) -> Self {
        WorkOrderDetails {
            business_type: i.business_type,
            customer_name: i.customer_name,
            phone: i.phone,
            id_number: i.id_number,
            case_no: i.case_no,
            policy_no: i.policy_no,
        }
    }
}

/// A work order; personal data masked for roles without need.
#[derive(SimpleObject)]
pub struct WorkOrderView {
    /// Id.
    pub id: ID,
    /// 业务类型.
    pub business_type: String,
    /// 客户姓名.
    pub customer_name: String,
    /// 联系电话.
    pub phone: String,
    /// 身份证号.
    pub id_number: Option<String>,
    /// 案件号.
    pub case_no: String,
    /// 保单号.
    pub policy_no: Option<String>,
    /// PENDING 待处理, IN_PROGRESS 处理中, DONE 已处理, CANCELLED 已撤销.
    pub status: String,
    /// 处理人.
    pub seat_no: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// 创建时间.
    pub created_at: String,
    /// 更新时间.
    pub updated_at: String,
}

/// A work order as shown; its customer's data in clear only where the caller
/// sees it (a seat: on the work order it is serving, not in its list, 004 3.4).
fn view(ctx: &Context<'_>, r: WorkOrderRow, showing: access::Showing) -> WorkOrderView {
    let reveal = access::reveals(viewer(ctx), showing);
    if reveal {
        access::record::personal_data(
            ctx,
            format!("work-order:{}", r.work_order_id),
            &["customerName", "phone", "idNumber"],
        );
    }
    WorkOrderView {
        id: ID(r.work_order_id),
        business_type: r.business_type,
        customer_name: access::name(reveal, &r.customer_name),
        phone: access::phone(reveal, &r.phone),
        id_number: r.id_number.map(|v| access::id_number(reveal, &v)),
        case_no: r.case_no,
        policy_no: r.policy_no,
        status: r.status,
        seat_no: r.seat_no,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// Work orders per status (the list's tabs).
#[derive(SimpleObject)]
pub struct WorkOrderCount {
    /// Status.
    pub status: String,
    /// How many.
    pub count: i64,
}

/// A seat lists only the work orders it reaches (docs/security.md, ownership).
fn seat_reach(ctx: &Context<'_>) -> Result<Option<String>, ApiError> {
    let caller = checks::caller(ctx)?;
    Ok((caller.role == domain::role::Role::Seat).then(|| caller.id.to_string()))
}

/// Work-order queries.
#[derive(Default)]
pub struct WorkOrderQuery;

#[Object]
impl WorkOrderQuery {
    /// Work orders, newest first, optionally in one status or for one contact
    /// phone. A customer finds their own by the phone they enter (004 4.2
    /// 输入手机号): only orders carrying their ID number are listed.
    async fn work_orders(
        &self,
        ctx: &Context<'_>,
        status: Option<WorkOrderStatus>,
        phone: Option<String>,
    ) -> Result<Vec<WorkOrderView>> {
        let state = state(ctx);
        let phone = crate::given_text(phone);
        if phone
            .as_deref()
            .is_some_and(|p| !domain::pii::valid_phone(p))
        {
            return Err(ApiError::validation(message!(
                "phone must be an 11-digit mainland mobile number"
            ))
            .into());
        }
        if phone.is_some() {
            checks::masked_filter(ctx, "phone")?;
        }
        let caller = checks::caller(ctx)?;
        let filter = projections::admin_catalog::WorkOrderFilter {
            status: status.map(|s| WorkOrderStatus::wire(s).to_string()),
            seat: seat_reach(ctx)?,
            phone,
            customer_id: (caller.role == domain::role::Role::Customer)
                .then(|| caller.id.to_string()),
        };
        let rows = AdminCatalog::work_orders(
            state.database.read_models(),
            &filter,
            state.config.max_page_size,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(rows
            .into_iter()
            .map(|r| view(ctx, r, access::Showing::Listed))
            .collect())
    }

    /// 全部 / 待处理 / 处理中 / 已处理 / 已撤销 counts.
    async fn work_order_counts(&self, ctx: &Context<'_>) -> Result<Vec<WorkOrderCount>> {
        let seat = seat_reach(ctx)?;
        let rows =
            AdminCatalog::work_order_counts(state(ctx).database.read_models(), seat.as_deref())
                .await
                .map_err(ApiError::from)?;
        Ok(rows
            .into_iter()
            .map(|(status, count)| WorkOrderCount { status, count })
            .collect())
    }
}

/// Work-order mutations.
#[derive(Default)]
pub struct WorkOrderMutation;

impl WorkOrderMutation {
    async fn send(
        &self,
        ctx: &Context<'_>,
        id: &str,
        command: WorkOrderCommand,
    ) -> Result<WorkOrderView> {
        let state = state(ctx);
        checks::work_order(ctx, id).await?;
        command::send_unguarded::<WorkOrder>(ctx, id, command).await?;
        let row = AdminCatalog::work_order(state.database.read_models(), id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::not_found(message!("no work order {id}")))?;
        let connected = row
            .seat_no
            .as_deref()
            .filter(|_| row.status == "IN_PROGRESS");
        let showing = checks::showing(ctx, id, connected).await?;
        Ok(view(ctx, row, showing))
    }

    fn id(id: &ID) -> Result<String> {
        id.parse::<uuid::Uuid>()
            .map(|u| u.to_string())
            .map_err(|_| ApiError::validation(message!("id must be a UUID")).into())
    }
}

#[Object]
impl WorkOrderMutation {
    /// 新建工单: 待处理, and the guide SMS goes to the phone (004 3.4).
    async fn create_work_order(
        &self,
        ctx: &Context<'_>,
        input: WorkOrderInput,
    ) -> Result<WorkOrderView> {
        let id = request(ctx).new_aggregate_id::<WorkOrder>(&state(ctx).bus);
        self.send(ctx, &id, WorkOrderCommand::Create(input.into()))
            .await
    }

    /// 保存: details edited while 待处理 or 处理中.
    async fn edit_work_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: WorkOrderInput,
    ) -> Result<WorkOrderView> {
        self.send(ctx, &Self::id(&id)?, WorkOrderCommand::Edit(input.into()))
            .await
    }

    /// 回传 succeeded: 已处理 (only from 处理中).
    async fn complete_work_order(&self, ctx: &Context<'_>, id: ID) -> Result<WorkOrderView> {
        self.send(ctx, &Self::id(&id)?, WorkOrderCommand::Complete)
            .await
    }

    /// 撤销: 已撤销, only from 待处理 or 处理中.
    async fn cancel_work_order(&self, ctx: &Context<'_>, id: ID) -> Result<WorkOrderView> {
        self.send(ctx, &Self::id(&id)?, WorkOrderCommand::Cancel)
            .await
    }

    /// 发送短信: the guide SMS again (004 3.5).
    async fn resend_work_order_sms(&self, ctx: &Context<'_>, id: ID) -> Result<WorkOrderView> {
        self.send(ctx, &Self::id(&id)?, WorkOrderCommand::ResendSms)
            .await
    }

    /// 提交备注 (004 3.13); remarks are in the work order's audit trail.
    async fn remark_work_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        text: String,
    ) -> Result<WorkOrderView> {
        self.send(ctx, &Self::id(&id)?, WorkOrderCommand::AddRemark { text })
            .await
    }
}
