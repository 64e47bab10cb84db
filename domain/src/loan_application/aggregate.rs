use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ErrorCode};
use crate::interview_task::{merge_participants, Participant, ParticipantInput, TaskKind};
use crate::services::DomainServices;

/// A node of the 永续贷 pipeline (001 2.7.1), in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
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
}

/// The product, which decides the pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Product {
    /// 永续贷 (001): the eight-node pipeline with an interview.
    #[default]
    Yongxu,
    /// 融信秒贷 (003): 申请中 → 审批中 → 待放款 → 已放款, or 未通过.
    RongxinMiaodai,
}

/// 集团ERP验证 result (003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WhitelistResult {
    /// The employer is on the 秒贷 whitelist: online flow, amount routing.
    Miaodai,
    /// A 中石油 employee not on the whitelist: the offline 融信贷 approval.
    Rongxindai,
    /// Not an employee: no eligibility (无资格).
    NotEligible,
}

/// Who approves (003: 30万以内秒批秒贷, 30万以上…转为线下客户经理审批).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
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
        }
    }
}

/// Commands a `LoanApplication` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LoanCommand {
    /// Submit an application (提交申请 / 申请中).
    Submit {
        /// The product (decides the pipeline).
        product: Product,
        /// Loan contract number, the key of its interview tasks.
        contract_no: String,
        /// Amount applied for (CNY).
        amount: Decimal,
        /// Interview flow the product uses.
        task_kind: TaskKind,
        /// Product code.
        product_code: String,
        /// Channel code.
        channel_code: String,
        /// Account manager.
        manager_id: String,
        /// Everyone on the contract.
        participants: Vec<ParticipantInput>,
    },
    /// Move to the next node.
    Advance {
        /// The node to move to; must be the next one.
        to: Node,
    },
    /// Move back to an earlier node (a reverse flow, 逆向业务操作).
    RollBack {
        /// The node to move back to. 面谈 itself is allowed from 面谈 (the
        /// interview is redone).
        to: Node,
        /// Why.
        reason: String,
    },
    /// The process manager records the interview task the loan now waits on.
    AttachInterviewTask {
        /// The task.
        task_id: String,
    },
    /// The current interview task reached 已面谈（待提交面签）.
    RecordInterviewPassed {
        /// The task.
        task_id: String,
    },
    /// 融信秒贷: the ERP whitelist check came back.
    RecordWhitelist {
        /// 秒贷, 融信贷 or 无资格.
        result: WhitelistResult,
    },
    /// 融信秒贷: a face check (人脸识别) was attempted.
    RecordFaceCheck {
        /// Whether it passed.
        passed: bool,
    },
    /// 融信秒贷: the customer submits for approval; the amount decides the route.
    SubmitForApproval,
    /// 融信秒贷: approved (by the credit system online, or by a manager).
    Approve {
        /// Role of the approver.
        approver_role: String,
    },
    /// 融信秒贷: declined (未通过).
    Decline {
        /// Why.
        reason: String,
    },
    /// 融信秒贷: a declined application is submitted again, possibly for another amount.
    Resubmit {
        /// New amount, if it changes.
        amount: Option<Decimal>,
    },
    /// 融信秒贷: the contract was e-signed (数字签名).
    SignContract {
        /// Reference of the signed contract.
        signature_ref: String,
    },
    /// 融信秒贷: the customer confirmed disbursement (确认放款).
    ConfirmDisbursement {
        /// Account the loan is paid into.
        account: String,
    },
}

