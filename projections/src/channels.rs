//! The channel list of the admin console (001 2.4.9.2 查询列表).

use domain::channel::{ChannelEvent, AGGREGATE_TYPE};
use domain::log::StoredEvent;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::runner::Projection;
use store::worker::{decode, WorkerError};

/// Projection name in checkpoints and `facesign replay --projection`.
pub const NAME: &str = "channels";

/// The channel list projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Channels;

/// One channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct ChannelRow {
    /// 渠道代码.
    pub channel_code: String,
    /// 渠道名称.
    pub name: String,
    /// 机构名称.
    pub org_name: String,
    /// 机构号码.
    pub org_code: String,
    /// 1 启用, 0 停用.
    pub enabled: i64,
    /// Settings as JSON (constraints).
    pub settings: String,
    /// 创建时间 (RFC 3339).
    pub created_at: String,
}

impl Projection for Channels {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn snapshot(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        Ok(crate::runner::lines(Self::all_rows(pool).await?))
    }

    fn tables(&self) -> &'static [&'static str] {
        &["channels"]
    }

    fn reads(&self, event: &StoredEvent) -> bool {
        [AGGREGATE_TYPE].contains(&event.aggregate_type.as_str())
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), WorkerError> {
        if event.aggregate_type != AGGREGATE_TYPE {
            return Ok(());
        }
        let decoded: ChannelEvent = decode(event)?;
        let code = &event.aggregate_id;
        match decoded {
            ChannelEvent::ChannelCreated(s) | ChannelEvent::ChannelEdited(s) => {
                let settings = serde_json::to_string(&s).unwrap_or_default();
                let at = domain::log::rfc3339(event.metadata.recorded_at);
                sqlx::query(
                    "INSERT INTO channels (channel_code, name, org_name, org_code, enabled, settings, created_at)
                     VALUES ($1, $2, $3, $4, 0, $5, $6)
                     ON CONFLICT (channel_code) DO UPDATE SET name = excluded.name,
                        org_name = excluded.org_name, org_code = excluded.org_code, settings = excluded.settings",
                )
                .bind(code)
                .bind(&s.name)
                .bind(&s.org_name)
                .bind(&s.org_code)
                .bind(settings)
                .bind(at)
                .execute(&mut *conn)
                .await?;
            }
            ChannelEvent::ChannelEnabled | ChannelEvent::ChannelDisabled => {
                let enabled = i64::from(matches!(decoded, ChannelEvent::ChannelEnabled));
                sqlx::query("UPDATE channels SET enabled = $1 WHERE channel_code = $2")
                    .bind(enabled)
                    .bind(code)
                    .execute(&mut *conn)
                    .await?;
            }
            ChannelEvent::ChannelDeleted => {
                sqlx::query("DELETE FROM channels WHERE channel_code = $1")
                    .bind(code)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Ok(())
    }
}

const COLUMNS: &str = "channel_code, name, org_name, org_code, enabled, settings, created_at";

impl Channels {
    /// Channels whose name and code contain the given fragments (模糊查询), by code.
    pub async fn search(
        pool: &AnyPool,
        name_like: &str,
        code_like: &str,
    ) -> Result<Vec<ChannelRow>, sqlx::Error> {
        let like = |s: &str| format!("%{}%", s.replace(['%', '_'], ""));
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM channels WHERE name LIKE $1 AND channel_code LIKE $2 ORDER BY channel_code"
        ))
        .bind(like(name_like))
        .bind(like(code_like))
        .fetch_all(pool)
        .await
    }

    /// One channel.
    pub async fn get(pool: &AnyPool, code: &str) -> Result<Option<ChannelRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM channels WHERE channel_code = $1"
        ))
        .bind(code)
        .fetch_optional(pool)
        .await
    }

    /// Every row by code: what a rebuild must reproduce.
    pub async fn all_rows(pool: &AnyPool) -> Result<Vec<ChannelRow>, sqlx::Error> {
        Self::search(pool, "", "").await
    }
}
