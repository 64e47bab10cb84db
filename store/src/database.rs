//! Connection to the backing database, chosen by URL: `postgres://…` or `sqlite://…`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AnyPool, PgPool, SqlitePool};

/// Which database engine holds the event store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL: the production backend, several instances may share it.
    Postgres,
    /// SQLite: the embedded default, a single instance per file.
    Sqlite,
}

impl Backend {
    /// Lower-case name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// A failure of the store or its configuration.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported backend or is malformed.
    #[error("unsupported database URL `{0}`: use postgres://… or sqlite://…")]
    UnsupportedUrl(String),
    /// The database refused or lost the connection, or a statement failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored row could not be decoded.
    #[error("corrupt stored event at {aggregate_type}/{aggregate_id}#{sequence}: {reason}")]
    Corrupt {
        /// Aggregate type of the row.
        aggregate_type: String,
        /// Aggregate id of the row.
        aggregate_id: String,
        /// Sequence of the row.
        sequence: i64,
        /// What could not be decoded.
        reason: String,
    },
}

/// How a database's schema stands against this build's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Versions this build needs that the database lacks (run `facesign migrate`).
    pub pending: Vec<i64>,
    /// Versions applied by a newer release, which this build does not know.
    pub unknown: Vec<i64>,
}

/// The pools of one database: a typed pool for the event store and an `Any`
/// pool for read models, whose SQL is shared by both backends.
#[derive(Debug, Clone)]
pub struct Database {
    url: String,
    store: StorePool,
    read_models: AnyPool,
}

/// The typed pool the event store and the global log use.
#[derive(Debug, Clone)]
pub enum StorePool {
    /// Postgres pool.
    Postgres(PgPool),
    /// SQLite pool.
    Sqlite(SqlitePool),
}

impl Database {
    /// Opens pools for `url`, creating the SQLite file if missing.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let acquire_timeout = Duration::from_secs(5);
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?.application_name("facesign");
            StorePool::Postgres(
                PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(acquire_timeout)
                    .connect_with(options)
                    .await?,
            )
        } else if url.starts_with("sqlite:") {
            // WAL lets readers run beside the single writer; FULL sync makes every
            // acknowledged commit survive a power cut.
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            StorePool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(acquire_timeout)
                    .connect_with(options)
                    .await?,
            )
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let read_models = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout)
            .after_connect(|conn, meta| {
                Box::pin(async move {
                    // Read-model writes must wait for the event writer, not fail at once.
                    if conn.backend_name() == "SQLite" {
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                    }
                    let _ = meta;
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(Self {
            url: url.to_string(),
            store,
            read_models,
        })
    }

    /// This build's migrations of this backend.
    fn migrator(&self) -> sqlx::migrate::Migrator {
        let mut migrator = match &self.store {
            StorePool::Postgres(_) => sqlx::migrate!("../migrations/postgres"),
            StorePool::Sqlite(_) => sqlx::migrate!("../migrations/sqlite"),
        };
        // A database a newer release has migrated (its migration job runs
        // before the rolling restart) still serves this one: migrations only
        // add (docs/operations.md, Upgrading).
        migrator.set_ignore_missing(true);
        migrator
    }

    /// Applies the migrations of this backend (idempotent; on Postgres under
    /// sqlx's advisory lock, so instances starting together take turns).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = self.migrator();
        match &self.store {
            StorePool::Postgres(pool) => migrator.run(pool).await?,
            StorePool::Sqlite(pool) => migrator.run(pool).await?,
        }
        Ok(())
    }

    /// How the database's schema stands against this build's migrations.
    pub async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        let applied: Vec<i64> = match &self.store {
            StorePool::Postgres(pool) => {
                let exists: bool =
                    sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                        .fetch_one(pool)
                        .await?;
                if exists {
                    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                        .fetch_all(pool)
                        .await?
                } else {
                    Vec::new()
                }
            }
            StorePool::Sqlite(pool) => {
                let exists: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
                )
                .fetch_one(pool)
                .await?;
                if exists {
                    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                        .fetch_all(pool)
                        .await?
                } else {
                    Vec::new()
                }
            }
        };
        let migrator = self.migrator();
        Ok(SchemaStatus {
            pending: migrator
                .iter()
                .map(|m| m.version)
                .filter(|v| !applied.contains(v))
                .collect(),
            unknown: applied
                .iter()
                .copied()
                .filter(|v| !migrator.version_exists(*v))
                .collect(),
        })
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        match self.store {
            StorePool::Postgres(_) => Backend::Postgres,
            StorePool::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The URL the pools were opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The typed pool of the event store.
    pub fn store(&self) -> &StorePool {
        &self.store
    }

    /// How full each pool is, for the metrics: its name, the connections in
    /// use, those idle, and the most it may open.
    pub fn pool_usage(&self) -> [(&'static str, u32, u32, u32); 2] {
        fn usage<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> (u32, u32, u32) {
            let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
            let open = pool.size();
            (
                open.saturating_sub(idle),
                idle,
                pool.options().get_max_connections(),
            )
        }
        let store = match &self.store {
            StorePool::Postgres(pool) => usage(pool),
            StorePool::Sqlite(pool) => usage(pool),
        };
        let read_models = usage(&self.read_models);
        [
            ("store", store.0, store.1, store.2),
            ("read_models", read_models.0, read_models.1, read_models.2),
        ]
    }

    /// The pool read models are written and queried through.
    pub fn read_models(&self) -> &AnyPool {
        &self.read_models
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.store {
            StorePool::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
            StorePool::Sqlite(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// Closes every pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.read_models.close().await;
        match &self.store {
            StorePool::Postgres(pool) => pool.close().await,
            StorePool::Sqlite(pool) => pool.close().await,
        }
    }
}
