//! The terms of a 融信秒贷 contract: what the bank offers at approval (授信额度,
//! 执行年利率, the terms it allows), what the customer then chooses (the amount,
//! 003 §二(四): 客户需要根据个贷给出的额度，输入自己期望贷款的额度), and the contract
//! the customer signs, named by a version and a digest so a signature covers
//! exactly the terms shown.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ledger::LoanTerms;
use crate::repayment::{self, Installment, RepaymentError, RepaymentMethod};

/// The currency every 融信秒贷 contract is written in.
pub const CURRENCY: &str = "CNY";

/// What the credit system approved (个贷系统审批通过): the figures the bank
/// decides and the customer cannot change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CreditOffer {
    /// 授信额度: the most the customer may borrow.
    pub credit_limit: Decimal,
    /// 执行年利率 offered, e.g. 0.0435 (the final signing rate unless the bank sets another).
    pub annual_rate: Decimal,
    /// The terms (months) the customer may choose among.
    pub allowed_term_months: Vec<u32>,
    /// 还款方式 (等额本息 unless the product says otherwise).
    pub method: RepaymentMethod,
}

impl CreditOffer {
    /// Checks the figures of an offer.
    pub fn check(&self) -> Result<(), RepaymentError> {
        if self.credit_limit <= Decimal::ZERO
            || repayment::fen(self.credit_limit) != self.credit_limit
        {
            return Err(RepaymentError::BadPrincipal);
        }
        if self.annual_rate < Decimal::ZERO || self.annual_rate >= Decimal::ONE {
            return Err(RepaymentError::BadRate);
        }
        if self.allowed_term_months.is_empty()
            || self.allowed_term_months.len() > 60
            || self
                .allowed_term_months
                .iter()
                .any(|t| !(1..=360).contains(t))
        {
            return Err(RepaymentError::BadTerm);
        }
        Ok(())
    }
}

/// The contract's terms as shown to the customer (003 §二(四) 电子合同线上签约:
/// 合同金额、币种、贷款期限、贷款用途 …), versioned: any change makes a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ContractTerms {
    /// 1 for the first terms of the loan, then 2, 3… on every change.
    pub version: u32,
    /// 合同金额.
    pub amount: Decimal,
    /// 币种.
    pub currency: String,
    /// 贷款期限 in months.
    pub term_months: u32,
    /// 最终签约利率 (执行年利率).
    pub annual_rate: Decimal,
    /// 贷款用途.
    pub purpose: String,
    /// 还款方式.
    pub method: RepaymentMethod,
    /// 罚息年利率 (the bank's, 0 where it charges none).
    pub penalty_annual_rate: Decimal,
}

impl ContractTerms {
    /// The SHA-256 (hex) of the terms' canonical text: what a signature names.
    pub fn digest(&self) -> String {
        let canonical = format!(
            "facesign-contract-terms/1|{}|{:.2}|{}|{}|{}|{}|{}|{}",
            self.version,
            self.amount,
            self.currency,
            self.term_months,
            self.annual_rate.normalize(),
            self.purpose,
            crate::wire_name(&self.method),
            self.penalty_annual_rate.normalize(),
        );
        Sha256::digest(canonical.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The figures the ledger repays by.
    pub fn loan_terms(&self) -> LoanTerms {
        LoanTerms {
            annual_rate: self.annual_rate,
            term_months: self.term_months,
            method: self.method,
            penalty_annual_rate: self.penalty_annual_rate,
        }
    }

    /// The schedule of these terms (试算还款计划).
    pub fn schedule(&self) -> Result<Vec<Installment>, RepaymentError> {
        repayment::schedule(self.amount, self.annual_rate, self.term_months, self.method)
    }

    /// 利息合计 over the whole term.
    pub fn total_interest(&self) -> Result<Decimal, RepaymentError> {
        Ok(repayment::total_interest(&self.schedule()?))
    }
}

/// A text the customer accepts (003 §二(二) 双协议勾选, §二(四) 贷款用途声明书).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum LoanDocument {
    /// 《个人员工信息查询授权书》 (the ERP query), before submission.
    EmployeeInfoQuery,
    /// 《个人信用报告查询授权书》 (the credit report query), before submission.
    CreditReportQuery,
    /// 《贷款用途声明书》 with the purpose, before signing (online only up to 300,000).
    LoanPurposeDeclaration,
}

impl LoanDocument {
    /// The text's title as 003 names it.
    pub fn title_zh(self) -> &'static str {
        match self {
            LoanDocument::EmployeeInfoQuery => "《个人员工信息查询授权书》",
            LoanDocument::CreditReportQuery => "《个人信用报告查询授权书》",
            LoanDocument::LoanPurposeDeclaration => "《贷款用途声明书》",
        }
    }
}

/// What the verification service checked the customer's SMS code and
/// transaction password for (003 §二(四), §我的贷款 合同下载).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum VerificationPurpose {
    /// 点击"提交"后…短信验证码和交易密码的校验.
    Submission,
    /// 合同下载: 每次申请下载…都需输入交易密码.
    ContractDownload,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> ContractTerms {
        ContractTerms {
            version: 1,
            amount: Decimal::new(1_200_000, 2),
            currency: CURRENCY.into(),
            term_months: 12,
            annual_rate: Decimal::new(6, 2),
            purpose: "装修".into(),
            method: RepaymentMethod::EqualInstallments,
            penalty_annual_rate: Decimal::ZERO,
        }
    }

    #[test]
    fn the_digest_changes_with_every_figure_and_not_with_notation() {
        let base = terms();
        let mut same = terms();
        same.annual_rate = Decimal::new(600, 4); // 0.0600 is 0.06
        assert_eq!(base.digest(), same.digest());
        assert_eq!(base.digest().len(), 64);
        let changes: [fn(&mut ContractTerms); 6] = [
            |t| t.version = 2,
            |t| t.amount = Decimal::new(1_200_001, 2),
            |t| t.term_months = 24,
            |t| t.annual_rate = Decimal::new(5, 2),
            |t| t.purpose = "购车".into(),
            |t| t.method = RepaymentMethod::EqualPrincipal,
        ];
        for change in changes {
            let mut other = terms();
            change(&mut other);
            assert_ne!(base.digest(), other.digest(), "{other:?}");
        }
    }

    /// 003 §二(三): 根据贷款期限及额度试算还款计划 — the figures of docs/loans.md's example.
    #[test]
    fn total_interest_is_the_schedules() {
        // 1,032.80 × 11 + 1,032.78 − 12,000.00
        assert_eq!(terms().total_interest().unwrap(), Decimal::new(39_358, 2));
    }
}
