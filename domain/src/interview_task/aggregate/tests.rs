use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::interview_task::{
    CancelInterviewTask, CreateInterviewTask, IdType, ParticipantInput, ParticipantRole,
};

type TaskTest = TestFramework<InterviewTask>;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
}

fn services() -> DomainServices {
    DomainServices::fixed_at(now())
}

fn borrower() -> ParticipantInput {
    ParticipantInput {
        name: "邓小闲".into(),
        id_type: IdType::IdCard,
        id_number: "11010519491231002X".into(),
        phone: "15618293093".into(),
        roles: vec![ParticipantRole::Borrower],
    }
}

fn create(kind: TaskKind) -> InterviewTaskCommand {
    InterviewTaskCommand::Create(CreateInterviewTask {
        lineage: None,
        task_id: "task-1".into(),
        contract_no: "HT2026001".into(),
        kind,
        product_code: "YXD".into(),
        channel_code: "YYZX".into(),
        manager_id: "M001".into(),
        participants: vec![borrower()],
    })
}

fn created(kind: TaskKind) -> InterviewTaskEvent {
    InterviewTaskEvent::InterviewTaskCreated(InterviewTaskCreated {
        lineage: None,
        task_id: "task-1".into(),
        contract_no: "HT2026001".into(),
        kind,
        required_steps: kind.required_steps(),
        product_code: "YXD".into(),
        channel_code: "YYZX".into(),
        manager_id: "M001".into(),
        participants: merge_participants(&[borrower()]).unwrap(),
        created_at: now(),
    })
}

fn cancel() -> InterviewTaskCommand {
    InterviewTaskCommand::Cancel(CancelInterviewTask {
        reason: "客户主动放弃".into(),
    })
}

fn cancelled() -> InterviewTaskEvent {
    InterviewTaskEvent::InterviewTaskCancelled(InterviewTaskCancelled {
        reason: "客户主动放弃".into(),
        cancelled_at: now(),
        releases: vec![],
    })
}

#[test]
fn create_opens_a_pending_task_with_the_kinds_steps() {
    TaskTest::with(services())
        .given_no_previous_events()
        .when(create(TaskKind::Yunce))
        .then_expect_events(vec![created(TaskKind::Yunce)]);
}

/// 000_ae051a0847019ebb.txt: 云贷非直批 skips 客户核身 and 信息录入.
#[test]
fn yundai_indirect_skips_identity_check_and_info_entry() {
    let steps = TaskKind::YundaiIndirect.required_steps();
    assert!(!steps.contains(&TaskStep::IdentityCheck));
    assert!(!steps.contains(&TaskStep::InfoEntry));
    assert!(steps.contains(&TaskStep::VideoWitness));
}

#[test]
fn create_twice_is_a_conflict() {
    TaskTest::with(services())
        .given(vec![created(TaskKind::YongxuVideoInterview)])
        .when(create(TaskKind::YongxuVideoInterview))
        .then_expect_error(InterviewTaskError::AlreadyExists);
}

#[test]
fn create_without_contract_no_is_refused() {
    let mut command = create(TaskKind::YongxuVideoInterview);
    if let InterviewTaskCommand::Create(c) = &mut command {
        c.contract_no = "  ".into();
    }
    TaskTest::with(services())
        .given_no_previous_events()
        .when(command)
        .then_expect_error(InterviewTaskError::InvalidContractNo);
}

/// 004_448cd5ace309d8b2.txt 3.3: a pending (待处理) task may be withdrawn (已撤销).
#[test]
fn cancel_a_pending_task() {
    TaskTest::with(services())
        .given(vec![created(TaskKind::YongxuVideoInterview)])
        .when(cancel())
        .then_expect_events(vec![cancelled()]);
}

#[test]
fn cancel_twice_is_an_invalid_transition() {
    TaskTest::with(services())
        .given(vec![created(TaskKind::YongxuVideoInterview), cancelled()])
        .when(cancel())
        .then_expect_error(InterviewTaskError::InvalidTransition {
            action: "cancel",
            from: TaskStatus::Cancelled,
        });
}

