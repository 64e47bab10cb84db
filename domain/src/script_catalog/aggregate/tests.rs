use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

fn services() -> DomainServices {
    DomainServices::fixed_at(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
}

fn script(channel: &str, product: &str, content: &str) -> Script {
    Script {
        channel_code: channel.into(),
        product_code: product.into(),
        content: content.into(),
        ..Script::default()
    }
}

fn catalog(events: Vec<ScriptEvent>) -> ScriptCatalog {
    let mut catalog = ScriptCatalog::default();
    for event in events {
        catalog.apply(event);
    }
    catalog
}

fn added(code: &str, script: Script) -> ScriptEvent {
    ScriptEvent::ScriptAdded {
        code: code.into(),
        script,
    }
}

/// 001_d165f826565a3102.txt 2.4.7: the first script is the default, so there is
/// always exactly one while scripts exist; it goes only last.
#[test]
fn exactly_one_default() {
    TestFramework::<ScriptCatalog>::with(services())
        .given_no_previous_events()
        .when(ScriptCommand::Add {
            code: "D".into(),
            script: script("", "", "您好"),
        })
        .then_expect_events(vec![
            added("D", script("", "", "您好")),
            ScriptEvent::DefaultScriptChosen { code: "D".into() },
        ]);
    let two = vec![
        added("D", script("", "", "您好")),
        ScriptEvent::DefaultScriptChosen { code: "D".into() },
        added("P", script("", "YXD", "永续贷话术")),
    ];
    TestFramework::<ScriptCatalog>::with(services())
        .given(two.clone())
        .when(ScriptCommand::Remove { code: "D".into() })
        .then_expect_error(ScriptError::DefaultRemoval);
    let mut moved = two;
    moved.push(ScriptEvent::DefaultScriptChosen { code: "P".into() });
    let catalog = catalog(moved);
    assert_eq!(catalog.default_code(), Some("P"));
}

/// 001_d165f826565a3102.txt 2.4.7.2: 根据产品和渠道不同，调用已配置的标准话术…若产品未配置
/// 标准话术，则坐席工作台话术区回显默认话术或 null.
#[test]
fn the_script_by_channel_and_product_else_the_default() {
    assert!(ScriptCatalog::default().script_for("YYZX", "YXD").is_none());
    let catalog = catalog(vec![
        added("D", script("", "", "默认话术")),
        ScriptEvent::DefaultScriptChosen { code: "D".into() },
        added("P", script("", "YXD", "永续贷话术")),
        added("PC", script("YYZX", "YXD", "原银在线永续贷话术")),
    ]);
    assert_eq!(catalog.script_for("YYZX", "YXD").unwrap().0, "PC");
    assert_eq!(catalog.script_for("YDYX", "YXD").unwrap().0, "P");
    assert_eq!(catalog.script_for("YYZX", "RXMD").unwrap().0, "D");
    TestFramework::<ScriptCatalog>::with(services())
        .given(vec![added("P", script("", "YXD", "x"))])
        .when(ScriptCommand::Add {
            code: "P2".into(),
            script: script("", "YXD", "y"),
        })
        .then_expect_error(ScriptError::DuplicateScope("P".into()));
}
