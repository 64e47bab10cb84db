use chrono::Duration;

use super::*;
use crate::interview_task::{
    AppointmentConfirmed, AppointmentPurpose, AppointmentRequested, BookingRef, InterviewOutcome,
    RequestAppointment, Requester,
};

const BORROWER_ID: &str = "11010519491231002X";

fn at(hours_from_now: i64) -> chrono::DateTime<Utc> {
    now() + Duration::hours(hours_from_now)
}

fn slot(hours_from_now: i64) -> Slot {
    Slot {
        start: at(hours_from_now),
        end: at(hours_from_now) + Duration::minutes(30),
    }
}

fn customer(id: &str) -> Requester {
    Requester {
        actor_id: id.into(),
        role: "CUSTOMER".into(),
        on_behalf_of_borrower: false,
    }
}

fn staff(role: &str, on_behalf: bool) -> Requester {
    Requester {
        actor_id: "S001".into(),
        role: role.into(),
        on_behalf_of_borrower: on_behalf,
    }
}

fn request(
    id: u128,
    purpose: AppointmentPurpose,
    seat: &str,
    hours: i64,
    who: Requester,
) -> InterviewTaskCommand {
    InterviewTaskCommand::RequestAppointment(RequestAppointment {
        booking_id: Uuid::from_u128(id),
        purpose,
        seat_no: seat.into(),
        start: slot(hours).start,
        end: slot(hours).end,
        requester: who,
    })
}

fn agendas() -> Vec<String> {
    merge_participants(&[borrower()])
        .unwrap()
        .iter()
        .map(agenda_id)
        .collect()
}

fn requested(
    id: u128,
    purpose: AppointmentPurpose,
    seat: &str,
    hours: i64,
    who: Requester,
) -> InterviewTaskEvent {
    InterviewTaskEvent::AppointmentRequested(AppointmentRequested {
        booking_id: Uuid::from_u128(id),
        purpose,
        seat_no: seat.into(),
        slot: slot(hours),
        agendas: agendas(),
        requested_by: who,
        requested_at: now(),
    })
}

fn confirmed(
    id: u128,
    purpose: AppointmentPurpose,
    seat: &str,
    hours: i64,
    replaced: Option<(u128, &str)>,
    count: u32,
) -> InterviewTaskEvent {
    InterviewTaskEvent::AppointmentConfirmed(AppointmentConfirmed {
        booking_id: Uuid::from_u128(id),
        purpose,
        seat_no: seat.into(),
        slot: slot(hours),
        replaced: replaced.map(|(id, seat)| BookingRef {
            booking_id: Uuid::from_u128(id),
            seat_no: seat.into(),
            agendas: agendas(),
        }),
        reschedule_count: count,
    })
}

/// A task booked with seat S1, 24 hours from now.
fn booked() -> Vec<InterviewTaskEvent> {
    vec![
        created(TaskKind::YongxuVideoInterview),
        requested(
            1,
            AppointmentPurpose::Book,
            "S1",
            24,
            staff("ACCOUNT_MANAGER", false),
        ),
        confirmed(1, AppointmentPurpose::Book, "S1", 24, None, 0),
    ]
}

/// `booked()` then rescheduled `n` times by the borrower.
fn rescheduled(n: u32) -> Vec<InterviewTaskEvent> {
    let mut events = booked();
    for i in 1..=n {
        let id = u128::from(i) + 1;
        events.push(requested(
            id,
            AppointmentPurpose::Reschedule,
            "S1",
            24 + i64::from(i),
            customer(BORROWER_ID),
        ));
        events.push(confirmed(
            id,
            AppointmentPurpose::Reschedule,
            "S1",
            24 + i64::from(i),
            Some((id - 1, "S1")),
            i,
        ));
    }
    events
}

#[test]
fn a_first_booking_is_requested_then_confirmed() {
    TaskTest::with(services())
        .given(vec![created(TaskKind::YongxuVideoInterview)])
        .when(request(
            1,
            AppointmentPurpose::Book,
            "S1",
            24,
            staff("ACCOUNT_MANAGER", false),
        ))
        .then_expect_events(vec![requested(
            1,
            AppointmentPurpose::Book,
            "S1",
            24,
            staff("ACCOUNT_MANAGER", false),
        )]);
    TaskTest::with(services())
        .given(booked()[..2].to_vec())
        .when(InterviewTaskCommand::ConfirmAppointment {
            booking_id: Uuid::from_u128(1),
        })
        .then_expect_events(vec![booked()[2].clone()]);
}

/// 001_d165f826565a3102.txt 2.5.3: 可选时间限制范围为当前时间后 1 个月内.
#[test]
fn booking_beyond_one_month_or_in_the_past_is_refused() {
    for hours in [-1, 31 * 24] {
        TaskTest::with(services())
            .given(vec![created(TaskKind::YongxuVideoInterview)])
            .when(request(
                1,
                AppointmentPurpose::Book,
                "S1",
                hours,
                staff("SEAT", false),
            ))
            .then_expect_error(InterviewTaskError::OutsideHorizon { days: 30 });
    }
}

