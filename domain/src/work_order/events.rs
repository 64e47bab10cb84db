//! What happened to a `WorkOrder`.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::aggregate::WorkOrderDetails;

/// Facts of a work order.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
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
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
