//! The back office of 003 (直销银行内管: 交易量统计, 资金统计, 融信贷明细查询) and
//! the customer's paged queries (还款计划, 查询明细): the loan list with its
//! filters and totals by state, counts and amounts by day, the failed
//! transactions with their reasons, and a loan's plan and movements by date
//! range, a page at a time.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::NaiveDate;
use domain::message::message;
use projections::loan_lineage::{LoanLineage, LoanListFilter, LoanRow};
use projections::LoanLedger;

use crate::access::checks;
use crate::context::state;
use crate::error::ApiError;
use crate::loan_servicing::{date, money, period_view, LedgerPeriodView, LoanTransactionView};
use crate::loans::{LoanNode, LoanProduct};

pub use domain::loan_application::ApprovalRoute;

/// What the loan list is filtered by; every field optional.
#[derive(InputObject, Default)]
pub struct LoanListFilterInput {
    /// Current state (node).
    pub status: Option<LoanNode>,
    /// Product.
    pub product: Option<LoanProduct>,
    /// Online or by a manager.
    pub route: Option<ApprovalRoute>,
    /// Submitted on or after (YYYY-MM-DD, Asia/Shanghai).
    pub from: Option<String>,
    /// Submitted on or before.
    pub to: Option<String>,
    /// Branch (分行).
    pub branch: Option<String>,
}