#[test]
fn one_request_at_a_time() {
    TaskTest::with(services())
        .given(booked()[..2].to_vec())
        .when(request(
            2,
            AppointmentPurpose::Book,
            "S2",
            25,
            staff("SEAT", false),
        ))
        .then_expect_error(InterviewTaskError::BookingInProgress);
}

/// 001_d165f826565a3102.txt 2.6.1: 开放主借人在线改约功能，仅更新任务时间，不重新生成新的面谈任务.
#[test]
fn the_main_borrower_reschedules_and_the_task_is_kept() {
    TaskTest::with(services())
        .given(booked())
        .when(request(
            2,
            AppointmentPurpose::Reschedule,
            "S1",
            30,
            customer(BORROWER_ID),
        ))
        .then_expect_events(vec![requested(
            2,
            AppointmentPurpose::Reschedule,
            "S1",
            30,
            customer(BORROWER_ID),
        )]);
    let mut given = booked();
    given.push(requested(
        2,
        AppointmentPurpose::Reschedule,
        "S1",
        30,
        customer(BORROWER_ID),
    ));
    TaskTest::with(services())
        .given(given)
        .when(InterviewTaskCommand::ConfirmAppointment {
            booking_id: Uuid::from_u128(2),
        })
        .then_expect_events(vec![confirmed(
            2,
            AppointmentPurpose::Reschedule,
            "S1",
            30,
            Some((1, "S1")),
            1,
        )]);
}

/// 001_d165f826565a3102.txt 2.6.1: only the main borrower (主借人) reschedules.
#[test]
fn someone_else_may_not_reschedule() {
    for who in [
        customer("410102198707222020"),
        staff("SEAT", false),
        staff("AUDITOR", true),
    ] {
        TaskTest::with(services())
            .given(booked())
            .when(request(2, AppointmentPurpose::Reschedule, "S1", 30, who))
            .then_expect_error(InterviewTaskError::NotMainBorrower {
                action: "reschedule",
            });
    }
}

/// Staff may reschedule on the borrower's behalf; it is recorded as such.
#[test]
fn staff_on_behalf_of_the_borrower_is_recorded() {
    TaskTest::with(services())
        .given(booked())
        .when(request(
            2,
            AppointmentPurpose::Reschedule,
            "S1",
            30,
            staff("ACCOUNT_MANAGER", true),
        ))
        .then_expect_events(vec![requested(
            2,
            AppointmentPurpose::Reschedule,
            "S1",
            30,
            staff("ACCOUNT_MANAGER", true),
        )]);
}

/// 001_d165f826565a3102.txt 2.6.1: 改约次数不得超过 2 次.
#[test]
fn a_third_reschedule_is_refused() {
    let refused = TaskTest::with(services())
        .given(rescheduled(2))
        .when(request(
            9,
            AppointmentPurpose::Reschedule,
            "S1",
            40,
            customer(BORROWER_ID),
        ))
        .inspect_result()
        .unwrap_err();
    assert_eq!(
        refused,
        InterviewTaskError::RescheduleLimitReached { max: 2 }
    );
    assert_eq!(
        crate::error::DomainError::code(&refused),
        crate::ErrorCode::InvalidTransition
    );
}

/// 001_d165f826565a3102.txt 2.6.1: 任务预约时间段内…不开放改约功能.
#[test]
fn no_reschedule_once_the_window_opened() {
    let mut given = vec![created(TaskKind::YongxuVideoInterview)];
    given.push(requested(
        1,
        AppointmentPurpose::Book,
        "S1",
        1,
        staff("SEAT", false),
    ));
    given.push(confirmed(1, AppointmentPurpose::Book, "S1", 1, None, 0));
    let later = DomainServices::fixed_at(at(1) + Duration::minutes(5));
    TaskTest::with(later)
        .given(given)
        .when(request(
            2,
            AppointmentPurpose::Reschedule,
            "S1",
            30,
            customer(BORROWER_ID),
        ))
        .then_expect_error(InterviewTaskError::WindowOpened);
}

/// 001_d165f826565a3102.txt 2.6.1: 若任务过期（状态=待面谈），主借人可…提交任务改约申请.
#[test]
fn an_expired_task_may_be_rescheduled() {
    let mut given = booked();
    given.push(InterviewTaskEvent::AppointmentExpired {
        booking_id: Uuid::from_u128(1),
    });
    TaskTest::with(services())
        .given(given)
        .when(request(
            2,
            AppointmentPurpose::Reschedule,
            "S1",
            30,
            customer(BORROWER_ID),
        ))
        .then_expect_events(vec![requested(
            2,
            AppointmentPurpose::Reschedule,
            "S1",
            30,
            customer(BORROWER_ID),
        )]);
}

