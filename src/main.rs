//! The `facesign` command: serve, migrate, replay, schema, seed-demo.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use api::query_limits::QueryLimits;
use clap::{Args, Parser, Subcommand};
use domain::log::LogPosition;
use domain::role::Role;
use facesign::settings::{DEMO_JWT_SECRET, MIN_JWT_SECRET_LEN};
use facesign::{Engine, Settings};
use secrecy::SecretString;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "facesign",
    version,
    about = "Event-sourced workflow engine for remote loan interviews"
)]
struct Cli {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct DatabaseArgs {
    /// Event store and read models: postgres://… or sqlite://…
    #[arg(
        long,
        env = "FACESIGN_DATABASE_URL",
        default_value = "sqlite://facesign.db",
        global = true
    )]
    database_url: String,
    /// Connections per pool.
    #[arg(
        long,
        env = "FACESIGN_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    max_connections: u32,
    /// Postgres TLS: disable, allow, prefer, require, verify-ca or
    /// verify-full (production: verify-full).
    #[arg(long, env = "FACESIGN_DATABASE_SSL_MODE", global = true)]
    database_ssl_mode: Option<String>,
    /// The CA certificate (PEM) the Postgres server's certificate must chain to.
    #[arg(long, env = "FACESIGN_DATABASE_SSL_ROOT_CERT", global = true)]
    database_ssl_root_cert: Option<std::path::PathBuf>,
    /// Whether a start applies pending migrations; off (several instances
    /// behind a migration job), it waits for `facesign migrate` instead.
    #[arg(long, env = "FACESIGN_MIGRATE_ON_START", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    migrate_on_start: bool,
    /// Seconds a start waits for the database to answer (and, with migrations
    /// off at start, to be migrated) before it fails.
    #[arg(
        long,
        env = "FACESIGN_DATABASE_WAIT_SECS",
        default_value_t = 0,
        global = true
    )]
    database_wait_secs: u64,
}

// Parsed once at start and matched once: the size of the largest variant
// costs nothing worth boxing every flag for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (GraphQL at /graphql, the console at /console).
    Serve {
        /// Listen address.
        #[arg(long, env = "FACESIGN_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Seed demo data first when the log is empty.
        #[arg(long)]
        demo: bool,
        /// Attempts per command before it answers CONFLICT.
        #[arg(long, env = "FACESIGN_COMMAND_MAX_ATTEMPTS", default_value_t = 5)]
        command_max_attempts: u32,
        /// How long a mutation waits for its read model, in milliseconds.
        #[arg(
            long,
            env = "FACESIGN_READ_YOUR_WRITES_TIMEOUT_MS",
            default_value_t = 5000
        )]
        read_your_writes_timeout_ms: u64,
        /// How many days ahead an appointment may be booked (001: one month).
        #[arg(long, env = "FACESIGN_BOOKING_HORIZON_DAYS", default_value_t = 30)]
        booking_horizon_days: i64,
        /// How many times the main borrower may reschedule (001: 2).
        #[arg(long, env = "FACESIGN_MAX_RESCHEDULES", default_value_t = 2)]
        max_reschedules: u32,
        /// Whether GraphQL introspection (and so GraphiQL's docs) is on.
        #[arg(long, env = "FACESIGN_GRAPHQL_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
        introspection: bool,
        /// Requests per second each client may sustain.
        #[arg(long, env = "FACESIGN_RATE_LIMIT_PER_SECOND", default_value_t = 50)]
        rate_limit_per_second: u32,
        /// Requests a client may burst above that.
        #[arg(long, env = "FACESIGN_RATE_LIMIT_BURST", default_value_t = 100)]
        rate_limit_burst: u32,
        /// Face similarity (0 to 1) an identity check must exceed (000 客户核身: 对比分数大于系统设定分数).
        #[arg(
            long,
            env = "FACESIGN_FACE_SIMILARITY_THRESHOLD",
            default_value_t = 0.80
        )]
        face_similarity_threshold: f64,
        /// Percentage of passes drawn into quality control (001 抽样检查).
        #[arg(long, env = "FACESIGN_QC_SAMPLE_PERCENT", default_value_t = 10.0)]
        qc_sample_percent: f64,
        /// 融信秒贷 amounts up to this (CNY) are approved online (003: 30万).
        #[arg(long, env = "FACESIGN_AUTO_APPROVAL_LIMIT", default_value = "300000")]
        auto_approval_limit: String,
        /// Failed face checks allowed per Asia/Shanghai day (003: 当日上限次数).
        #[arg(long, env = "FACESIGN_FACE_CHECK_DAILY_CAP", default_value_t = 5)]
        face_check_daily_cap: u32,
        /// The loan after the money: penalty rate and repayment reminders.
        #[command(flatten)]
        servicing: Box<ServicingArgs>,
        /// Call-in margins, the ring timeout and the SMS gateway.
        #[command(flatten)]
        centre: Box<OperationsCentreArgs>,
        /// Minutes before the window that the reminder SMS goes out.
        #[arg(long, env = "FACESIGN_REMINDER_LEAD_MINUTES", default_value_t = 60)]
        reminder_lead_minutes: i64,
        /// Kafka brokers (host:port,…); without them the relay and the credit
        /// decision consumer are off.
        #[arg(long, env = "FACESIGN_KAFKA_BROKERS")]
        kafka_brokers: Option<String>,
        /// Partitions of the topics facesign creates.
        #[arg(long, env = "FACESIGN_KAFKA_PARTITIONS", default_value_t = 3)]
        kafka_partitions: i32,
        /// Replication factor of the topics facesign creates.
        #[arg(long, env = "FACESIGN_KAFKA_REPLICATION", default_value_t = 1)]
        kafka_replication: i32,
        /// Partner platforms: `CODE=secret@callback-url;…` (002).
        #[arg(
            long,
            env = "FACESIGN_PARTNERS",
            default_value = "",
            hide_env_values = true
        )]
        partners: String,
        /// JSON file of partner product settings (002 item 25), by partner code
        /// (docs/partners.md); unset: the defaults.
        #[arg(long, env = "FACESIGN_PARTNER_SETTINGS")]
        partner_settings: Option<std::path::PathBuf>,
        /// Minutes an old partner secret or SMS gateway token is still
        /// accepted after its file (FACESIGN_PARTNERS_FILE,
        /// FACESIGN_SMS_GATEWAY_TOKEN_FILE) changed.
        #[arg(long, env = "FACESIGN_SECRET_OVERLAP_MINUTES", default_value_t = 1440)]
        secret_overlap_minutes: u64,
        /// Attempts of a callback before it becomes an incident.
        #[arg(long, env = "FACESIGN_CALLBACK_MAX_ATTEMPTS", default_value_t = 8)]
        callback_max_attempts: u32,
        /// This instance's name in a cluster (default host:pid).
        #[arg(long, env = "FACESIGN_INSTANCE_ID")]
        instance_id: Option<String>,
        /// How often (ms) a follower tries to take a worker's lock and a leader checks it.
        #[arg(long, env = "FACESIGN_LEASE_POLL_MS", default_value_t = 1000)]
        lease_poll_ms: u64,
        /// How often (ms) the instance asks for the newest commit, in case a notice was lost.
        #[arg(long, env = "FACESIGN_HEARTBEAT_MS", default_value_t = 2000)]
        heartbeat_ms: u64,
        /// Seconds between the signed checkpoints of the log (with
        /// FACESIGN_LOG_SIGNING_KEY or its _FILE; docs/evidence.md).
        #[arg(long, env = "FACESIGN_LOG_CHECKPOINT_SECS", default_value_t = 60)]
        log_checkpoint_secs: u64,
        /// Whether facesign creates missing topics (off where operators do).
        #[arg(long, env = "FACESIGN_KAFKA_CREATE_TOPICS", default_value_t = true, action = clap::ArgAction::Set)]
        kafka_create_topics: bool,
        /// librdkafka properties for every Kafka client, `name=value;…`
        /// (security.protocol, ssl.*, sasl.*; docs/kafka.md); may hold a
        /// password, so also accepted as FACESIGN_KAFKA_PROPERTIES_FILE.
        #[arg(
            long,
            env = "FACESIGN_KAFKA_PROPERTIES",
            default_value = "",
            hide_env_values = true
        )]
        kafka_properties: String,
        #[command(flatten)]
        bounds: Box<RequestBoundArgs>,
        #[command(flatten)]
        doors: Box<DoorArgs>,
        #[command(flatten)]
        identity: Box<IdentityArgs>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Rebuild a projection from the start of the log, or verify them all.
    Replay {
        /// Read model to rebuild (task_board, seat_calendar, …; an unknown name lists them all).
        #[arg(long, required_unless_present = "verify", conflicts_with = "verify")]
        projection: Option<String>,
        /// Rebuild every projection into scratch tables and compare with the live
        /// ones; exit non-zero on any difference. Changes nothing.
        #[arg(long)]
        verify: bool,
    },
    /// Mint a development bearer token (signed with FACESIGN_JWT_SECRET, or
    /// the public demo secret when it is unset).
    Token {
        /// Role: CUSTOMER, ACCOUNT_MANAGER, SEAT, QC_REVIEWER, SUPERVISOR, ADMIN,
        /// AUDITOR, PARTNER or CREDIT_SYSTEM.
        #[arg(long)]
        role: String,
        /// Subject: staff no, customer ID number, partner or system code.
        #[arg(long)]
        sub: String,
        /// Lifetime in minutes.
        #[arg(long, default_value_t = 480)]
        ttl_minutes: u64,
        /// The longest lifetime servers accept; a longer --ttl-minutes is refused.
        #[arg(
            long,
            env = "FACESIGN_TOKEN_MAX_LIFETIME_MINUTES",
            default_value_t = 720
        )]
        token_max_lifetime_minutes: u64,
    },
    /// Write the GraphQL schema (SDL).
    Schema {
        /// Output file.
        #[arg(long, default_value = "docs/schema.graphql")]
        out: PathBuf,
    },
    /// Write the event contracts (AsyncAPI 3 document of the topics, JSON
    /// Schema of the envelope, of every event type and inbound message).
    Contracts {
        /// Output directory; files there that are no longer generated are removed.
        #[arg(long, default_value = "docs/contracts")]
        out: PathBuf,
    },
    /// Seed demo data into an empty log and exit.
    SeedDemo,
    /// The log's tamper evidence: verify it, sign a checkpoint, or print the
    /// public key (docs/evidence.md).
    Log {
        #[command(subcommand)]
        action: LogAction,
    },
    /// Ask a running server's /healthz and exit 0 when it answers 200 (the
    /// container image's HEALTHCHECK; no curl needed in the image).
    Health {
        /// The server's address; its port and a loopback host by default.
        #[arg(long, env = "FACESIGN_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
    },
    /// Events workers could not apply and parked: list, retry or skip them.
    Parked {
        #[command(subcommand)]
        action: ParkedAction,
    },
}

