//! A disbursed loan's ledger (003 贷后: 还款计划、还款明细、自动还款、提前还款), as pure
//! functions over the plan stored at disbursement: penalty accrual on overdue
//! periods, the split of a received payment, what is owed on a day, and the
//! payoff quote of a prepayment. Amounts are CNY, half-up to the fen; days are
//! Asia/Shanghai calendar days. docs/loans.md has the formulas and a worked example.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::repayment::{
    equal_installments, equal_principal, fen, Installment, PlannedInstallment, PrepaymentChoice,
    RepaymentError, RepaymentMethod,
};

/// Days of the year in daily rates (interest and penalty accrue per day at the
/// annual rate / 360, the convention of the bank's 个贷 system).
const DAYS_PER_YEAR: i64 = 360;

/// The terms of a signed contract the plan is made from (001 2.7.2: 额度金额、额度期限、
/// 执行年利率、还款方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoanTerms {
    /// 执行年利率, e.g. 0.0435.
    pub annual_rate: Decimal,
    /// 额度期限 in months.
    pub term_months: u32,
    /// 还款方式.
    pub method: RepaymentMethod,
    /// 罚息年利率 on overdue principal and interest (0 where the bank charges none:
    /// 003 目前我行不进行罚息).
    pub penalty_annual_rate: Decimal,
}

impl LoanTerms {
    /// Checks the rate, term and penalty rate.
    pub fn check(&self) -> Result<(), RepaymentError> {
        let rate_ok = |r: Decimal| r >= Decimal::ZERO && r < Decimal::ONE;
        if !rate_ok(self.annual_rate) || !rate_ok(self.penalty_annual_rate) {
            return Err(RepaymentError::BadRate);
        }
        if !(1..=360).contains(&self.term_months) {
            return Err(RepaymentError::BadTerm);
        }
        Ok(())
    }
}

/// Where a received payment came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum RepaymentChannel {
    /// 自动还款: the core debited the repayment account on the due date.
    AutoDebit,
    /// 主动还款: the customer (or a partner for them) paid.
    Active,
    /// 提前还款: the settlement of an approved prepayment.
    Prepayment,
}

/// What a payment paid of one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepaymentPart {
    /// The period.
    pub period: u32,
    /// Principal part.
    pub principal: Decimal,
    /// Interest part.
    pub interest: Decimal,
    /// Penalty part.
    pub penalty: Decimal,
}

impl RepaymentPart {
    /// All of it.
    pub fn total(&self) -> Decimal {
        self.principal + self.interest + self.penalty
    }
}

/// Penalty interest that accrued on a period up to a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PenaltyAccrual {
    /// The period.
    pub period: u32,
    /// Penalty added.
    pub amount: Decimal,
    /// The day it accrued through.
    pub through: NaiveDate,
}

/// One period of a loan's plan, with what has been paid and accrued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerPeriod {
    /// 1-based period.
    pub period: u32,
    /// The day it falls due.
    pub due_date: NaiveDate,
    /// Principal due.
    pub principal: Decimal,
    /// Interest due.
    pub interest: Decimal,
    /// Principal paid.
    pub paid_principal: Decimal,
    /// Interest paid.
    pub paid_interest: Decimal,
    /// Penalty accrued (through `accrued_through`).
    pub penalty: Decimal,
    /// Penalty paid.
    pub paid_penalty: Decimal,
    /// The last day penalty has been accrued for (the due date until overdue).
    pub accrued_through: NaiveDate,
}

impl LedgerPeriod {
    /// A period of the plan, nothing paid.
    pub fn planned(p: &PlannedInstallment) -> Self {
        Self {
            period: p.installment.period,
            due_date: p.due_date,
            principal: p.installment.principal,
            interest: p.installment.interest,
            paid_principal: Decimal::ZERO,
            paid_interest: Decimal::ZERO,
            penalty: Decimal::ZERO,
            paid_penalty: Decimal::ZERO,
            accrued_through: p.due_date,
        }
    }

    /// Principal and interest not yet paid (逾期本息 once overdue).
    pub fn unpaid_scheduled(&self) -> Decimal {
        self.principal - self.paid_principal + self.interest - self.paid_interest
    }

    /// Everything still owed on this period, penalty accrued so far included.
    pub fn unpaid(&self) -> Decimal {
        self.unpaid_scheduled() + self.penalty - self.paid_penalty
    }

    /// Whether everything is paid.
    pub fn settled(&self) -> bool {
        self.unpaid().is_zero()
    }

