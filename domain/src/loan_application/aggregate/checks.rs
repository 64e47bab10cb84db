//! What a command must meet before the loan decides on it: the product, the
//! node, the offer, the documents, and the shape of amounts, terms, texts and
//! e-mail addresses.

use super::*;
use crate::message::message;

impl LoanApplication {
    pub(super) fn require(&self, product: Product) -> Result<(), LoanError> {
        if self.product == product {
            Ok(())
        } else {
            Err(LoanError::WrongProduct {
                product: self.product,
            })
        }
    }

    /// 003 §二(一): 如果期望额度大于30万元，则后续签约流程以及放款流程转成线下 —
    /// a manually approved loan is signed and paid out offline.
    pub(super) fn online(&self) -> Result<(), LoanError> {
        if self.route == Some(ApprovalRoute::Manual) {
            Err(LoanError::OfflineRoute)
        } else {
            Ok(())
        }
    }

    /// The credit system's offer, while the contract is not yet signed.
    pub(super) fn unsigned_offer(&self) -> Result<&CreditOffer, LoanError> {
        if self.contract_signed {
            return Err(LoanError::AlreadySigned);
        }
        self.offer
            .as_ref()
            .ok_or(LoanError::StepMissing("the credit system's offer"))
    }

    /// 003 §二(二), §二(四): the texts the customer accepts, each in order.
    pub(super) fn accept_document(
        &self,
        document: LoanDocument,
        version: &str,
    ) -> Result<LoanEvent, LoanError> {
        let version = version.trim();
        if version.is_empty() || version.chars().count() > 40 {
            return Err(LoanError::Invalid(message!(
                "version must be 1 to 40 characters"
            )));
        }
        let purpose = match document {
            LoanDocument::EmployeeInfoQuery => {
                self.at(Node::Applying)?;
                None
            }
            // 003 §二(二): 签署完《个人员工信息查询授权书》…再签署《个人信用报告查询授权书》.
            LoanDocument::CreditReportQuery => {
                self.at(Node::Applying)?;
                if !self.accepted.contains(&LoanDocument::EmployeeInfoQuery) {
                    return Err(LoanError::StepMissing(
                        LoanDocument::EmployeeInfoQuery.title_zh(),
                    ));
                }
                None
            }
            // Online only: above the limit it is signed offline (003 §二(四)).
            LoanDocument::LoanPurposeDeclaration => {
                self.at(Node::AwaitingDisbursement)?;
                self.online()?;
                self.unsigned_offer()?;
                let Some(contract) = &self.contract else {
                    return Err(LoanError::StepMissing("the amount chosen after approval"));
                };
                Some(contract.purpose.clone())
            }
        };
        Ok(LoanEvent::LoanDocumentAccepted {
            document,
            version: version.to_string(),
            purpose,
        })
    }

    /// 003 §二(四): 客户需要根据个贷给出的额度，输入自己期望贷款的额度，该额度小于等于
    /// 授信审批额度; above the online limit a manager approves and the rest is
    /// offline. `None` when it is the choice already made.
    pub(super) fn choose_amount(
        &self,
        amount: Decimal,
        term_months: Option<u32>,
        services: &DomainServices,
    ) -> Result<Option<LoanEvent>, LoanError> {
        let offer = self.unsigned_offer()?;
        let amount = amount_in_fen(amount, "amount")?;
        if amount > offer.credit_limit {
            return Err(LoanError::AboveCreditLimit {
                amount,
                limit: offer.credit_limit,
            });
        }
        let allowed = &offer.allowed_term_months;
        let term_months = match term_months.or(self.term_months) {
            Some(t) if allowed.contains(&t) => t,
            None | Some(_) if allowed.len() == 1 && term_months.is_none() => allowed[0],
            _ => {
                let listed: Vec<String> = allowed.iter().map(u32::to_string).collect();
                return Err(LoanError::Invalid(message!(
                    "termMonths must be one the bank allows: {}",
                    listed.join(", ")
                )));
            }
        };
        if amount > services.loans.auto_approval_limit {
            return Ok(Some(LoanEvent::LoanAmountChosen {
                amount,
                term_months,
                route: ApprovalRoute::Manual,
                terms: None,
            }));
        }
        let terms = ContractTerms {
            version: self.contract.as_ref().map_or(1, |c| c.version + 1),
            amount,
            currency: CURRENCY.to_string(),
            term_months,
            annual_rate: self.signing_rate.unwrap_or(offer.annual_rate),
            purpose: self.purpose.clone().unwrap_or_default(),
            method: offer.method,
            penalty_annual_rate: services.loans.penalty_annual_rate,
        };
        if let Some(current) = &self.contract {
            let unchanged = ContractTerms {
                version: current.version,
                ..terms.clone()
            };
            if unchanged == *current {
                return Ok(None);
            }
        }
        Ok(Some(LoanEvent::LoanAmountChosen {
            amount,
            term_months,
            route: ApprovalRoute::Automatic,
            terms: Some(terms),
        }))
    }

    pub(super) fn at(&self, node: Node) -> Result<(), LoanError> {
        let current = self.node.unwrap_or(Node::Submitted);
        if current == node {
            Ok(())
        } else {
            Err(LoanError::InvalidTransition {
                from: current,
                to: node,
            })
        }
    }
}

/// An amount in CNY: positive, in fen.
pub(super) fn amount_in_fen(amount: Decimal, field: &str) -> Result<Decimal, LoanError> {
    if amount <= Decimal::ZERO || amount.round_dp(2) != amount {
        return Err(LoanError::Invalid(message!(
            "{field} must be positive, in fen"
        )));
    }
    Ok(amount)
}

/// 003 合同下载: 如客户输入接收电子合同的邮箱地址不符合正确的格式要求，系统则提示
/// "请输入正确的电子邮箱" — one `@`, a local part, a dotted domain, no spaces.
pub(super) fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    email.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c))
        && domain.contains('.')
        && domain.split('.').all(label_ok)
}

/// A term in months: 1 to 360.
pub(super) fn term(months: u32) -> Result<u32, LoanError> {
    if !(1..=360).contains(&months) {
        return Err(LoanError::Invalid(message!("termMonths must be 1 to 360")));
    }
    Ok(months)
}

/// A free-text field, trimmed: 1 to 500 characters.
pub(super) fn text(value: &str, field: &str) -> Result<String, LoanError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 500 {
        return Err(LoanError::Invalid(message!(
            "{field} must be 1 to 500 characters"
        )));
    }
    Ok(value.to_string())
}
