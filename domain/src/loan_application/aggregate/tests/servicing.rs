//! The loan after the money: disbursement through the core, the ledger and
//! prepayment. Expected figures were computed outside the code (Python's
//! `decimal`, ROUND_HALF_UP), not by the functions under test.

use std::str::FromStr;

use chrono::{NaiveDate, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::miaodai::{ready, terms};
use super::*;
use crate::loan_application::commands::{CoreRequestKind, DisbursementOutcome};
use crate::loan_application::events::Disbursement;
use crate::loan_application::ledger::{PeriodState, RepaymentChannel, RepaymentPart};
use crate::repayment::{repayment_plan, PrepaymentChoice, RepaymentMethod};

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn day(m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, m, dd).unwrap()
}

/// Services at 10:00 Shanghai on 2027-`m`-`dd`.
fn at(m: u32, dd: u32) -> DomainServices {
    DomainServices::fixed_at(
        crate::schedule::shanghai()
            .with_ymd_and_hms(2027, m, dd, 10, 0, 0)
            .unwrap()
            .with_timezone(&Utc),
    )
}

/// 12,000.00 approved, signed at 6 % over 12 months (等额本息), disbursement requested.
fn requested(penalty: &str) -> Vec<LoanEvent> {
    let mut events = ready("12000.00", WhitelistResult::Miaodai);
    events.extend([
        // The shape of loans stored before the bank set the terms (1.0): still served.
        LoanEvent::ApprovalRequested {
            amount: Some(d("12000.00")),
            route: ApprovalRoute::Automatic,
            auto_approval_limit: Decimal::new(300_000, 0),
        },
        LoanEvent::LoanApproved {
            route: ApprovalRoute::Automatic,
            credit_limit: Some(d("20000.00")),
            offer: None,
        },
        LoanEvent::ContractSigned {
            signature_ref: "sig://1".into(),
            terms: Some(terms(penalty)),
            contract: None,
        },
        LoanEvent::DisbursementRequested {
            request_id: "REQ-1".into(),
            account: "6217000000000000".into(),
            amount: d("12000.00"),
            terms: terms(penalty),
        },
    ]);
    events
}

/// Paid out on 2027-01-10, first due 2027-02-10.
fn disbursed(penalty: &str) -> Vec<LoanEvent> {
    let mut events = requested(penalty);
    events.push(LoanEvent::LoanDisbursed {
        account: "6217000000000000".into(),
        disbursement: Some(Disbursement {
            request_id: "REQ-1".into(),
            message_id: "core-1".into(),
            value_date: day(1, 10),
            amount: d("12000.00"),
            terms: terms(penalty),
            plan: repayment_plan(
                d("12000.00"),
                d("0.06"),
                12,
                RepaymentMethod::EqualInstallments,
                day(2, 10),
            )
            .unwrap(),
        }),
    });
    events
}

/// Runs `command` on the aggregate made of `given`, returns the events and the
/// aggregate after them.
fn run(
    given: &[LoanEvent],
    services: DomainServices,
    command: LoanCommand,
) -> (Vec<LoanEvent>, LoanApplication) {
    let events = TestFramework::<LoanApplication>::with(services)
        .given(given.to_vec())
        .when(command)
        .inspect_result()
        .expect("the command is accepted");
    let mut loan = LoanApplication::default();
    for e in given.iter().chain(&events) {
        loan.apply(e.clone());
    }
    (events, loan)
}

fn paid(message: &str, on: NaiveDate, amount: &str) -> LoanCommand {
    LoanCommand::RecordRepayment {
        message_id: message.into(),
        received_on: on,
        amount: d(amount),
        channel: RepaymentChannel::AutoDebit,
        prepayment_id: None,
        repayment_no: None,
    }
}

/// Issue 21 item 1, 003 §二(六) 放款完成: 等待系统自动放款 — the customer's
/// confirmation asks the core and the loan is 放款中; a second click changes nothing.
#[test]
fn confirming_asks_the_core_once() {
    let mut given = requested("0");
    given.pop();
    let (events, loan) = run(
        &given,
        at(1, 10),
        LoanCommand::ConfirmDisbursement {
            account: "6217000000000000".into(),
        },
    );
    assert!(matches!(
        events.as_slice(),
        [LoanEvent::DisbursementRequested { amount, .. }] if *amount == d("12000.00")
    ));
    assert_eq!(loan.node(), Some(Node::Disbursing));
    TestFramework::<LoanApplication>::with(at(1, 10))
        .given(requested("0"))
        .when(LoanCommand::ConfirmDisbursement {
            account: "6217000000000000".into(),
        })
        .then_expect_events(vec![]);
}

