//! Partner orders, callbacks and their incidents in GraphQL (002; the Kafka issue).

use async_graphql::{Context, Enum, Object, Result, SimpleObject, ID};
use domain::callback::{Callback, CallbackCommand};
use domain::partner_order::{order_id, PartnerOrder, PartnerOrderCommand};
use projections::partners::{CallbackRow, PartnerOrderRow, Partners};

use crate::access;
use crate::command;
use crate::context::state;
use crate::context::viewer;
use crate::error::ApiError;

/// A partner order.
#[derive(SimpleObject)]
pub struct PartnerOrderView {
    /// `<PARTNER>:<orderNo>`.
    pub id: ID,
    /// Partner code.
    pub partner: String,
    /// The partner's order no.
    pub order_no: String,
    /// Customer name (masked for roles without need).
    pub customer_name: String,
    /// Status name.
    pub status: String,
    /// The 002 status code (0, 2, 10, 11, 12, 1, 4, 5).
    pub status_code: i64,
    /// 审核结果 code for the partner (6001, 6003, 6004).
    pub audit_result_code: String,
    /// Approved limit.
    pub credit_limit: Option<String>,
    /// Borrowed amount.
    pub borrow_amount: Option<String>,
    /// IN_PROGRESS, MANUAL_REVIEW_REJECTED or DISBURSED.
    pub borrow_status: Option<String>,
    /// A confirm-borrow waits for the 新网 account.
    pub borrow_deferred: bool,
    /// The 新网 account is open.
    pub account_opened: bool,
    /// Last change.
    pub updated_at: String,
}

fn order_view(ctx: &Context<'_>, r: PartnerOrderRow) -> PartnerOrderView {
    let audit = match r.status_code {
        12 | 1 => "6001",
        4 | 5 => "6004",
        _ => "6003",
    };
    let reveal = access::reveals(viewer(ctx), access::Showing::Alone);
    if reveal {
        access::record::personal_data(
            ctx,
            format!("partner-order:{}", r.order_id),
            &["customerName"],
        );
    }
    PartnerOrderView {
        id: ID(r.order_id),
        partner: r.partner,
        order_no: r.order_no,
        customer_name: access::name(reveal, &r.customer_name),
        status: r.status,
        status_code: r.status_code,
        audit_result_code: audit.to_string(),
        credit_limit: r.credit_limit,
        borrow_amount: r.borrow_amount,
        borrow_status: r.borrow_status,
        borrow_deferred: r.borrow_deferred == 1,
        account_opened: r.account_opened == 1,
        updated_at: r.updated_at,
    }
}

/// An outbound callback.
#[derive(SimpleObject)]
pub struct CallbackView {
    /// Id.
    pub id: ID,
    /// Partner code or CORE_SYSTEM.
    pub target: String,
    /// What about.
    pub kind: String,
    /// The order it is about.
    pub subject: String,
    /// Where it goes.
    pub url: String,
    /// PENDING, DELIVERED or FAILED (an incident).
    pub status: String,
    /// Attempts in the current budget.
    pub attempts: i64,
    /// The last error.
    pub last_error: Option<String>,
    /// When the next attempt is due.
    pub next_at: Option<String>,
    /// Last change.
    pub updated_at: String,
}

impl From<CallbackRow> for CallbackView {
    fn from(r: CallbackRow) -> Self {
        Self {
            id: ID(r.callback_id),
            target: r.target,
            kind: r.kind,
            subject: r.subject,
            url: r.url,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            next_at: r.next_at,
            updated_at: r.updated_at,
        }
    }
}

/// Filter of callbacks.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CallbackStatus {
    /// Waiting for an attempt.
    Pending,
    /// Delivered.
    Delivered,
    /// Failed: the incidents.
    Failed,
}

/// A step of the credit system's intake (002 items 5–7).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PartnerOrderStep {
    /// 授信数据拉取 done (→ 2).
    DataPulled,
    /// 订单解析 done (→ 10).
    Parsed,
    /// 发起授信申请 (→ 11).
    CreditRequested,
}

