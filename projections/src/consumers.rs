//! The consumers of the global log an instance runs, by name and kind: what
//! readiness, metrics, subscriptions and the API's wait policy iterate over.
//! The list itself is built once, in the engine's registry (`src/registry.rs`).

use std::sync::Arc;

use store::WorkerHandle;

/// What a consumer does with the events it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerKind {
    /// Keeps tables that queries read; rebuilt and verified from the log.
    ReadModel,
    /// Links aggregates: sends the commands an event calls for.
    Flow,
    /// Publishes the log outside (Kafka).
    Relay,
}

impl ConsumerKind {
    /// The kind as readiness reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadModel => "read_model",
            Self::Flow => "flow",
            Self::Relay => "relay",
        }
    }
}

/// One consumer of the log and its progress.
#[derive(Debug, Clone)]
pub struct Consumer {
    /// Its name: checkpoint row, worker lock, metrics label.
    pub name: &'static str,
    /// What it does.
    pub kind: ConsumerKind,
    /// The tables it owns (read models only).
    pub tables: &'static [&'static str],
    /// Whether a mutation waits for it before answering (read-your-writes).
    pub awaited: bool,
    /// Its progress.
    pub handle: WorkerHandle,
}

/// Every consumer of this instance, in registry order; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Consumers(Arc<Vec<Consumer>>);

impl Consumers {
    /// The consumers, as the registry lists them.
    pub fn new(consumers: Vec<Consumer>) -> Self {
        Self(Arc::new(consumers))
    }

    /// All of them.
    pub fn iter(&self) -> impl Iterator<Item = &Consumer> {
        self.0.iter()
    }

    /// The progress of the consumer named `name`.
    pub fn handle(&self, name: &str) -> Option<&WorkerHandle> {
        self.0.iter().find(|c| c.name == name).map(|c| &c.handle)
    }

    /// The consumers of `kind` a mutation waits for.
    pub fn awaited(&self, kind: ConsumerKind) -> impl Iterator<Item = &WorkerHandle> {
        self.0
            .iter()
            .filter(move |c| c.awaited && c.kind == kind)
            .map(|c| &c.handle)
    }

    /// Every handle (readiness, metrics, following a cluster).
    pub fn handles(&self) -> Vec<WorkerHandle> {
        self.0.iter().map(|c| c.handle.clone()).collect()
    }
}
