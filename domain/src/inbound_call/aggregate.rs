use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{InboundCallCommand, InboundCallError, InboundCallEvent, QueuedCall};
use crate::channel::Admission;
use crate::services::DomainServices;

/// Where a call stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InboundCall {
    status: CallStatus,
    call: QueuedCall,
    seat_no: Option<String>,
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
}

fn seat(value: &str) -> Result<String, InboundCallError> {
    let value = value.trim();
    if value.is_empty() || value.len() > 64 {
        return Err(InboundCallError::Invalid(
            "seat number must be 1 to 64 characters".into(),
        ));
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
        _: &DomainServices,
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
                    return Err(InboundCallError::Invalid(
                        "a call needs a task and a channel".into(),
                    ));
                }
                match admission {
                    Admission::Admitted => InboundCallEvent::CallQueued(call),
                    Admission::Refused(message) => InboundCallEvent::CallRefused { call, message },
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
                InboundCallEvent::CallDispatched { seat_no, reason }
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
                InboundCallEvent::CallTransferred { from_seat, to_seat }
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
            InboundCallEvent::CallDispatched { seat_no, .. } => {
                self.seat_no = Some(seat_no);
                self.status = CallStatus::Dispatched;
            }
            InboundCallEvent::CallTransferred { to_seat, .. } => self.seat_no = Some(to_seat),
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
mod tests {
    use chrono::{TimeZone, Utc};
    use cqrs_es::test::TestFramework;

    use super::*;
    use crate::inbound_call::DispatchReason;

    fn services() -> DomainServices {
        DomainServices::fixed_at(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
    }

    fn call() -> QueuedCall {
        QueuedCall {
            task_id: "t1".into(),
            customer_key: "c1".into(),
            channel_code: "YYZX".into(),
            product_code: "YXD".into(),
            ..QueuedCall::default()
        }
    }

    fn dispatched(seat: &str) -> Vec<InboundCallEvent> {
        vec![
            InboundCallEvent::CallQueued(call()),
            InboundCallEvent::CallDispatched {
                seat_no: seat.into(),
                reason: DispatchReason::Random,
            },
        ]
    }

    /// 001_d165f826565a3102.txt 2.2.2: 不准入则提示客户端 the exact text; the refusal is
    /// recorded, and an admitted call joins the queue (进入面谈待接入队列).
    #[test]
    fn the_channel_answer_decides_between_refusal_and_queue() {
        let text = crate::channel::NOT_AUTHORISED.to_string();
        TestFramework::<InboundCall>::with(services())
            .given_no_previous_events()
            .when(InboundCallCommand::Request {
                call: call(),
                admission: Admission::Refused(text.clone()),
            })
            .then_expect_events(vec![InboundCallEvent::CallRefused {
                call: call(),
                message: text,
            }]);
        TestFramework::<InboundCall>::with(services())
            .given_no_previous_events()
            .when(InboundCallCommand::Request {
                call: call(),
                admission: Admission::Admitted,
            })
            .then_expect_events(vec![InboundCallEvent::CallQueued(call())]);
    }

    /// 001_d165f826565a3102.txt 2.4.4.3: 已指派坐席可在视频未接通前…将案件转出 — before
    /// the answer only, and only the seat that has the call answers it.
    #[test]
    fn transfer_before_the_answer_and_only_the_given_seat_answers() {
        TestFramework::<InboundCall>::with(services())
            .given(dispatched("S1"))
            .when(InboundCallCommand::Transfer {
                to_seat: "S2".into(),
            })
            .then_expect_events(vec![InboundCallEvent::CallTransferred {
                from_seat: "S1".into(),
                to_seat: "S2".into(),
            }]);
        TestFramework::<InboundCall>::with(services())
            .given(dispatched("S1"))
            .when(InboundCallCommand::Answer {
                seat_no: "S2".into(),
            })
            .then_expect_error(InboundCallError::OtherSeat {
                seat_no: "S1".into(),
            });
        let mut answered = dispatched("S1");
        answered.push(InboundCallEvent::CallAnswered {
            seat_no: "S1".into(),
        });
        TestFramework::<InboundCall>::with(services())
            .given(answered.clone())
            .when(InboundCallCommand::Transfer {
                to_seat: "S2".into(),
            })
            .then_expect_error(InboundCallError::Finished);
        TestFramework::<InboundCall>::with(services())
            .given(answered)
            .when(InboundCallCommand::Cancel)
            .then_expect_error(InboundCallError::Finished);
    }

    /// 004_448cd5ace309d8b2.txt 4.3: 可以点击取消按钮，取消排队 — the seat it rang at is named.
    #[test]
    fn a_cancelled_call_names_the_seat_it_rang_at() {
        TestFramework::<InboundCall>::with(services())
            .given(dispatched("S1"))
            .when(InboundCallCommand::Cancel)
            .then_expect_events(vec![InboundCallEvent::CallCancelled {
                seat_no: Some("S1".into()),
            }]);
        TestFramework::<InboundCall>::with(services())
            .given(vec![InboundCallEvent::CallQueued(call())])
            .when(InboundCallCommand::Dispatch {
                seat_no: "S1".into(),
                reason: DispatchReason::Familiar,
            })
            .then_expect_events(vec![InboundCallEvent::CallDispatched {
                seat_no: "S1".into(),
                reason: DispatchReason::Familiar,
            }]);
        TestFramework::<InboundCall>::with(services())
            .given(dispatched("S1"))
            .when(InboundCallCommand::Dispatch {
                seat_no: "S2".into(),
                reason: DispatchReason::Random,
            })
            .then_expect_error(InboundCallError::NotQueued);
    }
}