    /// Penalty that accrues from `accrued_through` to `day`: 逾期本息 × 罚息年利率 /
    /// 360 × days, half-up to the fen (overdue from the day after the due date).
    pub fn penalty_to(&self, day: NaiveDate, penalty_annual_rate: Decimal) -> Decimal {
        let days = (day - self.accrued_through).num_days();
        if days <= 0 || penalty_annual_rate.is_zero() {
            return Decimal::ZERO;
        }
        fen(
            self.unpaid_scheduled() * penalty_annual_rate * Decimal::from(days)
                / Decimal::from(DAYS_PER_YEAR),
        )
    }

    /// Penalty accrued on the period through `day` (recorded and still accruing).
    pub fn penalty_through(&self, day: NaiveDate, penalty_annual_rate: Decimal) -> Decimal {
        self.penalty + self.penalty_to(day, penalty_annual_rate)
    }

    /// Still owed on the period on `day`, penalty through the day included.
    pub fn owed_through(&self, day: NaiveDate, penalty_annual_rate: Decimal) -> Decimal {
        self.unpaid_scheduled() + self.penalty_through(day, penalty_annual_rate) - self.paid_penalty
    }

    /// The period's state on `day`.
    pub fn state(&self, day: NaiveDate) -> PeriodState {
        if self.settled() {
            PeriodState::Paid
        } else if day > self.due_date {
            PeriodState::Overdue
        } else if self.paid_principal + self.paid_interest > Decimal::ZERO {
            PeriodState::PartlyPaid
        } else {
            PeriodState::Pending
        }
    }
}

/// A period's state (还款计划 状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum PeriodState {
    /// 未到期.
    Pending,
    /// 部分还款, not yet due.
    PartlyPaid,
    /// 已逾期: due before the day and not fully paid.
    Overdue,
    /// 已还清.
    Paid,
}

/// A disbursed loan's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    /// The contract's terms.
    pub terms: LoanTerms,
    /// 起息日: the day the funds arrived.
    pub value_date: NaiveDate,
    /// The plan, in period order.
    pub periods: Vec<LedgerPeriod>,
}

/// How a payment received on a day is booked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    /// Penalty accrued up to the day, before the payment.
    pub accruals: Vec<PenaltyAccrual>,
    /// What the payment paid, per period.
    pub parts: Vec<RepaymentPart>,
}

/// What is owed on a day (今日应还).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmountOwed {
    /// Principal of periods due on or before the day.
    pub principal: Decimal,
    /// Interest of those periods.
    pub interest: Decimal,
    /// Penalty accrued through the day.
    pub penalty: Decimal,
    /// Of the principal and interest, what is overdue (due before the day).
    pub overdue: Decimal,
}

impl AmountOwed {
    /// All of it.
    pub fn total(&self) -> Decimal {
        self.principal + self.interest + self.penalty
    }
}

/// What a prepayment costs on a day (提前还款试算).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrepaymentQuote {
    /// The day quoted for (the settlement must fall on it).
    pub quoted_on: NaiveDate,
    /// Due and overdue periods, penalty included, settled first.
    pub owed: Decimal,
    /// Principal prepaid.
    pub principal: Decimal,
    /// Interest accrued on that principal since the last due date (or the value
    /// date): principal × 年利率 / 360 × days.
    pub interest: Decimal,
    /// What the customer pays.
    pub total: Decimal,
}

/// A prepayment application not yet settled or refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenPrepayment {
    /// Its id.
    pub prepayment_id: String,
    /// Partial (with the choice) or full (none).
    pub choice: Option<PrepaymentChoice>,
    /// The quote in force: today's at the application, the debit day's once approved.
    pub quote: PrepaymentQuote,
    /// Whether a manager approved it.
    pub approved: bool,
}

impl OpenPrepayment {
    /// The open application after `event`: opened by a request, re-quoted by
    /// the approval, closed by a refusal or its settlement.
    pub fn apply(open: &mut Option<Self>, event: &super::LoanEvent) {
        use super::LoanEvent as E;
        match event {
            E::PrepaymentRequested {
                prepayment_id,
                choice,
                quote,
            } => {
                *open = Some(OpenPrepayment {
                    prepayment_id: prepayment_id.clone(),
                    choice: *choice,
                    quote: quote.clone(),
                    approved: false,
                })
            }
            E::PrepaymentApproved { quote, .. } => {
                if let Some(open) = open.as_mut() {
                    open.quote = quote.clone();
                    open.approved = true;
                }
            }
            E::PrepaymentRefused { .. }
            | E::RepaymentReceived {
                prepayment_id: Some(_),
                ..
            } => *open = None,
            _ => {}
        }
    }
}