/// What to do with the log's tamper evidence.
#[derive(Subcommand)]
enum LogAction {
    /// Check every event's chained hash and every signed checkpoint; exit 1
    /// naming each aggregate and sequence that fails. Changes nothing.
    Verify {
        /// A public key (PEM) checkpoints may be signed with; repeat for keys
        /// used before a rotation. Default: FACESIGN_LOG_SIGNING_KEY's.
        #[arg(long = "public-key")]
        public_keys: Vec<PathBuf>,
    },
    /// Sign a checkpoint now over what the log gained since the last one.
    Checkpoint,
    /// Print the public key (PEM) of FACESIGN_LOG_SIGNING_KEY.
    PublicKey,
}

/// What to do with parked events (docs/operations.md, Parked events).
#[derive(Subcommand)]
enum ParkedAction {
    /// List parked events, oldest first.
    List {
        /// Also those already retried or skipped.
        #[arg(long)]
        all: bool,
        /// The most to list.
        #[arg(long, default_value_t = 1000)]
        limit: i64,
    },
    /// Have the worker apply a parked event once more (after a fix).
    Retry {
        /// The worker that parked it (task_board, loan_flow, …).
        worker: String,
        /// Its log position, TX:POSITION, as `list` shows it.
        position: LogPosition,
        /// Who decides (staff no), recorded in the operation log.
        #[arg(long)]
        by: String,
        /// Why, recorded with it.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Leave a parked event unapplied, on purpose.
    Skip {
        /// The worker that parked it.
        worker: String,
        /// Its log position, TX:POSITION.
        position: LogPosition,
        /// Who decides (staff no), recorded in the operation log.
        #[arg(long)]
        by: String,
        /// Why it may stay unapplied, recorded with it.
        #[arg(long)]
        reason: String,
    },
}

/// The loan after the money (docs/loans.md).
#[derive(Args)]
struct ServicingArgs {
    /// 罚息年利率 written into contracts signed from now on, e.g. 0.18 (003:
    /// 目前我行不进行罚息, so 0 by default).
    #[arg(long, env = "FACESIGN_PENALTY_ANNUAL_RATE", default_value = "0")]
    penalty_annual_rate: String,
    /// Days before a due date the repayment reminder SMS goes out (003: 还款日前X天; 0: none).
    #[arg(long, env = "FACESIGN_REPAYMENT_REMINDER_DAYS", default_value_t = 3)]
    repayment_reminder_days: u32,
    /// Seconds the core may leave a disbursement or repayment unanswered
    /// before it becomes a manual case (003 人工落地).
    #[arg(long, env = "FACESIGN_CORE_ANSWER_TIMEOUT_SECS", default_value_t = 900)]
    core_answer_timeout_secs: u32,
    /// The SMTP relay contract downloads are e-mailed through (合同下载); none:
    /// requests wait as PENDING.
    #[arg(long, env = "FACESIGN_SMTP_HOST")]
    smtp_host: Option<String>,
    /// The relay's port.
    #[arg(long, env = "FACESIGN_SMTP_PORT", default_value_t = 25)]
    smtp_port: u16,
    /// The sender address of contract e-mails.
    #[arg(
        long,
        env = "FACESIGN_SMTP_FROM",
        default_value = "contracts@facesign.bank"
    )]
    smtp_from: String,
}

