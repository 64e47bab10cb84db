use crate::message::message;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::commands::SeatGroupCommand;
use super::error::SeatGroupError;
use super::events::SeatGroupEvent;
use crate::services::DomainServices;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "seat-group";

/// What an admin sets on a group (新建/编辑客服组名称、业务类型/技能、坐席管理).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SeatGroupSettings {
    /// 客服组名称.
    pub name: String,
    /// Business types and skills (product, channel, region codes).
    pub skills: Vec<String>,
    /// Seat numbers in the group.
    pub seats: Vec<String>,
}

/// A group's write-side state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SeatGroup {
    exists: bool,
    settings: SeatGroupSettings,
}

fn distinct(values: Vec<String>, what: &str) -> Result<Vec<String>, SeatGroupError> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v = v.trim().to_string();
        if v.is_empty() || v.chars().count() > 64 {
            return Err(SeatGroupError::Invalid(message!(
                "{what} entries must be 1 to 64 characters"
            )));
        }
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

fn validate(s: SeatGroupSettings) -> Result<SeatGroupSettings, SeatGroupError> {
    let name = s.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(SeatGroupError::Invalid(message!(
            "name must be 1 to 64 characters"
        )));
    }
    Ok(SeatGroupSettings {
        name,
        skills: distinct(s.skills, "skills")?,
        seats: distinct(s.seats, "seats")?,
    })
}

impl Aggregate for SeatGroup {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = SeatGroupCommand;
    type Event = SeatGroupEvent;
    type Error = SeatGroupError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: SeatGroupCommand,
        _: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), SeatGroupError> {
        let event = match command {
            SeatGroupCommand::Create(_) if self.exists => {
                return Err(SeatGroupError::AlreadyExists)
            }
            SeatGroupCommand::Create(s) => SeatGroupEvent::SeatGroupCreated(validate(s)?),
            _ if !self.exists => return Err(SeatGroupError::NotFound),
            SeatGroupCommand::Edit(s) => SeatGroupEvent::SeatGroupEdited(validate(s)?),
            SeatGroupCommand::Delete => SeatGroupEvent::SeatGroupDeleted,
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: SeatGroupEvent) {
        match event {
            SeatGroupEvent::SeatGroupCreated(s) | SeatGroupEvent::SeatGroupEdited(s) => {
                self.exists = true;
                self.settings = s;
            }
            SeatGroupEvent::SeatGroupDeleted => *self = SeatGroup::default(),
        }
    }
}

#[cfg(test)]
mod tests;
