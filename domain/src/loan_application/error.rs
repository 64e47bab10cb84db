//! Why a `LoanApplication` refuses a command, each with its stable code.

use serde::Serialize;

use super::aggregate::{ApprovalRoute, Node, Product};
use crate::error::{DomainError, ErrorCode};

/// Why a command on a `LoanApplication` was refused.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    thiserror::Error,
    schemars::JsonSchema,
    crate::message::Localized,
)]
pub enum LoanError {
    /// No such application.
    #[error("loan application not found")]
    NotFound,
    /// Already submitted.
    #[error("the loan application already exists")]
    AlreadySubmitted,
    /// Bad input.
    #[error("{0}")]
    Invalid(crate::message::Message),
    /// Not a transition of the pipeline.
    #[error("cannot move from {from:?} to {to:?}")]
    InvalidTransition {
        /// Current node.
        from: Node,
        /// Requested node.
        to: Node,
    },
    /// 001 2.7.2 rule 4: 面签 only after 已面谈（待提交面签）.
    #[error("the interview has not passed (已面谈（待提交面签）) yet")]
    InterviewNotPassed,
    /// The command belongs to the other product's pipeline.
    #[error("not a step of the {product:?} pipeline")]
    WrongProduct {
        /// The application's product.
        product: Product,
    },
    /// 003: 无资格 — the applicant is not eligible.
    #[error("the applicant is not eligible (无资格)")]
    NotEligible,
    /// A step 003 requires first (whitelist check, face check, e-sign).
    #[error("{0} is required first")]
    StepMissing(&'static str),
    /// 003: 当日人脸识别上限次数 reached; the next day allows new attempts.
    #[error("the face check failed {cap} times today (Asia/Shanghai); try again tomorrow")]
    FaceCheckCapReached {
        /// The cap.
        cap: u32,
    },
    /// 003 §二(一): 期望额度小于等于授信审批额度 — the amount asked for is above
    /// the approved credit limit.
    #[error("the amount {amount} is above the approved credit limit {limit}")]
    AboveCreditLimit {
        /// The amount asked for.
        amount: rust_decimal::Decimal,
        /// The approved limit (授信额度).
        limit: rust_decimal::Decimal,
    },
    /// 003 §二(一): above 300,000 the contract is signed and the loan paid out
    /// offline (原"融信贷"后续审批流程), not through the online 秒贷 steps.
    #[error("a manually approved 融信贷 loan is signed and disbursed offline, not online")]
    OfflineRoute,
    /// A ledger figure was refused (an amount, a prepayment).
    #[error("{0}")]
    Ledger(#[from] super::ledger::LedgerError),
    /// A result or settlement names a request or prepayment that is not open.
    #[error("{kind} {id} is not open on this loan")]
    NotOpen {
        /// `disbursement request` or `prepayment`.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// One prepayment application at a time.
    #[error("prepayment {0} is still open")]
    PrepaymentOpen(String),
    /// The settlement does not match the approved quote (another payment came
    /// first, or another day or amount): nothing is booked.
    #[error("the settlement of {amount} on {on} does not match the approved quote of {quoted} on {quoted_on}")]
    QuoteMismatch {
        /// Received.
        amount: rust_decimal::Decimal,
        /// Received on.
        on: chrono::NaiveDate,
        /// The quote's total.
        quoted: rust_decimal::Decimal,
        /// The quote's day.
        quoted_on: chrono::NaiveDate,
    },
    /// The contract's terms changed since the customer was shown them (a new
    /// amount, term or signing rate): the signature names other terms.
    #[error("the contract's terms changed (now version {version}); review them and sign again")]
    TermsChanged {
        /// The terms' current version.
        version: u32,
    },
    /// The contract is signed: its terms no longer change.
    #[error("the contract is already signed")]
    AlreadySigned,
    /// The core's answer contradicts what an operator recorded for the request
    /// (人工落地): nothing is booked; a person reconciles the two.
    #[error("the core's answer to {request_id} contradicts the manual resolution ({recorded})")]
    ManualResolutionContradicted {
        /// The request.
        request_id: String,
        /// What the operator recorded.
        recorded: String,
    },
    /// The approver's role may not approve on this route.
    #[error("a {route:?} approval cannot be given by {role}")]
    WrongApprover {
        /// The route.
        route: ApprovalRoute,
        /// The role that tried.
        role: String,
    },
}

impl DomainError for LoanError {
    fn code(&self) -> ErrorCode {
        match self {
            LoanError::NotFound => ErrorCode::NotFound,
            LoanError::AlreadySubmitted => ErrorCode::Conflict,
            LoanError::Invalid(_) | LoanError::AboveCreditLimit { .. } | LoanError::Ledger(_) => {
                ErrorCode::Validation
            }
            LoanError::NotOpen { .. }
            | LoanError::PrepaymentOpen(_)
            | LoanError::QuoteMismatch { .. }
            | LoanError::TermsChanged { .. }
            | LoanError::ManualResolutionContradicted { .. }
            | LoanError::AlreadySigned => ErrorCode::Conflict,
            LoanError::InvalidTransition { .. }
            | LoanError::InterviewNotPassed
            | LoanError::WrongProduct { .. }
            | LoanError::NotEligible
            | LoanError::StepMissing(_)
            | LoanError::FaceCheckCapReached { .. }
            | LoanError::OfflineRoute => ErrorCode::InvalidTransition,
            LoanError::WrongApprover { .. } => ErrorCode::Forbidden,
        }
    }
}
