//! Adapters of facesign: the event stores on Postgres and SQLite, the command bus
//! that writes through them, the gap-safe global log reader, the Kafka relay and
//! consumer, and the system clock and id generator.

mod append;
pub mod bank_calendar;
pub mod cluster;
pub mod command_bus;
pub mod contract_mail;
pub mod database;
pub mod flows;
pub mod global_log;
pub mod idempotency;
pub mod kafka;
pub mod loan_review;
pub mod log_tail;
pub mod metrics;
pub mod operation_log;
pub mod partners;
pub mod sms;
pub mod system;
pub mod timers;
pub use projections::trace;

pub use command_bus::{CommandBus, CommandContext, CommandError, CommandReceipt, Denied, Guard};
pub use database::{Backend, Database, StoreError};
pub use global_log::GlobalLog;
pub use metrics::Metrics;
pub use system::{ShiftableClock, SystemClock, UuidV7Ids};

/// The client of every outbound HTTP call (partner callbacks, the SMS
/// gateway): a slow peer costs at most ten seconds per call.
pub(crate) fn outbound_http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("an HTTP client with default TLS")
}
