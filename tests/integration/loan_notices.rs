//! The texts 003 asks for around the money (issue 32 item 3), end to end on
//! both backends: the approval result (approved with the limit, or declined
//! in the credit system's words), and an approved prepayment's debit notice
//! three working days ahead in the bank's calendar — across a weekend, and
//! across 国庆 with its 调休 Saturday, as an admin loads it; and 人工落地 when
//! the core never answers (item 4).

use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::loan_servicing::{app, confirmed, move_to, result, step, texts};
use crate::support::loans::{
    loan_step, miaodai_application, miaodai_submitted, CORE, MIAODAI_CUSTOMER,
};
use crate::support::partners::eventually;
use crate::support::{data, error_code, on_both_backends, Backend, TestApp};

const ADMIN: (&str, &str) = ("ADMIN1", "ADMIN");
const MANAGER: (&str, &str) = ("M0001", "ACCOUNT_MANAGER");

on_both_backends!(
    the_approval_result_is_texted_in_the_credit_systems_words,
    the_prepayment_debit_notice_goes_out_three_working_days_ahead,
    a_core_that_never_answers_becomes_a_manual_case,
);

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// 003 §二(四): 个贷系统…同步发送审核结果的短信告知客户，是否审核通过; 如审核未通过，
/// 客户在直销前端透传个贷返回的结果.
async fn the_approval_result_is_texted_in_the_credit_systems_words(backend: Backend) {
    let (app, _clock) = app(backend, None).await;
    data(&miaodai_application(&app, "RX-YES", json!({})).await);
    data(&miaodai_submitted(&app, "RX-YES", "MIAODAI").await);
    let offer = ", creditLimit: \"80000.00\", annualRate: \"0.0435\"";
    data(&loan_step(&app, CORE, "RX-YES", "approveLoanApplication", offer, "id").await);
    data(&miaodai_application(&app, "RX-NO", json!({})).await);
    data(&miaodai_submitted(&app, "RX-NO", "MIAODAI").await);
    let wording = ", reason: \"综合评分不足，暂不符合贷款条件\"";
    data(&loan_step(&app, CORE, "RX-NO", "declineLoanApplication", wording, "id").await);
    for (loan, expected) in [
        ("RX-YES", "已审批通过, 授信额度80000.00元"),
        ("RX-NO", "未通过审批: 综合评分不足，暂不符合贷款条件"),
    ] {
        eventually("the approval result SMS", async || {
            texts(&app, loan)
                .await
                .iter()
                .any(|(t, body)| t == "LOAN_APPROVAL_RESULT" && body.contains(expected))
        })
        .await;
    }
    app.stop().await;
}

/// A second instance's daily review over the same database, on the test's
/// clock: run to completion, so a day without a notice is proven, not hoped.
async fn review(app: &TestApp, clock: &Arc<store::ShiftableClock>) -> usize {
    let database = store::Database::connect(&app.db.url, 2).await.unwrap();
    let bus = Arc::new(store::CommandBus::new(
        &database,
        domain::services::DomainServices::new(clock.clone(), Arc::new(store::UuidV7Ids)),
        3,
        Arc::new(store::Metrics::default()),
    ));
    let pool = database.read_models().clone();
    let read_models = Arc::new(facesign::read_models::ProjectedReadModels::new(
        pool.clone(),
    ));
    let reviewed = workers::loan_review::LedgerReview::new(bus, pool, read_models, 3)
        .run_once_today()
        .await
        .unwrap();
    database.close().await;
    reviewed
}

async fn notices(app: &TestApp, loan: &str) -> i64 {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM events WHERE aggregate_id = $1 AND event_type = 'PrepaymentDebitNoticeDue'",
    )
    .bind(loan)
    .fetch_one(&app.any_pool().await)
    .await
    .unwrap();
    count
}

/// Disburses `id` (12,000.00 at 6 % over 12 months) today, then applies for
/// a full prepayment approved for `debit`.
async fn prepaying(app: &TestApp, id: &str, today: NaiveDate, debit: NaiveDate) {
    let request = confirmed(app, id).await;
    let paid = step(
        app,
        CORE,
        id,
        "recordDisbursementResult",
        &result(&format!("C-{id}"), &request, true, today),
    )
    .await;
    assert_eq!(
        data(&paid)["recordDisbursementResult"]["loan"]["node"],
        "DISBURSED"
    );
    let applied = format!("mutation {{ requestPrepayment(id: \"{id}\", prepaymentId: \"PP-{id}\") {{ loan {{ node }} }} }}");
    data(&app.graphql_as(MIAODAI_CUSTOMER, &applied, json!({})).await);
    let approved = format!("mutation {{ decidePrepayment(id: \"{id}\", prepaymentId: \"PP-{id}\", approve: true, debitDate: \"{debit}\") {{ loan {{ node }} }} }}");
    data(&app.graphql_as(MANAGER, &approved, json!({})).await);
}

