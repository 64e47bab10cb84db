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
