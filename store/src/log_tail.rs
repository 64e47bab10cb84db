//! What every consumer of one instance shares about the log's end: the newest
//! committed position it has heard of, and the most recent events read.
//!
//! Fourteen consumers woken by one commit would otherwise each run the same
//! query for the same new events. Instead the first to ask reads them (once,
//! the others wait for it) and the rest are served from memory. This is sound
//! because a read returns every event between its start and its last row for
//! good: rows below the visibility horizon never change and nothing can appear
//! among them later (see `global_log`), so a cached run of events after a
//! position is exactly the log there.

use std::collections::VecDeque;
use std::sync::Mutex;

use domain::log::{LogPosition, StoredEvent};
use tokio::sync::watch;

/// How many recent events the tail keeps.
pub const TAIL_EVENTS: usize = 4096;

/// The shared end of the log of one instance.
#[derive(Debug)]
pub struct LogTail {
    committed: watch::Sender<LogPosition>,
    run: Mutex<Run>,
    /// Held while one consumer reads past the end of the run, so the others
    /// woken by the same commit wait and then take its rows from memory.
    reading: tokio::sync::Mutex<()>,
}

/// Events that are exactly the log after `after`, in order.
#[derive(Debug, Default)]
struct Run {
    after: LogPosition,
    events: VecDeque<StoredEvent>,
    /// When a read at the end found nothing (the newest commit not visible
    /// yet), and the newest commit heard of then: readers woken by the same
    /// notice take that answer for a moment, unless a newer commit is heard of.
    found_nothing: Option<(std::time::Instant, LogPosition)>,
}

/// How long "nothing past the end" is taken as the answer without asking again.
const NOTHING_NEW_FOR: std::time::Duration = std::time::Duration::from_millis(5);

impl Run {
    fn end(&self) -> LogPosition {
        self.events.back().map_or(self.after, |e| e.position)
    }
}

impl Default for LogTail {
    fn default() -> Self {
        Self {
            committed: watch::channel(LogPosition::START).0,
            run: Mutex::new(Run::default()),
            reading: tokio::sync::Mutex::new(()),
        }
    }
}

impl LogTail {
    /// The newest committed position heard of (a commit here, a notice from
    /// another instance, or the heartbeat).
    pub fn committed(&self) -> LogPosition {
        *self.committed.borrow()
    }

    /// Notified whenever a newer committed position is heard of.
    pub fn subscribe(&self) -> watch::Receiver<LogPosition> {
        self.committed.subscribe()
    }

    /// Records that the log holds `position`; wakes readers when it is news.
    pub fn heard(&self, position: LogPosition) {
        self.committed.send_if_modified(|current| {
            let newer = position > *current;
            if newer {
                *current = position;
            }
            newer
        });
    }

    /// Wakes readers without a position (a notice that carried none).
    pub fn nudge(&self) {
        self.committed.send_modify(|_| {});
    }

    /// Up to `limit` events after `after` when memory holds that part of the log.
    pub fn cached(&self, after: LogPosition, limit: usize) -> Option<Vec<StoredEvent>> {
        let run = self.run.lock().unwrap_or_else(|e| e.into_inner());
        if after < run.after || after >= run.end() {
            return None;
        }
        let skip = run.events.partition_point(|e| e.position <= after);
        Some(run.events.iter().skip(skip).take(limit).cloned().collect())
    }

    /// Whether `after` is the end of what memory holds: a read from there
    /// extends the run (and so is worth making once for everybody).
    pub fn ends_at(&self, after: LogPosition) -> bool {
        let run = self.run.lock().unwrap_or_else(|e| e.into_inner());
        run.end() == after
    }

    /// Whether a read at `after`, the end of the run, found nothing a moment ago.
    pub fn found_nothing_at(&self, after: LogPosition) -> bool {
        let run = self.run.lock().unwrap_or_else(|e| e.into_inner());
        run.end() == after
            && run.found_nothing.is_some_and(|(at, committed)| {
                at.elapsed() < NOTHING_NEW_FOR && committed == self.committed()
            })
    }

    /// Serialises reads past the end of the run.
    pub async fn reading(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.reading.lock().await
    }

