//! The queue as the end-to-end tests open it.

use serde_json::json;

use super::{data, TestApp};

const ADMIN: (&str, &str) = ("A001", "ADMIN");

/// The 原银在线 channel, created (disabled) and, when `enabled`, enabled.
pub(crate) async fn open_channel(app: &TestApp, enabled: bool) {
    let create =
        r#"mutation { createChannel(code: "YYZX", input: { name: "原银在线" }) { enabled } }"#;
    data(&app.graphql_as(ADMIN, create, json!({})).await);
    if enabled {
        let enable = r#"mutation { enableChannel(code: "YYZX") { enabled } }"#;
        data(&app.graphql_as(ADMIN, enable, json!({})).await);
    }
}
