//! Settings from command-line flags with environment fallbacks.

use std::sync::Arc;
use std::time::Duration;

use domain::schedule::SchedulingPolicy;
use domain::services::{Clock, LoanPolicy, SessionPolicy};
use secrecy::SecretString;

/// Everything the engine needs to start.
#[derive(Clone)]
pub struct Settings {
    /// `postgres://…` or `sqlite://…` (FACESIGN_DATABASE_URL).
    pub database_url: String,
    /// Listen address (FACESIGN_BIND).
    pub bind: String,
    /// Seed demo data on start when the log is empty.
    pub demo: bool,
    /// Pool size per pool (FACESIGN_DB_MAX_CONNECTIONS).
    pub max_connections: u32,
    /// The key log checkpoints are signed with (FACESIGN_LOG_SIGNING_KEY or
    /// its _FILE); none: events are still chained, but nothing is signed.
    pub log_signing_key: Option<Arc<store::checkpoint::LogSigningKey>>,
    /// How often the leading instance signs a checkpoint (FACESIGN_LOG_CHECKPOINT_SECS).
    pub log_checkpoint_interval: Duration,
    /// Whether opening applies pending migrations (FACESIGN_MIGRATE_ON_START);
    /// off, a start waits for the migration job instead.
    pub migrate_on_start: bool,
    /// How long a start waits for the database to answer and, with
    /// `migrate_on_start` off, to be migrated (FACESIGN_DATABASE_WAIT_SECS).
    pub database_wait: Duration,
    /// Attempts per command before CONFLICT (FACESIGN_COMMAND_MAX_ATTEMPTS).
    pub command_max_attempts: u32,
    /// Bounded wait of a mutation for its projection (FACESIGN_READ_YOUR_WRITES_TIMEOUT_MS).
    pub read_your_writes_timeout: Duration,
    /// Poll interval of projection runners when no commit notice arrives.
    pub projection_poll_interval: Duration,
    /// Events per projection transaction.
    pub projection_batch_size: u32,
    /// Booking horizon and reschedule limit (FACESIGN_BOOKING_HORIZON_DAYS, FACESIGN_MAX_RESCHEDULES).
    pub scheduling: SchedulingPolicy,
    /// Face similarity threshold and QC sample rate
    /// (FACESIGN_FACE_SIMILARITY_THRESHOLD, FACESIGN_QC_SAMPLE_PERCENT).
    pub session: SessionPolicy,
    /// Auto-approval limit and face-check cap
    /// (FACESIGN_AUTO_APPROVAL_LIMIT, FACESIGN_FACE_CHECK_DAILY_CAP).
    pub loans: LoanPolicy,
    /// Call-in margins and ring timeout (FACESIGN_CALL_IN_*_MINUTES,
    /// FACESIGN_RING_SECONDS, FACESIGN_RING_ATTEMPTS).
    pub operations: domain::services::OperationsPolicy,
    /// Which cases get a video interview (FACESIGN_HOME_PROVINCE).
    pub routing: domain::services::InterviewRouting,
    /// The SMS gateway messages are handed to; None: they stay in the outbox.
    pub sms_gateway: Option<workers::sms::SmsGatewaySettings>,
    /// Days before a due date the repayment reminder goes out
    /// (FACESIGN_REPAYMENT_REMINDER_DAYS; 0: none).
    pub repayment_reminder_days: u32,
    /// How long the core may leave a disbursement or repayment unanswered
    /// before it becomes a manual case (FACESIGN_CORE_ANSWER_TIMEOUT_SECS).
    pub core_answer_timeout: chrono::Duration,
    /// The SMTP relay contract downloads go out through (FACESIGN_SMTP_HOST,
    /// FACESIGN_SMTP_PORT, FACESIGN_SMTP_FROM); None: requests stay PENDING.
    pub smtp: Option<workers::contract_mail::SmtpSettings>,
    /// How long before the window the reminder SMS goes out (FACESIGN_REMINDER_LEAD_MINUTES).
    pub reminder_lead: chrono::Duration,
    /// How often the timer worker looks for due timers.
    pub timer_poll_interval: Duration,
    /// The engine's clock; the system clock unless a test pins it.
    pub clock: Arc<dyn Clock>,
    /// HS256 secret of bearer tokens (FACESIGN_JWT_SECRET); never logged.
    /// Used only without an identity provider: `--demo` and development.
    pub jwt_secret: SecretString,
    /// The bank's OpenID Connect provider (FACESIGN_OIDC_*); None: shared-secret tokens.
    pub oidc: Option<api::identity::OidcSettings>,
    /// How the console signs in through the provider (FACESIGN_PUBLIC_URL,
    /// FACESIGN_OIDC_CONSOLE_*); None: its defaults at `http://<bind>`.
    pub console_sign_in: Option<api::sign_in::SignInSettings>,
    /// Whether configuration changes need a second admin (FACESIGN_FOUR_EYES);
    /// None: on exactly when an identity provider is set (with one shared
    /// secret anybody holding it could mint the second admin).
    pub four_eyes: Option<bool>,
    /// Whether GraphQL introspection is on (FACESIGN_GRAPHQL_INTROSPECTION).
    pub introspection: bool,
    /// Sustained requests per second per client (FACESIGN_RATE_LIMIT_PER_SECOND).
    pub rate_limit_per_second: u32,
    /// Burst above the sustained rate (FACESIGN_RATE_LIMIT_BURST).
    pub rate_limit_burst: u32,
    /// Kafka brokers and topics; no relay and no consumer when None.
    pub kafka: Option<workers::kafka::KafkaSettings>,
    /// Partner platforms: secrets and callback addresses (FACESIGN_PARTNERS).
    pub partners: workers::partners::PartnerDirectory,
    /// The secret files read again while serving, and the overlap of a
    /// rotation (FACESIGN_PARTNERS_FILE, FACESIGN_SMS_GATEWAY_TOKEN_FILE,
    /// FACESIGN_SECRET_OVERLAP_MINUTES).
    pub rotated_files: crate::secret_files::RotatedFiles,
    /// Attempts of a callback before it becomes an incident (FACESIGN_CALLBACK_MAX_ATTEMPTS).
    pub callback_max_attempts: u32,
    /// When the 新网 account of a deferred borrow is checked (002 item 13: 1 hour).
    pub account_check_after: chrono::Duration,
    /// Accepted clock difference of signed partner requests.
    pub partner_timestamp_window: chrono::Duration,
    /// This instance's name in a cluster (FACESIGN_INSTANCE_ID; default host:pid).
    pub instance_id: String,
    /// How often a follower tries to take a worker's lock, and a leader checks it holds it.
    pub lease_poll_interval: Duration,
    /// How often an instance asks the store for the newest commit, in case a
    /// notice from another instance was lost (FACESIGN_HEARTBEAT_MS); with
    /// nothing to do, the only query an idle server runs besides the timers'.
    pub heartbeat_interval: Duration,
    /// Caps of every GraphQL document (FACESIGN_GRAPHQL_MAX_*).
    pub query_limits: api::query_limits::QueryLimits,
    /// How long a request may run before it is cancelled (FACESIGN_REQUEST_DEADLINE_MS).
    pub request_deadline: Duration,
    /// How long a stopping server waits for in-flight requests (FACESIGN_SHUTDOWN_GRACE_MS).
    pub shutdown_grace: Duration,
    /// The longest bearer-token lifetime accepted (FACESIGN_TOKEN_MAX_LIFETIME_MINUTES).
    pub token_max_lifetime: Duration,
    /// How long a mutation's idempotency key keeps its first answer
    /// (FACESIGN_IDEMPOTENCY_RETENTION_HOURS).
    pub idempotency_retention: Duration,
    /// Caps and timeouts of HTTP connections (FACESIGN_MAX_HTTP_CONNECTIONS,
    /// FACESIGN_MAX_HTTP_CONNECTIONS_PER_ADDRESS, FACESIGN_HEADER_READ_TIMEOUT_MS,
    /// FACESIGN_KEEP_ALIVE_TIMEOUT_MS).
    pub connections: crate::connections::ConnectionLimits,
    /// Caps and timeouts of GraphQL WebSockets (FACESIGN_WS_*).
    pub sockets: api::sockets::SocketLimits,
    /// Partner-API requests per second from one address, before verification
    /// (FACESIGN_PARTNER_RATE_PER_ADDRESS).
    pub partner_rate_per_address: u32,
    /// Partner-API requests per second of one verified partner (FACESIGN_PARTNER_RATE_PER_PARTNER).
    pub partner_rate_per_partner: u32,
    /// The last day the old partner signature (without method and path) is
    /// accepted (FACESIGN_PARTNER_LEGACY_SIGNATURE_UNTIL).
    pub partner_legacy_signature_until: Option<chrono::NaiveDate>,
    /// SMS delivery reports per second from one address, before authentication
    /// (FACESIGN_SMS_REPORT_RATE_PER_ADDRESS).
    pub sms_report_rate_per_address: u32,
}

