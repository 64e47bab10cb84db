use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::interview_task::{IdType, ParticipantInput, ParticipantRole};

fn services() -> DomainServices {
    DomainServices::fixed_at(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
}

fn borrower() -> ParticipantInput {
    ParticipantInput {
        name: "邓小闲".into(),
        id_type: IdType::IdCard,
        id_number: "11010519491231002X".into(),
        phone: "15618293093".into(),
        roles: vec![ParticipantRole::Borrower],
        marital_status: None,
        relation_to_borrower: None,
    }
}

fn submitted() -> LoanEvent {
    LoanEvent::LoanSubmitted {
        product: Product::Yongxu,
        contract_no: "HT1".into(),
        amount: Decimal::new(50_000_000, 2),
        task_kind: TaskKind::YongxuVideoInterview,
        product_code: "YXD".into(),
        channel_code: "YYZX".into(),
        manager_id: "M1".into(),
        participants: merge_participants(&[borrower()]).unwrap(),
        property_location: None,
    }
}

fn advanced(from: Node, to: Node) -> LoanEvent {
    LoanEvent::LoanAdvanced { from, to }
}

fn at_interview() -> Vec<LoanEvent> {
    vec![
        submitted(),
        advanced(Node::Submitted, Node::PreliminaryReview),
        advanced(Node::PreliminaryReview, Node::HomeVisit),
        advanced(Node::HomeVisit, Node::Interview),
        LoanEvent::InterviewTaskAttached {
            task_id: "t1".into(),
        },
    ]
}

/// 001_d165f826565a3102.txt 2.7.1: 提交申请-初审-家访-面谈-面签-公证-已出他证-放款;
/// nodes are not skipped.
#[test]
fn the_pipeline_moves_one_node_at_a_time() {
    TestFramework::<LoanApplication>::with(services())
        .given(vec![submitted()])
        .when(LoanCommand::Advance {
            to: Node::HomeVisit,
        })
        .then_expect_error(LoanError::InvalidTransition {
            from: Node::Submitted,
            to: Node::HomeVisit,
        });
}

/// 001_d165f826565a3102.txt 2.7.2 rule 4: 若状态为“已面谈（待提交面签）”，则进入下一流程“面签”.
#[test]
fn signing_waits_for_a_passed_interview() {
    TestFramework::<LoanApplication>::with(services())
        .given(at_interview())
        .when(LoanCommand::Advance { to: Node::Signing })
        .then_expect_error(LoanError::InterviewNotPassed);
    let mut passed = at_interview();
    passed.push(LoanEvent::InterviewPassed {
        task_id: "t1".into(),
    });
    TestFramework::<LoanApplication>::with(services())
        .given(passed)
        .when(LoanCommand::Advance { to: Node::Signing })
        .then_expect_events(vec![advanced(Node::Interview, Node::Signing)]);
}

/// 001_d165f826565a3102.txt 2.5.3 rule 2 / 2.7.3: 涉及面谈节点的逆向业务操作…均生成新的面谈任务 —
/// the roll-back names the task to supersede.
#[test]
fn a_roll_back_names_the_task_to_supersede() {
    let mut given = at_interview();
    given.push(LoanEvent::InterviewPassed {
        task_id: "t1".into(),
    });
    given.push(advanced(Node::Interview, Node::Signing));
    TestFramework::<LoanApplication>::with(services())
        .given(given)
        .when(LoanCommand::RollBack {
            to: Node::Interview,
            reason: "客户对方案有异议".into(),
        })
        .then_expect_events(vec![LoanEvent::LoanRolledBack {
            from: Node::Signing,
            to: Node::Interview,
            reason: "客户对方案有异议".into(),
            interview_task: Some("t1".into()),
        }]);
}

#[test]
fn roll_backs_only_go_back() {
    TestFramework::<LoanApplication>::with(services())
        .given(vec![
            submitted(),
            advanced(Node::Submitted, Node::PreliminaryReview),
        ])
        .when(LoanCommand::RollBack {
            to: Node::Signing,
            reason: "x".into(),
        })
        .then_expect_error(LoanError::InvalidTransition {
            from: Node::PreliminaryReview,
            to: Node::Signing,
        });
}

#[test]
fn a_superseded_tasks_pass_does_not_count() {
    let mut given = at_interview();
    given.push(LoanEvent::InterviewTaskAttached {
        task_id: "t2".into(),
    });
    TestFramework::<LoanApplication>::with(services())
        .given(given)
        .when(LoanCommand::RecordInterviewPassed {
            task_id: "t1".into(),
        })
        .then_expect_events(vec![]);
}

pub(super) mod miaodai {
    use std::str::FromStr;

    use super::*;

    fn on(day: u32, hour: u32) -> DomainServices {
        DomainServices::fixed_at(
            crate::schedule::shanghai()
                .with_ymd_and_hms(2026, 11, day, hour, 0, 0)
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    pub(super) fn applied(amount: &str) -> LoanEvent {
        let LoanEvent::LoanSubmitted {
            contract_no,
            task_kind,
            product_code,
            channel_code,
            manager_id,
            participants,
            ..
        } = submitted()
        else {
            unreachable!()
        };
        LoanEvent::LoanSubmitted {
            product: Product::RongxinMiaodai,
            contract_no,
            amount: Decimal::from_str(amount).unwrap(),
            task_kind,
            product_code,
            channel_code,
            manager_id,
            participants,
            property_location: None,
        }
    }

    pub(super) fn ready(amount: &str, whitelist: WhitelistResult) -> Vec<LoanEvent> {
        vec![
            applied(amount),
            LoanEvent::WhitelistChecked { result: whitelist },
            LoanEvent::FaceChecked {
                passed: true,
                day: "2026-11-23".into(),
                failures_today: 0,
            },
        ]
    }

    fn route(amount: &str, whitelist: WhitelistResult) -> ApprovalRoute {
        let events = TestFramework::<LoanApplication>::with(on(23, 10))
            .given(ready(amount, whitelist))
            .when(LoanCommand::SubmitForApproval)
            .inspect_result()
            .unwrap();
        match &events[0] {
            LoanEvent::ApprovalRequested { route, .. } => *route,
            other => panic!("unexpected {other:?}"),
        }
    }

    /// 003_b9ff603350013dbe.txt: 按照30万以内秒批秒贷，30万以上…转为线下客户经理审批 —
    /// 300,000 itself is online, a fen more is manual.
    #[test]
    fn the_amount_routes_at_the_300000_boundary() {
        assert_eq!(
            route("300000.00", WhitelistResult::Miaodai),
            ApprovalRoute::Automatic
        );
        assert_eq!(
            route("300000.01", WhitelistResult::Miaodai),
            ApprovalRoute::Manual
        );
        assert_eq!(
            route("1000.00", WhitelistResult::Rongxindai),
            ApprovalRoute::Manual
        );
    }

    /// 003_b9ff603350013dbe.txt: 查无结果，不属于中石油员工标准…告知客户并无贷款资格.
    #[test]
    fn a_not_eligible_applicant_cannot_go_on() {
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(ready("1000.00", WhitelistResult::NotEligible))
            .when(LoanCommand::SubmitForApproval)
            .then_expect_error(LoanError::NotEligible);
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(vec![applied("1000.00")])
            .when(LoanCommand::SubmitForApproval)
            .then_expect_error(LoanError::StepMissing("the ERP whitelist check"));
    }

    /// 003_b9ff603350013dbe.txt: 客户可在当日人脸识别上限次数范围内重新验证，达到上限次数后次日可重新进行识别.
    #[test]
    fn face_checks_are_capped_per_shanghai_day() {
        let failures = |n: u32| LoanEvent::FaceChecked {
            passed: false,
            day: "2026-11-23".into(),
            failures_today: n,
        };
        let given: Vec<LoanEvent> = std::iter::once(applied("1000.00"))
            .chain((1..=5).map(failures))
            .collect();
        TestFramework::<LoanApplication>::with(on(23, 23))
            .given(given.clone())
            .when(LoanCommand::RecordFaceCheck { passed: true })
            .then_expect_error(LoanError::FaceCheckCapReached { cap: 5 });
        // Midnight of the 24th in Shanghai is still the 23rd in UTC: the day is Shanghai's.
        TestFramework::<LoanApplication>::with(on(24, 0))
            .given(given)
            .when(LoanCommand::RecordFaceCheck { passed: true })
            .then_expect_events(vec![LoanEvent::FaceChecked {
                passed: true,
                day: "2026-11-24".into(),
                failures_today: 0,
            }]);
    }

    #[test]
    fn only_the_routes_approver_approves() {
        let mut given = ready("1000.00", WhitelistResult::Miaodai);
        given.push(LoanEvent::ApprovalRequested {
            amount: Decimal::from_str("1000.00").unwrap(),
            route: ApprovalRoute::Automatic,
            auto_approval_limit: Decimal::new(300_000, 0),
        });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(LoanCommand::Approve {
                approver_role: "ACCOUNT_MANAGER".into(),
                credit_limit: None,
            })
            .then_expect_error(LoanError::WrongApprover {
                route: ApprovalRoute::Automatic,
                role: "ACCOUNT_MANAGER".into(),
            });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given)
            .when(LoanCommand::Approve {
                approver_role: "CREDIT_SYSTEM".into(),
                credit_limit: Some(Decimal::from_str("5000.00").unwrap()),
            })
            .then_expect_events(vec![LoanEvent::LoanApproved {
                route: ApprovalRoute::Automatic,
                credit_limit: Some(Decimal::from_str("5000.00").unwrap()),
            }]);
    }

    /// 003 §二(一): 期望额度小于等于授信审批额度 — the credit system approves
    /// with its limit, and an amount above it is refused.
    #[test]
    fn the_amount_must_be_within_the_credit_limit() {
        let mut given = ready("1000.00", WhitelistResult::Miaodai);
        given.push(LoanEvent::ApprovalRequested {
            amount: Decimal::from_str("1000.00").unwrap(),
            route: ApprovalRoute::Automatic,
            auto_approval_limit: Decimal::new(300_000, 0),
        });
        let approve = |limit: Option<&str>| LoanCommand::Approve {
            approver_role: "CREDIT_SYSTEM".into(),
            credit_limit: limit.map(|l| Decimal::from_str(l).unwrap()),
        };
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(approve(Some("999.99")))
            .then_expect_error(LoanError::AboveCreditLimit {
                amount: Decimal::from_str("1000.00").unwrap(),
                limit: Decimal::from_str("999.99").unwrap(),
            });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(approve(None))
            .then_expect_error(LoanError::Invalid(
                "the credit system approves with the creditLimit it granted".into(),
            ));
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given)
            .when(approve(Some("1000.00")))
            .then_expect_events(vec![LoanEvent::LoanApproved {
                route: ApprovalRoute::Automatic,
                credit_limit: Some(Decimal::from_str("1000.00").unwrap()),
            }]);
    }

    /// 003 §二(一): 如果期望额度大于30万元，则后续签约流程以及放款流程转成线下 — a
    /// manually approved loan cannot be e-signed or disbursed online.
    #[test]
    fn a_manually_approved_loan_signs_and_disburses_offline() {
        let mut given = ready("300000.01", WhitelistResult::Miaodai);
        given.push(LoanEvent::ApprovalRequested {
            amount: Decimal::from_str("300000.01").unwrap(),
            route: ApprovalRoute::Manual,
            auto_approval_limit: Decimal::new(300_000, 0),
        });
        given.push(LoanEvent::LoanApproved {
            route: ApprovalRoute::Manual,
            credit_limit: None,
        });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(LoanCommand::SignContract {
                signature_ref: "sig://1".into(),
                annual_rate: Decimal::from_str("0.06").unwrap(),
                term_months: 12,
                method: crate::repayment::RepaymentMethod::EqualInstallments,
            })
            .then_expect_error(LoanError::OfflineRoute);
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given)
            .when(LoanCommand::ConfirmDisbursement {
                account: "6217000000000000".into(),
            })
            .then_expect_error(LoanError::OfflineRoute);
    }

    /// 003_b9ff603350013dbe.txt: 客户签订完合同…“确认放款” — no disbursement before the e-sign.
    #[test]
    fn disbursement_needs_the_signed_contract() {
        let mut given = ready("1000.00", WhitelistResult::Miaodai);
        given.push(LoanEvent::ApprovalRequested {
            amount: Decimal::from_str("1000.00").unwrap(),
            route: ApprovalRoute::Automatic,
            auto_approval_limit: Decimal::new(300_000, 0),
        });
        given.push(LoanEvent::LoanApproved {
            route: ApprovalRoute::Automatic,
            credit_limit: Some(Decimal::from_str("1000.00").unwrap()),
        });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(LoanCommand::ConfirmDisbursement {
                account: "6217000000000000".into(),
            })
            .then_expect_error(LoanError::StepMissing("the e-signed contract"));
        given.push(signed());
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given)
            .when(LoanCommand::ConfirmDisbursement {
                account: "6217000000000000".into(),
            })
            .then_expect_events(vec![LoanEvent::DisbursementRequested {
                request_id: "00000000-0000-0000-0000-000000000001".into(),
                account: "6217000000000000".into(),
                amount: Decimal::from_str("1000.00").unwrap(),
                terms: terms("0"),
            }]);
    }

    pub(super) fn terms(penalty: &str) -> LoanTerms {
        LoanTerms {
            annual_rate: Decimal::from_str("0.06").unwrap(),
            term_months: 12,
            method: crate::repayment::RepaymentMethod::EqualInstallments,
            penalty_annual_rate: Decimal::from_str(penalty).unwrap(),
        }
    }

    pub(super) fn signed() -> LoanEvent {
        LoanEvent::ContractSigned {
            signature_ref: "sig://1".into(),
            terms: Some(terms("0")),
        }
    }

    /// 003_b9ff603350013dbe.txt: 未通过 may be submitted again.
    #[test]
    fn a_declined_application_is_resubmitted() {
        let mut given = ready("1000.00", WhitelistResult::Rongxindai);
        given.push(LoanEvent::ApprovalRequested {
            amount: Decimal::from_str("1000.00").unwrap(),
            route: ApprovalRoute::Manual,
            auto_approval_limit: Decimal::new(300_000, 0),
        });
        given.push(LoanEvent::LoanDeclined {
            reason: "收入不足".into(),
        });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given)
            .when(LoanCommand::Resubmit {
                amount: Some(Decimal::from_str("800.00").unwrap()),
            })
            .then_expect_events(vec![LoanEvent::LoanResubmitted {
                amount: Decimal::from_str("800.00").unwrap(),
            }]);
    }

    #[test]
    fn the_products_steps_do_not_mix() {
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(vec![applied("1000.00")])
            .when(LoanCommand::Advance {
                to: Node::PreliminaryReview,
            })
            .then_expect_error(LoanError::WrongProduct {
                product: Product::RongxinMiaodai,
            });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(vec![submitted()])
            .when(LoanCommand::SubmitForApproval)
            .then_expect_error(LoanError::WrongProduct {
                product: Product::Yongxu,
            });
    }
}

