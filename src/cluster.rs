//! What an instance of a cluster (several instances on one Postgres) does for
//! the workers it does not lead: it follows their leaders' progress, so its
//! mutations can wait for read-your-writes and its subscriptions see changes
//! made anywhere. Wake-ups come by LISTEN/NOTIFY; polling is the fallback.

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::cluster::Leadership;
use adapters::global_log::COMMITS_CHANNEL;
use adapters::CommandBus;
use domain::log::LogPosition;
use projections::runner::{RowsChanged, PROGRESS_CHANNEL, ROWS_CHANNEL};
use projections::ProjectionHandle;
use sqlx::postgres::PgListener;
use sqlx::AnyPool;
use tokio::sync::watch;
use tracing::warn;

/// Publishes every worker's stored checkpoint to its local handle (forward
/// only; a worker led here publishes its own progress anyway).
async fn refresh(pool: &AnyPool, handles: &[ProjectionHandle]) -> Result<(), sqlx::Error> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT name, tx_id, global_position, events_applied FROM projection_checkpoints",
    )
    .fetch_all(pool)
    .await?;
    for (name, tx_id, position, applied) in rows {
        if let Some(handle) = handles.iter().find(|h| h.name() == name) {
            handle.follow(LogPosition::new(tx_id, position), applied);
        }
    }
    Ok(())
}

/// Follows the cluster until shutdown: commit notices wake this instance's
/// readers; progress notices (and a poll every `poll`) refresh the handles of
/// workers led elsewhere; row notices reach local subscribers.
pub async fn follow(
    database_url: String,
    leadership: Leadership,
    bus: Arc<CommandBus>,
    pool: AnyPool,
    handles: Vec<ProjectionHandle>,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut listener: Option<PgListener> = None;
    // Progress notices come per batch of every worker; one read of the
    // checkpoints serves all that arrive within this window.
    let coalesce = Duration::from_millis(5);
    let mut dirty = true;
    let mut last_refresh = Instant::now();
    loop {
        if *shutdown.borrow() {
            return;
        }
        if listener.is_none() {
            match PgListener::connect(&database_url).await {
                Ok(mut l) => match l
                    .listen_all([COMMITS_CHANNEL, PROGRESS_CHANNEL, ROWS_CHANNEL])
                    .await
                {
                    Ok(()) => listener = Some(l),
                    Err(e) => warn!(error = %e, "cannot LISTEN; polling"),
                },
                Err(e) => warn!(error = %e, "cannot connect to LISTEN; polling"),
            }
        }
        let wait = if dirty {
            coalesce.saturating_sub(last_refresh.elapsed())
        } else {
            poll
        };
        let notice = match listener.as_mut() {
            Some(l) => tokio::select! {
                n = l.try_recv() => Some(n),
                _ = tokio::time::sleep(wait) => None,
                _ = shutdown.changed() => return,
            },
            None => tokio::select! {
                _ = tokio::time::sleep(wait) => None,
                _ = shutdown.changed() => return,
            },
        };
        match notice {
            Some(Ok(Some(n))) => match n.channel() {
                COMMITS_CHANNEL => bus.wake(),
                PROGRESS_CHANNEL => dirty = true,
                ROWS_CHANNEL => {
                    for line in n.payload().lines() {
                        let mut parts = line.splitn(3, '|');
                        let (Some(worker), Some(kind), Some(id)) =
                            (parts.next(), parts.next(), parts.next())
                        else {
                            continue;
                        };
                        if leadership.leads(worker) {
                            continue;
                        }
                        if let Some(handle) = handles.iter().find(|h| h.name() == worker) {
                            handle.rows_changed(RowsChanged {
                                aggregate_type: kind.to_string(),
                                aggregate_id: id.to_string(),
                            });
                        }
                    }
                }
                _ => {}
            },
            // The listener lost its connection (notices may be lost): poll, reconnect.
            Some(Ok(None)) | Some(Err(_)) => {
                listener = None;
                dirty = true;
            }
            // The wait ended: the coalescing window closed, or the poll fallback.
            None => dirty = true,
        }
        if dirty && last_refresh.elapsed() >= coalesce {
            if let Err(e) = refresh(&pool, &handles).await {
                warn!(error = %e, "cannot read worker checkpoints");
            }
            last_refresh = Instant::now();
            dirty = false;
        }
    }
}
