//! `InterviewTask`: one remote interview for a loan contract (requirements 001 and 000).

mod aggregate;
mod commands;
mod error;
mod events;
mod participants;

pub use aggregate::{InterviewTask, TaskKind, TaskStatus, TaskStep};
pub use commands::{CancelInterviewTask, CreateInterviewTask, InterviewTaskCommand};
pub use error::InterviewTaskError;
pub use events::{InterviewTaskCancelled, InterviewTaskCreated, InterviewTaskEvent};
pub use participants::{
    merge_participants, IdType, Participant, ParticipantInput, ParticipantRole,
};

/// Aggregate type name in the event log and the Kafka topic (`facesign.interview-task.v1`).
pub const AGGREGATE_TYPE: &str = "interview-task";
