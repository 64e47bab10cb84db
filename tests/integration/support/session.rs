//! The interview session as the end-to-end tests drive it: a server with a
//! clock they move, a booked and started interview, session steps, the call's
//! end and the conclusion.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::scheduling::{book_mutation, slot_vars, tomorrow_at};
use super::{data, settings, Backend, TestApp, TestDb};

pub(crate) const SEAT: (&str, &str) = ("S1", "SEAT");

pub(crate) const SESSION_FIELDS: &str = "taskId task { status statusLabel creditStatus version }";

/// A server whose clock a test can move, on `backend`, with QC sampling at `per_mille`.
pub(crate) async fn app_with_clock(
    backend: Backend,
    per_mille: u32,
) -> (TestApp, Arc<store::ShiftableClock>) {
    let clock = Arc::new(store::ShiftableClock::default());
    let server_clock = clock.clone();
    let app = TestApp::spawn_on(TestDb::new(backend).await, move |url| {
        let mut settings = settings(url);
        settings.clock = server_clock;
        settings.session.qc_sample_per_mille = per_mille;
        settings
    })
    .await;
    (app, clock)
}

/// Books `id` with S1 tomorrow at 10:00, moves the clock into the window and
/// starts the interview.
pub(crate) async fn book_and_start(app: &TestApp, clock: &store::ShiftableClock, id: &str) {
    book_and_start_at(app, clock, id, 10).await;
}

/// Books `id` with S1 tomorrow at `hour`:00, moves the clock into the window
/// and starts the interview.
pub(crate) async fn book_and_start_at(
    app: &TestApp,
    clock: &store::ShiftableClock,
    id: &str,
    hour: u32,
) {
    use domain::services::Clock as _;
    data(
        &app.graphql(&book_mutation(), slot_vars(id, "S1", tomorrow_at(hour, 0)))
            .await,
    );
    clock.advance(tomorrow_at(hour, 1) - clock.now());
    let started = app
        .graphql_as(
            SEAT,
            &format!("mutation($id: ID!) {{ startInterview(taskId: $id, seatNo: \"S1\") {{ {SESSION_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        data(&started)["startInterview"]["task"]["status"],
        "IN_PROGRESS"
    );
}

pub(crate) async fn session(
    app: &TestApp,
    as_who: (&str, &str),
    mutation: &str,
    args: &str,
    vars: Value,
) -> Value {
    app.graphql_as(
        as_who,
        &format!("mutation($id: ID!) {{ {mutation}(taskId: $id{args}) {{ {SESSION_FIELDS} }} }}"),
        vars,
    )
    .await
}

pub(crate) async fn end_call(app: &TestApp, clock: &store::ShiftableClock, id: &str) {
    use domain::services::Clock as _;
    let answered: DateTime<Utc> = clock.now() - chrono::Duration::seconds(30);
    let queued = answered - chrono::Duration::seconds(45);
    let ended = app
        .graphql_as(
            SEAT,
            &format!("mutation($id: ID!, $q: DateTime!, $a: DateTime!) {{ endCall(taskId: $id, end: NORMAL, queuedAt: $q, answeredAt: $a) {{ {SESSION_FIELDS} }} }}"),
            json!({ "id": id, "q": queued.to_rfc3339(), "a": answered.to_rfc3339() }),
        )
        .await;
    data(&ended);
}

pub(crate) async fn conclude(app: &TestApp, id: &str, outcome: &str) -> Value {
    app.graphql_as(
        SEAT,
        &format!("mutation($id: ID!) {{ concludeInterview(taskId: $id, outcome: {outcome}) {{ {SESSION_FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await
}
