//! Channel admission (001 2.4.9 渠道管理, 2.2.2 准入校验).

use serde_json::json;

use crate::support::{data, error_code, Backend, TestApp};

const REFUSED: &str = "当前渠道未被授权接入我行视频坐席，请联系您的客户经理。";

/// 001_d165f826565a3102.txt 2.4.9: a new channel is disabled (默认停用) and refuses
/// with exactly 当前渠道未被授权接入我行视频坐席，请联系您的客户经理。; enabled, it admits;
/// restricted to a Wi-Fi network, it admits only there; only a disabled channel
/// is deleted (停用状态的渠道才可操作删除).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_admission_follows_the_channel_settings() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = ("A001", "ADMIN");
    let customer = ("410102198503121017", "CUSTOMER");
    const ADMIT: &str = r#"query($wifi: String) { channelAdmission(channelCode: "YYZX", locality: "郑州", wifi: $wifi) { admitted message } }"#;
    let command = |mutation: &'static str| {
        format!("mutation {{ {mutation}(code: \"YYZX\") {{ code enabled }} }}")
    };

    let unknown = app.graphql_as(customer, ADMIT, json!({})).await;
    assert_eq!(data(&unknown)["channelAdmission"]["message"], REFUSED);

    let created = app
        .graphql_as(
            admin,
            r#"mutation { createChannel(code: "YYZX", input: { name: "原银在线", orgName: "直销银行部", orgCode: "0001" }) { code enabled } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data(&created)["createChannel"]["enabled"],
        false,
        "默认停用"
    );
    let disabled = app.graphql_as(customer, ADMIT, json!({})).await;
    assert_eq!(data(&disabled)["channelAdmission"]["admitted"], false);
    assert_eq!(data(&disabled)["channelAdmission"]["message"], REFUSED);

    data(
        &app.graphql_as(admin, &command("enableChannel"), json!({}))
            .await,
    );
    let open = app.graphql_as(customer, ADMIT, json!({})).await;
    assert_eq!(data(&open)["channelAdmission"]["admitted"], true);

    data(&app
        .graphql_as(
            admin,
            r#"mutation { editChannel(code: "YYZX", input: { name: "原银在线", wifiNetworks: ["ZYBANK-BRANCH"] }) { code } }"#,
            json!({}),
        )
        .await);
    let elsewhere = app
        .graphql_as(customer, ADMIT, json!({ "wifi": "HOME" }))
        .await;
    assert_eq!(data(&elsewhere)["channelAdmission"]["admitted"], false);
    assert_ne!(data(&elsewhere)["channelAdmission"]["message"], REFUSED);
    let at_branch = app
        .graphql_as(customer, ADMIT, json!({ "wifi": "ZYBANK-BRANCH" }))
        .await;
    assert_eq!(data(&at_branch)["channelAdmission"]["admitted"], true);

    let delete_enabled = app
        .graphql_as(admin, &command("deleteChannel"), json!({}))
        .await;
    assert_eq!(error_code(&delete_enabled), "INVALID_TRANSITION");
    data(
        &app.graphql_as(admin, &command("disableChannel"), json!({}))
            .await,
    );
    let deleted = app
        .graphql_as(admin, &command("deleteChannel"), json!({}))
        .await;
    assert_eq!(data(&deleted)["deleteChannel"], serde_json::Value::Null);
    let list = app
        .graphql_as(admin, r#"{ channels(name: "原银") { code } }"#, json!({}))
        .await;
    assert!(data(&list)["channels"].as_array().unwrap().is_empty());
    let gone = app.graphql_as(customer, ADMIT, json!({})).await;
    assert_eq!(data(&gone)["channelAdmission"]["message"], REFUSED);
    let by_seat_admin = app
        .graphql_as(("S1", "SEAT"), &command("enableChannel"), json!({}))
        .await;
    assert_eq!(error_code(&by_seat_admin), "FORBIDDEN");
    app.stop().await;
}
