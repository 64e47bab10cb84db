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
        amount: Some(Decimal::new(50_000_000, 2)),
        term_months: None,
        purpose: None,
        branch: None,
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
    use crate::loan_application::terms::{ContractTerms, CreditOffer, LoanDocument};
    use crate::repayment::RepaymentMethod;

    fn on(day: u32, hour: u32) -> DomainServices {
        DomainServices::fixed_at(
            crate::schedule::shanghai()
                .with_ymd_and_hms(2026, 11, day, hour, 0, 0)
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    /// A 融信秒贷 application for 12 months' 装修; `amount` only for 融信贷 ("" none).
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
            amount: (!amount.is_empty()).then(|| d(amount)),
            term_months: Some(12),
            purpose: Some("装修".into()),
            branch: None,
            task_kind,
            product_code,
            channel_code,
            manager_id,
            participants,
            property_location: None,
        }
    }

    fn accepted(document: LoanDocument) -> LoanEvent {
        LoanEvent::LoanDocumentAccepted {
            document,
            version: "2021.1".into(),
            purpose: (document == LoanDocument::LoanPurposeDeclaration).then(|| "装修".into()),
        }
    }

    /// Whitelist, face check, both authorisations and the SMS/password check done.
    pub(super) fn ready(amount: &str, whitelist: WhitelistResult) -> Vec<LoanEvent> {
        vec![
            applied(amount),
            accepted(LoanDocument::EmployeeInfoQuery),
            accepted(LoanDocument::CreditReportQuery),
            LoanEvent::WhitelistChecked { result: whitelist },
            LoanEvent::FaceChecked {
                passed: true,
                day: "2026-11-23".into(),
                failures_today: 0,
            },
            LoanEvent::CustomerVerified {
                purpose: VerificationPurpose::Submission,
                passed: true,
            },
        ]
    }

    fn offer(limit: &str) -> CreditOffer {
        CreditOffer {
            credit_limit: d(limit),
            annual_rate: d("0.06"),
            allowed_term_months: vec![12, 24],
            method: RepaymentMethod::EqualInstallments,
        }
    }

    /// Approved online with a limit of `limit` at 6 %, 12 or 24 months.
    pub(super) fn approved_online(limit: &str) -> Vec<LoanEvent> {
        let mut events = ready("", WhitelistResult::Miaodai);
        events.push(LoanEvent::ApprovalRequested {
            amount: None,
            route: ApprovalRoute::Automatic,
            auto_approval_limit: Decimal::new(300_000, 0),
        });
        events.push(LoanEvent::LoanApproved {
            route: ApprovalRoute::Automatic,
            credit_limit: Some(d(limit)),
            offer: Some(offer(limit)),
        });
        events
    }

    pub(super) fn contract(amount: &str, version: u32) -> ContractTerms {
        ContractTerms {
            version,
            amount: d(amount),
            currency: "CNY".into(),
            term_months: 12,
            annual_rate: d("0.06"),
            purpose: "装修".into(),
            method: RepaymentMethod::EqualInstallments,
            penalty_annual_rate: Decimal::ZERO,
        }
    }

    fn chosen(amount: &str) -> LoanEvent {
        LoanEvent::LoanAmountChosen {
            amount: d(amount),
            term_months: 12,
            route: ApprovalRoute::Automatic,
            terms: Some(contract(amount, 1)),
        }
    }

    fn sign(digest: String) -> LoanCommand {
        LoanCommand::SignContract {
            signature_ref: "sig://1".into(),
            terms_digest: digest,
        }
    }

    fn submit_route(whitelist: WhitelistResult, amount: &str) -> Result<ApprovalRoute, LoanError> {
        let events = TestFramework::<LoanApplication>::with(on(23, 10))
            .given(ready(amount, whitelist))
            .when(LoanCommand::SubmitForApproval)
            .inspect_result()?;
        match &events[0] {
            LoanEvent::ApprovalRequested { route, .. } => Ok(*route),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// 003 §二(四): the 秒贷 customer applies without an amount and chooses it
    /// after approval; 融信贷 keeps 申请贷款（元） and a manager approves.
    #[test]
    fn the_whitelist_decides_who_approves() {
        assert_eq!(
            submit_route(WhitelistResult::Miaodai, ""),
            Ok(ApprovalRoute::Automatic)
        );
        assert_eq!(
            submit_route(WhitelistResult::Rongxindai, "1000.00"),
            Ok(ApprovalRoute::Manual)
        );
        assert_eq!(
            submit_route(WhitelistResult::Rongxindai, ""),
            Err(LoanError::StepMissing("the amount applied for (融信贷)"))
        );
    }

    /// 003 §二(二) 双协议勾选 in order, and §二(四) the SMS code and transaction
    /// password checked (by the verification service) before submission.
    #[test]
    fn submission_needs_both_authorisations_and_the_verification() {
        let without = |skip: usize| {
            let mut given = ready("", WhitelistResult::Miaodai);
            given.remove(skip);
            TestFramework::<LoanApplication>::with(on(23, 10))
                .given(given)
                .when(LoanCommand::SubmitForApproval)
                .inspect_result()
                .unwrap_err()
        };
        assert_eq!(
            without(1),
            LoanError::StepMissing("《个人员工信息查询授权书》")
        );
        assert_eq!(
            without(2),
            LoanError::StepMissing("《个人信用报告查询授权书》")
        );
        assert_eq!(
            without(5),
            LoanError::StepMissing("the SMS code and transaction password check")
        );
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(vec![applied("")])
            .when(LoanCommand::AcceptDocument {
                document: LoanDocument::CreditReportQuery,
                version: "2021.1".into(),
            })
            .then_expect_error(LoanError::StepMissing("《个人员工信息查询授权书》"));
        // A failed check after a passed one leaves the customer unverified.
        let mut given = ready("", WhitelistResult::Miaodai);
        given.push(LoanEvent::CustomerVerified {
            purpose: VerificationPurpose::Submission,
            passed: false,
        });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given)
            .when(LoanCommand::SubmitForApproval)
            .then_expect_error(LoanError::StepMissing(
                "the SMS code and transaction password check",
            ));
    }

    /// 003_b9ff603350013dbe.txt: 查无结果，不属于中石油员工标准…告知客户并无贷款资格.
    #[test]
    fn a_not_eligible_applicant_cannot_go_on() {
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(ready("", WhitelistResult::NotEligible))
            .when(LoanCommand::SubmitForApproval)
            .then_expect_error(LoanError::NotEligible);
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(vec![applied("")])
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
        let given: Vec<LoanEvent> = std::iter::once(applied(""))
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

    fn approve(role: &str, limit: Option<&str>, rate: Option<&str>) -> LoanCommand {
        LoanCommand::Approve {
            approver_role: role.into(),
            credit_limit: limit.map(d),
            annual_rate: rate.map(d),
            allowed_term_months: vec![24, 12, 24],
            method: RepaymentMethod::EqualInstallments,
        }
    }

    /// 003: 融信秒贷贷款利率，由个贷系统提供 — the online approval is the credit
    /// system's offer (limit, rate, the terms allowed), and only its own.
    #[test]
    fn the_credit_system_approves_with_its_offer() {
        let mut given = ready("", WhitelistResult::Miaodai);
        given.push(LoanEvent::ApprovalRequested {
            amount: None,
            route: ApprovalRoute::Automatic,
            auto_approval_limit: Decimal::new(300_000, 0),
        });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(approve("ACCOUNT_MANAGER", Some("5000.00"), Some("0.06")))
            .then_expect_error(LoanError::WrongApprover {
                route: ApprovalRoute::Automatic,
                role: "ACCOUNT_MANAGER".into(),
            });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(approve("CREDIT_SYSTEM", None, Some("0.06")))
            .then_expect_error(LoanError::Invalid(crate::message::message!(
                "the credit system approves with the creditLimit it granted"
            )));
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(approve("CREDIT_SYSTEM", Some("5000.00"), None))
            .then_expect_error(LoanError::Invalid(crate::message::message!(
                "the credit system approves with the annualRate it offers"
            )));
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given)
            .when(approve("CREDIT_SYSTEM", Some("5000.00"), Some("0.06")))
            .then_expect_events(vec![LoanEvent::LoanApproved {
                route: ApprovalRoute::Automatic,
                credit_limit: Some(d("5000.00")),
                offer: Some(offer("5000.00")),
            }]);
    }

    /// 003 §二(四): 期望贷款的额度…小于等于授信审批额度; the term is one the bank allows.
    #[test]
    fn the_customer_chooses_an_amount_within_the_limit_and_an_allowed_term() {
        let choose = |amount: &str, term: Option<u32>| {
            TestFramework::<LoanApplication>::with(on(23, 10))
                .given(approved_online("20000.00"))
                .when(LoanCommand::ChooseAmount {
                    amount: d(amount),
                    term_months: term,
                })
                .inspect_result()
        };
        assert_eq!(
            choose("20000.01", None),
            Err(LoanError::AboveCreditLimit {
                amount: d("20000.01"),
                limit: d("20000.00"),
            })
        );
        assert_eq!(
            choose("12000.00", Some(36)),
            Err(LoanError::Invalid(crate::message::message!(
                "termMonths must be one the bank allows: {}",
                "12, 24"
            )))
        );
        assert_eq!(choose("12000.00", None), Ok(vec![chosen("12000.00")]));
        let Ok(events) = choose("12000.00", Some(24)) else {
            panic!()
        };
        let LoanEvent::LoanAmountChosen {
            terms: Some(terms), ..
        } = &events[0]
        else {
            panic!("{events:?}")
        };
        assert_eq!(terms.term_months, 24);
        assert_eq!(terms.annual_rate, d("0.06"), "the bank's rate");
    }

    /// 003 §二(四): 如果期望额度大于30万元，则后续签约流程以及放款流程转成线下 — the
    /// amount chosen decides the route: 300,000.00 is online, a fen more goes to
    /// a manager and is then signed and paid out offline.
    #[test]
    fn the_chosen_amount_routes_at_the_300000_boundary() {
        let choose = |amount: &str| {
            TestFramework::<LoanApplication>::with(on(23, 10))
                .given(approved_online("500000.00"))
                .when(LoanCommand::ChooseAmount {
                    amount: d(amount),
                    term_months: None,
                })
                .inspect_result()
                .unwrap()
        };
        assert!(matches!(
            choose("300000.00")[0],
            LoanEvent::LoanAmountChosen {
                route: ApprovalRoute::Automatic,
                terms: Some(_),
                ..
            }
        ));
        let offline = choose("300000.01");
        assert_eq!(
            offline,
            vec![LoanEvent::LoanAmountChosen {
                amount: d("300000.01"),
                term_months: 12,
                route: ApprovalRoute::Manual,
                terms: None,
            }]
        );
        let mut given = approved_online("500000.00");
        given.extend(offline);
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(approve("CREDIT_SYSTEM", Some("500000.00"), Some("0.06")))
            .then_expect_error(LoanError::WrongApprover {
                route: ApprovalRoute::Manual,
                role: "CREDIT_SYSTEM".into(),
            });
        given.push(LoanEvent::LoanApproved {
            route: ApprovalRoute::Manual,
            credit_limit: None,
            offer: None,
        });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(sign(contract("300000.01", 1).digest()))
            .then_expect_error(LoanError::OfflineRoute);
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given)
            .when(LoanCommand::ConfirmDisbursement {
                account: "6217000000000000".into(),
            })
            .then_expect_error(LoanError::OfflineRoute);
    }

    /// Issue 32: the customer signs exactly the terms shown — by their digest —
    /// and only after the 《贷款用途声明书》; a changed offer refuses the old digest.
    #[test]
    fn a_signature_names_the_terms_and_a_change_refuses_it() {
        let mut given = approved_online("20000.00");
        given.push(chosen("12000.00"));
        let shown = contract("12000.00", 1).digest();
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(sign(shown.clone()))
            .then_expect_error(LoanError::StepMissing("《贷款用途声明书》"));
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(LoanCommand::AcceptDocument {
                document: LoanDocument::LoanPurposeDeclaration,
                version: " 2021.1 ".into(),
            })
            .then_expect_events(vec![accepted(LoanDocument::LoanPurposeDeclaration)]);
        given.push(accepted(LoanDocument::LoanPurposeDeclaration));
        // The bank sets the final signing rate after the customer saw version 1.
        let mut repriced = given.clone();
        let mut v2 = contract("12000.00", 2);
        v2.annual_rate = d("0.055");
        repriced.push(LoanEvent::SigningRateSet {
            annual_rate: d("0.055"),
            terms: Some(v2.clone()),
        });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(repriced.clone())
            .when(sign(shown.clone()))
            .then_expect_error(LoanError::TermsChanged { version: 2 });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(repriced)
            .when(sign(v2.digest().to_uppercase()))
            .then_expect_events(vec![LoanEvent::ContractSigned {
                signature_ref: "sig://1".into(),
                terms: Some(v2.loan_terms()),
                contract: Some(v2),
            }]);
        // Signed: retrying the signature changes nothing, another amount is refused.
        given.push(signed());
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(sign(shown))
            .then_expect_events(vec![]);
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given)
            .when(LoanCommand::ChooseAmount {
                amount: d("1000.00"),
                term_months: None,
            })
            .then_expect_error(LoanError::AlreadySigned);
    }

    /// The same choice again (a retried request) changes nothing; another makes version 2.
    #[test]
    fn choosing_again_makes_a_new_version_only_when_something_changed() {
        let mut given = approved_online("20000.00");
        given.push(chosen("12000.00"));
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(LoanCommand::ChooseAmount {
                amount: d("12000.00"),
                term_months: Some(12),
            })
            .then_expect_events(vec![]);
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given)
            .when(LoanCommand::ChooseAmount {
                amount: d("15000.00"),
                term_months: None,
            })
            .then_expect_events(vec![LoanEvent::LoanAmountChosen {
                amount: d("15000.00"),
                term_months: 12,
                route: ApprovalRoute::Automatic,
                terms: Some(contract("15000.00", 2)),
            }]);
    }

    /// 003_b9ff603350013dbe.txt: 客户签订完合同…“确认放款” — no disbursement before the e-sign.
    #[test]
    fn disbursement_needs_the_signed_contract() {
        let mut given = approved_online("20000.00");
        given.push(chosen("1000.00"));
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(LoanCommand::ConfirmDisbursement {
                account: "6217000000000000".into(),
            })
            .then_expect_error(LoanError::StepMissing("the e-signed contract"));
        given.push(LoanEvent::ContractSigned {
            signature_ref: "sig://1".into(),
            terms: Some(contract("1000.00", 1).loan_terms()),
            contract: Some(contract("1000.00", 1)),
        });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given)
            .when(LoanCommand::ConfirmDisbursement {
                account: "6217000000000000".into(),
            })
            .then_expect_events(vec![LoanEvent::DisbursementRequested {
                request_id: "00000000-0000-0000-0000-000000000001".into(),
                account: "6217000000000000".into(),
                amount: d("1000.00"),
                terms: terms("0"),
            }]);
    }

    pub(super) fn terms(penalty: &str) -> LoanTerms {
        LoanTerms {
            annual_rate: d("0.06"),
            term_months: 12,
            method: RepaymentMethod::EqualInstallments,
            penalty_annual_rate: d(penalty),
        }
    }

    fn signed() -> LoanEvent {
        LoanEvent::ContractSigned {
            signature_ref: "sig://1".into(),
            terms: Some(terms("0")),
            contract: Some(contract("12000.00", 1)),
        }
    }

    /// 003 进度查询 4. 未通过: 客户修改后，可再次提交申请 — and is checked again.
    #[test]
    fn a_declined_application_is_resubmitted() {
        let mut given = ready("1000.00", WhitelistResult::Rongxindai);
        given.push(LoanEvent::ApprovalRequested {
            amount: Some(d("1000.00")),
            route: ApprovalRoute::Manual,
            auto_approval_limit: Decimal::new(300_000, 0),
        });
        given.push(LoanEvent::LoanDeclined {
            reason: "收入不足".into(),
        });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(LoanCommand::Resubmit {
                amount: Some(d("800.00")),
                term_months: Some(24),
                purpose: None,
            })
            .then_expect_events(vec![LoanEvent::LoanResubmitted {
                amount: Some(d("800.00")),
                term_months: Some(24),
                purpose: Some("装修".into()),
            }]);
        given.push(LoanEvent::LoanResubmitted {
            amount: Some(d("800.00")),
            term_months: Some(24),
            purpose: Some("装修".into()),
        });
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given)
            .when(LoanCommand::SubmitForApproval)
            .then_expect_error(LoanError::StepMissing(
                "the SMS code and transaction password check",
            ));
    }

    /// 003 合同下载: 每次申请下载…都需输入交易密码 (the verification service's
    /// check, used up by the request); 请输入正确的电子邮箱 for a bad address.
    #[test]
    fn a_contract_download_needs_a_check_per_request_and_a_valid_address() {
        let mut given = approved_online("20000.00");
        given.push(chosen("12000.00"));
        given.push(signed());
        let ask = |email: &str| LoanCommand::RequestContractDownload {
            request_id: "D1".into(),
            email: email.into(),
        };
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(ask("wang@example.com"))
            .then_expect_error(LoanError::StepMissing("the transaction password check"));
        given.push(LoanEvent::CustomerVerified {
            purpose: VerificationPurpose::ContractDownload,
            passed: true,
        });
        for bad in [
            "wang@example",
            "wang example.com",
            "@example.com",
            "wang@-x.com",
            "w ang@example.com",
        ] {
            TestFramework::<LoanApplication>::with(on(23, 10))
                .given(given.clone())
                .when(ask(bad))
                .then_expect_error(LoanError::Invalid(crate::message::message!(
                    "enter a valid e-mail address"
                )));
        }
        let events = TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given.clone())
            .when(ask(" wang.jianguo@example.com "))
            .inspect_result()
            .unwrap();
        let [LoanEvent::ContractDownloadRequested { email, .. }] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!(email, "wang.jianguo@example.com");
        given.extend(events);
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(given)
            .when(LoanCommand::RequestContractDownload {
                request_id: "D2".into(),
                email: "wang@example.com".into(),
            })
            .then_expect_error(LoanError::StepMissing("the transaction password check"));
    }

    #[test]
    fn the_products_steps_do_not_mix() {
        TestFramework::<LoanApplication>::with(on(23, 10))
            .given(vec![applied("")])
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
        amount: Some(Decimal::new(50_000_000, 2)),
        term_months: None,
        purpose: None,
        branch: None,
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