/// Why a ledger operation is refused.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    thiserror::Error,
    schemars::JsonSchema,
    crate::message::Localized,
)]
pub enum LedgerError {
    /// The amount is not positive or not in fen.
    #[error("the amount must be positive, in fen")]
    BadAmount,
    /// More than everything still owed.
    #[error("{amount} is more than everything still owed ({owed})")]
    AboveOutstanding {
        /// Offered.
        amount: Decimal,
        /// Everything owed, the full payoff.
        owed: Decimal,
    },
    /// A partial prepayment must leave principal to repay.
    #[error("a partial prepayment must be below the principal not yet due ({outstanding})")]
    BadPrepayment {
        /// Principal not yet due.
        outstanding: Decimal,
    },
    /// Nothing is left to prepay.
    #[error("no period is left to prepay")]
    NothingToPrepay,
    /// The maths refused.
    #[error(transparent)]
    Repayment(#[from] RepaymentError),
}

impl Ledger {
    /// The ledger of a loan paid out on `value_date` with its plan.
    pub fn open(terms: LoanTerms, value_date: NaiveDate, plan: &[PlannedInstallment]) -> Self {
        Self {
            terms,
            value_date,
            periods: plan.iter().map(LedgerPeriod::planned).collect(),
        }
    }

    /// Principal not yet paid.
    pub fn outstanding_principal(&self) -> Decimal {
        self.periods
            .iter()
            .map(|p| p.principal - p.paid_principal)
            .sum()
    }

    /// Whether every period is paid.
    pub fn settled(&self) -> bool {
        self.periods.iter().all(LedgerPeriod::settled)
    }

    /// Penalty accruing through `day` on every period due before it.
    pub fn accruals(&self, day: NaiveDate) -> Vec<PenaltyAccrual> {
        self.periods
            .iter()
            .filter_map(|p| {
                let amount = p.penalty_to(day, self.terms.penalty_annual_rate);
                (!amount.is_zero()).then_some(PenaltyAccrual {
                    period: p.period,
                    amount,
                    through: day,
                })
            })
            .collect()
    }

    /// Records accrued penalty.
    pub fn apply_accruals(&mut self, accruals: &[PenaltyAccrual]) {
        for a in accruals {
            if let Some(p) = self.period_mut(a.period) {
                p.penalty += a.amount;
                p.accrued_through = a.through;
            }
        }
    }

    /// Records what a payment paid.
    pub fn apply_parts(&mut self, parts: &[RepaymentPart]) {
        for part in parts {
            if let Some(p) = self.period_mut(part.period) {
                p.paid_principal += part.principal;
                p.paid_interest += part.interest;
                p.paid_penalty += part.penalty;
            }
        }
    }

    fn period_mut(&mut self, period: u32) -> Option<&mut LedgerPeriod> {
        self.periods.iter_mut().find(|p| p.period == period)
    }

    /// What is owed on `day`: every period due on or before it, penalty accrued
    /// through it.
    pub fn owed_on(&self, day: NaiveDate) -> AmountOwed {
        let mut owed = AmountOwed::default();
        for p in self.periods.iter().filter(|p| p.due_date <= day) {
            owed.principal += p.principal - p.paid_principal;
            owed.interest += p.interest - p.paid_interest;
            owed.penalty +=
                p.penalty - p.paid_penalty + p.penalty_to(day, self.terms.penalty_annual_rate);
            if p.due_date < day {
                owed.overdue += p.unpaid_scheduled();
            }
        }
        owed
    }

    /// The full payoff on `day`: what is owed plus every principal not yet due
    /// and its interest accrued since the last due date.
    pub fn payoff_on(&self, day: NaiveDate) -> Decimal {
        let future = self.outstanding_principal_after(day);
        self.owed_on(day).total() + future + self.accrued_interest(future, day)
    }

    fn outstanding_principal_after(&self, day: NaiveDate) -> Decimal {
        self.periods
            .iter()
            .filter(|p| p.due_date > day)
            .map(|p| p.principal - p.paid_principal)
            .sum()
    }

    /// The day interest of the current period runs from: the last due date on
    /// or before `day`, or the value date.
    fn period_start(&self, day: NaiveDate) -> NaiveDate {
        self.periods
            .iter()
            .map(|p| p.due_date)
            .filter(|d| *d <= day)
            .max()
            .unwrap_or(self.value_date)
    }

