//! `Channel`: an admission channel of the video interview (001 2.4.9 渠道管理).

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{
    Admission, CallerPlace, Channel, ChannelSettings, GpsArea, NOT_AUTHORISED, RESTRICTED,
};
pub use commands::ChannelCommand;
pub use error::ChannelError;
pub use events::ChannelEvent;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "channel";
