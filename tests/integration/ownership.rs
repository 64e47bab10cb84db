//! Who may touch which record (the issue "ownership rules, on-behalf-of actors
//! and the operation log"): every mutation that addresses a task, a loan
//! application, a partner order or a work order is tried by an owner and a
//! non-owner of each role its rule admits; a non-owner is refused
//! (`FORBIDDEN`, or `NOT_FOUND` for customers) and the store is unchanged.
//! Then the cases named in the issue, one by one, and the operation log.

use domain::role::Role;
use serde_json::{json, Value};

use crate::support::on_both_backends;
use crate::support::scheduling::{book_mutation, seat, slot_vars, task_with, tomorrow_at};
use crate::support::session::{app_with_clock, book_and_start};
use crate::support::{data, error_code, schema_types, to_literal, token, Backend, TestApp};

/// The customer on every record of the fixture, and a stranger.
const OWNER_CUSTOMER: &str = "410102198503121017";
const OTHER_CUSTOMER: &str = "110105196902031238";

/// What kind of record a mutation addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Task,
    Loan,
    WorkOrder,
    PartnerOrder,
}

/// Mutations that take the id of another kind of record (QC cases, calls,
/// callbacks, seats, admin records): outside this matrix, covered elsewhere.
const OTHER_RECORDS: &[&str] = &[
    "claimQcCase",
    "releaseQcCase",
    "decideQcCase",
    "cancelQueuedCall",
    "answerCall",
    "endInboundCall",
    "transferCall",
    "takeQueuedCall",
    "retryCallback",
    // Change proposals: the four-eyes rules (tests/integration/identity.rs).
    "approveChange",
    "withdrawChange",
];

fn kind_of(mutation: &str, args: &[&str]) -> Option<Kind> {
    if args.contains(&"taskId") || mutation == "cancelInterviewTask" {
        return Some(Kind::Task);
    }
    if args.contains(&"orderNo") {
        return Some(Kind::PartnerOrder);
    }
    if !args.contains(&"id") {
        return None;
    }
    if mutation.contains("WorkOrder") {
        return Some(Kind::WorkOrder);
    }
    let loan = [
        "LoanApplication",
        "recordWhitelistResult",
        "recordLoanFaceCheck",
        "submitForApproval",
        "signLoanContract",
        "confirmDisbursement",
        "acceptLoanDocument",
        "recordLoanVerification",
        "chooseLoanAmount",
        "setSigningRate",
        "ManualCase",
        "ContractDownload",
        "Prepayment",
        "recordDisbursementResult",
        "recordLoanRepayment",
    ];
    loan.iter()
        .any(|l| mutation.contains(l))
        .then_some(Kind::Loan)
}

