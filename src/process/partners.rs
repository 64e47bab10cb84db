//! The partner process manager (002): turns partner-order facts into callbacks
//! (审批拒绝, 放款失败-拒件处理 7003, 放款成功) and durable jobs (the 1-hour 新网
//! account check), and keeps each callback's next attempt on the timer table.

use std::sync::Arc;

use adapters::partners::PartnerDirectory;
use adapters::CommandBus;
use chrono::{DateTime, Utc};
use domain::callback::{
    Callback, CallbackCommand, CallbackEvent, CallbackRequest, AGGREGATE_TYPE as CALLBACK,
};
use domain::log::StoredEvent;
use domain::partner_order::{PartnerOrder, PartnerOrderEvent, AGGREGATE_TYPE as ORDER};
use domain::services::derived_id;
use serde_json::json;
use sqlx::AnyPool;

use super::timers::{schedule_job, TimerKind};
use super::{caused_by, tolerate_refusal, ProcessManager};

/// Reacts to partner orders and callbacks.
pub struct PartnerProcess {
    bus: Arc<CommandBus>,
    pool: AnyPool,
    partners: PartnerDirectory,
    max_attempts: u32,
    account_check_after: chrono::Duration,
}

impl PartnerProcess {
    /// A process scheduling callbacks to `partners`, each with `max_attempts`.
    pub fn new(
        bus: Arc<CommandBus>,
        pool: AnyPool,
        partners: PartnerDirectory,
        max_attempts: u32,
        account_check_after: chrono::Duration,
    ) -> Self {
        Self {
            bus,
            pool,
            partners,
            max_attempts,
            account_check_after,
        }
    }

    /// Schedules the callback `kind` about the order, once per causing event.
    async fn callback(
        &self,
        event: &StoredEvent,
        kind: &str,
        result: serde_json::Value,
    ) -> anyhow::Result<()> {
        let (order, _) = self.bus.load::<PartnerOrder>(&event.aggregate_id).await?;
        let Some(details) = order.details() else {
            return Ok(());
        };
        let Some(partner) = self.partners.get(&details.partner) else {
            tracing::warn!(partner = %details.partner, "no callback address configured; callback not sent");
            return Ok(());
        };
        let body = json!({
            "partner": details.partner,
            "orderNo": details.order_no,
            "kind": kind,
            "result": result,
            "eventId": event.metadata.event_id,
        });
        let request = CallbackRequest {
            target: details.partner.clone(),
            kind: kind.to_string(),
            subject: event.aggregate_id.clone(),
            url: partner.callback_url.clone(),
            body: body.to_string(),
        };
        let id = derived_id(&format!("callback:{}", event.metadata.event_id)).to_string();
        tolerate_refusal(
            self.bus
                .execute::<Callback>(
                    &id,
                    CallbackCommand::Schedule {
                        request,
                        max_attempts: self.max_attempts,
                    },
                    &caused_by(event, "partner-process"),
                )
                .await,
        )
    }

    async fn attempt_at(
        &self,
        event: &StoredEvent,
        attempt: u32,
        due: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let now = self.bus.services().clock.now();
        schedule_job(
            &self.pool,
            TimerKind::CallbackAttempt,
            &event.aggregate_id,
            &format!("{}:{attempt}", event.metadata.event_id),
            due,
            now,
        )
        .await?;
        Ok(())
    }
}

impl ProcessManager for PartnerProcess {
    fn name(&self) -> &'static str {
        "partner_process"
    }

    async fn handle(&self, event: &StoredEvent) -> anyhow::Result<()> {
        match event.aggregate_type.as_str() {
            ORDER => match serde_json::from_value::<PartnerOrderEvent>(event.payload.clone())? {
                PartnerOrderEvent::CreditRefused { reason, .. } => {
                    self.callback(event, "CREDIT_REFUSED", json!({ "code": "6004", "reason": reason.unwrap_or_else(|| "资质不符".into()) }))
                        .await
                }
                PartnerOrderEvent::BorrowAuditRejected => {
                    self.callback(event, "LOAN_REFUSED", json!({ "code": "7003" })).await
                }
                PartnerOrderEvent::BorrowDisbursed => {
                    self.callback(event, "LOAN_SUCCESS", json!({ "code": "SUCCESS" })).await
                }
                // 002 item 13: an hour after the customer was sent to open the account.
                PartnerOrderEvent::BorrowDeferred(_) => {
                    let due = event.metadata.recorded_at + self.account_check_after;
                    schedule_job(
                        &self.pool,
                        TimerKind::AccountOpenCheck,
                        &event.aggregate_id,
                        &event.metadata.event_id.to_string(),
                        due,
                        self.bus.services().clock.now(),
                    )
                    .await?;
                    Ok(())
                }
                _ => Ok(()),
            },
            CALLBACK => match serde_json::from_value::<CallbackEvent>(event.payload.clone())? {
                CallbackEvent::CallbackScheduled { .. } | CallbackEvent::CallbackRetried => {
                    let (callback, _) = self.bus.load::<Callback>(&event.aggregate_id).await?;
                    self.attempt_at(event, callback.attempts() + 1, event.metadata.recorded_at)
                        .await
                }
                CallbackEvent::CallbackAttemptFailed { attempt, next_at, .. } => {
                    self.attempt_at(event, attempt + 1, next_at).await
                }
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }
}
