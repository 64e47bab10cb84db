//! `MediaAsset`: a standard audio or video clip (制式音视频) played during the
//! interview: product introductions, marketing and risk notices (001 2.4.8).

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{MediaAsset, MediaCategory, MediaSettings, AGGREGATE_TYPE};
pub use commands::MediaCommand;
pub use error::MediaError;
pub use events::MediaEvent;
