//! `InboundCall`: a customer's call into the video seats (呼入), from the
//! admission check through the queue (排队) to the seat that answers it
//! (001 2.2.2, 2.3.1, 2.4.4 分案规则; 004 3.6 排队规则).

mod aggregate;
mod commands;
pub mod dispatch;
mod error;
mod events;

pub use aggregate::{call_in_refusal, CallStatus, InboundCall};
pub use commands::InboundCallCommand;
pub use dispatch::{
    DispatchReason, DispatchRule, DispatchRuleCommand, DispatchRuleEvent, IdleSeatRule,
};
pub use error::InboundCallError;
pub use events::{InboundCallEvent, QueuedCall};

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "inbound-call";
