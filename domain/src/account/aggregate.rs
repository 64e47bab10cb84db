use crate::message::message;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::commands::AccountCommand;
use super::error::AccountError;
use super::events::AccountEvent;
use crate::pii::valid_phone;
use crate::role::Role;
use crate::services::DomainServices;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "account";

/// Profile of an account (账号资料).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccountProfile {
    /// 姓名.
    pub name: String,
    /// 手机号.
    pub phone: Option<String>,
    /// 邮箱.
    pub email: Option<String>,
    /// 角色.
    pub role: Role,
}

/// Where an account stands.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    /// Never created.
    #[default]
    None,
    /// May sign in.
    Active,
    /// 禁用.
    Disabled,
    /// 删除; the login may be created again later.
    Deleted,
}

/// An account's write-side state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Account {
    status: AccountStatus,
}

impl Account {
    /// Where it stands.
    pub fn status(&self) -> AccountStatus {
        self.status
    }
}

fn validate(mut p: AccountProfile) -> Result<AccountProfile, AccountError> {
    p.name = p.name.trim().to_string();
    if p.name.is_empty() || p.name.chars().count() > 64 {
        return Err(AccountError::Invalid(message!(
            "name must be 1 to 64 characters"
        )));
    }
    p.phone = p
        .phone
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if p.phone.as_deref().is_some_and(|phone| !valid_phone(phone)) {
        return Err(AccountError::Invalid(message!(
            "phone must be an 11-digit mobile number"
        )));
    }
    p.email = p
        .email
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if p.email.as_deref().is_some_and(|e| {
        e.len() > 254 || !e.contains('@') || e.starts_with('@') || e.ends_with('@')
    }) {
        return Err(AccountError::Invalid(message!("email is not an address")));
    }
    if p.role == Role::Customer || p.role.is_system() {
        return Err(AccountError::Invalid(
            message!("staff accounts are for seats, reviewers, supervisors, admins, auditors and account managers")
        ));
    }
    Ok(p)
}

impl Aggregate for Account {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = AccountError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: AccountCommand,
        services: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), AccountError> {
        let live = matches!(self.status, AccountStatus::Active | AccountStatus::Disabled);
        let event = match command {
            AccountCommand::Create(_) if live => return Err(AccountError::AlreadyExists),
            AccountCommand::Create(profile) => AccountEvent::AccountCreated {
                profile: validate(profile)?,
                at: services.clock.now(),
            },
            _ if !live => return Err(AccountError::NotFound),
            AccountCommand::Edit(profile) => AccountEvent::AccountEdited(validate(profile)?),
            AccountCommand::Disable if self.status == AccountStatus::Disabled => return Ok(()),
            AccountCommand::Disable => AccountEvent::AccountDisabled,
            AccountCommand::Enable if self.status == AccountStatus::Active => return Ok(()),
            AccountCommand::Enable => AccountEvent::AccountEnabled,
            AccountCommand::Delete => AccountEvent::AccountDeleted,
            AccountCommand::Kick => AccountEvent::AccountKicked {
                at: services.clock.now(),
            },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: AccountEvent) {
        match event {
            AccountEvent::AccountCreated { .. } | AccountEvent::AccountEnabled => {
                self.status = AccountStatus::Active
            }
            AccountEvent::AccountDisabled => self.status = AccountStatus::Disabled,
            AccountEvent::AccountDeleted => self.status = AccountStatus::Deleted,
            AccountEvent::AccountEdited(_) | AccountEvent::AccountKicked { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests;
