use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{SeatCommand, SeatError, SeatEvent};
use crate::schedule::{Booking, Bookings, WeeklyHours};
use crate::services::DomainServices;

/// Working state of a seat (004 3.1 系统工作状态).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Presence {
    /// 空闲: takes calls.
    Idle,
    /// 暂放: set by hand; takes no calls.
    #[default]
    Paused,
    /// 忙碌: in a call; set by the system.
    Busy,
    /// 话后处理: after a call; takes no calls until changed.
    AfterCall,
}

/// The write-side state of one seat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Seat {
    registered: bool,
    enabled: bool,
    hours: WeeklyHours,
    bookings: Bookings,
    signed_in: bool,
    presence: Presence,
    offered_call: Option<uuid::Uuid>,
}

impl Seat {
    /// Whether the seat takes bookings.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Whether the seat can be dispatched a call: enabled, signed in and 空闲.
    pub fn is_available(&self) -> bool {
        self.enabled
            && self.signed_in
            && self.presence == Presence::Idle
            && self.offered_call.is_none()
    }

    /// The call offered to the seat and not yet answered.
    pub fn offered_call(&self) -> Option<uuid::Uuid> {
        self.offered_call
    }

    /// Bookings currently held.
    pub fn bookings(&self) -> &[Booking] {
        self.bookings.all()
    }

    /// Weekly working hours.
    pub fn hours(&self) -> &WeeklyHours {
        &self.hours
    }

    fn require_registered(&self) -> Result<(), SeatError> {
        if self.registered {
            Ok(())
        } else {
            Err(SeatError::NotFound)
        }
    }
}

fn tags(values: Vec<String>, field: &'static str) -> Result<Vec<String>, SeatError> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        let value = value.trim().to_string();
        if value.is_empty() || value.chars().count() > 64 {
            return Err(SeatError::InvalidField {
                field,
                reason: "entries must be 1 to 64 characters",
            });
        }
        if !out.contains(&value) {
            out.push(value);
        }
    }
    Ok(out)
}

