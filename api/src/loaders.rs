//! Batched lookups for fields resolved once per listed row (issue 33 item 3):
//! a page of 50 tasks asks the read model once, not 50 times; a field outside
//! a list asks at once, without the gathering delay. One set of
//! loaders per HTTP request, so nothing is shared between callers; every
//! read-model query made for such a field is counted in
//! `facesign_read_model_queries_total{query}`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::context::QueryPathSegment;
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::Context;
use projections::CallQueue;
use sqlx::AnyPool;
use store::Metrics;

use crate::error::ApiError;
use crate::state::AppState;

/// The seats calls for a task were put through to (what a seat's reach and
/// its allowed actions on the task depend on), for many tasks at once.
pub struct SeatsCalledFor {
    pool: AnyPool,
    metrics: Arc<Metrics>,
}

impl Loader<String> for SeatsCalledFor {
    type Value = Vec<String>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<String>>, Self::Error> {
        count_query(&self.metrics, "seats_called_for");
        let rows = CallQueue::seats_called_for_many(&self.pool, keys)
            .await
            .map_err(Arc::new)?;
        let mut seats: HashMap<String, Vec<String>> = HashMap::new();
        for (task, seat) in rows {
            seats.entry(task).or_default().push(seat);
        }
        Ok(seats)
    }
}

/// How long a loader gathers the keys of a list's rows before it asks: the
/// rows of one list register within this on a busy two-core machine, so a page
/// is one query (at 1 ms, the default, a page split into three).
const GATHER: std::time::Duration = std::time::Duration::from_millis(5);

/// The loaders of one request over `state`'s read models.
pub fn for_request(state: &AppState) -> DataLoader<SeatsCalledFor> {
    DataLoader::new(
        SeatsCalledFor {
            pool: state.database.read_models().clone(),
            metrics: state.metrics.clone(),
        },
        tokio::spawn,
    )
    .delay(GATHER)
}

/// Whether the field resolves for one row of a list (a segment of its path is
/// an index): only then is there anything to batch, and worth the gathering.
fn in_a_list(ctx: &Context<'_>) -> bool {
    let mut node = ctx.path_node.as_ref();
    while let Some(current) = node {
        if matches!(current.segment, QueryPathSegment::Index(_)) {
            return true;
        }
        node = current.parent;
    }
    false
}

/// The seats calls for `task_id` were put through to: batched with the other
/// rows of a list when the request has loaders, else asked on its own.
pub async fn seats_called_for(ctx: &Context<'_>, task_id: &str) -> Result<Vec<String>, ApiError> {
    let loader = ctx
        .data_opt::<DataLoader<SeatsCalledFor>>()
        .filter(|_| in_a_list(ctx));
    if let Some(loader) = loader {
        return loader
            .load_one(task_id.to_string())
            .await
            .map(Option::unwrap_or_default)
            .map_err(ApiError::internal);
    }
    let state = crate::context::state(ctx);
    count_query(&state.metrics, "seats_called_for");
    Ok(CallQueue::seats_called_for(state.database.read_models(), task_id).await?)
}

fn count_query(metrics: &Metrics, query: &'static str) {
    metrics.increment(
        "facesign_read_model_queries_total",
        "Read-model queries made for fields resolved per listed row, by query.",
        store::metrics::labels(&[("query", query)]),
        1,
    );
}