/// Issue 21 item 1: 已放款 only when the core's result arrives; the plan is made
/// then, from the contract's amount, rate and term and the first repayment date
/// (12,000.00 at 6 % over 12 months: 1,032.80 a month, the last 1,032.78).
#[test]
fn the_cores_result_disburses_with_the_plan_once() {
    let result = LoanCommand::RecordDisbursementResult {
        message_id: "core-1".into(),
        request_id: "REQ-1".into(),
        outcome: DisbursementOutcome::Paid {
            value_date: day(1, 10),
            first_due_date: None,
        },
    };
    let (events, loan) = run(&requested("0"), at(1, 10), result.clone());
    let [LoanEvent::LoanDisbursed {
        disbursement: Some(disbursement),
        ..
    }] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    let plan = &disbursement.plan;
    assert_eq!(plan.len(), 12);
    assert_eq!(plan[0].due_date, day(2, 10));
    assert_eq!(
        plan[11].due_date,
        NaiveDate::from_ymd_opt(2028, 1, 10).unwrap()
    );
    assert_eq!(
        (plan[0].installment.principal, plan[0].installment.interest),
        (d("972.80"), d("60.00"))
    );
    assert_eq!(
        (
            plan[11].installment.principal,
            plan[11].installment.interest
        ),
        (d("1027.64"), d("5.14"))
    );
    assert_eq!(loan.node(), Some(Node::Disbursed));
    // The same message again (a redelivery) changes nothing.
    TestFramework::<LoanApplication>::with(at(1, 10))
        .given(events.iter().fold(requested("0"), |mut all, e| {
            all.push(e.clone());
            all
        }))
        .when(result)
        .then_expect_events(vec![]);
    // A result for a request that is not open is refused (dead-lettered).
    TestFramework::<LoanApplication>::with(at(1, 10))
        .given(requested("0"))
        .when(LoanCommand::RecordDisbursementResult {
            message_id: "core-9".into(),
            request_id: "REQ-OLD".into(),
            outcome: DisbursementOutcome::Failed { reason: "x".into() },
        })
        .then_expect_error(LoanError::NotOpen {
            kind: "disbursement request",
            id: "REQ-OLD".into(),
        });
}

/// Issue 21 item 1: 放款失败 — the loan goes back to 待放款 and the customer may
/// confirm again, which asks the core anew.
#[test]
fn a_failed_disbursement_can_be_confirmed_again() {
    let (events, loan) = run(
        &requested("0"),
        at(1, 10),
        LoanCommand::RecordDisbursementResult {
            message_id: "core-1".into(),
            request_id: "REQ-1".into(),
            outcome: DisbursementOutcome::Failed {
                reason: "账户状态异常".into(),
            },
        },
    );
    assert!(
        matches!(events.as_slice(), [LoanEvent::DisbursementFailed { reason, .. }] if reason == "账户状态异常")
    );
    assert_eq!(loan.node(), Some(Node::AwaitingDisbursement));
    let mut given = requested("0");
    given.extend(events);
    let (again, loan) = run(
        &given,
        at(1, 11),
        LoanCommand::ConfirmDisbursement {
            account: "6217000000000001".into(),
        },
    );
    assert!(
        matches!(again.as_slice(), [LoanEvent::DisbursementRequested { account, .. }] if account == "6217000000000001")
    );
    assert_eq!(loan.node(), Some(Node::Disbursing));
}

