//! Seats, appointments, reschedules and timers end to end (001, 000, 004).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use domain::customer_agenda::{agenda_id, CustomerAgenda};
use domain::interview_task::{IdType, Participant};
use serde_json::{json, Value};

use crate::support::on_both_backends;
use crate::support::scheduling::{
    book_mutation, resident_id, seat, slot_vars, task_with, tomorrow_at, HOURS, TASK_FIELDS,
};
use crate::support::{data, error_code, settings, Backend, TestApp};

const BORROWER_ID: &str = "410102198503121017";

const CALENDAR: &str = r#"query($seat: String!, $from: DateTime!, $to: DateTime!) { seatCalendar(seatNo: $seat, from: $from, to: $to) { taskId start end } }"#;
const TASK: &str = r#"query($id: ID!) { task(id: $id) { id status seatNo appointmentStart rescheduleCount bookingStatus version } }"#;
const SMS: &str = r#"query($id: ID!) { smsMessages(taskId: $id) { phone template body } }"#;

fn reschedule_mutation() -> String {
    format!("mutation($taskId: ID!, $start: DateTime!, $end: DateTime!, $behalf: Boolean = false) {{ rescheduleAppointment(taskId: $taskId, start: $start, end: $end, onBehalfOfBorrower: $behalf) {{ {TASK_FIELDS} }} }}")
}

fn reassign_mutation() -> String {
    format!("mutation($taskId: ID!, $seat: String!) {{ reassignAppointment(taskId: $taskId, seatNo: $seat) {{ {TASK_FIELDS} }} }}")
}

async fn calendar(app: &TestApp, seat_no: &str) -> Vec<Value> {
    let from = tomorrow_at(0, 0) - chrono::Duration::days(1);
    let response = app
        .graphql(
            CALENDAR,
            json!({ "seat": seat_no, "from": from.to_rfc3339(), "to": (from + chrono::Duration::days(30)).to_rfc3339() }),
        )
        .await;
    data(&response)["seatCalendar"].as_array().unwrap().clone()
}

async fn agenda_bookings(app: &TestApp, id_number: &str) -> usize {
    let database = store::Database::connect(&app.db.url, 2).await.unwrap();
    let bus = store::CommandBus::new(
        &database,
        domain::services::DomainServices::new(
            Arc::new(store::SystemClock),
            Arc::new(store::UuidV7Ids),
        ),
        1,
        Arc::new(store::Metrics::default()),
    );
    let person = Participant {
        name: String::new(),
        id_type: IdType::IdCard,
        id_number: id_number.to_string(),
        phone: String::new(),
        roles: Default::default(),
        marital_status: None,
        relation_to_borrower: None,
    };
    let (agenda, _) = bus
        .load::<CustomerAgenda>(&agenda_id(&person))
        .await
        .unwrap();
    database.close().await;
    agenda.bookings().len()
}

on_both_backends!(
    book_reschedule_twice_then_the_third_is_refused,
    concurrent_bookings_of_one_slot_leave_exactly_one,
    a_person_is_never_booked_twice_at_once,
    disable_waits_for_reassignment,
);

