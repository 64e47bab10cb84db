use crate::message::message;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::commands::MediaCommand;
use super::error::MediaError;
use super::events::MediaEvent;
use crate::services::DomainServices;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "media-asset";

/// What a clip is for (001 2.4.8.1 产品介绍、营销、风险提示).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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

/// A clip's write-side state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MediaAsset {
    exists: bool,
    enabled: bool,
    settings: MediaSettings,
}

fn validate(mut s: MediaSettings) -> Result<MediaSettings, MediaError> {
    s.title = s.title.trim().to_string();
    s.url = s.url.trim().to_string();
    if s.title.is_empty() || s.title.chars().count() > 100 {
        return Err(MediaError::Invalid(message!(
            "title must be 1 to 100 characters"
        )));
    }
    if !(s.url.starts_with("https://") || s.url.starts_with("http://") || s.url.starts_with('/'))
        || s.url.len() > 2048
    {
        return Err(MediaError::Invalid(message!(
            "url must be an http(s) address or a path on this server"
        )));
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
mod tests;
