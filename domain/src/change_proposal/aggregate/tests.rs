use chrono::{Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 5, 2, 0, 0).unwrap()
}

fn framework() -> TestFramework<ChangeProposal> {
    TestFramework::<ChangeProposal>::with(DomainServices::fixed_at(now()))
}

fn proposed(by: &str, expires_in: Duration) -> ProposedChange {
    ProposedChange {
        operation: "Mutation.createChannel".into(),
        document: r#"mutation { createChannel(code: "C1", input: { name: "网点" }) { code } }"#
            .into(),
        variables: serde_json::json!({}),
        proposed_by: by.into(),
        expires_at: now() + expires_in,
    }
}

/// Issue 34 item 5: a change is proposed by one admin and approved by another.
#[test]
fn a_second_admin_approves_a_proposed_change() {
    framework()
        .given(vec![ChangeProposalEvent::ChangeProposed(proposed(
            "A1",
            Duration::hours(1),
        ))])
        .when(ChangeCommand::Approve {
            approved_by: "A2".into(),
        })
        .then_expect_events(vec![ChangeProposalEvent::ChangeApproved {
            approved_by: "A2".into(),
        }]);
}

#[test]
fn the_proposer_cannot_approve_their_own_change() {
    framework()
        .given(vec![ChangeProposalEvent::ChangeProposed(proposed(
            "A1",
            Duration::hours(1),
        ))])
        .when(ChangeCommand::Approve {
            approved_by: "A1".into(),
        })
        .then_expect_error(ChangeProposalError::OwnApproval);
}

#[test]
fn an_expired_proposal_is_not_approved_and_a_withdrawn_one_neither() {
    framework()
        .given(vec![ChangeProposalEvent::ChangeProposed(ProposedChange {
            expires_at: now() - Duration::seconds(1),
            ..proposed("A1", Duration::zero())
        })])
        .when(ChangeCommand::Approve {
            approved_by: "A2".into(),
        })
        .then_expect_error(ChangeProposalError::Expired);
    framework()
        .given(vec![
            ChangeProposalEvent::ChangeProposed(proposed("A1", Duration::hours(1))),
            ChangeProposalEvent::ChangeWithdrawn {
                withdrawn_by: "A1".into(),
            },
        ])
        .when(ChangeCommand::Approve {
            approved_by: "A2".into(),
        })
        .then_expect_error(ChangeProposalError::NotPending {
            status: ChangeStatus::Withdrawn,
        });
}

#[test]
fn only_the_proposer_withdraws_and_only_an_approved_change_has_an_outcome() {
    framework()
        .given(vec![ChangeProposalEvent::ChangeProposed(proposed(
            "A1",
            Duration::hours(1),
        ))])
        .when(ChangeCommand::Withdraw {
            withdrawn_by: "A2".into(),
        })
        .then_expect_error(ChangeProposalError::NotProposer);
    framework()
        .given(vec![ChangeProposalEvent::ChangeProposed(proposed(
            "A1",
            Duration::hours(1),
        ))])
        .when(ChangeCommand::RecordOutcome {
            applied: true,
            detail: String::new(),
        })
        .then_expect_error(ChangeProposalError::NotPending {
            status: ChangeStatus::Proposed,
        });
    framework()
        .given(vec![
            ChangeProposalEvent::ChangeProposed(proposed("A1", Duration::hours(1))),
            ChangeProposalEvent::ChangeApproved {
                approved_by: "A2".into(),
            },
        ])
        .when(ChangeCommand::RecordOutcome {
            applied: false,
            detail: "CONFLICT: a channel with this code exists".into(),
        })
        .then_expect_events(vec![ChangeProposalEvent::ChangeFailed {
            detail: "CONFLICT: a channel with this code exists".into(),
        }]);
}

#[test]
fn a_proposal_that_would_lapse_at_once_is_refused() {
    framework()
        .given_no_previous_events()
        .when(ChangeCommand::Propose(proposed("A1", Duration::zero())))
        .then_expect_error(ChangeProposalError::Expired);
}

#[test]
fn a_proposal_left_unapproved_past_its_expiry_shows_as_expired() {
    let mut proposal = ChangeProposal::default();
    proposal.apply(ChangeProposalEvent::ChangeProposed(proposed(
        "A1",
        Duration::hours(1),
    )));
    assert_eq!(proposal.status_at(now()), ChangeStatus::Proposed);
    assert_eq!(
        proposal.status_at(now() + Duration::hours(1)),
        ChangeStatus::Expired
    );
    proposal.apply(ChangeProposalEvent::ChangeWithdrawn {
        withdrawn_by: "A1".into(),
    });
    assert_eq!(
        proposal.status_at(now() + Duration::hours(2)),
        ChangeStatus::Withdrawn
    );
}
