//! Durable timers: rows in `timers`, fired by a worker that polls for due ones,
//! so appointment expiry and reminders happen even after a restart. Firing is at
//! least once; the commands and messages a timer causes are idempotent.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use crate::partners::PartnerDirectory;
use crate::sms::{SmsMessage, SmsOutbox};
use chrono::{DateTime, Utc};
use domain::callback::{Callback, CallbackCommand, CallbackRequest, CallbackStatus};
use domain::flows::{Effect, TimerKind};
use domain::interview_task::{InterviewTask, InterviewTaskCommand};
use domain::log::rfc3339;
use domain::log::Actor;
use domain::partner_order::{PartnerOrder, PartnerOrderCommand};
use sqlx::AnyPool;
use store::worker::run_on_the_clock;
use store::{CommandBus, CommandContext, CommandError};
use tokio::sync::watch;
use tracing::warn;
use uuid::Uuid;

/// Stores a job once per (kind, key) for `subject` (an aggregate id).
pub async fn schedule_job(
    pool: &AnyPool,
    kind: TimerKind,
    subject: &str,
    key: &str,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO timers (timer_id, kind, task_id, booking_id, due_at, created_at, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, 0) ON CONFLICT (timer_id) DO NOTHING",
    )
    .bind(format!("{}:{key}", kind.as_str().to_lowercase()))
    .bind(kind.as_str())
    .bind(subject)
    .bind(key)
    .bind(rfc3339(due_at))
    .bind(rfc3339(now))
    .execute(pool)
    .await?;
    Ok(())
}

/// A timer's command is done once it committed or its aggregate refused it:
/// a refusal means the aggregate moved on and the timer is stale. Anything
/// else fails the timer, which fires again.
pub(crate) fn done_unless_failed<E>(
    result: Result<store::CommandReceipt, CommandError<E>>,
) -> anyhow::Result<()>
where
    E: std::error::Error,
    anyhow::Error: From<CommandError<E>>,
{
    match result {
        Ok(_) | Err(CommandError::Domain(_)) => Ok(()),
        Err(other) => Err(other.into()),
    }
}

/// How often the account check looks again before it gives up (a day of hours).
const ACCOUNT_CHECKS: u32 = 24;

/// Fires due timers.
pub struct TimerWorker {
    bus: Arc<CommandBus>,
    pool: AnyPool,
    read_models: Arc<dyn crate::ReadModels>,
    sms: SmsOutbox,
    partners: PartnerDirectory,
    http: reqwest::Client,
    ledger_review: Option<crate::loan_review::LedgerReview>,
    core_answer_watch: Option<crate::loan_review::CoreAnswerWatch>,
    contract_mailer: Option<crate::contract_mail::ContractMailer>,
    metrics: Arc<store::Metrics>,
}

impl TimerWorker {
    /// Also reviews loan ledgers once a day, reminding `reminder_days` before a due date.
    pub fn with_ledger_review(mut self, reminder_days: u32) -> Self {
        self.ledger_review = Some(crate::loan_review::LedgerReview::new(
            self.bus.clone(),
            self.pool.clone(),
            self.read_models.clone(),
            reminder_days,
        ));
        self
    }

    /// Also turns requests the core has not answered within `timeout` into
    /// manual cases (人工落地).
    pub fn with_core_answer_watch(mut self, timeout: chrono::Duration) -> Self {
        self.core_answer_watch = Some(crate::loan_review::CoreAnswerWatch::new(
            self.bus.clone(),
            self.read_models.clone(),
            timeout,
        ));
        self
    }

    /// Also sends requested contracts by e-mail through `smtp` (合同下载).
    pub fn with_contract_mailer(
        mut self,
        smtp: Option<crate::contract_mail::SmtpSettings>,
    ) -> Self {
        self.contract_mailer = smtp.map(|smtp| {
            crate::contract_mail::ContractMailer::new(
                self.bus.clone(),
                self.read_models.clone(),
                smtp,
            )
        });
        self
    }

