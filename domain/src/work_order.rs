//! `WorkOrder`: a video task a seat opens by hand (新建工单) for a customer
//! outside the loan flows; creating it texts the customer the guide link
//! (004 3.3–3.5, 3.13).

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ErrorCode};
use crate::pii::valid_phone;
use crate::services::DomainServices;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "work-order";

/// Template name of the guide SMS.
pub const GUIDE_SMS: &str = "WORK_ORDER_GUIDE";

/// 004 3.4 "自动发送引导通知短信": the manual shows no wording, so this is ours.
pub fn guide_sms(customer_name: &str, business_type: &str, case_no: &str) -> String {
    format!(
        "尊敬的{customer_name}，您的{business_type}业务（案件号{case_no}）需视频办理，请点击短信链接进入小程序发起视频。"
    )
}

/// 新建工单 fields (004 3.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrderDetails {
    /// 业务类型和项目.
    pub business_type: String,
    /// 被保险人 / 客户姓名.
    pub customer_name: String,
    /// 联系电话.
    pub phone: String,
    /// 身份证号.
    pub id_number: Option<String>,
    /// 案件号.
    pub case_no: String,
    /// 保单号.
    pub policy_no: Option<String>,
}

/// 工单状态 (004 3.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WorkOrderStatus {
    /// Not created.
    #[default]
    None,
    /// 待处理: after creation.
    Pending,
    /// 处理中: the seat connected.
    InProgress,
    /// 已处理: 回传 succeeded.
    Done,
    /// 已撤销: closed by hand.
    Cancelled,
}

impl WorkOrderStatus {
    /// 004 3.3 工单状态呼叫限制: 可呼入状态：待处理、处理中.
    pub fn accepts_calls(self) -> bool {
        matches!(self, WorkOrderStatus::Pending | WorkOrderStatus::InProgress)
    }
}

/// Commands of a work order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WorkOrderCommand {
    /// 新建: sends the guide SMS.
    Create(WorkOrderDetails),
    /// 保存: details edited.
    Edit(WorkOrderDetails),
    /// The seat connected (坐席接通后自动变更 → 处理中).
    Start {
        /// The seat.
        seat_no: String,
    },
    /// 回传 succeeded (→ 已处理).
    Complete,
    /// 撤销 (→ 已撤销), only from 待处理 or 处理中.
    Cancel,
    /// 发送短信 again (004 3.5).
    ResendSms,
    /// 提交备注 (004 3.13).
    AddRemark {
        /// The remark.
        text: String,
    },
}

/// Facts of a work order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WorkOrderEvent {
    /// Created, 待处理; the guide SMS goes out.
    WorkOrderCreated(WorkOrderDetails),
    /// Details edited.
    WorkOrderEdited(WorkOrderDetails),
    /// 处理中.
    WorkOrderStarted {
        /// The seat.
        seat_no: String,
    },
    /// 已处理.
    WorkOrderCompleted,
    /// 已撤销.
    WorkOrderCancelled,
    /// The guide SMS was asked for again (the `n`th time).
    GuideSmsRequested {
        /// Serial of the request, 1 for the first resend.
        n: u32,
    },
    /// A remark.
    WorkOrderRemarked {
        /// The remark.
        text: String,
    },
}

