//! `Callback`: one outbound notification to a partner or the core system (002:
//! 回调榕树审批拒绝, 放款失败-拒件处理 7003, 放款成功). The signed request is
//! fixed when scheduled; attempts back off exponentially with jitter up to a
//! maximum, then the callback is FAILED — an incident an admin can retry.

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{backoff, Callback, CallbackRequest, CallbackStatus, AGGREGATE_TYPE};
pub use commands::CallbackCommand;
pub use error::CallbackError;
pub use events::CallbackEvent;