/// Facts recorded about a `LoanApplication`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LoanEvent {
    /// Submitted at 提交申请.
    LoanSubmitted {
        /// Product.
        #[serde(default)]
        product: Product,
        /// Contract.
        contract_no: String,
        /// Amount.
        amount: Decimal,
        /// Interview flow.
        task_kind: TaskKind,
        /// Product code.
        product_code: String,
        /// Channel code.
        channel_code: String,
        /// Account manager.
        manager_id: String,
        /// Participants, de-duplicated.
        participants: Vec<Participant>,
    },
    /// Moved forward.
    LoanAdvanced {
        /// From.
        from: Node,
        /// To.
        to: Node,
    },
    /// Moved back.
    LoanRolledBack {
        /// From.
        from: Node,
        /// To.
        to: Node,
        /// Why.
        reason: String,
        /// The interview task current when it happened (to be superseded when
        /// the roll-back reaches 面谈).
        interview_task: Option<String>,
    },
    /// The loan now waits on this interview task.
    InterviewTaskAttached {
        /// The task.
        task_id: String,
    },
    /// The current task passed.
    InterviewPassed {
        /// The task.
        task_id: String,
    },
    /// ERP whitelist result recorded.
    WhitelistChecked {
        /// The result.
        result: WhitelistResult,
    },
    /// A face check attempt.
    FaceChecked {
        /// Whether it passed.
        passed: bool,
        /// Asia/Shanghai day of the attempt (YYYY-MM-DD).
        day: String,
        /// Failed attempts that day, this one included.
        failures_today: u32,
    },
    /// Submitted for approval on a route (申请中 → 审批中).
    ApprovalRequested {
        /// Amount.
        amount: Decimal,
        /// Who approves.
        route: ApprovalRoute,
        /// The limit in force.
        auto_approval_limit: Decimal,
    },
    /// Approved (审批中 → 待放款).
    LoanApproved {
        /// The route.
        route: ApprovalRoute,
    },
    /// Declined (未通过).
    LoanDeclined {
        /// Why.
        reason: String,
    },
    /// Submitted again (未通过 → 申请中).
    LoanResubmitted {
        /// The amount now.
        amount: Decimal,
    },
    /// The contract was e-signed.
    ContractSigned {
        /// Reference of the signed contract.
        signature_ref: String,
    },
    /// Paid out (待放款 → 已放款).
    LoanDisbursed {
        /// The account.
        account: String,
    },
}

