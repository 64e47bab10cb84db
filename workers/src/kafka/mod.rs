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
    /// librdkafka properties set on every client (FACESIGN_KAFKA_PROPERTIES):
    /// `security.protocol`, `ssl.*`, `sasl.*` and the like.
    pub properties: Vec<(String, String)>,
}

/// Properties the engine sets itself, for what it promises (the brokers it
/// was given, exactly-once acknowledgements, its own offsets and group).
const ENGINE_PROPERTIES: [&str; 5] = [
    "bootstrap.servers",
    "group.id",
    "enable.idempotence",
    "acks",
    "enable.auto.commit",
];

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
            properties: Vec::new(),
        }
    }

    /// Reads `name=value;name=value` (FACESIGN_KAFKA_PROPERTIES), refusing
    /// an entry without `=` and the properties the engine sets itself.
    pub fn parse_properties(text: &str) -> Result<Vec<(String, String)>, String> {
        let mut properties = Vec::new();
        let entries = text.split(';').map(str::trim).filter(|e| !e.is_empty());
        for (number, entry) in entries.enumerate() {
            // The entry itself is not repeated: it may be a password.
            let (name, value) = entry
                .split_once('=')
                .ok_or_else(|| format!("entry {} is not name=value", number + 1))?;
            let name = name.trim();
            if ENGINE_PROPERTIES.contains(&name) {
                return Err(format!("{name} is set by the engine, not here"));
            }
            properties.push((name.to_string(), value.trim().to_string()));
        }
        Ok(properties)
    }

    /// A client configuration with the brokers and the properties set.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        for (name, value) in &self.properties {
            config.set(name, value);
        }
        config.set("bootstrap.servers", &self.brokers);
        config
    }

    /// Asks the brokers for their metadata once, within `timeout`: Ok, or
    /// why not in librdkafka's own words (a refused certificate, a failed
    /// login, an unknown property), which a timeout alone would not say.
    pub async fn probe(&self, timeout: Duration) -> Result<(), String> {
        let config = self.client_config();
        tokio::task::spawn_blocking(move || {
            use rdkafka::consumer::Consumer;
            let client: rdkafka::consumer::BaseConsumer<Probe> = config
                .create_with_context(Probe::default())
                .map_err(|e| e.to_string())?;
            match client.fetch_metadata(None, timeout) {
                Ok(_) => Ok(()),
                Err(error) => {
                    // Connection errors arrive as events: serve them.
                    for _ in 0..10 {
                        if client.context().said.lock().expect("probe").is_some() {
                            break;
                        }
                        let _ = client.poll(Duration::from_millis(100));
                    }
                    let said = client.context().said.lock().expect("probe").take();
                    Err(said.unwrap_or_else(|| error.to_string()))
                }
            }
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

/// Keeps the last error librdkafka reported while probing.
#[derive(Default)]
struct Probe {
    said: Mutex<Option<String>>,
}

impl rdkafka::ClientContext for Probe {
    /// librdkafka says what went wrong on a connection (a handshake, a
    /// login) in its log, not in the error it returns.
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, facility: &str, message: &str) {
        use rdkafka::config::RDKafkaLogLevel as Level;
        let serious = matches!(
            level,
            Level::Emerg | Level::Alert | Level::Critical | Level::Error | Level::Warning
        );
        if serious {
            *self.said.lock().expect("probe") = Some(format!("{facility}: {message}"));
        }
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        let mut said = self.said.lock().expect("probe");
        if said.is_none() {
            *said = Some(format!("{error}: {reason}"));
        }
    }
}

impl rdkafka::consumer::ConsumerContext for Probe {}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_are_read_and_the_engine_s_own_refused() {
        let read = KafkaSettings::parse_properties(
            " security.protocol=sasl_ssl ; sasl.password=a=b;ssl.ca.location=/etc/ca.pem;",
        )
        .unwrap();
        assert_eq!(
            read,
            [
                ("security.protocol", "sasl_ssl"),
                ("sasl.password", "a=b"),
                ("ssl.ca.location", "/etc/ca.pem"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert_eq!(
            KafkaSettings::parse_properties("acks=1").unwrap_err(),
            "acks is set by the engine, not here"
        );
        assert!(KafkaSettings::parse_properties("oops").is_err());
        let mut settings = KafkaSettings::for_brokers("b:9092");
        settings.properties = read;
        let config = settings.client_config();
        assert_eq!(config.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(config.get("bootstrap.servers"), Some("b:9092"));
    }
}