/// The operations centre: calls and texts (docs/operations-centre.md).
#[derive(Args)]
struct OperationsCentreArgs {
    #[command(flatten)]
    operations: OperationsArgs,
    #[command(flatten)]
    sms: SmsGatewayArgs,
}

/// The operations centre's call-in window and ring timeout (docs/operations-centre.md).
#[derive(Args)]
struct OperationsArgs {
    /// Minutes before the booked window a customer may call in (001 2.6.1).
    #[arg(long, env = "FACESIGN_CALL_IN_EARLY_MINUTES", default_value_t = 10)]
    call_in_early_minutes: u32,
    /// Minutes after the booked window a customer may still call in.
    #[arg(long, env = "FACESIGN_CALL_IN_LATE_MINUTES", default_value_t = 0)]
    call_in_late_minutes: u32,
    /// Seconds an offered call rings at a seat before it goes to the next (004 3.6; 0: no timeout).
    #[arg(long, env = "FACESIGN_RING_SECONDS", default_value_t = 30)]
    ring_seconds: u32,
    /// Unanswered offers after which a call waits for a seat to take it from the queue (at least 1).
    #[arg(long, env = "FACESIGN_RING_ATTEMPTS", default_value_t = 3)]
    ring_attempts: u32,
    /// Seconds a participant who dropped out of an interview may rejoin the same call (001 2.2.1).
    #[arg(long, env = "FACESIGN_REJOIN_SECONDS", default_value_t = 120)]
    rejoin_seconds: u32,
    /// The bank's own province (e.g. 河南省): cases whose property lies there are
    /// 省内 and get no video interview (001 2.5); unset, every case does.
    #[arg(long, env = "FACESIGN_HOME_PROVINCE")]
    home_province: Option<String>,
}

impl OperationsArgs {
    fn routing(&self) -> anyhow::Result<domain::services::InterviewRouting> {
        let home_province = self
            .home_province
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        if home_province.is_some_and(|p| p.chars().count() > 32) {
            anyhow::bail!("FACESIGN_HOME_PROVINCE must be at most 32 characters");
        }
        Ok(domain::services::InterviewRouting {
            home_province: home_province.map(str::to_string),
        })
    }

    fn policy(&self) -> anyhow::Result<domain::services::OperationsPolicy> {
        if self.call_in_early_minutes > 24 * 60 || self.call_in_late_minutes > 24 * 60 {
            anyhow::bail!("the call-in margins must be at most 1440 minutes");
        }
        if self.rejoin_seconds > 3600 {
            anyhow::bail!("FACESIGN_REJOIN_SECONDS must be at most 3600");
        }
        if self.ring_attempts == 0 || self.ring_seconds > 3600 {
            anyhow::bail!(
                "FACESIGN_RING_ATTEMPTS must be at least 1 and FACESIGN_RING_SECONDS at most 3600"
            );
        }
        Ok(domain::services::OperationsPolicy {
            call_in_early: chrono::Duration::minutes(self.call_in_early_minutes.into()),
            call_in_late: chrono::Duration::minutes(self.call_in_late_minutes.into()),
            ring_timeout: chrono::Duration::seconds(self.ring_seconds.into()),
            ring_attempts: self.ring_attempts,
            rejoin_window: chrono::Duration::seconds(self.rejoin_seconds.into()),
        })
    }
}

/// The bank's SMS gateway (docs/operations-centre.md "SMS delivery").
#[derive(Args)]
struct SmsGatewayArgs {
    /// The gateway's send endpoint; unset: texts stay in the outbox (PENDING).
    #[arg(long, env = "FACESIGN_SMS_GATEWAY_URL")]
    sms_gateway_url: Option<String>,
    /// The bank's account at the gateway.
    #[arg(long, env = "FACESIGN_SMS_ACCOUNT", default_value = "")]
    sms_account: String,
    /// Bearer token of sends and of the gateway's delivery reports (required with a URL).
    #[arg(long, env = "FACESIGN_SMS_GATEWAY_TOKEN", hide_env_values = true)]
    sms_gateway_token: Option<String>,
    /// 短信签名 put before every text as 【signature】.
    #[arg(long, env = "FACESIGN_SMS_SIGNATURE", default_value = "")]
    sms_signature: String,
    /// Attempts before a text is FAILED.
    #[arg(long, env = "FACESIGN_SMS_MAX_ATTEMPTS", default_value_t = 5)]
    sms_max_attempts: u32,
    /// Seconds after the first failed attempt, doubled after each next (at most 30 minutes).
    #[arg(long, env = "FACESIGN_SMS_RETRY_BASE_SECONDS", default_value_t = 30)]
    sms_retry_base_seconds: u32,
    /// A text not handed over within this many minutes is EXPIRED, not sent late.
    #[arg(long, env = "FACESIGN_SMS_MAX_AGE_MINUTES", default_value_t = 1440)]
    sms_max_age_minutes: u32,
}

impl SmsGatewayArgs {
    fn gateway(&self) -> anyhow::Result<Option<workers::sms::SmsGatewaySettings>> {
        let Some(url) = self
            .sms_gateway_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        else {
            return Ok(None);
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            anyhow::bail!("FACESIGN_SMS_GATEWAY_URL must be an http(s) URL");
        }
        let token = self
            .sms_gateway_token
            .as_deref()
            .and_then(workers::secrets::gateway_token)
            .ok_or_else(|| anyhow::anyhow!("FACESIGN_SMS_GATEWAY_TOKEN of at least 16 characters is required with FACESIGN_SMS_GATEWAY_URL"))?;
        if self.sms_max_attempts == 0
            || self.sms_retry_base_seconds == 0
            || self.sms_max_age_minutes == 0
        {
            anyhow::bail!("FACESIGN_SMS_MAX_ATTEMPTS, FACESIGN_SMS_RETRY_BASE_SECONDS and FACESIGN_SMS_MAX_AGE_MINUTES must be at least 1");
        }
        if self.sms_signature.chars().count() > 16 {
            anyhow::bail!("FACESIGN_SMS_SIGNATURE must be at most 16 characters");
        }
        Ok(Some(workers::sms::SmsGatewaySettings {
            url: url.to_string(),
            account: self.sms_account.trim().to_string(),
            token: token.into(),
            signature: self.sms_signature.trim().to_string(),
            max_attempts: self.sms_max_attempts,
            retry_base: chrono::Duration::seconds(self.sms_retry_base_seconds.into()),
            max_age: chrono::Duration::minutes(self.sms_max_age_minutes.into()),
        }))
    }
}

