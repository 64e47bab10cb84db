//! OpenTelemetry (issue 23 item 4), against an OTLP/HTTP receiver inside the
//! test and a real broker: a request's W3C `traceparent` is continued by the
//! server's request, command and append spans, travels in the event metadata
//! and the Kafka headers, and a consumer continues the trace of a message it
//! receives; relay and projection batches have spans; the JSON log names the
//! trace id. Nothing is exported when `OTEL_EXPORTER_OTLP_ENDPOINT` is unset
//! (every other test).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use serde_json::{json, Value};

use crate::support::{
    free_port, read_topics, start_server_process, task_input, token, Backend, Broker, TestDb,
    CREATE_TASK,
};

/// A span as the receiver got it: name, trace id, span id, parent span id (hex).
#[derive(Debug, Clone)]
struct ReceivedSpan {
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    /// `trace:span` of every linked span.
    links: Vec<String>,
}

/// Accepts OTLP/HTTP protobuf trace exports on `/v1/traces`.
async fn otlp_receiver() -> (String, Arc<Mutex<Vec<ReceivedSpan>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                let mut sink = sink.lock().unwrap();
                for resource in request.resource_spans {
                    for scope in resource.scope_spans {
                        for span in scope.spans {
                            sink.push(ReceivedSpan {
                                name: span.name,
                                trace_id: hex(&span.trace_id),
                                span_id: hex(&span.span_id),
                                parent_span_id: hex(&span.parent_span_id),
                                links: span
                                    .links
                                    .iter()
                                    .map(|l| format!("{}:{}", hex(&l.trace_id), hex(&l.span_id)))
                                    .collect(),
                            });
                        }
                    }
                }
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}"), received)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Waits until `received` holds a span that `wanted` accepts.
async fn span_named(
    received: &Arc<Mutex<Vec<ReceivedSpan>>>,
    wanted: impl Fn(&ReceivedSpan) -> bool,
    what: &str,
) -> ReceivedSpan {
    for _ in 0..150 {
        if let Some(span) = received.lock().unwrap().iter().find(|s| wanted(s)) {
            return span.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no {what} span arrived: {:#?}",
        received
            .lock()
            .unwrap()
            .iter()
            .map(|s| &s.name)
            .collect::<Vec<_>>()
    );
}

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const PARTNER_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const PARTNER_SPAN: &str = "b7ad6b7169203331";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_runs_from_the_request_through_the_log_to_kafka_and_back() {
    let (otlp, received) = otlp_receiver().await;
    let broker = Broker::start().await;
    let db = TestDb::new(Backend::Postgres).await;
    let dir = std::env::temp_dir().join(format!("facesign-traces-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("serve.log");
    let port = free_port();
    let mut server = start_server_process(
        &db.url,
        port,
        &log,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("FACESIGN_LOG_FORMAT", "json"),
            ("RUST_LOG", "info,tower_http=debug"),
            ("FACESIGN_KAFKA_BROKERS", broker.address.as_str()),
        ],
    )
    .await;

    // The caller's trace is continued by the request, its command and the append.
    let answer: Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(token("M0001", "ACCOUNT_MANAGER"))
        .header("traceparent", format!("00-{TRACE}-{CALLER_SPAN}-01"))
        .json(&json!({ "query": CREATE_TASK, "variables": { "input": task_input("HT-TRACE-1") } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let task_id = answer["data"]["createInterviewTask"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_string();
    let request = span_named(
        &received,
        |s| s.name == "request" && s.trace_id == TRACE,
        "request",
    )
    .await;
    assert_eq!(
        request.parent_span_id, CALLER_SPAN,
        "the caller's span is the parent"
    );
    let command = span_named(
        &received,
        |s| s.name == "command" && s.trace_id == TRACE,
        "command",
    )
    .await;
    let append = span_named(
        &received,
        |s| s.name == "append" && s.trace_id == TRACE,
        "append",
    )
    .await;
    // Batches are traces of their own, linked to the traces of their events.
    let request_trace = format!("{TRACE}:{}", command.span_id);
    span_named(
        &received,
        |s| s.name == "projection_batch" && s.links.contains(&request_trace),
        "projection batch linked to the command",
    )
    .await;
    span_named(
        &received,
        |s| s.name == "relay_batch" && s.links.contains(&request_trace),
        "relay batch linked to the command",
    )
    .await;

    // The event carries the command's trace; so does its Kafka message.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let (metadata,): (Value,) = sqlx::query_as(
        "SELECT metadata FROM events WHERE aggregate_id = $1 AND event_type = 'InterviewTaskCreated'",
    )
    .bind(&task_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    let recorded = metadata["traceparent"]
        .as_str()
        .expect("traceparent recorded");
    assert!(recorded.starts_with(&format!("00-{TRACE}-")), "{recorded}");
    assert!(
        recorded.contains(&command.span_id) || recorded.contains(&append.span_id),
        "recorded under the command: {recorded}"
    );
    let brokers = broker.address.clone();
    let messages = tokio::task::spawn_blocking(move || {
        read_topics(&brokers, &["facesign.interview-task.v1".to_string()], 3, 1)
    })
    .await
    .unwrap();
    let (_, _, headers, _) = messages
        .iter()
        .find(|(_, key, _, _)| *key == task_id)
        .expect("the task's event on its topic");
    assert_eq!(
        headers.get("traceparent").map(String::as_str),
        Some(recorded)
    );

    // A message carrying a partner's trace is handled in that trace, and its
    // dead letter carries it on.
    let producer: rdkafka::producer::FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &broker.address)
        .create()
        .unwrap();
    let traceparent = format!("00-{PARTNER_TRACE}-{PARTNER_SPAN}-01");
    producer
        .send(
            rdkafka::producer::FutureRecord::to("credit.decisions.v1")
                .key("RS-UNKNOWN")
                .payload("not json")
                .headers(
                    rdkafka::message::OwnedHeaders::new().insert(rdkafka::message::Header {
                        key: "traceparent",
                        value: Some(traceparent.as_str()),
                    }),
                ),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();
    let consumed = span_named(
        &received,
        |s| s.name == "inbound_message" && s.trace_id == PARTNER_TRACE,
        "inbound message",
    )
    .await;
    assert_eq!(consumed.parent_span_id, PARTNER_SPAN);
    let brokers = broker.address.clone();
    let dead = tokio::task::spawn_blocking(move || {
        read_topics(&brokers, &["credit.decisions.v1.dlq".to_string()], 3, 1)
    })
    .await
    .unwrap();
    assert!(
        dead.iter()
            .any(|(_, _, headers, _)| headers.get("traceparent") == Some(&traceparent)),
        "the dead letter carries the trace on: {dead:?}"
    );

    let _ = server.kill();
    let _ = server.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|l| l["span"]["trace_id"] == TRACE),
        "a log line of the request names its trace id: {text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