/// The secret `serve --demo` and `token` fall back to when FACESIGN_JWT_SECRET
/// is unset. Public by design: anything signed with it is a demo token.
pub const DEMO_JWT_SECRET: &str = "facesign-demo-secret-not-for-production-use";

/// The shortest secret accepted outside demo mode.
pub const MIN_JWT_SECRET_LEN: usize = 32;

impl Settings {
    /// Defaults for `database_url`: the embedded SQLite file in the working directory.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            bind: "127.0.0.1:8080".to_string(),
            demo: false,
            max_connections: 10,
            migrate_on_start: true,
            log_signing_key: None,
            log_checkpoint_interval: Duration::from_secs(60),
            database_wait: Duration::ZERO,
            command_max_attempts: 5,
            read_your_writes_timeout: Duration::from_secs(5),
            projection_poll_interval: Duration::from_millis(500),
            projection_batch_size: 500,
            scheduling: SchedulingPolicy::default(),
            session: SessionPolicy::default(),
            loans: LoanPolicy::default(),
            operations: domain::services::OperationsPolicy::default(),
            sms_gateway: None,
            routing: domain::services::InterviewRouting::default(),
            repayment_reminder_days: 3,
            core_answer_timeout: chrono::Duration::minutes(15),
            smtp: None,
            reminder_lead: chrono::Duration::minutes(60),
            timer_poll_interval: Duration::from_secs(1),
            clock: Arc::new(store::SystemClock),
            jwt_secret: SecretString::from(DEMO_JWT_SECRET.to_string()),
            oidc: None,
            console_sign_in: None,
            four_eyes: None,
            introspection: true,
            rate_limit_per_second: 50,
            rate_limit_burst: 100,
            kafka: None,
            partners: workers::partners::PartnerDirectory::default(),
            rotated_files: crate::secret_files::RotatedFiles::none(),
            callback_max_attempts: 8,
            account_check_after: chrono::Duration::hours(1),
            partner_timestamp_window: chrono::Duration::minutes(5),
            instance_id: default_instance_id(),
            lease_poll_interval: Duration::from_secs(1),
            heartbeat_interval: Duration::from_secs(2),
            query_limits: api::query_limits::QueryLimits::default(),
            request_deadline: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(15),
            token_max_lifetime: Duration::from_secs(api::auth::DEFAULT_MAX_LIFETIME_SECONDS),
            idempotency_retention: Duration::from_secs(24 * 3600),
            connections: crate::connections::ConnectionLimits::default(),
            sockets: api::sockets::SocketLimits::default(),
            partner_rate_per_address: api::ApiConfig::default().partner_rate_per_address,
            partner_rate_per_partner: api::ApiConfig::default().partner_rate_per_partner,
            partner_legacy_signature_until: None,
            sms_report_rate_per_address: api::ApiConfig::default().sms_report_rate_per_address,
        }
    }

    /// The database URL without its password, for logs and error messages.
    pub fn redacted_url(&self) -> String {
        redact(&self.database_url)
    }
}

