//! Repayment maths of 003 (融信秒贷: 还款方式 等额本息, 提前还款), as pure functions
//! on `rust_decimal`: amounts are CNY rounded half-up to the fen (0.01).

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Why a schedule or a repayment cannot be computed.
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
pub enum RepaymentError {
    /// Principal must be positive, at most two decimals.
    #[error("principal must be a positive amount in fen")]
    BadPrincipal,
    /// The annual rate must be within 0 and 1 (e.g. 0.0435).
    #[error("the annual rate must be between 0 and 1")]
    BadRate,
    /// 1 to 360 months.
    #[error("the term must be 1 to 360 months")]
    BadTerm,
    /// A prepayment must be positive and below the outstanding principal
    /// (a full repayment pays exactly the outstanding principal).
    #[error(
        "a partial prepayment must be positive and below the outstanding principal {outstanding}"
    )]
    BadPrepayment {
        /// Principal still owed.
        outstanding: Decimal,
    },
}

/// One period of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Installment {
    /// 1-based period.
    pub period: u32,
    /// What is due: principal + interest.
    pub amount: Decimal,
    /// Principal part.
    pub principal: Decimal,
    /// Interest part.
    pub interest: Decimal,
    /// Principal owed after this period.
    pub balance_after: Decimal,
}

/// Rounds half-up to the fen.
pub fn fen(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn check(principal: Decimal, annual_rate: Decimal, months: u32) -> Result<(), RepaymentError> {
    if principal <= Decimal::ZERO || fen(principal) != principal {
        return Err(RepaymentError::BadPrincipal);
    }
    if annual_rate < Decimal::ZERO || annual_rate >= Decimal::ONE {
        return Err(RepaymentError::BadRate);
    }
    if !(1..=360).contains(&months) {
        return Err(RepaymentError::BadTerm);
    }
    Ok(())
}

/// The level installment of 等额本息: P·r·(1+r)ⁿ / ((1+r)ⁿ − 1), r the monthly
/// rate, rounded half-up to the fen; P/n at a zero rate. When rounding up a
/// small installment over a long term would repay the principal before the
/// last period (309.45 over 346 months), it is a fen less, so the plan keeps
/// its term and the last period takes the rest.
pub fn level_installment(
    principal: Decimal,
    annual_rate: Decimal,
    months: u32,
) -> Result<Decimal, RepaymentError> {
    check(principal, annual_rate, months)?;
    let r = annual_rate / Decimal::from(12);
    let mut installment = if r.is_zero() {
        fen(principal / Decimal::from(months))
    } else {
        let growth = (0..months).fold(Decimal::ONE, |acc, _| acc * (Decimal::ONE + r));
        fen(principal * r * growth / (growth - Decimal::ONE))
    };
    let one_fen = Decimal::new(1, 2);
    while installment > one_fen
        && (amortize(principal, annual_rate, installment, Some(months)).len() as u32) < months
    {
        installment -= one_fen;
    }
    Ok(installment)
}

/// The 等额本息 schedule: every period pays the level installment except the
/// last, which pays the remaining principal and its interest, absorbing the
/// rounding. Interest is the balance times the monthly rate, half-up to the fen.
pub fn equal_installments(
    principal: Decimal,
    annual_rate: Decimal,
    months: u32,
) -> Result<Vec<Installment>, RepaymentError> {
    let installment = level_installment(principal, annual_rate, months)?;
    Ok(amortize(principal, annual_rate, installment, Some(months)))
}

/// Amortizes `balance` with a fixed `installment`, for `months` periods (the
/// last absorbing the rounding) or, when `None`, until the balance is paid.
fn amortize(
    mut balance: Decimal,
    annual_rate: Decimal,
    installment: Decimal,
    months: Option<u32>,
) -> Vec<Installment> {
    let r = annual_rate / Decimal::from(12);
    let mut schedule = Vec::new();
    let mut period = 0;
    while balance > Decimal::ZERO {
        period += 1;
        let interest = fen(balance * r);
        let last = match months {
            Some(n) => period == n,
            None => installment - interest >= balance,
        };
        let principal = if last {
            balance
        } else {
            (installment - interest).min(balance)
        };
        balance -= principal;
        schedule.push(Installment {
            period,
            amount: principal + interest,
            principal,
            interest,
            balance_after: balance,
        });
        if last || period >= 1200 {
            break;
        }
    }
    schedule
}

/// How a loan is repaid (003 §二(一): 还款方式, 等额本息 unless the product
/// says otherwise).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum RepaymentMethod {
    /// 等额本息: a level installment.
    #[default]
    EqualInstallments,
    /// 等额本金: a level share of the principal plus the interest on the balance.
    EqualPrincipal,
}

