//! What happened to a `PartnerOrder`.

use cqrs_es::DomainEvent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::aggregate::{BorrowRequest, OrderDetails};

/// Facts of a `PartnerOrder`.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum PartnerOrderEvent {
    /// 0.
    OrderPushed(OrderDetails),
    /// 2.
    OperatorDataPulled,
    /// 10.
    OrderParsed,
    /// 11.
    CreditRequested,
    /// 11 → 12.
    CreditApproved {
        /// Message id of the decision.
        message_id: String,
        /// Limit.
        limit: Option<Decimal>,
        /// 执行年利率.
        annual_rate: Option<Decimal>,
    },
    /// 11 → 4; the partner is told 审批拒绝.
    CreditRefused {
        /// Message id of the decision.
        message_id: String,
        /// Reason.
        reason: Option<String>,
    },
    /// The account was not open: the request is kept (cl_borrow_confirm_log)
    /// and the customer sent to open it.
    BorrowDeferred(BorrowRequest),
    /// The 新网 account is open.
    AccountOpened,
    /// 12 → 1: the borrow order exists.
    BorrowConfirmed(BorrowRequest),
    /// The borrow was refused at audit (人工复审拒绝): a 7003 callback.
    BorrowAuditRejected,
    /// Disbursed: a success callback.
    BorrowDisbursed,
    /// 002 item 11: a card was bound (again). `default`: it is now the
    /// default disbursement and repayment card (the first card; a card bound
    /// again); the bind time is `bound_at`.
    CardBound {
        /// Card number.
        card_no: String,
        /// Bank code.
        bank_code: String,
        /// When it was bound.
        bound_at: chrono::DateTime<chrono::Utc>,
        /// Whether it is now the default card.
        default: bool,
    },
}

impl DomainEvent for PartnerOrderEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
