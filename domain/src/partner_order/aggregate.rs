use crate::message::{message, Message};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::commands::PartnerOrderCommand;
use super::error::PartnerOrderError;
use super::events::PartnerOrderEvent;
use crate::pii::valid_phone;
use crate::services::DomainServices;

/// 三方订单状态 of 002, with its codes.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PartnerOrderStatus {
    /// Not pushed yet.
    #[default]
    None,
    /// 0: pushed by the partner (订单信息推送).
    Pushed,
    /// 2: operator data pulled, 待解析 (002 item 5).
    AwaitingParse,
    /// 10: parsed, waiting for the credit application.
    AwaitingCredit,
    /// 11: 授信中.
    CreditInProgress,
    /// 12: 授信通过待确认.
    CreditApproved,
    /// 1: 已处理 (the borrow is confirmed).
    Processed,
    /// 4: 取消 (credit refused).
    Cancelled,
    /// 5: 拒绝 (refused before credit: the user filter or the order's data).
    Rejected,
}

impl PartnerOrderStatus {
    /// The numeric code of 002.
    pub fn code(self) -> Option<u8> {
        Some(match self {
            PartnerOrderStatus::None => return None,
            PartnerOrderStatus::Pushed => 0,
            PartnerOrderStatus::AwaitingParse => 2,
            PartnerOrderStatus::AwaitingCredit => 10,
            PartnerOrderStatus::CreditInProgress => 11,
            PartnerOrderStatus::CreditApproved => 12,
            PartnerOrderStatus::Processed => 1,
            PartnerOrderStatus::Cancelled => 4,
            PartnerOrderStatus::Rejected => 5,
        })
    }

    /// 002 item 9 审核结果查询.
    pub fn audit_result(self) -> AuditResultCode {
        match self {
            PartnerOrderStatus::CreditApproved | PartnerOrderStatus::Processed => {
                AuditResultCode::Passed
            }
            PartnerOrderStatus::Cancelled | PartnerOrderStatus::Rejected => {
                AuditResultCode::Refused
            }
            _ => AuditResultCode::InProgress,
        }
    }
}

/// Partner result codes of 002 item 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum AuditResultCode {
    /// 6001 初审通过 (12, 1).
    Passed,
    /// 6003 初审处理中 (0, 10, 11 — and 2).
    InProgress,
    /// 6004 初审拒绝 (4, 5), 失败原因：资质不符.
    Refused,
}

impl AuditResultCode {
    /// The code on the wire.
    pub fn code(self) -> &'static str {
        match self {
            AuditResultCode::Passed => "6001",
            AuditResultCode::InProgress => "6003",
            AuditResultCode::Refused => "6004",
        }
    }

    /// The reason 002 gives with a refusal.
    pub fn reason(self) -> Option<&'static str> {
        (self == AuditResultCode::Refused).then_some("资质不符")
    }
}

/// The borrow order (借款订单) made by confirm-borrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BorrowStatus {
    /// In audit or disbursement (002 item 17: 0, 10, 13, 20, 31).
    InProgress,
    /// 人工复审拒绝 (27).
    ManualReviewRejected,
    /// Disbursed (30, 40, 41).
    Disbursed,
}

/// Partner result codes of 002 item 17.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum LoanResultCode {
    /// 7002 放款中.
    Disbursing,
    /// 7003 放款失败-拒单处理.
    RefusedAfterReview,
    /// 放款成功.
    Success,
}

impl LoanResultCode {
    /// The code on the wire ("SUCCESS" where 002 gives no number).
    pub fn code(self) -> &'static str {
        match self {
            LoanResultCode::Disbursing => "7002",
            LoanResultCode::RefusedAfterReview => "7003",
            LoanResultCode::Success => "SUCCESS",
        }
    }
}

impl From<BorrowStatus> for LoanResultCode {
    fn from(s: BorrowStatus) -> Self {
        match s {
            BorrowStatus::InProgress => LoanResultCode::Disbursing,
            BorrowStatus::ManualReviewRejected => LoanResultCode::RefusedAfterReview,
            BorrowStatus::Disbursed => LoanResultCode::Success,
        }
    }
}

/// What the partner pushes (订单信息推送).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderDetails {
    /// Partner code (RONGSHU, BAIRONG).
    pub partner: String,
    /// The partner's order no.
    pub order_no: String,
    /// The partner's user id (榕树 uid).
    pub partner_uid: String,
    /// Customer name.
    pub customer_name: String,
    /// ID number.
    pub id_number: String,
    /// Mobile.
    pub phone: String,
}

/// A borrow request (用户确认借款).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BorrowRequest {
    /// Amount (CNY).
    pub amount: Decimal,
    /// Term in months.
    pub term_months: u32,
}

/// A bank card bound to an order (002 item 11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BoundCard {
    /// Card number.
    pub card_no: String,
    /// Bank code.
    pub bank_code: String,
    /// When it was last bound.
    pub bound_at: chrono::DateTime<chrono::Utc>,
    /// The default disbursement and repayment card.
    pub default: bool,
}

