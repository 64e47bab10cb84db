//! The ledger of every disbursed loan (issue 21, 003 贷后): its current plan
//! and what is paid (the domain's `Ledger`, so "owed today" is computed with
//! the same functions the aggregate books with), any open prepayment, and one
//! row per money movement — disbursement, each period a payment paid, penalty
//! accrued, prepaid principal, failed auto-debits, overdue periods — from which
//! statements and the back office's statistics by day are read.

use domain::loan_application::ledger::Ledger;
pub use domain::loan_application::ledger::OpenPrepayment;
use domain::loan_application::LoanEvent;
use domain::log::StoredEvent;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::runner::Projection;
use store::worker::{bad_event, WorkerError};

/// Projection name in checkpoints and `facesign replay --projection`.
pub const NAME: &str = "loan_ledger";

/// The event types this read model is made of.
const READS: [&str; 10] = [
    "RepaymentRequested",
    "LoanDisbursed",
    "RepaymentReceived",
    "PlanRecalculated",
    "LoanSettled",
    "AutoDebitFailed",
    "InstallmentOverdue",
    "PrepaymentRequested",
    "PrepaymentApproved",
    "PrepaymentRefused",
];

/// The loan ledger projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoanLedger;

/// One money movement of a loan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct TransactionRow {
    /// The loan.
    pub loan_id: String,
    /// The event's sequence.
    pub sequence: i64,
    /// Line within the event.
    pub line: i32,
    /// DISBURSEMENT, REPAYMENT, PREPAYMENT, PENALTY_ACCRUED, AUTO_DEBIT_FAILED,
    /// REPAYMENT_REQUESTED, OVERDUE, SETTLED.
    pub kind: String,
    /// The Asia/Shanghai day (YYYY-MM-DD).
    pub day: String,
    /// Amount in fen.
    pub amount_fen: i64,
    /// Principal part in fen.
    pub principal_fen: i64,
    /// Interest part in fen.
    pub interest_fen: i64,
    /// Penalty part in fen.
    pub penalty_fen: i64,
    /// AUTO_DEBIT, ACTIVE or PREPAYMENT.
    pub channel: Option<String>,
    /// The disbursement request, prepayment or partner repayment no.
    pub reference: Option<String>,
    /// The period.
    pub period: Option<i32>,
    /// A reason or reference.
    pub detail: Option<String>,
    /// When recorded (RFC 3339).
    pub at: String,
}

/// Amounts of one day (003 后台管理: 放款、还款、逾期 statistics).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotals {
    /// YYYY-MM-DD.
    pub day: String,
    /// Disbursed, in fen.
    pub disbursed_fen: i64,
    /// Repaid (periods and prepaid principal and interest), in fen.
    pub repaid_fen: i64,
    /// Principal and interest that fell overdue that day, in fen.
    pub overdue_fen: i64,
}

/// Fen of an amount in CNY.
pub fn fen_of(amount: Decimal) -> i64 {
    (amount * Decimal::ONE_HUNDRED)
        .round()
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// A row to insert.
struct Line<'a> {
    kind: &'a str,
    day: chrono::NaiveDate,
    amount: Decimal,
    parts: (Decimal, Decimal, Decimal),
    channel: Option<String>,
    reference: Option<String>,
    period: Option<u32>,
    detail: Option<String>,
}

impl<'a> Line<'a> {
    fn of(kind: &'a str, day: chrono::NaiveDate, amount: Decimal) -> Self {
        Self {
            kind,
            day,
            amount,
            parts: (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO),
            channel: None,
            reference: None,
            period: None,
            detail: None,
        }
    }
}

