//! Admin catalog in GraphQL: scripts (001 2.4.7 话术管理), marketing media
//! (001 2.4.8 营销管理), seat groups (004 3.18 客服组管理) and staff accounts
//! (004 3.17 账号管理).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use domain::account::{Account, AccountCommand, AccountProfile};
use domain::media_asset::{MediaAsset, MediaCommand, MediaSettings};
use domain::message::message;
use domain::role::Role;
use domain::script_catalog::{Script, ScriptCatalog, ScriptCommand, CATALOG_ID};
use domain::seat_group::{SeatGroup, SeatGroupCommand, SeatGroupSettings};
use projections::admin_catalog::{AccountRow, AdminCatalog, MediaRow, ScriptRow};
use projections::call_queue::{CallQueue, SeatGroupRow};

use crate::command;
use crate::context::state;
use crate::error::ApiError;

fn code(value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.len() > 32 {
        return Err(ApiError::validation(message!(
            "code must be 1 to 32 characters"
        )));
    }
    Ok(value.to_string())
}

/// A script (标准话术).
#[derive(SimpleObject)]
pub struct ScriptView {
    /// Script code.
    pub code: String,
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
    /// The default script (默认话术).
    pub is_default: bool,
}

impl From<ScriptRow> for ScriptView {
    fn from(r: ScriptRow) -> Self {
        Self {
            code: r.script_code,
            channel_code: r.channel_code,
            channel_name: r.channel_name,
            product_code: r.product_code,
            product_name: r.product_name,
            business_kind: r.business_kind,
            content: r.content,
            is_default: r.is_default == 1,
        }
    }
}

/// A script's fields.
#[derive(InputObject)]
pub struct ScriptInput {
    /// 渠道代码; empty for every channel.
    #[graphql(default)]
    pub channel_code: String,
    /// 渠道名称.
    #[graphql(default)]
    pub channel_name: String,
    /// 产品代码; empty for every product.
    #[graphql(default)]
    pub product_code: String,
    /// 产品名称.
    #[graphql(default)]
    pub product_name: String,
    /// 业务种类.
    #[graphql(default)]
    pub business_kind: String,
    /// 话术内容.
    pub content: String,
}

impl From<ScriptInput> for Script {
    fn from(i: ScriptInput) -> Self {
        Script {
            channel_code: i.channel_code,
            channel_name: i.channel_name,
            product_code: i.product_code,
            product_name: i.product_name,
            business_kind: i.business_kind,
            content: i.content,
        }
    }
}

pub use domain::media_asset::MediaCategory;

/// A marketing clip's fields.
#[derive(InputObject)]
pub struct MediaInput {
    /// Title.
    pub title: String,
    /// Category.
    pub category: MediaCategory,
    /// http(s) address or a path on this server.
    pub url: String,
    /// Plays when the video connects, before the seat joins (自动播放).
    #[graphql(default)]
    pub autoplay: bool,
    /// The customer cannot skip it.
    #[graphql(default)]
    pub no_skip: bool,
}

impl From<MediaInput> for MediaSettings {
    fn from(i: MediaInput) -> Self {
        MediaSettings {
            title: i.title,
            category: i.category,
            url: i.url,
            autoplay: i.autoplay,
            no_skip: i.no_skip,
        }
    }
}

/// A marketing clip (制式音视频).
#[derive(SimpleObject)]
pub struct MediaView {
    /// Code.
    pub code: String,
    /// Title.
    pub title: String,
    /// PRODUCT_INTRO, MARKETING or RISK_NOTICE.
    pub category: String,
    /// Address.
    pub url: String,
    /// 自动播放.
    pub autoplay: bool,
    /// Cannot be skipped.
    pub no_skip: bool,
    /// 启用.
    pub enabled: bool,
    /// Created at.
    pub created_at: String,
}

impl From<MediaRow> for MediaView {
    fn from(r: MediaRow) -> Self {
        Self {
            code: r.media_code,
            title: r.title,
            category: r.category,
            url: r.url,
            autoplay: r.autoplay == 1,
            no_skip: r.no_skip == 1,
            enabled: r.enabled == 1,
            created_at: r.created_at,
        }
    }
}

