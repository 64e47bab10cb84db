use crate::message::message;
use chrono::Duration;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::commands::CallbackCommand;
use super::error::CallbackError;
use super::events::CallbackEvent;
use crate::services::DomainServices;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "callback";

/// The request, fixed when the callback is scheduled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CallbackRequest {
    /// Who is told: a partner code or `CORE_SYSTEM`.
    pub target: String,
    /// What about: CREDIT_REFUSED, LOAN_REFUSED_7003, LOAN_SUCCESS, …
    pub kind: String,
    /// The order or application it is about.
    pub subject: String,
    /// Where it is POSTed.
    pub url: String,
    /// The JSON body, signed.
    pub body: String,
}

/// Where a callback stands.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CallbackStatus {
    /// Not scheduled.
    #[default]
    None,
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed: an incident.
    Failed,
}

/// The pause before attempt `attempt + 1`: 2^(attempt−1) × `base`, capped at
/// one hour, plus up to a quarter more as jitter derived from `seed` (so
/// receivers are not hit in step, and the value is reproducible).
pub fn backoff(attempt: u32, base: Duration, seed: &str) -> Duration {
    let exponential = base * 2_i32.saturating_pow(attempt.saturating_sub(1).min(20));
    let capped = exponential.min(Duration::hours(1));
    let hash = crate::services::derived_id(&format!("{seed}:{attempt}")).as_u128();
    let quarter = capped.num_milliseconds() / 4;
    let jitter = if quarter > 0 {
        (hash % quarter as u128) as i64
    } else {
        0
    };
    capped + Duration::milliseconds(jitter)
}

/// The write-side state of a callback.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Callback {
    status: CallbackStatus,
    request: Option<CallbackRequest>,
    max_attempts: u32,
    attempts: u32,
}

impl Callback {
    /// Where it stands.
    pub fn status(&self) -> CallbackStatus {
        self.status
    }

    /// The request.
    pub fn request(&self) -> Option<&CallbackRequest> {
        self.request.as_ref()
    }

    /// Attempts made in the current budget.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl Aggregate for Callback {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = CallbackCommand;
    type Event = CallbackEvent;
    type Error = CallbackError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: CallbackCommand,
        services: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), CallbackError> {
        if self.status == CallbackStatus::None
            && !matches!(command, CallbackCommand::Schedule { .. })
        {
            return Err(CallbackError::NotFound);
        }
        let events = match command {
            CallbackCommand::Schedule { .. } if self.status != CallbackStatus::None => {
                return Ok(())
            }
            CallbackCommand::Schedule {
                request,
                max_attempts,
            } => {
                if !(request.url.starts_with("http://") || request.url.starts_with("https://")) {
                    return Err(CallbackError::Invalid(message!(
                        "the callback URL must be http(s)"
                    )));
                }
                vec![CallbackEvent::CallbackScheduled {
                    request,
                    max_attempts: max_attempts.clamp(1, 50),
                }]
            }
            CallbackCommand::RecordAttempt { attempt, .. }
                if self.status != CallbackStatus::Pending || attempt != self.attempts + 1 =>
            {
                return Ok(()); // a stale or repeated report
            }
            CallbackCommand::RecordAttempt {
                attempt,
                error: None,
            } => {
                vec![CallbackEvent::CallbackDelivered { attempt }]
            }
            CallbackCommand::RecordAttempt {
                attempt,
                error: Some(error),
            } if attempt >= self.max_attempts => vec![CallbackEvent::CallbackFailed {
                attempts: attempt,
                last_error: error,
            }],
            CallbackCommand::RecordAttempt {
                attempt,
                error: Some(error),
            } => {
                let seed = self.request.as_ref().map_or("", |r| r.subject.as_str());
                let next_at = services.clock.now() + backoff(attempt, Duration::seconds(2), seed);
                vec![CallbackEvent::CallbackAttemptFailed {
                    attempt,
                    error,
                    next_at,
                }]
            }
            CallbackCommand::Retry if self.status != CallbackStatus::Failed => {
                return Err(CallbackError::NotFailed)
            }
            CallbackCommand::Retry => vec![CallbackEvent::CallbackRetried],
        };
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: CallbackEvent) {
        match event {
            CallbackEvent::CallbackScheduled {
                request,
                max_attempts,
            } => {
                self.request = Some(request);
                self.max_attempts = max_attempts;
                self.status = CallbackStatus::Pending;
            }
            CallbackEvent::CallbackAttemptFailed { attempt, .. } => self.attempts = attempt,
            CallbackEvent::CallbackDelivered { attempt } => {
                self.attempts = attempt;
                self.status = CallbackStatus::Delivered;
            }
            CallbackEvent::CallbackFailed { attempts, .. } => {
                self.attempts = attempts;
                self.status = CallbackStatus::Failed;
            }
            CallbackEvent::CallbackRetried => {
                self.attempts = 0;
                self.status = CallbackStatus::Pending;
            }
        }
    }
}

#[cfg(test)]
mod tests;
