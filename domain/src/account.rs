//! `Account`: a staff login of the console (坐席, 管理员…) with its role;
//! admins create, edit, disable, delete and kick (踢出) them (004 3.17, 001
//! 2.4.5). Tokens of a disabled or deleted account, or issued before a kick,
//! are refused by the API.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ErrorCode};
use crate::pii::valid_phone;
use crate::role::Role;
use crate::services::DomainServices;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "account";

/// Profile of an account (账号资料).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// Commands of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AccountCommand {
    /// 创建账号.
    Create(AccountProfile),
    /// 编辑.
    Edit(AccountProfile),
    /// 禁用.
    Disable,
    /// 启用.
    Enable,
    /// 删除.
    Delete,
    /// 踢出: end every session signed in now.
    Kick,
}

/// Facts of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AccountEvent {
    /// Created (active). Tokens issued before `at` do not count for it.
    AccountCreated {
        /// Profile.
        profile: AccountProfile,
        /// When.
        at: DateTime<Utc>,
    },
    /// Profile replaced.
    AccountEdited(AccountProfile),
    /// Disabled.
    AccountDisabled,
    /// Enabled again.
    AccountEnabled,
    /// Deleted.
    AccountDeleted,
    /// Kicked: tokens issued up to `at` are refused.
    AccountKicked {
        /// When.
        at: DateTime<Utc>,
    },
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> String {
        match self {
            AccountEvent::AccountCreated { .. } => "AccountCreated",
            AccountEvent::AccountEdited(_) => "AccountEdited",
            AccountEvent::AccountDisabled => "AccountDisabled",
            AccountEvent::AccountEnabled => "AccountEnabled",
            AccountEvent::AccountDeleted => "AccountDeleted",
            AccountEvent::AccountKicked { .. } => "AccountKicked",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why an account command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum AccountError {
    /// No such account (or deleted).
    #[error("account not found")]
    NotFound,
    /// The login is taken.
    #[error("an account with this login exists")]
    AlreadyExists,
    /// Bad profile.
    #[error("{0}")]
    Invalid(String),
}

impl DomainError for AccountError {
    fn code(&self) -> ErrorCode {
        match self {
            AccountError::NotFound => ErrorCode::NotFound,
            AccountError::AlreadyExists => ErrorCode::Conflict,
            AccountError::Invalid(_) => ErrorCode::Validation,
        }
    }
}

/// An account's write-side state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
        return Err(AccountError::Invalid(
            "name must be 1 to 64 characters".into(),
        ));
    }
    p.phone = p
        .phone
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if p.phone.as_deref().is_some_and(|phone| !valid_phone(phone)) {
        return Err(AccountError::Invalid(
            "phone must be an 11-digit mobile number".into(),
        ));
    }
    p.email = p
        .email
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if p.email.as_deref().is_some_and(|e| {
        e.len() > 254 || !e.contains('@') || e.starts_with('@') || e.ends_with('@')
    }) {
        return Err(AccountError::Invalid("email is not an address".into()));
    }
    if p.role == Role::Customer || p.role.is_system() {
        return Err(AccountError::Invalid(
            "staff accounts are for seats, reviewers, supervisors, admins, auditors and account managers".into(),
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
mod tests {
    use chrono::TimeZone;
    use cqrs_es::test::TestFramework;

    use super::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
    }

    fn seat_profile() -> AccountProfile {
        AccountProfile {
            name: "信诺安全-1".into(),
            phone: Some("13026877921".into()),
            email: None,
            role: Role::Seat,
        }
    }

    /// 004_448cd5ace309d8b2.txt 3.17: 管理员可以创建账号…编辑修改、删除、踢出、禁用; a
    /// deleted login can be created again, and nothing else happens to it.
    #[test]
    fn account_lifecycle() {
        let created = AccountEvent::AccountCreated {
            profile: seat_profile(),
            at: at(),
        };
        TestFramework::<Account>::with(DomainServices::fixed_at(at()))
            .given(vec![created.clone()])
            .when(AccountCommand::Kick)
            .then_expect_events(vec![AccountEvent::AccountKicked { at: at() }]);
        TestFramework::<Account>::with(DomainServices::fixed_at(at()))
            .given(vec![created.clone(), AccountEvent::AccountDeleted])
            .when(AccountCommand::Disable)
            .then_expect_error(AccountError::NotFound);
        TestFramework::<Account>::with(DomainServices::fixed_at(at()))
            .given(vec![created.clone(), AccountEvent::AccountDeleted])
            .when(AccountCommand::Create(seat_profile()))
            .then_expect_events(vec![created.clone()]);
        TestFramework::<Account>::with(DomainServices::fixed_at(at()))
            .given(vec![created])
            .when(AccountCommand::Create(seat_profile()))
            .then_expect_error(AccountError::AlreadyExists);
    }

    #[test]
    fn profiles_are_validated() {
        let mut bad = seat_profile();
        bad.phone = Some("12345".into());
        let refused = TestFramework::<Account>::with(DomainServices::fixed_at(at()))
            .given_no_previous_events()
            .when(AccountCommand::Create(bad))
            .inspect_result();
        assert!(matches!(refused, Err(AccountError::Invalid(_))));
        let mut partner = seat_profile();
        partner.role = Role::Partner;
        let refused = TestFramework::<Account>::with(DomainServices::fixed_at(at()))
            .given_no_previous_events()
            .when(AccountCommand::Create(partner))
            .inspect_result();
        assert!(matches!(refused, Err(AccountError::Invalid(_))));
    }
}
