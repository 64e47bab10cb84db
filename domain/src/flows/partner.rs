//! Partner orders (002): their outcomes become callbacks to the partner
//! (审批拒绝 6004, 放款失败-拒件处理 7003, 放款成功), each callback's next attempt
//! a durable job, and a deferred borrow the 1-hour 新网 account check.

use std::collections::HashMap;

use chrono::Duration;
use serde_json::json;

use super::{Body, Effect, Facts, Flow, FlowEvent, Need, Order, Timer, TimerKind};
use crate::callback::{CallbackCommand, CallbackEvent, CallbackRequest};
use crate::partner_order::PartnerOrderEvent;
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
        PartnerOrderEvent::BorrowDisbursed => Some(("LOAN_SUCCESS", json!({ "code": "SUCCESS" }))),
        _ => None,
    }
}

fn attempt(event: &FlowEvent, attempt: u32, due: chrono::DateTime<chrono::Utc>) -> Effect {
    Effect::Timer(Timer {
        kind: TimerKind::CallbackAttempt,
        subject_id: event.aggregate_id.clone(),
        key: format!("{}:{attempt}", event.event_id),
        due,
    })
}

impl Flow for PartnerFlow {
    fn name(&self) -> &'static str {
        "partner_process"
    }

    fn needs(&self, event: &FlowEvent) -> Vec<Need> {
        match &event.body {
            Body::PartnerOrder(order_event) if callback_of(order_event).is_some() => {
                vec![Need::PartnerOrder(event.aggregate_id.clone())]
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
                let Some(url) = self
                    .callback_urls
                    .get(&details.partner.trim().to_uppercase())
                else {
                    return vec![Effect::Warn(format!(
                        "no callback address configured for partner {}; callback {kind} not sent",
                        details.partner
                    ))];
                };
                let body = json!({
                    "partner": details.partner,
                    "orderNo": details.order_no,
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
                            target: details.partner.clone(),
                            kind: kind.to_string(),
                            subject: event.aggregate_id.clone(),
                            url: url.clone(),
                            body: body.to_string(),
                        },
                        max_attempts: self.max_attempts,
                    },
                ))]
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
}
