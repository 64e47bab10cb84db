//! Queue and dispatch end to end (001 2.2.2, 2.4.4; 004 3.1, 3.6, 4.3).

use std::sync::Arc;

use chrono::{Datelike, Utc};
use serde_json::{json, Value};

use crate::support::dispatch::open_channel;
use crate::support::on_both_backends;
use crate::support::partners::eventually;
use crate::support::scheduling::{book_mutation, slot_vars, tomorrow_at};
use crate::support::scheduling::{seat, task_with};
use crate::support::{data, error_code, settings, Backend, Subscription, TestApp, TestDb};

const BORROWER: &str = "410102198503121017";
const OTHER_BORROWER: &str = "11010519491231002X";
const ADMIN: (&str, &str) = ("A001", "ADMIN");
const REFUSED: &str = "当前渠道未被授权接入我行视频坐席，请联系您的客户经理。";
const CALL_FIELDS: &str =
    "callId status refusal seatNo dispatchReason position waiting estimatedWaitSeconds";

on_both_backends!(
    a_refused_customer_queues_once_the_channel_is_enabled_and_reaches_the_familiar_seat,
    the_seat_that_created_a_work_order_is_familiar,
    with_seat_groups_a_seat_in_none_answers_only_when_allowed,
    a_booked_customer_calls_in_only_around_the_window,
    a_call_that_rings_out_goes_to_the_next_seat_then_waits_to_be_taken
);

async fn join(app: &TestApp, borrower: &str, task: &str) -> Value {
    let response = app
        .graphql_as(
            (borrower, "CUSTOMER"),
            &format!("mutation($task: ID!) {{ joinQueue(input: {{ taskId: $task, channelCode: \"YYZX\" }}) {{ {CALL_FIELDS} }} }}"),
            json!({ "task": task }),
        )
        .await;
    data(&response)["joinQueue"].clone()
}

