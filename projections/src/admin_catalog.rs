//! The admin console's lists: scripts (001 2.4.7), marketing media (001
//! 2.4.8), staff accounts (004 3.17) and work orders (004 3.3).

use domain::account::{AccountEvent, AccountProfile, AGGREGATE_TYPE as ACCOUNT};
use domain::log::StoredEvent;
use domain::media_asset::{MediaEvent, MediaSettings, AGGREGATE_TYPE as MEDIA};
use domain::script_catalog::{ScriptEvent, AGGREGATE_TYPE as SCRIPTS};
use domain::work_order::{WorkOrderDetails, WorkOrderEvent, AGGREGATE_TYPE as WORK_ORDER};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::runner::Projection;
use domain::log::rfc3339;
use store::worker::{decode, WorkerError};

/// Projection name in checkpoints and `facesign replay --projection`.
pub const NAME: &str = "admin_catalog";

/// The admin catalog projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct AdminCatalog;

/// One script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct ScriptRow {
    /// Script code.
    pub script_code: String,
    /// 渠道代码 ("" for every channel).
    pub channel_code: String,
    /// 渠道名称.
    pub channel_name: String,
    /// 产品代码 ("" for every product).
    pub product_code: String,
    /// 产品名称.
    pub product_name: String,
    /// 业务种类.
    pub business_kind: String,
    /// 话术内容.
    pub content: String,
    /// 1 for the default script.
    pub is_default: i64,
}

/// One media clip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct MediaRow {
    /// Media code.
    pub media_code: String,
    /// Title.
    pub title: String,
    /// PRODUCT_INTRO, MARKETING or RISK_NOTICE.
    pub category: String,
    /// Address of the file.
    pub url: String,
    /// 1: plays when the video connects.
    pub autoplay: i64,
    /// 1: cannot be skipped.
    pub no_skip: i64,
    /// 1: enabled.
    pub enabled: i64,
    /// Created at.
    pub created_at: String,
}

/// One staff account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct AccountRow {
    /// Login (工号).
    pub login: String,
    /// 姓名.
    pub name: String,
    /// 手机号.
    pub phone: Option<String>,
    /// 邮箱.
    pub email: Option<String>,
    /// Role wire name.
    pub role: String,
    /// ACTIVE, DISABLED or DELETED.
    pub status: String,
    /// Tokens issued before this moment do not count (creation or the last kick).
    pub valid_from: String,
    /// Created at.
    pub created_at: String,
}

/// One work order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct WorkOrderRow {
    /// Id.
    pub work_order_id: String,
    /// 业务类型.
    pub business_type: String,
    /// 客户姓名.
    pub customer_name: String,
    /// 联系电话.
    pub phone: String,
    /// 身份证号.
    pub id_number: Option<String>,
    /// 案件号.
    pub case_no: String,
    /// 保单号.
    pub policy_no: Option<String>,
    /// PENDING, IN_PROGRESS, DONE or CANCELLED.
    pub status: String,
    /// 处理人.
    pub seat_no: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// 创建时间.
    pub created_at: String,
    /// 更新时间.
    pub updated_at: String,
}

