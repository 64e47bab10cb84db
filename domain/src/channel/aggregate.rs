use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ErrorCode};
use crate::services::DomainServices;

/// 001 2.4.9.3 rule 2: the exact text a refused customer sees.
pub const NOT_AUTHORISED: &str = "当前渠道未被授权接入我行视频坐席，请联系您的客户经理。";

/// 001 2.2.2: 若呼入受限，则提示客户前往我方指定区域或网络内呼入视频面谈 (001 gives no
/// exact wording for this one).
pub const RESTRICTED: &str = "请前往我行指定区域或连接指定网络后再呼入视频面谈。";

/// A circle a customer must call from (渠道指定GPS定位).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallerPlace {
    /// Locality (e.g. 上海).
    pub locality: Option<String>,
    /// GPS position.
    pub position: Option<(f64, f64)>,
    /// Wi-Fi network name.
    pub wifi: Option<String>,
}

/// The answer to a call (准入校验).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Admission {
    /// The customer may queue.
    Admitted,
    /// The customer is refused with this text.
    Refused(String),
}

/// Commands a `Channel` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ChannelCommand {
    /// 添加: a new channel, disabled until enabled (默认停用).
    Create(ChannelSettings),
    /// 编辑.
    Edit(ChannelSettings),
    /// 启用.
    Enable,
    /// 停用.
    Disable,
    /// 删除: only a disabled channel.
    Delete,
}

/// Facts recorded about a `Channel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ChannelEvent {
    /// Created, disabled.
    ChannelCreated(ChannelSettings),
    /// Settings replaced.
    ChannelEdited(ChannelSettings),
    /// Enabled.
    ChannelEnabled,
    /// Disabled.
    ChannelDisabled,
    /// Deleted.
    ChannelDeleted,
}

