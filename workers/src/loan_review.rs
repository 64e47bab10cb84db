//! The daily review of disbursed loans (issue 21, 003 贷后): once per Asia/Shanghai
//! day, every loan with a period due within the reminder horizon is sent
//! `ReviewLedger`, which marks periods overdue the day after their due date and
//! raises the repayment reminder X days before it (the loan flow texts it).
//! It also raises an approved prepayment's debit notice three working days
//! (in the bank's calendar) before the debit day (003 提前还款).
//! Each is recorded once by the loan itself, so a review repeated after a
//! restart, or by two instances, changes nothing.

use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use domain::loan_application::{CoreRequestKind, LoanApplication, LoanCommand};
use domain::log::Actor;
use sqlx::AnyPool;
use tracing::info;

use store::{CommandBus, CommandContext, CommandError};

use crate::ReadModels;

/// Loans read per page.
const PAGE: i64 = 500;

/// Reviews loan ledgers once a day.
pub struct LedgerReview {
    bus: Arc<CommandBus>,
    pool: AnyPool,
    read_models: Arc<dyn ReadModels>,
    reminder_days: u32,
    reviewed: Mutex<Option<NaiveDate>>,
}

impl LedgerReview {
    /// A review reminding `reminder_days` before a due date (0: no reminders).
    pub fn new(
        bus: Arc<CommandBus>,
        pool: AnyPool,
        read_models: Arc<dyn ReadModels>,
        reminder_days: u32,
    ) -> Self {
        Self {
            bus,
            pool,
            read_models,
            reminder_days,
            reviewed: Mutex::new(None),
        }
    }

    /// Reviews every loan due within the horizon unless today was reviewed;
    /// returns the loans reviewed.
    pub async fn run_once_today(&self) -> anyhow::Result<usize> {
        let today = domain::schedule::shanghai_date(self.bus.services().clock.now());
        if *self.reviewed.lock().expect("review day") == Some(today) {
            return Ok(0);
        }
        let horizon = today + chrono::Days::new(self.reminder_days.into());
        // 003: 提前3个工作日提示 — read each day, so a calendar loaded today counts.
        let calendar = crate::bank_calendar::calendar_from(&self.pool, today).await?;
        let notice_through = calendar
            .working_days_after(today, domain::calendar::PREPAYMENT_NOTICE_WORKING_DAYS)
            .unwrap_or(today);
        let context = CommandContext::for_request(
            Actor::system("ledger-review"),
            format!("ledger-review:{today}"),
        );
        let mut after = String::new();
        let mut reviewed = 0;
        loop {
            let page = self
                .read_models
                .loans_due_by(horizon, notice_through, &after, PAGE)
                .await?;
            for loan_id in &page {
                let command = LoanCommand::ReviewLedger {
                    today,
                    reminder_days: self.reminder_days,
                    prepayment_notice_through: Some(notice_through),
                };
                match self
                    .bus
                    .execute::<LoanApplication>(loan_id, command, &context)
                    .await
                {
                    Ok(_) | Err(CommandError::Domain(_)) => reviewed += 1,
                    Err(other) => return Err(other.into()),
                }
            }
            match page.last() {
                Some(last) if page.len() as i64 == PAGE => after = last.clone(),
                _ => break,
            }
        }
        *self.reviewed.lock().expect("review day") = Some(today);
        if reviewed > 0 {
            info!(%today, reviewed, "loan ledgers reviewed");
        }
        Ok(reviewed)
    }
}

/// 人工落地 (003: 建立联动超时或其他异常情况的服务机制，进行人工落地处理): turns
/// every request the core has not answered within `timeout` into a manual
/// case on its loan. The loan opens a case once per request, so several
/// instances, or a restart, open no second one.
pub struct CoreAnswerWatch {
    bus: Arc<CommandBus>,
    read_models: Arc<dyn ReadModels>,
    timeout: chrono::Duration,
}

impl CoreAnswerWatch {
    /// A watch escalating requests unanswered for `timeout`.
    pub fn new(
        bus: Arc<CommandBus>,
        read_models: Arc<dyn ReadModels>,
        timeout: chrono::Duration,
    ) -> Self {
        Self {
            bus,
            read_models,
            timeout,
        }
    }

    /// Escalates what has waited too long; returns the cases opened.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let now = self.bus.services().clock.now();
        let cutoff = domain::log::rfc3339(now - self.timeout);
        let waiting = self
            .read_models
            .unanswered_core_requests(&cutoff, PAGE)
            .await?;
        let mut opened = 0;
        for request in waiting {
            let kind = match request.kind.as_str() {
                "DISBURSEMENT" => CoreRequestKind::Disbursement,
                "REPAYMENT" => CoreRequestKind::Repayment,
                other => anyhow::bail!("unknown core request kind {other}"),
            };
            let requested_at = chrono::DateTime::parse_from_rfc3339(&request.requested_at)?
                .with_timezone(&chrono::Utc);
            let context = CommandContext::for_request(
                Actor::system("core-answer-watch"),
                format!("core-answer-watch:{}", request.request_id),
            );
            let command = LoanCommand::EscalateCoreRequest {
                kind,
                request_id: request.request_id.clone(),
                requested_at,
                waited_secs: (now - requested_at).num_seconds(),
            };
            match self
                .bus
                .execute::<LoanApplication>(&request.loan_id, command, &context)
                .await
            {
                Ok(_) => opened += 1,
                Err(CommandError::Domain(_)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        if opened > 0 {
            tracing::warn!(
                opened,
                "requests the core has not answered became manual cases (人工落地)"
            );
        }
        Ok(opened)
    }
}
