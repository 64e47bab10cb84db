//! Partner orders (三方订单, 002) and outbound callbacks with their incidents.

use domain::callback::{CallbackEvent, AGGREGATE_TYPE as CALLBACK};
use domain::log::StoredEvent;
use domain::partner_order::{PartnerOrderEvent, PartnerOrderStatus, AGGREGATE_TYPE as ORDER};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::runner::Projection;
use domain::log::rfc3339;
use store::worker::{decode, WorkerError};

/// Projection name in checkpoints and `facesign replay --projection`.
pub const NAME: &str = "partners";

/// The partner orders and callbacks projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Partners;

/// One partner order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct PartnerOrderRow {
    /// `<PARTNER>:<orderNo>`.
    pub order_id: String,
    /// Partner code.
    pub partner: String,
    /// The partner's order no.
    pub order_no: String,
    /// The partner's user id.
    pub partner_uid: String,
    /// Customer name.
    pub customer_name: String,
    /// ID number.
    pub id_number: String,
    /// Mobile.
    pub phone: String,
    /// Status name (PUSHED, CREDIT_APPROVED, …).
    pub status: String,
    /// Its 002 code.
    pub status_code: i64,
    /// Approved limit.
    pub credit_limit: Option<String>,
    /// Borrowed amount.
    pub borrow_amount: Option<String>,
    /// Borrow term (months).
    pub borrow_term: Option<i64>,
    /// IN_PROGRESS, MANUAL_REVIEW_REJECTED or DISBURSED.
    pub borrow_status: Option<String>,
    /// 1 while a confirm-borrow waits for the account.
    pub borrow_deferred: i64,
    /// 1 once the 新网 account is open.
    pub account_opened: i64,
    /// Last change.
    pub updated_at: String,
}

/// One callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct CallbackRow {
    /// Id.
    pub callback_id: String,
    /// Partner code or CORE_SYSTEM.
    pub target: String,
    /// What about.
    pub kind: String,
    /// The order it is about.
    pub subject: String,
    /// Where it goes.
    pub url: String,
    /// PENDING, DELIVERED or FAILED.
    pub status: String,
    /// Attempts in the current budget.
    pub attempts: i64,
    /// The last error.
    pub last_error: Option<String>,
    /// When the next attempt is due.
    pub next_at: Option<String>,
    /// Last change.
    pub updated_at: String,
}

async fn run(
    conn: &mut AnyConnection,
    sql: &str,
    args: &[Option<String>],
) -> Result<(), sqlx::Error> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = query.bind(arg.clone());
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

fn status(s: PartnerOrderStatus) -> (Option<String>, Option<String>) {
    (Some(domain::wire_name(&s)), s.code().map(|c| c.to_string()))
}

impl Projection for Partners {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn snapshot(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        Self::all_rows(pool).await
    }

