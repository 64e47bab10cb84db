use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{
    merge_participants, InterviewTaskCancelled, InterviewTaskCommand, InterviewTaskCreated,
    InterviewTaskError, InterviewTaskEvent, Participant,
};
use crate::services::DomainServices;

/// The interview flow a task follows (requirements 000 and 001).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskKind {
    /// 永续贷视频面谈 (001): the seat verifies identity and witnesses on video.
    #[default]
    YongxuVideoInterview,
    /// 云贷直批 (000): started from 云贷 APP; the seat only witnesses on video.
    YundaiDirect,
    /// 云贷非直批 (000): identity check and info entry were done in 云贷 APP, so skipped.
    YundaiIndirect,
    /// 云测 (000): every sub-task.
    Yunce,
}

/// A sub-task of the interview (000: 现调上传 / 客户核身 / 视频见证 / 信息录入).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStep {
    /// 现调上传: field investigation with location, information and photos.
    FieldInvestigation,
    /// 客户核身: liveness and face similarity per participant.
    IdentityCheck,
    /// 视频见证: the recorded video interview itself.
    VideoWitness,
    /// 信息录入: loan information entry and confirmation.
    InfoEntry,
}

impl TaskKind {
    /// The steps this kind requires, in the order they are done.
    pub fn required_steps(self) -> Vec<TaskStep> {
        use TaskStep::*;
        match self {
            TaskKind::YongxuVideoInterview => vec![IdentityCheck, VideoWitness],
            TaskKind::YundaiDirect => vec![VideoWitness],
            TaskKind::YundaiIndirect => vec![FieldInvestigation, VideoWitness],
            TaskKind::Yunce => vec![FieldInvestigation, IdentityCheck, VideoWitness, InfoEntry],
        }
    }
}

/// Where a task stands (DESIGN.md; names of 001 and 004).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    /// 待面谈 / 待处理.
    #[default]
    Pending,
    /// 处理中: a seat is in the session.
    InProgress,
    /// 存疑: waiting for quality control.
    PendingQc,
    /// 已面谈（待提交面签） / 已处理.
    Passed,
    /// 已面谈（面谈拒绝）.
    Rejected,
    /// The appointment window passed; it may still be rescheduled.
    Expired,
    /// 已撤销.
    Cancelled,
    /// A reverse flow replaced it with a new task.
    Superseded,
}

impl TaskStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [TaskStatus; 8] = [
        TaskStatus::Pending,
        TaskStatus::InProgress,
        TaskStatus::PendingQc,
        TaskStatus::Passed,
        TaskStatus::Rejected,
        TaskStatus::Expired,
        TaskStatus::Cancelled,
        TaskStatus::Superseded,
    ];

    /// The stored and wire name, e.g. `PENDING_QC`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "PENDING",
            TaskStatus::InProgress => "IN_PROGRESS",
            TaskStatus::PendingQc => "PENDING_QC",
            TaskStatus::Passed => "PASSED",
            TaskStatus::Rejected => "REJECTED",
            TaskStatus::Expired => "EXPIRED",
            TaskStatus::Cancelled => "CANCELLED",
            TaskStatus::Superseded => "SUPERSEDED",
        }
    }

    /// The Chinese name shown to bank staff (001, 004).
    pub fn label_zh(self) -> &'static str {
        match self {
            TaskStatus::Pending => "待面谈",
            TaskStatus::InProgress => "处理中",
            TaskStatus::PendingQc => "存疑",
            TaskStatus::Passed => "已面谈（待提交面签）",
            TaskStatus::Rejected => "已面谈（面谈拒绝）",
            TaskStatus::Expired => "已过期",
            TaskStatus::Cancelled => "已撤销",
            TaskStatus::Superseded => "已被新任务取代",
        }
    }

    /// Parses the stored name back.
    pub fn parse(s: &str) -> Option<TaskStatus> {
        TaskStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

/// The write-side state of one interview task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InterviewTask {
    created: bool,
    contract_no: String,
    kind: TaskKind,
    status: TaskStatus,
    participants: Vec<Participant>,
}

impl InterviewTask {
    /// Current status.
    pub fn status(&self) -> TaskStatus {
        self.status
    }

    /// Loan contract number.
    pub fn contract_no(&self) -> &str {
        &self.contract_no
    }

    /// Interview flow.
    pub fn kind(&self) -> TaskKind {
        self.kind
    }

