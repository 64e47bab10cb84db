use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ErrorCode};
use crate::interview_task::{merge_participants, Participant, ParticipantInput, TaskKind};
use crate::services::DomainServices;

/// A node of the 永续贷 pipeline (001 2.7.1), in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Node {
    /// 提交申请.
    Submitted,
    /// 初审.
    PreliminaryReview,
    /// 家访.
    HomeVisit,
    /// 面谈.
    Interview,
    /// 面签.
    Signing,
    /// 公证.
    Notarization,
    /// 已出他证.
    CertificateIssued,
    /// 放款.
    Disbursed,
}

impl Node {
    /// The pipeline in order.
    pub const PIPELINE: [Node; 8] = [
        Node::Submitted,
        Node::PreliminaryReview,
        Node::HomeVisit,
        Node::Interview,
        Node::Signing,
        Node::Notarization,
        Node::CertificateIssued,
        Node::Disbursed,
    ];

    /// The node after this one, if any.
    pub fn next(self) -> Option<Node> {
        let i = Node::PIPELINE.iter().position(|n| *n == self)?;
        Node::PIPELINE.get(i + 1).copied()
    }

    /// The name of 001.
    pub fn label_zh(self) -> &'static str {
        match self {
            Node::Submitted => "提交申请",
            Node::PreliminaryReview => "初审",
            Node::HomeVisit => "家访",
            Node::Interview => "面谈",
            Node::Signing => "面签",
            Node::Notarization => "公证",
            Node::CertificateIssued => "已出他证",
            Node::Disbursed => "放款",
        }
    }
}

/// Commands a `LoanApplication` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LoanCommand {
    /// Submit an application (提交申请).
    Submit {
        /// Loan contract number, the key of its interview tasks.
        contract_no: String,
        /// Amount applied for (CNY).
        amount: Decimal,
        /// Interview flow the product uses.
        task_kind: TaskKind,
        /// Product code.
        product_code: String,
        /// Channel code.
        channel_code: String,
        /// Account manager.
        manager_id: String,
        /// Everyone on the contract.
        participants: Vec<ParticipantInput>,
    },
    /// Move to the next node.
    Advance {
        /// The node to move to; must be the next one.
        to: Node,
    },
    /// Move back to an earlier node (a reverse flow, 逆向业务操作).
    RollBack {
        /// The node to move back to. 面谈 itself is allowed from 面谈 (the
        /// interview is redone).
        to: Node,
        /// Why.
        reason: String,
    },
    /// The process manager records the interview task the loan now waits on.
    AttachInterviewTask {
        /// The task.
        task_id: String,
    },
    /// The current interview task reached 已面谈（待提交面签）.
    RecordInterviewPassed {
        /// The task.
        task_id: String,
    },
}

/// Facts recorded about a `LoanApplication`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LoanEvent {
    /// Submitted at 提交申请.
    LoanSubmitted {
        /// Contract.
        contract_no: String,
        /// Amount.
        amount: Decimal,
        /// Interview flow.
        task_kind: TaskKind,
        /// Product code.
        product_code: String,
        /// Channel code.
        channel_code: String,
        /// Account manager.
        manager_id: String,
        /// Participants, de-duplicated.
        participants: Vec<Participant>,
    },
    /// Moved forward.
    LoanAdvanced {
        /// From.
        from: Node,
        /// To.
        to: Node,
    },
    /// Moved back.
    LoanRolledBack {
        /// From.
        from: Node,
        /// To.
        to: Node,
        /// Why.
        reason: String,
        /// The interview task current when it happened (to be superseded when
        /// the roll-back reaches 面谈).
        interview_task: Option<String>,
    },
    /// The loan now waits on this interview task.
    InterviewTaskAttached {
        /// The task.
        task_id: String,
    },
    /// The current task passed.
    InterviewPassed {
        /// The task.
        task_id: String,
    },
}

