//! Partners as the end-to-end tests play them: a fake callback endpoint,
//! signed gateway calls, orders taken to 授信中, credit decisions on Kafka.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::{json, Value};
use workers::kafka::{KafkaSettings, CREDIT_DECISIONS};

use super::{data, settings, Backend, Broker, TestApp, TestDb};

pub(crate) const SECRET: &str = "rongshu-secret-0123456789";

pub(crate) const CREDIT: (&str, &str) = ("CREDIT", "CREDIT_SYSTEM");

pub(crate) const ADMIN: (&str, &str) = ("A001", "ADMIN");

/// A partner's callback endpoint: answers `failures` requests with 503 (or all,
/// while `always_fail` is set), then 200; records what it received.
#[derive(Clone, Default)]
pub(crate) struct FakePartner {
    pub(crate) failures: Arc<AtomicU32>,
    pub(crate) always_fail: Arc<std::sync::atomic::AtomicBool>,
    pub(crate) received: Arc<Mutex<Vec<(HeaderMap, String)>>>,
}

impl FakePartner {
    pub(crate) async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().route(
            "/callback",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let me = me.clone();
                async move {
                    me.received.lock().unwrap().push((headers, body));
                    let fail = me.always_fail.load(Ordering::SeqCst)
                        || me
                            .failures
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok();
                    if fail {
                        axum::http::StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        axum::http::StatusCode::OK
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/callback", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }
}

pub(crate) async fn app(broker: &Broker, callback_url: &str) -> TestApp {
    let brokers = broker.address.clone();
    let partners = format!("RONGSHU={SECRET}@{callback_url}");
    TestApp::spawn_on(TestDb::new(Backend::Sqlite).await, move |url| {
        let mut settings = settings(url);
        let mut kafka = KafkaSettings::for_brokers(brokers);
        kafka.partitions = 1;
        kafka.message_timeout = Duration::from_secs(5);
        settings.kafka = Some(kafka);
        settings.partners = workers::partners::PartnerDirectory::parse(&partners).unwrap();
        settings.callback_max_attempts = 2;
        settings.account_check_after = chrono::Duration::seconds(1);
        settings
    })
    .await
}

/// A request to `operation`, signed as docs/partners.md says (the operation's
/// method and path among the parameters).
pub(crate) fn envelope(
    operation: &str,
    biz: Value,
    nonce: &str,
    timestamp: i64,
    secret: &str,
) -> Value {
    let biz = biz.to_string();
    let timestamp = timestamp.to_string();
    let path = format!("/partner/v1/{operation}");
    let sign = domain::partner_order::signature::sign(
        [
            ("bizContent", biz.as_str()),
            ("method", "POST"),
            ("nonce", nonce),
            ("partner", "RONGSHU"),
            ("path", path.as_str()),
            ("timestamp", timestamp.as_str()),
        ],
        secret,
    );
    json!({ "partner": "RONGSHU", "timestamp": timestamp, "nonce": nonce, "bizContent": biz, "sign": sign })
}

pub(crate) async fn partner_call(app: &TestApp, operation: &str, envelope: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/partner/v1/{operation}", app.base))
        .json(envelope)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

/// A correctly signed call with a fresh nonce; asserts 200 and returns `data`.
pub(crate) async fn call(app: &TestApp, operation: &str, biz: Value) -> Value {
    let nonce = uuid::Uuid::now_v7().to_string();
    let (status, body) = partner_call(
        app,
        operation,
        &envelope(
            operation,
            biz,
            &nonce,
            chrono::Utc::now().timestamp_millis(),
            SECRET,
        ),
    )
    .await;
    assert_eq!(status, 200, "{operation}: {body}");
    body["data"].clone()
}

pub(crate) async fn order(app: &TestApp, order_no: &str) -> Value {
    let response = app
        .graphql_as(
            ADMIN,
            r#"query($no: String!) { partnerOrder(partner: "RONGSHU", orderNo: $no) { status statusCode auditResultCode borrowStatus borrowDeferred accountOpened } }"#,
            json!({ "no": order_no }),
        )
        .await;
    data(&response)["partnerOrder"].clone()
}

pub(crate) async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen in 20 s");
}

/// Pushes an order and takes it through the credit system's intake to 11 授信中.
pub(crate) async fn order_in_credit(app: &TestApp, order_no: &str, id_number: &str) {
    let pushed = call(
        app,
        "orders",
        json!({ "orderNo": order_no, "uid": "u-1", "name": "王建国", "idNumber": id_number, "phone": "13600001111" }),
    )
    .await;
    assert_eq!(pushed["statusCode"], 0);
    for step in ["DATA_PULLED", "PARSED", "CREDIT_REQUESTED"] {
        data(&app
            .graphql_as(
                CREDIT,
                &format!("mutation($no: String!) {{ advancePartnerOrder(partner: \"RONGSHU\", orderNo: $no, step: {step}) {{ statusCode }} }}"),
                json!({ "no": order_no }),
            )
            .await);
    }
    assert_eq!(order(app, order_no).await["statusCode"], 11);
}

/// Writes a credit decision to `credit.decisions.v1`.
pub(crate) async fn produce(brokers: &str, key: &str, value: &str) {
    super::kafka::produce_to(brokers, CREDIT_DECISIONS, key, value).await;
}
