use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
}

fn services() -> DomainServices {
    DomainServices::fixed_at(now())
}

fn opened() -> QcCaseEvent {
    QcCaseEvent::QcCaseOpened {
        task_id: "t1".into(),
        contract_no: "HT1".into(),
        seat_no: "S1".into(),
        origin: QcOrigin::Doubtful,
        opened_at: now(),
    }
}

fn claimed(by: &str) -> QcCaseEvent {
    QcCaseEvent::QcCaseClaimed {
        reviewer: by.into(),
    }
}

fn reject(reasons: Vec<RejectReason>, other: Option<&str>, comment: &str) -> QcCaseCommand {
    QcCaseCommand::Decide {
        reviewer: "R1".into(),
        decision: QcDecision::Reject {
            reasons,
            other_text: other.map(str::to_string),
        },
        comment: comment.into(),
    }
}

/// 001_d165f826565a3102.txt 2.4.3.2: 复核岗在质检管理操作拒件 with 拒件原因.
#[test]
fn a_reject_records_its_reasons_and_comment() {
    TestFramework::<QcCase>::with(services())
        .given(vec![opened(), claimed("R1")])
        .when(reject(
            vec![RejectReason::NoStableIncome, RejectReason::ForgedDocuments],
            None,
            "收入证明与流水不符",
        ))
        .then_expect_events(vec![QcCaseEvent::QcCaseDecided {
            reviewer: "R1".into(),
            task_id: "t1".into(),
            origin: QcOrigin::Doubtful,
            passed: false,
            reasons: vec![RejectReason::ForgedDocuments, RejectReason::NoStableIncome],
            other_text: None,
            comment: "收入证明与流水不符".into(),
            decided_at: now(),
        }]);
}

#[test]
fn a_reject_needs_a_reason_a_comment_and_text_for_other() {
    let given = || vec![opened(), claimed("R1")];
    TestFramework::<QcCase>::with(services())
        .given(given())
        .when(reject(vec![], None, "x"))
        .then_expect_error(QcCaseError::NoReason);
    TestFramework::<QcCase>::with(services())
        .given(given())
        .when(reject(vec![RejectReason::Other], Some(" "), "x"))
        .then_expect_error(QcCaseError::OtherWithoutText);
    TestFramework::<QcCase>::with(services())
        .given(given())
        .when(reject(vec![RejectReason::CustomerWithdrew], None, ""))
        .then_expect_error(QcCaseError::InvalidField {
            field: "comment",
            reason: "is required for a reject",
        });
}

#[test]
fn only_the_claiming_reviewer_decides_or_releases() {
    TestFramework::<QcCase>::with(services())
        .given(vec![opened()])
        .when(reject(vec![RejectReason::DemolitionRisk], None, "x"))
        .then_expect_error(QcCaseError::NotClaimedByYou);
    TestFramework::<QcCase>::with(services())
        .given(vec![opened(), claimed("R2")])
        .when(QcCaseCommand::Claim {
            reviewer: "R1".into(),
        })
        .then_expect_error(QcCaseError::ClaimedByAnother {
            reviewer: "R2".into(),
        });
    TestFramework::<QcCase>::with(services())
        .given(vec![opened(), claimed("R2")])
        .when(QcCaseCommand::Release {
            reviewer: "R1".into(),
        })
        .then_expect_error(QcCaseError::NotClaimedByYou);
    TestFramework::<QcCase>::with(services())
        .given(vec![opened(), claimed("R2")])
        .when(QcCaseCommand::Release {
            reviewer: "R2".into(),
        })
        .then_expect_events(vec![QcCaseEvent::QcCaseReleased {
            reviewer: "R2".into(),
        }]);
}

#[test]
fn a_decision_is_final_and_a_redelivered_open_is_a_no_op() {
    let decided = QcCaseEvent::QcCaseDecided {
        reviewer: "R1".into(),
        task_id: "t1".into(),
        origin: QcOrigin::Doubtful,
        passed: true,
        reasons: vec![],
        other_text: None,
        comment: String::new(),
        decided_at: now(),
    };
    TestFramework::<QcCase>::with(services())
        .given(vec![opened(), claimed("R1"), decided.clone()])
        .when(QcCaseCommand::Claim {
            reviewer: "R1".into(),
        })
        .then_expect_error(QcCaseError::AlreadyDecided);
    TestFramework::<QcCase>::with(services())
        .given(vec![opened(), claimed("R1"), decided])
        .when(QcCaseCommand::Open {
            task_id: "t1".into(),
            contract_no: "HT1".into(),
            seat_no: "S1".into(),
            origin: QcOrigin::Doubtful,
        })
        .then_expect_events(vec![]);
}

/// 001_d165f826565a3102.txt 2.4.3.1: the eight reasons of 移动营销-客户经理调查意见, plus OTHER.
#[test]
fn the_reason_codes_are_those_of_001() {
    assert_eq!(RejectReason::ALL.len(), 9);
    assert_eq!(RejectReason::DemolitionRisk.label_zh(), "房屋存在拆迁风险");
    assert_eq!(
        RejectReason::IllegalPrivateFinancing.as_str(),
        "ILLEGAL_PRIVATE_FINANCING"
    );
}