/// Issue 21 item 2: overdue from the day after the due date, penalty at the
/// contract's rate (18 % a year here) on the unpaid principal and interest:
/// 1,032.80 × 0.18 × 3 / 360 = 1.55 by 02-13; a 500.00 payment then pays the
/// penalty, the interest 60.00 and 438.45 of principal; 534.35 stays unpaid and
/// accrues 0.80 more by 02-16, when 535.15 is owed.
#[test]
fn an_overdue_period_accrues_penalty_and_a_payment_splits() {
    let given = disbursed("0.18");
    let (events, loan) = run(&given, at(2, 13), paid("core-2", day(2, 13), "500.00"));
    let [LoanEvent::RepaymentReceived {
        accruals, parts, ..
    }] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    assert_eq!(accruals[0].amount, d("1.55"));
    assert_eq!(
        parts,
        &[RepaymentPart {
            period: 1,
            principal: d("438.45"),
            interest: d("60.00"),
            penalty: d("1.55"),
        }]
    );
    let ledger = loan.ledger().unwrap();
    let owed = ledger.owed_on(day(2, 16));
    assert_eq!(owed.total(), d("535.15"));
    assert_eq!((owed.penalty, owed.overdue), (d("0.80"), d("534.35")));
    assert_eq!(ledger.periods[0].state(day(2, 16)), PeriodState::Overdue);
    // Paying it off on 02-16 settles the period; the next is still pending.
    let mut after = given.clone();
    after.extend(events);
    let (_, loan) = run(&after, at(2, 16), paid("core-3", day(2, 16), "535.15"));
    let ledger = loan.ledger().unwrap();
    assert_eq!(ledger.periods[0].state(day(2, 16)), PeriodState::Paid);
    assert_eq!(ledger.periods[1].state(day(2, 16)), PeriodState::Pending);
    assert_eq!(ledger.owed_on(day(2, 16)).total(), Decimal::ZERO);
    // The same message again is not booked twice.
    TestFramework::<LoanApplication>::with(at(2, 16))
        .given(after)
        .when(paid("core-2", day(2, 13), "500.00"))
        .then_expect_events(vec![]);
    // More than everything owed (12,000.00, the plan's 393.58 interest and
    // 1.55 penalty) is refused.
    TestFramework::<LoanApplication>::with(at(2, 13))
        .given(disbursed("0.18"))
        .when(paid("core-9", day(2, 13), "20000.00"))
        .then_expect_error(LoanError::Ledger(
            crate::loan_application::ledger::LedgerError::AboveOutstanding {
                amount: d("20000.00"),
                owed: d("12395.13"),
            },
        ));
}

/// 003 §二(七): 目前我行不进行罚息 — at the default penalty rate of 0 an overdue
/// period owes only its principal and interest.
#[test]
fn no_penalty_at_a_zero_rate() {
    let (_, loan) = run(
        &disbursed("0"),
        at(3, 1),
        LoanCommand::ReviewLedger {
            today: day(3, 1),
            reminder_days: 0,
            prepayment_notice_through: None,
        },
    );
    let owed = loan.ledger().unwrap().owed_on(day(3, 1));
    assert_eq!((owed.total(), owed.penalty), (d("1032.80"), Decimal::ZERO));
}

/// Issue 21 item 2 and 003 贷后: 还款日前X天…短信 — the daily review marks a period
/// overdue the day after its due date and a reminder X days before, each once.
#[test]
fn the_daily_review_marks_overdue_and_reminders_once() {
    let review = |today| LoanCommand::ReviewLedger {
        today,
        reminder_days: 3,
        prepayment_notice_through: None,
    };
    let (events, loan) = run(&disbursed("0"), at(2, 7), review(day(2, 7)));
    assert_eq!(
        events,
        vec![LoanEvent::RepaymentReminderDue {
            period: 1,
            due_date: day(2, 10),
            amount: d("1032.80"),
        }]
    );
    let mut given = disbursed("0");
    given.extend(events);
    let (none, _) = run(&given, at(2, 8), review(day(2, 8)));
    assert!(none.is_empty(), "{none:?}");
    let (events, _) = run(&given, at(2, 11), review(day(2, 11)));
    assert_eq!(
        events,
        vec![LoanEvent::InstallmentOverdue {
            period: 1,
            due_date: day(2, 10),
            unpaid: d("1032.80"),
        }]
    );
    assert!(loan.ledger().is_some());
}

/// Periods 1 and 2 paid on their due dates.
fn two_paid() -> Vec<LoanEvent> {
    let mut given = disbursed("0");
    for (m, message) in [(2, "core-2"), (3, "core-3")] {
        let (events, _) = run(&given, at(m, 10), paid(message, day(m, 10), "1032.80"));
        given.extend(events);
    }
    given
}

