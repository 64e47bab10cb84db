//! Business keys that must stay unique across aggregate instances (001: one
//! open interview task per loan contract). An aggregate only sees its own
//! events, so it cannot know that another instance holds the key; the events
//! themselves say which key they take or give back, and the event store keeps
//! the claims in the same transaction as the events, refusing a second claim.

use cqrs_es::Aggregate;

/// A family of unique keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservationScope {
    /// Stable name, stored with each claim.
    pub name: &'static str,
    /// What a holder has, for the refusal: "… already has {what}: {holder}".
    pub what: &'static str,
}

/// What one event does to a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// Take `key` for this aggregate instance; refused (CONFLICT) while another holds it.
    Claim {
        /// The scope.
        scope: ReservationScope,
        /// The business key (e.g. the contract no).
        key: String,
    },
    /// Give back whatever this aggregate instance holds in the scope.
    Release {
        /// The scope.
        scope: ReservationScope,
    },
}

/// Implemented by every aggregate; most take no reservations.
pub trait Reservations: Aggregate {
    /// The reservations `event` takes or gives back.
    fn reservations(_event: &Self::Event) -> Vec<Reservation> {
        Vec::new()
    }
}

/// 001 (以借款合同为单位生成面谈任务): a contract has at most one interview
/// task that is not cancelled or superseded.
pub const OPEN_TASK_PER_CONTRACT: ReservationScope = ReservationScope {
    name: "open-interview-task-per-contract",
    what: "an open interview task",
};

impl Reservations for crate::interview_task::InterviewTask {
    fn reservations(event: &Self::Event) -> Vec<Reservation> {
        use crate::interview_task::InterviewTaskEvent as E;
        match event {
            E::InterviewTaskCreated(created) => vec![Reservation::Claim {
                scope: OPEN_TASK_PER_CONTRACT,
                key: created.contract_no.clone(),
            }],
            E::InterviewTaskCancelled(_) | E::InterviewTaskSuperseded { .. } => {
                vec![Reservation::Release {
                    scope: OPEN_TASK_PER_CONTRACT,
                }]
            }
            _ => Vec::new(),
        }
    }
}

/// The reservations a stored event (already upcast) takes or gives back,
/// whatever its aggregate: how `replay --verify` rebuilds the table from the log.
pub fn of_stored(
    aggregate_type: &str,
    payload: &serde_json::Value,
) -> Result<Vec<Reservation>, serde_json::Error> {
    use crate::interview_task::{InterviewTask, AGGREGATE_TYPE as TASK};
    match aggregate_type {
        TASK => Ok(InterviewTask::reservations(&serde_json::from_value(
            payload.clone(),
        )?)),
        _ => Ok(Vec::new()),
    }
}

impl Reservations for crate::channel::Channel {}
impl Reservations for crate::seat::Seat {}
impl Reservations for crate::work_order::WorkOrder {}
impl Reservations for crate::account::Account {}
impl Reservations for crate::inbound_call::InboundCall {}
impl Reservations for crate::inbound_call::DispatchRule {}
impl Reservations for crate::callback::Callback {}
impl Reservations for crate::qc_case::QcCase {}
impl Reservations for crate::media_asset::MediaAsset {}
impl Reservations for crate::seat_group::SeatGroup {}
impl Reservations for crate::change_proposal::ChangeProposal {}
impl Reservations for crate::loan_application::LoanApplication {}
impl Reservations for crate::script_catalog::ScriptCatalog {}
impl Reservations for crate::partner_order::PartnerOrder {}
impl Reservations for crate::customer_agenda::CustomerAgenda {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interview_task::{InterviewTask, InterviewTaskEvent};

    /// 001: a task claims its contract when created and gives it back when
    /// cancelled (已撤销) or superseded by a reverse flow; any other event leaves it.
    #[test]
    fn a_task_holds_its_contract_until_cancelled_or_superseded() {
        let created: InterviewTaskEvent = serde_json::from_value(serde_json::json!({
            "InterviewTaskCreated": {
                "task_id": "t1", "contract_no": "HT-1", "kind": "YONGXU_VIDEO_INTERVIEW",
                "product_code": "YXD", "channel_code": "YYZX", "manager_id": "M1",
                "participants": [], "required_steps": [], "created_at": "2026-11-24T00:00:00Z"
            }
        }))
        .unwrap();
        assert_eq!(
            InterviewTask::reservations(&created),
            vec![Reservation::Claim {
                scope: OPEN_TASK_PER_CONTRACT,
                key: "HT-1".into()
            }]
        );
        let superseded = InterviewTaskEvent::InterviewTaskSuperseded {
            successor_id: "t2".into(),
            transition: "面签→面谈".into(),
            reason: "r".into(),
            releases: vec![],
        };
        assert_eq!(
            InterviewTask::reservations(&superseded),
            vec![Reservation::Release {
                scope: OPEN_TASK_PER_CONTRACT
            }]
        );
        let expired = InterviewTaskEvent::AppointmentExpired {
            booking_id: uuid::Uuid::nil(),
        };
        assert!(InterviewTask::reservations(&expired).is_empty());
    }
}
