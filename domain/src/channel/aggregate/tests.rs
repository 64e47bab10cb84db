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
