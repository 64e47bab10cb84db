//! Partner orders (002): their outcomes become callbacks to the partner
//! (审批拒绝 6004, 放款失败-拒件处理 7003), each callback's next attempt a durable
//! job, and a deferred borrow the 1-hour 新网 account check. A disbursed order
//! opens its loan (the ledger), whose events call the partner back: 放款成功
//! with the plan (item 19), 逾期 (item 20) and 还款结果 (item 23).

use std::collections::HashMap;

use chrono::Duration;
use serde_json::json;

use super::{Body, Effect, Facts, Flow, FlowEvent, Need, Order, Timer, TimerKind};
use crate::callback::{CallbackCommand, CallbackEvent, CallbackRequest};
use crate::interview_task::{IdType, ParticipantInput, ParticipantRole};
use crate::loan_application::{LoanCommand, LoanEvent, OpenPartnerLoan, Product};
use crate::partner_order::{PartnerOrder, PartnerOrderEvent};
use crate::services::derived_id;

/// Reacts to partner orders and callbacks.
#[derive(Debug, Clone)]
pub struct PartnerFlow {
    /// Each partner's callback address by upper-case code (their secrets stay
    /// in the adapter that signs).
    pub callback_urls: HashMap<String, String>,
    /// Attempts of a callback before it becomes an incident.
    pub max_attempts: u32,
    /// When a deferred borrow's account is checked (002 item 13: an hour).
    pub account_check_after: Duration,
}

/// The callback an order event calls for: (kind, result).
fn callback_of(event: &PartnerOrderEvent) -> Option<(&'static str, serde_json::Value)> {
    match event {
        PartnerOrderEvent::CreditRefused { reason, .. } => Some((
            "CREDIT_REFUSED",
            json!({ "code": "6004", "reason": reason.clone().unwrap_or_else(|| "资质不符".into()) }),
        )),
        PartnerOrderEvent::BorrowAuditRejected => Some(("LOAN_REFUSED", json!({ "code": "7003" }))),
        _ => None,
    }
}

/// The callback a partner loan's event calls for: (kind, result).
fn loan_callback_of(event: &LoanEvent) -> Option<(&'static str, serde_json::Value)> {
    match event {
        // 002 item 19: 还款计划生成后…生成榕树放款成功的回调.
        LoanEvent::LoanDisbursed {
            disbursement: Some(d),
            ..
        } => Some((
            "LOAN_SUCCESS",
            json!({ "code": "SUCCESS", "valueDate": d.value_date, "plan": d.plan }),
        )),
        // 002 item 20: 逾期.
        LoanEvent::InstallmentOverdue {
            period,
            due_date,
            unpaid,
        } => Some((
            "OVERDUE",
            json!({ "period": period, "dueDate": due_date, "unpaid": unpaid }),
        )),
        // 002 item 23: 还款结果.
        LoanEvent::RepaymentReceived {
            repayment_no,
            received_on,
            amount,
            channel,
            parts,
            ..
        } => Some((
            "REPAYMENT_RESULT",
            json!({ "status": "SUCCESS", "repayNo": repayment_no, "day": received_on,
                    "amount": amount, "channel": channel, "parts": parts }),
        )),
        LoanEvent::AutoDebitFailed {
            repayment_no,
            attempted_on,
            amount,
            reason,
            ..
        } => Some((
            "REPAYMENT_RESULT",
            json!({ "status": "FAILED", "repayNo": repayment_no, "day": attempted_on,
                    "amount": amount, "reason": reason }),
        )),
        _ => None,
    }
}

/// The loan a disbursed order opens: its borrow at the approved rate, paid out
/// on the day the order was disbursed (Asia/Shanghai).
fn partner_loan(event: &FlowEvent, order: &PartnerOrder) -> Option<OpenPartnerLoan> {
    let details = order.details()?;
    let (borrow, _) = order.borrow()?;
    Some(OpenPartnerLoan {
        partner: details.partner.clone(),
        order_no: details.order_no.clone(),
        amount: borrow.amount,
        annual_rate: order.annual_rate()?,
        term_months: borrow.term_months,
        value_date: crate::schedule::shanghai_date(event.recorded_at),
        borrower: ParticipantInput {
            name: details.customer_name.clone(),
            id_type: IdType::IdCard,
            id_number: details.id_number.clone(),
            phone: details.phone.clone(),
            roles: vec![ParticipantRole::Borrower],
            marital_status: None,
            relation_to_borrower: None,
        },
        disbursed_by: event.event_id.to_string(),
    })
}

