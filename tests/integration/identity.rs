//! Identities from the bank's OpenID Connect provider (issue 34 items 1–2),
//! against a real provider process (`support::identity`): people log in
//! through the authorization code flow with PKCE, bank systems through client
//! credentials; tokens are verified with the provider's published keys, and
//! shared-secret tokens are refused once an issuer is configured.

use std::time::Duration;

use api::identity::OidcSettings;
use base64::Engine;
use serde_json::{json, Value};

use crate::support::identity::IdentityProvider;
use crate::support::{settings, task_input, token, Backend, TestApp, TestDb, CREATE_TASK};

fn oidc(issuer: &str) -> OidcSettings {
    crate::support::identity::bank_oidc(issuer)
}

async fn spawn(idp: &IdentityProvider) -> TestApp {
    let db = TestDb::new(Backend::Sqlite).await;
    let issuer = idp.issuer.clone();
    TestApp::spawn_on(db, move |url| {
        let mut settings = settings(url);
        settings.oidc = Some(oidc(&issuer));
        settings
    })
    .await
}

/// The error code and message of a GraphQL answer, or None when it has no error.
fn refusal(body: &Value) -> Option<(String, String)> {
    let error = body["errors"].get(0)?;
    Some((
        error["extensions"]["code"].as_str()?.to_string(),
        error["message"].as_str()?.to_string(),
    ))
}

async fn create(app: &TestApp, token: &str, contract_no: &str) -> Value {
    let variables = json!({ "input": task_input(contract_no) });
    send(app, token, None, CREATE_TASK, variables).await
}

async fn ask(app: &TestApp, token: &str, role: Option<&str>, query: &str) -> Value {
    send(app, token, role, query, json!({})).await
}

/// A GraphQL request with `token`, in English, acting in `role` when given.
async fn send(
    app: &TestApp,
    token: &str,
    role: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .header("accept-language", "en")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(role) = role {
        request = request.header("x-facesign-role", role);
    }
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_and_bank_systems_act_on_the_identity_provider_s_word() {
    let idp = IdentityProvider::start(json!({ "sneaky1": ["CREDIT_SYSTEM", "ACCOUNT_MANAGER"] }));
    let app = spawn(&idp).await;

    // A bank system: client credentials; its role comes from its client id,
    // and its events name the client.
    let credit = idp.client_token("credit-system", "urn:facesign").await;
    let created = create(&app, &credit, "HT-OIDC-1").await;
    assert_eq!(refusal(&created), None, "{created}");
    let id = created["data"]["createInterviewTask"]["taskId"]
        .as_str()
        .unwrap();
    let database = store::Database::connect(&app.db.url, 2).await.unwrap();
    let events = store::GlobalLog::new(database.store().clone())
        .stream("interview-task", id)
        .await
        .unwrap();
    assert_eq!(events[0].metadata.actor_id, "credit-system");
    assert_eq!(events[0].metadata.actor_role, "CREDIT_SYSTEM");
    // ES256 keys verify as RS256 ones do.
    let es256 = idp
        .client_token("credit-system", "urn:facesign:es256")
        .await;
    assert_eq!(refusal(&create(&app, &es256, "HT-OIDC-2").await), None);

    // A person: the authorization code flow with PKCE through the login page.
    let admin = idp.login("admin1").await;
    let seats = ask(&app, &admin, None, "{ seats { seatNo } }").await;
    assert_eq!(refusal(&seats), None, "{seats}");

    // Refused, each with its reason: a shared-secret token once an issuer is
    // set, a token for another audience, a client the bank did not name.
    let cases = [
        (
            token("M0001", "ACCOUNT_MANAGER"),
            "the bearer token is invalid or expired",
        ),
        (
            idp.client_token("credit-system", "urn:other").await,
            "the bearer token is invalid or expired",
        ),
        (
            idp.client_token("no-roles-service", "urn:facesign").await,
            "the bearer token names an unknown role",
        ),
    ];
    for (refused, why) in cases {
        let answer = create(&app, &refused, "HT-OIDC-X").await;
        assert_eq!(
            refusal(&answer),
            Some(("UNAUTHENTICATED".into(), why.into())),
            "{answer}"
        );
    }

    // A person's claims never make them a bank system: only the role a
    // person may hold is taken, so no credit decision enters on their word.
    let sneaky = idp.login("sneaky1").await;
    let answer = ask(&app, &sneaky, None, "{ seats { seatNo } }").await;
    assert_eq!(refusal(&answer), None, "{answer}");
    let as_system = ask(&app, &sneaky, Some("CREDIT_SYSTEM"), "{ seats { seatNo } }").await;
    assert_eq!(
        refusal(&as_system),
        Some((
            "UNAUTHENTICATED".into(),
            "the bearer token does not grant the role chosen in X-Facesign-Role".into()
        ))
    );

    // Several roles: the request chooses one of them.
    let multi = idp.login("multi1").await;
    let unchosen = ask(&app, &multi, None, "{ seats { seatNo } }").await;
    assert_eq!(
        refusal(&unchosen),
        Some((
            "UNAUTHENTICATED".into(),
            "the bearer token grants several roles (SEAT, SUPERVISOR); choose one with the X-Facesign-Role header".into()
        ))
    );
    let chosen = ask(&app, &multi, Some("SUPERVISOR"), "{ seats { seatNo } }").await;
    assert_eq!(refusal(&chosen), None, "{chosen}");

    // The algorithm is the key's: a token naming the provider's RSA key but
    // claiming HS256 (signed with a guessable secret) is refused.
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(credit.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: header["kid"].as_str().map(String::from),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
        },
        &json!({ "sub": "credit-system", "client_id": "credit-system", "iss": idp.issuer,
                 "aud": "facesign", "iat": chrono::Utc::now().timestamp(),
                 "exp": chrono::Utc::now().timestamp() + 60 }),
        &jsonwebtoken::EncodingKey::from_secret(b"public"),
    )
    .unwrap();
    assert_eq!(
        refusal(&create(&app, &forged, "HT-OIDC-F").await).map(|(code, _)| code),
        Some("UNAUTHENTICATED".into())
    );
    app.stop().await;
}

