//! What a `WorkOrder` is asked to do.

use serde::{Deserialize, Serialize};

use super::aggregate::WorkOrderDetails;

/// Commands of a work order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
