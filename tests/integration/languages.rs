//! Error messages in the caller's language (issue 23 item 6): Chinese unless
//! `Accept-Language` prefers English, the same `extensions.code` either way,
//! for the schema's refusals and the edge's.

use serde_json::{json, Value};

use crate::support::{task_input, token, Backend, Subscription, TestApp, CREATE_TASK};

/// Sends `query` with `bearer` and `accept_language`; the answer's
/// `Content-Language` and body.
async fn ask(
    app: &TestApp,
    bearer: &str,
    accept_language: Option<&str>,
    query: &str,
    variables: Value,
) -> (String, Value) {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(bearer)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(language) = accept_language {
        request = request.header("accept-language", language);
    }
    let response = request.send().await.unwrap();
    let language = response
        .headers()
        .get("content-language")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (language, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_answer_in_chinese_unless_english_is_preferred() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let manager = token("M0001", "ACCOUNT_MANAGER");
    let create = json!({ "input": task_input("HT-LANG-1") });
    let (_, first) = ask(&app, &manager, None, CREATE_TASK, create.clone()).await;
    let first = first["data"]["createInterviewTask"]["taskId"]
        .as_str()
        .unwrap()
        .to_string();

    // A domain refusal: Chinese by default and for a Chinese browser.
    for accept in [None, Some("zh-CN,zh;q=0.9,en;q=0.8")] {
        let (language, again) = ask(&app, &manager, accept, CREATE_TASK, create.clone()).await;
        assert_eq!(language, "zh-CN");
        assert_eq!(again["errors"][0]["extensions"]["code"], "CONFLICT");
        assert_eq!(
            again["errors"][0]["message"],
            format!("HT-LANG-1 已有未结束的面谈任务：{first}")
        );
    }
    // English when preferred, the code unchanged.
    let (language, again) = ask(
        &app,
        &manager,
        Some("en-US,en;q=0.9,zh;q=0.5"),
        CREATE_TASK,
        create,
    )
    .await;
    assert_eq!(language, "en");
    assert_eq!(again["errors"][0]["extensions"]["code"], "CONFLICT");
    assert_eq!(
        again["errors"][0]["message"],
        format!("HT-LANG-1 already has an open interview task: {first}")
    );

    // The edge's refusals too: a bad token, and headers over the limit.
    let (_, refused) = ask(&app, "not-a-token", None, "{ seats { seatNo } }", json!({})).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert_eq!(refused["errors"][0]["message"], "登录凭证无效或已过期");
    let (_, refused) = ask(
        &app,
        "not-a-token",
        Some("en"),
        "{ seats { seatNo } }",
        json!({}),
    )
    .await;
    assert_eq!(
        refused["errors"][0]["message"],
        "the bearer token is invalid or expired"
    );
    let oversized = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-padding", "a".repeat(40 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), 431);
    let body: Value = oversized.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("请求头超过"),
        "{body}"
    );
}

/// Subscriptions answer in the socket's language: the console names it in
/// `connection_init` (a browser cannot set a socket's headers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_errors_answer_in_the_socket_s_language() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let deep = format!(
        "subscription {{ taskChanged(id: {}\"x\"{}) {{ id }} }}",
        "[".repeat(1800),
        "]".repeat(1800)
    );
    for (language, start) in [(None, "请求超出限制"), (Some("en"), "the request exceeds")] {
        let mut socket =
            Subscription::start_in(&app.base, ("S001", "SEAT"), language, &deep, json!({})).await;
        let refused = socket.next_message().await;
        let error = &refused["payload"]["errors"][0];
        assert_eq!(error["extensions"]["limit"], "maxValueDepth", "{refused}");
        assert!(
            error["message"].as_str().unwrap().starts_with(start),
            "{refused}"
        );
    }
}
