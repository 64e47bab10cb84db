//! Secrets from mounted files (issue 34 item 6): every secret setting also
//! accepts `<NAME>_FILE`; the partners' shared secrets and the SMS gateway's
//! token rotate when their file changes, with the old one still accepted for
//! the stated overlap, and without a restart.

use std::time::Duration;

use serde_json::json;

use crate::support::partners::{envelope, eventually, partner_call};
use crate::support::{settings, Backend, TempDir, TestApp, TestDb};

const OLD_SECRET: &str = "rongshu-secret-old-0123456789";
const NEW_SECRET: &str = "rongshu-secret-new-0123456789";
const OLD_TOKEN: &str = "gateway-token-old-0123456789";
const NEW_TOKEN: &str = "gateway-token-new-0123456789";

/// The HTTP status of a partner's `banks` request signed with `secret`.
async fn banks_signed_with(app: &TestApp, secret: &str) -> u16 {
    let nonce = uuid::Uuid::now_v7().to_string();
    let now = chrono::Utc::now().timestamp_millis();
    let signed = envelope("banks", json!({}), &nonce, now, secret);
    partner_call(app, "banks", &signed).await.0
}

/// The HTTP status of a delivery report presenting `token` (for a message
/// nobody sent: 404 once the token is accepted, 401 before).
async fn report_with(app: &TestApp, token: &str) -> u16 {
    app.client
        .post(format!("{}/sms/reports", app.base))
        .bearer_auth(token)
        .json(&json!({ "messageId": "no-such-message", "status": "DELIVERED" }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_secrets_and_the_gateway_token_rotate_from_their_files_with_an_overlap() {
    let dir = TempDir::new();
    let partners_file = dir.path().join("partners");
    let token_file = dir.path().join("sms-token");
    let partners = |secret: &str| format!("RONGSHU={secret}@http://127.0.0.1:9/callbacks\n");
    std::fs::write(&partners_file, partners(OLD_SECRET)).unwrap();
    std::fs::write(&token_file, format!("{OLD_TOKEN}\n")).unwrap();
    let (partners_path, token_path) = (partners_file.clone(), token_file.clone());
    let app = TestApp::spawn_on(TestDb::new(Backend::Sqlite).await, move |url| {
        let mut settings = settings(url);
        let spec = workers::secrets::read_secret_file(&partners_path).unwrap();
        settings.partners = workers::partners::PartnerDirectory::parse(&spec).unwrap();
        settings.sms_gateway = Some(workers::sms::SmsGatewaySettings {
            url: "http://127.0.0.1:9/sms".into(),
            account: "YYZX-SMS".into(),
            token: secrecy::SecretString::from(OLD_TOKEN.to_string()).into(),
            signature: "原银在线".into(),
            max_attempts: 1,
            retry_base: chrono::Duration::seconds(1),
            max_age: chrono::Duration::hours(1),
        });
        settings.rotated_files.partners = Some(partners_path);
        settings.rotated_files.sms_gateway_token = Some(token_path);
        settings.rotated_files.overlap = Duration::from_secs(4);
        settings.rotated_files.interval = Duration::from_millis(100);
        settings
    })
    .await;
    assert_eq!(banks_signed_with(&app, OLD_SECRET).await, 200);
    assert_eq!(banks_signed_with(&app, NEW_SECRET).await, 401);
    assert_eq!(report_with(&app, OLD_TOKEN).await, 404);
    assert_eq!(report_with(&app, NEW_TOKEN).await, 401);

    // The files change: the new secrets count without a restart, and the
    // old ones still do during the overlap.
    std::fs::write(&partners_file, partners(NEW_SECRET)).unwrap();
    std::fs::write(&token_file, NEW_TOKEN).unwrap();
    eventually("the new secrets are read", async || {
        banks_signed_with(&app, NEW_SECRET).await == 200
            && report_with(&app, NEW_TOKEN).await == 404
    })
    .await;
    let rotated_at = std::time::Instant::now();
    assert_eq!(banks_signed_with(&app, OLD_SECRET).await, 200);
    assert_eq!(report_with(&app, OLD_TOKEN).await, 404);

    // A file that no longer parses keeps the secrets in force.
    std::fs::write(&partners_file, "RONGSHU=short@http://x").unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(banks_signed_with(&app, NEW_SECRET).await, 200);

    // After the overlap only the new ones count.
    tokio::time::sleep(
        Duration::from_secs(4).saturating_sub(rotated_at.elapsed()) + Duration::from_millis(200),
    )
    .await;
    assert_eq!(banks_signed_with(&app, OLD_SECRET).await, 401);
    assert_eq!(report_with(&app, OLD_TOKEN).await, 401);
    assert_eq!(banks_signed_with(&app, NEW_SECRET).await, 200);
    assert_eq!(report_with(&app, NEW_TOKEN).await, 404);
    app.stop().await;
}

/// A secret setting comes from its `_FILE` (here the development secret
/// `facesign token` signs with); given both ways, the command refuses.
#[test]
fn a_secret_setting_comes_from_its_file_and_not_from_both() {
    let dir = TempDir::new();
    let file = dir.path().join("jwt-secret");
    std::fs::write(&file, format!("{}\n", crate::support::TEST_JWT_SECRET)).unwrap();
    let minted = std::process::Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(["token", "--role", "SEAT", "--sub", "S1"])
        .env_remove("FACESIGN_JWT_SECRET")
        .env("FACESIGN_JWT_SECRET_FILE", &file)
        .output()
        .unwrap();
    assert_eq!(
        minted.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&minted.stderr)
    );
    let token = String::from_utf8(minted.stdout).unwrap();
    let keys = api::auth::JwtKeys::new(&secrecy::SecretString::from(
        crate::support::TEST_JWT_SECRET.to_string(),
    ));
    assert_eq!(keys.verify(token.trim()).unwrap().0, "S1");

    let both = std::process::Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(["token", "--role", "SEAT", "--sub", "S1"])
        .env("FACESIGN_JWT_SECRET", crate::support::TEST_JWT_SECRET)
        .env("FACESIGN_JWT_SECRET_FILE", &file)
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(1));
    assert!(both.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&both.stderr)
            .contains("set FACESIGN_JWT_SECRET or FACESIGN_JWT_SECRET_FILE, not both"),
        "{}",
        String::from_utf8_lossy(&both.stderr)
    );
}
