use chrono::{DateTime, NaiveTime, TimeZone, Utc, Weekday};
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::schedule::{shanghai, SchedulingPolicy, Slot, WorkingPeriod};

fn local(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    shanghai()
        .with_ymd_and_hms(2026, 11, d, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn services() -> DomainServices {
    // Monday 2026-11-23 10:00 Shanghai.
    DomainServices::fixed_at(local(23, 10, 0))
}

fn slot(d: u32, h: u32, m: u32) -> Slot {
    Slot::new(
        local(d, h, m),
        local(d, h, m) + chrono::Duration::minutes(30),
        &SchedulingPolicy::default(),
    )
    .unwrap()
}

fn hours() -> WeeklyHours {
    WeeklyHours(
        [Weekday::Mon, Weekday::Tue, Weekday::Wed]
            .into_iter()
            .map(|weekday| WorkingPeriod {
                weekday,
                start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            })
            .collect(),
    )
}

fn registered() -> Vec<SeatEvent> {
    vec![
        SeatEvent::SeatRegistered {
            name: "张坐席".into(),
            groups: vec!["永续贷组".into()],
            skills: vec!["YXD".into()],
        },
        SeatEvent::WorkingHoursSet { hours: hours() },
    ]
}

fn booked(id: u128, task: &str, slot: Slot) -> SeatEvent {
    SeatEvent::SlotBooked {
        booking_id: Uuid::from_u128(id),
        task_id: task.into(),
        slot,
    }
}

fn book(id: u128, task: &str, slot: Slot) -> SeatCommand {
    SeatCommand::Book {
        booking_id: Uuid::from_u128(id),
        task_id: task.into(),
        slot,
    }
}

#[test]
fn register_dedupes_groups_and_skills() {
    TestFramework::<Seat>::with(services())
        .given_no_previous_events()
        .when(SeatCommand::Register {
            name: " 张坐席 ".into(),
            groups: vec!["永续贷组".into(), "永续贷组".into()],
            skills: vec!["YXD".into()],
        })
        .then_expect_events(vec![registered().remove(0)]);
}

/// 001_d165f826565a3102.txt 2.4.6: booking only inside working hours.
#[test]
fn booking_outside_working_hours_is_refused() {
    TestFramework::<Seat>::with(services())
        .given(registered())
        .when(book(1, "t1", slot(23, 18, 0)))
        .then_expect_error(SeatError::OutsideWorkingHours);
}

/// 001_d165f826565a3102.txt 2.6.2: booked slots are greyed out — no double booking.
#[test]
fn overlapping_booking_of_another_task_is_refused() {
    TestFramework::<Seat>::with(services())
        .given([registered(), vec![booked(1, "t1", slot(24, 10, 0))]].concat())
        .when(book(2, "t2", slot(24, 10, 15)))
        .then_expect_error(SeatError::SlotTaken {
            task_id: "t1".into(),
        });
}

#[test]
fn the_same_task_may_overlap_itself_while_moving() {
    TestFramework::<Seat>::with(services())
        .given([registered(), vec![booked(1, "t1", slot(24, 10, 0))]].concat())
        .when(book(2, "t1", slot(24, 10, 15)))
        .then_expect_events(vec![booked(2, "t1", slot(24, 10, 15))]);
}

#[test]
fn a_redelivered_booking_is_a_no_op() {
    TestFramework::<Seat>::with(services())
        .given([registered(), vec![booked(1, "t1", slot(24, 10, 0))]].concat())
        .when(book(1, "t1", slot(24, 10, 0)))
        .then_expect_events(vec![]);
}

/// 001_d165f826565a3102.txt 2.4.6: only enabled seats can be booked.
#[test]
fn a_disabled_seat_is_not_bookable() {
    TestFramework::<Seat>::with(services())
        .given([registered(), vec![SeatEvent::SeatDisabled]].concat())
        .when(book(1, "t1", slot(24, 10, 0)))
        .then_expect_error(SeatError::Disabled);
}

/// 001_d165f826565a3102.txt 2.4.6: a seat with unfinished bookings cannot be
/// disabled; the error lists them.
#[test]
fn disable_is_refused_while_future_bookings_exist() {
    TestFramework::<Seat>::with(services())
        .given([registered(), vec![booked(1, "t1", slot(25, 10, 0))]].concat())
        .when(SeatCommand::Disable)
        .then_expect_error(SeatError::FutureBookingsExist {
            bookings: vec![("t1".into(), local(25, 10, 0))],
        });
}

/// The refusal names the bookings in Beijing time, as the supervisor booked
/// them (issue 23 item 6: disableSeat listed them in UTC).
#[test]
fn the_refusal_names_bookings_in_beijing_time() {
    let refusal = SeatError::FutureBookingsExist {
        bookings: vec![("t1".into(), local(25, 10, 0))],
    };
    assert_eq!(
        refusal.to_string(),
        "seat has 1 future booking(s); reassign them first: task t1 at 2026-11-25 10:00 Beijing time"
    );
}

#[test]
fn disable_is_allowed_once_bookings_are_released_or_past() {
    TestFramework::<Seat>::with(services())
        .given(
            [
                registered(),
                vec![
                    booked(1, "t1", slot(23, 9, 0)),
                    booked(2, "t2", slot(25, 10, 0)),
                    SeatEvent::SlotReleased {
                        booking_id: Uuid::from_u128(2),
                        task_id: "t2".into(),
                        slot: slot(25, 10, 0),
                    },
                ],
            ]
            .concat(),
        )
        .when(SeatCommand::Disable)
        .then_expect_events(vec![SeatEvent::SeatDisabled]);
}

#[test]
fn release_of_an_unknown_booking_is_a_no_op() {
    TestFramework::<Seat>::with(services())
        .given(registered())
        .when(SeatCommand::Release {
            booking_id: Uuid::from_u128(9),
        })
        .then_expect_events(vec![]);
}

#[test]
fn commands_on_an_unregistered_seat_are_not_found() {
    TestFramework::<Seat>::with(services())
        .given_no_previous_events()
        .when(SeatCommand::Enable)
        .then_expect_error(SeatError::NotFound);
}

/// 004_448cd5ace309d8b2.txt 3.1: 坐席登录后，自动变更为上班状态 (空闲); 忙碌 is
/// automatic and cannot be changed by hand; 话后处理 can.
#[test]
fn presence_follows_the_platform_manual() {
    TestFramework::<Seat>::with(services())
        .given(registered())
        .when(SeatCommand::SetPresence {
            presence: Presence::Idle,
            by_system: false,
        })
        .then_expect_error(SeatError::NotSignedIn);
    let mut signed_in = registered();
    signed_in.push(SeatEvent::SeatSignedIn);
    let mut seat = Seat::default();
    for event in signed_in.clone() {
        seat.apply(event);
    }
    assert!(seat.is_available(), "signed in means 空闲");
    TestFramework::<Seat>::with(services())
        .given(signed_in.clone())
        .when(SeatCommand::SetPresence {
            presence: Presence::Busy,
            by_system: false,
        })
        .then_expect_error(SeatError::BusyIsAutomatic);
    let mut in_call = signed_in;
    in_call.push(SeatEvent::PresenceChanged {
        presence: Presence::Busy,
    });
    TestFramework::<Seat>::with(services())
        .given(in_call.clone())
        .when(SeatCommand::SetPresence {
            presence: Presence::Paused,
            by_system: false,
        })
        .then_expect_error(SeatError::InCall);
    TestFramework::<Seat>::with(services())
        .given(in_call.clone())
        .when(SeatCommand::SignOut)
        .then_expect_error(SeatError::InCall);
    TestFramework::<Seat>::with(services())
        .given(in_call)
        .when(SeatCommand::SetPresence {
            presence: Presence::AfterCall,
            by_system: true,
        })
        .then_expect_events(vec![SeatEvent::PresenceChanged {
            presence: Presence::AfterCall,
        }]);
}

#[test]
fn a_disabled_seat_cannot_sign_in() {
    let mut given = registered();
    given.push(SeatEvent::SeatDisabled);
    TestFramework::<Seat>::with(services())
        .given(given)
        .when(SeatCommand::SignIn)
        .then_expect_error(SeatError::Disabled);
}

/// 004_448cd5ace309d8b2.txt 3.1: only a signed-in 空闲 seat takes a call, and one
/// offer at a time; answering makes it 忙碌; it cannot sign out with a call pending.
#[test]
fn one_call_is_offered_at_a_time() {
    let call = Uuid::from_u128(7);
    TestFramework::<Seat>::with(services())
        .given(registered())
        .when(SeatCommand::OfferCall { call_id: call })
        .then_expect_error(SeatError::NotAvailable);
    let mut offered = registered();
    offered.extend([
        SeatEvent::SeatSignedIn,
        SeatEvent::CallOffered { call_id: call },
    ]);
    TestFramework::<Seat>::with(services())
        .given(offered.clone())
        .when(SeatCommand::OfferCall {
            call_id: Uuid::from_u128(8),
        })
        .then_expect_error(SeatError::NotAvailable);
    TestFramework::<Seat>::with(services())
        .given(offered.clone())
        .when(SeatCommand::SignOut)
        .then_expect_error(SeatError::CallPending);
    TestFramework::<Seat>::with(services())
        .given(offered.clone())
        .when(SeatCommand::TakeCall {
            call_id: Uuid::from_u128(8),
        })
        .then_expect_error(SeatError::CallNotOffered);
    let mut seat = Seat::default();
    offered.push(SeatEvent::CallTaken { call_id: call });
    for event in offered {
        seat.apply(event);
    }
    assert_eq!(seat.presence, Presence::Busy);
    assert!(!seat.is_available());
    assert_eq!(seat.offered_call(), None);
}
