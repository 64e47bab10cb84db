//! Control characters in what a request carries (issue 31): a NUL in a
//! contract number, a name, a reason or a seat's name was INTERNAL on
//! Postgres and stored on SQLite. Now both backends answer 400 VALIDATION
//! naming the field, before anything runs; free text keeps tab and line
//! breaks (domain::text).

use serde_json::{json, Value};

use crate::support::on_both_backends;
use crate::support::{
    create_task, data, task_input, token, Backend, TestApp, CANCEL_TASK, CREATE_TASK,
};

on_both_backends!(control_characters_are_refused_alike_on_both_backends);

/// The status and body of `query` with `variables` as `who`.
async fn send(app: &TestApp, who: (&str, &str), query: &str, variables: Value) -> (u16, Value) {
    app.graphql_with_token(Some(&token(who.0, who.1)), query, variables)
        .await
}

fn refused_naming(answer: &(u16, Value), field: &str) {
    let (status, body) = answer;
    assert_eq!(*status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "VALIDATION",
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(field), "names {field}: {message}");
    assert!(
        message.contains("U+0000") || message.contains("U+001B"),
        "{message}"
    );
}

async fn control_characters_are_refused_alike_on_both_backends(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let task = create_task(&app, "HT-TEXT-1").await;
    let events = app.event_count().await;
    let manager = ("M0001", "ACCOUNT_MANAGER");

    let mut contract = task_input("HT-TEXT-\u{0}2");
    refused_naming(
        &send(
            &app,
            manager,
            CREATE_TASK,
            json!({ "input": contract.clone() }),
        )
        .await,
        "$input.contractNo",
    );
    contract = task_input("HT-TEXT-2");
    contract["participants"][0]["name"] = json!("邓\u{0}闲");
    refused_naming(
        &send(&app, manager, CREATE_TASK, json!({ "input": contract })).await,
        "$input.participants[0].name",
    );
    refused_naming(
        &send(
            &app,
            manager,
            CANCEL_TASK,
            json!({ "id": task, "reason": "客户\u{0}撤回" }),
        )
        .await,
        "$reason",
    );
    // In a literal too, escaped as GraphQL writes it.
    refused_naming(
        &send(
            &app,
            ("SV1", "SUPERVISOR"),
            r#"mutation { registerSeat(input: { seatNo: "S-NUL", name: "坐席\u001b[2J" }) { seat { seatNo } } }"#,
            json!({}),
        )
        .await,
        "registerSeat.input.name",
    );
    // A line break is free text's, not an identifier's.
    let (status, body) = send(
        &app,
        manager,
        CREATE_TASK,
        json!({ "input": task_input("HT-TEXT\n3") }),
    )
    .await;
    assert_eq!(
        (status, &body["errors"][0]["extensions"]["code"]),
        (400, &json!("VALIDATION")),
        "{body}"
    );
    assert_eq!(app.event_count().await, events, "nothing was written");

    let cancelled = app
        .graphql(
            CANCEL_TASK,
            json!({ "id": task, "reason": "客户要求撤销\n\t改日再约" }),
        )
        .await;
    assert_eq!(
        data(&cancelled)["cancelInterviewTask"]["task"]["cancelReason"],
        "客户要求撤销\n\t改日再约",
        "free text keeps its line breaks and tabs"
    );
    app.stop().await;
}