/// A seat group's fields.
#[derive(InputObject)]
pub struct SeatGroupInput {
    /// 客服组名称.
    pub name: String,
    /// Business types and skills (product, channel, region codes).
    #[graphql(default)]
    pub skills: Vec<String>,
    /// Seat numbers.
    #[graphql(default)]
    pub seats: Vec<String>,
}

impl From<SeatGroupInput> for SeatGroupSettings {
    fn from(i: SeatGroupInput) -> Self {
        SeatGroupSettings {
            name: i.name,
            skills: i.skills,
            seats: i.seats,
        }
    }
}

/// A seat group (客服组).
#[derive(SimpleObject)]
pub struct SeatGroupView {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Skills.
    pub skills: Vec<String>,
    /// Seats.
    pub seats: Vec<String>,
}

impl From<SeatGroupRow> for SeatGroupView {
    fn from(r: SeatGroupRow) -> Self {
        Self {
            skills: r.skill_list(),
            seats: r.seat_list(),
            code: r.group_code,
            name: r.name,
        }
    }
}

/// A staff account's fields.
#[derive(InputObject)]
pub struct AccountInput {
    /// 姓名.
    pub name: String,
    /// 手机号.
    pub phone: Option<String>,
    /// 邮箱.
    pub email: Option<String>,
    /// 角色: SEAT, QC_REVIEWER, SUPERVISOR, ADMIN, AUDITOR or ACCOUNT_MANAGER.
    pub role: String,
}

impl TryFrom<AccountInput> for AccountProfile {
    type Error = ApiError;

    fn try_from(i: AccountInput) -> Result<Self, ApiError> {
        Ok(AccountProfile {
            name: i.name,
            phone: i.phone,
            email: i.email,
            role: Role::parse(i.role.trim()).ok_or_else(|| {
                ApiError::validation(message!("unknown role {role}", role = i.role))
            })?,
        })
    }
}

/// A staff account (账号).
#[derive(SimpleObject)]
pub struct AccountView {
    /// Login (工号).
    pub login: String,
    /// 姓名.
    pub name: String,
    /// 手机号, masked for roles without need.
    pub phone: Option<String>,
    /// 邮箱.
    pub email: Option<String>,
    /// 角色.
    pub role: String,
    /// ACTIVE, DISABLED or DELETED.
    pub status: String,
    /// Tokens issued before this moment are refused (creation or the last 踢出).
    pub valid_from: String,
    /// 创建时间.
    pub created_at: String,
}

fn account_view(ctx: &Context<'_>, r: AccountRow) -> AccountView {
    // Staff phones: masked for the roles that read accounts (admins, auditors).
    let reveal =
        crate::access::reveals(crate::context::viewer(ctx), crate::access::Showing::Listed);
    AccountView {
        phone: r.phone.map(|p| crate::access::phone(reveal, &p)),
        login: r.login,
        name: r.name,
        email: r.email,
        role: r.role,
        status: r.status,
        valid_from: r.valid_from,
        created_at: r.created_at,
    }
}

/// Admin catalog queries.
#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Every script, by code.
    async fn scripts(&self, ctx: &Context<'_>) -> Result<Vec<ScriptView>> {
        let rows = AdminCatalog::scripts(state(ctx).database.read_models())
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// 001 2.4.7.2: the script the workstation shows for a channel and product —
    /// the one for both, else for the product, else the default; null when none.
    async fn script_for(
        &self,
        ctx: &Context<'_>,
        channel_code: String,
        product_code: String,
    ) -> Result<Option<ScriptView>> {
        let state = state(ctx);
        let (catalog, _) = state
            .bus
            .load::<ScriptCatalog>(CATALOG_ID)
            .await
            .map_err(ApiError::internal)?;
        let Some((code, script)) = catalog.script_for(channel_code.trim(), product_code.trim())
        else {
            return Ok(None);
        };
        Ok(Some(ScriptView {
            code: code.to_string(),
            channel_code: script.channel_code.clone(),
            channel_name: script.channel_name.clone(),
            product_code: script.product_code.clone(),
            product_name: script.product_name.clone(),
            business_kind: script.business_kind.clone(),
            content: script.content.clone(),
            is_default: catalog.default_code() == Some(code),
        }))
    }

    /// Marketing clips by code; `enabledOnly` for the workstation's list.
    async fn media_assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] enabled_only: bool,
    ) -> Result<Vec<MediaView>> {
        let rows = AdminCatalog::media(state(ctx).database.read_models())
            .await
            .map_err(ApiError::from)?;
        Ok(rows
            .into_iter()
            .filter(|r| !enabled_only || r.enabled == 1)
            .map(Into::into)
            .collect())
    }

    /// Seat groups by code.
    async fn seat_groups(&self, ctx: &Context<'_>) -> Result<Vec<SeatGroupView>> {
        let rows = CallQueue::groups(state(ctx).database.read_models())
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Staff accounts by login, deleted ones included.
    async fn accounts(&self, ctx: &Context<'_>) -> Result<Vec<AccountView>> {
        let rows = AdminCatalog::accounts(state(ctx).database.read_models())
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|r| account_view(ctx, r)).collect())
    }
}

