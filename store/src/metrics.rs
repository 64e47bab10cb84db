//! Counters, gauges and histograms exported in Prometheus text format on
//! `/metrics`, through the `metrics` facade's recorder API and
//! `metrics-exporter-prometheus` (docs/operations.md lists every metric).
//!
//! Each engine owns its recorder instead of installing a process-global one:
//! the test suite runs many engines in one process, and each must count only
//! its own work.

use std::collections::HashSet;
use std::sync::Mutex;

use metrics::{Key, KeyName, Label, Level, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// Buckets of every histogram, in seconds: from a millisecond (a command) to
/// five minutes (a lagging projection or a slow partner).
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// Where recorded metrics say they come from.
const METADATA: Metadata<'static> = Metadata::new("facesign", Level::INFO, None);

/// One engine's metrics.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    described: Mutex<HashSet<&'static str>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(SECONDS_BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        Self {
            recorder,
            handle,
            described: Mutex::new(HashSet::new()),
        }
    }
}

/// A label set, e.g. `aggregate_type="interview-task", outcome="ok"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels(Vec<(String, String)>);

/// The label set of `pairs`, in their order.
pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

impl Labels {
    fn key(&self, name: &'static str) -> Key {
        let labels: Vec<Label> = self
            .0
            .iter()
            .map(|(k, v)| Label::new(k.clone(), v.clone()))
            .collect();
        Key::from_parts(name, labels)
    }

    /// As the exposition format writes them: `a="x",b="y"`.
    fn exposed(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The kind of a metric, for its description.
#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Metrics {
    fn describe(&self, name: &'static str, help: &'static str, kind: Kind) {
        if !self.described.lock().unwrap().insert(name) {
            return;
        }
        let (key, help) = (KeyName::from(name), SharedString::from(help));
        match kind {
            Kind::Counter => self.recorder.describe_counter(key, None, help),
            Kind::Gauge => self.recorder.describe_gauge(key, None, help),
            Kind::Histogram => self
                .recorder
                .describe_histogram(key, Some(Unit::Seconds), help),
        }
    }

    /// Adds `by` to a counter.
    pub fn increment(&self, name: &'static str, help: &'static str, labels: Labels, by: u64) {
        self.describe(name, help, Kind::Counter);
        self.recorder
            .register_counter(&labels.key(name), &METADATA)
            .increment(by);
    }

    /// Sets a gauge.
    pub fn set(&self, name: &'static str, help: &'static str, labels: Labels, value: i64) {
        self.describe(name, help, Kind::Gauge);
        self.recorder
            .register_gauge(&labels.key(name), &METADATA)
            .set(value as f64);
    }

    /// Records a duration or a lag, in seconds, into a histogram.
    pub fn observe(&self, name: &'static str, help: &'static str, labels: Labels, seconds: f64) {
        self.describe(name, help, Kind::Histogram);
        self.recorder
            .register_histogram(&labels.key(name), &METADATA)
            .record(seconds.max(0.0));
    }

    /// Current value of a counter (0 when never incremented), as `/metrics`
    /// shows it.
    pub fn counter(&self, name: &'static str, labels: &Labels) -> u64 {
        let series = if labels.0.is_empty() {
            format!("{name} ")
        } else {
            format!("{name}{{{}}} ", labels.exposed())
        };
        self.render()
            .lines()
            .find_map(|line| line.strip_prefix(&series))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Renders every metric in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// Seconds from `then` to now on the system clock (0 when `then` is ahead):
/// what a lag histogram records.
pub fn seconds_since(then: chrono::DateTime<chrono::Utc>) -> f64 {
    (chrono::Utc::now() - then)
        .to_std()
        .map_or(0.0, |lag| lag.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_histograms_with_escaped_labels() {
        let metrics = Metrics::default();
        metrics.increment("facesign_x_total", "X.", labels(&[("a", "q\"b")]), 2);
        metrics.set("facesign_lag", "Lag.", labels(&[]), 7);
        metrics.observe(
            "facesign_wait_seconds",
            "Wait.",
            labels(&[("op", "book")]),
            0.2,
        );
        let text = metrics.render();
        assert!(text.contains("# TYPE facesign_x_total counter"), "{text}");
        assert!(text.contains("facesign_x_total{a=\"q\\\"b\"} 2"), "{text}");
        assert!(text.contains("facesign_lag 7"), "{text}");
        assert!(
            text.contains("# TYPE facesign_wait_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains("facesign_wait_seconds_bucket{op=\"book\",le=\"0.25\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("facesign_wait_seconds_bucket{op=\"book\",le=\"0.1\"} 0"),
            "{text}"
        );
        assert_eq!(
            metrics.counter("facesign_x_total", &labels(&[("a", "q\"b")])),
            2
        );
        assert_eq!(metrics.counter("facesign_none_total", &labels(&[])), 0);
    }
}
