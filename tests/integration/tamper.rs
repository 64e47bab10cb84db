//! Tamper evidence of the log (issue 36 items 1 and 5, docs/evidence.md): on
//! both backends, a log written through the server and signed at its stop
//! verifies whole; then someone with write access to the database (the
//! append-only triggers dropped, as such a person could) changes one byte of
//! a payload, deletes an aggregate's last event, deletes a whole aggregate or
//! swaps two events, and `facesign log verify` exits 1 naming the aggregate
//! and the sequence. The key is made as an operator would, with openssl.

use std::sync::Arc;

use serde_json::json;
use sqlx::{Connection, PgConnection, SqliteConnection};

use crate::support::{
    create_task, data, on_both_backends, settings, Backend, TestApp, TestDb, CANCEL_TASK,
};

on_both_backends!(
    a_log_signed_at_the_stop_verifies_whole,
    one_changed_byte_of_a_payload_is_named,
    a_deleted_last_event_is_named,
    a_deleted_aggregate_is_named,
    two_swapped_events_are_named,
    events_stored_before_hashing_began_are_chained_from_their_content,
);

/// An Ed25519 key as `openssl genpkey -algorithm ed25519` writes it.
fn signing_key() -> String {
    let made = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519"])
        .output()
        .expect("openssl (Debian's openssl package) makes the key");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    String::from_utf8(made.stdout).unwrap()
}

fn signed_settings(url: &str, key: Arc<store::checkpoint::LogSigningKey>) -> facesign::Settings {
    let mut settings = settings(url);
    settings.log_signing_key = Some(key);
    settings
}

/// A log with three tasks, one of them cancelled (two events), written
/// through a server that signs a checkpoint when it stops; the database,
/// the key and the cancelled task's id.
async fn signed_log(backend: Backend) -> (TestDb, String, String) {
    let pem = signing_key();
    let key = Arc::new(store::checkpoint::LogSigningKey::from_pem(&pem).unwrap());
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_on(db, |url| signed_settings(url, key)).await;
    let tampered = create_task(&app, "HT-TAMPER-1").await;
    create_task(&app, "HT-TAMPER-2").await;
    create_task(&app, "HT-TAMPER-3").await;
    data(
        &app.graphql(CANCEL_TASK, json!({ "id": tampered, "reason": "合同重签" }))
            .await,
    );
    (app.stop().await, pem, tampered)
}

/// `facesign log verify` on `url` with the key's public half: its exit code
/// and what it said.
fn log_verify(url: &str, pem: &str) -> (Option<i32>, String) {
    let verified = std::process::Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(["log", "verify"])
        .env("FACESIGN_DATABASE_URL", url)
        .env("FACESIGN_LOG_SIGNING_KEY", pem)
        .output()
        .unwrap();
    (
        verified.status.code(),
        String::from_utf8_lossy(&verified.stderr).to_string(),
    )
}

/// Runs `statements` with the append-only guards out of the way (on
/// Postgres only for them: the envelope trigger the server needs is back on
/// afterwards).
async fn tamper(db: &TestDb, statements: &[String]) {
    match db.url.starts_with("postgres") {
        true => {
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            sqlx::query("ALTER TABLE events DISABLE TRIGGER USER")
                .execute(&mut conn)
                .await
                .unwrap();
            for statement in statements {
                sqlx::query(statement).execute(&mut conn).await.unwrap();
            }
            sqlx::query("ALTER TABLE events ENABLE TRIGGER USER")
                .execute(&mut conn)
                .await
                .unwrap();
        }
        false => {
            let mut conn = SqliteConnection::connect(&db.url).await.unwrap();
            for guard in ["events_append_only_update", "events_append_only_delete"] {
                sqlx::query(&format!("DROP TRIGGER IF EXISTS {guard}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            for statement in statements {
                sqlx::query(statement).execute(&mut conn).await.unwrap();
            }
        }
    }
}

fn assert_named(db: &TestDb, pem: &str, expected: &[&str]) {
    let (code, said) = log_verify(&db.url, pem);
    assert_eq!(code, Some(1), "{said}");
    let first = said
        .lines()
        .find(|line| line.starts_with("TAMPERED "))
        .unwrap_or_else(|| panic!("no failure named: {said}"));
    for part in expected {
        assert!(
            first.contains(part),
            "{part:?} not in the first failure: {said}"
        );
    }
}

async fn a_log_signed_at_the_stop_verifies_whole(backend: Backend) {
    let (db, pem, _) = signed_log(backend).await;
    let (code, said) = log_verify(&db.url, &pem);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("the log is as written"), "{said}");
    assert!(!said.contains(" 0 signed checkpoints"), "{said}");

    // Another key's public half does not verify the checkpoints.
    let (code, said) = log_verify(&db.url, &signing_key());
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("which is not among the keys given"), "{said}");
}