fn prepay(
    principal: Option<&str>,
    choice: Option<PrepaymentChoice>,
    settle: &str,
) -> (Vec<LoanEvent>, LoanApplication) {
    let mut given = two_paid();
    let (requested, _) = run(
        &given,
        at(3, 20),
        LoanCommand::RequestPrepayment {
            application_id: "PP-1".into(),
            principal: principal.map(d),
            choice,
        },
    );
    given.extend(requested);
    let (approved, _) = run(
        &given,
        at(3, 20),
        LoanCommand::DecidePrepayment {
            application_id: "PP-1".into(),
            approve: true,
            debit_date: Some(day(3, 25)),
            reason: None,
        },
    );
    let [LoanEvent::PrepaymentApproved { quote, .. }] = approved.as_slice() else {
        panic!("{approved:?}")
    };
    assert_eq!(quote.total, d(settle), "the quote for the debit day");
    given.extend(approved);
    let (settled, loan) = run(
        &given,
        at(3, 25),
        LoanCommand::RecordRepayment {
            message_id: "core-pp".into(),
            received_on: day(3, 25),
            amount: d(settle),
            channel: RepaymentChannel::Prepayment,
            prepayment_id: Some("PP-1".into()),
            repayment_no: None,
        },
    );
    (settled, loan)
}

/// Issue 21 item 3, 003 提前还款 部分提前还款 缩短期限: 3,000.00 prepaid on 03-25
/// pays 7.50 of interest (3,000 × 0.06 × 15 / 360) and leaves 7,049.54 repaid at
/// the same 1,032.80 over 7 periods, the last 993.86, interest 141.12.
#[test]
fn a_partial_prepayment_shortens_the_term() {
    let (events, loan) = prepay(
        Some("3000.00"),
        Some(PrepaymentChoice::ShorterTerm),
        "3007.50",
    );
    assert!(
        matches!(&events[0], LoanEvent::RepaymentReceived { prepaid_principal, prepaid_interest, .. }
        if *prepaid_principal == d("3000.00") && *prepaid_interest == d("7.50"))
    );
    let LoanEvent::PlanRecalculated {
        from_period, plan, ..
    } = &events[1]
    else {
        panic!("{events:?}")
    };
    assert_eq!(*from_period, 3);
    assert_eq!(plan.len(), 7);
    assert_eq!(plan[0].due_date, day(4, 10));
    assert!(plan[..6]
        .iter()
        .all(|p| p.installment.amount == d("1032.80")));
    assert_eq!(plan[6].installment.amount, d("993.86"));
    let interest: Decimal = plan.iter().map(|p| p.installment.interest).sum();
    assert_eq!(interest, d("141.12"));
    assert_eq!(loan.ledger().unwrap().outstanding_principal(), d("7049.54"));
}

/// Issue 21 item 3, 减少月供: the same prepayment keeps the 10 remaining periods
/// at 724.49 (the last 724.44), interest 195.31.
#[test]
fn a_partial_prepayment_lowers_the_installment() {
    let (events, _) = prepay(
        Some("3000.00"),
        Some(PrepaymentChoice::LowerInstallment),
        "3007.50",
    );
    let LoanEvent::PlanRecalculated { plan, .. } = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(plan.len(), 10);
    assert!(plan[..9]
        .iter()
        .all(|p| p.installment.amount == d("724.49")));
    assert_eq!(plan[9].installment.amount, d("724.44"));
    let interest: Decimal = plan.iter().map(|p| p.installment.interest).sum();
    assert_eq!(interest, d("195.31"));
}

/// Issue 21 item 3, 全部提前还款: 10,049.54 principal and 25.12 interest for 15
/// days settle the loan (已结清).
#[test]
fn a_full_prepayment_settles_the_loan() {
    let (events, loan) = prepay(None, None, "10074.66");
    assert!(matches!(events.last(), Some(LoanEvent::LoanSettled { on }) if *on == day(3, 25)));
    assert_eq!(loan.node(), Some(Node::Settled));
    assert!(loan.ledger().unwrap().settled());
}

/// Issue 21 item 3: the quote and the settlement agree to the fen — any other
/// amount or day is refused and nothing is booked.
#[test]
fn a_settlement_must_match_the_quote() {
    let mut given = two_paid();
    given.push(LoanEvent::PrepaymentRequested {
        prepayment_id: "PP-1".into(),
        choice: None,
        quote: loan_of(&two_paid())
            .ledger()
            .unwrap()
            .quote(day(3, 20), None)
            .unwrap(),
    });
    let quote = loan_of(&given)
        .ledger()
        .unwrap()
        .quote(day(3, 25), None)
        .unwrap();
    given.push(LoanEvent::PrepaymentApproved {
        prepayment_id: "PP-1".into(),
        quote,
    });
    TestFramework::<LoanApplication>::with(at(3, 25))
        .given(given)
        .when(LoanCommand::RecordRepayment {
            message_id: "core-pp".into(),
            received_on: day(3, 25),
            amount: d("10074.65"),
            channel: RepaymentChannel::Prepayment,
            prepayment_id: Some("PP-1".into()),
            repayment_no: None,
        })
        .then_expect_error(LoanError::QuoteMismatch {
            amount: d("10074.65"),
            on: day(3, 25),
            quoted: d("10074.66"),
            quoted_on: day(3, 25),
        });
}