/// The write-side state of one partner order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PartnerOrder {
    status: PartnerOrderStatus,
    details: Option<OrderDetails>,
    decision_message: Option<String>,
    limit: Option<Decimal>,
    annual_rate: Option<Decimal>,
    account_opened: bool,
    deferred: Option<BorrowRequest>,
    borrow: Option<(BorrowRequest, BorrowStatus)>,
    #[serde(default)]
    cards: Vec<BoundCard>,
}

impl PartnerOrder {
    /// Where the order stands.
    pub fn status(&self) -> PartnerOrderStatus {
        self.status
    }

    /// What the partner pushed.
    pub fn details(&self) -> Option<&OrderDetails> {
        self.details.as_ref()
    }

    /// The borrow order, once confirmed.
    pub fn borrow(&self) -> Option<&(BorrowRequest, BorrowStatus)> {
        self.borrow.as_ref()
    }

    /// 执行年利率 of the approval.
    pub fn annual_rate(&self) -> Option<Decimal> {
        self.annual_rate
    }

    /// The approved credit limit (授信额度).
    pub fn limit(&self) -> Option<Decimal> {
        self.limit
    }

    /// The cards bound to the order; `authInfo` is 已绑卡 once there is one.
    pub fn cards(&self) -> &[BoundCard] {
        &self.cards
    }

    /// A confirm-borrow waiting for the account to open.
    pub fn deferred_borrow(&self) -> Option<&BorrowRequest> {
        self.deferred.as_ref()
    }

    fn refuse(&self) -> PartnerOrderError {
        PartnerOrderError::InvalidTransition {
            status: self.status,
            code: self.status.code(),
        }
    }

    /// 002 item 12 a: 检查用户是否可借 — within the approved limit, 1 to 36 months.
    fn borrowable(&self, request: &BorrowRequest) -> Result<(), PartnerOrderError> {
        if request.amount <= Decimal::ZERO || !(1..=36).contains(&request.term_months) {
            return Err(PartnerOrderError::BorrowRefused(message!(
                "amount must be positive and the term 1 to 36 months"
            )));
        }
        if self.limit.is_some_and(|limit| request.amount > limit) {
            return Err(PartnerOrderError::BorrowRefused(message!(
                "the amount exceeds the approved limit"
            )));
        }
        Ok(())
    }
}

fn validate(d: OrderDetails) -> Result<OrderDetails, PartnerOrderError> {
    let invalid = |m: Message| Err(PartnerOrderError::Invalid(m));
    if d.order_no.trim().is_empty() || d.order_no.len() > 64 {
        return invalid(message!("orderNo must be 1 to 64 characters"));
    }
    if d.customer_name.trim().is_empty() || d.id_number.trim().is_empty() {
        return invalid(message!("name and ID number are required"));
    }
    if !valid_phone(d.phone.trim()) {
        return invalid(message!("phone must be an 11-digit mainland mobile number"));
    }
    Ok(OrderDetails {
        partner: d.partner.trim().to_uppercase(),
        order_no: d.order_no.trim().to_string(),
        partner_uid: d.partner_uid.trim().to_string(),
        customer_name: d.customer_name.trim().to_string(),
        id_number: d.id_number.trim().to_uppercase(),
        phone: d.phone.trim().to_string(),
    })
}