impl Aggregate for Seat {
    const TYPE: &'static str = super::AGGREGATE_TYPE;
    type Command = SeatCommand;
    type Event = SeatEvent;
    type Error = SeatError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: SeatCommand,
        services: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), SeatError> {
        let event = match command {
            SeatCommand::Register {
                name,
                groups,
                skills,
            } => {
                if self.registered {
                    return Err(SeatError::AlreadyRegistered);
                }
                let name = name.trim().to_string();
                if name.is_empty() || name.chars().count() > 64 {
                    return Err(SeatError::InvalidField {
                        field: "name",
                        reason: "must be 1 to 64 characters",
                    });
                }
                SeatEvent::SeatRegistered {
                    name,
                    groups: tags(groups, "groups")?,
                    skills: tags(skills, "skills")?,
                }
            }
            SeatCommand::SetWorkingHours { hours } => {
                self.require_registered()?;
                hours.validate()?;
                SeatEvent::WorkingHoursSet { hours }
            }
            SeatCommand::Enable => {
                self.require_registered()?;
                if self.enabled {
                    return Ok(());
                }
                SeatEvent::SeatEnabled
            }
            SeatCommand::Disable => {
                self.require_registered()?;
                if !self.enabled {
                    return Ok(());
                }
                let now = services.clock.now();
                let open: Vec<_> = self
                    .bookings
                    .open_at(now)
                    .map(|b| (b.task_id.clone(), b.slot.start))
                    .collect();
                if !open.is_empty() {
                    return Err(SeatError::FutureBookingsExist { bookings: open });
                }
                SeatEvent::SeatDisabled
            }
            SeatCommand::SignIn => {
                self.require_registered()?;
                if !self.enabled {
                    return Err(SeatError::Disabled);
                }
                if self.signed_in {
                    return Ok(());
                }
                SeatEvent::SeatSignedIn
            }
            SeatCommand::SignOut => {
                self.require_registered()?;
                if !self.signed_in {
                    return Ok(());
                }
                if self.presence == Presence::Busy {
                    return Err(SeatError::InCall);
                }
                if self.offered_call.is_some() {
                    return Err(SeatError::CallPending);
                }
                SeatEvent::SeatSignedOut
            }
            SeatCommand::SetPresence {
                presence,
                by_system,
            } => {
                self.require_registered()?;
                if !self.signed_in {
                    return Err(SeatError::NotSignedIn);
                }
                if !by_system {
                    if presence == Presence::Busy {
                        return Err(SeatError::BusyIsAutomatic);
                    }
                    if self.presence == Presence::Busy {
                        return Err(SeatError::InCall);
                    }
                }
                if self.presence == presence {
                    return Ok(());
                }
                SeatEvent::PresenceChanged { presence }
            }
            SeatCommand::Book {
                booking_id,
                task_id,
                slot,
            } => {
                self.require_registered()?;
                if self.bookings.get(booking_id).is_some() {
                    return Ok(()); // redelivered request: already booked
                }
                if !self.enabled {
                    return Err(SeatError::Disabled);
                }
                if !self.hours.contains(&slot) {
                    return Err(SeatError::OutsideWorkingHours);
                }
                if let Some(taken) = self.bookings.conflict(&task_id, &slot) {
                    return Err(SeatError::SlotTaken {
                        task_id: taken.task_id.clone(),
                    });
                }
                SeatEvent::SlotBooked {
                    booking_id,
                    task_id,
                    slot,
                }
            }
            SeatCommand::OfferCall { call_id } => {
                self.require_registered()?;
                if self.offered_call == Some(call_id) {
                    return Ok(()); // redelivered
                }
                if !self.is_available() {
                    return Err(SeatError::NotAvailable);
                }
                SeatEvent::CallOffered { call_id }
            }
            SeatCommand::TakeCall { call_id } => {
                self.require_registered()?;
                if self.offered_call != Some(call_id) {
                    return Err(SeatError::CallNotOffered);
                }
                SeatEvent::CallTaken { call_id }
            }
            SeatCommand::WithdrawOffer { call_id } => {
                self.require_registered()?;
                if self.offered_call != Some(call_id) {
                    return Ok(());
                }
                SeatEvent::CallOfferWithdrawn { call_id }
            }
            SeatCommand::Release { booking_id } => {
                self.require_registered()?;
                let Some(booking) = self.bookings.get(booking_id) else {
                    return Ok(());
                };
                SeatEvent::SlotReleased {
                    booking_id,
                    task_id: booking.task_id.clone(),
                    slot: booking.slot,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: SeatEvent) {
        match event {
            SeatEvent::SeatRegistered { .. } => {
                self.registered = true;
                self.enabled = true;
            }
            SeatEvent::WorkingHoursSet { hours } => self.hours = hours,
            SeatEvent::SeatEnabled => self.enabled = true,
            SeatEvent::SeatDisabled => self.enabled = false,
            SeatEvent::SeatSignedIn => {
                self.signed_in = true;
                self.presence = Presence::Idle;
            }
            SeatEvent::SeatSignedOut => {
                self.signed_in = false;
                self.presence = Presence::Paused;
            }
            SeatEvent::PresenceChanged { presence } => self.presence = presence,
            SeatEvent::CallOffered { call_id } => self.offered_call = Some(call_id),
            SeatEvent::CallTaken { .. } => {
                self.offered_call = None;
                self.presence = Presence::Busy;
            }
            SeatEvent::CallOfferWithdrawn { .. } => self.offered_call = None,
            SeatEvent::SlotBooked {
                booking_id,
                task_id,
                slot,
            } => self.bookings.insert(Booking {
                booking_id,
                task_id,
                slot,
            }),
            SeatEvent::SlotReleased { booking_id, .. } => self.bookings.remove(booking_id),
        }
    }
}

#[cfg(test)]
mod tests;