    fn tables(&self) -> &'static [&'static str] {
        &["partner_orders", "callbacks"]
    }

    fn reads(&self, event: &StoredEvent) -> bool {
        [ORDER, CALLBACK].contains(&event.aggregate_type.as_str())
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), WorkerError> {
        let at = Some(rfc3339(event.metadata.recorded_at));
        let id = Some(event.aggregate_id.clone());
        if event.aggregate_type == ORDER {
            use PartnerOrderStatus as S;
            const SET_STATUS: &str = "UPDATE partner_orders SET status = $1, status_code = CAST($2 AS INTEGER), updated_at = $3 WHERE order_id = $4";
            match decode::<PartnerOrderEvent>(event)? {
                PartnerOrderEvent::OrderPushed(d) => {
                    sqlx::query(
                        "INSERT INTO partner_orders (order_id, partner, order_no, partner_uid, customer_name,
                            id_number, phone, status, status_code, borrow_deferred, account_opened, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 'PUSHED', 0, 0, 0, $8)",
                    )
                    .bind(&event.aggregate_id)
                    .bind(&d.partner)
                    .bind(&d.order_no)
                    .bind(&d.partner_uid)
                    .bind(&d.customer_name)
                    .bind(&d.id_number)
                    .bind(&d.phone)
                    .bind(at.clone())
                    .execute(&mut *conn)
                    .await?;
                }
                e @ (PartnerOrderEvent::OperatorDataPulled
                | PartnerOrderEvent::OrderParsed
                | PartnerOrderEvent::CreditRequested
                | PartnerOrderEvent::CreditRefused { .. }) => {
                    let s = match e {
                        PartnerOrderEvent::OperatorDataPulled => S::AwaitingParse,
                        PartnerOrderEvent::OrderParsed => S::AwaitingCredit,
                        PartnerOrderEvent::CreditRequested => S::CreditInProgress,
                        _ => S::Cancelled,
                    };
                    let (name, code) = status(s);
                    run(conn, SET_STATUS, &[name, code, at, id]).await?;
                }
                PartnerOrderEvent::CreditApproved { limit, .. } => {
                    let (name, code) = status(S::CreditApproved);
                    run(conn, SET_STATUS, &[name, code, at.clone(), id.clone()]).await?;
                    run(
                        conn,
                        "UPDATE partner_orders SET credit_limit = $1 WHERE order_id = $2",
                        &[limit.map(|l| l.to_string()), id],
                    )
                    .await?;
                }
                PartnerOrderEvent::BorrowDeferred(r) => {
                    run(conn, "UPDATE partner_orders SET borrow_deferred = 1, borrow_amount = $1, borrow_term = CAST($2 AS INTEGER), updated_at = $3 WHERE order_id = $4",
                        &[Some(r.amount.to_string()), Some(r.term_months.to_string()), at, id]).await?;
                }
                PartnerOrderEvent::AccountOpened => {
                    run(conn, "UPDATE partner_orders SET account_opened = 1, updated_at = $1 WHERE order_id = $2", &[at, id]).await?;
                }
                PartnerOrderEvent::BorrowConfirmed(r) => {
                    let (name, code) = status(S::Processed);
                    run(conn, SET_STATUS, &[name, code, at.clone(), id.clone()]).await?;
                    run(conn, "UPDATE partner_orders SET borrow_deferred = 0, borrow_amount = $1, borrow_term = CAST($2 AS INTEGER), borrow_status = 'IN_PROGRESS' WHERE order_id = $3",
                        &[Some(r.amount.to_string()), Some(r.term_months.to_string()), id]).await?;
                }
                PartnerOrderEvent::BorrowAuditRejected | PartnerOrderEvent::BorrowDisbursed => {
                    let borrow = if event.event_type == "BorrowDisbursed" {
                        "DISBURSED"
                    } else {
                        "MANUAL_REVIEW_REJECTED"
                    };
                    run(conn, "UPDATE partner_orders SET borrow_status = $1, updated_at = $2 WHERE order_id = $3", &[Some(borrow.into()), at, id]).await?;
                }
                // Cards are answered from the order itself (the bind-card operation).
                PartnerOrderEvent::CardBound { .. } => {}
            }
        } else if event.aggregate_type == CALLBACK {
            match decode::<CallbackEvent>(event)? {
                CallbackEvent::CallbackScheduled { request, .. } => {
                    sqlx::query(
                        "INSERT INTO callbacks (callback_id, target, kind, subject, url, status, attempts, updated_at)
                         VALUES ($1, $2, $3, $4, $5, 'PENDING', 0, $6)",
                    )
                    .bind(&event.aggregate_id)
                    .bind(&request.target)
                    .bind(&request.kind)
                    .bind(&request.subject)
                    .bind(&request.url)
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                }
                CallbackEvent::CallbackAttemptFailed {
                    attempt,
                    error,
                    next_at,
                } => {
                    run(conn, "UPDATE callbacks SET attempts = CAST($1 AS INTEGER), last_error = $2, next_at = $3, updated_at = $4 WHERE callback_id = $5",
                        &[Some(attempt.to_string()), Some(error), Some(rfc3339(next_at)), at, id]).await?;
                }
                CallbackEvent::CallbackDelivered { attempt } => {
                    run(conn, "UPDATE callbacks SET status = 'DELIVERED', attempts = CAST($1 AS INTEGER), next_at = NULL, updated_at = $2 WHERE callback_id = $3",
                        &[Some(attempt.to_string()), at, id]).await?;
                }
                CallbackEvent::CallbackFailed {
                    attempts,
                    last_error,
                } => {
                    run(conn, "UPDATE callbacks SET status = 'FAILED', attempts = CAST($1 AS INTEGER), last_error = $2, next_at = NULL, updated_at = $3 WHERE callback_id = $4",
                        &[Some(attempts.to_string()), Some(last_error), at, id]).await?;
                }
                CallbackEvent::CallbackRetried => {
                    run(conn, "UPDATE callbacks SET status = 'PENDING', attempts = 0, updated_at = $1 WHERE callback_id = $2", &[at, id]).await?;
                }
            }
        }
        Ok(())
    }
}

