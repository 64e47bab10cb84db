use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::DispatchReason;

/// Who calls, for what, through which channel: what dispatch rules filter on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct QueuedCall {
    /// The interview task (工单) the call is for.
    pub task_id: String,
    /// Hash of the main borrower's ID number: "the same customer" for 熟客优先.
    pub customer_key: String,
    /// 渠道代码.
    pub channel_code: String,
    /// 产品代码 of the task.
    pub product_code: String,
    /// The customer's region (房屋所在地区 / 属地), when known.
    pub region: Option<String>,
    /// A seat the customer asked for by name (指定坐席).
    pub designated_seat: Option<String>,
    /// The seat booked for the task's appointment (001 2.4.4.3 预设).
    pub preassigned_seat: Option<String>,
    /// The task's booked window: calls are accepted only around it (001 2.6.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment: Option<crate::schedule::Slot>,
}

/// Facts recorded about an `InboundCall`.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum InboundCallEvent {
    /// The channel refused the call; the customer saw `message`.
    CallRefused {
        /// The call.
        call: QueuedCall,
        /// The exact text shown.
        message: String,
    },
    /// The call joined the queue.
    CallQueued(QueuedCall),
    /// The call was given to a seat.
    CallDispatched {
        /// The seat.
        seat_no: String,
        /// Why.
        reason: DispatchReason,
        /// Which offer of this call this is, from 1: its ring timeout names it.
        #[serde(default)]
        offer: u32,
    },
    /// The call moved to another seat before it was answered.
    CallTransferred {
        /// The seat it left.
        from_seat: String,
        /// The seat it went to.
        to_seat: String,
        /// Which offer of this call this is, from 1.
        #[serde(default)]
        offer: u32,
    },
    /// The seat did not answer within the ring timeout: the offer is
    /// withdrawn and the call waits in the queue again, in its place (004 3.6).
    CallOfferUnanswered {
        /// The seat that did not answer.
        seat_no: String,
        /// Unanswered offers of this call so far.
        unanswered: u32,
    },
    /// The seat answered.
    CallAnswered {
        /// The seat.
        seat_no: String,
    },
    /// The answered call ended (挂断); the seat goes to 话后处理.
    CallEnded {
        /// The seat.
        seat_no: String,
    },
    /// The customer left the queue.
    CallCancelled {
        /// The seat it had been offered to, if any.
        seat_no: Option<String>,
    },
}

impl DomainEvent for InboundCallEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
