//! `InterviewTask`: one remote interview for a loan contract (requirements 001 and 000).

mod actions;
mod aggregate;
mod commands;
mod error;
mod events;
mod participants;
pub mod session;
pub use session::LoanInfo;

pub use actions::TaskAction;
pub use aggregate::{Appointment, CreditTaskStatus, InterviewTask, TaskKind, TaskStatus, TaskStep};
pub use commands::{
    AppointmentPurpose, CancelInterviewTask, CreateInterviewTask, InterviewOutcome,
    InterviewTaskCommand, QcVerdict, RequestAppointment, Requester,
};
pub use error::InterviewTaskError;
pub use events::{
    AppointmentConfirmed, AppointmentRefused, AppointmentRequested, BookingRef,
    InterviewTaskCancelled, InterviewTaskCreated, InterviewTaskEvent, TaskLineage,
};
pub use participants::{
    is_valid_resident_id, merge_participants, same_province, IdType, MaritalStatus, Participant,
    ParticipantInput, ParticipantRole, PropertyLocation,
};

/// Aggregate type name in the event log and the Kafka topic (`facesign.interview-task.v1`).
pub const AGGREGATE_TYPE: &str = "interview-task";
