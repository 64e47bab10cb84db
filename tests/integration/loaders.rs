//! Fields resolved once per listed row are batched (issue 33 item 3): a
//! seat's page of 50 tasks with their allowed actions asks the read model
//! for the seats calls reached once, not once per task.

use serde_json::{json, Value};

use crate::support::scheduling::{book_mutation, seat, slot_vars, tomorrow_at};
use crate::support::{create_task, data, on_both_backends, Backend, TestApp};

/// How many read-model queries the API has made for `seats_called_for`.
async fn seats_called_for_queries(app: &TestApp) -> u64 {
    let metrics = app.get("/metrics").await.text().await.unwrap();
    metrics
        .lines()
        .find(|l| l.starts_with(r#"facesign_read_model_queries_total{query="seats_called_for"}"#))
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0, |n| n.parse().unwrap())
}

async fn a_page_of_fifty_tasks_asks_the_read_model_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seat(&app, "S1").await;
    for n in 0..50 {
        let id = create_task(&app, &format!("HT-PAGE-{n:02}")).await;
        // Half-hour slots from 01:00, 40 a day, inside S1's working hours.
        let start = tomorrow_at(1, 0)
            + chrono::Duration::days(n / 40)
            + chrono::Duration::minutes(30 * (n % 40));
        data(
            &app.graphql(&book_mutation(), slot_vars(&id, "S1", start))
                .await,
        );
    }
    let before = seats_called_for_queries(&app).await;
    let page = app
        .graphql_as(
            ("S1", "SEAT"),
            "{ tasks(first: 50) { edges { node { contractNo seatNo allowedActions } } } }",
            json!({}),
        )
        .await;
    let edges = data(&page)["tasks"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 50, "{page}");
    // The seat may start each interview it is booked for, or move it (000).
    for edge in &edges {
        assert_eq!(edge["node"]["seatNo"], "S1");
        assert_eq!(
            edge["node"]["allowedActions"],
            json!(["RESCHEDULE_APPOINTMENT", "START_INTERVIEW"]),
            "{edge}"
        );
    }
    let asked = seats_called_for_queries(&app).await - before;
    // One query per page; a loaded machine may split the gathering once.
    assert!(
        (1..=2).contains(&asked),
        "50 rows asked the read model {asked} times"
    );
    // Another seat reaches none of them: the batch answers per row.
    seat(&app, "S2").await;
    let other = app
        .graphql_as(
            ("S2", "SEAT"),
            "{ tasks(first: 50) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&other)["tasks"]["edges"], Value::Array(vec![]));
    app.stop().await;
}

on_both_backends!(a_page_of_fifty_tasks_asks_the_read_model_once);
