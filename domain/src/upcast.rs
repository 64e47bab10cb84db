//! Event versioning: stored payloads are never rewritten; readers lift old
//! versions to the current one here, before decoding. Every consumer (command
//! bus, projections, auditors, the Kafka relay) reads through this.

use serde_json::Value;

/// Lifts `payload` of `event_type` at `version` to the current version, and
/// returns the version it now has.
pub fn upcast(
    aggregate_type: &str,
    event_type: &str,
    version: &str,
    payload: &mut Value,
) -> String {
    let mut version = version.to_string();
    // InterviewTaskCancelled 1.0 → 1.1: the cancellation lists the bookings it
    // frees, so the scheduling process manager can release them. A 1.0
    // cancellation was written before bookings existed: it frees nothing.
    if aggregate_type == crate::interview_task::AGGREGATE_TYPE
        && event_type == "InterviewTaskCancelled"
        && version == "1.0"
    {
        if let Some(body) = payload
            .get_mut("InterviewTaskCancelled")
            .and_then(Value::as_object_mut)
        {
            body.entry("releases")
                .or_insert_with(|| Value::Array(Vec::new()));
        }
        version = "1.1".to_string();
    }
    // Loan events 1.0 → 1.1 (issue 32): the bank sets the terms. A 1.0
    // submission always named an amount and no term or purpose; a 1.0 approval
    // carried no offer; a 1.0 signature carried the customer's own figures and
    // no versioned contract — it replays as signed, with those figures, as it
    // was (history is never rewritten), but names no terms version.
    const LIFTED: [(&str, &[&str]); 5] = [
        ("LoanSubmitted", &["term_months", "purpose"]),
        ("ApprovalRequested", &[]),
        ("LoanApproved", &["offer"]),
        ("LoanResubmitted", &["term_months", "purpose"]),
        ("ContractSigned", &["contract"]),
    ];
    if aggregate_type == crate::loan_application::AGGREGATE_TYPE && version == "1.0" {
        if let Some((_, added)) = LIFTED.iter().find(|(name, _)| *name == event_type) {
            if let Some(body) = payload.get_mut(event_type).and_then(Value::as_object_mut) {
                for field in *added {
                    body.entry(*field).or_insert(Value::Null);
                }
            }
            version = "1.1".to_string();
        }
    }
    version
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::interview_task::InterviewTaskEvent;

    #[test]
    fn an_old_cancellation_reads_as_the_current_version() {
        let mut payload = json!({ "InterviewTaskCancelled": {
            "reason": "客户主动放弃", "cancelled_at": "2026-11-01T02:00:00Z" } });
        let version = upcast(
            "interview-task",
            "InterviewTaskCancelled",
            "1.0",
            &mut payload,
        );
        assert_eq!(version, "1.1");
        let event: InterviewTaskEvent = serde_json::from_value(payload).unwrap();
        let InterviewTaskEvent::InterviewTaskCancelled(cancelled) = event else {
            panic!("wrong variant");
        };
        assert!(cancelled.releases.is_empty());
    }

    /// A 融信秒贷 as loan events 1.0 stored it: submitted with an amount,
    /// approved online without an offer and, when `signed`, signed with the
    /// customer's own figures.
    fn old_miaodai(signed: bool) -> Vec<(&'static str, serde_json::Value)> {
        let mut events = vec![
            (
                "LoanSubmitted",
                json!({ "LoanSubmitted": { "product": "RONGXIN_MIAODAI",
                "contract_no": "HT-OLD", "amount": "12000.00", "task_kind": "YUNDAI_DIRECT",
                "product_code": "RXMD", "channel_code": "ZXYH", "manager_id": "M0001",
                "participants": [] } }),
            ),
            (
                "WhitelistChecked",
                json!({ "WhitelistChecked": { "result": "MIAODAI" } }),
            ),
            (
                "ApprovalRequested",
                json!({ "ApprovalRequested": { "amount": "12000.00",
                "route": "AUTOMATIC", "auto_approval_limit": "300000" } }),
            ),
            (
                "LoanApproved",
                json!({ "LoanApproved": { "route": "AUTOMATIC",
                "credit_limit": "20000.00" } }),
            ),
        ];
        if signed {
            events.push((
                "ContractSigned",
                json!({ "ContractSigned": { "signature_ref": "sig://old",
            "terms": { "annualRate": "0.06", "termMonths": 12,
                "method": "EQUAL_INSTALLMENTS", "penaltyAnnualRate": "0" } } }),
            ));
        }
        events
    }

    /// Issue 32: loans stored before the bank set the terms keep replaying —
    /// submitted with an amount, approved without an offer, signed with the
    /// customer's figures — and still disburse by those figures.
    #[test]
    fn an_old_loan_replays_with_the_terms_it_was_signed_with() {
        use cqrs_es::Aggregate;

        use crate::loan_application::{LoanApplication, LoanEvent, Node};
        let old = old_miaodai(true);
        let mut loan = LoanApplication::default();
        for (event_type, mut payload) in old {
            let version = upcast("loan-application", event_type, "1.0", &mut payload);
            let event: LoanEvent = serde_json::from_value(payload).unwrap();
            let expected = if event_type == "WhitelistChecked" {
                "1.0"
            } else {
                "1.1"
            };
            assert_eq!(version, expected, "{event_type}");
            assert_eq!(cqrs_es::DomainEvent::event_version(&event), version);
            if let LoanEvent::ContractSigned {
                contract, terms, ..
            } = &event
            {
                assert!(contract.is_none());
                assert_eq!(terms.unwrap().annual_rate, rust_decimal::Decimal::new(6, 2));
            }
            loan.apply(event);
        }
        assert_eq!(loan.node(), Some(Node::AwaitingDisbursement));
        assert_eq!(loan.signed_terms().unwrap().term_months, 12);
    }

    /// A loan approved online under 1.0 but not yet signed gets the bank's
    /// offer from the credit system, then goes the new way.
    #[test]
    fn an_old_unsigned_approval_takes_the_banks_offer() {
        use cqrs_es::test::TestFramework;

        use crate::loan_application::{ApprovalRoute, LoanApplication, LoanCommand, LoanEvent};
        let old = old_miaodai(false);
        let given: Vec<LoanEvent> = old
            .into_iter()
            .map(|(event_type, mut payload)| {
                upcast("loan-application", event_type, "1.0", &mut payload);
                serde_json::from_value(payload).unwrap()
            })
            .collect();
        let services = crate::services::DomainServices::fixed_at(chrono::Utc::now());
        let events = TestFramework::<LoanApplication>::with(services)
            .given(given)
            .when(LoanCommand::Approve {
                approver_role: "CREDIT_SYSTEM".into(),
                credit_limit: Some("20000.00".parse().unwrap()),
                annual_rate: Some("0.05".parse().unwrap()),
                allowed_term_months: vec![12],
                method: Default::default(),
            })
            .inspect_result()
            .unwrap();
        assert!(
            matches!(
                &events[..],
                [LoanEvent::LoanApproved {
                    route: ApprovalRoute::Automatic,
                    offer: Some(_),
                    ..
                }]
            ),
            "{events:?}"
        );
    }

    #[test]
    fn current_versions_pass_through() {
        let mut payload = json!({ "x": 1 });
        assert_eq!(upcast("seat", "SeatEnabled", "1.0", &mut payload), "1.0");
        assert_eq!(payload, json!({ "x": 1 }));
    }
}
