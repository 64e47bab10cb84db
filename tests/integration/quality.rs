//! The interview session, conclusions and quality control end to end (000, 001, 004).

use chrono::Utc;
use serde_json::{json, Value};

use crate::support::on_both_backends;
use crate::support::scheduling::{seat, task_with, tomorrow_at};
use crate::support::session::{app_with_clock, book_and_start, conclude, end_call, session, SEAT};
use crate::support::{data, error_code, Backend, TestApp, VERIFIER};

const BORROWER_ID: &str = "410102198503121017";

/// A task booked with S1 tomorrow at 10:00, the clock moved into the window and
/// the interview started by the seat.
async fn started_interview(app: &TestApp, clock: &store::ShiftableClock, kind: &str) -> String {
    seat(app, "S1").await;
    let id = task_with(app, &format!("HT-QC-{kind}"), BORROWER_ID).await;
    book_and_start(app, clock, &id).await;
    id
}

const QUEUE: &str = r#"query($task: ID) { qcCases(filter: { taskId: $task }) { id origin status reviewer passed reasons comment } }"#;
const DECIDE: &str = r#"mutation($id: ID!, $verdict: QcVerdict!, $reasons: [RejectReason!] = [], $comment: String = "") {
    decideQcCase(id: $id, verdict: $verdict, reasons: $reasons, comment: $comment) {
      projected case { status passed reasons } task { id status statusLabel creditStatus creditStatusLabel } } }"#;

on_both_backends!(a_doubtful_interview_is_rejected_by_qc_with_two_reasons);

/// The QC cases of a task; the conclusion settled the QC process manager, so
/// the case is there when the conclusion answered.
async fn qc_cases_of(app: &TestApp, reviewer: (&str, &str), task_id: &str) -> Vec<Value> {
    let queue = app
        .graphql_as(reviewer, QUEUE, json!({ "task": task_id }))
        .await;
    data(&queue)["qcCases"].as_array().unwrap().clone()
}

