//! `POST /sms/reports`: the SMS gateway tells which messages reached the phone
//! (issue 22 item 6). Authenticated by the gateway's bearer token
//! (FACESIGN_SMS_GATEWAY_TOKEN); refused reports are recorded in the
//! operation log and change nothing.

use adapters::sms::{record_report, DeliveryReport, ReportOutcome};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::partner_order::signature::same_secret;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::access::record;
use crate::error::{http_status, ApiError};
use crate::state::AppState;

/// Records one delivery report (`{"messageId", "status": "DELIVERED" | "UNDELIVERED", "reason"?}`).
pub async fn delivery_report(
    State((state, _)): State<(AppState, crate::FacesignSchema)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let request_id = state.bus.services().ids.new_id().to_string();
    let refuse = |target: String, error: ApiError| {
        record::refusal_by(
            &state,
            (
                "sms-gateway".to_string(),
                "SMS_GATEWAY".to_string(),
                request_id.clone(),
            ),
            "sms/reports",
            target,
            error.code.as_str(),
            &error.message,
        );
        (
            http_status(error.code),
            Json(json!({ "code": error.code.as_str(), "message": error.message })),
        )
            .into_response()
    };
    let Some(token) = &state.sms_gateway_token else {
        return refuse(
            String::new(),
            ApiError::not_found("no SMS gateway is configured"),
        );
    };
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same_secret(presented.as_bytes(), token.expose_secret().as_bytes()) {
        return refuse(
            String::new(),
            ApiError {
                code: domain::ErrorCode::Unauthenticated,
                message: "a delivery report needs the gateway's bearer token".into(),
            },
        );
    }
    let report: DeliveryReport = match serde_json::from_slice(&body) {
        Ok(report) => report,
        Err(e) => {
            return refuse(
                String::new(),
                ApiError::validation(format!("not a delivery report: {e}")),
            )
        }
    };
    let now = state.bus.services().clock.now();
    match record_report(state.database.read_models(), &report, now).await {
        Ok(ReportOutcome::Recorded) => {
            adapters::sms::count_sms(&state.metrics, &report.status.to_lowercase(), 1);
            (StatusCode::OK, Json(json!({ "recorded": true }))).into_response()
        }
        Ok(ReportOutcome::UnknownMessage) => refuse(
            format!("sms:{}", report.message_id),
            ApiError::not_found(format!(
                "no message {} was handed to the gateway",
                report.message_id
            )),
        ),
        Ok(ReportOutcome::UnknownStatus) => refuse(
            format!("sms:{}", report.message_id),
            ApiError::validation("status must be DELIVERED or UNDELIVERED"),
        ),
        Err(e) => refuse(format!("sms:{}", report.message_id), ApiError::internal(e)),
    }
}
