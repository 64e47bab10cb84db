use crate::message::{message, Localized};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::commands::LoanCommand;
use super::error::LoanError;
use super::events::LoanEvent;
use super::ledger::{Ledger, LoanTerms, OpenPrepayment};
use super::terms::{ContractTerms, CreditOffer, LoanDocument, VerificationPurpose, CURRENCY};
use crate::interview_task::{merge_participants, Participant, TaskKind};
use crate::services::DomainServices;
use checks::{amount_in_fen, term, text, valid_email};

/// A node of the 永续贷 pipeline (001 2.7.1), in order.
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
#[cfg_attr(feature = "graphql", graphql(name = "LoanNode"))]
pub enum Node {
    /// 提交申请.
    Submitted,
    /// 初审.
    PreliminaryReview,
    /// 家访.
    HomeVisit,
    /// 面谈.
    Interview,
    /// 面签.
    Signing,
    /// 公证.
    Notarization,
    /// 已出他证.
    CertificateIssued,
    /// 放款 / 已放款.
    Disbursed,
    /// 融信秒贷 申请中.
    Applying,
    /// 融信秒贷 审批中.
    Approving,
    /// 融信秒贷 待放款.
    AwaitingDisbursement,
    /// 融信秒贷 未通过 (may be resubmitted).
    Declined,
    /// 融信秒贷 放款中: the core has been asked to pay out.
    Disbursing,
    /// 已结清: every period repaid.
    Settled,
}

/// The product, which decides the pipeline.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "graphql", graphql(name = "LoanProduct"))]
pub enum Product {
    /// 永续贷 (001): the eight-node pipeline with an interview.
    #[default]
    Yongxu,
    /// 融信秒贷 (003): 申请中 → 审批中 → 待放款 → 已放款, or 未通过.
    RongxinMiaodai,
    /// A partner platform's 大额授信 loan (002): its order runs the partner
    /// flow; the loan is opened, already paid out, when the order is disbursed,
    /// and carries the ledger.
    Partner,
}

/// 集团ERP验证 result (003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum WhitelistResult {
    /// The employer is on the 秒贷 whitelist: online flow, amount routing.
    Miaodai,
    /// A 中石油 employee not on the whitelist: the offline 融信贷 approval.
    Rongxindai,
    /// Not an employee: no eligibility (无资格).
    NotEligible,
}

/// Who approves (003: 30万以内秒批秒贷, 30万以上…转为线下客户经理审批).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum ApprovalRoute {
    /// Online auto-approval by the credit system.
    Automatic,
    /// A manager approves offline.
    Manual,
}

impl Node {
    /// The pipeline in order.
    pub const PIPELINE: [Node; 8] = [
        Node::Submitted,
        Node::PreliminaryReview,
        Node::HomeVisit,
        Node::Interview,
        Node::Signing,
        Node::Notarization,
        Node::CertificateIssued,
        Node::Disbursed,
    ];

    /// The node after this one, if any.
    pub fn next(self) -> Option<Node> {
        let i = Node::PIPELINE.iter().position(|n| *n == self)?;
        Node::PIPELINE.get(i + 1).copied()
    }

    /// The name of 001.
    pub fn label_zh(self) -> &'static str {
        match self {
            Node::Submitted => "提交申请",
            Node::PreliminaryReview => "初审",
            Node::HomeVisit => "家访",
            Node::Interview => "面谈",
            Node::Signing => "面签",
            Node::Notarization => "公证",
            Node::CertificateIssued => "已出他证",
            Node::Disbursed => "放款",
            Node::Applying => "申请中",
            Node::Approving => "审批中",
            Node::AwaitingDisbursement => "待放款",
            Node::Declined => "未通过",
            Node::Disbursing => "放款中",
            Node::Settled => "已结清",
        }
    }
}

