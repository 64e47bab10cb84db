use serde::{Deserialize, Serialize};

/// Why a case was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QcOrigin {
    /// The seat concluded 存疑: every one is reviewed.
    Doubtful,
    /// A 通过 drawn by the sample (抽样检查).
    SampledPass,
}

/// 拒件原因 of 001 2.4.3.1 (same value range as 移动营销-客户经理调查意见), plus OTHER.
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
pub enum RejectReason {
    /// 客户目前无贷款意愿或不配合本行开展上门核验.
    NoLoanIntent,
    /// 存在伪造证明、证书、印鉴或假冒签字等欺诈行为.
    ForgedDocuments,
    /// 家庭无稳定收入来源.
    NoStableIncome,
    /// 有赌博、吸毒等恶习.
    GamblingOrDrugs,
    /// 房屋存在拆迁风险.
    DemolitionRisk,
    /// 涉嫌非法民间融资.
    IllegalPrivateFinancing,
    /// 房屋或土地性质不符合我行要求.
    PropertyNatureMismatch,
    /// 客户主动放弃.
    CustomerWithdrew,
    /// 其他 (text required).
    Other,
}

impl RejectReason {
    /// Every reason, in the order of 001.
    pub const ALL: [RejectReason; 9] = [
        RejectReason::NoLoanIntent,
        RejectReason::ForgedDocuments,
        RejectReason::NoStableIncome,
        RejectReason::GamblingOrDrugs,
        RejectReason::DemolitionRisk,
        RejectReason::IllegalPrivateFinancing,
        RejectReason::PropertyNatureMismatch,
        RejectReason::CustomerWithdrew,
        RejectReason::Other,
    ];

    /// The wording of 001.
    pub fn label_zh(self) -> &'static str {
        match self {
            RejectReason::NoLoanIntent => "客户目前无贷款意愿或不配合本行开展上门核验",
            RejectReason::ForgedDocuments => "存在伪造证明、证书、印鉴或假冒签字等欺诈行为",
            RejectReason::NoStableIncome => "家庭无稳定收入来源",
            RejectReason::GamblingOrDrugs => "有赌博、吸毒等恶习",
            RejectReason::DemolitionRisk => "房屋存在拆迁风险",
            RejectReason::IllegalPrivateFinancing => "涉嫌非法民间融资",
            RejectReason::PropertyNatureMismatch => "房屋或土地性质不符合我行要求",
            RejectReason::CustomerWithdrew => "客户主动放弃",
            RejectReason::Other => "其他",
        }
    }

    /// The stored name, e.g. `NO_LOAN_INTENT`.
    pub fn as_str(self) -> String {
        crate::wire_name(&self)
    }
}

/// A reviewer's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum QcDecision {
    /// 通过.
    Pass,
    /// 拒件, with at least one reason; OTHER needs its text.
    Reject {
        /// Reasons.
        reasons: Vec<RejectReason>,
        /// Text of OTHER.
        other_text: Option<String>,
    },
}

/// Commands a `QcCase` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum QcCaseCommand {
    /// Open the case for a concluded interview (idempotent).
    Open {
        /// The task.
        task_id: String,
        /// Its loan contract.
        contract_no: String,
        /// The seat that concluded.
        seat_no: String,
        /// Why it is reviewed.
        origin: QcOrigin,
    },
    /// A reviewer takes the case.
    Claim {
        /// Reviewer's staff no.
        reviewer: String,
    },
    /// The reviewer puts it back in the queue.
    Release {
        /// Reviewer's staff no.
        reviewer: String,
    },
    /// The reviewer decides.
    Decide {
        /// Reviewer's staff no.
        reviewer: String,
        /// PASS or REJECT with reasons.
        decision: QcDecision,
        /// The reviewer's comment (required for a reject).
        comment: String,
    },
}
