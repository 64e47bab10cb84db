//! Liveness, readiness and Prometheus metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use domain::log::EventLogReader;
use serde_json::json;

use crate::schema::FacesignSchema;
use crate::state::AppState;

type Shared = State<(AppState, FacesignSchema)>;

/// The process is up.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// The public key log checkpoints are signed with (SPKI PEM), for auditors
/// to verify them with (docs/evidence.md); 404 when nothing is signed.
pub async fn log_public_key(State((state, _)): Shared) -> axum::response::Response {
    match &state.config.log_public_key {
        Some(pem) => (
            [(axum::http::header::CONTENT_TYPE, "application/x-pem-file")],
            pem.clone(),
        )
            .into_response(),
        None => (
            axum::http::StatusCode::NOT_FOUND,
            "no log signing key is configured (FACESIGN_LOG_SIGNING_KEY)\n",
        )
            .into_response(),
    }
}

/// The store answers and every projection is advancing; lists each projection's lag.
pub async fn readyz(State((state, _)): Shared) -> impl IntoResponse {
    let store = state.database.ping().await;
    let head = state.log.head().await.ok();
    let mut ready = store.is_ok();
    // Parked events do not make an instance unready (its workers go on past
    // them) but an operator must see them (facesign parked).
    // Unknown (null) when the store cannot say.
    // Alerts watch how full the pools are (docs/prometheus-alerts.yml).
    for (pool, in_use, idle, max) in state.database.pool_usage() {
        for (kind, count) in [("in_use", in_use), ("idle", idle)] {
            state.metrics.set(
                "facesign_db_pool_connections",
                "Database connections of each pool, in use or idle.",
                store::metrics::labels(&[("pool", pool), ("state", kind)]),
                i64::from(count),
            );
        }
        state.metrics.set(
            "facesign_db_pool_max_connections",
            "The most connections each pool may open (FACESIGN_DB_MAX_CONNECTIONS).",
            store::metrics::labels(&[("pool", pool)]),
            i64::from(max),
        );
    }
    let incidents: Option<i64> =
        sqlx::query_scalar("SELECT COUNT(*) FROM callbacks WHERE status = 'FAILED'")
            .fetch_one(state.database.read_models())
            .await
            .ok();
    if let Some(incidents) = incidents {
        state.metrics.set(
            "facesign_callback_incidents",
            "Partner callbacks that failed every attempt and wait for a retry (incidents).",
            store::metrics::labels(&[]),
            incidents,
        );
    }
    let parked = store::parked::counts(state.database.read_models())
        .await
        .ok();
    let parked_by = |name: &str| parked.as_deref().map(|counts| parked_of(counts, name));
    let projections: Vec<_> = state
        .consumers
        .iter()
        .map(|consumer| {
            let handle = &consumer.handle;
            let status = handle.status();
            ready &= status.last_error.is_none();
            json!({
                "name": handle.name(),
                "kind": consumer.kind.as_str(),
                "ledHere": state.leadership.leads(handle.name()),
                "checkpoint": status.checkpoint.to_string(),
                "lagEvents": head.map(|h| (h.global_position - status.checkpoint.global_position).max(0)),
                "eventsApplied": status.events_applied,
                "lastError": status.last_error,
                "parked": parked_by(handle.name()),
            })
        })
        .collect();
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "backend": state.database.backend().as_str(),
        "store": match &store { Ok(()) => "ok".to_string(), Err(e) => e.to_string() },
        "head": head.map(|h| h.to_string()),
        "instance": state.leadership.instance(),
        "leading": state.leadership.leading(),
        "projections": projections,
        "parked": parked.as_ref().map(|counts| counts.iter().map(|(_, n)| n).sum::<i64>()),
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

/// Prometheus text exposition.
pub async fn metrics(State((state, _)): Shared) -> impl IntoResponse {
    let head = state.log.head().await.ok();
    if let Some(head) = head {
        state.metrics.set(
            "facesign_log_head_position",
            "Global position of the newest visible event.",
            store::metrics::labels(&[]),
            head.global_position,
        );
    }
    let parked = store::parked::counts(state.database.read_models())
        .await
        .ok();
    for consumer in state.consumers.iter() {
        let handle = &consumer.handle;
        let status = handle.status();
        let labels = store::metrics::labels(&[("worker", handle.name())]);
        if let Some(counts) = &parked {
            state.metrics.set(
                "facesign_parked_events",
                "Events a worker could not apply and parked, not yet retried or skipped.",
                labels.clone(),
                parked_of(counts, handle.name()),
            );
        }
        state.metrics.set(
            "facesign_worker_checkpoint_position",
            "Global position each worker has handled up to.",
            labels.clone(),
            status.checkpoint.global_position,
        );
        if let Some(head) = head {
            state.metrics.set(
                "facesign_worker_lag_events",
                "Approximate events between the log head and each worker's checkpoint.",
                labels.clone(),
                (head.global_position - status.checkpoint.global_position).max(0),
            );
        }
        state.metrics.set(
            "facesign_worker_leader",
            "1 where this instance runs the worker (holds its lock).",
            labels.clone(),
            i64::from(state.leadership.leads(handle.name())),
        );
        state.metrics.set(
            "facesign_worker_failing",
            "1 while a worker cannot advance.",
            labels,
            i64::from(status.last_error.is_some()),
        );
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// How many events `worker` has parked, from the per-worker counts.
fn parked_of(counts: &[(String, i64)], worker: &str) -> i64 {
    counts
        .iter()
        .find(|(name, _)| name == worker)
        .map_or(0, |(_, n)| *n)
}
