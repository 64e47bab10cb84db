//! Demo data for a first look at the engine (`facesign serve --demo`, `facesign seed-demo`).

use chrono::{DateTime, Datelike, NaiveTime, TimeZone, Utc, Weekday};
use domain::interview_task::{
    AppointmentPurpose, CancelInterviewTask, CreateInterviewTask, IdType, InterviewTask,
    InterviewTaskCommand, ParticipantInput, ParticipantRole, RequestAppointment, Requester,
    TaskKind,
};
use domain::log::{Actor, EventLogReader};
use domain::schedule::{shanghai, WeeklyHours, WorkingPeriod};
use domain::seat::{Seat, SeatCommand};
use tracing::info;

use crate::Engine;

fn person(name: &str, id: &str, phone: &str, roles: &[ParticipantRole]) -> ParticipantInput {
    ParticipantInput {
        name: name.to_string(),
        id_type: IdType::IdCard,
        id_number: id.to_string(),
        phone: phone.to_string(),
        roles: roles.to_vec(),
        marital_status: None,
        relation_to_borrower: None,
    }
}

/// Creates a handful of interview tasks (one cancelled) unless the log already has events.
pub async fn seed(engine: &Engine) -> anyhow::Result<usize> {
    if engine.log.head().await? != domain::log::LogPosition::START {
        info!("log is not empty; demo data not seeded");
        return Ok(0);
    }
    use ParticipantRole::*;
    let cases = [
        (
            "HT-2026-0001",
            TaskKind::YongxuVideoInterview,
            vec![
                person("邓小闲", "410102198503121017", "15618293093", &[Borrower]),
                person("邓小闲", "410102198503121017", "15618293093", &[CoOwner]),
                person(
                    "李婉清",
                    "410102198707222020",
                    "13912345678",
                    &[Spouse, CoOwner],
                ),
            ],
        ),
        (
            "HT-2026-0002",
            TaskKind::YongxuVideoInterview,
            vec![
                person("王建国", "310115199001013035", "13600001111", &[Borrower]),
                person("赵保民", "440305197811114047", "13700002222", &[Guarantor]),
            ],
        ),
        (
            "HT-2026-0003",
            TaskKind::YundaiDirect,
            vec![person(
                "孙丽华",
                "11010819920505505X",
                "18800003333",
                &[Borrower],
            )],
        ),
        (
            "HT-2026-0004",
            TaskKind::YundaiIndirect,
            vec![
                person("周海涛", "32010619881230606X", "18900004444", &[Borrower]),
                person("吴敏", "410302198008087078", "13500005555", &[CoBorrower]),
            ],
        ),
        (
            "HT-2026-0005",
            TaskKind::Yunce,
            vec![person(
                "钱多多",
                "410302198008087078",
                "13500005555",
                &[Borrower],
            )],
        ),
    ];
    let actor = Actor::system("demo-seed");
    let mut created = Vec::new();
    for (contract_no, kind, participants) in cases {
        let id = engine.bus.services().ids.new_id().to_string();
        let context =
            store::CommandContext::for_request(actor.clone(), format!("demo-{contract_no}"));
        let command = InterviewTaskCommand::Create(CreateInterviewTask {
            lineage: None,
            task_id: id.clone(),
            contract_no: contract_no.to_string(),
            kind,
            product_code: if kind == TaskKind::YongxuVideoInterview {
                "YXD"
            } else {
                "YD"
            }
            .to_string(),
            channel_code: "YYZX".to_string(),
            manager_id: "M0001".to_string(),
            participants,
            property_location: None,
            loan_info: None,
        });
        engine
            .bus
            .execute::<InterviewTask>(&id, command, &context)
            .await?;
        created.push(id);
    }
    seed_seats(engine, &actor).await?;
    seed_operations_centre(engine, &actor).await?;
    let start = next_weekday_at_ten(engine.bus.services().clock.now());
    let context = store::CommandContext::for_request(actor.clone(), "demo-booking".to_string());
    engine
        .bus
        .execute::<InterviewTask>(
            &created[0],
            InterviewTaskCommand::RequestAppointment(RequestAppointment {
                booking_id: engine.bus.services().ids.new_id(),
                purpose: AppointmentPurpose::Book,
                seat_no: "S001".to_string(),
                start,
                end: start + chrono::Duration::minutes(30),
                requester: Requester {
                    actor_id: "M0001".to_string(),
                    role: "ACCOUNT_MANAGER".to_string(),
                    on_behalf_of_borrower: false,
                },
            }),
            &context,
        )
        .await?;
    let context = store::CommandContext::for_request(actor, "demo-cancel".to_string());
    engine
        .bus
        .execute::<InterviewTask>(
            &created[4],
            InterviewTaskCommand::Cancel(CancelInterviewTask {
                reason: "客户主动放弃".to_string(),
            }),
            &context,
        )
        .await?;
    info!(tasks = created.len(), "demo data seeded");
    Ok(created.len())
}

