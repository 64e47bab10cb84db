//! The loan pipeline with a reverse flow, and the lineage of interview tasks (001, 003).

use serde_json::{json, Value};

use crate::support::loans::{
    advance, loan_step, miaodai_application, miaodai_approved, miaodai_submitted,
    passed_at_interview, CORE, LOAN, MIAODAI_CUSTOMER,
};
use crate::support::on_both_backends;
use crate::support::session::app_with_clock;
use crate::support::VERIFIER;
use crate::support::{data, error_code, Backend, TestApp};

on_both_backends!(
    rolling_back_from_signing_opens_a_new_interview_task_with_lineage,
    rongxin_miaodai_takes_its_terms_from_the_bank,
    the_amount_chosen_after_approval_decides_the_route,
);

/// 001_d165f826565a3102.txt 2.4.3 with the loan issue: a QC reject of a sampled
/// pass rolls the loan back past 面谈 by the same path: the task is superseded
/// and a successor opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_sampled_pass_rolls_the_loan_back_and_opens_a_successor() {
    let (app, clock) = app_with_clock(Backend::Sqlite, 1000).await;
    let first_task = passed_at_interview(&app, &clock, "LA-QC-1", "HT-QC-LOAN").await;
    data(&advance(&app, "LA-QC-1", "SIGNING").await);
    let reviewer = ("R1", "QC_REVIEWER");
    let queue = app
        .graphql_as(
            reviewer,
            "query($task: ID) { qcCases(filter: { taskId: $task }) { id origin } }",
            json!({ "task": first_task }),
        )
        .await;
    let case = data(&queue)["qcCases"][0].clone();
    assert_eq!(case["origin"], "SAMPLED_PASS");
    let case_id = case["id"].as_str().unwrap().to_string();
    data(
        &app.graphql_as(
            reviewer,
            "mutation($id: ID!) { claimQcCase(id: $id) { case { status } } }",
            json!({ "id": case_id }),
        )
        .await,
    );
    let rejected = app
        .graphql_as(
            reviewer,
            r#"mutation($id: ID!) { decideQcCase(id: $id, verdict: REJECT, reasons: [FORGED_DOCUMENTS], comment: "伪造流水") { projected task { status } } }"#,
            json!({ "id": case_id }),
        )
        .await;
    assert_eq!(data(&rejected)["decideQcCase"]["projected"], true);
    let loan = app
        .graphql(
            &format!("{{ loanApplication(id: \"LA-QC-1\") {{ {LOAN} }} }}"),
            json!({}),
        )
        .await;
    let loan = data(&loan)["loanApplication"].clone();
    assert_eq!(loan["node"], "INTERVIEW", "rolled back past 面签");
    let successor = loan["interviewTaskId"].as_str().unwrap().to_string();
    assert_ne!(successor, first_task);
    let lineage = app
        .graphql(r#"{ taskLineage(contractNo: "HT-QC-LOAN") { taskId supersededBy transition reason actorRole } }"#, json!({}))
        .await;
    let lineage = data(&lineage)["taskLineage"].as_array().unwrap().clone();
    assert_eq!(lineage.len(), 2);
    assert_eq!(lineage[0]["supersededBy"], successor.as_str());
    assert_eq!(lineage[1]["transition"], "面签→面谈");
    assert!(lineage[1]["reason"]
        .as_str()
        .unwrap()
        .contains("FORGED_DOCUMENTS"));
    assert_eq!(lineage[1]["actorRole"], "SYSTEM");
    let old = app
        .graphql(
            "query($id: ID!) { task(id: $id) { status } }",
            json!({ "id": first_task }),
        )
        .await;
    assert_eq!(data(&old)["task"]["status"], "SUPERSEDED");
    app.stop().await;
}