/// A call as the supervisor sees it (a seat reads only calls given to it).
async fn call(app: &TestApp, id: &Value) -> Value {
    let response = app
        .graphql_as(
            ("SV1", "SUPERVISOR"),
            &format!("query($id: ID!) {{ inboundCall(callId: $id) {{ {CALL_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    data(&response)["inboundCall"].clone()
}

async fn on_call(app: &TestApp, seat: &str, mutation: &str, id: &Value) -> Value {
    let args = if mutation == "answerCall" {
        format!("callId: $id, seatNo: \"{seat}\"")
    } else {
        "callId: $id".to_string()
    };
    app.graphql_as(
        (seat, "SEAT"),
        &format!("mutation($id: ID!) {{ {mutation}({args}) {{ {CALL_FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await
}

async fn presence(app: &TestApp, seat: &str, mutation: &str) {
    let query = match mutation {
        "signIn" | "signOut" => format!("mutation {{ {mutation}(seatNo: \"{seat}\") {{ seat {{ presence }} }} }}"),
        presence => format!("mutation {{ setPresence(seatNo: \"{seat}\", presence: {presence}) {{ seat {{ presence }} }} }}"),
    };
    data(&app.graphql_as((seat, "SEAT"), &query, json!({})).await);
}

async fn seat_state(app: &TestApp, seat: &str) -> Value {
    let response = app
        .graphql_as(
            ("A001", "SUPERVISOR"),
            &format!("{{ seat(seatNo: \"{seat}\") {{ presence signedIn }} }}"),
            json!({}),
        )
        .await;
    data(&response)["seat"].clone()
}

/// 001_d165f826565a3102.txt 2.2.2 and 2.4.4, 004_448cd5ace309d8b2.txt 3.6: a disabled
/// channel refuses with exactly 当前渠道未被授权接入我行视频坐席，请联系您的客户经理。; once
/// enabled the customer queues, sees their place and the wait pushed live, and is
/// dispatched to the seat that served them before (熟客优先) ahead of the queue
/// behind them; the seat answers (忙碌) and hangs up (话后处理).
async fn a_refused_customer_queues_once_the_channel_is_enabled_and_reaches_the_familiar_seat(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    for s in ["S1", "S2"] {
        seat(&app, s).await;
    }
    let task = task_with(&app, "HT-DISPATCH-1", BORROWER).await;
    let other_task = task_with(&app, "HT-DISPATCH-2", OTHER_BORROWER).await;
    open_channel(&app, false).await;

    let refused = join(&app, BORROWER, &task).await;
    assert_eq!(refused["status"], "REFUSED");
    assert_eq!(refused["refusal"], REFUSED, "the exact text of 001 2.2.2");
    assert_eq!(refused["position"], Value::Null);

    data(
        &app.graphql_as(
            ADMIN,
            r#"mutation { enableChannel(code: "YYZX") { enabled } }"#,
            json!({}),
        )
        .await,
    );

    // S2 serves this customer once: it is the only seat on duty.
    presence(&app, "S2", "signIn").await;
    let first = join(&app, BORROWER, &task).await;
    assert_eq!(first["status"], "DISPATCHED", "{first}");
    assert_eq!(first["seatNo"], "S2");
    let by_other_seat = on_call(&app, "S1", "answerCall", &first["callId"]).await;
    assert_eq!(
        error_code(&by_other_seat),
        "INVALID_TRANSITION",
        "only the seat given the call answers"
    );
    let answered =
        data(&on_call(&app, "S2", "answerCall", &first["callId"]).await)["answerCall"].clone();
    assert_eq!(answered["status"], "ANSWERED");
    assert_eq!(seat_state(&app, "S2").await["presence"], "BUSY");
    data(&on_call(&app, "S2", "endInboundCall", &first["callId"]).await);
    assert_eq!(seat_state(&app, "S2").await["presence"], "AFTER_CALL");

    // Nobody free: both customers wait, in order, with an estimate.
    presence(&app, "S1", "signIn").await;
    presence(&app, "S1", "PAUSED").await;
    let waiting = join(&app, BORROWER, &task).await;
    assert_eq!(waiting["status"], "QUEUED");
    assert_eq!(waiting["position"], 1);
    assert!(waiting["estimatedWaitSeconds"].as_i64().unwrap() > 0);
    let behind = join(&app, OTHER_BORROWER, &other_task).await;
    assert_eq!(behind["position"], 2);
    assert_eq!(behind["waiting"], 2);
    let mut ticket = Subscription::start(
        &app,
        (OTHER_BORROWER, "CUSTOMER"),
        "subscription($id: ID!) { queueTicket(callId: $id) { status position seatNo } }",
        json!({ "id": behind["callId"] }),
    )
    .await;
    assert_eq!(ticket.next_data().await["queueTicket"]["position"], 2);

    // S2 comes back: the first customer goes to it as a familiar seat.
    presence(&app, "S2", "IDLE").await;
    let familiar = call(&app, &waiting["callId"]).await;
    assert_eq!(familiar["status"], "DISPATCHED");
    assert_eq!(familiar["seatNo"], "S2");
    assert_eq!(familiar["dispatchReason"], "FAMILIAR");
    let moved_up = loop {
        let pushed = ticket.next_data().await["queueTicket"].clone();
        if pushed["position"] == 1 {
            break pushed;
        }
    };
    assert_eq!(moved_up["status"], "QUEUED");

    // S1 comes back: the second customer is dispatched there, pushed live.
    presence(&app, "S1", "IDLE").await;
    let dispatched = loop {
        let pushed = ticket.next_data().await["queueTicket"].clone();
        if pushed["status"] == "DISPATCHED" {
            break pushed;
        }
    };
    assert_eq!(dispatched["seatNo"], "S1");
    assert_eq!(
        seat_state(&app, "S1").await["presence"],
        "IDLE",
        "ringing, not yet 忙碌"
    );
    let sign_out = app
        .graphql_as(
            ("S1", "SEAT"),
            r#"mutation { signOut(seatNo: "S1") { seat { signedIn } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        error_code(&sign_out),
        "INVALID_TRANSITION",
        "a call rings at the seat"
    );
    app.stop().await;
}

/// 001_d165f826565a3102.txt 2.3.1 队列管理 and 2.4.4.3: before the video connects
/// the call moves to another free seat (指定转出, 随机转出); a customer can leave
/// the queue (004_448cd5ace309d8b2.txt 4.3) and the seat is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_transferred_before_the_answer_and_cancelled_from_the_queue() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for s in ["S1", "S2", "S3"] {
        seat(&app, s).await;
    }
    open_channel(&app, true).await;
    data(
        &app.graphql_as(
            ADMIN,
            r#"mutation { configureDispatchRule(idleSeatRule: LEAST_BUSY) }"#,
            json!({}),
        )
        .await,
    );
    let task = task_with(&app, "HT-TRANSFER-1", BORROWER).await;
    presence(&app, "S1", "signIn").await;
    let first = join(&app, BORROWER, &task).await;
    assert_eq!(first["seatNo"], "S1");
    assert_eq!(first["dispatchReason"], "LEAST_BUSY");

    const TRANSFER: &str = r#"mutation($id: ID!, $to: String) { transferCall(callId: $id, toSeat: $to) { status seatNo dispatchReason } }"#;
    let to_busy = app
        .graphql_as(
            ("S1", "SEAT"),
            TRANSFER,
            json!({ "id": first["callId"], "to": "S2" }),
        )
        .await;
    assert_eq!(
        error_code(&to_busy),
        "INVALID_TRANSITION",
        "S2 is not signed in"
    );
    presence(&app, "S2", "signIn").await;
    let by_stranger = app
        .graphql_as(
            ("S3", "SEAT"),
            TRANSFER,
            json!({ "id": first["callId"], "to": "S2" }),
        )
        .await;
    assert_eq!(error_code(&by_stranger), "FORBIDDEN");
    let moved = app
        .graphql_as(
            ("S1", "SEAT"),
            TRANSFER,
            json!({ "id": first["callId"], "to": "S2" }),
        )
        .await;
    assert_eq!(data(&moved)["transferCall"]["seatNo"], "S2");
    assert_eq!(data(&moved)["transferCall"]["dispatchReason"], "TRANSFER");
    presence(&app, "S3", "signIn").await;
    // S1 got its offer back and may take the next call; a random transfer picks
    // a free seat other than the current one.
    let random = app
        .graphql_as(
            ("A001", "SUPERVISOR"),
            TRANSFER,
            json!({ "id": first["callId"] }),
        )
        .await;
    let to = data(&random)["transferCall"]["seatNo"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(to == "S1" || to == "S3", "{random}");
    let cancelled = app
        .graphql_as(
            (BORROWER, "CUSTOMER"),
            r#"mutation($id: ID!) { cancelQueuedCall(callId: $id) { status } }"#,
            json!({ "id": first["callId"] }),
        )
        .await;
    assert_eq!(data(&cancelled)["cancelQueuedCall"]["status"], "CANCELLED");
    // Every seat is free again: sign-out is allowed everywhere.
    for s in ["S1", "S2", "S3"] {
        presence(&app, s, "signOut").await;
    }
    app.stop().await;
}

/// 001_d165f826565a3102.txt 2.4.4.1 (客户房屋所在地区…多维度) and
/// 004_448cd5ace309d8b2.txt 3.18 (通过将客服归入对应的客服组…客服才可以接听): a call
/// from a region no seat covers waits; putting the seat in a group that covers
/// the region dispatches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_group_extends_what_its_seats_serve() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    seat(&app, "S1").await;
    open_channel(&app, true).await;
    presence(&app, "S1", "signIn").await;
    let task = task_with(&app, "HT-GROUP-1", BORROWER).await;
    let joined = app
        .graphql_as(
            (BORROWER, "CUSTOMER"),
            &format!("mutation($task: ID!) {{ joinQueue(input: {{ taskId: $task, channelCode: \"YYZX\", region: \"北京\" }}) {{ {CALL_FIELDS} }} }}"),
            json!({ "task": task }),
        )
        .await;
    let waiting = data(&joined)["joinQueue"].clone();
    assert_eq!(waiting["status"], "QUEUED", "S1's skills do not cover 北京");
    let group = app
        .graphql_as(
            ADMIN,
            r#"mutation { createSeatGroup(code: "BJ", input: { name: "北京组", skills: ["北京"], seats: ["S1"] }) { code seats } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data(&group)["createSeatGroup"]["seats"], json!(["S1"]));
    let dispatched = call(&app, &waiting["callId"]).await;
    assert_eq!(dispatched["status"], "DISPATCHED");
    assert_eq!(dispatched["seatNo"], "S1");
    app.stop().await;
}

/// 004_448cd5ace309d8b2.txt 3.6: 熟客优先…优先分配给创建/已处理过该任务的坐席 — the
/// seat that created a work order gets its first call, though another seat has
/// been free longer (issue 22 item 4).
async fn the_seat_that_created_a_work_order_is_familiar(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    const ID_NO: &str = "654646464646565";
    for s in ["S1", "S2"] {
        seat(&app, s).await;
    }
    open_channel(&app, true).await;
    presence(&app, "S2", "signIn").await;
    let created = app
        .graphql_as(
            ("S1", "SEAT"),
            r#"mutation($id: String) { createWorkOrder(input: { businessType: "YXD", customerName: "邓小闲", phone: "15618293093", idNumber: $id, caseNo: "646464644664" }) { id } }"#,
            json!({ "id": ID_NO }),
        )
        .await;
    let order = data(&created)["createWorkOrder"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    presence(&app, "S1", "signIn").await;
    let joined = join(&app, ID_NO, &order).await;
    assert_eq!(joined["status"], "DISPATCHED", "{joined}");
    assert_eq!(
        (&joined["seatNo"], &joined["dispatchReason"]),
        (&json!("S1"), &json!("FAMILIAR")),
        "the creator, not S2 which has been free longer"
    );
    app.stop().await;
}

/// 004_448cd5ace309d8b2.txt 3.18: 通过将客服归入对应的客服组…客服才可以接听 — once a
/// seat group exists, a seat in no group is not given the pool's calls; the
/// dispatch rule's switch lets it answer (issue 22 item 4).
async fn with_seat_groups_a_seat_in_none_answers_only_when_allowed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for s in ["S1", "S2"] {
        seat(&app, s).await;
    }
    open_channel(&app, true).await;
    data(
        &app.graphql_as(
            ADMIN,
            r#"mutation { createSeatGroup(code: "G1", input: { name: "一组", skills: [], seats: ["S2"] }) { code } }"#,
            json!({}),
        )
        .await,
    );
    presence(&app, "S1", "signIn").await;
    let task = task_with(&app, "HT-GROUP-2", BORROWER).await;
    let waiting = join(&app, BORROWER, &task).await;
    assert_eq!(waiting["status"], "QUEUED", "S1 is in no group: {waiting}");
    let allowed = app
        .graphql_as(
            ADMIN,
            "mutation { configureDispatchRule(idleSeatRule: RANDOM, ungroupedSeatsAnswer: true) }",
            json!({}),
        )
        .await;
    data(&allowed);
    let switch = app
        .graphql_as(ADMIN, "{ dispatchUngroupedSeatsAnswer }", json!({}))
        .await;
    assert_eq!(data(&switch)["dispatchUngroupedSeatsAnswer"], true);
    let mut dispatched = Value::Null;
    for _ in 0..50 {
        dispatched = call(&app, &waiting["callId"]).await;
        if dispatched["status"] == "DISPATCHED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        (&dispatched["status"], &dispatched["seatNo"]),
        (&json!("DISPATCHED"), &json!("S1")),
        "{dispatched}"
    );
    app.stop().await;
}

/// A server whose clock the test moves, ringing 30 s per offer and giving up
/// offering a call after two unanswered offers.
async fn app_with_ring(backend: Backend) -> (TestApp, Arc<store::ShiftableClock>) {
    let clock = Arc::new(store::ShiftableClock::default());
    let server_clock = clock.clone();
    let app = TestApp::spawn_on(TestDb::new(backend).await, move |url| {
        let mut settings = settings(url);
        settings.clock = server_clock;
        settings.operations.ring_timeout = chrono::Duration::seconds(30);
        settings.operations.ring_attempts = 2;
        settings
    })
    .await;
    (app, clock)
}

/// 001_d165f826565a3102.txt 2.6.1: 任务预约时间段内，该节点任务开放给主借人呼入…若未到时间…
/// 不可呼入视频坐席 — before the booked window (less the 10 minutes' margin) the
/// call is refused with the window in Beijing time and recorded; inside the
/// margin it queues and goes to the booked seat.
async fn a_booked_customer_calls_in_only_around_the_window(backend: Backend) {
    let (app, clock) = app_with_ring(backend).await;
    seat(&app, "S1").await;
    let task = task_with(&app, "HT-WINDOW-1", BORROWER).await;
    data(
        &app.graphql(&book_mutation(), slot_vars(&task, "S1", tomorrow_at(10, 0)))
            .await,
    );
    open_channel(&app, true).await;
    presence(&app, "S1", "signIn").await;

    let early = join(&app, BORROWER, &task).await;
    let day = tomorrow_at(10, 0).with_timezone(&domain::schedule::shanghai());
    assert_eq!(early["status"], "REFUSED", "{early}");
    assert_eq!(
        early["refusal"],
        format!(
            "未到面谈预约时间（{}月{}日 10:00–10:30），请于北京时间 09:50 后呼入视频面谈。",
            day.month(),
            day.day()
        )
    );
    assert_eq!(
        call(&app, &early["callId"]).await["status"],
        "REFUSED",
        "the refusal is recorded"
    );

    clock.advance(tomorrow_at(9, 51) - Utc::now());
    let inside = join(&app, BORROWER, &task).await;
    assert_eq!(inside["status"], "DISPATCHED", "{inside}");
    assert_eq!(inside["seatNo"], "S1");
    assert_eq!(inside["dispatchReason"], "PREASSIGNED");
}

async fn ring_state(app: &TestApp, id: &Value) -> Value {
    let response = app
        .graphql_as(
            ("SV1", "SUPERVISOR"),
            "query($id: ID!) { inboundCall(callId: $id) { status seatNo dispatchReason unansweredOffers waitsToBeTaken } }",
            json!({ "id": id }),
        )
        .await;
    data(&response)["inboundCall"].clone()
}

/// 004_448cd5ace309d8b2.txt 3.6 (issue 22 item 2): an offer nobody answers
/// within FACESIGN_RING_SECONDS is withdrawn, the seat is set to 暂放 and the
/// call goes to the next seat; after FACESIGN_RING_ATTEMPTS unanswered offers
/// it waits in the queue, though a seat is idle, until a seat takes it.
async fn a_call_that_rings_out_goes_to_the_next_seat_then_waits_to_be_taken(backend: Backend) {
    let (app, clock) = app_with_ring(backend).await;
    for s in ["S1", "S2", "S3"] {
        seat(&app, s).await;
    }
    let task = task_with(&app, "HT-RING-1", BORROWER).await;
    open_channel(&app, true).await;
    for s in ["S1", "S2", "S3"] {
        presence(&app, s, "signIn").await;
    }
    let joined = join(&app, BORROWER, &task).await;
    assert_eq!(joined["status"], "DISPATCHED", "{joined}");
    let first = joined["seatNo"].as_str().unwrap().to_string();

    clock.advance(chrono::Duration::seconds(31));
    let mut second = String::new();
    eventually("the call goes to the next seat", async || {
        let now = ring_state(&app, &joined["callId"]).await;
        second = now["seatNo"].as_str().unwrap_or_default().to_string();
        now["status"] == "DISPATCHED" && now["unansweredOffers"] == 1 && second != first
    })
    .await;
    assert_eq!(seat_state(&app, &first).await["presence"], "PAUSED");
    let late = on_call(&app, &first, "answerCall", &joined["callId"]).await;
    assert_eq!(
        error_code(&late),
        "INVALID_TRANSITION",
        "the rung-out seat cannot answer"
    );

    clock.advance(chrono::Duration::seconds(31));
    eventually("the second seat is paused", async || {
        seat_state(&app, &second).await["presence"] == "PAUSED"
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let waiting = ring_state(&app, &joined["callId"]).await;
    assert_eq!(
        waiting["status"], "QUEUED",
        "not offered a third time: {waiting}"
    );
    assert_eq!(waiting["unansweredOffers"], 2);
    assert_eq!(waiting["waitsToBeTaken"], true);
    let third = ["S1", "S2", "S3"]
        .into_iter()
        .find(|s| *s != first && *s != second)
        .unwrap();
    assert_eq!(seat_state(&app, third).await["presence"], "IDLE");

    let take = "mutation($id: ID!, $seat: String!) { takeQueuedCall(callId: $id, seatNo: $seat) { status seatNo dispatchReason } }";
    let for_another = app
        .graphql_as(
            (&first, "SEAT"),
            take,
            json!({ "id": joined["callId"], "seat": third }),
        )
        .await;
    assert_eq!(
        error_code(&for_another),
        "FORBIDDEN",
        "a seat takes calls for itself only"
    );
    let taken = app
        .graphql_as(
            (third, "SEAT"),
            take,
            json!({ "id": joined["callId"], "seat": third }),
        )
        .await;
    let taken = data(&taken)["takeQueuedCall"].clone();
    assert_eq!(taken["status"], "DISPATCHED");
    assert_eq!(taken["seatNo"], third);
    assert_eq!(taken["dispatchReason"], "PICKED");
    let answered = on_call(&app, third, "answerCall", &joined["callId"]).await;
    assert_eq!(data(&answered)["answerCall"]["status"], "ANSWERED");
}
