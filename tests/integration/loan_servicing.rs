//! The loan after the money (issue 21), end to end on both backends: the
//! disbursement asked of the core and confirmed (or failed) by it, the plan,
//! an overdue period accruing penalty over days of an injected clock, the
//! daily review's reminder SMS, a payment's split, statistics by day and a
//! full prepayment quoted and settled to the fen; then the core's messages on
//! a real broker, redelivered and malformed. Expected figures were computed
//! outside the code (Python's `decimal`, ROUND_HALF_UP).

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};
use workers::kafka::{KafkaSettings, CORE_DISBURSEMENTS, CORE_REPAYMENTS};

use crate::support::partners::eventually;
use crate::support::{
    data, error_code, on_both_backends, read_topics, settings, Backend, Broker, TestApp, TestDb,
};

const BORROWER_ID: &str = "410102198503121017";
const CORE: (&str, &str) = ("CORE", "CREDIT_SYSTEM");
const CUSTOMER: (&str, &str) = (BORROWER_ID, "CUSTOMER");
const MANAGER: (&str, &str) = ("M0001", "ACCOUNT_MANAGER");

const LOAN: &str = "id node disbursementRequestId history { kind from to reason }";
const LEDGER: &str = "loanLedger(id: $id) { valueDate today outstandingPrincipal payoffToday \
    terms { annualRate termMonths repaymentMethod penaltyAnnualRate } \
    periods { period dueDate principal interest paidPrincipal paidInterest penalty paidPenalty owed state } \
    owedToday { principal interest penalty overdue total } \
    prepayment { id approved quote { quotedOn owed principal interest total } } \
    transactions { kind day amount principal interest penalty channel period detail } }";

on_both_backends!(a_loan_is_disbursed_by_the_core_and_repaid_through_its_ledger);

/// A server with a clock the test moves, an 18 % penalty rate and reminders 3 days ahead.
pub(crate) async fn app(
    backend: Backend,
    kafka: Option<&str>,
) -> (TestApp, Arc<store::ShiftableClock>) {
    let clock = Arc::new(store::ShiftableClock::default());
    let server_clock = clock.clone();
    let brokers = kafka.map(str::to_string);
    let app = TestApp::spawn_on(TestDb::new(backend).await, move |url| {
        let mut settings = settings(url);
        settings.clock = server_clock;
        settings.loans.penalty_annual_rate = "0.18".parse().unwrap();
        settings.repayment_reminder_days = 3;
        settings.kafka = brokers.map(|b| {
            let mut kafka = KafkaSettings::for_brokers(b);
            kafka.partitions = 1;
            kafka.message_timeout = Duration::from_secs(5);
            kafka
        });
        settings
    })
    .await;
    (app, clock)
}

pub(crate) fn shanghai_today(clock: &store::ShiftableClock) -> NaiveDate {
    use domain::services::Clock;
    clock
        .now()
        .with_timezone(&domain::schedule::shanghai())
        .date_naive()
}