#[test]
fn cancel_an_unknown_task_is_not_found() {
    TaskTest::with(services())
        .given_no_previous_events()
        .when(cancel())
        .then_expect_error(InterviewTaskError::NotFound);
}

#[test]
fn cancel_needs_a_reason() {
    TaskTest::with(services())
        .given(vec![created(TaskKind::YongxuVideoInterview)])
        .when(InterviewTaskCommand::Cancel(CancelInterviewTask {
            reason: " ".into(),
        }))
        .then_expect_error(InterviewTaskError::InvalidField {
            field: "reason",
            reason: "must be non-empty and not too long",
        });
}

mod booking {
    use chrono::Duration;

    use super::*;
    use crate::interview_task::{
        AppointmentConfirmed, AppointmentPurpose, AppointmentRequested, BookingRef,
        InterviewOutcome, RequestAppointment, Requester,
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
}

mod session_rules {
    use super::*;
    use crate::interview_task::session::{
        CallEnd, InvestigationScope, SessionCommand, SessionEvent,
    };
    use crate::interview_task::{InterviewOutcome, QcVerdict};

    const BORROWER_ID: &str = "11010519491231002X";

    /// Created (kind `kind`), booked for a window that is open now, started by S1.
    fn in_session(kind: TaskKind) -> Vec<InterviewTaskEvent> {
        use crate::interview_task::{AppointmentConfirmed, AppointmentPurpose};
        vec![
            created(kind),
            InterviewTaskEvent::AppointmentConfirmed(AppointmentConfirmed {
                booking_id: Uuid::from_u128(1),
                purpose: AppointmentPurpose::Book,
                seat_no: "S1".into(),
                slot: Slot {
                    start: now() - chrono::Duration::minutes(5),
                    end: now() + chrono::Duration::minutes(25),
                },
                replaced: None,
                reschedule_count: 0,
            }),
            InterviewTaskEvent::InterviewStarted {
                seat_no: "S1".into(),
                started_at: now(),
            },
        ]
    }

    fn identity(similarity: f64, liveness: bool) -> InterviewTaskCommand {
        InterviewTaskCommand::Session(SessionCommand::RecordIdentityCheck {
            id_number: BORROWER_ID.into(),
            liveness_passed: liveness,
            similarity,
        })
    }

    fn checked(similarity: f64, liveness: bool, passed: bool) -> InterviewTaskEvent {
        InterviewTaskEvent::Session(SessionEvent::IdentityChecked {
            id_number: BORROWER_ID.into(),
            liveness_passed: liveness,
            similarity,
            threshold: 0.8,
            passed,
        })
    }

    fn call_ended() -> InterviewTaskEvent {
        InterviewTaskEvent::Session(SessionEvent::CallEnded {
            call_no: 1,
            seat_no: "S1".into(),
            end: CallEnd::Normal,
            queued_at: now(),
            answered_at: now(),
            ended_at: now(),
            queue_seconds: 0,
            talk_seconds: 0,
        })
    }

    /// 000_ae051a0847019ebb.txt 客户核身: 对比分数大于系统设定分数则通过, and liveness must pass.
    #[test]
    fn identity_check_compares_with_the_configured_threshold() {
        TaskTest::with(services())
            .given(in_session(TaskKind::YongxuVideoInterview))
            .when(identity(0.85, true))
            .then_expect_events(vec![checked(0.85, true, true)]);
        TaskTest::with(services())
            .given(in_session(TaskKind::YongxuVideoInterview))
            .when(identity(0.79, true))
            .then_expect_events(vec![checked(0.79, true, false)]);
        TaskTest::with(services())
            .given(in_session(TaskKind::YongxuVideoInterview))
            .when(identity(0.95, false))
            .then_expect_events(vec![checked(0.95, false, false)]);
    }

    /// 000_ae051a0847019ebb.txt: 云贷非直批任务…不需要在展业APP再次进行客户核身.
    #[test]
    fn yundai_indirect_has_no_identity_check() {
        TaskTest::with(services())
            .given(in_session(TaskKind::YundaiIndirect))
            .when(identity(0.9, true))
            .then_expect_error(InterviewTaskError::StepNotRequired {
                step: TaskStep::IdentityCheck,
            });
    }

