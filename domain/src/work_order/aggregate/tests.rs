use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

fn services() -> DomainServices {
    DomainServices::fixed_at(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
}

fn details() -> WorkOrderDetails {
    WorkOrderDetails {
        business_type: "保全/变更投保人".into(),
        customer_name: "邓小闲".into(),
        phone: "15618293093".into(),
        id_number: None,
        case_no: "646464644664".into(),
        policy_no: Some("65464564".into()),
    }
}

/// 004_448cd5ace309d8b2.txt 3.3: 待处理 → 处理中 (坐席接通) → 已处理 (回传); 已撤销 only
/// from 待处理 or 处理中; only those two accept calls.
#[test]
fn work_order_states_follow_the_manual() {
    let created = WorkOrderEvent::WorkOrderCreated(details());
    let started = WorkOrderEvent::WorkOrderStarted {
        seat_no: "S1".into(),
    };
    for given in [
        vec![created.clone()],
        vec![created.clone(), started.clone()],
    ] {
        TestFramework::<WorkOrder>::with(services())
            .given(given)
            .when(WorkOrderCommand::Cancel)
            .then_expect_events(vec![WorkOrderEvent::WorkOrderCancelled]);
    }
    for (last, status) in [
        (WorkOrderEvent::WorkOrderCompleted, WorkOrderStatus::Done),
        (
            WorkOrderEvent::WorkOrderCancelled,
            WorkOrderStatus::Cancelled,
        ),
    ] {
        assert!(!status.accepts_calls());
        TestFramework::<WorkOrder>::with(services())
            .given(vec![created.clone(), started.clone(), last])
            .when(WorkOrderCommand::Cancel)
            .then_expect_error(WorkOrderError::InvalidTransition(status));
    }
    TestFramework::<WorkOrder>::with(services())
        .given(vec![created.clone()])
        .when(WorkOrderCommand::Complete)
        .then_expect_error(WorkOrderError::InvalidTransition(WorkOrderStatus::Pending));
    assert!(
        WorkOrderStatus::Pending.accepts_calls() && WorkOrderStatus::InProgress.accepts_calls()
    );
}

/// 004_448cd5ace309d8b2.txt 3.5: 点击【发送短信】按钮，会再次发送短信 — each request is
/// numbered so each is sent once.
#[test]
fn resend_requests_are_numbered() {
    TestFramework::<WorkOrder>::with(services())
        .given(vec![
            WorkOrderEvent::WorkOrderCreated(details()),
            WorkOrderEvent::GuideSmsRequested { n: 1 },
        ])
        .when(WorkOrderCommand::ResendSms)
        .then_expect_events(vec![WorkOrderEvent::GuideSmsRequested { n: 2 }]);
}
