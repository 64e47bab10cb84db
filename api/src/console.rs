//! The operations and audit console at `/console`: a page, a script and a style
//! sheet compiled into the binary (no build step, no second server), plus the
//! labels and role rules the script reads from the domain so that the console
//! never keeps its own copy of the 001/004 wording or of who may do what.
//!
//! Everything the console shows it fetches from `/graphql` with the bearer
//! token the user logs in with, so it sees exactly what the API lets that role
//! see, masked as the API masks it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::interview_task::TaskStatus;
use domain::qc_case::RejectReason;
use domain::role::Role;
use serde_json::{json, Map, Value};

use crate::access::RULES;

const PAGE: &str = include_str!("../console/index.html");
const STYLE: &str = include_str!("../console/console.css");

/// The script's ES modules by path under `/console/`: words, session, DOM, the
/// API client, the router and one module per page; `console.js` starts it.
const MODULES: &[(&str, &str)] = &[
    ("console.js", include_str!("../console/console.js")),
    ("words.js", include_str!("../console/words.js")),
    ("session.js", include_str!("../console/session.js")),
    ("dom.js", include_str!("../console/dom.js")),
    ("api.js", include_str!("../console/api.js")),
    ("router.js", include_str!("../console/router.js")),
    ("pages/login.js", include_str!("../console/pages/login.js")),
    ("pages/board.js", include_str!("../console/pages/board.js")),
    ("pages/task.js", include_str!("../console/pages/task.js")),
    (
        "pages/lineage.js",
        include_str!("../console/pages/lineage.js"),
    ),
    (
        "pages/calendar.js",
        include_str!("../console/pages/calendar.js"),
    ),
    ("pages/qc.js", include_str!("../console/pages/qc.js")),
    (
        "pages/incidents.js",
        include_str!("../console/pages/incidents.js"),
    ),
    ("pages/admin.js", include_str!("../console/pages/admin.js")),
    (
        "pages/manual.js",
        include_str!("../console/pages/manual.js"),
    ),
    ("pages/audit.js", include_str!("../console/pages/audit.js")),
    (
        "pages/dashboard.js",
        include_str!("../console/pages/dashboard.js"),
    ),
];

/// Same-origin only: the console loads nothing from elsewhere and runs no
/// inline script, so an injected string in a read model cannot run as code.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; connect-src 'self'; img-src 'self' data:; \
     style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The console's routes, to merge into the application router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/console", get(page))
        .route("/console/", get(page))
        .route("/console/{*module}", get(module))
        .route("/console/console.css", get(style))
        .route("/console/labels.json", get(labels))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            // The assets change with the binary; a restart must not leave a
            // browser on an old script talking to a new schema.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

async fn page() -> Response {
    asset("text/html; charset=utf-8", PAGE)
}

async fn module(axum::extract::Path(path): axum::extract::Path<String>) -> Response {
    match MODULES.iter().find(|(name, _)| *name == path) {
        Some((_, body)) => asset("text/javascript; charset=utf-8", body),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// Status, reason and event names in the words of 001 and 004, the aggregate types an
/// auditor can look up, and the role rule of every operation (`access::RULES`),
/// which the console uses to offer only what the logged-in role may do; the API
/// still decides.
pub fn labels_document() -> Value {
    let statuses: Map<String, Value> = TaskStatus::ALL
        .into_iter()
        .map(|s| (s.as_str().to_string(), json!(s.label_zh())))
        .collect();
    let reasons: Vec<Value> = RejectReason::ALL
        .into_iter()
        .map(|r| json!({ "code": r.as_str(), "zh": r.label_zh() }))
        .collect();
    let rules: Map<String, Value> = RULES
        .iter()
        .map(|(operation, roles)| {
            let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            (operation.to_string(), json!(roles))
        })
        .collect();
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let event_types: Map<String, Value> = domain::event_labels::EVENT_LABELS
        .iter()
        .map(|(name, zh, en)| (name.to_string(), json!({ "zh": zh, "en": en })))
        .collect();
    json!({
        "eventTypes": event_types,
        "taskStatus": statuses,
        "rejectReasons": reasons,
        "rules": rules,
        "roles": roles,
        "aggregateTypes": domain::aggregates::AGGREGATE_TYPES,
    })
}

async fn labels() -> Response {
    let mut response = Json(labels_document()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 001_d165f826565a3102.txt 2.4.3.1: the console offers the nine 拒件原因 in
    /// the wording of 001, and names 存疑 as 001 does.
    #[test]
    fn labels_carry_the_wording_of_001() {
        let labels = labels_document();
        assert_eq!(labels["taskStatus"]["PENDING_QC"], "存疑");
        assert_eq!(labels["taskStatus"]["REJECTED"], "已面谈（面谈拒绝）");
        let reasons = labels["rejectReasons"].as_array().unwrap();
        assert_eq!(reasons.len(), 9);
        assert_eq!(reasons[2]["code"], "NO_STABLE_INCOME");
        assert_eq!(reasons[2]["zh"], "家庭无稳定收入来源");
        assert_eq!(
            labels["rules"]["Mutation.decideQcCase"],
            json!(["QC_REVIEWER"])
        );
        assert_eq!(
            labels["eventTypes"]["AppointmentConfirmed"],
            json!({ "zh": "预约已确认", "en": "Appointment confirmed" })
        );
    }

    /// Every file the page names is served, so a renamed asset fails here, not
    /// in a browser.
    #[test]
    fn the_page_names_only_served_assets() {
        for asset in ["/console/console.js", "/console/console.css"] {
            assert!(PAGE.contains(asset), "index.html names {asset}");
        }
        assert!(!PAGE.contains("<script>"), "no inline script under the CSP");
    }
}
