//! What happened to a `Callback`.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::aggregate::CallbackRequest;

/// Facts of a callback.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum CallbackEvent {
    /// Scheduled; the first attempt is due at once.
    CallbackScheduled {
        /// The request.
        request: CallbackRequest,
        /// Attempts before it fails.
        max_attempts: u32,
    },
    /// An attempt failed; the next is due at `next_at`.
    CallbackAttemptFailed {
        /// Attempt number.
        attempt: u32,
        /// What went wrong.
        error: String,
        /// When the next attempt is due.
        next_at: DateTime<Utc>,
    },
    /// Delivered.
    CallbackDelivered {
        /// Attempt number.
        attempt: u32,
    },
    /// Every attempt failed: an incident.
    CallbackFailed {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last_error: String,
    },
    /// An admin retried it.
    CallbackRetried,
}

impl DomainEvent for CallbackEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