/// Moves the clock to noon (Asia/Shanghai) of `day`.
pub(crate) fn move_to(clock: &store::ShiftableClock, day: NaiveDate) {
    use domain::services::Clock;
    let noon = domain::schedule::shanghai()
        .from_local_datetime(&day.and_hms_opt(12, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    clock.advance(noon - clock.now());
}

pub(crate) async fn step(
    app: &TestApp,
    who: (&str, &str),
    id: &str,
    mutation: &str,
    args: &str,
) -> Value {
    crate::support::loans::loan_step(app, who, id, mutation, args, LOAN).await
}

/// A 12,000.00 融信秒贷 approved online at the bank's 6 % over 12 months and
/// signed, disbursement confirmed by the customer; returns the request id.
pub(crate) async fn confirmed(app: &TestApp, id: &str) -> String {
    crate::support::loans::miaodai_approved(app, id, "20000.00", "0.06").await;
    let terms = crate::support::loans::miaodai_signed(app, id, "12000.00").await;
    assert_eq!(terms["annualRate"], "0.06", "the credit system's rate");
    let confirmed = step(
        app,
        CUSTOMER,
        id,
        "confirmDisbursement",
        ", account: \"6217000000000001\"",
    )
    .await;
    let loan = &data(&confirmed)["confirmDisbursement"]["loan"];
    assert_eq!(loan["node"], "DISBURSING", "003: 等待系统自动放款");
    loan["disbursementRequestId"]
        .as_str()
        .expect("the request the core answers")
        .to_string()
}

pub(crate) async fn ledger(app: &TestApp, who: (&str, &str), id: &str) -> Value {
    let response = app
        .graphql_as(
            who,
            &format!("query($id: ID!) {{ {LEDGER} }}"),
            json!({ "id": id }),
        )
        .await;
    data(&response)["loanLedger"].clone()
}

pub(crate) async fn texts(app: &TestApp, loan: &str) -> Vec<(String, String)> {
    sqlx::query_as("SELECT template, body FROM sms_messages WHERE task_id = $1 ORDER BY sent_at")
        .bind(loan)
        .fetch_all(&app.any_pool().await)
        .await
        .unwrap()
}

pub(crate) fn result(message: &str, request: &str, paid: bool, value_date: NaiveDate) -> String {
    format!(
        ", input: {{ messageId: \"{message}\", requestId: \"{request}\", paid: {paid}, valueDate: \"{value_date}\", reason: \"账户状态异常\" }}"
    )
}

/// Issue 21 items 1–3 and 6 (003 贷后, 提前还款), as a customer, the core and a
/// manager see it.
async fn a_loan_is_disbursed_by_the_core_and_repaid_through_its_ledger(backend: Backend) {
    let (app, clock) = app(backend, None).await;
    let id = "RX-L1";
    let today = shanghai_today(&clock);
    let first = confirmed(&app, id).await;
    assert!(
        ledger(&app, CUSTOMER, id).await.is_null(),
        "no ledger before the money"
    );

    // 放款失败: back to 待放款 with the core's reason; the customer confirms again.
    let failed = step(
        &app,
        CORE,
        id,
        "recordDisbursementResult",
        &result("C-1", &first, false, today),
    )
    .await;
    let loan = &data(&failed)["recordDisbursementResult"]["loan"];
    assert_eq!(loan["node"], "AWAITING_DISBURSEMENT");
    let last = loan["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["kind"].as_str(), last["reason"].as_str()),
        (Some("DISBURSEMENT_FAILED"), Some("账户状态异常"))
    );
    let second = step(
        &app,
        CUSTOMER,
        id,
        "confirmDisbursement",
        ", account: \"6217000000000001\"",
    )
    .await;
    let second = data(&second)["confirmDisbursement"]["loan"]["disbursementRequestId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(second, first);
    let stale = step(
        &app,
        CORE,
        id,
        "recordDisbursementResult",
        &result("C-2", &first, true, today),
    )
    .await;
    assert_eq!(
        error_code(&stale),
        "CONFLICT",
        "an answer to the failed request"
    );
    let by_customer = step(
        &app,
        CUSTOMER,
        id,
        "recordDisbursementResult",
        &result("C-3", &second, true, today),
    )
    .await;
    assert_eq!(
        error_code(&by_customer),
        "FORBIDDEN",
        "only the core reports the money"
    );

    // 已放款 only now; the plan: 1,032.80 a month, the last 1,032.78, first due a month on.
    let paid = step(
        &app,
        CORE,
        id,
        "recordDisbursementResult",
        &result("C-3", &second, true, today),
    )
    .await;
    assert_eq!(
        data(&paid)["recordDisbursementResult"]["loan"]["node"],
        "DISBURSED"
    );
    let again = step(
        &app,
        CORE,
        id,
        "recordDisbursementResult",
        &result("C-3", &second, true, today),
    )
    .await;
    assert_eq!(
        data(&again)["recordDisbursementResult"]["loan"]["node"],
        "DISBURSED",
        "a redelivery changes nothing"
    );
    let plan = ledger(&app, CUSTOMER, id).await;
    let due = today.checked_add_months(chrono::Months::new(1)).unwrap();
    assert_eq!(plan["valueDate"], today.to_string());
    assert_eq!(plan["terms"]["repaymentMethod"], "EQUAL_INSTALLMENTS");
    let periods = plan["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 12);
    assert_eq!(periods[0]["dueDate"], due.to_string());
    assert_eq!(
        (
            periods[0]["principal"].as_str(),
            periods[0]["interest"].as_str()
        ),
        (Some("972.80"), Some("60.00"))
    );
    assert_eq!(
        (
            periods[11]["principal"].as_str(),
            periods[11]["interest"].as_str()
        ),
        (Some("1027.64"), Some("5.14"))
    );
    assert_eq!(
        plan["transactions"].as_array().unwrap().len(),
        1,
        "one disbursement, not two"
    );
    let stranger = app
        .graphql_as(
            ("110101199003077777", "CUSTOMER"),
            &format!("query($id: ID!) {{ {LEDGER} }}"),
            json!({ "id": id }),
        )
        .await;
    assert!(
        data(&stranger)["loanLedger"].is_null(),
        "another customer's loan looks as if it did not exist"
    );
    eventually("the funds-arrived SMS", async || {
        texts(&app, id)
            .await
            .iter()
            .any(|(t, _)| t == "DISBURSEMENT_NOTICE")
    })
    .await;

    // 003 还款日前X天: the reminder two days before the due date, once.
    move_to(&clock, due - chrono::Days::new(2));
    eventually("the repayment reminder", async || {
        texts(&app, id).await.iter().any(|(t, body)| {
            t == "REPAYMENT_REMINDER" && body.contains("第1期") && body.contains("1032.80")
        })
    })
    .await;

    // Overdue from the day after the due date; 3 days at 18 %: 1.55 penalty.
    move_to(&clock, due + chrono::Days::new(3));
    eventually("period 1 overdue", async || {
        ledger(&app, CUSTOMER, id).await["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "OVERDUE" && t["period"] == 1)
    })
    .await;
    let overdue = ledger(&app, CUSTOMER, id).await;
    assert_eq!(overdue["periods"][0]["state"], "OVERDUE");
    assert_eq!(overdue["owedToday"]["penalty"], "1.55");
    assert_eq!(overdue["owedToday"]["total"], "1034.35");

    // A 500.00 auto-debit pays penalty, interest, then principal.
    let bad = step(
        &app,
        CORE,
        id,
        "recordLoanRepayment",
        &format!(
            ", input: {{ messageId: \"R-1\", receivedOn: \"{}\", amount: \"x\", channel: AUTO_DEBIT }}",
            due + chrono::Days::new(3)
        ),
    )
    .await;
    assert_eq!(error_code(&bad), "VALIDATION");
    let repayment = format!(
        ", input: {{ messageId: \"R-1\", receivedOn: \"{}\", amount: \"500.00\", channel: AUTO_DEBIT }}",
        due + chrono::Days::new(3)
    );
    data(&step(&app, CORE, id, "recordLoanRepayment", &repayment).await);
    data(&step(&app, CORE, id, "recordLoanRepayment", &repayment).await);
    let split = ledger(&app, CUSTOMER, id).await;
    let repayments: Vec<&Value> = split["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "REPAYMENT")
        .collect();
    assert_eq!(
        repayments.len(),
        1,
        "the redelivered payment is booked once"
    );
    assert_eq!(
        (
            repayments[0]["penalty"].as_str(),
            repayments[0]["interest"].as_str(),
            repayments[0]["principal"].as_str()
        ),
        (Some("1.55"), Some("60.00"), Some("438.45"))
    );

    // Three more days: 534.35 unpaid accrues 0.80 — 535.15 owed.
    let payday = due + chrono::Days::new(6);
    move_to(&clock, payday);
    let later = ledger(&app, CUSTOMER, id).await;
    assert_eq!(later["owedToday"]["total"], "535.15");
    assert_eq!(
        later["payoffToday"], "11573.38",
        "535.15 + 11,027.20 + 6 days' interest 11.03"
    );

    // 全部提前还款: applied, approved for today, settled by the core to the fen.
    let request = app
        .graphql_as(CUSTOMER, &format!("mutation {{ requestPrepayment(id: \"{id}\", prepaymentId: \"PP-1\") {{ loan {{ node }} }} }}"), json!({}))
        .await;
    data(&request);
    let by_customer = app
        .graphql_as(CUSTOMER, &format!("mutation {{ decidePrepayment(id: \"{id}\", prepaymentId: \"PP-1\", approve: true) {{ loan {{ node }} }} }}"), json!({}))
        .await;
    assert_eq!(error_code(&by_customer), "FORBIDDEN");
    data(&app
        .graphql_as(MANAGER, &format!("mutation {{ decidePrepayment(id: \"{id}\", prepaymentId: \"PP-1\", approve: true, debitDate: \"{payday}\") {{ loan {{ node }} }} }}"), json!({}))
        .await);
    let quoted = ledger(&app, CUSTOMER, id).await;
    assert_eq!(quoted["prepayment"]["approved"], true);
    assert_eq!(quoted["prepayment"]["quote"]["total"], "11573.38");
    let short = step(&app, CORE, id, "recordLoanRepayment", &format!(", input: {{ messageId: \"R-2\", receivedOn: \"{payday}\", amount: \"11573.37\", channel: PREPAYMENT, prepaymentId: \"PP-1\" }}")).await;
    assert_eq!(
        error_code(&short),
        "CONFLICT",
        "the settlement must match the quote"
    );
    let settled = step(&app, CORE, id, "recordLoanRepayment", &format!(", input: {{ messageId: \"R-2\", receivedOn: \"{payday}\", amount: \"11573.38\", channel: PREPAYMENT, prepaymentId: \"PP-1\" }}")).await;
    assert_eq!(
        data(&settled)["recordLoanRepayment"]["loan"]["node"],
        "SETTLED"
    );
    let closed = ledger(&app, CUSTOMER, id).await;
    assert_eq!(closed["outstandingPrincipal"], "0.00");
    assert!(closed["prepayment"].is_null());
    assert!(closed["periods"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["state"] == "PAID"));

    // Statistics by day (003 后台).
    let stats = app
        .graphql_as(
            ("A001", "ADMIN"),
            "query($from: String!, $to: String!) { loanStatistics(from: $from, to: $to) { day disbursed repaid overdue } }",
            json!({ "from": today.to_string(), "to": payday.to_string() }),
        )
        .await;
    let days = data(&stats)["loanStatistics"].as_array().unwrap().clone();
    let on = |day: NaiveDate| {
        days.iter()
            .find(|d| d["day"] == day.to_string())
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(on(today)["disbursed"], "12000.00");
    assert_eq!(on(due + chrono::Days::new(1))["overdue"], "1032.80");
    assert_eq!(on(due + chrono::Days::new(3))["repaid"], "500.00");
    assert_eq!(on(payday)["repaid"], "11573.38");
    let too_long = app
        .graphql_as(
            ("A001", "ADMIN"),
            "{ loanStatistics(from: \"2020-01-01\", to: \"2027-01-01\") { day } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&too_long), "VALIDATION");
    app.stop().await;
}

/// The `dlq-reason` headers of `topic`'s dead-letter topic.
async fn dead_letters(brokers: &str, topic: &str) -> Vec<String> {
    let (brokers, dlq) = (brokers.to_string(), format!("{topic}.dlq"));
    tokio::task::spawn_blocking(move || read_topics(&brokers, &[dlq], 1, 1))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(_, _, headers, _)| headers.get("dlq-reason").cloned())
        .collect()
}

/// Writes `value` to `topic` as the core system would.
pub(crate) async fn produce(brokers: &str, topic: &str, key: &str, value: &Value) {
    crate::support::kafka::produce_to(brokers, topic, key, &value.to_string()).await;
}

/// Issue 21 item 1 and 6 on a real broker: `DisbursementRequested` goes out on
/// the loan topic; the core's result and repayments come in on
/// `core.disbursements.v1` and `core.repayments.v1`, each applied once however
/// often delivered; a malformed or refused message goes to `<topic>.dlq`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cores_messages_disburse_and_repay_on_a_real_broker() {
    let broker = Broker::start().await;
    let (app, clock) = app(Backend::Sqlite, Some(&broker.address)).await;
    let id = "RX-K1";
    let today = shanghai_today(&clock);
    let request = confirmed(&app, id).await;
    let published = tokio::task::spawn_blocking({
        let brokers = broker.address.clone();
        move || {
            read_topics(
                &brokers,
                &["facesign.loan-application.v1".to_string()],
                1,
                // Submitted, two authorisations, whitelist, face check,
                // verification, approval requested and given, amount chosen,
                // purpose declared, signed, disbursement requested.
                12,
            )
        }
    })
    .await
    .unwrap();
    let asked = published
        .iter()
        .find(|(_, _, headers, _)| {
            headers.get("event-type").map(String::as_str) == Some("DisbursementRequested")
        })
        .expect("the disbursement request is on the loan topic");
    assert_eq!(asked.1, id);
    assert_eq!(
        asked.3["payload"]["DisbursementRequested"]["request_id"],
        request.as_str()
    );

    let paid = json!({ "messageId": "CORE-D-1", "applicationNo": id, "requestId": request, "result": "PAID", "valueDate": today.to_string() });
    produce(&broker.address, CORE_DISBURSEMENTS, id, &paid).await;
    produce(&broker.address, CORE_DISBURSEMENTS, id, &paid).await;
    produce(&broker.address, CORE_DISBURSEMENTS, id, &json!({ "messageId": "CORE-D-2", "applicationNo": id, "requestId": request, "result": "MAYBE" })).await;
    eventually("the loan disbursed", async || {
        !ledger(&app, CUSTOMER, id).await.is_null()
    })
    .await;

    let due = today.checked_add_months(chrono::Months::new(1)).unwrap();
    let received = json!({ "messageId": "CORE-R-1", "applicationNo": id, "kind": "RECEIVED", "channel": "AUTO_DEBIT", "day": due.to_string(), "amount": "1032.80" });
    produce(&broker.address, CORE_REPAYMENTS, id, &received).await;
    let failed = json!({ "messageId": "CORE-R-2", "applicationNo": id, "kind": "AUTO_DEBIT_FAILED", "day": due.to_string(), "amount": "1032.80", "reason": "余额不足" });
    produce(&broker.address, CORE_REPAYMENTS, id, &failed).await;
    produce(&broker.address, CORE_REPAYMENTS, id, &failed).await;
    produce(&broker.address, CORE_REPAYMENTS, id, &received).await;
    produce(&broker.address, CORE_REPAYMENTS, id, &json!({ "messageId": "CORE-R-3", "applicationNo": id, "kind": "RECEIVED", "channel": "ACTIVE", "day": due.to_string(), "amount": "99999.00" })).await;
    eventually("the repayment and the failed debit booked", async || {
        let kinds: Vec<String> = ledger(&app, CUSTOMER, id).await["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["kind"].as_str().unwrap().to_string())
            .collect();
        kinds.contains(&"AUTO_DEBIT_FAILED".to_string())
    })
    .await;
    let book = ledger(&app, CUSTOMER, id).await;
    let kinds: Vec<&str> = book["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["DISBURSEMENT", "REPAYMENT", "AUTO_DEBIT_FAILED"],
        "each message once"
    );
    assert_eq!(book["periods"][0]["state"], "PAID");

    for (topic, reason) in [
        (CORE_DISBURSEMENTS, "neither PAID nor FAILED"),
        (CORE_REPAYMENTS, "more than everything still owed"),
    ] {
        eventually(&format!("{reason} in {topic}.dlq"), async || {
            dead_letters(&broker.address, topic)
                .await
                .iter()
                .any(|r| r.contains(reason))
        })
        .await;
    }
    app.stop().await;
}
