//! What a `Callback` is asked to do.

use serde::{Deserialize, Serialize};

use super::aggregate::CallbackRequest;

/// Commands of a callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum CallbackCommand {
    /// Schedule it (idempotent: the same request again changes nothing).
    Schedule {
        /// The request.
        request: CallbackRequest,
        /// Attempts before it fails.
        max_attempts: u32,
    },
    /// The outcome of attempt `attempt`.
    RecordAttempt {
        /// 1-based attempt number (a stale or repeated report is ignored).
        attempt: u32,
        /// None when delivered, else what went wrong.
        error: Option<String>,
    },
    /// An admin retries a failed callback: a fresh budget of attempts.
    Retry,
}
