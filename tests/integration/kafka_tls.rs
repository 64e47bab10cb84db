//! Kafka over TLS (issue 35 item 4): the tansu broker behind `stunnel4`,
//! which holds a certificate signed by a CA the test makes and is the only
//! address the broker advertises. With `security.protocol=ssl` and that CA
//! in FACESIGN_KAFKA_PROPERTIES the relay publishes the log and the inbound
//! consumer reads its topics over TLS; with another CA the engine says, in
//! librdkafka's words, that the certificate failed verification. Needs tansu
//! and `stunnel4` (`scripts/test` installs both) and fails, never skips.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::partners::eventually;
use crate::support::{create_task, settings, Backend, Broker, TempDir, TestApp, TestDb};

/// stunnel accepting TLS on a free port and passing it on to `backend`.
struct TlsProxy {
    child: Child,
    port: u16,
}

impl TlsProxy {
    fn start(certs: &Path, port: u16, backend: &str) -> Self {
        let config = certs.join(format!("stunnel-{port}.conf"));
        std::fs::write(
            &config,
            format!(
                "foreground = yes\npid =\n[kafka]\naccept = 127.0.0.1:{port}\nconnect = {backend}\ncert = {}\nkey = {}\n",
                certs.join("server.pem").display(),
                certs.join("server.key").display()
            ),
        )
        .unwrap();
        let child = Command::new("stunnel4")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start stunnel4 ({e}); `apt-get install stunnel4` (scripts/test does)"
                )
            });
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "stunnel4 did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, port }
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The TLS properties trusting `ca`.
fn tls(ca: &Path) -> Vec<(String, String)> {
    vec![
        ("security.protocol".into(), "ssl".into()),
        ("ssl.ca.location".into(), ca.display().to_string()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_and_the_consumer_work_over_verified_tls() {
    let _machine = crate::support::WHOLE_MACHINE.lock().await;
    let certs = TempDir::new();
    crate::support::tls::certificates(certs.path());
    let port = free_port();
    let broker = Broker::start_advertising(Some(port)).await;
    let proxy = TlsProxy::start(certs.path(), port, &broker.address);
    let brokers = format!("127.0.0.1:{}", proxy.port);
    let properties = tls(&certs.path().join("bank-ca.pem"));

    let (app_brokers, app_properties) = (brokers.clone(), properties.clone());
    let app = TestApp::spawn_on(TestDb::new(Backend::Sqlite).await, move |url| {
        let mut settings = settings(url);
        let mut kafka = workers::kafka::KafkaSettings::for_brokers(app_brokers);
        kafka.partitions = 1;
        kafka.properties = app_properties;
        settings.kafka = Some(kafka);
        settings
    })
    .await;
    create_task(&app, "HT-KAFKA-TLS-1").await;
    eventually("the relay publishes over TLS", async || {
        let metrics = app.get("/metrics").await.text().await.unwrap();
        metrics
            .lines()
            .any(|l| l.starts_with("facesign_relay_events_published_total") && !l.ends_with(" 0"))
    })
    .await;

    // Another system writes to an inbound topic over TLS; the consumer reads it.
    let mut producer_config = rdkafka::ClientConfig::new();
    producer_config.set("bootstrap.servers", &brokers);
    for (name, value) in &properties {
        producer_config.set(name, value);
    }
    let producer: rdkafka::producer::FutureProducer = producer_config.create().unwrap();
    producer
        .send(
            rdkafka::producer::FutureRecord::to("credit.decisions.v1")
                .key("not-a-decision")
                .payload("not json"),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();
    eventually("the consumer reads over TLS", async || {
        let metrics = app.get("/metrics").await.text().await.unwrap();
        metrics.contains(
            "facesign_inbound_messages_total{topic=\"credit.decisions.v1\",outcome=\"dead_lettered\"} 1",
        )
    })
    .await;
    app.stop().await;

    // A certificate from a CA the engine was not given: said at start.
    let db = TestDb::new(Backend::Sqlite).await;
    let unknown = tls(&certs.path().join("unknown-ca.pem"));
    let properties: Vec<String> = unknown.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut server = Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("FACESIGN_DATABASE_URL", &db.url)
        .env("FACESIGN_JWT_SECRET", crate::support::TEST_JWT_SECRET)
        .env("FACESIGN_KAFKA_BROKERS", &brokers)
        .env("FACESIGN_KAFKA_PROPERTIES", properties.join(";"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(server.stderr.take().unwrap());
    let said = std::thread::spawn(move || {
        stderr
            .lines()
            .map_while(Result::ok)
            .find(|line| line.contains("cannot reach the Kafka brokers"))
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while !said.is_finished() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    let line = said
        .join()
        .unwrap()
        .expect("the start says it cannot reach the brokers");
    assert!(line.contains("certificate verify failed"), "{line}");
}
