use crate::message::message;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::commands::ChannelCommand;
use super::error::ChannelError;
use super::events::ChannelEvent;
use crate::services::DomainServices;

/// 001 2.4.9.3 rule 2: the exact text a refused customer sees.
pub const NOT_AUTHORISED: &str = "当前渠道未被授权接入我行视频坐席，请联系您的客户经理。";

/// 001 2.2.2: 若呼入受限，则提示客户前往我方指定区域或网络内呼入视频面谈 (001 gives no
/// exact wording for this one).
pub const RESTRICTED: &str = "请前往我行指定区域或连接指定网络后再呼入视频面谈。";

/// A circle a customer must call from (渠道指定GPS定位).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GpsArea {
    /// Centre latitude.
    pub latitude: f64,
    /// Centre longitude.
    pub longitude: f64,
    /// Radius in metres.
    pub radius_m: f64,
}

impl GpsArea {
    /// Whether a point lies inside (haversine distance).
    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        const EARTH_RADIUS_M: f64 = 6_371_000.0;
        let (p1, p2) = (self.latitude.to_radians(), latitude.to_radians());
        let dp = p2 - p1;
        let dl = (longitude - self.longitude).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().asin() <= self.radius_m
    }
}

/// What an admin sets on a channel (新建 / 编辑).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChannelSettings {
    /// 渠道名称.
    pub name: String,
    /// 机构名称.
    pub org_name: String,
    /// 机构号码.
    pub org_code: String,
    /// 渠道指定属地: the customer's locality must be one of these…
    pub localities: Vec<String>,
    /// …or their position inside one of these areas (渠道指定GPS定位)…
    pub gps_areas: Vec<GpsArea>,
    /// …or their Wi-Fi one of these networks (渠道指定网络). All empty: no constraint.
    pub wifi_networks: Vec<String>,
}

/// Where a customer calls from, as the SDK reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CallerPlace {
    /// Locality (e.g. 上海).
    pub locality: Option<String>,
    /// GPS position.
    pub position: Option<(f64, f64)>,
    /// Wi-Fi network name.
    pub wifi: Option<String>,
}

/// The answer to a call (准入校验).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Admission {
    /// The customer may queue.
    Admitted,
    /// The customer is refused with this text.
    Refused(String),
}

/// The write-side state of one channel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Channel {
    exists: bool,
    enabled: bool,
    settings: ChannelSettings,
}

fn validate(mut settings: ChannelSettings) -> Result<ChannelSettings, ChannelError> {
    settings.name = settings.name.trim().to_string();
    if settings.name.is_empty() || settings.name.chars().count() > 64 {
        return Err(ChannelError::Invalid(message!(
            "name must be 1 to 64 characters"
        )));
    }
    for area in &settings.gps_areas {
        if !(-90.0..=90.0).contains(&area.latitude)
            || !(-180.0..=180.0).contains(&area.longitude)
            || !(1.0..=100_000.0).contains(&area.radius_m)
        {
            return Err(ChannelError::Invalid(message!(
                "a GPS area needs a valid centre and a radius of 1 m to 100 km"
            )));
        }
    }
    Ok(settings)
}

impl Channel {
    /// Whether customers may call in through it.
    pub fn is_enabled(&self) -> bool {
        self.exists && self.enabled
    }

    /// The settings.
    pub fn settings(&self) -> &ChannelSettings {
        &self.settings
    }

    /// 准入校验 (001 2.2.2, 2.4.9.3): refused with the exact text unless the
    /// channel exists and is enabled; then, if it restricts places, admitted when
    /// the locality, the GPS position or the Wi-Fi matches any of them.
    pub fn admit(&self, caller: &CallerPlace) -> Admission {
        if !self.is_enabled() {
            return Admission::Refused(NOT_AUTHORISED.to_string());
        }
        let s = &self.settings;
        if s.localities.is_empty() && s.gps_areas.is_empty() && s.wifi_networks.is_empty() {
            return Admission::Admitted;
        }
        let by_locality = caller
            .locality
            .as_ref()
            .is_some_and(|l| s.localities.iter().any(|x| x == l.trim()));
        let by_gps = caller
            .position
            .is_some_and(|(lat, lng)| s.gps_areas.iter().any(|a| a.contains(lat, lng)));
        let by_wifi = caller
            .wifi
            .as_ref()
            .is_some_and(|w| s.wifi_networks.iter().any(|x| x == w.trim()));
        if by_locality || by_gps || by_wifi {
            Admission::Admitted
        } else {
            Admission::Refused(RESTRICTED.to_string())
        }
    }
}

impl Aggregate for Channel {
    const TYPE: &'static str = super::AGGREGATE_TYPE;
    type Command = ChannelCommand;
    type Event = ChannelEvent;
    type Error = ChannelError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: ChannelCommand,
        _: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), ChannelError> {
        if !self.exists && !matches!(command, ChannelCommand::Create(_)) {
            return Err(ChannelError::NotFound);
        }
        let event = match command {
            ChannelCommand::Create(settings) => {
                if self.exists {
                    return Err(ChannelError::AlreadyExists);
                }
                ChannelEvent::ChannelCreated(validate(settings)?)
            }
            ChannelCommand::Edit(settings) => ChannelEvent::ChannelEdited(validate(settings)?),
            ChannelCommand::Enable if self.enabled => return Ok(()),
            ChannelCommand::Enable => ChannelEvent::ChannelEnabled,
            ChannelCommand::Disable if !self.enabled => return Ok(()),
            ChannelCommand::Disable => ChannelEvent::ChannelDisabled,
            ChannelCommand::Delete if self.enabled => {
                return Err(ChannelError::EnabledChannelDelete)
            }
            ChannelCommand::Delete => ChannelEvent::ChannelDeleted,
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: ChannelEvent) {
        match event {
            ChannelEvent::ChannelCreated(settings) => {
                self.exists = true;
                self.enabled = false;
                self.settings = settings;
            }
            ChannelEvent::ChannelEdited(settings) => self.settings = settings,
            ChannelEvent::ChannelEnabled => self.enabled = true,
            ChannelEvent::ChannelDisabled => self.enabled = false,
            ChannelEvent::ChannelDeleted => *self = Channel::default(),
        }
    }
}

#[cfg(test)]
mod tests;
