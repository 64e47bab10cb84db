//! Loan applications with their node history, and the lineage of interview tasks
//! per contract: every task in order, with the transition, actor and reason that
//! created or superseded it (001: 逆向数据留痕可追溯).

use domain::interview_task::InterviewTaskEvent;
use domain::loan_application::{LoanEvent, Node, Product};
use domain::log::StoredEvent;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::runner::Projection;
use store::worker::{bad_event, WorkerError};

/// Projection name in checkpoints and `facesign replay --projection`.
pub const NAME: &str = "loan_lineage";

/// The loan and lineage projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoanLineage;

/// A loan application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct LoanRow {
    /// Application no.
    pub loan_id: String,
    /// Contract.
    pub contract_no: String,
    /// Amount (decimal text).
    pub amount: String,
    /// Current node (stored name).
    pub node: String,
    /// The interview task it waits on.
    pub interview_task: Option<String>,
    /// RFC 3339.
    pub updated_at: String,
    /// The disbursement request the core has not answered yet (放款中).
    pub disbursement_request: Option<String>,
    /// The product (stored name); none in rows not rebuilt since issue 32.
    pub product: Option<String>,
    /// Who approves: AUTOMATIC or MANUAL (融信秒贷).
    pub route: Option<String>,
    /// 贷款期限 chosen (months).
    pub term_months: Option<i64>,
    /// 贷款用途.
    pub purpose: Option<String>,
    /// The credit system's offer (JSON of `CreditOffer`).
    pub credit_offer: Option<String>,
    /// The contract's terms as they stand (JSON of `ContractTerms`).
    pub contract_terms: Option<String>,
    /// The amount in fen.
    pub amount_fen: Option<i64>,
    /// The Asia/Shanghai day it was submitted (YYYY-MM-DD).
    pub submitted_on: Option<String>,
    /// The branch (分行).
    pub branch: Option<String>,
    /// The channel.
    pub channel_code: Option<String>,
}

/// What the back office filters the loan list by (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoanListFilter {
    /// Current node (stored name).
    pub node: Option<String>,
    /// Product (stored name).
    pub product: Option<String>,
    /// AUTOMATIC or MANUAL.
    pub route: Option<String>,
    /// Branch.
    pub branch: Option<String>,
    /// Submitted on or after (YYYY-MM-DD, Asia/Shanghai).
    pub from: Option<String>,
    /// Submitted on or before.
    pub to: Option<String>,
}

/// The filter's conditions, with `$1`..`$6` bound by [`bind_filter`].
const FILTER: &str = "($1 = '' OR node = $1) AND ($2 = '' OR product = $2) AND ($3 = '' OR route = $3)
    AND ($4 = '' OR branch = $4) AND ($5 = '' OR submitted_on >= $5) AND ($6 = '' OR submitted_on <= $6)";

fn bind_filter<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    filter: &'q LoanListFilter,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    let text = |v: &'q Option<String>| v.as_deref().unwrap_or("");
    query
        .bind(text(&filter.node))
        .bind(text(&filter.product))
        .bind(text(&filter.route))
        .bind(text(&filter.branch))
        .bind(text(&filter.from))
        .bind(text(&filter.to))
}

/// Loans and amounts in one state.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct NodeTotal {
    /// The node.
    pub node: String,
    /// How many loans.
    pub loans: i64,
    /// Their amounts, in fen.
    pub amount_fen: i64,
}

/// How many moves of a kind happened on a day.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct DayMoves {
    /// YYYY-MM-DD (Asia/Shanghai).
    pub day: String,
    /// APPROVE, DECLINE, DISBURSE, DISBURSEMENT_FAILED, SETTLE…
    pub kind: String,
    /// How many.
    pub moves: i64,
}

/// A consent, verification or signature on a loan: who, when, which version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct EvidenceRow {
    /// Application no.
    pub loan_id: String,
    /// Event sequence.
    pub sequence: i64,
    /// CONSENT, VERIFICATION or SIGNATURE.
    pub kind: String,
    /// The text, the verification's purpose, or CONTRACT.
    pub subject: String,
    /// The text's or the terms' version.
    pub version: Option<String>,
    /// The purpose declared, PASSED / FAILED, or the signed terms' digest.
    pub detail: Option<String>,
    /// Who.
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
    /// When (RFC 3339).
    pub at: String,
}

/// A request the core has not answered in time (人工落地), open or resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct ManualCaseRow {
    /// Application no.
    pub loan_id: String,
    /// The request.
    pub request_id: String,
    /// The loan's contract.
    pub contract_no: String,
    /// DISBURSEMENT or REPAYMENT.
    pub kind: String,
    /// The amount asked (decimal text).
    pub amount: String,
    /// When it was asked of the core (RFC 3339).
    pub requested_at: String,
    /// When the case opened.
    pub opened_at: String,
    /// How long it had waited then, in seconds.
    pub waited_secs: i64,
    /// OPEN or RESOLVED.
    pub status: String,
    /// PAID, FAILED, RECEIVED or DEBIT_FAILED.
    pub outcome: Option<String>,
    /// The core's voucher.
    pub core_reference: Option<String>,
    /// The operator's note.
    pub note: Option<String>,
    /// Who resolved it.
    pub resolved_by: Option<String>,
    /// In which role.
    pub resolved_role: Option<String>,
    /// When.
    pub resolved_at: Option<String>,
}