/// 001_d165f826565a3102.txt 2.3.1 / 2.4.3: the seat works the session, concludes
/// 存疑; the reviewer claims the case and rejects it with two reasons; the task is
/// 已面谈（面谈拒绝） on the board and in the audit trail. 004_448cd5ace309d8b2.txt:
/// snapshots, documents pushed and signed, call records.
async fn a_doubtful_interview_is_rejected_by_qc_with_two_reasons(backend: Backend) {
    let (app, clock) = app_with_clock(backend, 0).await;
    let id = started_interview(&app, &clock, "YONGXU").await;
    let vars = json!({ "id": id });

    data(
        &session(
            &app,
            SEAT,
            "captureSnapshot",
            ", category: HOLDING_ID_CARD, storageRef: \"blob://snap-1\"",
            vars.clone(),
        )
        .await,
    );
    data(
        &session(
            &app,
            SEAT,
            "pushDocument",
            ", documentId: \"DOC-1\", name: \"面谈确认书.pdf\"",
            vars.clone(),
        )
        .await,
    );
    data(
        &session(
            &app,
            (BORROWER_ID, "CUSTOMER"),
            "signDocument",
            ", documentId: \"DOC-1\", signedRef: \"blob://signed-1\"",
            vars.clone(),
        )
        .await,
    );
    let resigned = session(
        &app,
        (BORROWER_ID, "CUSTOMER"),
        "signDocument",
        ", documentId: \"DOC-1\", signedRef: \"blob://signed-2\"",
        vars.clone(),
    )
    .await;
    assert_eq!(error_code(&resigned), "INVALID_TRANSITION");
    data(
        &session(
            &app,
            SEAT,
            "sendChatMessage",
            ", text: \"请出示身份证原件\"",
            vars.clone(),
        )
        .await,
    );
    data(
        &session(
            &app,
            SEAT,
            "addRemark",
            ", text: \"客户对利率有异议\"",
            vars.clone(),
        )
        .await,
    );
    data(
        &session(
            &app,
            VERIFIER,
            "recordIdentityCheck",
            &format!(", idNumber: \"{BORROWER_ID}\", livenessPassed: true, similarity: 0.62"),
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
    data(
        &session(
            &app,
            SEAT,
            "editLoanInfo",
            ", changes: { amount: \"500000.00\", termMonths: 36 }",
            vars.clone(),
        )
        .await,
    );
    let bad_amount = session(
        &app,
        SEAT,
        "editLoanInfo",
        ", changes: { amount: \"-1\" }",
        vars.clone(),
    )
    .await;
    assert_eq!(error_code(&bad_amount), "VALIDATION");

    let too_early = conclude(&app, &id, "DOUBTFUL").await;
    assert_eq!(
        error_code(&too_early),
        "INVALID_TRANSITION",
        "the call has not ended"
    );
    end_call(&app, &clock, &id).await;
    let pass = conclude(&app, &id, "PASS").await;
    assert_eq!(
        error_code(&pass),
        "INVALID_TRANSITION",
        "identity check below the threshold"
    );
    let doubtful = conclude(&app, &id, "DOUBTFUL").await;
    let task = &data(&doubtful)["concludeInterview"]["task"];
    assert_eq!(task["status"], "PENDING_QC");
    assert_eq!(task["statusLabel"], "存疑");
    assert_eq!(
        task["creditStatus"], "PENDING_INTERVIEW",
        "001: \"存疑类\"任务状态保持为\"待面谈\""
    );

    let reviewer = ("R1", "QC_REVIEWER");
    // The QC process manager opens the case; the queue shows it shortly after.
    let cases = qc_cases_of(&app, reviewer, &id).await;
    assert_eq!(cases.len(), 1, "every 存疑 opens a case");
    assert_eq!(cases[0]["origin"], "DOUBTFUL");
    assert_eq!(cases[0]["status"], "OPEN");
    let case_id = cases[0]["id"].as_str().unwrap().to_string();

    let claim = app
        .graphql_as(
            reviewer,
            r#"mutation($id: ID!) { claimQcCase(id: $id) { case { status reviewer } } }"#,
            json!({ "id": case_id }),
        )
        .await;
    assert_eq!(data(&claim)["claimQcCase"]["case"]["status"], "CLAIMED");
    let other = app
        .graphql_as(
            ("R2", "QC_REVIEWER"),
            DECIDE,
            json!({ "id": case_id, "verdict": "PASS" }),
        )
        .await;
    assert_eq!(
        error_code(&other),
        "INVALID_TRANSITION",
        "only the claiming reviewer decides"
    );
    let no_reason = app
        .graphql_as(
            reviewer,
            DECIDE,
            json!({ "id": case_id, "verdict": "REJECT", "reasons": [], "comment": "x" }),
        )
        .await;
    assert_eq!(error_code(&no_reason), "VALIDATION");

    let rejected = app
        .graphql_as(
            reviewer,
            DECIDE,
            json!({ "id": case_id, "verdict": "REJECT", "reasons": ["NO_STABLE_INCOME", "FORGED_DOCUMENTS"], "comment": "收入证明与流水不符" }),
        )
        .await;
    let payload = &data(&rejected)["decideQcCase"];
    assert_eq!(payload["projected"], true);
    assert_eq!(payload["case"]["status"], "DECIDED");
    assert_eq!(payload["case"]["passed"], false);
    assert_eq!(
        payload["case"]["reasons"],
        json!(["FORGED_DOCUMENTS", "NO_STABLE_INCOME"])
    );
    assert_eq!(payload["task"]["status"], "REJECTED");
    assert_eq!(payload["task"]["statusLabel"], "已面谈（面谈拒绝）");
    assert_eq!(
        (
            &payload["task"]["creditStatus"],
            &payload["task"]["creditStatusLabel"]
        ),
        (&json!("INTERVIEW_REJECTED"), &json!("已面谈（面谈拒绝）"))
    );

    let board = app
        .graphql(
            r#"{ tasks(first: 10, status: REJECTED) { edges { node { id statusLabel } } } }"#,
            json!({}),
        )
        .await;
    let edges = data(&board)["tasks"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["id"], id.as_str());

    let auditor = ("AU01", "AUDITOR");
    let trail = app
        .graphql_as(
            auditor,
            r#"query($id: String!) { auditTrail(aggregateType: "interview-task", aggregateId: $id) { eventType actorId actorRole onBehalfOfId onBehalfOfRole causationId payload } }"#,
            json!({ "id": id }),
        )
        .await;
    let trail = data(&trail)["auditTrail"].as_array().unwrap().clone();
    let last = trail.last().unwrap();
    assert_eq!(last["eventType"], "QcRejected");
    assert_eq!(last["actorRole"], "SYSTEM");
    // The engine wrote it for the reviewer: the task's own trail names them.
    assert_eq!(
        (&last["onBehalfOfId"], &last["onBehalfOfRole"]),
        (&json!("R1"), &json!("QC_REVIEWER"))
    );
    let reviewer_did = app
        .graphql_as(
            auditor,
            r#"{ actorTrail(actorId: "R1") { aggregateType aggregateId eventType actorId onBehalfOfId } }"#,
            json!({}),
        )
        .await;
    let reviewer_did = data(&reviewer_did)["actorTrail"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        reviewer_did
            .iter()
            .any(|a| a["aggregateType"] == "interview-task"
                && a["aggregateId"] == id.as_str()
                && a["eventType"] == "QcRejected"
                && a["actorId"] == "quality_flow"
                && a["onBehalfOfId"] == "R1"),
        "what R1 did includes the task's rejection: {reviewer_did:?}"
    );
    assert_eq!(
        last["payload"]["QcRejected"]["reasons"],
        json!(["FORGED_DOCUMENTS", "NO_STABLE_INCOME"])
    );
    assert_eq!(last["payload"]["QcRejected"]["rollback_loan"], false);
    let case_trail = app
        .graphql_as(
            auditor,
            r#"query($id: String!) { auditTrail(aggregateType: "qc-case", aggregateId: $id) { eventType actorId actorRole } }"#,
            json!({ "id": case_id }),
        )
        .await;
    let case_trail = data(&case_trail)["auditTrail"].as_array().unwrap().clone();
    assert_eq!(case_trail.last().unwrap()["eventType"], "QcCaseDecided");
    assert_eq!(case_trail.last().unwrap()["actorId"], "R1");
    assert_eq!(case_trail.last().unwrap()["actorRole"], "QC_REVIEWER");

    let detail = app
        .graphql_as(
            ("SUP1", "SUPERVISOR"),
            r#"query($id: ID!) { taskDetail(id: $id) { detail timeline { eventType actorRole } task { status allowedActions }
                record { snapshots { category storageRef } documents { documentId signedRef } chat { sender text }
                         remarks { text } identityChecks { passed similarity threshold } loanInfo { amount } } } }"#,
            json!({ "id": id }),
        )
        .await;
    let detail = &data(&detail)["taskDetail"];
    let document = &detail["detail"];
    assert_eq!(document["snapshots"][0]["category"], "HOLDING_ID_CARD");
    assert_eq!(document["documents"][0]["signed_ref"], "blob://signed-1");
    assert_eq!(document["chat"][0]["sender"], "SEAT");
    assert_eq!(document["remarks"][0]["text"], "客户对利率有异议");
    assert_eq!(document["identityChecks"][0]["passed"], false);
    assert_eq!(document["loanInfo"]["amount"], "500000.00");
    // The same, typed (camelCase, no untyped JSON).
    let record = &detail["record"];
    assert_eq!(record["snapshots"][0]["category"], "HOLDING_ID_CARD");
    assert_eq!(record["documents"][0]["signedRef"], "blob://signed-1");
    assert_eq!(record["chat"][0]["sender"], "SEAT");
    assert_eq!(record["remarks"][0]["text"], "客户对利率有异议");
    assert_eq!(record["identityChecks"][0]["passed"], false);
    assert_eq!(record["loanInfo"]["amount"], "500000.00");
    assert_eq!(
        detail["task"]["allowedActions"],
        json!([]),
        "a task rejected by QC offers nothing"
    );
    let day = tomorrow_at(10, 1)
        .with_timezone(&domain::schedule::shanghai())
        .format("%Y%m%d");
    assert_eq!(
        document["recordings"][0]["recording_name"],
        format!("{day}借款人S1001")
    );
    let events: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert!(events.contains(&"InterviewConcluded") && events.ends_with(&["QcRejected"]));

    let calls = app
        .graphql_as(
            SEAT,
            r#"query($from: DateTime!, $to: DateTime!) { callRecords(from: $from, to: $to, seatNo: "S1") { end queueSeconds talkSeconds } }"#,
            json!({ "from": tomorrow_at(0, 0).to_rfc3339(), "to": (tomorrow_at(0, 0) + chrono::Duration::days(1)).to_rfc3339() }),
        )
        .await;
    let calls = data(&calls)["callRecords"].as_array().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["end"], "NORMAL");
    assert_eq!(calls[0]["queueSeconds"], 45);

    let today = Utc::now()
        .with_timezone(&domain::schedule::shanghai())
        .date_naive();
    let stats = app
        .graphql_as(
            ("SUP1", "SUPERVISOR"),
            r#"query($from: NaiveDate!, $to: NaiveDate!) { statistics(from: $from, to: $to) { day tasksCreated passed doubtful rejected calls averageQueueSeconds } }"#,
            json!({ "from": today.to_string(), "to": (today + chrono::Duration::days(2)).to_string() }),
        )
        .await;
    let days = data(&stats)["statistics"].as_array().unwrap().clone();
    let sum = |key: &str| days.iter().map(|d| d[key].as_i64().unwrap()).sum::<i64>();
    assert_eq!(
        (
            sum("tasksCreated"),
            sum("passed"),
            sum("doubtful"),
            sum("rejected"),
            sum("calls")
        ),
        (1, 0, 1, 1, 1)
    );
    assert!(days.iter().any(|d| d["averageQueueSeconds"] == 45.0));

    let changes = app
        .graphql_as(
            ("CORE", "CREDIT_SYSTEM"),
            r#"{ loanInfoChanges { endCursor changes { taskId after } } }"#,
            json!({}),
        )
        .await;
    let changes = data(&changes)["loanInfoChanges"]["changes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["after"]["amount"], "500000.00");
    assert_eq!(changes[0]["after"]["term_months"], 36);
    app.stop().await;
}

