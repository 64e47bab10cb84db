use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::{Participant, TaskKind, TaskStep};

/// Facts recorded about an `InterviewTask`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InterviewTaskEvent {
    /// The task was opened (status PENDING / 待面谈).
    InterviewTaskCreated(InterviewTaskCreated),
    /// The task was withdrawn (status CANCELLED / 已撤销).
    InterviewTaskCancelled(InterviewTaskCancelled),
}

/// Payload of `InterviewTaskCreated` (version 1.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterviewTaskCreated {
    /// Loan contract number.
    pub contract_no: String,
    /// Interview flow.
    pub kind: TaskKind,
    /// Steps the kind requires, in order.
    pub required_steps: Vec<TaskStep>,
    /// Product code.
    pub product_code: String,
    /// Channel code.
    pub channel_code: String,
    /// Account manager staff no.
    pub manager_id: String,
    /// De-duplicated participants; exactly one is the main borrower.
    pub participants: Vec<Participant>,
    /// When the task was opened.
    pub created_at: DateTime<Utc>,
}

/// Payload of `InterviewTaskCancelled` (version 1.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterviewTaskCancelled {
    /// Why it was withdrawn.
    pub reason: String,
    /// When it was withdrawn.
    pub cancelled_at: DateTime<Utc>,
}

impl DomainEvent for InterviewTaskEvent {
    fn event_type(&self) -> String {
        match self {
            InterviewTaskEvent::InterviewTaskCreated(_) => "InterviewTaskCreated",
            InterviewTaskEvent::InterviewTaskCancelled(_) => "InterviewTaskCancelled",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
