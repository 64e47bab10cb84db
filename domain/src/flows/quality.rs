//! Quality control (001 2.4.3): every 存疑 conclusion and every sampled 通过
//! opens a QC case; every QC decision is applied to its task.

use super::{Body, Effect, Facts, Flow, FlowEvent, Need, Order};
use crate::interview_task::{
    InterviewOutcome, InterviewTaskCommand, InterviewTaskEvent, QcVerdict,
};
use crate::qc_case::{case_id, QcCaseCommand, QcCaseEvent, QcOrigin};

/// Opens QC cases and applies their decisions.
#[derive(Debug, Default, Clone, Copy)]
pub struct QualityFlow;

/// Why a concluded interview goes to QC, if it does.
fn origin(event: &FlowEvent) -> Option<QcOrigin> {
    match &event.body {
        Body::Task(InterviewTaskEvent::InterviewConcluded {
            outcome,
            sampled_for_qc,
            ..
        }) => match (outcome, sampled_for_qc) {
            (InterviewOutcome::Doubtful, _) => Some(QcOrigin::Doubtful),
            (InterviewOutcome::Pass, true) => Some(QcOrigin::SampledPass),
            (InterviewOutcome::Pass, false) => None,
        },
        _ => None,
    }
}

impl Flow for QualityFlow {
    fn name(&self) -> &'static str {
        "quality_flow"
    }

    fn needs(&self, event: &FlowEvent) -> Vec<Need> {
        match origin(event) {
            Some(_) => vec![Need::Task(event.aggregate_id.clone())],
            None => Vec::new(),
        }
    }

    fn react(&self, event: &FlowEvent, facts: &Facts) -> Vec<Effect> {
        if let Some(origin) = origin(event) {
            let Some(task) = facts.tasks.get(&event.aggregate_id) else {
                return Vec::new();
            };
            return vec![Effect::send(Order::QcCase(
                case_id(&event.aggregate_id, event.sequence),
                QcCaseCommand::Open {
                    task_id: event.aggregate_id.clone(),
                    contract_no: task.contract_no().to_string(),
                    seat_no: task.seat_no().unwrap_or_default().to_string(),
                    origin,
                },
            ))];
        }
        let Body::QcCase(QcCaseEvent::QcCaseDecided {
            task_id,
            passed,
            reasons,
            other_text,
            comment,
            ..
        }) = &event.body
        else {
            return Vec::new();
        };
        let mut codes: Vec<String> = reasons.iter().map(|r| r.as_str()).collect();
        if let Some(text) = other_text {
            codes.retain(|c| c != "OTHER");
            codes.push(format!("OTHER:{text}"));
        }
        vec![Effect::send(Order::Task(
            task_id.clone(),
            InterviewTaskCommand::ApplyQcDecision {
                case_id: event.aggregate_id.clone(),
                verdict: if *passed {
                    QcVerdict::Pass
                } else {
                    QcVerdict::Reject
                },
                reasons: codes,
                comment: comment.clone(),
            },
        ))]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{event, facts, now};
    use super::*;
    use crate::interview_task::{InterviewTask, TaskKind};
    use crate::qc_case::RejectReason;

    fn concluded(outcome: InterviewOutcome, sampled_for_qc: bool) -> FlowEvent {
        event(
            "t1",
            Body::Task(InterviewTaskEvent::InterviewConcluded {
                outcome,
                concluded_at: now(),
                sampled_for_qc,
            }),
        )
    }

    fn task() -> InterviewTask {
        super::super::testing::rebuilt::<InterviewTask>(vec![
            InterviewTaskEvent::InterviewTaskCreated(crate::interview_task::InterviewTaskCreated {
                task_id: "t1".into(),
                contract_no: "HT-1".into(),
                kind: TaskKind::YongxuVideoInterview,
                required_steps: vec![],
                product_code: "YXD".into(),
                channel_code: "YYZX".into(),
                manager_id: "M1".into(),
                participants: vec![],
                created_at: now(),
                lineage: None,
                property_location: None,
                loan_info: None,
            }),
            InterviewTaskEvent::InterviewStarted {
                seat_no: "S1".into(),
                started_at: now(),
            },
        ])
    }

    /// 001 2.4.3.1: 存疑 and sampled passes go to QC, plain passes do not.
    #[test]
    fn doubtful_and_sampled_conclusions_open_a_case() {
        let mut facts = facts();
        facts.tasks.insert("t1".into(), task());
        let doubtful = concluded(InterviewOutcome::Doubtful, false);
        assert_eq!(QualityFlow.needs(&doubtful), vec![Need::Task("t1".into())]);
        assert_eq!(
            QualityFlow.react(&doubtful, &facts),
            vec![Effect::send(Order::QcCase(
                "qc-t1-3".into(),
                QcCaseCommand::Open {
                    task_id: "t1".into(),
                    contract_no: "HT-1".into(),
                    seat_no: "S1".into(),
                    origin: QcOrigin::Doubtful,
                }
            ))]
        );
        let sampled = concluded(InterviewOutcome::Pass, true);
        assert!(matches!(
            &QualityFlow.react(&sampled, &facts)[0],
            Effect::Send(
                Order::QcCase(
                    _,
                    QcCaseCommand::Open {
                        origin: QcOrigin::SampledPass,
                        ..
                    }
                ),
                _
            )
        ));
        let plain = concluded(InterviewOutcome::Pass, false);
        assert!(QualityFlow.needs(&plain).is_empty());
        assert!(QualityFlow.react(&plain, &facts).is_empty());
    }

    /// 001 2.4.3: the decision goes to the task; OTHER carries its text.
    #[test]
    fn a_decision_is_applied_to_the_task() {
        let decided = event(
            "qc-t1-3",
            Body::QcCase(QcCaseEvent::QcCaseDecided {
                reviewer: "R1".into(),
                task_id: "t1".into(),
                origin: QcOrigin::Doubtful,
                passed: false,
                reasons: vec![RejectReason::ForgedDocuments, RejectReason::Other],
                other_text: Some("房产证存疑".into()),
                comment: "c".into(),
                decided_at: now(),
            }),
        );
        assert_eq!(
            QualityFlow.react(&decided, &facts()),
            vec![Effect::send(Order::Task(
                "t1".into(),
                InterviewTaskCommand::ApplyQcDecision {
                    case_id: "qc-t1-3".into(),
                    verdict: QcVerdict::Reject,
                    reasons: vec!["FORGED_DOCUMENTS".into(), "OTHER:房产证存疑".into()],
                    comment: "c".into(),
                }
            ))]
        );
    }
}
