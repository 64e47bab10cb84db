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

/// 002 item 11 (绑卡): the first card is the default disbursement and
/// repayment card; binding it again updates the default flag and bind time; a
/// further new card is bound without becoming the default; before the credit
/// is approved, or with a malformed card, nothing is bound.
#[test]
fn cards_are_bound_first_as_the_default() {
    let bind = |card: &str| PartnerOrderCommand::BindCard {
        card_no: card.into(),
        bank_code: "icbc".into(),
    };
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
    let bound = |card: &str, default: bool| PartnerOrderEvent::CardBound {
        card_no: card.into(),
        bank_code: "ICBC".into(),
        bound_at: now,
        default,
    };
    TestFramework::<PartnerOrder>::with(services())
        .given(in_credit())
        .when(bind("6222020200112233445"))
        .then_expect_error(PartnerOrderError::InvalidTransition {
            status: PartnerOrderStatus::CreditInProgress,
            code: PartnerOrderStatus::CreditInProgress.code(),
        });
    TestFramework::<PartnerOrder>::with(services())
        .given(approved())
        .when(bind("6222-0202"))
        .then_expect_error(PartnerOrderError::Invalid(crate::message::message!(
            "cardNo must be 12 to 30 digits"
        )));
    TestFramework::<PartnerOrder>::with(services())
        .given(approved())
        .when(bind("6222020200112233445"))
        .then_expect_events(vec![bound("6222020200112233445", true)]);
    let mut with_two = approved();
    with_two.push(bound("6222020200112233445", true));
    TestFramework::<PartnerOrder>::with(services())
        .given(with_two.clone())
        .when(bind("6217000000000000001"))
        .then_expect_events(vec![bound("6217000000000000001", false)]);
    with_two.push(bound("6217000000000000001", false));
    TestFramework::<PartnerOrder>::with(services())
        .given(with_two.clone())
        .when(bind("6217000000000000001"))
        .then_expect_events(vec![bound("6217000000000000001", true)]);
    // Applied: the card bound again is the one default.
    let mut order = PartnerOrder::default();
    with_two.push(bound("6217000000000000001", true));
    for event in with_two {
        cqrs_es::Aggregate::apply(&mut order, event);
    }
    let defaults: Vec<&str> = order
        .cards()
        .iter()
        .filter(|c| c.default)
        .map(|c| c.card_no.as_str())
        .collect();
    assert_eq!(defaults, ["6217000000000000001"]);
    assert_eq!(order.cards().len(), 2);
}
