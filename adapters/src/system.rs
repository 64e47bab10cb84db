//! Production implementations of the domain's injected services.

use chrono::{DateTime, Utc};
use domain::services::{Clock, IdGen};
use uuid::Uuid;

/// Reads the system clock, truncated to microseconds so that a stored and
/// re-read timestamp compares equal on every backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
    }
}

/// Time-ordered UUID v7 identifiers.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidV7Ids;

impl IdGen for UuidV7Ids {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}
