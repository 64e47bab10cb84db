//! Read models of facesign. Each projection turns events of the global log into
//! rows, in the same transaction as its checkpoint, and can be rebuilt from zero.

pub mod admin_catalog;
pub mod audit_log;
pub mod call_queue;
pub mod channels;
pub mod consumers;
pub mod interview_records;
pub mod loan_ledger;
pub mod loan_lineage;
pub mod partners;
pub mod runner;
pub mod seat_calendar;
pub mod task_board;

pub use admin_catalog::AdminCatalog;
pub use audit_log::AuditLog;
pub use call_queue::CallQueue;
pub use channels::Channels;
pub use consumers::{Consumer, ConsumerKind, Consumers};
pub use interview_records::InterviewRecords;
pub use loan_ledger::LoanLedger;
pub use loan_lineage::LoanLineage;
pub use partners::Partners;
pub use runner::{Projection, ProjectionRunner};
pub use seat_calendar::SeatCalendar;
pub use task_board::TaskBoard;