mod servicing;

/// 001 2.3.1 房产位置 goes with the application to its interview task; one in
/// the bank's own province is refused as its task would be (001 2.5.1).
#[test]
fn an_application_keeps_its_property_place_and_an_in_province_one_is_refused() {
    let mut services = services();
    services.routing = crate::services::InterviewRouting {
        home_province: Some("河南".into()),
    };
    let submit = |province: &str| LoanCommand::Submit {
        product: Product::Yongxu,
        contract_no: "HT1".into(),
        amount: Decimal::new(50_000_000, 2),
        task_kind: TaskKind::YongxuVideoInterview,
        product_code: "YXD".into(),
        channel_code: "YYZX".into(),
        manager_id: "M1".into(),
        participants: vec![borrower()],
        property_location: Some(Box::new(crate::interview_task::PropertyLocation {
            province: format!(" {province} "),
            city: "深圳市".into(),
            district: "南山区".into(),
            address: None,
        })),
    };
    let events = TestFramework::<LoanApplication>::with(services.clone())
        .given_no_previous_events()
        .when(submit("广东省"))
        .inspect_result()
        .expect("an out-of-province loan is taken");
    let [LoanEvent::LoanSubmitted {
        property_location: Some(location),
        ..
    }] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(location.province, "广东省", "trimmed");
    let mut loan = LoanApplication::default();
    loan.apply(events[0].clone());
    assert_eq!(
        loan.property_location().map(|l| l.city.as_str()),
        Some("深圳市")
    );

    let refused = TestFramework::<LoanApplication>::with(services)
        .given_no_previous_events()
        .when(submit("河南省"))
        .inspect_result()
        .expect_err("省内");
    assert!(refused.to_string().contains("省内"), "{refused}");
}