async fn load_calendar(app: &TestApp, who: (&str, &str), year: i32, days: Value) -> Value {
    app.graphql_as(
        who,
        "mutation($year: Int!, $days: [CalendarDayInput!]!) { loadBankCalendar(year: $year, days: $days) { year days { day kind name } loads { actorId actorRole } } }",
        json!({ "year": year, "days": days }),
    )
    .await
}

/// 003 提前还款: 客户经理…确定提前还款扣款日后，短信及直销银行提前3个工作日提示客户
/// 提前还款扣款日将自动扣款，并提示客户自动扣款金额.
async fn the_prepayment_debit_notice_goes_out_three_working_days_ahead(backend: Backend) {
    let (app, clock) = app(backend, None).await;

    // The bank's calendar: 2027 国庆 10-01..10-07 off, Saturday 10-09 worked.
    let mut national_day: Vec<Value> = (1..=7)
        .map(
            |d| json!({ "day": day(2027, 10, d).to_string(), "kind": "HOLIDAY", "name": "国庆节" }),
        )
        .collect();
    national_day.push(json!({ "day": "2027-10-09", "kind": "WORKING_DAY", "name": "国庆节调休" }));
    let by_manager = load_calendar(&app, MANAGER, 2027, json!(national_day)).await;
    assert_eq!(error_code(&by_manager), "FORBIDDEN");
    let weekday_worked = load_calendar(
        &app,
        ADMIN,
        2027,
        json!([{ "day": "2027-10-08", "kind": "WORKING_DAY" }]),
    )
    .await;
    assert_eq!(
        error_code(&weekday_worked),
        "VALIDATION",
        "a Friday works anyway"
    );
    let other_year = load_calendar(
        &app,
        ADMIN,
        2027,
        json!([{ "day": "2026-10-01", "kind": "HOLIDAY" }]),
    )
    .await;
    assert_eq!(error_code(&other_year), "VALIDATION");
    let loaded = load_calendar(&app, ADMIN, 2027, json!(national_day)).await;
    let year = &data(&loaded)["loadBankCalendar"];
    assert_eq!(year["days"].as_array().unwrap().len(), 8);
    assert_eq!(
        year["loads"][0]["actorId"], "ADMIN1",
        "who loaded it is kept"
    );

    // Across a weekend: a debit on Wednesday 03-10 is noticed on Friday 03-05.
    move_to(&clock, day(2027, 3, 1));
    prepaying(&app, "RX-WE", day(2027, 3, 1), day(2027, 3, 10)).await;
    move_to(&clock, day(2027, 3, 4));
    review(&app, &clock).await;
    assert_eq!(
        notices(&app, "RX-WE").await,
        0,
        "Thursday is four working days ahead"
    );
    move_to(&clock, day(2027, 3, 5));
    review(&app, &clock).await;
    assert_eq!(notices(&app, "RX-WE").await, 1);
    let quote = crate::loan_servicing::ledger(&app, MIAODAI_CUSTOMER, "RX-WE").await["prepayment"]
        ["quote"]["total"]
        .as_str()
        .unwrap()
        .to_string();
    eventually("the debit notice SMS", async || {
        texts(&app, "RX-WE").await.iter().any(|(t, body)| {
            t == "PREPAYMENT_DEBIT_NOTICE"
                && body.contains("2027年03月10日 自动扣款")
                && body.contains(&format!("扣款金额{quote}元"))
        })
    })
    .await;
    move_to(&clock, day(2027, 3, 8));
    review(&app, &clock).await;
    assert_eq!(notices(&app, "RX-WE").await, 1, "once");

    // Across 国庆: a debit on Monday 10-11 counts back 10-09 (调休), 10-08, then
    // Thursday 09-30 over the holiday.
    move_to(&clock, day(2027, 9, 27));
    prepaying(&app, "RX-HOL", day(2027, 9, 27), day(2027, 10, 11)).await;
    move_to(&clock, day(2027, 9, 29));
    review(&app, &clock).await;
    assert_eq!(notices(&app, "RX-HOL").await, 0, "Wednesday is too early");
    move_to(&clock, day(2027, 9, 30));
    review(&app, &clock).await;
    assert_eq!(
        notices(&app, "RX-HOL").await,
        1,
        "Thursday 09-30 is the day"
    );
    eventually("the holiday debit notice SMS", async || {
        texts(&app, "RX-HOL")
            .await
            .iter()
            .any(|(t, body)| t == "PREPAYMENT_DEBIT_NOTICE" && body.contains("2027年10月11日"))
    })
    .await;

    let read = app
        .graphql_as(
            MANAGER,
            "{ bankCalendar(year: 2027) { days { day kind } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&read)["bankCalendar"]["days"][7]["kind"],
        "WORKING_DAY"
    );
    app.stop().await;
}

const SUPERVISOR: (&str, &str) = ("SUP1", "SUPERVISOR");

