//! What a `PartnerOrder` is asked to do.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::aggregate::{BorrowRequest, OrderDetails};

/// Commands a `PartnerOrder` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum PartnerOrderCommand {
    /// 订单信息推送 (idempotent: the same order pushed again changes nothing).
    Push(OrderDetails),
    /// 授信数据拉取 done (→ 2).
    RecordDataPulled,
    /// 订单解析 done (→ 10).
    RecordParsed,
    /// 发起授信申请 (→ 11).
    RequestCredit,
    /// The credit system's decision (002 item 8), from `credit.decisions.v1`;
    /// the same message again changes nothing.
    RecordCreditDecision {
        /// Message id (deduplication).
        message_id: String,
        /// Approved or refused.
        approved: bool,
        /// Approved limit.
        limit: Option<Decimal>,
        /// 执行年利率 of the approval.
        annual_rate: Option<Decimal>,
        /// Why refused.
        reason: Option<String>,
    },
    /// 用户确认借款 (002 item 12), idempotent by order no: the borrow when the
    /// customer's 新网 account is open, else the request is kept.
    ConfirmBorrow {
        /// Amount and term.
        request: BorrowRequest,
    },
    /// The 新网 account was opened.
    RecordAccountOpened,
    /// The 1-hour check (002 item 13): makes the deferred borrow if the account
    /// is open now; nothing otherwise (and nothing if the borrow exists).
    CompleteDeferredBorrow,
    /// 订单审核 result (002 item 15).
    RecordAudit {
        /// Passed.
        approved: bool,
    },
    /// 放款 done.
    RecordDisbursed,
    /// 002 item 11 (绑卡, without an SMS code): binds a bank card to the order.
    BindCard {
        /// Card number, 12 to 30 digits.
        card_no: String,
        /// The bank's code (from the supported-bank list).
        bank_code: String,
    },
}
