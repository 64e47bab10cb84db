//! The global log a page at a time, for the auditor's and the QC reviewer's
//! views of it.

use async_graphql::{Context, Result};
use domain::log::{EventLogReader, LogPosition, StoredEvent};
use domain::message::message;

use crate::context::state;
use crate::error::ApiError;

/// Up to `limit` (1 to `max`) events of the log after the cursor `after`
/// (`TX:POSITION`, or the start); returns the position read from with them.
pub(crate) async fn read_log_page(
    ctx: &Context<'_>,
    after: Option<String>,
    limit: i32,
    max: i32,
) -> Result<(LogPosition, Vec<StoredEvent>)> {
    if !(1..=max).contains(&limit) {
        return Err(ApiError::validation(message!("page size must be between 1 and {max}")).into());
    }
    let after = match after {
        Some(cursor) => cursor
            .parse::<LogPosition>()
            .map_err(ApiError::validation)?,
        None => LogPosition::START,
    };
    let events = state(ctx)
        .log
        .read_after(after, limit as u32)
        .await
        .map_err(ApiError::internal)?;
    Ok((after, events))
}