/// 001_d165f826565a3102.txt 2.4.3.1: passes are sampled into QC; a reject of a
/// sampled pass asks the loan capability to roll the loan back past 面谈.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_sampled_pass_asks_for_a_loan_roll_back() {
    let (app, clock) = app_with_clock(Backend::Sqlite, 1000).await;
    let id = started_interview(&app, &clock, "YUNDAI_DIRECT").await;
    data(
        &session(
            &app,
            VERIFIER,
            "recordIdentityCheck",
            &format!(", idNumber: \"{BORROWER_ID}\", livenessPassed: true, similarity: 0.93"),
            json!({ "id": id }),
        )
        .await,
    );
    data(
        &session(
            &app,
            SEAT,
            "recordVideoWitness",
            ", storageRef: \"blob://video-1\"",
            json!({ "id": id }),
        )
        .await,
    );
    end_call(&app, &clock, &id).await;
    let passed = conclude(&app, &id, "PASS").await;
    assert_eq!(
        data(&passed)["concludeInterview"]["task"]["statusLabel"],
        "已面谈（待提交面签）"
    );

    let reviewer = ("R1", "QC_REVIEWER");
    let cases = qc_cases_of(&app, reviewer, &id).await;
    assert_eq!(cases[0]["origin"], "SAMPLED_PASS");
    let case_id = cases[0]["id"].as_str().unwrap();
    data(
        &app.graphql_as(
            reviewer,
            r#"mutation($id: ID!) { claimQcCase(id: $id) { case { status } } }"#,
            json!({ "id": case_id }),
        )
        .await,
    );
    let rejected = app
        .graphql_as(reviewer, DECIDE, json!({ "id": case_id, "verdict": "REJECT", "reasons": ["CUSTOMER_WITHDREW"], "comment": "客户放弃" }))
        .await;
    assert_eq!(
        data(&rejected)["decideQcCase"]["task"]["status"],
        "REJECTED"
    );
    let trail = app
        .graphql_as(
            ("AU01", "AUDITOR"),
            r#"query($id: String!) { auditTrail(aggregateType: "interview-task", aggregateId: $id) { eventType payload } }"#,
            json!({ "id": id }),
        )
        .await;
    let trail = data(&trail)["auditTrail"].as_array().unwrap().clone();
    let last = trail.last().unwrap();
    assert_eq!(last["eventType"], "QcRejected");
    assert_eq!(last["payload"]["QcRejected"]["rollback_loan"], true);
    app.stop().await;
}