    /// Interest on `principal` from the current period's start to `day`.
    fn accrued_interest(&self, principal: Decimal, day: NaiveDate) -> Decimal {
        let days = (day - self.period_start(day)).num_days().max(0);
        fen(principal * self.terms.annual_rate * Decimal::from(days) / Decimal::from(DAYS_PER_YEAR))
    }

    /// Books `amount` received on `day`: penalty accrues through the day, then
    /// the oldest period first is paid penalty, interest, principal (逾期罚息 →
    /// 利息 → 本金); what remains pays the next periods ahead of their due date.
    pub fn book(&self, day: NaiveDate, amount: Decimal) -> Result<Booking, LedgerError> {
        if amount <= Decimal::ZERO || fen(amount) != amount {
            return Err(LedgerError::BadAmount);
        }
        let accruals = self.accruals(day);
        let mut after = self.clone();
        after.apply_accruals(&accruals);
        let owed: Decimal = after.periods.iter().map(LedgerPeriod::unpaid).sum();
        if amount > owed {
            return Err(LedgerError::AboveOutstanding { amount, owed });
        }
        let mut left = amount;
        let mut parts = Vec::new();
        for p in after.periods.iter().filter(|p| !p.settled()) {
            if left.is_zero() {
                break;
            }
            let mut take = |due: Decimal| {
                let paid = due.min(left);
                left -= paid;
                paid
            };
            let penalty = take(p.penalty - p.paid_penalty);
            let interest = take(p.interest - p.paid_interest);
            let principal = take(p.principal - p.paid_principal);
            parts.push(RepaymentPart {
                period: p.period,
                principal,
                interest,
                penalty,
            });
        }
        Ok(Booking { accruals, parts })
    }

    /// 提前还款试算 on `day`: a full prepayment pays the payoff; a partial one pays
    /// what is owed, `principal` ahead of the plan and that principal's interest
    /// accrued since the last due date.
    pub fn quote(
        &self,
        day: NaiveDate,
        principal: Option<Decimal>,
    ) -> Result<PrepaymentQuote, LedgerError> {
        let future = self.outstanding_principal_after(day);
        if future.is_zero() {
            return Err(LedgerError::NothingToPrepay);
        }
        let principal = match principal {
            None => future,
            Some(p) if p <= Decimal::ZERO || fen(p) != p => return Err(LedgerError::BadAmount),
            Some(p) if p >= future => {
                return Err(LedgerError::BadPrepayment {
                    outstanding: future,
                })
            }
            Some(p) => p,
        };
        let owed = self.owed_on(day).total();
        let interest = self.accrued_interest(principal, day);
        Ok(PrepaymentQuote {
            quoted_on: day,
            owed,
            principal,
            interest,
            total: owed + principal + interest,
        })
    }

    /// The periods not yet due after settling `quote`: none after a full
    /// prepayment; after a partial one the remaining principal re-planned from
    /// the next due date, keeping the installment (缩短期限: 等额本息 the level
    /// installment, 等额本金 the principal share) or the end date (减少月供).
    pub fn replan(
        &self,
        quote: &PrepaymentQuote,
        choice: Option<PrepaymentChoice>,
    ) -> Result<Vec<PlannedInstallment>, LedgerError> {
        let future: Vec<&LedgerPeriod> = self
            .periods
            .iter()
            .filter(|p| p.due_date > quote.quoted_on)
            .collect();
        let (Some(next), Some(choice)) = (future.first(), choice) else {
            return Ok(Vec::new());
        };
        let balance: Decimal = future.iter().map(|p| p.principal - p.paid_principal).sum();
        let remaining = balance - quote.principal;
        let months = future.len() as u32;
        let rate = self.terms.annual_rate;
        let schedule = match (self.terms.method, choice) {
            (RepaymentMethod::EqualInstallments, PrepaymentChoice::LowerInstallment) => {
                equal_installments(remaining, rate, months)?
            }
            (RepaymentMethod::EqualPrincipal, PrepaymentChoice::LowerInstallment) => {
                equal_principal(remaining, rate, months)?
            }
            (RepaymentMethod::EqualInstallments, PrepaymentChoice::ShorterTerm) => {
                crate::repayment::after_partial_prepayment(
                    balance,
                    months,
                    rate,
                    next.principal + next.interest,
                    quote.principal,
                    PrepaymentChoice::ShorterTerm,
                )?
            }
            (RepaymentMethod::EqualPrincipal, PrepaymentChoice::ShorterTerm) => {
                shares_of(remaining, next.principal, rate)
            }
        };
        Ok(schedule
            .into_iter()
            .map(|mut installment| {
                let index = installment.period - 1;
                installment.period = next.period + index;
                PlannedInstallment {
                    due_date: next
                        .due_date
                        .checked_add_months(chrono::Months::new(index))
                        .unwrap_or(next.due_date),
                    installment,
                }
            })
            .collect())
    }

