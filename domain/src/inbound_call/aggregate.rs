use crate::message::message;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{InboundCallCommand, InboundCallError, InboundCallEvent, QueuedCall};
use chrono::{DateTime, Datelike, Utc};

use crate::channel::Admission;
use crate::schedule::Slot;
use crate::services::{DomainServices, OperationsPolicy};

/// Where a call stands.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CallStatus {
    /// Not requested yet.
    #[default]
    New,
    /// The channel refused it.
    Refused,
    /// Waiting for a seat (排队中).
    Queued,
    /// Given to a seat, ringing there (待接听).
    Dispatched,
    /// Answered by the seat.
    Answered,
    /// The customer left the queue.
    Cancelled,
    /// Answered, then hung up.
    Ended,
}

/// The write-side state of one inbound call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InboundCall {
    status: CallStatus,
    call: QueuedCall,
    seat_no: Option<String>,
    #[serde(default)]
    offers: u32,
    #[serde(default)]
    unanswered: u32,
}

impl InboundCall {
    /// Where the call stands.
    pub fn status(&self) -> CallStatus {
        self.status
    }

    /// Who calls, for what.
    pub fn call(&self) -> &QueuedCall {
        &self.call
    }

    /// The seat it is given to or was answered by.
    pub fn seat_no(&self) -> Option<&str> {
        self.seat_no.as_deref()
    }

    /// Offers of this call so far (dispatches and transfers).
    pub fn offers(&self) -> u32 {
        self.offers
    }

    /// Offers no seat answered in time.
    pub fn unanswered(&self) -> u32 {
        self.unanswered
    }
}

/// The text a customer calling outside `window` sees, or None inside it: 001
/// 2.6.1 任务预约时间段内…开放给主借人呼入; 若未到时间…不可呼入视频坐席. The
/// window is widened by the operator's margins; times are Beijing time.
pub fn call_in_refusal(
    now: DateTime<Utc>,
    window: &Slot,
    policy: &OperationsPolicy,
) -> Option<String> {
    let local = |at: DateTime<Utc>| at.with_timezone(&crate::schedule::shanghai());
    let (start, end) = (local(window.start), local(window.end));
    let booked = format!(
        "{}月{}日 {}–{}",
        start.month(),
        start.day(),
        start.format("%H:%M"),
        end.format("%H:%M")
    );
    let opens = window.start - policy.call_in_early;
    if now < opens {
        return Some(format!(
            "未到面谈预约时间（{booked}），请于北京时间 {} 后呼入视频面谈。",
            local(opens).format("%H:%M")
        ));
    }
    if now >= window.end + policy.call_in_late {
        return Some(format!(
            "面谈预约时间（{booked}）已过，请在 APP 内提交改约申请。"
        ));
    }
    None
}

fn seat(value: &str) -> Result<String, InboundCallError> {
    let value = value.trim();
    if value.is_empty() || value.len() > 64 {
        return Err(InboundCallError::Invalid(message!(
            "seat number must be 1 to 64 characters"
        )));
    }
    Ok(value.to_string())
}