/// 001_d165f826565a3102.txt 2.5.3 rule 2 and 2.7.3: 涉及面谈节点的逆向业务操作，无论面谈任务
/// 是否启动或完成，信贷系统均生成新的面谈任务。既往数据落库存档备调 — 面签 → roll back to 面谈:
/// a new task appears, the lineage shows both, the old task's data is unchanged.
async fn rolling_back_from_signing_opens_a_new_interview_task_with_lineage(backend: Backend) {
    let (app, clock) = app_with_clock(backend, 0).await;
    let manager = ("M0001", "ACCOUNT_MANAGER");
    let first_task = passed_at_interview(&app, &clock, "LA-2026-0001", "HT-LOAN-1").await;
    let signing = advance(&app, "LA-2026-0001", "SIGNING").await;
    assert_eq!(
        data(&signing)["advanceLoanApplication"]["loan"]["node"],
        "SIGNING"
    );

    const TASK: &str =
        "query($id: ID!) { task(id: $id) { id status statusLabel borrowerName version } }";
    let before = app.graphql(TASK, json!({ "id": first_task })).await;
    let detail_before = app
        .graphql_as(
            ("SUP1", "SUPERVISOR"),
            "query($id: ID!) { taskDetail(id: $id) { detail } }",
            json!({ "id": first_task }),
        )
        .await;

    let rolled = app
        .graphql_as(
            manager,
            &format!("mutation {{ rollBackLoanApplication(id: \"LA-2026-0001\", to: INTERVIEW, reason: \"客户对贷款方案有异议\") {{ projected loan {{ {LOAN} }} }} }}"),
            json!({}),
        )
        .await;
    let loan = &data(&rolled)["rollBackLoanApplication"]["loan"];
    assert_eq!(loan["node"], "INTERVIEW");
    let second_task = loan["interviewTaskId"].as_str().unwrap().to_string();
    assert_ne!(
        second_task, first_task,
        "a reverse flow always opens a new task"
    );
    // 001 2.3.1: the successor carries the application's property place and
    // the borrower's marital status, as the first task did.
    for task in [&first_task, &second_task] {
        let shown = app
            .graphql(
                "query($id: ID!) { task(id: $id) { propertyLocation { province city district } participants { maritalStatus } } }",
                json!({ "id": task }),
            )
            .await;
        let shown = &data(&shown)["task"];
        assert_eq!(
            shown["propertyLocation"],
            json!({ "province": "广东省", "city": "深圳市", "district": "南山区" })
        );
        assert_eq!(shown["participants"][0]["maritalStatus"], "MARRIED");
    }
    let kinds: Vec<&str> = loan["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "SUBMIT",
            "ADVANCE",
            "ADVANCE",
            "ADVANCE",
            "ADVANCE",
            "ROLL_BACK"
        ]
    );
    let roll_back = loan["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(roll_back["reason"], "客户对贷款方案有异议");
    assert_eq!(roll_back["actorId"], "M0001");

    let lineage = app
        .graphql(
            r#"{ taskLineage(contractNo: "HT-LOAN-1") { taskId round supersedes supersededBy transition reason actorId actorRole supersededTransition supersededReason } }"#,
            json!({}),
        )
        .await;
    let lineage = data(&lineage)["taskLineage"].as_array().unwrap().clone();
    assert_eq!(lineage.len(), 2);
    assert_eq!(lineage[0]["taskId"], first_task.as_str());
    assert_eq!(lineage[0]["round"], 1);
    assert_eq!(lineage[0]["transition"], "家访→面谈");
    assert_eq!(lineage[0]["supersededBy"], second_task.as_str());
    assert_eq!(lineage[0]["supersededTransition"], "面签→面谈");
    assert_eq!(lineage[0]["supersededReason"], "客户对贷款方案有异议");
    assert_eq!(lineage[1]["taskId"], second_task.as_str());
    assert_eq!(lineage[1]["round"], 2);
    assert_eq!(lineage[1]["supersedes"], first_task.as_str());
    assert_eq!(lineage[1]["transition"], "面签→面谈");
    assert_eq!(lineage[1]["reason"], "客户对贷款方案有异议");
    assert_eq!(lineage[1]["actorId"], "M0001");
    assert_eq!(lineage[1]["actorRole"], "ACCOUNT_MANAGER");

    // The old task is archived, readable and otherwise unchanged.
    let after: Value = app.graphql(TASK, json!({ "id": first_task })).await;
    assert_eq!(data(&after)["task"]["status"], "SUPERSEDED");
    assert_eq!(
        data(&after)["task"]["borrowerName"],
        data(&before)["task"]["borrowerName"]
    );
    let detail_after = app
        .graphql_as(
            ("SUP1", "SUPERVISOR"),
            "query($id: ID!) { taskDetail(id: $id) { detail } }",
            json!({ "id": first_task }),
        )
        .await;
    assert_eq!(
        data(&detail_after)["taskDetail"]["detail"],
        data(&detail_before)["taskDetail"]["detail"]
    );
    let successor = app.graphql(TASK, json!({ "id": second_task })).await;
    assert_eq!(data(&successor)["task"]["status"], "PENDING");
    assert_eq!(
        data(&successor)["task"]["borrowerName"],
        "借款人",
        "participants are copied"
    );

    // The seat booking of the superseded task was handed back.
    let db = app.stop().await;
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(["replay", "--verify"])
        .env("FACESIGN_DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
}

/// 003_b9ff603350013dbe.txt 还款方式（等额本息）through the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_repayment_schedule_is_served() {
    let app = crate::support::TestApp::spawn(Backend::Sqlite).await;
    let response = app
        .graphql_as(
            ("410102198503121017", "CUSTOMER"),
            r#"{ repaymentSchedule(principal: "100000", annualRate: "0.0435", months: 12) { period amount interest } }"#,
            json!({}),
        )
        .await;
    let schedule = data(&response)["repaymentSchedule"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(schedule[0]["amount"], "8530.99");
    assert_eq!(schedule[11]["amount"], "8531.01");
    let plan = app
        .graphql_as(
            ("410102198503121017", "CUSTOMER"),
            r#"{ prepaymentPlan(input: { outstanding: "75000.00", remainingMonths: 9, annualRate: "0.0435", currentInstallment: "8530.99", amount: "30000.00", choice: LOWER_INSTALLMENT }) { period amount } }"#,
            json!({}),
        )
        .await;
    let plan = data(&plan)["prepaymentPlan"].as_array().unwrap().clone();
    assert_eq!(plan.len(), 9, "the end date is kept");
    let first: f64 = plan[0]["amount"].as_str().unwrap().parse().unwrap();
    assert!(first < 8530.99, "the installment falls");
    let bad = app
        .graphql_as(
            ("410102198503121017", "CUSTOMER"),
            r#"{ repaymentSchedule(principal: "abc", annualRate: "0.0435", months: 12) { period } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&bad), "VALIDATION");
    app.stop().await;
}

const TERMS: &str = "version digest amount currency termMonths annualRate purpose repaymentMethod \
    penaltyAnnualRate firstInstallment totalInterest firstDueDate";

/// 003_b9ff603350013dbe.txt: 融信秒贷 申请中 → 审批中 → 待放款 → 已放款. The
/// customer applies without an amount (§二(三)), the credit system approves with
/// its offer (§二(四): 授信额度; 融信秒贷贷款利率，由个贷系统提供), the customer
/// chooses an amount within the limit, declares the purpose and signs exactly
/// the terms shown, which name the bank's rate; then 确认放款.
async fn rongxin_miaodai_takes_its_terms_from_the_bank(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let customer = MIAODAI_CUSTOMER;
    let manager = ("M0001", "ACCOUNT_MANAGER");
    let submitted = miaodai_application(&app, "RX-1", json!({})).await;
    assert_eq!(
        data(&submitted)["submitLoanApplication"]["loan"]["node"],
        "APPLYING"
    );
    let no_term = miaodai_application(&app, "RX-0", json!({ "termMonths": null })).await;
    assert_eq!(error_code(&no_term), "VALIDATION", "003 §二(三): 贷款期限");

    // Before the whitelist, the authorisations and the verification: refused.
    let early = loan_step(&app, customer, "RX-1", "submitForApproval", "", "id").await;
    assert_eq!(error_code(&early), "INVALID_TRANSITION");
    // The customer's own client cannot pass the SMS/password check for itself.
    let self_verified = loan_step(
        &app,
        customer,
        "RX-1",
        "recordLoanVerification",
        ", purpose: SUBMISSION, passed: true",
        "id",
    )
    .await;
    assert_eq!(error_code(&self_verified), "FORBIDDEN");
    let requested = miaodai_submitted(&app, "RX-1", "MIAODAI").await;
    let loan = &data(&requested)["submitForApproval"]["loan"];
    assert_eq!(loan["node"], "APPROVING");
    assert_eq!(loan["route"], "AUTOMATIC");

    // Only the credit system approves online, and with its rate.
    let approve = |who, args: &'static str| {
        let app = &app;
        async move { loan_step(app, who, "RX-1", "approveLoanApplication", args, "id node").await }
    };
    let offer = ", creditLimit: \"50000.00\", annualRate: \"0.0435\", allowedTermMonths: [12, 24]";
    assert_eq!(error_code(&approve(manager, offer).await), "FORBIDDEN");
    assert_eq!(error_code(&approve(customer, offer).await), "FORBIDDEN");
    let no_rate = approve(CORE, ", creditLimit: \"50000.00\"").await;
    assert_eq!(
        error_code(&no_rate),
        "VALIDATION",
        "the rate is the credit system's to give"
    );
    let approved = approve(CORE, offer).await;
    assert_eq!(
        data(&approved)["approveLoanApplication"]["loan"]["node"],
        "AWAITING_DISBURSEMENT"
    );

    // The customer chooses the amount: within the limit, a term the bank allows.
    let choose = |args: &'static str| {
        let app = &app;
        async move {
            let fields = format!("node amount contractTerms {{ {TERMS} }}");
            loan_step(app, customer, "RX-1", "chooseLoanAmount", args, &fields).await
        }
    };
    let above = choose(", amount: \"50000.01\"").await;
    assert_eq!(
        error_code(&above),
        "VALIDATION",
        "003 §二(四): 小于等于授信审批额度"
    );
    let odd_term = choose(", amount: \"12000.00\", termMonths: 36").await;
    assert_eq!(error_code(&odd_term), "VALIDATION");
    let chosen = choose(", amount: \"12000.00\"").await;
    let shown = data(&chosen)["chooseLoanAmount"]["loan"]["contractTerms"].clone();
    assert_eq!(shown["version"], 1);
    assert_eq!(shown["amount"], "12000.00");
    assert_eq!(shown["currency"], "CNY");
    assert_eq!(shown["termMonths"], 12);
    assert_eq!(shown["annualRate"], "0.0435", "the credit system's rate");
    assert_eq!(shown["purpose"], "装修");
    assert_eq!(
        shown["repaymentMethod"], "EQUAL_INSTALLMENTS",
        "003: 自动反选还款方式（等额本息）"
    );
    // 12,000 at 4.35 % over 12 months: 1,023.72 a month, 284.62 in all (Python's decimal, ROUND_HALF_UP).
    assert_eq!(shown["firstInstallment"], "1023.72");
    assert_eq!(shown["totalInterest"], "284.62");
    let digest_v1 = shown["digest"].as_str().unwrap().to_string();

    // Signing needs the 《贷款用途声明书》, then names the terms by digest.
    let sign = |digest: String| {
        let app = &app;
        async move {
            let args = format!(", signatureRef: \"sig://RX-1\", termsDigest: \"{digest}\"");
            loan_step(app, customer, "RX-1", "signLoanContract", &args, "id node").await
        }
    };
    assert_eq!(
        error_code(&sign(digest_v1.clone()).await),
        "INVALID_TRANSITION"
    );
    let declared = ", document: LOAN_PURPOSE_DECLARATION, version: \"2021.1\"";
    data(&loan_step(&app, customer, "RX-1", "acceptLoanDocument", declared, "id").await);
    // A customer's rate is not an argument at all; setting one is the bank's.
    let own_rate = app
        .graphql_as(
            customer,
            &format!("mutation {{ signLoanContract(id: \"RX-1\", signatureRef: \"s\", termsDigest: \"{digest_v1}\", annualRate: \"0\") {{ loan {{ id }} }} }}"),
            json!({}),
        )
        .await;
    assert!(own_rate["errors"].is_array(), "{own_rate}");
    assert!(own_rate["data"].is_null() || own_rate["data"]["signLoanContract"].is_null());
    let by_customer = loan_step(
        &app,
        customer,
        "RX-1",
        "setSigningRate",
        ", annualRate: \"0\"",
        "id",
    )
    .await;
    assert_eq!(error_code(&by_customer), "FORBIDDEN");
    // The bank sets the final signing rate (最终签约利率): the terms the customer
    // saw are gone, and a signature naming them is refused.
    let repriced = loan_step(
        &app,
        CORE,
        "RX-1",
        "setSigningRate",
        ", annualRate: \"0.0420\"",
        &format!("contractTerms {{ {TERMS} }}"),
    )
    .await;
    let current = data(&repriced)["setSigningRate"]["loan"]["contractTerms"].clone();
    assert_eq!(current["version"], 2);
    assert_eq!(current["annualRate"], "0.042");
    let stale = sign(digest_v1.clone()).await;
    assert_eq!(error_code(&stale), "CONFLICT", "{stale}");
    let signed = sign(current["digest"].as_str().unwrap().to_string()).await;
    assert_eq!(
        data(&signed)["signLoanContract"]["loan"]["node"],
        "AWAITING_DISBURSEMENT"
    );
    // Signed: nothing changes the terms any more, in any order.
    let later = choose(", amount: \"1000.00\"").await;
    assert_eq!(error_code(&later), "CONFLICT");
    let late_rate = loan_step(
        &app,
        CORE,
        "RX-1",
        "setSigningRate",
        ", annualRate: \"0.01\"",
        "id",
    )
    .await;
    assert_eq!(error_code(&late_rate), "CONFLICT");

    let read = app
        .graphql_as(
            customer,
            &format!("{{ loanApplication(id: \"RX-1\") {{ amount termMonths purpose creditOffer {{ creditLimit annualRate allowedTermMonths repaymentMethod }} contractTerms {{ {TERMS} }} evidence {{ kind subject version detail actorId actorRole at }} }} }}"),
            json!({}),
        )
        .await;
    let loan = &data(&read)["loanApplication"];
    assert_eq!(loan["creditOffer"]["creditLimit"], "50000.00");
    assert_eq!(loan["creditOffer"]["allowedTermMonths"], json!([12, 24]));
    let evidence: Vec<(String, String, Value)> = loan["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["subject"].as_str().unwrap().to_string(),
                e["actorRole"].clone(),
            )
        })
        .collect();
    assert_eq!(
        evidence,
        vec![
            (
                "CONSENT".into(),
                "EMPLOYEE_INFO_QUERY".into(),
                json!("CUSTOMER")
            ),
            (
                "CONSENT".into(),
                "CREDIT_REPORT_QUERY".into(),
                json!("CUSTOMER")
            ),
            (
                "VERIFICATION".into(),
                "SUBMISSION".into(),
                json!("VERIFICATION_SERVICE")
            ),
            (
                "CONSENT".into(),
                "LOAN_PURPOSE_DECLARATION".into(),
                json!("CUSTOMER")
            ),
            ("SIGNATURE".into(), "CONTRACT".into(), json!("CUSTOMER")),
        ]
    );
    let signature = &loan["evidence"][4];
    assert_eq!(signature["version"], "2");
    assert_eq!(signature["detail"], current["digest"]);
    assert_eq!(loan["evidence"][3]["detail"], "装修");
    assert_eq!(loan["evidence"][0]["version"], "2021.1");

    let paid = loan_step(
        &app,
        customer,
        "RX-1",
        "confirmDisbursement",
        ", account: \"6217000000000001\"",
        "node",
    )
    .await;
    assert_eq!(
        data(&paid)["confirmDisbursement"]["loan"]["node"],
        "DISBURSING",
        "003 放款完成: 等待系统自动放款 — the core pays out (tests/integration/loan_servicing.rs)"
    );
    app.stop().await;
}