/// Admin catalog mutations.
#[derive(Default)]
pub struct CatalogMutation;

impl CatalogMutation {
    async fn scripts(ctx: &Context<'_>) -> Result<Vec<ScriptView>> {
        CatalogQuery.scripts(ctx).await
    }

    async fn media(ctx: &Context<'_>, code: &str) -> Result<Option<MediaView>> {
        let row = AdminCatalog::media_asset(state(ctx).database.read_models(), code)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(Into::into))
    }

    async fn group(ctx: &Context<'_>, code: &str) -> Result<Option<SeatGroupView>> {
        let row = CallQueue::group(state(ctx).database.read_models(), code)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(Into::into))
    }

    async fn account(ctx: &Context<'_>, login: &str) -> Result<Option<AccountView>> {
        let row = AdminCatalog::account(state(ctx).database.read_models(), login)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(|r| account_view(ctx, r)))
    }
}

#[Object]
impl CatalogMutation {
    /// Adds a script; the first one becomes the default.
    async fn add_script(
        &self,
        ctx: &Context<'_>,
        code: String,
        input: ScriptInput,
    ) -> Result<Vec<ScriptView>> {
        let code = self::code(&code)?;
        command::send_unguarded::<ScriptCatalog>(
            ctx,
            CATALOG_ID,
            ScriptCommand::Add {
                code,
                script: input.into(),
            },
        )
        .await?;
        Self::scripts(ctx).await
    }

    /// Replaces a script.
    async fn edit_script(
        &self,
        ctx: &Context<'_>,
        code: String,
        input: ScriptInput,
    ) -> Result<Vec<ScriptView>> {
        let code = self::code(&code)?;
        command::send_unguarded::<ScriptCatalog>(
            ctx,
            CATALOG_ID,
            ScriptCommand::Edit {
                code,
                script: input.into(),
            },
        )
        .await?;
        Self::scripts(ctx).await
    }

    /// Removes a script; the default only when it is the last.
    async fn remove_script(&self, ctx: &Context<'_>, code: String) -> Result<Vec<ScriptView>> {
        let code = self::code(&code)?;
        command::send_unguarded::<ScriptCatalog>(ctx, CATALOG_ID, ScriptCommand::Remove { code })
            .await?;
        Self::scripts(ctx).await
    }

