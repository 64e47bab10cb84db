//! What an instance of a cluster (several instances on one Postgres) does for
//! the workers it does not lead: it follows their leaders' progress, so its
//! mutations can wait for read-your-writes and its subscriptions see changes
//! made anywhere. Wake-ups come by LISTEN/NOTIFY; polling is the fallback.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::log::LogPosition;
use sqlx::postgres::PgListener;
use sqlx::AnyPool;
use store::cluster::Leadership;
use store::global_log::COMMITS_CHANNEL;
use store::worker::{
    announce_progress as announce, parse_progress, RowsChanged, PROGRESS_CHANNEL, ROWS_CHANNEL,
};
use store::WorkerHandle;
use store::{CommandBus, GlobalLog};
use tokio::sync::watch;
use tracing::warn;

/// Publishes every worker's stored checkpoint to its local handle (forward
/// only; a worker led here publishes its own progress anyway).
async fn refresh(pool: &AnyPool, handles: &[WorkerHandle]) -> Result<(), sqlx::Error> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT name, tx_id, global_position, events_applied FROM worker_checkpoints",
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
    handles: Vec<WorkerHandle>,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut listener: Option<PgListener> = None;
    // Progress notices carry the positions; the stored checkpoints are read
    // at start, every `poll` and after a lost connection (notices may be lost).
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
            Duration::ZERO
        } else {
            poll.saturating_sub(last_refresh.elapsed())
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
                COMMITS_CHANNEL => bus.wake(n.payload().parse().ok()),
                PROGRESS_CHANNEL => {
                    for (worker, checkpoint, applied) in parse_progress(n.payload()) {
                        if leadership.leads(worker) {
                            continue;
                        }
                        if let Some(handle) = handles.iter().find(|h| h.name() == worker) {
                            handle.follow(checkpoint, applied);
                        }
                    }
                }
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
            // The poll fallback.
            None => dirty = true,
        }
        if dirty {
            if let Err(e) = refresh(&pool, &handles).await {
                warn!(error = %e, "cannot read worker checkpoints");
            }
            last_refresh = Instant::now();
            dirty = false;
        }
    }
}

/// Asks the store for the newest commit every `interval` until shutdown, so a
/// commit notice lost between instances delays readers by one beat at most.
pub async fn heartbeat(log: GlobalLog, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(e) = log.heartbeat().await {
            warn!(error = %e, "heartbeat cannot read the newest commit");
        }
    }
}

/// How long progress is gathered before one notice tells the cluster.
const PROGRESS_COALESCE: Duration = Duration::from_millis(10);

/// Tells other instances, in one notice per few milliseconds at most, where
/// the workers this instance leads stand (they wait on them for
/// read-your-writes). A worker that passed events needing nothing has not
/// written its checkpoint yet; the notice is how the others learn of it.
pub async fn announce_progress(
    leadership: Leadership,
    pool: AnyPool,
    handles: Vec<WorkerHandle>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut statuses: Vec<_> = handles.iter().map(|h| h.subscribe_status()).collect();
    let mut sent: HashMap<&'static str, LogPosition> = HashMap::new();
    if statuses.is_empty() {
        return;
    }
    loop {
        let changed =
            futures_util::future::select_all(statuses.iter_mut().map(|s| Box::pin(s.changed())));
        tokio::select! {
            (result, _, _) = changed => {
                if result.is_err() {
                    // A worker is gone (the engine is stopping).
                    return;
                }
            }
            _ = shutdown.changed() => return,
        }
        tokio::time::sleep(PROGRESS_COALESCE).await;
        for status in &mut statuses {
            status.borrow_and_update();
        }
        let progress: Vec<(&str, LogPosition, i64)> = handles
            .iter()
            .filter(|h| leadership.leads(h.name()))
            .filter_map(|h| {
                let (checkpoint, applied) = h.status().into_parts();
                (sent.get(h.name()) != Some(&checkpoint)).then_some((h.name(), checkpoint, applied))
            })
            .collect();
        match announce(&pool, &progress).await {
            Ok(()) => {
                for (name, checkpoint, _) in &progress {
                    if let Some(h) = handles.iter().find(|h| h.name() == *name) {
                        sent.insert(h.name(), *checkpoint);
                    }
                }
            }
            Err(e) => {
                warn!(error = %e, "cannot announce progress; other instances read it at their next poll")
            }
        }
    }
}