/// Issue 34 items 4 and 5: configuration changes, and reads that show
/// people's data in clear, need a multi-factor login (a refusal says so, for
/// the console to send the caller back to the provider); a configuration
/// change is proposed by one admin and takes effect only when a second
/// approves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_changes_need_two_admins_each_with_a_second_factor() {
    let idp = IdentityProvider::start(json!({ "admin2": ["ADMIN"] }));
    let app = spawn(&idp).await;
    let create_group =
        r#"mutation { createSeatGroup(code: "MFA", input: { name: "MFA" }) { code } }"#;
    let propose = |document: &str| {
        format!(
            "mutation {{ proposeChange(document: {}) {{ id status operation proposedBy }} }}",
            serde_json::to_string(document).unwrap()
        )
    };
    let approve = |id: &str| {
        format!(r#"mutation {{ approveChange(id: "{id}") {{ status approvedBy failure }} }}"#)
    };

    // One factor: refused, saying a second is needed.
    let one_factor = idp.login("admin1").await;
    let refused = ask(&app, &one_factor, None, &propose(create_group)).await;
    assert_eq!(
        refusal(&refused),
        Some((
            "FORBIDDEN".into(),
            "Mutation.proposeChange needs a multi-factor login; sign in again with a second factor"
                .into()
        )),
        "{refused}"
    );
    assert_eq!(
        refused["errors"][0]["extensions"]["reason"],
        "STEP_UP_REQUIRED"
    );
    // Reading what shows nobody's data needs no second factor.
    assert_eq!(
        refusal(&ask(&app, &one_factor, None, "{ seats { seatNo } }").await),
        None
    );

    // Two factors, but one admin: the change is not made directly, and its
    // proposer cannot approve it.
    let maker = idp.login("admin1+mfa").await;
    let direct = ask(&app, &maker, None, create_group).await;
    assert_eq!(
        direct["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{direct}"
    );
    assert_eq!(direct["errors"][0]["extensions"]["reason"], "FOUR_EYES");
    let proposed = ask(&app, &maker, None, &propose(create_group)).await;
    assert_eq!(refusal(&proposed), None, "{proposed}");
    let proposal = &proposed["data"]["proposeChange"];
    assert_eq!(proposal["status"], "PROPOSED");
    assert_eq!(proposal["operation"], "Mutation.createSeatGroup");
    assert_eq!(proposal["proposedBy"], "admin1");
    let id = proposal["id"].as_str().unwrap().to_string();
    let own = ask(&app, &maker, None, &approve(&id)).await;
    assert_eq!(
        refusal(&own),
        Some((
            "FORBIDDEN".into(),
            "the proposer cannot approve their own change; a second admin approves it (four eyes)"
                .into()
        ))
    );
    let groups = "{ seatGroups { code } }";
    assert_eq!(
        ask(&app, &maker, None, groups).await["data"]["seatGroups"],
        json!([])
    );

    // A second admin with a second factor approves: the change runs, as theirs.
    let checker_one_factor = idp.login("admin2").await;
    let refused = ask(&app, &checker_one_factor, None, &approve(&id)).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["reason"],
        "STEP_UP_REQUIRED"
    );
    let checker = idp.login("admin2+mfa").await;
    let approved = ask(&app, &checker, None, &approve(&id)).await;
    assert_eq!(refusal(&approved), None, "{approved}");
    assert_eq!(approved["data"]["approveChange"]["status"], "APPLIED");
    assert_eq!(approved["data"]["approveChange"]["approvedBy"], "admin2");
    assert_eq!(
        ask(&app, &maker, None, groups).await["data"]["seatGroups"],
        json!([{ "code": "MFA" }])
    );
    let database = store::Database::connect(&app.db.url, 2).await.unwrap();
    let log = store::GlobalLog::new(database.store().clone());
    let steps: Vec<(String, String)> = log
        .stream("change-proposal", &id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event_type, e.metadata.actor_id))
        .collect();
    assert_eq!(
        steps,
        [
            ("ChangeProposed".to_string(), "admin1".to_string()),
            ("ChangeApproved".to_string(), "admin2".to_string()),
            ("ChangeApplied".to_string(), "admin2".to_string()),
        ]
    );
    let group = log.stream("seat-group", "MFA").await.unwrap();
    assert_eq!(group[0].metadata.actor_id, "admin2");

    // A change the configuration no longer allows fails when approved, and
    // changes nothing; a proposal is withdrawn by its proposer only.
    let again = ask(&app, &maker, None, &propose(create_group)).await;
    let again = again["data"]["proposeChange"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let failed = ask(&app, &checker, None, &approve(&again)).await;
    assert_eq!(
        failed["data"]["approveChange"]["status"], "FAILED",
        "{failed}"
    );
    assert!(failed["data"]["approveChange"]["failure"]
        .as_str()
        .unwrap()
        .starts_with("CONFLICT: "));
    let third = ask(
        &app,
        &maker,
        None,
        &propose(r#"mutation { deleteSeatGroup(code: "MFA") }"#),
    )
    .await;
    assert_eq!(refusal(&third), None, "{third}");
    let third = third["data"]["proposeChange"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let withdraw =
        |id: &str| format!(r#"mutation {{ withdrawChange(id: "{id}") {{ status withdrawnBy }} }}"#);
    let not_theirs = ask(&app, &checker, None, &withdraw(&third)).await;
    assert_eq!(not_theirs["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let withdrawn = ask(&app, &maker, None, &withdraw(&third)).await;
    assert_eq!(
        withdrawn["data"]["withdrawChange"]["status"], "WITHDRAWN",
        "{withdrawn}"
    );
    let late = ask(&app, &checker, None, &approve(&third)).await;
    assert_eq!(
        late["errors"][0]["extensions"]["code"],
        "INVALID_TRANSITION"
    );
    // A proposal is bounded as a request is, before it is parsed.
    let huge = format!(
        "mutation {{ createSeatGroup(code: \"H\", input: {{ name: \"{}\" }}) {{ code }} }}",
        "a".repeat(20_000)
    );
    let refused = ask(&app, &maker, None, &propose(&huge)).await;
    assert_eq!(
        refusal(&refused),
        Some((
            "VALIDATION".into(),
            "a proposed change is at most 16384 bytes".into()
        ))
    );
    // Something else than one configuration mutation is not a proposal.
    let not_config = ask(
        &app,
        &maker,
        None,
        &propose("mutation { signOut(seatNo: \"S1\") { seatNo } }"),
    )
    .await;
    assert_eq!(
        not_config["errors"][0]["extensions"]["code"], "VALIDATION",
        "{not_config}"
    );

    // Both steps are in the operation log under their actors.
    let listed = ask(&app, &checker, None, "{ changeProposals { id status } }").await;
    assert_eq!(
        listed["data"]["changeProposals"].as_array().unwrap().len(),
        3,
        "{listed}"
    );
    database.close().await;
    let db = app.stop().await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor_id, operation FROM operation_log WHERE kind = 'CONFIGURATION_CHANGE' ORDER BY entry_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    for (actor, step) in [
        ("admin1", "proposeChange"),
        ("admin2", "approveChange"),
        ("admin2", "changeApplied"),
        ("admin1", "withdrawChange"),
    ] {
        assert!(
            rows.contains(&(actor.to_string(), step.to_string())),
            "{step} by {actor} is not in the operation log: {rows:?}"
        );
    }

    // A seat sees the people it serves in clear: its task list needs MFA too.
    let app = spawn(&idp).await;
    let board = "{ tasks(first: 5) { edges { node { id } } } }";
    for (login, reason) in [
        ("seat1", json!("STEP_UP_REQUIRED")),
        ("seat1+mfa", Value::Null),
    ] {
        let tasks = ask(&app, &idp.login(login).await, None, board).await;
        assert_eq!(
            tasks["errors"][0]["extensions"]["reason"], reason,
            "{login}: {tasks}"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_without_a_restart_and_a_withdrawn_one_refused() {
    let idp = IdentityProvider::start(json!({}));
    let app = spawn(&idp).await;
    let before = idp.client_token("credit-system", "urn:facesign").await;
    assert_eq!(refusal(&create(&app, &before, "HT-ROT-1").await), None);

    idp.rotate_keys().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = idp.client_token("credit-system", "urn:facesign").await;
    assert_eq!(refusal(&create(&app, &after, "HT-ROT-2").await), None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        refusal(&create(&app, &before, "HT-ROT-3").await),
        Some((
            "UNAUTHENTICATED".into(),
            "the bearer token is signed with a key the identity provider does not publish".into()
        ))
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_issuer_stops_the_start_and_nobody_mints_tokens_beside_the_provider() {
    let idp = IdentityProvider::start(json!({}));
    let db = TestDb::new(Backend::Sqlite).await;
    let mut wrong = settings(&db.url);
    wrong.oidc = Some(oidc(&format!("{}/elsewhere", idp.issuer)));
    let refused = facesign::serve(&wrong).await;
    assert!(refused.is_err(), "a server started on a wrong issuer");

    let minted = std::process::Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(["token", "--role", "ADMIN", "--sub", "A1"])
        .env("FACESIGN_OIDC_ISSUER", &idp.issuer)
        .output()
        .unwrap();
    assert_eq!(minted.status.code(), Some(1));
    assert!(minted.stdout.is_empty());
    assert!(String::from_utf8_lossy(&minted.stderr).contains("FACESIGN_OIDC_ISSUER is set"));
}

async fn spawn_console(backend: Backend, idp: &IdentityProvider, port: u16) -> TestApp {
    let issuer = idp.issuer.clone();
    TestApp::spawn_on(TestDb::new(backend).await, move |url| {
        crate::support::identity::console_settings(url, &issuer, port)
    })
    .await
}

/// What `/auth/session` of the server at `base` tells `client`.
async fn session_info(client: &reqwest::Client, base: &str) -> Value {
    let answer = client.get(format!("{base}/auth/session")).send().await;
    answer.unwrap().json().await.unwrap()
}

/// The value and attributes of the cookie `name` a response sets.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// A GraphQL request sending the session cookie `cookie`, and `csrf` when given.
async fn with_cookie(app: &TestApp, cookie: &str, csrf: Option<&str>, query: &str) -> Value {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("cookie", format!("facesign-session={cookie}"))
        .header("accept-language", "en")
        .json(&json!({ "query": query }));
    if let Some(csrf) = csrf {
        request = request.header("x-facesign-csrf", csrf);
    }
    request.send().await.unwrap().json().await.unwrap()
}

/// What a socket sending the session cookie `cookie` is told after a
/// `connection_init` with `payload`: its first message, or `{"close": code}`.
async fn socket_answer(base: &str, cookie: &str, payload: Value) -> Value {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;
    let mut request = format!("{}/graphql/ws", base.replace("http", "ws"))
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    headers.insert(
        "cookie",
        format!("facesign-session={cookie}").parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": payload });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str(&text).unwrap(),
        Ok(Some(Ok(Message::Close(frame)))) => {
            json!({ "close": frame.map(|f| u16::from(f.code)) })
        }
        other => panic!("no answer from the socket: {other:?}"),
    }
}

/// Issue 34 item 3, without a browser: the console's sign-in runs the code
/// flow with PKCE on the server, gives the browser an HttpOnly SameSite
/// cookie and keeps the tokens sealed in the database; a cookie counts only
/// with its CSRF token, a callback only once and only in the browser that
/// started it; an expiring token is refreshed behind the session; logout
/// ends the session here and sends the browser to end the provider's.
async fn the_console_signs_in_through_the_provider(backend: Backend) {
    let port = crate::support::identity::free_port();
    let base = format!("http://127.0.0.1:{port}");
    // Tokens live 32 s: 2 s after sign-in they are due for a refresh.
    let idp = IdentityProvider::start_for_console(json!({}), &base, 32);
    let app = spawn_console(backend, &idp, port).await;
    let browser = crate::support::identity::browser();

    let signed_out = session_info(&browser, &base).await;
    assert_eq!(signed_out, json!({ "mode": "provider", "signedIn": false }));

    // The sign-in starts here and goes to the provider with PKCE and a nonce.
    let started = browser
        .get(format!("{base}/auth/login?return=%23%2Fadmin"))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303);
    let binding =
        set_cookie(&started, "facesign-sign-in").expect("the sign-in is bound to the browser");
    assert!(
        binding.contains("HttpOnly") && binding.contains("SameSite=Lax"),
        "{binding}"
    );
    let to_provider = reqwest::Url::parse(&crate::support::identity::location(&started)).unwrap();
    assert!(
        to_provider.as_str().starts_with(&idp.issuer),
        "{to_provider}"
    );
    let param = |name: &str| {
        to_provider
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
    };
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param("client_id").as_deref(), Some("facesign-console"));
    assert!(param("nonce").is_some() && param("state").is_some());
    assert_eq!(param("client_secret"), None);
    assert_eq!(param("redirect_uri"), Some(format!("{base}/auth/callback")));

    let interaction =
        crate::support::identity::location(&browser.get(to_provider.clone()).send().await.unwrap());
    let callback = idp.sign_in_at(&browser, &interaction, "admin1").await;
    assert!(
        callback.starts_with(&format!("{base}/auth/callback?")),
        "{callback}"
    );

    // The callback of another browser (no binding cookie) is refused and
    // does not spend the sign-in.
    let elsewhere = app.client.get(&callback).send().await.unwrap();
    assert_eq!(elsewhere.status(), 400);
    let landed = browser.get(&callback).send().await.unwrap();
    assert_eq!(landed.status(), 303);
    assert_eq!(
        crate::support::identity::location(&landed),
        "/console/#/admin"
    );
    let cookie = set_cookie(&landed, "facesign-session").expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    // Plain HTTP on this machine only: not Secure (a browser would drop it).
    assert!(!cookie.contains("Secure"), "{cookie}");
    let session_cookie = cookie
        .trim_start_matches("facesign-session=")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    // Each callback counts once.
    assert_eq!(browser.get(&callback).send().await.unwrap().status(), 400);

    let signed_in = session_info(&browser, &base).await;
    assert_eq!(signed_in["signedIn"], true, "{signed_in}");
    assert_eq!(signed_in["sub"], "admin1");
    assert_eq!(signed_in["roles"], json!(["ADMIN"]));
    assert_eq!(signed_in["multiFactor"], false);
    let csrf = signed_in["csrf"].as_str().unwrap().to_string();

    // The cookie counts only with its CSRF token; the token alone is nothing.
    const SEATS: &str = "{ seats { seatNo } }";
    let no_csrf = with_cookie(&app, &session_cookie, None, SEATS).await;
    assert_eq!(
        refusal(&no_csrf),
        Some((
            "UNAUTHENTICATED".into(),
            "a console request must carry its session's CSRF token (X-Facesign-Csrf)".into()
        )),
        "{no_csrf}"
    );
    let wrong_csrf = with_cookie(&app, &session_cookie, Some("forged"), SEATS).await;
    assert_eq!(
        refusal(&wrong_csrf).map(|r| r.0),
        Some("UNAUTHENTICATED".into())
    );
    let answered = with_cookie(&app, &session_cookie, Some(&csrf), SEATS).await;
    assert_eq!(refusal(&answered), None, "{answered}");
    let forged = with_cookie(&app, "not-a-session", Some(&csrf), SEATS).await;
    assert_eq!(
        refusal(&forged).map(|r| r.0),
        Some("UNAUTHENTICATED".into())
    );
    // A socket likewise: its cookie comes with the upgrade, its CSRF token
    // in `connection_init`.
    let refused = socket_answer(&base, &session_cookie, json!({ "csrf": "forged" })).await;
    assert_eq!(refused, json!({ "close": 4403 }));
    let acked = socket_answer(&base, &session_cookie, json!({ "csrf": csrf })).await;
    assert_eq!(acked["type"], "connection_ack", "{acked}");

    // The tokens are in the database sealed, found by the cookie's hash.
    let pool = app.any_pool().await;
    let stored: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT id_hash, sealed_tokens, access_expires_at FROM console_sessions")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].0.contains(&session_cookie));
    assert!(!stored[0].1.contains("eyJ"), "a token is stored readable");

    // Behind the session an expiring access token is refreshed, once
    // however many requests ask at the same moment: the provider rotates
    // refresh tokens and would end the grant on seeing one spent twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let at_once = futures_util::future::join_all(
        (0..6).map(|_| with_cookie(&app, &session_cookie, Some(&csrf), SEATS)),
    )
    .await;
    for answered in &at_once {
        assert_eq!(refusal(answered), None, "{answered}");
    }
    let refreshed: i64 = sqlx::query_scalar("SELECT access_expires_at FROM console_sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        refreshed > stored[0].2,
        "the access token was not refreshed"
    );
    // Once that token has expired, the grant must still refresh: had two of
    // the requests above spent the same refresh token, the provider would
    // have revoked the grant and the session would end here.
    let expired_in = refreshed - chrono::Utc::now().timestamp() + 1;
    tokio::time::sleep(Duration::from_secs(expired_in.max(0) as u64)).await;
    let after_expiry = with_cookie(&app, &session_cookie, Some(&csrf), SEATS).await;
    assert_eq!(refusal(&after_expiry), None, "{after_expiry}");

    // Logout needs the CSRF token too, ends the session and names the
    // provider's end-session endpoint with the ID token as hint.
    let logout = |csrf: Option<&str>| {
        let mut request = app
            .client
            .post(format!("{base}/auth/logout"))
            .header("cookie", format!("facesign-session={session_cookie}"));
        if let Some(csrf) = csrf {
            request = request.header("x-facesign-csrf", csrf);
        }
        request.send()
    };
    assert_eq!(logout(None).await.unwrap().status(), 403);
    let ended = logout(Some(&csrf)).await.unwrap();
    assert_eq!(ended.status(), 200);
    let cleared = set_cookie(&ended, "facesign-session").expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let ended: Value = ended.json().await.unwrap();
    let logout_url = reqwest::Url::parse(ended["logoutUrl"].as_str().unwrap()).unwrap();
    assert!(
        logout_url
            .as_str()
            .starts_with(&format!("{}/session/end", idp.issuer)),
        "{logout_url}"
    );
    let hint: Vec<String> = logout_url
        .query_pairs()
        .filter(|(k, _)| k == "id_token_hint" || k == "post_logout_redirect_uri")
        .map(|(_, v)| v.to_string())
        .collect();
    assert_eq!(hint.len(), 2, "{logout_url}");
    assert!(hint.contains(&format!("{base}/console/")));
    let after = with_cookie(&app, &session_cookie, Some(&csrf), SEATS).await;
    assert_eq!(
        refusal(&after),
        Some((
            "UNAUTHENTICATED".into(),
            "the console session has ended; sign in again".into()
        ))
    );

    // Both steps are in the operation log under the person.
    crate::support::partners::eventually("sign-in and sign-out are logged", async || {
        let logged: Vec<(String, String)> = sqlx::query_as(
            "SELECT operation, actor_id FROM operation_log WHERE kind = 'SIGN_IN' ORDER BY entry_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        logged
            == vec![
                ("console/sign-in".to_string(), "admin1".to_string()),
                ("console/sign-out".to_string(), "admin1".to_string()),
            ]
    })
    .await;
    app.stop().await;
}

/// A deployment that serves only API clients and says nowhere where
/// browsers reach it starts as before: its console keeps the pasted-token
/// login rather than guess a plain-HTTP address on the network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_public_url_a_server_on_the_network_keeps_the_pasted_token_login() {
    let idp = IdentityProvider::start(json!({}));
    let issuer = idp.issuer.clone();
    let app = TestApp::spawn_on(TestDb::new(Backend::Sqlite).await, move |url| {
        let mut settings = settings(url);
        settings.bind = "0.0.0.0:0".into();
        settings.oidc = Some(oidc(&issuer));
        settings
    })
    .await;
    let port = reqwest::Url::parse(&app.base).unwrap().port().unwrap();
    let mode = session_info(&app.client, &format!("http://127.0.0.1:{port}")).await;
    assert_eq!(mode, json!({ "mode": "token" }));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_signs_in_through_the_provider_on_sqlite() {
    the_console_signs_in_through_the_provider(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_signs_in_through_the_provider_on_postgres() {
    the_console_signs_in_through_the_provider(Backend::Postgres).await;
}
