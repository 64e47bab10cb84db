//! Scripts, marketing media, staff accounts and work orders end to end
//! (001 2.4.7, 2.4.8; 004 3.3–3.5, 3.17).

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::scheduling::seat;
use crate::support::{data, error_code, token, Backend, TestApp};

const ADMIN: (&str, &str) = ("A001", "ADMIN");

async fn admin(app: &TestApp, query: &str, variables: Value) -> Value {
    app.graphql_as(ADMIN, query, variables).await
}

/// 001_d165f826565a3102.txt 2.4.7: scripts by channel and product with exactly one
/// default, shown when nothing more specific exists (默认话术); 2.4.8: media are
/// maintained and enabled by hand, with autoplay and no-skip flags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_fall_back_to_the_one_default_and_media_are_enabled_by_hand() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    const ADD: &str = r#"mutation($code: String!, $input: ScriptInput!) { addScript(code: $code, input: $input) { code isDefault } }"#;
    const FOR: &str = r#"query($c: String!, $p: String!) { scriptFor(channelCode: $c, productCode: $p) { code content isDefault } }"#;
    let none = app
        .graphql_as(("S1", "SEAT"), FOR, json!({ "c": "YYZX", "p": "YXD" }))
        .await;
    assert_eq!(data(&none)["scriptFor"], Value::Null, "回显默认话术或 null");
    let first = admin(
        &app,
        ADD,
        json!({ "code": "DEFAULT", "input": { "content": "您好，我是视频坐席。" } }),
    )
    .await;
    assert_eq!(data(&first)["addScript"][0]["isDefault"], true);
    let added = admin(
        &app,
        ADD,
        json!({ "code": "YXD-YYZX", "input": { "channelCode": "YYZX", "channelName": "原银在线", "productCode": "YXD", "productName": "永续贷", "content": "永续贷面谈话术" } }),
    )
    .await;
    let defaults: Vec<&Value> = data(&added)["addScript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["isDefault"] == true)
        .collect();
    assert_eq!(defaults.len(), 1, "exactly one default");
    let specific = app
        .graphql_as(("S1", "SEAT"), FOR, json!({ "c": "YYZX", "p": "YXD" }))
        .await;
    assert_eq!(data(&specific)["scriptFor"]["code"], "YXD-YYZX");
    let fallback = app
        .graphql_as(("S1", "SEAT"), FOR, json!({ "c": "YYZX", "p": "RXMD" }))
        .await;
    assert_eq!(data(&fallback)["scriptFor"]["code"], "DEFAULT");
    let remove_default = admin(
        &app,
        r#"mutation { removeScript(code: "DEFAULT") { code } }"#,
        json!({}),
    )
    .await;
    assert_eq!(error_code(&remove_default), "INVALID_TRANSITION");
    let moved = admin(
        &app,
        r#"mutation { makeDefaultScript(code: "YXD-YYZX") { code isDefault } }"#,
        json!({}),
    )
    .await;
    let now_default: Vec<&Value> = data(&moved)["makeDefaultScript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["isDefault"] == true)
        .collect();
    assert_eq!(now_default.len(), 1);
    assert_eq!(now_default[0]["code"], "YXD-YYZX");
    let by_seat = app
        .graphql_as(
            ("S1", "SEAT"),
            r#"mutation { removeScript(code: "DEFAULT") { code } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&by_seat), "FORBIDDEN");

    const LIST: &str =
        r#"{ mediaAssets(enabledOnly: true) { code title category autoplay noSkip enabled } }"#;
    let created = admin(
        &app,
        r#"mutation { createMedia(code: "RISK-1", input: { title: "贷款不得用于股票投资", category: RISK_NOTICE, url: "https://media.example/risk.mp4", autoplay: true, noSkip: true }) { enabled } }"#,
        json!({}),
    )
    .await;
    assert_eq!(data(&created)["createMedia"]["enabled"], false);
    let hidden = app.graphql_as(("S1", "SEAT"), LIST, json!({})).await;
    assert!(data(&hidden)["mediaAssets"].as_array().unwrap().is_empty());
    data(
        &admin(
            &app,
            r#"mutation { enableMedia(code: "RISK-1") { enabled } }"#,
            json!({}),
        )
        .await,
    );
    let shown = app.graphql_as(("S1", "SEAT"), LIST, json!({})).await;
    assert_eq!(
        data(&shown)["mediaAssets"][0],
        json!({ "code": "RISK-1", "title": "贷款不得用于股票投资", "category": "RISK_NOTICE", "autoplay": true, "noSkip": true, "enabled": true })
    );
    let bad_url = admin(
        &app,
        r#"mutation { createMedia(code: "BAD", input: { title: "x", category: MARKETING, url: "javascript:alert(1)" }) { enabled } }"#,
        json!({}),
    )
    .await;
    assert_eq!(error_code(&bad_url), "VALIDATION");
    app.stop().await;
}

/// 004_448cd5ace309d8b2.txt 3.17: 管理员可以创建账号…编辑、删除、踢出、禁用 — a kicked
/// account's tokens stop working until it signs in again; a disabled one's at
/// once; a token may not claim another role than the account's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kicked_and_disabled_accounts_lose_their_sessions() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    const WHO: &str = r#"{ callQueue { waiting } }"#;
    let created = admin(
        &app,
        r#"mutation { createAccount(login: "S9", input: { name: "信诺安全-1", phone: "13026877921", role: "SEAT" }) { login role status } }"#,
        json!({}),
    )
    .await;
    assert_eq!(data(&created)["createAccount"]["status"], "ACTIVE");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let session = token("S9", "SEAT");
    let (_, before) = app.graphql_with_token(Some(&session), WHO, json!({})).await;
    data(&before);
    let (_, wrong_role) = app
        .graphql_with_token(Some(&token("S9", "ADMIN")), WHO, json!({}))
        .await;
    assert_eq!(error_code(&wrong_role), "UNAUTHENTICATED");

    data(
        &admin(
            &app,
            r#"mutation { kickAccount(login: "S9") { login } }"#,
            json!({}),
        )
        .await,
    );
    let (_, kicked) = app.graphql_with_token(Some(&session), WHO, json!({})).await;
    assert_eq!(error_code(&kicked), "UNAUTHENTICATED");
    assert!(kicked["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("踢出"));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let fresh = token("S9", "SEAT");
    let (_, again) = app.graphql_with_token(Some(&fresh), WHO, json!({})).await;
    data(&again);

    data(
        &admin(
            &app,
            r#"mutation { disableAccount(login: "S9") { status } }"#,
            json!({}),
        )
        .await,
    );
    let (_, disabled) = app.graphql_with_token(Some(&fresh), WHO, json!({})).await;
    assert_eq!(error_code(&disabled), "UNAUTHENTICATED");
    let list = app
        .graphql_as(
            ("AU1", "AUDITOR"),
            r#"{ accounts { login status phone } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data(&list)["accounts"][0]["status"], "DISABLED");
    assert_eq!(
        data(&list)["accounts"][0]["phone"],
        "130****7921",
        "masked for auditors"
    );
    let bad = admin(
        &app,
        r#"mutation { createAccount(login: "P1", input: { name: "x", role: "PARTNER" }) { login } }"#,
        json!({}),
    )
    .await;
    assert_eq!(error_code(&bad), "VALIDATION");
    app.stop().await;
}

/// 004_448cd5ace309d8b2.txt 3.3–3.5: a new work order is 待处理 and texts the
/// customer; the customer calls in (可呼入状态：待处理、处理中), the answer makes it
/// 处理中, 回传 makes it 已处理; 撤销 only from the first two; the SMS can be sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_orders_follow_the_platform_manual() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    const ID_NO: &str = "654646464646565";
    let seat_s1 = ("S1", "SEAT");
    seat(&app, "S1").await;
    crate::support::dispatch::open_channel(&app, true).await;
    const CREATE: &str = r#"mutation($id: String) { createWorkOrder(input: { businessType: "YXD", customerName: "邓小闲", phone: "15618293093", idNumber: $id, caseNo: "646464644664", policyNo: "65464564" }) { id status customerName } }"#;
    let created = app
        .graphql_as(seat_s1, CREATE, json!({ "id": ID_NO }))
        .await;
    let order = data(&created)["createWorkOrder"].clone();
    assert_eq!(order["status"], "PENDING");
    let sms = app
        .graphql_as(
            seat_s1,
            r#"query($id: ID!) { smsMessages(taskId: $id) { template body } }"#,
            json!({ "id": order["id"] }),
        )
        .await;
    assert_eq!(
        data(&sms)["smsMessages"].as_array().unwrap().len(),
        1,
        "成功新建工单后，自动发送引导通知短信"
    );
    data(
        &app.graphql_as(
            seat_s1,
            r#"mutation($id: ID!) { resendWorkOrderSms(id: $id) { status } }"#,
            json!({ "id": order["id"] }),
        )
        .await,
    );
    let sms = app
        .graphql_as(
            seat_s1,
            r#"query($id: ID!) { smsMessages(taskId: $id) { template } }"#,
            json!({ "id": order["id"] }),
        )
        .await;
    assert_eq!(
        data(&sms)["smsMessages"].as_array().unwrap().len(),
        2,
        "发送短信 sends again"
    );

    data(
        &app.graphql_as(
            seat_s1,
            r#"mutation { signIn(seatNo: "S1") { seat { presence } } }"#,
            json!({}),
        )
        .await,
    );
    let joined = app
        .graphql_as(
            (ID_NO, "CUSTOMER"),
            r#"mutation($task: ID!) { joinQueue(input: { taskId: $task, channelCode: "YYZX" }) { callId status seatNo } }"#,
            json!({ "task": order["id"] }),
        )
        .await;
    let call = data(&joined)["joinQueue"].clone();
    assert_eq!(call["seatNo"], "S1");
    data(
        &app.graphql_as(
            seat_s1,
            r#"mutation($id: ID!) { answerCall(callId: $id, seatNo: "S1") { status } }"#,
            json!({ "id": call["callId"] }),
        )
        .await,
    );
    const ORDERS: &str =
        r#"query($s: WorkOrderStatus) { workOrders(status: $s) { id status seatNo } }"#;
    let in_progress = app
        .graphql_as(seat_s1, ORDERS, json!({ "s": "IN_PROGRESS" }))
        .await;
    assert_eq!(
        data(&in_progress)["workOrders"][0]["seatNo"],
        "S1",
        "处理中：坐席接通后自动变更"
    );
    let done = app
        .graphql_as(
            seat_s1,
            r#"mutation($id: ID!) { completeWorkOrder(id: $id) { status } }"#,
            json!({ "id": order["id"] }),
        )
        .await;
    assert_eq!(data(&done)["completeWorkOrder"]["status"], "DONE");
    let cancel_done = app
        .graphql_as(
            seat_s1,
            r#"mutation($id: ID!) { cancelWorkOrder(id: $id) { status } }"#,
            json!({ "id": order["id"] }),
        )
        .await;
    assert_eq!(error_code(&cancel_done), "INVALID_TRANSITION");
    let call_done = app
        .graphql_as(
            (ID_NO, "CUSTOMER"),
            r#"mutation($task: ID!) { joinQueue(input: { taskId: $task, channelCode: "YYZX" }) { status } }"#,
            json!({ "task": order["id"] }),
        )
        .await;
    assert_eq!(
        error_code(&call_done),
        "INVALID_TRANSITION",
        "不可呼入状态：已处理、已撤销"
    );

    let second = app.graphql_as(seat_s1, CREATE, json!({ "id": null })).await;
    let second = data(&second)["createWorkOrder"].clone();
    let cancelled = app
        .graphql_as(
            seat_s1,
            r#"mutation($id: ID!) { cancelWorkOrder(id: $id) { status } }"#,
            json!({ "id": second["id"] }),
        )
        .await;
    assert_eq!(data(&cancelled)["cancelWorkOrder"]["status"], "CANCELLED");
    let masked = app.graphql_as(("AU1", "AUDITOR"), ORDERS, json!({})).await;
    assert_eq!(data(&masked)["workOrders"].as_array().unwrap().len(), 2);
    let named = app
        .graphql_as(
            ("AU1", "AUDITOR"),
            r#"{ workOrders { customerName } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data(&named)["workOrders"][0]["customerName"], "邓*闲");
    let bad_phone = app
        .graphql_as(seat_s1, r#"mutation { createWorkOrder(input: { businessType: "YXD", customerName: "x", phone: "123", caseNo: "1" }) { id } }"#, json!({}))
        .await;
    assert_eq!(error_code(&bad_phone), "VALIDATION");
    app.stop().await;
}
