//! 多席呼入 end to end (001 2.2.1; issue 22 item 1): three phones in one
//! interview room — the main borrower first, a spouse and a co-owner after —
//! one drops and rejoins within the window, another too late; the seat sees
//! who is in; each leg is on the call record.

use domain::services::Clock as _;
use serde_json::{json, Value};

use crate::support::dispatch::open_channel;
use crate::support::on_both_backends;
use crate::support::scheduling::seat;
use crate::support::session::{app_with_clock, book_and_start, session, SEAT};
use crate::support::{data, error_code, Backend, TestApp, CREATE_TASK};

const BORROWER: &str = "410102198503121017";
const SPOUSE: &str = "410102198707222020";
const CO_OWNER: &str = "11010519491231002X";

on_both_backends!(three_callers_share_the_room_one_rejoins_and_each_leg_is_recorded);

async fn task_for_three(app: &TestApp) -> String {
    let mut input = crate::support::task_input("HT-ROOM-1");
    input["participants"] = json!([
        { "name": "邓小闲", "idNumber": BORROWER, "phone": "15618293093", "roles": ["BORROWER"] },
        { "name": "李婉清", "idNumber": SPOUSE, "phone": "13912345678", "roles": ["SPOUSE"] },
        { "name": "王共有", "idNumber": CO_OWNER, "phone": "13712345678", "roles": ["CO_OWNER"] }
    ]);
    let created = app.graphql(CREATE_TASK, json!({ "input": input })).await;
    data(&created)["createInterviewTask"]["taskId"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn join(app: &TestApp, who: &str, task: &str) -> Value {
    session(
        app,
        (who, "CUSTOMER"),
        "joinInterview",
        ", input: { channelCode: \"YYZX\" }",
        json!({ "id": task }),
    )
    .await
}

async fn room(app: &TestApp, task: &str) -> Vec<Value> {
    let response = app
        .graphql_as(
            SEAT,
            "query($id: ID!) { interviewRoom(taskId: $id) { leg name idNumber roles present rejoined leftAt end rejoinUntil } }",
            json!({ "id": task }),
        )
        .await;
    data(&response)["interviewRoom"].as_array().unwrap().clone()
}

/// 001_d165f826565a3102.txt 2.2.1 多席呼入: 支持多移动端呼入同一面谈场景，应用于房产证多干系人的场景.
async fn three_callers_share_the_room_one_rejoins_and_each_leg_is_recorded(backend: Backend) {
    let (app, clock) = app_with_clock(backend, 0).await;
    seat(&app, "S1").await;
    open_channel(&app, true).await;
    let task = task_for_three(&app).await;
    book_and_start(&app, &clock, &task).await;

    let early = join(&app, SPOUSE, &task).await;
    assert_eq!(
        error_code(&early),
        "INVALID_TRANSITION",
        "the main borrower opens the room: {early}"
    );
    let stranger = join(&app, "110105195001010012", &task).await;
    assert!(
        ["FORBIDDEN", "NOT_FOUND"].contains(&error_code(&stranger)),
        "someone not on the contract cannot join: {stranger}"
    );
    for who in [BORROWER, SPOUSE, CO_OWNER] {
        data(&join(&app, who, &task).await);
    }
    data(&join(&app, SPOUSE, &task).await); // a retried join changes nothing
    let now_in = room(&app, &task).await;
    assert_eq!(now_in.len(), 3, "{now_in:?}");
    assert!(now_in.iter().all(|m| m["present"] == true));
    assert_eq!(
        now_in
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["邓小闲", "李婉清", "王共有"],
        "legs in the order they joined"
    );
    assert_eq!(
        now_in[1]["idNumber"], SPOUSE,
        "the connected seat sees the ID in clear"
    );
    assert_eq!(now_in[1]["roles"], json!(["SPOUSE"]));

    // The seat sees the spouse's network drop; she rejoins within the window.
    data(
        &session(
            &app,
            SEAT,
            "leaveInterview",
            &format!(", end: ABNORMAL_NETWORK, idNumber: \"{SPOUSE}\""),
            json!({ "id": task }),
        )
        .await,
    );
    let dropped = room(&app, &task).await;
    let spouse = dropped.iter().find(|m| m["name"] == "李婉清").unwrap();
    assert_eq!(spouse["present"], false);
    assert_eq!(spouse["end"], "ABNORMAL_NETWORK");
    assert!(spouse["rejoinUntil"].is_string());
    clock.advance(chrono::Duration::seconds(60));
    data(&join(&app, SPOUSE, &task).await);
    let back = room(&app, &task).await;
    assert_eq!(back.len(), 4);
    assert!(
        back[3]["present"] == true && back[3]["rejoined"] == true,
        "{back:?}"
    );

    // The co-owner hangs up and tries again after the 120 s window.
    data(
        &session(
            &app,
            (CO_OWNER, "CUSTOMER"),
            "leaveInterview",
            ", end: ABNORMAL_USER",
            json!({ "id": task }),
        )
        .await,
    );
    clock.advance(chrono::Duration::seconds(121));
    let too_late = join(&app, CO_OWNER, &task).await;
    assert_eq!(error_code(&too_late), "INVALID_TRANSITION", "{too_late}");
    let other_leaves = session(
        &app,
        (BORROWER, "CUSTOMER"),
        "leaveInterview",
        &format!(", end: NORMAL, idNumber: \"{SPOUSE}\""),
        json!({ "id": task }),
    )
    .await;
    assert_eq!(
        error_code(&other_leaves),
        "FORBIDDEN",
        "a customer leaves for themselves only"
    );

    // Each participant's witness is recorded against them.
    data(
        &session(
            &app,
            SEAT,
            "recordVideoWitness",
            &format!(", storageRef: \"blob://spouse\", idNumber: \"{SPOUSE}\""),
            json!({ "id": task }),
        )
        .await,
    );

    // The seat ends the call: everyone still in leaves with it.
    let answered = clock.now() - chrono::Duration::seconds(300);
    data(
        &app.graphql_as(
            SEAT,
            "mutation($id: ID!, $q: DateTime!, $a: DateTime!) { endCall(taskId: $id, end: NORMAL, queuedAt: $q, answeredAt: $a) { taskId } }",
            json!({ "id": task, "q": answered.to_rfc3339(), "a": answered.to_rfc3339() }),
        )
        .await,
    );
    assert!(
        room(&app, &task).await.is_empty(),
        "the room closes with the call"
    );
    let detail = app
        .graphql_as(
            SEAT,
            "query($id: ID!) { taskDetail(id: $id) { record { recordings { recordingName idNumber } calls { callNo legs { leg name idNumber rejoin end talkSeconds } } } } }",
            json!({ "id": task }),
        )
        .await;
    let record = &data(&detail)["taskDetail"]["record"];
    assert!(
        record["recordings"][0]["recordingName"]
            .as_str()
            .unwrap()
            .contains("李婉清S1"),
        "{record}"
    );
    assert_eq!(record["recordings"][0]["idNumber"], SPOUSE);
    let legs = record["calls"][0]["legs"].as_array().unwrap();
    let summary: Vec<(i64, &str, &str, bool)> = legs
        .iter()
        .map(|l| {
            (
                l["leg"].as_i64().unwrap(),
                l["name"].as_str().unwrap(),
                l["end"].as_str().unwrap(),
                l["rejoin"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "邓小闲", "NORMAL", false),
            (2, "李婉清", "ABNORMAL_NETWORK", false),
            (3, "王共有", "ABNORMAL_USER", false),
            (4, "李婉清", "NORMAL", true),
        ]
    );
    assert!(legs[0]["talkSeconds"].as_i64().unwrap() >= 181, "{legs:?}");
}
