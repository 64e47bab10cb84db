//! SMS delivery through the bank's gateway (issue 22 item 6): the outbox
//! worker hands every text to a fake gateway, retries what failed for the
//! moment with backoff, gives up on what was refused, and records the
//! gateway's delivery reports — on both backends.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use crate::support::on_both_backends;
use crate::support::partners::eventually;
use crate::support::scheduling::{book_mutation, seat, slot_vars, task_with, tomorrow_at};
use crate::support::{data, settings, Backend, TestApp, TestDb};

const TOKEN: &str = "gateway-token-0123456789";

on_both_backends!(
    texts_reach_the_gateway_with_retries_refusals_and_delivery_reports,
    a_partner_s_customers_get_texts_signed_by_the_partner,
    reports_are_limited_before_the_token_and_status_only_moves_forward
);

/// A gateway answering `unavailable` sends with 503, then 200 with its own
/// id — or 400 to everything while `refusing`; records what it received.
#[derive(Clone, Default)]
struct FakeGateway {
    unavailable: Arc<AtomicU32>,
    refusing: Arc<AtomicBool>,
    received: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

impl FakeGateway {
    async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().route(
            "/send",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let me = me.clone();
                async move {
                    let body: Value = serde_json::from_str(&body).unwrap();
                    let id = body["messageId"].as_str().unwrap_or_default().to_string();
                    me.received.lock().unwrap().push((headers, body));
                    if me.refusing.load(Ordering::SeqCst) {
                        return (StatusCode::BAD_REQUEST, "blacklisted number".to_string());
                    }
                    if me
                        .unavailable
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        return (StatusCode::SERVICE_UNAVAILABLE, "busy".to_string());
                    }
                    (
                        StatusCode::OK,
                        json!({ "gatewayMessageId": format!("gw-{id}") }).to_string(),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/send", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }
}

/// The bank's gateway at `url`, signing 【原银在线】, three attempts 200 ms apart.
fn gateway_at(url: String) -> workers::sms::SmsGatewaySettings {
    workers::sms::SmsGatewaySettings {
        url,
        account: "YYZX-SMS".into(),
        token: secrecy::SecretString::from(TOKEN.to_string()).into(),
        signature: "原银在线".into(),
        max_attempts: 3,
        retry_base: chrono::Duration::milliseconds(200),
        max_age: chrono::Duration::hours(1),
    }
}

/// The texts about `task` as a supervisor reads them (in clear: an admin
/// reads them masked, docs/security.md).
async fn texts(app: &TestApp, task: &str) -> Vec<Value> {
    let response = app
        .graphql_as(
            ("SV1", "SUPERVISOR"),
            "query($id: ID!) { smsMessages(taskId: $id) { id body deliveryStatus attempts deliveryError statusAt } }",
            json!({ "id": task }),
        )
        .await;
    data(&response)["smsMessages"].as_array().unwrap().clone()
}

/// A server handing texts to `gateway` (settings adjusted by `adjust`), a
/// booking for contract `contract_no`, and its notice once the gateway took it.
async fn booked_notice(
    backend: Backend,
    gateway: &FakeGateway,
    contract_no: &str,
    adjust: impl FnOnce(&mut facesign::Settings) + Send + 'static,
) -> (TestApp, String, Value) {
    let url = gateway.start().await;
    let app = TestApp::spawn_on(TestDb::new(backend).await, move |db| {
        let mut settings = settings(db);
        settings.sms_gateway = Some(gateway_at(url));
        adjust(&mut settings);
        settings
    })
    .await;
    seat(&app, "S1").await;
    let task = task_with(&app, contract_no, "410102198503121017").await;
    data(
        &app.graphql(&book_mutation(), slot_vars(&task, "S1", tomorrow_at(10, 0)))
            .await,
    );
    let mut sent = Vec::new();
    eventually("the notice is handed to the gateway", async || {
        sent = texts(&app, &task).await;
        sent.len() == 1 && sent[0]["deliveryStatus"] == "SENT"
    })
    .await;
    let notice = sent[0].clone();
    (app, task, notice)
}

async fn report(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!("{}/sms/reports", app.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A booking's notice (001 2.9.3) goes out signed 【原银在线】 after one 503
/// (the same message id and idempotency key both times); the gateway's report
/// makes it DELIVERED (a report with the wrong token or for an unknown message
/// is refused and changes nothing); a text the gateway refuses is FAILED after
/// one attempt, with the gateway's answer.
async fn texts_reach_the_gateway_with_retries_refusals_and_delivery_reports(backend: Backend) {
    let gateway = FakeGateway::default();
    gateway.unavailable.store(1, Ordering::SeqCst);
    let (app, task, notice) = booked_notice(backend, &gateway, "HT-SMS-1", |_| {}).await;
    assert_eq!(notice["attempts"], 2, "one 503, then accepted: {notice}");
    {
        let received = gateway.received.lock().unwrap();
        assert_eq!(received.len(), 2);
        for (headers, body) in received.iter() {
            assert_eq!(headers["authorization"], format!("Bearer {TOKEN}"));
            assert_eq!(headers["idempotency-key"], notice["id"].as_str().unwrap());
            assert_eq!(body["messageId"], notice["id"]);
            assert_eq!(body["account"], "YYZX-SMS");
            assert_eq!(body["phone"], "13800138000");
            assert_eq!(
                body["content"],
                format!("【原银在线】{}", notice["body"].as_str().unwrap())
            );
        }
    }

    let forged = report(
        &app,
        "not-the-token",
        json!({ "messageId": notice["id"], "status": "DELIVERED" }),
    )
    .await;
    assert_eq!(forged.status(), 401);
    let unknown = report(
        &app,
        TOKEN,
        json!({ "messageId": "nope", "status": "DELIVERED" }),
    )
    .await;
    assert_eq!(unknown.status(), 404);
    let odd = report(
        &app,
        TOKEN,
        json!({ "messageId": notice["id"], "status": "READ" }),
    )
    .await;
    assert_eq!(odd.status(), 400);
    assert_eq!(
        texts(&app, &task).await[0]["deliveryStatus"],
        "SENT",
        "refused reports change nothing"
    );
    let delivered = report(
        &app,
        TOKEN,
        json!({ "messageId": notice["id"], "status": "DELIVERED" }),
    )
    .await;
    assert_eq!(delivered.status(), 200);
    assert_eq!(texts(&app, &task).await[0]["deliveryStatus"], "DELIVERED");

    // The gateway refuses the next text: FAILED at once, not retried.
    gateway.refusing.store(true, Ordering::SeqCst);
    let other = task_with(&app, "HT-SMS-2", "11010519491231002X").await;
    data(
        &app.graphql(
            &book_mutation(),
            slot_vars(&other, "S1", tomorrow_at(11, 0)),
        )
        .await,
    );
    let mut refused = Vec::new();
    eventually("the refused text is FAILED", async || {
        refused = texts(&app, &other).await;
        refused.len() == 1 && refused[0]["deliveryStatus"] == "FAILED"
    })
    .await;
    assert_eq!(refused[0]["attempts"], 1);
    assert_eq!(refused[0]["deliveryError"], "HTTP 400: blacklisted number");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for outcome in ["sent", "retry", "failed", "delivered"] {
        assert!(
            metrics.contains(&format!("facesign_sms_total{{outcome=\"{outcome}\"}} 1")),
            "{outcome} counted: {metrics}"
        );
    }
}

/// 002 item 25 短信签名配置: a text to a partner's customer (a partner loan's
/// reminder) is signed with the partner's own signature; a partner without
/// one, and the bank's own texts, carry the bank's.
async fn a_partner_s_customers_get_texts_signed_by_the_partner(backend: Backend) {
    let gateway = FakeGateway::default();
    let url = gateway.start().await;
    let app = TestApp::spawn_on(TestDb::new(backend).await, move |db| {
        let mut settings = settings(db);
        settings.sms_gateway = Some(gateway_at(url));
        settings.partners = workers::partners::PartnerDirectory::parse(
            "RONGSHU=s3cret-rongshu-0123456@http://127.0.0.1:9/cb;PLAIN=s3cret-plain-01234567@http://127.0.0.1:9/cb",
        )
        .unwrap()
        .with_settings(r#"{ "RONGSHU": { "smsSignature": "【融数钱包】" } }"#)
        .unwrap();
        settings
    })
    .await;
    let outbox = workers::sms::SmsOutbox::new(
        app.any_pool().await,
        std::sync::Arc::new(store::system::SystemClock),
        std::sync::Arc::new(store::system::UuidV7Ids),
    );
    for (key, sender) in [
        ("partner", Some("RONGSHU")),
        ("unsigned-partner", Some("PLAIN")),
        ("bank", None),
    ] {
        outbox
            .send(&workers::sms::SmsMessage {
                dedup_key: format!("test:{key}"),
                task_id: "LOAN-SMS-1".into(),
                phone: "13800138000".into(),
                template: "REPAYMENT_REMINDER".into(),
                body: format!("text for {key}"),
                sender: sender.map(str::to_string),
            })
            .await
            .unwrap();
    }
    eventually("the three texts are handed over", async || {
        gateway.received.lock().unwrap().len() == 3
    })
    .await;
    let mut contents: Vec<String> = gateway
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| body["content"].as_str().unwrap().to_string())
        .collect();
    contents.sort();
    assert_eq!(
        contents,
        [
            "【原银在线】text for bank",
            "【原银在线】text for unsigned-partner",
            "【融数钱包】text for partner",
        ]
    );
}

/// Issue 31: reports are rate limited per address before the token is read,
/// and the refused ones leave one unverified tally, not a row each; a late
/// UNDELIVERED after DELIVERED is kept as a report and moves nothing back.
async fn reports_are_limited_before_the_token_and_status_only_moves_forward(backend: Backend) {
    let gateway = FakeGateway::default();
    let (app, task, notice) = booked_notice(backend, &gateway, "HT-SMS-R", |settings| {
        settings.sms_report_rate_per_address = 10
    })
    .await;
    let id = notice["id"].clone();
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    for _ in 0..1_000 {
        let answer = report(
            &app,
            "forged",
            json!({ "messageId": id, "status": "UNDELIVERED" }),
        )
        .await;
        *statuses.entry(answer.status().as_u16()).or_default() += 1;
    }
    assert!(
        statuses.get(&429).copied().unwrap_or(0) >= 900 && statuses.contains_key(&401),
        "{statuses:?}"
    );
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;

    let delivered = report(
        &app,
        TOKEN,
        json!({ "messageId": id, "status": "DELIVERED" }),
    )
    .await;
    assert_eq!(
        delivered.json::<Value>().await.unwrap(),
        json!({ "recorded": true, "applied": true })
    );
    let late = report(
        &app,
        TOKEN,
        json!({ "messageId": id, "status": "UNDELIVERED", "reason": "handset off" }),
    )
    .await;
    assert_eq!(
        late.json::<Value>().await.unwrap(),
        json!({ "recorded": true, "applied": false })
    );
    let response = app
        .graphql_as(
            ("SV1", "SUPERVISOR"),
            "query($id: ID!) { smsMessages(taskId: $id) { deliveryStatus deliveryReports { status reason applied } } }",
            json!({ "id": task }),
        )
        .await;
    assert_eq!(
        data(&response)["smsMessages"][0],
        json!({
            "deliveryStatus": "DELIVERED",
            "deliveryReports": [
                { "status": "DELIVERED", "reason": null, "applied": true },
                { "status": "UNDELIVERED", "reason": "handset off", "applied": false }
            ]
        })
    );
    // Reports of one message at once: none fails (SQLite's writers queue on
    // the message's lock), and no more are kept than the cap.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let concurrent: Vec<_> = (0..18)
        .map(|_| {
            report(
                &app,
                TOKEN,
                json!({ "messageId": id, "status": "DELIVERED" }),
            )
        })
        .collect();
    for answer in futures_util::future::join_all(concurrent).await {
        assert_eq!(answer.status(), 200);
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    for _ in 0..3 {
        let answer = report(
            &app,
            TOKEN,
            json!({ "messageId": id, "status": "DELIVERED" }),
        )
        .await;
        assert_eq!(answer.status(), 200, "recorded, if no longer kept");
    }
    let db = app.stop().await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let (kept,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sms_delivery_reports")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kept, workers::sms::REPORTS_KEPT_PER_MESSAGE);
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT actor_id, actor_role, detail FROM operation_log WHERE operation = 'sms/reports'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(rows.len(), 1, "one tally for the forged reports: {rows:?}");
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str()),
        ("unverified", "UNVERIFIED")
    );
    assert!(
        rows[0]
            .2
            .starts_with(&format!("{} unverified request(s)", statuses[&401])),
        "{rows:?}"
    );
}
