//! Kafka: the relay that publishes the global log to `facesign.<aggregate-type>.v1`,
//! and the consumer of `credit.decisions.v1` and the core system's topics. Both are off unless brokers are
//! configured (`FACESIGN_KAFKA_BROKERS`). The message formats are in docs/kafka.md.

pub mod consumer;
pub mod contract;
pub mod relay;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::types::RDKafkaErrorCode;

/// Where the brokers are and how topics are made.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// `host:port[,host:port]` (FACESIGN_KAFKA_BROKERS).
    pub brokers: String,
    /// Partitions of topics the engine creates (FACESIGN_KAFKA_PARTITIONS).
    pub partitions: i32,
    /// Replication factor of topics the engine creates (FACESIGN_KAFKA_REPLICATION).
    pub replication: i32,
    /// How long the producer tries one message before it reports a failure.
    pub message_timeout: Duration,
    /// Events per relay round.
    pub relay_batch_size: u32,
    /// Consumer group of the credit-decision consumer.
    pub group_id: String,
    /// Whether the engine creates missing topics (FACESIGN_KAFKA_CREATE_TOPICS);
    /// off where operators create them.
    pub create_topics: bool,
}

impl KafkaSettings {
    /// Defaults for `brokers`.
    pub fn for_brokers(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            partitions: 3,
            replication: 1,
            message_timeout: Duration::from_secs(10),
            relay_batch_size: 1000,
            group_id: "facesign".to_string(),
            create_topics: true,
        }
    }

    /// A client configuration with the brokers set.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        config
    }
}

/// The tansu broker binary (FACESIGN_TANSU, the PATH or ~/.cargo/bin), if installed.
pub fn find_tansu() -> Option<std::path::PathBuf> {
    if let Ok(path) = std::env::var("FACESIGN_TANSU") {
        return Some(path.into());
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let candidates = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(std::path::PathBuf::from)
        .chain([std::path::PathBuf::from(format!("{home}/.cargo/bin"))])
        .map(|dir| dir.join("tansu"))
        .collect::<Vec<_>>();
    candidates.into_iter().find(|p| p.is_file())
}

/// The topic of an aggregate type's events.
pub fn topic_for(aggregate_type: &str) -> String {
    format!("facesign.{aggregate_type}.v1")
}

/// The topic the credit system writes its decisions to.
pub const CREDIT_DECISIONS: &str = "credit.decisions.v1";

/// Where unreadable or refused credit decisions go, with the reason.
pub const CREDIT_DECISIONS_DLQ: &str = "credit.decisions.v1.dlq";

/// The topic the core system writes disbursement results to (issue 21).
pub const CORE_DISBURSEMENTS: &str = "core.disbursements.v1";

/// The topic the core system writes received repayments and failed auto-debits to.
pub const CORE_REPAYMENTS: &str = "core.repayments.v1";

/// Creates topics that are missing (brokers like tansu do not auto-create),
/// remembering which exist so each is asked for once per process.
pub struct Topics {
    admin: AdminClient<DefaultClientContext>,
    create: bool,
    partitions: i32,
    replication: i32,
    known: Mutex<HashSet<String>>,
}

impl Topics {
    /// An admin client on the configured brokers.
    pub fn new(settings: &KafkaSettings) -> anyhow::Result<Self> {
        Ok(Self {
            admin: settings.client_config().create()?,
            create: settings.create_topics,
            partitions: settings.partitions,
            replication: settings.replication,
            known: Mutex::new(HashSet::new()),
        })
    }

    /// Makes sure every topic in `names` exists.
    pub async fn ensure(&self, names: &[String]) -> anyhow::Result<()> {
        if !self.create {
            return Ok(());
        }
        let missing: Vec<&String> = {
            let known = self.known.lock().expect("topic cache");
            names.iter().filter(|n| !known.contains(*n)).collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let new: Vec<NewTopic<'_>> = missing
            .iter()
            .map(|n| {
                NewTopic::new(
                    n,
                    self.partitions,
                    TopicReplication::Fixed(self.replication),
                )
            })
            .collect();
        let options = AdminOptions::new()
            .operation_timeout(Some(Duration::from_secs(10)))
            .request_timeout(Some(Duration::from_secs(15)));
        let created = tokio::time::timeout(
            Duration::from_secs(20),
            self.admin.create_topics(&new, &options),
        )
        .await
        .map_err(|_| anyhow::anyhow!("the brokers did not answer a topic creation in time"))??;
        for result in created {
            match result {
                Ok(name) => {
                    self.known.lock().expect("topic cache").insert(name);
                }
                Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                    self.known.lock().expect("topic cache").insert(name);
                }
                Err((name, code)) => anyhow::bail!("cannot create topic {name}: {code}"),
            }
        }
        Ok(())
    }
}