/// A loan in the back office's list.
#[derive(SimpleObject)]
pub struct LoanSummary {
    /// Application no.
    pub id: ID,
    /// Contract.
    pub contract_no: String,
    /// Product (stored name).
    pub product: Option<String>,
    /// AUTOMATIC or MANUAL.
    pub route: Option<String>,
    /// State (stored name).
    pub status: String,
    /// Amount (decimal text); none until chosen.
    pub amount: Option<String>,
    /// 贷款期限 in months.
    pub term_months: Option<i64>,
    /// Branch.
    pub branch: Option<String>,
    /// Channel.
    pub channel_code: Option<String>,
    /// Submitted on (YYYY-MM-DD, Asia/Shanghai).
    pub submitted_on: Option<String>,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<LoanRow> for LoanSummary {
    fn from(r: LoanRow) -> Self {
        Self {
            id: ID(r.loan_id),
            contract_no: r.contract_no,
            product: r.product,
            route: r.route,
            status: r.node,
            amount: Some(r.amount).filter(|a| !a.is_empty()),
            term_months: r.term_months,
            branch: r.branch,
            channel_code: r.channel_code,
            submitted_on: r.submitted_on,
            updated_at: r.updated_at,
        }
    }
}

/// Loans and amounts in one state.
#[derive(SimpleObject)]
pub struct LoanStatusTotal {
    /// State (stored name).
    pub status: String,
    /// How many loans.
    pub loans: i64,
    /// Their amounts (decimal text).
    pub amount: String,
}

/// A page of the loan list.
#[derive(SimpleObject)]
pub struct LoanListPage {
    /// The loans, by id.
    pub nodes: Vec<LoanSummary>,
    /// How many match the filter in all.
    pub total_count: i64,
    /// Pass as `after` for the next page; none on the last.
    pub end_cursor: Option<String>,
    /// Loans and amounts by state among those matching.
    pub by_status: Vec<LoanStatusTotal>,
}

/// How many, and how much.
#[derive(SimpleObject, Default, Clone)]
pub struct CountAndAmount {
    /// How many.
    pub count: i64,
    /// How much (decimal text; 0.00 where there is no amount).
    pub amount: String,
}

/// One Asia/Shanghai day of the back office's report.
#[derive(SimpleObject, Default)]
pub struct LoanDayReport {
    /// YYYY-MM-DD.
    pub day: String,
    /// 审批通过.
    pub approved: i64,
    /// 审批未通过.
    pub declined: i64,
    /// 放款成功.
    pub disbursed: CountAndAmount,
    /// 放款失败.
    pub disbursement_failed: i64,
    /// 还款成功 (prepayments included).
    pub repaid: CountAndAmount,
    /// 扣款失败.
    pub repayment_failed: CountAndAmount,
    /// Periods fallen overdue (逾期), with the principal and interest unpaid.
    pub overdue: CountAndAmount,
    /// 已结清.
    pub settled: i64,
}

/// The back office's report over a range of days.
#[derive(SimpleObject)]
pub struct LoanOperationsReport {
    /// Days with any movement, in order.
    pub days: Vec<LoanDayReport>,
    /// Loans and amounts by current state.
    pub by_status: Vec<LoanStatusTotal>,
}

/// A failed transaction with its reason.
#[derive(SimpleObject)]
pub struct FailedLoanTransaction {
    /// DISBURSEMENT_FAILED or DEBIT_FAILED.
    pub kind: String,
    /// The loan.
    pub loan_id: ID,
    /// The Asia/Shanghai day.
    pub day: String,
    /// What was attempted (decimal text), when known.
    pub amount: Option<String>,
    /// The core's reason.
    pub reason: Option<String>,
    /// When recorded (RFC 3339).
    pub at: String,
}

/// A page of a loan's repayment plan.
#[derive(SimpleObject)]
pub struct RepaymentPlanPage {
    /// The periods due in the range, in order.
    pub periods: Vec<LedgerPeriodView>,
    /// How many periods are in the range.
    pub total_count: i64,
}

/// A page of a loan's movements.
#[derive(SimpleObject)]
pub struct LoanTransactionPage {
    /// The range read (YYYY-MM-DD).
    pub from: String,
    /// To.
    pub to: String,
    /// The movements, in order.
    pub transactions: Vec<LoanTransactionView>,
    /// How many are in the range.
    pub total_count: i64,
}

/// A range of days: both or neither given, `from` ≤ `to`, at most `max_days`.
fn day_range(
    from: Option<&str>,
    to: Option<&str>,
    max_days: i64,
) -> Result<Option<(NaiveDate, NaiveDate)>, ApiError> {
    let (from, to) = match (from, to) {
        (None, None) => return Ok(None),
        (Some(from), Some(to)) => (date(from, "from")?, date(to, "to")?),
        _ => {
            return Err(ApiError::validation(message!(
                "a date range gives both from and to"
            )))
        }
    };
    if to < from || (to - from).num_days() >= max_days {
        return Err(ApiError::validation(message!(
            "the range must run forwards over at most {max_days} days"
        )));
    }
    Ok(Some((from, to)))
}

async fn status_totals(
    ctx: &Context<'_>,
    filter: &LoanListFilter,
) -> Result<Vec<LoanStatusTotal>, ApiError> {
    let rows = LoanLineage::node_totals(state(ctx).database.read_models(), filter).await?;
    Ok(rows
        .into_iter()
        .map(|r| LoanStatusTotal {
            status: r.node,
            loans: r.loans,
            amount: money(r.amount_fen),
        })
        .collect())
}

/// Back-office and paged loan queries.
#[derive(Default)]
pub struct LoanOperationsQuery;

#[Object]
impl LoanOperationsQuery {
    /// The loan list for operations (003 内管 融信贷明细查询): filtered by state,
    /// product, route, submission day and branch; `first` (at most 200) after
    /// `after`, with the total and the loans and amounts by state.
    async fn loans(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] filter: LoanListFilterInput,
        #[graphql(default = 50, validator(minimum = 1, maximum = 200))] first: i64,
        after: Option<String>,
    ) -> Result<LoanListPage> {
        let range = day_range(filter.from.as_deref(), filter.to.as_deref(), 3660)?;
        let branch = filter.branch.map(|b| b.trim().to_string());
        if branch.as_ref().is_some_and(|b| b.chars().count() > 32) {
            return Err(
                ApiError::validation(message!("branch must be at most 32 characters")).into(),
            );
        }
        let filter = LoanListFilter {
            node: filter.status.map(|s| domain::wire_name(&s)),
            product: filter.product.map(|p| domain::wire_name(&p)),
            route: filter.route.map(|r| domain::wire_name(&r)),
            branch,
            from: range.map(|(from, _)| from.to_string()),
            to: range.map(|(_, to)| to.to_string()),
        };
        let pool = state(ctx).database.read_models();
        let (rows, total_count) =
            LoanLineage::list(pool, &filter, after.as_deref().unwrap_or(""), first).await?;
        let end_cursor = (rows.len() as i64 == first)
            .then(|| rows.last().map(|r| r.loan_id.clone()))
            .flatten();
        Ok(LoanListPage {
            nodes: rows.into_iter().map(Into::into).collect(),
            total_count,
            end_cursor,
            by_status: status_totals(ctx, &filter).await?,
        })
    }