    /// Applies a ledger event (received payments, a re-plan); others change nothing.
    pub fn apply(&mut self, event: &super::LoanEvent) {
        match event {
            super::LoanEvent::RepaymentReceived {
                accruals, parts, ..
            } => {
                self.apply_accruals(accruals);
                self.apply_parts(parts);
            }
            super::LoanEvent::PlanRecalculated {
                from_period, plan, ..
            } => self.apply_replan(*from_period, plan),
            _ => {}
        }
    }

    /// Replaces the periods from `from` on with `plan`.
    pub fn apply_replan(&mut self, from: u32, plan: &[PlannedInstallment]) {
        self.periods.retain(|p| p.period < from);
        self.periods.extend(plan.iter().map(LedgerPeriod::planned));
    }
}

/// 等额本金 with a fixed principal `share` until `balance` is repaid (the last
/// period the remainder), interest on the balance each month.
fn shares_of(mut balance: Decimal, share: Decimal, annual_rate: Decimal) -> Vec<Installment> {
    let r = annual_rate / Decimal::from(12);
    let mut schedule = Vec::new();
    while balance > Decimal::ZERO && share > Decimal::ZERO {
        let interest = fen(balance * r);
        let principal = share.min(balance);
        balance -= principal;
        schedule.push(Installment {
            period: schedule.len() as u32 + 1,
            amount: principal + interest,
            principal,
            interest,
            balance_after: balance,
        });
    }
    schedule
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::repayment::repayment_plan;

    fn ledger(penalty: &str) -> Ledger {
        let day = |m, d| NaiveDate::from_ymd_opt(2027, m, d).unwrap();
        let plan = repayment_plan(
            Decimal::new(1_200_000, 2),
            Decimal::new(6, 2),
            12,
            RepaymentMethod::EqualInstallments,
            day(2, 10),
        )
        .unwrap();
        Ledger::open(
            LoanTerms {
                annual_rate: Decimal::new(6, 2),
                term_months: 12,
                method: RepaymentMethod::EqualInstallments,
                penalty_annual_rate: penalty.parse().unwrap(),
            },
            day(1, 10),
            &plan,
        )
    }

    proptest! {
        /// Whatever arrives on whatever day, a booking pays exactly the amount,
        /// never more than a period owes, and what is owed falls by the amount.
        #[test]
        fn a_booking_pays_exactly_what_arrived(
            payments in proptest::collection::vec((1u32..400, 1i64..300_000), 1..12)
        ) {
            let mut ledger = ledger("0.18");
            let start = NaiveDate::from_ymd_opt(2027, 1, 10).unwrap();
            let mut day = start;
            for (days, fen) in payments {
                day = day + chrono::Days::new(days.into());
                let amount = Decimal::new(fen, 2);
                let Ok(booking) = ledger.book(day, amount) else { continue };
                let paid: Decimal = booking.parts.iter().map(RepaymentPart::total).sum();
                prop_assert_eq!(paid, amount);
                let before: Decimal = {
                    let mut accrued = ledger.clone();
                    accrued.apply_accruals(&booking.accruals);
                    accrued.periods.iter().map(LedgerPeriod::unpaid).sum()
                };
                ledger.apply_accruals(&booking.accruals);
                ledger.apply_parts(&booking.parts);
                let after: Decimal = ledger.periods.iter().map(LedgerPeriod::unpaid).sum();
                prop_assert_eq!(before - after, amount);
                for p in &ledger.periods {
                    prop_assert!(p.paid_principal <= p.principal);
                    prop_assert!(p.paid_interest <= p.interest);
                    prop_assert!(p.paid_penalty <= p.penalty);
                }
            }
        }
    }

    /// The payoff on a day equals what a full prepayment quote asks that day.
    #[test]
    fn the_payoff_equals_the_full_quote() {
        let ledger = ledger("0.18");
        let day = NaiveDate::from_ymd_opt(2027, 2, 16).unwrap();
        assert_eq!(
            ledger.payoff_on(day),
            ledger.quote(day, None).unwrap().total
        );
    }
}
