//! What the interview session recorded, typed: the task detail's field
//! investigation, identity checks, recordings, information entry, snapshots,
//! documents, chat, remarks, loan information and calls. The read model keeps
//! one document per task (interview_records, `task_details`); this module reads
//! it into GraphQL objects with camelCase fields, masked before it is read.

use std::collections::BTreeMap;

use async_graphql::{ComplexObject, SimpleObject};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::error::ApiError;

/// Everything the session recorded for a task.
#[derive(SimpleObject, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionRecord {
    /// 面谈结论, once concluded.
    pub conclusion: Option<Conclusion>,
    /// 现调上传.
    pub field_investigation: Option<FieldInvestigation>,
    /// 核身 results, oldest first.
    pub identity_checks: Vec<IdentityCheck>,
    /// 视频见证 recordings.
    pub recordings: Vec<Recording>,
    /// 信息录入, the latest.
    pub info_entry: Option<InfoEntry>,
    /// 截图.
    pub snapshots: Vec<Snapshot>,
    /// Documents pushed to the customer, with their signature once signed.
    pub documents: Vec<SessionDocument>,
    /// 聊天记录.
    pub chat: Vec<ChatMessage>,
    /// 工单备注.
    pub remarks: Vec<Remark>,
    /// 贷款信息 as last edited.
    pub loan_info: Option<LoanInfo>,
    /// Every edit of the loan information, with before and after.
    pub loan_info_edits: Vec<LoanInfoEdit>,
    /// Every confirmation of the loan information by the seat.
    pub loan_info_confirmations: Vec<LoanInfoConfirmation>,
    /// Calls of the task.
    pub calls: Vec<SessionCall>,
    /// 视频标签, in the order made.
    pub video_tags: Vec<VideoTag>,
}

/// A tagged moment of the interview video (001 视频标签).
#[derive(SimpleObject, Deserialize)]
pub struct VideoTag {
    /// Serial on the task.
    pub serial: u32,
    /// RISK_POINT, KEY_POINT or OTHER.
    pub kind: String,
    /// The note.
    pub note: String,
    /// The tagged moment.
    pub tagged_at: DateTime<Utc>,
}

impl SessionRecord {
    /// Reads the stored (already masked) document.
    pub fn from_document(document: serde_json::Value) -> Result<Self, ApiError> {
        if document.is_null() {
            return Ok(Self::default());
        }
        serde_json::from_value(document)
            .map_err(|e| ApiError::internal(format!("stored task detail: {e}")))
    }
}

/// 面谈结论.
#[derive(SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conclusion {
    /// PASS or DOUBTFUL.
    pub outcome: String,
    /// Whether a pass was sampled for QC.
    #[serde(default)]
    pub sampled_for_qc: bool,
    /// When.
    pub at: DateTime<Utc>,
}

/// 现调上传.
#[derive(SimpleObject, Deserialize)]
pub struct FieldInvestigation {
    /// HOME, WORKPLACE or HOME_AND_WORKPLACE (现调监控范围).
    pub scope: String,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// Address.
    pub address: String,
    /// 现调信息.
    pub information: String,
    /// Photo references.
    pub photos: Vec<String>,
    /// Whether a video witness is required (家庭和单位).
    pub video_witness_required: bool,
    /// When.
    pub at: DateTime<Utc>,
}

/// One 核身 (identity check).
#[derive(SimpleObject, Deserialize)]
pub struct IdentityCheck {
    /// The person's ID number (masked unless revealed).
    pub id_number: String,
    /// 活体检测.
    pub liveness_passed: bool,
    /// 对比分数.
    pub similarity: f64,
    /// The threshold it was compared with.
    pub threshold: f64,
    /// Whether it passed.
    pub passed: bool,
    /// When.
    pub at: DateTime<Utc>,
}

