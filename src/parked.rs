//! `facesign parked`: the events workers could not apply (`store::parked`),
//! and an operator's retry or skip of each, both in the operation log.

use domain::log::{EventLogReader, LogPosition};
use store::parked::{self, ParkedError, ParkedEvent, Resolution};

use crate::Engine;

impl Engine {
    /// Parked events, oldest first, at most `limit`; with `all`, also those
    /// retried or skipped.
    pub async fn parked(&self, all: bool, limit: i64) -> anyhow::Result<Vec<ParkedEvent>> {
        Ok(parked::list(self.database.read_models(), all, limit).await?)
    }

    /// Has `worker` apply its parked event at `position` once more; marks it
    /// retried by `by` when that succeeds. A failure leaves it parked, with
    /// the new error, and is recorded too.
    pub async fn retry_parked(
        &self,
        worker: &str,
        position: LogPosition,
        by: &str,
        note: &str,
    ) -> anyhow::Result<()> {
        let pool = self.database.read_models();
        parked::find(pool, worker, position).await?;
        let entries = crate::registry::consumers(self)?;
        let entry = entries
            .iter()
            .find(|e| e.name == worker)
            .ok_or_else(|| anyhow::anyhow!("no worker named {worker} runs here"))?;
        let before = LogPosition::new(position.tx_id, position.global_position - 1);
        let event = self
            .log
            .read_after(before, 1)
            .await?
            .into_iter()
            .find(|e| e.position == position)
            .ok_or_else(|| anyhow::anyhow!("the log holds no event at {position}"))?;
        if let Err(e) = entry.worker.apply_parked(&event).await {
            let error = format!("{e:#}");
            parked::retry_failed(pool, worker, position, by, &error).await?;
            anyhow::bail!("{worker} still cannot apply the event at {position}: {error}");
        }
        parked::resolve(pool, worker, position, Resolution::Retried, by, note).await?;
        Ok(())
    }

    /// Leaves `worker`'s parked event at `position` unapplied, on `by`'s word,
    /// for `reason`.
    pub async fn skip_parked(
        &self,
        worker: &str,
        position: LogPosition,
        by: &str,
        reason: &str,
    ) -> Result<(), ParkedError> {
        parked::resolve(
            self.database.read_models(),
            worker,
            position,
            Resolution::Skipped,
            by,
            reason,
        )
        .await
    }
}
