use serde::{Deserialize, Serialize};

use super::{DispatchReason, QueuedCall};
use crate::channel::Admission;

/// Commands an `InboundCall` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum InboundCallCommand {
    /// The customer calls in; `admission` is the channel's answer (准入校验).
    /// Refused calls are recorded too: 001 counts them.
    Request {
        /// Who calls, for what, through which channel.
        call: QueuedCall,
        /// The channel's answer.
        admission: Admission,
    },
    /// The dispatcher gives the call to a seat that accepted the offer.
    Dispatch {
        /// The seat.
        seat_no: String,
        /// Why this seat.
        reason: DispatchReason,
    },
    /// 转出: before the video connects, the call moves to another seat that
    /// accepted the offer (001 2.3.1 队列管理, 2.4.4.3).
    Transfer {
        /// The new seat.
        to_seat: String,
    },
    /// The seat the call was dispatched to answers (接听).
    Answer {
        /// The answering seat.
        seat_no: String,
    },
    /// The ring timeout of offer `offer` passed: if that offer is still
    /// ringing, it is withdrawn and the call queues again.
    ExpireOffer {
        /// The offer the timeout was set for.
        offer: u32,
    },
    /// The customer leaves the queue (004 4.3 取消排队).
    Cancel,
    /// The video ended (挂断) after the answer.
    End,
}
