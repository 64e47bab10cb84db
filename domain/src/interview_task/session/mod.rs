//! The interview session of a task (000 sub-tasks; 001 坐席工作台; 004 照片采集,
//! 确认书推送, 会话结束, 处理记录): step results, snapshots, documents, chat,
//! remarks, recordings, calls and loan-information edits.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::aggregate::required_text as text;
use super::{InterviewTaskError, TaskStep};
use crate::schedule::shanghai;

mod rules;
pub use rules::{apply, decide};

/// Where the field investigation (现调) looked: 家庭 (home), 单位 (workplace) or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum InvestigationScope {
    /// 住宅情况.
    Home,
    /// 经营场所情况.
    Workplace,
    /// 家庭和单位: two video witnesses are required (000: 展示两次视频见证).
    HomeAndWorkplace,
}

/// Category of a snapshot (004 3.8: 照片分类; 001: 风控疑点、手持身份证、手持房产证).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum SnapshotCategory {
    /// 人脸照.
    Face,
    /// 身份证.
    IdCard,
    /// 手持身份证.
    HoldingIdCard,
    /// 手持房产证.
    HoldingPropertyCertificate,
    /// 风控疑点.
    RiskPoint,
    /// 现调照片.
    FieldPhoto,
    /// Anything else.
    Other,
}

/// What a video tag marks (001 2.3.1.1 视频标签: 风控疑点、业务重点时点等标记场景).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum VideoTagKind {
    /// 风控疑点.
    RiskPoint,
    /// 业务重点时点.
    KeyPoint,
    /// Anything else worth finding again.
    Other,
}

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChatSender {
    /// The seat.
    Seat,
    /// The customer.
    Customer,
}

/// How a call ended (004 3.12 会话结束).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum CallEnd {
    /// 正常完成.
    Normal,
    /// 非正常完成: 网络问题.
    AbnormalNetwork,
    /// 非正常完成: 用户问题.
    AbnormalUser,
    /// 非正常完成: 其他.
    AbnormalOther,
}

/// Loan information shown on the workstation (001 贷款信息), editable by the seat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoanInfo {
    /// 贷款金额 (CNY, decimal text to keep it exact).
    pub amount: Option<String>,
    /// 贷款期限 in months.
    pub term_months: Option<u32>,
    /// 执行年利率 (decimal text, e.g. "0.0435").
    pub annual_rate: Option<String>,
    /// 放款方式.
    pub disbursement_method: Option<String>,
    /// 还款账号开户行.
    pub repayment_bank: Option<String>,
    /// 还款账号.
    pub repayment_account: Option<String>,
    /// 统一还款日 (day of month).
    pub repayment_day: Option<u32>,
    /// 首次还款日.
    pub first_repayment_date: Option<String>,
    /// 贷款用途 (001 §2.3.1.1 item 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// 还款方式.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repayment_method: Option<crate::repayment::RepaymentMethod>,
}

impl LoanInfo {
    /// Checks the figures (001 §2.3.1.1 item 14: 预贷款/贷款信息), wherever they come from.
    pub fn check(&self) -> Result<(), InterviewTaskError> {
        decimal(&self.amount, "amount")?;
        decimal(&self.annual_rate, "annualRate")?;
        if self.repayment_day.is_some_and(|d| !(1..=28).contains(&d)) {
            return Err(InterviewTaskError::InvalidField {
                field: "repaymentDay",
                reason: "must be between 1 and 28",
            });
        }
        if self.term_months.is_some_and(|t| !(1..=360).contains(&t)) {
            return Err(InterviewTaskError::InvalidField {
                field: "termMonths",
                reason: "must be between 1 and 360",
            });
        }
        if self
            .purpose
            .as_ref()
            .is_some_and(|p| p.trim().is_empty() || p.chars().count() > 200)
        {
            return Err(InterviewTaskError::InvalidField {
                field: "purpose",
                reason: "must be 1 to 200 characters",
            });
        }
        Ok(())
    }

    /// Whether no figure is given.
    pub fn is_empty(&self) -> bool {
        *self == LoanInfo::default()
    }
}

