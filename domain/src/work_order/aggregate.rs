use crate::message::message;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::commands::WorkOrderCommand;
use super::error::WorkOrderError;
use super::events::WorkOrderEvent;
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
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

/// A work order's write-side state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
            Err(WorkOrderError::Invalid(message!(
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
        return Err(WorkOrderError::Invalid(message!(
            "phone must be an 11-digit mainland mobile number"
        )));
    }
    for v in [&mut d.id_number, &mut d.policy_no] {
        *v = v
            .take()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        if v.as_ref().is_some_and(|s| s.len() > 32) {
            return Err(WorkOrderError::Invalid(message!(
                "idNumber and policyNo are at most 32 characters"
            )));
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
                    return Err(WorkOrderError::Invalid(message!(
                        "a remark is 1 to 1000 characters"
                    )));
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
mod tests;