const ORDER_COLUMNS: &str =
    "order_id, partner, order_no, partner_uid, customer_name, id_number, phone,
    status, status_code, credit_limit, borrow_amount, borrow_term, borrow_status, borrow_deferred,
    account_opened, updated_at";
const CALLBACK_COLUMNS: &str =
    "callback_id, target, kind, subject, url, status, attempts, last_error, next_at, updated_at";

impl Partners {
    /// One order.
    pub async fn order(
        pool: &AnyPool,
        order_id: &str,
    ) -> Result<Option<PartnerOrderRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {ORDER_COLUMNS} FROM partner_orders WHERE order_id = $1"
        ))
        .bind(order_id)
        .fetch_optional(pool)
        .await
    }

    /// Orders of a person (by ID number) refused (授信 4/5, or 人工复审拒绝) at
    /// or after `since` (RFC 3339): 002 item 25 可借日期.
    pub async fn refused_since(
        pool: &AnyPool,
        id_number: &str,
        since: &str,
    ) -> Result<Vec<PartnerOrderRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {ORDER_COLUMNS} FROM partner_orders WHERE id_number = $1
               AND (status_code IN (4, 5) OR borrow_status = 'MANUAL_REVIEW_REJECTED')
               AND updated_at >= $2 ORDER BY updated_at DESC"
        ))
        .bind(id_number)
        .bind(since)
        .fetch_all(pool)
        .await
    }

    /// Orders of a person (by ID number) not yet finished: open in 0/2/10/11/12.
    pub async fn open_orders_of(
        pool: &AnyPool,
        id_number: &str,
    ) -> Result<Vec<PartnerOrderRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {ORDER_COLUMNS} FROM partner_orders WHERE id_number = $1
               AND status_code IN (0, 2, 10, 11, 12) ORDER BY order_id"
        ))
        .bind(id_number)
        .fetch_all(pool)
        .await
    }

    /// Callbacks in a status (FAILED: the incidents), newest first.
    pub async fn callbacks(
        pool: &AnyPool,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CallbackRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE ($1 IS NULL OR status = $2)
              ORDER BY updated_at DESC, callback_id LIMIT $3"
        ))
        .bind(status.map(str::to_string))
        .bind(status.map(str::to_string))
        .bind(limit)
        .fetch_all(pool)
        .await
    }

    /// One callback.
    pub async fn callback(pool: &AnyPool, id: &str) -> Result<Option<CallbackRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE callback_id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await
    }

    /// Every row, as JSON lines: what a rebuild must reproduce.
    pub async fn all_rows(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        let orders: Vec<PartnerOrderRow> = sqlx::query_as(&format!(
            "SELECT {ORDER_COLUMNS} FROM partner_orders ORDER BY order_id"
        ))
        .fetch_all(pool)
        .await?;
        let callbacks: Vec<CallbackRow> = sqlx::query_as(&format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks ORDER BY callback_id"
        ))
        .fetch_all(pool)
        .await?;
        Ok(orders
            .iter()
            .map(|r| serde_json::to_string(r).unwrap_or_default())
            .chain(
                callbacks
                    .iter()
                    .map(|r| serde_json::to_string(r).unwrap_or_default()),
            )
            .collect())
    }
}
