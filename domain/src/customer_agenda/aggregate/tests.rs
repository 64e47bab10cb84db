use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::schedule::{SchedulingPolicy, Slot};
use uuid::Uuid;

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
        marital_status: None,
        relation_to_borrower: None,
    };
    let id = agenda_id(&person);
    assert_eq!(id.len(), 64);
    assert!(!id.contains("410102"));
    assert_eq!(id, agenda_id(&person.clone()));
}
