//! `QcCase`: quality control of one concluded interview (001 2.4.3 质检管理).

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{QcCase, QcStatus};
pub use commands::{QcCaseCommand, QcDecision, QcOrigin, RejectReason};
pub use error::QcCaseError;
pub use events::QcCaseEvent;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "qc-case";

/// The case id for the conclusion at `sequence` of `task_id`: deterministic, so
/// a redelivered conclusion opens the same case, not a second one.
pub fn case_id(task_id: &str, sequence: i64) -> String {
    format!("qc-{task_id}-{sequence}")
}
