//! `SeatGroup`: a group of seats (客服组) with the business types and skills
//! they serve; only seats of a group that covers a call take it (004 3.18).

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ErrorCode};
use crate::services::DomainServices;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "seat-group";

/// What an admin sets on a group (新建/编辑客服组名称、业务类型/技能、坐席管理).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatGroupSettings {
    /// 客服组名称.
    pub name: String,
    /// Business types and skills (product, channel, region codes).
    pub skills: Vec<String>,
    /// Seat numbers in the group.
    pub seats: Vec<String>,
}

/// Commands of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SeatGroupCommand {
    /// 新建.
    Create(SeatGroupSettings),
    /// 编辑.
    Edit(SeatGroupSettings),
    /// 删除.
    Delete,
}

/// Facts of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SeatGroupEvent {
    /// Created.
    SeatGroupCreated(SeatGroupSettings),
    /// Settings replaced.
    SeatGroupEdited(SeatGroupSettings),
    /// Deleted.
    SeatGroupDeleted,
}

impl DomainEvent for SeatGroupEvent {
    fn event_type(&self) -> String {
        match self {
            SeatGroupEvent::SeatGroupCreated(_) => "SeatGroupCreated",
            SeatGroupEvent::SeatGroupEdited(_) => "SeatGroupEdited",
            SeatGroupEvent::SeatGroupDeleted => "SeatGroupDeleted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a group command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum SeatGroupError {
    /// No such group.
    #[error("seat group not found")]
    NotFound,
    /// The code is taken.
    #[error("a seat group with this code exists")]
    AlreadyExists,
    /// Bad settings.
    #[error("{0}")]
    Invalid(String),
}

impl DomainError for SeatGroupError {
    fn code(&self) -> ErrorCode {
        match self {
            SeatGroupError::NotFound => ErrorCode::NotFound,
            SeatGroupError::AlreadyExists => ErrorCode::Conflict,
            SeatGroupError::Invalid(_) => ErrorCode::Validation,
        }
    }
}

/// A group's write-side state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SeatGroup {
    exists: bool,
    settings: SeatGroupSettings,
}

fn distinct(values: Vec<String>, what: &str) -> Result<Vec<String>, SeatGroupError> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v = v.trim().to_string();
        if v.is_empty() || v.chars().count() > 64 {
            return Err(SeatGroupError::Invalid(format!(
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
        return Err(SeatGroupError::Invalid(
            "name must be 1 to 64 characters".into(),
        ));
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
mod tests {
    use chrono::{TimeZone, Utc};
    use cqrs_es::test::TestFramework;

    use super::*;

    /// 004_448cd5ace309d8b2.txt 3.18: 新建/编辑客服组名称、业务类型/技能、坐席管理 —
    /// entries are trimmed and de-duplicated.
    #[test]
    fn a_group_holds_distinct_skills_and_seats() {
        TestFramework::<SeatGroup>::with(DomainServices::fixed_at(
            Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap(),
        ))
        .given_no_previous_events()
        .when(SeatGroupCommand::Create(SeatGroupSettings {
            name: " 永续贷组 ".into(),
            skills: vec!["YXD".into(), "YXD ".into()],
            seats: vec!["S1".into(), "S2".into(), "S1".into()],
        }))
        .then_expect_events(vec![SeatGroupEvent::SeatGroupCreated(SeatGroupSettings {
            name: "永续贷组".into(),
            skills: vec!["YXD".into()],
            seats: vec!["S1".into(), "S2".into()],
        })]);
    }
}
