//! A partner's loan after the money (002 items 18–24, issue 21 item 5), on both
//! backends with a fake partner and a real broker: the disbursed order opens
//! its loan and the partner is called back with the plan (item 19); 主动还款试算
//! (21), 主动还款 (22) answered by the core on `core.repayments.v1` and called
//! back (23), 还款结果查询 (24), and an overdue period called back (20).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use workers::kafka::{KafkaSettings, CORE_REPAYMENTS};

use crate::loan_servicing::{move_to, produce, shanghai_today};
use crate::support::partners::{
    call, envelope, eventually, order, order_in_credit, partner_call, FakePartner, ADMIN, CREDIT,
    SECRET,
};
use crate::support::{data, on_both_backends, settings, Backend, Broker, TestApp, TestDb};

on_both_backends!(
    a_partner_loan_is_repaid_and_the_partner_told,
    partner_settings_decide_admission_banks_and_agreements
);

async fn app(
    backend: Backend,
    broker: &Broker,
    callback_url: &str,
) -> (TestApp, Arc<store::ShiftableClock>) {
    app_with(backend, broker, callback_url, None).await
}

async fn app_with(
    backend: Backend,
    broker: &Broker,
    callback_url: &str,
    partner_settings: Option<&str>,
) -> (TestApp, Arc<store::ShiftableClock>) {
    let partner_settings = partner_settings.map(str::to_string);
    let clock = Arc::new(store::ShiftableClock::default());
    let (server_clock, brokers) = (clock.clone(), broker.address.clone());
    let partners = format!("RONGSHU={SECRET}@{callback_url}");
    let app = TestApp::spawn_on(TestDb::new(backend).await, move |url| {
        let mut settings = settings(url);
        settings.clock = server_clock;
        let mut kafka = KafkaSettings::for_brokers(brokers);
        kafka.partitions = 1;
        kafka.message_timeout = Duration::from_secs(5);
        settings.kafka = Some(kafka);
        settings.partners = workers::partners::PartnerDirectory::parse(&partners).unwrap();
        if let Some(json) = &partner_settings {
            settings.partners = settings.partners.clone().with_settings(json).unwrap();
        }
        settings
    })
    .await;
    (app, clock)
}

/// The callbacks the fake partner received of `kind`, as their `result`.
fn callbacks(partner: &FakePartner, kind: &str) -> Vec<Value> {
    partner
        .received
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(_, body)| serde_json::from_str::<Value>(body).ok())
        .filter(|body| body["kind"] == kind)
        .map(|body| body["result"].clone())
        .collect()
}

async fn credit(app: &TestApp, mutation: &str) {
    data(&app.graphql_as(CREDIT, mutation, json!({})).await);
}

