use super::*;
use crate::interview_task::session::{CallEnd, InvestigationScope, SessionCommand, SessionEvent};
use crate::interview_task::{InterviewOutcome, QcVerdict};

const BORROWER_ID: &str = "11010519491231002X";

/// Created (kind `kind`), booked for a window that is open now, started by S1.
pub(super) fn in_session(kind: TaskKind) -> Vec<InterviewTaskEvent> {
    use crate::interview_task::{AppointmentConfirmed, AppointmentPurpose};
    vec![
        created(kind),
        InterviewTaskEvent::AppointmentConfirmed(AppointmentConfirmed {
            booking_id: Uuid::from_u128(1),
            purpose: AppointmentPurpose::Book,
            seat_no: "S1".into(),
            slot: Slot {
                start: now() - chrono::Duration::minutes(5),
                end: now() + chrono::Duration::minutes(25),
            },
            replaced: None,
            reschedule_count: 0,
        }),
        InterviewTaskEvent::InterviewStarted {
            seat_no: "S1".into(),
            started_at: now(),
        },
    ]
}

fn identity(similarity: f64, liveness: bool) -> InterviewTaskCommand {
    InterviewTaskCommand::Session(SessionCommand::RecordIdentityCheck {
        id_number: BORROWER_ID.into(),
        liveness_passed: liveness,
        similarity,
    })
}

fn checked(similarity: f64, liveness: bool, passed: bool) -> InterviewTaskEvent {
    InterviewTaskEvent::Session(SessionEvent::IdentityChecked {
        id_number: BORROWER_ID.into(),
        liveness_passed: liveness,
        similarity,
        threshold: 0.8,
        passed,
    })
}

fn call_ended() -> InterviewTaskEvent {
    InterviewTaskEvent::Session(SessionEvent::CallEnded {
        call_no: 1,
        seat_no: "S1".into(),
        end: CallEnd::Normal,
        queued_at: now(),
        answered_at: now(),
        ended_at: now(),
        queue_seconds: 0,
        talk_seconds: 0,
        legs: vec![],
    })
}

/// 000_ae051a0847019ebb.txt 客户核身: 对比分数大于系统设定分数则通过, and liveness must pass.
#[test]
fn identity_check_compares_with_the_configured_threshold() {
    TaskTest::with(services())
        .given(in_session(TaskKind::YongxuVideoInterview))
        .when(identity(0.85, true))
        .then_expect_events(vec![checked(0.85, true, true)]);
    TaskTest::with(services())
        .given(in_session(TaskKind::YongxuVideoInterview))
        .when(identity(0.79, true))
        .then_expect_events(vec![checked(0.79, true, false)]);
    TaskTest::with(services())
        .given(in_session(TaskKind::YongxuVideoInterview))
        .when(identity(0.95, false))
        .then_expect_events(vec![checked(0.95, false, false)]);
}

/// 000_ae051a0847019ebb.txt 客户核身: 对比分数大于系统设定分数，则通过 — a score equal
/// to the threshold does not pass (issue 22).
#[test]
fn a_score_equal_to_the_threshold_does_not_pass() {
    TaskTest::with(services())
        .given(in_session(TaskKind::YongxuVideoInterview))
        .when(identity(0.8, true))
        .then_expect_events(vec![checked(0.8, true, false)]);
}

/// 000_ae051a0847019ebb.txt: 云贷非直批任务…不需要在展业APP再次进行客户核身.
#[test]
fn yundai_indirect_has_no_identity_check() {
    TaskTest::with(services())
        .given(in_session(TaskKind::YundaiIndirect))
        .when(identity(0.9, true))
        .then_expect_error(InterviewTaskError::StepNotRequired {
            step: TaskStep::IdentityCheck,
        });
}

/// 000_ae051a0847019ebb.txt 现调上传: 现调监控范围为“家庭和单位” requires a video witness.
#[test]
fn home_and_workplace_scope_requires_a_video_witness() {
    let result = TaskTest::with(services())
        .given(in_session(TaskKind::Yunce))
        .when(InterviewTaskCommand::Session(
            SessionCommand::RecordFieldInvestigation {
                scope: InvestigationScope::HomeAndWorkplace,
                latitude: 34.75,
                longitude: 113.62,
                address: "郑州市金水区".into(),
                information: "住宅自有".into(),
                photos: vec!["blob://p1".into()],
            },
        ))
        .inspect_result()
        .unwrap();
    assert!(matches!(
        &result[0],
        InterviewTaskEvent::Session(SessionEvent::FieldInvestigationRecorded {
            video_witness_required: true,
            ..
        })
    ));
}