/// The rows of an event recorded on Asia/Shanghai day `recorded_on`.
fn lines(decoded: &LoanEvent, recorded_on: chrono::NaiveDate) -> Vec<Line<'static>> {
    match decoded {
        LoanEvent::LoanDisbursed {
            disbursement: Some(d),
            ..
        } => vec![Line {
            reference: Some(d.request_id.clone()),
            ..Line::of("DISBURSEMENT", d.value_date, d.amount)
        }],
        LoanEvent::RepaymentRequested {
            repayment_no,
            amount,
        } => vec![Line {
            channel: Some("ACTIVE".into()),
            reference: Some(repayment_no.clone()),
            ..Line::of("REPAYMENT_REQUESTED", recorded_on, *amount)
        }],
        LoanEvent::RepaymentReceived {
            received_on,
            channel,
            accruals,
            parts,
            prepaid_principal,
            prepaid_interest,
            prepayment_id,
            repayment_no,
            ..
        } => {
            let channel = Some(domain::wire_name(channel));
            let reference = repayment_no.clone().or_else(|| prepayment_id.clone());
            let mut out: Vec<Line<'static>> = accruals
                .iter()
                .map(|a| Line {
                    parts: (Decimal::ZERO, Decimal::ZERO, a.amount),
                    period: Some(a.period),
                    ..Line::of("PENALTY_ACCRUED", a.through, a.amount)
                })
                .collect();
            out.extend(parts.iter().map(|p| Line {
                parts: (p.principal, p.interest, p.penalty),
                channel: channel.clone(),
                reference: reference.clone(),
                period: Some(p.period),
                ..Line::of("REPAYMENT", *received_on, p.total())
            }));
            if !(prepaid_principal.is_zero() && prepaid_interest.is_zero()) {
                out.push(Line {
                    parts: (*prepaid_principal, *prepaid_interest, Decimal::ZERO),
                    channel,
                    reference,
                    ..Line::of(
                        "PREPAYMENT",
                        *received_on,
                        *prepaid_principal + *prepaid_interest,
                    )
                });
            }
            out
        }
        LoanEvent::AutoDebitFailed {
            attempted_on,
            amount,
            period,
            reason,
            repayment_no,
            ..
        } => vec![Line {
            channel: Some(
                if repayment_no.is_some() {
                    "ACTIVE"
                } else {
                    "AUTO_DEBIT"
                }
                .into(),
            ),
            reference: repayment_no.clone(),
            period: *period,
            detail: Some(reason.clone()),
            ..Line::of("AUTO_DEBIT_FAILED", *attempted_on, *amount)
        }],
        LoanEvent::InstallmentOverdue {
            period,
            due_date,
            unpaid,
        } => vec![Line {
            period: Some(*period),
            ..Line::of("OVERDUE", due_date.succ_opt().unwrap_or(*due_date), *unpaid)
        }],
        LoanEvent::LoanSettled { on } => vec![Line::of("SETTLED", *on, Decimal::ZERO)],
        _ => Vec::new(),
    }
}