/// The 等额本金 schedule: every period repays the principal divided by the
/// term, half-up to the fen (the last period the remainder), plus the balance
/// times the monthly rate, half-up to the fen.
pub fn equal_principal(
    principal: Decimal,
    annual_rate: Decimal,
    months: u32,
) -> Result<Vec<Installment>, RepaymentError> {
    check(principal, annual_rate, months)?;
    let r = annual_rate / Decimal::from(12);
    let share = fen(principal / Decimal::from(months));
    let mut balance = principal;
    Ok((1..=months)
        .map(|period| {
            let interest = fen(balance * r);
            let repaid = if period == months {
                balance
            } else {
                share.min(balance)
            };
            balance -= repaid;
            Installment {
                period,
                amount: repaid + interest,
                principal: repaid,
                interest,
                balance_after: balance,
            }
        })
        .collect())
}

/// The schedule of `method`: 等额本息 or 等额本金.
pub fn schedule(
    principal: Decimal,
    annual_rate: Decimal,
    months: u32,
    method: RepaymentMethod,
) -> Result<Vec<Installment>, RepaymentError> {
    match method {
        RepaymentMethod::EqualInstallments => equal_installments(principal, annual_rate, months),
        RepaymentMethod::EqualPrincipal => equal_principal(principal, annual_rate, months),
    }
}

/// 利息合计 of a schedule.
pub fn total_interest(schedule: &[Installment]) -> Decimal {
    schedule.iter().map(|i| i.interest).sum()
}

/// One period of a loan's plan: the Shanghai calendar day it falls due, and
/// what it asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PlannedInstallment {
    /// The day it is due (Asia/Shanghai).
    pub due_date: chrono::NaiveDate,
    /// What is due.
    #[serde(flatten)]
    pub installment: Installment,
}

/// A loan's repayment plan (003 §二(七) 还款计划: 期数、还款日期、应还本金、应还利息、
/// 本息合计): the schedule of `method`, period k due k − 1 months after
/// `first_due`, on the same day of the month or, in a shorter month, its last day.
pub fn repayment_plan(
    principal: Decimal,
    annual_rate: Decimal,
    months: u32,
    method: RepaymentMethod,
    first_due: chrono::NaiveDate,
) -> Result<Vec<PlannedInstallment>, RepaymentError> {
    schedule(principal, annual_rate, months, method)?
        .into_iter()
        .map(|installment| {
            let due_date = first_due
                .checked_add_months(chrono::Months::new(installment.period - 1))
                .ok_or(RepaymentError::BadTerm)?;
            Ok(PlannedInstallment {
                due_date,
                installment,
            })
        })
        .collect()
}

/// What a partial prepayment changes (003 提前还款: 部分提前还款).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum PrepaymentChoice {
    /// Keep the installment; the loan ends earlier (缩短期限).
    ShorterTerm,
    /// Keep the end date; the installment falls (减少月供).
    LowerInstallment,
}

