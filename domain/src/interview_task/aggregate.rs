use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use super::session::{self, Session, SessionCommand, SessionContext, SessionEvent};
use super::QcVerdict;
use super::{
    merge_participants, AppointmentConfirmed, AppointmentPurpose, AppointmentRefused,
    AppointmentRequested, BookingRef, InterviewOutcome, InterviewTaskCancelled,
    InterviewTaskCommand, InterviewTaskCreated, InterviewTaskError, InterviewTaskEvent,
    Participant, RequestAppointment, Requester,
};
use crate::customer_agenda::agenda_id;
use crate::role::Role;
use crate::schedule::Slot;
use crate::services::DomainServices;

/// The interview flow a task follows (requirements 000 and 001).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskKind {
    /// 永续贷视频面谈 (001): the seat verifies identity and witnesses on video.
    #[default]
    YongxuVideoInterview,
    /// 云贷直批 (000): started from 云贷 APP; the seat only witnesses on video.
    YundaiDirect,
    /// 云贷非直批 (000): identity check and info entry were done in 云贷 APP, so skipped.
    YundaiIndirect,
    /// 云测 (000): every sub-task.
    Yunce,
}

/// A sub-task of the interview (000: 现调上传 / 客户核身 / 视频见证 / 信息录入).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStep {
    /// 现调上传: field investigation with location, information and photos.
    FieldInvestigation,
    /// 客户核身: liveness and face similarity per participant.
    IdentityCheck,
    /// 视频见证: the recorded video interview itself.
    VideoWitness,
    /// 信息录入: loan information entry and confirmation.
    InfoEntry,
}

impl TaskKind {
    /// The steps this kind requires, in the order they are done.
    pub fn required_steps(self) -> Vec<TaskStep> {
        use TaskStep::*;
        match self {
            TaskKind::YongxuVideoInterview => vec![IdentityCheck, VideoWitness],
            TaskKind::YundaiDirect => vec![VideoWitness],
            TaskKind::YundaiIndirect => vec![FieldInvestigation, VideoWitness],
            TaskKind::Yunce => vec![FieldInvestigation, IdentityCheck, VideoWitness, InfoEntry],
        }
    }
}

/// Where a task stands (DESIGN.md; names of 001 and 004).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    /// 待面谈 / 待处理.
    #[default]
    Pending,
    /// 处理中: a seat is in the session.
    InProgress,
    /// 存疑: waiting for quality control.
    PendingQc,
    /// 已面谈（待提交面签） / 已处理.
    Passed,
    /// 已面谈（面谈拒绝）.
    Rejected,
    /// The appointment window passed; it may still be rescheduled.
    Expired,
    /// 已撤销.
    Cancelled,
    /// A reverse flow replaced it with a new task.
    Superseded,
}

impl TaskStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [TaskStatus; 8] = [
        TaskStatus::Pending,
        TaskStatus::InProgress,
        TaskStatus::PendingQc,
        TaskStatus::Passed,
        TaskStatus::Rejected,
        TaskStatus::Expired,
        TaskStatus::Cancelled,
        TaskStatus::Superseded,
    ];

    /// The stored and wire name, e.g. `PENDING_QC`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "PENDING",
            TaskStatus::InProgress => "IN_PROGRESS",
            TaskStatus::PendingQc => "PENDING_QC",
            TaskStatus::Passed => "PASSED",
            TaskStatus::Rejected => "REJECTED",
            TaskStatus::Expired => "EXPIRED",
            TaskStatus::Cancelled => "CANCELLED",
            TaskStatus::Superseded => "SUPERSEDED",
        }
    }

    /// The Chinese name shown to bank staff (001, 004).
    pub fn label_zh(self) -> &'static str {
        match self {
            TaskStatus::Pending => "待面谈",
            TaskStatus::InProgress => "处理中",
            TaskStatus::PendingQc => "存疑",
            TaskStatus::Passed => "已面谈（待提交面签）",
            TaskStatus::Rejected => "已面谈（面谈拒绝）",
            TaskStatus::Expired => "已过期",
            TaskStatus::Cancelled => "已撤销",
            TaskStatus::Superseded => "已被新任务取代",
        }
    }

    /// Parses the stored name back.
    pub fn parse(s: &str) -> Option<TaskStatus> {
        TaskStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

/// The appointment a task holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    /// Booking id of the seat and agenda bookings.
    pub booking_id: Uuid,
    /// Seat booked.
    pub seat_no: String,
    /// The slot.
    pub slot: Slot,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PendingRequest {
    purpose: AppointmentPurpose,
    appointment: Appointment,
}

/// The write-side state of one interview task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InterviewTask {
    created: bool,
    id: String,
    loan_id: Option<String>,
    contract_no: String,
    manager_id: String,
    kind: TaskKind,
    status: TaskStatus,
    participants: Vec<Participant>,
    created_at: Option<chrono::DateTime<chrono::Utc>>,
    appointment: Option<Appointment>,
    pending: Option<PendingRequest>,
    reschedule_count: u32,
    required_steps: Vec<TaskStep>,
    seat_no: Option<String>,
    session: Session,
    /// QC cases the task waits for (存疑 or a sampled pass).
    qc_pending: bool,
    sampled_pass: bool,
}

impl InterviewTask {
    /// Current status.
    pub fn status(&self) -> TaskStatus {
        self.status
    }

    /// Loan contract number.
    pub fn contract_no(&self) -> &str {
        &self.contract_no
    }

    /// Interview flow.
    pub fn kind(&self) -> TaskKind {
        self.kind
    }

    /// De-duplicated participants.
    pub fn participants(&self) -> &[Participant] {
        &self.participants
    }

