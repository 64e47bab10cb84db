//! Staff accounts as the admin catalog shows them, kept in memory between
//! changes. Every request checks its caller's account (004 3.17: disabled,
//! deleted and 踢出 sessions are refused); reading the row for each request
//! cost a query per request. An entry is dropped whenever the catalog applies
//! an account event (here or, through the cluster's notices, anywhere), and
//! lives at most [`FRESH_FOR`] in case a notice is lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use projections::admin_catalog::{AccountRow, AdminCatalog};
use store::worker::RowsChanged;
use tokio::sync::broadcast;

/// The longest an account is trusted from memory.
pub const FRESH_FOR: Duration = Duration::from_secs(10);

/// How many accounts are kept; past it the memory starts again.
const KEPT: usize = 10_000;

/// The accounts of callers seen lately.
#[derive(Clone, Default)]
pub struct AccountCache {
    inner: Arc<Mutex<Entries>>,
}

#[derive(Default)]
struct Entries {
    /// Notices of rows the admin catalog changed, read before every lookup,
    /// so a change is seen by the first request after it was applied.
    changes: Option<broadcast::Receiver<RowsChanged>>,
    /// Bumped by every change: a read that started before one is not kept.
    generation: u64,
    accounts: HashMap<String, (Instant, Option<AccountRow>)>,
}

impl Entries {
    fn forget_all(&mut self) {
        self.generation += 1;
        self.accounts.clear();
    }

    fn take_changes(&mut self) {
        let Some(changes) = self.changes.as_mut() else {
            return;
        };
        let mut changed = false;
        loop {
            match changes.try_recv() {
                Ok(row) => changed |= row.aggregate_type == domain::account::AGGREGATE_TYPE,
                // Missed notices may have been account changes.
                Err(broadcast::error::TryRecvError::Lagged(_)) => changed = true,
                Err(_) => break,
            }
        }
        if changed {
            self.forget_all();
        }
    }
}

impl AccountCache {
    /// A cache emptied by every account change the catalog announces.
    pub fn following(changes: broadcast::Receiver<RowsChanged>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Entries {
                changes: Some(changes),
                ..Entries::default()
            })),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        entries.take_changes();
        entries
    }

    /// The account of `login` (None: no staff account), from memory while fresh.
    pub async fn account(
        &self,
        pool: &sqlx::AnyPool,
        login: &str,
    ) -> Result<Option<AccountRow>, sqlx::Error> {
        let generation = {
            let entries = self.entries();
            if let Some((at, account)) = entries.accounts.get(login) {
                if at.elapsed() < FRESH_FOR {
                    return Ok(account.clone());
                }
            }
            entries.generation
        };
        let account = AdminCatalog::account(pool, login).await?;
        let mut entries = self.entries();
        if entries.generation == generation {
            if entries.accounts.len() >= KEPT {
                entries.accounts.clear();
            }
            entries
                .accounts
                .insert(login.to_string(), (Instant::now(), account.clone()));
        }
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(aggregate_type: &str) -> RowsChanged {
        RowsChanged {
            aggregate_type: aggregate_type.into(),
            aggregate_id: "x".into(),
        }
    }

    #[test]
    fn an_account_change_empties_it_and_other_changes_do_not() {
        let (send, receive) = broadcast::channel(4);
        let cache = AccountCache::following(receive);
        let insert = || {
            cache
                .entries()
                .accounts
                .insert("S0001".into(), (Instant::now(), None));
        };
        insert();
        send.send(changed("interview-task")).unwrap();
        assert_eq!(cache.entries().accounts.len(), 1);
        send.send(changed(domain::account::AGGREGATE_TYPE)).unwrap();
        assert!(cache.entries().accounts.is_empty());
        insert();
        for _ in 0..6 {
            send.send(changed("interview-task")).unwrap();
        }
        assert!(
            cache.entries().accounts.is_empty(),
            "lagged: anything may have changed"
        );
    }
}
