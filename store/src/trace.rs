//! W3C trace context across the engine's boundaries (issue 23 item 4): a
//! request's `traceparent` header, the event metadata, the Kafka headers and
//! a consumed message's headers all carry the same trace, so one trace shows
//! a request, the commands it ran, the events they appended and what the
//! relay and consumers did with them. Spans are exported only when the
//! binary installs an OpenTelemetry layer (`OTEL_EXPORTER_OTLP_ENDPOINT`);
//! without one every function here is a no-op.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C header and metadata key.
pub const TRACEPARENT: &str = "traceparent";

/// The `traceparent` naming the current span, when it is traced.
pub fn current_traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove(TRACEPARENT)
}

/// Makes `span` a child of the span `traceparent` names (a request header, an
/// event's metadata, a Kafka header); an absent or malformed one changes nothing.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    if let Some(context) = traceparent.and_then(extract) {
        // Fails only when the span is not traced: then there is nothing to continue.
        let _ = span.set_parent(context);
    }
}

/// The remote span context `traceparent` names, when it is well formed.
fn extract(traceparent: &str) -> Option<opentelemetry::Context> {
    let carrier = HashMap::from([(TRACEPARENT.to_string(), traceparent.to_string())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    context
        .span()
        .span_context()
        .is_valid()
        .then_some(context.clone())
}

/// Links `span` to the span `traceparent` names: a batch of events (a
/// projection's, the relay's) is its own trace, linked to each trace that
/// recorded one of its events.
pub fn link_to(span: &tracing::Span, traceparent: Option<&str>) {
    if let Some(context) = traceparent.and_then(extract) {
        span.add_link(context.span().span_context().clone());
    }
}

/// The trace id of `span` in hex, when it is traced (for logs).
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_continued_trace_is_passed_on_under_a_span_of_its_own() {
        use opentelemetry::trace::TracerProvider as _;
        use tracing_subscriber::layer::SubscriberExt;
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            // A malformed header starts a trace of its own.
            let malformed = tracing::info_span!("request");
            continue_trace(&malformed, Some("00-nonsense"));
            assert_ne!(
                trace_id(&malformed).as_deref(),
                Some("4bf92f3577b34da6a3ce929d0e0e4736")
            );
            let span = tracing::info_span!("request");
            continue_trace(&span, Some(PARENT));
            let _entered = span.enter();
            let passed = current_traceparent().expect("traced");
            assert!(
                passed.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
                "{passed}"
            );
            assert!(
                !passed.contains("00f067aa0ba902b7"),
                "a span of its own: {passed}"
            );
            assert_eq!(
                trace_id(&span).as_deref(),
                Some("4bf92f3577b34da6a3ce929d0e0e4736")
            );
        });
    }

    #[test]
    fn without_a_tracer_nothing_is_invented() {
        let span = tracing::info_span!("request");
        continue_trace(&span, Some(PARENT));
        let _entered = span.enter();
        assert_eq!(current_traceparent(), None);
        assert_eq!(trace_id(&span), None);
    }
}
