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
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
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
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
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

/// The three task statuses the credit system knows (001 四、信贷系统 3: 新增"待面谈、
/// 已面谈（待提交面签）、已面谈（面谈拒绝）"3 个状态), beside the engine's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum CreditTaskStatus {
    /// 待面谈: 视频面谈未完成 — also while in session, 存疑 (「"存疑类"任务状态保持为
    /// "待面谈"」) and expired (若任务过期（状态=待面谈）).
    PendingInterview,
    /// 已面谈（待提交面签）.
    AwaitingSigning,
    /// 已面谈（面谈拒绝）.
    InterviewRejected,
}

impl CreditTaskStatus {
    /// What the credit system is told for a task in `status`; none for a task
    /// withdrawn (cancelled or superseded by a reverse flow's new task).
    pub fn of(status: TaskStatus) -> Option<Self> {
        match status {
            TaskStatus::Pending
            | TaskStatus::InProgress
            | TaskStatus::PendingQc
            | TaskStatus::Expired => Some(CreditTaskStatus::PendingInterview),
            TaskStatus::Passed => Some(CreditTaskStatus::AwaitingSigning),
            TaskStatus::Rejected => Some(CreditTaskStatus::InterviewRejected),
            TaskStatus::Cancelled | TaskStatus::Superseded => None,
        }
    }

    /// The wire name, e.g. `PENDING_INTERVIEW`.
    pub fn as_str(self) -> &'static str {
        match self {
            CreditTaskStatus::PendingInterview => "PENDING_INTERVIEW",
            CreditTaskStatus::AwaitingSigning => "AWAITING_SIGNING",
            CreditTaskStatus::InterviewRejected => "INTERVIEW_REJECTED",
        }
    }

    /// The name of 001.
    pub fn label_zh(self) -> &'static str {
        match self {
            CreditTaskStatus::PendingInterview => "待面谈",
            CreditTaskStatus::AwaitingSigning => "已面谈（待提交面签）",
            CreditTaskStatus::InterviewRejected => "已面谈（面谈拒绝）",
        }
    }
}

impl InterviewTaskEvent {
    /// The task's status after this event, when the event sets it.
    pub fn status_after(&self) -> Option<TaskStatus> {
        Some(match self {
            InterviewTaskEvent::InterviewTaskCreated(_)
            | InterviewTaskEvent::AppointmentConfirmed(_)
            | InterviewTaskEvent::InterviewPutBack { .. } => TaskStatus::Pending,
            InterviewTaskEvent::InterviewTaskCancelled(_) => TaskStatus::Cancelled,
            InterviewTaskEvent::AppointmentExpired { .. } => TaskStatus::Expired,
            InterviewTaskEvent::InterviewStarted { .. } => TaskStatus::InProgress,
            InterviewTaskEvent::InterviewConcluded { outcome, .. } => match outcome {
                InterviewOutcome::Pass => TaskStatus::Passed,
                InterviewOutcome::Doubtful => TaskStatus::PendingQc,
            },
            InterviewTaskEvent::InterviewTaskSuperseded { .. } => TaskStatus::Superseded,
            InterviewTaskEvent::QcPassed { .. } => TaskStatus::Passed,
            InterviewTaskEvent::QcRejected { .. } => TaskStatus::Rejected,
            InterviewTaskEvent::AppointmentRequested(_)
            | InterviewTaskEvent::AppointmentRefused(_)
            | InterviewTaskEvent::Session(_) => return None,
        })
    }
}

/// The appointment a task holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Appointment {
    /// Booking id of the seat and agenda bookings.
    pub booking_id: Uuid,
    /// Seat booked.
    pub seat_no: String,
    /// The slot.
    pub slot: Slot,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
struct PendingRequest {
    purpose: AppointmentPurpose,
    appointment: Appointment,
}

/// The write-side state of one interview task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
                rejoin_window: services.operations.rejoin_window,
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
                let property_location = create
                    .property_location
                    .as_ref()
                    .map(|location| location.admitted(&services.routing).map(Box::new))
                    .transpose()?;
                let loan_info = match create.loan_info {
                    Some(info) if !info.is_empty() => {
                        info.check()?;
                        Some(info)
                    }
                    _ => None,
                };
                InterviewTaskEvent::InterviewTaskCreated(InterviewTaskCreated {
                    loan_info,
                    property_location,
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
                if self.status == TaskStatus::InProgress && self.session.already_so(&command) {
                    return Ok(()); // a retried join or leave
                }
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
        if let Some(status) = event.status_after() {
            self.status = status;
        }
        match event {
            InterviewTaskEvent::InterviewTaskCreated(created) => {
                if let Some(info) = created.loan_info {
                    self.session.loan_info = *info;
                }
                self.created = true;
                self.id = created.task_id;
                self.loan_id = created.lineage.map(|l| l.loan_id);
                self.contract_no = created.contract_no;
                self.manager_id = created.manager_id;
                self.kind = created.kind;
                self.participants = created.participants;
                self.required_steps = created.required_steps;
                self.created_at = Some(created.created_at);
            }
            InterviewTaskEvent::InterviewTaskCancelled(_) => self.pending = None,
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
            }
            InterviewTaskEvent::AppointmentRefused(_) => self.pending = None,
            InterviewTaskEvent::AppointmentExpired { .. } => {}
            InterviewTaskEvent::InterviewStarted { seat_no, .. } => self.seat_no = Some(seat_no),
            InterviewTaskEvent::InterviewPutBack { .. } => {
                self.seat_no = None;
                // The seat left the room: whoever was in it is out, and the
                // next seat's call starts an empty room.
                self.session.present.clear();
                self.session.closed_legs.clear();
            }
            InterviewTaskEvent::InterviewConcluded {
                outcome,
                sampled_for_qc,
                ..
            } => {
                self.qc_pending = outcome == InterviewOutcome::Doubtful || sampled_for_qc;
                self.sampled_pass = sampled_for_qc;
            }
            InterviewTaskEvent::Session(event) => session::apply(&mut self.session, &event),
            InterviewTaskEvent::InterviewTaskSuperseded { .. } => {
                self.pending = None;
                self.qc_pending = false;
            }
            InterviewTaskEvent::QcPassed { .. } | InterviewTaskEvent::QcRejected { .. } => {
                self.qc_pending = false;
            }
        }
    }
}

#[cfg(test)]
mod tests;