/// The bounds of connections, sockets, the partner gateway and SMS reports
/// (docs/security.md).
#[derive(Args)]
struct DoorArgs {
    /// Open HTTP connections in all (capped lower when the open-file limit leaves less room).
    #[arg(long, env = "FACESIGN_MAX_HTTP_CONNECTIONS", default_value_t = facesign::connections::ConnectionLimits::default().max_total)]
    max_http_connections: usize,
    /// Open HTTP connections from one address (0: no cap; behind a load balancer, its addresses hold every client's).
    #[arg(long, env = "FACESIGN_MAX_HTTP_CONNECTIONS_PER_ADDRESS", default_value_t = facesign::connections::ConnectionLimits::default().max_per_address)]
    max_http_connections_per_address: usize,
    /// Milliseconds from connecting to a complete first request head.
    #[arg(
        long,
        env = "FACESIGN_HEADER_READ_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    header_read_timeout_ms: u64,
    /// Milliseconds an idle keep-alive connection waits for its next request.
    #[arg(long, env = "FACESIGN_KEEP_ALIVE_TIMEOUT_MS", default_value_t = 30_000)]
    keep_alive_timeout_ms: u64,
    /// Milliseconds a WebSocket may take to authenticate in connection_init.
    #[arg(long, env = "FACESIGN_WS_INIT_TIMEOUT_MS", default_value_t = 5_000)]
    ws_init_timeout_ms: u64,
    /// Active subscriptions on one WebSocket.
    #[arg(long, env = "FACESIGN_WS_MAX_SUBSCRIPTIONS", default_value_t = api::sockets::SocketLimits::default().max_subscriptions)]
    ws_max_subscriptions: usize,
    /// Open WebSockets of one account (token subject and role).
    #[arg(long, env = "FACESIGN_WS_MAX_PER_ACCOUNT", default_value_t = api::sockets::SocketLimits::default().max_per_account)]
    ws_max_per_account: usize,
    /// Open WebSockets from one address, authenticated or not.
    #[arg(long, env = "FACESIGN_WS_MAX_PER_ADDRESS", default_value_t = api::sockets::SocketLimits::default().max_per_address)]
    ws_max_per_address: usize,
    /// Open WebSockets in all (at most half the connection cap is used).
    #[arg(long, env = "FACESIGN_WS_MAX_TOTAL", default_value_t = api::sockets::SocketLimits::default().max_total)]
    ws_max_total: usize,
    /// WebSockets not yet authenticated, in all.
    #[arg(long, env = "FACESIGN_WS_MAX_UNAUTHENTICATED", default_value_t = api::sockets::SocketLimits::default().max_unauthenticated)]
    ws_max_unauthenticated: usize,
    /// WebSockets not yet authenticated from one address.
    #[arg(long, env = "FACESIGN_WS_MAX_UNAUTHENTICATED_PER_ADDRESS", default_value_t = api::sockets::SocketLimits::default().max_unauthenticated_per_address)]
    ws_max_unauthenticated_per_address: usize,
    /// Partner-API requests per second from one address, before the signature is checked.
    #[arg(long, env = "FACESIGN_PARTNER_RATE_PER_ADDRESS", default_value_t = api::ApiConfig::default().partner_rate_per_address)]
    partner_rate_per_address: u32,
    /// Partner-API requests per second of one verified partner.
    #[arg(long, env = "FACESIGN_PARTNER_RATE_PER_PARTNER", default_value_t = api::ApiConfig::default().partner_rate_per_partner)]
    partner_rate_per_partner: u32,
    /// The last day (Beijing time, YYYY-MM-DD) a partner request signed the old way,
    /// without method and path, is accepted; unset: only the new signature is.
    #[arg(long, env = "FACESIGN_PARTNER_LEGACY_SIGNATURE_UNTIL")]
    partner_legacy_signature_until: Option<chrono::NaiveDate>,
    /// SMS delivery reports per second from one address, before the token is checked.
    #[arg(long, env = "FACESIGN_SMS_REPORT_RATE_PER_ADDRESS", default_value_t = api::ApiConfig::default().sms_report_rate_per_address)]
    sms_report_rate_per_address: u32,
}

impl DoorArgs {
    fn apply(&self, settings: &mut Settings) -> anyhow::Result<()> {
        if self.header_read_timeout_ms < 100
            || self.keep_alive_timeout_ms < 100
            || self.ws_init_timeout_ms < 100
        {
            anyhow::bail!("the header-read, keep-alive and WebSocket initialisation timeouts must be at least 100 ms");
        }
        if self.max_http_connections == 0
            || self.ws_max_subscriptions == 0
            || self.ws_max_per_account == 0
            || self.ws_max_per_address == 0
            || self.ws_max_total == 0
            || self.ws_max_unauthenticated == 0
        {
            anyhow::bail!(
                "FACESIGN_MAX_HTTP_CONNECTIONS and the WebSocket caps must be at least 1"
            );
        }
        settings.connections = facesign::connections::ConnectionLimits {
            max_total: self.max_http_connections,
            max_per_address: self.max_http_connections_per_address,
            header_read_timeout: Duration::from_millis(self.header_read_timeout_ms),
            keep_alive_timeout: Duration::from_millis(self.keep_alive_timeout_ms),
            // Set from the request deadline when the server starts.
            ..facesign::connections::ConnectionLimits::default()
        };
        settings.sockets = api::sockets::SocketLimits {
            init_timeout: Duration::from_millis(self.ws_init_timeout_ms),
            max_subscriptions: self.ws_max_subscriptions,
            max_per_account: self.ws_max_per_account,
            max_per_address: self.ws_max_per_address,
            max_total: self.ws_max_total,
            max_unauthenticated: self.ws_max_unauthenticated,
            max_unauthenticated_per_address: self.ws_max_unauthenticated_per_address.max(1),
            ..api::sockets::SocketLimits::default()
        };
        settings.partner_rate_per_address = self.partner_rate_per_address.max(1);
        settings.partner_rate_per_partner = self.partner_rate_per_partner.max(1);
        settings.partner_legacy_signature_until = self.partner_legacy_signature_until;
        settings.sms_report_rate_per_address = self.sms_report_rate_per_address.max(1);
        Ok(())
    }
}

