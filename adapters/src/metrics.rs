//! Counters exported in Prometheus text format on `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Process-wide counters and gauges, keyed by metric name and label set.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    gauges: Mutex<BTreeMap<(&'static str, String), i64>>,
    help: Mutex<BTreeMap<&'static str, (&'static str, &'static str)>>,
}

/// Formats a label set like `aggregate="interview-task",outcome="ok"`.
pub fn labels(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(",")
}

impl Metrics {
    /// Adds `by` to a counter.
    pub fn increment(&self, name: &'static str, help: &'static str, labels: String, by: u64) {
        self.help.lock().unwrap().insert(name, ("counter", help));
        *self
            .counters
            .lock()
            .unwrap()
            .entry((name, labels))
            .or_default() += by;
    }

    /// Sets a gauge.
    pub fn set(&self, name: &'static str, help: &'static str, labels: String, value: i64) {
        self.help.lock().unwrap().insert(name, ("gauge", help));
        self.gauges.lock().unwrap().insert((name, labels), value);
    }

    /// Current value of a counter (0 when never incremented).
    pub fn counter(&self, name: &'static str, labels: &str) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .get(&(name, labels.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Renders every metric in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let help = self.help.lock().unwrap().clone();
        let mut out = String::new();
        let mut series: BTreeMap<&'static str, Vec<(String, String)>> = BTreeMap::new();
        for ((name, labels), value) in self.counters.lock().unwrap().iter() {
            series
                .entry(name)
                .or_default()
                .push((labels.clone(), value.to_string()));
        }
        for ((name, labels), value) in self.gauges.lock().unwrap().iter() {
            series
                .entry(name)
                .or_default()
                .push((labels.clone(), value.to_string()));
        }
        for (name, rows) in series {
            let (kind, text) = help.get(name).copied().unwrap_or(("untyped", ""));
            let _ = writeln!(out, "# HELP {name} {text}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in rows {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {value}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {value}");
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_with_escaped_labels() {
        let metrics = Metrics::default();
        metrics.increment("facesign_x_total", "X.", labels(&[("a", "q\"b")]), 2);
        metrics.set("facesign_lag", "Lag.", String::new(), 7);
        let text = metrics.render();
        assert!(text.contains("# TYPE facesign_x_total counter"));
        assert!(text.contains("facesign_x_total{a=\"q\\\"b\"} 2"));
        assert!(text.contains("facesign_lag 7"));
    }
}