async fn insert_lines(
    conn: &mut AnyConnection,
    event: &StoredEvent,
    lines: Vec<Line<'_>>,
    at: &str,
) -> Result<(), WorkerError> {
    for (n, line) in lines.into_iter().enumerate() {
        sqlx::query(
            "INSERT INTO loan_transactions (loan_id, sequence, line, kind, day, amount_fen, principal_fen, interest_fen, penalty_fen, channel, reference, period, detail, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&event.aggregate_id)
        .bind(event.sequence)
        .bind(n as i32)
        .bind(line.kind)
        .bind(line.day.to_string())
        .bind(fen_of(line.amount))
        .bind(fen_of(line.parts.0))
        .bind(fen_of(line.parts.1))
        .bind(fen_of(line.parts.2))
        .bind(line.channel)
        .bind(line.reference)
        .bind(line.period.map(|p| p as i32))
        .bind(line.detail)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn stored(
    conn: &mut AnyConnection,
    loan_id: &str,
) -> Result<Option<(Ledger, Option<OpenPrepayment>)>, WorkerError> {
    let row: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT ledger, prepayment FROM loan_ledgers WHERE loan_id = $1")
            .bind(loan_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((ledger, prepayment)) = row else {
        return Ok(None);
    };
    let decode = |e: serde_json::Error| WorkerError::BadEvent {
        event_type: "loan_ledgers row".into(),
        position: domain::log::LogPosition::default(),
        reason: e.to_string(),
    };
    let ledger = serde_json::from_str(&ledger).map_err(decode)?;
    let prepayment = prepayment
        .map(|p| serde_json::from_str(&p))
        .transpose()
        .map_err(decode)?;
    Ok(Some((ledger, prepayment)))
}

async fn store(
    conn: &mut AnyConnection,
    loan_id: &str,
    ledger: &Ledger,
    prepayment: Option<&OpenPrepayment>,
    at: &str,
) -> Result<(), WorkerError> {
    let next_due = ledger
        .periods
        .iter()
        .filter(|p| !p.settled())
        .map(|p| p.due_date)
        .min()
        .map(|d| d.to_string());
    let debit_date = prepayment
        .filter(|p| p.approved)
        .map(|p| p.quote.quoted_on.to_string());
    sqlx::query(
        "INSERT INTO loan_ledgers (loan_id, ledger, next_due_date, prepayment, updated_at,
                                   prepayment_debit_date)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (loan_id) DO UPDATE SET ledger = excluded.ledger,
           next_due_date = excluded.next_due_date, prepayment = excluded.prepayment,
           updated_at = excluded.updated_at, prepayment_debit_date = excluded.prepayment_debit_date",
    )
    .bind(loan_id)
    .bind(to_json(ledger))
    .bind(next_due)
    .bind(prepayment.map(to_json))
    .bind(at)
    .bind(debit_date)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The stored JSON of plain data (cannot fail).
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

/// A stored ledger row as the rebuild check compares it: loan, ledger, next
/// due date, open prepayment, prepayment debit day.
type StoredLedgerRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Projection for LoanLedger {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn snapshot(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        let ledgers: Vec<StoredLedgerRow> = sqlx::query_as(
            "SELECT loan_id, ledger, next_due_date, prepayment, prepayment_debit_date
                   FROM loan_ledgers ORDER BY loan_id",
        )
        .fetch_all(pool)
        .await?;
        let rows: Vec<TransactionRow> = sqlx::query_as(
            "SELECT loan_id, sequence, line, kind, day, amount_fen, principal_fen, interest_fen, penalty_fen, channel, reference, period, detail, at
               FROM loan_transactions ORDER BY loan_id, sequence, line",
        )
        .fetch_all(pool)
        .await?;
        Ok(ledgers
            .iter()
            .map(|r| format!("{r:?}"))
            .chain(rows.iter().map(|r| format!("{r:?}")))
            .collect())
    }

    fn tables(&self) -> &'static [&'static str] {
        &["loan_ledgers", "loan_transactions"]
    }

    fn reads(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == domain::loan_application::AGGREGATE_TYPE
            && READS.contains(&event.event_type.as_str())
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), WorkerError> {
        if !self.reads(event) {
            return Ok(());
        }
        let decoded: LoanEvent =
            serde_json::from_value(event.payload.clone()).map_err(|e| bad_event(event, e))?;
        let at = domain::log::rfc3339(event.metadata.recorded_at);
        let recorded_on = domain::schedule::shanghai_date(event.metadata.recorded_at);
        insert_lines(conn, event, lines(&decoded, recorded_on), &at).await?;
        // The other events add movements only; the plan and the open
        // prepayment stay as they are.
        let changes_ledger = matches!(
            decoded,
            LoanEvent::LoanDisbursed { .. }
                | LoanEvent::RepaymentReceived { .. }
                | LoanEvent::PlanRecalculated { .. }
                | LoanEvent::PrepaymentRequested { .. }
                | LoanEvent::PrepaymentApproved { .. }
                | LoanEvent::PrepaymentRefused { .. }
        );
        if !changes_ledger {
            return Ok(());
        }
        let loan = event.aggregate_id.as_str();
        let (mut ledger, mut prepayment) = match (&decoded, stored(conn, loan).await?) {
            (
                LoanEvent::LoanDisbursed {
                    disbursement: Some(d),
                    ..
                },
                _,
            ) => (Ledger::open(d.terms, d.value_date, &d.plan), None),
            (_, Some(current)) => current,
            // Events of a loan disbursed before the ledger existed.
            (_, None) => return Ok(()),
        };
        ledger.apply(&decoded);
        OpenPrepayment::apply(&mut prepayment, &decoded);
        store(conn, loan, &ledger, prepayment.as_ref(), &at).await
    }
}

impl LoanLedger {
    /// A loan's ledger and open prepayment, if it was disbursed through the core.
    pub async fn get(
        pool: &AnyPool,
        loan_id: &str,
    ) -> Result<Option<(Ledger, Option<OpenPrepayment>)>, WorkerError> {
        let mut conn = pool.acquire().await?;
        stored(&mut conn, loan_id).await
    }

    /// A loan's money movements in order.
    pub async fn transactions(
        pool: &AnyPool,
        loan_id: &str,
    ) -> Result<Vec<TransactionRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT loan_id, sequence, line, kind, day, amount_fen, principal_fen, interest_fen, penalty_fen, channel, reference, period, detail, at
               FROM loan_transactions WHERE loan_id = $1 ORDER BY sequence, line LIMIT 5000",
        )
        .bind(loan_id)
        .fetch_all(pool)
        .await
    }

    /// A loan's movements on days `from` to `to` inclusive, in order: `limit`
    /// after skipping `offset`, and how many there are in all.
    pub async fn transactions_between(
        pool: &AnyPool,
        loan_id: &str,
        from: &str,
        to: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<TransactionRow>, i64), sqlx::Error> {
        let rows = sqlx::query_as(
            "SELECT loan_id, sequence, line, kind, day, amount_fen, principal_fen, interest_fen, penalty_fen, channel, reference, period, detail, at
               FROM loan_transactions WHERE loan_id = $1 AND day >= $2 AND day <= $3
              ORDER BY sequence, line LIMIT $4 OFFSET $5",
        )
        .bind(loan_id)
        .bind(from)
        .bind(to)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM loan_transactions WHERE loan_id = $1 AND day >= $2 AND day <= $3",
        )
        .bind(loan_id)
        .bind(from)
        .bind(to)
        .fetch_one(pool)
        .await?;
        Ok((rows, total))
    }

    /// Failed debits (自动扣款失败, a repayment the core could not take) on days
    /// `from` to `to`, newest first, at most `limit`.
    pub async fn failed_debits(
        pool: &AnyPool,
        from: &str,
        to: &str,
        limit: i64,
    ) -> Result<Vec<TransactionRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT loan_id, sequence, line, kind, day, amount_fen, principal_fen, interest_fen, penalty_fen, channel, reference, period, detail, at
               FROM loan_transactions WHERE kind = 'AUTO_DEBIT_FAILED' AND day >= $1 AND day <= $2
              ORDER BY at DESC, loan_id LIMIT $3",
        )
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(pool)
        .await
    }

    /// The movements of a loan that belong to `reference` (e.g. a partner's repayment no).
    pub async fn by_reference(
        pool: &AnyPool,
        loan_id: &str,
        reference: &str,
    ) -> Result<Vec<TransactionRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT loan_id, sequence, line, kind, day, amount_fen, principal_fen, interest_fen, penalty_fen, channel, reference, period, detail, at
               FROM loan_transactions WHERE loan_id = $1 AND reference = $2 ORDER BY sequence, line LIMIT 100",
        )
        .bind(loan_id)
        .bind(reference)
        .fetch_all(pool)
        .await
    }

    /// Loans after `after` (by id) with a period due on or before `day` not
    /// fully paid, or an approved prepayment debited on or before
    /// `prepayment_day`, at most `limit` (the daily review pages through them).
    pub async fn due_by(
        pool: &AnyPool,
        day: chrono::NaiveDate,
        prepayment_day: chrono::NaiveDate,
        after: &str,
        limit: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT loan_id FROM loan_ledgers
              WHERE ((next_due_date IS NOT NULL AND next_due_date <= $1)
                     OR (prepayment_debit_date IS NOT NULL AND prepayment_debit_date <= $2))
                AND loan_id > $3
              ORDER BY loan_id LIMIT $4",
        )
        .bind(day.to_string())
        .bind(prepayment_day.to_string())
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Movements per Asia/Shanghai day and kind from `from` to `to` inclusive:
    /// how many and how much (fen), for the back office's 交易量/资金统计.
    pub async fn movements_by_day(
        pool: &AnyPool,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String, i64, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT day, kind, COUNT(*), CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM loan_transactions
              WHERE day >= $1 AND day <= $2
                AND kind IN ('DISBURSEMENT', 'REPAYMENT', 'PREPAYMENT', 'OVERDUE', 'AUTO_DEBIT_FAILED')
              GROUP BY day, kind ORDER BY day, kind",
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
    }

    /// Totals per Asia/Shanghai day from `from` to `to` inclusive, days without
    /// a movement left out.
    pub async fn daily_totals(
        pool: &AnyPool,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<DayTotals>, sqlx::Error> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT day, kind, CAST(SUM(amount_fen) AS BIGINT) FROM loan_transactions
              WHERE day >= $1 AND day <= $2
                AND kind IN ('DISBURSEMENT', 'REPAYMENT', 'PREPAYMENT', 'OVERDUE')
              GROUP BY day, kind ORDER BY day",
        )
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(pool)
        .await?;
        let mut days: Vec<DayTotals> = Vec::new();
        for (day, kind, total) in rows {
            if days.last().map(|d| d.day.as_str()) != Some(day.as_str()) {
                days.push(DayTotals {
                    day: day.clone(),
                    ..DayTotals::default()
                });
            }
            let totals = days.last_mut().expect("pushed above");
            match kind.as_str() {
                "DISBURSEMENT" => totals.disbursed_fen += total,
                "OVERDUE" => totals.overdue_fen += total,
                _ => totals.repaid_fen += total,
            }
        }
        Ok(days)
    }
}
