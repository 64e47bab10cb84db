//! The restore drill of docs/operations.md (issue 35 item 6): a Postgres
//! database dumped with `pg_dump`, restored with `pg_restore` into a new
//! database, passes `facesign replay --verify`, and a server started on the
//! copy reads what was written and goes on writing where the log left off.
//! Needs `pg_dump` and `pg_restore` (Debian's postgresql-client, beside the
//! server the suite needs) and fails, never skips, without them.

use std::process::Command;

use serde_json::json;

use crate::support::{
    create_task, data, facesign_cli, run_ok, settings, Backend, TempDir, TestApp, TestDb,
};

fn run(program: &str, args: &[&str]) {
    let mut command = Command::new(program);
    command.args(args);
    run_ok(
        command,
        &format!("{program} {args:?} (install postgresql-client)"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dump_restored_into_a_new_database_verifies_and_serves() {
    let app = TestApp::spawn(Backend::Postgres).await;
    for n in 0..3 {
        create_task(&app, &format!("HT-RESTORE-{n}")).await;
    }
    let events = app.event_count().await;
    let source = app.stop().await;

    // The backup: one consistent snapshot, taken while the server may run.
    let dir = TempDir::new();
    let dump = dir.path().join("facesign.dump");
    let dump_path = dump.to_str().unwrap();
    run(
        "pg_dump",
        &[
            "--format=custom",
            "--no-owner",
            "--file",
            dump_path,
            &source.url,
        ],
    );

    // The drill: restore into a new, empty database and verify it.
    let copy = TestDb::new(Backend::Postgres).await;
    run(
        "pg_restore",
        &[
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            &copy.url,
            dump_path,
        ],
    );
    let verified = facesign_cli(&["replay", "--verify"], &copy.url);
    assert!(
        verified.status.success(),
        "replay --verify on the restored copy: {}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(String::from_utf8_lossy(&verified.stderr).contains("every projection equals"));

    // A server on the copy reads what was written and writes on.
    let restored = TestApp::spawn_on(copy, settings).await;
    assert_eq!(restored.event_count().await, events);
    let board = restored
        .graphql_as(
            ("SV1", "SUPERVISOR"),
            "{ tasks(first: 10) { edges { node { contractNo } } } }",
            json!({}),
        )
        .await;
    let mut contracts: Vec<String> = data(&board)["tasks"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["contractNo"].as_str().unwrap().to_string())
        .collect();
    contracts.sort();
    assert_eq!(contracts, ["HT-RESTORE-0", "HT-RESTORE-1", "HT-RESTORE-2"]);
    create_task(&restored, "HT-RESTORE-3").await;
    assert!(restored.event_count().await > events);
    restored.stop().await;
}
