//! The published event contracts (issue 23 item 5): `docs/contracts/` is what
//! the engine would write now, and the suite's check of every recorded event
//! against them reads every event and finds a payload that breaks its schema.

use serde_json::json;

use crate::support::contracts::{check_log, contracts};
use crate::support::{create_task, on_both_backends, Backend, TestApp};

#[test]
fn published_contracts_are_current() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/contracts"));
    let stale = facesign::contracts::stale(dir);
    assert!(
        stale.is_empty(),
        "docs/contracts is stale ({}); run `cargo run -- contracts`",
        stale.join(", ")
    );
}

#[test]
fn the_contracts_command_writes_them_and_removes_what_is_no_longer_generated() {
    let dir = std::env::temp_dir().join(format!("facesign-contracts-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(dir.join("events/gone")).unwrap();
    std::fs::write(dir.join("events/gone/Retired.schema.json"), "{}").unwrap();
    let written = std::process::Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(["contracts", "--out"])
        .arg(&dir)
        .output()
        .expect("facesign runs");
    assert!(written.status.success(), "{written:?}");
    assert!(String::from_utf8_lossy(&written.stderr).contains("contract files written"));
    assert!(!dir.join("events/gone/Retired.schema.json").exists());
    assert_eq!(facesign::contracts::stale(&dir), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_asyncapi_document_names_every_topic_with_its_key_and_headers() {
    let files = workers::kafka::contract::contract_files();
    let (_, text) = files
        .iter()
        .find(|(path, _)| path == "asyncapi.json")
        .expect("asyncapi.json");
    let document: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(document["asyncapi"], "3.0.0");
    let addresses: Vec<&str> = document["channels"]
        .as_object()
        .unwrap()
        .values()
        .map(|channel| channel["address"].as_str().unwrap())
        .collect();
    for topic in [
        "facesign.interview-task.v1",
        "facesign.loan-application.v1",
        "facesign.seat-group.v1",
        "credit.decisions.v1",
        "credit.decisions.v1.dlq",
        "core.disbursements.v1",
        "core.repayments.v1.dlq",
    ] {
        assert!(addresses.contains(&topic), "{topic} missing");
    }
    let confirmed = &document["components"]["messages"]["interview-task.AppointmentConfirmed"];
    assert_eq!(confirmed["title"], "预约已确认 / Appointment confirmed");
    assert!(confirmed["bindings"]["kafka"]["key"].is_object());
    assert_eq!(
        confirmed["payload"]["allOf"][1]["properties"]["payload"]["$ref"],
        "./events/interview-task/AppointmentConfirmed.schema.json"
    );
    // Every referenced file is published beside it.
    for message in document["components"]["messages"]
        .as_object()
        .unwrap()
        .values()
    {
        let reference = message["payload"]["allOf"][1]["properties"]["payload"]["$ref"]
            .as_str()
            .or(message["payload"]["$ref"].as_str());
        if let Some(reference) = reference {
            let path = reference.trim_start_matches("./");
            assert!(files.iter().any(|(p, _)| p == path), "{path} not generated");
        }
    }
}

on_both_backends!(every_recorded_event_is_checked_and_a_broken_payload_is_found);

async fn every_recorded_event_is_checked_and_a_broken_payload_is_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_task(&app, "HT-CONTRACT-1").await;
    let recorded = app.event_count().await;
    assert!(recorded > 0);
    let (checked, violations) = check_log(&app.db.url);
    assert_eq!(checked as i64, recorded, "the check reads every event");
    assert_eq!(violations, Vec::<String>::new());

    let broken = contracts().payload_violations(
        "interview-task",
        "InterviewTaskCreated",
        &json!({ "InterviewTaskCreated": { "contract_no": 7 } }),
    );
    assert!(!broken.is_empty());
    let unknown = contracts().payload_violations("interview-task", "Invented", &json!({}));
    assert_eq!(
        unknown,
        vec!["no contract for interview-task/Invented".to_string()]
    );
}