/// A 视频见证 recording.
#[derive(SimpleObject, Deserialize)]
pub struct Recording {
    /// Its name.
    pub recording_name: String,
    /// The participant it witnesses (masked unless revealed); absent: the main borrower.
    #[serde(default)]
    pub id_number: Option<String>,
    /// Where it is stored.
    pub storage_ref: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// 信息录入.
#[derive(SimpleObject, Deserialize)]
#[graphql(complex)]
pub struct InfoEntry {
    #[graphql(skip)]
    pub fields: BTreeMap<String, String>,
    /// When.
    pub at: DateTime<Utc>,
}

#[ComplexObject]
impl InfoEntry {
    /// The fields entered, by name.
    async fn fields(&self) -> Vec<EnteredField> {
        self.fields
            .iter()
            .map(|(name, value)| EnteredField {
                name: name.clone(),
                value: value.clone(),
            })
            .collect()
    }
}

/// One field of the information entry.
#[derive(SimpleObject)]
pub struct EnteredField {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// One snapshot (截图).
#[derive(SimpleObject, Deserialize)]
pub struct Snapshot {
    /// Its number within the task.
    pub serial: u32,
    /// FACE, ID_CARD, HOLDING_ID_CARD, HOLDING_PROPERTY_CERTIFICATE, …
    pub category: String,
    /// Where it is stored.
    pub storage_ref: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A document pushed to the customer.
#[derive(SimpleObject, Deserialize)]
pub struct SessionDocument {
    /// Its id.
    pub document_id: String,
    /// Its name.
    pub name: String,
    /// When it was pushed.
    pub at: DateTime<Utc>,
    /// The signed copy, once signed.
    #[serde(default)]
    pub signed_ref: Option<String>,
    /// When it was signed.
    #[serde(default)]
    pub signed_at: Option<DateTime<Utc>>,
}

/// A chat message.
#[derive(SimpleObject, Deserialize)]
pub struct ChatMessage {
    /// SEAT or CUSTOMER.
    pub sender: String,
    /// Text.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A remark (工单备注).
#[derive(SimpleObject, Deserialize)]
pub struct Remark {
    /// Text.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// 贷款信息.
#[derive(SimpleObject, Deserialize)]
pub struct LoanInfo {
    /// 贷款金额 (CNY, decimal text).
    pub amount: Option<String>,
    /// 贷款期限 in months.
    pub term_months: Option<u32>,
    /// 执行年利率 (decimal text).
    pub annual_rate: Option<String>,
    /// 放款方式.
    pub disbursement_method: Option<String>,
    /// 还款账号开户行.
    pub repayment_bank: Option<String>,
    /// 还款账号.
    pub repayment_account: Option<String>,
    /// 统一还款日.
    pub repayment_day: Option<u32>,
    /// 首次还款日.
    pub first_repayment_date: Option<String>,
    /// 贷款用途.
    #[serde(default)]
    pub purpose: Option<String>,
    /// 还款方式 (stored name).
    #[serde(default)]
    pub repayment_method: Option<String>,
}

/// The seat confirmed the loan information as given.
#[derive(SimpleObject, Deserialize)]
pub struct LoanInfoConfirmation {
    /// The figures confirmed.
    pub info: LoanInfo,
    /// When.
    pub at: DateTime<Utc>,
}

/// One edit of the loan information.
#[derive(SimpleObject, Deserialize)]
pub struct LoanInfoEdit {
    /// Before.
    pub before: LoanInfo,
    /// After.
    pub after: LoanInfo,
    /// When.
    pub at: DateTime<Utc>,
}

/// A call of the task.
#[derive(SimpleObject, Deserialize)]
pub struct SessionCall {
    /// Its number within the task.
    pub call_no: u32,
    /// The seat.
    pub seat_no: String,
    /// NORMAL, ABNORMAL_NETWORK, ABNORMAL_USER or ABNORMAL_OTHER.
    pub end: String,
    /// Queued at.
    pub queued_at: DateTime<Utc>,
    /// Answered at.
    pub answered_at: DateTime<Utc>,
    /// Ended at.
    pub ended_at: DateTime<Utc>,
    /// Seconds queued.
    pub queue_seconds: i64,
    /// Seconds talked.
    pub talk_seconds: i64,
    /// Each participant's leg (多席呼入), in the order they joined.
    #[serde(default)]
    pub legs: Vec<SessionCallLeg>,
}

/// One participant's leg of a call.
#[derive(SimpleObject, Deserialize)]
pub struct SessionCallLeg {
    /// Leg number within the call.
    pub leg: u32,
    /// Name.
    pub name: String,
    /// ID number (masked unless revealed).
    pub id_number: String,
    /// They came back after a drop.
    pub rejoin: bool,
    /// Joined at.
    pub joined_at: DateTime<Utc>,
    /// Left at.
    pub left_at: DateTime<Utc>,
    /// NORMAL, ABNORMAL_NETWORK, ABNORMAL_USER or ABNORMAL_OTHER.
    pub end: String,
    /// Seconds in the room.
    pub talk_seconds: i64,
}