impl Aggregate for InboundCall {
    const TYPE: &'static str = super::AGGREGATE_TYPE;
    type Command = InboundCallCommand;
    type Event = InboundCallEvent;
    type Error = InboundCallError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: InboundCallCommand,
        services: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), InboundCallError> {
        let status = self.status;
        if status == CallStatus::New && !matches!(command, InboundCallCommand::Request { .. }) {
            return Err(InboundCallError::NotFound);
        }
        let finished = matches!(
            status,
            CallStatus::Refused | CallStatus::Answered | CallStatus::Cancelled | CallStatus::Ended
        );
        let event = match command {
            InboundCallCommand::Request { call, admission } => {
                if status != CallStatus::New {
                    return Err(InboundCallError::AlreadyRequested);
                }
                if call.task_id.trim().is_empty() || call.channel_code.trim().is_empty() {
                    return Err(InboundCallError::Invalid(message!(
                        "a call needs a task and a channel"
                    )));
                }
                let outside_window = call.appointment.as_ref().and_then(|window| {
                    call_in_refusal(services.clock.now(), window, &services.operations)
                });
                match (admission, outside_window) {
                    (Admission::Refused(message), _) | (Admission::Admitted, Some(message)) => {
                        InboundCallEvent::CallRefused { call, message }
                    }
                    (Admission::Admitted, None) => InboundCallEvent::CallQueued(call),
                }
            }
            InboundCallCommand::Dispatch { seat_no, reason } => {
                let seat_no = seat(&seat_no)?;
                if status == CallStatus::Dispatched && self.seat_no.as_ref() == Some(&seat_no) {
                    return Ok(()); // redelivered
                }
                if status != CallStatus::Queued {
                    return Err(InboundCallError::NotQueued);
                }
                InboundCallEvent::CallDispatched {
                    seat_no,
                    reason,
                    offer: self.offers + 1,
                }
            }
            InboundCallCommand::Transfer { to_seat } => {
                let to_seat = seat(&to_seat)?;
                if finished {
                    return Err(InboundCallError::Finished);
                }
                let Some(from_seat) = self
                    .seat_no
                    .clone()
                    .filter(|_| status == CallStatus::Dispatched)
                else {
                    return Err(InboundCallError::NotDispatched);
                };
                if from_seat == to_seat {
                    return Err(InboundCallError::SameSeat);
                }
                InboundCallEvent::CallTransferred {
                    from_seat,
                    to_seat,
                    offer: self.offers + 1,
                }
            }
            InboundCallCommand::ExpireOffer { offer } => {
                // Answered, moved on or cancelled meanwhile: the timeout is stale.
                let Some(seat_no) = self
                    .seat_no
                    .clone()
                    .filter(|_| status == CallStatus::Dispatched && self.offers == offer)
                else {
                    return Ok(());
                };
                InboundCallEvent::CallOfferUnanswered {
                    seat_no,
                    unanswered: self.unanswered + 1,
                }
            }
            InboundCallCommand::Answer { seat_no } => {
                let seat_no = seat(&seat_no)?;
                if status == CallStatus::Answered && self.seat_no.as_ref() == Some(&seat_no) {
                    return Ok(());
                }
                if finished {
                    return Err(InboundCallError::Finished);
                }
                match &self.seat_no {
                    Some(given) if status == CallStatus::Dispatched && *given == seat_no => {}
                    Some(given) if status == CallStatus::Dispatched => {
                        return Err(InboundCallError::OtherSeat {
                            seat_no: given.clone(),
                        })
                    }
                    _ => return Err(InboundCallError::NotDispatched),
                }
                InboundCallEvent::CallAnswered { seat_no }
            }
            InboundCallCommand::End => match (status, &self.seat_no) {
                (CallStatus::Ended, _) => return Ok(()),
                (CallStatus::Answered, Some(seat_no)) => InboundCallEvent::CallEnded {
                    seat_no: seat_no.clone(),
                },
                _ => return Err(InboundCallError::NotAnswered),
            },
            InboundCallCommand::Cancel => {
                if status == CallStatus::Cancelled {
                    return Ok(());
                }
                if finished {
                    return Err(InboundCallError::Finished);
                }
                InboundCallEvent::CallCancelled {
                    seat_no: self.seat_no.clone(),
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: InboundCallEvent) {
        match event {
            InboundCallEvent::CallRefused { call, .. } => {
                self.call = call;
                self.status = CallStatus::Refused;
            }
            InboundCallEvent::CallQueued(call) => {
                self.call = call;
                self.status = CallStatus::Queued;
            }
            InboundCallEvent::CallDispatched { seat_no, offer, .. } => {
                self.seat_no = Some(seat_no);
                self.status = CallStatus::Dispatched;
                self.offers = offer.max(self.offers + 1);
            }
            InboundCallEvent::CallTransferred { to_seat, offer, .. } => {
                self.seat_no = Some(to_seat);
                self.offers = offer.max(self.offers + 1);
            }
            InboundCallEvent::CallOfferUnanswered { unanswered, .. } => {
                self.seat_no = None;
                self.status = CallStatus::Queued;
                self.unanswered = unanswered;
            }
            InboundCallEvent::CallAnswered { seat_no } => {
                self.seat_no = Some(seat_no);
                self.status = CallStatus::Answered;
            }
            InboundCallEvent::CallCancelled { .. } => self.status = CallStatus::Cancelled,
            InboundCallEvent::CallEnded { .. } => self.status = CallStatus::Ended,
        }
    }
}

#[cfg(test)]
mod tests;
