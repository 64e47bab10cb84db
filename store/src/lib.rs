//! The event store of facesign: the databases (Postgres, SQLite), the append
//! path and the command bus that writes through it, the gap-safe global log
//! and its tail, idempotency, the operation log, the cluster's leadership,
//! metrics, and the run loop every worker over the log shares. It depends on
//! the domain only; read models and workers build on it.

mod append;
pub mod chain;
pub mod checkpoint;
pub mod cluster;
pub mod command_bus;
pub mod database;
pub mod global_log;
pub mod idempotency;
pub mod log_tail;
pub mod metrics;
pub mod operation_log;
pub mod parked;
pub mod system;
pub mod trace;
pub mod worker;

pub use command_bus::{CommandBus, CommandContext, CommandError, CommandReceipt, Denied, Guard};
pub use database::{Backend, Database, SchemaStatus, StoreError};
pub use global_log::GlobalLog;
pub use metrics::Metrics;
pub use system::{ShiftableClock, SystemClock, UuidV7Ids};
pub use worker::{LogWorker, Work, WorkerError, WorkerHandle, WorkerStatus};
