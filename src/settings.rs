//! Settings from command-line flags with environment fallbacks.

use std::sync::Arc;
use std::time::Duration;

use domain::schedule::SchedulingPolicy;
use domain::services::Clock;

/// Everything the engine needs to start.
#[derive(Clone)]
pub struct Settings {
    /// `postgres://…` or `sqlite://…` (FACESIGN_DATABASE_URL).
    pub database_url: String,
    /// Listen address (FACESIGN_BIND).
    pub bind: String,
    /// Seed demo data on start when the log is empty.
    pub demo: bool,
    /// Pool size per pool (FACESIGN_DB_MAX_CONNECTIONS).
    pub max_connections: u32,
    /// Attempts per command before CONFLICT (FACESIGN_COMMAND_MAX_ATTEMPTS).
    pub command_max_attempts: u32,
    /// Bounded wait of a mutation for its projection (FACESIGN_READ_YOUR_WRITES_TIMEOUT_MS).
    pub read_your_writes_timeout: Duration,
    /// Poll interval of projection runners when no commit notice arrives.
    pub projection_poll_interval: Duration,
    /// Events per projection transaction.
    pub projection_batch_size: u32,
    /// Booking horizon and reschedule limit (FACESIGN_BOOKING_HORIZON_DAYS, FACESIGN_MAX_RESCHEDULES).
    pub scheduling: SchedulingPolicy,
    /// How long before the window the reminder SMS goes out (FACESIGN_REMINDER_LEAD_MINUTES).
    pub reminder_lead: chrono::Duration,
    /// How often the timer worker looks for due timers.
    pub timer_poll_interval: Duration,
    /// The engine's clock; the system clock unless a test pins it.
    pub clock: Arc<dyn Clock>,
}

impl Settings {
    /// Defaults for `database_url`: the embedded SQLite file in the working directory.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            bind: "127.0.0.1:8080".to_string(),
            demo: false,
            max_connections: 10,
            command_max_attempts: 5,
            read_your_writes_timeout: Duration::from_secs(5),
            projection_poll_interval: Duration::from_millis(500),
            projection_batch_size: 500,
            scheduling: SchedulingPolicy::default(),
            reminder_lead: chrono::Duration::minutes(60),
            timer_poll_interval: Duration::from_secs(1),
            clock: Arc::new(adapters::SystemClock),
        }
    }

    /// The database URL without its password, for logs and error messages.
    pub fn redacted_url(&self) -> String {
        redact(&self.database_url)
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/facesign"),
            "postgres://app:***@db:5432/facesign"
        );
        assert_eq!(redact("sqlite://facesign.db"), "sqlite://facesign.db");
    }
}