impl DomainEvent for LoanEvent {
    fn event_type(&self) -> String {
        match self {
            LoanEvent::LoanSubmitted { .. } => "LoanSubmitted",
            LoanEvent::LoanAdvanced { .. } => "LoanAdvanced",
            LoanEvent::LoanRolledBack { .. } => "LoanRolledBack",
            LoanEvent::InterviewTaskAttached { .. } => "InterviewTaskAttached",
            LoanEvent::InterviewPassed { .. } => "InterviewPassed",
            LoanEvent::WhitelistChecked { .. } => "WhitelistChecked",
            LoanEvent::FaceChecked { .. } => "FaceChecked",
            LoanEvent::ApprovalRequested { .. } => "ApprovalRequested",
            LoanEvent::LoanApproved { .. } => "LoanApproved",
            LoanEvent::LoanDeclined { .. } => "LoanDeclined",
            LoanEvent::LoanResubmitted { .. } => "LoanResubmitted",
            LoanEvent::ContractSigned { .. } => "ContractSigned",
            LoanEvent::LoanDisbursed { .. } => "LoanDisbursed",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a command on a `LoanApplication` was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum LoanError {
    /// No such application.
    #[error("loan application not found")]
    NotFound,
    /// Already submitted.
    #[error("the loan application already exists")]
    AlreadySubmitted,
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
    /// Not a transition of the pipeline.
    #[error("cannot move from {from:?} to {to:?}")]
    InvalidTransition {
        /// Current node.
        from: Node,
        /// Requested node.
        to: Node,
    },
    /// 001 2.7.2 rule 4: 面签 only after 已面谈（待提交面签）.
    #[error("the interview has not passed (已面谈（待提交面签）) yet")]
    InterviewNotPassed,
    /// The command belongs to the other product's pipeline.
    #[error("not a step of the {product:?} pipeline")]
    WrongProduct {
        /// The application's product.
        product: Product,
    },
    /// 003: 无资格 — the applicant is not eligible.
    #[error("the applicant is not eligible (无资格)")]
    NotEligible,
    /// A step 003 requires first (whitelist check, face check, e-sign).
    #[error("{0} is required first")]
    StepMissing(&'static str),
    /// 003: 当日人脸识别上限次数 reached; the next day allows new attempts.
    #[error("the face check failed {cap} times today (Asia/Shanghai); try again tomorrow")]
    FaceCheckCapReached {
        /// The cap.
        cap: u32,
    },
    /// The approver's role may not approve on this route.
    #[error("a {route:?} approval cannot be given by {role}")]
    WrongApprover {
        /// The route.
        route: ApprovalRoute,
        /// The role that tried.
        role: String,
    },
}

impl DomainError for LoanError {
    fn code(&self) -> ErrorCode {
        match self {
            LoanError::NotFound => ErrorCode::NotFound,
            LoanError::AlreadySubmitted => ErrorCode::Conflict,
            LoanError::Invalid(_) => ErrorCode::Validation,
            LoanError::InvalidTransition { .. }
            | LoanError::InterviewNotPassed
            | LoanError::WrongProduct { .. }
            | LoanError::NotEligible
            | LoanError::StepMissing(_)
            | LoanError::FaceCheckCapReached { .. } => ErrorCode::InvalidTransition,
            LoanError::WrongApprover { .. } => ErrorCode::Forbidden,
        }
    }
}

/// The write-side state of one loan application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

    /// Product, channel and account manager of the application.
    pub fn product_channel_manager(&self) -> (&str, &str, &str) {
        (&self.product_code, &self.channel_code, &self.manager_id)
    }
}

impl LoanApplication {
    fn require(&self, product: Product) -> Result<(), LoanError> {
        if self.product == product {
            Ok(())
        } else {
            Err(LoanError::WrongProduct {
                product: self.product,
            })
        }
    }

    fn at(&self, node: Node) -> Result<(), LoanError> {
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
        if !self.submitted && !matches!(command, LoanCommand::Submit { .. }) {
            return Err(LoanError::NotFound);
        }
        let current = self.node.unwrap_or(Node::Submitted);
        let event = match command {
            LoanCommand::Submit {
                product,
                contract_no,
                amount,
                task_kind,
                product_code,
                channel_code,
                manager_id,
                participants,
            } => {
                if self.submitted {
                    return Err(LoanError::AlreadySubmitted);
                }
                let contract_no = contract_no.trim().to_string();
                if contract_no.is_empty() || contract_no.chars().count() > 64 {
                    return Err(LoanError::Invalid(
                        "contractNo must be 1 to 64 characters".into(),
                    ));
                }
                if amount <= Decimal::ZERO || amount.round_dp(2) != amount {
                    return Err(LoanError::Invalid("amount must be positive, in fen".into()));
                }
                let participants = merge_participants(&participants)
                    .map_err(|e| LoanError::Invalid(e.to_string()))?;
                LoanEvent::LoanSubmitted {
                    product,
                    contract_no,
                    amount,
                    task_kind,
                    product_code,
                    channel_code,
                    manager_id,
                    participants,
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
                let reason = reason.trim().to_string();
                if reason.is_empty() || reason.chars().count() > 500 {
                    return Err(LoanError::Invalid(
                        "reason must be 1 to 500 characters".into(),
                    ));
                }
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
            LoanCommand::RecordWhitelist { result } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::Applying)?;
                LoanEvent::WhitelistChecked { result }
            }
            LoanCommand::RecordFaceCheck { passed } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::Applying)?;
                let day = services
                    .clock
                    .now()
                    .with_timezone(&crate::schedule::shanghai())
                    .format("%Y-%m-%d")
                    .to_string();
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
                    Some(WhitelistResult::Miaodai)
                        if self.amount <= services.loans.auto_approval_limit =>
                    {
                        ApprovalRoute::Automatic
                    }
                    Some(_) => ApprovalRoute::Manual,
                };
                LoanEvent::ApprovalRequested {
                    amount: self.amount,
                    route,
                    auto_approval_limit: services.loans.auto_approval_limit,
                }
            }
            LoanCommand::Approve { approver_role } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::Approving)?;
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
                LoanEvent::LoanApproved { route }
            }
            LoanCommand::Decline { reason } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::Approving)?;
                let reason = reason.trim().to_string();
                if reason.is_empty() || reason.chars().count() > 500 {
                    return Err(LoanError::Invalid(
                        "reason must be 1 to 500 characters".into(),
                    ));
                }
                LoanEvent::LoanDeclined { reason }
            }
            LoanCommand::Resubmit { amount } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::Declined)?;
                let amount = amount.unwrap_or(self.amount);
                if amount <= Decimal::ZERO || amount.round_dp(2) != amount {
                    return Err(LoanError::Invalid("amount must be positive, in fen".into()));
                }
                LoanEvent::LoanResubmitted { amount }
            }
            LoanCommand::SignContract { signature_ref } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::AwaitingDisbursement)?;
                if self.contract_signed {
                    return Ok(());
                }
                let signature_ref = signature_ref.trim().to_string();
                if signature_ref.is_empty() || signature_ref.len() > 500 {
                    return Err(LoanError::Invalid(
                        "signatureRef must be 1 to 500 characters".into(),
                    ));
                }
                LoanEvent::ContractSigned { signature_ref }
            }
            LoanCommand::ConfirmDisbursement { account } => {
                self.require(Product::RongxinMiaodai)?;
                self.at(Node::AwaitingDisbursement)?;
                if !self.contract_signed {
                    return Err(LoanError::StepMissing("the e-signed contract"));
                }
                let account = account.trim().to_string();
                if account.is_empty() || account.len() > 40 {
                    return Err(LoanError::Invalid(
                        "account must be 1 to 40 characters".into(),
                    ));
                }
                LoanEvent::LoanDisbursed { account }
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
        match event {
            LoanEvent::LoanSubmitted {
                product,
                amount,
                contract_no,
                task_kind,
                participants,
                product_code,
                channel_code,
                manager_id,
                ..
            } => {
                self.product_code = product_code;
                self.channel_code = channel_code;
                self.manager_id = manager_id;
                self.submitted = true;
                self.contract_no = contract_no;
                self.task_kind = task_kind;
                self.participants = participants;
                self.product = product;
                self.amount = amount;
                self.node = Some(match product {
                    Product::Yongxu => Node::Submitted,
                    Product::RongxinMiaodai => Node::Applying,
                });
            }
            LoanEvent::LoanAdvanced { to, .. } => self.node = Some(to),
            LoanEvent::LoanRolledBack { to, .. } => {
                self.node = Some(to);
                if to <= Node::Interview {
                    self.interview_passed = false;
                }
            }
            LoanEvent::InterviewTaskAttached { task_id } => {
                self.interview_task = Some(task_id);
                self.interview_passed = false;
            }
            LoanEvent::InterviewPassed { .. } => self.interview_passed = true,
            LoanEvent::WhitelistChecked { result } => self.whitelist = Some(result),
            LoanEvent::FaceChecked {
                passed,
                day,
                failures_today,
            } => {
                self.face_check_passed |= passed;
                self.face_failures = (day, failures_today);
            }
            LoanEvent::ApprovalRequested { route, .. } => {
                self.route = Some(route);
                self.node = Some(Node::Approving);
            }
            LoanEvent::LoanApproved { .. } => self.node = Some(Node::AwaitingDisbursement),
            LoanEvent::LoanDeclined { .. } => self.node = Some(Node::Declined),
            LoanEvent::LoanResubmitted { amount } => {
                self.amount = amount;
                self.route = None;
                self.node = Some(Node::Applying);
            }
            LoanEvent::ContractSigned { .. } => self.contract_signed = true,
            LoanEvent::LoanDisbursed { .. } => self.node = Some(Node::Disbursed),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use cqrs_es::test::TestFramework;

    use super::*;
    use crate::interview_task::{IdType, ParticipantRole};

    fn services() -> DomainServices {
        DomainServices::fixed_at(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
    }

    fn submitted() -> LoanEvent {
        LoanEvent::LoanSubmitted {
            product: Product::Yongxu,
            contract_no: "HT1".into(),
            amount: Decimal::new(50_000_000, 2),
            task_kind: TaskKind::YongxuVideoInterview,
            product_code: "YXD".into(),
            channel_code: "YYZX".into(),
            manager_id: "M1".into(),
            participants: merge_participants(&[ParticipantInput {
                name: "邓小闲".into(),
                id_type: IdType::IdCard,
                id_number: "11010519491231002X".into(),
                phone: "15618293093".into(),
                roles: vec![ParticipantRole::Borrower],
            }])
            .unwrap(),
        }
    }

    fn advanced(from: Node, to: Node) -> LoanEvent {
        LoanEvent::LoanAdvanced { from, to }
    }

    fn at_interview() -> Vec<LoanEvent> {
        vec![
            submitted(),
            advanced(Node::Submitted, Node::PreliminaryReview),
            advanced(Node::PreliminaryReview, Node::HomeVisit),
            advanced(Node::HomeVisit, Node::Interview),
            LoanEvent::InterviewTaskAttached {
                task_id: "t1".into(),
            },
        ]
    }

    /// 001_d165f826565a3102.txt 2.7.1: 提交申请-初审-家访-面谈-面签-公证-已出他证-放款;
    /// nodes are not skipped.
    #[test]
    fn the_pipeline_moves_one_node_at_a_time() {
        TestFramework::<LoanApplication>::with(services())
            .given(vec![submitted()])
            .when(LoanCommand::Advance {
                to: Node::HomeVisit,
            })
            .then_expect_error(LoanError::InvalidTransition {
                from: Node::Submitted,
                to: Node::HomeVisit,
            });
    }

    /// 001_d165f826565a3102.txt 2.7.2 rule 4: 若状态为“已面谈（待提交面签）”，则进入下一流程“面签”.
    #[test]
    fn signing_waits_for_a_passed_interview() {
        TestFramework::<LoanApplication>::with(services())
            .given(at_interview())
            .when(LoanCommand::Advance { to: Node::Signing })
            .then_expect_error(LoanError::InterviewNotPassed);
        let mut passed = at_interview();
        passed.push(LoanEvent::InterviewPassed {
            task_id: "t1".into(),
        });
        TestFramework::<LoanApplication>::with(services())
            .given(passed)
            .when(LoanCommand::Advance { to: Node::Signing })
            .then_expect_events(vec![advanced(Node::Interview, Node::Signing)]);
    }

    /// 001_d165f826565a3102.txt 2.5.3 rule 2 / 2.7.3: 涉及面谈节点的逆向业务操作…均生成新的面谈任务 —
    /// the roll-back names the task to supersede.
    #[test]
    fn a_roll_back_names_the_task_to_supersede() {
        let mut given = at_interview();
        given.push(LoanEvent::InterviewPassed {
            task_id: "t1".into(),
        });
        given.push(advanced(Node::Interview, Node::Signing));
        TestFramework::<LoanApplication>::with(services())
            .given(given)
            .when(LoanCommand::RollBack {
                to: Node::Interview,
                reason: "客户对方案有异议".into(),
            })
            .then_expect_events(vec![LoanEvent::LoanRolledBack {
                from: Node::Signing,
                to: Node::Interview,
                reason: "客户对方案有异议".into(),
                interview_task: Some("t1".into()),
            }]);
    }

    #[test]
    fn roll_backs_only_go_back() {
        TestFramework::<LoanApplication>::with(services())
            .given(vec![
                submitted(),
                advanced(Node::Submitted, Node::PreliminaryReview),
            ])
            .when(LoanCommand::RollBack {
                to: Node::Signing,
                reason: "x".into(),
            })
            .then_expect_error(LoanError::InvalidTransition {
                from: Node::PreliminaryReview,
                to: Node::Signing,
            });
    }

    #[test]
    fn a_superseded_tasks_pass_does_not_count() {
        let mut given = at_interview();
        given.push(LoanEvent::InterviewTaskAttached {
            task_id: "t2".into(),
        });
        TestFramework::<LoanApplication>::with(services())
            .given(given)
            .when(LoanCommand::RecordInterviewPassed {
                task_id: "t1".into(),
            })
            .then_expect_events(vec![]);
    }

    mod miaodai {
        use std::str::FromStr;

        use super::*;

        fn on(day: u32, hour: u32) -> DomainServices {
            DomainServices::fixed_at(
                crate::schedule::shanghai()
                    .with_ymd_and_hms(2026, 11, day, hour, 0, 0)
                    .unwrap()
                    .with_timezone(&Utc),
            )
        }

        fn applied(amount: &str) -> LoanEvent {
            let LoanEvent::LoanSubmitted {
                contract_no,
                task_kind,
                product_code,
                channel_code,
                manager_id,
                participants,
                ..
            } = submitted()
            else {
                unreachable!()
            };
            LoanEvent::LoanSubmitted {
                product: Product::RongxinMiaodai,
                contract_no,
                amount: Decimal::from_str(amount).unwrap(),
                task_kind,
                product_code,
                channel_code,
                manager_id,
                participants,
            }
        }

        fn ready(amount: &str, whitelist: WhitelistResult) -> Vec<LoanEvent> {
            vec![
                applied(amount),
                LoanEvent::WhitelistChecked { result: whitelist },
                LoanEvent::FaceChecked {
                    passed: true,
                    day: "2026-11-23".into(),
                    failures_today: 0,
                },
            ]
        }

        fn route(amount: &str, whitelist: WhitelistResult) -> ApprovalRoute {
            let events = TestFramework::<LoanApplication>::with(on(23, 10))
                .given(ready(amount, whitelist))
                .when(LoanCommand::SubmitForApproval)
                .inspect_result()
                .unwrap();
            match &events[0] {
                LoanEvent::ApprovalRequested { route, .. } => *route,
                other => panic!("unexpected {other:?}"),
            }
        }

        /// 003_b9ff603350013dbe.txt: 按照30万以内秒批秒贷，30万以上…转为线下客户经理审批 —
        /// 300,000 itself is online, a fen more is manual.
        #[test]
        fn the_amount_routes_at_the_300000_boundary() {
            assert_eq!(
                route("300000.00", WhitelistResult::Miaodai),
                ApprovalRoute::Automatic
            );
            assert_eq!(
                route("300000.01", WhitelistResult::Miaodai),
                ApprovalRoute::Manual
            );
            assert_eq!(
                route("1000.00", WhitelistResult::Rongxindai),
                ApprovalRoute::Manual
            );
        }

        /// 003_b9ff603350013dbe.txt: 查无结果，不属于中石油员工标准…告知客户并无贷款资格.
        #[test]
        fn a_not_eligible_applicant_cannot_go_on() {
            TestFramework::<LoanApplication>::with(on(23, 10))
                .given(ready("1000.00", WhitelistResult::NotEligible))
                .when(LoanCommand::SubmitForApproval)
                .then_expect_error(LoanError::NotEligible);
            TestFramework::<LoanApplication>::with(on(23, 10))
                .given(vec![applied("1000.00")])
                .when(LoanCommand::SubmitForApproval)
                .then_expect_error(LoanError::StepMissing("the ERP whitelist check"));
        }

        /// 003_b9ff603350013dbe.txt: 客户可在当日人脸识别上限次数范围内重新验证，达到上限次数后次日可重新进行识别.
        #[test]
        fn face_checks_are_capped_per_shanghai_day() {
            let failures = |n: u32| LoanEvent::FaceChecked {
                passed: false,
                day: "2026-11-23".into(),
                failures_today: n,
            };
            let given: Vec<LoanEvent> = std::iter::once(applied("1000.00"))
                .chain((1..=5).map(failures))
                .collect();
            TestFramework::<LoanApplication>::with(on(23, 23))
                .given(given.clone())
                .when(LoanCommand::RecordFaceCheck { passed: true })
                .then_expect_error(LoanError::FaceCheckCapReached { cap: 5 });
            // Midnight of the 24th in Shanghai is still the 23rd in UTC: the day is Shanghai's.
            TestFramework::<LoanApplication>::with(on(24, 0))
                .given(given)
                .when(LoanCommand::RecordFaceCheck { passed: true })
                .then_expect_events(vec![LoanEvent::FaceChecked {
                    passed: true,
                    day: "2026-11-24".into(),
                    failures_today: 0,
                }]);
        }

        #[test]
        fn only_the_routes_approver_approves() {
            let mut given = ready("1000.00", WhitelistResult::Miaodai);
            given.push(LoanEvent::ApprovalRequested {
                amount: Decimal::from_str("1000.00").unwrap(),
                route: ApprovalRoute::Automatic,
                auto_approval_limit: Decimal::new(300_000, 0),
            });
            TestFramework::<LoanApplication>::with(on(23, 10))
                .given(given.clone())
                .when(LoanCommand::Approve {
                    approver_role: "ACCOUNT_MANAGER".into(),
                })
                .then_expect_error(LoanError::WrongApprover {
                    route: ApprovalRoute::Automatic,
                    role: "ACCOUNT_MANAGER".into(),
                });
            TestFramework::<LoanApplication>::with(on(23, 10))
                .given(given)
                .when(LoanCommand::Approve {
                    approver_role: "CREDIT_SYSTEM".into(),
                })
                .then_expect_events(vec![LoanEvent::LoanApproved {
                    route: ApprovalRoute::Automatic,
                }]);
        }

        /// 003_b9ff603350013dbe.txt: 客户签订完合同…“确认放款” — no disbursement before the e-sign.
        #[test]
        fn disbursement_needs_the_signed_contract() {
            let mut given = ready("1000.00", WhitelistResult::Miaodai);
            given.push(LoanEvent::ApprovalRequested {
                amount: Decimal::from_str("1000.00").unwrap(),
                route: ApprovalRoute::Automatic,
                auto_approval_limit: Decimal::new(300_000, 0),
            });
            given.push(LoanEvent::LoanApproved {
                route: ApprovalRoute::Automatic,
            });
            TestFramework::<LoanApplication>::with(on(23, 10))
                .given(given.clone())
                .when(LoanCommand::ConfirmDisbursement {
                    account: "6217000000000000".into(),
                })
                .then_expect_error(LoanError::StepMissing("the e-signed contract"));
            given.push(LoanEvent::ContractSigned {
                signature_ref: "sig://1".into(),
            });
            TestFramework::<LoanApplication>::with(on(23, 10))
                .given(given)
                .when(LoanCommand::ConfirmDisbursement {
                    account: "6217000000000000".into(),
                })
                .then_expect_events(vec![LoanEvent::LoanDisbursed {
                    account: "6217000000000000".into(),
                }]);
        }

        /// 003_b9ff603350013dbe.txt: 未通过 may be submitted again.
        #[test]
        fn a_declined_application_is_resubmitted() {
            let mut given = ready("1000.00", WhitelistResult::Rongxindai);
            given.push(LoanEvent::ApprovalRequested {
                amount: Decimal::from_str("1000.00").unwrap(),
                route: ApprovalRoute::Manual,
                auto_approval_limit: Decimal::new(300_000, 0),
            });
            given.push(LoanEvent::LoanDeclined {
                reason: "收入不足".into(),
            });
            TestFramework::<LoanApplication>::with(on(23, 10))
                .given(given)
                .when(LoanCommand::Resubmit {
                    amount: Some(Decimal::from_str("800.00").unwrap()),
                })
                .then_expect_events(vec![LoanEvent::LoanResubmitted {
                    amount: Decimal::from_str("800.00").unwrap(),
                }]);
        }

        #[test]
        fn the_products_steps_do_not_mix() {
            TestFramework::<LoanApplication>::with(on(23, 10))
                .given(vec![applied("1000.00")])
                .when(LoanCommand::Advance {
                    to: Node::PreliminaryReview,
                })
                .then_expect_error(LoanError::WrongProduct {
                    product: Product::RongxinMiaodai,
                });
            TestFramework::<LoanApplication>::with(on(23, 10))
                .given(vec![submitted()])
                .when(LoanCommand::SubmitForApproval)
                .then_expect_error(LoanError::WrongProduct {
                    product: Product::Yongxu,
                });
        }
    }
}
