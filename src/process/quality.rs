//! The quality-control process manager: every 存疑 conclusion and every sampled
//! 通过 opens a QcCase; every QC decision is applied to its task.

use std::sync::Arc;

use adapters::CommandBus;
use domain::interview_task::{
    InterviewOutcome, InterviewTask, InterviewTaskCommand, InterviewTaskEvent, QcVerdict,
};
use domain::log::StoredEvent;
use domain::qc_case::{case_id, QcCase, QcCaseCommand, QcCaseEvent, QcOrigin};

use super::{caused_by, tolerate_refusal, ProcessManager};

/// Opens QC cases and applies their decisions.
pub struct QualityProcess {
    bus: Arc<CommandBus>,
}

impl QualityProcess {
    /// A process manager sending commands through `bus`.
    pub fn new(bus: Arc<CommandBus>) -> Self {
        Self { bus }
    }
}

impl ProcessManager for QualityProcess {
    fn name(&self) -> &'static str {
        "quality_process"
    }

    async fn handle(&self, event: &StoredEvent) -> anyhow::Result<()> {
        match event.aggregate_type.as_str() {
            domain::interview_task::AGGREGATE_TYPE => {
                let decoded: InterviewTaskEvent = serde_json::from_value(event.payload.clone())?;
                let InterviewTaskEvent::InterviewConcluded {
                    outcome,
                    sampled_for_qc,
                    ..
                } = decoded
                else {
                    return Ok(());
                };
                let origin = match (outcome, sampled_for_qc) {
                    (InterviewOutcome::Doubtful, _) => QcOrigin::Doubtful,
                    (InterviewOutcome::Pass, true) => QcOrigin::SampledPass,
                    (InterviewOutcome::Pass, false) => return Ok(()),
                };
                let (task, _) = self.bus.load::<InterviewTask>(&event.aggregate_id).await?;
                let opened = self
                    .bus
                    .execute::<QcCase>(
                        &case_id(&event.aggregate_id, event.sequence),
                        QcCaseCommand::Open {
                            task_id: event.aggregate_id.clone(),
                            contract_no: task.contract_no().to_string(),
                            seat_no: task.seat_no().unwrap_or_default().to_string(),
                            origin,
                        },
                        &caused_by(event, "quality-control"),
                    )
                    .await;
                tolerate_refusal(opened)
            }
            domain::qc_case::AGGREGATE_TYPE => {
                let decoded: QcCaseEvent = serde_json::from_value(event.payload.clone())?;
                let QcCaseEvent::QcCaseDecided {
                    task_id,
                    passed,
                    reasons,
                    other_text,
                    comment,
                    ..
                } = decoded
                else {
                    return Ok(());
                };
                let mut codes: Vec<String> = reasons.iter().map(|r| r.as_str()).collect();
                if let Some(text) = other_text {
                    codes.retain(|c| c != "OTHER");
                    codes.push(format!("OTHER:{text}"));
                }
                let applied = self
                    .bus
                    .execute::<InterviewTask>(
                        &task_id,
                        InterviewTaskCommand::ApplyQcDecision {
                            case_id: event.aggregate_id.clone(),
                            verdict: if passed {
                                QcVerdict::Pass
                            } else {
                                QcVerdict::Reject
                            },
                            reasons: codes,
                            comment,
                        },
                        &caused_by(event, "quality-control"),
                    )
                    .await;
                tolerate_refusal(applied)
            }
            _ => Ok(()),
        }
    }
}
