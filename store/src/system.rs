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

/// The system clock moved by an adjustable offset: lets tests (and drills) run
/// the engine "later" without waiting, e.g. to fire timers after a restart.
#[derive(Debug, Default)]
pub struct ShiftableClock {
    offset_micros: std::sync::atomic::AtomicI64,
}

impl ShiftableClock {
    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_micros.fetch_add(
            by.num_microseconds().unwrap_or(i64::MAX),
            std::sync::atomic::Ordering::SeqCst,
        );
    }
}

impl Clock for ShiftableClock {
    fn now(&self) -> DateTime<Utc> {
        SystemClock.now()
            + chrono::Duration::microseconds(
                self.offset_micros.load(std::sync::atomic::Ordering::SeqCst),
            )
    }
}