impl DomainEvent for WorkOrderEvent {
    fn event_type(&self) -> String {
        match self {
            WorkOrderEvent::WorkOrderCreated(_) => "WorkOrderCreated",
            WorkOrderEvent::WorkOrderEdited(_) => "WorkOrderEdited",
            WorkOrderEvent::WorkOrderStarted { .. } => "WorkOrderStarted",
            WorkOrderEvent::WorkOrderCompleted => "WorkOrderCompleted",
            WorkOrderEvent::WorkOrderCancelled => "WorkOrderCancelled",
            WorkOrderEvent::GuideSmsRequested { .. } => "GuideSmsRequested",
            WorkOrderEvent::WorkOrderRemarked { .. } => "WorkOrderRemarked",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a work-order command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum WorkOrderError {
    /// No such work order.
    #[error("work order not found")]
    NotFound,
    /// The id is taken.
    #[error("a work order with this id exists")]
    AlreadyExists,
    /// Not allowed in the current status.
    #[error("not allowed while the work order is {0:?}")]
    InvalidTransition(WorkOrderStatus),
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
}

impl DomainError for WorkOrderError {
    fn code(&self) -> ErrorCode {
        match self {
            WorkOrderError::NotFound => ErrorCode::NotFound,
            WorkOrderError::AlreadyExists => ErrorCode::Conflict,
            WorkOrderError::InvalidTransition(_) => ErrorCode::InvalidTransition,
            WorkOrderError::Invalid(_) => ErrorCode::Validation,
        }
    }
}

/// A work order's write-side state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkOrder {
    status: WorkOrderStatus,
    details: WorkOrderDetails,
    sms_requests: u32,
}

impl WorkOrder {
    /// Where it stands.
    pub fn status(&self) -> WorkOrderStatus {
        self.status
    }

    /// Its details.
    pub fn details(&self) -> &WorkOrderDetails {
        &self.details
    }

    /// The customer as dispatch recognises them: by ID number, else by phone.
    pub fn customer_key(&self) -> String {
        match &self.details.id_number {
            Some(id) => crate::customer_agenda::person_key("ID_CARD", id),
            None => crate::customer_agenda::person_key("PHONE", &self.details.phone),
        }
    }
}

fn validate(mut d: WorkOrderDetails) -> Result<WorkOrderDetails, WorkOrderError> {
    let required = |v: &mut String, what: &str| {
        *v = v.trim().to_string();
        if v.is_empty() || v.chars().count() > 64 {
            Err(WorkOrderError::Invalid(format!(
                "{what} must be 1 to 64 characters"
            )))
        } else {
            Ok(())
        }
    };
    required(&mut d.business_type, "businessType")?;
    required(&mut d.customer_name, "customerName")?;
    required(&mut d.case_no, "caseNo")?;
    d.phone = d.phone.trim().to_string();
    if !valid_phone(&d.phone) {
        return Err(WorkOrderError::Invalid(
            "phone must be an 11-digit mainland mobile number".into(),
        ));
    }
    for v in [&mut d.id_number, &mut d.policy_no] {
        *v = v
            .take()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        if v.as_ref().is_some_and(|s| s.len() > 32) {
            return Err(WorkOrderError::Invalid(
                "idNumber and policyNo are at most 32 characters".into(),
            ));
        }
    }
    Ok(d)
}

impl Aggregate for WorkOrder {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = WorkOrderCommand;
    type Event = WorkOrderEvent;
    type Error = WorkOrderError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: WorkOrderCommand,
        _: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), WorkOrderError> {
        use WorkOrderStatus as S;
        let status = self.status;
        let refuse = || Err(WorkOrderError::InvalidTransition(status));
        let event = match command {
            WorkOrderCommand::Create(_) if status != S::None => {
                return Err(WorkOrderError::AlreadyExists)
            }
            WorkOrderCommand::Create(d) => WorkOrderEvent::WorkOrderCreated(validate(d)?),
            _ if status == S::None => return Err(WorkOrderError::NotFound),
            WorkOrderCommand::Edit(_) if !status.accepts_calls() => return refuse(),
            WorkOrderCommand::Edit(d) => WorkOrderEvent::WorkOrderEdited(validate(d)?),
            WorkOrderCommand::Start { .. } if status == S::InProgress => return Ok(()),
            WorkOrderCommand::Start { .. } if status != S::Pending => return refuse(),
            WorkOrderCommand::Start { seat_no } => WorkOrderEvent::WorkOrderStarted { seat_no },
            WorkOrderCommand::Complete if status != S::InProgress => return refuse(),
            WorkOrderCommand::Complete => WorkOrderEvent::WorkOrderCompleted,
            WorkOrderCommand::Cancel if !status.accepts_calls() => return refuse(),
            WorkOrderCommand::Cancel => WorkOrderEvent::WorkOrderCancelled,
            WorkOrderCommand::ResendSms if !status.accepts_calls() => return refuse(),
            WorkOrderCommand::ResendSms => WorkOrderEvent::GuideSmsRequested {
                n: self.sms_requests + 1,
            },
            WorkOrderCommand::AddRemark { text } => {
                let text = text.trim().to_string();
                if text.is_empty() || text.chars().count() > 1000 {
                    return Err(WorkOrderError::Invalid(
                        "a remark is 1 to 1000 characters".into(),
                    ));
                }
                WorkOrderEvent::WorkOrderRemarked { text }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: WorkOrderEvent) {
        match event {
            WorkOrderEvent::WorkOrderCreated(d) => {
                self.details = d;
                self.status = WorkOrderStatus::Pending;
            }
            WorkOrderEvent::WorkOrderEdited(d) => self.details = d,
            WorkOrderEvent::WorkOrderStarted { .. } => self.status = WorkOrderStatus::InProgress,
            WorkOrderEvent::WorkOrderCompleted => self.status = WorkOrderStatus::Done,
            WorkOrderEvent::WorkOrderCancelled => self.status = WorkOrderStatus::Cancelled,
            WorkOrderEvent::GuideSmsRequested { n } => self.sms_requests = n,
            WorkOrderEvent::WorkOrderRemarked { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use cqrs_es::test::TestFramework;

    use super::*;

    fn services() -> DomainServices {
        DomainServices::fixed_at(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
    }

    fn details() -> WorkOrderDetails {
        WorkOrderDetails {
            business_type: "保全/变更投保人".into(),
            customer_name: "邓小闲".into(),
            phone: "15618293093".into(),
            id_number: None,
            case_no: "646464644664".into(),
            policy_no: Some("65464564".into()),
        }
    }

    /// 004_448cd5ace309d8b2.txt 3.3: 待处理 → 处理中 (坐席接通) → 已处理 (回传); 已撤销 only
    /// from 待处理 or 处理中; only those two accept calls.
    #[test]
    fn work_order_states_follow_the_manual() {
        let created = WorkOrderEvent::WorkOrderCreated(details());
        let started = WorkOrderEvent::WorkOrderStarted {
            seat_no: "S1".into(),
        };
        for given in [
            vec![created.clone()],
            vec![created.clone(), started.clone()],
        ] {
            TestFramework::<WorkOrder>::with(services())
                .given(given)
                .when(WorkOrderCommand::Cancel)
                .then_expect_events(vec![WorkOrderEvent::WorkOrderCancelled]);
        }
        for (last, status) in [
            (WorkOrderEvent::WorkOrderCompleted, WorkOrderStatus::Done),
            (
                WorkOrderEvent::WorkOrderCancelled,
                WorkOrderStatus::Cancelled,
            ),
        ] {
            assert!(!status.accepts_calls());
            TestFramework::<WorkOrder>::with(services())
                .given(vec![created.clone(), started.clone(), last])
                .when(WorkOrderCommand::Cancel)
                .then_expect_error(WorkOrderError::InvalidTransition(status));
        }
        TestFramework::<WorkOrder>::with(services())
            .given(vec![created.clone()])
            .when(WorkOrderCommand::Complete)
            .then_expect_error(WorkOrderError::InvalidTransition(WorkOrderStatus::Pending));
        assert!(
            WorkOrderStatus::Pending.accepts_calls() && WorkOrderStatus::InProgress.accepts_calls()
        );
    }

    /// 004_448cd5ace309d8b2.txt 3.5: 点击【发送短信】按钮，会再次发送短信 — each request is
    /// numbered so each is sent once.
    #[test]
    fn resend_requests_are_numbered() {
        TestFramework::<WorkOrder>::with(services())
            .given(vec![
                WorkOrderEvent::WorkOrderCreated(details()),
                WorkOrderEvent::GuideSmsRequested { n: 1 },
            ])
            .when(WorkOrderCommand::ResendSms)
            .then_expect_events(vec![WorkOrderEvent::GuideSmsRequested { n: 2 }]);
    }
}
