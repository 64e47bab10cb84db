//! `MediaAsset`: a standard audio or video clip (制式音视频) played during the
//! interview: product introductions, marketing and risk notices (001 2.4.8).

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ErrorCode};
use crate::services::DomainServices;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "media-asset";

/// What a clip is for (001 2.4.8.1 产品介绍、营销、风险提示).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MediaCategory {
    /// 产品介绍.
    ProductIntro,
    /// 营销活动.
    #[default]
    Marketing,
    /// 风险提示.
    RiskNotice,
}

/// What an admin sets on a clip.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MediaSettings {
    /// Title shown in the workstation's video list.
    pub title: String,
    /// Category.
    pub category: MediaCategory,
    /// Where the file is served from.
    pub url: String,
    /// Played automatically when the video connects, before the seat joins
    /// (001 2.4.8.2 自动播放); otherwise the seat triggers it (手工触发).
    pub autoplay: bool,
    /// The customer cannot skip it.
    pub no_skip: bool,
}

/// Commands of a clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MediaCommand {
    /// 增: a new clip, disabled until enabled.
    Create(MediaSettings),
    /// 改.
    Edit(MediaSettings),
    /// 启用.
    Enable,
    /// 停用.
    Disable,
    /// 删.
    Delete,
}

/// Facts of a clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MediaEvent {
    /// Created, disabled.
    MediaCreated(MediaSettings),
    /// Settings replaced.
    MediaEdited(MediaSettings),
    /// Enabled.
    MediaEnabled,
    /// Disabled.
    MediaDisabled,
    /// Deleted.
    MediaDeleted,
}

impl DomainEvent for MediaEvent {
    fn event_type(&self) -> String {
        match self {
            MediaEvent::MediaCreated(_) => "MediaCreated",
            MediaEvent::MediaEdited(_) => "MediaEdited",
            MediaEvent::MediaEnabled => "MediaEnabled",
            MediaEvent::MediaDisabled => "MediaDisabled",
            MediaEvent::MediaDeleted => "MediaDeleted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a clip command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum MediaError {
    /// No such clip.
    #[error("media not found")]
    NotFound,
    /// The code is taken.
    #[error("media with this code exists")]
    AlreadyExists,
    /// Bad settings.
    #[error("{0}")]
    Invalid(String),
}

impl DomainError for MediaError {
    fn code(&self) -> ErrorCode {
        match self {
            MediaError::NotFound => ErrorCode::NotFound,
            MediaError::AlreadyExists => ErrorCode::Conflict,
            MediaError::Invalid(_) => ErrorCode::Validation,
        }
    }
}

/// A clip's write-side state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MediaAsset {
    exists: bool,
    enabled: bool,
    settings: MediaSettings,
}

fn validate(mut s: MediaSettings) -> Result<MediaSettings, MediaError> {
    s.title = s.title.trim().to_string();
    s.url = s.url.trim().to_string();
    if s.title.is_empty() || s.title.chars().count() > 100 {
        return Err(MediaError::Invalid(
            "title must be 1 to 100 characters".into(),
        ));
    }
    if !(s.url.starts_with("https://") || s.url.starts_with("http://") || s.url.starts_with('/'))
        || s.url.len() > 2048
    {
        return Err(MediaError::Invalid(
            "url must be an http(s) address or a path on this server".into(),
        ));
    }
    Ok(s)
}

impl MediaAsset {
    /// Whether it is offered in interviews.
    pub fn is_enabled(&self) -> bool {
        self.exists && self.enabled
    }
}

impl Aggregate for MediaAsset {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = MediaCommand;
    type Event = MediaEvent;
    type Error = MediaError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: MediaCommand,
        _: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), MediaError> {
        if !self.exists && !matches!(command, MediaCommand::Create(_)) {
            return Err(MediaError::NotFound);
        }
        let event = match command {
            MediaCommand::Create(_) if self.exists => return Err(MediaError::AlreadyExists),
            MediaCommand::Create(s) => MediaEvent::MediaCreated(validate(s)?),
            MediaCommand::Edit(s) => MediaEvent::MediaEdited(validate(s)?),
            MediaCommand::Enable if self.enabled => return Ok(()),
            MediaCommand::Enable => MediaEvent::MediaEnabled,
            MediaCommand::Disable if !self.enabled => return Ok(()),
            MediaCommand::Disable => MediaEvent::MediaDisabled,
            MediaCommand::Delete => MediaEvent::MediaDeleted,
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: MediaEvent) {
        match event {
            MediaEvent::MediaCreated(s) => {
                *self = MediaAsset {
                    exists: true,
                    enabled: false,
                    settings: s,
                }
            }
            MediaEvent::MediaEdited(s) => self.settings = s,
            MediaEvent::MediaEnabled => self.enabled = true,
            MediaEvent::MediaDisabled => self.enabled = false,
            MediaEvent::MediaDeleted => *self = MediaAsset::default(),
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

    fn risk_notice() -> MediaSettings {
        MediaSettings {
            title: "贷款不得用于股票投资".into(),
            category: MediaCategory::RiskNotice,
            url: "https://media.example/risk.mp4".into(),
            autoplay: true,
            no_skip: true,
        }
    }

    /// 001_d165f826565a3102.txt 2.4.8: 增、删、改、查、启用、停用; a new clip plays
    /// nowhere until enabled.
    #[test]
    fn a_clip_is_enabled_by_hand() {
        let mut asset = MediaAsset::default();
        asset.apply(MediaEvent::MediaCreated(risk_notice()));
        assert!(!asset.is_enabled());
        TestFramework::<MediaAsset>::with(services())
            .given(vec![MediaEvent::MediaCreated(risk_notice())])
            .when(MediaCommand::Enable)
            .then_expect_events(vec![MediaEvent::MediaEnabled]);
        let mut bad = risk_notice();
        bad.url = "javascript:alert(1)".into();
        let refused = TestFramework::<MediaAsset>::with(services())
            .given_no_previous_events()
            .when(MediaCommand::Create(bad))
            .inspect_result();
        assert!(matches!(refused, Err(MediaError::Invalid(_))));
    }
}