/// Where identities come from: the bank's OpenID Connect provider
/// (docs/security.md#identities). Without an issuer, tokens are signed with
/// FACESIGN_JWT_SECRET: for `--demo` and development only.
#[derive(Args)]
struct IdentityArgs {
    /// The provider's issuer; discovery at <issuer>/.well-known/openid-configuration.
    #[arg(long, env = "FACESIGN_OIDC_ISSUER")]
    oidc_issuer: Option<String>,
    /// The audience (`aud`) facesign's access tokens name.
    #[arg(long, env = "FACESIGN_OIDC_AUDIENCE", default_value = "facesign")]
    oidc_audience: String,
    /// The claim holding a person's roles (a name or a list of names).
    #[arg(long, env = "FACESIGN_OIDC_ROLES_CLAIM", default_value = "roles")]
    oidc_roles_claim: String,
    /// The bank's role names mapped to facesign's: `bank-name=ROLE,…`.
    #[arg(long, env = "FACESIGN_OIDC_ROLE_MAP", default_value = "")]
    oidc_role_map: String,
    /// The bank systems' client ids and their roles: `client-id=ROLE,…`
    /// (CREDIT_SYSTEM, VERIFICATION_SERVICE, PARTNER); only these act as a system.
    #[arg(long, env = "FACESIGN_OIDC_CLIENTS", default_value = "")]
    oidc_clients: String,
    /// `acr` values that show multi-factor authentication, comma-separated.
    #[arg(long, env = "FACESIGN_OIDC_MFA_ACR", default_value = "")]
    oidc_mfa_acr: String,
    /// `amr` values that show multi-factor authentication, comma-separated.
    #[arg(long, env = "FACESIGN_OIDC_MFA_AMR", default_value = "otp,hwk,mfa")]
    oidc_mfa_amr: String,
    /// Whether configuration changes need a second admin's approval (four
    /// eyes); unset: on exactly when FACESIGN_OIDC_ISSUER is set.
    #[arg(long, env = "FACESIGN_FOUR_EYES")]
    four_eyes: Option<bool>,
    /// Where browsers reach facesign, e.g. https://facesign.bank.example; the
    /// console's redirect URI is <url>/auth/callback. Default http://<bind>.
    #[arg(long, env = "FACESIGN_PUBLIC_URL")]
    public_url: Option<String>,
    /// The console's client id at the identity provider.
    #[arg(
        long,
        env = "FACESIGN_OIDC_CONSOLE_CLIENT_ID",
        default_value = "facesign-console"
    )]
    oidc_console_client_id: String,
    /// The console's client secret; unset: a public client (PKCE only).
    #[arg(
        long,
        env = "FACESIGN_OIDC_CONSOLE_CLIENT_SECRET",
        hide_env_values = true
    )]
    oidc_console_client_secret: Option<String>,
    /// The scopes the console asks for, space-separated (the provider must
    /// then issue an access token for FACESIGN_OIDC_AUDIENCE).
    #[arg(long, env = "FACESIGN_OIDC_CONSOLE_SCOPES", default_value = "openid")]
    oidc_console_scopes: String,
    /// The longest a console session lasts, in hours, however often its
    /// tokens are refreshed.
    #[arg(long, env = "FACESIGN_CONSOLE_SESSION_HOURS", default_value_t = 12)]
    console_session_hours: u64,
}

impl IdentityArgs {
    fn apply(&self, settings: &mut Settings) -> anyhow::Result<()> {
        settings.four_eyes = self.four_eyes;
        let Some(issuer) = self
            .oidc_issuer
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty())
        else {
            return Ok(());
        };
        if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
            anyhow::bail!("FACESIGN_OIDC_ISSUER must be an http(s) URL");
        }
        let mut oidc = api::identity::OidcSettings::new(issuer, self.oidc_audience.trim());
        oidc.roles_claim = self.oidc_roles_claim.trim().to_string();
        oidc.role_map = api::identity::OidcSettings::parse_roles(&self.oidc_role_map)
            .map_err(|e| anyhow::anyhow!("FACESIGN_OIDC_ROLE_MAP: {e}"))?;
        oidc.clients = api::identity::OidcSettings::parse_roles(&self.oidc_clients)
            .map_err(|e| anyhow::anyhow!("FACESIGN_OIDC_CLIENTS: {e}"))?;
        let list = |text: &str| -> Vec<String> {
            text.split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(String::from)
                .collect()
        };
        oidc.mfa_acr = list(&self.oidc_mfa_acr);
        oidc.mfa_amr = list(&self.oidc_mfa_amr);
        oidc.max_lifetime_seconds = settings.token_max_lifetime.as_secs();
        settings.oidc = Some(oidc);
        let mut sign_in =
            api::sign_in::SignInSettings::new(self.public_url.as_deref().unwrap_or("").trim());
        sign_in.client_id = self.oidc_console_client_id.trim().to_string();
        sign_in.client_secret = self
            .oidc_console_client_secret
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| secrecy::SecretString::from(s.to_string()));
        sign_in.scopes = self.oidc_console_scopes.trim().to_string();
        if !(1..=24 * 7).contains(&self.console_session_hours) {
            anyhow::bail!("FACESIGN_CONSOLE_SESSION_HOURS must be between 1 and 168");
        }
        sign_in.session_lifetime = Duration::from_secs(self.console_session_hours * 3600);
        settings.console_sign_in = Some(sign_in);
        Ok(())
    }
}

/// The bounds of every request and the retention of idempotency keys (docs/security.md).
#[derive(Args)]
struct RequestBoundArgs {
    /// Milliseconds a request may run before it is cancelled and answered TIMEOUT.
    #[arg(long, env = "FACESIGN_REQUEST_DEADLINE_MS", default_value_t = 10_000)]
    request_deadline_ms: u64,
    /// Milliseconds a stopping server waits for in-flight requests before cancelling them.
    #[arg(long, env = "FACESIGN_SHUTDOWN_GRACE_MS", default_value_t = 15_000)]
    shutdown_grace_ms: u64,
    /// The longest bearer-token lifetime (exp − iat) accepted, in minutes.
    #[arg(
        long,
        env = "FACESIGN_TOKEN_MAX_LIFETIME_MINUTES",
        default_value_t = 720
    )]
    token_max_lifetime_minutes: u64,
    /// Hours a mutation's Idempotency-Key keeps its first answer.
    #[arg(
        long,
        env = "FACESIGN_IDEMPOTENCY_RETENTION_HOURS",
        default_value_t = 24
    )]
    idempotency_retention_hours: u64,
    /// Tokens in a GraphQL document.
    #[arg(long, env = "FACESIGN_GRAPHQL_MAX_TOKENS", default_value_t = QueryLimits::default().max_tokens)]
    graphql_max_tokens: usize,
    /// Nesting of list and input-object values (literals, defaults, variables).
    #[arg(long, env = "FACESIGN_GRAPHQL_MAX_VALUE_DEPTH", default_value_t = QueryLimits::default().max_value_depth)]
    graphql_max_value_depth: usize,
    /// Nesting of selection sets, through fragments too.
    #[arg(long, env = "FACESIGN_GRAPHQL_MAX_DEPTH", default_value_t = QueryLimits::default().max_depth)]
    graphql_max_depth: usize,
    /// Aliases in a document.
    #[arg(long, env = "FACESIGN_GRAPHQL_MAX_ALIASES", default_value_t = QueryLimits::default().max_aliases)]
    graphql_max_aliases: usize,
    /// Selections as written.
    #[arg(long, env = "FACESIGN_GRAPHQL_MAX_SELECTIONS", default_value_t = QueryLimits::default().max_selections)]
    graphql_max_selections: usize,
    /// Selections after spreading every fragment where it is used.
    #[arg(long, env = "FACESIGN_GRAPHQL_MAX_EXPANDED_SELECTIONS", default_value_t = QueryLimits::default().max_expanded_selections)]
    graphql_max_expanded_selections: usize,
    /// Directives in a document.
    #[arg(long, env = "FACESIGN_GRAPHQL_MAX_DIRECTIVES", default_value_t = QueryLimits::default().max_directives)]
    graphql_max_directives: usize,
    /// Names in a document (fields, arguments, types, variables, enum values).
    #[arg(long, env = "FACESIGN_GRAPHQL_MAX_NAMES", default_value_t = QueryLimits::default().max_names)]
    graphql_max_names: usize,
    /// Bytes of the longest name in a document.
    #[arg(long, env = "FACESIGN_GRAPHQL_MAX_NAME_LENGTH", default_value_t = QueryLimits::default().max_name_length)]
    graphql_max_name_length: usize,
    /// Bytes of a document's text (comments and whitespace included).
    #[arg(long, env = "FACESIGN_GRAPHQL_MAX_DOCUMENT_BYTES", default_value_t = QueryLimits::default().max_document_bytes)]
    graphql_max_document_bytes: usize,
}

