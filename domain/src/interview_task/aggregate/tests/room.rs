//! 多席呼入 (001 2.2.1): several phones in one interview room.

use super::*;
use crate::interview_task::session::{CallEnd, CallLeg, SessionCommand, SessionEvent};

const BORROWER_ID: &str = "11010519491231002X";
const SPOUSE_ID: &str = "110105195001010012";
const OWNER_ID: &str = "410102198503121017";

fn person(name: &str, id: &str, role: ParticipantRole) -> ParticipantInput {
    ParticipantInput {
        name: name.into(),
        id_type: IdType::IdCard,
        id_number: id.into(),
        phone: "13800138000".into(),
        roles: vec![role],
        marital_status: None,
        relation_to_borrower: None,
    }
}

/// A 永续贷 task with a borrower, a spouse and a co-owner, in progress at S1.
fn in_room() -> Vec<InterviewTaskEvent> {
    let mut events = super::session_rules::in_session(TaskKind::YongxuVideoInterview);
    if let InterviewTaskEvent::InterviewTaskCreated(c) = &mut events[0] {
        c.participants = merge_participants(&[
            borrower(),
            person("配偶甲", SPOUSE_ID, ParticipantRole::Spouse),
            person("共有人乙", OWNER_ID, ParticipantRole::CoOwner),
        ])
        .unwrap();
    }
    events
}

fn join(id: &str) -> InterviewTaskCommand {
    InterviewTaskCommand::Session(SessionCommand::JoinSession {
        id_number: id.into(),
        channel_code: "YYZX".into(),
    })
}

fn joined(
    id: &str,
    name: &str,
    leg: u32,
    rejoin: bool,
    at: chrono::DateTime<Utc>,
) -> InterviewTaskEvent {
    InterviewTaskEvent::Session(SessionEvent::ParticipantJoined {
        id_number: id.into(),
        name: name.into(),
        leg,
        channel_code: "YYZX".into(),
        rejoin,
        joined_at: at,
    })
}

fn left(id: &str, leg: u32, at: chrono::DateTime<Utc>) -> InterviewTaskEvent {
    InterviewTaskEvent::Session(SessionEvent::ParticipantLeft {
        id_number: id.into(),
        leg,
        end: CallEnd::AbnormalNetwork,
        left_at: at,
    })
}

fn minutes(m: i64) -> chrono::DateTime<Utc> {
    now() + chrono::Duration::minutes(m)
}

/// 001_d165f826565a3102.txt 2.2.1 多席呼入: 支持多移动端呼入同一面谈场景，应用于房产证多干系人
/// — the main borrower opens the room, then the spouse and the co-owner join
/// it from their phones; a second join of one already in changes nothing.
#[test]
fn the_borrower_opens_the_room_and_the_others_join_it() {
    TaskTest::with(services())
        .given(in_room())
        .when(join(SPOUSE_ID))
        .then_expect_error(InterviewTaskError::BorrowerNotInSession);
    TaskTest::with(services())
        .given(in_room())
        .when(join("110101199001010000"))
        .then_expect_error(InterviewTaskError::UnknownParticipant);
    TaskTest::with(services())
        .given(in_room())
        .when(join(BORROWER_ID))
        .then_expect_events(vec![joined(BORROWER_ID, "邓小闲", 1, false, now())]);
    let mut two = in_room();
    two.push(joined(BORROWER_ID, "邓小闲", 1, false, minutes(-3)));
    two.push(joined(SPOUSE_ID, "配偶甲", 2, false, minutes(-2)));
    TaskTest::with(services())
        .given(two.clone())
        .when(join(OWNER_ID))
        .then_expect_events(vec![joined(OWNER_ID, "共有人乙", 3, false, now())]);
    TaskTest::with(services())
        .given(two)
        .when(join(SPOUSE_ID))
        .then_expect_events(vec![]);
}