    /// De-duplicated participants.
    pub fn participants(&self) -> &[Participant] {
        &self.participants
    }

    fn require_existing(&self) -> Result<(), InterviewTaskError> {
        if self.created {
            Ok(())
        } else {
            Err(InterviewTaskError::NotFound)
        }
    }
}

fn required_text(
    value: &str,
    field: &'static str,
    max_chars: usize,
) -> Result<String, InterviewTaskError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max_chars {
        return Err(InterviewTaskError::InvalidField {
            field,
            reason: "must be non-empty and not too long",
        });
    }
    Ok(value.to_string())
}

impl Aggregate for InterviewTask {
    const TYPE: &'static str = super::AGGREGATE_TYPE;
    type Command = InterviewTaskCommand;
    type Event = InterviewTaskEvent;
    type Error = InterviewTaskError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            InterviewTaskCommand::Create(create) => {
                if self.created {
                    return Err(InterviewTaskError::AlreadyExists);
                }
                let contract_no = create.contract_no.trim().to_string();
                if contract_no.is_empty() || contract_no.chars().count() > 64 {
                    return Err(InterviewTaskError::InvalidContractNo);
                }
                let product_code = required_text(&create.product_code, "productCode", 32)?;
                let channel_code = required_text(&create.channel_code, "channelCode", 32)?;
                let manager_id = required_text(&create.manager_id, "managerId", 64)?;
                let participants = merge_participants(&create.participants)?;
                let event = InterviewTaskCreated {
                    contract_no,
                    kind: create.kind,
                    required_steps: create.kind.required_steps(),
                    product_code,
                    channel_code,
                    manager_id,
                    participants,
                    created_at: services.clock.now(),
                };
                sink.write(InterviewTaskEvent::InterviewTaskCreated(event), self)
                    .await;
            }
            InterviewTaskCommand::Cancel(cancel) => {
                self.require_existing()?;
                if !matches!(self.status, TaskStatus::Pending | TaskStatus::InProgress) {
                    return Err(InterviewTaskError::InvalidTransition {
                        action: "cancel",
                        from: self.status,
                    });
                }
                let reason = required_text(&cancel.reason, "reason", 500)?;
                let event = InterviewTaskCancelled {
                    reason,
                    cancelled_at: services.clock.now(),
                };
                sink.write(InterviewTaskEvent::InterviewTaskCancelled(event), self)
                    .await;
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            InterviewTaskEvent::InterviewTaskCreated(created) => {
                self.created = true;
                self.contract_no = created.contract_no;
                self.kind = created.kind;
                self.participants = created.participants;
                self.status = TaskStatus::Pending;
            }
            InterviewTaskEvent::InterviewTaskCancelled(_) => {
                self.status = TaskStatus::Cancelled;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};
    use cqrs_es::test::TestFramework;

    use super::*;
    use crate::interview_task::{
        CancelInterviewTask, CreateInterviewTask, IdType, ParticipantInput, ParticipantRole,
    };
    use crate::services::{FixedClock, SequentialIds};

    type TaskTest = TestFramework<InterviewTask>;

    fn now() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
    }

    fn services() -> DomainServices {
        DomainServices::new(
            Arc::new(FixedClock(now())),
            Arc::new(SequentialIds::default()),
        )
    }

    fn borrower() -> ParticipantInput {
        ParticipantInput {
            name: "邓小闲".into(),
            id_type: IdType::IdCard,
            id_number: "11010519491231002X".into(),
            phone: "15618293093".into(),
            roles: vec![ParticipantRole::Borrower],
        }
    }

    fn create(kind: TaskKind) -> InterviewTaskCommand {
        InterviewTaskCommand::Create(CreateInterviewTask {
            contract_no: "HT2026001".into(),
            kind,
            product_code: "YXD".into(),
            channel_code: "YYZX".into(),
            manager_id: "M001".into(),
            participants: vec![borrower()],
        })
    }

    fn created(kind: TaskKind) -> InterviewTaskEvent {
        InterviewTaskEvent::InterviewTaskCreated(InterviewTaskCreated {
            contract_no: "HT2026001".into(),
            kind,
            required_steps: kind.required_steps(),
            product_code: "YXD".into(),
            channel_code: "YYZX".into(),
            manager_id: "M001".into(),
            participants: merge_participants(&[borrower()]).unwrap(),
            created_at: now(),
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

    #[test]
    fn every_status_round_trips_its_name() {
        for status in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(status.as_str()), Some(status));
        }
    }
}
