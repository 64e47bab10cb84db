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
