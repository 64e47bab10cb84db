//! Create → query → cancel through GraphQL, on both backends.

use serde_json::json;

use crate::support::on_both_backends;
use crate::support::{
    create_task, data, error_code, task_input, Backend, TestApp, CANCEL_TASK, CREATE_TASK,
};

on_both_backends!(
    create_query_cancel_round_trip,
    invalid_participants_are_refused_and_change_nothing,
    cancel_of_unknown_or_malformed_task_is_refused,
    task_board_pages_with_relay_cursors,
    every_event_carries_the_envelope,
    a_second_open_task_for_a_contract_is_refused_naming_the_first,
);

/// 001 (以借款合同为单位生成视频面谈任务): a contract has one open task; a
/// second create is CONFLICT naming it and changes nothing; once the first is
/// withdrawn (已撤销) the contract takes a new one.
async fn a_second_open_task_for_a_contract_is_refused_naming_the_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = create_task(&app, "HT-ONCE").await;
    let events = app.event_count().await;
    let second = app
        .graphql(CREATE_TASK, json!({ "input": task_input("HT-ONCE") }))
        .await;
    assert_eq!(error_code(&second), "CONFLICT");
    assert_eq!(
        second["errors"][0]["message"],
        format!("HT-ONCE 已有未结束的面谈任务：{first}")
    );
    assert_eq!(
        app.event_count().await,
        events,
        "the refusal changes nothing"
    );
    let cancelled = app
        .graphql(CANCEL_TASK, json!({ "id": first, "reason": "合同重签" }))
        .await;
    data(&cancelled);
    let third = create_task(&app, "HT-ONCE").await;
    assert_ne!(third, first);
    app.stop().await;
}

const TASK: &str = r#"query Task($id: ID!) { task(id: $id) { id contractNo status statusLabel version cancelReason borrowerName } }"#;

/// 001_d165f826565a3102.txt: a task per loan contract, participants de-duplicated
/// (2.7.3 rule 5); 004_448cd5ace309d8b2.txt 3.3: 待处理 may be withdrawn (已撤销),
/// and a withdrawn task cannot be withdrawn again.
async fn create_query_cancel_round_trip(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app
        .graphql(CREATE_TASK, json!({ "input": task_input("HT-RT-1") }))
        .await;
    let payload = &data(&created)["createInterviewTask"];
    assert_eq!(payload["projected"], true);
    assert_eq!(payload["eventIds"].as_array().unwrap().len(), 1);
    let task = &payload["task"];
    assert_eq!(task["status"], "PENDING");
    assert_eq!(task["statusLabel"], "待面谈");
    assert_eq!(
        task["borrowerName"], "邓小闲",
        "the account manager owns the case"
    );
    assert_eq!(task["version"], 1);
    assert_eq!(
        task["requiredSteps"],
        json!(["IDENTITY_CHECK", "VIDEO_WITNESS"])
    );
    let participants = task["participants"].as_array().unwrap();
    assert_eq!(
        participants.len(),
        2,
        "the borrower listed twice is one person"
    );
    assert_eq!(participants[0]["roles"], json!(["BORROWER", "CO_OWNER"]));
    assert_eq!(participants[0]["idNumber"], "410102198503121017");
    assert_eq!(participants[1]["isMainBorrower"], false);
    let id = payload["taskId"].as_str().unwrap().to_string();

    // 004_448cd5ace309d8b2.txt 3.4: roles without need see 邓*闲.
    let as_auditor = app
        .graphql_as(
            ("AU01", "AUDITOR"),
            "query($id: ID!) { task(id: $id) { borrowerName participants { name idNumber phone } } }",
            json!({ "id": id }),
        )
        .await;
    let masked = &data(&as_auditor)["task"];
    assert_eq!(masked["borrowerName"], "邓*闲");
    assert_eq!(masked["participants"][0]["idNumber"], "410102********1017");
    assert_eq!(masked["participants"][0]["phone"], "156****3093");

    let queried = app.graphql(TASK, json!({ "id": id })).await;
    assert_eq!(data(&queried)["task"]["contractNo"], "HT-RT-1");
    assert_eq!(data(&queried)["task"]["status"], "PENDING");

    let cancelled = app
        .graphql(CANCEL_TASK, json!({ "id": id, "reason": "客户主动放弃" }))
        .await;
    let payload = &data(&cancelled)["cancelInterviewTask"];
    assert_eq!(payload["projected"], true);
    assert_eq!(payload["task"]["status"], "CANCELLED");
    assert_eq!(payload["task"]["statusLabel"], "已撤销");
    assert_eq!(payload["task"]["cancelReason"], "客户主动放弃");
    assert_eq!(payload["task"]["version"], 2);

    let events_before = app.event_count().await;
    let again = app
        .graphql(CANCEL_TASK, json!({ "id": id, "reason": "重复撤销" }))
        .await;
    assert_eq!(error_code(&again), "INVALID_TRANSITION");
    assert_eq!(
        app.event_count().await,
        events_before,
        "a refused command appends nothing"
    );
    let queried = app.graphql(TASK, json!({ "id": id })).await;
    assert_eq!(data(&queried)["task"]["cancelReason"], "客户主动放弃");
    app.stop().await;
}

