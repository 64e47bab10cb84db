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
    clock: &store::ShiftableClock,
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

/// The credit system.
pub(crate) const CORE: (&str, &str) = ("CORE", "CREDIT_SYSTEM");
/// The borrower of every 融信秒贷 application here.
pub(crate) const MIAODAI_CUSTOMER: (&str, &str) = (BORROWER_ID, "CUSTOMER");

/// `mutation(id: "<id>"<args>)` as `who`, returning the loan (`fields`).
pub(crate) async fn loan_step(
    app: &TestApp,
    who: (&str, &str),
    id: &str,
    mutation: &str,
    args: &str,
    fields: &str,
) -> Value {
    app.graphql_as(
        who,
        &format!("mutation {{ {mutation}(id: \"{id}\"{args}) {{ loan {{ {fields} }} }} }}"),
        json!({}),
    )
    .await
}

/// A 融信秒贷 application of `MIAODAI_CUSTOMER` for 12 months' 装修, submitted by
/// the credit system (003 §二(三): no amount), `extra` merged into the input.
pub(crate) async fn miaodai_application(app: &TestApp, id: &str, extra: Value) -> Value {
    let mut input = json!({
        "applicationNo": id, "product": "RONGXIN_MIAODAI", "contractNo": format!("HT-{id}"),
        "termMonths": 12, "purpose": "装修",
        "taskKind": "YUNDAI_DIRECT", "productCode": "RXMD", "channelCode": "ZXYH", "managerId": "M0001",
        "participants": [{ "name": "王建国", "idNumber": BORROWER_ID, "phone": "13800138000", "roles": ["BORROWER"] }]
    });
    if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        input.extend(extra.clone());
    }
    app.graphql_as(
        CORE,
        "mutation($input: SubmitLoanInput!) { submitLoanApplication(input: $input) { loan { id node } } }",
        json!({ "input": input }),
    )
    .await
}

/// 003 §二(二)–(四) up to 审批中: both authorisations, the ERP whitelist, the
/// face check, the SMS code and transaction password, then submission.
pub(crate) async fn miaodai_submitted(app: &TestApp, id: &str, whitelist: &str) -> Value {
    for document in ["EMPLOYEE_INFO_QUERY", "CREDIT_REPORT_QUERY"] {
        let args = format!(", document: {document}, version: \"2021.1\"");
        data(&loan_step(app, MIAODAI_CUSTOMER, id, "acceptLoanDocument", &args, "id").await);
    }
    let whitelist = format!(", result: {whitelist}");
    data(&loan_step(app, CORE, id, "recordWhitelistResult", &whitelist, "id").await);
    data(
        &loan_step(
            app,
            VERIFIER,
            id,
            "recordLoanFaceCheck",
            ", passed: true",
            "id",
        )
        .await,
    );
    let verified = ", purpose: SUBMISSION, passed: true";
    data(&loan_step(app, VERIFIER, id, "recordLoanVerification", verified, "id").await);
    loan_step(
        app,
        MIAODAI_CUSTOMER,
        id,
        "submitForApproval",
        "",
        "id node route",
    )
    .await
}

/// Submitted, then approved by the credit system with `limit` at `rate` for 12 or 24 months.
pub(crate) async fn miaodai_approved(app: &TestApp, id: &str, limit: &str, rate: &str) {
    data(&miaodai_application(app, id, json!({})).await);
    data(&miaodai_submitted(app, id, "MIAODAI").await);
    let offer =
        format!(", creditLimit: \"{limit}\", annualRate: \"{rate}\", allowedTermMonths: [12, 24]");
    data(&loan_step(app, CORE, id, "approveLoanApplication", &offer, "id").await);
}

/// The customer chooses `amount`, declares the purpose and signs the terms
/// shown; returns them (`contractTerms`).
pub(crate) async fn miaodai_signed(app: &TestApp, id: &str, amount: &str) -> Value {
    let chosen = loan_step(
        app,
        MIAODAI_CUSTOMER,
        id,
        "chooseLoanAmount",
        &format!(", amount: \"{amount}\""),
        "contractTerms { version digest amount annualRate termMonths repaymentMethod }",
    )
    .await;
    let terms = data(&chosen)["chooseLoanAmount"]["loan"]["contractTerms"].clone();
    let declared = ", document: LOAN_PURPOSE_DECLARATION, version: \"2021.1\"";
    data(
        &loan_step(
            app,
            MIAODAI_CUSTOMER,
            id,
            "acceptLoanDocument",
            declared,
            "id",
        )
        .await,
    );
    let sign = format!(
        ", signatureRef: \"sig://{id}\", termsDigest: \"{}\"",
        terms["digest"].as_str().unwrap()
    );
    data(&loan_step(app, MIAODAI_CUSTOMER, id, "signLoanContract", &sign, "id").await);
    terms
}