/// 004_448cd5ace309d8b2.txt 3.1: 空闲 after signing in; 忙碌 when the call is
/// answered (not changeable by hand); 话后处理 when it ends (changeable).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seat_presence_follows_the_call() {
    let (app, clock) = app_with_clock(Backend::Sqlite, 0).await;
    const SEAT_STATE: &str = r#"{ seat(seatNo: "S1") { signedIn presence } }"#;
    const SET: &str = r#"mutation($p: SeatPresence!) { setPresence(seatNo: "S1", presence: $p) { seat { presence } } }"#;
    seat(&app, "S1").await;
    let id = task_with(&app, "HT-PRESENCE", BORROWER_ID).await;
    let signed_in = app
        .graphql_as(
            SEAT,
            r#"mutation { signIn(seatNo: "S1") { seat { signedIn presence } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data(&signed_in)["signIn"]["seat"]["presence"], "IDLE");
    let other = app
        .graphql_as(("S2", "SEAT"), SET, json!({ "p": "PAUSED" }))
        .await;
    assert_eq!(
        error_code(&other),
        "FORBIDDEN",
        "a seat changes only its own presence"
    );

    book_and_start(&app, &clock, &id).await;
    let busy = app.graphql_as(SEAT, SEAT_STATE, json!({})).await;
    assert_eq!(data(&busy)["seat"]["presence"], "BUSY");
    let by_hand = app.graphql_as(SEAT, SET, json!({ "p": "PAUSED" })).await;
    assert_eq!(
        error_code(&by_hand),
        "INVALID_TRANSITION",
        "忙碌…状态不可修改"
    );
    let sign_out = app
        .graphql_as(
            SEAT,
            r#"mutation { signOut(seatNo: "S1") { seat { signedIn } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&sign_out), "INVALID_TRANSITION");

    end_call(&app, &clock, &id).await;
    let after = app.graphql_as(SEAT, SEAT_STATE, json!({})).await;
    assert_eq!(data(&after)["seat"]["presence"], "AFTER_CALL");
    let idle = app.graphql_as(SEAT, SET, json!({ "p": "IDLE" })).await;
    assert_eq!(data(&idle)["setPresence"]["seat"]["presence"], "IDLE");
    let out = app
        .graphql_as(
            SEAT,
            r#"mutation { signOut(seatNo: "S1") { seat { signedIn presence } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data(&out)["signOut"]["seat"]["signedIn"], false);
    assert_eq!(data(&out)["signOut"]["seat"]["presence"], "PAUSED");
    app.stop().await;
}