/// 003 §二(四): 如果期望额度大于30万元，则后续签约流程以及放款流程转成线下 — decided on
/// the amount the customer chooses after approval: 300,000.00 is online, a fen
/// more goes to a manager (003 进度查询 3: 30万以上，客户经理线上审批) and is then
/// signed and paid out offline; 融信贷 keeps 申请贷款（元） and a manager.
async fn the_amount_chosen_after_approval_decides_the_route(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let customer = MIAODAI_CUSTOMER;
    let manager = ("M0001", "ACCOUNT_MANAGER");
    for (id, amount, node) in [
        ("RX-ON", "300000.00", "AWAITING_DISBURSEMENT"),
        ("RX-OFF", "300000.01", "APPROVING"),
    ] {
        miaodai_approved(&app, id, "500000.00", "0.0435").await;
        let chosen = loan_step(
            &app,
            customer,
            id,
            "chooseLoanAmount",
            &format!(", amount: \"{amount}\""),
            "node route contractTerms { version }",
        )
        .await;
        let loan = &data(&chosen)["chooseLoanAmount"]["loan"];
        assert_eq!(loan["node"], node, "{id}");
    }
    let offline = loan_step(
        &app,
        CORE,
        "RX-OFF",
        "approveLoanApplication",
        ", creditLimit: \"500000.00\", annualRate: \"0.0435\"",
        "id",
    )
    .await;
    assert_eq!(
        error_code(&offline),
        "FORBIDDEN",
        "a manager approves above the online limit"
    );
    let by_manager = loan_step(
        &app,
        manager,
        "RX-OFF",
        "approveLoanApplication",
        "",
        "node route",
    )
    .await;
    assert_eq!(
        data(&by_manager)["approveLoanApplication"]["loan"]["node"],
        "AWAITING_DISBURSEMENT"
    );
    let declared = ", document: LOAN_PURPOSE_DECLARATION, version: \"2021.1\"";
    let online_declaration = loan_step(
        &app,
        customer,
        "RX-OFF",
        "acceptLoanDocument",
        declared,
        "id",
    )
    .await;
    assert_eq!(
        error_code(&online_declaration),
        "INVALID_TRANSITION",
        "signed offline"
    );
    let confirm = loan_step(
        &app,
        customer,
        "RX-OFF",
        "confirmDisbursement",
        ", account: \"6217\"",
        "id",
    )
    .await;
    assert_eq!(error_code(&confirm), "INVALID_TRANSITION");

    // 融信贷: the amount at application, a manager approves, the rest offline.
    data(&miaodai_application(&app, "RX-RXD", json!({ "amount": "80000.00" })).await);
    let requested = miaodai_submitted(&app, "RX-RXD", "RONGXINDAI").await;
    assert_eq!(
        data(&requested)["submitForApproval"]["loan"]["route"],
        "MANUAL"
    );
    let declined = loan_step(
        &app,
        manager,
        "RX-RXD",
        "declineLoanApplication",
        ", reason: \"收入证明不足\"",
        "node",
    )
    .await;
    assert_eq!(
        data(&declined)["declineLoanApplication"]["loan"]["node"],
        "DECLINED"
    );
    let again = loan_step(
        &app,
        customer,
        "RX-RXD",
        "resubmitLoanApplication",
        ", amount: \"60000.00\", termMonths: 24",
        "node amount termMonths",
    )
    .await;
    let loan = &data(&again)["resubmitLoanApplication"]["loan"];
    assert_eq!(loan["node"], "APPLYING");
    assert_eq!(loan["termMonths"], 24);
    let unverified = loan_step(&app, customer, "RX-RXD", "submitForApproval", "", "id").await;
    assert_eq!(
        error_code(&unverified),
        "INVALID_TRANSITION",
        "each submission is verified anew"
    );
    let bad_amount = loan_step(
        &app,
        customer,
        "RX-RXD",
        "resubmitLoanApplication",
        ", amount: \"x\"",
        "id",
    )
    .await;
    assert_eq!(error_code(&bad_amount), "VALIDATION");

    // 当日人脸识别上限次数: five failures today, then tomorrow.
    data(&miaodai_application(&app, "RX-FACE", json!({})).await);
    data(
        &loan_step(
            &app,
            CORE,
            "RX-FACE",
            "recordWhitelistResult",
            ", result: MIAODAI",
            "id",
        )
        .await,
    );
    for _ in 0..5 {
        data(
            &loan_step(
                &app,
                VERIFIER,
                "RX-FACE",
                "recordLoanFaceCheck",
                ", passed: false",
                "id",
            )
            .await,
        );
    }
    let capped = loan_step(
        &app,
        VERIFIER,
        "RX-FACE",
        "recordLoanFaceCheck",
        ", passed: true",
        "id",
    )
    .await;
    assert_eq!(
        error_code(&capped),
        "INVALID_TRANSITION",
        "five failures today: try tomorrow"
    );
    app.stop().await;
}

