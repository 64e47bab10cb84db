//! The partner gateway's door (issue 31, docs/partners.md): a signature covers
//! its operation, so a body signed for one operation is refused at another;
//! the old form is accepted only until its configured day; forged requests
//! are rate limited per address before anything is verified and leave a
//! bounded, unverified trace — never their own text, never a real partner's
//! name as the actor; a verified partner has its own rate; control characters
//! in the business content are refused. On both backends (the operation log
//! and the nonces are stored).

use serde_json::{json, Value};

use crate::support::on_both_backends;
use crate::support::partners::{envelope, partner_call, SECRET};
use crate::support::{settings, Backend, TestApp, TestDb};

on_both_backends!(
    a_signature_covers_its_operation,
    forged_floods_are_limited_and_leave_a_bounded_unverified_trace,
    a_verified_partner_has_its_own_rate_and_clean_text
);

/// The gateway of partner RONGSHU, with `adjust` applied to the settings.
async fn gateway(
    backend: Backend,
    adjust: impl FnOnce(&mut facesign::Settings) + Send + 'static,
) -> TestApp {
    TestApp::spawn_on(TestDb::new(backend).await, move |url| {
        let mut settings = settings(url);
        settings.partners = workers::partners::PartnerDirectory::parse(&format!(
            "RONGSHU={SECRET}@http://127.0.0.1:9/cb"
        ))
        .unwrap();
        adjust(&mut settings);
        settings
    })
    .await
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn nonce() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The old envelope: the four parameters signed without the operation.
fn legacy_envelope(biz: Value) -> Value {
    let (biz, timestamp, nonce) = (biz.to_string(), now_ms().to_string(), nonce());
    let sign = domain::partner_order::signature::sign(
        [
            ("bizContent", biz.as_str()),
            ("nonce", nonce.as_str()),
            ("partner", "RONGSHU"),
            ("timestamp", timestamp.as_str()),
        ],
        SECRET,
    );
    json!({ "partner": "RONGSHU", "timestamp": timestamp, "nonce": nonce, "bizContent": biz, "sign": sign })
}

/// The operation log's rows, read from the database after the server stopped
/// (a stop stores the unverified tallies).
async fn operation_log(db: &TestDb) -> Vec<(String, String, String, String, String)> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let rows = sqlx::query_as(
        "SELECT actor_id, actor_role, operation, target, detail FROM operation_log ORDER BY entry_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows
}

/// A body signed for `loan-trial` posted to `audit-result` is refused; the
/// old signature is accepted only while FACESIGN_PARTNER_LEGACY_SIGNATURE_UNTIL
/// has not passed.
async fn a_signature_covers_its_operation(backend: Backend) {
    let app = gateway(backend, |_| {}).await;
    let push = json!({ "orderNo": "RS-G1", "name": "王建国", "idNumber": "310115199001013035", "phone": "13600001111" });
    let (status, body) = partner_call(
        &app,
        "orders",
        &envelope("orders", push, &nonce(), now_ms(), SECRET),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let for_trial = envelope(
        "loan-trial",
        json!({ "orderNo": "RS-G1" }),
        &nonce(),
        now_ms(),
        SECRET,
    );
    let (status, body) = partner_call(&app, "audit-result", &for_trial).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("UNAUTHENTICATED")),
        "{body}"
    );
    let (status, body) = partner_call(&app, "loan-trial", &for_trial).await;
    assert_ne!(
        status, 401,
        "where it was signed for, the signature holds: {body}"
    );
    let (status, _) = partner_call(
        &app,
        "audit-result",
        &legacy_envelope(json!({ "orderNo": "RS-G1" })),
    )
    .await;
    assert_eq!(
        status, 401,
        "no transition configured: the old form is refused"
    );
    app.stop().await;

    let tomorrow = chrono::Utc::now().date_naive() + chrono::Duration::days(1);
    let app = gateway(backend, move |s| {
        s.partner_legacy_signature_until = Some(tomorrow)
    })
    .await;
    let push = json!({ "orderNo": "RS-G2", "name": "王建国", "idNumber": "310115199001013035", "phone": "13600001111" });
    let (status, body) = partner_call(&app, "orders", &legacy_envelope(push)).await;
    assert_eq!(
        status, 200,
        "within the transition the old form holds: {body}"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("facesign_partner_legacy_signatures_total{partner=\"RONGSHU\"} 1"),
        "counted, so operators see who still signs the old way"
    );
    app.stop().await;

    let yesterday = chrono::Utc::now().date_naive() - chrono::Duration::days(2);
    let app = gateway(backend, move |s| {
        s.partner_legacy_signature_until = Some(yesterday)
    })
    .await;
    let (status, _) = partner_call(
        &app,
        "audit-result",
        &legacy_envelope(json!({ "orderNo": "RS-G2" })),
    )
    .await;
    assert_eq!(status, 401, "after its day the old form is refused");
    app.stop().await;
}