    /// When the task was opened (the application date of the notice SMS).
    pub fn created_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.created_at
    }

    /// The appointment held, if any.
    pub fn appointment(&self) -> Option<&Appointment> {
        self.appointment.as_ref()
    }

    /// Reschedules used so far.
    pub fn reschedule_count(&self) -> u32 {
        self.reschedule_count
    }

    /// The loan application that opened the task, if any.
    pub fn loan_id(&self) -> Option<&str> {
        self.loan_id.as_deref()
    }

    /// The seat that connected the interview (000: it holds the task while
    /// the interview is in progress).
    pub fn seat_no(&self) -> Option<&str> {
        self.seat_no.as_deref()
    }

    /// The seat holding the task: the one that connected it, while in progress.
    pub fn holder(&self) -> Option<&str> {
        self.seat_no
            .as_deref()
            .filter(|_| self.status == TaskStatus::InProgress)
    }

    /// The account manager who owns the case (000 J010: their task list).
    pub fn manager_id(&self) -> &str {
        &self.manager_id
    }

    /// Whether the task exists (was created).
    pub fn exists(&self) -> bool {
        self.created
    }

    /// What the session has produced.
    pub fn session(&self) -> &Session {
        &self.session
    }

    fn session_command(
        &self,
        command: SessionCommand,
        services: &DomainServices,
    ) -> Result<SessionEvent, InterviewTaskError> {
        let before_video = matches!(command, SessionCommand::RecordFieldInvestigation { .. })
            && self.status == TaskStatus::Pending;
        if self.status != TaskStatus::InProgress && !before_video {
            return Err(self.transition("record session work on"));
        }
        session::decide(
            command,
            SessionContext {
                session: &self.session,
                required: &self.required_steps,
                participants: self
                    .participants
                    .iter()
                    .map(|p| (p.id_number.as_str(), p.name.as_str(), p.is_main_borrower()))
                    .collect(),
                seat_no: self.seat_no.as_deref().unwrap_or_default(),
                now: services.clock.now(),
                threshold: services.session.similarity_threshold,
            },
        )
    }

    fn require_existing(&self) -> Result<(), InterviewTaskError> {
        if self.created {
            Ok(())
        } else {
            Err(InterviewTaskError::NotFound)
        }
    }

    fn agendas(&self) -> Vec<String> {
        self.participants.iter().map(agenda_id).collect()
    }

    fn booking_ref(&self, appointment: &Appointment) -> BookingRef {
        BookingRef {
            booking_id: appointment.booking_id,
            seat_no: appointment.seat_no.clone(),
            agendas: self.agendas(),
        }
    }

    fn is_main_borrower_or_on_behalf(&self, requester: &Requester) -> bool {
        match Role::parse(&requester.role) {
            Some(Role::Customer) => self
                .participants
                .iter()
                .any(|p| p.is_main_borrower() && p.id_number == requester.actor_id),
            Some(Role::AccountManager | Role::Seat | Role::Supervisor | Role::Admin) => {
                requester.on_behalf_of_borrower
            }
            _ => false,
        }
    }

    fn transition(&self, action: &'static str) -> InterviewTaskError {
        InterviewTaskError::InvalidTransition {
            action,
            from: self.status,
        }
    }

    fn request(
        &self,
        request: RequestAppointment,
        services: &DomainServices,
    ) -> Result<AppointmentRequested, InterviewTaskError> {
        let now = services.clock.now();
        let policy = &services.scheduling;
        if self.pending.is_some() {
            return Err(InterviewTaskError::BookingInProgress);
        }
        let seat_no = required_text(&request.seat_no, "seatNo", 32)?;
        let requested_slot = || -> Result<Slot, InterviewTaskError> {
            let slot = Slot::new(request.start, request.end, policy)?;
            if !slot.within_horizon(now, policy.horizon_days) {
                return Err(InterviewTaskError::OutsideHorizon {
                    days: policy.horizon_days,
                });
            }
            Ok(slot)
        };
        let slot = match request.purpose {
            AppointmentPurpose::Book => {
                if self.status != TaskStatus::Pending || self.appointment.is_some() {
                    return Err(self.transition("book"));
                }
                requested_slot()?
            }
            AppointmentPurpose::Reschedule => {
                let current = self
                    .appointment
                    .as_ref()
                    .ok_or(InterviewTaskError::NoAppointment)?;
                if !matches!(self.status, TaskStatus::Pending | TaskStatus::Expired) {
                    return Err(self.transition("reschedule"));
                }
                if !self.is_main_borrower_or_on_behalf(&request.requester) {
                    return Err(InterviewTaskError::NotMainBorrower {
                        action: "reschedule",
                    });
                }
                if self.status == TaskStatus::Pending && now >= current.slot.start {
                    return Err(InterviewTaskError::WindowOpened);
                }
                if self.reschedule_count >= policy.max_reschedules {
                    return Err(InterviewTaskError::RescheduleLimitReached {
                        max: policy.max_reschedules,
                    });
                }
                requested_slot()?
            }
            AppointmentPurpose::Reassign => {
                let current = self
                    .appointment
                    .as_ref()
                    .ok_or(InterviewTaskError::NoAppointment)?;
                if self.status != TaskStatus::Pending {
                    return Err(self.transition("reassign"));
                }
                if !matches!(
                    Role::parse(&request.requester.role),
                    Some(Role::Supervisor | Role::Admin)
                ) {
                    return Err(InterviewTaskError::NotSupervisor);
                }
                if now >= current.slot.start {
                    return Err(InterviewTaskError::WindowOpened);
                }
                if current.seat_no == seat_no {
                    return Err(InterviewTaskError::SameSeat { seat_no });
                }
                current.slot
            }
            AppointmentPurpose::SecondInterview => {
                if self.status != TaskStatus::PendingQc {
                    return Err(self.transition("request a second interview for"));
                }
                if !self.is_main_borrower_or_on_behalf(&request.requester) {
                    return Err(InterviewTaskError::NotMainBorrower {
                        action: "request a second interview",
                    });
                }
                requested_slot()?
            }
        };
        Ok(AppointmentRequested {
            booking_id: request.booking_id,
            purpose: request.purpose,
            seat_no,
            slot,
            agendas: self.agendas(),
            requested_by: request.requester,
            requested_at: now,
        })
    }
}

/// A trimmed, non-empty text of at most `max_chars` characters, or a VALIDATION error.
pub(super) fn required_text(
    value: &str,
    field: &'static str,
    max_chars: usize,
) -> Result<String, InterviewTaskError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max_chars {
        return Err(InterviewTaskError::InvalidField {
            field,
            reason: "must be non-empty and not too long",
        });
    }
    Ok(value.to_string())
}