/// The write-side state of one loan application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoanApplication {
    submitted: bool,
    contract_no: String,
    node: Option<Node>,
    task_kind: TaskKind,
    participants: Vec<Participant>,
    product_code: String,
    channel_code: String,
    manager_id: String,
    interview_task: Option<String>,
    interview_passed: bool,
    product: Product,
    amount: Decimal,
    whitelist: Option<WhitelistResult>,
    face_check_passed: bool,
    face_failures: (String, u32),
    route: Option<ApprovalRoute>,
    contract_signed: bool,
    terms: Option<LoanTerms>,
    account: String,
    disbursement_request: Option<String>,
    ledger: Option<Ledger>,
    seen_messages: std::collections::BTreeSet<String>,
    overdue_marked: std::collections::BTreeSet<u32>,
    reminded: std::collections::BTreeSet<u32>,
    prepayment_ids: std::collections::BTreeSet<String>,
    prepayment: Option<OpenPrepayment>,
    repayment_nos: std::collections::BTreeSet<String>,
    open_repayments: std::collections::BTreeSet<String>,
    #[serde(default)]
    property_location: Option<Box<crate::interview_task::PropertyLocation>>,
    term_months: Option<u32>,
    purpose: Option<String>,
    offer: Option<CreditOffer>,
    contract: Option<ContractTerms>,
    accepted: std::collections::BTreeSet<LoanDocument>,
    declared_purpose: Option<String>,
    verified_for_submission: bool,
    signing_rate: Option<Decimal>,
    noticed_prepayments: std::collections::BTreeSet<String>,
    manual_cases: std::collections::BTreeMap<String, super::commands::CoreRequestKind>,
    manual_outcomes: std::collections::BTreeMap<String, String>,
    seat_reviews: std::collections::BTreeSet<String>,
    verified_for_download: bool,
    download_requests: std::collections::BTreeMap<String, bool>,
}

impl LoanApplication {
    /// The current node.
    pub fn node(&self) -> Option<Node> {
        self.node
    }

    /// Contract number.
    pub fn contract_no(&self) -> &str {
        &self.contract_no
    }

    /// The interview task the loan waits on.
    pub fn interview_task(&self) -> Option<&str> {
        self.interview_task.as_deref()
    }

    /// Interview flow of the product.
    pub fn task_kind(&self) -> TaskKind {
        self.task_kind
    }

    /// Participants, de-duplicated.
    pub fn participants(&self) -> &[Participant] {
        &self.participants
    }

    /// The product.
    pub fn product(&self) -> Product {
        self.product
    }

    /// 房产位置, when the application came with it.
    pub fn property_location(&self) -> Option<&crate::interview_task::PropertyLocation> {
        self.property_location.as_deref()
    }

    /// The terms the contract was signed with.
    pub fn signed_terms(&self) -> Option<LoanTerms> {
        self.terms.filter(|_| self.contract_signed)
    }

    /// The contract's terms as they stand (融信秒贷, after the amount is chosen).
    pub fn contract_terms(&self) -> Option<&ContractTerms> {
        self.contract.as_ref()
    }

    /// The amount (zero when not yet chosen), term and purpose applied for.
    pub fn applied_figures(&self) -> (Decimal, Option<u32>, Option<&str>) {
        (self.amount, self.term_months, self.purpose.as_deref())
    }

    /// The ledger of a disbursed loan.
    pub fn ledger(&self) -> Option<&Ledger> {
        self.ledger.as_ref()
    }

    /// Product, channel and account manager of the application.
    pub fn product_channel_manager(&self) -> (&str, &str, &str) {
        (&self.product_code, &self.channel_code, &self.manager_id)
    }
}