/// A request the core has not answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct WaitingRequestRow {
    /// Application no.
    pub loan_id: String,
    /// The request.
    pub request_id: String,
    /// DISBURSEMENT or REPAYMENT.
    pub kind: String,
    /// When it was asked (RFC 3339).
    pub requested_at: String,
}

const MANUAL_CASE_COLUMNS: &str = "loan_id, request_id, contract_no, kind, amount, requested_at,
    opened_at, waited_secs, status, outcome, core_reference, note, resolved_by, resolved_role,
    resolved_at";

/// Records a request asked of the core.
async fn core_request(
    conn: &mut AnyConnection,
    event: &StoredEvent,
    request_id: &str,
    kind: &str,
    amount: &rust_decimal::Decimal,
) -> Result<(), WorkerError> {
    sqlx::query(
        "INSERT INTO core_requests (loan_id, request_id, kind, amount, requested_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&event.aggregate_id)
    .bind(request_id)
    .bind(kind)
    .bind(amount.to_string())
    .bind(domain::log::rfc3339(event.metadata.recorded_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks a request answered by the core (or by hand).
async fn core_answered(
    conn: &mut AnyConnection,
    event: &StoredEvent,
    request_id: &str,
) -> Result<(), WorkerError> {
    sqlx::query(
        "UPDATE core_requests SET answered_at = $1
          WHERE loan_id = $2 AND request_id = $3 AND answered_at IS NULL",
    )
    .bind(domain::log::rfc3339(event.metadata.recorded_at))
    .bind(&event.aggregate_id)
    .bind(request_id)
    .execute(&mut *conn)
    .await?;
    // The core answered after all: a case still open is closed by it.
    sqlx::query(
        "UPDATE manual_cases SET status = 'RESOLVED', outcome = 'ANSWERED_BY_CORE',
                resolved_by = $1, resolved_role = $2, resolved_at = $3
          WHERE loan_id = $4 AND request_id = $5 AND status = 'OPEN'",
    )
    .bind(&event.metadata.actor_id)
    .bind(&event.metadata.actor_role)
    .bind(domain::log::rfc3339(event.metadata.recorded_at))
    .bind(&event.aggregate_id)
    .bind(request_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A 合同下载 request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct ContractDownloadRow {
    /// Application no.
    pub loan_id: String,
    /// The request.
    pub request_id: String,
    /// Where the archive goes.
    pub email: String,
    /// 解压码 (from `contract_download_secrets`).
    pub archive_password: Option<String>,
    /// PENDING, SENT or FAILED.
    pub status: String,
    /// When asked (RFC 3339).
    pub requested_at: String,
    /// When sent or failed.
    pub settled_at: Option<String>,
    /// Why it failed.
    pub failure: Option<String>,
}

const DOWNLOAD_COLUMNS: &str =
    "loan_id, request_id, email, status, requested_at, settled_at, failure";

/// A request with its password, joined from the secrets kept outside the log.
const DOWNLOAD_SELECT: &str =
    "SELECT d.loan_id, d.request_id, d.email, s.archive_password, d.status,
    d.requested_at, d.settled_at, d.failure
    FROM contract_downloads d LEFT JOIN contract_download_secrets s
      ON s.loan_id = d.loan_id AND s.request_id = d.request_id";

/// Settles a contract download request.
async fn settle_download(
    conn: &mut AnyConnection,
    event: &StoredEvent,
    request_id: &str,
    status: &str,
    failure: Option<String>,
) -> Result<(), WorkerError> {
    sqlx::query(
        "UPDATE contract_downloads SET status = $1, settled_at = $2, failure = $3
          WHERE loan_id = $4 AND request_id = $5",
    )
    .bind(status)
    .bind(domain::log::rfc3339(event.metadata.recorded_at))
    .bind(failure)
    .bind(&event.aggregate_id)
    .bind(request_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const LOAN_COLUMNS: &str = "loan_id, contract_no, amount, node, interview_task, updated_at,
    disbursement_request, product, route, term_months, purpose, credit_offer, contract_terms,
    amount_fen, submitted_on, branch, channel_code";

const EVIDENCE_COLUMNS: &str =
    "loan_id, sequence, kind, subject, version, detail, actor_id, actor_role, at";

async fn evidence(
    conn: &mut AnyConnection,
    event: &StoredEvent,
    kind: &str,
    subject: &str,
    version: Option<String>,
    detail: Option<String>,
) -> Result<(), WorkerError> {
    sqlx::query(&format!(
        "INSERT INTO loan_evidence ({EVIDENCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&event.aggregate_id)
    .bind(event.sequence)
    .bind(kind)
    .bind(subject)
    .bind(version)
    .bind(detail)
    .bind(&event.metadata.actor_id)
    .bind(&event.metadata.actor_role)
    .bind(domain::log::rfc3339(event.metadata.recorded_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets one column of a loan's row (`column` is one of ours, never input).
async fn set(
    conn: &mut AnyConnection,
    loan_id: &str,
    column: &'static str,
    value: Option<String>,
) -> Result<(), WorkerError> {
    sqlx::query(&format!(
        "UPDATE loan_applications SET {column} = $1 WHERE loan_id = $2"
    ))
    .bind(value)
    .bind(loan_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets a loan's amount (none: not yet chosen).
async fn set_amount(
    conn: &mut AnyConnection,
    loan_id: &str,
    amount: Option<rust_decimal::Decimal>,
) -> Result<(), WorkerError> {
    sqlx::query("UPDATE loan_applications SET amount = $1, amount_fen = $2 WHERE loan_id = $3")
        .bind(amount.map(|a| a.to_string()).unwrap_or_default())
        .bind(amount.map(crate::loan_ledger::fen_of))
        .bind(loan_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("a loan's terms serialise")
}

/// One move of a loan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct NodeChangeRow {
    /// Application no.
    pub loan_id: String,
    /// Event sequence.
    pub sequence: i64,
    /// SUBMIT, ADVANCE or ROLL_BACK.
    pub kind: String,
    /// From.
    pub from_node: String,
    /// To.
    pub to_node: String,
    /// Why (roll-backs).
    pub reason: Option<String>,
    /// Who.
    pub actor_id: String,
    /// Role.
    pub actor_role: String,
    /// When.
    pub at: String,
    /// The Asia/Shanghai day (none in rows not rebuilt since issue 32).
    pub day: Option<String>,
}

/// One task of a contract's lineage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct LineageRow {
    /// Task.
    pub task_id: String,
    /// Contract.
    pub contract_no: String,
    /// Loan, when a loan flow opened it.
    pub loan_id: Option<String>,
    /// 1 for the first task of the contract, then 2, 3...
    pub round: i64,
    /// The task it replaced.
    pub supersedes: Option<String>,
    /// The task that replaced it.
    pub superseded_by: Option<String>,
    /// The loan transition that opened it.
    pub transition: String,
    /// Why it was opened (roll-back reason).
    pub reason: Option<String>,
    /// Who caused it.
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
    /// When.
    pub created_at: String,
    /// The transition that superseded it.
    pub superseded_transition: Option<String>,
    /// Why it was superseded.
    pub superseded_reason: Option<String>,
    /// When it was superseded.
    pub superseded_at: Option<String>,
}

async fn history(
    conn: &mut AnyConnection,
    event: &StoredEvent,
    kind: &str,
    from: &str,
    to: &str,
    reason: Option<&str>,
) -> Result<(), WorkerError> {
    let at = domain::log::rfc3339(event.metadata.recorded_at);
    sqlx::query(
        "INSERT INTO loan_node_history (loan_id, sequence, kind, from_node, to_node, reason, actor_id, actor_role, at, day)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&event.aggregate_id)
    .bind(event.sequence)
    .bind(kind)
    .bind(from)
    .bind(to)
    .bind(reason.map(str::to_string))
    .bind(&event.metadata.actor_id)
    .bind(&event.metadata.actor_role)
    .bind(&at)
    .bind(domain::schedule::shanghai_date(event.metadata.recorded_at).to_string())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE loan_applications SET node = $1, updated_at = $2 WHERE loan_id = $3")
        .bind(to)
        .bind(&at)
        .bind(&event.aggregate_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records the disbursement request waiting for the core (or none).
async fn pending_request(
    conn: &mut AnyConnection,
    loan_id: &str,
    request_id: Option<&str>,
) -> Result<(), WorkerError> {
    sqlx::query("UPDATE loan_applications SET disbursement_request = $1 WHERE loan_id = $2")
        .bind(request_id.map(str::to_string))
        .bind(loan_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Projection for LoanLineage {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn snapshot(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        Self::all_rows(pool).await
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "loan_applications",
            "loan_node_history",
            "task_lineage",
            "loan_evidence",
            "core_requests",
            "manual_cases",
            "contract_downloads",
        ]
    }

    fn reads(&self, event: &StoredEvent) -> bool {
        [
            domain::loan_application::AGGREGATE_TYPE,
            domain::interview_task::AGGREGATE_TYPE,
        ]
        .contains(&event.aggregate_type.as_str())
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), WorkerError> {
        let at = domain::log::rfc3339(event.metadata.recorded_at);
        match event.aggregate_type.as_str() {
            domain::loan_application::AGGREGATE_TYPE => {
                let decoded: LoanEvent = serde_json::from_value(event.payload.clone())
                    .map_err(|e| bad_event(event, e))?;
                match decoded {
                    LoanEvent::LoanSubmitted {
                        product,
                        contract_no,
                        amount,
                        term_months,
                        purpose,
                        branch,
                        channel_code,
                        ..
                    } => {
                        let first = match product {
                            Product::Yongxu => Node::Submitted,
                            Product::RongxinMiaodai => Node::Applying,
                            Product::Partner => Node::Disbursing,
                        };
                        sqlx::query(
                            "INSERT INTO loan_applications (loan_id, contract_no, amount, node, updated_at,
                                                            product, term_months, purpose, amount_fen,
                                                            submitted_on, branch, channel_code)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                        )
                        .bind(&event.aggregate_id)
                        .bind(contract_no)
                        // No amount yet: 融信秒贷 chooses it after approval.
                        .bind(amount.map(|a| a.to_string()).unwrap_or_default())
                        .bind(domain::wire_name(&first))
                        .bind(&at)
                        .bind(domain::wire_name(&product))
                        .bind(term_months.map(i64::from))
                        .bind(purpose)
                        .bind(amount.map(crate::loan_ledger::fen_of))
                        .bind(domain::schedule::shanghai_date(event.metadata.recorded_at).to_string())
                        .bind(branch)
                        .bind(channel_code)
                        .execute(&mut *conn)
                        .await?;
                        history(
                            conn,
                            event,
                            "SUBMIT",
                            &domain::wire_name(&first),
                            &domain::wire_name(&first),
                            None,
                        )
                        .await?;
                    }
                    LoanEvent::ApprovalRequested { route, amount, .. } => {
                        set(
                            conn,
                            &event.aggregate_id,
                            "route",
                            Some(domain::wire_name(&route)),
                        )
                        .await?;
                        if route == domain::loan_application::ApprovalRoute::Automatic {
                            set_amount(conn, &event.aggregate_id, amount).await?;
                        }
                        let reason = format!("route {}", domain::wire_name(&route));
                        history(
                            conn,
                            event,
                            "SUBMIT_FOR_APPROVAL",
                            "APPLYING",
                            "APPROVING",
                            Some(&reason),
                        )
                        .await?;
                    }
                    LoanEvent::LoanApproved { offer, .. } => {
                        if let Some(offer) = offer {
                            set(
                                conn,
                                &event.aggregate_id,
                                "credit_offer",
                                Some(json(&offer)),
                            )
                            .await?;
                        }
                        history(
                            conn,
                            event,
                            "APPROVE",
                            "APPROVING",
                            "AWAITING_DISBURSEMENT",
                            None,
                        )
                        .await?;
                    }
                    LoanEvent::LoanDeclined { reason } => {
                        history(
                            conn,
                            event,
                            "DECLINE",
                            "APPROVING",
                            "DECLINED",
                            Some(&reason),
                        )
                        .await?;
                    }
                    LoanEvent::LoanResubmitted {
                        amount,
                        term_months,
                        purpose,
                    } => {
                        set_amount(conn, &event.aggregate_id, amount).await?;
                        sqlx::query(
                            "UPDATE loan_applications SET term_months = $1, purpose = $2,
                                    route = NULL, credit_offer = NULL, contract_terms = NULL
                              WHERE loan_id = $3",
                        )
                        .bind(term_months.map(i64::from))
                        .bind(purpose)
                        .bind(&event.aggregate_id)
                        .execute(&mut *conn)
                        .await?;
                        history(conn, event, "RESUBMIT", "DECLINED", "APPLYING", None).await?;
                    }
                    LoanEvent::DisbursementRequested {
                        request_id, amount, ..
                    } => {
                        core_request(conn, event, &request_id, "DISBURSEMENT", &amount).await?;
                        pending_request(conn, &event.aggregate_id, Some(&request_id)).await?;
                        history(
                            conn,
                            event,
                            "REQUEST_DISBURSEMENT",
                            "AWAITING_DISBURSEMENT",
                            "DISBURSING",
                            None,
                        )
                        .await?;
                    }
                    LoanEvent::DisbursementFailed {
                        reason, request_id, ..
                    } => {
                        core_answered(conn, event, &request_id).await?;
                        pending_request(conn, &event.aggregate_id, None).await?;
                        history(
                            conn,
                            event,
                            "DISBURSEMENT_FAILED",
                            "DISBURSING",
                            "AWAITING_DISBURSEMENT",
                            Some(&reason),
                        )
                        .await?;
                    }
                    LoanEvent::LoanDisbursed { disbursement, .. } => {
                        if let Some(d) = &disbursement {
                            core_answered(conn, event, &d.request_id).await?;
                        }
                        pending_request(conn, &event.aggregate_id, None).await?;
                        // Before disbursement went through the core, the
                        // confirmation disbursed at once.
                        let from = if disbursement.is_some() {
                            "DISBURSING"
                        } else {
                            "AWAITING_DISBURSEMENT"
                        };
                        history(conn, event, "DISBURSE", from, "DISBURSED", None).await?;
                    }
                    LoanEvent::LoanSettled { .. } => {
                        history(conn, event, "SETTLE", "DISBURSED", "SETTLED", None).await?;
                    }
                    LoanEvent::RepaymentRequested {
                        repayment_no,
                        amount,
                    } => core_request(conn, event, &repayment_no, "REPAYMENT", &amount).await?,
                    LoanEvent::RepaymentReceived { repayment_no, .. }
                    | LoanEvent::AutoDebitFailed { repayment_no, .. } => {
                        if let Some(no) = repayment_no {
                            core_answered(conn, event, &no).await?;
                        }
                    }
                    LoanEvent::ManualCaseOpened {
                        kind,
                        request_id,
                        requested_at,
                        waited_secs,
                    } => {
                        sqlx::query(&format!(
                            "INSERT INTO manual_cases ({MANUAL_CASE_COLUMNS})
                             SELECT r.loan_id, r.request_id, l.contract_no, $1, r.amount, $2, $3, $4,
                                    'OPEN', NULL, NULL, NULL, NULL, NULL, NULL
                               FROM core_requests r JOIN loan_applications l ON l.loan_id = r.loan_id
                              WHERE r.loan_id = $5 AND r.request_id = $6"
                        ))
                        .bind(domain::wire_name(&kind))
                        .bind(domain::log::rfc3339(requested_at))
                        .bind(&at)
                        .bind(waited_secs)
                        .bind(&event.aggregate_id)
                        .bind(&request_id)
                        .execute(&mut *conn)
                        .await?;
                    }
                    LoanEvent::ManualCaseResolved {
                        request_id,
                        core_reference,
                        note,
                        outcome,
                    } => {
                        sqlx::query(
                            "UPDATE manual_cases SET status = 'RESOLVED', outcome = $1, core_reference = $2,
                                    note = $3, resolved_by = $4, resolved_role = $5, resolved_at = $6
                              WHERE loan_id = $7 AND request_id = $8",
                        )
                        .bind(outcome)
                        .bind(core_reference)
                        .bind(note)
                        .bind(&event.metadata.actor_id)
                        .bind(&event.metadata.actor_role)
                        .bind(&at)
                        .bind(&event.aggregate_id)
                        .bind(&request_id)
                        .execute(&mut *conn)
                        .await?;
                    }
                    LoanEvent::LoanAmountChosen {
                        amount,
                        term_months,
                        route,
                        terms,
                    } => {
                        set_amount(conn, &event.aggregate_id, Some(amount)).await?;
                        sqlx::query(
                            "UPDATE loan_applications SET term_months = $1, route = $2,
                                    contract_terms = $3
                              WHERE loan_id = $4",
                        )
                        .bind(i64::from(term_months))
                        .bind(domain::wire_name(&route))
                        .bind(terms.as_ref().map(json))
                        .bind(&event.aggregate_id)
                        .execute(&mut *conn)
                        .await?;
                        // Above the online limit a manager approves (003 进度查询 3).
                        let to = if route == domain::loan_application::ApprovalRoute::Manual {
                            "APPROVING"
                        } else {
                            "AWAITING_DISBURSEMENT"
                        };
                        let reason = format!("amount {amount}, {term_months} months");
                        history(
                            conn,
                            event,
                            "CHOOSE_AMOUNT",
                            "AWAITING_DISBURSEMENT",
                            to,
                            Some(&reason),
                        )
                        .await?;
                    }
                    LoanEvent::SigningRateSet { terms, .. } => {
                        if let Some(terms) = terms {
                            set(
                                conn,
                                &event.aggregate_id,
                                "contract_terms",
                                Some(json(&terms)),
                            )
                            .await?;
                        }
                    }
                    LoanEvent::LoanDocumentAccepted {
                        document,
                        version,
                        purpose,
                    } => {
                        let subject = domain::wire_name(&document);
                        evidence(conn, event, "CONSENT", &subject, Some(version), purpose).await?;
                    }
                    // 001 §2.3.1.1 item 14: the seat confirmed or corrected the figures.
                    LoanEvent::LoanInfoReviewed {
                        task_id,
                        seat_id,
                        corrected,
                        info,
                        ..
                    } => {
                        let kind = if corrected { "CORRECTED" } else { "CONFIRMED" };
                        // Evidence is shown to many roles: the account number masked.
                        let mut info = info;
                        info.repayment_account = info
                            .repayment_account
                            .as_deref()
                            .map(domain::pii::mask_card);
                        let detail = json(
                            &serde_json::json!({ "review": kind, "seat": seat_id, "figures": info }),
                        );
                        evidence(conn, event, "SEAT_REVIEW", &task_id, None, Some(detail)).await?;
                    }
                    LoanEvent::ContractDownloadRequested { request_id, email } => {
                        sqlx::query(&format!(
                            "INSERT INTO contract_downloads ({DOWNLOAD_COLUMNS})
                             VALUES ($1, $2, $3, 'PENDING', $4, NULL, NULL)"
                        ))
                        .bind(&event.aggregate_id)
                        .bind(request_id)
                        .bind(email)
                        .bind(&at)
                        .execute(&mut *conn)
                        .await?;
                    }
                    LoanEvent::ContractDelivered { request_id } => {
                        settle_download(conn, event, &request_id, "SENT", None).await?
                    }
                    LoanEvent::ContractDeliveryFailed { request_id, reason } => {
                        settle_download(conn, event, &request_id, "FAILED", Some(reason)).await?
                    }
                    LoanEvent::CustomerVerified { purpose, passed } => {
                        let outcome = if passed { "PASSED" } else { "FAILED" };
                        let subject = domain::wire_name(&purpose);
                        evidence(
                            conn,
                            event,
                            "VERIFICATION",
                            &subject,
                            None,
                            Some(outcome.into()),
                        )
                        .await?;
                    }
                    LoanEvent::ContractSigned {
                        contract: Some(contract),
                        ..
                    } => {
                        let version = Some(contract.version.to_string());
                        let digest = Some(contract.digest());
                        evidence(conn, event, "SIGNATURE", "CONTRACT", version, digest).await?;
                    }
                    LoanEvent::WhitelistChecked { .. }
                    | LoanEvent::FaceChecked { .. }
                    | LoanEvent::ContractSigned { contract: None, .. }
                    | LoanEvent::PlanRecalculated { .. }
                    | LoanEvent::InstallmentOverdue { .. }
                    | LoanEvent::RepaymentReminderDue { .. }
                    | LoanEvent::PrepaymentRequested { .. }
                    | LoanEvent::PrepaymentApproved { .. }
                    | LoanEvent::PrepaymentRefused { .. }
                    | LoanEvent::PrepaymentDebitNoticeDue { .. } => {}
                    LoanEvent::LoanAdvanced { from, to } => {
                        history(
                            conn,
                            event,
                            "ADVANCE",
                            &domain::wire_name(&from),
                            &domain::wire_name(&to),
                            None,
                        )
                        .await?;
                    }
                    LoanEvent::LoanRolledBack {
                        from, to, reason, ..
                    } => {
                        history(
                            conn,
                            event,
                            "ROLL_BACK",
                            &domain::wire_name(&from),
                            &domain::wire_name(&to),
                            Some(&reason),
                        )
                        .await?;
                    }
                    LoanEvent::InterviewTaskAttached { task_id } => {
                        sqlx::query(
                            "UPDATE loan_applications SET interview_task = $1 WHERE loan_id = $2",
                        )
                        .bind(task_id)
                        .bind(&event.aggregate_id)
                        .execute(&mut *conn)
                        .await?;
                    }
                    LoanEvent::InterviewPassed { .. } => {}
                }
            }
            domain::interview_task::AGGREGATE_TYPE => {
                let decoded: InterviewTaskEvent = serde_json::from_value(event.payload.clone())
                    .map_err(|e| bad_event(event, e))?;
                match decoded {
                    InterviewTaskEvent::InterviewTaskCreated(created) => {
                        let (round,): (i64,) = sqlx::query_as(
                            "SELECT COALESCE(MAX(round), 0) + 1 FROM task_lineage WHERE contract_no = $1",
                        )
                        .bind(&created.contract_no)
                        .fetch_one(&mut *conn)
                        .await?;
                        let lineage = created.lineage;
                        sqlx::query(
                            "INSERT INTO task_lineage (task_id, contract_no, loan_id, round, supersedes, transition,
                                                       reason, actor_id, actor_role, created_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                        )
                        .bind(&event.aggregate_id)
                        .bind(&created.contract_no)
                        .bind(lineage.as_ref().map(|l| l.loan_id.clone()))
                        .bind(round)
                        .bind(lineage.as_ref().and_then(|l| l.supersedes.clone()))
                        .bind(
                            lineage
                                .as_ref()
                                .map(|l| l.transition.clone())
                                .unwrap_or_else(|| "直接创建".to_string()),
                        )
                        .bind(lineage.as_ref().and_then(|l| l.reason.clone()))
                        .bind(
                            lineage
                                .as_ref()
                                .map(|l| l.actor_id.clone())
                                .unwrap_or_else(|| event.metadata.actor_id.clone()),
                        )
                        .bind(
                            lineage
                                .as_ref()
                                .map(|l| l.actor_role.clone())
                                .unwrap_or_else(|| event.metadata.actor_role.clone()),
                        )
                        .bind(&at)
                        .execute(&mut *conn)
                        .await?;
                    }
                    InterviewTaskEvent::InterviewTaskSuperseded {
                        successor_id,
                        transition,
                        reason,
                        ..
                    } => {
                        sqlx::query(
                            "UPDATE task_lineage SET superseded_by = $1, superseded_transition = $2,
                                    superseded_reason = $3, superseded_at = $4
                              WHERE task_id = $5",
                        )
                        .bind(successor_id)
                        .bind(transition)
                        .bind(reason)
                        .bind(&at)
                        .bind(&event.aggregate_id)
                        .execute(&mut *conn)
                        .await?;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }
}

const LINEAGE_COLUMNS: &str = "task_id, contract_no, loan_id, round, supersedes, superseded_by,
    transition, reason, actor_id, actor_role, created_at, superseded_transition, superseded_reason,
    superseded_at";

impl LoanLineage {
    /// A loan application.
    pub async fn loan(pool: &AnyPool, loan_id: &str) -> Result<Option<LoanRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {LOAN_COLUMNS} FROM loan_applications WHERE loan_id = $1"
        ))
        .bind(loan_id)
        .fetch_optional(pool)
        .await
    }

    /// Requests the core has not answered, asked at or before `cutoff`
    /// (RFC 3339) and not yet a manual case, oldest first, at most `limit`.
    pub async fn unanswered_before(
        pool: &AnyPool,
        cutoff: &str,
        limit: i64,
    ) -> Result<Vec<WaitingRequestRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT r.loan_id, r.request_id, r.kind, r.requested_at FROM core_requests r
              WHERE r.answered_at IS NULL AND r.requested_at <= $1
                AND NOT EXISTS (SELECT 1 FROM manual_cases m
                                 WHERE m.loan_id = r.loan_id AND m.request_id = r.request_id)
              ORDER BY r.requested_at LIMIT $2",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(pool)
        .await
    }

    /// Manual cases of `status` (all when none), oldest first, a page after
    /// (`opened_at`, `loan_id`, `request_id`).
    pub async fn manual_cases(
        pool: &AnyPool,
        status: Option<&str>,
        after: Option<(&str, &str, &str)>,
        limit: i64,
    ) -> Result<Vec<ManualCaseRow>, sqlx::Error> {
        let (opened, loan, request) = after.unwrap_or(("", "", ""));
        sqlx::query_as(&format!(
            "SELECT {MANUAL_CASE_COLUMNS} FROM manual_cases
              WHERE ($1 = '' OR status = $1)
                AND (opened_at > $2 OR (opened_at = $2 AND (loan_id > $3 OR (loan_id = $3 AND request_id > $4))))
              ORDER BY opened_at, loan_id, request_id LIMIT $5"
        ))
        .bind(status.unwrap_or(""))
        .bind(opened)
        .bind(loan)
        .bind(request)
        .bind(limit)
        .fetch_all(pool)
        .await
    }

    /// The loans matching `filter` after `after` (by id), at most `limit`, and
    /// how many match in all.
    pub async fn list(
        pool: &AnyPool,
        filter: &LoanListFilter,
        after: &str,
        limit: i64,
    ) -> Result<(Vec<LoanRow>, i64), sqlx::Error> {
        let page = format!(
            "SELECT {LOAN_COLUMNS} FROM loan_applications WHERE {FILTER} AND loan_id > $7
              ORDER BY loan_id LIMIT $8"
        );
        let rows = bind_filter(sqlx::query_as(&page), filter)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?;
        let total = format!("SELECT COUNT(*) FROM loan_applications WHERE {FILTER}");
        let (count,): (i64,) = bind_filter(sqlx::query_as(&total), filter)
            .fetch_one(pool)
            .await?;
        Ok((rows, count))
    }

    /// Loans and amounts by current node, among those matching `filter`.
    pub async fn node_totals(
        pool: &AnyPool,
        filter: &LoanListFilter,
    ) -> Result<Vec<NodeTotal>, sqlx::Error> {
        let query = format!(
            "SELECT node, COUNT(*) AS loans, CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS amount_fen
               FROM loan_applications WHERE {FILTER} GROUP BY node ORDER BY node"
        );
        bind_filter(sqlx::query_as(&query), filter)
            .fetch_all(pool)
            .await
    }

    /// Moves per Asia/Shanghai day and kind from `from` to `to` inclusive.
    pub async fn moves_by_day(
        pool: &AnyPool,
        from: &str,
        to: &str,
    ) -> Result<Vec<DayMoves>, sqlx::Error> {
        sqlx::query_as(
            "SELECT day, kind, COUNT(*) AS moves FROM loan_node_history
              WHERE day >= $1 AND day <= $2 GROUP BY day, kind ORDER BY day, kind",
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
    }

    /// Failed disbursements (放款失败) from `from` to `to`, newest first, with
    /// the core's reason, at most `limit`.
    pub async fn failed_disbursements(
        pool: &AnyPool,
        from: &str,
        to: &str,
        limit: i64,
    ) -> Result<Vec<NodeChangeRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT loan_id, sequence, kind, from_node, to_node, reason, actor_id, actor_role, at, day
               FROM loan_node_history
              WHERE kind = 'DISBURSEMENT_FAILED' AND day >= $1 AND day <= $2
              ORDER BY at DESC, loan_id LIMIT $3",
        )
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(pool)
        .await
    }

    /// A loan's contract download requests, newest first (at most 100).
    pub async fn contract_downloads(
        pool: &AnyPool,
        loan_id: &str,
    ) -> Result<Vec<ContractDownloadRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{DOWNLOAD_SELECT} WHERE d.loan_id = $1 ORDER BY d.requested_at DESC LIMIT 100"
        ))
        .bind(loan_id)
        .fetch_all(pool)
        .await
    }

    /// Contract download requests not yet sent, oldest first.
    pub async fn pending_contract_downloads(
        pool: &AnyPool,
        limit: i64,
    ) -> Result<Vec<ContractDownloadRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{DOWNLOAD_SELECT} WHERE d.status = 'PENDING' ORDER BY d.requested_at LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(pool)
        .await
    }

    /// A loan's consents, verifications and signatures, in order.
    pub async fn evidence(pool: &AnyPool, loan_id: &str) -> Result<Vec<EvidenceRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {EVIDENCE_COLUMNS} FROM loan_evidence WHERE loan_id = $1 ORDER BY sequence"
        ))
        .bind(loan_id)
        .fetch_all(pool)
        .await
    }

    /// A loan's moves, in order.
    pub async fn history(pool: &AnyPool, loan_id: &str) -> Result<Vec<NodeChangeRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT loan_id, sequence, kind, from_node, to_node, reason, actor_id, actor_role, at, day
               FROM loan_node_history WHERE loan_id = $1 ORDER BY sequence",
        )
        .bind(loan_id)
        .fetch_all(pool)
        .await
    }

    /// Every task of a contract, in order.
    pub async fn lineage(
        pool: &AnyPool,
        contract_no: &str,
    ) -> Result<Vec<LineageRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {LINEAGE_COLUMNS} FROM task_lineage WHERE contract_no = $1 ORDER BY round"
        ))
        .bind(contract_no)
        .fetch_all(pool)
        .await
    }

    /// Every row, in a stable order: what a rebuild must reproduce.
    pub async fn all_rows(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        let loans: Vec<LoanRow> = sqlx::query_as(&format!(
            "SELECT {LOAN_COLUMNS} FROM loan_applications ORDER BY loan_id"
        ))
        .fetch_all(pool)
        .await?;
        let evidence: Vec<EvidenceRow> = sqlx::query_as(&format!(
            "SELECT {EVIDENCE_COLUMNS} FROM loan_evidence ORDER BY loan_id, sequence"
        ))
        .fetch_all(pool)
        .await?;
        let downloads: Vec<ContractDownloadRow> = sqlx::query_as(&format!(
            "{DOWNLOAD_SELECT} ORDER BY d.loan_id, d.request_id"
        ))
        .fetch_all(pool)
        .await?;
        let cases: Vec<ManualCaseRow> = sqlx::query_as(&format!(
            "SELECT {MANUAL_CASE_COLUMNS} FROM manual_cases ORDER BY loan_id, request_id"
        ))
        .fetch_all(pool)
        .await?;
        let requests: Vec<(String, String, String, String, String, Option<String>)> =
            sqlx::query_as(
                "SELECT loan_id, request_id, kind, amount, requested_at, answered_at
                   FROM core_requests ORDER BY loan_id, request_id",
            )
            .fetch_all(pool)
            .await?;
        let history: Vec<NodeChangeRow> = sqlx::query_as(
            "SELECT loan_id, sequence, kind, from_node, to_node, reason, actor_id, actor_role, at, day
               FROM loan_node_history ORDER BY loan_id, sequence",
        )
        .fetch_all(pool)
        .await?;
        let lineage: Vec<LineageRow> = sqlx::query_as(&format!(
            "SELECT {LINEAGE_COLUMNS} FROM task_lineage ORDER BY task_id"
        ))
        .fetch_all(pool)
        .await?;
        Ok(loans
            .iter()
            .map(|r| format!("{r:?}"))
            .chain(history.iter().map(|r| format!("{r:?}")))
            .chain(lineage.iter().map(|r| format!("{r:?}")))
            .chain(evidence.iter().map(|r| format!("{r:?}")))
            .chain(cases.iter().map(|r| format!("{r:?}")))
            .chain(downloads.iter().map(|r| format!("{r:?}")))
            .chain(requests.iter().map(|r| format!("{r:?}")))
            .collect())
    }
}
