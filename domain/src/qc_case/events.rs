use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::{QcOrigin, RejectReason};

/// Facts recorded about a `QcCase`.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum QcCaseEvent {
    /// The case entered the QC queue.
    QcCaseOpened {
        /// The task.
        task_id: String,
        /// Its loan contract.
        contract_no: String,
        /// The seat that concluded.
        seat_no: String,
        /// Why it is reviewed.
        origin: QcOrigin,
        /// When.
        opened_at: DateTime<Utc>,
    },
    /// A reviewer took it.
    QcCaseClaimed {
        /// Reviewer.
        reviewer: String,
    },
    /// The reviewer put it back.
    QcCaseReleased {
        /// Reviewer.
        reviewer: String,
    },
    /// Decided: 通过 or 拒件.
    QcCaseDecided {
        /// Reviewer.
        reviewer: String,
        /// The task.
        task_id: String,
        /// Why it was reviewed.
        origin: QcOrigin,
        /// True for 通过.
        passed: bool,
        /// Reasons of a reject.
        reasons: Vec<RejectReason>,
        /// Text of OTHER.
        other_text: Option<String>,
        /// Comment.
        comment: String,
        /// When.
        decided_at: DateTime<Utc>,
    },
}

impl DomainEvent for QcCaseEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