/// 001_d165f826565a3102.txt 2.6.1: exactly one main borrower (主借人) per task.
async fn invalid_participants_are_refused_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut no_borrower = task_input("HT-BAD-1");
    no_borrower["participants"] = json!([
        { "name": "李婉清", "idNumber": "410102198707222020", "phone": "13912345678", "roles": ["SPOUSE"] }
    ]);
    let mut two_borrowers = task_input("HT-BAD-2");
    two_borrowers["participants"][2]["roles"] = json!(["BORROWER"]);
    let mut bad_id = task_input("HT-BAD-3");
    bad_id["participants"][0]["idNumber"] = json!("410102198503121018");
    let mut no_contract = task_input(" ");
    no_contract["contractNo"] = json!("");
    for (input, needle) in [
        (no_borrower, "当前没有"),
        (two_borrowers, "当前有 2 名"),
        (bad_id, "校验位"),
        (no_contract, "contractNo"),
    ] {
        let response = app.graphql(CREATE_TASK, json!({ "input": input })).await;
        assert_eq!(error_code(&response), "VALIDATION", "{response}");
        let message = response["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains(needle),
            "message `{message}` should mention `{needle}`"
        );
    }
    let unknown_enum = app
        .graphql(
            CREATE_TASK,
            json!({ "input": { "contractNo": "X", "kind": "NOT_A_KIND" } }),
        )
        .await;
    assert!(unknown_enum.get("errors").is_some());
    assert_eq!(app.event_count().await, 0, "bad input changes nothing");
    app.stop().await;
}

async fn cancel_of_unknown_or_malformed_task_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let unknown = app
        .graphql(
            CANCEL_TASK,
            json!({ "id": uuid::Uuid::now_v7().to_string(), "reason": "x" }),
        )
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
    let malformed = app
        .graphql(CANCEL_TASK, json!({ "id": "not-a-uuid", "reason": "x" }))
        .await;
    assert_eq!(error_code(&malformed), "VALIDATION");
    let id = create_task(&app, "HT-EMPTY-REASON").await;
    let no_reason = app
        .graphql(CANCEL_TASK, json!({ "id": id, "reason": "  " }))
        .await;
    assert_eq!(error_code(&no_reason), "VALIDATION");
    let missing = app.graphql(TASK, json!({ "id": "nope" })).await;
    assert_eq!(data(&missing)["task"], serde_json::Value::Null);
    assert_eq!(app.event_count().await, 1);
    app.stop().await;
}

async fn task_board_pages_with_relay_cursors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(create_task(&app, &format!("HT-PAGE-{n}")).await);
    }
    let cancel = app
        .graphql(CANCEL_TASK, json!({ "id": ids[1], "reason": "撤销" }))
        .await;
    data(&cancel);
    const PAGE: &str = r#"query Page($first: Int, $after: String, $status: TaskStatus) {
        tasks(first: $first, after: $after, status: $status) {
          edges { cursor node { id status } }
          pageInfo { hasNextPage hasPreviousPage endCursor }
        } }"#;
    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let response = app
            .graphql(PAGE, json!({ "first": 2, "after": after }))
            .await;
        let tasks = &data(&response)["tasks"];
        for edge in tasks["edges"].as_array().unwrap() {
            seen.push(edge["node"]["id"].as_str().unwrap().to_string());
        }
        if tasks["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = tasks["pageInfo"]["endCursor"].clone();
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first, "every task once, newest first");

    let cancelled = app
        .graphql(PAGE, json!({ "first": 10, "status": "CANCELLED" }))
        .await;
    let edges = data(&cancelled)["tasks"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["id"], ids[1].as_str());

    let bad_cursor = app
        .graphql(PAGE, json!({ "first": 2, "after": "garbage!" }))
        .await;
    assert_eq!(error_code(&bad_cursor), "VALIDATION");
    let too_many = app.graphql(PAGE, json!({ "first": 1000 })).await;
    assert_eq!(error_code(&too_many), "VALIDATION");
    let zero = app.graphql(PAGE, json!({ "first": 0 })).await;
    assert_eq!(error_code(&zero), "VALIDATION");
    app.stop().await;
}

/// DESIGN.md envelope: event_id (UUID v7), version, actor and role, correlation,
/// causation and request ids, recorded_at, global position.
async fn every_event_carries_the_envelope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .graphql_as(
            ("M0042", "ACCOUNT_MANAGER"),
            CREATE_TASK,
            json!({ "input": task_input("HT-ENV-1") }),
        )
        .await;
    let payload = &data(&response)["createInterviewTask"];
    let id = payload["taskId"].as_str().unwrap();
    let event_id = payload["eventIds"][0].as_str().unwrap();
    let database = store::Database::connect(&app.db.url, 2).await.unwrap();
    let log = store::GlobalLog::new(database.store().clone());
    let events = log.stream("interview-task", id).await.unwrap();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.event_type, "InterviewTaskCreated");
    assert_eq!(event.event_version, "1.0");
    assert_eq!(event.sequence, 1);
    assert_eq!(event.metadata.event_id.to_string(), event_id);
    assert_eq!(event.metadata.event_id.get_version_num(), 7);
    assert_eq!(event.metadata.actor_id, "M0042");
    assert_eq!(event.metadata.actor_role, "ACCOUNT_MANAGER");
    assert!(!event.metadata.request_id.is_empty());
    assert_eq!(event.metadata.causation_id, event.metadata.request_id);
    assert_eq!(event.metadata.correlation_id, event.metadata.request_id);
    assert!(event.position.global_position > 0);
    assert_eq!(
        payload["position"].as_str().unwrap(),
        event.position.to_string()
    );
    // The envelope columns were lifted out of metadata by the store itself.
    let pool = app.any_pool().await;
    let (stored_id,): (String,) =
        sqlx::query_as("SELECT CAST(event_id AS TEXT) FROM events WHERE aggregate_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored_id, event_id);
    pool.close().await;
    database.close().await;
    app.stop().await;
}
