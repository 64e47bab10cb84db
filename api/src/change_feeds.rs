//! Subscriptions read a change once and fan it out. Each feed is one task per
//! process that follows a read model's change notices, reads what changed a
//! single time, and broadcasts it; subscribers only filter what they receive
//! by whose record it is. A change therefore costs the same few reads whether
//! one socket or five thousand subscriptions listen (issue 31: one socket's
//! 5,000 subscriptions turned one task change into 5,000 reads).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use projections::call_queue::CallQueue;
use projections::task_board::{TaskBoard, TaskBoardRow};
use tokio::sync::broadcast;

use crate::error::ApiError;
use crate::state::AppState;

/// Changes a slow subscriber may fall behind by before it skips ahead.
const BACKLOG: usize = 256;

/// A task-board row as it changed, with the seats a call for it rings or
/// rang (what ownership needs for seats), read once per change.
#[derive(Debug)]
pub struct TaskChange {
    /// The row after the change.
    pub row: TaskBoardRow,
    /// Seats offered a call for the task.
    pub called_seats: Vec<String>,
}

/// The feeds of this process.
#[derive(Default)]
pub struct ChangeFeeds {
    tasks: OnceLock<broadcast::Sender<Arc<TaskChange>>>,
    calls: OnceLock<CallFeed>,
}

/// Per call id, the latest view of the call for every subscriber of it.
struct CallFeed {
    watched: Arc<Mutex<HashMap<String, broadcast::Sender<Arc<crate::dispatch::InboundCallView>>>>>,
}

impl ChangeFeeds {
    /// Every change of a task-board row from now on (the feed starts with
    /// its first subscriber).
    pub fn tasks(
        &self,
        state: &AppState,
    ) -> Result<broadcast::Receiver<Arc<TaskChange>>, ApiError> {
        if let Some(sender) = self.tasks.get() {
            return Ok(sender.subscribe());
        }
        let changes = state.row_changes(projections::task_board::NAME)?;
        let sender = self.tasks.get_or_init(|| {
            let (sender, _) = broadcast::channel(BACKLOG);
            tokio::spawn(read_task_changes(state.clone(), changes, sender.clone()));
            sender
        });
        Ok(sender.subscribe())
    }

    /// Every new view of call `call_id` from now on: each change of the queue
    /// recomputes each watched call once, for all its subscribers.
    pub fn call(
        &self,
        state: &AppState,
        call_id: &str,
    ) -> Result<broadcast::Receiver<Arc<crate::dispatch::InboundCallView>>, ApiError> {
        let feed = match self.calls.get() {
            Some(feed) => feed,
            None => {
                let changes = state.row_changes(projections::call_queue::NAME)?;
                self.calls.get_or_init(|| {
                    let watched = Arc::new(Mutex::new(HashMap::new()));
                    tokio::spawn(read_call_changes(state.clone(), changes, watched.clone()));
                    CallFeed { watched }
                })
            }
        };
        let mut watched = feed.watched.lock().unwrap_or_else(|e| e.into_inner());
        Ok(watched
            .entry(call_id.to_string())
            .or_insert_with(|| broadcast::channel(BACKLOG).0)
            .subscribe())
    }
}

/// Reads each changed task once, while anyone listens.
async fn read_task_changes(
    state: AppState,
    mut changes: broadcast::Receiver<store::worker::RowsChanged>,
    sender: broadcast::Sender<Arc<TaskChange>>,
) {
    loop {
        let changed = match changes.recv().await {
            Ok(changed) => changed,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "the task feed fell behind the task board's changes");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if changed.aggregate_type != domain::interview_task::AGGREGATE_TYPE
            || sender.receiver_count() == 0
        {
            continue;
        }
        let pool = state.database.read_models();
        let row = match TaskBoard::get(pool, &changed.aggregate_id).await {
            Ok(Some(row)) => row,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, task = %changed.aggregate_id, "cannot read a changed task for its subscribers");
                continue;
            }
        };
        let called_seats = CallQueue::seats_called_for(pool, &row.task_id)
            .await
            .unwrap_or_default();
        count_read(&state, "tasks");
        let _ = sender.send(Arc::new(TaskChange { row, called_seats }));
    }
}

/// Recomputes every watched call once per change of the queue.
async fn read_call_changes(
    state: AppState,
    mut changes: broadcast::Receiver<store::worker::RowsChanged>,
    watched: Arc<Mutex<HashMap<String, broadcast::Sender<Arc<crate::dispatch::InboundCallView>>>>>,
) {
    loop {
        match changes.recv().await {
            Ok(changed) if changed.aggregate_type == domain::inbound_call::AGGREGATE_TYPE => {}
            Ok(_) => continue,
            // Missed notices: the queue changed somehow; recompute.
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
        let calls: Vec<(String, broadcast::Sender<_>)> = {
            let mut watched = watched.lock().unwrap_or_else(|e| e.into_inner());
            // Nobody listens to these any more.
            watched.retain(|_, sender| sender.receiver_count() > 0);
            watched
                .iter()
                .map(|(id, sender)| (id.clone(), sender.clone()))
                .collect()
        };
        for (call_id, sender) in calls {
            if let Ok(view) = crate::dispatch::call_view(&state, &call_id).await {
                count_read(&state, "calls");
                let _ = sender.send(Arc::new(view));
            }
        }
    }
}

/// Counts one read of a feed: per change and record, whatever the number of subscribers.
fn count_read(state: &AppState, feed: &str) {
    state.metrics.increment(
        "facesign_change_feed_reads_total",
        "Reads of a changed record for its subscribers: one per change and record, however many subscribe.",
        store::metrics::labels(&[("feed", feed)]),
        1,
    );
}