fn loan_of(events: &[LoanEvent]) -> LoanApplication {
    let mut loan = LoanApplication::default();
    for e in events {
        loan.apply(e.clone());
    }
    loan
}

/// 002 item 22 (主动还款): a request is recorded once per repayment no, must be
/// bookable today, and only an open request can be answered.
#[test]
fn an_active_repayment_is_requested_once_and_answered_once() {
    let request = |no: &str, amount: &str| LoanCommand::RequestRepayment {
        repayment_no: no.into(),
        amount: d(amount),
    };
    let (events, _) = run(&disbursed("0"), at(1, 20), request("RP-1", "1032.80"));
    assert_eq!(
        events,
        vec![LoanEvent::RepaymentRequested {
            repayment_no: "RP-1".into(),
            amount: d("1032.80"),
        }]
    );
    let mut given = disbursed("0");
    given.extend(events);
    TestFramework::<LoanApplication>::with(at(1, 20))
        .given(given.clone())
        .when(request("RP-1", "1032.80"))
        .then_expect_events(vec![]);
    TestFramework::<LoanApplication>::with(at(1, 20))
        .given(disbursed("0"))
        .when(request("RP-2", "0"))
        .then_expect_error(LoanError::Ledger(
            crate::loan_application::ledger::LedgerError::BadAmount,
        ));
    let answer = |no: &str| LoanCommand::RecordRepayment {
        message_id: format!("core-{no}"),
        received_on: day(1, 20),
        amount: d("1032.80"),
        channel: RepaymentChannel::Active,
        prepayment_id: None,
        repayment_no: Some(no.into()),
    };
    let (paid, loan) = run(&given, at(1, 20), answer("RP-1"));
    assert!(
        matches!(&paid[0], LoanEvent::RepaymentReceived { repayment_no: Some(no), .. } if no == "RP-1")
    );
    assert_eq!(
        loan.ledger().unwrap().periods[0].state(day(1, 20)),
        PeriodState::Paid
    );
    TestFramework::<LoanApplication>::with(at(1, 20))
        .given(given)
        .when(answer("RP-7"))
        .then_expect_error(LoanError::NotOpen {
            kind: "repayment request",
            id: "RP-7".into(),
        });
}

/// 003 提前还款: 确定提前还款扣款日后…提前3个工作日提示客户…自动扣款金额 — once the
/// debit day is within the notice horizon the review raises the notice, with
/// the approved quote's total, once; not before, and not for an unapproved one.
#[test]
fn an_approved_prepayment_is_noticed_once_within_the_horizon() {
    let mut given = two_paid();
    let quote = loan_of(&given)
        .ledger()
        .unwrap()
        .quote(day(3, 20), None)
        .unwrap();
    given.push(LoanEvent::PrepaymentRequested {
        prepayment_id: "PP-1".into(),
        choice: None,
        quote,
    });
    let review = |today, through| LoanCommand::ReviewLedger {
        today,
        reminder_days: 0,
        prepayment_notice_through: Some(through),
    };
    let (unapproved, _) = run(&given, at(3, 22), review(day(3, 22), day(3, 25)));
    assert!(unapproved.is_empty(), "{unapproved:?}");
    let quote = loan_of(&given)
        .ledger()
        .unwrap()
        .quote(day(3, 25), None)
        .unwrap();
    let total = quote.total;
    given.push(LoanEvent::PrepaymentApproved {
        prepayment_id: "PP-1".into(),
        quote,
    });
    let (early, _) = run(&given, at(3, 21), review(day(3, 21), day(3, 24)));
    assert!(
        early.is_empty(),
        "the debit day is beyond the horizon: {early:?}"
    );
    let (due, _) = run(&given, at(3, 22), review(day(3, 22), day(3, 25)));
    assert_eq!(
        due,
        vec![LoanEvent::PrepaymentDebitNoticeDue {
            prepayment_id: "PP-1".into(),
            debit_date: day(3, 25),
            amount: total,
        }]
    );
    given.extend(due);
    let (again, _) = run(&given, at(3, 23), review(day(3, 23), day(3, 26)));
    assert!(again.is_empty(), "noticed once: {again:?}");
}

