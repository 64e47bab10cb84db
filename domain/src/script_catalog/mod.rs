//! `ScriptCatalog`: the standard scripts (标准话术) shown on the seat
//! workstation, by channel and product, with exactly one default (001 2.4.7).
//! One catalog per deployment (id [`CATALOG_ID`]) so "exactly one default" is
//! an invariant of one aggregate rather than a race between many.

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{Script, ScriptCatalog, AGGREGATE_TYPE, CATALOG_ID};
pub use commands::ScriptCommand;
pub use error::ScriptError;
pub use events::ScriptEvent;
