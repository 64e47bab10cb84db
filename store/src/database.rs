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
    /// The database's migrations disagree with this build's.
    #[error("the database's migrations disagree with this build: {0}")]
    SchemaConflict(String),
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

impl StoreError {
    /// Whether the same attempt may succeed later (the database starting,
    /// the network): not a wrong URL, password or database name.
    pub fn may_pass(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Configuration(_)) => false,
            StoreError::Database(sqlx::Error::Database(error)) => !matches!(
                error.code().as_deref(),
                // invalid password, invalid authorization, no such database
                Some("28P01" | "28000" | "3D000")
            ),
            StoreError::UnsupportedUrl(_) | StoreError::SchemaConflict(_) => false,
            _ => true,
        }
    }
}

/// How a database's schema stands against this build's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Versions this build needs that the database lacks (run `facesign migrate`).
    pub pending: Vec<i64>,
    /// Versions a newer release applied: above this build's newest.
    pub newer: Vec<i64>,
    /// Why this build must not run on the database at all: a migration that
    /// failed part way, one whose SQL differs from this build's, or one this
    /// build does not know below its newest.
    pub conflict: Option<String>,
}

impl SchemaStatus {
    /// Compares `applied` rows (version, checksum, success) with `migrator`'s.
    fn of(migrator: &sqlx::migrate::Migrator, applied: &[(i64, Vec<u8>, bool)]) -> Self {
        let newest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let mut conflicts = Vec::new();
        let mut newer = Vec::new();
        for (version, checksum, success) in applied {
            let ours = migrator.iter().find(|m| m.version == *version);
            if !success {
                conflicts.push(format!("migration {version} failed part way (success = false): repair it by hand, then run `facesign migrate`"));
            } else if let Some(ours) = ours {
                if ours.checksum.as_ref() != checksum.as_slice() {
                    conflicts.push(format!(
                        "migration {version} was applied from SQL that differs from this build's"
                    ));
                }
            } else if *version > newest {
                newer.push(*version);
            } else {
                conflicts.push(format!(
                    "migration {version} is applied but unknown to this build, older than its newest ({newest})"
                ));
            }
        }
        Self {
            pending: migrator
                .iter()
                .map(|m| m.version)
                .filter(|v| !applied.iter().any(|(a, _, _)| a == v))
                .collect(),
            newer,
            conflict: (!conflicts.is_empty()).then(|| conflicts.join("; ")),
        }
    }
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
            // Only the scheme: the rest may carry a password.
            let scheme = url.split_once("://").map_or("(none)", |(scheme, _)| scheme);
            return Err(StoreError::UnsupportedUrl(format!("{scheme}://…")));
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
        // add (docs/operations.md, Upgrading). `schema_status` refuses any
        // other version this build does not know.
        migrator.set_ignore_missing(true);
        migrator
    }

    /// Applies the migrations of this backend (idempotent; on Postgres under
    /// sqlx's advisory lock, so instances starting together take turns).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        if let Some(conflict) = self.schema_status().await?.conflict {
            return Err(StoreError::SchemaConflict(conflict));
        }
        let migrator = self.migrator();
        match &self.store {
            StorePool::Postgres(pool) => migrator.run(pool).await?,
            StorePool::Sqlite(pool) => migrator.run(pool).await?,
        }
        Ok(())
    }

    /// How the database's schema stands against this build's migrations.
    pub async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        // The table sqlx keeps, if it made it yet: (version, checksum, success).
        macro_rules! applied {
            ($pool:expr, $exists:literal) => {{
                let exists: bool = sqlx::query_scalar($exists).fetch_one($pool).await?;
                if exists {
                    sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations")
                        .fetch_all($pool)
                        .await?
                } else {
                    Vec::new()
                }
            }};
        }
        let applied: Vec<(i64, Vec<u8>, bool)> = match &self.store {
            StorePool::Postgres(pool) => applied!(
                pool,
                "SELECT to_regclass('_sqlx_migrations') IS NOT NULL"
            ),
            StorePool::Sqlite(pool) => applied!(
                pool,
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')"
            ),
        };
        Ok(SchemaStatus::of(&self.migrator(), &applied))
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

#[cfg(test)]
mod tests {
    use super::SchemaStatus;

    fn rows(migrator: &sqlx::migrate::Migrator) -> Vec<(i64, Vec<u8>, bool)> {
        migrator
            .iter()
            .map(|m| (m.version, m.checksum.to_vec(), true))
            .collect()
    }

    #[test]
    fn a_database_is_pending_newer_or_in_conflict_with_a_build() {
        let migrator = sqlx::migrate!("../migrations/sqlite");
        let all = rows(&migrator);
        let newest = all.last().unwrap().0;

        let empty = SchemaStatus::of(&migrator, &[]);
        assert_eq!(empty.pending.len(), all.len());
        assert_eq!(empty.conflict, None);

        let behind = SchemaStatus::of(&migrator, &all[..all.len() - 1]);
        assert_eq!(behind.pending, [newest]);
        assert_eq!(behind.conflict, None);

        let mut ahead = all.clone();
        ahead.push((newest + 1, vec![0], true));
        let ahead = SchemaStatus::of(&migrator, &ahead);
        assert!(ahead.pending.is_empty());
        assert_eq!(ahead.newer, [newest + 1]);
        assert_eq!(ahead.conflict, None);

        let mut dirty = all.clone();
        dirty.last_mut().unwrap().2 = false;
        let dirty = SchemaStatus::of(&migrator, &dirty).conflict.unwrap();
        assert!(dirty.contains("failed part way"), "{dirty}");

        let mut edited = all.clone();
        edited[0].1 = vec![1, 2, 3];
        let edited = SchemaStatus::of(&migrator, &edited).conflict.unwrap();
        assert!(edited.contains("differs from this build's"), "{edited}");

        let mut stray = all.clone();
        stray.push((0, vec![0], true));
        let stray = SchemaStatus::of(&migrator, &stray);
        assert!(stray.newer.is_empty());
        assert!(stray.conflict.unwrap().contains("unknown to this build"));
    }
}