    /// 000_ae051a0847019ebb.txt 现调上传: 现调监控范围为“家庭和单位” requires a video witness.
    #[test]
    fn home_and_workplace_scope_requires_a_video_witness() {
        let result = TaskTest::with(services())
            .given(in_session(TaskKind::Yunce))
            .when(InterviewTaskCommand::Session(
                SessionCommand::RecordFieldInvestigation {
                    scope: InvestigationScope::HomeAndWorkplace,
                    latitude: 34.75,
                    longitude: 113.62,
                    address: "郑州市金水区".into(),
                    information: "住宅自有".into(),
                    photos: vec!["blob://p1".into()],
                },
            ))
            .inspect_result()
            .unwrap();
        assert!(matches!(
            &result[0],
            InterviewTaskEvent::Session(SessionEvent::FieldInvestigationRecorded {
                video_witness_required: true,
                ..
            })
        ));
    }

    /// 001_d165f826565a3102.txt 2.3.1.2: 录制完成后…签署意见（完成、存疑）— after the call,
    /// and 通过 only with every required step done.
    #[test]
    fn conclusion_needs_the_call_ended_and_a_pass_needs_every_step() {
        TaskTest::with(services())
            .given(in_session(TaskKind::YongxuVideoInterview))
            .when(InterviewTaskCommand::ConcludeInterview {
                outcome: InterviewOutcome::Doubtful,
            })
            .then_expect_error(InterviewTaskError::CallNotEnded);
        let mut given = in_session(TaskKind::YongxuVideoInterview);
        given.push(checked(0.79, true, false));
        given.push(call_ended());
        TaskTest::with(services())
            .given(given.clone())
            .when(InterviewTaskCommand::ConcludeInterview {
                outcome: InterviewOutcome::Pass,
            })
            .then_expect_error(InterviewTaskError::StepsMissing {
                missing: vec![TaskStep::IdentityCheck, TaskStep::VideoWitness],
            });
        TaskTest::with(services())
            .given(given)
            .when(InterviewTaskCommand::ConcludeInterview {
                outcome: InterviewOutcome::Doubtful,
            })
            .then_expect_events(vec![InterviewTaskEvent::InterviewConcluded {
                outcome: InterviewOutcome::Doubtful,
                concluded_at: now(),
                sampled_for_qc: false,
            }]);
    }

    /// 001_d165f826565a3102.txt 2.4.3: a reject of a sampled pass rolls the loan back.
    #[test]
    fn rejecting_a_sampled_pass_asks_for_a_loan_roll_back() {
        let mut given = in_session(TaskKind::YundaiDirect);
        given.push(call_ended());
        given.push(InterviewTaskEvent::InterviewConcluded {
            outcome: InterviewOutcome::Pass,
            concluded_at: now(),
            sampled_for_qc: true,
        });
        TaskTest::with(services())
            .given(given)
            .when(InterviewTaskCommand::ApplyQcDecision {
                case_id: "qc-1".into(),
                verdict: QcVerdict::Reject,
                reasons: vec!["FORGED_DOCUMENTS".into()],
                comment: "伪造".into(),
            })
            .then_expect_events(vec![InterviewTaskEvent::QcRejected {
                case_id: "qc-1".into(),
                reasons: vec!["FORGED_DOCUMENTS".into()],
                comment: "伪造".into(),
                rollback_loan: true,
            }]);
    }

    #[test]
    fn a_task_not_in_qc_refuses_a_decision() {
        TaskTest::with(services())
            .given(in_session(TaskKind::YundaiDirect))
            .when(InterviewTaskCommand::ApplyQcDecision {
                case_id: "qc-1".into(),
                verdict: QcVerdict::Pass,
                reasons: vec![],
                comment: String::new(),
            })
            .then_expect_error(InterviewTaskError::NotAwaitingQc);
    }
}

#[test]
fn every_status_round_trips_its_name() {
    for status in TaskStatus::ALL {
        assert_eq!(TaskStatus::parse(status.as_str()), Some(status));
    }
}
