use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{DomainError, ErrorCode};
use crate::interview_task::{IdType, Participant};
use crate::schedule::{Booking, Bookings, Slot};
use crate::services::DomainServices;

/// The agenda id of a person: a SHA-256 of their document, so the log and topic
/// keys never carry the ID number itself.
pub fn agenda_id(participant: &Participant) -> String {
    let kind = match participant.id_type {
        IdType::IdCard => "ID_CARD",
        IdType::Other => "OTHER",
    };
    person_key(kind, &participant.id_number)
}

/// A SHA-256 of a person's identifier of `kind` (ID_CARD, OTHER, PHONE): how the
/// engine recognises the same customer without storing the identifier.
pub fn person_key(kind: &str, value: &str) -> String {
    let digest = Sha256::digest(format!("{kind}:{value}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Commands a `CustomerAgenda` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AgendaCommand {
    /// Hold a slot for a task (idempotent by booking id).
    Book {
        /// Booking id.
        booking_id: Uuid,
        /// Task id.
        task_id: String,
        /// The slot.
        slot: Slot,
    },
    /// Release a booking (a no-op when it is not held).
    Release {
        /// Booking id.
        booking_id: Uuid,
    },
}

/// Facts recorded about a person's agenda.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AgendaEvent {
    /// The person is expected at this slot.
    AppointmentBooked(Booking),
    /// The slot was given up.
    AppointmentReleased(Booking),
}

impl DomainEvent for AgendaEvent {
    fn event_type(&self) -> String {
        match self {
            AgendaEvent::AppointmentBooked(_) => "AppointmentBooked",
            AgendaEvent::AppointmentReleased(_) => "AppointmentReleased",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why an agenda refused a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum AgendaError {
    /// The person is already booked on another task at an overlapping time.
    #[error("a participant already has an interview at that time (task {task_id})")]
    PersonBusy {
        /// The other task.
        task_id: String,
    },
}

impl DomainError for AgendaError {
    fn code(&self) -> ErrorCode {
        ErrorCode::Conflict
    }
}

/// The write-side state of one person's agenda.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerAgenda {
    bookings: Bookings,
}

impl CustomerAgenda {
    /// Bookings the person holds.
    pub fn bookings(&self) -> &[Booking] {
        self.bookings.all()
    }
}

impl Aggregate for CustomerAgenda {
    const TYPE: &'static str = super::AGGREGATE_TYPE;
    type Command = AgendaCommand;
    type Event = AgendaEvent;
    type Error = AgendaError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: AgendaCommand,
        _: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), AgendaError> {
        let event = match command {
            AgendaCommand::Book {
                booking_id,
                task_id,
                slot,
            } => {
                if self.bookings.get(booking_id).is_some() {
                    return Ok(());
                }
                if let Some(other) = self.bookings.conflict(&task_id, &slot) {
                    return Err(AgendaError::PersonBusy {
                        task_id: other.task_id.clone(),
                    });
                }
                AgendaEvent::AppointmentBooked(Booking {
                    booking_id,
                    task_id,
                    slot,
                })
            }
            AgendaCommand::Release { booking_id } => match self.bookings.get(booking_id) {
                Some(booking) => AgendaEvent::AppointmentReleased(booking.clone()),
                None => return Ok(()),
            },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: AgendaEvent) {
        match event {
            AgendaEvent::AppointmentBooked(booking) => self.bookings.insert(booking),
            AgendaEvent::AppointmentReleased(booking) => self.bookings.remove(booking.booking_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use cqrs_es::test::TestFramework;

    use super::*;
    use crate::schedule::SchedulingPolicy;

    fn services() -> DomainServices {
        DomainServices::fixed_at(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
    }

    fn slot(hour: u32) -> Slot {
        let start = Utc.with_ymd_and_hms(2026, 11, 24, hour, 0, 0).unwrap();
        Slot::new(
            start,
            start + chrono::Duration::minutes(30),
            &SchedulingPolicy::default(),
        )
        .unwrap()
    }

    fn booking(id: u128, task: &str, hour: u32) -> Booking {
        Booking {
            booking_id: Uuid::from_u128(id),
            task_id: task.into(),
            slot: slot(hour),
        }
    }

    /// 001_d165f826565a3102.txt 2.7.1: one person appears on several tasks
    /// (借款人、共有人、保证人…); their interviews must not collide.
    #[test]
    fn a_person_is_never_in_two_appointments_at_once() {
        TestFramework::<CustomerAgenda>::with(services())
            .given(vec![AgendaEvent::AppointmentBooked(booking(
                1, "task-a", 2,
            ))])
            .when(AgendaCommand::Book {
                booking_id: Uuid::from_u128(2),
                task_id: "task-b".into(),
                slot: slot(2),
            })
            .then_expect_error(AgendaError::PersonBusy {
                task_id: "task-a".into(),
            });
    }

    #[test]
    fn another_time_is_fine() {
        TestFramework::<CustomerAgenda>::with(services())
            .given(vec![AgendaEvent::AppointmentBooked(booking(
                1, "task-a", 2,
            ))])
            .when(AgendaCommand::Book {
                booking_id: Uuid::from_u128(2),
                task_id: "task-b".into(),
                slot: slot(3),
            })
            .then_expect_events(vec![AgendaEvent::AppointmentBooked(booking(
                2, "task-b", 3,
            ))]);
    }

    #[test]
    fn agenda_ids_do_not_reveal_the_id_number() {
        let person = Participant {
            name: "邓小闲".into(),
            id_type: IdType::IdCard,
            id_number: "410102198503121017".into(),
            phone: "15618293093".into(),
            roles: Default::default(),
        };
        let id = agenda_id(&person);
        assert_eq!(id.len(), 64);
        assert!(!id.contains("410102"));
        assert_eq!(id, agenda_id(&person.clone()));
    }
}
