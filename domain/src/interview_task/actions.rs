//! What may be done next to a task, by its state alone (000 task flow, 001
//! 2.6): the API narrows it by the caller's role and ownership, and the console
//! offers exactly what is left, so no client repeats the transitions.

use serde::{Deserialize, Serialize};

use super::aggregate::TaskStatus;

/// A step a person can take on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum TaskAction {
    /// 面谈预约: book the first appointment.
    BookAppointment,
    /// 改约: move the appointment.
    RescheduleAppointment,
    /// Connect the interview (the seat then holds the task).
    StartInterview,
    /// End the call of the interview.
    EndCall,
    /// 面谈结论: pass or doubtful.
    ConcludeInterview,
    /// 放回: put the task back for another seat.
    ReleaseTask,
    /// 撤销.
    CancelTask,
}

impl TaskAction {
    /// Every action, in the order a task meets them.
    pub const ALL: [TaskAction; 7] = [
        TaskAction::BookAppointment,
        TaskAction::RescheduleAppointment,
        TaskAction::StartInterview,
        TaskAction::EndCall,
        TaskAction::ConcludeInterview,
        TaskAction::ReleaseTask,
        TaskAction::CancelTask,
    ];

    /// The GraphQL mutation that takes this step (for the role rules).
    pub fn operation(self) -> &'static str {
        match self {
            TaskAction::BookAppointment => "bookAppointment",
            TaskAction::RescheduleAppointment => "rescheduleAppointment",
            TaskAction::StartInterview => "startInterview",
            TaskAction::EndCall => "endCall",
            TaskAction::ConcludeInterview => "concludeInterview",
            TaskAction::ReleaseTask => "releaseTask",
            TaskAction::CancelTask => "cancelInterviewTask",
        }
    }

    /// Whether the step is open to a task in `status`, with or without an
    /// appointment; only the seat holding an IN_PROGRESS task works on it.
    pub fn open(self, status: TaskStatus, has_appointment: bool) -> bool {
        match self {
            TaskAction::BookAppointment => status == TaskStatus::Pending && !has_appointment,
            // An expired appointment may still be moved (001 2.6.1 改约).
            TaskAction::RescheduleAppointment => {
                matches!(status, TaskStatus::Pending | TaskStatus::Expired) && has_appointment
            }
            TaskAction::StartInterview => status == TaskStatus::Pending && has_appointment,
            TaskAction::EndCall | TaskAction::ConcludeInterview | TaskAction::ReleaseTask => {
                status == TaskStatus::InProgress
            }
            TaskAction::CancelTask => {
                matches!(status, TaskStatus::Pending | TaskStatus::InProgress)
            }
        }
    }

    /// The steps open to a task in `status`.
    pub fn available(status: TaskStatus, has_appointment: bool) -> Vec<TaskAction> {
        Self::ALL
            .into_iter()
            .filter(|action| action.open(status, has_appointment))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 000: a pending task is booked, then rescheduled or connected.
    #[test]
    fn a_pending_task_is_booked_then_connected() {
        assert_eq!(
            TaskAction::available(TaskStatus::Pending, false),
            vec![TaskAction::BookAppointment, TaskAction::CancelTask]
        );
        assert_eq!(
            TaskAction::available(TaskStatus::Pending, true),
            vec![
                TaskAction::RescheduleAppointment,
                TaskAction::StartInterview,
                TaskAction::CancelTask
            ]
        );
    }

    /// 000 提交（或放回）任务: a connected task is ended, concluded or put back.
    #[test]
    fn a_task_in_progress_is_concluded_or_put_back() {
        assert_eq!(
            TaskAction::available(TaskStatus::InProgress, true),
            vec![
                TaskAction::EndCall,
                TaskAction::ConcludeInterview,
                TaskAction::ReleaseTask,
                TaskAction::CancelTask
            ]
        );
    }

    /// An expired appointment is only moved.
    #[test]
    fn an_expired_task_is_only_rescheduled() {
        assert_eq!(
            TaskAction::available(TaskStatus::Expired, true),
            vec![TaskAction::RescheduleAppointment]
        );
    }

    /// Ended tasks offer nothing (a reversed flow opens a successor instead).
    #[test]
    fn ended_tasks_offer_nothing() {
        for status in [
            TaskStatus::PendingQc,
            TaskStatus::Passed,
            TaskStatus::Rejected,
            TaskStatus::Cancelled,
            TaskStatus::Superseded,
        ] {
            assert!(TaskAction::available(status, true).is_empty(), "{status:?}");
        }
    }
}
