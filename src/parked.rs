//! `facesign parked`: the events workers could not apply (`store::parked`),
//! and an operator's retry or skip of each, both in the operation log.

use domain::log::{EventLogReader, LogPosition};
use projections::ConsumerKind;
use store::parked::{self, Decision, ParkedError, ParkedEvent, Resolution};

use crate::Engine;

impl Engine {
    /// Parked events, oldest first, at most `limit`; with `all`, also those
    /// retried or skipped.
    pub async fn parked(&self, all: bool, limit: i64) -> anyhow::Result<Vec<ParkedEvent>> {
        Ok(parked::list(self.database.read_models(), all, limit).await?)
    }

    /// Has `worker` apply its parked event at `position` once more and marks
    /// it retried by `by`. A failure leaves it parked, with the new error,
    /// and is recorded too.
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
        // A flow that reads the queue waits for the read models to reach the
        // log head: here they are not running, so take their place from their
        // checkpoints, as an instance that does not lead them does.
        for model in entries.iter().filter(|e| e.kind == ConsumerKind::ReadModel) {
            let (checkpoint, applied) = store::worker::load_checkpoint(pool, model.name).await?;
            model.worker.handle().follow(checkpoint, applied);
        }
        let before = LogPosition::new(position.tx_id, position.global_position - 1);
        let event = self
            .log
            .read_after(before, 1)
            .await?
            .into_iter()
            .find(|e| e.position == position)
            .ok_or_else(|| anyhow::anyhow!("the log holds no event at {position}"))?;
        let decision = Decision {
            worker,
            position,
            resolution: Resolution::Retried,
            by,
            note,
        };
        if let Err(e) = entry.worker.retry_parked(&event, decision).await {
            // Somebody else settled it meanwhile: nothing failed.
            if let Some(not_parked @ ParkedError::NotParked { .. }) = e.downcast_ref() {
                anyhow::bail!("{not_parked}");
            }
            let error = format!("{e:#}");
            parked::retry_failed(pool, worker, position, by, &error).await?;
            anyhow::bail!("{worker} still cannot apply the event at {position}: {error}");
        }
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
        let decision = Decision {
            worker,
            position,
            resolution: Resolution::Skipped,
            by,
            note: reason,
        };
        parked::resolve(self.database.read_models(), decision).await
    }
}
