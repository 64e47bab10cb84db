//! Masked data stays masked in every view (issue 31, docs/security.md
//! "Masking by need"): SMS texts follow the phone's rule; the texts of a work
//! order or a loan follow that record's ownership; a filter on a field the
//! caller sees masked is refused rather than answering guesses; no refusal
//! names a record or a person the caller may not read; event payloads mask
//! every field of a person. On both backends.

use serde_json::{json, Value};

use crate::support::on_both_backends;
use crate::support::partners::eventually;
use crate::support::scheduling::{book_mutation, seat, slot_vars, task_with, tomorrow_at};
use crate::support::{create_task, data, error_code, task_input, Backend, TestApp, CREATE_TASK};

on_both_backends!(
    texts_are_masked_like_the_phone_and_read_under_their_record_s_rule,
    filters_on_masked_fields_are_refused,
    refusals_name_no_record_the_caller_may_not_read,
    payloads_mask_every_field_of_a_person
);

const SMS: &str = "query($id: ID!) { smsMessages(taskId: $id) { phone body } }";

const AUDITOR: (&str, &str) = ("AU1", "AUDITOR");
const ADMIN: (&str, &str) = ("A001", "ADMIN");
const SUPERVISOR: (&str, &str) = ("SV1", "SUPERVISOR");
const MANAGER: (&str, &str) = ("M0001", "ACCOUNT_MANAGER");

async fn texts_as(app: &TestApp, who: (&str, &str), id: &str) -> Value {
    app.graphql_as(who, SMS, json!({ "id": id })).await
}

/// A booking's notice reads in clear to the task's manager and a supervisor,
/// masked (name and phone alike) to an auditor and an admin; a work order's
/// guide text is refused to account managers and to a seat it does not
/// reach, and masked to the seat that created it outside a call.
async fn texts_are_masked_like_the_phone_and_read_under_their_record_s_rule(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seat(&app, "S1").await;
    let task = task_with(&app, "HT-MASK-1", "410102198503121017").await;
    data(
        &app.graphql(&book_mutation(), slot_vars(&task, "S1", tomorrow_at(10, 0)))
            .await,
    );
    eventually("the notice is recorded", async || {
        data(&texts_as(&app, SUPERVISOR, &task).await)["smsMessages"]
            .as_array()
            .is_some_and(|texts| !texts.is_empty())
    })
    .await;
    for who in [MANAGER, SUPERVISOR] {
        let clear = texts_as(&app, who, &task).await;
        let text = &data(&clear)["smsMessages"][0];
        assert_eq!(text["phone"], "13800138000", "{who:?}");
        assert!(
            text["body"].as_str().unwrap().starts_with("尊敬的借款人,"),
            "{who:?}: {text}"
        );
    }
    for who in [AUDITOR, ADMIN] {
        let masked = texts_as(&app, who, &task).await;
        let text = &data(&masked)["smsMessages"][0];
        assert_eq!(text["phone"], "138****8000", "{who:?}");
        let body = text["body"].as_str().unwrap();
        assert!(
            body.starts_with("尊敬的借*人,") && !body.contains("借款人"),
            "{who:?}: {body}"
        );
    }

    const CREATE: &str = r#"mutation { createWorkOrder(input: { businessType: "YXD", customerName: "邓小闲", phone: "15618293093", caseNo: "CASE-M1" }) { id } }"#;
    let order = data(&app.graphql_as(("S1", "SEAT"), CREATE, json!({})).await)["createWorkOrder"]
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    eventually("the guide text is recorded", async || {
        data(&texts_as(&app, SUPERVISOR, &order).await)["smsMessages"]
            .as_array()
            .is_some_and(|texts| !texts.is_empty())
    })
    .await;
    let supervisor = texts_as(&app, SUPERVISOR, &order).await;
    assert!(data(&supervisor)["smsMessages"][0]["body"]
        .as_str()
        .unwrap()
        .starts_with("尊敬的邓小闲，"));
    assert_eq!(
        error_code(&texts_as(&app, MANAGER, &order).await),
        "FORBIDDEN",
        "an account manager has no right to work orders"
    );
    assert_eq!(
        error_code(&texts_as(&app, ("S2", "SEAT"), &order).await),
        "FORBIDDEN",
        "a seat that did not create, connect or get offered the order"
    );
    let creator = texts_as(&app, ("S1", "SEAT"), &order).await;
    let text = &data(&creator)["smsMessages"][0];
    assert_eq!(text["phone"], "156****3093");
    assert!(
        text["body"].as_str().unwrap().starts_with("尊敬的邓*闲，"),
        "{text}"
    );
    app.stop().await;
}

