//! 001 §2.3.1.1 item 14 (预贷款/贷款信息), issue 32 item 5: the loan figures the
//! credit system holds come with the interview task and are shown to the
//! seat, who confirms or corrects them on the call; each is an event naming
//! the seat, and the loan is told (its evidence lists the seat's review).

use serde_json::{json, Value};

use crate::support::loans::advance;
use crate::support::partners::eventually;
use crate::support::scheduling::seat;
use crate::support::session::{app_with_clock, book_and_start, session, SEAT};
use crate::support::{data, error_code, on_both_backends, task_input, Backend, TestApp};

on_both_backends!(the_credit_systems_loan_figures_reach_the_seat_who_confirms_or_corrects_them,);

const RECORD: &str = "record { loanInfo { amount termMonths annualRate purpose repaymentMethod } \
    loanInfoEdits { after { termMonths } } loanInfoConfirmations { info { amount } at } }";

async fn record(app: &TestApp, task: &str) -> Value {
    let response = app
        .graphql_as(
            ("SUP1", "SUPERVISOR"),
            &format!("query($id: ID!) {{ taskDetail(id: $id) {{ {RECORD} }} }}"),
            json!({ "id": task }),
        )
        .await;
    data(&response)["taskDetail"]["record"].clone()
}

async fn reviews(app: &TestApp, loan: &str) -> Vec<Value> {
    let response = app
        .graphql_as(
            ("CORE", "CREDIT_SYSTEM"),
            &format!(
                "{{ loanApplication(id: \"{loan}\") {{ evidence {{ kind subject detail }} }} }}"
            ),
            json!({}),
        )
        .await;
    data(&response)["loanApplication"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "SEAT_REVIEW")
        .cloned()
        .collect()
}

async fn the_credit_systems_loan_figures_reach_the_seat_who_confirms_or_corrects_them(
    backend: Backend,
) {
    let (app, clock) = app_with_clock(backend, 0).await;
    seat(&app, "S1").await;

    // A task the credit system opens carries its figures; a person cannot set them.
    let mut input = task_input("HT-INFO-1");
    input["loanInfo"] = json!({ "amount": "300000.00", "termMonths": 36, "annualRate": "0.0435",
        "purpose": "装修", "repaymentMethod": "EQUAL_INSTALLMENTS" });
    let create = "mutation($input: CreateInterviewTaskInput!) { createInterviewTask(input: $input) { taskId } }";
    let by_manager = app
        .graphql_as(
            ("M0001", "ACCOUNT_MANAGER"),
            create,
            json!({ "input": input }),
        )
        .await;
    assert_eq!(
        error_code(&by_manager),
        "FORBIDDEN",
        "a rate enters only from the credit system"
    );
    let mut bad = input.clone();
    bad["loanInfo"]["termMonths"] = json!(0);
    let refused = app
        .graphql_as(("CORE", "CREDIT_SYSTEM"), create, json!({ "input": bad }))
        .await;
    assert_eq!(error_code(&refused), "VALIDATION");
    let created = app
        .graphql_as(("CORE", "CREDIT_SYSTEM"), create, json!({ "input": input }))
        .await;
    let direct = data(&created)["createInterviewTask"]["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = record(&app, &direct).await;
    assert_eq!(shown["loanInfo"]["annualRate"], "0.0435");
    assert_eq!(shown["loanInfo"]["purpose"], "装修");
    assert_eq!(shown["loanInfo"]["repaymentMethod"], "EQUAL_INSTALLMENTS");

    // A loan's task carries the loan's figures; the seat's review reaches the loan.
    let submitted = app
        .graphql_as(
            ("CORE", "CREDIT_SYSTEM"),
            "mutation($input: SubmitLoanInput!) { submitLoanApplication(input: $input) { loan { id } } }",
            json!({ "input": {
                "applicationNo": "LA-INFO-1", "contractNo": "HT-INFO-2", "amount": "500000.00", "termMonths": 60,
                "purpose": "经营周转", "taskKind": "YONGXU_VIDEO_INTERVIEW", "productCode": "YXD", "channelCode": "YYZX",
                "managerId": "M0001",
                "participants": [{ "name": "借款人", "idNumber": "410102198503121017", "phone": "13800138000", "roles": ["BORROWER"] }]
            } }),
        )
        .await;
    data(&submitted);
    for to in ["PRELIMINARY_REVIEW", "HOME_VISIT"] {
        data(&advance(&app, "LA-INFO-1", to).await);
    }
    let at_interview = advance(&app, "LA-INFO-1", "INTERVIEW").await;
    let task = data(&at_interview)["advanceLoanApplication"]["loan"]["interviewTaskId"]
        .as_str()
        .unwrap()
        .to_string();
    eventually("the loan's figures on its task", async || {
        record(&app, &task).await["loanInfo"]["amount"] == "500000.00"
    })
    .await;
    let shown = record(&app, &task).await;
    assert_eq!(shown["loanInfo"]["termMonths"], 60);
    assert_eq!(shown["loanInfo"]["purpose"], "经营周转");

    book_and_start(&app, &clock, &task).await;
    let vars = json!({ "id": task });
    data(&session(&app, SEAT, "confirmLoanInfo", "", vars.clone()).await);
    data(
        &session(
            &app,
            SEAT,
            "editLoanInfo",
            ", changes: { termMonths: 48 }",
            vars.clone(),
        )
        .await,
    );
    let by_customer = session(
        &app,
        ("410102198503121017", "CUSTOMER"),
        "confirmLoanInfo",
        "",
        vars,
    )
    .await;
    assert_eq!(error_code(&by_customer), "FORBIDDEN");
    let after = record(&app, &task).await;
    assert_eq!(
        after["loanInfoConfirmations"][0]["info"]["amount"],
        "500000.00"
    );
    assert_eq!(after["loanInfoEdits"][0]["after"]["termMonths"], 48);

    eventually("the loan told of both reviews", async || {
        reviews(&app, "LA-INFO-1").await.len() == 2
    })
    .await;
    let told = reviews(&app, "LA-INFO-1").await;
    let detail =
        |i: usize| -> Value { serde_json::from_str(told[i]["detail"].as_str().unwrap()).unwrap() };
    assert_eq!(told[0]["subject"], task.as_str());
    assert_eq!(detail(0)["review"], "CONFIRMED");
    assert_eq!(detail(0)["seat"], "S1", "the event names the seat");
    assert_eq!(detail(1)["review"], "CORRECTED");
    assert_eq!(detail(1)["figures"]["term_months"], 48);
    app.stop().await;
}