/// 001_d165f826565a3102.txt 2.6.1: 主借人在线改约, 仅更新任务时间, 不重新生成新的面谈任务,
/// 改约次数不得超过 2 次; 2.9.3: the notice SMS goes out for each booking.
async fn book_reschedule_twice_then_the_third_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seat(&app, "S1").await;
    let id = task_with(&app, "HT-SCH-1", BORROWER_ID).await;

    let booked = app
        .graphql(&book_mutation(), slot_vars(&id, "S1", tomorrow_at(10, 0)))
        .await;
    let task = &data(&booked)["bookAppointment"]["task"];
    assert_eq!(task["status"], "PENDING");
    assert_eq!(task["seatNo"], "S1");
    assert_eq!(task["bookingStatus"], "CONFIRMED");
    assert_eq!(task["rescheduleCount"], 0);
    assert_eq!(
        task["appointmentStart"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        tomorrow_at(10, 0)
    );

    let stranger = app
        .graphql_as(
            (&resident_id(77), "CUSTOMER"),
            &reschedule_mutation(),
            slot_vars(&id, "S1", tomorrow_at(11, 0)),
        )
        .await;
    // Someone else's task does not exist for a customer (docs/security.md, ownership).
    assert_eq!(error_code(&stranger), "NOT_FOUND");

    let first = app
        .graphql_as(
            (BORROWER_ID, "CUSTOMER"),
            &reschedule_mutation(),
            slot_vars(&id, "S1", tomorrow_at(11, 0)),
        )
        .await;
    let task = &data(&first)["rescheduleAppointment"]["task"];
    assert_eq!(task["id"], id.as_str(), "a reschedule keeps the task");
    assert_eq!(task["rescheduleCount"], 1);

    let mut vars = slot_vars(&id, "S1", tomorrow_at(12, 0));
    vars["behalf"] = json!(true);
    let second = app
        .graphql_as(("M0001", "ACCOUNT_MANAGER"), &reschedule_mutation(), vars)
        .await;
    assert_eq!(
        data(&second)["rescheduleAppointment"]["task"]["rescheduleCount"],
        2
    );

    let events_before = app.event_count().await;
    let task_before = app.graphql(TASK, json!({ "id": id })).await;
    let third = app
        .graphql_as(
            (BORROWER_ID, "CUSTOMER"),
            &reschedule_mutation(),
            slot_vars(&id, "S1", tomorrow_at(13, 0)),
        )
        .await;
    assert_eq!(error_code(&third), "INVALID_TRANSITION");
    assert!(third["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("改约 2 次"));
    assert_eq!(app.event_count().await, events_before, "nothing appended");
    assert_eq!(app.graphql(TASK, json!({ "id": id })).await, task_before);

    // The old slots were handed back: one booking, at the latest time.
    let bookings = calendar(&app, "S1").await;
    assert_eq!(bookings.len(), 1, "{bookings:?}");
    assert_eq!(bookings[0]["taskId"], id.as_str());
    assert_eq!(
        bookings[0]["start"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        tomorrow_at(12, 0)
    );
    assert_eq!(agenda_bookings(&app, BORROWER_ID).await, 1);

    let sms = app
        .graphql_as(("AU01", "AUDITOR"), SMS, json!({ "id": id }))
        .await;
    let messages = data(&sms)["smsMessages"].as_array().unwrap().clone();
    assert_eq!(
        messages.len(),
        3,
        "one notice per confirmed booking: {messages:?}"
    );
    assert_eq!(messages[0]["phone"], "138****8000");
    assert!(
        messages[2]["body"]
            .as_str()
            .unwrap()
            .starts_with("尊敬的借*人, 您于"),
        "an auditor reads the text masked like the name (issue 31)"
    );
    let window = tomorrow_at(12, 0).with_timezone(&domain::schedule::shanghai());
    assert!(messages[2]["body"]
        .as_str()
        .unwrap()
        .contains(&format!("{}12:00 至", window.format("%Y%m%d"))));

    let db = app.stop().await;
    let engine = facesign::Engine::open(&settings(&db.url)).await.unwrap();
    let pool = engine.database.read_models().clone();
    let live = projections::SeatCalendar::all_rows(&pool).await.unwrap();
    let live_board = projections::TaskBoard::all_rows(&pool).await.unwrap();
    engine.replay("seat_calendar").await.unwrap();
    engine.replay("task_board").await.unwrap();
    assert_eq!(
        projections::SeatCalendar::all_rows(&pool).await.unwrap(),
        live
    );
    assert_eq!(
        projections::TaskBoard::all_rows(&pool).await.unwrap(),
        live_board
    );
    engine.database.close().await;
}

/// 001_d165f826565a3102.txt 2.6.2: 已预约时间段置灰不可选 — many customers race
/// for one slot: exactly one wins and nothing half-booked remains.
async fn concurrent_bookings_of_one_slot_leave_exactly_one(backend: Backend) {
    let app = Arc::new(TestApp::spawn(backend).await);
    seat(&app, "S1").await;
    let mut tasks = Vec::new();
    for n in 0..8 {
        let borrower = resident_id(n);
        tasks.push((
            task_with(&app, &format!("HT-RACE-{n}"), &borrower).await,
            borrower,
        ));
    }
    let start = tomorrow_at(15, 0);
    let handles: Vec<_> = tasks
        .iter()
        .map(|(id, _)| {
            let app = app.clone();
            let vars = slot_vars(id, "S1", start);
            tokio::spawn(async move { app.graphql(&book_mutation(), vars).await })
        })
        .collect();
    let mut winners = Vec::new();
    for (handle, (id, borrower)) in handles.into_iter().zip(&tasks) {
        let response = handle.await.unwrap();
        if response.get("errors").is_none() {
            winners.push((id.clone(), borrower.clone()));
        } else {
            assert_eq!(error_code(&response), "CONFLICT", "{response}");
        }
    }
    assert_eq!(winners.len(), 1, "exactly one booking wins");
    let bookings = calendar(&app, "S1").await;
    assert_eq!(bookings.len(), 1);
    assert_eq!(bookings[0]["taskId"], winners[0].0.as_str());
    for (id, borrower) in &tasks {
        let won = *id == winners[0].0;
        assert_eq!(agenda_bookings(&app, borrower).await, usize::from(won));
        let row = app.graphql(TASK, json!({ "id": id })).await;
        let task = &data(&row)["task"];
        if won {
            assert_eq!(task["bookingStatus"], "CONFIRMED");
        } else {
            assert_eq!(task["bookingStatus"], "REFUSED");
            assert_eq!(task["seatNo"], Value::Null);
        }
    }
    Arc::into_inner(app).expect("sole owner").stop().await;
}

/// 001_d165f826565a3102.txt 2.7.1: 防重处理 — the same person on two contracts
/// cannot be interviewed twice at the same time, even with two seats.
async fn a_person_is_never_booked_twice_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seat(&app, "S1").await;
    seat(&app, "S2").await;
    let first = task_with(&app, "HT-P-1", BORROWER_ID).await;
    let second = task_with(&app, "HT-P-2", BORROWER_ID).await;
    let start = tomorrow_at(9, 0);
    data(
        &app.graphql(&book_mutation(), slot_vars(&first, "S1", start))
            .await,
    );
    let clash = app
        .graphql(
            &book_mutation(),
            slot_vars(&second, "S2", start + chrono::Duration::minutes(15)),
        )
        .await;
    assert_eq!(error_code(&clash), "CONFLICT");
    assert!(clash["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("参与人"));
    assert!(
        calendar(&app, "S2").await.is_empty(),
        "the seat booking was released"
    );
    // Another time is fine.
    let later = app
        .graphql(
            &book_mutation(),
            slot_vars(&second, "S2", start + chrono::Duration::hours(1)),
        )
        .await;
    assert_eq!(data(&later)["bookAppointment"]["task"]["seatNo"], "S2");
    assert_eq!(agenda_bookings(&app, BORROWER_ID).await, 2);
    app.stop().await;
}

/// 001_d165f826565a3102.txt 2.4.6: 若当前坐席有未完成的预约任务则不可操作停用,
/// 需由主管将案件转出给其他坐席方可停用; 仅启用状态的坐席可供预约.
async fn disable_waits_for_reassignment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seat(&app, "S1").await;
    seat(&app, "S2").await;
    let id = task_with(&app, "HT-D-1", BORROWER_ID).await;
    data(
        &app.graphql(&book_mutation(), slot_vars(&id, "S1", tomorrow_at(14, 0)))
            .await,
    );

    const DISABLE: &str =
        r#"mutation($seat: String!) { disableSeat(seatNo: $seat) { seat { enabled } } }"#;
    let refused = app
        .graphql_as(("A001", "SUPERVISOR"), DISABLE, json!({ "seat": "S1" }))
        .await;
    assert_eq!(error_code(&refused), "INVALID_TRANSITION");
    assert!(refused["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains(&id));

    let by_seat = app
        .graphql_as(
            ("S9", "SEAT"),
            &reassign_mutation(),
            json!({ "taskId": id, "seat": "S2" }),
        )
        .await;
    assert_eq!(error_code(&by_seat), "FORBIDDEN");
    let moved = app
        .graphql_as(
            ("A001", "SUPERVISOR"),
            &reassign_mutation(),
            json!({ "taskId": id, "seat": "S2" }),
        )
        .await;
    let task = &data(&moved)["reassignAppointment"]["task"];
    assert_eq!(task["seatNo"], "S2");
    assert_eq!(
        task["rescheduleCount"], 0,
        "a reassignment is not a reschedule"
    );
    assert_eq!(
        task["appointmentStart"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        tomorrow_at(14, 0)
    );
    assert!(calendar(&app, "S1").await.is_empty());

    let disabled = app
        .graphql_as(("A001", "SUPERVISOR"), DISABLE, json!({ "seat": "S1" }))
        .await;
    assert_eq!(data(&disabled)["disableSeat"]["seat"]["enabled"], false);
    let other = task_with(&app, "HT-D-2", &resident_id(5)).await;
    let on_disabled = app
        .graphql(
            &book_mutation(),
            slot_vars(&other, "S1", tomorrow_at(16, 0)),
        )
        .await;
    assert_eq!(error_code(&on_disabled), "INVALID_TRANSITION");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bookings_and_working_hours_change_nothing() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    seat(&app, "S1").await;
    seat(&app, "S2").await;
    let id = task_with(&app, "HT-BAD-1", BORROWER_ID).await;
    let events = app.event_count().await;

    let unknown_seat = app
        .graphql_as(
            ("A001", "SUPERVISOR"),
            HOURS,
            json!({ "seats": ["S1", "NOPE"], "hours": [{ "weekday": "MON", "start": "09:00:00", "end": "18:00:00" }] }),
        )
        .await;
    assert_eq!(error_code(&unknown_seat), "NOT_FOUND");
    let backwards = app
        .graphql_as(
            ("A001", "SUPERVISOR"),
            HOURS,
            json!({ "seats": ["S1"], "hours": [{ "weekday": "MON", "start": "18:00:00", "end": "09:00:00" }] }),
        )
        .await;
    assert_eq!(error_code(&backwards), "VALIDATION");
    let too_far = app
        .graphql(
            &book_mutation(),
            slot_vars(&id, "S1", tomorrow_at(10, 0) + chrono::Duration::days(40)),
        )
        .await;
    assert_eq!(error_code(&too_far), "VALIDATION");
    let backwards_slot = app
        .graphql(
            &book_mutation(),
            json!({ "taskId": id, "seat": "S1", "start": tomorrow_at(10, 0).to_rfc3339(), "end": tomorrow_at(9, 0).to_rfc3339() }),
        )
        .await;
    assert_eq!(error_code(&backwards_slot), "VALIDATION");
    assert_eq!(app.event_count().await, events, "nothing changed");

    // Several seats in one command (批量设置工作时间).
    let weekdays = ["MON", "TUE", "WED", "THU", "FRI"]
        .iter()
        .map(|d| json!({ "weekday": d, "start": "09:00:00", "end": "18:00:00" }))
        .collect::<Vec<_>>();
    let both = app
        .graphql_as(
            ("A001", "SUPERVISOR"),
            HOURS,
            json!({ "seats": ["S1", "S2"], "hours": weekdays }),
        )
        .await;
    let results = data(&both)["setWorkingHours"].as_array().unwrap().clone();
    assert_eq!(results.len(), 2);
    for result in &results {
        assert_eq!(result["seat"]["workingHours"].as_array().unwrap().len(), 5);
    }
    // Outside the new hours: 20:00 on a weekday or any time at the weekend.
    let mut evening = tomorrow_at(20, 0);
    while evening
        .with_timezone(&domain::schedule::shanghai())
        .weekday()
        .number_from_monday()
        > 5
    {
        evening += chrono::Duration::days(1);
    }
    let outside = app
        .graphql(&book_mutation(), slot_vars(&id, "S1", evening))
        .await;
    assert_eq!(error_code(&outside), "VALIDATION");
    assert!(outside["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("工作时间"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_slots_leave_out_booked_ones() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    seat(&app, "S1").await;
    let id = task_with(&app, "HT-FREE-1", BORROWER_ID).await;
    data(
        &app.graphql(&book_mutation(), slot_vars(&id, "S1", tomorrow_at(10, 0)))
            .await,
    );
    const FREE: &str = r#"query($from: DateTime!, $to: DateTime!, $product: String, $channel: String) {
        freeSlots(from: $from, to: $to, productCode: $product, channelCode: $channel) { seatNo start } }"#;
    let response = app
        .graphql(
            FREE,
            json!({ "from": tomorrow_at(9, 0).to_rfc3339(), "to": tomorrow_at(11, 30).to_rfc3339(), "product": "YXD", "channel": "YYZX" }),
        )
        .await;
    let starts: Vec<DateTime<Utc>> = data(&response)["freeSlots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        starts,
        vec![
            tomorrow_at(9, 0),
            tomorrow_at(9, 30),
            tomorrow_at(10, 30),
            tomorrow_at(11, 0)
        ]
    );
    let other_product = app
        .graphql(
            FREE,
            json!({ "from": tomorrow_at(9, 0).to_rfc3339(), "to": tomorrow_at(11, 30).to_rfc3339(), "product": "CAR_LOAN" }),
        )
        .await;
    assert!(data(&other_product)["freeSlots"]
        .as_array()
        .unwrap()
        .is_empty());
    app.stop().await;
}

/// Timers are rows: after a restart past the window, the reminder and the
/// expiry still fire; then the expired task may be rescheduled (001 2.6.1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_fire_after_a_restart_and_an_expired_task_can_be_rescheduled() {
    let clock = Arc::new(store::ShiftableClock::default());
    let with_clock = |clock: Arc<store::ShiftableClock>| {
        move |url: &str| {
            let mut settings = settings(url);
            settings.clock = clock;
            settings
        }
    };
    let db = crate::support::TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_on(db, with_clock(clock.clone())).await;
    seat(&app, "S1").await;
    let id = task_with(&app, "HT-TIMER-1", BORROWER_ID).await;
    data(
        &app.graphql(&book_mutation(), slot_vars(&id, "S1", tomorrow_at(10, 0)))
            .await,
    );
    let db = app.stop().await;

    clock.advance(chrono::Duration::days(2));
    let app = TestApp::spawn_on(db, with_clock(clock.clone())).await;
    let mut status = Value::Null;
    for _ in 0..100 {
        let task = app.graphql(TASK, json!({ "id": id })).await;
        status = data(&task)["task"]["status"].clone();
        if status == "EXPIRED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "EXPIRED");
    let sms = app.graphql(SMS, json!({ "id": id })).await;
    let messages = data(&sms)["smsMessages"].as_array().unwrap().clone();
    assert_eq!(
        messages.len(),
        2,
        "the notice and the reminder: {messages:?}"
    );

    let new_start = tomorrow_at(10, 0) + chrono::Duration::days(3);
    let rescheduled = app
        .graphql_as(
            (BORROWER_ID, "CUSTOMER"),
            &reschedule_mutation(),
            slot_vars(&id, "S1", new_start),
        )
        .await;
    let task = &data(&rescheduled)["rescheduleAppointment"]["task"];
    assert_eq!(task["status"], "PENDING");
    assert_eq!(task["rescheduleCount"], 1);
    app.stop().await;
}

/// Frontends watch a task change over the graphql-transport-ws protocol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_changes_are_pushed_over_websocket() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let app = TestApp::spawn(Backend::Sqlite).await;
    seat(&app, "S1").await;
    let id = task_with(&app, "HT-WS-1", BORROWER_ID).await;

    let mut request = format!("{}/graphql/ws", app.base.replace("http", "ws"))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = |v: Value| Message::Text(v.to_string().into());
    socket
        .send(send(json!({
            "type": "connection_init",
            "payload": { "authorization": format!("Bearer {}", crate::support::token("S1", "SEAT")) }
        })))
        .await
        .unwrap();
    let ack = loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an answer in time")
            .expect("socket open")
            .unwrap();
        if let Message::Text(text) = message {
            break serde_json::from_str::<Value>(&text).unwrap();
        }
    };
    assert_eq!(ack["type"], "connection_ack");
    socket
        .send(send(json!({
            "id": "1", "type": "subscribe",
            "payload": { "query": "subscription($id: ID) { taskChanged(id: $id) { id status seatNo bookingStatus } }", "variables": { "id": id } }
        })))
        .await
        .unwrap();
    // Give the server a moment to register the subscription before the change.
    tokio::time::sleep(Duration::from_millis(200)).await;
    data(
        &app.graphql(&book_mutation(), slot_vars(&id, "S1", tomorrow_at(10, 0)))
            .await,
    );

    let mut statuses = Vec::new();
    while !statuses.iter().any(|s| s == "CONFIRMED") {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a change pushed in time")
            .unwrap()
            .unwrap();
        let Message::Text(text) = message else {
            continue;
        };
        let event: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(event["type"], "next", "{event}");
        let task = &event["payload"]["data"]["taskChanged"];
        assert_eq!(task["id"], id.as_str());
        statuses.push(
            task["bookingStatus"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    // Each push carries the row as it is then: the request and its confirmation
    // may land in one projection batch, so the first push may already be confirmed.
    assert!(
        statuses
            .iter()
            .all(|s| s == "REQUESTED" || s == "CONFIRMED"),
        "{statuses:?}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_board_filters_by_seat_product_channel_and_date() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    seat(&app, "S1").await;
    seat(&app, "S2").await;
    let on_s1 = task_with(&app, "HT-F-1", &resident_id(11)).await;
    let on_s2 = task_with(&app, "HT-F-2", &resident_id(12)).await;
    let unbooked = task_with(&app, "HT-F-3", &resident_id(13)).await;
    data(
        &app.graphql(&book_mutation(), slot_vars(&on_s1, "S1", tomorrow_at(9, 0)))
            .await,
    );
    data(
        &app.graphql(
            &book_mutation(),
            slot_vars(&on_s2, "S2", tomorrow_at(15, 0)),
        )
        .await,
    );
    const BOARD: &str = r#"query($filter: TaskFilterInput) { tasks(first: 50, filter: $filter) { edges { node { id } } } }"#;
    let ids = |response: Value| -> Vec<String> {
        data(&response)["tasks"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(app
            .graphql(BOARD, json!({ "filter": { "seatNo": "S1" } }))
            .await),
        std::slice::from_ref(&on_s1)
    );
    let morning = json!({ "filter": { "from": tomorrow_at(8, 0).to_rfc3339(), "to": tomorrow_at(12, 0).to_rfc3339() } });
    assert_eq!(
        ids(app.graphql(BOARD, morning).await),
        std::slice::from_ref(&on_s1)
    );
    let all_yxd = ids(app
        .graphql(
            BOARD,
            json!({ "filter": { "productCode": "YXD", "channelCode": "YYZX" } }),
        )
        .await);
    assert_eq!(all_yxd, [unbooked, on_s2, on_s1]);
    assert!(ids(app
        .graphql(BOARD, json!({ "filter": { "channelCode": "WECHAT" } }))
        .await)
    .is_empty());
    app.stop().await;
}
