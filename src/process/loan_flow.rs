//! The loan-flow process manager: opens the interview task when a loan reaches
//! 面谈; on a roll-back to or past 面谈 supersedes the current task and opens its
//! successor with the same participants, linked both ways (001: 逆向业务操作…
//! 均生成新的面谈任务, 既往数据落库存档备调); tells the loan when its task passed;
//! rolls the loan back when QC rejects a sampled pass.

use std::sync::Arc;

use adapters::{CommandBus, CommandContext};
use domain::interview_task::{
    CreateInterviewTask, InterviewOutcome, InterviewTask, InterviewTaskCommand, InterviewTaskEvent,
    ParticipantInput, TaskLineage,
};
use domain::loan_application::{LoanApplication, LoanCommand, LoanEvent, Node};
use domain::log::StoredEvent;
use domain::services::derived_id;

use super::{caused_by, tolerate_refusal, ProcessManager};

/// Drives interview tasks from loan transitions and back.
pub struct LoanFlowProcess {
    bus: Arc<CommandBus>,
}

impl LoanFlowProcess {
    /// A process manager sending commands through `bus`.
    pub fn new(bus: Arc<CommandBus>) -> Self {
        Self { bus }
    }

    async fn open_task(
        &self,
        loan_id: &str,
        task_id: String,
        lineage: TaskLineage,
        context: &CommandContext,
    ) -> anyhow::Result<()> {
        let (loan, _) = self.bus.load::<LoanApplication>(loan_id).await?;
        let (product, channel, manager) = loan.product_channel_manager();
        let participants = loan
            .participants()
            .iter()
            .map(|p| ParticipantInput {
                name: p.name.clone(),
                id_type: p.id_type,
                id_number: p.id_number.clone(),
                phone: p.phone.clone(),
                roles: p.roles.iter().copied().collect(),
            })
            .collect();
        let created = self
            .bus
            .execute::<InterviewTask>(
                &task_id,
                InterviewTaskCommand::Create(CreateInterviewTask {
                    task_id: task_id.clone(),
                    contract_no: loan.contract_no().to_string(),
                    kind: loan.task_kind(),
                    product_code: product.to_string(),
                    channel_code: channel.to_string(),
                    manager_id: manager.to_string(),
                    participants,
                    lineage: Some(lineage),
                }),
                context,
            )
            .await;
        tolerate_refusal(created)?;
        let attached = self
            .bus
            .execute::<LoanApplication>(
                loan_id,
                LoanCommand::AttachInterviewTask { task_id },
                context,
            )
            .await;
        tolerate_refusal(attached)
    }

    async fn on_loan(&self, event: &StoredEvent) -> anyhow::Result<()> {
        let decoded: LoanEvent = serde_json::from_value(event.payload.clone())?;
        let context = caused_by(event, "loan-flow");
        let loan_id = &event.aggregate_id;
        let task_id = derived_id(&format!("{loan_id}:{}", event.sequence)).to_string();
        let actor = (
            event.metadata.actor_id.clone(),
            event.metadata.actor_role.clone(),
        );
        match decoded {
            LoanEvent::LoanAdvanced {
                from,
                to: Node::Interview,
            } => {
                let (loan, _) = self.bus.load::<LoanApplication>(loan_id).await?;
                if loan.interview_task().is_some() {
                    return Ok(()); // back at 面谈 after a roll-back: its task exists
                }
                let lineage = TaskLineage {
                    loan_id: loan_id.clone(),
                    supersedes: None,
                    transition: format!("{}→{}", from.label_zh(), Node::Interview.label_zh()),
                    reason: None,
                    actor_id: actor.0,
                    actor_role: actor.1,
                };
                self.open_task(loan_id, task_id, lineage, &context).await
            }
            LoanEvent::LoanRolledBack {
                from,
                to,
                reason,
                interview_task,
            } if to <= Node::Interview && from >= Node::Interview => {
                let transition = format!("{}→{}", from.label_zh(), to.label_zh());
                if let Some(old) = &interview_task {
                    let superseded = self
                        .bus
                        .execute::<InterviewTask>(
                            old,
                            InterviewTaskCommand::Supersede {
                                successor_id: task_id.clone(),
                                transition: transition.clone(),
                                reason: reason.clone(),
                            },
                            &context,
                        )
                        .await;
                    tolerate_refusal(superseded)?;
                }
                let lineage = TaskLineage {
                    loan_id: loan_id.clone(),
                    supersedes: interview_task,
                    transition,
                    reason: Some(reason),
                    actor_id: actor.0,
                    actor_role: actor.1,
                };
                self.open_task(loan_id, task_id, lineage, &context).await
            }
            _ => Ok(()),
        }
    }

    async fn on_task(&self, event: &StoredEvent) -> anyhow::Result<()> {
        let decoded: InterviewTaskEvent = serde_json::from_value(event.payload.clone())?;
        let passed = matches!(
            decoded,
            InterviewTaskEvent::InterviewConcluded {
                outcome: InterviewOutcome::Pass,
                ..
            } | InterviewTaskEvent::QcPassed { .. }
        );
        let rollback = match &decoded {
            InterviewTaskEvent::QcRejected {
                rollback_loan: true,
                reasons,
                ..
            } => Some(format!("质检拒件（抽样通过）: {}", reasons.join(", "))),
            _ => None,
        };
        if !passed && rollback.is_none() {
            return Ok(());
        }
        let (task, _) = self.bus.load::<InterviewTask>(&event.aggregate_id).await?;
        let Some(loan_id) = task.loan_id() else {
            return Ok(()); // a task no loan flow opened
        };
        let command = match rollback {
            Some(reason) => LoanCommand::RollBack {
                to: Node::Interview,
                reason,
            },
            None => LoanCommand::RecordInterviewPassed {
                task_id: event.aggregate_id.clone(),
            },
        };
        let sent = self
            .bus
            .execute::<LoanApplication>(loan_id, command, &caused_by(event, "loan-flow"))
            .await;
        tolerate_refusal(sent)
    }
}

impl ProcessManager for LoanFlowProcess {
    fn name(&self) -> &'static str {
        "loan_flow_process"
    }

    async fn handle(&self, event: &StoredEvent) -> anyhow::Result<()> {
        match event.aggregate_type.as_str() {
            domain::loan_application::AGGREGATE_TYPE => self.on_loan(event).await,
            domain::interview_task::AGGREGATE_TYPE => self.on_task(event).await,
            _ => Ok(()),
        }
    }
}