fn attempt(event: &FlowEvent, attempt: u32, due: chrono::DateTime<chrono::Utc>) -> Effect {
    Effect::Timer(Timer {
        kind: TimerKind::CallbackAttempt,
        subject_id: event.aggregate_id.clone(),
        key: format!("{}:{attempt}", event.event_id),
        due,
    })
}

impl PartnerFlow {
    /// One callback of `kind` to `partner` about `order_no`, caused by `event`.
    fn call_back(
        &self,
        event: &FlowEvent,
        partner: &str,
        order_no: &str,
        kind: &str,
        result: serde_json::Value,
    ) -> Vec<Effect> {
        let Some(url) = self.callback_urls.get(&partner.trim().to_uppercase()) else {
            return vec![Effect::Warn(format!(
                "no callback address configured for partner {partner}; callback {kind} not sent"
            ))];
        };
        let body = json!({
            "partner": partner,
            "orderNo": order_no,
            "kind": kind,
            "result": result,
            "eventId": event.event_id,
        });
        // One callback per causing event, whatever the redeliveries.
        let id = derived_id(&format!("callback:{}", event.event_id)).to_string();
        vec![Effect::send(Order::Callback(
            id,
            CallbackCommand::Schedule {
                request: CallbackRequest {
                    target: partner.to_string(),
                    kind: kind.to_string(),
                    subject: event.aggregate_id.clone(),
                    url: url.clone(),
                    body: body.to_string(),
                },
                max_attempts: self.max_attempts,
            },
        ))]
    }
}

