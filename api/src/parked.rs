//! Parked events in GraphQL (issue 33 item 4): what each worker could not
//! apply, for the console's incidents page. Read-only: an operator retries or
//! skips them with `facesign parked`, where the worker's code runs.

use async_graphql::{Context, Object, Result, SimpleObject};

use crate::context::state;
use crate::error::ApiError;

/// An event a worker could not apply and parked.
#[derive(SimpleObject)]
pub struct ParkedEventView {
    /// The worker (read model, flow) that parked it.
    pub worker: String,
    /// Its log position, TX:POSITION (what `facesign parked` takes).
    pub position: String,
    /// The event.
    pub event_id: String,
    /// Its aggregate type.
    pub aggregate_type: String,
    /// Its aggregate.
    pub aggregate_id: String,
    /// Its sequence in the aggregate.
    pub sequence: i64,
    /// Its type.
    pub event_type: String,
    /// Why it could not be applied; quoted values are left out, so no
    /// payload text reaches the console.
    pub error: String,
    /// How often it was tried.
    pub attempts: i64,
    /// PARKED, RETRIED or SKIPPED.
    pub status: String,
    /// When it was parked.
    pub parked_at: String,
    /// Who retried or skipped it.
    pub resolved_by: Option<String>,
    /// When.
    pub resolved_at: Option<String>,
    /// The operator's reason.
    pub note: Option<String>,
}

/// An error with every double-quoted value replaced by `"…"`: a decoding
/// error quotes the payload it could not read, which may be personal data.
fn without_quoted_values(error: &str) -> String {
    let mut out = String::with_capacity(error.len());
    let mut quoted = false;
    for c in error.chars() {
        if c == '"' {
            if quoted {
                out.push('…');
            }
            out.push(c);
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

/// Parked-event queries.
#[derive(Default)]
pub struct ParkedQuery;

#[Object]
impl ParkedQuery {
    /// Events workers parked, oldest first: those still parked, or with
    /// `all` also those retried or skipped.
    async fn parked_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] all: bool,
    ) -> Result<Vec<ParkedEventView>> {
        let state = state(ctx);
        let rows = store::parked::list(
            state.database.read_models(),
            all,
            state.config.max_page_size,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(rows
            .into_iter()
            .map(|p| ParkedEventView {
                position: p.position().to_string(),
                error: without_quoted_values(&p.error),
                worker: p.worker,
                event_id: p.event_id,
                aggregate_type: p.aggregate_type,
                aggregate_id: p.aggregate_id,
                sequence: p.sequence,
                event_type: p.event_type,
                attempts: p.attempts,
                status: p.status,
                parked_at: p.parked_at,
                resolved_by: p.resolved_by,
                resolved_at: p.resolved_at,
                note: p.note,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::without_quoted_values;

    #[test]
    fn quoted_payload_values_stay_out_of_the_error() {
        assert_eq!(
            without_quoted_values(
                r#"cannot project X at 1:2: invalid type: string "110101199003071234", expected u32"#
            ),
            r#"cannot project X at 1:2: invalid type: string "…", expected u32"#
        );
        assert_eq!(without_quoted_values("no quotes"), "no quotes");
        assert_eq!(without_quoted_values(r#"open "abc"#), r#"open ""#);
    }
}
