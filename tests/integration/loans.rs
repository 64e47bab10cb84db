//! The loan pipeline with a reverse flow, and the lineage of interview tasks (001, 003).

use serde_json::{json, Value};

use crate::support::loans::{advance, passed_at_interview, LOAN};
use crate::support::on_both_backends;
use crate::support::session::app_with_clock;
use crate::support::VERIFIER;
use crate::support::{data, error_code, Backend, TestApp};

const BORROWER_ID: &str = "410102198503121017";

on_both_backends!(rolling_back_from_signing_opens_a_new_interview_task_with_lineage);

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

/// 003_b9ff603350013dbe.txt: 融信秒贷 申请中 → 审批中 → 待放款 → 已放款; 30万以内秒批秒贷
/// (online), above it a manager approves; the contract is e-signed before 确认放款;
/// face checks are capped per day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rongxin_miaodai_routes_by_amount_and_disburses_after_the_e_sign() {
    let app = crate::support::TestApp::spawn(Backend::Sqlite).await;
    let core = ("CORE", "CREDIT_SYSTEM");
    let customer = (BORROWER_ID, "CUSTOMER");
    let verifier = VERIFIER;
    let submit = |id: &'static str, amount: &'static str| {
        let app = &app;
        async move {
            app.graphql_as(
                core,
                &format!("mutation($input: SubmitLoanInput!) {{ submitLoanApplication(input: $input) {{ loan {{ {LOAN} }} }} }}"),
                json!({ "input": {
                    "applicationNo": id, "product": "RONGXIN_MIAODAI", "contractNo": format!("HT-{id}"), "amount": amount,
                    "taskKind": "YUNDAI_DIRECT", "productCode": "RXMD", "channelCode": "ZXYH", "managerId": "M0001",
                    "participants": [{ "name": "借款人", "idNumber": BORROWER_ID, "phone": "13800138000", "roles": ["BORROWER"] }]
                } }),
            )
            .await
        }
    };
    let step = |who: (&'static str, &'static str),
                id: &'static str,
                mutation: &'static str,
                args: &'static str| {
        let app = &app;
        async move {
            app.graphql_as(
                who,
                &format!("mutation {{ {mutation}(id: \"{id}\"{args}) {{ loan {{ {LOAN} }} }} }}"),
                json!({}),
            )
            .await
        }
    };

    let online = submit("RX-1", "300000.00").await;
    assert_eq!(
        data(&online)["submitLoanApplication"]["loan"]["node"],
        "APPLYING"
    );
    let early = step(customer, "RX-1", "submitForApproval", "").await;
    assert_eq!(
        error_code(&early),
        "INVALID_TRANSITION",
        "the whitelist check comes first"
    );
    data(&step(core, "RX-1", "recordWhitelistResult", ", result: MIAODAI").await);
    data(&step(verifier, "RX-1", "recordLoanFaceCheck", ", passed: true").await);
    let requested = step(customer, "RX-1", "submitForApproval", "").await;
    let loan = &data(&requested)["submitForApproval"]["loan"];
    assert_eq!(loan["node"], "APPROVING");
    assert_eq!(
        loan["history"].as_array().unwrap().last().unwrap()["reason"],
        "route AUTOMATIC"
    );
    let by_manager = step(
        ("M0001", "ACCOUNT_MANAGER"),
        "RX-1",
        "approveLoanApplication",
        "",
    )
    .await;
    assert_eq!(
        error_code(&by_manager),
        "FORBIDDEN",
        "an online loan is approved by the credit system"
    );
    let without_limit = step(core, "RX-1", "approveLoanApplication", "").await;
    assert_eq!(
        error_code(&without_limit),
        "VALIDATION",
        "the credit system approves with the limit it granted"
    );
    let above_limit = step(
        core,
        "RX-1",
        "approveLoanApplication",
        ", creditLimit: \"299999.99\"",
    )
    .await;
    assert_eq!(
        error_code(&above_limit),
        "VALIDATION",
        "003: 期望额度小于等于授信审批额度"
    );
    let approved = step(
        core,
        "RX-1",
        "approveLoanApplication",
        ", creditLimit: \"300000.00\"",
    )
    .await;
    assert_eq!(
        data(&approved)["approveLoanApplication"]["loan"]["node"],
        "AWAITING_DISBURSEMENT"
    );
    let unsigned = step(
        customer,
        "RX-1",
        "confirmDisbursement",
        ", account: \"6217000000000001\"",
    )
    .await;
    assert_eq!(error_code(&unsigned), "INVALID_TRANSITION");
    data(
        &step(
            customer,
            "RX-1",
            "signLoanContract",
            ", signatureRef: \"sig://RX-1\", annualRate: \"0.0435\", termMonths: 12",
        )
        .await,
    );
    let paid = step(
        customer,
        "RX-1",
        "confirmDisbursement",
        ", account: \"6217000000000001\"",
    )
    .await;
    assert_eq!(
        data(&paid)["confirmDisbursement"]["loan"]["node"],
        "DISBURSING",
        "003 放款完成: 等待系统自动放款 — the core pays out (tests/integration/loan_servicing.rs)"
    );

    let offline = submit("RX-2", "300000.01").await;
    data(&offline);
    data(&step(core, "RX-2", "recordWhitelistResult", ", result: MIAODAI").await);
    for _ in 0..5 {
        data(&step(verifier, "RX-2", "recordLoanFaceCheck", ", passed: false").await);
    }
    let capped = step(verifier, "RX-2", "recordLoanFaceCheck", ", passed: true").await;
    assert_eq!(
        error_code(&capped),
        "INVALID_TRANSITION",
        "five failures today: try tomorrow"
    );
    let not_checked = step(customer, "RX-2", "submitForApproval", "").await;
    assert_eq!(error_code(&not_checked), "INVALID_TRANSITION");

    let third = submit("RX-3", "300000.01").await;
    data(&third);
    data(&step(core, "RX-3", "recordWhitelistResult", ", result: MIAODAI").await);
    data(&step(verifier, "RX-3", "recordLoanFaceCheck", ", passed: true").await);
    let manual = step(customer, "RX-3", "submitForApproval", "").await;
    let history = data(&manual)["submitForApproval"]["loan"]["history"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        history.last().unwrap()["reason"],
        "route MANUAL",
        "a fen above 300,000 goes to a manager"
    );
    let declined = step(
        ("M0001", "ACCOUNT_MANAGER"),
        "RX-3",
        "declineLoanApplication",
        ", reason: \"收入证明不足\"",
    )
    .await;
    assert_eq!(
        data(&declined)["declineLoanApplication"]["loan"]["node"],
        "DECLINED"
    );
    let again = step(
        customer,
        "RX-3",
        "resubmitLoanApplication",
        ", amount: \"200000.00\"",
    )
    .await;
    let loan = &data(&again)["resubmitLoanApplication"]["loan"];
    assert_eq!(loan["node"], "APPLYING");
    let bad_amount = step(
        customer,
        "RX-3",
        "resubmitLoanApplication",
        ", amount: \"x\"",
    )
    .await;
    assert_eq!(error_code(&bad_amount), "VALIDATION");

    // Above 300,000 a manager approves, and signing and disbursement go offline
    // (003 §二(一): 后续签约流程以及放款流程转成线下).
    data(&submit("RX-4", "450000.00").await);
    data(&step(core, "RX-4", "recordWhitelistResult", ", result: MIAODAI").await);
    data(&step(verifier, "RX-4", "recordLoanFaceCheck", ", passed: true").await);
    data(&step(customer, "RX-4", "submitForApproval", "").await);
    let by_manager = step(
        ("M0001", "ACCOUNT_MANAGER"),
        "RX-4",
        "approveLoanApplication",
        ", creditLimit: \"500000.00\"",
    )
    .await;
    assert_eq!(
        data(&by_manager)["approveLoanApplication"]["loan"]["node"],
        "AWAITING_DISBURSEMENT"
    );
    let signed_online = step(
        customer,
        "RX-4",
        "signLoanContract",
        ", signatureRef: \"sig://RX-4\", annualRate: \"0.0435\", termMonths: 12",
    )
    .await;
    assert_eq!(error_code(&signed_online), "INVALID_TRANSITION");
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
        "UPDATE projection_checkpoints SET tx_id = 0, global_position = 0 WHERE name = 'loan_flow_process'",
    )
    .execute(engine.database.read_models())
    .await
    .unwrap();
    let redelivered = engine
        .consumer("loan_flow_process")
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
