use chrono::{DateTime, TimeZone, Utc};
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