/// Two seats serving every demo product, weekdays 09:00–18:00 Shanghai time.
async fn seed_seats(engine: &Engine, actor: &Actor) -> anyhow::Result<()> {
    let hours = WeeklyHours(
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ]
        .into_iter()
        .map(|weekday| WorkingPeriod {
            weekday,
            start: NaiveTime::from_hms_opt(9, 0, 0).expect("valid time"),
            end: NaiveTime::from_hms_opt(18, 0, 0).expect("valid time"),
        })
        .collect(),
    );
    for (seat_no, name) in [("S001", "张坐席"), ("S002", "李坐席")] {
        let context = store::CommandContext::for_request(actor.clone(), format!("demo-{seat_no}"));
        let commands = [
            SeatCommand::Register {
                name: name.to_string(),
                groups: vec!["永续贷组".to_string()],
                skills: vec!["YXD".to_string(), "YD".to_string(), "YYZX".to_string()],
            },
            SeatCommand::SetWorkingHours {
                hours: hours.clone(),
            },
        ];
        for command in commands {
            engine
                .bus
                .execute::<Seat>(seat_no, command, &context)
                .await?;
        }
    }
    Ok(())
}

/// The 原银在线 channel (enabled), a default script and one for 永续贷 on it,
/// and an autoplay risk notice, so the queue and the workstation have something
/// to show.
async fn seed_operations_centre(engine: &Engine, actor: &Actor) -> anyhow::Result<()> {
    use domain::channel::{Channel, ChannelCommand, ChannelSettings};
    use domain::media_asset::{MediaAsset, MediaCategory, MediaCommand, MediaSettings};
    use domain::script_catalog::{Script, ScriptCatalog, ScriptCommand, CATALOG_ID};
    let context = store::CommandContext::for_request(actor.clone(), "demo-operations".into());
    let channel = ChannelSettings {
        name: "原银在线".into(),
        org_name: "直销银行部".into(),
        org_code: "0001".into(),
        ..ChannelSettings::default()
    };
    for command in [ChannelCommand::Create(channel), ChannelCommand::Enable] {
        engine
            .bus
            .execute::<Channel>("YYZX", command, &context)
            .await?;
    }
    let scripts = [
        ("DEFAULT", "", "", "您好，我是本次视频面谈的坐席，本次面谈将全程录音录像。"),
        (
            "YXD-YYZX",
            "YYZX",
            "YXD",
            "您好，本次面谈确认您申请永续贷的真实意愿与贷款用途，贷款不得用于股票投资、购房等用途。",
        ),
    ];
    for (code, channel_code, product_code, content) in scripts {
        let script = Script {
            channel_code: channel_code.into(),
            product_code: product_code.into(),
            content: content.into(),
            ..Script::default()
        };
        let command = ScriptCommand::Add {
            code: code.into(),
            script,
        };
        engine
            .bus
            .execute::<ScriptCatalog>(CATALOG_ID, command, &context)
            .await?;
    }
    let notice = MediaSettings {
        title: "贷款不得用于股票投资等二级市场".into(),
        category: MediaCategory::RiskNotice,
        url: "/media/risk-notice.mp4".into(),
        autoplay: true,
        no_skip: true,
    };
    for command in [MediaCommand::Create(notice), MediaCommand::Enable] {
        engine
            .bus
            .execute::<MediaAsset>("RISK-01", command, &context)
            .await?;
    }
    Ok(())
}

/// 10:00 Shanghai time on the next weekday after today.
fn next_weekday_at_ten(now: DateTime<Utc>) -> DateTime<Utc> {
    let mut day = domain::schedule::shanghai_date(now);
    loop {
        day = day.succ_opt().expect("a next day");
        if day.weekday().number_from_monday() <= 5 {
            break;
        }
    }
    shanghai()
        .from_local_datetime(&day.and_time(NaiveTime::from_hms_opt(10, 0, 0).expect("valid time")))
        .single()
        .expect("Shanghai has no DST gaps")
        .to_utc()
}
