use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{QcCaseCommand, QcCaseEvent, QcDecision, QcOrigin, RejectReason};
use crate::error::{DomainError, ErrorCode};
use crate::services::DomainServices;

/// Where a case stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QcStatus {
    /// In the queue, nobody has it.
    #[default]
    Open,
    /// A reviewer has it.
    Claimed,
    /// Decided; final.
    Decided,
}

/// Why a command on a `QcCase` was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum QcCaseError {
    /// No such case.
    #[error("quality-control case not found")]
    NotFound,
    /// Another reviewer holds it.
    #[error("the case is claimed by {reviewer}")]
    ClaimedByAnother {
        /// Who holds it.
        reviewer: String,
    },
    /// Only the reviewer holding the case may release or decide it.
    #[error("claim the case before deciding or releasing it")]
    NotClaimedByYou,
    /// The case is decided; decisions are final (a correction is a new case).
    #[error("the case is already decided")]
    AlreadyDecided,
    /// A reject names no reason.
    #[error("a reject needs at least one reason")]
    NoReason,
    /// OTHER without its text.
    #[error("reason OTHER needs its text")]
    OtherWithoutText,
    /// A reject without a comment, or a text too long.
    #[error("{field} {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

impl DomainError for QcCaseError {
    fn code(&self) -> ErrorCode {
        match self {
            QcCaseError::NotFound => ErrorCode::NotFound,
            QcCaseError::ClaimedByAnother { .. } => ErrorCode::Conflict,
            QcCaseError::NotClaimedByYou | QcCaseError::AlreadyDecided => {
                ErrorCode::InvalidTransition
            }
            QcCaseError::NoReason
            | QcCaseError::OtherWithoutText
            | QcCaseError::InvalidField { .. } => ErrorCode::Validation,
        }
    }
}

/// The write-side state of one QC case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QcCase {
    opened: bool,
    task_id: String,
    origin: Option<QcOrigin>,
    status: QcStatus,
    reviewer: Option<String>,
}

impl QcCase {
    /// Where the case stands.
    pub fn status(&self) -> QcStatus {
        self.status
    }
}

fn bounded(value: &str, field: &'static str, max: usize) -> Result<String, QcCaseError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(QcCaseError::InvalidField {
            field,
            reason: "is too long",
        });
    }
    Ok(value.to_string())
}

impl Aggregate for QcCase {
    const TYPE: &'static str = super::AGGREGATE_TYPE;
    type Command = QcCaseCommand;
    type Event = QcCaseEvent;
    type Error = QcCaseError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: QcCaseCommand,
        services: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), QcCaseError> {
        if !self.opened && !matches!(command, QcCaseCommand::Open { .. }) {
            return Err(QcCaseError::NotFound);
        }
        if self.status == QcStatus::Decided && !matches!(command, QcCaseCommand::Open { .. }) {
            return Err(QcCaseError::AlreadyDecided);
        }
        let event = match command {
            QcCaseCommand::Open {
                task_id,
                contract_no,
                seat_no,
                origin,
            } => {
                if self.opened {
                    return Ok(()); // a redelivered conclusion
                }
                QcCaseEvent::QcCaseOpened {
                    task_id,
                    contract_no,
                    seat_no,
                    origin,
                    opened_at: services.clock.now(),
                }
            }
            QcCaseCommand::Claim { reviewer } => match &self.reviewer {
                Some(holder) if *holder == reviewer => return Ok(()),
                Some(holder) => {
                    return Err(QcCaseError::ClaimedByAnother {
                        reviewer: holder.clone(),
                    })
                }
                None => QcCaseEvent::QcCaseClaimed { reviewer },
            },
            QcCaseCommand::Release { reviewer } => {
                if self.reviewer.as_deref() != Some(reviewer.as_str()) {
                    return Err(QcCaseError::NotClaimedByYou);
                }
                QcCaseEvent::QcCaseReleased { reviewer }
            }
            QcCaseCommand::Decide {
                reviewer,
                decision,
                comment,
            } => {
                if self.reviewer.as_deref() != Some(reviewer.as_str()) {
                    return Err(QcCaseError::NotClaimedByYou);
                }
                let comment = bounded(&comment, "comment", 2000)?;
                let (passed, reasons, other_text) = match decision {
                    QcDecision::Pass => (true, Vec::new(), None),
                    QcDecision::Reject {
                        mut reasons,
                        other_text,
                    } => {
                        reasons.sort();
                        reasons.dedup();
                        if reasons.is_empty() {
                            return Err(QcCaseError::NoReason);
                        }
                        let other_text = other_text
                            .map(|t| bounded(&t, "otherText", 500))
                            .transpose()?
                            .filter(|t| !t.is_empty());
                        if reasons.contains(&RejectReason::Other) && other_text.is_none() {
                            return Err(QcCaseError::OtherWithoutText);
                        }
                        if comment.is_empty() {
                            return Err(QcCaseError::InvalidField {
                                field: "comment",
                                reason: "is required for a reject",
                            });
                        }
                        (false, reasons, other_text)
                    }
                };
                QcCaseEvent::QcCaseDecided {
                    reviewer,
                    task_id: self.task_id.clone(),
                    origin: self.origin.unwrap_or(QcOrigin::Doubtful),
                    passed,
                    reasons,
                    other_text,
                    comment,
                    decided_at: services.clock.now(),
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: QcCaseEvent) {
        match event {
            QcCaseEvent::QcCaseOpened {
                task_id, origin, ..
            } => {
                self.opened = true;
                self.task_id = task_id;
                self.origin = Some(origin);
                self.status = QcStatus::Open;
            }
            QcCaseEvent::QcCaseClaimed { reviewer } => {
                self.reviewer = Some(reviewer);
                self.status = QcStatus::Claimed;
            }
            QcCaseEvent::QcCaseReleased { .. } => {
                self.reviewer = None;
                self.status = QcStatus::Open;
            }
            QcCaseEvent::QcCaseDecided { .. } => self.status = QcStatus::Decided,
        }
    }
}

#[cfg(test)]
mod tests {
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
}
