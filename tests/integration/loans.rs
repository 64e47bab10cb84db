//! The loan pipeline with a reverse flow, and the lineage of interview tasks (001, 003).

use serde_json::{json, Value};

use crate::graphql_tasks::on_both_backends;
use crate::quality::{app_with_clock, book_and_start, conclude, end_call, session, SEAT};
use crate::scheduling::seat;
use crate::support::{data, error_code, Backend};

const BORROWER_ID: &str = "410102198503121017";
const LOAN: &str =
    "loanId: id contractNo node interviewTaskId history { kind from to reason actorId actorRole }";

on_both_backends!(rolling_back_from_signing_opens_a_new_interview_task_with_lineage);

/// 001_d165f826565a3102.txt 2.5.3 rule 2 and 2.7.3: 涉及面谈节点的逆向业务操作，无论面谈任务
/// 是否启动或完成，信贷系统均生成新的面谈任务。既往数据落库存档备调 — 面签 → roll back to 面谈:
/// a new task appears, the lineage shows both, the old task's data is unchanged.
async fn rolling_back_from_signing_opens_a_new_interview_task_with_lineage(backend: Backend) {
    let (app, clock) = app_with_clock(backend, 0).await;
    seat(&app, "S1").await;
    let core = ("CORE", "CREDIT_SYSTEM");
    let manager = ("M0001", "ACCOUNT_MANAGER");
    let submitted = app
        .graphql_as(
            core,
            &format!("mutation($input: SubmitLoanInput!) {{ submitLoanApplication(input: $input) {{ loan {{ {LOAN} }} }} }}"),
            json!({ "input": {
                "applicationNo": "LA-2026-0001", "contractNo": "HT-LOAN-1", "amount": "500000.00",
                "taskKind": "YONGXU_VIDEO_INTERVIEW", "productCode": "YXD", "channelCode": "YYZX", "managerId": "M0001",
                "participants": [{ "name": "借款人", "idNumber": BORROWER_ID, "phone": "13800138000", "roles": ["BORROWER"] }]
            } }),
        )
        .await;
    assert_eq!(
        data(&submitted)["submitLoanApplication"]["loan"]["node"],
        "SUBMITTED"
    );

    let advance = |to: &'static str| {
        let app = &app;
        async move {
            app.graphql_as(
                manager,
                &format!("mutation {{ advanceLoanApplication(id: \"LA-2026-0001\", to: {to}) {{ loan {{ {LOAN} }} }} }}"),
                json!({}),
            )
            .await
        }
    };
    data(&advance("PRELIMINARY_REVIEW").await);
    let skipped = advance("INTERVIEW").await;
    assert_eq!(
        error_code(&skipped),
        "INVALID_TRANSITION",
        "nodes are not skipped"
    );
    data(&advance("HOME_VISIT").await);
    let at_interview = advance("INTERVIEW").await;
    let loan = &data(&at_interview)["advanceLoanApplication"]["loan"];
    assert_eq!(loan["node"], "INTERVIEW");
    let first_task = loan["interviewTaskId"]
        .as_str()
        .expect("面谈 opens a task")
        .to_string();

    let too_early = advance("SIGNING").await;
    assert_eq!(
        error_code(&too_early),
        "INVALID_TRANSITION",
        "面签 waits for 已面谈（待提交面签）"
    );

    // The interview passes.
    book_and_start(&app, &clock, &first_task).await;
    let vars = json!({ "id": first_task });
    data(
        &session(
            &app,
            SEAT,
            "recordIdentityCheck",
            &format!(", idNumber: \"{BORROWER_ID}\", livenessPassed: true, similarity: 0.91"),
            vars.clone(),
        )
        .await,
    );
    data(
        &session(
            &app,
            SEAT,
            "recordVideoWitness",
            ", storageRef: \"blob://video-1\"",
            vars.clone(),
        )
        .await,
    );
    end_call(&app, &clock, &first_task).await;
    data(&conclude(&app, &first_task, "PASS").await);
    let signing = advance("SIGNING").await;
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