#[test]
fn expiry_fires_only_for_the_current_appointment_after_its_window() {
    let after_window = DomainServices::fixed_at(at(25));
    TaskTest::with(after_window)
        .given(booked())
        .when(InterviewTaskCommand::ExpireAppointment {
            booking_id: Uuid::from_u128(1),
        })
        .then_expect_events(vec![InterviewTaskEvent::AppointmentExpired {
            booking_id: Uuid::from_u128(1),
        }]);
    TaskTest::with(services())
        .given(booked())
        .when(InterviewTaskCommand::ExpireAppointment {
            booking_id: Uuid::from_u128(1),
        })
        .then_expect_events(vec![]);
    TaskTest::with(services())
        .given(rescheduled(1))
        .when(InterviewTaskCommand::ExpireAppointment {
            booking_id: Uuid::from_u128(1),
        })
        .then_expect_events(vec![]);
}

/// 001_d165f826565a3102.txt 2.6.1: a disputed interview (存疑) may ask for a
/// second interview (二次面谈申请), like a reschedule.
#[test]
fn a_disputed_interview_may_request_a_second_one() {
    let in_window = DomainServices::fixed_at(at(24) + Duration::minutes(1));
    let mut given = booked();
    given.push(InterviewTaskEvent::InterviewStarted {
        seat_no: "S1".into(),
        started_at: at(24),
    });
    given.push(InterviewTaskEvent::InterviewConcluded {
        outcome: InterviewOutcome::Doubtful,
        concluded_at: at(24),
        sampled_for_qc: false,
    });
    let mut requested_event = requested(
        5,
        AppointmentPurpose::SecondInterview,
        "S1",
        48,
        customer(BORROWER_ID),
    );
    if let InterviewTaskEvent::AppointmentRequested(r) = &mut requested_event {
        r.requested_at = at(24) + Duration::minutes(1);
    }
    TaskTest::with(in_window)
        .given(given)
        .when(request(
            5,
            AppointmentPurpose::SecondInterview,
            "S1",
            48,
            customer(BORROWER_ID),
        ))
        .then_expect_events(vec![requested_event]);
    TaskTest::with(services())
        .given(booked())
        .when(request(
            5,
            AppointmentPurpose::SecondInterview,
            "S1",
            48,
            customer(BORROWER_ID),
        ))
        .then_expect_error(InterviewTaskError::InvalidTransition {
            action: "request a second interview for",
            from: TaskStatus::Pending,
        });
}

/// 001_d165f826565a3102.txt 2.4.6 预约再分配: a supervisor moves a booking to
/// another seat at the same time.
#[test]
fn only_a_supervisor_reassigns_and_the_time_is_kept() {
    TaskTest::with(services())
        .given(booked())
        .when(request(
            2,
            AppointmentPurpose::Reassign,
            "S2",
            99,
            staff("SUPERVISOR", false),
        ))
        .then_expect_events(vec![requested(
            2,
            AppointmentPurpose::Reassign,
            "S2",
            24,
            staff("SUPERVISOR", false),
        )]);
    TaskTest::with(services())
        .given(booked())
        .when(request(
            2,
            AppointmentPurpose::Reassign,
            "S2",
            24,
            staff("SEAT", false),
        ))
        .then_expect_error(InterviewTaskError::NotSupervisor);
}

/// 004_448cd5ace309d8b2.txt 3.3: 处理中 may still be withdrawn; the held
/// bookings are handed back.
#[test]
fn cancel_in_progress_releases_the_appointment() {
    let in_window = DomainServices::fixed_at(at(24) + Duration::minutes(1));
    let mut given = booked();
    given.push(InterviewTaskEvent::InterviewStarted {
        seat_no: "S1".into(),
        started_at: at(24),
    });
    TaskTest::with(in_window)
        .given(given)
        .when(cancel())
        .then_expect_events(vec![InterviewTaskEvent::InterviewTaskCancelled(
            InterviewTaskCancelled {
                reason: "客户主动放弃".into(),
                cancelled_at: at(24) + Duration::minutes(1),
                releases: vec![BookingRef {
                    booking_id: Uuid::from_u128(1),
                    seat_no: "S1".into(),
                    agendas: agendas(),
                }],
            },
        )]);
}

/// DESIGN.md: cancel only from PENDING or IN_PROGRESS.
#[test]
fn a_concluded_task_cannot_be_cancelled() {
    let mut given = booked();
    given.push(InterviewTaskEvent::InterviewStarted {
        seat_no: "S1".into(),
        started_at: at(24),
    });
    given.push(InterviewTaskEvent::InterviewConcluded {
        outcome: InterviewOutcome::Pass,
        concluded_at: at(24),
        sampled_for_qc: false,
    });
    TaskTest::with(services())
        .given(given)
        .when(cancel())
        .then_expect_error(InterviewTaskError::InvalidTransition {
            action: "cancel",
            from: TaskStatus::Passed,
        });
}

#[test]
fn the_interview_starts_only_inside_its_window() {
    TaskTest::with(services())
        .given(booked())
        .when(InterviewTaskCommand::StartInterview {
            seat_no: "S1".into(),
        })
        .then_expect_error(InterviewTaskError::OutsideWindow);
}