    /// Counts and amounts by Asia/Shanghai day from `from` to `to` (at most 366
    /// days; 003 内管 交易量统计 and 资金统计: approved, declined, disbursed,
    /// failed, repaid, debit failures, overdue, settled), and by current state.
    async fn loan_operations_report(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
    ) -> Result<LoanOperationsReport> {
        let (from, to) = day_range(Some(&from), Some(&to), 366)?.expect("both given");
        let (from, to) = (from.to_string(), to.to_string());
        let pool = state(ctx).database.read_models();
        let mut days: std::collections::BTreeMap<String, LoanDayReport> = Default::default();
        fn day<'a>(
            days: &'a mut std::collections::BTreeMap<String, LoanDayReport>,
            d: &str,
        ) -> &'a mut LoanDayReport {
            days.entry(d.to_string()).or_insert_with(|| LoanDayReport {
                day: d.to_string(),
                ..Default::default()
            })
        }
        for moves in LoanLineage::moves_by_day(pool, &from, &to).await? {
            let report = day(&mut days, &moves.day);
            match moves.kind.as_str() {
                "APPROVE" => report.approved += moves.moves,
                "DECLINE" => report.declined += moves.moves,
                "DISBURSEMENT_FAILED" => report.disbursement_failed += moves.moves,
                "SETTLE" => report.settled += moves.moves,
                _ => {}
            }
        }
        for (d, kind, count, fen) in LoanLedger::movements_by_day(pool, &from, &to).await? {
            let report = day(&mut days, &d);
            let slot = match kind.as_str() {
                "DISBURSEMENT" => &mut report.disbursed,
                "REPAYMENT" | "PREPAYMENT" => &mut report.repaid,
                "AUTO_DEBIT_FAILED" => &mut report.repayment_failed,
                "OVERDUE" => &mut report.overdue,
                _ => continue,
            };
            let before = slot
                .amount
                .parse::<rust_decimal::Decimal>()
                .unwrap_or_default();
            slot.count += count;
            slot.amount = (before + rust_decimal::Decimal::new(fen, 2)).to_string();
        }
        let mut days: Vec<LoanDayReport> = days.into_values().collect();
        for report in &mut days {
            for slot in [
                &mut report.disbursed,
                &mut report.repaid,
                &mut report.repayment_failed,
                &mut report.overdue,
            ] {
                if slot.amount.is_empty() {
                    slot.amount = money(0);
                }
            }
        }
        Ok(LoanOperationsReport {
            days,
            by_status: status_totals(ctx, &LoanListFilter::default()).await?,
        })
    }

    /// Failed disbursements and debits from `from` to `to` (at most 366 days),
    /// newest first, with the core's reason; at most `first` (200) of each.
    async fn loan_failed_transactions(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
        #[graphql(default = 50, validator(minimum = 1, maximum = 200))] first: i64,
    ) -> Result<Vec<FailedLoanTransaction>> {
        let (from, to) = day_range(Some(&from), Some(&to), 366)?.expect("both given");
        let (from, to) = (from.to_string(), to.to_string());
        let pool = state(ctx).database.read_models();
        let mut failed: Vec<FailedLoanTransaction> =
            LoanLineage::failed_disbursements(pool, &from, &to, first)
                .await?
                .into_iter()
                .map(|r| FailedLoanTransaction {
                    kind: "DISBURSEMENT_FAILED".into(),
                    loan_id: ID(r.loan_id),
                    day: r.day.unwrap_or_default(),
                    amount: None,
                    reason: r.reason,
                    at: r.at,
                })
                .collect();
        failed.extend(
            LoanLedger::failed_debits(pool, &from, &to, first)
                .await?
                .into_iter()
                .map(|r| FailedLoanTransaction {
                    kind: "DEBIT_FAILED".into(),
                    loan_id: ID(r.loan_id),
                    day: r.day,
                    amount: Some(money(r.amount_fen)),
                    reason: r.detail,
                    at: r.at,
                }),
        );
        failed.sort_by(|a, b| b.at.cmp(&a.at));
        Ok(failed)
    }

    /// 还款计划 (003 §(七)): all periods by default, or those due from `from` to
    /// `to` (both then required), `first` (at most 120) after `offset`; null
    /// before the core confirmed the disbursement.
    async fn loan_repayment_plan(
        &self,
        ctx: &Context<'_>,
        id: ID,
        from: Option<String>,
        to: Option<String>,
        #[graphql(default = 12, validator(minimum = 1, maximum = 120))] first: usize,
        #[graphql(default = 0, validator(minimum = 0))] offset: usize,
    ) -> Result<Option<RepaymentPlanPage>> {
        let range = day_range(from.as_deref(), to.as_deref(), 366 * 30)?;
        if !checks::loan_visible(ctx, &id).await? {
            return Ok(None);
        }
        let pool = state(ctx).database.read_models();
        let Some((ledger, _)) = LoanLedger::get(pool, &id)
            .await
            .map_err(ApiError::internal)?
        else {
            return Ok(None);
        };
        let today = domain::schedule::shanghai_date(state(ctx).bus.services().clock.now());
        let in_range: Vec<_> = ledger
            .periods
            .iter()
            .filter(|p| range.is_none_or(|(from, to)| (from..=to).contains(&p.due_date)))
            .collect();
        Ok(Some(RepaymentPlanPage {
            total_count: in_range.len() as i64,
            periods: in_range
                .into_iter()
                .skip(offset)
                .take(first)
                .map(|p| period_view(p, today, ledger.terms.penalty_annual_rate))
                .collect(),
        }))
    }

    /// 查询明细 (003 我的贷款): the loan's movements from `from` to `to` (both or
    /// neither; the last month by default; at most a year), `first` (at most
    /// 100) after `offset`; null before the core confirmed the disbursement.
    async fn loan_transactions(
        &self,
        ctx: &Context<'_>,
        id: ID,
        from: Option<String>,
        to: Option<String>,
        #[graphql(default = 20, validator(minimum = 1, maximum = 100))] first: i64,
        #[graphql(default = 0, validator(minimum = 0))] offset: i64,
    ) -> Result<Option<LoanTransactionPage>> {
        let range = day_range(from.as_deref(), to.as_deref(), 366)?;
        if !checks::loan_visible(ctx, &id).await? {
            return Ok(None);
        }
        let pool = state(ctx).database.read_models();
        if LoanLedger::get(pool, &id)
            .await
            .map_err(ApiError::internal)?
            .is_none()
        {
            return Ok(None);
        }
        let today = domain::schedule::shanghai_date(state(ctx).bus.services().clock.now());
        let (from, to) = range.unwrap_or_else(|| {
            let month_ago = today
                .checked_sub_months(chrono::Months::new(1))
                .unwrap_or(today);
            (month_ago, today)
        });
        let (rows, total_count) = LoanLedger::transactions_between(
            pool,
            &id,
            &from.to_string(),
            &to.to_string(),
            offset,
            first,
        )
        .await?;
        Ok(Some(LoanTransactionPage {
            from: from.to_string(),
            to: to.to_string(),
            transactions: rows.into_iter().map(Into::into).collect(),
            total_count,
        }))
    }
}