async fn cases(app: &TestApp, status: &str) -> Vec<Value> {
    let response = app
        .graphql_as(
            SUPERVISOR,
            &format!("{{ manualCases(status: {status}) {{ loanId contractNo kind requestId amount requestedAt openedAt waitedSecs status outcome coreReference note resolvedBy resolvedAt }} }}"),
            json!({}),
        )
        .await;
    data(&response)["manualCases"].as_array().unwrap().clone()
}

/// 003: 建立联动超时或其他异常情况的服务机制，进行人工落地处理 — the customer confirms,
/// the core never answers; past FACESIGN_CORE_ANSWER_TIMEOUT_SECS (15 minutes)
/// the request is a case in the console's list with the loan, the request and
/// the time waited; a supervisor records the core's answer and the loan is
/// paid out by it. The core's late answer that agrees changes nothing, one
/// that contradicts is refused.
async fn a_core_that_never_answers_becomes_a_manual_case(backend: Backend) {
    let (app, clock) = app(backend, None).await;
    let request = confirmed(&app, "RX-MUTE").await;
    clock.advance(chrono::Duration::minutes(10));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        cases(&app, "OPEN").await.is_empty(),
        "ten minutes is within the timeout"
    );
    clock.advance(chrono::Duration::minutes(6));
    eventually("the manual case", async || {
        !cases(&app, "OPEN").await.is_empty()
    })
    .await;
    let open = cases(&app, "OPEN").await;
    assert_eq!(open.len(), 1);
    let case = &open[0];
    assert_eq!(case["loanId"], "RX-MUTE");
    assert_eq!(case["contractNo"], "HT-RX-MUTE");
    assert_eq!(case["kind"], "DISBURSEMENT");
    assert_eq!(case["requestId"], request.as_str());
    assert_eq!(case["amount"], "12000.00");
    assert!(case["waitedSecs"].as_i64().unwrap() >= 16 * 60, "{case}");
    let by_auditor = app
        .graphql_as(
            ("AUD1", "AUDITOR"),
            "{ manualCases { requestId } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&by_auditor)["manualCases"].as_array().unwrap().len(),
        1
    );

    let resolve = |who: (&'static str, &'static str), input: Value| {
        let app = &app;
        let request = request.clone();
        async move {
            app.graphql_as(
                who,
                "mutation($id: ID!, $r: String!, $input: ManualCaseResolution!) { resolveManualCase(id: $id, requestId: $r, input: $input) { loan { node } } }",
                json!({ "id": "RX-MUTE", "r": request, "input": input }),
            )
            .await
        }
    };
    let today = crate::loan_servicing::shanghai_today(&clock);
    let paid = json!({ "outcome": "PAID", "coreReference": "VCH-20270101-778", "note": "核心系统查询：已入账", "valueDate": today.to_string() });
    let by_customer = resolve(MIAODAI_CUSTOMER, paid.clone()).await;
    assert_eq!(
        error_code(&by_customer),
        "FORBIDDEN",
        "the customer never records the core's answer"
    );
    let no_date = resolve(
        SUPERVISOR,
        json!({ "outcome": "PAID", "coreReference": "V", "note": "n" }),
    )
    .await;
    assert_eq!(error_code(&no_date), "VALIDATION");
    let wrong_kind = resolve(SUPERVISOR, json!({ "outcome": "RECEIVED", "coreReference": "V", "note": "n", "on": today.to_string(), "amount": "1.00" })).await;
    assert_eq!(
        error_code(&wrong_kind),
        "VALIDATION",
        "a disbursement is paid or failed"
    );
    let resolved = resolve(SUPERVISOR, paid).await;
    assert_eq!(
        data(&resolved)["resolveManualCase"]["loan"]["node"],
        "DISBURSED"
    );
    let ledger = crate::loan_servicing::ledger(&app, MIAODAI_CUSTOMER, "RX-MUTE").await;
    assert_eq!(
        ledger["periods"].as_array().unwrap().len(),
        12,
        "the plan is made"
    );
    let done = cases(&app, "RESOLVED").await;
    assert_eq!(done[0]["outcome"], "PAID");
    assert_eq!(done[0]["resolvedBy"], "SUP1");
    assert_eq!(done[0]["coreReference"], "VCH-20270101-778");
    assert!(cases(&app, "OPEN").await.is_empty());

    // The core wakes up: the same answer changes nothing, another is refused.
    let agrees = step(
        &app,
        CORE,
        "RX-MUTE",
        "recordDisbursementResult",
        &result("C-LATE", &request, true, today),
    )
    .await;
    assert_eq!(
        data(&agrees)["recordDisbursementResult"]["loan"]["node"],
        "DISBURSED"
    );
    let contradicts = step(
        &app,
        CORE,
        "RX-MUTE",
        "recordDisbursementResult",
        &result("C-LATE-2", &request, false, today),
    )
    .await;
    assert_eq!(error_code(&contradicts), "CONFLICT");
    app.stop().await;
}
