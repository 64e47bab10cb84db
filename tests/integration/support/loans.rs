//! Loan applications as the end-to-end tests take them through the pipeline.

use serde_json::{json, Value};

use super::scheduling::seat;
use super::session::{book_and_start, conclude, end_call, session, SEAT};
use super::{data, error_code, TestApp, VERIFIER};

const BORROWER_ID: &str = "410102198503121017";

pub(crate) const LOAN: &str =
    "loanId: id contractNo node interviewTaskId history { kind from to reason actorId actorRole }";

pub(crate) async fn advance(app: &TestApp, loan: &str, to: &str) -> Value {
    app.graphql_as(
        ("M0001", "ACCOUNT_MANAGER"),
        &format!("mutation {{ advanceLoanApplication(id: \"{loan}\", to: {to}) {{ loan {{ {LOAN} }} }} }}"),
        json!({}),
    )
    .await
}

/// A 永续贷 loan submitted and moved to 面谈, whose interview task then passed;
/// returns the task. 面签 is refused until the pass.
pub(crate) async fn passed_at_interview(
    app: &TestApp,
    clock: &adapters::ShiftableClock,
    loan: &str,
    contract: &str,
) -> String {
    seat(app, "S1").await;
    let submitted = app
        .graphql_as(
            ("CORE", "CREDIT_SYSTEM"),
            &format!("mutation($input: SubmitLoanInput!) {{ submitLoanApplication(input: $input) {{ loan {{ {LOAN} }} }} }}"),
            json!({ "input": {
                "applicationNo": loan, "contractNo": contract, "amount": "500000.00",
                "taskKind": "YONGXU_VIDEO_INTERVIEW", "productCode": "YXD", "channelCode": "YYZX", "managerId": "M0001",
                "participants": [{ "name": "借款人", "idNumber": BORROWER_ID, "phone": "13800138000", "roles": ["BORROWER"],
                                   "maritalStatus": "MARRIED" }],
                "propertyLocation": { "province": "广东省", "city": "深圳市", "district": "南山区" }
            } }),
        )
        .await;
    assert_eq!(
        data(&submitted)["submitLoanApplication"]["loan"]["node"],
        "SUBMITTED"
    );
    data(&advance(app, loan, "PRELIMINARY_REVIEW").await);
    let skipped = advance(app, loan, "INTERVIEW").await;
    assert_eq!(
        error_code(&skipped),
        "INVALID_TRANSITION",
        "nodes are not skipped"
    );
    data(&advance(app, loan, "HOME_VISIT").await);
    let at_interview = advance(app, loan, "INTERVIEW").await;
    let state = &data(&at_interview)["advanceLoanApplication"]["loan"];
    assert_eq!(state["node"], "INTERVIEW");
    let task = state["interviewTaskId"]
        .as_str()
        .expect("面谈 opens a task")
        .to_string();
    let too_early = advance(app, loan, "SIGNING").await;
    assert_eq!(
        error_code(&too_early),
        "INVALID_TRANSITION",
        "面签 waits for 已面谈（待提交面签）"
    );

    book_and_start(app, clock, &task).await;
    let vars = json!({ "id": task });
    data(
        &session(
            app,
            VERIFIER,
            "recordIdentityCheck",
            &format!(", idNumber: \"{BORROWER_ID}\", livenessPassed: true, similarity: 0.91"),
            vars.clone(),
        )
        .await,
    );
    data(
        &session(
            app,
            SEAT,
            "recordVideoWitness",
            ", storageRef: \"blob://video-1\"",
            vars,
        )
        .await,
    );
    end_call(app, clock, &task).await;
    data(&conclude(app, &task, "PASS").await);
    task
}