/// A 合同下载 request as its record shows it.
#[derive(SimpleObject)]
pub struct ContractDownloadView {
    /// The request.
    pub request_id: String,
    /// Where the archive goes (masked for anyone but the customer).
    pub email: String,
    /// 解压码: the archive's password (shown to the customer only).
    pub archive_password: String,
    /// 邮件发送状态: PENDING, SENT or FAILED.
    pub status: String,
    /// 业务申请时间 (RFC 3339).
    pub requested_at: String,
    /// When sent or failed.
    pub settled_at: Option<String>,
    /// Why it failed.
    pub failure: Option<String>,
}

/// 解压码: twelve characters from the random bits of an id (no 0/O/1/I to misread).
fn archive_password(random: uuid::Uuid) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bits = random.as_u128();
    (0..12)
        .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
        .collect()
}

fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// 合同下载 queries.
#[derive(Default)]
pub struct ContractDownloadQuery;

#[Object]
impl ContractDownloadQuery {
    /// 合同下载 申请记录: a loan's requests, newest first, with the sending
    /// status, the time asked and — for the customer — the archive's password.
    async fn contract_downloads(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Vec<ContractDownloadView>> {
        if !checks::loan_visible(ctx, &id).await? {
            return Ok(Vec::new());
        }
        let own = crate::context::viewer(ctx) == Some(domain::role::Role::Customer);
        let rows = LoanLineage::contract_downloads(state(ctx).database.read_models(), &id).await?;
        Ok(rows
            .into_iter()
            .map(|r| ContractDownloadView {
                request_id: r.request_id,
                email: if own { r.email } else { mask_email(&r.email) },
                archive_password: match r.archive_password {
                    Some(password) if own => password,
                    _ => "******".into(),
                },
                status: r.status,
                requested_at: r.requested_at,
                settled_at: r.settled_at,
                failure: r.failure,
            })
            .collect())
    }
}

/// 合同下载 mutations.
#[derive(Default)]
pub struct ContractDownloadMutation;

#[Object]
impl ContractDownloadMutation {
    /// 合同下载: the customer asks for the signed contract and its records by
    /// e-mail, after the verification service checked the transaction password
    /// (`recordLoanVerification(CONTRACT_DOWNLOAD)`, one check per request); a
    /// bad address is `VALIDATION` (请输入正确的电子邮箱) and leaves no record.
    async fn request_contract_download(
        &self,
        ctx: &Context<'_>,
        id: ID,
        email: String,
    ) -> Result<crate::loans::LoanPayload> {
        // Whose loan it is is answered before anything is written.
        checks::read_loan(ctx, &id).await?;
        let ids = state(ctx).bus.services().ids.clone();
        let request_id = crate::context::request(ctx)
            .new_id(ids.as_ref())
            .to_string();
        // The 解压码 stays out of the log and Kafka; a retry (same request id)
        // keeps the first one. A refused request leaves a row nothing reads
        // (the request record joins from the requests the loan accepted).
        let now = state(ctx).bus.services().clock.now();
        sqlx::query(
            "INSERT INTO contract_download_secrets (loan_id, request_id, archive_password, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (loan_id, request_id) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(&request_id)
        .bind(archive_password(ids.new_id()))
        .bind(domain::log::rfc3339(now))
        .execute(state(ctx).database.read_models())
        .await
        .map_err(ApiError::from)?;
        let command =
            domain::loan_application::LoanCommand::RequestContractDownload { request_id, email };
        crate::loans::LoanMutation.send(ctx, &id, command).await
    }
}
