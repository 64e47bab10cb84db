//! Scheduling (001 面谈预约): every appointment request of a task books the
//! seat, then every participant's agenda, then confirms on the task; any
//! refusal releases what was booked and refuses the request. A confirmed
//! appointment releases the one it replaced, sets the expiry and reminder
//! timers and texts the 001 notice. A cancelled or superseded task releases its
//! bookings. The seat's presence follows the interview (004 3.1).

use chrono::Duration;
use uuid::Uuid;

use super::{
    Body, Effect, Facts, Flow, FlowEvent, History, Need, Order, Refusal, Text, Timer, TimerKind,
};
use crate::customer_agenda::AgendaCommand;
use crate::interview_task::session::SessionEvent;
use crate::interview_task::{
    AppointmentRequested, BookingRef, InterviewTask, InterviewTaskCommand, InterviewTaskEvent,
    TaskStatus,
};
use crate::notification::{interview_notice, INTERVIEW_NOTICE};
use crate::seat::{Presence, SeatCommand};

/// Books seats and agendas for appointment requests.
#[derive(Debug, Clone, Copy)]
pub struct SchedulingFlow {
    /// How long before the window the reminder goes out.
    pub reminder_lead: Duration,
}

/// Releases the seat and every agenda of `booking` (each a no-op where nothing is held).
fn release(booking: &BookingRef) -> Vec<Effect> {
    let mut effects = vec![Effect::send(Order::Seat(
        booking.seat_no.clone(),
        SeatCommand::Release {
            booking_id: booking.booking_id,
        },
    ))];
    effects.extend(booking.agendas.iter().map(|agenda| {
        Effect::send(Order::Agenda(
            agenda.clone(),
            AgendaCommand::Release {
                booking_id: booking.booking_id,
            },
        ))
    }));
    effects
}

fn presence(seat_no: &str, presence: Presence) -> Effect {
    Effect::send(Order::Seat(
        seat_no.to_string(),
        SeatCommand::SetPresence {
            presence,
            by_system: true,
        },
    ))
}

/// The 001 notice to every participant of the task's appointment
/// `booking_id`; none when the task no longer holds it or is not pending.
/// `purpose` (notice, reminder) keeps each text once.
pub fn notice_texts(
    task_id: &str,
    task: &InterviewTask,
    booking_id: Uuid,
    purpose: &str,
) -> Vec<Effect> {
    let (Some(appointment), Some(created_at)) = (task.appointment(), task.created_at()) else {
        return Vec::new();
    };
    if appointment.booking_id != booking_id || task.status() != TaskStatus::Pending {
        return Vec::new();
    }
    task.participants()
        .iter()
        .map(|person| {
            Effect::Text(Text {
                dedup_key: format!("{purpose}:{booking_id}:{}", person.phone),
                subject_id: task_id.to_string(),
                phone: person.phone.clone(),
                template: INTERVIEW_NOTICE.to_string(),
                body: interview_notice(&person.name, created_at, &appointment.slot),
                sender: None,
            })
        })
        .collect()
}