/// The records of the fixture: a task of manager M1 with customer C1 on it,
/// booked on seat S1; a 融信秒贷 application of M1 whose applicant is C1; a
/// work order created by S1 for C1.
struct Fixture {
    task: String,
    loan: String,
    work_order: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    seat(app, "S1").await;
    seat(app, "S2").await;
    let task = task_with(app, "HT-OWN-1", OWNER_CUSTOMER).await;
    data(
        &app.graphql(&book_mutation(), slot_vars(&task, "S1", tomorrow_at(10, 0)))
            .await,
    );
    let loan = app
        .graphql_as(
            ("CORE", "CREDIT_SYSTEM"),
            "mutation($input: SubmitLoanInput!) { submitLoanApplication(input: $input) { loan { id } } }",
            json!({ "input": {
                "applicationNo": "RX-OWN-1", "product": "RONGXIN_MIAODAI", "contractNo": "HT-RX-OWN-1",
                "termMonths": 12, "purpose": "装修", "taskKind": "YUNDAI_DIRECT", "productCode": "RXMD",
                "channelCode": "ZXYH", "managerId": "M0001",
                "participants": [{ "name": "邓小闲", "idNumber": OWNER_CUSTOMER, "phone": "15618293093", "roles": ["BORROWER"] }]
            } }),
        )
        .await;
    let loan = data(&loan)["submitLoanApplication"]["loan"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let order = app
        .graphql_as(
            ("S1", "SEAT"),
            r#"mutation($id: String) { createWorkOrder(input: { businessType: "YXD", customerName: "邓小闲", phone: "15618293093", idNumber: $id, caseNo: "646464644664" }) { id } }"#,
            json!({ "id": OWNER_CUSTOMER }),
        )
        .await;
    let work_order = data(&order)["createWorkOrder"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    Fixture {
        task,
        loan,
        work_order,
    }
}

/// (owner, non-owner and the code that refuses them) of `role` for a record
/// of the fixture; systems and supervisors reach every record.
fn identities(role: Role) -> (&'static str, Option<(&'static str, &'static str)>) {
    match role {
        Role::Customer => (OWNER_CUSTOMER, Some((OTHER_CUSTOMER, "NOT_FOUND"))),
        Role::AccountManager => ("M0001", Some(("M0002", "FORBIDDEN"))),
        Role::Seat => ("S1", Some(("S2", "FORBIDDEN"))),
        _ => ("SYS1", None),
    }
}

fn codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn settled_event_count(app: &TestApp) -> i64 {
    // Process managers of an earlier, accepted attempt may still be writing.
    let mut count = app.event_count().await;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let again = app.event_count().await;
        if again == count {
            return count;
        }
        count = again;
    }
}

on_both_backends!(
    every_record_mutation_refuses_a_non_owner_of_each_role_and_changes_nothing,
    a_customer_cannot_disburse_someone_elses_loan,
    a_manager_lists_and_reads_only_the_tasks_they_manage,
    a_refusal_and_a_read_of_personal_data_are_in_the_operation_log,
    a_seat_holds_the_task_it_connected_until_it_puts_it_back,
);

async fn every_record_mutation_refuses_a_non_owner_of_each_role_and_changes_nothing(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let fixture = fixture(&app).await;
    let (types, [_, mutation_root, _]) = schema_types(&app).await;
    let mut covered = Vec::new();
    let mut refusals = 0;
    for field in types.0[&mutation_root]["fields"].as_array().unwrap() {
        let name = field["name"].as_str().unwrap();
        let args: Vec<&str> = field["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        let Some(kind) = kind_of(name, &args) else {
            let takes_an_id = field["args"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["type"]["ofType"]["name"] == "ID" || a["type"]["name"] == "ID");
            assert!(
                !takes_an_id || OTHER_RECORDS.contains(&name),
                "{name} takes an id: classify it here (or list it in OTHER_RECORDS)"
            );
            continue;
        };
        covered.push((name, kind));
        let allowed = api::access::allowed_roles(&format!("Mutation.{name}")).unwrap();
        for &role in allowed {
            let (owner, non_owner) = identities(role);
            let document = |caller: &str| {
                let arguments: Vec<String> = field["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|a| a["type"]["kind"] == "NON_NULL")
                    .map(|a| {
                        let arg = a["name"].as_str().unwrap();
                        let value = match (arg, kind) {
                            ("taskId", _) | ("id", Kind::Task) => json!(fixture.task),
                            ("id", Kind::Loan) => json!(fixture.loan),
                            ("id", Kind::WorkOrder) => json!(fixture.work_order),
                            // A seat acts as itself; the record decides.
                            ("seatNo", _) if role == Role::Seat => json!(caller),
                            ("seatNo", _) => json!("S1"),
                            ("partner", _) => json!("RONGSHU"),
                            _ => types.sample(&a["type"]),
                        };
                        format!("{arg}: {}", to_literal(&value))
                    })
                    .collect();
                let selection = if types.is_object(&field["type"]) {
                    " { __typename }"
                } else {
                    ""
                };
                format!("mutation {{ {name}({}){selection} }}", arguments.join(", "))
            };
            if let Some((stranger, refusal)) = non_owner {
                let before = settled_event_count(&app).await;
                let (status, response) = app
                    .graphql_with_token(
                        Some(&token(stranger, role.as_str())),
                        &document(stranger),
                        json!({}),
                    )
                    .await;
                assert_eq!(status, 200);
                assert_eq!(
                    codes(&response),
                    [refusal],
                    "{name} by {role} {stranger} (not theirs): {response}"
                );
                assert_eq!(
                    settled_event_count(&app).await,
                    before,
                    "{name} by {role} {stranger}: the refusal changed the store"
                );
                refusals += 1;
            }
            let (_, response) = app
                .graphql_with_token(
                    Some(&token(owner, role.as_str())),
                    &document(owner),
                    json!({}),
                )
                .await;
            let ownership = ["FORBIDDEN", "NOT_FOUND", "UNAUTHENTICATED"];
            assert!(
                !codes(&response)
                    .iter()
                    .any(|c| ownership.contains(&c.as_str())),
                "{name} by {role} {owner} (theirs) was refused: {response}"
            );
        }
    }
    eprintln!(
        "{refusals} non-owner refusals over {} mutations: {covered:?}",
        covered.len()
    );
    assert!(
        refusals >= 35,
        "only {refusals} non-owner attempts were made"
    );
    for kind in [Kind::Task, Kind::Loan, Kind::WorkOrder, Kind::PartnerOrder] {
        assert!(
            covered.iter().filter(|(_, k)| *k == kind).count() >= 2,
            "mutations of {kind:?} were found: {covered:?}"
        );
    }
    app.stop().await;
}

/// 003: 确认放款 is the applicant's alone; another customer's attempt looks as
/// if the application did not exist, and nothing changes.
async fn a_customer_cannot_disburse_someone_elses_loan(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let fixture = fixture(&app).await;
    let before = app.event_count().await;
    let confirm = format!(
        "mutation {{ confirmDisbursement(id: \"{}\", account: \"6222020200112233445\") {{ loan {{ id node }} }} }}",
        fixture.loan
    );
    let stranger = app
        .graphql_as((OTHER_CUSTOMER, "CUSTOMER"), &confirm, json!({}))
        .await;
    assert_eq!(error_code(&stranger), "NOT_FOUND", "{stranger}");
    assert_eq!(stranger["errors"][0]["message"], "贷款申请不存在");
    assert_eq!(app.event_count().await, before);
    // The applicant is told where the application stands instead.
    let owner = app
        .graphql_as((OWNER_CUSTOMER, "CUSTOMER"), &confirm, json!({}))
        .await;
    assert_eq!(error_code(&owner), "INVALID_TRANSITION", "{owner}");
    app.stop().await;
}

/// 000 (CEIS_J010): an account manager's list is the tasks they manage; counts
/// and pages never show another manager's, and reading one is FORBIDDEN.
async fn a_manager_lists_and_reads_only_the_tasks_they_manage(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut mine = Vec::new();
    for n in 0..3 {
        mine.push(crate::support::create_task(&app, &format!("HT-MINE-{n}")).await);
    }
    let mut input = crate::support::task_input("HT-THEIRS-1");
    input["managerId"] = json!("M0002");
    let theirs = app
        .graphql_as(
            ("M0002", "ACCOUNT_MANAGER"),
            crate::support::CREATE_TASK,
            json!({ "input": input }),
        )
        .await;
    let theirs = data(&theirs)["createInterviewTask"]["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    let list = "{ tasks(first: 100) { edges { node { id managerId } } } }";
    let page = app.graphql(list, json!({})).await;
    let ids: Vec<&str> = data(&page)["tasks"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{page}");
    assert!(mine.iter().all(|id| ids.contains(&id.as_str())));
    let supervisor = app.graphql_as(("SV1", "SUPERVISOR"), list, json!({})).await;
    assert_eq!(
        data(&supervisor)["tasks"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let read = app
        .graphql(
            "query($id: ID!) { task(id: $id) { id } }",
            json!({ "id": theirs }),
        )
        .await;
    assert_eq!(error_code(&read), "FORBIDDEN", "{read}");
    let detail = app
        .graphql(
            "query($id: ID!) { taskDetail(id: $id) { task { id } } }",
            json!({ "id": theirs }),
        )
        .await;
    assert_eq!(error_code(&detail), "FORBIDDEN", "{detail}");
    app.stop().await;
}

/// 操作留痕: a refused command and a read of personal data are in the
/// operation log, readable by the auditor with filters.
async fn a_refusal_and_a_read_of_personal_data_are_in_the_operation_log(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = crate::support::create_task(&app, "HT-OPLOG-1").await;
    let refused = app
        .graphql_as(
            ("M0002", "ACCOUNT_MANAGER"),
            r#"mutation($id: ID!) { cancelInterviewTask(id: $id, reason: "试探") { taskId } }"#,
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let read = app
        .graphql_as(
            ("SV1", "SUPERVISOR"),
            "query($id: ID!) { task(id: $id) { participants { name idNumber } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        data(&read)["task"]["participants"][0]["idNumber"],
        OWNER_CUSTOMER,
        "the supervisor sees it in clear"
    );
    let log = |filter: Value| {
        let app = &app;
        async move {
            // The log is written a moment after the request (never in its way).
            for _ in 0..50 {
                let page = app
                    .graphql_as(
                        ("AU1", "AUDITOR"),
                        "query($f: OperationLogFilter!) { operationLog(filter: $f) { kind actorId actorRole operation target code detail requestId } }",
                        json!({ "f": filter.clone() }),
                    )
                    .await;
                let entries = data(&page)["operationLog"].as_array().unwrap().clone();
                if !entries.is_empty() {
                    return entries;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("nothing in the operation log for {filter}");
        }
    };
    let refusals = log(json!({ "actorId": "M0002", "kind": "REFUSED" })).await;
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0]["operation"], "Mutation.cancelInterviewTask");
    assert_eq!(refusals[0]["target"], format!("id={id}"));
    assert_eq!(refusals[0]["code"], "FORBIDDEN");
    assert_eq!(refusals[0]["actorRole"], "ACCOUNT_MANAGER");
    assert!(!refusals[0]["requestId"].as_str().unwrap().is_empty());
    let reads = log(json!({ "actorId": "SV1", "kind": "PERSONAL_DATA_READ", "target": id })).await;
    assert_eq!(reads[0]["target"], format!("interview-task:{id}"));
    assert_eq!(
        reads[0]["detail"],
        "participants.name,participants.idNumber"
    );
    // Others may not read it.
    let seat = app
        .graphql_as(("S1", "SEAT"), "{ operationLog { kind } }", json!({}))
        .await;
    assert_eq!(error_code(&seat), "FORBIDDEN");
    app.stop().await;
}

/// 000: the seat that connects a task holds it — another seat cannot conclude
/// or record on it — until it puts it back (放回); then the task is 待面谈
/// again and the seat (or another it is offered to) may connect it again.
async fn a_seat_holds_the_task_it_connected_until_it_puts_it_back(backend: Backend) {
    let (app, clock) = app_with_clock(backend, 0).await;
    seat(&app, "S1").await;
    seat(&app, "S2").await;
    let id = task_with(&app, "HT-HOLD-1", OWNER_CUSTOMER).await;
    book_and_start(&app, &clock, &id).await;
    let before = app.event_count().await;
    for mutation in [
        "concludeInterview(taskId: $id, outcome: PASS)",
        "recordVideoWitness(taskId: $id, storageRef: \"blob://x\")",
        "releaseTask(taskId: $id, reason: \"抢单\")",
    ] {
        let other = app
            .graphql_as(
                ("S2", "SEAT"),
                &format!("mutation($id: ID!) {{ {mutation} {{ taskId }} }}"),
                json!({ "id": id }),
            )
            .await;
        assert_eq!(error_code(&other), "FORBIDDEN", "{mutation}: {other}");
    }
    assert_eq!(app.event_count().await, before, "nothing changed");
    // The holder sees the borrower in clear (it verifies them); another seat
    // in a list does not.
    let held = app
        .graphql_as(
            ("S1", "SEAT"),
            "query($id: ID!) { task(id: $id) { interviewSeatNo status participants { idNumber } } }",
            json!({ "id": id }),
        )
        .await;
    let held = &data(&held)["task"];
    assert_eq!(held["interviewSeatNo"], "S1");
    assert_eq!(held["participants"][0]["idNumber"], OWNER_CUSTOMER);
    // The actions the API offers follow the same rules (000: the holder ends,
    // concludes or puts back; a seat never cancels; another seat gets nothing;
    // a supervisor may put it back or cancel it).
    let actions = |who: (&'static str, &'static str)| {
        let app = &app;
        let id = id.clone();
        async move {
            let answer = app
                .graphql_as(
                    who,
                    "query($id: ID!) { taskDetail(id: $id) { task { allowedActions } } }",
                    json!({ "id": id }),
                )
                .await;
            data(&answer)["taskDetail"]["task"]["allowedActions"].clone()
        }
    };
    assert_eq!(
        actions(("S1", "SEAT")).await,
        json!(["END_CALL", "CONCLUDE_INTERVIEW", "RELEASE_TASK"])
    );
    assert_eq!(
        actions(("SUP1", "SUPERVISOR")).await,
        json!(["RELEASE_TASK", "CANCEL_TASK"])
    );
    let other = app
        .graphql_as(
            ("S2", "SEAT"),
            "query($id: ID!) { task(id: $id) { allowedActions } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        other["data"]["task"].is_null() || other["data"]["task"]["allowedActions"] == json!([]),
        "another seat is offered nothing: {other}"
    );
    let listed = app
        .graphql_as(
            ("S1", "SEAT"),
            "{ tasks(first: 10) { edges { node { id participants { idNumber } } } } }",
            json!({}),
        )
        .await;
    let edges = data(&listed)["tasks"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 1, "the seat lists the task it holds");
    assert_eq!(
        edges[0]["node"]["participants"][0]["idNumber"], "410102********1017",
        "masked in the seat's list (004 3.4)"
    );
    let released = app
        .graphql_as(
            ("S1", "SEAT"),
            "mutation($id: ID!) { releaseTask(taskId: $id, reason: \"客户网络中断\") { task { status interviewSeatNo } } }",
            json!({ "id": id }),
        )
        .await;
    let task = &data(&released)["releaseTask"]["task"];
    assert_eq!(task["status"], "PENDING");
    assert_eq!(task["interviewSeatNo"], Value::Null);
    let again = app
        .graphql_as(
            ("S1", "SEAT"),
            "mutation($id: ID!) { startInterview(taskId: $id, seatNo: \"S1\") { task { status } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        data(&again)["startInterview"]["task"]["status"],
        "IN_PROGRESS"
    );
    // A seat starts only as itself.
    let as_other = app
        .graphql_as(
            ("S2", "SEAT"),
            "mutation($id: ID!) { startInterview(taskId: $id, seatNo: \"S1\") { taskId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&as_other), "FORBIDDEN");
    app.stop().await;
}