/// Commands of the session; all need the task IN_PROGRESS, except the field
/// investigation, which 展业APP records before the video (PENDING allowed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum SessionCommand {
    /// 现调上传.
    RecordFieldInvestigation {
        /// Where it looked.
        scope: InvestigationScope,
        /// Latitude of the location.
        latitude: f64,
        /// Longitude of the location.
        longitude: f64,
        /// Address as written.
        address: String,
        /// What was found.
        information: String,
        /// References of the uploaded photos.
        photos: Vec<String>,
    },
    /// 客户核身 of one participant.
    RecordIdentityCheck {
        /// ID number of the participant checked.
        id_number: String,
        /// Whether the liveness check passed.
        liveness_passed: bool,
        /// Face similarity score (0 to 1) against the reference photo.
        similarity: f64,
    },
    /// 视频见证: the recording of the interview.
    RecordVideoWitness {
        /// Where the recording is stored.
        storage_ref: String,
        /// The participant it witnesses (by ID number); the main borrower when absent.
        #[serde(default)]
        id_number: Option<String>,
    },
    /// 多席呼入 (001 2.2.1): a participant's phone joins the interview room —
    /// the main borrower first, then the others; again after a drop, within
    /// the rejoin window.
    JoinSession {
        /// The participant (their ID number, from their own token).
        id_number: String,
        /// The channel they call through (准入 already checked).
        channel_code: String,
    },
    /// A participant's phone left the room (hung up, or the network dropped).
    LeaveSession {
        /// The participant.
        id_number: String,
        /// How their leg ended.
        end: CallEnd,
    },
    /// 信息录入 confirmed.
    RecordInfoEntry {
        /// The entered fields.
        fields: BTreeMap<String, String>,
    },
    /// A snapshot of the video (屏幕抓拍).
    CaptureSnapshot {
        /// Category.
        category: SnapshotCategory,
        /// Where the image is stored.
        storage_ref: String,
    },
    /// A confirmation document pushed to the customer (确认书推送).
    PushDocument {
        /// Document id from the pushing system.
        document_id: String,
        /// File name.
        name: String,
    },
    /// The customer signed a pushed document (文档确认与签字).
    SignDocument {
        /// The document.
        document_id: String,
        /// Where the signed file is stored.
        signed_ref: String,
    },
    /// 视频标签: the seat marks this moment of the video for the replay.
    TagVideo {
        /// What it marks.
        kind: VideoTagKind,
        /// A note (up to 200 characters).
        note: String,
    },
    /// A chat message (文字对话).
    SendChatMessage {
        /// Who wrote it.
        sender: ChatSender,
        /// Text.
        text: String,
    },
    /// A remark on the task (工单备注).
    AddRemark {
        /// Text.
        text: String,
    },
    /// The seat changed loan information (贷款信息支持修改缓存并同步回传新信贷).
    EditLoanInfo {
        /// The fields set; absent fields stay as they were.
        changes: LoanInfo,
    },
    /// The seat confirmed the loan information as the credit system gave it.
    ConfirmLoanInfo,
    /// The call ended (会话结束) with its call record (通话历史).
    EndCall {
        /// How it ended.
        end: CallEnd,
        /// When the customer joined the queue.
        queued_at: DateTime<Utc>,
        /// When the seat answered.
        answered_at: DateTime<Utc>,
    },
}

