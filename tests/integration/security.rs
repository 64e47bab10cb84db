//! Authentication, the role rules of every operation, masking, the auditor API,
//! hardening, verification by replay and event upcasting.

use domain::role::Role;
use serde_json::{json, Value};

use crate::support::on_both_backends;
use crate::support::{
    create_task, data, error_code, schema_types, settings, token, Backend, TestApp, TestDb,
};

/// Walks every query and mutation of the schema as every role and as nobody:
/// an operation without a rule fails the test; a role outside the rule must get
/// FORBIDDEN, nobody UNAUTHENTICATED, and a role inside it must get past the rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_has_a_role_rule_and_it_holds_for_every_role() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (types, [query, mutation, subscription]) = schema_types(&app).await;
    let mut operations = types.operations("query", &query);
    operations.extend(types.operations("mutation", &mutation));
    for field in types.0[&subscription]["fields"].as_array().unwrap() {
        let name = format!("{subscription}.{}", field["name"].as_str().unwrap());
        assert!(
            api::access::allowed_roles(&name).is_some(),
            "{name} has no role rule in api::access::RULES"
        );
    }
    assert!(
        operations.len() >= 20,
        "walked only {} operations",
        operations.len()
    );
    for (name, document, variables) in &operations {
        let allowed = api::access::allowed_roles(name)
            .unwrap_or_else(|| panic!("{name} has no role rule in api::access::RULES"));
        let (_, anonymous) = app
            .graphql_with_token(None, document, variables.clone())
            .await;
        assert_eq!(
            error_code(&anonymous),
            "UNAUTHENTICATED",
            "{name} as nobody: {anonymous}"
        );
        for role in Role::ALL {
            // The walker is the owner of the sample resources it names (string
            // arguments are "x"), so ownership checks beyond the role rule pass.
            let caller_token = token("x", role.as_str());
            let (status, response) = app
                .graphql_with_token(Some(&caller_token), document, variables.clone())
                .await;
            assert_eq!(status, 200, "{name} as {role}");
            let codes: Vec<&str> = response["errors"]
                .as_array()
                .map(|errors| {
                    errors
                        .iter()
                        .filter_map(|e| e["extensions"]["code"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            if allowed.contains(&role) {
                assert!(
                    !codes
                        .iter()
                        .any(|c| *c == "FORBIDDEN" || *c == "UNAUTHENTICATED"),
                    "{name} must be open to {role}: {response}"
                );
            } else {
                assert_eq!(
                    codes,
                    ["FORBIDDEN"],
                    "{name} must be closed to {role}: {response}"
                );
            }
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_unauthenticated_and_change_nothing() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    const CREATE: &str = crate::support::CREATE_TASK;
    let variables = json!({ "input": crate::support::task_input("HT-SEC-1") });
    let foreign = api::auth::JwtKeys::new(&secrecy::SecretString::from(
        "some-other-secret-0123456789abcdefgh".to_string(),
    ))
    .mint("M0001", Role::AccountManager, 60);
    for bad in ["garbage", foreign.as_str()] {
        let (status, response) = app
            .graphql_with_token(Some(bad), CREATE, variables.clone())
            .await;
        assert_eq!(status, 200);
        assert_eq!(error_code(&response), "UNAUTHENTICATED");
        assert!(response["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("无效或已过期"));
    }
    assert_eq!(app.event_count().await, 0);
    app.stop().await;
}

/// A customer sees the tasks they are on, and no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_sees_only_their_own_task() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let id = create_task(&app, "HT-SEC-2").await;
    const TASK: &str = "query($id: ID!) { task(id: $id) { id borrowerName } }";
    let own = app
        .graphql_as(
            ("410102198707222020", "CUSTOMER"),
            TASK,
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&own)["task"]["id"], id.as_str());
    assert_eq!(data(&own)["task"]["borrowerName"], "邓*闲");
    let other = app
        .graphql_as(
            ("110101199003074477", "CUSTOMER"),
            TASK,
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&other)["task"], Value::Null);
    app.stop().await;
}

on_both_backends!(
    auditors_read_history_and_state_as_of_a_moment,
    replay_verify_finds_tampering
);

/// 001_d165f826565a3102.txt 2.3.1.3 / 2.4.3.3: 操作留痕计入日志，确保数据安全可追溯.
async fn auditors_read_history_and_state_as_of_a_moment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = create_task(&app, "HT-AUDIT-1").await;
    let cancel = app
        .graphql_as(
            ("SUP1", "SUPERVISOR"),
            crate::support::CANCEL_TASK,
            json!({ "id": id, "reason": "客户主动放弃" }),
        )
        .await;
    data(&cancel);
    let auditor = ("AU01", "AUDITOR");

    let trail = app
        .graphql_as(
            auditor,
            r#"query($id: String!) { auditTrail(aggregateType: "interview-task", aggregateId: $id) {
                sequence eventType eventVersion actorId actorRole requestId correlationId causationId recordedAt payload } }"#,
            json!({ "id": id }),
        )
        .await;
    let trail = data(&trail)["auditTrail"].as_array().unwrap().clone();
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[0]["eventType"], "InterviewTaskCreated");
    assert_eq!(trail[0]["actorId"], "M0001");
    assert_eq!(trail[0]["actorRole"], "ACCOUNT_MANAGER");
    assert_eq!(trail[1]["actorId"], "SUP1");
    assert_eq!(trail[1]["actorRole"], "SUPERVISOR");
    assert_eq!(trail[1]["eventVersion"], "1.1");
    assert!(!trail[1]["requestId"].as_str().unwrap().is_empty());
    let participant = &trail[0]["payload"]["InterviewTaskCreated"]["participants"][0];
    assert_eq!(
        participant["name"], "邓*闲",
        "auditors see personal data masked"
    );
    assert_eq!(participant["id_number"], "410102********1017");

    let by_actor = app
        .graphql_as(
            auditor,
            r#"{ actorTrail(actorId: "SUP1") { aggregateId eventType actorRole } }"#,
            json!({}),
        )
        .await;
    let actions = data(&by_actor)["actorTrail"].as_array().unwrap().clone();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0]["eventType"], "InterviewTaskCancelled");

    const FEED: &str = r#"query($after: String) { events(after: $after, first: 1) { endCursor events { aggregateId eventType } } }"#;
    let mut after = Value::Null;
    let mut seen = Vec::new();
    loop {
        let page = app
            .graphql_as(auditor, FEED, json!({ "after": after }))
            .await;
        let page = &data(&page)["events"];
        if page["events"].as_array().unwrap().is_empty() {
            assert_eq!(page["endCursor"], Value::Null);
            break;
        }
        seen.push(page["events"][0]["eventType"].as_str().unwrap().to_string());
        after = page["endCursor"].clone();
    }
    assert_eq!(seen, ["InterviewTaskCreated", "InterviewTaskCancelled"]);

    const AT: &str = r#"query($id: String!, $seq: Int, $at: DateTime) { aggregateAt(aggregateType: "interview-task", aggregateId: $id, sequence: $seq, at: $at) { sequence asOf state } }"#;
    let first = app
        .graphql_as(auditor, AT, json!({ "id": id, "seq": 1 }))
        .await;
    let first = &data(&first)["aggregateAt"];
    assert_eq!(first["state"]["status"], "PENDING");
    assert_eq!(first["state"]["participants"][0]["name"], "邓*闲");
    let as_of = first["asOf"].clone();
    let then = app
        .graphql_as(auditor, AT, json!({ "id": id, "at": as_of }))
        .await;
    assert_eq!(data(&then)["aggregateAt"]["sequence"], 1);
    let now = app
        .graphql_as(
            auditor,
            AT,
            json!({ "id": id, "at": chrono::Utc::now().to_rfc3339() }),
        )
        .await;
    assert_eq!(data(&now)["aggregateAt"]["state"]["status"], "CANCELLED");
    let both = app
        .graphql_as(auditor, AT, json!({ "id": id, "seq": 1, "at": as_of }))
        .await;
    assert_eq!(error_code(&both), "VALIDATION");
    let before = app
        .graphql_as(
            auditor,
            AT,
            json!({ "id": id, "at": "2000-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(error_code(&before), "NOT_FOUND");
    let bad_cursor = app
        .graphql_as(auditor, FEED, json!({ "after": "nope" }))
        .await;
    assert_eq!(error_code(&bad_cursor), "VALIDATION");
    app.stop().await;
}

fn facesign(args: &[&str], database_url: &str) -> std::process::Output {
    crate::support::facesign_cli(args, database_url)
}

/// `facesign replay --verify` after end-to-end traffic: equal, then a tampered
/// read-model row is found and the command exits non-zero.
async fn replay_verify_finds_tampering(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for n in 0..3 {
        create_task(&app, &format!("HT-VERIFY-{n}")).await;
    }
    let db = app.stop().await;
    let verified = facesign(&["replay", "--verify"], &db.url);
    assert!(verified.status.success(), "{verified:?}");
    assert!(String::from_utf8_lossy(&verified.stderr).contains("every projection equals"));

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE task_board SET status = 'PASSED' WHERE contract_no = 'HT-VERIFY-1'")
        .execute(&pool)
        .await
        .unwrap();
    // A lost reservation would let a second task open for HT-VERIFY-2.
    sqlx::query("DELETE FROM reservations WHERE key = 'HT-VERIFY-2'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let tampered = facesign(&["replay", "--verify"], &db.url);
    assert_eq!(tampered.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&tampered.stderr);
    assert!(stderr.contains("DIFFERENT task_board"), "{stderr}");
    assert!(
        stderr.contains("DIFFERENT reservations: the table holds 2 keys, the log 3"),
        "{stderr}"
    );
}

/// Event versioning: a payload stored at an old version is read at the current one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_version_payload_in_the_store_is_read_through_the_upcaster() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let id = create_task(&app, "HT-UPCAST-1").await;
    let db = app.stop().await;
    // A cancellation as version 1.0 wrote it: no `releases`.
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('interview-task', $1, 2, 'InterviewTaskCancelled', '1.0', $2, $3)",
    )
    .bind(&id)
    .bind(json!({ "InterviewTaskCancelled": { "reason": "旧版本撤销", "cancelled_at": "2026-11-01T02:00:00Z" } }).to_string())
    .bind(json!({ "event_id": uuid::Uuid::now_v7().to_string(), "actor_id": "legacy", "actor_role": "ADMIN",
        "correlation_id": "c", "causation_id": "c", "request_id": "c", "recorded_at": "2026-11-01T02:00:00.000000Z" }).to_string())
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let app = TestApp::spawn_on(db, settings).await;
    let task = app
        .graphql(
            "query($id: ID!) { task(id: $id) { status cancelReason } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&task)["task"]["status"], "CANCELLED");
    assert_eq!(data(&task)["task"]["cancelReason"], "旧版本撤销");
    let trail = app
        .graphql_as(
            ("AU01", "AUDITOR"),
            r#"query($id: String!) { auditTrail(aggregateType: "interview-task", aggregateId: $id) { eventVersion payload } }"#,
            json!({ "id": id }),
        )
        .await;
    let cancelled = &data(&trail)["auditTrail"][1];
    assert_eq!(cancelled["eventVersion"], "1.1");
    assert_eq!(
        cancelled["payload"]["InterviewTaskCancelled"]["releases"],
        json!([])
    );
    // The write side reads it too: a cancelled task cannot be cancelled again.
    let again = app
        .graphql(
            crate::support::CANCEL_TASK,
            json!({ "id": id, "reason": "x" }),
        )
        .await;
    assert_eq!(error_code(&again), "INVALID_TRANSITION");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_can_be_switched_off() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_on(db, |url| {
        let mut settings = settings(url);
        settings.introspection = false;
        settings
    })
    .await;
    let response = app
        .graphql_as(
            ("A001", "ADMIN"),
            "{ __schema { queryType { name } } }",
            json!({}),
        )
        .await;
    // Disabled introspection answers nothing about the schema.
    assert_eq!(response["data"]["__schema"], Value::Null, "{response}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_and_floods_are_refused() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_on(db, |url| {
        let mut settings = settings(url);
        settings.rate_limit_per_second = 1;
        settings.rate_limit_burst = 3;
        settings
    })
    .await;
    // Just over the limit, on a client of its own: the server closes that
    // connection after answering, which must not poison the shared pool.
    let huge = "x".repeat(1024 * 1024 + 1024);
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", app.base))
        .header("content-type", "application/json")
        .body(format!("{{\"query\": \"{huge}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, body) = app
            .graphql_with_token(None, "{ seats { seatNo } }", json!({}))
            .await;
        if status == 429 {
            assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
        }
        statuses.push(status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    // Health checks are not limited.
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn the_token_command_mints_and_serve_requires_a_secret() {
    let db = TestDb::new(Backend::Sqlite).await;
    let minted = facesign(&["token", "--role", "seat", "--sub", "S001"], &db.url);
    assert!(minted.status.success(), "{minted:?}");
    let jwt = String::from_utf8(minted.stdout).unwrap();
    let keys = api::auth::JwtKeys::new(&secrecy::SecretString::from(
        facesign::settings::DEMO_JWT_SECRET.to_string(),
    ));
    assert_eq!(
        keys.verify(jwt.trim()),
        Ok(("S001".to_string(), Role::Seat))
    );
    let unknown = facesign(&["token", "--role", "ROOT", "--sub", "x"], &db.url);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown role"));
    let no_secret = facesign(&["serve", "--bind", "127.0.0.1:0"], &db.url);
    assert_eq!(no_secret.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&no_secret.stderr).contains("FACESIGN_JWT_SECRET is required"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_need_a_token() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut request = format!("{}/graphql/ws", app.base.replace("http", "ws"))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::Text(
            json!({ "type": "connection_init" }).to_string().into(),
        ))
        .await
        .unwrap();
    socket
        .send(Message::Text(
            json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { taskChanged { id } }" } })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    // Issue 31: a socket without a valid token is closed (4403), never acknowledged.
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("an answer in time")
            .unwrap()
            .unwrap();
        match message {
            Message::Text(text) => panic!("an anonymous socket was answered: {text}"),
            Message::Close(Some(frame)) => {
                assert_eq!(u16::from(frame.code), 4403, "{frame:?}");
                break;
            }
            Message::Close(None) => panic!("closed without the 4403 code"),
            _ => continue,
        }
    }
    app.stop().await;
}
