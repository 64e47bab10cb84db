use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

fn services() -> DomainServices {
    DomainServices::fixed_at(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
}

fn details() -> OrderDetails {
    OrderDetails {
        partner: "RONGSHU".into(),
        order_no: "RS-1".into(),
        partner_uid: "u1".into(),
        customer_name: "王建国".into(),
        id_number: "310115199001013035".into(),
        phone: "13600001111".into(),
    }
}

fn in_credit() -> Vec<PartnerOrderEvent> {
    vec![
        PartnerOrderEvent::OrderPushed(details()),
        PartnerOrderEvent::OperatorDataPulled,
        PartnerOrderEvent::OrderParsed,
        PartnerOrderEvent::CreditRequested,
    ]
}

fn approved() -> Vec<PartnerOrderEvent> {
    let mut events = in_credit();
    events.push(PartnerOrderEvent::CreditApproved {
        message_id: "m1".into(),
        limit: Some(Decimal::from(50_000)),
        annual_rate: Some(Decimal::new(18, 2)),
    });
    events
}

fn request(amount: i64) -> BorrowRequest {
    BorrowRequest {
        amount: Decimal::from(amount),
        term_months: 12,
    }
}

/// 002_3f74b53a30b682f3.txt item 8: 授信通过 11 → 12; 授信拒绝 11 → 4; the same
/// message twice changes nothing.
#[test]
fn credit_decisions_move_11_to_12_or_4_once() {
    TestFramework::<PartnerOrder>::with(services())
        .given(in_credit())
        .when(PartnerOrderCommand::RecordCreditDecision {
            message_id: "m1".into(),
            approved: false,
            limit: None,
            annual_rate: None,
            reason: Some("资质不符".into()),
        })
        .then_expect_events(vec![PartnerOrderEvent::CreditRefused {
            message_id: "m1".into(),
            reason: Some("资质不符".into()),
        }]);
    TestFramework::<PartnerOrder>::with(services())
        .given(approved())
        .when(PartnerOrderCommand::RecordCreditDecision {
            message_id: "m1".into(),
            approved: true,
            limit: None,
            annual_rate: None,
            reason: None,
        })
        .then_expect_events(vec![]);
    let refused = TestFramework::<PartnerOrder>::with(services())
        .given(approved())
        .when(PartnerOrderCommand::RecordCreditDecision {
            message_id: "m2".into(),
            approved: false,
            limit: None,
            annual_rate: None,
            reason: None,
        })
        .inspect_result();
    assert!(matches!(
        refused,
        Err(PartnerOrderError::InvalidTransition { code: Some(12), .. })
    ));
}

/// 002_3f74b53a30b682f3.txt item 9: 0,10,11 → 6003; 4,5 → 6004 资质不符; 12,1 → 6001.
#[test]
fn audit_result_codes() {
    use PartnerOrderStatus as S;
    for (status, code) in [
        (S::Pushed, "6003"),
        (S::AwaitingCredit, "6003"),
        (S::CreditInProgress, "6003"),
        (S::Cancelled, "6004"),
        (S::Rejected, "6004"),
        (S::CreditApproved, "6001"),
        (S::Processed, "6001"),
    ] {
        assert_eq!(status.audit_result().code(), code, "{status:?}");
    }
    assert_eq!(S::Cancelled.audit_result().reason(), Some("资质不符"));
    assert_eq!(
        LoanResultCode::from(BorrowStatus::InProgress).code(),
        "7002"
    );
    assert_eq!(
        LoanResultCode::from(BorrowStatus::ManualReviewRejected).code(),
        "7003"
    );
}

/// 002_3f74b53a30b682f3.txt item 12: with the account open, the borrow order and
/// 12 → 1 happen together (one event, d. 同时成功或同时失败); without it, the request is kept once
/// (重复点击 is idempotent) and made by the 1-hour check (item 13) once the
/// account is open — exactly once even when confirm-borrow races with it.
#[test]
fn confirm_borrow_is_idempotent_and_made_once() {
    let mut open = approved();
    open.push(PartnerOrderEvent::AccountOpened);
    TestFramework::<PartnerOrder>::with(services())
        .given(open)
        .when(PartnerOrderCommand::ConfirmBorrow {
            request: request(30_000),
        })
        .then_expect_events(vec![PartnerOrderEvent::BorrowConfirmed(request(30_000))]);
    TestFramework::<PartnerOrder>::with(services())
        .given(approved())
        .when(PartnerOrderCommand::ConfirmBorrow {
            request: request(30_000),
        })
        .then_expect_events(vec![PartnerOrderEvent::BorrowDeferred(request(30_000))]);
    let mut deferred = approved();
    deferred.push(PartnerOrderEvent::BorrowDeferred(request(30_000)));
    TestFramework::<PartnerOrder>::with(services())
        .given(deferred.clone())
        .when(PartnerOrderCommand::ConfirmBorrow {
            request: request(30_000),
        })
        .then_expect_events(vec![]);
    TestFramework::<PartnerOrder>::with(services())
        .given(deferred.clone())
        .when(PartnerOrderCommand::CompleteDeferredBorrow)
        .then_expect_events(vec![]);
    let mut opened = deferred;
    opened.push(PartnerOrderEvent::AccountOpened);
    TestFramework::<PartnerOrder>::with(services())
        .given(opened.clone())
        .when(PartnerOrderCommand::CompleteDeferredBorrow)
        .then_expect_events(vec![PartnerOrderEvent::BorrowConfirmed(request(30_000))]);
    let mut borrowed = opened;
    borrowed.push(PartnerOrderEvent::BorrowConfirmed(request(30_000)));
    for command in [
        PartnerOrderCommand::CompleteDeferredBorrow,
        PartnerOrderCommand::ConfirmBorrow {
            request: request(30_000),
        },
    ] {
        TestFramework::<PartnerOrder>::with(services())
            .given(borrowed.clone())
            .when(command)
            .then_expect_events(vec![]);
    }
    let over = TestFramework::<PartnerOrder>::with(services())
        .given(approved())
        .when(PartnerOrderCommand::ConfirmBorrow {
            request: request(80_000),
        })
        .inspect_result();
    assert!(matches!(over, Err(PartnerOrderError::BorrowRefused(_))));
}