impl RequestBoundArgs {
    fn apply(&self, settings: &mut Settings) -> anyhow::Result<()> {
        if self.request_deadline_ms < 100 || self.token_max_lifetime_minutes < 1 {
            anyhow::bail!("the request deadline must be at least 100 ms and the token lifetime at least 1 minute");
        }
        settings.request_deadline = Duration::from_millis(self.request_deadline_ms);
        settings.shutdown_grace = Duration::from_millis(self.shutdown_grace_ms);
        settings.token_max_lifetime = Duration::from_secs(self.token_max_lifetime_minutes * 60);
        if self.idempotency_retention_hours < 1 {
            anyhow::bail!("FACESIGN_IDEMPOTENCY_RETENTION_HOURS must be at least 1");
        }
        settings.idempotency_retention =
            Duration::from_secs(self.idempotency_retention_hours * 3600);
        let limits = QueryLimits {
            max_tokens: self.graphql_max_tokens,
            max_value_depth: self.graphql_max_value_depth,
            max_depth: self.graphql_max_depth,
            max_aliases: self.graphql_max_aliases,
            max_selections: self.graphql_max_selections,
            max_expanded_selections: self.graphql_max_expanded_selections,
            max_directives: self.graphql_max_directives,
            max_names: self.graphql_max_names,
            max_name_length: self.graphql_max_name_length,
            max_document_bytes: self.graphql_max_document_bytes,
        };
        if limits.max_tokens == 0
            || limits.max_depth == 0
            || limits.max_selections == 0
            || limits.max_names == 0
            || limits.max_name_length < 32
            || limits.max_document_bytes < 4096
        {
            anyhow::bail!("the GraphQL token, depth, selection and name limits must be at least 1 (a name's length at least 32, a document at least 4096 bytes)");
        }
        settings.query_limits = limits;
        Ok(())
    }
}

/// FACESIGN_LOG_SIGNING_KEY (or its _FILE): the Ed25519 key, PKCS#8 PEM.
fn log_signing_key() -> anyhow::Result<Option<store::checkpoint::LogSigningKey>> {
    match std::env::var("FACESIGN_LOG_SIGNING_KEY") {
        Ok(pem) if !pem.trim().is_empty() => store::checkpoint::LogSigningKey::from_pem(&pem)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("FACESIGN_LOG_SIGNING_KEY: {e}")),
        _ => Ok(None),
    }
}

/// `facesign log …`.
async fn log_command(action: LogAction, settings: &Settings) -> anyhow::Result<()> {
    let key = log_signing_key()?;
    let open = || async {
        // Read as it is: verifying migrates nothing.
        store::Database::connect(&settings.database_url, settings.max_connections)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", settings.redacted_url()))
    };
    match action {
        LogAction::PublicKey => {
            let key = key.ok_or_else(|| anyhow::anyhow!("FACESIGN_LOG_SIGNING_KEY is not set"))?;
            print!("{}", key.public_key().to_pem());
            Ok(())
        }
        LogAction::Checkpoint => {
            let key = key.ok_or_else(|| anyhow::anyhow!("FACESIGN_LOG_SIGNING_KEY is not set"))?;
            let database = open().await?;
            let log = store::GlobalLog::new(database.store().clone());
            match store::checkpoint::write_checkpoint(
                database.store(),
                &log,
                &key,
                chrono::Utc::now(),
            )
            .await?
            {
                Some(number) => eprintln!("log checkpoint {number} signed"),
                None => eprintln!("nothing new since the last checkpoint"),
            }
            Ok(())
        }
        LogAction::Verify { public_keys } => {
            let mut keys = Vec::new();
            for path in &public_keys {
                let pem = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                keys.push(
                    store::checkpoint::LogPublicKey::from_pem(&pem)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                );
            }
            if keys.is_empty() {
                keys.extend(key.map(|k| k.public_key()));
            }
            let database = open().await?;
            let found = store::checkpoint::verify(database.store(), &keys, |events| {
                eprintln!("{events} events read");
            })
            .await?;
            for failure in &found.failures {
                eprintln!("TAMPERED {failure}");
            }
            if let Some(first) = found.failures.first() {
                anyhow::bail!(
                    "the log is not as written ({} failures); the first: {first}",
                    found.failures.len()
                );
            }
            eprintln!(
                "the log is as written: {} events in {} aggregates chain; {} signed checkpoints cover {} aggregate heads",
                found.events, found.aggregates, found.checkpoints, found.covered
            );
            Ok(())
        }
    }
}

/// `facesign health`: GET /healthz of the server bound at `bind`.
async fn health(bind: &str) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = bind
        .parse()
        .map_err(|_| anyhow::anyhow!("FACESIGN_BIND must be host:port, not {bind:?}"))?;
    // A server on every interface answers on loopback too.
    let host = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_string(),
        ip if ip.is_unspecified() => "[::1]".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        std::net::IpAddr::V4(ip) => ip.to_string(),
    };
    let url = format!("http://{host}:{}/healthz", addr.port());
    // Never through a proxy the container's environment names.
    let answer = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .no_proxy()
        .build()?
        .get(&url)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    if !answer.status().is_success() {
        anyhow::bail!("{url} answered {}", answer.status());
    }
    println!("{url}: {}", answer.status());
    Ok(())
}

/// FACESIGN_JWT_SECRET, held as a secret. Without it, only demo use falls back
/// to the public demo secret; a production server refuses to start.
fn jwt_secret(demo: bool) -> anyhow::Result<SecretString> {
    match std::env::var("FACESIGN_JWT_SECRET") {
        Ok(secret) if secret.len() >= MIN_JWT_SECRET_LEN => Ok(SecretString::from(secret)),
        Ok(_) => anyhow::bail!("FACESIGN_JWT_SECRET must be at least {MIN_JWT_SECRET_LEN} bytes"),
        Err(_) if demo => {
            tracing::warn!("FACESIGN_JWT_SECRET is unset: using the public demo secret; never do this in production");
            Ok(SecretString::from(DEMO_JWT_SECRET.to_string()))
        }
        Err(_) => anyhow::bail!(
            "FACESIGN_JWT_SECRET is required (at least {MIN_JWT_SECRET_LEN} bytes); `serve --demo` uses a public demo secret instead"
        ),
    }
}

