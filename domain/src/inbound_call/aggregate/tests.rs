use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::inbound_call::DispatchReason;

fn services() -> DomainServices {
    DomainServices::fixed_at(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
}

fn call() -> QueuedCall {
    QueuedCall {
        task_id: "t1".into(),
        customer_key: "c1".into(),
        channel_code: "YYZX".into(),
        product_code: "YXD".into(),
        ..QueuedCall::default()
    }
}

fn dispatched(seat: &str) -> Vec<InboundCallEvent> {
    vec![
        InboundCallEvent::CallQueued(call()),
        InboundCallEvent::CallDispatched {
            seat_no: seat.into(),
            reason: DispatchReason::Random,
        },
    ]
}

/// 001_d165f826565a3102.txt 2.2.2: 不准入则提示客户端 the exact text; the refusal is
/// recorded, and an admitted call joins the queue (进入面谈待接入队列).
#[test]
fn the_channel_answer_decides_between_refusal_and_queue() {
    let text = crate::channel::NOT_AUTHORISED.to_string();
    TestFramework::<InboundCall>::with(services())
        .given_no_previous_events()
        .when(InboundCallCommand::Request {
            call: call(),
            admission: Admission::Refused(text.clone()),
        })
        .then_expect_events(vec![InboundCallEvent::CallRefused {
            call: call(),
            message: text,
        }]);
    TestFramework::<InboundCall>::with(services())
        .given_no_previous_events()
        .when(InboundCallCommand::Request {
            call: call(),
            admission: Admission::Admitted,
        })
        .then_expect_events(vec![InboundCallEvent::CallQueued(call())]);
}

/// 001_d165f826565a3102.txt 2.4.4.3: 已指派坐席可在视频未接通前…将案件转出 — before
/// the answer only, and only the seat that has the call answers it.
#[test]
fn transfer_before_the_answer_and_only_the_given_seat_answers() {
    TestFramework::<InboundCall>::with(services())
        .given(dispatched("S1"))
        .when(InboundCallCommand::Transfer {
            to_seat: "S2".into(),
        })
        .then_expect_events(vec![InboundCallEvent::CallTransferred {
            from_seat: "S1".into(),
            to_seat: "S2".into(),
        }]);
    TestFramework::<InboundCall>::with(services())
        .given(dispatched("S1"))
        .when(InboundCallCommand::Answer {
            seat_no: "S2".into(),
        })
        .then_expect_error(InboundCallError::OtherSeat {
            seat_no: "S1".into(),
        });
    let mut answered = dispatched("S1");
    answered.push(InboundCallEvent::CallAnswered {
        seat_no: "S1".into(),
    });
    TestFramework::<InboundCall>::with(services())
        .given(answered.clone())
        .when(InboundCallCommand::Transfer {
            to_seat: "S2".into(),
        })
        .then_expect_error(InboundCallError::Finished);
    TestFramework::<InboundCall>::with(services())
        .given(answered)
        .when(InboundCallCommand::Cancel)
        .then_expect_error(InboundCallError::Finished);
}

/// 004_448cd5ace309d8b2.txt 4.3: 可以点击取消按钮，取消排队 — the seat it rang at is named.
#[test]
fn a_cancelled_call_names_the_seat_it_rang_at() {
    TestFramework::<InboundCall>::with(services())
        .given(dispatched("S1"))
        .when(InboundCallCommand::Cancel)
        .then_expect_events(vec![InboundCallEvent::CallCancelled {
            seat_no: Some("S1".into()),
        }]);
    TestFramework::<InboundCall>::with(services())
        .given(vec![InboundCallEvent::CallQueued(call())])
        .when(InboundCallCommand::Dispatch {
            seat_no: "S1".into(),
            reason: DispatchReason::Familiar,
        })
        .then_expect_events(vec![InboundCallEvent::CallDispatched {
            seat_no: "S1".into(),
            reason: DispatchReason::Familiar,
        }]);
    TestFramework::<InboundCall>::with(services())
        .given(dispatched("S1"))
        .when(InboundCallCommand::Dispatch {
            seat_no: "S2".into(),
            reason: DispatchReason::Random,
        })
        .then_expect_error(InboundCallError::NotQueued);
}
