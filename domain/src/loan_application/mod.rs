//! `LoanApplication`: a loan's way through its product pipeline (001 2.7: 提交申请 →
//! 初审 → 家访 → 面谈 → 面签 → 公证 → 已出他证 → 放款), with advances and roll-backs
//! as events. A roll-back to or past 面谈 supersedes the interview task and opens
//! its successor (a process manager does it).

mod aggregate;
mod commands;
mod error;
mod events;
pub mod ledger;
pub mod terms;

pub use aggregate::{ApprovalRoute, LoanApplication, Node, Product, WhitelistResult};
pub use commands::{CoreRequestKind, DisbursementOutcome, LoanCommand, OpenPartnerLoan};
pub use error::LoanError;
pub use events::{Disbursement, LoanEvent};
pub use terms::{ContractTerms, CreditOffer, LoanDocument, VerificationPurpose};

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "loan-application";