/// The schedule after prepaying `amount` of the `outstanding` principal with
/// `remaining_months` left at `current_installment`.
pub fn after_partial_prepayment(
    outstanding: Decimal,
    remaining_months: u32,
    annual_rate: Decimal,
    current_installment: Decimal,
    amount: Decimal,
    choice: PrepaymentChoice,
) -> Result<Vec<Installment>, RepaymentError> {
    check(outstanding, annual_rate, remaining_months)?;
    if amount <= Decimal::ZERO || fen(amount) != amount || amount >= outstanding {
        return Err(RepaymentError::BadPrepayment { outstanding });
    }
    let balance = outstanding - amount;
    Ok(match choice {
        PrepaymentChoice::LowerInstallment => {
            equal_installments(balance, annual_rate, remaining_months)?
        }
        PrepaymentChoice::ShorterTerm => amortize(balance, annual_rate, current_installment, None),
    })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    /// 003_b9ff603350013dbe.txt: 还款方式（等额本息）. 100,000 CNY over 12 months
    /// at 4.35% a year: installment 8,530.99, last 8,531.01, interest 2,371.90.
    #[test]
    fn the_known_vector_holds() {
        let schedule = equal_installments(d("100000"), d("0.0435"), 12).unwrap();
        assert_eq!(schedule.len(), 12);
        assert!(schedule[..11].iter().all(|i| i.amount == d("8530.99")));
        assert_eq!(schedule[11].amount, d("8531.01"));
        assert_eq!(schedule[11].balance_after, Decimal::ZERO);
        let interest: Decimal = schedule.iter().map(|i| i.interest).sum();
        assert_eq!(interest, d("2371.90"));
        assert_eq!(schedule[0].interest, d("362.50"));
    }

    #[test]
    fn a_zero_rate_splits_the_principal() {
        let schedule = equal_installments(d("1000.00"), Decimal::ZERO, 3).unwrap();
        let amounts: Vec<Decimal> = schedule.iter().map(|i| i.amount).collect();
        assert_eq!(amounts, [d("333.33"), d("333.33"), d("333.34")]);
    }

    #[test]
    fn bad_inputs_are_refused() {
        assert_eq!(
            equal_installments(d("0"), d("0.04"), 12),
            Err(RepaymentError::BadPrincipal)
        );
        assert_eq!(
            equal_installments(d("100.001"), d("0.04"), 12),
            Err(RepaymentError::BadPrincipal)
        );
        assert_eq!(
            equal_installments(d("100"), d("1.5"), 12),
            Err(RepaymentError::BadRate)
        );
        assert_eq!(
            equal_installments(d("100"), d("0.04"), 0),
            Err(RepaymentError::BadTerm)
        );
    }

    /// 003_b9ff603350013dbe.txt 提前还款: a partial prepayment either shortens the
    /// term (same installment) or lowers the installment (same end).
    #[test]
    fn a_partial_prepayment_shortens_the_term_or_lowers_the_installment() {
        let schedule = equal_installments(d("100000"), d("0.0435"), 12).unwrap();
        let after_three = schedule[2].balance_after;
        let shorter = after_partial_prepayment(
            after_three,
            9,
            d("0.0435"),
            d("8530.99"),
            d("30000.00"),
            PrepaymentChoice::ShorterTerm,
        )
        .unwrap();
        assert!(shorter.len() < 9);
        assert!(shorter[..shorter.len() - 1]
            .iter()
            .all(|i| i.amount == d("8530.99")));
        let lower = after_partial_prepayment(
            after_three,
            9,
            d("0.0435"),
            d("8530.99"),
            d("30000.00"),
            PrepaymentChoice::LowerInstallment,
        )
        .unwrap();
        assert_eq!(lower.len(), 9);
        assert!(lower[0].amount < d("8530.99"));
        for plan in [&shorter, &lower] {
            let principal: Decimal = plan.iter().map(|i| i.principal).sum();
            assert_eq!(principal, after_three - d("30000.00"));
        }
        assert_eq!(
            after_partial_prepayment(
                after_three,
                9,
                d("0.0435"),
                d("8530.99"),
                after_three,
                PrepaymentChoice::ShorterTerm
            ),
            Err(RepaymentError::BadPrepayment {
                outstanding: after_three
            })
        );
    }

    #[test]
    /// 003 §二(一) 还款方式, 等额本金 where the product says so: 120,000 over 12
    /// months at 6 % repays 10,000 a month and interest on the balance —
    /// 600.00 first, 50.00 last, 3,900.00 in all (0.005 × 10,000 × 78).
    fn equal_principal_repays_a_level_share_and_interest_on_the_balance() {
        let plan = equal_principal(d("120000"), d("0.06"), 12).unwrap();
        assert_eq!(plan.len(), 12);
        assert!(plan.iter().all(|p| p.principal == d("10000")));
        assert_eq!(
            (plan[0].interest, plan[0].amount),
            (d("600.00"), d("10600.00"))
        );
        assert_eq!(
            (plan[11].interest, plan[11].amount),
            (d("50.00"), d("10050.00"))
        );
        let interest: Decimal = plan.iter().map(|p| p.interest).sum();
        assert_eq!(interest, d("3900.00"));
        assert_eq!(plan[11].balance_after, Decimal::ZERO);
        // A share that does not divide: the last period takes the remainder.
        let uneven = equal_principal(d("100000"), d("0.0435"), 3).unwrap();
        let shares: Vec<_> = uneven.iter().map(|p| p.principal).collect();
        assert_eq!(shares, [d("33333.33"), d("33333.33"), d("33333.34")]);
        // 100,000 × 0.0435 / 12 = 362.50; then 66,666.67 × … = 241.666… → 241.67.
        assert_eq!(uneven[0].interest, d("362.50"));
        assert_eq!(uneven[1].interest, d("241.67"));
    }

    #[test]
    /// 003 §二(七) 还款计划: period k is due k − 1 months after the first
    /// repayment date, on its day of the month or the last day of a shorter month.
    fn the_plan_falls_due_monthly_from_the_first_repayment_date() {
        let first = chrono::NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
        let plan = repayment_plan(
            d("3000"),
            d("0.0435"),
            3,
            RepaymentMethod::EqualInstallments,
            first,
        )
        .unwrap();
        let days: Vec<String> = plan.iter().map(|p| p.due_date.to_string()).collect();
        assert_eq!(days, ["2027-01-31", "2027-02-28", "2027-03-31"]);
        let level = level_installment(d("3000"), d("0.0435"), 3).unwrap();
        assert_eq!(plan[0].installment.amount, level, "等额本息 by default");
        let by_principal = repayment_plan(
            d("3000"),
            d("0.0435"),
            3,
            RepaymentMethod::EqualPrincipal,
            first,
        )
        .unwrap();
        assert_eq!(by_principal[0].installment.principal, d("1000.00"));
    }

    /// Found by the property below: 309.45 at 1.72 % over 346 months rounds
    /// the installment up far enough to repay before the last period; the plan
    /// keeps all 346 periods (a fen less each, the last takes the rest).
    #[test]
    fn a_small_loan_over_a_long_term_keeps_its_term() {
        let schedule = equal_installments(d("309.45"), d("0.0172"), 346).unwrap();
        assert_eq!(schedule.len(), 346);
        assert_eq!(
            schedule[0].amount,
            level_installment(d("309.45"), d("0.0172"), 346).unwrap()
        );
        assert_eq!(
            schedule.iter().map(|i| i.principal).sum::<Decimal>(),
            d("309.45")
        );
        let flat = equal_installments(d("100.00"), Decimal::ZERO, 346).unwrap();
        assert_eq!(flat.len(), 346, "0.29 × 345 would overpay 100.00");
    }

    proptest! {
        /// The principal parts of any schedule sum exactly to the principal, and
        /// every period but the last pays the level installment.
        #[test]
        fn principal_parts_sum_to_the_principal(
            fen_amount in 10_000u64..500_000_000, // 100 to 5,000,000 CNY in fen
            basis_points in 0u32..2_400,
            months in 1u32..=360,
        ) {
            let principal = Decimal::new(fen_amount as i64, 2);
            let rate = Decimal::new(i64::from(basis_points), 4);
            let schedule = equal_installments(principal, rate, months).unwrap();
            prop_assert_eq!(schedule.len() as u32, months);
            let sum: Decimal = schedule.iter().map(|i| i.principal).sum();
            prop_assert_eq!(sum, principal);
            let level = level_installment(principal, rate, months).unwrap();
            prop_assert!(schedule[..schedule.len() - 1].iter().all(|i| i.amount == level));
            prop_assert!(schedule.iter().all(|i| i.principal >= Decimal::ZERO && i.interest >= Decimal::ZERO));
            prop_assert_eq!(schedule.last().unwrap().balance_after, Decimal::ZERO);
        }

        /// After any partial prepayment the new plan repays exactly what is left.
        #[test]
        fn prepayments_repay_exactly_what_is_left(
            fen_amount in 100_000u64..100_000_000, // 1,000 to 1,000,000 CNY in fen
            share in 1u64..99,
            months in 2u32..=120,
            shorter in any::<bool>(),
        ) {
            let outstanding = Decimal::new(fen_amount as i64, 2);
            let amount = fen(outstanding * Decimal::new(share as i64, 2));
            let installment = level_installment(outstanding, Decimal::new(435, 4), months).unwrap();
            let choice = if shorter { PrepaymentChoice::ShorterTerm } else { PrepaymentChoice::LowerInstallment };
            let plan = after_partial_prepayment(outstanding, months, Decimal::new(435, 4), installment, amount, choice).unwrap();
            let sum: Decimal = plan.iter().map(|i| i.principal).sum();
            prop_assert_eq!(sum, outstanding - amount);
            prop_assert!(plan.len() as u32 <= months);
        }
    }
}
