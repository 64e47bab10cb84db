//! `Channel`: an admission channel of the video interview (001 2.4.9 渠道管理).

mod aggregate;

pub use aggregate::{
    Admission, CallerPlace, Channel, ChannelCommand, ChannelError, ChannelEvent, ChannelSettings,
    GpsArea, NOT_AUTHORISED, RESTRICTED,
};

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "channel";
