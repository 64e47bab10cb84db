//! The scheduling process manager: for every appointment request of a task it
//! books the seat, then every participant's agenda, then confirms on the task;
//! on any refusal it releases what it booked and refuses the request. When an
//! appointment replaces another it releases the old bookings; when a task is
//! cancelled it releases its bookings. It also sets the appointment's timers and
//! sends the notice SMS of 001.

use std::sync::Arc;

use adapters::sms::{SmsMessage, SmsOutbox};
use adapters::{CommandBus, CommandContext, CommandError};
use chrono::{DateTime, Duration, Utc};
use domain::customer_agenda::{AgendaCommand, CustomerAgenda};
use domain::error::{DomainError, ErrorCode};
use domain::interview_task::session::SessionEvent;
use domain::interview_task::{
    AppointmentConfirmed, AppointmentRequested, BookingRef, InterviewTask, InterviewTaskCommand,
    InterviewTaskEvent, AGGREGATE_TYPE,
};
use domain::log::StoredEvent;
use domain::notification::{interview_notice, INTERVIEW_NOTICE};
use domain::seat::{Presence, Seat, SeatCommand};
use sqlx::AnyPool;
use tracing::{info, instrument};
use uuid::Uuid;

use super::timers::{schedule_timer, TimerKind};
use super::{caused_by, ProcessManager};

/// Books seats and agendas for appointment requests.
pub struct SchedulingProcess {
    bus: Arc<CommandBus>,
    pool: AnyPool,
    sms: SmsOutbox,
    reminder_lead: Duration,
}

/// A step's outcome: done, or refused by an aggregate's rule.
type Step = Result<(), (ErrorCode, String)>;

fn refused<E: DomainError>(
    result: Result<adapters::CommandReceipt, CommandError<E>>,
) -> anyhow::Result<Step> {
    match result {
        Ok(_) => Ok(Ok(())),
        Err(CommandError::Domain(e)) => Ok(Err((e.code(), e.to_string()))),
        Err(other) => Err(anyhow::anyhow!("{other}")),
    }
}

impl SchedulingProcess {
    /// A process manager sending commands through `bus`.
    pub fn new(
        bus: Arc<CommandBus>,
        pool: AnyPool,
        sms: SmsOutbox,
        reminder_lead: Duration,
    ) -> Self {
        Self {
            bus,
            pool,
            sms,
            reminder_lead,
        }
    }

    async fn book_all(
        &self,
        task_id: &str,
        request: &AppointmentRequested,
        context: &CommandContext,
    ) -> anyhow::Result<Step> {
        let seat = self
            .bus
            .execute::<Seat>(
                &request.seat_no,
                SeatCommand::Book {
                    booking_id: request.booking_id,
                    task_id: task_id.to_string(),
                    slot: request.slot,
                },
                context,
            )
            .await;
        if let Err(refusal) = refused(seat)? {
            return Ok(Err(refusal));
        }
        for agenda in &request.agendas {
            let booked = self
                .bus
                .execute::<CustomerAgenda>(
                    agenda,
                    AgendaCommand::Book {
                        booking_id: request.booking_id,
                        task_id: task_id.to_string(),
                        slot: request.slot,
                    },
                    context,
                )
                .await;
            if let Err(refusal) = refused(booked)? {
                return Ok(Err(refusal));
            }
        }
        Ok(Ok(()))
    }

    #[instrument(skip_all, fields(task_id, booking_id = %request.booking_id))]
    async fn on_requested(
        &self,
        task_id: &str,
        request: &AppointmentRequested,
        context: &CommandContext,
    ) -> anyhow::Result<()> {
        let outcome = match self.book_all(task_id, request, context).await? {
            Ok(()) => {
                let confirmed = self
                    .bus
                    .execute::<InterviewTask>(
                        task_id,
                        InterviewTaskCommand::ConfirmAppointment {
                            booking_id: request.booking_id,
                        },
                        context,
                    )
                    .await;
                // A task that moved on meanwhile (e.g. cancelled) keeps nothing.
                refused(confirmed)?
            }
            refusal => refusal,
        };
        let Err((code, reason)) = outcome else {
            return Ok(());
        };
        info!(%code, reason, "appointment request refused; releasing what was booked");
        self.release(
            &BookingRef {
                booking_id: request.booking_id,
                seat_no: request.seat_no.clone(),
                agendas: request.agendas.clone(),
            },
            context,
        )
        .await?;
        let refusal = self
            .bus
            .execute::<InterviewTask>(
                task_id,
                InterviewTaskCommand::RefuseAppointment {
                    booking_id: request.booking_id,
                    code,
                    reason,
                },
                context,
            )
            .await;
        refused(refusal)?.ok();
        Ok(())
    }