    /// Makes a script the default (exactly one is).
    async fn make_default_script(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> Result<Vec<ScriptView>> {
        let code = self::code(&code)?;
        command::send_unguarded::<ScriptCatalog>(
            ctx,
            CATALOG_ID,
            ScriptCommand::MakeDefault { code },
        )
        .await?;
        Self::scripts(ctx).await
    }

    /// Adds a marketing clip, disabled until enabled.
    async fn create_media(
        &self,
        ctx: &Context<'_>,
        code: String,
        input: MediaInput,
    ) -> Result<Option<MediaView>> {
        let code = self::code(&code)?;
        command::send_unguarded::<MediaAsset>(ctx, &code, MediaCommand::Create(input.into()))
            .await?;
        Self::media(ctx, &code).await
    }

    /// Replaces a clip's settings.
    async fn edit_media(
        &self,
        ctx: &Context<'_>,
        code: String,
        input: MediaInput,
    ) -> Result<Option<MediaView>> {
        let code = self::code(&code)?;
        command::send_unguarded::<MediaAsset>(ctx, &code, MediaCommand::Edit(input.into())).await?;
        Self::media(ctx, &code).await
    }

    /// 启用 a clip.
    async fn enable_media(&self, ctx: &Context<'_>, code: String) -> Result<Option<MediaView>> {
        let code = self::code(&code)?;
        command::send_unguarded::<MediaAsset>(ctx, &code, MediaCommand::Enable).await?;
        Self::media(ctx, &code).await
    }

    /// 停用 a clip.
    async fn disable_media(&self, ctx: &Context<'_>, code: String) -> Result<Option<MediaView>> {
        let code = self::code(&code)?;
        command::send_unguarded::<MediaAsset>(ctx, &code, MediaCommand::Disable).await?;
        Self::media(ctx, &code).await
    }

    /// 删除 a clip.
    async fn delete_media(&self, ctx: &Context<'_>, code: String) -> Result<Option<MediaView>> {
        let code = self::code(&code)?;
        command::send_unguarded::<MediaAsset>(ctx, &code, MediaCommand::Delete).await?;
        Self::media(ctx, &code).await
    }

    /// 新建客服组.
    async fn create_seat_group(
        &self,
        ctx: &Context<'_>,
        code: String,
        input: SeatGroupInput,
    ) -> Result<Option<SeatGroupView>> {
        let code = self::code(&code)?;
        command::send_unguarded::<SeatGroup>(ctx, &code, SeatGroupCommand::Create(input.into()))
            .await?;
        Self::group(ctx, &code).await
    }

    /// 编辑客服组.
    async fn edit_seat_group(
        &self,
        ctx: &Context<'_>,
        code: String,
        input: SeatGroupInput,
    ) -> Result<Option<SeatGroupView>> {
        let code = self::code(&code)?;
        command::send_unguarded::<SeatGroup>(ctx, &code, SeatGroupCommand::Edit(input.into()))
            .await?;
        Self::group(ctx, &code).await
    }

    /// 删除客服组.
    async fn delete_seat_group(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> Result<Option<SeatGroupView>> {
        let code = self::code(&code)?;
        command::send_unguarded::<SeatGroup>(ctx, &code, SeatGroupCommand::Delete).await?;
        Self::group(ctx, &code).await
    }

    /// 创建账号.
    async fn create_account(
        &self,
        ctx: &Context<'_>,
        login: String,
        input: AccountInput,
    ) -> Result<Option<AccountView>> {
        let login = self::code(&login)?;
        command::send_unguarded::<Account>(ctx, &login, AccountCommand::Create(input.try_into()?))
            .await?;
        Self::account(ctx, &login).await
    }

    /// 编辑 an account's profile.
    async fn edit_account(
        &self,
        ctx: &Context<'_>,
        login: String,
        input: AccountInput,
    ) -> Result<Option<AccountView>> {
        let login = self::code(&login)?;
        command::send_unguarded::<Account>(ctx, &login, AccountCommand::Edit(input.try_into()?))
            .await?;
        Self::account(ctx, &login).await
    }

    /// 禁用: its tokens stop working.
    async fn disable_account(
        &self,
        ctx: &Context<'_>,
        login: String,
    ) -> Result<Option<AccountView>> {
        let login = self::code(&login)?;
        command::send_unguarded::<Account>(ctx, &login, AccountCommand::Disable).await?;
        Self::account(ctx, &login).await
    }

    /// 启用 again.
    async fn enable_account(
        &self,
        ctx: &Context<'_>,
        login: String,
    ) -> Result<Option<AccountView>> {
        let login = self::code(&login)?;
        command::send_unguarded::<Account>(ctx, &login, AccountCommand::Enable).await?;
        Self::account(ctx, &login).await
    }

    /// 删除: its tokens stop working; the login can be created again.
    async fn delete_account(
        &self,
        ctx: &Context<'_>,
        login: String,
    ) -> Result<Option<AccountView>> {
        let login = self::code(&login)?;
        command::send_unguarded::<Account>(ctx, &login, AccountCommand::Delete).await?;
        Self::account(ctx, &login).await
    }

    /// 踢出: every token issued so far stops working; the user signs in again.
    async fn kick_account(&self, ctx: &Context<'_>, login: String) -> Result<Option<AccountView>> {
        let login = self::code(&login)?;
        command::send_unguarded::<Account>(ctx, &login, AccountCommand::Kick).await?;
        Self::account(ctx, &login).await
    }
}
