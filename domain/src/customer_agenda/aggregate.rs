use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::commands::AgendaCommand;
use super::error::AgendaError;
use super::events::AgendaEvent;
use crate::interview_task::{IdType, Participant};
use crate::schedule::{Booking, Bookings};
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

/// The write-side state of one person's agenda.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
mod tests;
