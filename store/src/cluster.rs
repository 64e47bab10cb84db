//! Running several instances on one Postgres: each background worker (every
//! projection, process manager, the relay, the timer worker) runs on one
//! instance at a time, the holder of a Postgres advisory lock taken on the
//! worker's own connection. When that instance dies its connection closes, the
//! lock is released, and another instance takes the worker over from its
//! durable checkpoint. On SQLite (one instance) every worker simply runs.

use std::collections::BTreeSet;
use std::future::Future;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tokio::sync::watch;
use tracing::{info, warn};

/// This instance's view of the cluster: its id and the workers it leads.
#[derive(Debug, Clone)]
pub struct Leadership {
    instance: Arc<str>,
    postgres: Option<PgConnectOptions>,
    leading: Arc<Mutex<BTreeSet<&'static str>>>,
    poll: Duration,
}

/// The advisory-lock key of a worker: a stable hash of its name.
pub fn lock_key(worker: &str) -> i64 {
    // FNV-1a, so every instance (and every build) derives the same key.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("facesign:{worker}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

impl Leadership {
    /// Leadership over `database_url`: advisory locks on Postgres, none on SQLite.
    pub fn new(
        database_url: &str,
        instance: impl Into<String>,
        poll: Duration,
    ) -> Result<Self, sqlx::Error> {
        let postgres = if database_url.starts_with("postgres") {
            Some(
                PgConnectOptions::from_str(database_url)?
                    .application_name("facesign-worker-lease")
                    .disable_statement_logging(),
            )
        } else {
            None
        };
        Ok(Self {
            instance: Arc::from(instance.into()),
            postgres,
            leading: Arc::new(Mutex::new(BTreeSet::new())),
            poll,
        })
    }

    /// This instance's id.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Whether several instances may share the database (Postgres).
    pub fn is_clustered(&self) -> bool {
        self.postgres.is_some()
    }

    /// The workers this instance leads now.
    pub fn leading(&self) -> Vec<&'static str> {
        self.leading
            .lock()
            .expect("leadership")
            .iter()
            .copied()
            .collect()
    }

    /// Whether this instance leads `worker`.
    pub fn leads(&self, worker: &str) -> bool {
        self.leading.lock().expect("leadership").contains(worker)
    }

    fn set(&self, worker: &'static str, leads: bool) {
        let mut leading = self.leading.lock().expect("leadership");
        if leads {
            leading.insert(worker);
        } else {
            leading.remove(worker);
        }
    }

    /// Runs `work` (given a stop signal) whenever this instance holds the lock
    /// of `worker`, until `shutdown`. Losing the lock's connection stops the
    /// work at once; the lock is tried again every poll interval.
    pub async fn lead<F, Fut>(
        &self,
        worker: &'static str,
        mut shutdown: watch::Receiver<bool>,
        work: F,
    ) where
        F: Fn(watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = ()>,
    {
        let Some(options) = &self.postgres else {
            self.set(worker, true);
            info!(worker, instance = %self.instance, "leading worker");
            work(shutdown).await;
            self.set(worker, false);
            info!(worker, instance = %self.instance, "released worker");
            return;
        };
        let key = lock_key(worker);
        loop {
            if *shutdown.borrow() {
                return;
            }
            let mut conn = match options.connect().await {
                Ok(conn) => conn,
                Err(e) => {
                    warn!(worker, error = %e, "cannot connect to take the worker lock");
                    if pause(&mut shutdown, self.poll * 5).await {
                        return;
                    }
                    continue;
                }
            };
            let acquired: bool = match sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(&mut conn)
                .await
            {
                Ok(acquired) => acquired,
                Err(e) => {
                    warn!(worker, error = %e, "cannot take the worker lock");
                    false
                }
            };
            if !acquired {
                let _ = conn.close().await;
                if pause(&mut shutdown, self.poll).await {
                    return;
                }
                continue;
            }
            info!(worker, instance = %self.instance, "leading worker");
            self.set(worker, true);
            let (stop, stopped) = watch::channel(false);
            let running = work(stopped);
            tokio::pin!(running);
            let lost = loop {
                tokio::select! {
                    () = &mut running => break false,
                    _ = tokio::time::sleep(self.poll) => {
                        if conn.ping().await.is_err() {
                            break true;
                        }
                    }
                    _ = shutdown.changed() => {
                        if *shutdown.borrow() {
                            break false;
                        }
                    }
                }
            };
            let _ = stop.send(true);
            running.await;
            self.set(worker, false);
            info!(worker, instance = %self.instance, "released worker");
            if lost {
                warn!(
                    worker,
                    "lost the worker lock's connection; stopped the worker"
                );
                continue;
            }
            let _: Result<bool, _> = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
                .bind(key)
                .fetch_one(&mut conn)
                .await;
            let _ = conn.close().await;
            return;
        }
    }
}

/// Sleeps `duration` unless shutdown comes first; true on shutdown.
async fn pause(shutdown: &mut watch::Receiver<bool>, duration: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(duration) => *shutdown.borrow(),
        _ = shutdown.changed() => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        assert_eq!(lock_key("task_board"), lock_key("task_board"));
        assert_ne!(lock_key("task_board"), lock_key("kafka_relay"));
    }
}
