//! Queue and dispatch end to end (001 2.2.2, 2.4.4; 004 3.1, 3.6, 4.3).

use serde_json::{json, Value};

use crate::support::dispatch::open_channel;
use crate::support::on_both_backends;
use crate::support::scheduling::{seat, task_with};
use crate::support::{data, error_code, Backend, Subscription, TestApp};

const BORROWER: &str = "410102198503121017";
const OTHER_BORROWER: &str = "11010519491231002X";
const ADMIN: (&str, &str) = ("A001", "ADMIN");
const REFUSED: &str = "当前渠道未被授权接入我行视频坐席，请联系您的客户经理。";
const CALL_FIELDS: &str =
    "callId status refusal seatNo dispatchReason position waiting estimatedWaitSeconds";

on_both_backends!(
    a_refused_customer_queues_once_the_channel_is_enabled_and_reaches_the_familiar_seat,
    the_seat_that_created_a_work_order_is_familiar,
    with_seat_groups_a_seat_in_none_answers_only_when_allowed
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
