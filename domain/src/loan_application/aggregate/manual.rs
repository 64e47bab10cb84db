//! 人工落地 (003: 建立联动超时或其他异常情况的服务机制，进行人工落地处理): a
//! disbursement or repayment the core has not answered in time becomes a case
//! for a person, who records the core's answer with its reference; the loan
//! goes on from there as if the core had answered. A late answer from the
//! core that agrees changes nothing; one that contradicts is refused for a
//! person to reconcile.

use super::{text, LoanApplication};
use crate::loan_application::commands::{CoreRequestKind, DisbursementOutcome, LoanCommand};
use crate::loan_application::error::LoanError;
use crate::loan_application::events::LoanEvent;
use crate::message::message;
use crate::services::DomainServices;

/// The outcome an answer records, and the request it names.
fn answer_of(answer: &LoanCommand) -> Option<(CoreRequestKind, Option<&str>, &'static str)> {
    match answer {
        LoanCommand::RecordDisbursementResult {
            request_id,
            outcome,
            ..
        } => Some((
            CoreRequestKind::Disbursement,
            Some(request_id.as_str()),
            match outcome {
                DisbursementOutcome::Paid { .. } => "PAID",
                DisbursementOutcome::Failed { .. } => "FAILED",
            },
        )),
        LoanCommand::RecordRepayment { repayment_no, .. } => Some((
            CoreRequestKind::Repayment,
            repayment_no.as_deref(),
            "RECEIVED",
        )),
        LoanCommand::RecordAutoDebitFailure { repayment_no, .. } => Some((
            CoreRequestKind::Repayment,
            repayment_no.as_deref(),
            "DEBIT_FAILED",
        )),
        _ => None,
    }
}

impl LoanApplication {
    /// Whether `request_id` still waits on the core.
    fn waits_on_core(&self, kind: CoreRequestKind, request_id: &str) -> bool {
        match kind {
            CoreRequestKind::Disbursement => {
                self.disbursement_request.as_deref() == Some(request_id)
            }
            CoreRequestKind::Repayment => self.open_repayments.contains(request_id),
        }
    }

    /// Opens the case, once, while the request still waits.
    pub(super) fn escalate(
        &self,
        kind: CoreRequestKind,
        request_id: String,
        requested_at: chrono::DateTime<chrono::Utc>,
        waited_secs: i64,
    ) -> Vec<LoanEvent> {
        if self.manual_cases.contains_key(&request_id) || !self.waits_on_core(kind, &request_id) {
            return Vec::new(); // already a case, or answered meanwhile
        }
        vec![LoanEvent::ManualCaseOpened {
            kind,
            request_id,
            requested_at,
            waited_secs,
        }]
    }

    /// Records the operator's resolution, then the answer's own events.
    pub(super) fn resolve(
        &self,
        request_id: String,
        core_reference: String,
        note: String,
        answer: LoanCommand,
        services: &DomainServices,
    ) -> Result<Vec<LoanEvent>, LoanError> {
        let Some(kind) = self.manual_cases.get(&request_id).copied() else {
            return Err(LoanError::NotOpen {
                kind: "manual case",
                id: request_id,
            });
        };
        let Some((answered, names, outcome)) = answer_of(&answer) else {
            return Err(LoanError::Invalid(message!(
                "a manual case is resolved with the core's answer"
            )));
        };
        if answered != kind || names != Some(request_id.as_str()) {
            return Err(LoanError::Invalid(message!(
                "the answer must be the core's answer to {request_id}"
            )));
        }
        let mut events = vec![LoanEvent::ManualCaseResolved {
            request_id,
            core_reference: text(&core_reference, "coreReference")?,
            note: text(&note, "note")?,
            outcome: outcome.to_string(),
        }];
        match self.servicing(answer, services)? {
            Ok(answered) => events.extend(answered),
            Err(_) => unreachable!("an answer is a servicing command"),
        }
        Ok(events)
    }

    /// A core answer to a request an operator already resolved: the same
    /// outcome changes nothing, another is refused. `None` when not resolved.
    pub(super) fn answered_by_hand(
        &self,
        answer: &LoanCommand,
    ) -> Option<Result<Vec<LoanEvent>, LoanError>> {
        let (_, Some(request_id), outcome) = answer_of(answer)? else {
            return None;
        };
        let recorded = self.manual_outcomes.get(request_id)?;
        Some(if recorded == outcome {
            Ok(Vec::new())
        } else {
            Err(LoanError::ManualResolutionContradicted {
                request_id: request_id.to_string(),
                recorded: recorded.clone(),
            })
        })
    }
}