async fn a_partner_loan_is_repaid_and_the_partner_told(backend: Backend) {
    let broker = Broker::start().await;
    let partner = FakePartner::default();
    let (app, clock) = app(backend, &broker, &partner.start().await).await;
    let today = shanghai_today(&clock);
    order_in_credit(&app, "RS-L", "11010519491231002X").await;
    let approval = json!({ "messageId": "m-L", "partner": "RONGSHU", "orderNo": "RS-L", "approved": true, "limit": "20000", "annualRate": "0.06" });
    produce(
        &broker.address,
        workers::kafka::CREDIT_DECISIONS,
        "RS-L",
        &approval,
    )
    .await;
    eventually("the approval applied", async || {
        order(&app, "RS-L").await["statusCode"] == 12
    })
    .await;
    credit(&app, r#"mutation { recordPartnerAccountOpened(partner: "RONGSHU", orderNo: "RS-L") { accountOpened } }"#).await;
    let borrow = call(
        &app,
        "confirm-borrow",
        json!({ "orderNo": "RS-L", "amount": "12000", "termMonths": 12 }),
    )
    .await;
    assert_eq!(borrow["result"], "BORROW_CONFIRMED");
    let (status, early) = partner_call(
        &app,
        "repay-trial",
        &envelope(
            "repay-trial",
            json!({ "orderNo": "RS-L" }),
            "early-trial",
            chrono::Utc::now().timestamp_millis(),
            SECRET,
        ),
    )
    .await;
    assert_eq!(
        (status, &early["code"]),
        (422, &json!("INVALID_TRANSITION")),
        "no loan before 放款: {early}"
    );
    credit(&app, r#"mutation { recordPartnerOrderAudit(partner: "RONGSHU", orderNo: "RS-L", approved: true) { borrowStatus } }"#).await;
    credit(&app, r#"mutation { recordPartnerDisbursement(partner: "RONGSHU", orderNo: "RS-L") { borrowStatus } }"#).await;

    // Item 19: 放款成功 is called back once the plan exists, with the plan.
    eventually("the success callback", async || {
        !callbacks(&partner, "LOAN_SUCCESS").is_empty()
    })
    .await;
    let success = &callbacks(&partner, "LOAN_SUCCESS")[0];
    assert_eq!(success["code"], "SUCCESS");
    assert_eq!(success["plan"].as_array().unwrap().len(), 12);
    assert_eq!(
        success["plan"][0]["amount"], "1032.80",
        "12,000 at 6 % over 12 months"
    );
    let plan = call(&app, "repayment-plan", json!({ "orderNo": "RS-L" })).await;
    assert_eq!(plan["plan"][0]["state"], "PENDING");
    assert_eq!(plan["valueDate"], today.to_string());

    // Item 21: nothing due today; the payoff is the principal (no day of interest yet).
    let trial = call(&app, "repay-trial", json!({ "orderNo": "RS-L" })).await;
    assert_eq!(
        (&trial["owedToday"]["total"], &trial["payoff"]),
        (&json!("0.00"), &json!("12000.00"))
    );

    // Item 22: the core is asked; a repeat is the same request.
    let repay = json!({ "orderNo": "RS-L", "repayNo": "RP-1", "amount": "1032.80" });
    assert_eq!(
        call(&app, "repay", repay.clone()).await["status"],
        "PROCESSING"
    );
    assert_eq!(call(&app, "repay", repay).await["status"], "PROCESSING");
    let (status, too_much) = partner_call(
        &app,
        "repay",
        &envelope(
            "repay",
            json!({ "orderNo": "RS-L", "repayNo": "RP-9", "amount": "99999" }),
            "too-much",
            chrono::Utc::now().timestamp_millis(),
            SECRET,
        ),
    )
    .await;
    assert_eq!(
        (status, &too_much["code"]),
        (400, &json!("VALIDATION")),
        "{too_much}"
    );
    assert_eq!(
        call(
            &app,
            "repay-result",
            json!({ "orderNo": "RS-L", "repayNo": "RP-1" })
        )
        .await["status"],
        "PROCESSING"
    );
    let received = json!({ "messageId": "CORE-P-1", "applicationNo": "RONGSHU:RS-L", "kind": "RECEIVED", "channel": "ACTIVE", "repaymentNo": "RP-1", "day": today.to_string(), "amount": "1032.80" });
    produce(&broker.address, CORE_REPAYMENTS, "RONGSHU:RS-L", &received).await;
    produce(&broker.address, CORE_REPAYMENTS, "RONGSHU:RS-L", &received).await;

    // Items 23, 24: the result is called back and can be asked for.
    eventually("the repayment result", async || {
        call(
            &app,
            "repay-result",
            json!({ "orderNo": "RS-L", "repayNo": "RP-1" }),
        )
        .await["status"]
            == "SUCCESS"
    })
    .await;
    let result = call(
        &app,
        "repay-result",
        json!({ "orderNo": "RS-L", "repayNo": "RP-1" }),
    )
    .await;
    assert_eq!(
        (&result["paid"]["principal"], &result["paid"]["interest"]),
        (&json!("972.80"), &json!("60.00"))
    );
    eventually("the repayment callback", async || {
        !callbacks(&partner, "REPAYMENT_RESULT").is_empty()
    })
    .await;
    assert_eq!(
        callbacks(&partner, "REPAYMENT_RESULT")[0]["status"],
        "SUCCESS"
    );
    assert_eq!(
        callbacks(&partner, "REPAYMENT_RESULT")[0]["repayNo"],
        "RP-1"
    );

    // A debit that fails is a FAILED result with the core's reason.
    call(
        &app,
        "repay",
        json!({ "orderNo": "RS-L", "repayNo": "RP-2", "amount": "500" }),
    )
    .await;
    let failed = json!({ "messageId": "CORE-P-2", "applicationNo": "RONGSHU:RS-L", "kind": "AUTO_DEBIT_FAILED", "repaymentNo": "RP-2", "day": today.to_string(), "amount": "500", "reason": "余额不足" });
    produce(&broker.address, CORE_REPAYMENTS, "RONGSHU:RS-L", &failed).await;
    eventually("the failed result", async || {
        call(
            &app,
            "repay-result",
            json!({ "orderNo": "RS-L", "repayNo": "RP-2" }),
        )
        .await["status"]
            == "FAILED"
    })
    .await;
    eventually("the failure called back", async || {
        callbacks(&partner, "REPAYMENT_RESULT")
            .iter()
            .any(|r| r["status"] == "FAILED" && r["reason"] == "余额不足")
    })
    .await;

    // Item 20: period 1 was paid ahead; period 2 unpaid the day after its due date is overdue.
    let second_due = today.checked_add_months(chrono::Months::new(2)).unwrap();
    move_to(&clock, second_due + chrono::Days::new(1));
    eventually("the overdue callback", async || {
        callbacks(&partner, "OVERDUE")
            .iter()
            .any(|r| r["period"] == 2)
    })
    .await;
    assert!(callbacks(&partner, "OVERDUE")
        .iter()
        .all(|r| r["period"] != 1));
    let ledger = app
        .graphql_as(
            ADMIN,
            r#"query { loanLedger(id: "RONGSHU:RS-L") { periods { state } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data(&ledger)["loanLedger"]["periods"][1]["state"],
        "OVERDUE"
    );
    app.stop().await;
}

/// 002 item 25 (产品基础数据、准入规则、新网开户页、可借日期 configured, not constants),
/// item 10 (支持银行卡列表) and item 3 (协议列表).
async fn partner_settings_decide_admission_banks_and_agreements(backend: Backend) {
    let broker = Broker::start().await;
    let partner = FakePartner::default();
    let settings = r#"{ "RONGSHU": {
        "productCode": "RS-DE", "productName": "榕树大额", "reborrowDays": 30,
        "admission": { "minAge": 22, "maxAge": 55 },
        "banks": [{ "bankCode": "ICBC", "bankName": "中国工商银行", "singleLimit": "50000" }],
        "agreements": [{ "code": "LOAN_CONTRACT", "name": "借款合同", "url": "https://bank.example/c/{orderNo}" }] } }"#;
    let (app, clock) = app_with(backend, &broker, &partner.start().await, Some(settings)).await;
    let banks = call(&app, "banks", json!({})).await;
    assert_eq!(
        banks["banks"],
        json!([{ "bankCode": "ICBC", "bankName": "中国工商银行", "singleLimit": "50000", "dailyLimit": null }])
    );
    let filter = |id: &'static str| {
        let app = &app;
        async move { call(app, "user-filter", json!({ "idNumber": id })).await }
    };
    assert_eq!(
        filter("110105201001010011").await["accept"],
        false,
        "16 years old"
    );
    assert_eq!(
        filter("110105194901010011").await["accept"],
        false,
        "past 55"
    );
    assert_eq!(filter("410102198503121017").await["accept"], true);

    // A refused credit: the person may borrow again only 30 days later (可借日期).
    order_in_credit(&app, "RS-S", "410102198503121017").await;
    let refusal = json!({ "messageId": "m-S", "partner": "RONGSHU", "orderNo": "RS-S", "approved": false, "reason": "资质不符" });
    produce(
        &broker.address,
        workers::kafka::CREDIT_DECISIONS,
        "RS-S",
        &refusal,
    )
    .await;
    eventually("the refusal applied", async || {
        order(&app, "RS-S").await["statusCode"] == 4
    })
    .await;
    let later = filter("410102198503121017").await;
    let from = shanghai_today(&clock) + chrono::Days::new(30);
    assert_eq!(
        (&later["accept"], &later["borrowableFrom"]),
        (&json!(false), &json!(from.to_string()))
    );
    move_to(&clock, from + chrono::Days::new(1));
    // From now on, signed with the server's (moved) time.
    let signed = |operation: &'static str, biz: Value| {
        let (app, clock) = (&app, clock.clone());
        async move {
            let nonce = uuid::Uuid::now_v7().to_string();
            let at = domain::services::Clock::now(&*clock).timestamp_millis();
            partner_call(
                app,
                operation,
                &envelope(operation, biz, &nonce, at, SECRET),
            )
            .await
        }
    };
    let (status, after) = signed("user-filter", json!({ "idNumber": "410102198503121017" })).await;
    assert_eq!(
        (status, &after["data"]["accept"]),
        (200, &json!(true)),
        "after 可借日期: {after}"
    );
    let (_, agreements) = signed("agreements", json!({ "orderNo": "RS-S" })).await;
    assert_eq!(agreements["data"]["productCode"], "RS-DE", "{agreements}");
    assert_eq!(
        agreements["data"]["agreements"][0]["url"],
        "https://bank.example/c/RS-S"
    );
    let (status, unsupported) = signed(
        "bind-card",
        json!({ "orderNo": "RS-S", "cardNo": "6217000000000000001", "bankCode": "CCB" }),
    )
    .await;
    assert_eq!(
        (status, &unsupported["code"]),
        (400, &json!("VALIDATION")),
        "{unsupported}"
    );
    app.stop().await;
}
