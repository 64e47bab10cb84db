//! Consistency tokens: a mutation answers with the position of the last event
//! it caused; a request that sends it back reads at least that far, bounded.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{task_input, token, Backend, TestApp};

const CREATE: &str = "mutation($input: CreateInterviewTaskInput!) { createInterviewTask(input: $input) { taskId projected } }";
const READ: &str = "query($id: ID!) { task(id: $id) { contractNo } }";

async fn post(
    app: &TestApp,
    query: &str,
    variables: Value,
    consistency: Option<&str>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token("M0001", "ACCOUNT_MANAGER"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(consistency) = consistency {
        request = request.header("facesign-consistency-token", consistency);
    }
    request.send().await.expect("request sent")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutation_answers_with_a_token_and_a_query_reads_at_least_that_far() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let created = post(
        &app,
        CREATE,
        json!({ "input": task_input("HT-TOKEN-1") }),
        None,
    )
    .await;
    let header = created
        .headers()
        .get("facesign-consistency-token")
        .expect("a mutation that wrote answers with a token")
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["extensions"]["consistencyToken"], header.as_str());
    assert_eq!(body["data"]["createInterviewTask"]["projected"], true);
    let id = body["data"]["createInterviewTask"]["taskId"].clone();

    let read = post(&app, READ, json!({ "id": id }), Some(&header)).await;
    assert!(
        read.headers().get("facesign-consistency-token").is_none(),
        "a query wrote nothing"
    );
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["data"]["task"]["contractNo"], "HT-TOKEN-1");
    assert!(read["extensions"].get("projected").is_none(), "{read}");

    // A refused command wrote nothing: no token.
    let refused = post(
        &app,
        "mutation($id: ID!) { cancelInterviewTask(id: $id, reason: \"\") { taskId } }",
        json!({ "id": id }),
        None,
    )
    .await;
    assert!(refused
        .headers()
        .get("facesign-consistency-token")
        .is_none());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_not_issued_here_is_refused_and_one_ahead_of_the_log_waits_bounded() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let bad = post(&app, READ, json!({ "id": "x" }), Some("c1.not-a-token")).await;
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["errors"][0]["extensions"]["code"], "VALIDATION");

    // A position the log has not reached: the read waits out the bound, then
    // answers what it has, saying so.
    // "0:999999", encoded as the API encodes positions.
    let ahead = "c1.MDo5OTk5OTk";
    let started = Instant::now();
    let read: Value = post(
        &app,
        "{ tasks(first: 1) { edges { node { id } } } }",
        json!({}),
        Some(ahead),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(started.elapsed() < Duration::from_secs(30), "bounded");
    assert_eq!(read["extensions"]["projected"], false, "{read}");
    assert!(read["data"]["tasks"].is_object(), "{read}");
    app.stop().await;
}