/// Facts of the session.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum SessionEvent {
    /// 现调 recorded.
    FieldInvestigationRecorded {
        /// Where it looked.
        scope: InvestigationScope,
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
        /// Address.
        address: String,
        /// What was found.
        information: String,
        /// Photo references.
        photos: Vec<String>,
        /// Whether a video witness is required (scope 家庭和单位).
        video_witness_required: bool,
    },
    /// 客户核身 result of one participant.
    IdentityChecked {
        /// The participant's ID number.
        id_number: String,
        /// Liveness flag.
        liveness_passed: bool,
        /// Similarity score.
        similarity: f64,
        /// The threshold in force.
        threshold: f64,
        /// Liveness passed and similarity was above the threshold.
        passed: bool,
    },
    /// 视频见证 recorded under its standard name.
    VideoWitnessRecorded {
        /// YYYYMMDD + customer name + seat no + serial (001 2.4.1.3).
        recording_name: String,
        /// Where it is stored.
        storage_ref: String,
        /// The participant it witnesses (absent in events from before
        /// participants were named: the main borrower).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id_number: Option<String>,
    },
    /// A participant joined the interview room (a new leg of the call).
    ParticipantJoined {
        /// The participant's ID number.
        id_number: String,
        /// Their name.
        name: String,
        /// Leg number within the call, from 1.
        leg: u32,
        /// The channel they came through.
        channel_code: String,
        /// They had dropped and came back within the rejoin window.
        rejoin: bool,
        /// When.
        joined_at: DateTime<Utc>,
    },
    /// A participant left the room; they may rejoin within the rejoin window.
    ParticipantLeft {
        /// The participant's ID number.
        id_number: String,
        /// The leg that ended.
        leg: u32,
        /// How it ended.
        end: CallEnd,
        /// When.
        left_at: DateTime<Utc>,
    },
    /// 信息录入 confirmed.
    InfoEntryRecorded {
        /// The fields.
        fields: BTreeMap<String, String>,
    },
    /// A snapshot was captured.
    SnapshotCaptured {
        /// Serial number of the snapshot on the task.
        serial: u32,
        /// Category.
        category: SnapshotCategory,
        /// Storage reference.
        storage_ref: String,
    },
    /// A document was pushed.
    DocumentPushed {
        /// Document id.
        document_id: String,
        /// File name.
        name: String,
    },
    /// A document was signed.
    DocumentSigned {
        /// Document id.
        document_id: String,
        /// Signed file reference.
        signed_ref: String,
    },
    /// A moment of the video was tagged.
    VideoTagged {
        /// Serial of the tag on the task.
        serial: u32,
        /// What it marks.
        kind: VideoTagKind,
        /// The note.
        note: String,
        /// The tagged moment.
        tagged_at: DateTime<Utc>,
    },
    /// A chat message.
    ChatMessageSent {
        /// Sender.
        sender: ChatSender,
        /// Text.
        text: String,
    },
    /// A remark.
    RemarkAdded {
        /// Text.
        text: String,
    },
    /// Loan information changed; the loan system syncs it back (新信贷).
    LoanInfoEdited {
        /// The information before.
        before: Box<LoanInfo>,
        /// The information after.
        after: Box<LoanInfo>,
    },
    /// The seat confirmed the loan information with the customer on the call.
    LoanInfoConfirmed {
        /// The information confirmed.
        info: Box<LoanInfo>,
    },
    /// A call ended, with its record.
    CallEnded {
        /// Serial of the call on the task.
        call_no: u32,
        /// Seat no.
        seat_no: String,
        /// How it ended.
        end: CallEnd,
        /// Queue entry.
        queued_at: DateTime<Utc>,
        /// Answer.
        answered_at: DateTime<Utc>,
        /// Hang-up.
        ended_at: DateTime<Utc>,
        /// 排队时长 in seconds.
        queue_seconds: i64,
        /// 通话时长 in seconds.
        talk_seconds: i64,
        /// Each participant's leg of the call, in the order they joined
        /// (empty for calls recorded before legs existed).
        #[serde(default)]
        legs: Vec<CallLeg>,
    },
}

/// One participant's stretch of a call, from joining the room to leaving it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CallLeg {
    /// Leg number within the call.
    pub leg: u32,
    /// The participant's ID number.
    pub id_number: String,
    /// Their name.
    pub name: String,
    /// They came back after a drop.
    pub rejoin: bool,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    /// When they left (or the seat ended the call).
    pub left_at: DateTime<Utc>,
    /// How it ended.
    pub end: CallEnd,
    /// Seconds in the room.
    pub talk_seconds: i64,
}

/// A participant in the room now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OpenLeg {
    /// Leg number within the call.
    pub leg: u32,
    /// Their name.
    pub name: String,
    /// They came back after a drop.
    pub rejoin: bool,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

impl SessionEvent {
    /// The event type name.
    pub fn event_type(&self) -> &'static str {
        self.into()
    }
}

/// What the session has produced so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Session {
    /// Steps with a recorded result.
    pub done: Vec<TaskStep>,
    /// Identity check result per ID number.
    pub identity: BTreeMap<String, bool>,
    /// Video witness required by the field investigation scope.
    pub video_witness_required: bool,
    /// Snapshots taken.
    pub snapshots: u32,
    /// Recordings made.
    pub recordings: u32,
    /// Calls ended.
    pub calls: u32,
    /// Documents pushed, and whether each is signed.
    pub documents: BTreeMap<String, bool>,
    /// Current loan information.
    pub loan_info: LoanInfo,
    /// Who is in the room now, by ID number.
    #[serde(default)]
    pub present: BTreeMap<String, OpenLeg>,
    /// Legs of the running call that ended, in the order they joined.
    #[serde(default)]
    pub closed_legs: Vec<CallLeg>,
    /// Recordings made per participant (ID number).
    #[serde(default)]
    pub witnessed: BTreeMap<String, u32>,
    /// Video tags made.
    #[serde(default)]
    pub tags: u32,
}

impl Session {
    /// Whether `command` asks for what is already so: a participant joining
    /// while in the room, or leaving while out of it (a retried request).
    pub fn already_so(&self, command: &SessionCommand) -> bool {
        match command {
            SessionCommand::JoinSession { id_number, .. } => {
                self.present.contains_key(&id_number.trim().to_uppercase())
            }
            SessionCommand::LeaveSession { id_number, .. } => {
                let id = id_number.trim().to_uppercase();
                !self.present.contains_key(&id)
                    && self.closed_legs.iter().any(|l| l.id_number == id)
            }
            _ => false,
        }
    }