/// 003: 建立联动超时或其他异常情况的服务机制，进行人工落地处理 — a disbursement the
/// core never answered becomes a case; the operator records the core's answer
/// and the loan is paid out by it; the core's late answer agrees (nothing
/// happens) or contradicts (refused, nothing booked).
#[test]
fn an_unanswered_disbursement_is_resolved_by_hand() {
    let requested_at = Utc.with_ymd_and_hms(2027, 1, 10, 2, 0, 0).unwrap();
    let escalate = LoanCommand::EscalateCoreRequest {
        kind: CoreRequestKind::Disbursement,
        request_id: "REQ-1".into(),
        requested_at,
        waited_secs: 1800,
    };
    let (opened, _) = run(&requested("0"), at(1, 10), escalate.clone());
    assert_eq!(
        opened,
        vec![LoanEvent::ManualCaseOpened {
            kind: CoreRequestKind::Disbursement,
            request_id: "REQ-1".into(),
            requested_at,
            waited_secs: 1800,
        }]
    );
    let mut given = requested("0");
    given.extend(opened);
    let (again, _) = run(&given, at(1, 10), escalate);
    assert!(again.is_empty(), "one case per request");
    // The core answering after the case opened closes it: nothing left to resolve.
    let (answered, loan) = run(
        &given,
        at(1, 10),
        LoanCommand::RecordDisbursementResult {
            message_id: "core-slow".into(),
            request_id: "REQ-1".into(),
            outcome: DisbursementOutcome::Failed {
                reason: "账户冻结".into(),
            },
        },
    );
    assert!(matches!(
        &answered[..],
        [LoanEvent::DisbursementFailed { .. }]
    ));
    let stale = TestFramework::<LoanApplication>::with(at(1, 10))
        .given(given.iter().cloned().chain(answered).collect())
        .when(LoanCommand::ResolveManualCase {
            request_id: "REQ-1".into(),
            core_reference: "V".into(),
            note: "n".into(),
            answer: Box::new(LoanCommand::RecordDisbursementResult {
                message_id: "manual:REQ-1".into(),
                request_id: "REQ-1".into(),
                outcome: DisbursementOutcome::Failed { reason: "x".into() },
            }),
        })
        .inspect_result();
    assert!(matches!(stale, Err(LoanError::NotOpen { .. })), "{stale:?}");
    assert_eq!(loan.node(), Some(Node::AwaitingDisbursement));
    let answer = |paid: bool, message: &str| LoanCommand::RecordDisbursementResult {
        message_id: message.into(),
        request_id: "REQ-1".into(),
        outcome: if paid {
            DisbursementOutcome::Paid {
                value_date: day(1, 10),
                first_due_date: Some(day(2, 10)),
            }
        } else {
            DisbursementOutcome::Failed {
                reason: "账户冻结".into(),
            }
        },
    };
    let resolve = |answer: LoanCommand| LoanCommand::ResolveManualCase {
        request_id: "REQ-1".into(),
        core_reference: "CORE-VCH-778".into(),
        note: "核心系统查询已入账".into(),
        answer: Box::new(answer),
    };
    let wrong = TestFramework::<LoanApplication>::with(at(1, 10))
        .given(given.clone())
        .when(resolve(LoanCommand::RecordDisbursementResult {
            message_id: "manual:REQ-9".into(),
            request_id: "REQ-9".into(),
            outcome: DisbursementOutcome::Failed { reason: "x".into() },
        }))
        .inspect_result();
    assert!(matches!(wrong, Err(LoanError::Invalid(_))), "{wrong:?}");
    let (resolved, loan) = run(&given, at(1, 10), resolve(answer(true, "manual:REQ-1")));
    assert!(
        matches!(
            &resolved[..],
            [LoanEvent::ManualCaseResolved { outcome, .. }, LoanEvent::LoanDisbursed { .. }] if outcome == "PAID"
        ),
        "{resolved:?}"
    );
    assert_eq!(loan.node(), Some(Node::Disbursed));
    given.extend(resolved);
    let (late, _) = run(&given, at(1, 11), answer(true, "core-late"));
    assert!(late.is_empty(), "the core agrees: nothing more");
    TestFramework::<LoanApplication>::with(at(1, 11))
        .given(given)
        .when(answer(false, "core-late-2"))
        .then_expect_error(LoanError::ManualResolutionContradicted {
            request_id: "REQ-1".into(),
            recorded: "PAID".into(),
        });
}
