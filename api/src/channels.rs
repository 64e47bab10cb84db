//! Channel admission in GraphQL (001 2.4.9 渠道管理, 2.2.2 准入校验).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use domain::channel::{Admission, CallerPlace, Channel, ChannelCommand, ChannelSettings, GpsArea};
use domain::message::message;
use projections::channels::{ChannelRow, Channels};

use crate::command;
use crate::context::state;
use crate::error::ApiError;

/// A channel code as a caller gives it: trimmed, 1 to 32 characters.
pub(crate) fn channel_code(code: &str) -> Result<String, ApiError> {
    let code = code.trim();
    if code.is_empty() || code.len() > 32 {
        return Err(ApiError::validation(message!(
            "channelCode must be 1 to 32 characters"
        )));
    }
    Ok(code.to_string())
}

/// 准入校验: the answer of channel `code` to a caller at `place`, read from
/// the channel itself, so a just-disabled channel refuses at once.
pub(crate) async fn admit(
    ctx: &Context<'_>,
    code: &str,
    place: &CallerPlace,
) -> Result<Admission, ApiError> {
    let (channel, _) = state(ctx)
        .bus
        .load::<Channel>(code)
        .await
        .map_err(ApiError::internal)?;
    Ok(channel.admit(place))
}

/// A GPS area a channel admits from.
#[derive(InputObject, SimpleObject, Clone)]
#[graphql(input_name = "GpsAreaInput")]
pub struct GpsAreaView {
    /// Centre latitude.
    pub latitude: f64,
    /// Centre longitude.
    pub longitude: f64,
    /// Radius in metres.
    pub radius_m: f64,
}

/// Settings of a channel (新建 / 编辑).
#[derive(InputObject)]
pub struct ChannelInput {
    /// 渠道名称.
    pub name: String,
    /// 机构名称.
    #[graphql(default)]
    pub org_name: String,
    /// 机构号码.
    #[graphql(default)]
    pub org_code: String,
    /// 渠道指定属地.
    #[graphql(default)]
    pub localities: Vec<String>,
    /// 渠道指定GPS定位.
    #[graphql(default)]
    pub gps_areas: Vec<GpsAreaView>,
    /// 渠道指定网络.
    #[graphql(default)]
    pub wifi_networks: Vec<String>,
}

impl From<ChannelInput> for ChannelSettings {
    fn from(input: ChannelInput) -> Self {
        Self {
            name: input.name,
            org_name: input.org_name,
            org_code: input.org_code,
            localities: input.localities,
            gps_areas: input
                .gps_areas
                .into_iter()
                .map(|a| GpsArea {
                    latitude: a.latitude,
                    longitude: a.longitude,
                    radius_m: a.radius_m,
                })
                .collect(),
            wifi_networks: input.wifi_networks,
        }
    }
}

/// A channel of the list.
#[derive(SimpleObject)]
pub struct ChannelView {
    /// 渠道代码.
    pub code: String,
    /// 渠道名称.
    pub name: String,
    /// 机构名称.
    pub org_name: String,
    /// 机构号码.
    pub org_code: String,
    /// 启用 (true) or 停用.
    pub enabled: bool,
    /// 创建时间.
    pub created_at: String,
}

impl From<ChannelRow> for ChannelView {
    fn from(r: ChannelRow) -> Self {
        Self {
            code: r.channel_code,
            name: r.name,
            org_name: r.org_name,
            org_code: r.org_code,
            enabled: r.enabled != 0,
            created_at: r.created_at,
        }
    }
}

/// The answer of the admission check.
#[derive(SimpleObject)]
pub struct AdmissionView {
    /// Whether the customer may queue.
    pub admitted: bool,
    /// The text to show when refused.
    pub message: Option<String>,
}

/// Channel queries.
#[derive(Default)]
pub struct ChannelQuery;

#[Object]
impl ChannelQuery {
    /// Channels whose name and code contain the given text (模糊查询).
    async fn channels(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] name: String,
        #[graphql(default)] code: String,
    ) -> Result<Vec<ChannelView>> {
        let rows = Channels::search(state(ctx).database.read_models(), &name, &code)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// 准入校验: may a customer call in through `channelCode` from here? Read
    /// from the channel itself, so a just-disabled channel refuses at once.
    async fn channel_admission(
        &self,
        ctx: &Context<'_>,
        channel_code: String,
        locality: Option<String>,
        latitude: Option<f64>,
        longitude: Option<f64>,
        wifi: Option<String>,
    ) -> Result<AdmissionView> {
        let place = CallerPlace {
            locality,
            position: latitude.zip(longitude),
            wifi,
        };
        Ok(match admit(ctx, channel_code.trim(), &place).await? {
            Admission::Admitted => AdmissionView {
                admitted: true,
                message: None,
            },
            Admission::Refused(text) => AdmissionView {
                admitted: false,
                message: Some(text),
            },
        })
    }
}

/// Channel mutations (admins).
#[derive(Default)]
pub struct ChannelMutation;

impl ChannelMutation {
    async fn send(
        &self,
        ctx: &Context<'_>,
        code: &str,
        command: ChannelCommand,
    ) -> Result<Option<ChannelView>> {
        let code = code.trim();
        if code.is_empty() || code.len() > 32 {
            return Err(ApiError::validation(message!("code must be 1 to 32 characters")).into());
        }
        let state = state(ctx);
        command::send_unguarded::<Channel>(ctx, code, command).await?;
        let row = Channels::get(state.database.read_models(), code)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(Into::into))
    }
}

#[Object]
impl ChannelMutation {
    /// 添加: a new channel, disabled (默认停用).
    async fn create_channel(
        &self,
        ctx: &Context<'_>,
        code: String,
        input: ChannelInput,
    ) -> Result<Option<ChannelView>> {
        self.send(ctx, &code, ChannelCommand::Create(input.into()))
            .await
    }

    /// 编辑.
    async fn edit_channel(
        &self,
        ctx: &Context<'_>,
        code: String,
        input: ChannelInput,
    ) -> Result<Option<ChannelView>> {
        self.send(ctx, &code, ChannelCommand::Edit(input.into()))
            .await
    }

    /// 启用.
    async fn enable_channel(&self, ctx: &Context<'_>, code: String) -> Result<Option<ChannelView>> {
        self.send(ctx, &code, ChannelCommand::Enable).await
    }

    /// 停用.
    async fn disable_channel(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> Result<Option<ChannelView>> {
        self.send(ctx, &code, ChannelCommand::Disable).await
    }

    /// 删除: only a disabled channel; answers null once deleted.
    async fn delete_channel(&self, ctx: &Context<'_>, code: String) -> Result<Option<ChannelView>> {
        self.send(ctx, &code, ChannelCommand::Delete).await
    }
}