/// Partner queries.
#[derive(Default)]
pub struct PartnerQuery;

#[Object]
impl PartnerQuery {
    /// One partner order; null when unknown.
    async fn partner_order(
        &self,
        ctx: &Context<'_>,
        partner: String,
        order_no: String,
    ) -> Result<Option<PartnerOrderView>> {
        let row = Partners::order(
            state(ctx).database.read_models(),
            &order_id(&partner, &order_no),
        )
        .await
        .map_err(ApiError::from)?;
        Ok(row.map(|r| order_view(ctx, r)))
    }

    /// Outbound callbacks, newest first; `status: FAILED` lists the incidents.
    async fn callbacks(
        &self,
        ctx: &Context<'_>,
        status: Option<CallbackStatus>,
    ) -> Result<Vec<CallbackView>> {
        let status = status.map(|s| match s {
            CallbackStatus::Pending => "PENDING",
            CallbackStatus::Delivered => "DELIVERED",
            CallbackStatus::Failed => "FAILED",
        });
        let state = state(ctx);
        let rows = Partners::callbacks(
            state.database.read_models(),
            status,
            state.config.max_page_size,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

/// Partner mutations.
#[derive(Default)]
pub struct PartnerMutation;

impl PartnerMutation {
    async fn order(
        &self,
        ctx: &Context<'_>,
        partner: &str,
        order_no: &str,
        command: PartnerOrderCommand,
    ) -> Result<Option<PartnerOrderView>> {
        let id = order_id(partner, order_no);
        command::send_unguarded::<PartnerOrder>(ctx, &id, command).await?;
        PartnerQuery
            .partner_order(ctx, partner.to_string(), order_no.to_string())
            .await
    }
}

#[Object]
impl PartnerMutation {
    /// The credit system's intake steps (授信数据拉取, 订单解析, 发起授信申请).
    async fn advance_partner_order(
        &self,
        ctx: &Context<'_>,
        partner: String,
        order_no: String,
        step: PartnerOrderStep,
    ) -> Result<Option<PartnerOrderView>> {
        let command = match step {
            PartnerOrderStep::DataPulled => PartnerOrderCommand::RecordDataPulled,
            PartnerOrderStep::Parsed => PartnerOrderCommand::RecordParsed,
            PartnerOrderStep::CreditRequested => PartnerOrderCommand::RequestCredit,
        };
        self.order(ctx, &partner, &order_no, command).await
    }

    /// The customer's 新网 account is open (a deferred borrow is made by the check).
    async fn record_partner_account_opened(
        &self,
        ctx: &Context<'_>,
        partner: String,
        order_no: String,
    ) -> Result<Option<PartnerOrderView>> {
        self.order(
            ctx,
            &partner,
            &order_no,
            PartnerOrderCommand::RecordAccountOpened,
        )
        .await
    }

    /// 订单审核 result; a refusal calls the partner back with 7003.
    async fn record_partner_order_audit(
        &self,
        ctx: &Context<'_>,
        partner: String,
        order_no: String,
        approved: bool,
    ) -> Result<Option<PartnerOrderView>> {
        self.order(
            ctx,
            &partner,
            &order_no,
            PartnerOrderCommand::RecordAudit { approved },
        )
        .await
    }

    /// 放款 done; the partner is called back with success.
    async fn record_partner_disbursement(
        &self,
        ctx: &Context<'_>,
        partner: String,
        order_no: String,
    ) -> Result<Option<PartnerOrderView>> {
        self.order(
            ctx,
            &partner,
            &order_no,
            PartnerOrderCommand::RecordDisbursed,
        )
        .await
    }

    /// Retries a FAILED callback (an incident) with a fresh budget of attempts.
    async fn retry_callback(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CallbackView>> {
        let state = state(ctx);
        command::send_unguarded::<Callback>(ctx, &id, CallbackCommand::Retry).await?;
        let row = Partners::callback(state.database.read_models(), &id)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(Into::into))
    }
}