async fn upsert_media(
    conn: &mut AnyConnection,
    code: &str,
    s: &MediaSettings,
    at: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO media_assets (media_code, title, category, url, autoplay, no_skip, enabled, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7)
         ON CONFLICT (media_code) DO UPDATE SET title = excluded.title, category = excluded.category,
            url = excluded.url, autoplay = excluded.autoplay, no_skip = excluded.no_skip",
    )
    .bind(code)
    .bind(&s.title)
    .bind(domain::wire_name(&s.category))
    .bind(&s.url)
    .bind(i64::from(s.autoplay))
    .bind(i64::from(s.no_skip))
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn upsert_account(
    conn: &mut AnyConnection,
    login: &str,
    p: &AccountProfile,
    created_at: Option<&str>,
) -> Result<(), sqlx::Error> {
    match created_at {
        Some(at) => sqlx::query(
            "INSERT INTO accounts (login, name, phone, email, role, status, valid_from, created_at)
             VALUES ($1, $2, $3, $4, $5, 'ACTIVE', $6, $7)
             ON CONFLICT (login) DO UPDATE SET name = excluded.name, phone = excluded.phone,
                email = excluded.email, role = excluded.role, status = 'ACTIVE',
                valid_from = excluded.valid_from, created_at = excluded.created_at",
        )
        .bind(login)
        .bind(&p.name)
        .bind(p.phone.clone())
        .bind(p.email.clone())
        .bind(p.role.as_str())
        .bind(at)
        .bind(at),
        None => sqlx::query(
            "UPDATE accounts SET name = $1, phone = $2, email = $3, role = $4 WHERE login = $5",
        )
        .bind(&p.name)
        .bind(p.phone.clone())
        .bind(p.email.clone())
        .bind(p.role.as_str())
        .bind(login),
    }
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn upsert_work_order(
    conn: &mut AnyConnection,
    event: &StoredEvent,
    d: &WorkOrderDetails,
    created: bool,
) -> Result<(), sqlx::Error> {
    let at = rfc3339(event.metadata.recorded_at);
    if created {
        sqlx::query(
            "INSERT INTO work_orders (work_order_id, business_type, customer_name, phone, id_number,
                case_no, policy_no, status, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', $8, $9, $10)",
        )
        .bind(&event.aggregate_id)
        .bind(&d.business_type)
        .bind(&d.customer_name)
        .bind(&d.phone)
        .bind(d.id_number.clone())
        .bind(&d.case_no)
        .bind(d.policy_no.clone())
        .bind(&event.metadata.actor_id)
        .bind(&at)
        .bind(&at)
        .execute(&mut *conn)
        .await?;
    } else {
        sqlx::query(
            "UPDATE work_orders SET business_type = $1, customer_name = $2, phone = $3, id_number = $4,
                case_no = $5, policy_no = $6, updated_at = $7 WHERE work_order_id = $8",
        )
        .bind(&d.business_type)
        .bind(&d.customer_name)
        .bind(&d.phone)
        .bind(d.id_number.clone())
        .bind(&d.case_no)
        .bind(d.policy_no.clone())
        .bind(&at)
        .bind(&event.aggregate_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Runs one statement with text arguments, in order.
async fn execute(conn: &mut AnyConnection, sql: &str, args: &[&str]) -> Result<(), sqlx::Error> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = query.bind(arg.to_string());
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

impl Projection for AdminCatalog {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn snapshot(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        Self::all_rows(pool).await
    }

    fn tables(&self) -> &'static [&'static str] {
        &["scripts", "media_assets", "accounts", "work_orders"]
    }

    fn reads(&self, event: &StoredEvent) -> bool {
        [SCRIPTS, MEDIA, ACCOUNT, WORK_ORDER].contains(&event.aggregate_type.as_str())
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), WorkerError> {
        let at = rfc3339(event.metadata.recorded_at);
        let id = event.aggregate_id.as_str();
        match event.aggregate_type.as_str() {
            SCRIPTS => match decode::<ScriptEvent>(event)? {
                ScriptEvent::ScriptAdded { code, script }
                | ScriptEvent::ScriptEdited { code, script } => {
                    sqlx::query(
                        "INSERT INTO scripts (script_code, channel_code, channel_name, product_code,
                            product_name, business_kind, content, is_default)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 0)
                         ON CONFLICT (script_code) DO UPDATE SET channel_code = excluded.channel_code,
                            channel_name = excluded.channel_name, product_code = excluded.product_code,
                            product_name = excluded.product_name, business_kind = excluded.business_kind,
                            content = excluded.content",
                    )
                    .bind(&code)
                    .bind(&script.channel_code)
                    .bind(&script.channel_name)
                    .bind(&script.product_code)
                    .bind(&script.product_name)
                    .bind(&script.business_kind)
                    .bind(&script.content)
                    .execute(&mut *conn)
                    .await?;
                }
                ScriptEvent::ScriptRemoved { code } => {
                    execute(conn, "DELETE FROM scripts WHERE script_code = $1", &[&code]).await?;
                }
                ScriptEvent::DefaultScriptChosen { code } => {
                    sqlx::query(
                        "UPDATE scripts SET is_default = CASE WHEN script_code = $1 THEN 1 ELSE 0 END",
                    )
                    .bind(&code)
                    .execute(&mut *conn)
                    .await?;
                }
            },
            MEDIA => match decode::<MediaEvent>(event)? {
                MediaEvent::MediaCreated(s) | MediaEvent::MediaEdited(s) => {
                    upsert_media(conn, id, &s, &at).await?;
                }
                MediaEvent::MediaEnabled | MediaEvent::MediaDisabled => {
                    let sql = if event.event_type == "MediaEnabled" {
                        "UPDATE media_assets SET enabled = 1 WHERE media_code = $1"
                    } else {
                        "UPDATE media_assets SET enabled = 0 WHERE media_code = $1"
                    };
                    execute(conn, sql, &[id]).await?;
                }
                MediaEvent::MediaDeleted => {
                    execute(
                        conn,
                        "DELETE FROM media_assets WHERE media_code = $1",
                        &[id],
                    )
                    .await?;
                }
            },
            ACCOUNT => match decode::<AccountEvent>(event)? {
                AccountEvent::AccountCreated { profile, at } => {
                    upsert_account(conn, id, &profile, Some(&rfc3339(at))).await?;
                }
                AccountEvent::AccountEdited(profile) => {
                    upsert_account(conn, id, &profile, None).await?
                }
                AccountEvent::AccountDisabled
                | AccountEvent::AccountEnabled
                | AccountEvent::AccountDeleted => {
                    let status = match event.event_type.as_str() {
                        "AccountDisabled" => "DISABLED",
                        "AccountDeleted" => "DELETED",
                        _ => "ACTIVE",
                    };
                    execute(
                        conn,
                        "UPDATE accounts SET status = $1 WHERE login = $2",
                        &[status, id],
                    )
                    .await?;
                }
                AccountEvent::AccountKicked { at } => {
                    // Token times are whole seconds: one issued in the second of
                    // the kick may predate it, so that second is refused too.
                    let at =
                        chrono::DurationRound::duration_trunc(at, chrono::Duration::seconds(1))
                            .unwrap_or(at)
                            + chrono::Duration::seconds(1);
                    execute(
                        conn,
                        "UPDATE accounts SET valid_from = $1 WHERE login = $2",
                        &[&rfc3339(at), id],
                    )
                    .await?;
                }
            },
            WORK_ORDER => {
                let status = match decode::<WorkOrderEvent>(event)? {
                    WorkOrderEvent::WorkOrderCreated(d) => {
                        upsert_work_order(conn, event, &d, true).await?;
                        None
                    }
                    WorkOrderEvent::WorkOrderEdited(d) => {
                        upsert_work_order(conn, event, &d, false).await?;
                        None
                    }
                    WorkOrderEvent::WorkOrderStarted { seat_no } => {
                        execute(
                            conn,
                            "UPDATE work_orders SET seat_no = $1 WHERE work_order_id = $2",
                            &[&seat_no, id],
                        )
                        .await?;
                        Some("IN_PROGRESS")
                    }
                    WorkOrderEvent::WorkOrderCompleted => Some("DONE"),
                    WorkOrderEvent::WorkOrderCancelled => Some("CANCELLED"),
                    WorkOrderEvent::GuideSmsRequested { .. }
                    | WorkOrderEvent::WorkOrderRemarked { .. } => None,
                };
                if let Some(status) = status {
                    execute(
                        conn,
                        "UPDATE work_orders SET status = $1 WHERE work_order_id = $2",
                        &[status, id],
                    )
                    .await?;
                }
                execute(
                    conn,
                    "UPDATE work_orders SET updated_at = $1 WHERE work_order_id = $2",
                    &[&at, id],
                )
                .await?;
            }
            _ => {}
        }
        Ok(())
    }
}

const ACCOUNT_COLUMNS: &str = "login, name, phone, email, role, status, valid_from, created_at";

const WORK_ORDER_COLUMNS: &str = "work_order_id, business_type, customer_name, phone, id_number,
    case_no, policy_no, status, seat_no, created_by, created_at, updated_at";

/// Narrows the work-order list.
#[derive(Debug, Clone, Default)]
pub struct WorkOrderFilter {
    /// Only this status (stored name).
    pub status: Option<String>,
    /// Only those this seat reaches.
    pub seat: Option<String>,
    /// Only this contact phone (004 4.2 输入手机号).
    pub phone: Option<String>,
    /// Only this customer's (ID number).
    pub customer_id: Option<String>,
}

/// The work orders a seat reaches (created, connected, or had a call offered
/// for), or all when the five placeholders from `$first` are NULL.
fn seat_reach(first: usize) -> String {
    let n: Vec<String> = (first..first + 5).map(|i| format!("${i}")).collect();
    format!(
        "({} IS NULL OR created_by = {} OR seat_no = {} OR work_order_id IN
            (SELECT task_id FROM inbound_calls WHERE seat_no = {}
                AND status IN ('DISPATCHED', 'ANSWERED', 'ENDED') AND {} IS NOT NULL))",
        n[0], n[1], n[2], n[3], n[4]
    )
}