/// 001_d165f826565a3102.txt 2.3.1.2: 录制完成后…签署意见（完成、存疑）— after the call,
/// and 通过 only with every required step done.
#[test]
fn conclusion_needs_the_call_ended_and_a_pass_needs_every_step() {
    TaskTest::with(services())
        .given(in_session(TaskKind::YongxuVideoInterview))
        .when(InterviewTaskCommand::ConcludeInterview {
            outcome: InterviewOutcome::Doubtful,
        })
        .then_expect_error(InterviewTaskError::CallNotEnded);
    let mut given = in_session(TaskKind::YongxuVideoInterview);
    given.push(checked(0.79, true, false));
    given.push(call_ended());
    TaskTest::with(services())
        .given(given.clone())
        .when(InterviewTaskCommand::ConcludeInterview {
            outcome: InterviewOutcome::Pass,
        })
        .then_expect_error(InterviewTaskError::StepsMissing {
            missing: vec![TaskStep::IdentityCheck, TaskStep::VideoWitness],
        });
    TaskTest::with(services())
        .given(given)
        .when(InterviewTaskCommand::ConcludeInterview {
            outcome: InterviewOutcome::Doubtful,
        })
        .then_expect_events(vec![InterviewTaskEvent::InterviewConcluded {
            outcome: InterviewOutcome::Doubtful,
            concluded_at: now(),
            sampled_for_qc: false,
        }]);
}

/// 001_d165f826565a3102.txt 2.4.3: a reject of a sampled pass rolls the loan back.
#[test]
fn rejecting_a_sampled_pass_asks_for_a_loan_roll_back() {
    let mut given = in_session(TaskKind::YundaiDirect);
    given.push(call_ended());
    given.push(InterviewTaskEvent::InterviewConcluded {
        outcome: InterviewOutcome::Pass,
        concluded_at: now(),
        sampled_for_qc: true,
    });
    TaskTest::with(services())
        .given(given)
        .when(InterviewTaskCommand::ApplyQcDecision {
            case_id: "qc-1".into(),
            verdict: QcVerdict::Reject,
            reasons: vec!["FORGED_DOCUMENTS".into()],
            comment: "伪造".into(),
        })
        .then_expect_events(vec![InterviewTaskEvent::QcRejected {
            case_id: "qc-1".into(),
            reasons: vec!["FORGED_DOCUMENTS".into()],
            comment: "伪造".into(),
            rollback_loan: true,
        }]);
}

#[test]
fn a_task_not_in_qc_refuses_a_decision() {
    TaskTest::with(services())
        .given(in_session(TaskKind::YundaiDirect))
        .when(InterviewTaskCommand::ApplyQcDecision {
            case_id: "qc-1".into(),
            verdict: QcVerdict::Pass,
            reasons: vec![],
            comment: String::new(),
        })
        .then_expect_error(InterviewTaskError::NotAwaitingQc);
}

/// 000_ae051a0847019ebb.txt 现调上传: 如"现调监控范围"为"家庭和单位"，则…展示两次视频见证
/// — a pass needs two video witnesses then, one otherwise (issue 22).
#[test]
fn home_and_workplace_needs_two_video_witnesses_before_a_pass() {
    let witness = |n: u32| {
        InterviewTaskEvent::Session(SessionEvent::VideoWitnessRecorded {
            recording_name: format!("20261123客户S1{n:03}"),
            storage_ref: format!("blob://w{n}"),
            id_number: None,
        })
    };
    let investigated = |scope: InvestigationScope| {
        InterviewTaskEvent::Session(SessionEvent::FieldInvestigationRecorded {
            scope,
            latitude: 34.75,
            longitude: 113.62,
            address: "郑州市金水区".into(),
            information: "住宅自有".into(),
            photos: vec!["blob://p1".into()],
            video_witness_required: scope == InvestigationScope::HomeAndWorkplace,
        })
    };
    let pass = || InterviewTaskCommand::ConcludeInterview {
        outcome: InterviewOutcome::Pass,
    };
    let mut given = in_session(TaskKind::YongxuVideoInterview);
    given.extend([
        checked(0.85, true, true),
        investigated(InvestigationScope::HomeAndWorkplace),
        witness(1),
        call_ended(),
    ]);
    TaskTest::with(services())
        .given(given.clone())
        .when(pass())
        .then_expect_error(InterviewTaskError::StepsMissing {
            missing: vec![TaskStep::VideoWitness],
        });
    given.push(witness(2));
    let concluded = TaskTest::with(services())
        .given(given)
        .when(pass())
        .inspect_result();
    assert!(concluded.is_ok(), "{concluded:?}");
}

/// 001_d165f826565a3102.txt 四、信贷系统 3 and 2.4.1: the credit system knows three
/// statuses — 「"存疑类"任务状态保持为"待面谈"」, an expired task is 待面谈 too
/// (若任务过期（状态=待面谈）); a withdrawn task has none (issue 22 item 4).
#[test]
fn the_credit_system_sees_three_statuses() {
    use crate::interview_task::{CreditTaskStatus as C, TaskStatus as S};
    let expected = [
        (S::Pending, Some(C::PendingInterview)),
        (S::InProgress, Some(C::PendingInterview)),
        (S::PendingQc, Some(C::PendingInterview)),
        (S::Passed, Some(C::AwaitingSigning)),
        (S::Rejected, Some(C::InterviewRejected)),
        (S::Expired, Some(C::PendingInterview)),
        (S::Cancelled, None),
        (S::Superseded, None),
    ];
    assert_eq!(expected.len(), S::ALL.len());
    for (status, credit) in expected {
        assert_eq!(C::of(status), credit, "{status:?}");
    }
    assert_eq!(C::AwaitingSigning.label_zh(), "已面谈（待提交面签）");
}