/// 2,000 forged requests — a real partner's code with a wrong signature, a
/// claimed partner of 60,000 characters, an unknown operation — are mostly
/// refused 429 before verification; what reaches the operation log is a
/// handful of unverified tallies that carry none of the requests' text and
/// never name RONGSHU as the actor.
async fn forged_floods_are_limited_and_leave_a_bounded_unverified_trace(backend: Backend) {
    let app = gateway(backend, |s| s.partner_rate_per_address = 10).await;
    let huge = "X".repeat(60_000);
    let forged_real = envelope(
        "orders",
        json!({ "orderNo": "F" }),
        "n",
        now_ms(),
        "not-the-secret-00000000",
    );
    let mut forged_huge = forged_real.clone();
    forged_huge["partner"] = json!(huge);
    let (mut limited, mut unauthenticated, mut not_found) = (0, 0, 0);
    for n in 0..2_000 {
        let (operation, body) = match n % 3 {
            0 => ("orders", &forged_real),
            1 => ("orders", &forged_huge),
            _ => ("no-such-operation", &forged_real),
        };
        match partner_call(&app, operation, body).await.0 {
            429 => limited += 1,
            401 => unauthenticated += 1,
            404 => not_found += 1,
            other => panic!("a forged request answered {other}"),
        }
    }
    assert!(
        limited >= 1_800,
        "{limited} limited, {unauthenticated} refused, {not_found} unknown"
    );
    assert!(unauthenticated > 0 && not_found > 0);
    let db = app.stop().await;
    let rows = operation_log(&db).await;
    assert!(
        !rows.is_empty() && rows.len() <= 4,
        "one tally per kind of refusal, not one row per request: {rows:?}"
    );
    for (actor, role, operation, target, detail) in &rows {
        assert_eq!(
            (actor.as_str(), role.as_str()),
            ("unverified", "UNVERIFIED")
        );
        assert!(
            ["partner/orders", "partner/unknown"].contains(&operation.as_str()),
            "{operation}"
        );
        assert!(target.is_empty() || target == "claimed=RONGSHU", "{target}");
        assert!(!detail.contains("XXXX") && detail.len() < 600, "{detail}");
        assert!(
            detail.contains("127.0.0.1"),
            "the address is named: {detail}"
        );
    }
    assert!(
        rows.iter()
            .any(|(_, _, _, target, _)| target == "claimed=RONGSHU"),
        "a forgery under a real partner's code is filed as a claim, not as the partner"
    );
}

/// A verified partner is held to its own rate; control characters in its
/// business content are refused (VALIDATION) and change nothing.
async fn a_verified_partner_has_its_own_rate_and_clean_text(backend: Backend) {
    let app = gateway(backend, |s| s.partner_rate_per_partner = 3).await;
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let call = envelope("banks", json!({}), &nonce(), now_ms(), SECRET);
        statuses.push(partner_call(&app, "banks", &call).await.0);
    }
    assert!(
        statuses.contains(&200) && statuses.contains(&429),
        "{statuses:?}"
    );
    // A request refused for the partner's rate kept its nonce: sent again as
    // it is once the rate allows, it goes through; replays of it are refused
    // without spending the partner's rate.
    let banks = || envelope("banks", json!({}), &nonce(), now_ms(), SECRET);
    let mut refused = None;
    for _ in 0..20 {
        let call = banks();
        if partner_call(&app, "banks", &call).await.0 == 429 {
            refused = Some(call);
            break;
        }
    }
    let refused = refused.expect("the partner's allowance runs out");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        partner_call(&app, "banks", &refused).await.0,
        200,
        "the same request, later"
    );
    for _ in 0..10 {
        assert_eq!(partner_call(&app, "banks", &refused).await.0, 401);
    }
    assert_eq!(
        partner_call(&app, "banks", &banks()).await.0,
        200,
        "the replays spent nothing of the partner's rate"
    );
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let push = json!({ "orderNo": "RS-NUL", "name": "王\u{0}国", "idNumber": "310115199001013035", "phone": "13600001111" });
    let (status, body) = partner_call(
        &app,
        "orders",
        &envelope("orders", push, &nonce(), now_ms(), SECRET),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("VALIDATION")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("bizContent.name"),
        "{body}"
    );
    let (status, _) = partner_call(
        &app,
        "audit-result",
        &envelope(
            "audit-result",
            json!({ "orderNo": "RS-NUL" }),
            &nonce(),
            now_ms(),
            SECRET,
        ),
    )
    .await;
    assert_eq!(status, 404, "the order was never pushed");
    app.stop().await;
}
