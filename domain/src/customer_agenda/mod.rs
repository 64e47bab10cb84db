//! `CustomerAgenda`: the appointments one person holds across every task, so a
//! person is never in two interviews at once (001 2.7.1: 防重处理).

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{agenda_id, person_key, CustomerAgenda};
pub use commands::AgendaCommand;
pub use error::AgendaError;
pub use events::AgendaEvent;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "customer-agenda";