/// 001 2.2.1 (issue 22 item 1): a caller whose network dropped rejoins the
/// same call within the rejoin window (120 s by default) as a new leg; later
/// the seat has to start a new call.
#[test]
fn a_dropped_caller_rejoins_only_within_the_window() {
    let mut dropped = in_room();
    dropped.push(joined(BORROWER_ID, "邓小闲", 1, false, minutes(-10)));
    dropped.push(joined(SPOUSE_ID, "配偶甲", 2, false, minutes(-9)));
    dropped.push(left(SPOUSE_ID, 2, now() - chrono::Duration::seconds(120)));
    TaskTest::with(services())
        .given(dropped.clone())
        .when(join(SPOUSE_ID))
        .then_expect_events(vec![joined(SPOUSE_ID, "配偶甲", 3, true, now())]);
    let late = DomainServices::fixed_at(now() + chrono::Duration::seconds(1));
    TaskTest::with(late)
        .given(dropped)
        .when(join(SPOUSE_ID))
        .then_expect_error(InterviewTaskError::RejoinWindowPassed { until: now() });
}

/// 001 2.2.1 and 004 3.12 通话历史: when the seat ends the call, everyone still
/// in leaves with it, and the call record lists every leg — who, how long,
/// how it ended, and whether it was a rejoin.
#[test]
fn the_call_record_lists_each_participants_leg() {
    let mut events = in_room();
    events.push(joined(BORROWER_ID, "邓小闲", 1, false, minutes(-10)));
    events.push(joined(SPOUSE_ID, "配偶甲", 2, false, minutes(-9)));
    events.push(left(SPOUSE_ID, 2, minutes(-5)));
    events.push(joined(SPOUSE_ID, "配偶甲", 3, true, minutes(-4)));
    let leg = |leg, id: &str, name: &str, rejoin, from: i64, to: i64, end| CallLeg {
        leg,
        id_number: id.into(),
        name: name.into(),
        rejoin,
        joined_at: minutes(from),
        left_at: minutes(to),
        end,
        talk_seconds: (to - from) * 60,
    };
    TaskTest::with(services())
        .given(events)
        .when(InterviewTaskCommand::Session(SessionCommand::EndCall {
            end: CallEnd::Normal,
            queued_at: minutes(-12),
            answered_at: minutes(-10),
        }))
        .then_expect_events(vec![InterviewTaskEvent::Session(SessionEvent::CallEnded {
            call_no: 1,
            seat_no: "S1".into(),
            end: CallEnd::Normal,
            queued_at: minutes(-12),
            answered_at: minutes(-10),
            ended_at: now(),
            queue_seconds: 120,
            talk_seconds: 600,
            legs: vec![
                leg(1, BORROWER_ID, "邓小闲", false, -10, 0, CallEnd::Normal),
                leg(
                    2,
                    SPOUSE_ID,
                    "配偶甲",
                    false,
                    -9,
                    -5,
                    CallEnd::AbnormalNetwork,
                ),
                leg(3, SPOUSE_ID, "配偶甲", true, -4, 0, CallEnd::Normal),
            ],
        })]);
}

/// Each participant's video witness is recorded against them, named after
/// them (001 2.4.1.3: 采集日期 + 客户名称 + 面谈岗工号 + 流水位).
#[test]
fn a_video_witness_names_the_participant_it_witnesses() {
    TaskTest::with(services())
        .given(in_room())
        .when(InterviewTaskCommand::Session(
            SessionCommand::RecordVideoWitness {
                storage_ref: "blob://spouse".into(),
                id_number: Some(SPOUSE_ID.into()),
            },
        ))
        .then_expect_events(vec![InterviewTaskEvent::Session(
            SessionEvent::VideoWitnessRecorded {
                recording_name: "20261123配偶甲S1001".into(),
                storage_ref: "blob://spouse".into(),
                id_number: Some(SPOUSE_ID.into()),
            },
        )]);
}

/// 000 放回: the seat that puts the task back leaves the room; the next seat's
/// call starts with an empty room, so the borrower joins it afresh.
#[test]
fn putting_the_task_back_empties_the_room() {
    let mut events = in_room();
    events.push(joined(BORROWER_ID, "邓小闲", 1, false, minutes(-3)));
    events.push(InterviewTaskEvent::InterviewPutBack {
        seat_no: "S1".into(),
        reason: "客户网络中断".into(),
        put_back_at: minutes(-2),
    });
    events.push(InterviewTaskEvent::InterviewStarted {
        seat_no: "S2".into(),
        started_at: minutes(-1),
    });
    TaskTest::with(services())
        .given(events)
        .when(join(BORROWER_ID))
        .then_expect_events(vec![joined(BORROWER_ID, "邓小闲", 1, false, now())]);
}
