use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::interview_task::{
    CancelInterviewTask, CreateInterviewTask, IdType, ParticipantInput, ParticipantRole,
};

type TaskTest = TestFramework<InterviewTask>;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
}

fn services() -> DomainServices {
    DomainServices::fixed_at(now())
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

fn create(kind: TaskKind) -> InterviewTaskCommand {
    InterviewTaskCommand::Create(CreateInterviewTask {
        lineage: None,
        task_id: "task-1".into(),
        contract_no: "HT2026001".into(),
        kind,
        product_code: "YXD".into(),
        channel_code: "YYZX".into(),
        manager_id: "M001".into(),
        participants: vec![borrower()],
        property_location: None,
        loan_info: None,
    })
}

fn created(kind: TaskKind) -> InterviewTaskEvent {
    InterviewTaskEvent::InterviewTaskCreated(InterviewTaskCreated {
        lineage: None,
        task_id: "task-1".into(),
        contract_no: "HT2026001".into(),
        kind,
        required_steps: kind.required_steps(),
        product_code: "YXD".into(),
        channel_code: "YYZX".into(),
        manager_id: "M001".into(),
        participants: merge_participants(&[borrower()]).unwrap(),
        created_at: now(),
        property_location: None,
        loan_info: None,
    })
}

fn cancel() -> InterviewTaskCommand {
    InterviewTaskCommand::Cancel(CancelInterviewTask {
        reason: "客户主动放弃".into(),
    })
}

fn cancelled() -> InterviewTaskEvent {
    InterviewTaskEvent::InterviewTaskCancelled(InterviewTaskCancelled {
        reason: "客户主动放弃".into(),
        cancelled_at: now(),
        releases: vec![],
    })
}

#[test]
fn create_opens_a_pending_task_with_the_kinds_steps() {
    TaskTest::with(services())
        .given_no_previous_events()
        .when(create(TaskKind::Yunce))
        .then_expect_events(vec![created(TaskKind::Yunce)]);
}

/// 000_ae051a0847019ebb.txt: 云贷非直批 skips 客户核身 and 信息录入.
#[test]
fn yundai_indirect_skips_identity_check_and_info_entry() {
    let steps = TaskKind::YundaiIndirect.required_steps();
    assert!(!steps.contains(&TaskStep::IdentityCheck));
    assert!(!steps.contains(&TaskStep::InfoEntry));
    assert!(steps.contains(&TaskStep::VideoWitness));
}

#[test]
fn create_twice_is_a_conflict() {
    TaskTest::with(services())
        .given(vec![created(TaskKind::YongxuVideoInterview)])
        .when(create(TaskKind::YongxuVideoInterview))
        .then_expect_error(InterviewTaskError::AlreadyExists);
}

#[test]
fn create_without_contract_no_is_refused() {
    let mut command = create(TaskKind::YongxuVideoInterview);
    if let InterviewTaskCommand::Create(c) = &mut command {
        c.contract_no = "  ".into();
    }
    TaskTest::with(services())
        .given_no_previous_events()
        .when(command)
        .then_expect_error(InterviewTaskError::InvalidContractNo);
}

/// 004_448cd5ace309d8b2.txt 3.3: a pending (待处理) task may be withdrawn (已撤销).
#[test]
fn cancel_a_pending_task() {
    TaskTest::with(services())
        .given(vec![created(TaskKind::YongxuVideoInterview)])
        .when(cancel())
        .then_expect_events(vec![cancelled()]);
}

#[test]
fn cancel_twice_is_an_invalid_transition() {
    TaskTest::with(services())
        .given(vec![created(TaskKind::YongxuVideoInterview), cancelled()])
        .when(cancel())
        .then_expect_error(InterviewTaskError::InvalidTransition {
            action: "cancel",
            from: TaskStatus::Cancelled,
        });
}

#[test]
fn cancel_an_unknown_task_is_not_found() {
    TaskTest::with(services())
        .given_no_previous_events()
        .when(cancel())
        .then_expect_error(InterviewTaskError::NotFound);
}

#[test]
fn cancel_needs_a_reason() {
    TaskTest::with(services())
        .given(vec![created(TaskKind::YongxuVideoInterview)])
        .when(InterviewTaskCommand::Cancel(CancelInterviewTask {
            reason: " ".into(),
        }))
        .then_expect_error(InterviewTaskError::InvalidField {
            field: "reason",
            reason: "must be non-empty and not too long",
        });
}

mod booking;

mod session_rules;

mod room;

mod routing;

#[test]
fn every_status_round_trips_its_name() {
    for status in TaskStatus::ALL {
        assert_eq!(TaskStatus::parse(status.as_str()), Some(status));
    }
}
