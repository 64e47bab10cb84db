//! `POST /sms/reports`: the SMS gateway tells which messages reached the phone
//! (issue 22 item 6). Rate limited per address before anything is read, then
//! authenticated by the gateway's bearer token (FACESIGN_SMS_GATEWAY_TOKEN).
//! A refused report changes nothing: without the token it is counted in the
//! operation log's unverified tallies (never stored as sent), with it it is
//! recorded as the gateway's refusal. A message's status moves only forward
//! (`workers::sms::record_report`).

use domain::message::message;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use workers::sms::{record_report, DeliveryReport, ReportOutcome};

use crate::access::record;
use crate::error::{rest_refusal, ApiError};
use crate::state::AppState;

/// The operation the log names reports by.
const OPERATION: &str = "sms/reports";

/// Middleware before a report's body is parsed: the address's rate (a refused
/// body is only read and thrown away).
pub async fn door(
    State((state, _)): State<(AppState, crate::FacesignSchema)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !crate::doors::within_address_rate(&state.doors.sms_reports_by_address, peer.ip()) {
        let language = crate::messages::Language::of(request.headers());
        return crate::limits::drained_too_many(request, state.config.body_limit_bytes, language)
            .await;
    }
    next.run(request).await
}

/// Records one delivery report (`{"messageId", "status": "DELIVERED" | "UNDELIVERED", "reason"?}`).
pub async fn delivery_report(
    State((state, _)): State<(AppState, crate::FacesignSchema)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let unverified = |error: ApiError| {
        let code = error.code.as_str();
        let english = error.message.to_string();
        record::unverified(&state, OPERATION, "", code, &english, Some(peer.ip()));
        rest_refusal(&error)
    };
    let Some(token) = &state.sms_gateway_token else {
        return unverified(ApiError::not_found(message!(
            "no SMS gateway is configured"
        )));
    };
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !token.accepts(presented.as_bytes()) {
        return unverified(ApiError::new(
            domain::ErrorCode::Unauthenticated,
            message!("a delivery report needs the gateway's bearer token"),
        ));
    }
    let request_id = state.bus.services().ids.new_id().to_string();
    let refuse = |target: String, error: ApiError| {
        record::refusal_by(
            &state,
            (
                "sms-gateway".to_string(),
                "SMS_GATEWAY".to_string(),
                request_id.clone(),
            ),
            OPERATION,
            target,
            error.code.as_str(),
            &error.message.to_string(),
        );
        rest_refusal(&error)
    };
    let report: DeliveryReport = match serde_json::from_slice(&body) {
        Ok(report) => report,
        Err(e) => {
            return refuse(
                String::new(),
                ApiError::validation(message!("not a delivery report: {e}")),
            )
        }
    };
    let checked = serde_json::to_value(&report)
        .map_err(ApiError::internal)
        .and_then(|value| {
            crate::text_input::check_json("report", &value)
                .map_err(|control| ApiError::validation(control.0))
        });
    let shown_id: String = report.message_id.chars().take(64).collect();
    let target = format!("sms:{shown_id}");
    if let Err(error) = checked {
        return refuse(target, error);
    }
    let now = state.bus.services().clock.now();
    match record_report(state.database.read_models(), &report, now).await {
        Ok(ReportOutcome::Recorded { applied }) => {
            workers::sms::count_sms(&state.metrics, &report.status.to_lowercase(), 1);
            (
                StatusCode::OK,
                Json(json!({ "recorded": true, "applied": applied })),
            )
                .into_response()
        }
        Ok(ReportOutcome::UnknownMessage) => refuse(
            target,
            ApiError::not_found(message!(
                "no message {id} was handed to the gateway",
                id = shown_id
            )),
        ),
        Ok(ReportOutcome::UnknownStatus) => refuse(
            target,
            ApiError::validation(message!("status must be DELIVERED or UNDELIVERED")),
        ),
        Err(e) => refuse(target, ApiError::internal(e)),
    }
}