    /// Keeps `events`, read as the log right after `after`: appended when they
    /// continue the run, or a new run when they start past it; older reads
    /// (a consumer catching up) leave the run alone.
    pub fn keep(&self, after: LogPosition, events: &[StoredEvent]) {
        let mut run = self.run.lock().unwrap_or_else(|e| e.into_inner());
        let Some(last) = events.last() else {
            if after == run.end() {
                run.found_nothing = Some((std::time::Instant::now(), self.committed()));
            }
            return;
        };
        self.heard(last.position);
        run.found_nothing = None;
        if after == run.end() {
            run.events.extend(events.iter().cloned());
        } else if after > run.end() {
            *run = Run {
                after,
                events: events.iter().cloned().collect(),
                found_nothing: None,
            };
        } else {
            return;
        }
        while run.events.len() > TAIL_EVENTS {
            if let Some(dropped) = run.events.pop_front() {
                run.after = dropped.position;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::log::EventMetadata;

    fn event(position: i64) -> StoredEvent {
        StoredEvent {
            position: LogPosition::new(0, position),
            aggregate_type: "T".into(),
            aggregate_id: "a".into(),
            sequence: position,
            event_type: "E".into(),
            event_version: "1".into(),
            payload: serde_json::json!({}),
            metadata: EventMetadata {
                event_id: uuid::Uuid::nil(),
                actor_id: "test".into(),
                actor_role: "SYSTEM".into(),
                correlation_id: "c".into(),
                causation_id: "c".into(),
                request_id: "r".into(),
                recorded_at: chrono::Utc::now(),
                on_behalf_of: None,
                traceparent: None,
            },
        }
    }

    fn positions(events: &[StoredEvent]) -> Vec<i64> {
        events.iter().map(|e| e.position.global_position).collect()
    }

    #[test]
    fn serves_only_the_part_of_the_log_it_holds() {
        let tail = LogTail::default();
        let at = |p| LogPosition::new(0, p);
        assert!(tail.cached(at(0), 10).is_none(), "nothing read yet");
        tail.keep(at(0), &[event(1), event(2), event(3)]);
        assert_eq!(positions(&tail.cached(at(0), 10).unwrap()), [1, 2, 3]);
        assert_eq!(positions(&tail.cached(at(1), 1).unwrap()), [2]);
        assert!(
            tail.cached(at(3), 10).is_none(),
            "past the end: read the store"
        );
        assert!(tail.ends_at(at(3)));
        assert_eq!(tail.committed(), at(3));
        // A catching-up read of older events does not replace the run.
        tail.keep(at(0), &[event(1)]);
        assert_eq!(positions(&tail.cached(at(0), 10).unwrap()), [1, 2, 3]);
        // A read continuing the run extends it; one starting past it replaces it.
        tail.keep(at(3), &[event(4)]);
        assert_eq!(positions(&tail.cached(at(2), 10).unwrap()), [3, 4]);
        tail.keep(at(9), &[event(10)]);
        assert!(tail.cached(at(3), 10).is_none(), "a gap is never served");
        assert_eq!(positions(&tail.cached(at(9), 10).unwrap()), [10]);
    }

    #[test]
    fn keeps_a_bounded_run() {
        let tail = LogTail::default();
        let events: Vec<_> = (1..=(TAIL_EVENTS as i64 + 10)).map(event).collect();
        tail.keep(LogPosition::START, &events);
        assert!(tail.cached(LogPosition::new(0, 5), 1).is_none());
        let last = TAIL_EVENTS as i64 + 10;
        assert_eq!(
            positions(&tail.cached(LogPosition::new(0, last - 1), 10).unwrap()),
            [last]
        );
    }

    #[test]
    fn nothing_new_is_the_answer_for_a_moment_unless_a_commit_is_heard_of() {
        let tail = LogTail::default();
        let at = |p| LogPosition::new(0, p);
        tail.keep(at(0), &[event(1)]);
        tail.keep(at(1), &[]);
        assert!(tail.found_nothing_at(at(1)));
        assert!(!tail.found_nothing_at(at(0)), "only at the end");
        tail.heard(at(2));
        assert!(!tail.found_nothing_at(at(1)), "news: ask the store again");
        tail.keep(at(1), &[]);
        std::thread::sleep(NOTHING_NEW_FOR);
        assert!(!tail.found_nothing_at(at(1)), "the answer expires");
    }

    #[test]
    fn hears_only_newer_commits() {
        let tail = LogTail::default();
        let mut seen = tail.subscribe();
        tail.heard(LogPosition::new(0, 5));
        assert!(seen.has_changed().unwrap());
        seen.borrow_and_update();
        tail.heard(LogPosition::new(0, 4));
        assert!(!seen.has_changed().unwrap());
        assert_eq!(tail.committed(), LogPosition::new(0, 5));
    }
}
