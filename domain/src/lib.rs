//! Pure domain of facesign: aggregates, commands, events and the record types
//! of the global log. No I/O lives here: time and ids arrive through
//! [`services::DomainServices`], so every aggregate is deterministic and replayable.

pub mod account;
pub mod aggregates;
pub mod calendar;
pub mod callback;
pub mod change_proposal;
pub mod channel;
#[cfg(test)]
mod command_inputs;
pub mod contracts;
pub mod customer_agenda;
pub mod error;
pub mod event_labels;
pub mod flows;
pub mod inbound_call;
pub mod interview_task;
pub mod loan_application;
pub mod log;
pub mod media_asset;
pub mod message;
pub mod notification;
pub mod partner_order;
pub mod pii;
pub mod qc_case;
pub mod repayment;
pub mod reservation;
pub mod role;
pub mod schedule;
pub mod script_catalog;
pub mod seat;
pub mod seat_group;
pub mod services;
pub mod text;
pub mod upcast;
pub mod work_order;

// The message macros name `::domain::message`, here as in every other crate.
extern crate self as domain;

pub use error::ErrorCode;

/// The name a unit enum variant has on the wire and in read models
/// (`SCREAMING_SNAKE_CASE` by serde), e.g. `PENDING_QC`; empty for anything else.
pub fn wire_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