impl DomainEvent for ChannelEvent {
    fn event_type(&self) -> String {
        match self {
            ChannelEvent::ChannelCreated(_) => "ChannelCreated",
            ChannelEvent::ChannelEdited(_) => "ChannelEdited",
            ChannelEvent::ChannelEnabled => "ChannelEnabled",
            ChannelEvent::ChannelDisabled => "ChannelDisabled",
            ChannelEvent::ChannelDeleted => "ChannelDeleted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a channel command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum ChannelError {
    /// No such channel (or deleted).
    #[error("channel not found")]
    NotFound,
    /// The code is taken.
    #[error("a channel with this code exists")]
    AlreadyExists,
    /// 001 2.4.9.3 rule 1: 停用状态的渠道才可操作删除.
    #[error("only a disabled channel can be deleted")]
    EnabledChannelDelete,
    /// Bad settings.
    #[error("{0}")]
    Invalid(String),
}

impl DomainError for ChannelError {
    fn code(&self) -> ErrorCode {
        match self {
            ChannelError::NotFound => ErrorCode::NotFound,
            ChannelError::AlreadyExists => ErrorCode::Conflict,
            ChannelError::EnabledChannelDelete => ErrorCode::InvalidTransition,
            ChannelError::Invalid(_) => ErrorCode::Validation,
        }
    }
}

/// The write-side state of one channel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    exists: bool,
    enabled: bool,
    settings: ChannelSettings,
}

fn validate(mut settings: ChannelSettings) -> Result<ChannelSettings, ChannelError> {
    settings.name = settings.name.trim().to_string();
    if settings.name.is_empty() || settings.name.chars().count() > 64 {
        return Err(ChannelError::Invalid(
            "name must be 1 to 64 characters".into(),
        ));
    }
    for area in &settings.gps_areas {
        if !(-90.0..=90.0).contains(&area.latitude)
            || !(-180.0..=180.0).contains(&area.longitude)
            || !(1.0..=100_000.0).contains(&area.radius_m)
        {
            return Err(ChannelError::Invalid(
                "a GPS area needs a valid centre and a radius of 1 m to 100 km".into(),
            ));
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
mod tests {
    use chrono::{TimeZone, Utc};
    use cqrs_es::test::TestFramework;

    use super::*;

    fn services() -> DomainServices {
        DomainServices::fixed_at(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
    }

    fn settings() -> ChannelSettings {
        ChannelSettings {
            name: "原银在线".into(),
            org_name: "直销银行部".into(),
            org_code: "0001".into(),
            ..ChannelSettings::default()
        }
    }

    fn channel(events: Vec<ChannelEvent>) -> Channel {
        let mut channel = Channel::default();
        for event in events {
            channel.apply(event);
        }
        channel
    }

    /// 001_d165f826565a3102.txt 2.4.9.2: 渠道状态 默认停用 — and a refused customer sees
    /// exactly 当前渠道未被授权接入我行视频坐席，请联系您的客户经理。
    #[test]
    fn a_new_channel_is_disabled_and_refuses_with_the_exact_text() {
        let created = channel(vec![ChannelEvent::ChannelCreated(settings())]);
        assert!(!created.is_enabled());
        assert_eq!(
            created.admit(&CallerPlace::default()),
            Admission::Refused("当前渠道未被授权接入我行视频坐席，请联系您的客户经理。".into())
        );
        let enabled = channel(vec![
            ChannelEvent::ChannelCreated(settings()),
            ChannelEvent::ChannelEnabled,
        ]);
        assert_eq!(enabled.admit(&CallerPlace::default()), Admission::Admitted);
    }

    /// 001_d165f826565a3102.txt 2.4.9.3 rule 1: 停用状态的渠道才可操作删除.
    #[test]
    fn only_a_disabled_channel_is_deleted() {
        TestFramework::<Channel>::with(services())
            .given(vec![
                ChannelEvent::ChannelCreated(settings()),
                ChannelEvent::ChannelEnabled,
            ])
            .when(ChannelCommand::Delete)
            .then_expect_error(ChannelError::EnabledChannelDelete);
        TestFramework::<Channel>::with(services())
            .given(vec![ChannelEvent::ChannelCreated(settings())])
            .when(ChannelCommand::Delete)
            .then_expect_events(vec![ChannelEvent::ChannelDeleted]);
    }

    /// 001_d165f826565a3102.txt 2.2.2: 渠道属地=上海，客户需前往 A\B\C 三地（GPS），或者连入指定
    /// WIFI（网络），方可接通视频面谈.
    #[test]
    fn a_restricted_channel_admits_by_locality_gps_or_wifi() {
        let mut restricted = settings();
        restricted.localities = vec!["上海".into()];
        restricted.gps_areas = vec![GpsArea {
            latitude: 34.7466,
            longitude: 113.6253,
            radius_m: 500.0,
        }];
        restricted.wifi_networks = vec!["ZYBANK-BRANCH".into()];
        let channel = channel(vec![
            ChannelEvent::ChannelCreated(restricted),
            ChannelEvent::ChannelEnabled,
        ]);
        let at = |locality: Option<&str>, position: Option<(f64, f64)>, wifi: Option<&str>| {
            channel.admit(&CallerPlace {
                locality: locality.map(str::to_string),
                position,
                wifi: wifi.map(str::to_string),
            })
        };
        assert_eq!(at(Some("上海"), None, None), Admission::Admitted);
        assert_eq!(
            at(None, Some((34.7480, 113.6260)), None),
            Admission::Admitted
        );
        assert_eq!(at(None, None, Some("ZYBANK-BRANCH")), Admission::Admitted);
        assert_eq!(
            at(Some("北京"), Some((39.9, 116.4)), Some("HOME")),
            Admission::Refused(RESTRICTED.into())
        );
    }

    #[test]
    fn settings_are_validated() {
        let mut bad = settings();
        bad.gps_areas = vec![GpsArea {
            latitude: 95.0,
            longitude: 0.0,
            radius_m: 10.0,
        }];
        let refused = TestFramework::<Channel>::with(services())
            .given_no_previous_events()
            .when(ChannelCommand::Create(bad))
            .inspect_result();
        assert!(matches!(refused, Err(ChannelError::Invalid(_))));
    }
}