fn bind_seat<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    seat: Option<&str>,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    let seat = seat.map(str::to_string);
    query
        .bind(seat.clone())
        .bind(seat.clone())
        .bind(seat.clone())
        .bind(seat.clone())
        .bind(seat)
}

impl AdminCatalog {
    /// Scripts by code.
    pub async fn scripts(pool: &AnyPool) -> Result<Vec<ScriptRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT script_code, channel_code, channel_name, product_code, product_name, business_kind,
                    content, is_default FROM scripts ORDER BY script_code",
        )
        .fetch_all(pool)
        .await
    }

    /// Media clips by code.
    pub async fn media(pool: &AnyPool) -> Result<Vec<MediaRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT media_code, title, category, url, autoplay, no_skip, enabled, created_at
               FROM media_assets ORDER BY media_code",
        )
        .fetch_all(pool)
        .await
    }

    /// One media clip.
    pub async fn media_asset(pool: &AnyPool, code: &str) -> Result<Option<MediaRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT media_code, title, category, url, autoplay, no_skip, enabled, created_at
               FROM media_assets WHERE media_code = $1",
        )
        .bind(code)
        .fetch_optional(pool)
        .await
    }

    /// Accounts by login (deleted ones too: their tokens stay refused).
    pub async fn accounts(pool: &AnyPool) -> Result<Vec<AccountRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY login"
        ))
        .fetch_all(pool)
        .await
    }

    /// One account.
    pub async fn account(pool: &AnyPool, login: &str) -> Result<Option<AccountRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE login = $1"
        ))
        .bind(login)
        .fetch_optional(pool)
        .await
    }

    /// Work orders, newest first, optionally in one status, and for a seat only
    /// those it reaches (created, connected, or had a call offered for).
    pub async fn work_orders(
        pool: &AnyPool,
        filter: &WorkOrderFilter,
        limit: i64,
    ) -> Result<Vec<WorkOrderRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {WORK_ORDER_COLUMNS} FROM work_orders
              WHERE ($1 IS NULL OR status = $2) AND {}
                AND ($8 IS NULL OR phone = $9) AND ($10 IS NULL OR id_number = $11)
              ORDER BY created_at DESC, work_order_id LIMIT $12",
            seat_reach(3)
        );
        let twice = |v: &Option<String>| (v.clone(), v.clone());
        let (status, status_again) = twice(&filter.status);
        let query = sqlx::query_as(&sql).bind(status).bind(status_again);
        let (phone, phone_again) = twice(&filter.phone);
        let (customer, customer_again) = twice(&filter.customer_id);
        bind_seat(query, filter.seat.as_deref())
            .bind(phone)
            .bind(phone_again)
            .bind(customer)
            .bind(customer_again)
            .bind(limit)
            .fetch_all(pool)
            .await
    }

    /// One work order.
    pub async fn work_order(pool: &AnyPool, id: &str) -> Result<Option<WorkOrderRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {WORK_ORDER_COLUMNS} FROM work_orders WHERE work_order_id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await
    }

    /// Work orders per status (全部 / 待处理 / 处理中 / 已处理 / 已撤销 tabs),
    /// for a seat only those it reaches.
    pub async fn work_order_counts(
        pool: &AnyPool,
        seat: Option<&str>,
    ) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let sql = format!(
            "SELECT status, COUNT(*) FROM work_orders WHERE {} GROUP BY status ORDER BY status",
            seat_reach(1)
        );
        bind_seat(sqlx::query_as(&sql), seat).fetch_all(pool).await
    }

    /// Every row of every table, as JSON lines: what a rebuild must reproduce.
    pub async fn all_rows(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        fn lines<T: Serialize>(rows: Vec<T>) -> impl Iterator<Item = String> {
            rows.into_iter()
                .map(|r| serde_json::to_string(&r).unwrap_or_default())
        }
        Ok(lines(Self::scripts(pool).await?)
            .chain(lines(Self::media(pool).await?))
            .chain(lines(Self::accounts(pool).await?))
            .chain(lines(
                Self::work_orders(pool, &WorkOrderFilter::default(), i64::MAX).await?,
            ))
            .collect())
    }
}