fn default_instance_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "facesign".to_string());
    format!("{host}:{}", std::process::id())
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The `sslmode` values Postgres (and sqlx) know.
const SSL_MODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// `database_url` with Postgres TLS set on it (FACESIGN_DATABASE_SSL_MODE,
/// FACESIGN_DATABASE_SSL_ROOT_CERT), replacing what the URL said of either:
/// sqlx reads both from the URL, for every pool and the listener alike.
/// Refuses an unknown mode, a CA file that cannot be read, and TLS settings
/// on SQLite.
pub fn with_postgres_tls(
    database_url: &str,
    ssl_mode: Option<&str>,
    root_cert: Option<&std::path::Path>,
) -> Result<String, String> {
    if ssl_mode.is_none() && root_cert.is_none() {
        return Ok(database_url.to_string());
    }
    if !database_url.starts_with("postgres://") && !database_url.starts_with("postgresql://") {
        return Err(
            "FACESIGN_DATABASE_SSL_MODE and FACESIGN_DATABASE_SSL_ROOT_CERT apply to Postgres only"
                .into(),
        );
    }
    let mut url = reqwest::Url::parse(database_url)
        .map_err(|e| format!("FACESIGN_DATABASE_URL is not a URL: {e}"))?;
    let mut set = Vec::new();
    if let Some(mode) = ssl_mode.map(str::trim) {
        if !SSL_MODES.contains(&mode) {
            return Err(format!(
                "FACESIGN_DATABASE_SSL_MODE `{mode}` is none of {}",
                SSL_MODES.join(", ")
            ));
        }
        set.push(("sslmode", mode.to_string()));
    }
    if let Some(path) = root_cert {
        std::fs::read(path).map_err(|e| {
            format!(
                "FACESIGN_DATABASE_SSL_ROOT_CERT: cannot read {}: {e}",
                path.display()
            )
        })?;
        set.push(("sslrootcert", path.display().to_string()));
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| !set.iter().any(|(name, _)| key == name))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .extend_pairs(set);
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_tls_is_set_on_the_url_and_refused_elsewhere() {
        let url = with_postgres_tls(
            "postgres://app:secret@db.bank:5432/facesign?sslmode=prefer&application_name=facesign",
            Some("verify-full"),
            None,
        )
        .unwrap();
        assert_eq!(
            url,
            "postgres://app:secret@db.bank:5432/facesign?application_name=facesign&sslmode=verify-full"
        );
        assert_eq!(
            with_postgres_tls("postgres://db/facesign", None, None).unwrap(),
            "postgres://db/facesign"
        );
        assert!(with_postgres_tls("postgres://db/f", Some("verify"), None)
            .unwrap_err()
            .contains("none of disable"));
        assert!(with_postgres_tls("sqlite://f.db", Some("require"), None)
            .unwrap_err()
            .contains("Postgres only"));
        assert!(with_postgres_tls(
            "postgres://db/f",
            None,
            Some(std::path::Path::new("/nonexistent/ca.pem"))
        )
        .unwrap_err()
        .contains("cannot read /nonexistent/ca.pem"));
    }

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/facesign"),
            "postgres://app:***@db:5432/facesign"
        );
        assert_eq!(redact("sqlite://facesign.db"), "sqlite://facesign.db");
    }
}