impl Aggregate for LoanApplication {
    const TYPE: &'static str = super::AGGREGATE_TYPE;
    type Command = LoanCommand;
    type Event = LoanEvent;
    type Error = LoanError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: LoanCommand,
        services: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), LoanError> {
        if !self.submitted
            && !matches!(
                command,
                LoanCommand::Submit { .. } | LoanCommand::OpenPartnerLoan { .. }
            )
        {
            return Err(LoanError::NotFound);
        }
        let command = match self.servicing(command, services)? {
            Ok(events) => {
                for event in events {
                    sink.write(event, self).await;
                }
                return Ok(());
            }
            Err(other) => other,
        };
        let current = self.node.unwrap_or(Node::Submitted);
        let event = match command {
            LoanCommand::Submit {
                product,
                contract_no,
                amount,
                term_months,
                purpose,
                branch,
                task_kind,
                product_code,
                channel_code,
                manager_id,
                participants,
                property_location,
            } => {
                if self.submitted {
                    return Err(LoanError::AlreadySubmitted);
                }
                if product == Product::Partner {
                    return Err(LoanError::Invalid(message!(
                        "a partner loan opens when its partner order is disbursed"
                    )));
                }
                let contract_no = contract_no.trim().to_string();
                if contract_no.is_empty() || contract_no.chars().count() > 64 {
                    return Err(LoanError::Invalid(message!(
                        "contractNo must be 1 to 64 characters"
                    )));
                }
                let amount = amount.map(|a| amount_in_fen(a, "amount")).transpose()?;
                // 003 §二(三): the customer enters 贷款期限 and 贷款用途; 融信秒贷 takes
                // the amount after approval, 融信贷 keeps 申请贷款（元）.
                let (term_months, purpose) = match product {
                    Product::RongxinMiaodai => (
                        Some(term(term_months.ok_or_else(|| {
                            LoanError::Invalid(message!("a 融信秒贷 application names termMonths"))
                        })?)?),
                        Some(text(purpose.as_deref().unwrap_or(""), "purpose")?),
                    ),
                    _ => {
                        if amount.is_none() {
                            return Err(LoanError::Invalid(message!(
                                "amount must be positive, in fen"
                            )));
                        }
                        let purpose = purpose.map(|p| text(&p, "purpose")).transpose()?;
                        (term_months.map(term).transpose()?, purpose)
                    }
                };
                let branch = branch
                    .map(|b| b.trim().to_string())
                    .filter(|b| !b.is_empty());
                if branch.as_ref().is_some_and(|b| b.chars().count() > 32) {
                    return Err(LoanError::Invalid(message!(
                        "branch must be at most 32 characters"
                    )));
                }
                let participants = merge_participants(&participants)
                    .map_err(|e| LoanError::Invalid(e.message()))?;
                // Checked here as its task would check it: a loan whose task
                // could not be opened must not reach 面谈 (001 2.5.1 省内不做改动).
                let property_location = property_location
                    .map(|location| location.admitted(&services.routing).map(Box::new))
                    .transpose()
                    .map_err(|e| LoanError::Invalid(e.message()))?;
                LoanEvent::LoanSubmitted {
                    product,
                    contract_no,
                    amount,
                    term_months,
                    purpose,
                    branch,
                    task_kind,
                    product_code,
                    channel_code,
                    manager_id,
                    participants,
                    property_location,
                }
            }
            LoanCommand::Advance { to } => {
                self.require(Product::Yongxu)?;
                if current.next() != Some(to) {
                    return Err(LoanError::InvalidTransition { from: current, to });
                }
                if current == Node::Interview && !self.interview_passed {
                    return Err(LoanError::InterviewNotPassed);
                }
                LoanEvent::LoanAdvanced { from: current, to }
            }
            LoanCommand::RollBack { to, reason } => {
                self.require(Product::Yongxu)?;
                let redo_interview = to == Node::Interview && current == Node::Interview;
                if !(to < current || redo_interview) {
                    return Err(LoanError::InvalidTransition { from: current, to });
                }
                let reason = text(&reason, "reason")?;
                LoanEvent::LoanRolledBack {
                    from: current,
                    to,
                    reason,
                    interview_task: self.interview_task.clone(),
                }
            }
            LoanCommand::AttachInterviewTask { task_id } => {
                if self.interview_task.as_deref() == Some(task_id.as_str()) {
                    return Ok(());
                }
                LoanEvent::InterviewTaskAttached { task_id }
            }
            LoanCommand::RecordSeatLoanInfoReview {
                review_id,
                task_id,
                seat_id,
                corrected,
                info,
            } => {
                if self.seat_reviews.contains(&review_id) {
                    return Ok(()); // the task event delivered again
                }
                LoanEvent::LoanInfoReviewed {
                    review_id,
                    task_id,
                    seat_id,
                    corrected,
                    info,
                }
            }
            LoanCommand::RequestContractDownload { request_id, email } => {
                if self.download_requests.contains_key(&request_id) {
                    return Ok(()); // a retried request
                }
                if !self.contract_signed {
                    return Err(LoanError::StepMissing("the e-signed contract"));
                }
                // 003 合同下载: 每次申请下载…都需输入交易密码 — one check per request.
                if !self.verified_for_download {
                    return Err(LoanError::StepMissing("the transaction password check"));
                }
                let email = email.trim().to_string();
                if !valid_email(&email) {
                    return Err(LoanError::Invalid(message!("enter a valid e-mail address")));
                }
                LoanEvent::ContractDownloadRequested { request_id, email }
            }
            LoanCommand::RecordContractDelivery {
                request_id,
                outcome,
            } => match self.download_requests.get(&request_id) {
                None => {
                    return Err(LoanError::NotOpen {
                        kind: "contract download",
                        id: request_id,
                    })
                }
                Some(true) => return Ok(()), // already settled
                Some(false) => match outcome {
                    Ok(()) => LoanEvent::ContractDelivered { request_id },
                    Err(reason) => LoanEvent::ContractDeliveryFailed {
                        request_id,
                        reason: text(&reason, "reason")?,
                    },
                },
            },
            LoanCommand::RecordWhitelist { result } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::Applying)?;
                LoanEvent::WhitelistChecked { result }
            }
            LoanCommand::RecordFaceCheck { passed } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::Applying)?;
                let day = crate::schedule::shanghai_date(services.clock.now()).to_string();
                let failures = if self.face_failures.0 == day {
                    self.face_failures.1
                } else {
                    0
                };
                let cap = services.loans.face_check_daily_cap;
                if failures >= cap {
                    return Err(LoanError::FaceCheckCapReached { cap });
                }
                LoanEvent::FaceChecked {
                    passed,
                    day,
                    failures_today: failures + u32::from(!passed),
                }
            }
            LoanCommand::SubmitForApproval => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::Applying)?;
                let route = match self.whitelist {
                    None => return Err(LoanError::StepMissing("the ERP whitelist check")),
                    Some(WhitelistResult::NotEligible) => return Err(LoanError::NotEligible),
                    Some(_) if !self.face_check_passed => {
                        return Err(LoanError::StepMissing("a passed face check"))
                    }
                    // 003 §二(四): the amount is chosen after approval, against the limit.
                    Some(WhitelistResult::Miaodai) => ApprovalRoute::Automatic,
                    Some(WhitelistResult::Rongxindai) => ApprovalRoute::Manual,
                };
                // 003 §二(二) 双协议勾选, before the application goes anywhere.
                for document in [
                    LoanDocument::EmployeeInfoQuery,
                    LoanDocument::CreditReportQuery,
                ] {
                    if !self.accepted.contains(&document) {
                        return Err(LoanError::StepMissing(document.title_zh()));
                    }
                }
                // 003 §二(四): 点击"提交"按钮后…短信验证码和交易密码的校验.
                if !self.verified_for_submission {
                    return Err(LoanError::StepMissing(
                        "the SMS code and transaction password check",
                    ));
                }
                let amount = match route {
                    ApprovalRoute::Automatic => None,
                    // 融信贷 keeps 申请贷款（元） (003 §二(三)).
                    ApprovalRoute::Manual if self.amount > Decimal::ZERO => Some(self.amount),
                    ApprovalRoute::Manual => {
                        return Err(LoanError::StepMissing("the amount applied for (融信贷)"))
                    }
                };
                LoanEvent::ApprovalRequested {
                    amount,
                    route,
                    auto_approval_limit: services.loans.auto_approval_limit,
                }
            }
            LoanCommand::Approve {
                approver_role,
                credit_limit,
                annual_rate,
                allowed_term_months,
                method,
            } => {
                self.require(Product::RongxinMiaodai)?;
                // A loan approved online before the bank's offer was recorded
                // (loan events 1.0) and not yet signed gets its offer now.
                let legacy = current == Node::AwaitingDisbursement
                    && self.route == Some(ApprovalRoute::Automatic)
                    && self.offer.is_none()
                    && !self.contract_signed;
                if !legacy {
                    self.at(Node::Approving)?;
                }
                let route = self.route.unwrap_or(ApprovalRoute::Manual);
                let allowed = match route {
                    ApprovalRoute::Automatic => approver_role == "CREDIT_SYSTEM",
                    ApprovalRoute::Manual => {
                        matches!(approver_role.as_str(), "ACCOUNT_MANAGER" | "SUPERVISOR")
                    }
                };
                if !allowed {
                    return Err(LoanError::WrongApprover {
                        route,
                        role: approver_role,
                    });
                }
                // 003 §二(一): 期望额度小于等于授信审批额度. The credit system
                // approves with the limit it granted; a manager may record it.
                let credit_limit = match (route, credit_limit) {
                    (ApprovalRoute::Automatic, None) => {
                        return Err(LoanError::Invalid(message!(
                            "the credit system approves with the creditLimit it granted"
                        )))
                    }
                    (_, Some(limit)) if limit <= Decimal::ZERO || limit.round_dp(2) != limit => {
                        return Err(LoanError::Invalid(message!(
                            "creditLimit must be positive, in fen"
                        )))
                    }
                    (_, Some(limit)) if self.amount > limit => {
                        return Err(LoanError::AboveCreditLimit {
                            amount: self.amount,
                            limit,
                        })
                    }
                    (_, limit) => limit,
                };
                // Online, the credit system's approval is the offer: 授信额度,
                // 执行年利率, the terms allowed (003: 融信秒贷贷款利率，由个贷系统提供).
                let offer = match (route, credit_limit) {
                    (ApprovalRoute::Automatic, Some(credit_limit)) => {
                        let annual_rate = annual_rate.ok_or_else(|| {
                            LoanError::Invalid(message!(
                                "the credit system approves with the annualRate it offers"
                            ))
                        })?;
                        let mut allowed_term_months = if allowed_term_months.is_empty() {
                            self.term_months.into_iter().collect()
                        } else {
                            allowed_term_months
                        };
                        allowed_term_months.sort_unstable();
                        allowed_term_months.dedup();
                        let offer = CreditOffer {
                            credit_limit,
                            annual_rate,
                            allowed_term_months,
                            method,
                        };
                        offer.check().map_err(super::ledger::LedgerError::from)?;
                        Some(offer)
                    }
                    _ => None,
                };
                LoanEvent::LoanApproved {
                    route,
                    credit_limit,
                    offer,
                }
            }
            LoanCommand::AcceptDocument { document, version } => {
                self.require(Product::RongxinMiaodai)?;
                self.accept_document(document, &version)?
            }
            LoanCommand::RecordVerification { purpose, passed } => {
                self.require(Product::RongxinMiaodai)?;
                match purpose {
                    VerificationPurpose::Submission => self.at(Node::Applying)?,
                    VerificationPurpose::ContractDownload if !self.contract_signed => {
                        return Err(LoanError::StepMissing("the e-signed contract"))
                    }
                    VerificationPurpose::ContractDownload => {}
                }
                LoanEvent::CustomerVerified { purpose, passed }
            }
            LoanCommand::ChooseAmount {
                amount,
                term_months,
            } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::AwaitingDisbursement)?;
                self.online()?;
                match self.choose_amount(amount, term_months, services)? {
                    Some(event) => event,
                    None => return Ok(()), // the same choice again
                }
            }
            LoanCommand::SetSigningRate { annual_rate } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::AwaitingDisbursement)?;
                self.online()?;
                self.unsigned_offer()?;
                if !(Decimal::ZERO..Decimal::ONE).contains(&annual_rate) {
                    return Err(super::ledger::LedgerError::from(
                        crate::repayment::RepaymentError::BadRate,
                    )
                    .into());
                }
                let in_force = self
                    .signing_rate
                    .or(self.offer.as_ref().map(|o| o.annual_rate));
                if in_force == Some(annual_rate) {
                    return Ok(()); // the rate already in the terms
                }
                let terms = self.contract.as_ref().map(|current| ContractTerms {
                    version: current.version + 1,
                    annual_rate,
                    ..current.clone()
                });
                LoanEvent::SigningRateSet { annual_rate, terms }
            }
            LoanCommand::Decline { reason } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::Approving)?;
                let reason = text(&reason, "reason")?;
                LoanEvent::LoanDeclined { reason }
            }
            LoanCommand::Resubmit {
                amount,
                term_months,
                purpose,
            } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::Declined)?;
                let amount = amount
                    .map(|a| amount_in_fen(a, "amount"))
                    .transpose()?
                    .or((self.amount > Decimal::ZERO).then_some(self.amount));
                LoanEvent::LoanResubmitted {
                    amount,
                    term_months: term_months.or(self.term_months).map(term).transpose()?,
                    purpose: match purpose {
                        Some(p) => Some(text(&p, "purpose")?),
                        None => self.purpose.clone(),
                    },
                }
            }
            LoanCommand::SignContract {
                signature_ref,
                terms_digest,
            } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::AwaitingDisbursement)?;
                self.online()?;
                let digest = terms_digest.trim().to_ascii_lowercase();
                if self.contract_signed {
                    // A retried signature of the signed terms changes nothing.
                    return match &self.contract {
                        Some(signed) if digest == signed.digest() => Ok(()),
                        _ => Err(LoanError::AlreadySigned),
                    };
                }
                let Some(contract) = &self.contract else {
                    return Err(LoanError::StepMissing("the amount chosen after approval"));
                };
                if digest != contract.digest() {
                    return Err(LoanError::TermsChanged {
                        version: contract.version,
                    });
                }
                // 003 §二(四): 30万以下…客户签署《贷款用途声明书》后，走签署合同流程.
                if self.declared_purpose.as_deref() != Some(contract.purpose.as_str()) {
                    return Err(LoanError::StepMissing(
                        LoanDocument::LoanPurposeDeclaration.title_zh(),
                    ));
                }
                let signature_ref = signature_ref.trim().to_string();
                if signature_ref.is_empty() || signature_ref.len() > 500 {
                    return Err(LoanError::Invalid(message!(
                        "signatureRef must be 1 to 500 characters"
                    )));
                }
                LoanEvent::ContractSigned {
                    signature_ref,
                    terms: Some(contract.loan_terms()),
                    contract: Some(contract.clone()),
                }
            }
            LoanCommand::ConfirmDisbursement { account } => {
                self.require(Product::RongxinMiaodai)?;
                if current == Node::Disbursing && self.account == account.trim() {
                    return Ok(()); // the customer clicked again; the request is out
                }
                self.at(Node::AwaitingDisbursement)?;
                self.online()?;
                if !self.contract_signed {
                    return Err(LoanError::StepMissing("the e-signed contract"));
                }
                let account = account.trim().to_string();
                if account.is_empty() || account.len() > 40 {
                    return Err(LoanError::Invalid(message!(
                        "account must be 1 to 40 characters"
                    )));
                }
                let Some(terms) = self.terms else {
                    return Err(LoanError::StepMissing("a contract signed with its terms"));
                };
                LoanEvent::DisbursementRequested {
                    request_id: services.ids.new_id().to_string(),
                    account,
                    amount: self.amount,
                    terms,
                }
            }
            LoanCommand::RecordDisbursementResult { .. }
            | LoanCommand::RecordRepayment { .. }
            | LoanCommand::RecordAutoDebitFailure { .. }
            | LoanCommand::ReviewLedger { .. }
            | LoanCommand::RequestPrepayment { .. }
            | LoanCommand::DecidePrepayment { .. }
            | LoanCommand::EscalateCoreRequest { .. }
            | LoanCommand::ResolveManualCase { .. }
            | LoanCommand::OpenPartnerLoan { .. }
            | LoanCommand::RequestRepayment { .. } => {
                unreachable!("servicing commands are handled above")
            }
            LoanCommand::RecordInterviewPassed { task_id } => {
                if self.interview_task.as_deref() != Some(task_id.as_str()) || self.interview_passed
                {
                    return Ok(()); // a superseded task's result, or a redelivery
                }
                LoanEvent::InterviewPassed { task_id }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: LoanEvent) {
        self.evolve(event);
    }
}

mod checks;
mod evolve;
mod manual;
mod servicing;

#[cfg(test)]
mod tests;