/// The loan flow is idempotent under redelivery: handing it every event of
/// the log again opens no task and moves no loan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loan_flow_is_idempotent_under_redelivery() {
    let (app, clock) = app_with_clock(Backend::Sqlite, 0).await;
    passed_at_interview(&app, &clock, "LA-REDO-1", "HT-REDO").await;
    data(&advance(&app, "LA-REDO-1", "SIGNING").await);
    let rolled = app
        .graphql_as(
            ("M0001", "ACCOUNT_MANAGER"),
            r#"mutation { rollBackLoanApplication(id: "LA-REDO-1", to: INTERVIEW, reason: "重做") { projected } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data(&rolled)["rollBackLoanApplication"]["projected"], true);
    let events_before = app.event_count().await;
    let lineage = r#"{ taskLineage(contractNo: "HT-REDO") { taskId supersededBy } }"#;
    let before = app.graphql(lineage, json!({})).await;
    let db = app.stop().await;

    let engine = facesign::Engine::open(&crate::support::settings(&db.url))
        .await
        .unwrap();
    // Back to the start of the log: the flow sees every event again.
    sqlx::query(
        "UPDATE worker_checkpoints SET tx_id = 0, global_position = 0 WHERE name = 'loan_flow'",
    )
    .execute(engine.database.read_models())
    .await
    .unwrap();
    let redelivered = engine
        .consumer("loan_flow")
        .unwrap()
        .worker
        .catch_up()
        .await
        .unwrap();
    assert!(redelivered > 10, "every event again: {redelivered}");
    engine.database.close().await;

    let app = TestApp::spawn_on(db, crate::support::settings).await;
    assert_eq!(
        app.event_count().await,
        events_before,
        "a redelivery appends nothing"
    );
    assert_eq!(app.graphql(lineage, json!({})).await, before);
    app.stop().await;
}
