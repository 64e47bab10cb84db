//! `Callback`: one outbound notification to a partner or the core system (002:
//! 回调榕树审批拒绝, 放款失败-拒件处理 7003, 放款成功). The signed request is
//! fixed when scheduled; attempts back off exponentially with jitter up to a
//! maximum, then the callback is FAILED — an incident an admin can retry.

use chrono::{DateTime, Duration, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ErrorCode};
use crate::services::DomainServices;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "callback";

/// The request, fixed when the callback is scheduled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// Commands of a callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Facts of a callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
        match self {
            CallbackEvent::CallbackScheduled { .. } => "CallbackScheduled",
            CallbackEvent::CallbackAttemptFailed { .. } => "CallbackAttemptFailed",
            CallbackEvent::CallbackDelivered { .. } => "CallbackDelivered",
            CallbackEvent::CallbackFailed { .. } => "CallbackFailed",
            CallbackEvent::CallbackRetried => "CallbackRetried",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a callback command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum CallbackError {
    /// No such callback.
    #[error("callback not found")]
    NotFound,
    /// Only a failed callback is retried.
    #[error("only a FAILED callback can be retried")]
    NotFailed,
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
}

impl DomainError for CallbackError {
    fn code(&self) -> ErrorCode {
        match self {
            CallbackError::NotFound => ErrorCode::NotFound,
            CallbackError::NotFailed => ErrorCode::InvalidTransition,
            CallbackError::Invalid(_) => ErrorCode::Validation,
        }
    }
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
                    return Err(CallbackError::Invalid(
                        "the callback URL must be http(s)".into(),
                    ));
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
mod tests {
    use chrono::TimeZone;
    use cqrs_es::test::TestFramework;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
    }

    fn scheduled(max: u32) -> CallbackEvent {
        CallbackEvent::CallbackScheduled {
            request: CallbackRequest {
                target: "RONGSHU".into(),
                kind: "CREDIT_REFUSED".into(),
                subject: "RONGSHU:RS-1".into(),
                url: "http://127.0.0.1:9/callback".into(),
                body: "{}".into(),
            },
            max_attempts: max,
        }
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let base = Duration::seconds(2);
        for attempt in 1..=6 {
            let pause = backoff(attempt, base, "s");
            let floor = base * 2_i32.pow(attempt - 1);
            assert!(
                pause >= floor && pause <= floor + floor / 4,
                "{attempt}: {pause}"
            );
        }
        assert!(backoff(40, base, "s") <= Duration::hours(1) + Duration::minutes(15));
        assert_ne!(
            backoff(3, base, "a"),
            backoff(3, base, "b"),
            "jitter spreads receivers"
        );
    }

    /// The Kafka issue, item 4: attempts back off up to a maximum, then FAILED (an
    /// incident); an admin retry gives a fresh budget; a repeated report is ignored.
    #[test]
    fn attempts_then_an_incident_then_a_retry() {
        let framework = || TestFramework::<Callback>::with(DomainServices::fixed_at(now()));
        let failed_once = CallbackEvent::CallbackAttemptFailed {
            attempt: 1,
            error: "HTTP 503".into(),
            next_at: now() + backoff(1, Duration::seconds(2), "RONGSHU:RS-1"),
        };
        framework()
            .given(vec![scheduled(2)])
            .when(CallbackCommand::RecordAttempt {
                attempt: 1,
                error: Some("HTTP 503".into()),
            })
            .then_expect_events(vec![failed_once.clone()]);
        framework()
            .given(vec![scheduled(2), failed_once.clone()])
            .when(CallbackCommand::RecordAttempt {
                attempt: 2,
                error: Some("timeout".into()),
            })
            .then_expect_events(vec![CallbackEvent::CallbackFailed {
                attempts: 2,
                last_error: "timeout".into(),
            }]);
        framework()
            .given(vec![scheduled(2), failed_once.clone()])
            .when(CallbackCommand::RecordAttempt {
                attempt: 1,
                error: Some("HTTP 503".into()),
            })
            .then_expect_events(vec![]);
        framework()
            .given(vec![scheduled(2)])
            .when(CallbackCommand::Retry)
            .then_expect_error(CallbackError::NotFailed);
        framework()
            .given(vec![
                scheduled(2),
                failed_once,
                CallbackEvent::CallbackFailed {
                    attempts: 2,
                    last_error: "timeout".into(),
                },
            ])
            .when(CallbackCommand::Retry)
            .then_expect_events(vec![CallbackEvent::CallbackRetried]);
    }
}