impl Aggregate for PartnerOrder {
    const TYPE: &'static str = super::AGGREGATE_TYPE;
    type Command = PartnerOrderCommand;
    type Event = PartnerOrderEvent;
    type Error = PartnerOrderError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: PartnerOrderCommand,
        services: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), PartnerOrderError> {
        use PartnerOrderStatus as S;
        if self.status == S::None && !matches!(command, PartnerOrderCommand::Push(_)) {
            return Err(PartnerOrderError::NotFound);
        }
        let event = match command {
            PartnerOrderCommand::Push(details) => {
                let details = validate(details)?;
                if self.details.as_ref() == Some(&details) {
                    return Ok(());
                }
                if self.status != S::None {
                    return Err(self.refuse());
                }
                PartnerOrderEvent::OrderPushed(details)
            }
            PartnerOrderCommand::RecordDataPulled if self.status == S::Pushed => {
                PartnerOrderEvent::OperatorDataPulled
            }
            PartnerOrderCommand::RecordParsed if self.status == S::AwaitingParse => {
                PartnerOrderEvent::OrderParsed
            }
            PartnerOrderCommand::RequestCredit if self.status == S::AwaitingCredit => {
                PartnerOrderEvent::CreditRequested
            }
            PartnerOrderCommand::RecordCreditDecision { message_id, .. }
                if self.decision_message.as_ref() == Some(&message_id) =>
            {
                return Ok(()); // the same message redelivered
            }
            PartnerOrderCommand::RecordCreditDecision {
                message_id,
                approved,
                limit,
                annual_rate,
                reason,
            } if self.status == S::CreditInProgress => {
                if approved {
                    PartnerOrderEvent::CreditApproved {
                        message_id,
                        limit,
                        annual_rate,
                    }
                } else {
                    PartnerOrderEvent::CreditRefused { message_id, reason }
                }
            }
            PartnerOrderCommand::ConfirmBorrow { request, .. }
                if self.borrow.as_ref().is_some_and(|(b, _)| *b == request)
                    || (self.deferred.as_ref() == Some(&request) && !self.account_opened) =>
            {
                return Ok(()); // 用户重复点击: idempotent by order no
            }
            PartnerOrderCommand::ConfirmBorrow { request } if self.status == S::CreditApproved => {
                self.borrowable(&request)?;
                if self.account_opened {
                    PartnerOrderEvent::BorrowConfirmed(request)
                } else {
                    PartnerOrderEvent::BorrowDeferred(request)
                }
            }
            PartnerOrderCommand::RecordAccountOpened if self.account_opened => return Ok(()),
            PartnerOrderCommand::RecordAccountOpened => PartnerOrderEvent::AccountOpened,
            PartnerOrderCommand::CompleteDeferredBorrow => {
                match (&self.deferred, self.status, self.account_opened) {
                    (Some(request), S::CreditApproved, true) => {
                        PartnerOrderEvent::BorrowConfirmed(request.clone())
                    }
                    // Already borrowed (raced with confirm-borrow), not open yet, or nothing deferred.
                    _ => return Ok(()),
                }
            }
            PartnerOrderCommand::RecordAudit { approved } => match &self.borrow {
                Some((_, BorrowStatus::InProgress)) if approved => return Ok(()),
                Some((_, BorrowStatus::InProgress)) => PartnerOrderEvent::BorrowAuditRejected,
                _ => return Err(self.refuse()),
            },
            PartnerOrderCommand::RecordDisbursed => match &self.borrow {
                Some((_, BorrowStatus::InProgress)) => PartnerOrderEvent::BorrowDisbursed,
                Some((_, BorrowStatus::Disbursed)) => return Ok(()),
                _ => return Err(self.refuse()),
            },
            // 002: 授信 → 用款确认 → 绑卡; a card is bound once the credit is approved.
            PartnerOrderCommand::BindCard { card_no, bank_code }
                if matches!(self.status, S::CreditApproved | S::Processed) =>
            {
                let card_no = card_no.trim().to_string();
                let bank_code = bank_code.trim().to_uppercase();
                if !(12..=30).contains(&card_no.len())
                    || !card_no.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(PartnerOrderError::Invalid(message!(
                        "cardNo must be 12 to 30 digits"
                    )));
                }
                if bank_code.is_empty()
                    || bank_code.len() > 20
                    || !bank_code.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(PartnerOrderError::Invalid(message!(
                        "bankCode must be 1 to 20 letters or digits"
                    )));
                }
                // 首次绑卡: the default card; 重复绑卡 (a card bound before): the
                // default again, with a new bind time; another new card: bound,
                // the default unchanged.
                let default =
                    self.cards.is_empty() || self.cards.iter().any(|c| c.card_no == card_no);
                PartnerOrderEvent::CardBound {
                    card_no,
                    bank_code,
                    bound_at: services.clock.now(),
                    default,
                }
            }
            _ => return Err(self.refuse()),
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: PartnerOrderEvent) {
        use PartnerOrderStatus as S;
        match event {
            PartnerOrderEvent::OrderPushed(details) => {
                self.details = Some(details);
                self.status = S::Pushed;
            }
            PartnerOrderEvent::OperatorDataPulled => self.status = S::AwaitingParse,
            PartnerOrderEvent::OrderParsed => self.status = S::AwaitingCredit,
            PartnerOrderEvent::CreditRequested => self.status = S::CreditInProgress,
            PartnerOrderEvent::CreditApproved {
                message_id,
                limit,
                annual_rate,
            } => {
                self.decision_message = Some(message_id);
                self.limit = limit;
                self.annual_rate = annual_rate;
                self.status = S::CreditApproved;
            }
            PartnerOrderEvent::CreditRefused { message_id, .. } => {
                self.decision_message = Some(message_id);
                self.status = S::Cancelled;
            }
            PartnerOrderEvent::BorrowDeferred(request) => self.deferred = Some(request),
            PartnerOrderEvent::AccountOpened => self.account_opened = true,
            PartnerOrderEvent::BorrowConfirmed(request) => {
                self.borrow = Some((request, BorrowStatus::InProgress));
                self.status = S::Processed;
            }
            PartnerOrderEvent::BorrowAuditRejected => {
                if let Some((_, status)) = &mut self.borrow {
                    *status = BorrowStatus::ManualReviewRejected;
                }
            }
            PartnerOrderEvent::BorrowDisbursed => {
                if let Some((_, status)) = &mut self.borrow {
                    *status = BorrowStatus::Disbursed;
                }
            }
            PartnerOrderEvent::CardBound {
                card_no,
                bank_code,
                bound_at,
                default,
            } => {
                if default {
                    for card in &mut self.cards {
                        card.default = false;
                    }
                }
                self.cards.retain(|c| c.card_no != card_no);
                self.cards.push(BoundCard {
                    card_no,
                    bank_code,
                    bound_at,
                    default,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests;