impl Flow for SchedulingFlow {
    fn name(&self) -> &'static str {
        "scheduling_flow"
    }

    fn needs(&self, event: &FlowEvent) -> Vec<Need> {
        match &event.body {
            Body::Task(InterviewTaskEvent::AppointmentConfirmed(_)) => {
                vec![Need::Task(event.aggregate_id.clone())]
            }
            _ => Vec::new(),
        }
    }

    fn react(&self, event: &FlowEvent, facts: &Facts) -> Vec<Effect> {
        let task_id = &event.aggregate_id;
        let Body::Task(task_event) = &event.body else {
            return Vec::new();
        };
        match task_event {
            // Seat, then each agenda, then the task: the first refusal recovers.
            InterviewTaskEvent::AppointmentRequested(request) => {
                let mut steps = vec![Effect::step(Order::Seat(
                    request.seat_no.clone(),
                    SeatCommand::Book {
                        booking_id: request.booking_id,
                        task_id: task_id.clone(),
                        slot: request.slot,
                    },
                ))];
                steps.extend(request.agendas.iter().map(|agenda| {
                    Effect::step(Order::Agenda(
                        agenda.clone(),
                        AgendaCommand::Book {
                            booking_id: request.booking_id,
                            task_id: task_id.clone(),
                            slot: request.slot,
                        },
                    ))
                }));
                steps.push(Effect::step(Order::Task(
                    task_id.clone(),
                    InterviewTaskCommand::ConfirmAppointment {
                        booking_id: request.booking_id,
                    },
                )));
                steps
            }
            InterviewTaskEvent::AppointmentConfirmed(confirmed) => {
                let mut effects = confirmed.replaced.as_ref().map(release).unwrap_or_default();
                effects.push(Effect::Timer(Timer {
                    kind: TimerKind::Expiry,
                    subject_id: task_id.clone(),
                    key: confirmed.booking_id.to_string(),
                    due: confirmed.slot.end,
                }));
                let reminder_at = confirmed.slot.start - self.reminder_lead;
                if reminder_at > facts.now {
                    effects.push(Effect::Timer(Timer {
                        kind: TimerKind::Reminder,
                        subject_id: task_id.clone(),
                        key: confirmed.booking_id.to_string(),
                        due: reminder_at,
                    }));
                }
                if let Some(task) = facts.tasks.get(task_id) {
                    effects.extend(notice_texts(task_id, task, confirmed.booking_id, "notice"));
                }
                effects
            }
            InterviewTaskEvent::InterviewTaskCancelled(cancelled) => {
                cancelled.releases.iter().flat_map(release).collect()
            }
            InterviewTaskEvent::InterviewTaskSuperseded { releases, .. } => {
                releases.iter().flat_map(release).collect()
            }
            // 004 3.1: 忙碌 when the call is answered, 话后处理 when it ends or the
            // seat puts the task back. A seat not signed in keeps its presence
            // (the refusal is expected).
            InterviewTaskEvent::InterviewStarted { seat_no, .. } => {
                vec![presence(seat_no, Presence::Busy)]
            }
            InterviewTaskEvent::Session(SessionEvent::CallEnded { seat_no, .. })
            | InterviewTaskEvent::InterviewPutBack { seat_no, .. } => {
                vec![presence(seat_no, Presence::AfterCall)]
            }
            _ => Vec::new(),
        }
    }

    /// A refused booking step: release everything the request would have
    /// held (each release a no-op where nothing was booked) and refuse it on
    /// the task with the refusal's code and reason.
    fn recover(
        &self,
        event: &FlowEvent,
        _facts: &Facts,
        _failed: &Order,
        refusal: &Refusal,
        _history: &History,
    ) -> Vec<Effect> {
        let Body::Task(InterviewTaskEvent::AppointmentRequested(request)) = &event.body else {
            return Vec::new();
        };
        let AppointmentRequested {
            booking_id,
            seat_no,
            agendas,
            ..
        } = request;
        let mut effects = release(&BookingRef {
            booking_id: *booking_id,
            seat_no: seat_no.clone(),
            agendas: agendas.clone(),
        });
        effects.push(Effect::send(Order::Task(
            event.aggregate_id.clone(),
            InterviewTaskCommand::RefuseAppointment {
                booking_id: *booking_id,
                code: refusal.code,
                reason: refusal.message.clone(),
            },
        )));
        effects
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{event, facts, now};
    use super::*;
    use crate::error::ErrorCode;
    use crate::interview_task::{AppointmentPurpose, Requester};
    use crate::schedule::Slot;

    fn requested() -> FlowEvent {
        let slot = Slot::new(
            now() + Duration::hours(24),
            now() + Duration::hours(24) + Duration::minutes(30),
            &crate::schedule::SchedulingPolicy::default(),
        )
        .unwrap();
        event(
            "t1",
            Body::Task(InterviewTaskEvent::AppointmentRequested(
                AppointmentRequested {
                    booking_id: Uuid::from_u128(5),
                    purpose: AppointmentPurpose::Book,
                    seat_no: "S1".into(),
                    slot,
                    agendas: vec!["a1".into(), "a2".into()],
                    requested_by: Requester {
                        actor_id: "M1".into(),
                        role: "ACCOUNT_MANAGER".into(),
                        on_behalf_of_borrower: false,
                    },
                    requested_at: now(),
                },
            )),
        )
    }

    /// 001 面谈预约: the seat, then each agenda, then the task; each step recovers.
    #[test]
    fn a_request_books_the_seat_then_each_agenda_then_confirms() {
        let effects = SchedulingFlow {
            reminder_lead: Duration::minutes(60),
        }
        .react(&requested(), &facts());
        let orders: Vec<&Order> = effects
            .iter()
            .map(|e| match e {
                Effect::Send(order, super::super::OnRefusal::Recover) => order,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(matches!(orders[0], Order::Seat(s, SeatCommand::Book { .. }) if s == "S1"));
        assert!(matches!(orders[1], Order::Agenda(a, AgendaCommand::Book { .. }) if a == "a1"));
        assert!(matches!(orders[2], Order::Agenda(a, AgendaCommand::Book { .. }) if a == "a2"));
        assert!(
            matches!(orders[3], Order::Task(t, InterviewTaskCommand::ConfirmAppointment { .. }) if t == "t1")
        );
    }

    /// A refusal releases everything the request would have held and refuses
    /// it on the task with the refusal's code.
    #[test]
    fn a_refused_step_releases_and_refuses_the_request() {
        let flow = SchedulingFlow {
            reminder_lead: Duration::minutes(60),
        };
        let failed = Order::Agenda(
            "a2".into(),
            AgendaCommand::Book {
                booking_id: Uuid::from_u128(5),
                task_id: "t1".into(),
                slot: Slot::new(
                    now(),
                    now() + Duration::minutes(30),
                    &crate::schedule::SchedulingPolicy::default(),
                )
                .unwrap(),
            },
        );
        let refusal = Refusal {
            code: ErrorCode::Conflict,
            message: "双重预约".into(),
        };
        let effects = flow.recover(
            &requested(),
            &facts(),
            &failed,
            &refusal,
            &History::default(),
        );
        assert_eq!(effects.len(), 4, "seat, two agendas, the task");
        assert_eq!(
            effects[3],
            Effect::send(Order::Task(
                "t1".into(),
                InterviewTaskCommand::RefuseAppointment {
                    booking_id: Uuid::from_u128(5),
                    code: ErrorCode::Conflict,
                    reason: "双重预约".into(),
                }
            ))
        );
    }

    /// 004 3.1: the seat is 忙碌 during the interview, 话后处理 after it or a put-back.
    #[test]
    fn the_seat_presence_follows_the_interview() {
        let flow = SchedulingFlow {
            reminder_lead: Duration::minutes(60),
        };
        let started = event(
            "t1",
            Body::Task(InterviewTaskEvent::InterviewStarted {
                seat_no: "S1".into(),
                started_at: now(),
            }),
        );
        assert_eq!(
            flow.react(&started, &facts()),
            vec![Effect::send(Order::Seat(
                "S1".into(),
                SeatCommand::SetPresence {
                    presence: Presence::Busy,
                    by_system: true
                }
            ))]
        );
        let put_back = event(
            "t1",
            Body::Task(InterviewTaskEvent::InterviewPutBack {
                seat_no: "S1".into(),
                reason: "r".into(),
                put_back_at: now(),
            }),
        );
        assert_eq!(
            flow.react(&put_back, &facts()),
            vec![Effect::send(Order::Seat(
                "S1".into(),
                SeatCommand::SetPresence {
                    presence: Presence::AfterCall,
                    by_system: true
                }
            ))]
        );
    }
}
