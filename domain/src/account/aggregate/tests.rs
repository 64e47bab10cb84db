use chrono::{DateTime, TimeZone, Utc};
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
