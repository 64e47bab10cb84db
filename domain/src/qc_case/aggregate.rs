use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::error::QcCaseError;
use super::{QcCaseCommand, QcCaseEvent, QcDecision, QcOrigin, RejectReason};
use crate::services::DomainServices;

/// Where a case stands.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
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

/// The write-side state of one QC case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
mod tests;