    /// When a participant out of the room may still rejoin it: the end of the
    /// rejoin window after their last leg, if they left during this call.
    pub fn rejoin_until(&self, id_number: &str, window: chrono::Duration) -> Option<DateTime<Utc>> {
        if self.present.contains_key(id_number) {
            return None;
        }
        self.closed_legs
            .iter()
            .rev()
            .find(|l| l.id_number == id_number)
            .map(|l| l.left_at + window)
    }
}

fn decimal(value: &Option<String>, field: &'static str) -> Result<(), InterviewTaskError> {
    if let Some(v) = value {
        let ok = !v.is_empty()
            && v.chars().all(|c| c.is_ascii_digit() || c == '.')
            && v.matches('.').count() <= 1
            && v.parse::<f64>().map(|n| n > 0.0).unwrap_or(false);
        if !ok {
            return Err(InterviewTaskError::InvalidField {
                field,
                reason: "must be a positive decimal number",
            });
        }
    }
    Ok(())
}

/// The context a session command is decided in.
pub struct SessionContext<'a> {
    /// The task's session so far.
    pub session: &'a Session,
    /// Steps the task kind requires.
    pub required: &'a [TaskStep],
    /// ID numbers of the participants, and the main borrower's name.
    pub participants: Vec<(&'a str, &'a str, bool)>,
    /// Seat running the session.
    pub seat_no: &'a str,
    /// Now.
    pub now: DateTime<Utc>,
    /// Similarity threshold in force.
    pub threshold: f64,
    /// How long a participant who left may rejoin the same call.
    pub rejoin_window: chrono::Duration,
}

/// The steps still missing before the seat may conclude 通过: every required
/// step recorded, for identity checks every participant passed, and for the
/// video witness two of them when the field investigation's scope is 家庭和单位
/// (000 现调上传: 如"现调监控范围"为"家庭和单位"…展示两次视频见证).
pub fn missing_for_pass(
    session: &Session,
    required: &[TaskStep],
    participant_ids: &[&str],
) -> Vec<TaskStep> {
    required
        .iter()
        .copied()
        .filter(|step| match step {
            TaskStep::IdentityCheck => !participant_ids
                .iter()
                .all(|id| session.identity.get(*id) == Some(&true)),
            TaskStep::VideoWitness if session.video_witness_required => session.recordings < 2,
            other => !session.done.contains(other),
        })
        .collect()
}

/// 001 2.4.1.3: 采集日期 YYYYMMDD + 客户名称 + 面谈岗工号 + 流水位.
pub fn recording_name(at: DateTime<Utc>, customer: &str, seat_no: &str, serial: u32) -> String {
    format!(
        "{}{customer}{seat_no}{serial:03}",
        at.with_timezone(&shanghai()).format("%Y%m%d")
    )
}

/// Whether a pass of `task_id` is drawn into quality control: a draw derived
/// from the task id alone, so a replay draws the same sample.
pub fn sampled_for_qc(task_id: &str, per_mille: u32) -> bool {
    // FNV-1a: stable across builds and platforms, unlike the std hasher.
    let hash = task_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % 1000) < u64::from(per_mille.min(1000))
}

impl DomainEvent for SessionEvent {
    fn event_type(&self) -> String {
        SessionEvent::event_type(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 001_d165f826565a3102.txt 2.4.1.3: 文件命名 采集日期 YYYYMMDD +客户名称+面谈岗工号+流水位.
    #[test]
    fn recordings_are_named_by_date_customer_seat_and_serial() {
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 23, 17, 0, 0).unwrap();
        assert_eq!(
            recording_name(at, "邓小闲", "S001", 2),
            "20261124邓小闲S001002"
        );
    }

    /// 001_d165f826565a3102.txt 2.4.3.1: 后期采用抽样检查的方式质检 — the draw is a
    /// function of the task id, so replays sample the same tasks.
    #[test]
    fn the_qc_sample_is_stable_and_near_the_rate() {
        let ids: Vec<String> = (0..10_000).map(|n| format!("task-{n}")).collect();
        let sampled = ids.iter().filter(|id| sampled_for_qc(id, 100)).count();
        assert!((800..1200).contains(&sampled), "{sampled} of 10000 at 10%");
        assert!(ids
            .iter()
            .all(|id| sampled_for_qc(id, 100) == sampled_for_qc(id, 100)));
        assert!(!ids.iter().any(|id| sampled_for_qc(id, 0)));
        assert!(ids.iter().all(|id| sampled_for_qc(id, 1000)));
    }
}