    /// A worker sending commands through `bus` and callbacks to `partners`,
    /// reading the read models through `read_models`.
    pub fn new(
        bus: Arc<CommandBus>,
        pool: AnyPool,
        read_models: Arc<dyn crate::ReadModels>,
        sms: SmsOutbox,
        partners: PartnerDirectory,
        metrics: Arc<store::Metrics>,
    ) -> Self {
        Self {
            bus,
            pool,
            read_models,
            sms,
            partners,
            http: crate::outbound_http(),
            ledger_review: None,
            core_answer_watch: None,
            contract_mailer: None,
            metrics,
        }
    }

    /// POSTs a callback's body, signed for its partner; None when delivered.
    async fn deliver(&self, request: &CallbackRequest) -> Option<String> {
        let timestamp = Utc::now().timestamp_millis().to_string();
        let nonce = Uuid::now_v7().to_string();
        let params = [
            ("body", request.body.as_str()),
            ("nonce", nonce.as_str()),
            ("partner", request.target.as_str()),
            ("timestamp", timestamp.as_str()),
        ];
        let sign = self
            .partners
            .sign(&request.target, params)
            .unwrap_or_default();
        let sent = self
            .http
            .post(&request.url)
            .header("content-type", "application/json")
            .header("x-partner", &request.target)
            .header("x-timestamp", &timestamp)
            .header("x-nonce", &nonce)
            .header("x-sign", sign)
            .body(request.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => Some(format!("HTTP {}", response.status().as_u16())),
            Err(e) => Some(format!("{}", e.without_url())),
        }
    }

    async fn attempt_callback(
        &self,
        context: &CommandContext,
        callback_id: &str,
        key: &str,
    ) -> anyhow::Result<()> {
        let attempt: u32 = key.rsplit(':').next().unwrap_or_default().parse()?;
        let (callback, _) = self.bus.load::<Callback>(callback_id).await?;
        let Some(request) = callback.request() else {
            return Ok(());
        };
        if callback.status() != CallbackStatus::Pending || callback.attempts() + 1 != attempt {
            return Ok(()); // already delivered, failed or attempted
        }
        let started = std::time::Instant::now();
        let error = self.deliver(request).await;
        self.metrics.observe(
            "facesign_callback_delivery_seconds",
            "Time a partner's callback endpoint took to answer, by partner and outcome.",
            store::metrics::labels(&[
                ("partner", &request.target),
                (
                    "outcome",
                    if error.is_none() {
                        "delivered"
                    } else {
                        "failed"
                    },
                ),
            ]),
            started.elapsed().as_secs_f64(),
        );
        done_unless_failed(
            self.bus
                .execute::<Callback>(
                    callback_id,
                    CallbackCommand::RecordAttempt { attempt, error },
                    context,
                )
                .await,
        )
    }

    async fn check_account(
        &self,
        context: &CommandContext,
        order_id: &str,
        key: &str,
    ) -> anyhow::Result<()> {
        done_unless_failed(
            self.bus
                .execute::<PartnerOrder>(
                    order_id,
                    PartnerOrderCommand::CompleteDeferredBorrow,
                    context,
                )
                .await,
        )?;
        let (order, _) = self.bus.load::<PartnerOrder>(order_id).await?;
        let checks = key.split(':').count() as u32;
        if order.borrow().is_none() && order.deferred_borrow().is_some() && checks < ACCOUNT_CHECKS
        {
            // Not open yet: look again in an hour.
            let now = self.bus.services().clock.now();
            schedule_job(
                &self.pool,
                TimerKind::AccountOpenCheck,
                order_id,
                &format!("{key}:{checks}"),
                now + chrono::Duration::hours(1),
                now,
            )
            .await?;
        }
        Ok(())
    }