impl DomainEvent for LoanEvent {
    fn event_type(&self) -> String {
        match self {
            LoanEvent::LoanSubmitted { .. } => "LoanSubmitted",
            LoanEvent::LoanAdvanced { .. } => "LoanAdvanced",
            LoanEvent::LoanRolledBack { .. } => "LoanRolledBack",
            LoanEvent::InterviewTaskAttached { .. } => "InterviewTaskAttached",
            LoanEvent::InterviewPassed { .. } => "InterviewPassed",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a command on a `LoanApplication` was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum LoanError {
    /// No such application.
    #[error("loan application not found")]
    NotFound,
    /// Already submitted.
    #[error("the loan application already exists")]
    AlreadySubmitted,
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
    /// Not a transition of the pipeline.
    #[error("cannot move from {from:?} to {to:?}")]
    InvalidTransition {
        /// Current node.
        from: Node,
        /// Requested node.
        to: Node,
    },
    /// 001 2.7.2 rule 4: 面签 only after 已面谈（待提交面签）.
    #[error("the interview has not passed (已面谈（待提交面签）) yet")]
    InterviewNotPassed,
}

impl DomainError for LoanError {
    fn code(&self) -> ErrorCode {
        match self {
            LoanError::NotFound => ErrorCode::NotFound,
            LoanError::AlreadySubmitted => ErrorCode::Conflict,
            LoanError::Invalid(_) => ErrorCode::Validation,
            LoanError::InvalidTransition { .. } | LoanError::InterviewNotPassed => {
                ErrorCode::InvalidTransition
            }
        }
    }
}

/// The write-side state of one loan application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoanApplication {
    submitted: bool,
    contract_no: String,
    node: Option<Node>,
    task_kind: TaskKind,
    participants: Vec<Participant>,
    product_code: String,
    channel_code: String,
    manager_id: String,
    interview_task: Option<String>,
    interview_passed: bool,
}

impl LoanApplication {
    /// The current node.
    pub fn node(&self) -> Option<Node> {
        self.node
    }

    /// Contract number.
    pub fn contract_no(&self) -> &str {
        &self.contract_no
    }

    /// The interview task the loan waits on.
    pub fn interview_task(&self) -> Option<&str> {
        self.interview_task.as_deref()
    }

    /// Interview flow of the product.
    pub fn task_kind(&self) -> TaskKind {
        self.task_kind
    }

    /// Participants, de-duplicated.
    pub fn participants(&self) -> &[Participant] {
        &self.participants
    }

    /// Product, channel and account manager of the application.
    pub fn product_channel_manager(&self) -> (&str, &str, &str) {
        (&self.product_code, &self.channel_code, &self.manager_id)
    }
}

impl Aggregate for LoanApplication {
    const TYPE: &'static str = super::AGGREGATE_TYPE;
    type Command = LoanCommand;
    type Event = LoanEvent;
    type Error = LoanError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: LoanCommand,
        _: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), LoanError> {
        if !self.submitted && !matches!(command, LoanCommand::Submit { .. }) {
            return Err(LoanError::NotFound);
        }
        let current = self.node.unwrap_or(Node::Submitted);
        let event = match command {
            LoanCommand::Submit {
                contract_no,
                amount,
                task_kind,
                product_code,
                channel_code,
                manager_id,
                participants,
            } => {
                if self.submitted {
                    return Err(LoanError::AlreadySubmitted);
                }
                let contract_no = contract_no.trim().to_string();
                if contract_no.is_empty() || contract_no.chars().count() > 64 {
                    return Err(LoanError::Invalid(
                        "contractNo must be 1 to 64 characters".into(),
                    ));
                }
                if amount <= Decimal::ZERO || amount.round_dp(2) != amount {
                    return Err(LoanError::Invalid("amount must be positive, in fen".into()));
                }
                let participants = merge_participants(&participants)
                    .map_err(|e| LoanError::Invalid(e.to_string()))?;
                LoanEvent::LoanSubmitted {
                    contract_no,
                    amount,
                    task_kind,
                    product_code,
                    channel_code,
                    manager_id,
                    participants,
                }
            }
            LoanCommand::Advance { to } => {
                if current.next() != Some(to) {
                    return Err(LoanError::InvalidTransition { from: current, to });
                }
                if current == Node::Interview && !self.interview_passed {
                    return Err(LoanError::InterviewNotPassed);
                }
                LoanEvent::LoanAdvanced { from: current, to }
            }
            LoanCommand::RollBack { to, reason } => {
                let redo_interview = to == Node::Interview && current == Node::Interview;
                if !(to < current || redo_interview) {
                    return Err(LoanError::InvalidTransition { from: current, to });
                }
                let reason = reason.trim().to_string();
                if reason.is_empty() || reason.chars().count() > 500 {
                    return Err(LoanError::Invalid(
                        "reason must be 1 to 500 characters".into(),
                    ));
                }
                LoanEvent::LoanRolledBack {
                    from: current,
                    to,
                    reason,
                    interview_task: self.interview_task.clone(),
                }
            }
            LoanCommand::AttachInterviewTask { task_id } => {
                if self.interview_task.as_deref() == Some(task_id.as_str()) {
                    return Ok(());
                }
                LoanEvent::InterviewTaskAttached { task_id }
            }
            LoanCommand::RecordInterviewPassed { task_id } => {
                if self.interview_task.as_deref() != Some(task_id.as_str()) || self.interview_passed
                {
                    return Ok(()); // a superseded task's result, or a redelivery
                }
                LoanEvent::InterviewPassed { task_id }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: LoanEvent) {
        match event {
            LoanEvent::LoanSubmitted {
                contract_no,
                task_kind,
                participants,
                product_code,
                channel_code,
                manager_id,
                ..
            } => {
                self.product_code = product_code;
                self.channel_code = channel_code;
                self.manager_id = manager_id;
                self.submitted = true;
                self.contract_no = contract_no;
                self.task_kind = task_kind;
                self.participants = participants;
                self.node = Some(Node::Submitted);
            }
            LoanEvent::LoanAdvanced { to, .. } => self.node = Some(to),
            LoanEvent::LoanRolledBack { to, .. } => {
                self.node = Some(to);
                if to <= Node::Interview {
                    self.interview_passed = false;
                }
            }
            LoanEvent::InterviewTaskAttached { task_id } => {
                self.interview_task = Some(task_id);
                self.interview_passed = false;
            }
            LoanEvent::InterviewPassed { .. } => self.interview_passed = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};
    use cqrs_es::test::TestFramework;

    use super::*;
    use crate::interview_task::{IdType, ParticipantRole};
    use crate::services::{FixedClock, SequentialIds};

    fn services() -> DomainServices {
        DomainServices::new(
            Arc::new(FixedClock(
                Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap(),
            )),
            Arc::new(SequentialIds::default()),
        )
    }

    fn submitted() -> LoanEvent {
        LoanEvent::LoanSubmitted {
            contract_no: "HT1".into(),
            amount: Decimal::new(50_000_000, 2),
            task_kind: TaskKind::YongxuVideoInterview,
            product_code: "YXD".into(),
            channel_code: "YYZX".into(),
            manager_id: "M1".into(),
            participants: merge_participants(&[ParticipantInput {
                name: "邓小闲".into(),
                id_type: IdType::IdCard,
                id_number: "11010519491231002X".into(),
                phone: "15618293093".into(),
                roles: vec![ParticipantRole::Borrower],
            }])
            .unwrap(),
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
}
