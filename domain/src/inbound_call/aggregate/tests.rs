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
            offer: 1,
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
            offer: 2,
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
            offer: 1,
        }]);
    TestFramework::<InboundCall>::with(services())
        .given(dispatched("S1"))
        .when(InboundCallCommand::Dispatch {
            seat_no: "S2".into(),
            reason: DispatchReason::Random,
        })
        .then_expect_error(InboundCallError::NotQueued);
}

fn booked_at(start: chrono::DateTime<Utc>) -> QueuedCall {
    QueuedCall {
        appointment: Some(crate::schedule::Slot {
            start,
            end: start + chrono::Duration::minutes(30),
        }),
        ..call()
    }
}

/// 001_d165f826565a3102.txt 2.6.1: 任务预约时间段内…开放给主借人呼入；若未到时间…不可呼入视频坐席
/// — with the default 10 minutes' margin before and none after, a call before
/// the margin or after the window is refused and recorded with the Beijing
/// times; inside it the call queues.
#[test]
fn a_booked_task_takes_calls_only_around_its_window() {
    // services() is 2026-11-23 02:00 UTC, 10:00 in Shanghai.
    let at = |h, m| Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap();
    let refused = |start| {
        let mut services = services();
        services.operations.call_in_late = chrono::Duration::minutes(5);
        TestFramework::<InboundCall>::with(services)
            .given_no_previous_events()
            .when(InboundCallCommand::Request {
                call: booked_at(start),
                admission: Admission::Admitted,
            })
            .inspect_result()
    };
    let early = refused(at(2, 11)).unwrap();
    assert_eq!(
        early,
        vec![InboundCallEvent::CallRefused {
            call: booked_at(at(2, 11)),
            message:
                "未到面谈预约时间（11月23日 10:11–10:41），请于北京时间 10:01 后呼入视频面谈。"
                    .into(),
        }]
    );
    for start in [at(2, 10), at(1, 40), at(1, 26)] {
        assert!(
            matches!(
                refused(start).unwrap()[..],
                [InboundCallEvent::CallQueued(_)]
            ),
            "inside the window widened by the margins: {start}"
        );
    }
    let late = refused(at(1, 25)).unwrap();
    assert!(
        matches!(&late[..], [InboundCallEvent::CallRefused { message, .. }]
            if message == "面谈预约时间（11月23日 09:25–09:55）已过，请在 APP 内提交改约申请。"),
        "{late:?}"
    );
    // A channel refusal keeps its own text inside the window.
    TestFramework::<InboundCall>::with(services())
        .given_no_previous_events()
        .when(InboundCallCommand::Request {
            call: booked_at(at(2, 0)),
            admission: Admission::Refused("渠道".into()),
        })
        .then_expect_events(vec![InboundCallEvent::CallRefused {
            call: booked_at(at(2, 0)),
            message: "渠道".into(),
        }]);
}

/// 004_448cd5ace309d8b2.txt 3.6 (issue 22 item 2): the ring timeout of the
/// offer still ringing puts the call back in the queue and counts it; a stale
/// timeout (transferred, answered, cancelled since) changes nothing.
#[test]
fn a_ring_timeout_withdraws_only_the_offer_it_was_set_for() {
    TestFramework::<InboundCall>::with(services())
        .given(dispatched("S1"))
        .when(InboundCallCommand::ExpireOffer { offer: 1 })
        .then_expect_events(vec![InboundCallEvent::CallOfferUnanswered {
            seat_no: "S1".into(),
            unanswered: 1,
        }]);
    let mut transferred = dispatched("S1");
    transferred.push(InboundCallEvent::CallTransferred {
        from_seat: "S1".into(),
        to_seat: "S2".into(),
        offer: 2,
    });
    TestFramework::<InboundCall>::with(services())
        .given(transferred.clone())
        .when(InboundCallCommand::ExpireOffer { offer: 1 })
        .then_expect_events(vec![]);
    let mut again = transferred;
    again.extend([
        InboundCallEvent::CallOfferUnanswered {
            seat_no: "S2".into(),
            unanswered: 1,
        },
        InboundCallEvent::CallDispatched {
            seat_no: "S3".into(),
            reason: DispatchReason::Random,
            offer: 3,
        },
    ]);
    TestFramework::<InboundCall>::with(services())
        .given(again.clone())
        .when(InboundCallCommand::ExpireOffer { offer: 3 })
        .then_expect_events(vec![InboundCallEvent::CallOfferUnanswered {
            seat_no: "S3".into(),
            unanswered: 2,
        }]);
    let mut answered = again;
    answered.push(InboundCallEvent::CallAnswered {
        seat_no: "S3".into(),
    });
    TestFramework::<InboundCall>::with(services())
        .given(answered)
        .when(InboundCallCommand::ExpireOffer { offer: 3 })
        .then_expect_events(vec![]);
}