    /// 004 3.6: the offer named by `key` (`<call id>:<offer>`) rang out; the
    /// call withdraws it unless it was answered or moved on meanwhile.
    async fn expire_offer(
        &self,
        context: &CommandContext,
        call_id: &str,
        key: &str,
    ) -> anyhow::Result<()> {
        let offer: u32 = key.rsplit(':').next().unwrap_or_default().parse()?;
        done_unless_failed(
            self.bus
                .execute::<domain::inbound_call::InboundCall>(
                    call_id,
                    domain::inbound_call::InboundCallCommand::ExpireOffer { offer },
                    context,
                )
                .await,
        )
    }

    /// Fires every timer due by now; returns how many fired.
    pub async fn fire_due(&self) -> anyhow::Result<usize> {
        let now = self.bus.services().clock.now();
        let due: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT timer_id, kind, task_id, booking_id FROM timers
              WHERE fired_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT 200",
        )
        .bind(rfc3339(now))
        .fetch_all(&self.pool)
        .await?;
        let mut fired = 0;
        for (timer_id, kind, task_id, booking_id) in due {
            let outcome = self.fire(&timer_id, &kind, &task_id, &booking_id).await;
            let error = outcome.as_ref().err().map(|e| format!("{e:#}"));
            if let Some(error) = &error {
                warn!(timer_id, error, "timer failed; it will fire again");
            }
            sqlx::query(
                "UPDATE timers SET fired_at = $1, attempts = attempts + 1, last_error = $2 WHERE timer_id = $3",
            )
            .bind(outcome.is_ok().then(|| rfc3339(now)))
            .bind(error)
            .bind(&timer_id)
            .execute(&self.pool)
            .await?;
            fired += usize::from(outcome.is_ok());
        }
        Ok(fired)
    }

    async fn fire(
        &self,
        timer_id: &str,
        kind: &str,
        task_id: &str,
        booking_id: &str,
    ) -> anyhow::Result<()> {
        let context = CommandContext::for_request(Actor::system("timer"), timer_id.to_string());
        match kind {
            "CALLBACK_ATTEMPT" => {
                return self.attempt_callback(&context, task_id, booking_id).await
            }
            "ACCOUNT_OPEN_CHECK" => return self.check_account(&context, task_id, booking_id).await,
            "RING_TIMEOUT" => return self.expire_offer(&context, task_id, booking_id).await,
            _ => {}
        }
        let booking_id: Uuid = booking_id.parse()?;
        match kind {
            "EXPIRY" => done_unless_failed(
                self.bus
                    .execute::<InterviewTask>(
                        task_id,
                        InterviewTaskCommand::ExpireAppointment { booking_id },
                        &context,
                    )
                    .await,
            ),
            "REMINDER" => {
                let (task, _) = self.bus.load::<InterviewTask>(task_id).await?;
                let texts =
                    domain::flows::scheduling::notice_texts(task_id, &task, booking_id, "reminder");
                for effect in texts {
                    if let Effect::Text(text) = effect {
                        self.sms.send(&SmsMessage::from(text)).await?;
                    }
                }
                Ok(())
            }
            other => anyhow::bail!("unknown timer kind {other}"),
        }
    }

    /// Runs until shutdown, polling every `poll_interval`.
    pub async fn run(&self, poll_interval: StdDuration, shutdown: watch::Receiver<bool>) {
        run_on_the_clock(
            "timers",
            || async {
                self.fire_due().await.map_err(|e| format!("{e:#}"))?;
                if let Some(review) = &self.ledger_review {
                    review
                        .run_once_today()
                        .await
                        .map_err(|e| format!("loan ledger review: {e:#}"))?;
                }
                if let Some(mailer) = &self.contract_mailer {
                    mailer
                        .run_once()
                        .await
                        .map_err(|e| format!("contract mailer: {e:#}"))?;
                }
                if let Some(watch) = &self.core_answer_watch {
                    watch
                        .run_once()
                        .await
                        .map_err(|e| format!("core answer watch: {e:#}"))?;
                }
                Ok(())
            },
            poll_interval,
            shutdown,
        )
        .await;
    }
}