async fn one_changed_byte_of_a_payload_is_named(backend: Backend) {
    let (db, pem, task) = signed_log(backend).await;
    let payload = match backend {
        Backend::Postgres => "replace(payload::text, 'HT-TAMPER-1', 'HT-TAMPER-7')::jsonb",
        Backend::Sqlite => "replace(payload, 'HT-TAMPER-1', 'HT-TAMPER-7')",
    };
    tamper(
        &db,
        &[format!(
            "UPDATE events SET payload = {payload} WHERE aggregate_id = '{task}' AND sequence = 1"
        )],
    )
    .await;
    assert_named(&db, &pem, &[&task, "sequence 1 was altered"]);
}

async fn a_deleted_last_event_is_named(backend: Backend) {
    let (db, pem, task) = signed_log(backend).await;
    tamper(
        &db,
        &[format!(
            "DELETE FROM events WHERE aggregate_id = '{task}' AND sequence =
               (SELECT max(sequence) FROM events WHERE aggregate_id = '{task}')"
        )],
    )
    .await;
    assert_named(
        &db,
        &pem,
        &[&task, "is missing: checkpoint", "covers it up to"],
    );
}

async fn a_deleted_aggregate_is_named(backend: Backend) {
    let (db, pem, task) = signed_log(backend).await;
    tamper(
        &db,
        &[format!("DELETE FROM events WHERE aggregate_id = '{task}'")],
    )
    .await;
    assert_named(
        &db,
        &pem,
        &[&task, "removed from the log", "covers it up to sequence"],
    );
}

async fn two_swapped_events_are_named(backend: Backend) {
    let (db, pem, task) = signed_log(backend).await;
    let one = format!("aggregate_id = '{task}'");
    tamper(
        &db,
        &[
            format!("UPDATE events SET sequence = 1000 WHERE {one} AND sequence = 1"),
            format!("UPDATE events SET sequence = 1 WHERE {one} AND sequence = 2"),
            format!("UPDATE events SET sequence = 2 WHERE {one} AND sequence = 1000"),
        ],
    )
    .await;
    assert_named(
        &db,
        &pem,
        &[&task, "sequence 1 was altered, inserted or moved"],
    );
}

async fn events_stored_before_hashing_began_are_chained_from_their_content(backend: Backend) {
    let pem = signing_key();
    let key = Arc::new(store::checkpoint::LogSigningKey::from_pem(&pem).unwrap());
    let app = TestApp::spawn(backend).await;
    let task = create_task(&app, "HT-LEGACY-1").await;
    // Without a key nothing is signed, and no public key is offered.
    assert_eq!(app.get("/log/public-key").await.status(), 404);
    let db = app.stop().await;
    // As a database migrated from before 0033 holds them: no stored hash.
    tamper(&db, &["UPDATE events SET hash = NULL".to_string()]).await;
    let app = TestApp::spawn_on(db, |url| signed_settings(url, key.clone())).await;
    // The public half is published for auditors, as PEM.
    let published = app.get("/log/public-key").await;
    assert_eq!(published.status(), 200);
    let published = published.text().await.unwrap();
    assert_eq!(
        store::checkpoint::LogPublicKey::from_pem(&published).unwrap(),
        key.public_key()
    );
    data(
        &app.graphql(CANCEL_TASK, json!({ "id": task, "reason": "合同重签" }))
            .await,
    );
    let db = app.stop().await;
    let (code, said) = log_verify(&db.url, &pem);
    assert_eq!(code, Some(0), "{said}");
    assert!(!said.contains(" 0 signed checkpoints"), "{said}");

    // The chain through the old events still catches a change to them.
    let payload = match backend {
        Backend::Postgres => "replace(payload::text, 'HT-LEGACY-1', 'HT-LEGACY-7')::jsonb",
        Backend::Sqlite => "replace(payload, 'HT-LEGACY-1', 'HT-LEGACY-7')",
    };
    tamper(
        &db,
        &[format!(
            "UPDATE events SET payload = {payload} WHERE aggregate_id = '{task}' AND sequence = 1"
        )],
    )
    .await;
    assert_named(&db, &pem, &[&task, "differ from what checkpoint"]);
}