fn main() -> ExitCode {
    // Secrets from mounted files become their settings before any thread
    // starts (the environment is not safe to change once threads read it).
    match facesign::secret_files::from_files(|name| std::env::var(name).ok()) {
        Ok(values) => {
            for (name, value) in values {
                std::env::set_var(name, value);
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    }
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(start()),
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn start() -> ExitCode {
    // Read before the command line: logging starts before anything else.
    let json = match std::env::var("FACESIGN_LOG_FORMAT").as_deref() {
        Err(_) | Ok("") | Ok("text") => false,
        Ok("json") => true,
        Ok(other) => {
            eprintln!("error: FACESIGN_LOG_FORMAT must be text or json, not {other:?}");
            return ExitCode::FAILURE;
        }
    };
    let traces = match trace_export() {
        Ok(traces) => traces,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let spans = traces.as_ref().map(|provider| {
        use opentelemetry::trace::TracerProvider as _;
        tracing_opentelemetry::layer().with_tracer(provider.tracer("facesign"))
    });
    let logs = tracing_subscriber::registry()
        .with(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with(spans);
    if json {
        // One JSON object per line, with the request's span (its request and trace ids).
        logs.with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .with_writer(std::io::stderr),
        )
        .init();
    } else {
        logs.with(
            tracing_subscriber::fmt::layer()
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_writer(std::io::stderr),
        )
        .init();
    }
    let cli = Cli::parse();
    let code = match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    };
    if let Some(provider) = traces {
        // Sends the spans still batched; the exporter's thread blocks, not the runtime.
        let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
    }
    code
}

/// The OpenTelemetry tracer provider exporting spans over OTLP/HTTP
/// (protobuf), when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces-only
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; none otherwise, and then no
/// span is traced. The standard `OTEL_*` variables (service name, headers,
/// batch delays) apply.
fn trace_export() -> anyhow::Result<Option<opentelemetry_sdk::trace::SdkTracerProvider>> {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    if !set("OTEL_EXPORTER_OTLP_ENDPOINT") && !set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| anyhow::anyhow!("OTEL_EXPORTER_OTLP_ENDPOINT: {e}"))?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if !set("OTEL_SERVICE_NAME") {
        resource = resource.with_service_name("facesign");
    }
    Ok(Some(
        opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build(),
    ))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // The health check depends on nothing but the address: a setting it does
    // not need must not make a running server look unhealthy.
    if let Command::Health { bind } = &cli.command {
        return health(bind).await;
    }
    let database_url = facesign::settings::with_postgres_tls(
        &cli.database.database_url,
        cli.database.database_ssl_mode.as_deref(),
        cli.database.database_ssl_root_cert.as_deref(),
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let mut settings = Settings::for_database(database_url);
    settings.max_connections = cli.database.max_connections;
    settings.migrate_on_start = cli.database.migrate_on_start;
    settings.database_wait = Duration::from_secs(cli.database.database_wait_secs.min(3600));
    match cli.command {
        Command::Serve {
            bind,
            demo,
            command_max_attempts,
            read_your_writes_timeout_ms,
            booking_horizon_days,
            max_reschedules,
            reminder_lead_minutes,
            introspection,
            rate_limit_per_second,
            rate_limit_burst,
            face_similarity_threshold,
            qc_sample_percent,
            auto_approval_limit,
            face_check_daily_cap,
            servicing,
            centre,
            kafka_brokers,
            kafka_partitions,
            kafka_replication,
            kafka_create_topics,
            kafka_properties,
            partners,
            partner_settings,
            secret_overlap_minutes,
            callback_max_attempts,
            instance_id,
            lease_poll_ms,
            heartbeat_ms,
            log_checkpoint_secs,
            bounds,
            doors,
            identity,
        } => {
            bounds.apply(&mut settings)?;
            doors.apply(&mut settings)?;
            identity.apply(&mut settings)?;
            if let Some(instance_id) = instance_id.filter(|i| !i.trim().is_empty()) {
                settings.instance_id = instance_id.trim().to_string();
            }
            settings.lease_poll_interval = Duration::from_millis(lease_poll_ms.clamp(50, 60_000));
            settings.heartbeat_interval = Duration::from_millis(heartbeat_ms.clamp(50, 600_000));
            settings.partners = workers::partners::PartnerDirectory::parse(&partners)
                .map_err(|e| anyhow::anyhow!("FACESIGN_PARTNERS: {e}"))?;
            // Secrets given as files are read again while serving (rotation).
            let file_of = |name: &str| {
                std::env::var_os(name)
                    .filter(|path| !path.is_empty())
                    .map(std::path::PathBuf::from)
            };
            settings.rotated_files.partners = file_of("FACESIGN_PARTNERS_FILE");
            settings.rotated_files.sms_gateway_token = file_of("FACESIGN_SMS_GATEWAY_TOKEN_FILE");
            if secret_overlap_minutes > 30 * 24 * 60 {
                anyhow::bail!("FACESIGN_SECRET_OVERLAP_MINUTES must be at most 43200 (30 days)");
            }
            settings.rotated_files.overlap = Duration::from_secs(secret_overlap_minutes * 60);
            if let Some(path) = partner_settings {
                let json = std::fs::read_to_string(&path).map_err(|e| {
                    anyhow::anyhow!(
                        "FACESIGN_PARTNER_SETTINGS: cannot read {}: {e}",
                        path.display()
                    )
                })?;
                settings.partners = settings.partners.with_settings(&json).map_err(|e| {
                    anyhow::anyhow!("FACESIGN_PARTNER_SETTINGS ({}): {e}", path.display())
                })?;
            }
            settings.callback_max_attempts = callback_max_attempts.clamp(1, 50);
            let kafka_properties =
                workers::kafka::KafkaSettings::parse_properties(&kafka_properties)
                    .map_err(|e| anyhow::anyhow!("FACESIGN_KAFKA_PROPERTIES: {e}"))?;
            settings.kafka = kafka_brokers
                .map(|b| b.trim().to_string())
                .filter(|b| !b.is_empty())
                .map(|brokers| {
                    let mut kafka = workers::kafka::KafkaSettings::for_brokers(brokers);
                    kafka.partitions = kafka_partitions.max(1);
                    kafka.replication = kafka_replication.max(1);
                    kafka.create_topics = kafka_create_topics;
                    kafka.properties = kafka_properties;
                    kafka
                });
            settings.loans.auto_approval_limit =
                auto_approval_limit.trim().parse().map_err(|_| {
                    anyhow::anyhow!("FACESIGN_AUTO_APPROVAL_LIMIT must be a decimal amount")
                })?;
            settings.loans.face_check_daily_cap = face_check_daily_cap;
            settings.loans.penalty_annual_rate = servicing
                .penalty_annual_rate
                .trim()
                .parse()
                .ok()
                .filter(|r: &rust_decimal::Decimal| {
                    *r >= rust_decimal::Decimal::ZERO && *r < rust_decimal::Decimal::ONE
                })
                .ok_or_else(|| {
                    anyhow::anyhow!("FACESIGN_PENALTY_ANNUAL_RATE must be a decimal within 0 and 1")
                })?;
            settings.repayment_reminder_days = servicing.repayment_reminder_days.min(60);
            if !(10..=7 * 86_400).contains(&servicing.core_answer_timeout_secs) {
                anyhow::bail!("FACESIGN_CORE_ANSWER_TIMEOUT_SECS must be 10 to 604800 seconds");
            }
            settings.core_answer_timeout =
                chrono::Duration::seconds(servicing.core_answer_timeout_secs.into());
            settings.smtp = servicing
                .smtp_host
                .filter(|h| !h.trim().is_empty())
                .map(|host| workers::contract_mail::SmtpSettings {
                    host: host.trim().to_string(),
                    port: servicing.smtp_port,
                    from: servicing.smtp_from.clone(),
                });
            if settings.smtp.is_some() && !servicing.smtp_from.contains('@') {
                anyhow::bail!("FACESIGN_SMTP_FROM must be an e-mail address");
            }
            settings.operations = centre.operations.policy()?;
            settings.routing = centre.operations.routing()?;
            settings.sms_gateway = centre.sms.gateway()?;
            if !(0.0..=1.0).contains(&face_similarity_threshold)
                || !(0.0..=100.0).contains(&qc_sample_percent)
            {
                anyhow::bail!("the similarity threshold must be within 0..=1 and the QC sample within 0..=100 percent");
            }
            settings.session.similarity_threshold = face_similarity_threshold;
            settings.session.qc_sample_per_mille = (qc_sample_percent * 10.0).round() as u32;
            settings.jwt_secret = jwt_secret(demo)?;
            settings.log_signing_key = log_signing_key()?.map(std::sync::Arc::new);
            if !(1..=86_400).contains(&log_checkpoint_secs) {
                anyhow::bail!("FACESIGN_LOG_CHECKPOINT_SECS must be 1 to 86400 seconds");
            }
            settings.log_checkpoint_interval = Duration::from_secs(log_checkpoint_secs);
            settings.introspection = introspection;
            settings.rate_limit_per_second = rate_limit_per_second;
            settings.rate_limit_burst = rate_limit_burst;
            if booking_horizon_days < 1 || reminder_lead_minutes < 0 {
                anyhow::bail!(
                    "the booking horizon must be at least 1 day and the reminder lead not negative"
                );
            }
            settings.scheduling.horizon_days = booking_horizon_days;
            settings.scheduling.max_reschedules = max_reschedules;
            settings.reminder_lead = chrono::Duration::minutes(reminder_lead_minutes);
            settings.bind = bind;
            settings.demo = demo;
            settings.command_max_attempts = command_max_attempts;
            settings.read_your_writes_timeout = Duration::from_millis(read_your_writes_timeout_ms);
            let server = facesign::serve(&settings).await?;
            // Through the log, so FACESIGN_LOG_FORMAT=json keeps every line JSON.
            tracing::info!(
                "facesign is serving GraphiQL at http://{}/graphql",
                server.addr
            );
            tracing::info!("the console is at http://{}/console", server.addr);
            server.stop_on_signal();
            server.wait().await
        }
        Command::Migrate => {
            // The migration job: it migrates whatever FACESIGN_MIGRATE_ON_START says.
            settings.migrate_on_start = true;
            Engine::open(&settings).await?;
            eprintln!("migrations applied to {}", settings.redacted_url());
            Ok(())
        }
        Command::Replay { projection, verify } => {
            let engine = Engine::open(&settings).await?;
            if verify {
                let differences = engine.verify().await?;
                if differences.is_empty() {
                    eprintln!("every projection equals its rebuild from the log");
                    return Ok(());
                }
                for difference in &differences {
                    eprintln!("DIFFERENT {difference}");
                }
                anyhow::bail!(
                    "{} projection(s) differ from their rebuild",
                    differences.len()
                );
            }
            let projection = projection.unwrap_or_default();
            let applied = engine.replay(&projection).await?;
            eprintln!("projection {projection} rebuilt from 0: {applied} events applied");
            Ok(())
        }
        Command::Token {
            role,
            sub,
            ttl_minutes,
            token_max_lifetime_minutes,
        } => {
            // Where the bank's provider issues identities, nobody mints them.
            if std::env::var("FACESIGN_OIDC_ISSUER").is_ok_and(|i| !i.trim().is_empty()) {
                anyhow::bail!(
                    "FACESIGN_OIDC_ISSUER is set: tokens come from the identity provider; `facesign token` mints development tokens only"
                );
            }
            if ttl_minutes > token_max_lifetime_minutes {
                anyhow::bail!(
                    "--ttl-minutes {ttl_minutes} is over the accepted maximum of {token_max_lifetime_minutes} minutes (FACESIGN_TOKEN_MAX_LIFETIME_MINUTES); servers would refuse the token"
                );
            }
            let role = Role::parse(&role.to_uppercase()).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown role `{role}`; one of {}",
                    Role::ALL.map(Role::as_str).join(", ")
                )
            })?;
            if sub.trim().is_empty() || sub.len() > 64 {
                anyhow::bail!("--sub must be 1 to 64 characters");
            }
            let keys = api::auth::JwtKeys::new(&jwt_secret(true)?);
            println!("{}", keys.mint(sub.trim(), role, ttl_minutes.max(1) * 60));
            Ok(())
        }
        Command::Schema { out } => {
            std::fs::write(&out, api::schema::sdl())?;
            eprintln!("schema written to {}", out.display());
            Ok(())
        }
        Command::Contracts { out } => {
            let written = facesign::contracts::write(&out)?;
            eprintln!("{written} contract files written to {}", out.display());
            Ok(())
        }
        Command::Parked { action } => {
            let engine = Engine::open(&settings).await?;
            match action {
                ParkedAction::List { all, limit } => {
                    let parked = engine.parked(all, limit).await?;
                    if parked.is_empty() {
                        eprintln!("no parked events");
                    }
                    for p in parked {
                        println!(
                            "{}\t{}\t{}\t{} {}#{} ({})\tattempts {}\tparked {}\t{}",
                            p.worker,
                            p.position(),
                            p.status,
                            p.aggregate_type,
                            p.aggregate_id,
                            p.sequence,
                            p.event_type,
                            p.attempts,
                            p.parked_at,
                            p.error
                        );
                    }
                    Ok(())
                }
                ParkedAction::Retry {
                    worker,
                    position,
                    by,
                    note,
                } => {
                    operator(&by)?;
                    engine.retry_parked(&worker, position, &by, &note).await?;
                    eprintln!("{worker} applied the event at {position}; marked retried by {by}");
                    Ok(())
                }
                ParkedAction::Skip {
                    worker,
                    position,
                    by,
                    reason,
                } => {
                    operator(&by)?;
                    if reason.trim().is_empty() {
                        anyhow::bail!("--reason must say why the event may stay unapplied");
                    }
                    engine.skip_parked(&worker, position, &by, &reason).await?;
                    eprintln!("the event at {position} stays unapplied by {worker}; marked skipped by {by}");
                    Ok(())
                }
            }
        }
        Command::Log { action } => log_command(action, &settings).await,
        // Answered before the settings are read, in `run`.
        Command::Health { .. } => Ok(()),
        Command::SeedDemo => {
            let engine = Engine::open(&settings).await?;
            let tasks = facesign::demo::seed(&engine).await?;
            eprintln!("{tasks} demo tasks created");
            Ok(())
        }
    }
}

/// An operator's name for the operation log: a staff no, not blank.
fn operator(by: &str) -> anyhow::Result<()> {
    if by.trim().is_empty() || by.len() > 64 {
        anyhow::bail!("--by must name the operator (a staff no of at most 64 characters)");
    }
    Ok(())
}