impl Flow for PartnerFlow {
    fn name(&self) -> &'static str {
        "partner_flow"
    }

    fn needs(&self, event: &FlowEvent) -> Vec<Need> {
        match &event.body {
            Body::PartnerOrder(order_event)
                if callback_of(order_event).is_some()
                    || matches!(order_event, PartnerOrderEvent::BorrowDisbursed) =>
            {
                vec![Need::PartnerOrder(event.aggregate_id.clone())]
            }
            Body::Loan(loan_event) if loan_callback_of(loan_event).is_some() => {
                vec![Need::Loan(event.aggregate_id.clone())]
            }
            Body::Callback(
                CallbackEvent::CallbackScheduled { .. } | CallbackEvent::CallbackRetried,
            ) => {
                vec![Need::Callback(event.aggregate_id.clone())]
            }
            _ => Vec::new(),
        }
    }

    fn react(&self, event: &FlowEvent, facts: &Facts) -> Vec<Effect> {
        match &event.body {
            Body::PartnerOrder(PartnerOrderEvent::BorrowDeferred(_)) => {
                vec![Effect::Timer(Timer {
                    kind: TimerKind::AccountOpenCheck,
                    subject_id: event.aggregate_id.clone(),
                    key: event.event_id.to_string(),
                    due: event.recorded_at + self.account_check_after,
                })]
            }
            Body::PartnerOrder(PartnerOrderEvent::BorrowDisbursed) => {
                let order = facts.partner_orders.get(&event.aggregate_id);
                match order.and_then(|order| partner_loan(event, order)) {
                    Some(open) => vec![Effect::send(Order::Loan(
                        event.aggregate_id.clone(),
                        LoanCommand::OpenPartnerLoan(open),
                    ))],
                    None => vec![Effect::Warn(format!(
                        "partner order {} was disbursed without a borrow and an approved rate; no loan opened",
                        event.aggregate_id
                    ))],
                }
            }
            Body::PartnerOrder(order_event) => {
                let Some((kind, result)) = callback_of(order_event) else {
                    return Vec::new();
                };
                let Some(details) = facts
                    .partner_orders
                    .get(&event.aggregate_id)
                    .and_then(|order| order.details())
                else {
                    return Vec::new();
                };
                self.call_back(event, &details.partner, &details.order_no, kind, result)
            }
            Body::Loan(loan_event) => {
                let Some((kind, result)) = loan_callback_of(loan_event) else {
                    return Vec::new();
                };
                match facts.loans.get(&event.aggregate_id) {
                    Some(loan) if loan.product() == Product::Partner => {
                        let (_, partner, _) = loan.product_channel_manager();
                        self.call_back(event, partner, loan.contract_no(), kind, result)
                    }
                    _ => Vec::new(),
                }
            }
            Body::Callback(
                CallbackEvent::CallbackScheduled { .. } | CallbackEvent::CallbackRetried,
            ) => {
                let attempts = facts
                    .callbacks
                    .get(&event.aggregate_id)
                    .map_or(0, |callback| callback.attempts());
                vec![attempt(event, attempts + 1, event.recorded_at)]
            }
            Body::Callback(CallbackEvent::CallbackAttemptFailed {
                attempt: n,
                next_at,
                ..
            }) => {
                vec![attempt(event, n + 1, *next_at)]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{event, facts};
    use super::*;

    fn flow(with_url: bool) -> PartnerFlow {
        PartnerFlow {
            callback_urls: if with_url {
                [("RONGSHU".to_string(), "http://partner/cb".to_string())].into()
            } else {
                HashMap::new()
            },
            max_attempts: 3,
            account_check_after: Duration::hours(1),
        }
    }

    /// 002 item 13: a deferred borrow is checked an hour later.
    #[test]
    fn a_deferred_borrow_sets_the_account_check() {
        let deferred = PartnerOrderEvent::BorrowDeferred(crate::partner_order::BorrowRequest {
            amount: rust_decimal::Decimal::new(10_000, 0),
            term_months: 12,
        });
        let e = event("o1", Body::PartnerOrder(deferred));
        assert_eq!(
            flow(true).react(&e, &facts()),
            vec![Effect::Timer(Timer {
                kind: TimerKind::AccountOpenCheck,
                subject_id: "o1".into(),
                key: e.event_id.to_string(),
                due: e.recorded_at + Duration::hours(1),
            })]
        );
    }

    fn pushed() -> Facts {
        let mut facts = facts();
        let order = super::super::testing::rebuilt::<crate::partner_order::PartnerOrder>(vec![
            PartnerOrderEvent::OrderPushed(crate::partner_order::OrderDetails {
                partner: "RONGSHU".into(),
                order_no: "R-1".into(),
                partner_uid: "u1".into(),
                customer_name: "王建国".into(),
                id_number: "110105196902031238".into(),
                phone: "13600001111".into(),
            }),
        ]);
        facts.partner_orders.insert("o1".into(), order);
        facts
    }

    /// 002: 人工复审拒绝 → callback 7003 to the partner's address, once per event.
    #[test]
    fn a_refused_borrow_schedules_its_callback() {
        let refused = event(
            "o1",
            Body::PartnerOrder(PartnerOrderEvent::BorrowAuditRejected),
        );
        assert_eq!(
            flow(true).needs(&refused),
            vec![Need::PartnerOrder("o1".into())]
        );
        let effects = flow(true).react(&refused, &pushed());
        let Effect::Send(
            Order::Callback(
                id,
                CallbackCommand::Schedule {
                    request,
                    max_attempts,
                },
            ),
            _,
        ) = &effects[0]
        else {
            panic!("{effects:?}");
        };
        assert_eq!(
            id,
            &derived_id(&format!("callback:{}", refused.event_id)).to_string()
        );
        assert_eq!(
            (request.kind.as_str(), request.url.as_str(), *max_attempts),
            ("LOAN_REFUSED", "http://partner/cb", 3)
        );
        assert!(request.body.contains("\"7003\""));
    }

    /// Without a callback address nothing is scheduled, and the operator is told.
    #[test]
    fn an_unconfigured_partner_gets_a_warning_not_a_callback() {
        let refused = event(
            "o1",
            Body::PartnerOrder(PartnerOrderEvent::BorrowAuditRejected),
        );
        let effects = flow(false).react(&refused, &pushed());
        assert!(
            matches!(&effects[..], [Effect::Warn(w)] if w.contains("RONGSHU")),
            "{effects:?}"
        );
    }

    /// A failed attempt sets the next one at the time the callback chose.
    #[test]
    fn a_failed_attempt_sets_the_next() {
        let next_at = super::super::testing::now() + Duration::minutes(2);
        let failed = event(
            "cb1",
            Body::Callback(CallbackEvent::CallbackAttemptFailed {
                attempt: 1,
                error: "HTTP 503".into(),
                next_at,
            }),
        );
        assert_eq!(
            flow(true).react(&failed, &facts()),
            vec![Effect::Timer(Timer {
                kind: TimerKind::CallbackAttempt,
                subject_id: "cb1".into(),
                key: format!("{}:2", failed.event_id),
                due: next_at,
            })]
        );
    }

    /// 002 item 19 via issue 21: a disbursed order opens its loan at the
    /// approved rate with its borrow, paid out the day the order was disbursed.
    #[test]
    fn a_disbursed_order_opens_its_loan() {
        let mut facts = pushed();
        let order = facts.partner_orders.get_mut("o1").unwrap();
        for e in [
            PartnerOrderEvent::CreditApproved {
                message_id: "m".into(),
                limit: Some(rust_decimal::Decimal::new(20_000, 0)),
                annual_rate: Some(rust_decimal::Decimal::new(6, 2)),
            },
            PartnerOrderEvent::BorrowConfirmed(crate::partner_order::BorrowRequest {
                amount: rust_decimal::Decimal::new(12_000, 0),
                term_months: 12,
            }),
        ] {
            cqrs_es::Aggregate::apply(order, e);
        }
        let disbursed = event("o1", Body::PartnerOrder(PartnerOrderEvent::BorrowDisbursed));
        assert_eq!(
            flow(true).needs(&disbursed),
            vec![Need::PartnerOrder("o1".into())]
        );
        let effects = flow(true).react(&disbursed, &facts);
        let [Effect::Send(Order::Loan(id, LoanCommand::OpenPartnerLoan(open)), _)] =
            effects.as_slice()
        else {
            panic!("{effects:?}")
        };
        assert_eq!(id, "o1");
        assert_eq!(
            (open.order_no.as_str(), open.term_months, open.annual_rate),
            ("R-1", 12, rust_decimal::Decimal::new(6, 2))
        );
        // Without an approved rate there is no loan to open: an operator is told.
        let effects = flow(true).react(&disbursed, &pushed());
        assert!(
            matches!(effects.as_slice(), [Effect::Warn(_)]),
            "{effects:?}"
        );
    }

    /// 002 item 20: an overdue period of a partner loan is called back; the same
    /// event of a bank loan (融信秒贷) is not the partner's business.
    #[test]
    fn an_overdue_partner_loan_is_called_back() {
        let overdue = event(
            "o1",
            Body::Loan(LoanEvent::InstallmentOverdue {
                period: 2,
                due_date: chrono::NaiveDate::from_ymd_opt(2027, 3, 10).unwrap(),
                unpaid: rust_decimal::Decimal::new(103_280, 2),
            }),
        );
        assert_eq!(flow(true).needs(&overdue), vec![Need::Loan("o1".into())]);
        let mut facts = facts();
        let loan =
            super::super::testing::rebuilt::<crate::loan_application::LoanApplication>(vec![
                LoanEvent::LoanSubmitted {
                    product: Product::Partner,
                    contract_no: "R-1".into(),
                    amount: Some(rust_decimal::Decimal::new(12_000, 0)),
                    term_months: None,
                    purpose: None,
                    branch: None,
                    task_kind: Default::default(),
                    product_code: String::new(),
                    channel_code: "RONGSHU".into(),
                    manager_id: String::new(),
                    participants: Vec::new(),
                    property_location: None,
                },
            ]);
        facts.loans.insert("o1".into(), loan);
        let effects = flow(true).react(&overdue, &facts);
        let [Effect::Send(Order::Callback(_, CallbackCommand::Schedule { request, .. }), _)] =
            effects.as_slice()
        else {
            panic!("{effects:?}")
        };
        assert_eq!(request.kind, "OVERDUE");
        assert!(
            request.body.contains("\"orderNo\":\"R-1\""),
            "{}",
            request.body
        );
        let bank_loan =
            super::super::testing::rebuilt::<crate::loan_application::LoanApplication>(vec![
                LoanEvent::LoanSubmitted {
                    product: Product::RongxinMiaodai,
                    contract_no: "HT-1".into(),
                    amount: Some(rust_decimal::Decimal::new(12_000, 0)),
                    term_months: None,
                    purpose: None,
                    branch: None,
                    task_kind: Default::default(),
                    product_code: String::new(),
                    channel_code: "ZXYH".into(),
                    manager_id: String::new(),
                    participants: Vec::new(),
                    property_location: None,
                },
            ]);
        facts.loans.insert("o1".into(), bank_loan);
        assert!(flow(true).react(&overdue, &facts).is_empty());
    }
}