    async fn set_presence(
        &self,
        seat_no: &str,
        presence: Presence,
        context: &CommandContext,
    ) -> anyhow::Result<()> {
        let result = self
            .bus
            .execute::<Seat>(
                seat_no,
                SeatCommand::SetPresence {
                    presence,
                    by_system: true,
                },
                context,
            )
            .await;
        refused(result)?.ok();
        Ok(())
    }

    async fn release(&self, booking: &BookingRef, context: &CommandContext) -> anyhow::Result<()> {
        let seat = self
            .bus
            .execute::<Seat>(
                &booking.seat_no,
                SeatCommand::Release {
                    booking_id: booking.booking_id,
                },
                context,
            )
            .await;
        // An unknown seat holds nothing to release.
        refused(seat)?.ok();
        for agenda in &booking.agendas {
            let released = self
                .bus
                .execute::<CustomerAgenda>(
                    agenda,
                    AgendaCommand::Release {
                        booking_id: booking.booking_id,
                    },
                    context,
                )
                .await;
            refused(released)?.ok();
        }
        Ok(())
    }

    async fn on_confirmed(
        &self,
        task_id: &str,
        confirmed: &AppointmentConfirmed,
        context: &CommandContext,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        if let Some(old) = &confirmed.replaced {
            self.release(old, context).await?;
        }
        schedule_timer(
            &self.pool,
            TimerKind::Expiry,
            task_id,
            confirmed.booking_id,
            confirmed.slot.end,
            now,
        )
        .await?;
        let reminder_at = confirmed.slot.start - self.reminder_lead;
        if reminder_at > now {
            schedule_timer(
                &self.pool,
                TimerKind::Reminder,
                task_id,
                confirmed.booking_id,
                reminder_at,
                now,
            )
            .await?;
        }
        send_notice(
            &self.bus,
            &self.sms,
            task_id,
            confirmed.booking_id,
            "notice",
        )
        .await
    }
}

/// Texts the 001 notice to every participant of the task's current appointment
/// `booking_id`; nothing when the task no longer holds it.
pub async fn send_notice(
    bus: &CommandBus,
    sms: &SmsOutbox,
    task_id: &str,
    booking_id: Uuid,
    purpose: &str,
) -> anyhow::Result<()> {
    let (task, _) = bus.load::<InterviewTask>(task_id).await?;
    let (Some(appointment), Some(created_at)) = (task.appointment(), task.created_at()) else {
        return Ok(());
    };
    if appointment.booking_id != booking_id
        || task.status() != domain::interview_task::TaskStatus::Pending
    {
        return Ok(());
    }
    for person in task.participants() {
        sms.send(&SmsMessage {
            dedup_key: format!("{purpose}:{booking_id}:{}", person.phone),
            task_id: task_id.to_string(),
            phone: person.phone.clone(),
            template: INTERVIEW_NOTICE.to_string(),
            body: interview_notice(&person.name, created_at, &appointment.slot),
        })
        .await?;
    }
    Ok(())
}

impl ProcessManager for SchedulingProcess {
    fn name(&self) -> &'static str {
        "scheduling_process"
    }

    async fn handle(&self, event: &StoredEvent) -> anyhow::Result<()> {
        if event.aggregate_type != AGGREGATE_TYPE {
            return Ok(());
        }
        let decoded: InterviewTaskEvent = serde_json::from_value(event.payload.clone())?;
        let context = caused_by(event, "scheduler");
        let task_id = &event.aggregate_id;
        match decoded {
            InterviewTaskEvent::AppointmentRequested(request) => {
                self.on_requested(task_id, &request, &context).await
            }
            InterviewTaskEvent::AppointmentConfirmed(confirmed) => {
                let now = self.bus.services().clock.now();
                self.on_confirmed(task_id, &confirmed, &context, now).await
            }
            InterviewTaskEvent::InterviewTaskCancelled(cancelled) => {
                for booking in &cancelled.releases {
                    self.release(booking, &context).await?;
                }
                Ok(())
            }
            // 004 3.1: 忙碌 when the call is answered, 话后处理 when it ends or the
            // seat puts the task back. A seat not signed in keeps its presence
            // (the refusal is expected).
            InterviewTaskEvent::InterviewStarted { seat_no, .. } => {
                self.set_presence(&seat_no, Presence::Busy, &context).await
            }
            InterviewTaskEvent::Session(SessionEvent::CallEnded { seat_no, .. })
            | InterviewTaskEvent::InterviewPutBack { seat_no, .. } => {
                self.set_presence(&seat_no, Presence::AfterCall, &context)
                    .await
            }
            InterviewTaskEvent::InterviewTaskSuperseded { releases, .. } => {
                for booking in &releases {
                    self.release(booking, &context).await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
