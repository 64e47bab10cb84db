//! The alert rules shipped beside the dashboard (issue 35 item 3):
//! `promtool check rules` accepts them and `promtool test rules` makes each
//! alert fire on series that call for it and stay quiet otherwise
//! (docs/prometheus-alerts.test.yml). Needs `promtool` (Debian's
//! `prometheus`; `scripts/test` installs it) and fails, never skips, without.

use std::path::Path;
use std::process::Command;

fn promtool(args: &[&str]) -> std::process::Output {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    Command::new(std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into()))
        .args(args)
        .current_dir(docs)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run promtool ({e}); install Debian's `prometheus` (scripts/test does)")
        })
}

#[test]
fn the_alert_rules_load_and_each_alert_fires_when_it_should() {
    for args in [
        ["check", "rules", "prometheus-alerts.yml"],
        ["test", "rules", "prometheus-alerts.test.yml"],
    ] {
        let run = promtool(&args);
        assert!(
            run.status.success(),
            "promtool {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
    }
}

/// Every alert the rules define has a unit test that makes it fire.
#[test]
fn every_alert_is_tested_firing() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let rules = std::fs::read_to_string(docs.join("prometheus-alerts.yml")).unwrap();
    let tests = std::fs::read_to_string(docs.join("prometheus-alerts.test.yml")).unwrap();
    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- alert: "))
        .collect();
    assert!(alerts.len() >= 12, "{alerts:?}");
    for alert in alerts {
        let fires = tests.split("alertname: ").skip(1).any(|case| {
            case.starts_with(&format!("{alert}\n")) && !case.contains("exp_alerts: []")
        });
        assert!(fires, "no test makes {alert} fire");
    }
}
