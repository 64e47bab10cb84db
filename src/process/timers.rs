//! Durable timers: rows in `timers`, fired by a worker that polls for due ones,
//! so appointment expiry and reminders happen even after a restart. Firing is at
//! least once; the commands and messages a timer causes are idempotent.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use adapters::sms::SmsOutbox;
use adapters::{CommandBus, CommandContext, CommandError};
use chrono::{DateTime, Utc};
use domain::interview_task::{InterviewTask, InterviewTaskCommand};
use domain::log::{Actor, LogPosition};
use projections::runner::run_until_shutdown;
use sqlx::AnyPool;
use tokio::sync::watch;
use tracing::warn;
use uuid::Uuid;

use super::scheduling::send_notice;

/// What a timer does when due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// Expire the appointment when its window has passed.
    Expiry,
    /// Text the participants before the window opens.
    Reminder,
}

impl TimerKind {
    fn as_str(self) -> &'static str {
        match self {
            TimerKind::Expiry => "EXPIRY",
            TimerKind::Reminder => "REMINDER",
        }
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Stores a timer once per (kind, booking).
pub async fn schedule_timer(
    pool: &AnyPool,
    kind: TimerKind,
    task_id: &str,
    booking_id: Uuid,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO timers (timer_id, kind, task_id, booking_id, due_at, created_at, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, 0) ON CONFLICT (timer_id) DO NOTHING",
    )
    .bind(format!("{}:{booking_id}", kind.as_str().to_lowercase()))
    .bind(kind.as_str())
    .bind(task_id)
    .bind(booking_id.to_string())
    .bind(rfc3339(due_at))
    .bind(rfc3339(now))
    .execute(pool)
    .await?;
    Ok(())
}

/// Fires due timers.
pub struct TimerWorker {
    bus: Arc<CommandBus>,
    pool: AnyPool,
    sms: SmsOutbox,
}

impl TimerWorker {
    /// A worker sending commands through `bus`.
    pub fn new(bus: Arc<CommandBus>, pool: AnyPool, sms: SmsOutbox) -> Self {
        Self { bus, pool, sms }
    }

    /// Fires every timer due by now; returns how many fired.
    pub async fn fire_due(&self) -> anyhow::Result<usize> {
        let now = self.bus.services().clock.now();
        let due: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT timer_id, kind, task_id, booking_id FROM timers
              WHERE fired_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT 200",
        )
        .bind(rfc3339(now))
        .fetch_all(&self.pool)
        .await?;
        let mut fired = 0;
        for (timer_id, kind, task_id, booking_id) in due {
            let outcome = self.fire(&timer_id, &kind, &task_id, &booking_id).await;
            let error = outcome.as_ref().err().map(|e| format!("{e:#}"));
            if let Some(error) = &error {
                warn!(timer_id, error, "timer failed; it will fire again");
            }
            sqlx::query(
                "UPDATE timers SET fired_at = $1, attempts = attempts + 1, last_error = $2 WHERE timer_id = $3",
            )
            .bind(outcome.is_ok().then(|| rfc3339(now)))
            .bind(error)
            .bind(&timer_id)
            .execute(&self.pool)
            .await?;
            fired += usize::from(outcome.is_ok());
        }
        Ok(fired)
    }

    async fn fire(
        &self,
        timer_id: &str,
        kind: &str,
        task_id: &str,
        booking_id: &str,
    ) -> anyhow::Result<()> {
        let booking_id: Uuid = booking_id.parse()?;
        match kind {
            "EXPIRY" => {
                let context = CommandContext {
                    actor: Actor::system("timer"),
                    correlation_id: timer_id.to_string(),
                    causation_id: timer_id.to_string(),
                    request_id: timer_id.to_string(),
                };
                match self
                    .bus
                    .execute::<InterviewTask>(
                        task_id,
                        InterviewTaskCommand::ExpireAppointment { booking_id },
                        &context,
                    )
                    .await
                {
                    Ok(_) | Err(CommandError::Domain(_)) => Ok(()),
                    Err(other) => Err(other.into()),
                }
            }
            "REMINDER" => send_notice(&self.bus, &self.sms, task_id, booking_id, "reminder").await,
            other => anyhow::bail!("unknown timer kind {other}"),
        }
    }

    /// Runs until shutdown, polling every `poll_interval`.
    pub async fn run(self, poll_interval: StdDuration, shutdown: watch::Receiver<bool>) {
        // Timers are due by the clock, not by commits: a channel nobody sends on.
        let (_never, commits) = watch::channel(LogPosition::START);
        run_until_shutdown(
            "timers",
            || async {
                self.fire_due()
                    .await
                    .map(drop)
                    .map_err(|e| format!("{e:#}"))
            },
            commits,
            poll_interval,
            shutdown,
        )
        .await;
    }
}