impl Aggregate for InterviewTask {
    const TYPE: &'static str = super::AGGREGATE_TYPE;
    type Command = InterviewTaskCommand;
    type Event = InterviewTaskEvent;
    type Error = InterviewTaskError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        if !matches!(command, InterviewTaskCommand::Create(_)) {
            self.require_existing()?;
        }
        let now = services.clock.now();
        let event = match command {
            InterviewTaskCommand::Create(create) => {
                if self.created {
                    return Err(InterviewTaskError::AlreadyExists);
                }
                let contract_no = create.contract_no.trim().to_string();
                if contract_no.is_empty() || contract_no.chars().count() > 64 {
                    return Err(InterviewTaskError::InvalidContractNo);
                }
                let product_code = required_text(&create.product_code, "productCode", 32)?;
                let channel_code = required_text(&create.channel_code, "channelCode", 32)?;
                let manager_id = required_text(&create.manager_id, "managerId", 64)?;
                let participants = merge_participants(&create.participants)?;
                InterviewTaskEvent::InterviewTaskCreated(InterviewTaskCreated {
                    lineage: create.lineage,
                    task_id: create.task_id,
                    contract_no,
                    kind: create.kind,
                    required_steps: create.kind.required_steps(),
                    product_code,
                    channel_code,
                    manager_id,
                    participants,
                    created_at: now,
                })
            }
            InterviewTaskCommand::Cancel(cancel) => {
                if !matches!(self.status, TaskStatus::Pending | TaskStatus::InProgress) {
                    return Err(self.transition("cancel"));
                }
                let reason = required_text(&cancel.reason, "reason", 500)?;
                let releases = self
                    .appointment
                    .iter()
                    .chain(self.pending.as_ref().map(|p| &p.appointment))
                    .map(|a| self.booking_ref(a))
                    .collect();
                InterviewTaskEvent::InterviewTaskCancelled(InterviewTaskCancelled {
                    reason,
                    cancelled_at: now,
                    releases,
                })
            }
            InterviewTaskCommand::RequestAppointment(request) => {
                InterviewTaskEvent::AppointmentRequested(self.request(request, services)?)
            }
            InterviewTaskCommand::ConfirmAppointment { booking_id } => {
                let Some(pending) = self
                    .pending
                    .as_ref()
                    .filter(|p| p.appointment.booking_id == booking_id)
                else {
                    if self.appointment.as_ref().map(|a| a.booking_id) == Some(booking_id) {
                        return Ok(()); // redelivered confirmation
                    }
                    return Err(self.transition("confirm a booking that is no longer requested on"));
                };
                let reschedule_count = self.reschedule_count
                    + u32::from(pending.purpose == AppointmentPurpose::Reschedule);
                InterviewTaskEvent::AppointmentConfirmed(AppointmentConfirmed {
                    booking_id,
                    purpose: pending.purpose,
                    seat_no: pending.appointment.seat_no.clone(),
                    slot: pending.appointment.slot,
                    replaced: self.appointment.as_ref().map(|a| self.booking_ref(a)),
                    reschedule_count,
                })
            }
            InterviewTaskCommand::RefuseAppointment {
                booking_id,
                code,
                reason,
            } => {
                let Some(pending) = self
                    .pending
                    .as_ref()
                    .filter(|p| p.appointment.booking_id == booking_id)
                else {
                    return Ok(()); // already settled
                };
                InterviewTaskEvent::AppointmentRefused(AppointmentRefused {
                    booking_id,
                    purpose: pending.purpose,
                    code,
                    reason,
                })
            }
            InterviewTaskCommand::ExpireAppointment { booking_id } => {
                let current = self
                    .appointment
                    .as_ref()
                    .map(|a| (a.booking_id, a.slot.end));
                match current {
                    Some((id, end))
                        if id == booking_id && self.status == TaskStatus::Pending && now >= end =>
                    {
                        InterviewTaskEvent::AppointmentExpired { booking_id }
                    }
                    _ => return Ok(()), // a stale timer: the task moved on
                }
            }
            InterviewTaskCommand::StartInterview { seat_no } => {
                if self.status != TaskStatus::Pending {
                    return Err(self.transition("start"));
                }
                let appointment = self
                    .appointment
                    .as_ref()
                    .ok_or(InterviewTaskError::NoAppointment)?;
                if now < appointment.slot.start || now >= appointment.slot.end {
                    return Err(InterviewTaskError::OutsideWindow);
                }
                InterviewTaskEvent::InterviewStarted {
                    seat_no: required_text(&seat_no, "seatNo", 32)?,
                    started_at: now,
                }
            }
            InterviewTaskCommand::PutBack { reason } => {
                let Some(seat_no) = self.holder() else {
                    return Err(self.transition("put back"));
                };
                InterviewTaskEvent::InterviewPutBack {
                    seat_no: seat_no.to_string(),
                    reason: required_text(&reason, "reason", 500)?,
                    put_back_at: now,
                }
            }
            InterviewTaskCommand::ConcludeInterview { outcome } => {
                if self.status != TaskStatus::InProgress {
                    return Err(self.transition("conclude"));
                }
                if self.session.calls == 0 {
                    return Err(InterviewTaskError::CallNotEnded);
                }
                if outcome == InterviewOutcome::Pass {
                    let ids: Vec<&str> = self
                        .participants
                        .iter()
                        .map(|p| p.id_number.as_str())
                        .collect();
                    let missing =
                        session::missing_for_pass(&self.session, &self.required_steps, &ids);
                    if !missing.is_empty() {
                        return Err(InterviewTaskError::StepsMissing { missing });
                    }
                }
                InterviewTaskEvent::InterviewConcluded {
                    outcome,
                    concluded_at: now,
                    sampled_for_qc: outcome == InterviewOutcome::Pass
                        && session::sampled_for_qc(&self.id, services.session.qc_sample_per_mille),
                }
            }
            InterviewTaskCommand::Session(command) => {
                InterviewTaskEvent::Session(self.session_command(command, services)?)
            }
            InterviewTaskCommand::Supersede {
                successor_id,
                transition,
                reason,
            } => {
                if self.status == TaskStatus::Superseded {
                    return Ok(()); // a redelivered reverse flow
                }
                let releases = self
                    .appointment
                    .iter()
                    .chain(self.pending.as_ref().map(|p| &p.appointment))
                    .map(|a| self.booking_ref(a))
                    .collect();
                InterviewTaskEvent::InterviewTaskSuperseded {
                    successor_id,
                    transition,
                    reason,
                    releases,
                }
            }
            InterviewTaskCommand::ApplyQcDecision {
                case_id,
                verdict,
                reasons,
                comment,
            } => {
                if !self.qc_pending || self.status == TaskStatus::Superseded {
                    return Err(InterviewTaskError::NotAwaitingQc);
                }
                match verdict {
                    QcVerdict::Pass => InterviewTaskEvent::QcPassed {
                        case_id,
                        comment,
                        was_doubtful: !self.sampled_pass,
                    },
                    QcVerdict::Reject => InterviewTaskEvent::QcRejected {
                        case_id,
                        reasons,
                        comment,
                        rollback_loan: self.sampled_pass,
                    },
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            InterviewTaskEvent::InterviewTaskCreated(created) => {
                self.created = true;
                self.id = created.task_id;
                self.loan_id = created.lineage.map(|l| l.loan_id);
                self.contract_no = created.contract_no;
                self.manager_id = created.manager_id;
                self.kind = created.kind;
                self.participants = created.participants;
                self.required_steps = created.required_steps;
                self.created_at = Some(created.created_at);
                self.status = TaskStatus::Pending;
            }
            InterviewTaskEvent::InterviewTaskCancelled(_) => {
                self.status = TaskStatus::Cancelled;
                self.pending = None;
            }
            InterviewTaskEvent::AppointmentRequested(requested) => {
                self.pending = Some(PendingRequest {
                    purpose: requested.purpose,
                    appointment: Appointment {
                        booking_id: requested.booking_id,
                        seat_no: requested.seat_no,
                        slot: requested.slot,
                    },
                });
            }
            InterviewTaskEvent::AppointmentConfirmed(confirmed) => {
                self.pending = None;
                self.appointment = Some(Appointment {
                    booking_id: confirmed.booking_id,
                    seat_no: confirmed.seat_no,
                    slot: confirmed.slot,
                });
                self.reschedule_count = confirmed.reschedule_count;
                self.status = TaskStatus::Pending;
            }
            InterviewTaskEvent::AppointmentRefused(_) => self.pending = None,
            InterviewTaskEvent::AppointmentExpired { .. } => self.status = TaskStatus::Expired,
            InterviewTaskEvent::InterviewStarted { seat_no, .. } => {
                self.status = TaskStatus::InProgress;
                self.seat_no = Some(seat_no);
            }
            InterviewTaskEvent::InterviewPutBack { .. } => {
                self.status = TaskStatus::Pending;
                self.seat_no = None;
            }
            InterviewTaskEvent::InterviewConcluded {
                outcome,
                sampled_for_qc,
                ..
            } => {
                self.status = match outcome {
                    InterviewOutcome::Pass => TaskStatus::Passed,
                    InterviewOutcome::Doubtful => TaskStatus::PendingQc,
                };
                self.qc_pending = outcome == InterviewOutcome::Doubtful || sampled_for_qc;
                self.sampled_pass = sampled_for_qc;
            }
            InterviewTaskEvent::Session(event) => session::apply(&mut self.session, &event),
            InterviewTaskEvent::InterviewTaskSuperseded { .. } => {
                self.status = TaskStatus::Superseded;
                self.pending = None;
                self.qc_pending = false;
            }
            InterviewTaskEvent::QcPassed { .. } => {
                self.status = TaskStatus::Passed;
                self.qc_pending = false;
            }
            InterviewTaskEvent::QcRejected { .. } => {
                self.status = TaskStatus::Rejected;
                self.qc_pending = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use cqrs_es::test::TestFramework;

    use super::*;
    use crate::interview_task::{
        CancelInterviewTask, CreateInterviewTask, IdType, ParticipantInput, ParticipantRole,
    };

    type TaskTest = TestFramework<InterviewTask>;

    fn now() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
    }

    fn services() -> DomainServices {
        DomainServices::fixed_at(now())
    }

    fn borrower() -> ParticipantInput {
        ParticipantInput {
            name: "邓小闲".into(),
            id_type: IdType::IdCard,
            id_number: "11010519491231002X".into(),
            phone: "15618293093".into(),
            roles: vec![ParticipantRole::Borrower],
        }
    }

    fn create(kind: TaskKind) -> InterviewTaskCommand {
        InterviewTaskCommand::Create(CreateInterviewTask {
            lineage: None,
            task_id: "task-1".into(),
            contract_no: "HT2026001".into(),
            kind,
            product_code: "YXD".into(),
            channel_code: "YYZX".into(),
            manager_id: "M001".into(),
            participants: vec![borrower()],
        })
    }

    fn created(kind: TaskKind) -> InterviewTaskEvent {
        InterviewTaskEvent::InterviewTaskCreated(InterviewTaskCreated {
            lineage: None,
            task_id: "task-1".into(),
            contract_no: "HT2026001".into(),
            kind,
            required_steps: kind.required_steps(),
            product_code: "YXD".into(),
            channel_code: "YYZX".into(),
            manager_id: "M001".into(),
            participants: merge_participants(&[borrower()]).unwrap(),
            created_at: now(),
        })
    }

    fn cancel() -> InterviewTaskCommand {
        InterviewTaskCommand::Cancel(CancelInterviewTask {
            reason: "客户主动放弃".into(),
        })
    }

    fn cancelled() -> InterviewTaskEvent {
        InterviewTaskEvent::InterviewTaskCancelled(InterviewTaskCancelled {
            reason: "客户主动放弃".into(),
            cancelled_at: now(),
            releases: vec![],
        })
    }

    #[test]
    fn create_opens_a_pending_task_with_the_kinds_steps() {
        TaskTest::with(services())
            .given_no_previous_events()
            .when(create(TaskKind::Yunce))
            .then_expect_events(vec![created(TaskKind::Yunce)]);
    }

    /// 000_ae051a0847019ebb.txt: 云贷非直批 skips 客户核身 and 信息录入.
    #[test]
    fn yundai_indirect_skips_identity_check_and_info_entry() {
        let steps = TaskKind::YundaiIndirect.required_steps();
        assert!(!steps.contains(&TaskStep::IdentityCheck));
        assert!(!steps.contains(&TaskStep::InfoEntry));
        assert!(steps.contains(&TaskStep::VideoWitness));
    }

    #[test]
    fn create_twice_is_a_conflict() {
        TaskTest::with(services())
            .given(vec![created(TaskKind::YongxuVideoInterview)])
            .when(create(TaskKind::YongxuVideoInterview))
            .then_expect_error(InterviewTaskError::AlreadyExists);
    }

    #[test]
    fn create_without_contract_no_is_refused() {
        let mut command = create(TaskKind::YongxuVideoInterview);
        if let InterviewTaskCommand::Create(c) = &mut command {
            c.contract_no = "  ".into();
        }
        TaskTest::with(services())
            .given_no_previous_events()
            .when(command)
            .then_expect_error(InterviewTaskError::InvalidContractNo);
    }

    /// 004_448cd5ace309d8b2.txt 3.3: a pending (待处理) task may be withdrawn (已撤销).
    #[test]
    fn cancel_a_pending_task() {
        TaskTest::with(services())
            .given(vec![created(TaskKind::YongxuVideoInterview)])
            .when(cancel())
            .then_expect_events(vec![cancelled()]);
    }

    #[test]
    fn cancel_twice_is_an_invalid_transition() {
        TaskTest::with(services())
            .given(vec![created(TaskKind::YongxuVideoInterview), cancelled()])
            .when(cancel())
            .then_expect_error(InterviewTaskError::InvalidTransition {
                action: "cancel",
                from: TaskStatus::Cancelled,
            });
    }

    #[test]
    fn cancel_an_unknown_task_is_not_found() {
        TaskTest::with(services())
            .given_no_previous_events()
            .when(cancel())
            .then_expect_error(InterviewTaskError::NotFound);
    }

    #[test]
    fn cancel_needs_a_reason() {
        TaskTest::with(services())
            .given(vec![created(TaskKind::YongxuVideoInterview)])
            .when(InterviewTaskCommand::Cancel(CancelInterviewTask {
                reason: " ".into(),
            }))
            .then_expect_error(InterviewTaskError::InvalidField {
                field: "reason",
                reason: "must be non-empty and not too long",
            });
    }

    mod booking {
        use chrono::Duration;

        use super::*;
        use crate::interview_task::{
            AppointmentConfirmed, AppointmentPurpose, AppointmentRequested, BookingRef,
            InterviewOutcome, RequestAppointment, Requester,
        };

        const BORROWER_ID: &str = "11010519491231002X";

        fn at(hours_from_now: i64) -> chrono::DateTime<Utc> {
            now() + Duration::hours(hours_from_now)
        }

        fn slot(hours_from_now: i64) -> Slot {
            Slot {
                start: at(hours_from_now),
                end: at(hours_from_now) + Duration::minutes(30),
            }
        }

        fn customer(id: &str) -> Requester {
            Requester {
                actor_id: id.into(),
                role: "CUSTOMER".into(),
                on_behalf_of_borrower: false,
            }
        }

        fn staff(role: &str, on_behalf: bool) -> Requester {
            Requester {
                actor_id: "S001".into(),
                role: role.into(),
                on_behalf_of_borrower: on_behalf,
            }
        }

        fn request(
            id: u128,
            purpose: AppointmentPurpose,
            seat: &str,
            hours: i64,
            who: Requester,
        ) -> InterviewTaskCommand {
            InterviewTaskCommand::RequestAppointment(RequestAppointment {
                booking_id: Uuid::from_u128(id),
                purpose,
                seat_no: seat.into(),
                start: slot(hours).start,
                end: slot(hours).end,
                requester: who,
            })
        }

        fn agendas() -> Vec<String> {
            merge_participants(&[borrower()])
                .unwrap()
                .iter()
                .map(agenda_id)
                .collect()
        }

        fn requested(
            id: u128,
            purpose: AppointmentPurpose,
            seat: &str,
            hours: i64,
            who: Requester,
        ) -> InterviewTaskEvent {
            InterviewTaskEvent::AppointmentRequested(AppointmentRequested {
                booking_id: Uuid::from_u128(id),
                purpose,
                seat_no: seat.into(),
                slot: slot(hours),
                agendas: agendas(),
                requested_by: who,
                requested_at: now(),
            })
        }

        fn confirmed(
            id: u128,
            purpose: AppointmentPurpose,
            seat: &str,
            hours: i64,
            replaced: Option<(u128, &str)>,
            count: u32,
        ) -> InterviewTaskEvent {
            InterviewTaskEvent::AppointmentConfirmed(AppointmentConfirmed {
                booking_id: Uuid::from_u128(id),
                purpose,
                seat_no: seat.into(),
                slot: slot(hours),
                replaced: replaced.map(|(id, seat)| BookingRef {
                    booking_id: Uuid::from_u128(id),
                    seat_no: seat.into(),
                    agendas: agendas(),
                }),
                reschedule_count: count,
            })
        }

        /// A task booked with seat S1, 24 hours from now.
        fn booked() -> Vec<InterviewTaskEvent> {
            vec![
                created(TaskKind::YongxuVideoInterview),
                requested(
                    1,
                    AppointmentPurpose::Book,
                    "S1",
                    24,
                    staff("ACCOUNT_MANAGER", false),
                ),
                confirmed(1, AppointmentPurpose::Book, "S1", 24, None, 0),
            ]
        }

        /// `booked()` then rescheduled `n` times by the borrower.
        fn rescheduled(n: u32) -> Vec<InterviewTaskEvent> {
            let mut events = booked();
            for i in 1..=n {
                let id = u128::from(i) + 1;
                events.push(requested(
                    id,
                    AppointmentPurpose::Reschedule,
                    "S1",
                    24 + i64::from(i),
                    customer(BORROWER_ID),
                ));
                events.push(confirmed(
                    id,
                    AppointmentPurpose::Reschedule,
                    "S1",
                    24 + i64::from(i),
                    Some((id - 1, "S1")),
                    i,
                ));
            }
            events
        }

        #[test]
        fn a_first_booking_is_requested_then_confirmed() {
            TaskTest::with(services())
                .given(vec![created(TaskKind::YongxuVideoInterview)])
                .when(request(
                    1,
                    AppointmentPurpose::Book,
                    "S1",
                    24,
                    staff("ACCOUNT_MANAGER", false),
                ))
                .then_expect_events(vec![requested(
                    1,
                    AppointmentPurpose::Book,
                    "S1",
                    24,
                    staff("ACCOUNT_MANAGER", false),
                )]);
            TaskTest::with(services())
                .given(booked()[..2].to_vec())
                .when(InterviewTaskCommand::ConfirmAppointment {
                    booking_id: Uuid::from_u128(1),
                })
                .then_expect_events(vec![booked()[2].clone()]);
        }

        /// 001_d165f826565a3102.txt 2.5.3: 可选时间限制范围为当前时间后 1 个月内.
        #[test]
        fn booking_beyond_one_month_or_in_the_past_is_refused() {
            for hours in [-1, 31 * 24] {
                TaskTest::with(services())
                    .given(vec![created(TaskKind::YongxuVideoInterview)])
                    .when(request(
                        1,
                        AppointmentPurpose::Book,
                        "S1",
                        hours,
                        staff("SEAT", false),
                    ))
                    .then_expect_error(InterviewTaskError::OutsideHorizon { days: 30 });
            }
        }

        #[test]
        fn one_request_at_a_time() {
            TaskTest::with(services())
                .given(booked()[..2].to_vec())
                .when(request(
                    2,
                    AppointmentPurpose::Book,
                    "S2",
                    25,
                    staff("SEAT", false),
                ))
                .then_expect_error(InterviewTaskError::BookingInProgress);
        }

        /// 001_d165f826565a3102.txt 2.6.1: 开放主借人在线改约功能，仅更新任务时间，不重新生成新的面谈任务.
        #[test]
        fn the_main_borrower_reschedules_and_the_task_is_kept() {
            TaskTest::with(services())
                .given(booked())
                .when(request(
                    2,
                    AppointmentPurpose::Reschedule,
                    "S1",
                    30,
                    customer(BORROWER_ID),
                ))
                .then_expect_events(vec![requested(
                    2,
                    AppointmentPurpose::Reschedule,
                    "S1",
                    30,
                    customer(BORROWER_ID),
                )]);
            let mut given = booked();
            given.push(requested(
                2,
                AppointmentPurpose::Reschedule,
                "S1",
                30,
                customer(BORROWER_ID),
            ));
            TaskTest::with(services())
                .given(given)
                .when(InterviewTaskCommand::ConfirmAppointment {
                    booking_id: Uuid::from_u128(2),
                })
                .then_expect_events(vec![confirmed(
                    2,
                    AppointmentPurpose::Reschedule,
                    "S1",
                    30,
                    Some((1, "S1")),
                    1,
                )]);
        }

        /// 001_d165f826565a3102.txt 2.6.1: only the main borrower (主借人) reschedules.
        #[test]
        fn someone_else_may_not_reschedule() {
            for who in [
                customer("410102198707222020"),
                staff("SEAT", false),
                staff("AUDITOR", true),
            ] {
                TaskTest::with(services())
                    .given(booked())
                    .when(request(2, AppointmentPurpose::Reschedule, "S1", 30, who))
                    .then_expect_error(InterviewTaskError::NotMainBorrower {
                        action: "reschedule",
                    });
            }
        }

        /// Staff may reschedule on the borrower's behalf; it is recorded as such.
        #[test]
        fn staff_on_behalf_of_the_borrower_is_recorded() {
            TaskTest::with(services())
                .given(booked())
                .when(request(
                    2,
                    AppointmentPurpose::Reschedule,
                    "S1",
                    30,
                    staff("ACCOUNT_MANAGER", true),
                ))
                .then_expect_events(vec![requested(
                    2,
                    AppointmentPurpose::Reschedule,
                    "S1",
                    30,
                    staff("ACCOUNT_MANAGER", true),
                )]);
        }

        /// 001_d165f826565a3102.txt 2.6.1: 改约次数不得超过 2 次.
        #[test]
        fn a_third_reschedule_is_refused() {
            let refused = TaskTest::with(services())
                .given(rescheduled(2))
                .when(request(
                    9,
                    AppointmentPurpose::Reschedule,
                    "S1",
                    40,
                    customer(BORROWER_ID),
                ))
                .inspect_result()
                .unwrap_err();
            assert_eq!(
                refused,
                InterviewTaskError::RescheduleLimitReached { max: 2 }
            );
            assert_eq!(
                crate::error::DomainError::code(&refused),
                crate::ErrorCode::InvalidTransition
            );
        }

        /// 001_d165f826565a3102.txt 2.6.1: 任务预约时间段内…不开放改约功能.
        #[test]
        fn no_reschedule_once_the_window_opened() {
            let mut given = vec![created(TaskKind::YongxuVideoInterview)];
            given.push(requested(
                1,
                AppointmentPurpose::Book,
                "S1",
                1,
                staff("SEAT", false),
            ));
            given.push(confirmed(1, AppointmentPurpose::Book, "S1", 1, None, 0));
            let later = DomainServices::fixed_at(at(1) + Duration::minutes(5));
            TaskTest::with(later)
                .given(given)
                .when(request(
                    2,
                    AppointmentPurpose::Reschedule,
                    "S1",
                    30,
                    customer(BORROWER_ID),
                ))
                .then_expect_error(InterviewTaskError::WindowOpened);
        }

        /// 001_d165f826565a3102.txt 2.6.1: 若任务过期（状态=待面谈），主借人可…提交任务改约申请.
        #[test]
        fn an_expired_task_may_be_rescheduled() {
            let mut given = booked();
            given.push(InterviewTaskEvent::AppointmentExpired {
                booking_id: Uuid::from_u128(1),
            });
            TaskTest::with(services())
                .given(given)
                .when(request(
                    2,
                    AppointmentPurpose::Reschedule,
                    "S1",
                    30,
                    customer(BORROWER_ID),
                ))
                .then_expect_events(vec![requested(
                    2,
                    AppointmentPurpose::Reschedule,
                    "S1",
                    30,
                    customer(BORROWER_ID),
                )]);
        }

        #[test]
        fn expiry_fires_only_for_the_current_appointment_after_its_window() {
            let after_window = DomainServices::fixed_at(at(25));
            TaskTest::with(after_window)
                .given(booked())
                .when(InterviewTaskCommand::ExpireAppointment {
                    booking_id: Uuid::from_u128(1),
                })
                .then_expect_events(vec![InterviewTaskEvent::AppointmentExpired {
                    booking_id: Uuid::from_u128(1),
                }]);
            TaskTest::with(services())
                .given(booked())
                .when(InterviewTaskCommand::ExpireAppointment {
                    booking_id: Uuid::from_u128(1),
                })
                .then_expect_events(vec![]);
            TaskTest::with(services())
                .given(rescheduled(1))
                .when(InterviewTaskCommand::ExpireAppointment {
                    booking_id: Uuid::from_u128(1),
                })
                .then_expect_events(vec![]);
        }

        /// 001_d165f826565a3102.txt 2.6.1: a disputed interview (存疑) may ask for a
        /// second interview (二次面谈申请), like a reschedule.
        #[test]
        fn a_disputed_interview_may_request_a_second_one() {
            let in_window = DomainServices::fixed_at(at(24) + Duration::minutes(1));
            let mut given = booked();
            given.push(InterviewTaskEvent::InterviewStarted {
                seat_no: "S1".into(),
                started_at: at(24),
            });
            given.push(InterviewTaskEvent::InterviewConcluded {
                outcome: InterviewOutcome::Doubtful,
                concluded_at: at(24),
                sampled_for_qc: false,
            });
            let mut requested_event = requested(
                5,
                AppointmentPurpose::SecondInterview,
                "S1",
                48,
                customer(BORROWER_ID),
            );
            if let InterviewTaskEvent::AppointmentRequested(r) = &mut requested_event {
                r.requested_at = at(24) + Duration::minutes(1);
            }
            TaskTest::with(in_window)
                .given(given)
                .when(request(
                    5,
                    AppointmentPurpose::SecondInterview,
                    "S1",
                    48,
                    customer(BORROWER_ID),
                ))
                .then_expect_events(vec![requested_event]);
            TaskTest::with(services())
                .given(booked())
                .when(request(
                    5,
                    AppointmentPurpose::SecondInterview,
                    "S1",
                    48,
                    customer(BORROWER_ID),
                ))
                .then_expect_error(InterviewTaskError::InvalidTransition {
                    action: "request a second interview for",
                    from: TaskStatus::Pending,
                });
        }

        /// 001_d165f826565a3102.txt 2.4.6 预约再分配: a supervisor moves a booking to
        /// another seat at the same time.
        #[test]
        fn only_a_supervisor_reassigns_and_the_time_is_kept() {
            TaskTest::with(services())
                .given(booked())
                .when(request(
                    2,
                    AppointmentPurpose::Reassign,
                    "S2",
                    99,
                    staff("SUPERVISOR", false),
                ))
                .then_expect_events(vec![requested(
                    2,
                    AppointmentPurpose::Reassign,
                    "S2",
                    24,
                    staff("SUPERVISOR", false),
                )]);
            TaskTest::with(services())
                .given(booked())
                .when(request(
                    2,
                    AppointmentPurpose::Reassign,
                    "S2",
                    24,
                    staff("SEAT", false),
                ))
                .then_expect_error(InterviewTaskError::NotSupervisor);
        }

        /// 004_448cd5ace309d8b2.txt 3.3: 处理中 may still be withdrawn; the held
        /// bookings are handed back.
        #[test]
        fn cancel_in_progress_releases_the_appointment() {
            let in_window = DomainServices::fixed_at(at(24) + Duration::minutes(1));
            let mut given = booked();
            given.push(InterviewTaskEvent::InterviewStarted {
                seat_no: "S1".into(),
                started_at: at(24),
            });
            TaskTest::with(in_window)
                .given(given)
                .when(cancel())
                .then_expect_events(vec![InterviewTaskEvent::InterviewTaskCancelled(
                    InterviewTaskCancelled {
                        reason: "客户主动放弃".into(),
                        cancelled_at: at(24) + Duration::minutes(1),
                        releases: vec![BookingRef {
                            booking_id: Uuid::from_u128(1),
                            seat_no: "S1".into(),
                            agendas: agendas(),
                        }],
                    },
                )]);
        }

        /// DESIGN.md: cancel only from PENDING or IN_PROGRESS.
        #[test]
        fn a_concluded_task_cannot_be_cancelled() {
            let mut given = booked();
            given.push(InterviewTaskEvent::InterviewStarted {
                seat_no: "S1".into(),
                started_at: at(24),
            });
            given.push(InterviewTaskEvent::InterviewConcluded {
                outcome: InterviewOutcome::Pass,
                concluded_at: at(24),
                sampled_for_qc: false,
            });
            TaskTest::with(services())
                .given(given)
                .when(cancel())
                .then_expect_error(InterviewTaskError::InvalidTransition {
                    action: "cancel",
                    from: TaskStatus::Passed,
                });
        }

        #[test]
        fn the_interview_starts_only_inside_its_window() {
            TaskTest::with(services())
                .given(booked())
                .when(InterviewTaskCommand::StartInterview {
                    seat_no: "S1".into(),
                })
                .then_expect_error(InterviewTaskError::OutsideWindow);
        }
    }

    mod session_rules {
        use super::*;
        use crate::interview_task::session::{
            CallEnd, InvestigationScope, SessionCommand, SessionEvent,
        };
        use crate::interview_task::{InterviewOutcome, QcVerdict};

        const BORROWER_ID: &str = "11010519491231002X";

        /// Created (kind `kind`), booked for a window that is open now, started by S1.
        fn in_session(kind: TaskKind) -> Vec<InterviewTaskEvent> {
            use crate::interview_task::{AppointmentConfirmed, AppointmentPurpose};
            vec![
                created(kind),
                InterviewTaskEvent::AppointmentConfirmed(AppointmentConfirmed {
                    booking_id: Uuid::from_u128(1),
                    purpose: AppointmentPurpose::Book,
                    seat_no: "S1".into(),
                    slot: Slot {
                        start: now() - chrono::Duration::minutes(5),
                        end: now() + chrono::Duration::minutes(25),
                    },
                    replaced: None,
                    reschedule_count: 0,
                }),
                InterviewTaskEvent::InterviewStarted {
                    seat_no: "S1".into(),
                    started_at: now(),
                },
            ]
        }

        fn identity(similarity: f64, liveness: bool) -> InterviewTaskCommand {
            InterviewTaskCommand::Session(SessionCommand::RecordIdentityCheck {
                id_number: BORROWER_ID.into(),
                liveness_passed: liveness,
                similarity,
            })
        }

        fn checked(similarity: f64, liveness: bool, passed: bool) -> InterviewTaskEvent {
            InterviewTaskEvent::Session(SessionEvent::IdentityChecked {
                id_number: BORROWER_ID.into(),
                liveness_passed: liveness,
                similarity,
                threshold: 0.8,
                passed,
            })
        }

        fn call_ended() -> InterviewTaskEvent {
            InterviewTaskEvent::Session(SessionEvent::CallEnded {
                call_no: 1,
                seat_no: "S1".into(),
                end: CallEnd::Normal,
                queued_at: now(),
                answered_at: now(),
                ended_at: now(),
                queue_seconds: 0,
                talk_seconds: 0,
            })
        }

        /// 000_ae051a0847019ebb.txt 客户核身: 对比分数大于系统设定分数则通过, and liveness must pass.
        #[test]
        fn identity_check_compares_with_the_configured_threshold() {
            TaskTest::with(services())
                .given(in_session(TaskKind::YongxuVideoInterview))
                .when(identity(0.85, true))
                .then_expect_events(vec![checked(0.85, true, true)]);
            TaskTest::with(services())
                .given(in_session(TaskKind::YongxuVideoInterview))
                .when(identity(0.79, true))
                .then_expect_events(vec![checked(0.79, true, false)]);
            TaskTest::with(services())
                .given(in_session(TaskKind::YongxuVideoInterview))
                .when(identity(0.95, false))
                .then_expect_events(vec![checked(0.95, false, false)]);
        }

        /// 000_ae051a0847019ebb.txt: 云贷非直批任务…不需要在展业APP再次进行客户核身.
        #[test]
        fn yundai_indirect_has_no_identity_check() {
            TaskTest::with(services())
                .given(in_session(TaskKind::YundaiIndirect))
                .when(identity(0.9, true))
                .then_expect_error(InterviewTaskError::StepNotRequired {
                    step: TaskStep::IdentityCheck,
                });
        }

        /// 000_ae051a0847019ebb.txt 现调上传: 现调监控范围为“家庭和单位” requires a video witness.
        #[test]
        fn home_and_workplace_scope_requires_a_video_witness() {
            let result = TaskTest::with(services())
                .given(in_session(TaskKind::Yunce))
                .when(InterviewTaskCommand::Session(
                    SessionCommand::RecordFieldInvestigation {
                        scope: InvestigationScope::HomeAndWorkplace,
                        latitude: 34.75,
                        longitude: 113.62,
                        address: "郑州市金水区".into(),
                        information: "住宅自有".into(),
                        photos: vec!["blob://p1".into()],
                    },
                ))
                .inspect_result()
                .unwrap();
            assert!(matches!(
                &result[0],
                InterviewTaskEvent::Session(SessionEvent::FieldInvestigationRecorded {
                    video_witness_required: true,
                    ..
                })
            ));
        }

        /// 001_d165f826565a3102.txt 2.3.1.2: 录制完成后…签署意见（完成、存疑）— after the call,
        /// and 通过 only with every required step done.
        #[test]
        fn conclusion_needs_the_call_ended_and_a_pass_needs_every_step() {
            TaskTest::with(services())
                .given(in_session(TaskKind::YongxuVideoInterview))
                .when(InterviewTaskCommand::ConcludeInterview {
                    outcome: InterviewOutcome::Doubtful,
                })
                .then_expect_error(InterviewTaskError::CallNotEnded);
            let mut given = in_session(TaskKind::YongxuVideoInterview);
            given.push(checked(0.79, true, false));
            given.push(call_ended());
            TaskTest::with(services())
                .given(given.clone())
                .when(InterviewTaskCommand::ConcludeInterview {
                    outcome: InterviewOutcome::Pass,
                })
                .then_expect_error(InterviewTaskError::StepsMissing {
                    missing: vec![TaskStep::IdentityCheck, TaskStep::VideoWitness],
                });
            TaskTest::with(services())
                .given(given)
                .when(InterviewTaskCommand::ConcludeInterview {
                    outcome: InterviewOutcome::Doubtful,
                })
                .then_expect_events(vec![InterviewTaskEvent::InterviewConcluded {
                    outcome: InterviewOutcome::Doubtful,
                    concluded_at: now(),
                    sampled_for_qc: false,
                }]);
        }

        /// 001_d165f826565a3102.txt 2.4.3: a reject of a sampled pass rolls the loan back.
        #[test]
        fn rejecting_a_sampled_pass_asks_for_a_loan_roll_back() {
            let mut given = in_session(TaskKind::YundaiDirect);
            given.push(call_ended());
            given.push(InterviewTaskEvent::InterviewConcluded {
                outcome: InterviewOutcome::Pass,
                concluded_at: now(),
                sampled_for_qc: true,
            });
            TaskTest::with(services())
                .given(given)
                .when(InterviewTaskCommand::ApplyQcDecision {
                    case_id: "qc-1".into(),
                    verdict: QcVerdict::Reject,
                    reasons: vec!["FORGED_DOCUMENTS".into()],
                    comment: "伪造".into(),
                })
                .then_expect_events(vec![InterviewTaskEvent::QcRejected {
                    case_id: "qc-1".into(),
                    reasons: vec!["FORGED_DOCUMENTS".into()],
                    comment: "伪造".into(),
                    rollback_loan: true,
                }]);
        }

        #[test]
        fn a_task_not_in_qc_refuses_a_decision() {
            TaskTest::with(services())
                .given(in_session(TaskKind::YundaiDirect))
                .when(InterviewTaskCommand::ApplyQcDecision {
                    case_id: "qc-1".into(),
                    verdict: QcVerdict::Pass,
                    reasons: vec![],
                    comment: String::new(),
                })
                .then_expect_error(InterviewTaskError::NotAwaitingQc);
        }
    }

    #[test]
    fn every_status_round_trips_its_name() {
        for status in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(status.as_str()), Some(status));
        }
    }
}