/// Filtering by a name or phone the caller sees masked would confirm guesses
/// one query at a time: refused (FORBIDDEN) for those roles, answered for
/// roles that see the field in clear and for a customer among their own.
async fn filters_on_masked_fields_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_task(&app, "HT-MASK-F").await;
    let by_name =
        r#"{ tasks(filter: { borrowerName: "邓小闲" }) { edges { node { contractNo } } } }"#;
    for who in [AUDITOR, ADMIN, ("S1", "SEAT")] {
        assert_eq!(
            error_code(&app.graphql_as(who, by_name, json!({})).await),
            "FORBIDDEN",
            "{who:?}"
        );
    }
    let supervisor = app.graphql_as(SUPERVISOR, by_name, json!({})).await;
    assert_eq!(
        data(&supervisor)["tasks"]["edges"][0]["node"]["contractNo"],
        "HT-MASK-F"
    );
    let customer = app
        .graphql_as(("410102198503121017", "CUSTOMER"), by_name, json!({}))
        .await;
    assert_eq!(
        data(&customer)["tasks"]["edges"].as_array().unwrap().len(),
        1,
        "a customer among their own tasks"
    );
    let by_phone = r#"{ workOrders(phone: "15618293093") { caseNo } }"#;
    for who in [AUDITOR, ADMIN, ("S1", "SEAT")] {
        assert_eq!(
            error_code(&app.graphql_as(who, by_phone, json!({})).await),
            "FORBIDDEN",
            "{who:?}"
        );
    }
    data(&app.graphql_as(SUPERVISOR, by_phone, json!({})).await);
    let qc_by_name = r#"{ qcCases(filter: { customerName: "邓小闲" }) { taskId } }"#;
    for who in [AUDITOR, ADMIN] {
        assert_eq!(
            error_code(&app.graphql_as(who, qc_by_name, json!({})).await),
            "FORBIDDEN",
            "{who:?}"
        );
    }
    data(
        &app.graphql_as(("Q1", "QC_REVIEWER"), qc_by_name, json!({}))
            .await,
    );

    // The operation log's target filter matches text as written (no `%` or
    // `_` wildcards to probe with), and a search by digits is itself recorded.
    const LOG: &str =
        "query($f: OperationLogFilter!) { operationLog(filter: $f) { kind target detail } }";
    let log = |filter: serde_json::Value| {
        let app = &app;
        async move {
            let response = app.graphql_as(AUDITOR, LOG, json!({ "f": filter })).await;
            data(&response)["operationLog"].as_array().unwrap().clone()
        }
    };
    crate::support::partners::eventually("the refusals above are logged", async || {
        !log(json!({})).await.is_empty()
    })
    .await;
    assert!(log(json!({ "target": "%" })).await.is_empty());
    assert!(log(json!({ "target": "_" })).await.is_empty());
    log(json!({ "target": "41010219850312" })).await;
    crate::support::partners::eventually("the search is recorded", async || {
        log(json!({ "kind": "PERSONAL_DATA_READ" }))
            .await
            .iter()
            .any(|entry| {
                entry["target"] == "search:41010219850312"
                    && entry["detail"] == "operationLog.filter.target"
            })
    })
    .await;
    app.stop().await;
}

/// A manager who tries a contract another manager's task holds learns that
/// it is taken, not the task's id; a manager refused on another's task is
/// not told whose it is. The holder's own manager is told the id.
async fn refusals_name_no_record_the_caller_may_not_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let task = create_task(&app, "HT-MASK-C").await;
    let mut input = task_input("HT-MASK-C");
    input["managerId"] = json!("M0002");
    let other = app
        .graphql_as(
            ("M0002", "ACCOUNT_MANAGER"),
            CREATE_TASK,
            json!({ "input": input }),
        )
        .await;
    assert_eq!(error_code(&other), "CONFLICT");
    let message = other["errors"][0]["message"].as_str().unwrap();
    assert!(
        !message.contains(&task),
        "the other manager's task id leaked: {message}"
    );
    assert!(message.contains("HT-MASK-C"), "{message}");
    let own = app
        .graphql(CREATE_TASK, json!({ "input": task_input("HT-MASK-C") }))
        .await;
    assert_eq!(error_code(&own), "CONFLICT");
    assert!(own["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains(&task));

    let cancel = app
        .graphql_as(
            ("M0002", "ACCOUNT_MANAGER"),
            r#"mutation($id: ID!) { cancelInterviewTask(id: $id, reason: "x") { taskId } }"#,
            json!({ "id": task }),
        )
        .await;
    assert_eq!(error_code(&cancel), "FORBIDDEN");
    let message = cancel["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("M0001"), "the owner was named: {message}");
    app.stop().await;
}

/// An auditor reads a work order's events with the customer's name and
/// phone masked, whatever the field is called in the payload.
async fn payloads_mask_every_field_of_a_person(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    const CREATE: &str = r#"mutation { createWorkOrder(input: { businessType: "YXD", customerName: "邓小闲", phone: "15618293093", caseNo: "CASE-P1" }) { id } }"#;
    let order = data(&app.graphql_as(("S1", "SEAT"), CREATE, json!({})).await)["createWorkOrder"]
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    let trail = app
        .graphql_as(
            AUDITOR,
            r#"query($id: String!) { auditTrail(aggregateType: "work-order", aggregateId: $id) { payload } }"#,
            json!({ "id": order }),
        )
        .await;
    let payloads = data(&trail)["auditTrail"].to_string();
    assert!(
        !payloads.contains("邓小闲") && !payloads.contains("15618293093"),
        "{payloads}"
    );
    assert!(
        payloads.contains("邓*闲") && payloads.contains("156****3093"),
        "{payloads}"
    );
    let state = app
        .graphql_as(
            AUDITOR,
            r#"query($id: String!) { aggregateAt(aggregateType: "work-order", aggregateId: $id, sequence: 1) { state } }"#,
            json!({ "id": order }),
        )
        .await;
    let state = data(&state)["aggregateAt"].to_string();
    assert!(
        !state.contains("邓小闲") && !state.contains("15618293093"),
        "{state}"
    );
    app.stop().await;
}
