//! `facesign replay --verify`: rebuild every projection from the log into a
//! scratch database and compare it with the live read models, row for row.
//!
//! The scratch database is an in-memory SQLite: the projections' SQL is shared
//! by both backends, so one scratch serves a Postgres or SQLite deployment. The
//! rebuild stops at the live projection's checkpoint, so the two are compared at
//! the same point of the log; if the live one moves meanwhile, it is tried again.

use domain::log::{EventLogReader, LogPosition, StoredEvent};
use projections::{Projection, ProjectionRunner};
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use store::worker::load_checkpoint;
use store::GlobalLog;
use tracing::info;

use crate::Engine;

/// The log up to a bound: what the live projection had seen.
#[derive(Clone)]
struct LogUpTo {
    log: GlobalLog,
    bound: LogPosition,
}

impl EventLogReader for LogUpTo {
    type Error = store::StoreError;

    async fn read_after(
        &self,
        after: LogPosition,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, Self::Error> {
        let mut events = self.log.read_after(after, limit).await?;
        events.retain(|e| e.position <= self.bound);
        Ok(events)
    }

    async fn head(&self) -> Result<LogPosition, Self::Error> {
        Ok(self.bound)
    }
}

async fn scratch() -> anyhow::Result<AnyPool> {
    sqlx::any::install_default_drivers();
    // One connection, kept forever: an in-memory database lives as long as it.
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect("sqlite::memory:")
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    Ok(pool)
}

/// Rebuilds the read model `P` into a scratch database up to the live
/// checkpoint and compares its snapshot with the live one.
pub(crate) async fn verify_read_model<P: Projection + Default>(
    engine: &Engine,
) -> anyhow::Result<Option<String>> {
    let live = engine.database.read_models().clone();
    let name = P::default().name();
    for _attempt in 0..3 {
        let (checkpoint, _) = load_checkpoint(&live, name).await?;
        let live_rows = P::snapshot(&live).await?;
        let scratch = scratch().await?;
        let runner = ProjectionRunner::new(
            P::default(),
            scratch.clone(),
            LogUpTo {
                log: engine.log.clone(),
                bound: checkpoint,
            },
            engine.settings.projection_batch_size,
        )
        // Every event, whatever the projection says it reads: a filter that
        // drops one the model needs makes the two differ.
        .every_event();
        let applied = runner.catch_up().await?;
        let rebuilt = P::snapshot(&scratch).await?;
        scratch.close().await;
        if load_checkpoint(&live, name).await?.0 != checkpoint {
            info!(
                projection = name,
                "live projection advanced during verification; again"
            );
            continue;
        }
        info!(
            projection = name,
            applied,
            rows = rebuilt.len(),
            "rebuilt for comparison"
        );
        if live_rows == rebuilt {
            return Ok(None);
        }
        let first = live_rows
            .iter()
            .zip(&rebuilt)
            .position(|(a, b)| a != b)
            .unwrap_or(live_rows.len().min(rebuilt.len()));
        return Ok(Some(format!(
            "{name}: live has {} rows, the rebuild at {checkpoint} has {}; first difference at row {first}",
            live_rows.len(),
            rebuilt.len()
        )));
    }
    anyhow::bail!("{name} kept advancing; verify while the load is lower")
}

/// The `reservations` table as the log says it must be: every claim and release
/// applied in log order (domain/src/reservation.rs). Sorted (scope, key, holder).
async fn reservations_from_log(log: &GlobalLog) -> anyhow::Result<Vec<(String, String, String)>> {
    use domain::reservation::{of_stored, Reservation};
    use std::collections::BTreeMap;
    let mut held: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    let mut after = LogPosition::START;
    loop {
        let events = log.read_after(after, 1000).await?;
        let Some(last) = events.last() else { break };
        after = last.position;
        for event in &events {
            for reservation in of_stored(&event.aggregate_type, &event.payload)? {
                let holder = (event.aggregate_type.clone(), event.aggregate_id.clone());
                match reservation {
                    Reservation::Claim { scope, key } => {
                        held.entry((scope.name.to_string(), key)).or_insert(holder);
                    }
                    Reservation::Release { scope } => {
                        held.retain(|(s, _), h| !(s == scope.name && *h == holder));
                    }
                }
            }
        }
    }
    Ok(held
        .into_iter()
        .map(|((scope, key), (_, id))| (scope, key, id))
        .collect())
}

async fn verify_reservations(engine: &Engine) -> anyhow::Result<Option<String>> {
    for _attempt in 0..3 {
        let head = engine.log.latest_committed().await?;
        let expected = reservations_from_log(&engine.log).await?;
        let live: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT scope, key, aggregate_id FROM reservations ORDER BY scope, key, aggregate_id",
        )
        .fetch_all(engine.database.read_models())
        .await?;
        if engine.log.latest_committed().await? != head {
            continue;
        }
        if live == expected {
            return Ok(None);
        }
        let first = live
            .iter()
            .zip(&expected)
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("{a:?} where the log says {b:?}"))
            .unwrap_or_else(|| "a row only one side has".to_string());
        return Ok(Some(format!(
            "reservations: the table holds {} keys, the log {}; {first}",
            live.len(),
            expected.len()
        )));
    }
    anyhow::bail!("the log kept advancing; verify reservations while the load is lower")
}

impl Engine {
    /// Rebuilds every read model into scratch tables and compares them with the
    /// live ones, and the reservations with the log; one line per difference.
    pub async fn verify(&self) -> anyhow::Result<Vec<String>> {
        let mut differences = Vec::new();
        for entry in crate::registry::consumers(self)? {
            if let Some(verify) = entry.verify {
                differences.extend(verify(self).await?);
            }
        }
        differences.extend(verify_reservations(self).await?);
        Ok(differences)
    }
}
